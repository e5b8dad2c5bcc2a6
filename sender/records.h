/*
 * records.h - `mailproof-send records`: the DNS records a customer publishes for the
 * platform (DKIM key, SPF merged into the existing record, a first DMARC record) and
 * the standard letter to the DNS administrator.  Asks DNS through core/resolver.h and
 * counts SPF lookups with core/spfrec.h.  Prints and chooses exit codes like main():
 * 0 done, 1 the SPF merge is refused (past 10 lookups, several records), 2 usage, 3 DNS.
 */
#ifndef MP_RECORDS_H
#define MP_RECORDS_H

/* argv[0] is "records".  Returns the exit status. */
int mp_records_main(int argc, char **argv);

#endif
