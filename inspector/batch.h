/*
 * batch.h - `mailproof-inspect dns --batch FILE`: the batch file (one domain per line with
 * its own --selector/--ip/--include/--key), the concurrent check (core/preflight_batch.c),
 * one report for all domains, progress on a terminal, the worst domain's exit status.
 * Limits: DNS_BATCH_LINE_MAX bytes per line, DNS_BATCH_DOMAINS_MAX domains per file.
 */
#ifndef MP_BATCH_H
#define MP_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"

#define DNS_BATCH_LINE_MAX 4096
#define DNS_BATCH_DOMAINS_MAX 100000
#define DNS_BATCH_LIST_MAX 32 /* selectors, ips or includes on one line */

struct mp_resolver;

/* What the command line says; its lists are the defaults of every line. */
struct dns_batch_cfg {
	const char *file;
	unsigned concurrency;
	const char *const *sel, *const *ip, *const *inc;
	size_t nsel, nip, ninc;
	const char *key;
	enum mp_format format;
	bool quiet;
	int verbose;
	const char *output;
	/* DNS: exactly one of zone / resolver, or neither (the system's) */
	const char *zone, *resolver;
};

/* Returns the exit status: 0, 1, 3 (the worst domain's), 2 for a usage error. */
int dns_batch_run(const struct dns_batch_cfg *c);

#endif
