/* dmarc.c - see dmarc.h. */
#include "dmarc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>
#include <libpsl.h>

#include "buf.h"
#include "i18n.h"
#include "util.h"

#define DOMAIN_MAX 253 /* RFC 1035 section 2.3.4, without the trailing dot */
#define LABEL_MAX 63
#define NAME_BUF_MAX 512  /* "_dmarc." + a domain, with room */
#define TEXT_BUF_MAX 2048 /* plain-words messages */
#define WALK_MAX 8	  /* RFC 9989 section 4.10: at most eight queries */
#define QUOTE_MAX 40	  /* bytes of a hostile value repeated in a message */

struct mp_dmarc {
	psl_ctx_t *psl;
	bool psl_owned; /* psl_latest() result, as opposed to the static built-in list */
	struct mp_resolver *res;
};

/* Outcome of asking for the DMARC record at one name. */
enum lookup_status {
	LOOKUP_NONE = 0, /* NXDOMAIN, NODATA, or no TXT record starting with v=DMARC1 */
	LOOKUP_FOUND,	 /* exactly one */
	LOOKUP_MULTIPLE, /* two or more: RFC 7489 section 6.6.3 step 5 */
	LOOKUP_TEMPFAIL,
};

/* ---------------------------------------------------------------- domain names */

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Checks the label structure of a lower-case ASCII name: 1..63 octets per label,
 * at most 253 in all (RFC 1035 section 2.3.4).  Letters, digits, '-' and '_' only:
 * anything else cannot be a mail domain and is hostile input.
 */
static bool
domain_valid(const char *s)
{
	size_t n = strlen(s), lab = 0, i;

	if (n == 0 || n > DOMAIN_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (lab == 0)
				return false;
			lab = 0;
			continue;
		}
		if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
			return false;
		if (++lab > LABEL_MAX)
			return false;
	}
	return lab > 0;
}

/*
 * Canonical form of a domain: one trailing dot removed, U-labels converted to
 * A-labels (IDNA2008 with UTS #46 mapping, as RFC 5890 lookups do), lower case.
 * Returns MP_OK, MP_EINVAL for something that is not a domain name, or MP_ENOMEM.
 */
static int
dom_canon(const char *in, char **out)
{
	char *tmp = NULL, *ascii = NULL;
	bool nonascii = false;
	size_t n, i;
	int rc = MP_EINVAL;

	*out = NULL;
	if (in == NULL)
		goto out;
	n = strlen(in);
	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > 4 * DOMAIN_MAX)
		goto out;
	if ((tmp = mp_strndup(in, n)) == NULL) {
		rc = MP_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)tmp[i] >= 0x80)
			nonascii = true;
	if (nonascii) {
		char *idn = NULL;

		if (idn2_to_ascii_8z(tmp, &idn, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK)
			goto out;
		ascii = mp_strdup_z(idn);
		idn2_free(idn);
		if (ascii == NULL) {
			rc = MP_ENOMEM;
			goto out;
		}
	} else {
		ascii = tmp;
		tmp = NULL;
	}
	mp_lower(ascii);
	if (!domain_valid(ascii))
		goto out;
	*out = ascii;
	ascii = NULL;
	rc = MP_OK;
out:
	free(tmp);
	free(ascii);
	return rc;
}

/* Organizational domain of a canonical name (RFC 7489 section 3.2); MP_ENOTFOUND for a
 * public suffix. */
static int
org_of_canon(struct mp_dmarc *d, const char *canon, char **out)
{
	const char *reg;

	*out = NULL;
	/* libpsl wants lower case without a trailing dot: dom_canon guarantees both. */
	reg = psl_registrable_domain(d->psl, canon);
	if (reg == NULL)
		return MP_ENOTFOUND;
	if ((*out = mp_strdup_z(reg)) == NULL)
		return MP_ENOMEM;
	return MP_OK;
}

char *
mp_dmarc_org_domain(struct mp_dmarc *d, const char *domain)
{
	char *canon = NULL, *org = NULL;

	if (d == NULL || dom_canon(domain, &canon) != MP_OK)
		goto out;
	(void)org_of_canon(d, canon, &org);
out:
	free(canon);
	return org;
}

static bool
aligned_canon(struct mp_dmarc *d, const char *a, const char *b, bool strict)
{
	char *oa = NULL, *ob = NULL;
	bool ok;

	/* Relaxed mode includes strict (RFC 7489 section 3.1.1), also for names whose
	 * organizational domain is undefined because they are public suffixes. */
	ok = strcmp(a, b) == 0;
	if (ok || strict)
		goto out;
	if (org_of_canon(d, a, &oa) != MP_OK || org_of_canon(d, b, &ob) != MP_OK)
		goto out;
	ok = strcmp(oa, ob) == 0;
out:
	free(oa);
	free(ob);
	return ok;
}

bool
mp_dmarc_aligned(struct mp_dmarc *d, const char *a, const char *b, bool strict)
{
	char *ca = NULL, *cb = NULL;
	bool ok = false;

	if (d == NULL || dom_canon(a, &ca) != MP_OK || dom_canon(b, &cb) != MP_OK)
		goto out;
	ok = aligned_canon(d, ca, cb, strict);
out:
	free(ca);
	free(cb);
	return ok;
}

/* ---------------------------------------------------------------- context */

int
mp_dmarc_new(struct mp_dmarc **out, struct mp_resolver *res, struct mp_err *err)
{
	struct mp_dmarc *d = NULL;
	int rc;

	*out = NULL;
	if (res == NULL) {
		rc = mp_err_set(err, MP_EINVAL, "dmarc: no resolver");
		goto out;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("dmarc: out of memory"));
		goto out;
	}
	d->res = res;
	/* The newest of the built-in list and the system's (publicsuffix package). */
	d->psl = psl_latest(NULL);
	d->psl_owned = d->psl != NULL;
	if (d->psl == NULL)
		d->psl = (psl_ctx_t *)psl_builtin();
	if (d->psl == NULL) {
		rc = mp_err_set(err, MP_EIO, _("dmarc: no public suffix list available"));
		goto out;
	}
	*out = d;
	d = NULL;
	rc = MP_OK;
out:
	mp_dmarc_free(d);
	return rc;
}

void
mp_dmarc_free(struct mp_dmarc *d)
{
	if (d == NULL)
		return;
	if (d->psl_owned)
		psl_free(d->psl);
	free(d);
}

/* ---------------------------------------------------------------- record parser */

/* Copies at most QUOTE_MAX bytes of untrusted text for a message, '?' for anything
 * not printable ASCII, so a record can never smuggle control characters out. */
static void
quote(char *dst, size_t dstsz, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && i < QUOTE_MAX && o + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (i < n && o + 4 < dstsz) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

static bool
parse_policy(const char *v, size_t n, enum mp_dmarc_policy *p)
{
	if (mp_ieq(v, n, "none"))
		*p = MP_DMARC_POLICY_NONE;
	else if (mp_ieq(v, n, "quarantine"))
		*p = MP_DMARC_POLICY_QUARANTINE;
	else if (mp_ieq(v, n, "reject"))
		*p = MP_DMARC_POLICY_REJECT;
	else
		return false;
	return true;
}

/* 1*DIGIT no greater than max; leading zeros allowed, digits bounded (RFC 7489 6.4). */
static bool
parse_uint(const char *v, size_t n, uint32_t max, uint32_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 32)
		return false;
	for (i = 0; i < n; i++) {
		if (!is_digit(v[i]))
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
		if (x > max)
			return false;
	}
	*out = (uint32_t)x;
	return true;
}

/* A colon-separated list whose every element satisfies ok() (fo=, rf=). */
static bool
parse_colon_list(const char *v, size_t n, bool (*ok)(const char *, size_t))
{
	size_t start = 0, i;

	for (i = 0; i <= n; i++) {
		if (i == n || v[i] == ':') {
			size_t len = i - start;
			const char *e = mp_trim(v + start, &len);

			if (len == 0 || !ok(e, len))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* fo: "0" / "1" / "d" / "s" (RFC 7489 section 6.3). */
static bool
fo_ok(const char *v, size_t n)
{
	return n == 1 && (v[0] == '0' || v[0] == '1' || v[0] == 'd' || v[0] == 'D' || v[0] == 's' ||
			  v[0] == 'S');
}

/* rf: Keyword = ALPHA *(ALPHA / DIGIT) (RFC 7489 section 6.4). */
static bool
keyword_ok(const char *v, size_t n)
{
	size_t i;

	if (n == 0 || !is_alpha(v[0]))
		return false;
	for (i = 1; i < n; i++)
		if (!is_alpha(v[i]) && !is_digit(v[i]))
			return false;
	return true;
}

/*
 * dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ] (RFC 7489 section 6.4).
 * Checked: a scheme (RFC 3986 section 3.1) followed by something, no whitespace.
 */
static bool
uri_ok(const char *v, size_t n)
{
	size_t i;

	if (n < 3 || !is_alpha(v[0]))
		return false;
	for (i = 1; i < n && v[i] != ':'; i++)
		if (!is_alpha(v[i]) && !is_digit(v[i]) && v[i] != '+' && v[i] != '-' && v[i] != '.')
			return false;
	if (i >= n - 1)
		return false;
	for (; i < n; i++)
		if (is_wsp(v[i]) || (unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f)
			return false;
	return true;
}

/* rua=/ruf=: a comma-separated list of dmarc-uri. */
static int
parse_uri_list(const char *tag, const char *v, size_t n, char ***list, size_t *count,
	       struct mp_err *err)
{
	size_t start = 0, i;
	char q[64];

	for (i = 0; i <= n; i++) {
		size_t len;
		const char *e;
		char **grown;

		if (i < n && v[i] != ',')
			continue;
		len = i - start;
		e = mp_trim(v + start, &len);
		start = i + 1;
		if (!uri_ok(e, len)) {
			quote(q, sizeof(q), e, len);
			return mp_err_set(err, MP_EPARSE,
					  _("%s= holds \"%s\", which is not a URI "
					    "(e.g. mailto:dmarc@example.org)"),
					  tag, q);
		}
		if (*count >= MP_DMARC_URI_MAX)
			return mp_err_set(err, MP_EPARSE, _("%s= lists more than %d URIs"), tag,
					  MP_DMARC_URI_MAX);
		grown = realloc(*list, (*count + 1) * sizeof(**list));
		if (grown == NULL)
			return mp_err_set(err, MP_ENOMEM, _("dmarc: out of memory"));
		*list = grown;
		if (((*list)[*count] = mp_strndup(e, len)) == NULL)
			return mp_err_set(err, MP_ENOMEM, _("dmarc: out of memory"));
		(*count)++;
	}
	return MP_OK;
}

/* The tags we know, as bits for the repeated-tag check. */
enum {
	TAG_V = 1 << 0,
	TAG_P = 1 << 1,
	TAG_SP = 1 << 2,
	TAG_NP = 1 << 3,
	TAG_ADKIM = 1 << 4,
	TAG_ASPF = 1 << 5,
	TAG_PCT = 1 << 6,
	TAG_RI = 1 << 7,
	TAG_RF = 1 << 8,
	TAG_FO = 1 << 9,
	TAG_RUA = 1 << 10,
	TAG_RUF = 1 << 11,
	TAG_PSD = 1 << 12,
	TAG_T = 1 << 13,
};

static const struct {
	const char *name;
	unsigned bit;
} known_tags[] = {
    {"v", TAG_V},	{"p", TAG_P},	  {"sp", TAG_SP},   {"np", TAG_NP}, {"adkim", TAG_ADKIM},
    {"aspf", TAG_ASPF}, {"pct", TAG_PCT}, {"ri", TAG_RI},   {"rf", TAG_RF}, {"fo", TAG_FO},
    {"rua", TAG_RUA},	{"ruf", TAG_RUF}, {"psd", TAG_PSD}, {"t", TAG_T},
};

/* One tag=value of a record other than v=; the value is trimmed. */
static int
parse_tag(struct mp_dmarc_record *r, unsigned bit, const char *tag, const char *v, size_t n,
	  struct mp_err *err)
{
	char q[64];
	uint32_t u;
	bool ok = true;

	switch (bit) {
	case TAG_P:
		ok = parse_policy(v, n, &r->p);
		break;
	case TAG_SP:
		ok = parse_policy(v, n, &r->sp);
		break;
	case TAG_NP:
		ok = parse_policy(v, n, &r->np);
		break;
	case TAG_ADKIM:
	case TAG_ASPF:
		ok = n == 1 && (v[0] == 'r' || v[0] == 'R' || v[0] == 's' || v[0] == 'S');
		if (ok && bit == TAG_ADKIM)
			r->adkim_strict = v[0] == 's' || v[0] == 'S';
		else if (ok)
			r->aspf_strict = v[0] == 's' || v[0] == 'S';
		break;
	case TAG_PCT:
		ok = parse_uint(v, n, 100, &u);
		if (ok)
			r->pct = (int)u;
		break;
	case TAG_RI:
		ok = parse_uint(v, n, UINT32_MAX, &u);
		if (ok)
			r->ri = u;
		break;
	case TAG_RF:
		ok = parse_colon_list(v, n, keyword_ok);
		break;
	case TAG_FO:
		ok = parse_colon_list(v, n, fo_ok);
		if (ok && (r->fo = mp_strndup(v, n)) == NULL)
			return mp_err_set(err, MP_ENOMEM, _("dmarc: out of memory"));
		break;
	case TAG_RUA:
		return parse_uri_list(tag, v, n, &r->rua, &r->nrua, err);
	case TAG_RUF:
		return parse_uri_list(tag, v, n, &r->ruf, &r->nruf, err);
	case TAG_PSD:
		if (mp_ieq(v, n, "y"))
			r->psd = MP_DMARC_PSD_Y;
		else if (mp_ieq(v, n, "n"))
			r->psd = MP_DMARC_PSD_N;
		else if (mp_ieq(v, n, "u"))
			r->psd = MP_DMARC_PSD_U;
		else
			ok = false;
		break;
	case TAG_T:
		ok = mp_ieq(v, n, "y") || mp_ieq(v, n, "n");
		r->testing = ok && mp_ieq(v, n, "y");
		break;
	default:
		break;
	}
	if (!ok) {
		quote(q, sizeof(q), v, n);
		return mp_err_set(err, MP_EPARSE, _("%s= has the invalid value \"%s\""), tag, q);
	}
	return MP_OK;
}

int
mp_dmarc_record_parse(const char *txt, size_t len, struct mp_dmarc_record *out, struct mp_err *err)
{
	unsigned seen = 0;
	size_t start = 0, i, k;
	bool first = true;
	char q[64], tagz[16];
	int rc = MP_OK;

	memset(out, 0, sizeof(*out));
	out->pct = 100;
	out->ri = 86400;
	if (txt == NULL) {
		rc = mp_err_set(err, MP_EINVAL, "dmarc: no record");
		goto out;
	}
	if (len > MP_DMARC_RECORD_MAX) {
		rc = mp_err_set(err, MP_ETOOBIG, _("the record is longer than %d bytes"),
				MP_DMARC_RECORD_MAX);
		goto out;
	}
	if (memchr(txt, '\0', len) != NULL) {
		rc = mp_err_set(err, MP_EPARSE, _("the record contains a NUL byte"));
		goto out;
	}
	/* tag-list of RFC 7489 section 6.4: tag *WSP "=" *WSP value, separated by
	 * *WSP ";" *WSP; a trailing ";" and empty elements are tolerated. */
	for (i = 0; i <= len; i++) {
		size_t slen, tlen, vlen;
		const char *seg, *eq, *tag, *val;
		unsigned bit = 0;

		if (i < len && txt[i] != ';')
			continue;
		slen = i - start;
		seg = mp_trim(txt + start, &slen);
		start = i + 1;
		if (slen == 0) {
			if (first) {
				rc = mp_err_set(err, MP_EPARSE,
						_("the record must start with v=DMARC1"));
				goto out;
			}
			continue;
		}
		eq = memchr(seg, '=', slen);
		if (eq == NULL) {
			quote(q, sizeof(q), seg, slen);
			rc = mp_err_set(err, MP_EPARSE, _("\"%s\" is not a tag=value pair"), q);
			goto out;
		}
		tlen = (size_t)(eq - seg);
		tag = mp_trim(seg, &tlen);
		vlen = slen - (size_t)(eq - seg) - 1;
		val = mp_trim(eq + 1, &vlen);
		if (tlen == 0 || !is_alpha(tag[0])) {
			quote(q, sizeof(q), seg, slen);
			rc = mp_err_set(err, MP_EPARSE, _("\"%s\" has no valid tag name"), q);
			goto out;
		}
		for (k = 0; k < tlen; k++) {
			if (!is_alpha(tag[k]) && !is_digit(tag[k]) && tag[k] != '_') {
				quote(q, sizeof(q), tag, tlen);
				rc = mp_err_set(err, MP_EPARSE, _("\"%s\" is not a valid tag name"),
						q);
				goto out;
			}
		}
		if (first) {
			/* dmarc-version = "v" *WSP "=" *WSP %x44 %x4d %x41 %x52 %x43 %x31 */
			if (!mp_ieq(tag, tlen, "v") || !mp_ieq(val, vlen, "DMARC1")) {
				rc = mp_err_set(err, MP_EPARSE,
						_("the record must start with v=DMARC1"));
				goto out;
			}
			first = false;
			seen |= TAG_V;
			continue;
		}
		for (k = 0; k < sizeof(known_tags) / sizeof(known_tags[0]); k++)
			if (mp_ieq(tag, tlen, known_tags[k].name))
				bit = known_tags[k].bit;
		if (bit == 0)
			continue; /* unknown tags MUST be ignored (RFC 7489 section 6.3) */
		quote(tagz, sizeof(tagz), tag, tlen);
		mp_lower(tagz);
		if (seen & bit) {
			rc = mp_err_set(err, MP_EPARSE, _("the tag %s= appears more than once"),
					tagz);
			goto out;
		}
		seen |= bit;
		if ((rc = parse_tag(out, bit, tagz, val, vlen, err)) != MP_OK)
			goto out;
	}
	if (first) {
		rc = mp_err_set(err, MP_EPARSE, _("the record must start with v=DMARC1"));
		goto out;
	}
	if (!(seen & TAG_P)) {
		rc = mp_err_set(err, MP_EPARSE,
				_("the record has no p= tag (p=none, quarantine or reject)"));
		goto out;
	}
	rc = MP_OK;
out:
	if (rc != MP_OK)
		mp_dmarc_record_dispose(out);
	return rc;
}

void
mp_dmarc_record_dispose(struct mp_dmarc_record *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nrua; i++)
		free(r->rua[i]);
	for (i = 0; i < r->nruf; i++)
		free(r->ruf[i]);
	free(r->rua);
	free(r->ruf);
	free(r->fo);
	memset(r, 0, sizeof(*r));
	r->pct = 100;
	r->ri = 86400;
}

const char *
mp_dmarc_policy_name(enum mp_dmarc_policy p)
{
	switch (p) {
	case MP_DMARC_POLICY_NONE:
		return "none";
	case MP_DMARC_POLICY_QUARANTINE:
		return "quarantine";
	case MP_DMARC_POLICY_REJECT:
		return "reject";
	default:
		return NULL;
	}
}

/* ---------------------------------------------------------------- discovery */

/* "_dmarc.<domain>", malloc'd (RFC 7489 section 6.1). */
static int
dmarc_name(const char *domain, char **out, struct mp_err *err)
{
	struct mp_buf b;
	int rc;

	*out = NULL;
	mp_buf_init(&b, NAME_BUF_MAX);
	rc = mp_buf_printf(&b, "_dmarc.%s", domain);
	if (rc == MP_OK && (*out = mp_buf_detach(&b, NULL)) == NULL)
		rc = MP_ENOMEM;
	if (rc < 0)
		rc = mp_err_set(err, rc, _("dmarc: cannot build the name _dmarc.<domain>"));
	mp_buf_dispose(&b);
	return rc;
}

static int
set_str(char **dst, const char *s, struct mp_err *err)
{
	free(*dst);
	if ((*dst = mp_strdup_z(s)) == NULL)
		return mp_err_set(err, MP_ENOMEM, _("dmarc: out of memory"));
	return MP_OK;
}

/* Does a TXT record start with the DMARC version tag (RFC 7489 section 6.6.3 step 4)? */
static bool
is_dmarc_txt(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || (s[0] != 'v' && s[0] != 'V'))
		return false;
	for (i = 1; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if (i >= n || s[i] != '=')
		return false;
	for (i++; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if (n - i < 6 || !mp_ieq(s + i, 6, "DMARC1"))
		return false;
	i += 6;
	return i == n || s[i] == ';' || s[i] == ' ' || s[i] == '\t';
}

/* Asks for the TXT records at _dmarc.<domain>; *txt gets the one DMARC record. */
static int
lookup_dmarc(struct mp_dmarc *d, const char *domain, enum lookup_status *st, char **txt,
	     struct mp_err *err)
{
	struct mp_dns_answer *ans = NULL;
	const struct mp_dns_rr *hit = NULL;
	char *name = NULL;
	size_t i, count = 0;
	int rc;

	*st = LOOKUP_NONE;
	*txt = NULL;
	if ((rc = dmarc_name(domain, &name, err)) < 0)
		goto out;
	if ((rc = mp_resolver_query(d->res, name, MP_DNS_TXT, &ans, err)) < 0)
		goto out;
	if (ans->status == MP_DNS_TEMPFAIL) {
		*st = LOOKUP_TEMPFAIL;
		rc = MP_OK;
		goto out;
	}
	if (ans->status == MP_DNS_OK) {
		for (i = 0; i < ans->count; i++) {
			const struct mp_dns_rr *rr = &ans->rr[i];

			if (rr->type != MP_DNS_TXT || rr->data == NULL ||
			    !is_dmarc_txt((const char *)rr->data, rr->len))
				continue;
			hit = rr;
			count++;
		}
	}
	if (count > 1) {
		*st = LOOKUP_MULTIPLE;
	} else if (count == 1) {
		if ((*txt = mp_strndup((const char *)hit->data, hit->len)) == NULL) {
			rc = mp_err_set(err, MP_ENOMEM, _("dmarc: out of memory"));
			goto out;
		}
		*st = LOOKUP_FOUND;
	}
	rc = MP_OK;
out:
	mp_dns_answer_free(ans);
	free(name);
	return rc;
}

/*
 * RFC 9989 (its definition of Non-existent Domains): such a domain has NXDOMAIN or
 * NODATA for A, AAAA and MX alike.  A failed lookup counts as existing, so np= is then
 * not applied.
 */
static int
domain_missing(struct mp_dmarc *d, const char *domain, bool *missing, struct mp_err *err)
{
	static const uint16_t types[] = {MP_DNS_A, MP_DNS_AAAA, MP_DNS_MX};
	struct mp_dns_answer *ans = NULL;
	size_t i;
	int rc = MP_OK;

	*missing = true;
	for (i = 0; i < sizeof(types) / sizeof(types[0]) && *missing; i++) {
		if ((rc = mp_resolver_query(d->res, domain, types[i], &ans, err)) < 0)
			goto out;
		if (ans->status == MP_DNS_OK || ans->status == MP_DNS_TEMPFAIL)
			*missing = false;
		mp_dns_answer_free(ans);
		ans = NULL;
	}
out:
	mp_dns_answer_free(ans);
	return rc;
}

/* Name of the suffix of canon that keeps its `keep` rightmost labels. */
static const char *
keep_labels(const char *canon, size_t nlabels, size_t keep)
{
	const char *p = canon;
	size_t drop = nlabels - keep;

	while (drop > 0 && (p = strchr(p, '.')) != NULL) {
		p++;
		drop--;
	}
	return p != NULL ? p : canon;
}

static size_t
count_labels(const char *canon)
{
	size_t n = 1;

	for (; *canon != '\0'; canon++)
		if (*canon == '.')
			n++;
	return n;
}

struct walk_hit {
	size_t labels; /* of the name where the record was found */
	enum mp_dmarc_psd psd;
};

/*
 * The DNS tree walk of RFC 9989 section 4.10.  Queries _dmarc.<from>; then, if the
 * name has eight or more labels, jumps to its last seven, else drops the leftmost
 * label; and so on down to the top-level domain, at most eight queries.  Names with
 * several v=DMARC1 records or an invalid one are discarded (section 4.10 step 7); a
 * valid record with psd=y or psd=n ends the walk.
 *   Organizational domain (section 4.10.2): the name of a psd=n record; one label
 *   below a psd=y record (the From domain itself when the PSD record is its own);
 *   else the name of the record with the fewest labels.
 *   Policy record (section 4.10.1): the From domain's own; else the one at the
 *   organizational domain; else the last one found (the PSD's).
 */
static int
tree_walk(struct mp_dmarc *d, const char *from, struct mp_dmarc_eval *e, struct mp_err *err)
{
	struct walk_hit hits[WALK_MAX];
	struct mp_dmarc_record rec;
	struct mp_err perr;
	size_t nhits = 0, total, x, org_labels = 0, pol_labels = 0, i;
	bool stop = false;
	int rc = MP_OK;

	memset(&rec, 0, sizeof(rec));
	total = count_labels(from);
	x = total;
	while (x >= 1 && !stop) {
		enum lookup_status st;
		const char *name = keep_labels(from, total, x);
		char *txt = NULL;

		if ((rc = lookup_dmarc(d, name, &st, &txt, err)) < 0)
			goto out;
		if (st == LOOKUP_TEMPFAIL) {
			e->treewalk_temperror = true;
			nhits = 0;
			goto out;
		}
		if (st == LOOKUP_FOUND &&
		    mp_dmarc_record_parse(txt, strlen(txt), &rec, &perr) == MP_OK &&
		    nhits < WALK_MAX) {
			hits[nhits].labels = x;
			hits[nhits].psd = rec.psd;
			nhits++;
			stop = rec.psd != MP_DMARC_PSD_U;
		}
		mp_dmarc_record_dispose(&rec);
		free(txt);
		if (x == 1)
			break;
		x = x >= 8 ? 7 : x - 1;
	}
	if (nhits == 0)
		goto out;
	org_labels = hits[nhits - 1].labels;
	for (i = 0; i < nhits; i++) {
		if (hits[i].psd == MP_DMARC_PSD_N) {
			org_labels = hits[i].labels;
			break;
		}
		if (hits[i].psd == MP_DMARC_PSD_Y) {
			org_labels = hits[i].labels < total ? hits[i].labels + 1 : total;
			break;
		}
	}
	pol_labels = hits[nhits - 1].labels;
	for (i = 0; i < nhits; i++)
		if (hits[i].labels == total || hits[i].labels == org_labels) {
			pol_labels = hits[i].labels;
			break;
		}
	if ((rc = set_str(&e->treewalk_org_domain, keep_labels(from, total, org_labels), err)) < 0)
		goto out;
	rc = dmarc_name(keep_labels(from, total, pol_labels), &e->treewalk_record_name, err);
out:
	mp_dmarc_record_dispose(&rec);
	return rc;
}

/* ---------------------------------------------------------------- evaluation */

static int set_msg(char **dst, struct mp_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
set_msg(char **dst, struct mp_err *err, const char *fmt, ...)
{
	char tmp[TEXT_BUF_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return mp_err_set(err, MP_EINVAL, "dmarc: message formatting failed");
	/* A message longer than TEXT_BUF_MAX is cut; it is prose, not data. */
	return set_str(dst, tmp, err);
}

static bool
spf_is_pass(const char *r)
{
	return r != NULL && mp_ieq_z(r, "pass");
}

/* Alignment of SPF and DKIM with the From domain under the given modes. */
static void
compute_alignment(struct mp_dmarc *d, const struct mp_dmarc_eval_in *in, const char *from,
		  bool aspf_strict, bool adkim_strict, struct mp_dmarc_eval *e)
{
	char *c = NULL;
	size_t i;

	if (spf_is_pass(in->spf_result) && dom_canon(in->spf_domain, &c) == MP_OK)
		e->spf_aligned = aligned_canon(d, c, from, aspf_strict);
	free(c);
	for (i = 0; i < in->ndkim_pass && !e->dkim_aligned; i++) {
		c = NULL;
		if (in->dkim_pass_domains[i] != NULL &&
		    dom_canon(in->dkim_pass_domains[i], &c) == MP_OK)
			e->dkim_aligned = aligned_canon(d, c, from, adkim_strict);
		free(c);
	}
}

/* RFC 7489 section 6.6.3: the From domain's record, else the org domain's. */
static int
discover(struct mp_dmarc *d, struct mp_dmarc_eval *e, enum lookup_status *st, struct mp_err *err)
{
	const char *at = e->from_domain;
	char *txt = NULL;
	int rc;

	if ((rc = lookup_dmarc(d, at, st, &txt, err)) < 0)
		goto out;
	if (*st == LOOKUP_NONE && e->org_domain != NULL &&
	    strcmp(e->org_domain, e->from_domain) != 0) {
		at = e->org_domain;
		e->record_at_org = true;
		if ((rc = lookup_dmarc(d, at, st, &txt, err)) < 0)
			goto out;
	}
	if (*st == LOOKUP_NONE || *st == LOOKUP_TEMPFAIL) {
		e->record_at_org = false;
		rc = MP_OK;
		goto out;
	}
	if ((rc = dmarc_name(at, &e->record_name, err)) < 0)
		goto out;
	e->record = txt;
	txt = NULL;
	rc = MP_OK;
out:
	free(txt);
	return rc;
}

/* The policy that applies to the From domain (RFC 7489 section 6.6.3 step 6; np= of
 * RFC 9989 section 4.7 for a subdomain that does not exist). */
static int
applicable_policy(struct mp_dmarc *d, struct mp_dmarc_eval *e, struct mp_err *err)
{
	const struct mp_dmarc_record *r = &e->parsed;
	bool missing = false;
	int rc = MP_OK;

	e->policy = r->p;
	if (!e->record_at_org)
		goto out;
	if (r->np != MP_DMARC_POLICY_UNSET) {
		if ((rc = domain_missing(d, e->from_domain, &missing, err)) < 0)
			goto out;
		if (missing) {
			e->policy = r->np;
			goto out;
		}
	}
	if (r->sp != MP_DMARC_POLICY_UNSET)
		e->policy = r->sp;
out:
	return rc;
}

/* The words of a pass or a fail. */
static int
explain_result(struct mp_dmarc_eval *e, struct mp_err *err)
{
	const char *pol = mp_dmarc_policy_name(e->policy);

	if (strcmp(e->result, "pass") == 0)
		return set_msg(
		    &e->message, err, _("DMARC passes for %s (%s%s%s); the policy is %s (%s)."),
		    e->from_domain, e->spf_aligned ? _("aligned SPF pass") : "",
		    e->spf_aligned && e->dkim_aligned ? ", " : "",
		    e->dkim_aligned ? _("aligned DKIM signature") : "", pol, e->record_name);
	if (strcmp(e->result, "temperror") == 0)
		return set_msg(&e->message, err,
			       _("DMARC for %s cannot be decided: SPF or DKIM had a temporary "
				 "DNS error and nothing else passed aligned. Try again later."),
			       e->from_domain);
	return set_msg(&e->message, err,
		       _("DMARC fails for %s: neither SPF nor a DKIM signature passes aligned "
			 "with the From domain (%s alignment for DKIM, %s for SPF). Sign with "
			 "d=%s or send with an envelope sender under %s. Receivers are asked "
			 "to apply the policy %s."),
		       e->from_domain, e->parsed.adkim_strict ? _("strict") : _("relaxed"),
		       e->parsed.aspf_strict ? _("strict") : _("relaxed"), e->from_domain,
		       e->parsed.aspf_strict ? e->from_domain
					     : (e->org_domain ? e->org_domain : e->from_domain),
		       pol);
}

static int
explain_walk(struct mp_dmarc_eval *e, struct mp_err *err)
{
	/* Only a record that applies is compared: both methods ignore a name with several
	 * records or an invalid one, so those cannot differ by method. */
	const char *applied = e->have_record ? e->record_name : NULL;

	e->methods_differ =
	    !mp_ieq_z(applied, e->treewalk_record_name) ||
	    (e->treewalk_org_domain != NULL && !mp_ieq_z(e->org_domain, e->treewalk_org_domain));
	if (!e->methods_differ)
		return MP_OK;
	return set_msg(&e->treewalk_note, err,
		       _("The DNS tree walk of RFC 9989 gives another answer for %s than the "
			 "public suffix list of RFC 7489: record %s and organizational domain "
			 "%s instead of %s and %s. Receivers that follow RFC 9989 may apply "
			 "a different policy."),
		       e->from_domain,
		       e->treewalk_record_name ? e->treewalk_record_name : _("(none)"),
		       e->treewalk_org_domain ? e->treewalk_org_domain : _("(none)"),
		       e->record_name ? e->record_name : _("(none)"),
		       e->org_domain ? e->org_domain : _("(none)"));
}

int
mp_dmarc_evaluate(struct mp_dmarc *d, const struct mp_dmarc_eval_in *in, struct mp_dmarc_eval *out,
		  struct mp_err *err)
{
	enum lookup_status st = LOOKUP_NONE;
	struct mp_err perr;
	char q[64];
	int rc;

	memset(out, 0, sizeof(*out));
	mp_dmarc_record_dispose(&out->parsed);
	if (d == NULL || in == NULL) {
		rc = mp_err_set(err, MP_EINVAL, "dmarc: missing argument");
		goto out;
	}
	rc = dom_canon(in->from_domain, &out->from_domain);
	if (rc == MP_ENOMEM) {
		rc = mp_err_set(err, rc, _("dmarc: out of memory"));
		goto out;
	}
	if (rc != MP_OK) {
		quote(q, sizeof(q), in->from_domain ? in->from_domain : "",
		      in->from_domain ? strlen(in->from_domain) : 0);
		if ((rc = set_str(&out->result, "permerror", err)) < 0)
			goto out;
		rc = set_msg(&out->message, err,
			     _("DMARC cannot be evaluated: the From domain \"%s\" is not a valid "
			       "domain name."),
			     q);
		goto out;
	}
	rc = org_of_canon(d, out->from_domain, &out->org_domain);
	if (rc == MP_ENOMEM) {
		rc = mp_err_set(err, rc, _("dmarc: out of memory"));
		goto out;
	}
	if ((rc = discover(d, out, &st, err)) < 0)
		goto out;

	switch (st) {
	case LOOKUP_TEMPFAIL:
		compute_alignment(d, in, out->from_domain, false, false, out);
		if ((rc = set_str(&out->result, "temperror", err)) < 0 ||
		    (rc = set_str(&out->problem_code, "DNS_TEMPORARY", err)) < 0)
			goto out;
		rc = set_msg(&out->message, err,
			     _("The DMARC record of %s could not be looked up (DNS failure). This "
			       "says nothing about the record; try again or ask another resolver."),
			     out->from_domain);
		goto out; /* the walk would only fail the same way */
	case LOOKUP_NONE:
		compute_alignment(d, in, out->from_domain, false, false, out);
		if ((rc = set_str(&out->result, "none", err)) < 0 ||
		    (rc = set_str(&out->problem_code, "DMARC_MISSING", err)) < 0)
			goto out;
		if (out->org_domain != NULL && strcmp(out->org_domain, out->from_domain) != 0)
			rc = set_msg(&out->message, err,
				     _("No DMARC record at _dmarc.%s nor at _dmarc.%s. Publish "
				       "one at _dmarc.%s, e.g. \"v=DMARC1; p=none; "
				       "rua=mailto:dmarc@%s\"."),
				     out->from_domain, out->org_domain, out->org_domain,
				     out->org_domain);
		else if (out->org_domain == NULL)
			rc = set_msg(&out->message, err,
				     _("No DMARC record at _dmarc.%s, which is a public suffix: "
				       "mail should come from a domain registered under it."),
				     out->from_domain);
		else
			rc = set_msg(&out->message, err,
				     _("No DMARC record at _dmarc.%s. Publish one, e.g. "
				       "\"v=DMARC1; p=none; rua=mailto:dmarc@%s\"."),
				     out->from_domain, out->from_domain);
		if (rc < 0)
			goto out;
		break;
	case LOOKUP_MULTIPLE:
		compute_alignment(d, in, out->from_domain, false, false, out);
		if ((rc = set_str(&out->result, "permerror", err)) < 0 ||
		    (rc = set_str(&out->problem_code, "DMARC_MULTIPLE", err)) < 0)
			goto out;
		rc = set_msg(&out->message, err,
			     _("There is more than one DMARC record at _dmarc.%s; receivers then "
			       "ignore them all (RFC 7489 section 6.6.3). Keep exactly one "
			       "\"v=DMARC1\" TXT record."),
			     out->record_at_org ? out->org_domain : out->from_domain);
		if (rc < 0)
			goto out;
		break;
	case LOOKUP_FOUND:
		rc = mp_dmarc_record_parse(out->record, strlen(out->record), &out->parsed, &perr);
		if (rc == MP_ENOMEM) {
			rc = mp_err_set(err, rc, _("dmarc: out of memory"));
			goto out;
		}
		if (rc < 0) {
			compute_alignment(d, in, out->from_domain, false, false, out);
			if ((rc = set_str(&out->result, "permerror", err)) < 0 ||
			    (rc = set_str(&out->problem_code, "DMARC_SYNTAX", err)) < 0)
				goto out;
			rc = set_msg(&out->message, err,
				     _("The DMARC record at %s is invalid: %s. Receivers may "
				       "ignore it."),
				     out->record_name, perr.msg);
			if (rc < 0)
				goto out;
			break;
		}
		out->have_record = true;
		if ((rc = applicable_policy(d, out, err)) < 0)
			goto out;
		compute_alignment(d, in, out->from_domain, out->parsed.aspf_strict,
				  out->parsed.adkim_strict, out);
		if (out->spf_aligned || out->dkim_aligned)
			rc = set_str(&out->result, "pass", err);
		else if (in->spf_temperror || in->dkim_temperror)
			rc = set_str(&out->result, "temperror", err);
		else
			rc = set_str(&out->result, "fail", err);
		if (rc < 0 || (rc = explain_result(out, err)) < 0)
			goto out;
		if (out->policy == MP_DMARC_POLICY_NONE &&
		    (rc = set_str(&out->problem_code, "DMARC_POLICY_NONE", err)) < 0)
			goto out;
		break;
	}

	if ((rc = tree_walk(d, out->from_domain, out, err)) < 0)
		goto out;
	if (!out->treewalk_temperror && (rc = explain_walk(out, err)) < 0)
		goto out;
	rc = MP_OK;
out:
	return rc;
}

void
mp_dmarc_eval_dispose(struct mp_dmarc_eval *e)
{
	if (e == NULL)
		return;
	free(e->from_domain);
	free(e->org_domain);
	free(e->record);
	free(e->record_name);
	mp_dmarc_record_dispose(&e->parsed);
	free(e->result);
	free(e->treewalk_record_name);
	free(e->treewalk_org_domain);
	free(e->treewalk_note);
	free(e->problem_code);
	free(e->message);
	memset(e, 0, sizeof(*e));
}
