/*
 * dkim.h - DKIM verification (RFC 6376, RFC 8463) with libopendkim; key lookups go
 * through the project's resolver (zone mode, cache).  One struct mp_dkim (one DKIM_LIB)
 * serves the process; each message gets a struct mp_dkim_ver fed header fields, then
 * body chunks (never held in memory).  mp_dkim_end() hands out one caller-owned
 * mp_dkim_sig per DKIM-Signature field, top to bottom.  Single-threaded use only.
 */
#ifndef MP_DKIM_H
#define MP_DKIM_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "resolver.h"

#define MP_DKIM_MAX_FIELDS 256 /* DKIM-Signature fields accepted in one message */
#define MP_DKIM_MAX_VERIFY 16  /* signatures verified per message; later ones: policy */
#define MP_DKIM_FIELD_MAX 16384 /* longest DKIM-Signature field parsed */

struct mp_dkim;     /* verifier: one DKIM_LIB plus the DNS hooks; reused for many messages */
struct mp_dkim_ver; /* verification of one message */

/* The outcome for one DKIM-Signature header field. */
struct mp_dkim_sig {
	char *domain;       /* d=, or NULL when absent */
	char *selector;     /* s=, or NULL */
	char *algorithm;    /* a= as written ("rsa-sha256", "ed25519-sha256", ...), or NULL */
	const char *result; /* RFC 8601 section 2.7.1 word: "pass", "fail", "neutral",
			     * "policy", "temperror" or "permerror" (static string) */
	unsigned key_bits;  /* RSA modulus bits, 256 for ed25519, 0 if no key was loaded */
	bool testing;       /* the key record says t=y (RFC 6376 section 3.6.1) */
	char *error;        /* NULL on pass, else one sentence for a person */
	char *identity;     /* i=, or NULL */
	char *canon;        /* "header/body", e.g. "relaxed/relaxed" (defaults filled in) */
};

/*
 * Creates the verifier.  `res` is borrowed and must outlive it; every key lookup
 * (TXT at selector._domainkey.domain) goes through mp_resolver_query().
 */
int mp_dkim_new(struct mp_dkim **out, struct mp_resolver *res, struct mp_err *err);
void mp_dkim_free(struct mp_dkim *d);

/* Starts one message. */
int mp_dkim_begin(struct mp_dkim *d, struct mp_dkim_ver **out, struct mp_err *err);

/*
 * One raw header field "Name: value" with its internal CRLF folds, WITHOUT the final
 * CRLF, in message order.  Malformed fields are tolerated (libopendkim skips them).
 * Returns 0, MP_EINVAL (after mp_dkim_eoh), MP_ETOOBIG (more than MP_DKIM_MAX_FIELDS
 * DKIM-Signature fields) or MP_ENOMEM; the detail is reported by mp_dkim_end().
 */
int mp_dkim_header(struct mp_dkim_ver *v, const char *field, size_t len);

/* End of the header.  Looks up the keys and checks the header hashes. */
int mp_dkim_eoh(struct mp_dkim_ver *v);

/* Body bytes (CRLF line ends) in chunks of any size, after mp_dkim_eoh(). */
int mp_dkim_body(struct mp_dkim_ver *v, const char *chunk, size_t len);

/*
 * Finishes the message (calls mp_dkim_eoh() if the caller did not) and returns the
 * results: *nsigs entries, one per DKIM-Signature field in header order; *sigs is NULL
 * when there are none.  Free them with mp_dkim_sigs_free().  Verification failures are
 * results, not errors; the return value is 0, or the first MP_ENOMEM / MP_EINVAL /
 * MP_ETOOBIG met while feeding the message.
 */
int mp_dkim_end(struct mp_dkim_ver *v, struct mp_dkim_sig **sigs, size_t *nsigs,
		struct mp_err *err);
void mp_dkim_ver_free(struct mp_dkim_ver *v);

void mp_dkim_sigs_free(struct mp_dkim_sig *sigs, size_t n);

#endif
