/* util.c - see util.h. */
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
