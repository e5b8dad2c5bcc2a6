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
