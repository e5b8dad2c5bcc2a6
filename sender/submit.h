/*
 * submit.h - submission over SMTP with libesmtp (the only module that uses it).
 *
 * STARTTLS is required (TLS 1.2, certificate and host name checked against the system
 * CAs or a CA file); AUTH PLAIN/LOGIN when a user is given, and its success is checked
 * (libesmtp would go on without it).  Every status is checked: a message counts as
 * sent only when the server answered 2xx to its DATA.  4xx replies are retried with
 * back-off until retry_for seconds have passed.  All messages share one session.
 */
#ifndef MP_SUBMIT_H
#define MP_SUBMIT_H

#include <stdio.h>
#include <stddef.h>

#include "error.h"

struct mp_submit_opts {
	const char *relay; /* smtp://host[:port] (587 by default) */
	const char *helo;  /* EHLO name; NULL = this host's name */
	const char *user;  /* NULL: no AUTH */
	const char *password;
	const char *ca_file; /* NULL: the system CAs */
	const char *envelope_from;
	const char *const *to;
	size_t nto;
	unsigned retry_for;  /* seconds */
	unsigned timeout;    /* seconds per SMTP step; 0 = 60 */
	unsigned retry_base; /* first back-off in seconds; 0 = 5 */
	FILE *trace;	     /* -v: the dialogue, passwords masked; NULL = quiet */
};

struct mp_submit_msg {
	const char *data; /* CRLF message, sent unchanged */
	size_t len;
	int sent;	/* out: the server accepted it (2xx after DATA) */
	char *queue_id; /* out: from the 250 reply ("queued as X", "id=X"), or NULL */
	char *reply;	/* out: the server's reply to the DATA, or NULL */
	size_t pos;	/* internal: bytes handed to libesmtp */
};

/* Splits smtp://host[:port].  MP_EINVAL with a clear message for smtps:// and the rest. */
int mp_submit_parse_relay(const char *url, char **host, unsigned *port, struct mp_err *err);

/*
 * Submits n messages in one session.  Returns 0 when every message was accepted for
 * every recipient; MP_EINVAL (configuration: relay URL, CA file); MP_ETEMP (4xx until
 * retry_for ran out); MP_EIO (network, TLS, AUTH, 5xx, protocol errors).  err says what
 * happened in one line with the server's words.  msgs[i].sent tells what did go out.
 */
int mp_submit(const struct mp_submit_opts *o, struct mp_submit_msg *msgs, size_t n,
	      struct mp_err *err);
void mp_submit_msg_dispose(struct mp_submit_msg *m);

#endif
