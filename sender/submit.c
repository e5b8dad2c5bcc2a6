/* submit.c - see submit.h.  RFC 5321 (SMTP), RFC 3207 (STARTTLS), RFC 4954 (AUTH),
 * RFC 6409 (submission).  libesmtp's limits are listed in mailproof-send(1), CAVEATS. */
#include "submit.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* libesmtp.h needs size_t, and declares its TLS and AUTH calls only after these. */
#include <stddef.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <auth-client.h>
#include <libesmtp.h>

#include "buf.h"
#include "util.h"

#define HOST_MAX 253
#define REPLY_MAX 400

struct session {
	const struct mp_submit_opts *o;
	char host[HOST_MAX + 1];
	FILE *trace;
	bool starttls_missing;
	bool tls_ok;
	char tls_error[200];
	bool in_auth;
	bool authenticated;
	char auth_reply[REPLY_MAX];
	char last_reply[REPLY_MAX];
	struct mp_buf line; /* partial monitor line */
	int line_writing;
};

int
mp_submit_parse_relay(const char *url, char **host, unsigned *port, struct mp_err *err)
{
	const char *h, *colon;
	size_t hl, i;
	unsigned long p = 587;
	char *end;

	*host = NULL;
	if (strncasecmp(url, "smtps://", 8) == 0)
		return mp_err_set(
		    err, MP_EINVAL,
		    "%s: smtps:// (implicit TLS) cannot be done soundly with libesmtp, "
		    "which only speaks STARTTLS; use smtp://HOST:587",
		    url);
	if (strncasecmp(url, "smtp://", 7) != 0)
		return mp_err_set(err, MP_EINVAL, "%s: the relay must be smtp://HOST[:PORT]", url);
	h = url + 7;
	if (*h == '[')
		return mp_err_set(err, MP_EINVAL,
				  "%s: IPv6 address literals are not supported; use a host name",
				  url);
	colon = strchr(h, ':');
	hl = colon ? (size_t)(colon - h) : strlen(h);
	if (hl > 0 && h[hl - 1] == '/' && colon == NULL)
		hl--; /* smtp://host/ */
	if (hl == 0 || hl > HOST_MAX)
		return mp_err_set(err, MP_EINVAL, "%s: no host name in the relay URL", url);
	for (i = 0; i < hl; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '.' && h[i] != '-' && h[i] != '_')
			return mp_err_set(err, MP_EINVAL, "%s: bad character in the host name",
					  url);
	if (colon != NULL) {
		errno = 0;
		p = strtoul(colon + 1, &end, 10);
		if (end == colon + 1 || (*end != '\0' && strcmp(end, "/") != 0) || p == 0 ||
		    p > 65535 || errno != 0)
			return mp_err_set(err, MP_EINVAL, "%s: bad port", url);
	}
	if ((*host = mp_strndup(h, hl)) == NULL)
		return mp_err_set(err, MP_ENOMEM, "out of memory");
	*port = (unsigned)p;
	return 0;
}

/* Copy of a server reply without its CRLF, printable ASCII only (it goes to a terminal). */
static void
clean_copy(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < n && j + 1 < dstlen; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		dst[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	}
	dst[j] = '\0';
}

/* --- protocol trace and AUTH outcome -------------------------------------------- */

static void
monitor_line(struct session *ss, const char *l, size_t n, int writing)
{
	char shown[REPLY_MAX];

	clean_copy(shown, sizeof(shown), l, n);
	if (writing) {
		if (strncasecmp(shown, "AUTH ", 5) == 0) {
			/* "AUTH PLAIN <base64 of the password>": keep only the mechanism */
			char *sp = strchr(shown + 5, ' ');

			if (sp != NULL)
				snprintf(sp, sizeof(shown) - (size_t)(sp - shown), " ****");
			ss->in_auth = true;
		} else if (ss->in_auth) {
			snprintf(shown, sizeof(shown), "****"); /* AUTH LOGIN user / password */
		}
		if (ss->trace != NULL)
			fprintf(ss->trace, "C: %s\n", shown);
		return;
	}
	if (ss->trace != NULL)
		fprintf(ss->trace, "S: %s\n", shown);
	if (n >= 3 && l[0] >= '2' && l[0] <= '5') {
		snprintf(ss->last_reply, sizeof(ss->last_reply), "%s", shown);
		if (ss->in_auth && l[0] != '3') {
			ss->in_auth = false;
			if (strncmp(shown, "235", 3) == 0)
				ss->authenticated = true;
			else
				snprintf(ss->auth_reply, sizeof(ss->auth_reply), "%s", shown);
		}
	}
}

static void
monitor_cb(const char *buf, int buflen, int writing, void *arg)
{
	struct session *ss = arg;
	const char *p = buf, *e = buf + (buflen > 0 ? buflen : 0), *nl;

	if (writing == SMTP_CB_HEADERS)
		return;
	if (ss->line.len > 0 && ss->line_writing != writing) {
		monitor_line(ss, ss->line.data, ss->line.len, ss->line_writing);
		mp_buf_reset(&ss->line);
	}
	ss->line_writing = writing;
	while (p < e) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (nl == NULL) {
			/* an over-long line is shown in pieces rather than dropped */
			if (mp_buf_add(&ss->line, p, (size_t)(e - p)) != 0) {
				monitor_line(ss, ss->line.data, ss->line.len, writing);
				mp_buf_reset(&ss->line);
			}
			return;
		}
		if (ss->line.len > 0) {
			if (mp_buf_add(&ss->line, p, (size_t)(nl - p)) == 0)
				monitor_line(ss, ss->line.data, ss->line.len, writing);
			mp_buf_reset(&ss->line);
		} else {
			monitor_line(ss, p, (size_t)(nl - p), writing);
		}
		p = nl + 1;
	}
}

static void
event_cb(smtp_session_t s, int event, void *arg, ...)
{
	struct session *ss = arg;
	va_list ap;
	int *ok;

	(void)s;
	va_start(ap, arg);
	switch (event) {
	case SMTP_EV_EXTNA_STARTTLS:
		ss->starttls_missing = true;
		break;
	case SMTP_EV_STARTTLS_OK:
		ss->tls_ok = true;
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		/* libesmtp compares the certificate with getaddrinfo's canonical name and
		 * knows no IP SANs; our SSL_CTX already pinned the host name or address the
		 * user gave (X509_VERIFY_PARAM), so the handshake would have failed first. */
		ok = va_arg(ap, int *);
		*ok = 1;
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE:
	case SMTP_EV_NO_PEER_CERTIFICATE:
		if (ss->tls_error[0] == '\0')
			snprintf(ss->tls_error, sizeof(ss->tls_error), "certificate not trusted");
		break;
	default:
		break;
	}
	va_end(ap);
}

static int
verify_cb(int preverify_ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct session *ss;
	int e;

	if (preverify_ok || ssl == NULL)
		return preverify_ok;
	ss = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	if (ss == NULL || ss->tls_error[0] != '\0')
		return preverify_ok;
	e = X509_STORE_CTX_get_error(x);
	if (e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH)
		snprintf(ss->tls_error, sizeof(ss->tls_error),
			 "the certificate is not valid for %.150s", ss->host);
	else
		snprintf(ss->tls_error, sizeof(ss->tls_error),
			 "certificate not trusted (%s; use --ca-file for a private CA)",
			 X509_verify_cert_error_string(e));
	return preverify_ok;
}

static int
make_ctx(struct session *ss, SSL_CTX **out, struct mp_err *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	unsigned char ip[16];
	int ok;

	*out = NULL;
	if (ctx == NULL)
		return mp_err_set(err, MP_ENOMEM, "cannot create a TLS context");
	/* TLS 1.3 session tickets can stall libesmtp's STARTTLS sessions: stay at 1.2. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	if (ss->o->ca_file != NULL)
		ok = SSL_CTX_load_verify_locations(ctx, ss->o->ca_file, NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return mp_err_set(err, MP_EINVAL, "%s: cannot load CA certificates",
				  ss->o->ca_file ? ss->o->ca_file : "system CA store");
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	if (inet_pton(AF_INET, ss->host, ip) == 1)
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx), ss->host);
	else
		ok = X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(ctx), ss->host, 0);
	if (ok != 1) {
		SSL_CTX_free(ctx);
		return mp_err_set(err, MP_ENOMEM, "cannot pin the host name");
	}
	SSL_CTX_set_app_data(ctx, ss);
	*out = ctx;
	return 0;
}

static int
interact_cb(auth_client_request_t req, char **result, int fields, void *arg)
{
	struct session *ss = arg;
	int i;

	for (i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_PASS)
			result[i] = (char *)ss->o->password;
		else if (req[i].flags & AUTH_USER)
			result[i] = (char *)ss->o->user;
		else
			result[i] = (char *)"";
	}
	return 1;
}

/* libesmtp pulls the message through this; it is sent in one piece, unchanged. */
static const char *
message_cb(void **ctx, int *len, void *arg)
{
	struct mp_submit_msg *m = arg;

	(void)ctx;
	if (len == NULL) {
		m->pos = 0;
		return NULL;
	}
	if (m->pos >= m->len) {
		*len = 0;
		return NULL;
	}
	*len = (int)(m->len - m->pos);
	m->pos = m->len;
	return m->data;
}

/* "250 2.0.0 Ok: queued as 4Xk2pQ0c3z" (Postfix), "250 OK id=1abc-00" (Exim). */
static char *
queue_id(const char *text)
{
	const char *p, *e;

	if ((p = strstr(text, "queued as ")) != NULL)
		p += 10;
	else if ((p = strstr(text, "id=")) != NULL)
		p += 3;
	else
		return NULL;
	for (e = p; *e != '\0' && (isalnum((unsigned char)*e) || *e == '-' || *e == '.' ||
				   *e == '_' || *e == '@');
	     e++)
		;
	return e > p ? mp_strndup(p, (size_t)(e - p)) : NULL;
}

struct rcpt_state {
	struct session *ss;
	int worst; /* 0 ok, 4 some 4xx, 5 some 5xx */
	size_t accepted;
	char reply[REPLY_MAX];
};

static void
rcpt_cb(smtp_recipient_t r, const char *mailbox, void *arg)
{
	struct rcpt_state *rs = arg;
	const smtp_status_t *st = smtp_recipient_status(r);
	char t[REPLY_MAX];
	int cls = st->code / 100;

	if (cls == 2) {
		rs->accepted++;
		return;
	}
	clean_copy(t, sizeof(t), st->text ? st->text : "", st->text ? strlen(st->text) : 0);
	/* libesmtp marks some 4xx replies (450 without an enhanced code) complete; a 4xx
	 * is temporary all the same, and reset_rcpt() makes libesmtp try it again. */
	if (cls == 4) {
		if (rs->worst < 4) {
			rs->worst = 4;
			snprintf(rs->reply, sizeof(rs->reply), "%.150s: %d %.200s", mailbox,
				 st->code, t);
		}
	} else if (rs->worst < 5) {
		rs->worst = 5;
		if (st->code != 0)
			snprintf(rs->reply, sizeof(rs->reply), "%.150s: %d %.200s", mailbox,
				 st->code, t);
		else
			snprintf(rs->reply, sizeof(rs->reply), "%.150s: no reply", mailbox);
	}
}

/* Before a retry: every recipient without a permanent answer is tried again. */
static void
reset_rcpt(smtp_recipient_t r, const char *mailbox, void *arg)
{
	(void)mailbox;
	(void)arg;
	if (smtp_recipient_status(r)->code / 100 != 5)
		smtp_recipient_reset_status(r);
}

void
mp_submit_msg_dispose(struct mp_submit_msg *m)
{
	free(m->queue_id);
	free(m->reply);
	m->queue_id = m->reply = NULL;
}

/* Why the session stopped, when libesmtp itself gave up. */
static void
session_error(struct session *ss, char *out, size_t outlen)
{
	char e[128];
	int no = smtp_errno();

	if (ss->tls_error[0] != '\0') {
		snprintf(out, outlen, "TLS: %s", ss->tls_error);
		return;
	}
	if (ss->starttls_missing) {
		snprintf(out, outlen, "the server does not offer STARTTLS; nothing was sent");
		return;
	}
	if (no == SMTP_ERR_CLIENT_ERROR) {
		snprintf(out, outlen, "TLS handshake failed");
		return;
	}
	smtp_strerror(no, e, sizeof(e));
	if (no == SMTP_ERR_DROPPED_CONNECTION)
		snprintf(out, outlen, "connection lost or timed out (last reply: %s)",
			 ss->last_reply[0] ? ss->last_reply : "none");
	else if (no == SMTP_ERR_INVALID_RESPONSE_SYNTAX || no == SMTP_ERR_INVALID_RESPONSE_STATUS ||
		 no == SMTP_ERR_STATUS_MISMATCH || no == SMTP_ERR_UNTERMINATED_RESPONSE)
		snprintf(out, outlen, "the server sent an invalid reply (%s)", e);
	else
		snprintf(out, outlen, "%s", e);
}

enum outcome { DONE, RETRY, FAILED };

/* Looks at every status after one smtp_start_session(). */
static enum outcome
check(struct session *ss, smtp_message_t *mh, struct mp_submit_msg *msgs, size_t n, int started,
      char *why, size_t whylen)
{
	char t[REPLY_MAX], se[REPLY_MAX];
	enum outcome res = DONE;
	size_t i;

	session_error(ss, se, sizeof(se));
	if (!started) {
		snprintf(why, whylen, "cannot connect: %s", se);
		return FAILED;
	}
	if (ss->o->user != NULL && !ss->authenticated && ss->tls_ok) {
		snprintf(why, whylen, "authentication as %s failed%s%s", ss->o->user,
			 ss->auth_reply[0] ? ": " : " (the server offers no usable AUTH)",
			 ss->auth_reply);
		return FAILED;
	}
	for (i = 0; i < n; i++) {
		const smtp_status_t *mf, *tr;
		struct rcpt_state rs = {ss, 0, 0, ""};

		if (msgs[i].sent)
			continue;
		mf = smtp_reverse_path_status(mh[i]);
		tr = smtp_message_transfer_status(mh[i]);
		if (tr->code / 100 == 2) {
			clean_copy(t, sizeof(t), tr->text ? tr->text : "",
				   tr->text ? strlen(tr->text) : 0);
			smtp_enumerate_recipients(mh[i], rcpt_cb, &rs);
			msgs[i].sent = 1;
			free(msgs[i].reply);
			msgs[i].reply = mp_strdup_z(t);
			free(msgs[i].queue_id);
			msgs[i].queue_id = queue_id(t);
			if (rs.worst != 0) {
				/* accepted for some recipients only: it did go out */
				snprintf(why, whylen, "not every recipient was accepted: %s",
					 rs.reply);
				res = FAILED;
			}
			continue;
		}
		if (!ss->tls_ok || mf->code == 0) {
			snprintf(why, whylen, "%s", se);
			return FAILED;
		}
		if (mf->code / 100 != 2) {
			clean_copy(t, sizeof(t), mf->text ? mf->text : "",
				   mf->text ? strlen(mf->text) : 0);
			snprintf(why, whylen, "MAIL FROM refused: %d %s", mf->code, t);
			if (mf->code / 100 == 4 && res == DONE)
				res = RETRY;
			else
				return FAILED;
			continue;
		}
		smtp_enumerate_recipients(mh[i], rcpt_cb, &rs);
		/* With PIPELINING the DATA goes out anyway; its "no valid recipients" reply
		 * only repeats what the RCPT replies said. */
		if (rs.accepted == 0 && rs.worst == 4) {
			snprintf(why, whylen, "recipient deferred: %s", rs.reply);
			if (res == DONE)
				res = RETRY;
			continue;
		}
		if (rs.accepted == 0 && rs.worst == 5) {
			snprintf(why, whylen, "recipient refused: %s", rs.reply);
			return FAILED;
		}
		if (tr->code / 100 == 4 || (tr->code == 0 && rs.worst == 4)) {
			if (tr->code != 0) {
				clean_copy(t, sizeof(t), tr->text ? tr->text : "",
					   tr->text ? strlen(tr->text) : 0);
				snprintf(why, whylen, "message deferred: %d %s", tr->code, t);
			} else {
				snprintf(why, whylen, "recipient deferred: %s", rs.reply);
			}
			if (res == DONE)
				res = RETRY;
			continue;
		}
		if (tr->code / 100 == 5) {
			clean_copy(t, sizeof(t), tr->text ? tr->text : "",
				   tr->text ? strlen(tr->text) : 0);
			snprintf(why, whylen, "message refused: %d %s", tr->code, t);
		} else if (rs.worst == 5) {
			snprintf(why, whylen, "recipient refused: %s", rs.reply);
		} else {
			/* DATA never completed: nothing may be reported as sent */
			snprintf(why, whylen, "%s; the message was not accepted", se);
		}
		return FAILED;
	}
	return res;
}

int
mp_submit(const struct mp_submit_opts *o, struct mp_submit_msg *msgs, size_t n, struct mp_err *err)
{
	struct session ss;
	smtp_session_t s = NULL;
	smtp_message_t *mh = NULL;
	auth_context_t auth = NULL;
	SSL_CTX *ctx = NULL;
	char *host = NULL, server[HOST_MAX + 8], helo[256], why[2 * REPLY_MAX];
	unsigned port, delay, timeout_ms;
	time_t deadline;
	size_t i, k;
	int ret, started;

	memset(&ss, 0, sizeof(ss));
	ss.o = o;
	ss.trace = o->trace;
	mp_buf_init(&ss.line, 4096);
	why[0] = '\0';
	if ((ret = mp_submit_parse_relay(o->relay, &host, &port, err)) != 0)
		goto out;
	snprintf(ss.host, sizeof(ss.host), "%s", host);
	if ((ret = make_ctx(&ss, &ctx, err)) != 0)
		goto out;
	/* libesmtp writes without MSG_NOSIGNAL: a dropped connection must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	auth_client_init();
	if ((s = smtp_create_session()) == NULL || (mh = calloc(n ? n : 1, sizeof(*mh))) == NULL) {
		ret = mp_err_set(err, MP_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(server, sizeof(server), "%s:%u", host, port);
	if (o->helo != NULL)
		snprintf(helo, sizeof(helo), "%s", o->helo);
	else if (gethostname(helo, sizeof(helo)) != 0 || helo[0] == '\0')
		snprintf(helo, sizeof(helo), "localhost");
	helo[sizeof(helo) - 1] = '\0';
	timeout_ms = (o->timeout ? o->timeout : 60) * 1000;
	if (!smtp_set_server(s, server) || !smtp_set_hostname(s, helo) ||
	    !smtp_set_eventcb(s, event_cb, &ss) || !smtp_set_monitorcb(s, monitor_cb, &ss, 0) ||
	    !smtp_starttls_enable(s, Starttls_REQUIRED) || !smtp_starttls_set_ctx(s, ctx)) {
		ret = mp_err_set(err, MP_ENOMEM, "cannot set up the SMTP session");
		goto out;
	}
	smtp_set_timeout(s, Timeout_GREETING | Timeout_OVERRIDE_RFC2822_MINIMUM, timeout_ms);
	smtp_set_timeout(s, Timeout_ENVELOPE | Timeout_OVERRIDE_RFC2822_MINIMUM, timeout_ms);
	smtp_set_timeout(s, Timeout_DATA | Timeout_OVERRIDE_RFC2822_MINIMUM, timeout_ms);
	smtp_set_timeout(s, Timeout_TRANSFER | Timeout_OVERRIDE_RFC2822_MINIMUM, timeout_ms);
	smtp_set_timeout(s, Timeout_DATA2 | Timeout_OVERRIDE_RFC2822_MINIMUM, timeout_ms);
	if (o->user != NULL) {
		if ((auth = auth_create_context()) == NULL) {
			ret = mp_err_set(err, MP_ENOMEM, "out of memory");
			goto out;
		}
		/* without this flag PLAIN and LOGIN are skipped silently */
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, interact_cb, &ss);
		smtp_auth_set_context(s, auth);
	}
	for (i = 0; i < n; i++) {
		msgs[i].sent = 0;
		if ((mh[i] = smtp_add_message(s)) == NULL ||
		    !smtp_set_reverse_path(mh[i], o->envelope_from) ||
		    !smtp_set_messagecb(mh[i], message_cb, &msgs[i])) {
			ret = mp_err_set(err, MP_ENOMEM, "cannot set up the SMTP session");
			goto out;
		}
		for (k = 0; k < o->nto; k++)
			if (smtp_add_recipient(mh[i], o->to[k]) == NULL) {
				ret = mp_err_set(err, MP_ENOMEM, "cannot add a recipient");
				goto out;
			}
	}
	deadline = time(NULL) + (time_t)o->retry_for;
	delay = o->retry_base ? o->retry_base : 5;
	for (;;) {
		ss.tls_ok = ss.starttls_missing = ss.in_auth = ss.authenticated = false;
		ss.tls_error[0] = ss.auth_reply[0] = ss.last_reply[0] = '\0';
		started = smtp_start_session(s);
		switch (check(&ss, mh, msgs, n, started, why, sizeof(why))) {
		case DONE:
			ret = 0;
			goto out;
		case FAILED:
			ret = mp_err_set(err, MP_EIO, "%s: %s", server, why);
			goto out;
		case RETRY:
			break;
		}
		if (time(NULL) + (time_t)delay > deadline) {
			ret = mp_err_set(err, MP_ETEMP, "%s: still deferred after %u s: %s", server,
					 o->retry_for, why);
			goto out;
		}
		if (ss.trace != NULL)
			fprintf(ss.trace, "-- deferred (%s); trying again in %u s\n", why, delay);
		sleep(delay);
		delay = delay * 2 > 300 ? 300 : delay * 2;
		for (i = 0; i < n; i++)
			if (!msgs[i].sent) {
				smtp_message_reset_status(mh[i]);
				smtp_enumerate_recipients(mh[i], reset_rcpt, NULL);
			}
	}
out:
	if (s != NULL)
		smtp_destroy_session(s);
	if (auth != NULL)
		auth_destroy_context(auth);
	if (ctx != NULL)
		SSL_CTX_free(ctx);
	free(mh);
	free(host);
	mp_buf_dispose(&ss.line);
	return ret;
}
