/*
 * preflight_baseline.h - comparison of a DNS preflight run with an earlier JSON report of
 * schema "mailproof/dns-report-1" (`mailproof-inspect dns --baseline FILE`).
 *
 * mp_pfbase_load() reads the file (at most MP_PFBASE_MAX bytes, duplicate keys refused);
 * mp_pfbase_compare() lists every difference of one domain in its struct mp_pfrep, which
 * owns them.  Domains match by name, ignoring case.
 */
#ifndef MP_PREFLIGHT_BASELINE_H
#define MP_PREFLIGHT_BASELINE_H

#include "error.h"
#include "preflight.h"

#define MP_PFBASE_MAX (16u * 1024u * 1024u)

struct mp_pfbase;

/* Returns 0; MP_EIO when unreadable, MP_ETOOBIG (file size, or more than 1024 selectors
 * or problems for a domain), MP_EPARSE when it is not JSON or not of that schema (err says
 * which), MP_ENOMEM. */
int mp_pfbase_load(struct mp_pfbase **out, const char *path, struct mp_err *err);
void mp_pfbase_free(struct mp_pfbase *b);

/*
 * Fills r->baseline, r->changes and r->regressed.  A regression is a check that passed
 * and now fails, a record that disappeared, a DKIM key that changed or shrank, an
 * authorising SPF term that disappeared, a weaker DMARC policy, or a new error.
 * Returns 0 or MP_ENOMEM.
 */
int mp_pfbase_compare(const struct mp_pfbase *b, struct mp_pfrep *r, struct mp_err *err);

#endif
