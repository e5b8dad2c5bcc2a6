/*
 * cmd_dns.h - `mailproof-inspect dns`: the preflight check of a domain's published
 * SPF, DKIM and DMARC records.  Parses its own options and returns the exit status.
 */
#ifndef MP_CMD_DNS_H
#define MP_CMD_DNS_H

/* argv[0] is "dns".  Returns 0, 1, 2 or 3 (SPEC.md exit codes). */
int mp_cmd_dns(int argc, char **argv);

#endif
