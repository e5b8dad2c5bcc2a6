/*
 * verify.h - checks one message: SPF, DKIM and DMARC as the receiver saw them and as
 * the inspector finds them itself, and the verdict.
 *
 * A verifier holds the long-lived parts (resolver, DKIM library, SPF server, PSL) and
 * is reused for every message of a run; memory per message is freed before the next.
 * The message body is streamed into DKIM and never held whole.
 */
#ifndef MP_VERIFY_H
#define MP_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "report.h"

struct mp_resolver;
struct mp_msg;

struct mp_verify_opts {
	const char *const *authserv_ids; /* trusted receivers; ".example.com" = every host under it */
	size_t nauthserv;
	unsigned require;      /* mp_check bits; 0 = spf,dkim,dmarc */
	const char *client_ip; /* overrides the SPF client IP derived from the headers */
};

struct mp_verifier;

int mp_verifier_new(struct mp_verifier **out, struct mp_resolver *res,
		    const struct mp_verify_opts *opts, struct mp_err *err);
void mp_verifier_free(struct mp_verifier *v);

/*
 * Checks one message and fills rep (initialised by the caller).  Returns 0 when the
 * report is complete, also when checks failed; MP_ETEMP when a DNS lookup failed (the
 * report says which; the run ends with exit 3); MP_EIO when the message could not be
 * read to its end; MP_ENOMEM.
 */
int mp_verifier_check(struct mp_verifier *v, struct mp_msg *msg, struct mp_msgrep *rep,
		      struct mp_err *err);

/* Gmail's labels of the message checked next (IMAP; they decide its spam verdict);
 * labels NULL: none asked, n 0: none that matter.  Borrowed until that
 * mp_verifier_check returns, which forgets them. */
void mp_verifier_set_labels(struct mp_verifier *v, const char *const *labels, size_t n);

/* Parses a --require list ("spf,dkim,dmarc,placement") into mp_check bits; MP_EINVAL on an
 * unknown name (err names it). */
int mp_require_parse(const char *list, unsigned *out, struct mp_err *err);

#endif
