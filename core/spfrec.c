/* spfrec.c - see spfrec.h.
 *
 * The terms of each record are read with the grammar check of spf.c first; only a
 * valid record is walked.  Domains holding macros cannot be resolved without a client,
 * so their terms are counted but not followed.
 */
#include "spfrec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "i18n.h"
#include "resolver.h"
#include "spf.h"
#include "util.h"

#define SPFREC_MX_MAX 10    /* RFC 7208 4.6.4: address lookups of one mx term */
#define SPFREC_TEXT_MAX 4096 /* bound of the joined void term list */

struct walk {
	struct mp_resolver *res;
	struct mp_spfrec_tree *t;
	struct mp_buf voids;
	int fail; /* MP_ENOMEM and friends */
};

static void
set_once(struct walk *w, char **slot, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
set_once(struct walk *w, char **slot, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (*slot != NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	*slot = mp_strdup_z(line);
	if (*slot == NULL)
		w->fail = MP_ENOMEM;
}

/* A query; NULL when it could not be made.  TEMPFAIL is noted once. */
static struct mp_dns_answer *
walk_query(struct walk *w, const char *name, uint16_t type)
{
	struct mp_dns_answer *a = NULL;
	struct mp_err e = {0};

	if (mp_resolver_query(w->res, name, type, &a, &e) != 0) {
		w->fail = e.code != 0 ? e.code : MP_ENOMEM;
		return NULL;
	}
	if (a->bogus)
		w->t->bogus = true;
	if (a->status == MP_DNS_TEMPFAIL)
		set_once(w, &w->t->tempfail, _("the DNS lookup of %s failed (%s)"), name,
			 a->why != NULL ? a->why : _("no answer"));
	return a;
}

static bool
is_void(const struct mp_dns_answer *a)
{
	return a->status == MP_DNS_NXDOMAIN || a->status == MP_DNS_NODATA;
}

static void
note_void(struct walk *w, const char *term, size_t n, const char *in)
{
	w->t->void_lookups++;
	if (w->voids.len > 0)
		mp_buf_adds(&w->voids, ", ");
	mp_buf_printf(&w->voids, "%.*s (in %s)", (int)n, term, in);
}

static int
add_node(struct walk *w, unsigned depth, const char *via, const char *domain)
{
	struct mp_spfrec_tree *t = w->t;
	struct mp_spfrec_node *nn;

	if (t->nnodes >= MP_SPFREC_MAX_NODES)
		return -1;
	nn = realloc(t->nodes, (t->nnodes + 1) * sizeof(*nn));
	if (nn == NULL) {
		w->fail = MP_ENOMEM;
		return -1;
	}
	t->nodes = nn;
	memset(&nn[t->nnodes], 0, sizeof(*nn));
	nn[t->nnodes].depth = depth;
	nn[t->nnodes].via = via != NULL ? mp_strdup_z(via) : NULL;
	nn[t->nnodes].domain = mp_strdup_z(domain);
	if (nn[t->nnodes].domain == NULL || (via != NULL && nn[t->nnodes].via == NULL))
		w->fail = MP_ENOMEM;
	return (int)t->nnodes++;
}

/* Addresses of one name (the a mechanism, and each name of an mx answer). */
static bool
addr_void(struct walk *w, const char *name)
{
	struct mp_dns_answer *a4 = walk_query(w, name, MP_DNS_A), *a6 = NULL;
	bool v = false;

	if (a4 == NULL || a4->status == MP_DNS_TEMPFAIL)
		goto out;
	a6 = walk_query(w, name, MP_DNS_AAAA);
	if (a6 == NULL || a6->status == MP_DNS_TEMPFAIL)
		goto out;
	v = is_void(a4) && is_void(a6);
out:
	mp_dns_answer_free(a4);
	mp_dns_answer_free(a6);
	return v;
}

static void walk_domain(struct walk *w, const char *domain, unsigned depth, const char *via);

/* One directive or modifier of the record of `dom`. */
static void
walk_term(struct walk *w, const char *dom, const char *t, size_t n, unsigned depth,
	  bool *has_all, char **redirect)
{
	char qual = '+';
	const char *name = t, *arg = NULL;
	size_t nlen, alen = 0;
	char target[300];
	struct mp_dns_answer *a = NULL;
	size_t i;

	if (n > 0 && strchr("+-?~", t[0]) != NULL) {
		qual = t[0];
		name++;
		n--;
	}
	for (nlen = 0; nlen < n && name[nlen] != ':' && name[nlen] != '/' && name[nlen] != '=';
	     nlen++)
		;
	if (nlen < n && name[nlen] == '=') {
		if (mp_ieq(name, nlen, "redirect") && *redirect == NULL) {
			*redirect = mp_strndup(name + nlen + 1, n - nlen - 1);
			if (*redirect == NULL)
				w->fail = MP_ENOMEM;
		}
		return; /* exp= is no lookup of the evaluation (RFC 7208 4.6.4) */
	}
	if (nlen < n && name[nlen] == ':') {
		arg = name + nlen + 1;
		for (alen = 0; arg + alen < name + n && arg[alen] != '/'; alen++)
			;
		if (mp_ieq(name, nlen, "include") || mp_ieq(name, nlen, "exists"))
			alen = (size_t)(name + n - arg);
	}
	if (mp_ieq(name, nlen, "all")) {
		*has_all = true;
		if (qual == '+' || (qual == '?' && depth == 0))
			set_once(w, &w->t->permissive, _("%c%s in the SPF record of %s"), qual,
				 "all", dom);
		return;
	}
	if (mp_ieq(name, nlen, "ip4") || mp_ieq(name, nlen, "ip6"))
		return;
	w->t->dns_lookups++;
	if (arg == NULL) {
		arg = dom;
		alen = strlen(dom);
	}
	if (alen >= sizeof(target))
		return;
	memcpy(target, arg, alen);
	target[alen] = '\0';
	/* ptr needs the client's address; a macro needs the message (RFC 7208 7). */
	if (mp_ieq(name, nlen, "ptr") || strchr(target, '%') != NULL)
		return;
	if (mp_ieq(name, nlen, "include")) {
		walk_domain(w, target, depth + 1, "include");
		return;
	}
	if (mp_ieq(name, nlen, "a")) {
		if (addr_void(w, target))
			note_void(w, t, n + (size_t)(name - t), dom);
		return;
	}
	if (mp_ieq(name, nlen, "exists")) {
		a = walk_query(w, target, MP_DNS_A);
		if (a != NULL && is_void(a))
			note_void(w, t, n + (size_t)(name - t), dom);
		goto out;
	}
	if (mp_ieq(name, nlen, "mx")) {
		a = walk_query(w, target, MP_DNS_MX);
		if (a == NULL || a->status == MP_DNS_TEMPFAIL)
			goto out;
		if (is_void(a)) {
			note_void(w, t, n + (size_t)(name - t), dom);
			goto out;
		}
		if (a->count > SPFREC_MX_MAX)
			set_once(w, &w->t->syntax,
				 _("mx:%s in the SPF record of %s has %zu MX names, more than %d "
				   "(RFC 7208 4.6.4: permerror)"),
				 target, dom, a->count, SPFREC_MX_MAX);
		for (i = 0; i < a->count && i < SPFREC_MX_MAX; i++)
			(void)addr_void(w, (const char *)a->rr[i].data);
	}
out:
	mp_dns_answer_free(a);
}

static void
walk_record(struct walk *w, const char *dom, const char *rec, size_t len, unsigned depth)
{
	const char *p = rec + 6, *end = rec + len, *t;
	bool has_all = false;
	char *redirect = NULL;

	while (p < end && w->fail == 0) {
		while (p < end && *p == ' ')
			p++;
		if (p >= end)
			break;
		for (t = p; p < end && *p != ' '; p++)
			;
		walk_term(w, dom, t, (size_t)(p - t), depth, &has_all, &redirect);
	}
	/* RFC 7208 6.1: redirect is ignored when the record has an "all". */
	if (redirect != NULL && !has_all && w->fail == 0) {
		w->t->dns_lookups++;
		if (strchr(redirect, '%') == NULL)
			walk_domain(w, redirect, depth, "redirect");
	}
	free(redirect);
}

static void
walk_domain(struct walk *w, const char *domain, unsigned depth, const char *via)
{
	struct mp_dns_answer *a = NULL;
	const struct mp_dns_rr *found = NULL;
	struct mp_spfrec_node *node;
	struct mp_err e = {0};
	size_t i, nfound = 0;
	int idx;

	if (w->fail != 0 || depth > MP_SPFREC_MAX_DEPTH)
		return;
	idx = add_node(w, depth, via, domain);
	if (idx < 0)
		return;
	a = walk_query(w, domain, MP_DNS_TXT);
	if (a == NULL || a->status == MP_DNS_TEMPFAIL)
		goto out;
	if (via == NULL && a->secure)
		w->t->secure = true;
	for (i = 0; a->status == MP_DNS_OK && i < a->count; i++) {
		const struct mp_dns_rr *r = &a->rr[i];

		if (r->len >= 6 && strncasecmp((const char *)r->data, "v=spf1", 6) == 0 &&
		    (r->len == 6 || r->data[6] == ' ')) {
			found = r;
			nfound++;
		}
	}
	node = &w->t->nodes[idx];
	if (nfound == 0) {
		if (via != NULL) {
			/* A void answer to include/redirect counts (RFC 7208 4.6.4). */
			if (is_void(a)) {
				char term[300];

				snprintf(term, sizeof(term), "%s%s%s", via,
					 via[0] == 'i' ? ":" : "=", domain);
				note_void(w, term, strlen(term), w->t->nodes[0].domain);
			}
			set_once(w, &node->note, _("no SPF record (permerror when reached)"));
			set_once(w, &w->t->syntax,
				 _("%s:%s names a domain without an SPF record "
				   "(RFC 7208 5.2: permerror)"),
				 via, domain);
		} else {
			w->t->top = MP_SPFREC_NONE;
		}
		goto out;
	}
	if (nfound > 1) {
		set_once(w, &node->note, _("%zu SPF records (RFC 7208 4.5: permerror)"), nfound);
		if (via == NULL)
			w->t->top = MP_SPFREC_MULTIPLE;
		else
			set_once(w, &w->t->syntax, _("%s has %zu SPF records (RFC 7208 4.5)"),
				 domain, nfound);
		goto out;
	}
	node->record = mp_utf8_clean((const char *)found->data, found->len);
	if (node->record == NULL) {
		w->fail = MP_ENOMEM;
		goto out;
	}
	if (mp_spf_record_check((const char *)found->data, found->len, &e) != 0) {
		if (e.code == MP_ENOMEM) {
			w->fail = MP_ENOMEM;
			goto out;
		}
		set_once(w, &node->note, "%s", e.msg);
		set_once(w, &w->t->syntax, _("the SPF record of %s: %s"), domain, e.msg);
		goto out;
	}
	/* The node array may move while walking: no pointer into it survives this call. */
	walk_record(w, domain, (const char *)found->data, found->len, depth);
out:
	mp_dns_answer_free(a);
}

int
mp_spfrec_walk(struct mp_resolver *res, const char *domain, struct mp_spfrec_tree *out,
	       struct mp_err *err)
{
	struct walk w = {0};
	size_t n;

	memset(out, 0, sizeof(*out));
	if (res == NULL || domain == NULL)
		return mp_err_set(err, MP_EINVAL, "no resolver or domain");
	w.res = res;
	w.t = out;
	mp_buf_init(&w.voids, SPFREC_TEXT_MAX);
	walk_domain(&w, domain, 0, NULL);
	if (w.fail == 0 && w.voids.len > 0) {
		out->void_terms = mp_buf_detach(&w.voids, &n);
		if (out->void_terms == NULL)
			w.fail = MP_ENOMEM;
	}
	mp_buf_dispose(&w.voids);
	if (w.fail != 0)
		return mp_err_set(err, w.fail, _("SPF tree walk of %s failed"), domain);
	return 0;
}

void
mp_spfrec_tree_dispose(struct mp_spfrec_tree *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nnodes; i++) {
		free(t->nodes[i].via);
		free(t->nodes[i].domain);
		free(t->nodes[i].record);
		free(t->nodes[i].note);
	}
	free(t->nodes);
	free(t->void_terms);
	free(t->syntax);
	free(t->permissive);
	free(t->tempfail);
	memset(t, 0, sizeof(*t));
}

bool
mp_spfrec_has_include(const struct mp_spfrec_tree *t, const char *domain)
{
	char *want = mp_domain_norm(domain), *have;
	size_t i;
	bool found = false;

	if (want == NULL)
		return false;
	for (i = 1; i < t->nnodes && !found; i++) {
		have = mp_domain_norm(t->nodes[i].domain);
		found = have != NULL && strcmp(have, want) == 0;
		free(have);
	}
	free(want);
	return found;
}
