/*
 * spamsig.c - see spamsig.h.
 *
 * Field meanings from Microsoft's "Anti-spam message headers in Microsoft 365" (SFV, SCL,
 * CAT, BCL) and Google's "IMAP Extensions" (X-GM-LABELS).
 */
#include "spamsig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "error.h"
#include "hdr.h"
#include "i18n.h"
#include "util.h"

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* (s, n) without white space at both ends. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*s)[*n - 1]))
		(*n)--;
}

/* A word of letters into out (upper case), else out stays "". */
static void
put_word(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i;

	out[0] = '\0';
	if (n == 0 || n >= outsz)
		return;
	for (i = 0; i < n; i++)
		if (!is_alpha(s[i]))
			return;
	for (i = 0; i < n; i++)
		out[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
	out[n] = '\0';
}

/* "-1".."9" exactly. */
static bool
level(const char *s, size_t n, int *out)
{
	if (n == 1 && s[0] >= '0' && s[0] <= '9') {
		*out = s[0] - '0';
		return true;
	}
	if (n == 2 && s[0] == '-' && s[1] == '1') {
		*out = -1;
		return true;
	}
	return false;
}

/* Calls fn for each NAME:VALUE pair of a ';'-separated list; returns the pairs seen. */
static size_t
pairs(const char *v, size_t n, void (*fn)(const char *, size_t, const char *, size_t, void *),
      void *arg)
{
	size_t count = 0, i = 0, j, k;

	while (i < n) {
		const char *seg = v + i, *name, *val;
		size_t sn, nn, vn;

		for (j = i; j < n && v[j] != ';'; j++)
			;
		sn = j - i;
		i = j + 1;
		trim(&seg, &sn);
		for (k = 0; k < sn && seg[k] != ':'; k++)
			;
		if (k == 0 || k == sn)
			continue;
		name = seg;
		nn = k;
		for (k = 0; k < nn; k++)
			if (!is_alpha(name[k]) && name[k] != '-')
				break;
		if (k < nn)
			continue;
		val = seg + nn + 1;
		vn = sn - nn - 1;
		trim(&val, &vn);
		count++;
		fn(name, nn, val, vn, arg);
	}
	return count;
}

static bool
name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static void
forefront_pair(const char *name, size_t nn, const char *val, size_t vn, void *arg)
{
	struct mp_forefront *f = arg;
	int l;

	if (name_is(name, nn, "SFV"))
		put_word(val, vn, f->sfv, sizeof(f->sfv));
	else if (name_is(name, nn, "CAT"))
		put_word(val, vn, f->cat, sizeof(f->cat));
	else if (name_is(name, nn, "SCL") && level(val, vn, &l))
		f->scl = l;
}

int
mp_forefront_parse(const char *v, size_t n, struct mp_forefront *out)
{
	memset(out, 0, sizeof(*out));
	out->scl = MP_SCL_UNKNOWN;
	if (n > MP_SPAMSIG_MAX)
		return MP_ETOOBIG;
	return pairs(v, n, forefront_pair, out) > 0 ? 0 : MP_EPARSE;
}

int
mp_scl_parse(const char *v, size_t n, int *out)
{
	*out = MP_SCL_UNKNOWN;
	if (n > MP_SPAMSIG_MAX)
		return MP_ETOOBIG;
	trim(&v, &n);
	return level(v, n, out) ? 0 : MP_EPARSE;
}

static void
bcl_pair(const char *name, size_t nn, const char *val, size_t vn, void *arg)
{
	int *bcl = arg, l;

	if (name_is(name, nn, "BCL") && level(val, vn, &l) && l >= 0)
		*bcl = l;
}

int
mp_bcl_parse(const char *v, size_t n, int *out)
{
	*out = MP_SCL_UNKNOWN;
	if (n > MP_SPAMSIG_MAX)
		return MP_ETOOBIG;
	pairs(v, n, bcl_pair, out);
	return *out != MP_SCL_UNKNOWN ? 0 : MP_EPARSE;
}

bool
mp_forefront_spam(const char *sfv, int scl)
{
	static const char *const spam[] = {"SPM", "SKS", "BLK", "SKB"};
	static const char *const allow[] = {"SFE", "SKA", "SKN", "SKI", "SKQ"};
	size_t i;

	if (sfv != NULL) {
		for (i = 0; i < sizeof(spam) / sizeof(spam[0]); i++)
			if (strcasecmp(sfv, spam[i]) == 0)
				return true;
		for (i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
			if (strcasecmp(sfv, allow[i]) == 0)
				return false;
	}
	return scl != MP_SCL_UNKNOWN && scl >= MP_SCL_JUNK;
}

bool
mp_gmlabel_spam(const char *label)
{
	return label != NULL && strcasecmp(label, "\\Spam") == 0;
}

static bool
named(const struct mp_field *f, const char *name)
{
	return mp_ieq(f->name, f->name_len, name);
}

static bool
prefixed(const struct mp_field *f, const char *prefix)
{
	size_t n = strlen(prefix);

	return f->name_len >= n && strncasecmp(f->name, prefix, n) == 0;
}

static struct mp_rep_provider *
provider_new(const char *name)
{
	struct mp_rep_provider *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->scl = p->bcl = MP_SCL_UNKNOWN;
	if ((p->provider = mp_strdup_z(name)) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

static void
provider_free(struct mp_rep_provider *p)
{
	size_t i;

	if (p == NULL)
		return;
	free(p->provider);
	free(p->verdict);
	free(p->category);
	for (i = 0; i < p->nlabels; i++)
		free(p->labels[i]);
	free(p->labels);
	free(p);
}

static int
from_labels(const char *const *labels, size_t n, struct mp_rep_provider **out)
{
	struct mp_rep_provider *p = provider_new("gmail");
	size_t i;

	if (p == NULL || (n > 0 && (p->labels = calloc(n, sizeof(*p->labels))) == NULL))
		goto oom;
	for (i = 0; i < n; i++) {
		if ((p->labels[i] = mp_utf8_clean(labels[i], strlen(labels[i]))) == NULL)
			goto oom;
		p->nlabels++;
		p->spam = p->spam || mp_gmlabel_spam(labels[i]);
	}
	*out = p;
	return 0;
oom:
	provider_free(p);
	return MP_ENOMEM;
}

/* Index of the field Microsoft wrote that decides, or SIZE_MAX: the bottommost trusted
 * one below the sender's fields, else the topmost above them. */
static size_t
ms_field(const struct mp_headers *h, const char *name, size_t outside, size_t org, bool *ignored)
{
	size_t i, n = mp_headers_count(h), top = SIZE_MAX, bottom = SIZE_MAX;

	for (i = 0; i < n; i++) {
		if (!named(mp_headers_at(h, i), name))
			continue;
		if (i < outside) {
			if (top == SIZE_MAX)
				top = i;
		} else if (org != SIZE_MAX && i > org) {
			bottom = i;
		} else if (ignored != NULL) {
			*ignored = true;
		}
	}
	return bottom != SIZE_MAX ? bottom : top;
}

/* The unfolded value of field i, parsed by fn into *lv; false when absent or unparsable. */
static bool
ms_level(const struct mp_headers *h, size_t i, int (*fn)(const char *, size_t, int *), int *lv)
{
	const struct mp_field *f;
	char *u;
	size_t n;
	bool ok;

	if (i == SIZE_MAX)
		return false;
	f = mp_headers_at(h, i);
	if ((u = mp_hdr_unfold(f->value, f->value_len, &n)) == NULL)
		return false;
	ok = fn(u, n, lv) == 0;
	free(u);
	return ok;
}

int
mp_spamsig_read(const struct mp_headers *h, size_t outside, const char *receiver_host,
		const char *const *labels, size_t nlabels, struct mp_rep_provider **out,
		bool *ignored)
{
	struct mp_rep_provider *p = NULL;
	struct mp_forefront ff;
	const struct mp_field *f;
	size_t i, n, org = SIZE_MAX, ffi;
	char *u;
	int lv;

	*out = NULL;
	*ignored = false;
	if (labels != NULL)
		return from_labels(labels, nlabels, out);
	if (h == NULL || receiver_host == NULL ||
	    !mp_authserv_id_matches(receiver_host, ".outlook.com"))
		return 0;
	/* Exchange's header firewall removes X-MS-Exchange-Organization-* fields that come
	 * from outside, so the first one below the sender's fields starts what Microsoft
	 * appended to the bottom of the header section. */
	n = mp_headers_count(h);
	for (i = outside == SIZE_MAX ? n : outside; i < n && org == SIZE_MAX; i++)
		if (prefixed(mp_headers_at(h, i), "X-MS-Exchange-Organization-"))
			org = i;
	ffi = ms_field(h, "X-Forefront-Antispam-Report", outside, org, ignored);
	memset(&ff, 0, sizeof(ff));
	ff.scl = MP_SCL_UNKNOWN;
	if (ffi != SIZE_MAX) {
		f = mp_headers_at(h, ffi);
		if ((u = mp_hdr_unfold(f->value, f->value_len, &n)) == NULL)
			return MP_ENOMEM;
		if (mp_forefront_parse(u, n, &ff) != 0)
			ffi = SIZE_MAX;
		free(u);
	}
	if (ff.scl == MP_SCL_UNKNOWN &&
	    ms_level(h, ms_field(h, "X-MS-Exchange-Organization-SCL", outside, org, NULL),
		     mp_scl_parse, &lv))
		ff.scl = lv;
	if (ffi == SIZE_MAX && ff.scl == MP_SCL_UNKNOWN)
		return 0;
	if ((p = provider_new("m365")) == NULL)
		return MP_ENOMEM;
	p->scl = ff.scl;
	if ((ff.sfv[0] != '\0' && (p->verdict = mp_strdup_z(ff.sfv)) == NULL) ||
	    (ff.cat[0] != '\0' && (p->category = mp_strdup_z(ff.cat)) == NULL)) {
		provider_free(p);
		return MP_ENOMEM;
	}
	if (ms_level(h, ms_field(h, "X-Microsoft-Antispam", outside, org, NULL), mp_bcl_parse, &lv))
		p->bcl = lv;
	p->spam = mp_forefront_spam(p->verdict, p->scl);
	*out = p;
	return 0;
}

void
mp_spamsig_placement(struct mp_msgrep *m, const char *folder, bool junk)
{
	m->checked |= MP_CHECK_PLACEMENT;
	if (junk) {
		mp_msgrep_problem(m, MP_SEV_ERROR, "PLACEMENT_JUNK",
				  _("The message landed in the junk folder %s."), folder);
	} else if (m->provider != NULL && m->provider->spam && m->provider->nlabels > 0) {
		mp_msgrep_problem(m, MP_SEV_ERROR, "PLACEMENT_PROVIDER_SPAM",
				  _("The message is in %s, but Gmail labelled it as spam."),
				  folder);
	} else if (m->provider != NULL && m->provider->spam) {
		char why[48];
		const char *sfv = m->provider->verdict;

		if (m->provider->scl >= -1)
			snprintf(why, sizeof(why), "%s%s%sSCL:%d", sfv != NULL ? "SFV:" : "",
				 sfv != NULL ? sfv : "", sfv != NULL ? ", " : "", m->provider->scl);
		else
			snprintf(why, sizeof(why), "SFV:%s", sfv != NULL ? sfv : "?");
		mp_msgrep_problem(m, MP_SEV_ERROR, "PLACEMENT_PROVIDER_SPAM",
				  _("The message is in %s, but Microsoft 365 marked it as spam "
				    "(%s)."),
				  folder, why);
	} else {
		m->passed |= MP_CHECK_PLACEMENT;
	}
	m->pass = (m->passed & m->checked) == m->checked;
}
