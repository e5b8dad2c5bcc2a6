/* dkim.c - see dkim.h. */

/*
 * The ENGINE calls are deprecated in OpenSSL 3 but are the only documented way to steer
 * how libopendkim's d2i_PUBKEY_bio() decodes keys; see legacy_rsa_decoding().  Defined
 * before any header so that every OpenSSL header sees it.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "dkim.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <opendkim/dkim.h> /* not <dkim.h>: that name is ours */

#include <openssl/engine.h>
#include <openssl/evp.h>

#include "i18n.h"
#include "util.h"

#define TEXT_MAX 512      /* longest error text handed out */
#define KEYNAME_MAX 253   /* RFC 1035 section 2.3.4, text form without the final dot */
#define SHOW_MAX 64       /* bytes of an untrusted value quoted in a text */

/* The tags of RFC 6376 section 3.5 that this module reads itself. */
enum { T_V, T_A, T_B, T_BH, T_C, T_D, T_H, T_I, T_S, T_T, T_X, NTAGS };
static const char *const tagname[NTAGS] = {
	"v", "a", "b", "bh", "c", "d", "h", "i", "s", "t", "x",
};

/* One DKIM-Signature field as this module parsed it (values with FWS removed). */
struct field {
	char *tag[NTAGS];  /* NULL when absent */
	char *problem;     /* first tag-list syntax problem, or NULL */
	char *libproblem;  /* why libopendkim refused the field, or NULL */
	bool toolong;
};

/* A key lookup that failed temporarily, with the resolver's reason. */
struct dnsfail {
	char name[KEYNAME_MAX + 2];
	char why[64];
};

/* The one query in flight (the hooks answer synchronously, from the resolver). */
struct query {
	int status;
	size_t bytes;
	int dnssec;
};

struct mp_dkim {
	DKIM_LIB *lib;
	struct mp_resolver *res;
	struct mp_dkim_ver *cur; /* message whose keys are being looked up */
	struct query q;
};

enum vstate { V_HEADER, V_BODY, V_SKIP, V_DONE };

struct mp_dkim_ver {
	struct mp_dkim *d;
	DKIM *dkim;
	enum vstate state;
	struct mp_err err;       /* first error met while feeding */
	struct field *fields;
	size_t nfields;
	size_t capfields;
	const char *msgresult;   /* set when the whole message could not be verified */
	char *msgproblem;
	struct dnsfail fails[MP_DKIM_MAX_VERIFY];
	size_t nfails;
};

/* ---- small helpers ---- */

static char *
text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
text(const char *fmt, ...)
{
	char buf[TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return mp_strdup_z(buf);
}

static void
note_error(struct mp_dkim_ver *v, int code, const char *msg)
{
	if (v != NULL && v->err.code == MP_OK)
		mp_err_set(&v->err, code, "%s", msg);
}

static bool
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copy of (s, n) without any folding whitespace, as libopendkim keeps tag values. */
static char *
collapse(const char *s, size_t n)
{
	char *p;
	size_t i, j;

	if ((p = mp_strndup(s, n)) == NULL)
		return NULL;
	for (i = j = 0; i < n; i++)
		if (!is_wsp((unsigned char)s[i]))
			p[j++] = s[i];
	p[j] = '\0';
	return p;
}

static void
trim_wsp(const char **s, size_t *n)
{
	while (*n > 0 && is_wsp((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_wsp((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/*
 * A selector or domain usable in a DNS query: labels of letters, digits, '-' and
 * '_' (RFC 6376 section 3.1 and 3.5 "sub-domain"), 1..63 bytes each.
 */
static bool
valid_labels(const char *s)
{
	size_t label = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

static bool
valid_keyname(const char *sel, const char *dom)
{
	/* "<sel>._domainkey.<dom>"; both are bounded by MP_DKIM_FIELD_MAX */
	return valid_labels(sel) && valid_labels(dom) &&
	       strlen(sel) + strlen(dom) + sizeof("._domainkey.") - 1 <= KEYNAME_MAX;
}

/* ---- RFC 6376 section 3.2 tag-list of one DKIM-Signature field ---- */

static void
set_problem(struct field *f, char *p)
{
	if (f->problem == NULL)
		f->problem = p;
	else
		free(p);
}

static bool
tag_name_ok(const char *s, size_t n)
{
	size_t i;

	/* tag-name = ALPHA *ALNUMPUNC */
	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static bool
tag_value_ok(const char *s, size_t n)
{
	size_t i;

	/* VALCHAR = %x21-3A / %x3C-7E, separated by FWS */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_wsp(c) && (c < 0x21 || c > 0x7e || c == ';'))
			return false;
	}
	return true;
}

/* Printable-ASCII excerpt of untrusted bytes for an error text. */
static void
excerpt(const char *s, size_t n, char *out, size_t size)
{
	size_t i;

	for (i = 0; i < n && i + 1 < size; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
}

/*
 * Takes the tags of one field apart.  It keeps going after a problem so that d=, s=
 * and b= are still known for matching and reporting.  Returns 0 or MP_ENOMEM.
 */
static int
parse_tags(struct field *f, const char *s, size_t n)
{
	const char *end = s + n, *seg, *semi, *val;
	size_t segn, namen, valn;
	char show[24];
	bool more = true;
	int t, rc = 0;

	while (more && rc == 0) {
		semi = memchr(s, ';', (size_t)(end - s));
		more = semi != NULL;
		seg = s;
		segn = (size_t)((more ? semi : end) - s);
		if (more)
			s = semi + 1;
		trim_wsp(&seg, &segn);
		if (segn == 0) {
			/* only a trailing ";" may leave an empty tag-spec */
			if (more)
				set_problem(f, text(_("empty tag in the tag list")));
			continue;
		}
		if ((val = memchr(seg, '=', segn)) == NULL) {
			excerpt(seg, segn, show, sizeof(show));
			set_problem(f, text(_("tag without \"=\" (\"%s\")"), show));
			continue;
		}
		namen = (size_t)(val - seg);
		val++;
		valn = segn - namen - 1;
		trim_wsp(&seg, &namen);
		trim_wsp(&val, &valn);
		excerpt(seg, namen, show, sizeof(show));
		if (!tag_name_ok(seg, namen)) {
			set_problem(f, text(_("invalid tag name \"%s\""), show));
			continue;
		}
		if (!tag_value_ok(val, valn)) {
			set_problem(f, text(_("invalid character in the %s= value"), show));
			continue;
		}
		for (t = 0; t < NTAGS; t++)
			if (namen == strlen(tagname[t]) && memcmp(seg, tagname[t], namen) == 0)
				break; /* tag names are case-sensitive */
		if (t == NTAGS)
			continue; /* unknown tags are ignored (RFC 6376 section 3.2) */
		if (f->tag[t] != NULL) {
			set_problem(f, text(_("tag %s= appears twice"), tagname[t]));
			continue;
		}
		if ((f->tag[t] = collapse(val, valn)) == NULL)
			rc = MP_ENOMEM;
	}
	return rc;
}

static void
field_dispose(struct field *f)
{
	int t;

	for (t = 0; t < NTAGS; t++)
		free(f->tag[t]);
	free(f->problem);
	free(f->libproblem);
}

/* Is this "Name: value" field a DKIM-Signature?  Sets *val to the value. */
static bool
is_sigfield(const char *s, size_t n, const char **val, size_t *valn)
{
	const char *colon = memchr(s, ':', n);
	size_t namen;

	if (colon == NULL)
		return false;
	namen = (size_t)(colon - s);
	while (namen > 0 && (s[namen - 1] == ' ' || s[namen - 1] == '\t'))
		namen--;
	if (!mp_ieq(s, namen, "DKIM-Signature"))
		return false;
	*val = colon + 1;
	*valn = n - (size_t)(colon - s) - 1;
	return true;
}

/* Why libopendkim left out a field (or could not read it): RFC 6376 section 3.5. */
static char *
orphan_text(const struct field *f)
{
	static const int required[] = { T_V, T_A, T_B, T_BH, T_D, T_H, T_S };
	char missing[64] = "", empty[64] = "", mtext[128] = "", etext[128] = "";
	size_t nmissing = 0, nempty = 0, i;
	int mlen = 0, elen = 0;
	char *res;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const char *name = tagname[required[i]];
		const char *val = f->tag[required[i]];

		if (val == NULL && mlen >= 0 && (size_t)mlen < sizeof(missing)) {
			mlen += snprintf(missing + mlen, sizeof(missing) - (size_t)mlen,
					 "%s%s=", nmissing > 0 ? ", " : "", name);
			nmissing++;
		} else if (val != NULL && *val == '\0' && elen >= 0 &&
			   (size_t)elen < sizeof(empty)) {
			elen += snprintf(empty + elen, sizeof(empty) - (size_t)elen, "%s%s=",
					 nempty > 0 ? ", " : "", name);
			nempty++;
		}
	}
	if (f->toolong)
		res = text(_("malformed DKIM-Signature: the field is longer than %d bytes"),
			   MP_DKIM_FIELD_MAX);
	else if (f->problem != NULL)
		res = text(_("malformed DKIM-Signature: %s"), f->problem);
	else if (nmissing > 0 || nempty > 0) {
		if (nmissing > 0)
			snprintf(mtext, sizeof(mtext),
				 mp_i18n_ngettext("missing %s tag", "missing tags %s", nmissing),
				 missing);
		if (nempty > 0)
			snprintf(etext, sizeof(etext),
				 mp_i18n_ngettext("empty %s tag", "empty tags %s", nempty), empty);
		res = text(_("malformed DKIM-Signature: %s%s%s"), mtext,
			   nmissing > 0 && nempty > 0 ? "; " : "", etext);
	} else if (f->libproblem != NULL)
		res = text(_("malformed DKIM-Signature: %s"), f->libproblem);
	else
		res = text(_("DKIM-Signature could not be read by the verifier"));
	return res;
}

/* ---- libopendkim DNS hooks: answers come from the project's resolver ---- */

/* Bounded copy that cuts long text short (reasons are only shown to people). */
static void
copy_trunc(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
note_tempfail(struct mp_dkim_ver *v, const char *name, const char *why)
{
	struct dnsfail *f;

	if (v == NULL || v->nfails >= MP_DKIM_MAX_VERIFY)
		return;
	f = &v->fails[v->nfails++];
	copy_trunc(f->name, sizeof(f->name), name);
	copy_trunc(f->why, sizeof(f->why), why != NULL ? why : "");
}

static int
dns_start(void *srv, int type, unsigned char *query, unsigned char *buf, size_t buflen,
	  void **qh)
{
	struct mp_dkim *d = srv;
	struct mp_dns_answer *ans = NULL;
	struct mp_err e;
	size_t len = 0;
	int rc;

	mp_err_clear(&e);
	d->q.status = DKIM_DNS_ERROR;
	d->q.bytes = 0;
	d->q.dnssec = DKIM_DNSSEC_UNKNOWN;
	*qh = &d->q;
	rc = mp_resolver_query(d->res, (const char *)query, (uint16_t)type, &ans, &e);
	if (rc < 0) {
		if (rc == MP_ENOMEM)
			note_error(d->cur, rc, e.msg);
		note_tempfail(d->cur, (const char *)query, e.msg);
		goto out;
	}
	if (ans->status == MP_DNS_TEMPFAIL) {
		note_tempfail(d->cur, (const char *)query, ans->why);
		goto out;
	}
	if (mp_dns_answer_to_wire(ans, (const char *)query, (uint16_t)type, buf, buflen,
				  &len) != 0) {
		note_tempfail(d->cur, (const char *)query, _("the answer is too large"));
		goto out;
	}
	d->q.status = DKIM_DNS_SUCCESS;
	d->q.bytes = len;
	d->q.dnssec = ans->secure ? DKIM_DNSSEC_SECURE : DKIM_DNSSEC_INSECURE;
out:
	mp_dns_answer_free(ans);
	return 0;
}

static int
dns_waitreply(void *srv, void *qh, struct timeval *tv, size_t *bytes, int *error,
	      int *dnssec)
{
	struct query *q = qh;

	(void)srv;
	(void)tv;
	if (bytes != NULL)
		*bytes = q->bytes;
	if (error != NULL)
		*error = 0;
	if (dnssec != NULL)
		*dnssec = q->dnssec;
	return q->status;
}

static int
dns_cancel(void *srv, void *qh)
{
	(void)srv;
	(void)qh;
	return 0;
}

/*
 * Runs before any key is fetched: caps the work one message can cause and keeps
 * names libopendkim cannot query (it aborts the whole message on them) out.
 */
static DKIM_CBSTAT
prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	int c;

	(void)dkim;
	for (c = 0; c < nsigs; c++) {
		const char *sel = (const char *)dkim_sig_getselector(sigs[c]);
		const char *dom = (const char *)dkim_sig_getdomain(sigs[c]);

		if (c >= MP_DKIM_MAX_VERIFY)
			dkim_sig_ignore(sigs[c]);
		else if (sel != NULL && dom != NULL && !valid_keyname(sel, dom))
			dkim_sig_ignore(sigs[c]);
	}
	return DKIM_CBSTAT_CONTINUE;
}

/* ---- RSA key decoding speed ---- */

static const int legacy_nids[] = { EVP_PKEY_RSA };

static int
legacy_pkey_meths(ENGINE *e, EVP_PKEY_METHOD **meth, const int **nids, int nid)
{
	(void)e;
	if (meth == NULL) {
		*nids = legacy_nids;
		return 1;
	}
	*meth = nid == EVP_PKEY_RSA ? (EVP_PKEY_METHOD *)EVP_PKEY_meth_find(EVP_PKEY_RSA) : NULL;
	return *meth != NULL;
}

/*
 * libopendkim decodes every key it fetches with d2i_PUBKEY_bio().  In OpenSSL 3.0 that
 * builds a provider decoder chain per call (about 88 us for an RSA-2048 key, more than
 * the signature check itself) unless an ENGINE is registered for the key type: then
 * OpenSSL takes its built-in rsaEncryption decoder (about 2 us).  This engine only
 * hands back OpenSSL's own RSA method, so keys and results are the same.  Keys other
 * than rsaEncryption (Ed25519 is loaded raw) are untouched.  Best effort: if it cannot
 * be registered, decoding is just slower.  Process-wide, once.
 */
static void
legacy_rsa_decoding(void)
{
	static bool done;
	ENGINE *e;

	if (done)
		return;
	done = true;
	if ((e = ENGINE_new()) == NULL)
		return;
	if (ENGINE_set_id(e, "mailproof-rsa-decode") == 1 &&
	    ENGINE_set_name(e, "OpenSSL RSA through the built-in decoder") == 1 &&
	    ENGINE_set_pkey_meths(e, legacy_pkey_meths) == 1)
		(void)ENGINE_set_default_pkey_meths(e); /* takes its own reference */
	ENGINE_free(e);
}

/* ---- verifier ---- */

int
mp_dkim_new(struct mp_dkim **out, struct mp_resolver *res, struct mp_err *err)
{
	struct mp_dkim *d = NULL;
	int rc = 0;

	*out = NULL;
	if (res == NULL) {
		rc = mp_err_set(err, MP_EINVAL, "DKIM verifier needs a resolver");
		goto out;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	d->res = res;
	legacy_rsa_decoding();
	if ((d->lib = dkim_init(NULL, NULL)) == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("cannot initialise libopendkim"));
		goto out;
	}
	/* Our hooks, and no res_init()/res_nclose() on our handle. */
	(void)dkim_dns_set_query_service(d->lib, d);
	dkim_dns_set_query_start(d->lib, dns_start);
	dkim_dns_set_query_waitreply(d->lib, dns_waitreply);
	dkim_dns_set_query_cancel(d->lib, dns_cancel);
	dkim_dns_set_init(d->lib, NULL);
	dkim_dns_set_close(d->lib, NULL);
	if (dkim_set_prescreen(d->lib, prescreen) != DKIM_STAT_OK) {
		rc = mp_err_set(err, MP_EINVAL, "cannot set the libopendkim prescreen hook");
		goto out;
	}
	*out = d;
	d = NULL;
out:
	mp_dkim_free(d);
	return rc;
}

void
mp_dkim_free(struct mp_dkim *d)
{
	if (d == NULL)
		return;
	if (d->lib != NULL)
		dkim_close(d->lib);
	free(d);
}

int
mp_dkim_begin(struct mp_dkim *d, struct mp_dkim_ver **out, struct mp_err *err)
{
	struct mp_dkim_ver *v = NULL;
	DKIM_STAT st = DKIM_STAT_OK;
	int rc = 0;

	*out = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	v->d = d;
	v->dkim = dkim_verify(d->lib, (const unsigned char *)"mailproof", NULL, &st);
	if (v->dkim == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("libopendkim: cannot start a verification (%s)"),
				dkim_getresultstr(st));
		goto out;
	}
	*out = v;
	v = NULL;
out:
	mp_dkim_ver_free(v);
	return rc;
}

void
mp_dkim_ver_free(struct mp_dkim_ver *v)
{
	size_t i;

	if (v == NULL)
		return;
	if (v->dkim != NULL)
		dkim_free(v->dkim);
	for (i = 0; i < v->nfields; i++)
		field_dispose(&v->fields[i]);
	free(v->fields);
	free(v->msgproblem);
	free(v);
}

static int
add_field(struct mp_dkim_ver *v, const char *val, size_t n)
{
	struct field *f;
	int rc = 0;

	if (v->nfields >= MP_DKIM_MAX_FIELDS) {
		rc = MP_ETOOBIG;
		note_error(v, rc, _("more than 256 DKIM-Signature header fields"));
		goto out;
	}
	if (v->nfields == v->capfields) {
		size_t cap = v->capfields == 0 ? 4 : v->capfields * 2;
		struct field *p = realloc(v->fields, cap * sizeof(*p));

		if (p == NULL) {
			rc = MP_ENOMEM;
			note_error(v, rc, _("out of memory"));
			goto out;
		}
		v->fields = p;
		v->capfields = cap;
	}
	f = &v->fields[v->nfields++];
	memset(f, 0, sizeof(*f));
	if (n > MP_DKIM_FIELD_MAX)
		f->toolong = true;
	else if ((rc = parse_tags(f, val, n)) != 0)
		note_error(v, rc, _("out of memory"));
out:
	return rc;
}

int
mp_dkim_header(struct mp_dkim_ver *v, const char *field, size_t len)
{
	const char *val;
	size_t valn;
	bool sig;
	DKIM_STAT st;
	int rc = 0;

	if (v->state != V_HEADER) {
		note_error(v, MP_EINVAL, "DKIM: header field after the end of the header");
		rc = MP_EINVAL;
		goto out;
	}
	if (len == 0) /* libopendkim asserts on empty fields */
		goto out;
	sig = is_sigfield(field, len, &val, &valn);
	if (sig && (rc = add_field(v, val, valn)) != 0)
		goto out;
	/* libopendkim copies the field; it does not write to it. */
	st = dkim_header(v->dkim, (u_char *)(uintptr_t)field, len);
	if (st == DKIM_STAT_NORESOURCE || st == DKIM_STAT_INTERNAL) {
		note_error(v, MP_ENOMEM, _("libopendkim: out of memory"));
		rc = MP_ENOMEM;
		goto out;
	}
	/* A malformed field is skipped by libopendkim; a malformed signature is noted. */
	if (st != DKIM_STAT_OK && sig) {
		struct field *f = &v->fields[v->nfields - 1];
		const char *e = dkim_geterror(v->dkim);

		free(f->libproblem);
		f->libproblem = text("%s", e != NULL && *e != '\0' ? e : _("syntax error"));
		if (f->libproblem == NULL) {
			note_error(v, MP_ENOMEM, _("out of memory"));
			rc = MP_ENOMEM;
		}
	}
out:
	return rc;
}

int
mp_dkim_eoh(struct mp_dkim_ver *v)
{
	DKIM_STAT st;
	const char *e;
	int rc = 0;

	if (v->state != V_HEADER) {
		note_error(v, MP_EINVAL, "DKIM: end of header given twice");
		rc = MP_EINVAL;
		goto out;
	}
	if (v->nfields == 0) {
		/* Unsigned: nothing to verify, and no body to hash. */
		v->state = V_SKIP;
		goto out;
	}
	v->d->cur = v;
	st = dkim_eoh(v->dkim);
	v->d->cur = NULL;
	e = dkim_geterror(v->dkim);
	switch (st) {
	case DKIM_STAT_OK:
		v->state = V_BODY;
		break;
	case DKIM_STAT_NOSIG:
		/* every signature was refused or ignored; eom must not be called */
		v->state = V_SKIP;
		break;
	case DKIM_STAT_SYNTAX:
		/* RFC 6376 section 6.1.1: e.g. no From field to check h= against */
		v->state = V_SKIP;
		v->msgresult = "permerror";
		v->msgproblem = text(_("the message header cannot be verified: %s"),
				     e != NULL && *e != '\0' ? e : _("syntax error"));
		break;
	default:
		v->state = V_SKIP;
		v->msgresult = "temperror";
		v->msgproblem = text(_("DKIM verification stopped: %s"),
				     e != NULL && *e != '\0' ? e : dkim_getresultstr(st));
		break;
	}
	if (v->msgresult != NULL && v->msgproblem == NULL) {
		note_error(v, MP_ENOMEM, _("out of memory"));
		rc = MP_ENOMEM;
	}
out:
	return rc;
}

int
mp_dkim_body(struct mp_dkim_ver *v, const char *chunk, size_t len)
{
	DKIM_STAT st;
	int rc = 0;

	if (v->state == V_HEADER || v->state == V_DONE) {
		note_error(v, MP_EINVAL, "DKIM: body data outside the body");
		rc = MP_EINVAL;
		goto out;
	}
	if (v->state != V_BODY || len == 0)
		goto out;
	st = dkim_body(v->dkim, (u_char *)(uintptr_t)chunk, len);
	if (st == DKIM_STAT_NORESOURCE || st == DKIM_STAT_INTERNAL) {
		note_error(v, MP_ENOMEM, _("libopendkim: out of memory"));
		rc = MP_ENOMEM;
	}
out:
	return rc;
}

/* ---- results ---- */

static const char *
fail_why(const struct mp_dkim_ver *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->nfails; i++)
		if (mp_ieq_z(v->fails[i].name, name) && v->fails[i].why[0] != '\0')
			return v->fails[i].why;
	return NULL;
}

/* The date of a t=/x= value into when; false if it is no usable time. */
static bool
tag_time(const char *digits, char *when, size_t whenlen)
{
	uint64_t t = 0;
	const char *p = digits;
	struct tm tm;
	time_t tt;

	for (; p != NULL && *p >= '0' && *p <= '9'; p++) {
		if (t > (UINT64_MAX - 9) / 10)
			break;
		t = t * 10 + (uint64_t)(*p - '0');
	}
	tt = (time_t)t;
	return digits != NULL && *digits != '\0' && *p == '\0' && t <= (uint64_t)INT64_MAX &&
	       gmtime_r(&tt, &tm) != NULL &&
	       strftime(when, whenlen, "%Y-%m-%d %H:%M:%S UTC", &tm) != 0;
}

/* Maps one signature libopendkim processed to an RFC 8601 word and a sentence. */
static int
map_sig(const struct mp_dkim_ver *v, DKIM_SIGINFO *sig, size_t index,
	const struct field *f, struct mp_dkim_sig *out)
{
	unsigned flags = dkim_sig_getflags(sig);
	int bh = dkim_sig_getbh(sig);
	int se = dkim_sig_geterror(sig);
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	const char *lib = dkim_sig_geterrorstr(se);
	char key[SHOW_MAX + KEYNAME_MAX + 16];
	char when[64];
	const char *why;

	if (lib == NULL)
		lib = _("unknown error");
	snprintf(key, sizeof(key), "%.*s._domainkey.%.*s", SHOW_MAX,
		 sel != NULL ? sel : "?", KEYNAME_MAX, dom != NULL ? dom : "?");

	if ((flags & DKIM_SIGFLAG_IGNORE) != 0) {
		if (sel != NULL && dom != NULL && !valid_keyname(sel, dom)) {
			out->result = "permerror";
			out->error = text(_("malformed DKIM-Signature: s= and d= do not form a "
					    "valid DNS name (%s)"),
					  key);
		} else {
			out->result = "policy";
			out->error = text(_("not verified: only the first %d signatures of a "
					    "message are checked (this is number %zu)"),
					  MP_DKIM_MAX_VERIFY, index + 1);
		}
		goto out;
	}

	switch (se) {
	case DKIM_SIGERROR_OK:
	case DKIM_SIGERROR_UNKNOWN:
	case DKIM_SIGERROR_BADSIG:
		if ((flags & DKIM_SIGFLAG_PASSED) != 0 && bh == DKIM_SIGBH_MATCH &&
		    se != DKIM_SIGERROR_BADSIG) {
			out->result = "pass";
			out->error = NULL;
			goto out;
		}
		if ((flags & DKIM_SIGFLAG_PASSED) != 0 && bh == DKIM_SIGBH_MISMATCH) {
			out->result = "fail";
			out->error = text(_("body hash mismatch (the body was changed after "
					    "signing)"));
		} else if ((flags & DKIM_SIGFLAG_PROCESSED) != 0) {
			out->result = "fail";
			out->error = text(_("signature verification failed (a signed header was "
					    "changed, or the key in DNS is not the signing key)"));
		} else {
			out->result = "neutral";
			out->error = text(_("not verified (%s)"), lib);
		}
		break;
	case DKIM_SIGERROR_NOKEY:
		out->result = "permerror";
		out->error = text(_("no key for %s in DNS"), key);
		break;
	case DKIM_SIGERROR_KEYFAIL:
		why = fail_why(v, key);
		out->result = "temperror";
		out->error = text(_("DNS lookup for the key failed (temporary): %s%s%s"), key,
				  why != NULL ? ": " : "", why != NULL ? why : "");
		break;
	case DKIM_SIGERROR_KEYREVOKED:
		out->result = "permerror";
		out->error = text(_("key revoked (empty p= in %s)"), key);
		break;
	case DKIM_SIGERROR_MULTIREPLY:
		/* RFC 6376 section 3.6.2.2: one record per selector */
		out->result = "permerror";
		out->error = text(_("more than one TXT record at %s"), key);
		break;
	case DKIM_SIGERROR_KEYTOOSMALL:
		out->result = "policy";
		out->error =
		    text(_("key too short (%u bits; at least 1024 are needed)"), out->key_bits);
		break;
	case DKIM_SIGERROR_EXPIRED:
		out->result = "permerror";
		if (tag_time(f != NULL ? f->tag[T_X] : NULL, when, sizeof(when)))
			out->error = text(_("signature expired on %s"), when);
		else
			out->error = text("%s", _("signature expired"));
		break;
	case DKIM_SIGERROR_FUTURE:
		out->result = "permerror";
		if (tag_time(f != NULL ? f->tag[T_T] : NULL, when, sizeof(when)))
			out->error = text(_("signature dated in the future: t= is %s"), when);
		else
			out->error = text("%s", _("signature dated in the future:"));
		break;
	case DKIM_SIGERROR_INVALID_A:
	case DKIM_SIGERROR_MISSING_A:
		out->result = "permerror";
		out->error = text(_("unknown signing algorithm a=%.*s"), SHOW_MAX,
				  f != NULL && f->tag[T_A] != NULL ? f->tag[T_A] : "");
		break;
	case DKIM_SIGERROR_INVALID_HC:
	case DKIM_SIGERROR_INVALID_BC:
		out->result = "permerror";
		out->error = text(_("unknown canonicalization c=%.*s"), SHOW_MAX,
				  f != NULL && f->tag[T_C] != NULL ? f->tag[T_C] : "");
		break;
	case DKIM_SIGERROR_INVALID_H:
		out->result = "permerror";
		out->error = text(_("malformed DKIM-Signature: h= does not list From "
				    "(RFC 6376 section 5.4)"));
		break;
	case DKIM_SIGERROR_DOMAIN:
		out->result = "permerror";
		out->error = text(_("malformed DKIM-Signature: i= is not in the d= domain"));
		break;
	case DKIM_SIGERROR_SUBDOMAIN:
		out->result = "permerror";
		out->error = text(_("the key (t=s) forbids the subdomain in i="));
		break;
	case DKIM_SIGERROR_DNSSYNTAX:
	case DKIM_SIGERROR_KEYVERSION:
	case DKIM_SIGERROR_KEYUNKNOWNHASH:
	case DKIM_SIGERROR_KEYHASHMISMATCH:
	case DKIM_SIGERROR_NOTEMAILKEY:
	case DKIM_SIGERROR_KEYTYPEMISSING:
	case DKIM_SIGERROR_KEYTYPEUNKNOWN:
	case DKIM_SIGERROR_KEYDECODE:
		/* RFC 6376 section 6.1.2: a key record we cannot use is a PERMFAIL */
		out->result = "permerror";
		out->error = text(_("unusable key record at %s (%s)"), key, lib);
		break;
	default:
		out->result = "permerror";
		out->error = text(_("malformed DKIM-Signature: %s"), lib);
		break;
	}
out:
	/* only a pass comes without a sentence */
	return out->error != NULL || strcmp(out->result, "pass") == 0 ? 0 : MP_ENOMEM;
}

static char *
canon_text(const char *c)
{
	/* RFC 6376 section 3.5: c= defaults to simple/simple, a lone value is the header's */
	if (c == NULL || *c == '\0')
		return mp_strdup_z("simple/simple");
	if (strchr(c, '/') == NULL)
		return text("%.*s/simple", SHOW_MAX, c);
	return text("%.*s", 2 * SHOW_MAX, c);
}

static bool
same(const unsigned char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp((const char *)a, b) == 0;
}

/* Fills the fields this module parsed itself; libopendkim's values win when it has them. */
static int
fill_common(const struct field *f, DKIM_SIGINFO *sig, struct mp_dkim_sig *out)
{
	const char *d = f->tag[T_D], *s = f->tag[T_S];

	if (sig != NULL) {
		if (dkim_sig_getdomain(sig) != NULL)
			d = (const char *)dkim_sig_getdomain(sig);
		if (dkim_sig_getselector(sig) != NULL)
			s = (const char *)dkim_sig_getselector(sig);
	}
	out->domain = d != NULL && *d != '\0' ? mp_strdup_z(d) : NULL;
	out->selector = s != NULL && *s != '\0' ? mp_strdup_z(s) : NULL;
	out->algorithm = f->tag[T_A] != NULL && *f->tag[T_A] != '\0' ?
				 mp_strdup_z(f->tag[T_A]) : NULL;
	out->identity = f->tag[T_I] != NULL && *f->tag[T_I] != '\0' ?
				mp_strdup_z(f->tag[T_I]) : NULL;
	out->canon = canon_text(f->tag[T_C]);
	if ((d != NULL && *d != '\0' && out->domain == NULL) ||
	    (s != NULL && *s != '\0' && out->selector == NULL) ||
	    (f->tag[T_A] != NULL && *f->tag[T_A] != '\0' && out->algorithm == NULL) ||
	    (f->tag[T_I] != NULL && *f->tag[T_I] != '\0' && out->identity == NULL) ||
	    out->canon == NULL)
		return MP_ENOMEM;
	return 0;
}

static int
build(struct mp_dkim_ver *v, struct mp_dkim_sig *res)
{
	DKIM_SIGINFO **list = NULL;
	bool *used = NULL;
	int nlist = 0, j, rc = 0;
	size_t i;

	if (v->dkim != NULL && dkim_getsiglist(v->dkim, &list, &nlist) != DKIM_STAT_OK) {
		list = NULL;
		nlist = 0;
	}
	if (list == NULL || nlist < 0)
		nlist = 0;
	if (nlist > 0 && (used = calloc((size_t)nlist, sizeof(*used))) == NULL) {
		rc = MP_ENOMEM;
		goto out;
	}
	for (i = 0; i < v->nfields; i++) {
		const struct field *f = &v->fields[i];
		struct mp_dkim_sig *out = &res[i];
		DKIM_SIGINFO *sig = NULL;

		/*
		 * libopendkim keeps signatures in header order but drops those whose tag
		 * list it refuses; match by b= (and d=, s=), which only repeats when a
		 * field is duplicated, and then in order.
		 */
		for (j = 0; f->tag[T_B] != NULL && !f->toolong && j < nlist; j++) {
			if (used[j])
				continue;
			if (same(dkim_sig_gettagvalue(list[j], 0, (u_char *)"b"), f->tag[T_B]) &&
			    (f->tag[T_D] == NULL ||
			     same(dkim_sig_gettagvalue(list[j], 0, (u_char *)"d"), f->tag[T_D])) &&
			    (f->tag[T_S] == NULL ||
			     same(dkim_sig_gettagvalue(list[j], 0, (u_char *)"s"), f->tag[T_S]))) {
				used[j] = true;
				sig = list[j];
				break;
			}
		}
		if ((rc = fill_common(f, sig, out)) != 0)
			goto out;
		if (sig != NULL) {
			unsigned bits = 0;
			dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
			unsigned flags = dkim_sig_getflags(sig);

			int se = dkim_sig_geterror(sig);

			if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
				out->key_bits = bits;
			/*
			 * libopendkim says 0 for Ed25519 (RFC 8463: 256-bit keys); count
			 * it only when the key was used for a signature check.
			 */
			if (out->key_bits == 0 && (flags & DKIM_SIGFLAG_PROCESSED) != 0 &&
			    (se == DKIM_SIGERROR_OK || se == DKIM_SIGERROR_UNKNOWN ||
			     se == DKIM_SIGERROR_BADSIG) &&
			    dkim_sig_getsignalg(sig, &alg) == DKIM_STAT_OK &&
			    alg == DKIM_SIGN_ED25519SHA256)
				out->key_bits = 256;
			out->testing = (flags & DKIM_SIGFLAG_TESTKEY) != 0;
			rc = map_sig(v, sig, (size_t)j, f, out);
		} else if (v->msgresult != NULL && f->problem == NULL && f->libproblem == NULL &&
			   !f->toolong) {
			out->result = v->msgresult;
			out->error = mp_strdup_z(v->msgproblem);
			rc = out->error != NULL ? 0 : MP_ENOMEM;
		} else {
			out->result = "permerror";
			out->error = orphan_text(f);
			rc = out->error != NULL ? 0 : MP_ENOMEM;
		}
		if (rc != 0)
			goto out;
	}
out:
	free(used);
	return rc;
}

int
mp_dkim_end(struct mp_dkim_ver *v, struct mp_dkim_sig **sigs, size_t *nsigs,
	    struct mp_err *err)
{
	struct mp_dkim_sig *res = NULL;
	_Bool testkey = 0;
	int rc = 0;

	*sigs = NULL;
	*nsigs = 0;
	if (v->state == V_HEADER)
		(void)mp_dkim_eoh(v);
	if (v->state == V_BODY) {
		v->d->cur = v;
		/* The per-signature outcome comes from the siglist, not from this status. */
		(void)dkim_eom(v->dkim, &testkey);
		v->d->cur = NULL;
	}
	v->state = V_DONE;
	if (v->err.code != MP_OK) {
		rc = mp_err_set(err, v->err.code, "%s", v->err.msg);
		goto out;
	}
	if (v->nfields == 0)
		goto out;
	if ((res = calloc(v->nfields, sizeof(*res))) == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	if ((rc = build(v, res)) != 0) {
		rc = mp_err_set(err, rc, _("out of memory"));
		goto out;
	}
	*sigs = res;
	*nsigs = v->nfields;
	res = NULL;
out:
	mp_dkim_sigs_free(res, v->nfields);
	return rc;
}

void
mp_dkim_sigs_free(struct mp_dkim_sig *sigs, size_t n)
{
	size_t i;

	if (sigs == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(sigs[i].domain);
		free(sigs[i].selector);
		free(sigs[i].algorithm);
		free(sigs[i].error);
		free(sigs[i].identity);
		free(sigs[i].canon);
	}
	free(sigs);
}
