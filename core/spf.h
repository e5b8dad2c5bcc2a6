/*
 * spf.h - SPF evaluation (RFC 7208 check_host) with libspf2, asking DNS through the
 * project's resolver.  One struct mp_spf holds one libspf2 server and is reused for
 * every check; it is not thread safe (one per thread).  The module enforces what
 * libspf2 does not: at most 10 DNS-querying terms and 2 void lookups per evaluation
 * across includes (RFC 7208 4.6.4), RFC result names for DNS and syntax errors, and no
 * free pass for loopback clients.  Results are caller-owned (mp_spf_result_dispose).
 */
#ifndef MP_SPF_H
#define MP_SPF_H

#include <stddef.h>

#include "error.h"

#define MP_SPF_MAX_DNS_TERMS 10 /* RFC 7208 4.6.4 */
#define MP_SPF_MAX_VOID 2       /* RFC 7208 4.6.4 */

struct mp_resolver;
struct mp_spf;

struct mp_spf_result {
	char *result;      /* "pass", "fail", "softfail", "neutral", "none", "temperror",
			    * "permerror" (RFC 8601 words) */
	char *domain;      /* the domain whose policy was checked (MAIL FROM's, else HELO);
			    * NULL when there was none */
	char *identity;    /* "mailfrom" or "helo" */
	char *record;      /* the domain's SPF record as published; NULL when none was found */
	char *explanation; /* plain words: "192.0.2.7 is not permitted by the SPF record of
			    * klant.nl", "more than 10 DNS lookups (RFC 7208 4.6.4)" */
	unsigned dns_lookups;  /* DNS-querying terms evaluated (include, a, mx, ptr, exists,
				* redirect); the initial record lookup is not one */
	unsigned void_lookups; /* of those, answers with no records (NXDOMAIN or NODATA) */
};

/*
 * Creates an evaluator on `res` (borrowed: it must outlive the evaluator).  `receiver`
 * is the receiving host's name for the %{r} macro; NULL means "unknown".
 */
int mp_spf_new(struct mp_spf **out, struct mp_resolver *res, const char *receiver,
	       struct mp_err *err);
void mp_spf_free(struct mp_spf *s);

/*
 * Runs check_host() for client_ip (IPv4 or IPv6 text) with MAIL FROM `mail_from`.
 * When mail_from is NULL, "" or "<>", the HELO identity is checked as
 * postmaster@helo (RFC 7208 2.4).  A malformed or single-label domain gives "none"
 * (RFC 7208 4.3).  Every SPF outcome, also temperror and permerror, is a result with
 * return 0; the return is negative only for MP_EINVAL (bad IP address, no identity at
 * all) or MP_ENOMEM.  *out is filled on 0 and must then be disposed.
 */
int mp_spf_check(struct mp_spf *s, const char *client_ip, const char *helo,
		 const char *mail_from, struct mp_spf_result *out, struct mp_err *err);
void mp_spf_result_dispose(struct mp_spf_result *r);

/*
 * Checks one record (starting "v=spf1") against the RFC 7208 section 12 grammar, the
 * same check every evaluation applies.  Returns 0; MP_EPARSE with err naming the
 * offending term; MP_ENOMEM.
 */
int mp_spf_record_check(const char *rec, size_t len, struct mp_err *err);

#endif
