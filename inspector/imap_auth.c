/*
 * imap_auth.c - see imap_auth.h.
 *
 * libetpan 1.9.4 has XOAUTH2 only, drops the error JSON, and its custom-command path
 * hangs on an error challenge; so the exchange is written here on its public calls:
 * mailimap_send_current_tag, mailstream_write, mailimap_read_line and
 * mailimap_parse_response (whose grammar takes continuation lines before the reply).
 */
#include "imap_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libetpan/libetpan.h>

#include "i18n.h"
#include "util.h"

int
mp_imap_auth_parse(const char *name, enum mp_auth_mech *out)
{
	enum mp_auth_mech m;

	for (m = MP_AUTH_AUTO; m <= MP_AUTH_OAUTHBEARER; m++)
		if (strcmp(name, mp_auth_mech_name(m)) == 0) {
			*out = m;
			return 0;
		}
	return MP_EINVAL;
}

const char *
mp_imap_auth_mech(enum mp_auth_mech m)
{
	return m == MP_AUTH_LOGIN     ? "LOGIN"
	       : m == MP_AUTH_PLAIN   ? "PLAIN"
	       : m == MP_AUTH_XOAUTH2 ? "XOAUTH2"
				      : "OAUTHBEARER";
}

bool
mp_imap_auth_is_oauth(enum mp_auth_mech m)
{
	return m == MP_AUTH_XOAUTH2 || m == MP_AUTH_OAUTHBEARER;
}

int
mp_imap_auth_caps(struct mailimap *imap, struct mp_imap_caps *caps, struct mp_err *err)
{
	struct mailimap_capability_data *cd = NULL;

	memset(caps, 0, sizeof(*caps));
	/* Gmail's and Exchange's greetings carry no capabilities, and those seen before
	 * STARTTLS are void after it (RFC 3501 6.2.1): always ask. */
	if (mailimap_capability(imap, &cd) != MAILIMAP_NO_ERROR)
		return mp_err_set(err, MP_EIO, "CAPABILITY failed");
	mailimap_capability_data_free(cd);
	caps->plain = mailimap_has_authentication(imap, "PLAIN") != 0;
	caps->xoauth2 = mailimap_has_authentication(imap, "XOAUTH2") != 0;
	caps->oauthbearer = mailimap_has_authentication(imap, "OAUTHBEARER") != 0;
	caps->sasl_ir = mailimap_has_extension(imap, "SASL-IR") != 0;
	caps->logindisabled = mailimap_has_extension(imap, "LOGINDISABLED") != 0;
	return 0;
}

int
mp_imap_auth_choose(enum mp_auth_mech want, bool have_token, const struct mp_imap_caps *caps,
		    const char *host, enum mp_auth_mech *out, struct mp_err *err)
{
	*out = want;
	switch (want) {
	case MP_AUTH_AUTO:
		if (have_token) {
			if (caps->oauthbearer || caps->xoauth2) {
				*out = caps->oauthbearer ? MP_AUTH_OAUTHBEARER : MP_AUTH_XOAUTH2;
				return 0;
			}
			return mp_err_set(
			    err, MP_EIO,
			    _("%s: the server offers neither OAUTHBEARER nor XOAUTH2: "
			      "it does not take OAuth 2.0 tokens"),
			    host);
		}
		if (caps->plain) {
			*out = MP_AUTH_PLAIN;
			return 0;
		}
		*out = MP_AUTH_LOGIN;
		/* FALLTHROUGH */
	case MP_AUTH_LOGIN:
		if (caps->logindisabled)
			return mp_err_set(
			    err, MP_EIO, _("%s: the server refuses LOGIN (LOGINDISABLED)%s"), host,
			    caps->plain ? "" : _(" and offers no AUTHENTICATE PLAIN"));
		return 0;
	case MP_AUTH_PLAIN:
		if (caps->plain)
			return 0;
		break;
	case MP_AUTH_XOAUTH2:
		if (caps->xoauth2)
			return 0;
		break;
	case MP_AUTH_OAUTHBEARER:
		if (caps->oauthbearer)
			return 0;
		break;
	}
	return mp_err_set(err, MP_EIO, _("%s: the server does not offer AUTHENTICATE %s"), host,
			  mp_imap_auth_mech(want));
}

/* ---- base64 (RFC 4648 section 4), bounded by the callers ---- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encodes n bytes into out (room for 4 * ((n + 2) / 3) + 1). */
static void
b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = b64_alphabet[v >> 6 & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (i < n) {
		v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64_alphabet[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* Decodes (in, n) into out (room for n); stops at '=' or the first byte outside the
 * alphabet.  Returns the decoded length. */
static size_t
b64_decode(const char *in, size_t n, unsigned char *out)
{
	uint32_t v = 0;
	size_t i, o = 0;
	int bits = 0;
	const char *p;

	for (i = 0; i < n && in[i] != '='; i++) {
		if (in[i] == '\0' || (p = strchr(b64_alphabet, in[i])) == NULL)
			break;
		v = (v << 6 | (uint32_t)(p - b64_alphabet)) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits & 0xff);
		}
	}
	return o;
}

/* ---- the exchange ---- */

/* Appends (p, n) to the bounded buffer; false when it would not fit. */
static bool
put(char *buf, size_t cap, size_t *len, const char *p, size_t n)
{
	if (n > cap - *len)
		return false;
	memcpy(buf + *len, p, n);
	*len += n;
	return true;
}

static bool
puts_(char *buf, size_t cap, size_t *len, const char *s)
{
	return put(buf, cap, len, s, strlen(s));
}

/* RFC 5801 saslname: ',' and '=' are written =2C and =3D. */
static bool
put_saslname(char *buf, size_t cap, size_t *len, const char *s)
{
	bool ok = true;

	for (; *s != '\0' && ok; s++)
		ok = *s == ','	 ? puts_(buf, cap, len, "=2C")
		     : *s == '=' ? puts_(buf, cap, len, "=3D")
				 : put(buf, cap, len, s, 1);
	return ok;
}

/* The client's first message, in clear (caller wipes it). */
static bool
initial_response(const struct mp_sasl_login *l, char *buf, size_t cap, size_t *len)
{
	char port[8];

	*len = 0;
	switch (l->mech) {
	case MP_AUTH_PLAIN: /* RFC 4616: [authzid] NUL authcid NUL passwd */
		return put(buf, cap, len, "", 1) && puts_(buf, cap, len, l->user) &&
		       put(buf, cap, len, "", 1) && puts_(buf, cap, len, l->secret);
	case MP_AUTH_XOAUTH2: /* Google's and Microsoft's documented format */
		return puts_(buf, cap, len, "user=") && puts_(buf, cap, len, l->user) &&
		       puts_(buf, cap, len, "\001auth=Bearer ") &&
		       puts_(buf, cap, len, l->secret) && puts_(buf, cap, len, "\001\001");
	case MP_AUTH_OAUTHBEARER: /* RFC 7628 3.1; Dovecot 2.3 insists on a= */
		snprintf(port, sizeof(port), "%u", (unsigned)l->port);
		return puts_(buf, cap, len, "n,a=") && put_saslname(buf, cap, len, l->user) &&
		       puts_(buf, cap, len, ",\001host=") && puts_(buf, cap, len, l->host) &&
		       puts_(buf, cap, len, "\001port=") && puts_(buf, cap, len, port) &&
		       puts_(buf, cap, len, "\001auth=Bearer ") &&
		       puts_(buf, cap, len, l->secret) && puts_(buf, cap, len, "\001\001");
	default:
		return false;
	}
}

/* Writes a line that may hold a secret: a logger sees it as private data only. */
static int
send_private(mailimap *imap, const char *s, size_t n)
{
	int rc = 0;

	mailstream_set_privacy(imap->imap_stream, 0);
	if (mailstream_write(imap->imap_stream, s, n) != (ssize_t)n ||
	    mailstream_flush(imap->imap_stream) == -1)
		rc = MP_EIO;
	mailstream_set_privacy(imap->imap_stream, 1);
	return rc;
}

static bool
is_continuation(const char *line)
{
	return line != NULL && line[0] == '+' &&
	       (line[1] == ' ' || line[1] == '\r' || line[1] == '\n' || line[1] == '\0');
}

/* The "status" of an error challenge's JSON (RFC 7628 3.2.2), printable ASCII only. */
void
mp_sasl_challenge_status(const char *line, char *status, size_t cap)
{
	unsigned char *raw = NULL;
	const char *b, *s;
	json_error_t jerr;
	json_t *j = NULL;
	size_t n, i, o = 0;

	if (cap == 0)
		return;
	status[0] = '\0';
	if (line == NULL)
		return;
	b = line[0] == '+' ? line + 1 : line;
	while (*b == ' ')
		b++;
	n = strcspn(b, "\r\n");
	if (n == 0 || n > MP_SASL_CHALLENGE_MAX || (raw = malloc(n)) == NULL)
		goto out;
	n = b64_decode(b, n, raw);
	j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, &jerr);
	s = json_string_value(json_object_get(j, "status"));
	for (i = 0; s != NULL && s[i] != '\0' && o + 1 < cap; i++)
		if (s[i] > 0x20 && s[i] < 0x7f)
			status[o++] = s[i];
	status[o] = '\0';
out:
	json_decref(j);
	free(raw);
}

static const char *
reply_text(mailimap *imap)
{
	const char *t = imap->imap_response;

	return t != NULL && *t != '\0' ? t : "no reason given";
}

int
mp_imap_sasl(struct mailimap *imap, const struct mp_sasl_login *l, enum mp_sasl_outcome *outcome,
	     struct mp_err *err)
{
	/* 2 * MP_OAUTH2_TOKEN_MAX leaves room for the user, host and framing. */
	enum { RAW_MAX = 2 * MP_OAUTH2_TOKEN_MAX, LINE_MAX_ = 4 * (RAW_MAX / 3 + 1) + 64 };
	struct mailimap_response *resp = NULL;
	char *raw = NULL, *line = NULL, status[48] = "";
	const char *got, *mech = mp_imap_auth_mech(l->mech), *atom;
	size_t rawlen = 0, len, pre;
	int cond = -1, rc = MP_EIO;

	*outcome = MP_SASL_BROKEN;
	if (imap->imap_state != MAILIMAP_STATE_NON_AUTHENTICATED)
		return mp_err_set(err, MP_EIO, "%s: not in the state to log in", l->host);
	raw = malloc(RAW_MAX);
	line = malloc(LINE_MAX_);
	if (raw == NULL || line == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, "out of memory");
		goto out;
	}
	if (!initial_response(l, raw, RAW_MAX, &rawlen)) {
		rc = mp_err_set(err, MP_EINVAL, _("%s: the user name or secret is too long"),
				l->host);
		goto out;
	}
	/* "AUTHENTICATE MECH[ initial-response]" (RFC 4959); the tag comes first. */
	len = (size_t)snprintf(line, LINE_MAX_, "AUTHENTICATE %s", mech);
	pre = len;
	if (l->sasl_ir) {
		line[len++] = ' ';
		b64_encode((const unsigned char *)raw, rawlen, line + len);
		len += strlen(line + len);
	}
	memcpy(line + len, "\r\n", 3);
	len += 2;
	if (mailimap_send_current_tag(imap) != MAILIMAP_NO_ERROR ||
	    send_private(imap, line, len) != 0) {
		mp_err_set(err, MP_EIO, _("%s: the connection broke during AUTHENTICATE %s"),
			   l->host, mech);
		goto out;
	}
	explicit_bzero(line + pre, len - pre);
	got = mailimap_read_line(imap);
	if (!l->sasl_ir && is_continuation(got)) {
		/* The empty challenge; the response goes on a line of its own (RFC 3501 6.2.2). */
		b64_encode((const unsigned char *)raw, rawlen, line);
		len = strlen(line);
		memcpy(line + len, "\r\n", 3);
		len += 2;
		rc = send_private(imap, line, len);
		explicit_bzero(line, len);
		if (rc != 0) {
			rc = mp_err_set(err, MP_EIO,
					_("%s: the connection broke during AUTHENTICATE %s"),
					l->host, mech);
			goto out;
		}
		rc = MP_EIO;
		got = mailimap_read_line(imap);
	}
	if (is_continuation(got)) {
		/* An error challenge (RFC 7628 3.2.2): keep its status, then answer it as the
		 * mechanism wants, so that the server sends its tagged reply. */
		mp_sasl_challenge_status(got, status, sizeof(status));
		if (send_private(imap,
				 l->mech == MP_AUTH_OAUTHBEARER ? "AQ==\r\n"
				 : l->mech == MP_AUTH_XOAUTH2	? "\r\n"
								: "*\r\n",
				 l->mech == MP_AUTH_OAUTHBEARER ? 6
				 : l->mech == MP_AUTH_XOAUTH2	? 2
								: 3) != 0) {
			mp_err_set(err, MP_EIO,
				   _("%s: the connection broke during AUTHENTICATE %s"), l->host,
				   mech);
			goto out;
		}
	}
	if (got == NULL || mailimap_parse_response(imap, &resp) != MAILIMAP_NO_ERROR) {
		mp_err_set(err, MP_EIO,
			   _("%s: no reply to AUTHENTICATE %s in time, or the connection broke"),
			   l->host, mech);
		goto out;
	}
	if (resp->rsp_resp_done != NULL &&
	    resp->rsp_resp_done->rsp_type == MAILIMAP_RESP_DONE_TYPE_TAGGED)
		cond = resp->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->rsp_type;
	else {
		mp_err_set(err, MP_EIO, _("%s: the server closed the connection: %.120s"), l->host,
			   reply_text(imap));
		goto out;
	}
	if (cond == MAILIMAP_RESP_COND_STATE_OK) {
		imap->imap_state = MAILIMAP_STATE_AUTHENTICATED;
		*outcome = MP_SASL_OK;
		rc = 0;
		goto out;
	}
	atom = imap->imap_response_info != NULL ? imap->imap_response_info->rsp_atom : NULL;
	if (atom != NULL && strcasecmp(atom, "UNAVAILABLE") == 0) {
		*outcome = MP_SASL_UNAVAILABLE;
		mp_err_set(err, MP_EIO,
			   _("%s: authentication is temporarily unavailable on the server "
			     "(UNAVAILABLE): %.120s; try again later"),
			   l->host, reply_text(imap));
	} else if (cond == MAILIMAP_RESP_COND_STATE_NO) {
		/* [AUTHENTICATIONFAILED] (Dovecot, with a JSON status 401 or invalid_token
		 * before it) or a bare NO (Microsoft): the credentials were not accepted. */
		*outcome = MP_SASL_REJECTED;
		if (mp_imap_auth_is_oauth(l->mech))
			mp_err_set(
			    err, MP_EIO,
			    _("%s: the server rejected the OAuth 2.0 token for %s (%s%s%.100s); "
			      "it may have expired, lack the mail scope or be for another user"),
			    l->host, l->user, status, status[0] ? ": " : "", reply_text(imap));
		else
			mp_err_set(err, MP_EIO, _("%s: login as %s failed: %.120s"), l->host,
				   l->user, reply_text(imap));
	} else {
		*outcome = MP_SASL_FAILED;
		mp_err_set(err, MP_EIO, _("%s: AUTHENTICATE %s failed: %.120s"), l->host, mech,
			   reply_text(imap));
	}
out:
	if (resp != NULL)
		mailimap_response_free(resp);
	if (raw != NULL) {
		explicit_bzero(raw, RAW_MAX);
		free(raw);
	}
	if (line != NULL) {
		explicit_bzero(line, LINE_MAX_);
		free(line);
	}
	return rc;
}

/* ---- tokens ---- */

int
mp_oauth2_token_check(const char *token, const char *what, struct mp_err *err)
{
	size_t i, n = strlen(token);

	if (n == 0)
		return mp_err_set(err, MP_EINVAL, _("%s holds no token"), what);
	if (n > MP_OAUTH2_TOKEN_MAX)
		return mp_err_set(err, MP_ETOOBIG, _("%s: the token is longer than %d bytes"), what,
				  MP_OAUTH2_TOKEN_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)token[i] <= 0x20 || (unsigned char)token[i] >= 0x7f)
			return mp_err_set(err, MP_EINVAL,
					  _("%s: the token holds spaces, control or non-ASCII "
					    "characters"),
					  what);
	return 0;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
mp_oauth2_token_run(const char *command, char **token, struct mp_err *err)
{
	char *buf = NULL;
	const char *what = _("the token command");
	double deadline = mono_s() + MP_OAUTH2_COMMAND_TIMEOUT, left;
	size_t n = 0, first;
	int fds[2] = {-1, -1}, status = 0, rc = MP_EIO, devnull;
	bool timed_out = false, too_big = false, reaped = false, own_group;
	struct pollfd pfd;
	ssize_t r;
	pid_t pid = -1, w;

	*token = NULL;
	if ((buf = malloc(MP_OAUTH2_TOKEN_MAX + 1)) == NULL)
		return mp_err_set(err, MP_ENOMEM, "out of memory");
	if (pipe(fds) != 0 || fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0) {
		mp_err_set(err, MP_EIO, "%s: %s", what, strerror(errno));
		goto out;
	}
	fflush(NULL);
	/* Without a terminal nobody answers a prompt: the command gets a process group of its
	 * own, so a timeout stops its children too.  On a terminal it stays in ours, where it
	 * may prompt (a first sign-in), and only the shell is stopped. */
	own_group = !isatty(STDIN_FILENO);
	if ((pid = fork()) < 0) {
		mp_err_set(err, MP_EIO, "%s: %s", what, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		if (own_group)
			(void)setpgid(0, 0);
		/* Standard output is the token; standard error and input stay ours, so that a
		 * command can prompt or show a device code. */
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		if (fcntl(STDIN_FILENO, F_GETFD) < 0 &&
		    (devnull = open("/dev/null", O_RDONLY)) >= 0 && devnull != STDIN_FILENO)
			dup2(devnull, STDIN_FILENO);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	if (own_group)
		(void)setpgid(pid, pid); /* also here, so the group exists before any kill */
	close(fds[1]);
	fds[1] = -1;
	for (;;) {
		left = deadline - mono_s();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		pfd.fd = fds[0];
		pfd.events = POLLIN;
		r = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0)
			continue;
		r = read(fds[0], buf + n, MP_OAUTH2_TOKEN_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n > MP_OAUTH2_TOKEN_MAX) {
			too_big = true;
			break;
		}
	}
	/* Stdout is closed; the command gets what is left of its time to exit. */
	while (!timed_out && !too_big) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			reaped = true;
			break;
		}
		if (w < 0 && errno != EINTR)
			break;
		if (mono_s() >= deadline) {
			timed_out = true;
			break;
		}
		usleep(10000);
	}
	if (!reaped) {
		if (own_group)
			kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	buf[n <= MP_OAUTH2_TOKEN_MAX ? n : MP_OAUTH2_TOKEN_MAX] = '\0';
	if (timed_out) {
		mp_err_set(err, MP_EIO, _("%s did not finish within %d s"), what,
			   MP_OAUTH2_COMMAND_TIMEOUT);
		goto out;
	}
	if (too_big) {
		mp_err_set(err, MP_EIO, _("%s printed more than %d bytes"), what,
			   MP_OAUTH2_TOKEN_MAX);
		goto out;
	}
	if (WIFSIGNALED(status)) {
		mp_err_set(err, MP_EIO, _("%s was killed by signal %d"), what, WTERMSIG(status));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		mp_err_set(err, MP_EIO, _("%s failed (exit status %d)"), what,
			   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto out;
	}
	/* The first line, without surrounding blanks; a NUL byte in it would cut it short. */
	for (first = 0; first < n && buf[first] != '\r' && buf[first] != '\n'; first++)
		if (buf[first] == '\0') {
			mp_err_set(err, MP_EIO, _("%s printed a NUL byte"), what);
			goto out;
		}
	buf[first] = '\0';
	while (first > 0 && (buf[first - 1] == ' ' || buf[first - 1] == '\t'))
		buf[--first] = '\0';
	n = strspn(buf, " \t");
	if (buf[n] == '\0') {
		mp_err_set(err, MP_EIO, _("%s printed no token"), what);
		goto out;
	}
	if (mp_oauth2_token_check(buf + n, what, err) != 0) {
		err->code = MP_EIO;
		goto out;
	}
	if ((*token = mp_strdup_z(buf + n)) == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	explicit_bzero(buf, MP_OAUTH2_TOKEN_MAX + 1);
	free(buf);
	return rc;
}
