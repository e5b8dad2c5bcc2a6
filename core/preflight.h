/*
 * preflight.h - the check of one domain's published SPF, DKIM and DMARC records
 * (mailproof-inspect dns), before any mail is sent.
 *
 * mp_preflight_run() asks DNS through the project's resolver and fills a plain,
 * caller-owned struct mp_pfrep (mp_pfrep_dispose); problem codes are SPEC.md's.
 * The writers for schema "mailproof/dns-report-1" are in preflight_report.h.
 */
#ifndef MP_PREFLIGHT_H
#define MP_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "report.h"
#include "spfrec.h"

struct mp_resolver;

struct mp_preflight_opts {
	const char *const *selectors; /* DKIM selectors to check */
	size_t nselectors;
	const char *const *ips; /* addresses SPF must pass */
	size_t nips;
	const char *const *includes; /* domains the SPF tree must include */
	size_t nincludes;
	const char *key_file; /* PEM private key the DKIM keys must match, or NULL */
	bool dnssec;          /* the resolver validates: otherwise dnssec is "unknown" */
};

struct mp_pf_auth {
	char *ip;
	char *result; /* RFC 8601 word of libspf2's evaluation */
};

struct mp_pf_dkim {
	char *selector;
	char *record;   /* NULL: none */
	char *key_type; /* "rsa", "ed25519" or NULL */
	unsigned key_bits; /* 0: unknown */
	bool testing;
	int matches; /* -1: not compared, 0: no, 1: yes */
};

struct mp_pf_dmarc {
	char *record;
	const char *policy, *subdomain_policy; /* static names or NULL */
	int pct;
	size_t nrua;
	char **rua;
};

/* One difference from a baseline report (preflight_baseline.h).  `what` is a dotted
 * path such as "dkim.sel1.record" or "problem.DKIM_KEY_MISSING". */
struct mp_pf_change {
	char *what;
	char *before; /* NULL: absent in the baseline */
	char *after;  /* NULL: absent now */
	bool regression;
	bool improvement; /* a problem resolved, a failing verdict that passes now */
};

struct mp_pfrep {
	char *domain;
	struct mp_spfrec_tree spf; /* record = nodes[0].record when found */
	size_t nauth;
	struct mp_pf_auth *auth;
	size_t ndkim;
	struct mp_pf_dkim *dkim;
	struct mp_pf_dmarc dmarc;
	const char *dnssec; /* "secure", "insecure", "bogus", "unknown" */
	bool pass;
	bool tempfail; /* a DNS_TEMPORARY problem is listed */
	size_t nproblems;
	struct mp_problem *problems;
	char *baseline; /* the file compared with (--baseline), NULL when none */
	bool regressed; /* a change is a regression */
	size_t nchanges;
	struct mp_pf_change *changes;
};

/*
 * Checks `domain`.  Returns 0 whatever was found; MP_EINVAL with err for a bad option
 * (unreadable --key, invalid --ip); MP_ENOMEM.  `out` is always disposable.
 */
int mp_preflight_run(struct mp_resolver *res, const char *domain,
		     const struct mp_preflight_opts *opts, struct mp_pfrep *out,
		     struct mp_err *err);
/* Whether `path` holds a PEM private key --key can use: 0, or MP_EINVAL with err. */
int mp_preflight_key_check(const char *path, struct mp_err *err);
void mp_pfrep_dispose(struct mp_pfrep *r);
bool mp_pfrep_has_problem(const struct mp_pfrep *r, const char *code);

#endif
