/* buf.c - see buf.h. */
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "i18n.h"

void
mp_buf_init(struct mp_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
mp_buf_dispose(struct mp_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
mp_buf_reset(struct mp_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static int
grow(struct mp_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return MP_ETOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > (size_t)-1 / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return MP_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
mp_buf_add(struct mp_buf *b, const void *p, size_t n)
{
	int rc;

	if ((rc = grow(b, n)) != 0)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
mp_buf_addc(struct mp_buf *b, char c)
{
	return mp_buf_add(b, &c, 1);
}

int
mp_buf_adds(struct mp_buf *b, const char *s)
{
	return mp_buf_add(b, s, strlen(s));
}

int
mp_buf_printf(struct mp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MP_EINVAL;
	if ((rc = grow(b, (size_t)n)) != 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *
mp_buf_cstr(const struct mp_buf *b)
{
	return b->data != NULL ? b->data : "";
}

char *
mp_buf_detach(struct mp_buf *b, size_t *len)
{
	char *p = b->data;

	if (len != NULL)
		*len = b->len;
	if (p == NULL)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

int
mp_buf_read_file(struct mp_buf *b, const char *path, struct mp_err *err)
{
	char chunk[8192];
	FILE *fp = fopen(path, "rb");
	size_t n;
	int rc = 0;

	if (fp == NULL)
		return mp_err_set(err, errno == ENOENT ? MP_ENOTFOUND : MP_EIO, "%s: %s", path,
				  strerror(errno));
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if ((rc = mp_buf_add(b, chunk, n)) == MP_ETOOBIG)
			mp_err_set(err, rc, _("%s: larger than %zu bytes"), path, b->max);
		else if (rc != 0)
			mp_err_set(err, rc, _("out of memory"));
	}
	if (rc == 0 && ferror(fp))
		rc = mp_err_set(err, MP_EIO, _("%s: read error"), path);
	fclose(fp);
	return rc;
}
