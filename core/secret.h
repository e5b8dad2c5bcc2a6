/*
 * secret.h - passwords from a file only its owner can read, or from the environment.
 *
 * A password file whose mode lets the group or others read it is refused (MP_EINVAL),
 * as is an empty one; only the first line counts (at most MP_SECRET_MAX bytes).
 * Returned secrets are malloc'd: release them with mp_free_secret() (util.h), which
 * wipes them first.  Error messages never contain the secret.
 */
#ifndef MP_SECRET_H
#define MP_SECRET_H

#include "error.h"

#define MP_SECRET_MAX 1024

/*
 * Reads all of `path`, a regular file that only its owner may read (at most max bytes;
 * MP_ETOOBIG beyond).  `what` names it in the error for a readable file ("the DKIM key").
 * Anything but a regular file (a FIFO is not waited on) and a file holding a NUL byte
 * are refused (MP_EINVAL).
 * *out is NUL-terminated; free it with mp_free_secret().
 */
int mp_secret_read_private(const char *path, const char *what, size_t max, char **out,
			   size_t *len, struct mp_err *err);

/* Reads the first line of `path`.  MP_ENOTFOUND, MP_EIO, MP_EINVAL, MP_ENOMEM. */
int mp_secret_read_file(const char *path, char **out, struct mp_err *err);

/* Copy of the environment variable `name`; MP_ENOTFOUND when unset or empty. */
int mp_secret_from_env(const char *name, char **out, struct mp_err *err);

#endif
