/* sign.c - see sign.h. */
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <opendkim/dkim.h>

#include "secret.h"
#include "util.h"

#define KEY_MAX (64 * 1024)
#define SIGHDR_MAX 8192

struct mp_signer {
	DKIM_LIB *lib;
	char *key; /* PEM text, NUL-terminated; wiped on free */
	size_t key_len;
	char *domain;
	char *selector;
	bool ed25519;
	unsigned long serial; /* job ids for libopendkim's log lines */
};

/*
 * The headers this tool writes and libesmtp passes unchanged.  Return-Path and
 * Received would break the signature in transit; "from" is also oversigned.
 */
static const char *const sign_hdrs[] = {"from",
					"to",
					"subject",
					"date",
					"message-id",
					"mime-version",
					"content-type",
					"content-language",
					"x-mailproof-test-id",
					NULL};
static const char *const oversign_hdrs[] = {"from", NULL};

/* Checks the key with OpenSSL first: libopendkim only complains at the end of signing. */
static int
key_kind(struct mp_signer *s, const char *path, struct mp_err *err)
{
	BIO *bio = BIO_new_mem_buf(s->key, (int)s->key_len);
	EVP_PKEY *pk = NULL;
	int ret = 0;

	if (bio == NULL)
		return mp_err_set(err, MP_ENOMEM, "out of memory");
	pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (pk == NULL) {
		ret =
		    mp_err_set(err, MP_EINVAL, "%s: not a PEM private key (RSA or Ed25519)", path);
	} else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519) {
		s->ed25519 = true;
	} else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
		if (EVP_PKEY_get_bits(pk) < 1024)
			ret = mp_err_set(err, MP_EINVAL,
					 "%s: RSA key of %d bits; receivers ignore signatures "
					 "below 1024 bits (RFC 8301)",
					 path, EVP_PKEY_get_bits(pk));
	} else {
		ret =
		    mp_err_set(err, MP_EINVAL, "%s: only RSA and Ed25519 keys can sign DKIM", path);
	}
	EVP_PKEY_free(pk);
	BIO_free(bio);
	return ret;
}

int
mp_signer_new(struct mp_signer **out, const char *key_file, const char *domain,
	      const char *selector, time_t fixed_time, struct mp_err *err)
{
	struct mp_signer *s;
	uint64_t ft;
	int ret;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return mp_err_set(err, MP_ENOMEM, "out of memory");
	if ((ret = mp_secret_read_private(key_file, "the DKIM key", KEY_MAX, &s->key, &s->key_len, err)) != 0 ||
	    (ret = key_kind(s, key_file, err)) != 0)
		goto out;
	s->domain = mp_strdup_z(domain);
	s->selector = mp_strdup_z(selector);
	if (s->domain == NULL || s->selector == NULL || (s->lib = dkim_init(NULL, NULL)) == NULL) {
		ret = mp_err_set(err, MP_ENOMEM, "cannot set up libopendkim");
		goto out;
	}
	if (dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, (void *)sign_hdrs,
			 sizeof(const char **)) != DKIM_STAT_OK ||
	    dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, (void *)oversign_hdrs,
			 sizeof(const char **)) != DKIM_STAT_OK) {
		ret = mp_err_set(err, MP_EINVAL, "libopendkim refused the list of signed headers");
		goto out;
	}
	ft = (uint64_t)fixed_time; /* libopendkim keeps it as a uint64_t */
	if (fixed_time != 0 && dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &ft,
					    sizeof(ft)) != DKIM_STAT_OK) {
		ret = mp_err_set(err, MP_EINVAL, "libopendkim refused the signing time");
		goto out;
	}
	*out = s;
	s = NULL;
	ret = 0;
out:
	mp_signer_free(s);
	return ret;
}

void
mp_signer_free(struct mp_signer *s)
{
	if (s == NULL)
		return;
	if (s->lib != NULL)
		dkim_close(s->lib);
	if (s->key != NULL) {
		explicit_bzero(s->key, s->key_len);
		free(s->key);
	}
	free(s->domain);
	free(s->selector);
	free(s);
}

const char *
mp_signer_algorithm(const struct mp_signer *s)
{
	return s->ed25519 ? "ed25519-sha256" : "rsa-sha256";
}

int
mp_signer_sign(struct mp_signer *s, struct mp_buf *msg, struct mp_err *err)
{
	unsigned char id[32];
	unsigned char *hdr = NULL;
	DKIM_STAT st;
	DKIM *d = NULL;
	size_t hlen;
	struct mp_buf signed_msg;
	int ret;

	mp_buf_init(&signed_msg, msg->max);
	snprintf((char *)id, sizeof(id), "mailproof-%lu", ++s->serial);
	/* Ed25519 is signed relaxed only: libopendkim's simple-header ed25519
	 * signatures with a folded DKIM-Signature do not verify anywhere. */
	d = dkim_sign(s->lib, id, NULL, (dkim_sigkey_t)s->key, (unsigned char *)s->selector,
		      (unsigned char *)s->domain, DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
		      s->ed25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256, -1, &st);
	if (d == NULL) {
		ret = mp_err_set(err, MP_EINVAL, "DKIM signing cannot start: %s",
				 dkim_getresultstr(st));
		goto out;
	}
	if ((st = dkim_chunk(d, (unsigned char *)msg->data, msg->len)) != DKIM_STAT_OK ||
	    (st = dkim_chunk(d, NULL, 0)) != DKIM_STAT_OK ||
	    (st = dkim_eom(d, NULL)) != DKIM_STAT_OK) {
		ret = mp_err_set(err, MP_EINVAL, "DKIM signing failed: %s (%s)",
				 dkim_getresultstr(st), dkim_geterror(d) ? dkim_geterror(d) : "");
		goto out;
	}
	if ((st = dkim_getsighdr_d(d, strlen("DKIM-Signature: "), &hdr, &hlen)) != DKIM_STAT_OK) {
		ret = mp_err_set(err, MP_EINVAL, "DKIM signing failed: %s", dkim_getresultstr(st));
		goto out;
	}
	if (mp_buf_adds(&signed_msg, "DKIM-Signature: ") != 0 ||
	    mp_buf_add(&signed_msg, hdr, hlen) != 0 || mp_buf_add(&signed_msg, "\r\n", 2) != 0 ||
	    mp_buf_add(&signed_msg, msg->data, msg->len) != 0) {
		ret = mp_err_set(err, MP_ETOOBIG, "signed message too large");
		goto out;
	}
	mp_buf_dispose(msg);
	*msg = signed_msg;
	mp_buf_init(&signed_msg, msg->max);
	ret = 0;
out:
	if (d != NULL)
		dkim_free(d);
	mp_buf_dispose(&signed_msg);
	return ret;
}
