/*
 * buf.h - the one growable byte buffer of the project.
 *
 * A buffer has a mandatory maximum: growing past it fails with MP_ETOOBIG instead of
 * reallocating forever.  The data is always NUL-terminated for convenience, but the
 * length is authoritative (data may hold NUL bytes).  Caller owns the struct.
 */
#ifndef MP_BUF_H
#define MP_BUF_H

#include <stddef.h>

#include "error.h"

struct mp_buf {
	char *data; /* NULL until the first add */
	size_t len;
	size_t cap;
	size_t max; /* hard limit on len */
};

void mp_buf_init(struct mp_buf *b, size_t max);
void mp_buf_dispose(struct mp_buf *b);
void mp_buf_reset(struct mp_buf *b); /* len = 0, keeps memory */
int mp_buf_add(struct mp_buf *b, const void *p, size_t n);
int mp_buf_addc(struct mp_buf *b, char c);
int mp_buf_adds(struct mp_buf *b, const char *s);
int mp_buf_printf(struct mp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Never NULL: "" for an empty buffer. */
const char *mp_buf_cstr(const struct mp_buf *b);
/*
 * Appends the whole file at path, up to the buffer's maximum.  MP_ENOTFOUND when it does
 * not exist, MP_ETOOBIG past the maximum, MP_EIO otherwise; err starts with the path.
 */
int mp_buf_read_file(struct mp_buf *b, const char *path, struct mp_err *err);
/* Hands the data over to the caller (free() it); the buffer becomes empty. */
char *mp_buf_detach(struct mp_buf *b, size_t *len);

#endif
