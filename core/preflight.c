/* preflight.c - see preflight.h.
 *
 * SPF: the tree walk of spfrec.c for the counts, libspf2 (spf.c) for each --ip.
 * DKIM: key records are read with a small tag parser here (RFC 6376 3.6.1), the key
 * itself with OpenSSL.  DMARC: discovery and parsing are dmarc.c's.  Every lookup that
 * failed becomes DNS_TEMPORARY, never a missing record.
 */
#include "preflight.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dmarc.h"
#include "i18n.h"
#include "resolver.h"
#include "spf.h"
#include "util.h"

#define PF_KEY_MAX 8192   /* largest decoded p= accepted (RSA 16384 is ~2.1 kB) */
#define PF_TAGS_MAX 32    /* tags in one key record */
#define PF_NAME_MAX 300

/* DNSSEC over every answer this module asked for itself. */
struct pf_sec {
	bool all_secure, bogus;
};

static void
pf_sec_note(struct pf_sec *s, const struct mp_dns_answer *a)
{
	if (a->bogus)
		s->bogus = true;
	if (!a->secure)
		s->all_secure = false;
}

static int pf_problem(struct mp_pfrep *r, enum mp_severity sev, const char *code,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
pf_problem(struct mp_pfrep *r, enum mp_severity sev, const char *code, const char *fmt, ...)
{
	struct mp_problem *np;
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	np = realloc(r->problems, (r->nproblems + 1) * sizeof(*np));
	if (np == NULL)
		return MP_ENOMEM;
	r->problems = np;
	np[r->nproblems].code = mp_strdup_z(code);
	np[r->nproblems].severity = sev;
	np[r->nproblems].message = mp_utf8_clean(line, strlen(line));
	if (np[r->nproblems].code == NULL || np[r->nproblems].message == NULL) {
		free(np[r->nproblems].code);
		free(np[r->nproblems].message);
		return MP_ENOMEM;
	}
	r->nproblems++;
	if (sev == MP_SEV_ERROR)
		r->pass = false;
	if (strcmp(code, "DNS_TEMPORARY") == 0)
		r->tempfail = true;
	return 0;
}

/* ---- SPF -------------------------------------------------------------------------- */

static int
pf_spf(struct mp_resolver *res, const struct mp_preflight_opts *o, struct mp_pfrep *r,
       struct pf_sec *sec, struct mp_err *err)
{
	struct mp_spfrec_tree *t = &r->spf;
	struct mp_spf *spf = NULL;
	char mailfrom[PF_NAME_MAX + 16];
	size_t i;
	int rc;

	rc = mp_spfrec_walk(res, r->domain, t, err);
	if (rc != 0)
		goto out;
	if (t->bogus)
		sec->bogus = true;
	if (!t->secure)
		sec->all_secure = false;
	if (t->tempfail != NULL) {
		rc = pf_problem(r, MP_SEV_ERROR, "DNS_TEMPORARY",
				_("SPF of %s could not be checked: %s. Try again later."), r->domain,
				t->tempfail);
		if (rc != 0)
			goto out;
	}
	if (t->top == MP_SPFREC_NONE && t->tempfail == NULL)
		rc = pf_problem(r, MP_SEV_ERROR, "SPF_MISSING",
				_("%s publishes no SPF record. Publish one TXT record starting "
				"\"v=spf1\" that authorises the platform."), r->domain);
	else if (t->top == MP_SPFREC_MULTIPLE)
		rc = pf_problem(r, MP_SEV_ERROR, "SPF_MULTIPLE",
				_("%s publishes more than one SPF record (RFC 7208 4.5: permerror). "
				"Merge them into one."), r->domain);
	if (rc == 0 && t->syntax != NULL)
		rc = pf_problem(r, MP_SEV_ERROR, "SPF_SYNTAX", _("SPF is invalid: %s."), t->syntax);
	if (rc == 0 && t->dns_lookups > MP_SPF_MAX_DNS_TERMS)
		rc = pf_problem(r, MP_SEV_ERROR, "SPF_TOO_MANY_LOOKUPS",
				_("The SPF record of %s needs %u DNS lookups through its includes, "
				"more than %d (RFC 7208 4.6.4: permerror). Flatten or remove "
				"includes."), r->domain, t->dns_lookups, MP_SPF_MAX_DNS_TERMS);
	if (rc == 0 && t->void_lookups > MP_SPF_MAX_VOID)
		rc = pf_problem(r, MP_SEV_ERROR, "SPF_VOID_LOOKUPS",
				_("The SPF record of %s has %u lookups that find nothing, more than "
				"%d (RFC 7208 4.6.4: permerror): %s. Remove these terms."),
				r->domain, t->void_lookups, MP_SPF_MAX_VOID,
				t->void_terms != NULL ? t->void_terms : "?");
	if (rc == 0 && t->permissive != NULL)
		rc = pf_problem(r, MP_SEV_WARNING, "SPF_PERMISSIVE",
				_("%s lets any host send as %s. End the record with ~all or -all."),
				t->permissive, r->domain);
	/* After a failed lookup the tree is incomplete: an include may sit in the part that
	 * could not be read, so its absence proves nothing (DNS_TEMPORARY says enough). */
	for (i = 0; rc == 0 && t->tempfail == NULL && i < o->nincludes; i++)
		if (!mp_spfrec_has_include(t, o->includes[i]))
			rc = pf_problem(r, MP_SEV_ERROR, "SPF_NOT_AUTHORISED",
					_("include:%s is not in the SPF record of %s. Add it."),
					o->includes[i], r->domain);
	if (rc != 0 || o->nips == 0)
		goto out;
	r->auth = calloc(o->nips, sizeof(*r->auth));
	if (r->auth == NULL) {
		rc = MP_ENOMEM;
		goto out;
	}
	rc = mp_spf_new(&spf, res, NULL, err);
	if (rc != 0)
		goto out;
	snprintf(mailfrom, sizeof(mailfrom), "postmaster@%s", r->domain);
	for (i = 0; i < o->nips; i++) {
		struct mp_spf_result sr = {0};

		rc = mp_spf_check(spf, o->ips[i], NULL, mailfrom, &sr, err);
		if (rc != 0)
			goto out;
		r->auth[i].ip = mp_strdup_z(o->ips[i]);
		r->auth[i].result = mp_strdup_z(sr.result);
		r->nauth++;
		if (r->auth[i].ip == NULL || r->auth[i].result == NULL)
			rc = MP_ENOMEM;
		else if (strcmp(sr.result, "temperror") == 0)
			rc = pf_problem(
			    r, MP_SEV_ERROR, "DNS_TEMPORARY",
			    _("SPF for %s could not be evaluated: %s. Try again later."), o->ips[i],
			    sr.explanation ? sr.explanation : _("DNS failed"));
		else if (strcmp(sr.result, "pass") != 0)
			rc =
			    pf_problem(r, MP_SEV_ERROR, "SPF_NOT_AUTHORISED",
				       _("SPF gives %s for %s, not pass: %s"), sr.result, o->ips[i],
				       sr.explanation ? sr.explanation : _("not authorised"));
		mp_spf_result_dispose(&sr);
		if (rc != 0)
			goto out;
	}
out:
	mp_spf_free(spf);
	return rc;
}

/* ---- DKIM ------------------------------------------------------------------------- */

struct pf_tag {
	const char *name, *val;
	size_t nlen, vlen;
};

/* tag-list of RFC 6376 3.2; -1 for a malformed list or a repeated tag. */
static int
pf_tags(const char *s, size_t n, struct pf_tag *tags, size_t max)
{
	size_t cnt = 0, i = 0, j;

	while (i < n) {
		size_t end = i, nlen, vs;
		const char *name, *val;
		size_t vlen;

		while (end < n && s[end] != ';')
			end++;
		name = s + i;
		nlen = end - i;
		name = mp_trim(name, &nlen);
		i = end + 1;
		if (nlen == 0)
			continue; /* an empty tag-spec before or after ';' */
		for (vs = 0; vs < nlen && name[vs] != '='; vs++)
			;
		if (vs == nlen || cnt >= max)
			return -1;
		val = name + vs + 1;
		vlen = nlen - vs - 1;
		val = mp_trim(val, &vlen);
		nlen = vs;
		name = mp_trim(name, &nlen);
		if (nlen == 0)
			return -1;
		for (j = 0; j < cnt; j++)
			if (tags[j].nlen == nlen && memcmp(tags[j].name, name, nlen) == 0)
				return -1;
		tags[cnt].name = name;
		tags[cnt].nlen = nlen;
		tags[cnt].val = val;
		tags[cnt].vlen = vlen;
		cnt++;
	}
	return (int)cnt;
}

static const struct pf_tag *
pf_tag(const struct pf_tag *tags, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (tags[i].nlen == strlen(name) && memcmp(tags[i].name, name, tags[i].nlen) == 0)
			return &tags[i];
	return NULL;
}

/* Whether the colon-separated list (v, n) holds `word` (whitespace allowed around). */
static bool
pf_list_has(const char *v, size_t n, const char *word)
{
	size_t i = 0;

	while (i <= n) {
		size_t e = i, l;
		const char *w;

		while (e < n && v[e] != ':')
			e++;
		l = e - i;
		w = mp_trim(v + i, &l);
		if (mp_ieq(w, l, word))
			return true;
		i = e + 1;
	}
	return false;
}

/* base64 of p= (whitespace allowed, RFC 6376 3.6.1) into a malloc'd buffer. */
static unsigned char *
pf_b64(const char *v, size_t n, size_t *outlen)
{
	EVP_ENCODE_CTX *ctx = NULL;
	unsigned char *out = NULL, *ret = NULL;
	int l1 = 0, l2 = 0;
	size_t i, m = 0;
	char *clean = NULL;

	if (n > PF_KEY_MAX * 2)
		return NULL;
	clean = malloc(n + 1);
	out = malloc(n + 4);
	ctx = EVP_ENCODE_CTX_new();
	if (clean == NULL || out == NULL || ctx == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (v[i] != ' ' && v[i] != '\t' && v[i] != '\r' && v[i] != '\n')
			clean[m++] = v[i];
	if (m == 0 || m > INT32_MAX)
		goto out;
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, out, &l1, (const unsigned char *)clean, (int)m) < 0 ||
	    EVP_DecodeFinal(ctx, out + l1, &l2) < 0)
		goto out;
	*outlen = (size_t)l1 + (size_t)l2;
	ret = out;
	out = NULL;
out:
	EVP_ENCODE_CTX_free(ctx);
	free(clean);
	free(out);
	return ret;
}

static EVP_PKEY *
pf_load_key(const char *path, struct mp_err *err)
{
	BIO *b = BIO_new_file(path, "r");
	EVP_PKEY *k = NULL;

	if (b == NULL) {
		mp_err_set(err, MP_EINVAL, _("%s: cannot open the key file"), path);
		return NULL;
	}
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k == NULL)
		mp_err_set(err, MP_EINVAL, _("%s: not a PEM private key"), path);
	return k;
}

static int
pf_dkim_one(struct mp_resolver *res, struct mp_pfrep *r, struct mp_pf_dkim *d,
	    EVP_PKEY *priv, struct pf_sec *sec, struct mp_err *err)
{
	char name[PF_NAME_MAX * 2];
	struct mp_dns_answer *a = NULL;
	struct pf_tag tags[PF_TAGS_MAX];
	const struct pf_tag *v, *k, *p, *h, *t;
	const struct mp_dns_rr *rec = NULL;
	unsigned char *der = NULL;
	size_t derlen = 0, i, nrec = 0;
	EVP_PKEY *pub = NULL;
	int ntags, rc;

	snprintf(name, sizeof(name), "%s._domainkey.%s", d->selector, r->domain);
	rc = mp_resolver_query(res, name, MP_DNS_TXT, &a, err);
	if (rc != 0)
		goto out;
	pf_sec_note(sec, a);
	if (a->status == MP_DNS_TEMPFAIL) {
		rc = pf_problem(r, MP_SEV_ERROR, "DNS_TEMPORARY",
				_("The DKIM key %s could not be looked up (%s). Try again later."),
				name, a->why != NULL ? a->why : _("no answer"));
		goto out;
	}
	for (i = 0; a->status == MP_DNS_OK && i < a->count; i++)
		if (a->rr[i].type == MP_DNS_TXT) {
			rec = rec == NULL ? &a->rr[i] : rec;
			nrec++;
		}
	if (rec == NULL) {
		rc = pf_problem(r, MP_SEV_ERROR, "DKIM_KEY_MISSING",
				_("No DKIM key is published at %s. Publish the TXT record with the "
				"public key for selector %s."), name, d->selector);
		goto out;
	}
	d->record = mp_utf8_clean((const char *)rec->data, rec->len);
	if (d->record == NULL) {
		rc = MP_ENOMEM;
		goto out;
	}
	if (nrec > 1) {
		rc = pf_problem(r, MP_SEV_ERROR, "DKIM_KEY_SYNTAX",
				_("%s has %zu TXT records; a DKIM key must be the only one."), name,
				nrec);
		goto out;
	}
	ntags = pf_tags((const char *)rec->data, rec->len, tags, PF_TAGS_MAX);
	v = ntags > 0 ? pf_tag(tags, ntags, "v") : NULL;
	k = ntags > 0 ? pf_tag(tags, ntags, "k") : NULL;
	p = ntags > 0 ? pf_tag(tags, ntags, "p") : NULL;
	h = ntags > 0 ? pf_tag(tags, ntags, "h") : NULL;
	t = ntags > 0 ? pf_tag(tags, ntags, "t") : NULL;
	if (ntags <= 0 || p == NULL || (v != NULL && (v != &tags[0] ||
	    !mp_ieq(v->val, v->vlen, "DKIM1")))) {
		rc = pf_problem(r, MP_SEV_ERROR, "DKIM_KEY_SYNTAX",
				_("The DKIM key at %s is not a valid key record (RFC 6376 3.6.1: "
				"\"v=DKIM1; k=rsa; p=...\" with v= first and p= present)."), name);
		goto out;
	}
	if (k != NULL && !mp_ieq(k->val, k->vlen, "rsa") && !mp_ieq(k->val, k->vlen, "ed25519")) {
		rc = pf_problem(r, MP_SEV_ERROR, "DKIM_KEY_SYNTAX",
				_("The DKIM key at %s has unknown key type k=%.*s."), name,
				(int)(k->vlen > 32 ? 32 : k->vlen), k->val);
		goto out;
	}
	d->key_type = mp_strdup_z(k != NULL && mp_ieq(k->val, k->vlen, "ed25519") ? "ed25519"
										  : "rsa");
	if (d->key_type == NULL) {
		rc = MP_ENOMEM;
		goto out;
	}
	if (t != NULL && pf_list_has(t->val, t->vlen, "y")) {
		d->testing = true;
		rc = pf_problem(r, MP_SEV_WARNING, "DKIM_KEY_TESTING",
				_("The DKIM key at %s is in test mode (t=y): receivers may treat "
				"signatures as unsigned. Remove t=y after the test."), name);
		if (rc != 0)
			goto out;
	}
	if (h != NULL && !pf_list_has(h->val, h->vlen, "sha256")) {
		rc = pf_problem(r, MP_SEV_ERROR, "DKIM_KEY_SYNTAX",
				_("The DKIM key at %s allows only h=%.*s; signatures use sha256. "
				"Remove h= or add sha256."), name,
				(int)(h->vlen > 32 ? 32 : h->vlen), h->val);
		goto out;
	}
	if (p->vlen == 0) {
		rc = pf_problem(r, MP_SEV_ERROR, "DKIM_KEY_REVOKED",
				_("The DKIM key at %s is revoked (empty p=). Publish the current "
				"public key."), name);
		goto out;
	}
	der = pf_b64(p->val, p->vlen, &derlen);
	if (der != NULL && strcmp(d->key_type, "ed25519") == 0) {
		if (derlen == 32)
			pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, derlen);
	} else if (der != NULL && derlen <= PF_KEY_MAX) {
		const unsigned char *q = der;

		pub = d2i_PUBKEY(NULL, &q, (long)derlen);
		if (pub != NULL && (EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA ||
				    q != der + derlen)) {
			EVP_PKEY_free(pub);
			pub = NULL;
		}
	}
	if (pub == NULL) {
		rc = pf_problem(r, MP_SEV_ERROR, "DKIM_KEY_SYNTAX",
				_("The DKIM key at %s: p= is not a valid %s public key."), name,
				d->key_type);
		goto out;
	}
	d->key_bits = (unsigned)EVP_PKEY_get_bits(pub);
	if (strcmp(d->key_type, "rsa") == 0 && d->key_bits < 1024)
		rc = pf_problem(r, MP_SEV_ERROR, "DKIM_KEY_TOO_SHORT",
				_("The DKIM key at %s has %u bits; receivers ignore RSA keys under "
				"1024 bits (RFC 8301). Publish a 2048-bit key."), name, d->key_bits);
	else if (strcmp(d->key_type, "rsa") == 0 && d->key_bits < 2048)
		rc = pf_problem(r, MP_SEV_WARNING, "DKIM_KEY_TOO_SHORT",
				_("The DKIM key at %s has %u bits; use 2048 bits."), name,
				d->key_bits);
	if (rc != 0 || priv == NULL)
		goto out;
	d->matches = EVP_PKEY_eq(pub, priv) == 1 ? 1 : 0;
	if (d->matches == 0)
		rc = pf_problem(r, MP_SEV_ERROR, "DKIM_KEY_MISMATCH",
				_("The DKIM key at %s is not the public half of the private key "
				"given: signatures will fail. Publish the key made from it."), name);
out:
	EVP_PKEY_free(pub);
	free(der);
	mp_dns_answer_free(a);
	return rc;
}

/* ---- DMARC ------------------------------------------------------------------------ */

/* RFC 7489 7.1: a rua destination outside the domain must authorise the reports. */
static int
pf_rua_ext(struct mp_resolver *res, struct mp_dmarc *dm, struct mp_pfrep *r, const char *uri,
	   struct mp_err *err)
{
	const char *at, *end;
	char dest[PF_NAME_MAX], name[PF_NAME_MAX * 2];
	struct mp_dns_answer *a = NULL;
	bool ok = false;
	size_t i;
	int rc = 0;

	if (strncasecmp(uri, "mailto:", 7) != 0 || (at = strrchr(uri, '@')) == NULL)
		return 0;
	at++;
	end = at + strcspn(at, "!");
	if ((size_t)(end - at) >= sizeof(dest) || end == at)
		return 0;
	memcpy(dest, at, (size_t)(end - at));
	dest[end - at] = '\0';
	if (mp_dmarc_aligned(dm, dest, r->domain, false))
		return 0;
	snprintf(name, sizeof(name), "%s._report._dmarc.%s", r->domain, dest);
	rc = mp_resolver_query(res, name, MP_DNS_TXT, &a, err);
	if (rc != 0)
		goto out;
	if (a->status == MP_DNS_TEMPFAIL) {
		rc = pf_problem(r, MP_SEV_ERROR, "DNS_TEMPORARY",
				_("%s could not be looked up (%s). Try again later."), name,
				a->why != NULL ? a->why : _("no answer"));
		goto out;
	}
	for (i = 0; a->status == MP_DNS_OK && i < a->count; i++)
		if (a->rr[i].len >= 8 && strncasecmp((const char *)a->rr[i].data, "v=DMARC1", 8) == 0)
			ok = true;
	if (!ok)
		rc = pf_problem(r, MP_SEV_WARNING, "DMARC_RUA_NOT_AUTHORISED",
				_("rua=%s goes to another domain, which does not accept the reports: "
				"%s has no \"v=DMARC1\" record (RFC 7489 7.1). Reports will not "
				"be sent."), uri, name);
out:
	mp_dns_answer_free(a);
	return rc;
}

static int
pf_dmarc(struct mp_resolver *res, struct mp_pfrep *r, struct pf_sec *sec, struct mp_err *err)
{
	struct mp_dmarc *dm = NULL;
	struct mp_dmarc_eval_in in = {0};
	struct mp_dmarc_eval ev = {0};
	struct mp_dns_answer *a = NULL;
	char name[PF_NAME_MAX + 8];
	size_t i;
	int rc;

	snprintf(name, sizeof(name), "_dmarc.%s", r->domain);
	rc = mp_resolver_query(res, name, MP_DNS_TXT, &a, err);
	if (rc != 0)
		goto out;
	pf_sec_note(sec, a);
	rc = mp_dmarc_new(&dm, res, err);
	if (rc != 0)
		goto out;
	in.from_domain = r->domain;
	rc = mp_dmarc_evaluate(dm, &in, &ev, err);
	if (rc != 0)
		goto out;
	r->dmarc.pct = -1;
	if (ev.record != NULL && (r->dmarc.record = mp_strdup_z(ev.record)) == NULL) {
		rc = MP_ENOMEM;
		goto out;
	}
	if (ev.have_record) {
		r->dmarc.policy = mp_dmarc_policy_name(ev.parsed.p);
		r->dmarc.subdomain_policy = mp_dmarc_policy_name(ev.parsed.sp);
		r->dmarc.pct = ev.parsed.pct;
		if (ev.parsed.nrua > 0) {
			r->dmarc.rua = calloc(ev.parsed.nrua, sizeof(char *));
			if (r->dmarc.rua == NULL) {
				rc = MP_ENOMEM;
				goto out;
			}
		}
		for (i = 0; i < ev.parsed.nrua; i++) {
			r->dmarc.rua[i] = mp_strdup_z(ev.parsed.rua[i]);
			if (r->dmarc.rua[i] == NULL) {
				rc = MP_ENOMEM;
				goto out;
			}
			r->dmarc.nrua++;
		}
	}
	if (ev.problem_code != NULL) {
		bool warn = strcmp(ev.problem_code, "DMARC_POLICY_NONE") == 0;

		/* The evaluation's own text speaks of a message that fails; no mail exists here. */
		if (warn)
			rc = pf_problem(r, MP_SEV_WARNING, ev.problem_code,
					_("The DMARC policy of %s is p=none: receivers treat mail that "
					"fails DMARC like any other. Move to p=quarantine or p=reject "
					"once the reports show that all legitimate mail passes."),
					r->domain);
		else
			rc = pf_problem(r, MP_SEV_ERROR, ev.problem_code, "%s",
					ev.message != NULL ? ev.message : ev.problem_code);
		if (rc != 0)
			goto out;
	}
	if (ev.methods_differ && ev.treewalk_note != NULL) {
		rc = pf_problem(r, MP_SEV_WARNING, "DMARC_DISCOVERY_DIFFERS", "%s",
				ev.treewalk_note);
		if (rc != 0)
			goto out;
	}
	for (i = 0; i < r->dmarc.nrua && rc == 0; i++)
		rc = pf_rua_ext(res, dm, r, r->dmarc.rua[i], err);
out:
	mp_dmarc_eval_dispose(&ev);
	mp_dmarc_free(dm);
	mp_dns_answer_free(a);
	return rc;
}

int
mp_preflight_run(struct mp_resolver *res, const char *domain,
		 const struct mp_preflight_opts *opts, struct mp_pfrep *out, struct mp_err *err)
{
	struct pf_sec sec = {.all_secure = true};
	EVP_PKEY *priv = NULL;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->pass = true;
	out->dnssec = "unknown";
	out->dmarc.pct = -1;
	out->domain = mp_domain_norm(domain);
	if (out->domain == NULL)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	if (out->domain[0] == '\0' || strlen(out->domain) >= PF_NAME_MAX)
		return mp_err_set(err, MP_EINVAL, _("'%s' is not a domain name"), domain);
	if (opts->key_file != NULL && (priv = pf_load_key(opts->key_file, err)) == NULL)
		return MP_EINVAL;
	if (opts->nselectors > 0) {
		out->dkim = calloc(opts->nselectors, sizeof(*out->dkim));
		if (out->dkim == NULL) {
			rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
			goto out;
		}
	}
	rc = pf_spf(res, opts, out, &sec, err);
	for (i = 0; rc == 0 && i < opts->nselectors; i++) {
		struct mp_pf_dkim *d = &out->dkim[i];

		out->ndkim++;
		d->matches = -1;
		d->selector = mp_strdup_z(opts->selectors[i]);
		if (d->selector == NULL)
			rc = MP_ENOMEM;
		else
			rc = pf_dkim_one(res, out, d, priv, &sec, err);
	}
	if (rc == 0)
		rc = pf_dmarc(res, out, &sec, err);
	if (rc != 0) {
		if (err->code == 0)
			mp_err_set(err, rc, _("out of memory"));
		goto out;
	}
	if (sec.bogus)
		out->dnssec = "bogus";
	else if (opts->dnssec)
		out->dnssec = sec.all_secure ? "secure" : "insecure";
out:
	EVP_PKEY_free(priv);
	return rc;
}

int
mp_preflight_key_check(const char *path, struct mp_err *err)
{
	EVP_PKEY *k = pf_load_key(path, err);

	if (k == NULL)
		return MP_EINVAL;
	EVP_PKEY_free(k);
	return 0;
}

void
mp_pfrep_dispose(struct mp_pfrep *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(r->domain);
	mp_spfrec_tree_dispose(&r->spf);
	for (i = 0; i < r->nauth; i++) {
		free(r->auth[i].ip);
		free(r->auth[i].result);
	}
	free(r->auth);
	for (i = 0; i < r->ndkim; i++) {
		free(r->dkim[i].selector);
		free(r->dkim[i].record);
		free(r->dkim[i].key_type);
	}
	free(r->dkim);
	free(r->dmarc.record);
	for (i = 0; i < r->dmarc.nrua; i++)
		free(r->dmarc.rua[i]);
	free(r->dmarc.rua);
	for (i = 0; i < r->nproblems; i++) {
		free(r->problems[i].code);
		free(r->problems[i].message);
	}
	free(r->problems);
	free(r->baseline);
	for (i = 0; i < r->nchanges; i++) {
		free(r->changes[i].what);
		free(r->changes[i].before);
		free(r->changes[i].after);
	}
	free(r->changes);
	memset(r, 0, sizeof(*r));
}

bool
mp_pfrep_has_problem(const struct mp_pfrep *r, const char *code)
{
	size_t i;

	for (i = 0; i < r->nproblems; i++)
		if (strcmp(r->problems[i].code, code) == 0)
			return true;
	return false;
}
