/* spf.c - see spf.h.
 *
 * libspf2 parses records, expands macros and walks the mechanisms; everything it asks
 * DNS goes through a custom libspf2 DNS layer (lookup) and a custom record fetcher
 * (get_spf) defined here, both answering from struct mp_resolver.  That is where the
 * RFC 7208 4.6.4 limits are counted for the whole evaluation, because libspf2 counts
 * per record only.  The top-level request is run here too (instead of
 * SPF_request_query_mailfrom) so that a loopback client gets no free pass and a DNS
 * or syntax error of the first record gets its RFC result instead of "(invalid)".
 */
#include "spf.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <spf2/spf.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "i18n.h"
#include "resolver.h"
#include "util.h"

/*
 * RFC 7208 4.6.4: an "mx" term looks up at most 10 address records, and only the
 * first 10 names of a "ptr" answer are used.  The names of such an answer are kept
 * so that the address lookups that follow it are recognised as part of the same term.
 */
#define SPF_FOLLOW_MAX 10
#define SPF_WHY_MAX 256

struct mp_spf {
	SPF_server_t *server;
	SPF_dns_server_t layer; /* ours: libspf2 never frees it (destroy is NULL) */
	struct mp_resolver *res;

	/* State of the evaluation in progress, reset by every mp_spf_check(). */
	unsigned terms;   /* DNS-querying terms seen */
	unsigned voids;   /* of those, void answers */
	unsigned fetches; /* record fetches; the first is the check's own record */
	bool limit_hit;   /* more than MP_SPF_MAX_DNS_TERMS */
	bool void_hit;    /* more than MP_SPF_MAX_VOID */
	bool stopped;     /* a limit was hit: answer nothing more */
	int fail;         /* a resolver error (MP_ENOMEM...) seen during the evaluation */
	SPF_result_t top; /* outcome of fetching the check's own record */
	char *record;     /* that record's text */
	char why[SPF_WHY_MAX]; /* plain words for the first error met */
	char *follow[SPF_FOLLOW_MAX];
	size_t nfollow, ifollow;
};

static void
spf_why(struct mp_spf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
spf_why(struct mp_spf *s, const char *fmt, ...)
{
	va_list ap;

	if (s->why[0] != '\0')
		return; /* the first cause explains the result; later ones follow from it */
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

static void
spf_follow_clear(struct mp_spf *s)
{
	size_t i;

	for (i = 0; i < s->nfollow; i++) {
		free(s->follow[i]);
		s->follow[i] = NULL;
	}
	s->nfollow = 0;
	s->ifollow = 0;
}

/* True when `name` is the next address lookup of the current mx/ptr term. */
static bool
spf_follow_take(struct mp_spf *s, const char *name)
{
	if (s->ifollow >= s->nfollow || !mp_ieq_z(s->follow[s->ifollow], name))
		return false;
	s->ifollow++;
	return true;
}

static void
spf_follow_add(struct mp_spf *s, const char *name)
{
	char *p;

	if (s->nfollow >= SPF_FOLLOW_MAX)
		return;
	p = mp_strdup_z(name);
	if (p == NULL) {
		s->fail = MP_ENOMEM;
		return;
	}
	s->follow[s->nfollow++] = p;
}

static void
spf_state_reset(struct mp_spf *s)
{
	spf_follow_clear(s);
	s->terms = 0;
	s->voids = 0;
	s->fetches = 0;
	s->limit_hit = false;
	s->void_hit = false;
	s->stopped = false;
	s->fail = 0;
	s->top = SPF_RESULT_INVALID;
	free(s->record);
	s->record = NULL;
	s->why[0] = '\0';
}

/* Counts one DNS-querying term; false when it is one too many (RFC 7208 4.6.4). */
static bool
spf_count_term(struct mp_spf *s)
{
	s->terms++;
	if (s->terms > MP_SPF_MAX_DNS_TERMS) {
		s->limit_hit = true;
		s->stopped = true;
		spf_why(s,
			_("more than %d DNS lookups (include, a, mx, ptr, exists, redirect; "
			  "RFC 7208 4.6.4)"),
			MP_SPF_MAX_DNS_TERMS);
		return false;
	}
	return true;
}

static void
spf_count_void(struct mp_spf *s, const char *name)
{
	s->voids++;
	if (s->voids > MP_SPF_MAX_VOID) {
		s->void_hit = true;
		s->stopped = true;
		spf_why(s,
			_("more than %d DNS lookups found nothing (the last: %s; RFC 7208 "
			  "4.6.4)"),
			MP_SPF_MAX_VOID, name);
	}
}

static SPF_dns_rr_t *
spf_rr_status(SPF_dns_server_t *layer, const char *domain, ns_type type, SPF_dns_stat_t st)
{
	return SPF_dns_rr_new_init(layer, domain, type, 0, st);
}

/* Copies the records of `a` that libspf2 can use into rr; false on out of memory. */
static bool
spf_rr_fill(SPF_dns_rr_t *rr, const struct mp_dns_answer *a, ns_type type)
{
	size_t i, want;
	int n = 0;

	for (i = 0; i < a->count && n < INT16_MAX; i++) {
		const struct mp_dns_rr *r = &a->rr[i];

		if (r->type != (uint16_t)type)
			continue;
		if (type == ns_t_ptr && n >= SPF_FOLLOW_MAX)
			break; /* RFC 7208 4.6.4: names beyond the first 10 are ignored */
		switch (type) {
		case ns_t_a:
			want = sizeof(struct in_addr);
			if (r->len != want)
				continue;
			break;
		case ns_t_aaaa:
			want = sizeof(struct in6_addr);
			if (r->len != want)
				continue;
			break;
		default:
			if (r->len >= SIZE_MAX - 1)
				continue;
			want = r->len + 1;
			break;
		}
		if (SPF_dns_rr_buf_realloc(rr, n, want) != SPF_E_SUCCESS)
			return false;
		if (type == ns_t_a || type == ns_t_aaaa) {
			memcpy(rr->rr[n], r->data, want);
		} else {
			memcpy(rr->rr[n], r->data, r->len);
			((char *)rr->rr[n])[r->len] = '\0';
		}
		n++;
	}
	rr->num_rr = n;
	if (a->count > 0 && a->rr[0].ttl <= INT32_MAX)
		rr->ttl = a->rr[0].ttl;
	return true;
}

/*
 * The libspf2 DNS layer.  Lookups that start a term (a, mx, ptr, exists) are counted;
 * the address lookups for the names of an mx or ptr answer, the %{p} macro's lookups
 * (libspf2 asks those with should_cache false) and exp= TXT lookups are not
 * (RFC 7208 4.6.4, 6.2).  Record fetches for include/redirect come through
 * spf_get_record() instead.
 */
static SPF_dns_rr_t *
spf_dns_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type, int should_cache)
{
	struct mp_spf *s = layer->hook;
	struct mp_dns_answer *ans = NULL;
	struct mp_err e;
	SPF_dns_rr_t *rr = NULL;
	bool term = false;
	size_t i;
	int r;

	/* RFC 7208 3.1: type SPF is gone; never ask for it. */
	if (type == ns_t_spf || domain == NULL)
		return spf_rr_status(layer, domain, type, NO_DATA);
	if (s->stopped || s->fail != 0)
		return spf_rr_status(layer, domain, type, HOST_NOT_FOUND);

	switch (type) {
	case ns_t_a:
	case ns_t_aaaa:
		if (!spf_follow_take(s, domain)) {
			spf_follow_clear(s);
			term = true;
		}
		break;
	case ns_t_mx:
		spf_follow_clear(s);
		term = true;
		break;
	case ns_t_ptr:
		spf_follow_clear(s);
		term = should_cache != 0;
		break;
	default:
		spf_follow_clear(s);
		break;
	}
	if (term && !spf_count_term(s))
		return spf_rr_status(layer, domain, type, HOST_NOT_FOUND);

	r = mp_resolver_query(s->res, domain, (uint16_t)type, &ans, &e);
	if (r < 0) {
		s->fail = r;
		spf_why(s, _("DNS lookup of %s failed: %s"), domain, e.msg);
		rr = spf_rr_status(layer, domain, type, TRY_AGAIN);
		goto out;
	}
	switch (ans->status) {
	case MP_DNS_TEMPFAIL:
		if (type != ns_t_txt)
			spf_why(s, _("DNS lookup of %s failed temporarily (%s)"), domain,
				ans->why != NULL ? ans->why : _("no answer"));
		rr = spf_rr_status(layer, domain, type, TRY_AGAIN);
		goto out;
	case MP_DNS_NXDOMAIN:
		rr = spf_rr_status(layer, domain, type, HOST_NOT_FOUND);
		break;
	case MP_DNS_NODATA:
		rr = spf_rr_status(layer, domain, type, NO_DATA);
		break;
	case MP_DNS_OK:
		rr = spf_rr_status(layer, domain, type, NETDB_SUCCESS);
		if (rr != NULL && !spf_rr_fill(rr, ans, type))
			s->fail = MP_ENOMEM;
		break;
	}
	if (rr == NULL) {
		s->fail = MP_ENOMEM;
		goto out;
	}
	if (term && rr->num_rr == 0)
		spf_count_void(s, domain);
	if ((type == ns_t_mx || type == ns_t_ptr) && rr->herrno == NETDB_SUCCESS) {
		for (i = 0; i < (size_t)rr->num_rr; i++)
			spf_follow_add(s, type == ns_t_mx ? rr->rr[i]->mx : rr->rr[i]->ptr);
	}
out:
	mp_dns_answer_free(ans);
	return rr;
}

/* RFC 7208 4.5: "v=spf1" followed by a space or the end, case-insensitively. */
static bool
spf_is_record(const struct mp_dns_rr *r)
{
	static const char ver[] = "v=spf1";
	size_t n = sizeof(ver) - 1;

	if (r->len < n || strncasecmp((const char *)r->data, ver, n) != 0)
		return false;
	return r->len == n || r->data[n] == ' ';
}

static SPF_errcode_t
spf_record_error(SPF_response_t *resp, SPF_result_t result, SPF_errcode_t code,
		 const char *dom)
{
	resp->result = result;
	resp->reason = SPF_REASON_FAILURE;
	return SPF_response_add_error(resp, code, "%s: %s", dom, SPF_strerror(code));
}

/* ---- RFC 7208 section 12 syntax, checked before libspf2 compiles a record ---------- */

static bool
spf_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
spf_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/*
 * macro-string (RFC 7208 7.1) of (p, n).  `exp` allows the c, r and t letters, which
 * only explanation text may use (7.3).  *last_macro tells whether the string ends in a
 * macro-expand (a domain-end of its own).
 */
static bool
spf_macro_string_ok(const char *p, size_t n, bool exp, bool *last_macro)
{
	size_t i = 0;

	*last_macro = false;
	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x21 || c > 0x7e)
			return false;
		if (c != '%') {
			*last_macro = false;
			i++;
			continue;
		}
		if (i + 1 >= n)
			return false;
		c = (unsigned char)p[i + 1];
		if (c == '%' || c == '_' || c == '-') {
			i += 2;
			*last_macro = true;
			continue;
		}
		if (c != '{' || i + 2 >= n)
			return false;
		i += 2;
		c = (unsigned char)(p[i] | 0x20);
		if (strchr(exp ? "slodiphcrtv" : "slodiphv", c) == NULL || !spf_is_alpha(p[i]))
			return false;
		i++;
		while (i < n && spf_is_digit(p[i]))
			i++;
		if (i < n && (p[i] == 'r' || p[i] == 'R'))
			i++;
		while (i < n && strchr(".-+,/_=", p[i]) != NULL)
			i++;
		if (i >= n || p[i] != '}')
			return false;
		i++;
		*last_macro = true;
	}
	return true;
}

/* toplabel (RFC 7208 7.1): alphanumerics with a letter, or hyphenated alphanumerics. */
static bool
spf_toplabel_ok(const char *p, size_t n)
{
	size_t i;
	bool alpha = false, hyphen = false;

	if (n == 0 || p[0] == '-' || p[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++) {
		if (p[i] == '-')
			hyphen = true;
		else if (spf_is_alpha(p[i]))
			alpha = true;
		else if (!spf_is_digit(p[i]))
			return false;
	}
	return alpha || hyphen;
}

/* domain-spec = macro-string domain-end (RFC 7208 7.1). */
static bool
spf_domain_spec_ok(const char *p, size_t n)
{
	bool last_macro;
	size_t end, dot;

	if (n == 0 || !spf_macro_string_ok(p, n, false, &last_macro))
		return false;
	if (last_macro)
		return true;
	end = n;
	if (p[end - 1] == '.')
		end--;
	for (dot = end; dot > 0 && p[dot - 1] != '.'; dot--)
		;
	if (dot == 0)
		return false; /* "." toplabel needs a dot */
	return spf_toplabel_ok(p + dot, end - dot);
}

/* "/" 0..max without leading zeros (ip4-cidr-length, ip6-cidr-length). */
static bool
spf_cidr_ok(const char *p, size_t n, unsigned max)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
		return false;
	for (i = 0; i < n; i++) {
		if (!spf_is_digit(p[i]))
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	return v <= max;
}

/* Splits a trailing dual-cidr-length ("/24", "//64", "/24//64") off (p, *n). */
static bool
spf_dual_cidr_split(const char *p, size_t *n)
{
	size_t end = *n, i;

	for (i = 0; i < 2; i++) {
		size_t s = end;

		while (s > 0 && spf_is_digit(p[s - 1]))
			s--;
		if (s == end || s == 0 || p[s - 1] != '/')
			break;
		if (s >= 2 && p[s - 2] == '/') {
			if (i > 0 || !spf_cidr_ok(p + s, end - s, 128))
				return false;
			end = s - 2;
			continue;
		}
		if (!spf_cidr_ok(p + s, end - s, 32))
			return false;
		end = s - 1;
		break;
	}
	*n = end;
	return true;
}

static bool
spf_ip_network_ok(const char *p, size_t n, bool v6)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	unsigned char addr[sizeof(struct in6_addr)];
	const char *slash = memchr(p, '/', n);
	size_t alen = slash != NULL ? (size_t)(slash - p) : n;

	if (alen == 0 || alen >= sizeof(tmp))
		return false;
	memcpy(tmp, p, alen);
	tmp[alen] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, tmp, addr) != 1)
		return false;
	if (slash == NULL)
		return true;
	return spf_cidr_ok(slash + 1, n - alen - 1, v6 ? 128 : 32);
}

/* Which mechanism (p, n) names, case-insensitively; -1 when none. */
enum { M_ALL, M_INCLUDE, M_A, M_MX, M_PTR, M_IP4, M_IP6, M_EXISTS };

static int
spf_mech_kind(const char *p, size_t n)
{
	static const char *const names[] = { "all", "include", "a", "mx", "ptr", "ip4", "ip6",
					      "exists" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (mp_ieq(p, n, names[i]))
			return (int)i;
	return -1;
}

static bool
spf_directive_ok(const char *t, size_t n, bool *is_all)
{
	const char *arg;
	size_t nlen, alen;
	int kind;

	if (n > 0 && strchr("+-?~", t[0]) != NULL) {
		t++;
		n--;
	}
	for (nlen = 0; nlen < n && t[nlen] != ':' && t[nlen] != '/'; nlen++)
		;
	kind = spf_mech_kind(t, nlen);
	arg = t + nlen;
	alen = n - nlen;
	*is_all = kind == M_ALL;
	switch (kind) {
	case M_ALL:
		return alen == 0;
	case M_INCLUDE:
	case M_EXISTS:
		return alen > 1 && arg[0] == ':' && spf_domain_spec_ok(arg + 1, alen - 1);
	case M_A:
	case M_MX:
		if (!spf_dual_cidr_split(arg, &alen))
			return false;
		if (alen == 0)
			return true;
		return arg[0] == ':' && spf_domain_spec_ok(arg + 1, alen - 1);
	case M_PTR:
		if (alen == 0)
			return true;
		return arg[0] == ':' && spf_domain_spec_ok(arg + 1, alen - 1);
	case M_IP4:
	case M_IP6:
		return alen > 1 && arg[0] == ':' &&
		       spf_ip_network_ok(arg + 1, alen - 1, kind == M_IP6);
	default:
		return false;
	}
}

/*
 * Checks a record against the RFC 7208 grammar (section 12) and the rules libspf2
 * does not apply: one redirect= and one exp= at most (6/2), no c/r/t macros outside
 * explanations (7.3), a valid domain-end (7.1), nothing but visible ASCII (3.1).  On
 * success `out` holds what libspf2 is given: unknown modifiers left out (RFC 7208 6/3
 * says to ignore them; libspf2 rejects some valid names), and redirect= moved to the
 * end, or dropped when there is an "all" (6.1), since libspf2 evaluates it in place.
 */
static bool
spf_record_normalize(const char *rec, size_t len, struct mp_buf *out, const char **what)
{
	const char *p = rec + 6, *end = rec + len, *redirect = NULL;
	size_t nredirect = 0;
	bool any_all = false, has_exp = false, is_all;

	*what = NULL;
	if (mp_buf_add(out, rec, 6) != 0)
		return false;
	while (p < end) {
		const char *t, *eq;
		size_t n, nlen;

		while (p < end && *p == ' ')
			p++;
		if (p >= end)
			break;
		for (t = p; p < end && *p != ' '; p++)
			;
		n = (size_t)(p - t);
		for (nlen = 0; nlen < n && (spf_is_alpha(t[nlen]) || (nlen > 0 &&
			       (spf_is_digit(t[nlen]) || strchr("-_.", t[nlen]) != NULL))); nlen++)
			;
		eq = nlen > 0 && nlen < n && t[nlen] == '=' ? t + nlen : NULL;
		if (eq == NULL) {
			if (!spf_directive_ok(t, n, &is_all)) {
				*what = t;
				return false;
			}
			any_all = any_all || is_all;
			if (mp_buf_addc(out, ' ') != 0 || mp_buf_add(out, t, n) != 0)
				return false;
			continue;
		}
		if (mp_ieq(t, nlen, "redirect") || mp_ieq(t, nlen, "exp")) {
			bool is_exp = nlen == 3;

			if ((is_exp && has_exp) || (!is_exp && redirect != NULL) ||
			    !spf_domain_spec_ok(eq + 1, n - nlen - 1)) {
				*what = t;
				return false;
			}
			if (is_exp) {
				has_exp = true;
				if (mp_buf_addc(out, ' ') != 0 || mp_buf_add(out, t, n) != 0)
					return false;
			} else {
				redirect = t;
				nredirect = n;
			}
			continue;
		}
		{
			bool last_macro;

			if (!spf_macro_string_ok(eq + 1, n - nlen - 1, true, &last_macro)) {
				*what = t;
				return false;
			}
		}
	}
	if (redirect != NULL && !any_all &&
	    (mp_buf_addc(out, ' ') != 0 || mp_buf_add(out, redirect, nredirect) != 0))
		return false;
	return true;
}

/*
 * The libspf2 record fetcher (SPF_dns_server_t.get_spf): the check's own record and
 * every include/redirect target.  RFC 7208 4.4/4.5: a DNS error is temperror, no
 * record is none (libspf2 turns that into permerror inside include/redirect), more
 * than one record or a syntax error is permerror.
 */
static SPF_errcode_t
spf_get_record(SPF_server_t *server, SPF_request_t *req, SPF_response_t *resp,
	       SPF_record_t **recp)
{
	struct mp_spf *s = server->resolver->hook;
	const char *dom = req->cur_dom;
	struct mp_dns_answer *ans = NULL;
	const struct mp_dns_rr *found = NULL;
	struct mp_err e;
	SPF_errcode_t rc;
	bool top;
	size_t i, nfound = 0;
	char *text = NULL;
	const char *bad = NULL;
	struct mp_buf norm;
	int r;

	*recp = NULL;
	mp_buf_init(&norm, 0);
	top = s->fetches++ == 0;
	spf_follow_clear(s);
	if (dom == NULL) {
		rc = spf_record_error(resp, SPF_RESULT_PERMERROR, SPF_E_NOT_CONFIG, "?");
		goto out;
	}
	if (s->stopped || s->fail != 0 || (!top && !spf_count_term(s))) {
		rc = spf_record_error(resp, SPF_RESULT_PERMERROR, SPF_E_BIG_DNS, dom);
		goto out;
	}
	r = mp_resolver_query(s->res, dom, MP_DNS_TXT, &ans, &e);
	if (r < 0) {
		s->fail = r;
		spf_why(s, _("DNS lookup of the SPF record of %s failed: %s"), dom, e.msg);
		rc = spf_record_error(resp, SPF_RESULT_TEMPERROR, SPF_E_DNS_ERROR, dom);
		goto out;
	}
	if (ans->status == MP_DNS_TEMPFAIL) {
		spf_why(s, _("DNS lookup of the SPF record of %s failed temporarily (%s)"), dom,
			ans->why != NULL ? ans->why : _("no answer"));
		rc = spf_record_error(resp, SPF_RESULT_TEMPERROR, SPF_E_DNS_ERROR, dom);
		goto out;
	}
	for (i = 0; ans->status == MP_DNS_OK && i < ans->count; i++) {
		if (ans->rr[i].type == MP_DNS_TXT && spf_is_record(&ans->rr[i])) {
			found = &ans->rr[i];
			nfound++;
		}
	}
	if (nfound == 0) {
		if (!top)
			spf_why(s, _("%s, named by include: or redirect=, has no SPF record"), dom);
		rc = spf_record_error(resp, SPF_RESULT_NONE, SPF_E_NOT_SPF, dom);
		goto out;
	}
	if (nfound > 1) {
		spf_why(s, _("%s has more than one SPF record (RFC 7208 4.5)"), dom);
		rc = spf_record_error(resp, SPF_RESULT_PERMERROR, SPF_E_MULTIPLE_RECORDS, dom);
		goto out;
	}
	text = mp_strndup((const char *)found->data, found->len);
	if (text == NULL) {
		s->fail = MP_ENOMEM;
		rc = spf_record_error(resp, SPF_RESULT_TEMPERROR, SPF_E_NO_MEMORY, dom);
		goto out;
	}
	if (top) {
		free(s->record);
		s->record = mp_strdup_z(text);
	}
	/* A NUL inside the TXT data would silently cut the record short in libspf2. */
	if (memchr(found->data, '\0', found->len) != NULL) {
		spf_why(s, _("the SPF record of %s contains a NUL byte"), dom);
		rc = spf_record_error(resp, SPF_RESULT_PERMERROR, SPF_E_SYNTAX, dom);
		goto out;
	}
	mp_buf_init(&norm, found->len + 16);
	if (!spf_record_normalize(text, found->len, &norm, &bad)) {
		if (bad == NULL) {
			s->fail = MP_ENOMEM;
			rc = spf_record_error(resp, SPF_RESULT_TEMPERROR, SPF_E_NO_MEMORY, dom);
		} else {
			spf_why(s, _("the SPF record of %s is invalid at \"%.*s\" (RFC 7208 12)"),
				dom, (int)strcspn(bad, " ") > 60 ? 60 : (int)strcspn(bad, " "),
				bad);
			rc = spf_record_error(resp, SPF_RESULT_PERMERROR, SPF_E_SYNTAX, dom);
		}
		goto out;
	}
	rc = SPF_record_compile(server, resp, recp, mp_buf_cstr(&norm));
	if (rc != SPF_E_SUCCESS) {
		spf_why(s, _("the SPF record of %s is invalid: %s"), dom, SPF_strerror(rc));
		if (*recp != NULL) {
			SPF_record_free(*recp);
			*recp = NULL;
		}
		resp->result = SPF_RESULT_PERMERROR;
		resp->reason = SPF_REASON_FAILURE;
		/* Anything but SPF_E_DNS_ERROR becomes permerror inside include/redirect. */
		if (rc == SPF_E_DNS_ERROR)
			rc = SPF_E_SYNTAX;
	}
out:
	if (top)
		s->top = rc == SPF_E_SUCCESS ? SPF_RESULT_PASS : resp->result;
	free(text);
	mp_buf_dispose(&norm);
	mp_dns_answer_free(ans);
	return rc;
}

int
mp_spf_new(struct mp_spf **out, struct mp_resolver *res, const char *receiver,
	   struct mp_err *err)
{
	struct mp_spf *s = NULL;
	SPF_response_t *resp = NULL;
	int rc = MP_OK;

	*out = NULL;
	if (res == NULL) {
		rc = mp_err_set(err, MP_EINVAL, "spf: no resolver");
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("spf: out of memory"));
		goto out;
	}
	s->res = res;
	s->layer.destroy = NULL;
	s->layer.lookup = spf_dns_lookup;
	s->layer.get_spf = spf_get_record;
	s->layer.get_exp = NULL;
	s->layer.add_cache = NULL;
	s->layer.layer_below = NULL;
	s->layer.name = "mailproof";
	s->layer.hook = s;
	s->server = SPF_server_new_dns(&s->layer, 0);
	if (s->server == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("spf: cannot create the libspf2 server"));
		goto out;
	}
	if (SPF_server_set_rec_dom(s->server, receiver != NULL && *receiver != '\0' ?
				   receiver : "unknown") != SPF_E_SUCCESS) {
		rc = mp_err_set(err, MP_ENOMEM, _("spf: out of memory"));
		goto out;
	}
	/*
	 * libspf2's default explanation points at a dead web site; explanations for
	 * people are built by this module instead (the exp= expansion is broken too).
	 */
	if (SPF_server_set_explanation(s->server, "not permitted", &resp) != SPF_E_SUCCESS) {
		rc = mp_err_set(err, MP_ENOMEM, _("spf: cannot set the explanation"));
		goto out;
	}
	*out = s;
	s = NULL;
out:
	if (resp != NULL)
		SPF_response_free(resp);
	mp_spf_free(s);
	return rc;
}

void
mp_spf_free(struct mp_spf *s)
{
	if (s == NULL)
		return;
	if (s->server != NULL)
		SPF_server_free(s->server);
	spf_follow_clear(s);
	free(s->record);
	free(s);
}

/* RFC 7208 4.3: a usable <domain> is a multi-label name with labels of 1..63 octets. */
static bool
spf_domain_ok(const char *d)
{
	size_t n = strlen(d), i, label = 0, labels = 0;

	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || d[0] == '[')
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c <= ' ' || c == 0x7f)
			return false;
		if (c == '.') {
			if (label == 0)
				return false;
			labels++;
			label = 0;
		} else if (++label > 63) {
			return false;
		}
	}
	return label > 0 && labels >= 1;
}

static const char *
spf_result_word(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:
		return "pass";
	case SPF_RESULT_FAIL:
		return "fail";
	case SPF_RESULT_SOFTFAIL:
		return "softfail";
	case SPF_RESULT_NEUTRAL:
		return "neutral";
	case SPF_RESULT_NONE:
		return "none";
	case SPF_RESULT_TEMPERROR:
		return "temperror";
	case SPF_RESULT_PERMERROR:
	case SPF_RESULT_INVALID:
	default:
		return "permerror";
	}
}

static int
spf_explain(struct mp_spf *s, struct mp_spf_result *out, SPF_result_t r, SPF_errcode_t code,
	    const char *ip)
{
	struct mp_buf b;
	const char *dom = out->domain != NULL ? out->domain : "?";
	int rc;

	mp_buf_init(&b, 1024);
	if ((r == SPF_RESULT_TEMPERROR || r == SPF_RESULT_PERMERROR || r == SPF_RESULT_NONE) &&
	    s->why[0] != '\0') {
		rc = mp_buf_adds(&b, s->why);
		goto out;
	}
	switch (r) {
	case SPF_RESULT_PASS:
		rc = mp_buf_printf(&b, _("%s is permitted by the SPF record of %s"), ip, dom);
		break;
	case SPF_RESULT_FAIL:
		rc = mp_buf_printf(&b, _("%s is not permitted by the SPF record of %s"), ip, dom);
		break;
	case SPF_RESULT_SOFTFAIL:
		rc = mp_buf_printf(&b,
				   _("%s is not permitted by the SPF record of %s, which asks "
				     "only for a soft fail (~)"),
				   ip, dom);
		break;
	case SPF_RESULT_NEUTRAL:
		rc = mp_buf_printf(&b, _("the SPF record of %s says nothing about %s (neutral)"),
				   dom, ip);
		break;
	case SPF_RESULT_NONE:
		rc = mp_buf_printf(&b, _("%s has no SPF record"), dom);
		break;
	case SPF_RESULT_TEMPERROR:
		rc = mp_buf_printf(&b, _("a DNS lookup for the SPF record of %s failed "
					 "temporarily"),
				   dom);
		break;
	case SPF_RESULT_PERMERROR:
	case SPF_RESULT_INVALID:
	default:
		if (code == SPF_E_BIG_DNS)
			rc = mp_buf_printf(&b,
					   _("an mx or ptr term of the SPF record of %s needs more "
					     "than 10 address lookups (RFC 7208 4.6.4)"),
					   dom);
		else
			rc = mp_buf_printf(&b, _("the SPF record of %s is invalid: %s"), dom,
					   SPF_strerror(code));
		break;
	}
out:
	if (rc == MP_OK) {
		out->explanation = mp_buf_detach(&b, NULL);
		if (out->explanation == NULL)
			rc = MP_ENOMEM;
	}
	mp_buf_dispose(&b);
	return rc;
}

/* Strips one pair of angle brackets and surrounding blanks from a MAIL FROM. */
static char *
spf_mailfrom_copy(const char *mf)
{
	size_t n;
	const char *p;

	if (mf == NULL)
		return NULL;
	n = strlen(mf);
	p = mp_trim(mf, &n);
	if (n >= 2 && p[0] == '<' && p[n - 1] == '>') {
		p++;
		n -= 2;
	}
	return mp_strndup(p, n);
}

int
mp_spf_check(struct mp_spf *s, const char *client_ip, const char *helo,
	     const char *mail_from, struct mp_spf_result *out, struct mp_err *err)
{
	SPF_request_t *req = NULL;
	SPF_response_t *resp = NULL;
	SPF_record_t *rec = NULL;
	SPF_result_t result;
	SPF_errcode_t code = SPF_E_SUCCESS;
	char *mf = NULL;
	bool use_helo;
	int rc = MP_OK;

	memset(out, 0, sizeof(*out));
	spf_state_reset(s);
	if (client_ip == NULL) {
		rc = mp_err_set(err, MP_EINVAL, _("spf: no client IP address"));
		goto out;
	}
	mf = spf_mailfrom_copy(mail_from);
	if (mail_from != NULL && mf == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("spf: out of memory"));
		goto out;
	}
	use_helo = mf == NULL || mf[0] == '\0';
	if (use_helo && (helo == NULL || helo[0] == '\0')) {
		rc = mp_err_set(err, MP_EINVAL, _("spf: neither MAIL FROM nor HELO to check"));
		goto out;
	}
	req = SPF_request_new(s->server);
	if (req == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("spf: out of memory"));
		goto out;
	}
	if (strchr(client_ip, ':') != NULL) {
		struct in6_addr a6;

		if (inet_pton(AF_INET6, client_ip, &a6) != 1) {
			rc = mp_err_set(err, MP_EINVAL, _("spf: not an IPv6 address: %.64s"),
					client_ip);
		} else if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			/* RFC 7208 5: an IPv4-mapped client is evaluated as IPv4. */
			struct in_addr a4;

			memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
			if (SPF_request_set_ipv4(req, a4) != SPF_E_SUCCESS)
				rc = mp_err_set(err, MP_ENOMEM, _("spf: out of memory"));
		} else if (SPF_request_set_ipv6(req, a6) != SPF_E_SUCCESS) {
			rc = mp_err_set(err, MP_ENOMEM, _("spf: out of memory"));
		}
	} else if (SPF_request_set_ipv4_str(req, client_ip) != SPF_E_SUCCESS) {
		rc = mp_err_set(err, MP_EINVAL, _("spf: not an IP address: %.64s"), client_ip);
	}
	if (rc != MP_OK)
		goto out;
	/*
	 * RFC 7208 2.4: without a MAIL FROM the HELO identity is checked as
	 * postmaster@helo; libspf2 derives that from the HELO name when no envelope
	 * sender is set.  %{h} needs a HELO name even when MAIL FROM is checked.
	 */
	if (!use_helo && SPF_request_set_env_from(req, mf) != SPF_E_SUCCESS) {
		rc = mp_err_set(err, MP_ENOMEM, _("spf: out of memory"));
		goto out;
	}
	if (SPF_request_set_helo_dom(req, helo != NULL && helo[0] != '\0' ? helo : "unknown") !=
	    SPF_E_SUCCESS) {
		rc = mp_err_set(err, MP_ENOMEM, _("spf: out of memory"));
		goto out;
	}
	out->identity = mp_strdup_z(use_helo ? "helo" : "mailfrom");
	if (req->env_from_dp != NULL && req->env_from_dp[0] != '\0')
		out->domain = mp_domain_norm(req->env_from_dp);
	if (out->identity == NULL ||
	    (req->env_from_dp != NULL && req->env_from_dp[0] != '\0' && out->domain == NULL)) {
		rc = mp_err_set(err, MP_ENOMEM, _("spf: out of memory"));
		goto out;
	}
	if (req->env_from_dp == NULL || !spf_domain_ok(req->env_from_dp)) {
		/* RFC 7208 4.3: a malformed domain is "none" without any lookup. */
		result = SPF_RESULT_NONE;
		spf_why(s, _("%s is not a valid domain name (RFC 7208 4.3)"),
			out->domain != NULL ? out->domain : _("the empty name"));
		goto done;
	}
	resp = SPF_response_new(req);
	if (resp == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("spf: out of memory"));
		goto out;
	}
	/* What SPF_request_query_mailfrom() does, without its loopback shortcut. */
	req->cur_dom = req->env_from_dp;
	code = spf_get_record(s->server, req, resp, &rec);
	if (code != SPF_E_SUCCESS) {
		result = s->top;
	} else {
		resp->spf_record_exp = rec;
		code = SPF_record_interpret(rec, req, resp, 0);
		resp->spf_record_exp = NULL;
		result = resp->result;
		if (code == SPF_E_SUCCESS)
			code = resp->err;
	}
	if (s->fail != 0) {
		rc = mp_err_set(err, s->fail, "spf: %s",
				s->why[0] != '\0' ? s->why : _("resolver failure"));
		goto out;
	}
	if (s->limit_hit || s->void_hit)
		result = SPF_RESULT_PERMERROR;
	else if (result == SPF_RESULT_INVALID)
		result = code == SPF_E_DNS_ERROR ? SPF_RESULT_TEMPERROR : SPF_RESULT_PERMERROR;
done:
	out->dns_lookups = s->terms;
	out->void_lookups = s->voids;
	out->result = mp_strdup_z(spf_result_word(result));
	if (s->record != NULL) {
		out->record = s->record;
		s->record = NULL;
	}
	if (out->result == NULL || spf_explain(s, out, result, code, client_ip) != MP_OK) {
		rc = mp_err_set(err, MP_ENOMEM, _("spf: out of memory"));
		goto out;
	}
out:
	if (rec != NULL)
		SPF_record_free(rec);
	if (resp != NULL)
		SPF_response_free(resp);
	if (req != NULL)
		SPF_request_free(req);
	free(mf);
	spf_follow_clear(s);
	if (rc != MP_OK)
		mp_spf_result_dispose(out);
	return rc;
}

void
mp_spf_result_dispose(struct mp_spf_result *r)
{
	if (r == NULL)
		return;
	free(r->result);
	free(r->domain);
	free(r->identity);
	free(r->record);
	free(r->explanation);
	memset(r, 0, sizeof(*r));
}

int
mp_spf_record_check(const char *rec, size_t len, struct mp_err *err)
{
	struct mp_buf norm;
	const char *bad = NULL;
	int rc = 0;

	mp_buf_init(&norm, len + 16);
	if (len < 6 || strncasecmp(rec, "v=spf1", 6) != 0 || (len > 6 && rec[6] != ' ')) {
		rc = mp_err_set(err, MP_EPARSE, _("the record does not start with \"v=spf1 \""));
		goto out;
	}
	if (memchr(rec, '\0', len) != NULL) {
		rc = mp_err_set(err, MP_EPARSE, _("the record contains a NUL byte"));
		goto out;
	}
	if (!spf_record_normalize(rec, len, &norm, &bad)) {
		size_t n;

		if (bad == NULL) {
			rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
			goto out;
		}
		for (n = 0; bad + n < rec + len && bad[n] != ' '; n++)
			;
		rc = mp_err_set(err, MP_EPARSE, _("invalid term \"%.*s\" (RFC 7208 12)"),
				n > 60 ? 60 : (int)n, bad);
	}
out:
	mp_buf_dispose(&norm);
	return rc;
}
