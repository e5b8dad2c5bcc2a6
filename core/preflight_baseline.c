/* preflight_baseline.c - see preflight_baseline.h.
 *
 * The baseline is untrusted input: every member is looked up by type and one of the wrong
 * type counts as absent, so a hand-edited file never crashes the comparison.  SPF terms and
 * the DKIM p= tag are compared on their own so that a cosmetic edit of a record is listed
 * as a change, not as a regression.
 */
#include "preflight_baseline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "buf.h"
#include "i18n.h"
#include "util.h"

#define SCHEMA "mailproof/dns-report-1"
/* Comparisons are quadratic in these, so a hostile baseline cannot make them slow. */
#define MAX_ITEMS 1024  /* selectors or problems of one domain */
#define MAX_SPF_TERMS 8192 /* bytes of an SPF record whose terms are compared */

struct mp_pfbase {
	json_t *root;
	json_t *domains; /* borrowed from root */
	char *name;
};

/* jansson's error text may quote bytes of the file: keep only printable ASCII. */
static void
clean_ascii(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

int
mp_pfbase_load(struct mp_pfbase **out, const char *path, struct mp_err *err)
{
	struct mp_pfbase *b = NULL;
	struct mp_buf data;
	json_error_t jerr;
	const char *schema;
	size_t i;
	int rc = 0;

	*out = NULL;
	mp_buf_init(&data, MP_PFBASE_MAX);
	rc = mp_buf_read_file(&data, path, err);
	if (rc == MP_ENOTFOUND)
		rc = err->code = MP_EIO; /* a baseline that is not there cannot be read */
	if (rc != 0)
		goto out;
	if ((b = calloc(1, sizeof(*b))) == NULL || (b->name = mp_strdup_z(path)) == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	b->root = json_loadb(mp_buf_cstr(&data), data.len, JSON_REJECT_DUPLICATES, &jerr);
	if (b->root == NULL) {
		clean_ascii(jerr.text);
		rc = mp_err_set(err, MP_EPARSE, _("%s: line %d: not a JSON report: %s"), path,
				jerr.line, jerr.text);
		goto out;
	}
	schema = json_string_value(json_object_get(b->root, "schema"));
	if (schema == NULL || strcmp(schema, SCHEMA) != 0) {
		rc = mp_err_set(err, MP_EPARSE, _("%s: not a report of schema %s"), path, SCHEMA);
		goto out;
	}
	b->domains = json_object_get(b->root, "domains");
	if (!json_is_array(b->domains)) {
		rc = mp_err_set(err, MP_EPARSE, _("%s: no \"domains\" array"), path);
		goto out;
	}
	for (i = 0; i < json_array_size(b->domains); i++) {
		json_t *d = json_array_get(b->domains, i);

		if (json_string_value(json_object_get(d, "domain")) == NULL) {
			rc = mp_err_set(err, MP_EPARSE, _("%s: domain %zu has no \"domain\" name"),
					path, i + 1);
			goto out;
		}
		if (json_array_size(json_object_get(d, "dkim")) > MAX_ITEMS ||
		    json_array_size(json_object_get(d, "problems")) > MAX_ITEMS) {
			rc = mp_err_set(err, MP_ETOOBIG,
					_("%s: domain %zu lists more than %d "
					  "selectors or problems"),
					path, i + 1, MAX_ITEMS);
			goto out;
		}
	}
	*out = b;
	b = NULL;
out:
	mp_buf_dispose(&data);
	mp_pfbase_free(b);
	return rc;
}

void
mp_pfbase_free(struct mp_pfbase *b)
{
	if (b == NULL)
		return;
	json_decref(b->root);
	free(b->name);
	free(b);
}

static int
add_change(struct mp_pfrep *r, const char *what, const char *before, const char *after,
	   bool regression, bool improvement)
{
	struct mp_pf_change *v, *c;

	v = realloc(r->changes, (r->nchanges + 1) * sizeof(*v));
	if (v == NULL)
		return MP_ENOMEM;
	r->changes = v;
	c = &v[r->nchanges];
	memset(c, 0, sizeof(*c));
	c->what = mp_strdup_z(what);
	c->before = before != NULL ? mp_strdup_z(before) : NULL;
	c->after = after != NULL ? mp_strdup_z(after) : NULL;
	c->regression = regression;
	c->improvement = improvement;
	r->nchanges++;
	if (regression)
		r->regressed = true;
	if (c->what == NULL || (before != NULL && c->before == NULL) ||
	    (after != NULL && c->after == NULL))
		return MP_ENOMEM;
	return 0;
}

static bool
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* The next space-separated term of s at *pos: its start and length, 0 at the end. */
static size_t
next_term(const char *s, size_t *pos, const char **start)
{
	size_t i = *pos, n;

	while (s[i] == ' ' || s[i] == '\t')
		i++;
	*start = s + i;
	for (n = 0; s[i + n] != '\0' && s[i + n] != ' ' && s[i + n] != '\t'; n++)
		;
	*pos = i + n;
	return n;
}

static bool
has_term(const char *rec, const char *t, size_t tn)
{
	const char *s;
	size_t pos = 0, n;

	if (rec == NULL)
		return false;
	while ((n = next_term(rec, &pos, &s)) > 0)
		if (n == tn && strncasecmp(s, t, n) == 0)
			return true;
	return false;
}

/* A term that lets mail pass: a mechanism with the + qualifier (explicit or not) other
 * than "all", or a redirect.  Losing one can make the platform's mail fail SPF. */
static bool
authorising(const char *t, size_t n)
{
	if (n >= 9 && strncasecmp(t, "redirect=", 9) == 0)
		return true;
	if (n > 0 && (t[0] == '-' || t[0] == '~' || t[0] == '?'))
		return false;
	if (n > 0 && t[0] == '+') {
		t++;
		n--;
	}
	if (n == 0 || memchr(t, '=', n) != NULL || (n >= 5 && strncasecmp(t, "v=spf", 5) == 0))
		return false;
	return !(n == 3 && strncasecmp(t, "all", 3) == 0);
}

/* Terms of `from` missing in `to`, as changes; `removed` says which way round. */
static int
diff_terms(struct mp_pfrep *r, const char *from, const char *to, bool removed, bool *lost)
{
	const char *s;
	char *term;
	size_t pos = 0, n;
	int rc = 0;

	if (from == NULL)
		return 0;
	while (rc == 0 && (n = next_term(from, &pos, &s)) > 0) {
		bool reg;

		if (has_term(to, s, n) || (n >= 5 && strncasecmp(s, "v=spf", 5) == 0))
			continue;
		if ((term = mp_strndup(s, n)) == NULL)
			return MP_ENOMEM;
		reg = removed && to != NULL && authorising(s, n);
		if (reg)
			*lost = true;
		rc = add_change(r, "spf.term", removed ? term : NULL, removed ? NULL : term, reg,
				false);
		free(term);
	}
	return rc;
}

static int
cmp_spf(struct mp_pfrep *r, json_t *bspf)
{
	const char *before = json_string_value(json_object_get(bspf, "record"));
	const char *after = r->spf.top == MP_SPFREC_FOUND && r->spf.nnodes > 0
				    ? r->spf.nodes[0].record
				    : NULL;
	json_t *bl = json_object_get(bspf, "dns_lookups");
	bool lost = false;
	size_t first = r->nchanges;
	int rc = 0;

	if (!same(before, after)) {
		rc = add_change(r, "spf.record", before, after, before != NULL && after == NULL,
				false);
		if (before != NULL && after != NULL && strlen(before) <= MAX_SPF_TERMS &&
		    strlen(after) <= MAX_SPF_TERMS) {
			rc = diff_terms(r, before, after, true, &lost);
			if (rc == 0)
				rc = diff_terms(r, after, before, false, &lost);
		}
		/* The record as a whole regressed when an authorising term went away. */
		if (rc == 0 && lost) {
			r->changes[first].regression = true;
			r->regressed = true;
		}
	}
	if (rc == 0 && json_is_integer(bl) && json_integer_value(bl) != r->spf.dns_lookups) {
		char b[32], a[32];

		snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT, json_integer_value(bl));
		snprintf(a, sizeof(a), "%u", r->spf.dns_lookups);
		rc = add_change(r, "spf.dns_lookups", b, a, false, false);
	}
	return rc;
}

/* The value of tag p= of a DKIM key record, spaces removed, or NULL. */
static char *
dkim_p(const char *rec)
{
	const char *s = rec, *e;
	char *out, *o;

	while (s != NULL && *s != '\0') {
		while (*s == ' ' || *s == '\t' || *s == ';')
			s++;
		e = strchr(s, ';');
		if (e == NULL)
			e = s + strlen(s);
		if (*s == 'p') {
			const char *v = s + 1;

			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			if (v < e && *v == '=') {
				if ((out = malloc((size_t)(e - v))) == NULL)
					return NULL;
				for (o = out, v++; v < e; v++)
					if (*v != ' ' && *v != '\t')
						*o++ = *v;
				*o = '\0';
				return out;
			}
		}
		s = e;
	}
	return mp_strdup_z("");
}

static int
cmp_dkim_one(struct mp_pfrep *r, const struct mp_pf_dkim *k, json_t *bk)
{
	const char *brec = json_string_value(json_object_get(bk, "record"));
	const char *btype = json_string_value(json_object_get(bk, "key_type"));
	json_t *bbits = json_object_get(bk, "key_bits");
	char what[320], b[32], a[32];
	char *bp = NULL, *ap = NULL;
	json_int_t bb = json_is_integer(bbits) ? json_integer_value(bbits) : 0;
	int rc = 0;

	if (!same(brec, k->record)) {
		bool reg = brec != NULL && k->record == NULL;

		if (brec != NULL && k->record != NULL) {
			bp = dkim_p(brec);
			ap = dkim_p(k->record);
			if (bp == NULL || ap == NULL) {
				rc = MP_ENOMEM;
				goto out;
			}
			/* A revoked or unusable key that became a key is no regression. */
			reg = bp[0] != '\0' && strcmp(bp, ap) != 0;
		}
		snprintf(what, sizeof(what), "dkim.%s.record", k->selector);
		if ((rc = add_change(r, what, brec, k->record, reg, false)) != 0)
			goto out;
	}
	if (!same(btype, k->key_type)) {
		snprintf(what, sizeof(what), "dkim.%s.key_type", k->selector);
		rc = add_change(r, what, btype, k->key_type, btype != NULL, false);
		if (rc != 0)
			goto out;
	}
	if (bb != (json_int_t)k->key_bits) {
		snprintf(what, sizeof(what), "dkim.%s.key_bits", k->selector);
		snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT, bb);
		snprintf(a, sizeof(a), "%u", k->key_bits);
		rc = add_change(r, what, bb > 0 ? b : NULL, k->key_bits > 0 ? a : NULL,
				bb > 0 && (json_int_t)k->key_bits < bb, false);
	}
out:
	free(bp);
	free(ap);
	return rc;
}

static json_t *
find_selector(json_t *bdkim, const char *sel)
{
	size_t i;

	for (i = 0; i < json_array_size(bdkim); i++) {
		json_t *k = json_array_get(bdkim, i);

		if (mp_ieq_z(json_string_value(json_object_get(k, "selector")), sel))
			return k;
	}
	return NULL;
}

static int
cmp_dkim(struct mp_pfrep *r, json_t *bdkim)
{
	char what[320];
	size_t i, j;
	int rc = 0;

	for (i = 0; rc == 0 && i < r->ndkim; i++) {
		json_t *bk = find_selector(bdkim, r->dkim[i].selector);

		if (bk != NULL) {
			rc = cmp_dkim_one(r, &r->dkim[i], bk);
			continue;
		}
		snprintf(what, sizeof(what), "dkim.%s.record", r->dkim[i].selector);
		rc = add_change(r, what, NULL, r->dkim[i].record, false, false);
	}
	/* A selector of the baseline that this run did not ask for proves nothing. */
	for (j = 0; rc == 0 && j < json_array_size(bdkim); j++) {
		const char *sel = json_string_value(json_object_get(json_array_get(bdkim, j),
								    "selector"));
		bool asked = false;

		if (sel == NULL)
			continue;
		for (i = 0; i < r->ndkim; i++)
			if (mp_ieq_z(r->dkim[i].selector, sel))
				asked = true;
		if (asked)
			continue;
		snprintf(what, sizeof(what), "dkim.%s", sel);
		rc = add_change(r, what, "checked", "not checked", false, false);
	}
	return rc;
}

static int
policy_rank(const char *p)
{
	if (p == NULL)
		return 0;
	if (strcmp(p, "none") == 0)
		return 1;
	if (strcmp(p, "quarantine") == 0)
		return 2;
	return strcmp(p, "reject") == 0 ? 3 : 0;
}

static int
cmp_dmarc(struct mp_pfrep *r, json_t *bd)
{
	static const char *const keys[] = {"policy", "subdomain_policy"};
	const char *brec = json_string_value(json_object_get(bd, "record"));
	const char *now[2] = {r->dmarc.policy, r->dmarc.subdomain_policy};
	char what[64];
	size_t i;
	int rc = 0;

	if (!same(brec, r->dmarc.record))
		rc = add_change(r, "dmarc.record", brec, r->dmarc.record,
				brec != NULL && r->dmarc.record == NULL, false);
	for (i = 0; rc == 0 && i < 2; i++) {
		const char *b = json_string_value(json_object_get(bd, keys[i]));

		if (same(b, now[i]))
			continue;
		snprintf(what, sizeof(what), "dmarc.%s", keys[i]);
		rc = add_change(r, what, b, now[i], policy_rank(now[i]) < policy_rank(b), false);
	}
	return rc;
}

/* The worst severity of `code` now: 2 error, 1 warning, 0 not listed. */
static int
sev_now(const struct mp_pfrep *r, const char *code)
{
	size_t i;
	int s = 0;

	for (i = 0; i < r->nproblems; i++)
		if (strcmp(r->problems[i].code, code) == 0)
			s = r->problems[i].severity == MP_SEV_ERROR ? 2 : s > 1 ? s : 1;
	return s;
}

static int
sev_before(json_t *bprobs, const char *code)
{
	size_t i;
	int s = 0;

	for (i = 0; i < json_array_size(bprobs); i++) {
		json_t *p = json_array_get(bprobs, i);
		const char *sev = json_string_value(json_object_get(p, "severity"));

		if (!same(json_string_value(json_object_get(p, "code")), code))
			continue;
		s = sev != NULL && strcmp(sev, "error") == 0 ? 2 : s > 1 ? s : 1;
	}
	return s;
}

static const char *
sev_name(int s)
{
	return s == 2 ? "error" : s == 1 ? "warning" : NULL;
}

static int
cmp_problems(struct mp_pfrep *r, json_t *bprobs)
{
	char what[128];
	size_t i, j;
	int rc = 0;

	for (i = 0; rc == 0 && i < r->nproblems; i++) {
		const char *code = r->problems[i].code;
		int a, b;
		bool seen = false;

		for (j = 0; j < i; j++)
			if (strcmp(r->problems[j].code, code) == 0)
				seen = true;
		a = sev_now(r, code);
		b = sev_before(bprobs, code);
		if (seen || a == b)
			continue;
		snprintf(what, sizeof(what), "problem.%s", code);
		rc = add_change(r, what, sev_name(b), sev_name(a), a == 2, a < b);
	}
	for (j = 0; rc == 0 && j < json_array_size(bprobs); j++) {
		const char *code = json_string_value(json_object_get(json_array_get(bprobs, j),
								     "code"));
		size_t k;
		bool seen = false;

		if (code == NULL || sev_now(r, code) != 0)
			continue;
		for (k = 0; k < j; k++)
			if (same(json_string_value(json_object_get(json_array_get(bprobs, k),
								   "code")), code))
				seen = true;
		if (seen)
			continue;
		snprintf(what, sizeof(what), "problem.%s", code);
		rc = add_change(r, what, sev_name(sev_before(bprobs, code)), NULL, false, true);
	}
	return rc;
}

int
mp_pfbase_compare(const struct mp_pfbase *b, struct mp_pfrep *r, struct mp_err *err)
{
	json_t *bd = NULL;
	const char *bverdict, *verdict = r->pass ? "pass" : "fail";
	size_t i;
	int rc = 0;

	if ((r->baseline = mp_strdup_z(b->name)) == NULL)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	for (i = 0; bd == NULL && i < json_array_size(b->domains); i++) {
		json_t *d = json_array_get(b->domains, i);
		char *name = mp_domain_norm(json_string_value(json_object_get(d, "domain")));

		if (name == NULL)
			return mp_err_set(err, MP_ENOMEM, _("out of memory"));
		if (mp_ieq_z(name, r->domain))
			bd = d;
		free(name);
	}
	if (bd == NULL) {
		rc = add_change(r, "domain", NULL, r->domain, false, false);
		goto out;
	}
	bverdict = json_string_value(json_object_get(bd, "verdict"));
	if (!same(bverdict, verdict) &&
	    (rc = add_change(r, "verdict", bverdict, verdict, same(bverdict, "pass"),
			     r->pass && same(bverdict, "fail"))) != 0)
		goto out;
	if ((rc = cmp_spf(r, json_object_get(bd, "spf"))) != 0 ||
	    (rc = cmp_dkim(r, json_object_get(bd, "dkim"))) != 0 ||
	    (rc = cmp_dmarc(r, json_object_get(bd, "dmarc"))) != 0)
		goto out;
	rc = cmp_problems(r, json_object_get(bd, "problems"));
out:
	if (rc != 0)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	return 0;
}
