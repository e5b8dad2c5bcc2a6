/* util.c - see util.h. */
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"

char *
mp_strndup(const char *s, size_t n)
{
	char *p;

	if (n == (size_t)-1)
		return NULL;
	p = malloc(n + 1);
	if (p == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
mp_strdup_z(const char *s)
{
	return s != NULL ? mp_strndup(s, strlen(s)) : NULL;
}

char *
mp_lower(char *s)
{
	char *p;

	for (p = s; p != NULL && *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

bool
mp_ieq(const char *a, size_t an, const char *b)
{
	size_t bn = strlen(b);

	return an == bn && strncasecmp(a, b, an) == 0;
}

bool
mp_ieq_z(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcasecmp(a, b) == 0;
}

char *
mp_domain_norm(const char *dom)
{
	size_t n;

	if (dom == NULL)
		return NULL;
	n = strlen(dom);
	if (n > 0 && dom[n - 1] == '.')
		n--;
	return mp_lower(mp_strndup(dom, n));
}

char *
mp_addr_domain(const char *addr)
{
	const char *at;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL || at[1] == '\0')
		return NULL;
	return mp_domain_norm(at + 1);
}

const char *
mp_trim(const char *s, size_t *n)
{
	while (*n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
		s++;
		(*n)--;
	}
	while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t' || s[*n - 1] == '\r' ||
			  s[*n - 1] == '\n'))
		(*n)--;
	return s;
}

void
mp_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

size_t
mp_utf8_seqlen(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len, i;
	unsigned long cp;

	if (c < 0x80)
		return c == 0 ? 0 : 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* RFC 3629 section 3: no overlongs, no surrogates, nothing above U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

char *
mp_utf8_clean(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, l;
	char *out;

	if (n > ((size_t)-1 - 1) / 3)
		return NULL;
	out = malloc(n * 3 + 1); /* each bad byte grows to 3 bytes at most */
	if (out == NULL)
		return NULL;
	while (i < n) {
		l = mp_utf8_seqlen(p + i, n - i);
		if (l == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, p + i, l);
			o += l;
			i += l;
		}
	}
	out[o] = '\0';
	return out;
}

void
mp_put_safe(FILE *fp, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t l;

	while (n > 0) {
		l = mp_utf8_seqlen(p, n);
		if (l == 0) {
			fputs("\xef\xbf\xbd", fp);
			l = 1;
		} else if (l == 1 && (*p < 0x20 || *p == 0x7f)) {
			fputc(*p == '\t' ? ' ' : '?', fp);
		} else if (l == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
			fputc('?', fp);
		} else {
			fwrite(p, 1, l, fp);
		}
		p += l;
		n -= l;
	}
}

void
mp_diag(const char *prog, const char *fmt, ...)
{
	char line[2048];
	size_t n;
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = w < 0 ? 0 : (size_t)w < sizeof(line) ? (size_t)w : sizeof(line) - 1;
	fprintf(stderr, "%s: ", prog);
	mp_put_safe(stderr, line, n);
	fputc('\n', stderr);
}

/* ---- dates (RFC 5322 section 3.3) ------------------------------------------------------ */

#define DATE_MAX 256

struct dcur {
	const char *p, *end;
};

/* Skips folding white space and (nested) comments; a comment left open ends the input. */
static void
d_cfws(struct dcur *c)
{
	int depth = 0;

	while (c->p < c->end) {
		char ch = *c->p;

		if (depth > 0) {
			if (ch == '\\' && c->p + 1 < c->end)
				c->p++;
			else if (ch == '(')
				depth++;
			else if (ch == ')')
				depth--;
		} else if (ch == '(') {
			depth = 1;
		} else if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') {
			return;
		}
		c->p++;
	}
}

/* 1 to max digits; returns the count read, 0 when there is no digit. */
static int
d_num(struct dcur *c, int max, long *v)
{
	int k = 0;

	*v = 0;
	while (c->p < c->end && k < max && *c->p >= '0' && *c->p <= '9') {
		*v = *v * 10 + (*c->p - '0');
		c->p++;
		k++;
	}
	return k;
}

static size_t
d_word(struct dcur *c, char *w, size_t wmax)
{
	size_t k = 0;

	while (c->p < c->end && ((*c->p >= 'A' && *c->p <= 'Z') || (*c->p >= 'a' && *c->p <= 'z'))) {
		if (k + 1 < wmax)
			w[k] = *c->p;
		k++;
		c->p++;
	}
	w[k < wmax ? k : wmax - 1] = '\0';
	return k;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
mp_date_parse(const char *s, size_t n, int64_t *out)
{
	static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
					     "jul", "aug", "sep", "oct", "nov", "dec"};
	/* RFC 5322 section 4.3 obs-zone; military letters mean nothing reliable: +0000. */
	static const struct {
		const char *name;
		int off;
	} zones[] = {{"ut", 0},	     {"utc", 0},     {"gmt", 0},     {"z", 0},
		     {"est", -300},  {"edt", -240},  {"cst", -360},  {"cdt", -300},
		     {"mst", -420},  {"mdt", -360},  {"pst", -480},  {"pdt", -420}};
	struct dcur c = {s, s + n};
	char w[8];
	long day, year, hh, mm, ss = 0, z;
	int month = 0, zoff = 0, digits, sign;
	size_t i, wl;

	if (n > DATE_MAX)
		return MP_EPARSE;
	d_cfws(&c);
	/* optional day-of-week "," */
	if (c.p < c.end && ((*c.p >= 'A' && *c.p <= 'Z') || (*c.p >= 'a' && *c.p <= 'z'))) {
		d_word(&c, w, sizeof(w));
		d_cfws(&c);
		if (c.p >= c.end || *c.p != ',')
			return MP_EPARSE;
		c.p++;
		d_cfws(&c);
	}
	if (d_num(&c, 2, &day) == 0 || day < 1 || day > 31)
		return MP_EPARSE;
	d_cfws(&c);
	wl = d_word(&c, w, sizeof(w));
	for (i = 0; wl == 3 && i < 12; i++)
		if (strcasecmp(w, months[i]) == 0)
			month = (int)i + 1;
	if (month == 0)
		return MP_EPARSE;
	d_cfws(&c);
	digits = d_num(&c, 4, &year);
	if (digits < 2)
		return MP_EPARSE;
	if (digits == 2) /* RFC 5322 section 4.3 */
		year += year < 50 ? 2000 : 1900;
	else if (digits == 3)
		year += 1900;
	d_cfws(&c);
	if (d_num(&c, 2, &hh) == 0 || hh > 23)
		return MP_EPARSE;
	d_cfws(&c);
	if (c.p >= c.end || *c.p != ':')
		return MP_EPARSE;
	c.p++;
	d_cfws(&c);
	if (d_num(&c, 2, &mm) == 0 || mm > 59)
		return MP_EPARSE;
	d_cfws(&c);
	if (c.p < c.end && *c.p == ':') {
		c.p++;
		d_cfws(&c);
		if (d_num(&c, 2, &ss) == 0 || ss > 60) /* 60: a leap second */
			return MP_EPARSE;
		d_cfws(&c);
	}
	if (c.p < c.end && (*c.p == '+' || *c.p == '-')) {
		sign = *c.p == '-' ? -1 : 1;
		c.p++;
		if (d_num(&c, 4, &z) != 4 || z % 100 > 59)
			return MP_EPARSE;
		zoff = sign * (int)(z / 100 * 60 + z % 100);
	} else {
		wl = d_word(&c, w, sizeof(w));
		if (wl == 0 || wl > 5)
			return MP_EPARSE;
		zoff = 0;
		for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
			if (strcasecmp(w, zones[i].name) == 0)
				zoff = zones[i].off;
	}
	d_cfws(&c);
	if (c.p != c.end)
		return MP_EPARSE;
	*out = days_from_civil(year, month, (int)day) * 86400 + hh * 3600 + mm * 60 + ss -
	       (int64_t)zoff * 60;
	return 0;
}
