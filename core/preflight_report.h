/*
 * preflight_report.h - the three renderings of DNS preflight reports (struct mp_pfrep):
 * text for people, JSON of schema "mailproof/dns-report-1" (SPEC.md) and JUnit XML with
 * one test suite per domain and one test case per check (spf, dkim, dmarc, dns).
 * Untrusted text (records) is escaped for where it goes.  Writes everything at once.
 */
#ifndef MP_PREFLIGHT_REPORT_H
#define MP_PREFLIGHT_REPORT_H

#include <stdio.h>

#include "error.h"
#include "preflight.h"
#include "report.h"

/* Returns 0, MP_ENOMEM, or MP_EIO when writing failed.  Only opts->format, tool,
 * version and quiet are used (text never coloured here). */
int mp_pfreport_write(FILE *fp, const struct mp_report_opts *opts, const struct mp_pfrep *reps,
		      size_t n, struct mp_err *err);

/*
 * One domain on its own, for a report written while other domains are still being
 * checked (dns --batch): text is the verdict line and the problems (quiet: errors
 * only), JSON one dns-report-1 domain object indented by `indent` spaces (no separator,
 * no newline after it), JUnit one <testsuite>.  The caller writes what surrounds them.
 */
int mp_pfreport_write_domain(FILE *fp, const struct mp_report_opts *opts, const struct mp_pfrep *r,
			     unsigned indent, struct mp_err *err);

#endif
