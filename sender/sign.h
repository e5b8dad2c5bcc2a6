/*
 * sign.h - DKIM signing (RFC 6376, RFC 8463) with libopendkim, relaxed/relaxed.
 *
 * The algorithm follows the key: an RSA key signs rsa-sha256, an Ed25519 key
 * ed25519-sha256.  Only headers libesmtp leaves alone are signed, From twice (so no
 * second From can be added unnoticed).  A key file others can read is refused; the
 * key text is wiped when the signer is freed.
 */
#ifndef MP_SIGN_H
#define MP_SIGN_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "error.h"

struct mp_signer;

/* Loads the key (at most 64 KiB).  fixed_time, when not 0, is the signing time (t=);
 * tests use it for byte-stable output.  MP_EINVAL: readable by others, or not a usable
 * RSA (>= 1024 bits) / Ed25519 private key; MP_ENOTFOUND, MP_EIO, MP_ENOMEM. */
int mp_signer_new(struct mp_signer **out, const char *key_file, const char *domain,
		  const char *selector, time_t fixed_time, struct mp_err *err);
void mp_signer_free(struct mp_signer *s);

/* "rsa-sha256" or "ed25519-sha256". */
const char *mp_signer_algorithm(const struct mp_signer *s);

/* Prepends a DKIM-Signature field to the CRLF message in msg. */
int mp_signer_sign(struct mp_signer *s, struct mp_buf *msg, struct mp_err *err);

#endif
