/*
 * error.h - error codes and the caller-supplied error detail of the core library.
 *
 * Every core function returns 0 (or a count) on success and one of the negative
 * MP_E* codes on failure; the human-readable detail goes into a struct mp_err
 * the caller owns.  The message is bounded (MP_ERR_MAX) and never holds secrets.
 */
#ifndef MP_ERROR_H
#define MP_ERROR_H

#include <stddef.h>

#define MP_ERR_MAX 512

enum mp_errcode {
	MP_OK = 0,
	MP_ENOTFOUND = -1, /* no such thing (file, header, record) */
	MP_EPARSE = -2,    /* malformed input */
	MP_ETOOBIG = -3,   /* input exceeds a documented bound */
	MP_ETEMP = -4,     /* temporary failure (DNS timeout, SERVFAIL) */
	MP_ENOMEM = -5,    /* out of memory */
	MP_EIO = -6,       /* read/write error */
	MP_EINVAL = -7,    /* bad argument or configuration */
};

struct mp_err {
	int code;
	char msg[MP_ERR_MAX];
};

/* Sets code and a printf-style message; returns code so callers can `return mp_err_set(...)`. */
int mp_err_set(struct mp_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clears an error struct. */
void mp_err_clear(struct mp_err *err);

#endif
