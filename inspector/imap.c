/*
 * imap.c - see imap.h.
 *
 * libetpan does the protocol; TLS trust is ours: the chain the server presented in the
 * handshake is checked against the CA store and the host name (or IP) with OpenSSL
 * before LOGIN, over implicit TLS and STARTTLS alike.
 */
#include "imap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "i18n.h"
#include "provider.h"
#include "util.h"

#define HOST_MAX 255

struct mp_imap {
	mailimap *imap;
	char host[HOST_MAX + 1];
	uint16_t port;
	bool implicit_tls;
	int verbose;
	uint32_t uidvalidity;
	char *examined; /* folder currently examined, or NULL */
	/* What earlier searches of this session covered: a search for the same value in the
	 * same folder only has to look at UIDs from `upto` on (RFC 3501 2.3.1.1: UIDs grow). */
	struct searched {
		char *folder;
		char *value;
		uint32_t uidvalidity;
		uint32_t upto;
		bool shortcut_hit; /* the newest UIDs or the hint found something last time */
	} searched[MP_IMAP_MAX_FOLDERS];
	size_t nsearched;
};

#define RECENT_WINDOW 200 /* newest UIDs searched first: the test message is recent */

/* Set by mp_imap_open: see mp_imap_last_open_unreachable(). */
static _Thread_local bool last_open_unreachable;

static void vlog(const struct mp_imap *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
vlog(const struct mp_imap *im, const char *fmt, ...)
{
	va_list ap;

	if (im->verbose <= 0)
		return;
	fputs("mailproof-inspect: imap: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* imaps://HOST[:PORT] or imap://HOST[:PORT]; IPv6 literals in brackets. */
static int
parse_url(struct mp_imap *im, const char *url, struct mp_err *err)
{
	const char *p, *host, *end, *colon;
	size_t hn;
	unsigned long port;
	char *e;

	if (strncmp(url, "imaps://", 8) == 0) {
		im->implicit_tls = true;
		im->port = 993;
		p = url + 8;
	} else if (strncmp(url, "imap://", 7) == 0) {
		im->implicit_tls = false;
		im->port = 143;
		p = url + 7;
	} else {
		return mp_err_set(err, MP_EINVAL,
				  _("--imap must start with imaps:// or imap:// (STARTTLS)"));
	}
	end = p + strcspn(p, "/?#");
	if (*end != '\0' && !(end[0] == '/' && end[1] == '\0'))
		return mp_err_set(err, MP_EINVAL, _("--imap takes only a host and a port"));
	if (*p == '[') {
		host = p + 1;
		colon = memchr(host, ']', (size_t)(end - host));
		if (colon == NULL)
			return mp_err_set(err, MP_EINVAL, _("--imap: unterminated [IPv6 address]"));
		hn = (size_t)(colon - host);
		colon = colon[1] == ':' ? colon + 1 : NULL;
	} else {
		host = p;
		colon = memchr(host, ':', (size_t)(end - host));
		hn = (size_t)((colon != NULL ? colon : end) - host);
	}
	if (hn == 0 || hn > HOST_MAX)
		return mp_err_set(err, MP_EINVAL, _("--imap: missing or too long host name"));
	memcpy(im->host, host, hn);
	im->host[hn] = '\0';
	if (colon != NULL) {
		port = strtoul(colon + 1, &e, 10);
		if (e != end || port == 0 || port > 65535)
			return mp_err_set(err, MP_EINVAL, _("--imap: bad port"));
		im->port = (uint16_t)port;
	}
	return 0;
}

static void
sni_cb(struct mailstream_ssl_context *ctx, void *data)
{
	struct mp_imap *im = data;
	unsigned char buf[16];

	/* SNI carries names only (RFC 6066 section 3). */
	if (inet_pton(AF_INET, im->host, buf) != 1 && inet_pton(AF_INET6, im->host, buf) != 1)
		mailstream_ssl_set_server_name(ctx, im->host);
}

/*
 * Checks the chain the server presented against the CA store and our host name.
 * The handshake proved the server holds the leaf's key; this proves the leaf is the
 * right one.  Runs before any credential is sent.
 */
static int
verify_peer(struct mp_imap *im, const char *ca_file, struct mp_err *err)
{
	carray *chain = mailstream_get_certificate_chain(im->imap->imap_stream);
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *leaf = NULL;
	unsigned char ipbuf[16];
	unsigned i;
	int rc = MP_EIO, vr;

	if (chain == NULL || carray_count(chain) == 0) {
		mp_err_set(err, MP_EIO, _("%s: the server presented no certificate"), im->host);
		goto out;
	}
	untrusted = sk_X509_new_null();
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (untrusted == NULL || store == NULL || ctx == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	for (i = 0; i < carray_count(chain); i++) {
		MMAPString *der = carray_get(chain, i);
		const unsigned char *p = (const unsigned char *)der->str;
		X509 *x = d2i_X509(NULL, &p, (long)der->len);

		if (x == NULL) {
			mp_err_set(err, MP_EIO, _("%s: the server's certificate cannot be decoded"),
				   im->host);
			goto out;
		}
		if (leaf == NULL)
			leaf = x;
		else if (!sk_X509_push(untrusted, x)) {
			X509_free(x);
			rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
			goto out;
		}
	}
	if (ca_file != NULL ? X509_STORE_load_file(store, ca_file) != 1
			    : X509_STORE_set_default_paths(store) != 1) {
		mp_err_set(err, MP_EIO, _("%s: cannot load the CA certificates"),
			   ca_file != NULL ? ca_file : _("system store"));
		goto out;
	}
	if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	if (inet_pton(AF_INET, im->host, ipbuf) == 1 || inet_pton(AF_INET6, im->host, ipbuf) == 1)
		X509_VERIFY_PARAM_set1_ip_asc(X509_STORE_CTX_get0_param(ctx), im->host);
	else
		X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), im->host, 0);
	if (X509_verify_cert(ctx) != 1) {
		vr = X509_STORE_CTX_get_error(ctx);
		mp_err_set(err, MP_EIO, _("%s: certificate not trusted: %s%s"), im->host,
			   X509_verify_cert_error_string(vr),
			   ca_file == NULL ? _(" (use --ca-file for a private CA)") : "");
		goto out;
	}
	vlog(im, "certificate of %s verified", im->host);
	rc = 0;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(leaf);
	sk_X509_pop_free(untrusted, X509_free);
	if (chain != NULL)
		mailstream_certificate_chain_free(chain);
	return rc;
}

static const char *
server_text(const struct mp_imap *im)
{
	const char *t = im->imap != NULL ? im->imap->imap_response : NULL;

	return t != NULL && *t != '\0' ? t : _("no reason given");
}

/* Connects, secures the connection and verifies the server's certificate. */
static int
connect_secure(struct mp_imap *im, const struct mp_imap_opts *opts, struct mp_err *err)
{
	int r;

	if ((im->imap = mailimap_new(0, NULL)) == NULL)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	mailimap_set_timeout(im->imap, opts->timeout_s > 0 ? opts->timeout_s : 30);
	vlog(im, "connecting to %s", opts->url);
	if (im->implicit_tls)
		r = mailimap_ssl_connect_with_callback(im->imap, im->host, im->port, sni_cb, im);
	else
		r = mailimap_socket_connect(im->imap, im->host, im->port);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		last_open_unreachable = true;
		return mp_err_set(err, MP_EIO, _("%s:%u: cannot connect%s"), im->host, im->port,
				  r == MAILIMAP_ERROR_SSL ? _(" (TLS handshake failed)") : "");
	}
	if (!im->implicit_tls) {
		/* PREAUTH on a plain connection leaves no way to secure it (RFC 3501 6.2.1). */
		if (r == MAILIMAP_NO_ERROR_AUTHENTICATED)
			return mp_err_set(err, MP_EIO,
					  _("%s: the server pre-authenticated a plain "
					    "connection; refusing to go on without TLS"),
					  im->host);
		r = mailimap_socket_starttls_with_callback(im->imap, sni_cb, im);
		if (r != MAILIMAP_NO_ERROR)
			return mp_err_set(err, MP_EIO,
					  _("%s: STARTTLS failed or is not offered; "
					    "refusing to log in without TLS"),
					  im->host);
	}
	return verify_peer(im, opts->ca_file, err);
}

/*
 * Logs in on the secured connection with the mechanism of opts->auth (imap_auth.h).
 * A token command runs here, so every login (and every reconnect) has a fresh token.
 * *outcome tells a rejected token from other failures.
 */
static int
login(struct mp_imap *im, const struct mp_imap_opts *opts, enum mp_sasl_outcome *outcome,
      struct mp_err *err)
{
	struct mp_imap_caps caps;
	struct mp_sasl_login l = {0};
	enum mp_auth_mech mech;
	char *fresh = NULL;
	const char *token = opts->token;
	bool oauth = opts->token != NULL || opts->token_command != NULL;
	int r, rc;

	*outcome = MP_SASL_BROKEN;
	if (im->imap->imap_state == MAILIMAP_STATE_AUTHENTICATED)
		return 0; /* PREAUTH over implicit TLS */
	if ((rc = mp_imap_auth_caps(im->imap, &caps, err)) != 0) {
		mp_err_set(err, MP_EIO, _("%s: CAPABILITY failed: %.120s"), im->host,
			   server_text(im));
		goto out;
	}
	if ((rc = mp_imap_auth_choose(opts->auth, oauth, &caps, im->host, &mech, err)) != 0) {
		*outcome = MP_SASL_FAILED;
		goto out;
	}
	if (mech == MP_AUTH_LOGIN) {
		vlog(im, "LOGIN as %s (password not shown)", opts->user);
		r = mailimap_login(im->imap, opts->user, opts->password);
		if (r != MAILIMAP_NO_ERROR) {
			*outcome = r == MAILIMAP_ERROR_LOGIN ? MP_SASL_REJECTED : MP_SASL_BROKEN;
			rc = mp_err_set(err, MP_EIO, _("%s: login as %s failed: %.120s"), im->host,
					opts->user, server_text(im));
		}
		goto out;
	}
	if (mp_imap_auth_is_oauth(mech) && opts->token_command != NULL) {
		vlog(im, "running the token command");
		if ((rc = mp_oauth2_token_run(opts->token_command, &fresh, err)) != 0) {
			*outcome = MP_SASL_FAILED;
			goto out;
		}
		token = fresh;
	}
	l.mech = mech;
	l.user = opts->user;
	l.secret = mp_imap_auth_is_oauth(mech) ? token : opts->password;
	l.host = im->host;
	l.port = im->port;
	l.sasl_ir = caps.sasl_ir;
	vlog(im, "AUTHENTICATE %s as %s%s (%s not shown)", mp_imap_auth_mech(mech), opts->user,
	     caps.sasl_ir ? " with SASL-IR" : "",
	     mp_imap_auth_is_oauth(mech) ? "token" : "password");
	rc = mp_imap_sasl(im->imap, &l, outcome, err);
	if (rc == 0)
		vlog(im, "logged in");
out:
	mp_free_secret(fresh);
	return rc;
}

int
mp_imap_open(struct mp_imap **out, const struct mp_imap_opts *opts, struct mp_err *err)
{
	enum mp_sasl_outcome outcome;
	struct mp_imap *im;
	int attempt, rc;

	*out = NULL;
	last_open_unreachable = false;
	/* libetpan writes with write()/gnutls without MSG_NOSIGNAL: a server that went away
	 * (restarted) would kill the process with SIGPIPE instead of returning an error that
	 * the wait loop turns into a reconnect. */
	signal(SIGPIPE, SIG_IGN);
	if ((im = calloc(1, sizeof(*im))) == NULL)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	im->verbose = opts->verbose;
	if ((rc = parse_url(im, opts->url, err)) != 0)
		goto fail;
	if (opts->user == NULL ||
	    (opts->password == NULL && opts->token == NULL && opts->token_command == NULL)) {
		rc = mp_err_set(err, MP_EINVAL, _("IMAP needs --user and a password or token"));
		goto fail;
	}
	for (attempt = 0;; attempt++) {
		if (im->imap == NULL && (rc = connect_secure(im, opts, err)) != 0)
			goto fail;
		if ((rc = login(im, opts, &outcome, err)) == 0)
			break;
		/* A rejected token may just have expired: the command gets one more chance. */
		if (attempt > 0 || outcome != MP_SASL_REJECTED || opts->token_command == NULL ||
		    (opts->auth != MP_AUTH_AUTO && !mp_imap_auth_is_oauth(opts->auth)))
			goto fail;
		vlog(im, "%s; trying once more with a fresh token", err->msg);
		/* Reuse the session when the server kept it (Dovecot does), else start anew. */
		if (im->imap->imap_state != MAILIMAP_STATE_NON_AUTHENTICATED ||
		    mailimap_noop(im->imap) != MAILIMAP_NO_ERROR) {
			mailimap_free(im->imap);
			im->imap = NULL;
		}
	}
	*out = im;
	return 0;
fail:
	mp_imap_close(im);
	return rc;
}

bool
mp_imap_last_open_unreachable(void)
{
	return last_open_unreachable;
}

void
mp_imap_close(struct mp_imap *im)
{
	if (im == NULL)
		return;
	if (im->imap != NULL) {
		if (im->imap->imap_state != MAILIMAP_STATE_DISCONNECTED)
			mailimap_logout(im->imap);
		mailimap_free(im->imap);
	}
	free(im->examined);
	for (size_t i = 0; i < im->nsearched; i++) {
		free(im->searched[i].folder);
		free(im->searched[i].value);
	}
	free(im);
}

static bool
has_flag(const struct mailimap_mailbox_list *mb, const char *flag)
{
	clistiter *it;

	if (mb->mb_flag == NULL || mb->mb_flag->mbf_oflags == NULL)
		return false;
	for (it = clist_begin(mb->mb_flag->mbf_oflags); it != NULL; it = clist_next(it)) {
		const struct mailimap_mbx_list_oflag *of = clist_content(it);

		if (of->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT && of->of_flag_ext != NULL &&
		    strcasecmp(of->of_flag_ext, flag) == 0)
			return true;
	}
	return false;
}

/* Well-known spam folder names, English and Dutch (core/provider.c), at the top or under
 * INBOX or [Gmail], split at the server's own delimiter (0 when unknown). */
static bool
junk_by_name(const char *name, char delim)
{
	return mp_provider_junk_name(name, delim);
}

static int
add_folder(char **names, bool *junk, size_t *n, const char *name, bool is_junk)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(names[i], name) == 0) {
			junk[i] = junk[i] || is_junk;
			return 0;
		}
	if (*n >= MP_IMAP_MAX_FOLDERS)
		return 0;
	if ((names[*n] = mp_strdup_z(name)) == NULL)
		return MP_ENOMEM;
	junk[*n] = is_junk;
	(*n)++;
	return 0;
}

int
mp_imap_folders(struct mp_imap *im, const char *const *extra, size_t nextra, char ***names,
		bool **is_junk, size_t *n, struct mp_err *err)
{
	clist *list = NULL;
	clistiter *it;
	char **nm;
	bool *jk;
	size_t cnt = 0, i;
	int rc = 0;

	nm = calloc(MP_IMAP_MAX_FOLDERS, sizeof(*nm));
	jk = calloc(MP_IMAP_MAX_FOLDERS, sizeof(*jk));
	if (nm == NULL || jk == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	if ((rc = add_folder(nm, jk, &cnt, "INBOX", false)) != 0)
		goto out;
	if (mailimap_list(im->imap, "", "*", &list) != MAILIMAP_NO_ERROR) {
		rc = mp_err_set(err, MP_EIO, _("%s: LIST failed: %.120s"), im->host,
				server_text(im));
		goto out;
	}
	for (it = clist_begin(list); it != NULL; it = clist_next(it)) {
		const struct mailimap_mailbox_list *mb = clist_content(it);

		/* RFC 6154: \Junk marks the spam folder whatever its name. */
		if (has_flag(mb, "Junk") ||
		    (!has_flag(mb, "Noselect") && junk_by_name(mb->mb_name, mb->mb_delimiter)))
			if ((rc = add_folder(nm, jk, &cnt, mb->mb_name, true)) != 0)
				goto out;
	}
	for (i = 0; i < nextra; i++)
		if ((rc = add_folder(nm, jk, &cnt, extra[i], junk_by_name(extra[i], '\0'))) != 0)
			goto out;
out:
	if (list != NULL)
		mailimap_list_result_free(list);
	if (rc != 0) {
		mp_imap_folders_free(nm, jk, cnt);
		if (rc == MP_ENOMEM)
			mp_err_set(err, MP_ENOMEM, _("out of memory"));
		return rc;
	}
	*names = nm;
	*is_junk = jk;
	*n = cnt;
	return 0;
}

void
mp_imap_folders_free(char **names, bool *is_junk, size_t n)
{
	size_t i;

	if (names != NULL)
		for (i = 0; i < n; i++)
			free(names[i]);
	free(names);
	free(is_junk);
}

static int
examine(struct mp_imap *im, const char *folder, struct mp_err *err)
{
	if (im->examined != NULL && strcmp(im->examined, folder) == 0)
		return 0;
	free(im->examined);
	im->examined = NULL;
	vlog(im, "EXAMINE %s", folder);
	if (mailimap_examine(im->imap, folder) != MAILIMAP_NO_ERROR)
		return mp_err_set(err, MP_EIO, _("%s: cannot open folder %s: %.120s"), im->host,
				  folder, server_text(im));
	im->uidvalidity = im->imap->imap_selection_info != NULL
				  ? im->imap->imap_selection_info->sel_uidvalidity
				  : 0;
	if ((im->examined = mp_strdup_z(folder)) == NULL)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	return 0;
}

int
mp_imap_examine(struct mp_imap *im, const char *folder, struct mp_err *err)
{
	free(im->examined);
	im->examined = NULL;
	return examine(im, folder, err);
}

/* UID SEARCH for key (consumed); results appended to a fresh array. */
static int
uid_search(struct mp_imap *im, const char *folder, struct mailimap_search_key *key,
	   uint32_t **uids, size_t *n, struct mp_err *err)
{
	clist *res = NULL;
	clistiter *it;
	uint32_t *u = NULL;
	size_t cnt = 0;
	int rc;

	vlog(im, "UID SEARCH in %s", folder);
	if (mailimap_uid_search(im->imap, NULL, key, &res) != MAILIMAP_NO_ERROR) {
		rc = mp_err_set(err, MP_EIO, _("%s: SEARCH in %s failed: %.120s"), im->host, folder,
				server_text(im));
		goto out;
	}
	if (clist_count(res) > 0) {
		size_t total = (size_t)clist_count(res);

		if (total > MP_IMAP_MAX_UIDS)
			total = MP_IMAP_MAX_UIDS;
		if ((u = calloc(total, sizeof(*u))) == NULL) {
			rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
			goto out;
		}
		for (it = clist_begin(res); it != NULL && cnt < total; it = clist_next(it))
			u[cnt++] = *(uint32_t *)clist_content(it);
	}
	*uids = u;
	*n = cnt;
	u = NULL;
	rc = 0;
out:
	free(u);
	mailimap_search_key_free(key);
	if (res != NULL)
		mailimap_search_result_free(res);
	return rc;
}

/* Adds key to the AND list all; frees key when it cannot. */
static bool
and_key(struct mailimap_search_key *all, struct mailimap_search_key *key)
{
	if (key == NULL)
		return false;
	if (mailimap_search_key_multiple_add(all, key) != 0) {
		mailimap_search_key_free(key);
		return false;
	}
	return true;
}

/*
 * HEADER field value, limited to UIDs lo..hi (hi 0: no upper limit; lo 1 and hi 0: every
 * message) and to mail that arrived on or after the day before `since` when since > 0.
 * SINCE compares dates only, in the server's zone (RFC 3501 6.4.4): the day before leaves
 * room for zones and clocks.
 */
static struct mailimap_search_key *
header_key_range(const char *field, const char *value, uint32_t lo, uint32_t hi, int64_t since)
{
	struct mailimap_search_key *all = mailimap_search_key_new_multiple_empty(), *h;
	struct mailimap_set *set;
	struct mailimap_date *d;
	char *f, *v;
	struct tm tm;
	time_t t;

	if (all == NULL)
		return NULL;
	if (lo > 1 || hi != 0) {
		set = mailimap_set_new_interval(lo, hi); /* hi 0: "*" */
		if (set == NULL)
			goto fail;
		if (!and_key(all, mailimap_search_key_new_uid(set))) {
			mailimap_set_free(set);
			goto fail;
		}
	}
	if (since > 86400) {
		t = (time_t)(since - 86400);
		if (gmtime_r(&t, &tm) == NULL ||
		    (d = mailimap_date_new(tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900)) == NULL)
			goto fail;
		if (!and_key(all, mailimap_search_key_new_since(d))) {
			mailimap_date_free(d);
			goto fail;
		}
	}
	f = mp_strdup_z(field);
	v = mp_strdup_z(value);
	if (f == NULL || v == NULL) {
		free(f);
		free(v);
		goto fail;
	}
	if ((h = mailimap_search_key_new_header(f, v)) == NULL) {
		free(f);
		free(v);
		goto fail;
	}
	if (!and_key(all, h)) /* frees h, f and v with it */
		goto fail;
	return all;
fail:
	mailimap_search_key_free(all);
	return NULL;
}

static struct mailimap_search_key *
header_key(const char *field, const char *value, uint32_t lo, int64_t since)
{
	return header_key_range(field, value, lo, 0, since);
}

/*
 * The hint field over the whole folder, newest UIDs first in windows that double in size
 * (400, 800, ...): a server that has not cached the field reads each message it covers,
 * so a message some way back is found after reading about twice the messages above it
 * rather than the whole folder, and a folder without it costs a few more round trips.
 */
static int
hint_search(struct mp_imap *im, const char *folder, const struct mp_imap_query *q,
	    uint32_t top, uint32_t **uids, size_t *n, struct mp_err *err)
{
	struct mailimap_search_key *key;
	uint32_t hi = top, lo, w = 2 * RECENT_WINDOW;
	unsigned round;
	int rc;

	for (round = 0; round < 32 && hi >= 1; round++) {
		lo = hi > w ? hi - w + 1 : 1;
		/* The last window is open-ended, so mail that arrived meanwhile is covered. */
		key = header_key_range(q->hint, q->value, lo, round == 0 ? 0 : hi, q->since);
		if (key == NULL)
			return mp_err_set(err, MP_ENOMEM, _("out of memory"));
		free(*uids);
		*uids = NULL;
		*n = 0;
		if ((rc = uid_search(im, folder, key, uids, n, err)) != 0 || *n > 0 || lo == 1)
			return rc;
		hi = lo - 1;
		w = w > UINT32_MAX / 2 ? UINT32_MAX : 2 * w;
	}
	return 0;
}

static struct searched *
searched_slot(struct mp_imap *im, const char *folder, const char *value)
{
	struct searched *s;
	size_t i;

	for (i = 0; i < im->nsearched; i++) {
		s = &im->searched[i];
		if (strcmp(s->folder, folder) == 0 && strcmp(s->value, value) == 0) {
			if (s->uidvalidity != im->uidvalidity)
				s->upto = 1; /* the folder was rebuilt: every UID is new */
			s->uidvalidity = im->uidvalidity;
			return s;
		}
	}
	if (im->nsearched >= MP_IMAP_MAX_FOLDERS)
		return NULL;
	s = &im->searched[im->nsearched];
	s->folder = mp_strdup_z(folder);
	s->value = mp_strdup_z(value);
	if (s->folder == NULL || s->value == NULL) {
		free(s->folder);
		free(s->value);
		return NULL;
	}
	s->uidvalidity = im->uidvalidity;
	s->upto = 1;
	s->shortcut_hit = false;
	im->nsearched++;
	return s;
}

int
mp_imap_query(struct mp_imap *im, const char *folder, const struct mp_imap_query *q,
	      uint32_t **uids, size_t *n, struct mp_err *err)
{
	struct mailimap_search_key *key;
	struct searched *seen;
	uint32_t uidnext, lo;
	int rc;

	*uids = NULL;
	*n = 0;
	/* A cached EXAMINE would miss new mail: select again for every search. */
	if ((rc = mp_imap_examine(im, folder, err)) != 0)
		return rc;
	if (q->value == NULL) {
		if ((key = mailimap_search_key_new_all()) == NULL)
			return mp_err_set(err, MP_ENOMEM, _("out of memory"));
		return uid_search(im, folder, key, uids, n, err);
	}
	uidnext = im->imap->imap_selection_info != NULL ? im->imap->imap_selection_info->sel_uidnext
							 : 0;
	seen = uidnext > 0 ? searched_slot(im, folder, q->value) : NULL;
	lo = seen != NULL ? seen->upto : 1;
	/*
	 * A header SEARCH reads every message it covers whose field the server has not
	 * cached.  Two shortcuts come first: the newest messages (the test message is
	 * recent), then the hint field (Message-ID: Dovecot caches what mail clients fetch
	 * for their message lists, so that search reads no message file).  If what a
	 * shortcut found was not the message (the caller wants an exact match), the next call
	 * searches the field itself.
	 */
	if (lo == 1 && (seen == NULL || !seen->shortcut_hit)) {
		if (uidnext > RECENT_WINDOW + 1) {
			key = header_key(q->field, q->value, uidnext - RECENT_WINDOW, q->since);
			if (key == NULL)
				return mp_err_set(err, MP_ENOMEM, _("out of memory"));
			if ((rc = uid_search(im, folder, key, uids, n, err)) != 0)
				return rc;
		}
		if (*n == 0 && q->hint != NULL) {
			free(*uids);
			*uids = NULL;
			if (uidnext > 1)
				rc = hint_search(im, folder, q, uidnext - 1, uids, n, err);
			else if ((key = header_key(q->hint, q->value, 1, q->since)) == NULL)
				rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
			else
				rc = uid_search(im, folder, key, uids, n, err);
			if (rc != 0)
				return rc;
		}
		if (*n > 0) {
			if (seen != NULL)
				seen->shortcut_hit = true;
			return 0;
		}
		free(*uids);
		*uids = NULL;
	}
	if ((key = header_key(q->field, q->value, lo, q->since)) == NULL)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	if ((rc = uid_search(im, folder, key, uids, n, err)) == 0 && seen != NULL)
		seen->upto = uidnext; /* everything below it has been looked at */
	return rc;
}

int
mp_imap_search(struct mp_imap *im, const char *folder, const char *field, const char *value,
	       uint32_t **uids, size_t *n, struct mp_err *err)
{
	struct mp_imap_query q = {field, value, NULL, 0};

	return mp_imap_query(im, folder, &q, uids, n, err);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
mp_imap_fetch(struct mp_imap *im, uint32_t uid, int fd, struct mp_err *err)
{
	bool done = false;
	struct mailimap_set *set = NULL;
	struct mailimap_fetch_type *ft = NULL;
	struct mailimap_section *sec = NULL;
	struct mailimap_fetch_att *att = NULL;
	clist *res = NULL;
	clistiter *it, *ai;
	int rc = MP_ENOTFOUND;

	set = mailimap_set_new_single(uid);
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	sec = mailimap_section_new(NULL);
	att = sec != NULL ? mailimap_fetch_att_new_body_peek_section(sec) : NULL;
	if (set == NULL || ft == NULL || att == NULL) {
		if (att == NULL && sec != NULL)
			mailimap_section_free(sec);
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	if (mailimap_fetch_type_new_fetch_att_list_add(ft, att) != MAILIMAP_NO_ERROR) {
		mailimap_fetch_att_free(att);
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	if (mailimap_uid_fetch(im->imap, set, ft, &res) != MAILIMAP_NO_ERROR) {
		rc = mp_err_set(err, MP_EIO, _("%s: FETCH of UID %u failed: %.120s"), im->host, uid,
				server_text(im));
		goto out;
	}
	for (it = clist_begin(res); it != NULL && !done; it = clist_next(it)) {
		const struct mailimap_msg_att *ma = clist_content(it);

		for (ai = clist_begin(ma->att_list); ai != NULL; ai = clist_next(ai)) {
			const struct mailimap_msg_att_item *item = clist_content(ai);
			const struct mailimap_msg_att_body_section *bs;

			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC ||
			    item->att_data.att_static->att_type != MAILIMAP_MSG_ATT_BODY_SECTION)
				continue;
			bs = item->att_data.att_static->att_data.att_body_section;
			if (bs->sec_body_part == NULL)
				continue;
			if (write_all(fd, bs->sec_body_part, bs->sec_length) != 0) {
				rc = mp_err_set(err, MP_EIO,
						_("cannot hold the fetched message: %s"),
						strerror(errno));
				goto out;
			}
			done = true;
			break;
		}
	}
	rc = done ? 0
		  : mp_err_set(err, MP_ENOTFOUND, _("%s: message UID %u is gone"), im->host, uid);
out:
	if (res != NULL)
		mailimap_fetch_list_free(res);
	if (set != NULL)
		mailimap_set_free(set);
	if (ft != NULL)
		mailimap_fetch_type_free(ft);
	return rc;
}

bool
mp_imap_has_idle(const struct mp_imap *im)
{
	return mailimap_has_idle(im->imap) != 0;
}

uint32_t
mp_imap_uidnext(const struct mp_imap *im)
{
	return im->examined != NULL && im->imap->imap_selection_info != NULL
		       ? im->imap->imap_selection_info->sel_uidnext
		       : 0;
}

/* No EXISTS seen yet: libetpan only ever stores a real count over it. */
#define EXISTS_NONE UINT32_MAX

/* Ends IDLE on one session: 1 when an EXISTS (new mail) arrived during it, 0 when not,
 * MP_EIO when the connection is gone. */
static int
idle_end(struct mp_imap *im, uint32_t before)
{
	int r = mailimap_idle_done(im->imap);
	struct mailimap_selection_info *si = im->imap->imap_selection_info;

	if (r != MAILIMAP_NO_ERROR || si == NULL) {
		vlog(im, "connection lost during IDLE in %s", im->examined);
		return MP_EIO;
	}
	if (si->sel_exists == EXISTS_NONE) {
		si->sel_exists = before;
		return 0;
	}
	vlog(im, "new mail announced in %s", im->examined);
	return 1;
}

/* Starts IDLE; the count the server last gave is kept in *before and replaced by
 * EXISTS_NONE, so that any EXISTS during IDLE shows (also one that follows an EXPUNGE and
 * leaves the count as it was). */
static int
idle_begin(struct mp_imap *im, unsigned ms, uint32_t *before)
{
	vlog(im, "IDLE in %s for up to %u ms", im->examined, ms);
	if (mailimap_idle(im->imap) != MAILIMAP_NO_ERROR || im->imap->imap_selection_info == NULL) {
		vlog(im, "IDLE in %s failed: %.120s", im->examined, server_text(im));
		return MP_EIO;
	}
	*before = im->imap->imap_selection_info->sel_exists;
	im->imap->imap_selection_info->sel_exists = EXISTS_NONE;
	return 0;
}

static bool
can_idle(const struct mp_imap *im)
{
	return im != NULL && im->examined != NULL && im->imap->imap_selection_info != NULL &&
	       mailimap_has_idle(im->imap);
}

static long
ms_until(const struct timespec *end)
{
	struct timespec now;
	long d;

	clock_gettime(CLOCK_MONOTONIC, &now);
	d = (long)(end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
	return d > 0 ? d : 0;
}

int
mp_imap_wait_any(struct mp_imap *const *ims, size_t n, unsigned ms, int *st)
{
	struct pollfd pfd[MP_IMAP_WAIT_MAX];
	size_t who[MP_IMAP_WAIT_MAX];
	uint32_t before[MP_IMAP_WAIT_MAX];
	bool idling[MP_IMAP_WAIT_MAX] = {false};
	struct timespec end;
	size_t i, k, watched = 0;
	int news = 0, lost = 0, r, timeout;
	unsigned rounds = 0;

	if (n > MP_IMAP_WAIT_MAX)
		n = MP_IMAP_WAIT_MAX;
	if (ms > MP_IMAP_IDLE_MAX_MS)
		ms = MP_IMAP_IDLE_MAX_MS;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)(ms / 1000);
	end.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (i = 0; i < n; i++) {
		st[i] = 0;
		if (!can_idle(ims[i]))
			continue;
		watched++;
		if (idle_begin(ims[i], ms, &before[i]) != 0) {
			st[i] = MP_EIO;
			lost++;
		} else {
			idling[i] = true;
		}
	}
	if (watched == 0) {
		struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

		if (n > 0 && ims[0] != NULL)
			vlog(ims[0], "no IDLE: polling again in %u ms", ms);
		nanosleep(&ts, NULL);
		return 0;
	}
	/* Bounded: every round ends IDLE on a session that spoke; keepalives ("* OK Still
	 * here") and flag changes come a few times a minute at most. */
	while (news == 0 && lost == 0 && rounds++ < 100000) {
		timeout = (int)ms_until(&end);
		for (i = 0, k = 0; i < n; i++) {
			if (!idling[i])
				continue;
			/* The continuation and an EXISTS can come in one read: buffered already. */
			if (ims[i]->imap->imap_stream->read_buffer_len > 0)
				timeout = 0;
			pfd[k].fd = mailimap_idle_get_fd(ims[i]->imap);
			pfd[k].events = POLLIN;
			pfd[k].revents = 0;
			who[k++] = i;
		}
		if (k == 0)
			break;
		r = poll(pfd, (nfds_t)k, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		for (i = 0; i < k; i++) {
			size_t s = who[i];

			if (pfd[i].revents == 0 && ims[s]->imap->imap_stream->read_buffer_len == 0)
				continue;
			idling[s] = false;
			st[s] = idle_end(ims[s], before[s]);
			if (st[s] > 0)
				news++;
			else if (st[s] < 0)
				lost++;
			else if (ms_until(&end) > 0 && idle_begin(ims[s], (unsigned)ms_until(&end),
								 &before[s]) == 0)
				idling[s] = true; /* only a keepalive: wait on */
			else if (ms_until(&end) > 0) {
				st[s] = MP_EIO;
				lost++;
			}
		}
		if (r == 0 || ms_until(&end) == 0)
			break;
	}
	for (i = 0; i < n; i++) {
		if (!idling[i])
			continue;
		st[i] = idle_end(ims[i], before[i]);
		if (st[i] > 0)
			news++;
	}
	return news;
}

int
mp_imap_wait(struct mp_imap *im, unsigned ms, struct mp_err *err)
{
	int st;

	mp_imap_wait_any(&im, 1, ms, &st);
	if (st < 0)
		return mp_err_set(err, MP_EIO, _("%s: connection lost during IDLE"), im->host);
	return st;
}

uint32_t
mp_imap_uidvalidity(const struct mp_imap *im)
{
	return im->uidvalidity;
}

/* A set of UIDs, consecutive ones as ranges (a FETCH line for 100 UIDs stays short). */
static struct mailimap_set *
uid_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	size_t i = 0, j;

	while (set != NULL && i < n) {
		for (j = i; j + 1 < n && uids[j + 1] == uids[j] + 1; j++)
			;
		if (mailimap_set_add_interval(set, uids[i], uids[j]) != MAILIMAP_NO_ERROR) {
			mailimap_set_free(set);
			return NULL;
		}
		i = j + 1;
	}
	return set;
}

/* UID FETCH uids (atts): the parsed response, or NULL with err set. */
static clist *
fetch_atts(struct mp_imap *im, const uint32_t *uids, size_t n, struct mailimap_fetch_att *a1,
	   struct mailimap_fetch_att *a2, struct mp_err *err)
{
	struct mailimap_set *set = uid_set(uids, n);
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	clist *res = NULL;
	int r;

	if (set == NULL || ft == NULL || a1 == NULL || a2 == NULL ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, a1) != MAILIMAP_NO_ERROR) {
		if (a1 != NULL)
			mailimap_fetch_att_free(a1);
		if (a2 != NULL)
			mailimap_fetch_att_free(a2);
		mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	if (mailimap_fetch_type_new_fetch_att_list_add(ft, a2) != MAILIMAP_NO_ERROR) {
		mailimap_fetch_att_free(a2);
		mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	vlog(im, "UID FETCH of %zu message(s)", n);
	r = mailimap_uid_fetch(im->imap, set, ft, &res);
	if (r != MAILIMAP_NO_ERROR) {
		mp_err_set(err, MP_EIO, _("%s: FETCH failed: %.120s"), im->host, server_text(im));
		res = NULL;
	}
out:
	if (set != NULL)
		mailimap_set_free(set);
	if (ft != NULL)
		mailimap_fetch_type_free(ft);
	return res;
}

/* The static items of one FETCH response: its UID, size, body, INTERNALDATE. */
struct fitem {
	uint32_t uid, size;
	const char *body;
	size_t body_len;
	const struct mailimap_date_time *date;
};

static void
fitem_read(const struct mailimap_msg_att *ma, struct fitem *f)
{
	clistiter *ai;

	memset(f, 0, sizeof(*f));
	for (ai = clist_begin(ma->att_list); ai != NULL; ai = clist_next(ai)) {
		const struct mailimap_msg_att_item *item = clist_content(ai);
		const struct mailimap_msg_att_static *st;

		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		st = item->att_data.att_static;
		switch (st->att_type) {
		case MAILIMAP_MSG_ATT_UID:
			f->uid = st->att_data.att_uid;
			break;
		case MAILIMAP_MSG_ATT_RFC822_SIZE:
			f->size = st->att_data.att_rfc822_size;
			break;
		case MAILIMAP_MSG_ATT_INTERNALDATE:
			f->date = st->att_data.att_internal_date;
			break;
		case MAILIMAP_MSG_ATT_BODY_SECTION:
			if (st->att_data.att_body_section->sec_body_part != NULL) {
				f->body = st->att_data.att_body_section->sec_body_part;
				f->body_len = st->att_data.att_body_section->sec_length;
			}
			break;
		default:
			break;
		}
	}
}

/* BODY.PEEK[] of a batch: the parsed response, or NULL with err set. */
static clist *
fetch_bodies(struct mp_imap *im, const uint32_t *uids, size_t n, struct mp_err *err)
{
	struct mailimap_section *sec = mailimap_section_new(NULL);
	struct mailimap_fetch_att *body = sec != NULL ? mailimap_fetch_att_new_body_peek_section(sec)
						      : NULL;

	if (body == NULL && sec != NULL)
		mailimap_section_free(sec);
	return fetch_atts(im, uids, n, mailimap_fetch_att_new_uid(), body, err);
}

/*
 * The fetching side of mp_imap_fetch_many runs on a thread of its own, the verifying side
 * on the caller's: while the caller verifies one batch, the next one is on its way.  At
 * most two batches exist at a time (the one verified, the one handed over or being
 * fetched), each bounded by half of MP_IMAP_BATCH_BYTES.  Only the fetching thread uses
 * the session until it has been joined.
 */
struct pipeline {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	clist *ready;  /* a fetched batch the caller has not taken yet */
	bool done;     /* the fetching thread has finished (rc, err say how) */
	bool stop;     /* the caller wants no more */
	int rc;
	struct mp_err err;
	struct mp_imap *im;
	const uint32_t *uids;
	size_t n;
};

/* Hands a batch over once the previous one has been taken; false when the caller stopped
 * (the batch is freed). */
static bool
hand_over(struct pipeline *p, clist *res)
{
	bool ok;

	pthread_mutex_lock(&p->mu);
	while (p->ready != NULL && !p->stop)
		pthread_cond_wait(&p->cv, &p->mu);
	ok = !p->stop;
	if (ok) {
		p->ready = res;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	if (!ok)
		mailimap_fetch_list_free(res);
	return ok;
}

/* Waits until the previous batch has been taken, so that fetching the next one keeps
 * two batches at most in memory; false when the caller stopped. */
static bool
wait_taken(struct pipeline *p)
{
	bool ok;

	pthread_mutex_lock(&p->mu);
	while (p->ready != NULL && !p->stop)
		pthread_cond_wait(&p->cv, &p->mu);
	ok = !p->stop;
	pthread_mutex_unlock(&p->mu);
	return ok;
}

static void *
fetch_thread(void *arg)
{
	struct pipeline *p = arg;
	uint32_t batch[MP_IMAP_BATCH];
	size_t i, k, nb;
	uint64_t bytes;
	clist *sizes = NULL, *res;
	clistiter *it;
	struct fitem f;
	bool go = true;
	int rc = 0;

	for (i = 0; i < p->n && rc == 0 && go; i += k) {
		k = p->n - i < MP_IMAP_BATCH ? p->n - i : MP_IMAP_BATCH;
		/* Sizes first, so one batch never holds more than its share of the bytes. */
		sizes = fetch_atts(p->im, p->uids + i, k, mailimap_fetch_att_new_uid(),
				   mailimap_fetch_att_new_rfc822_size(), &p->err);
		if (sizes == NULL) {
			rc = p->err.code;
			break;
		}
		nb = 0;
		bytes = 0;
		for (it = clist_begin(sizes); it != NULL && rc == 0 && go; it = clist_next(it)) {
			fitem_read(clist_content(it), &f);
			if (f.uid == 0)
				continue;
			if (nb > 0 &&
			    (nb == MP_IMAP_BATCH || bytes + f.size > MP_IMAP_BATCH_BYTES / 2)) {
				if (!(go = wait_taken(p)))
					break;
				if ((res = fetch_bodies(p->im, batch, nb, &p->err)) == NULL)
					rc = p->err.code;
				else
					go = hand_over(p, res);
				nb = 0;
				bytes = 0;
			}
			if (rc != 0 || !go)
				break;
			batch[nb++] = f.uid;
			bytes += f.size;
		}
		if (rc == 0 && go && nb > 0 && (go = wait_taken(p))) {
			if ((res = fetch_bodies(p->im, batch, nb, &p->err)) == NULL)
				rc = p->err.code;
			else
				go = hand_over(p, res);
		}
		mailimap_fetch_list_free(sizes);
		sizes = NULL;
	}
	pthread_mutex_lock(&p->mu);
	p->rc = rc;
	p->done = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
mp_imap_fetch_many(struct mp_imap *im, const uint32_t *uids, size_t n, mp_imap_msg_fn fn,
		   void *arg, struct mp_err *err)
{
	struct pipeline *p;
	pthread_t th;
	clist *res;
	clistiter *it;
	struct fitem f;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->im = im;
	p->uids = uids;
	p->n = n;
	if (pthread_create(&th, NULL, fetch_thread, p) != 0) {
		rc = mp_err_set(err, MP_ENOMEM, _("cannot start the fetching thread"));
		goto out;
	}
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->ready == NULL && !p->done)
			pthread_cond_wait(&p->cv, &p->mu);
		res = p->ready;
		p->ready = NULL;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (res == NULL)
			break;
		for (it = clist_begin(res); it != NULL && rc == 0; it = clist_next(it)) {
			fitem_read(clist_content(it), &f);
			/* Unsolicited FETCH responses (flag changes) carry no body. */
			if (f.uid != 0 && f.body != NULL)
				rc = fn(f.uid, f.body, f.body_len, arg);
		}
		mailimap_fetch_list_free(res);
		if (rc != 0) {
			pthread_mutex_lock(&p->mu);
			p->stop = true;
			pthread_cond_broadcast(&p->cv);
			pthread_mutex_unlock(&p->mu);
			break;
		}
	}
	pthread_join(th, NULL);
	if (p->ready != NULL)
		mailimap_fetch_list_free(p->ready);
	if (rc == 0 && p->rc != 0) {
		*err = p->err;
		rc = p->rc;
	}
out:
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
	return rc;
}

int
mp_imap_internaldate(struct mp_imap *im, uint32_t uid, int64_t *t, struct mp_err *err)
{
	clist *res = fetch_atts(im, &uid, 1, mailimap_fetch_att_new_uid(),
				mailimap_fetch_att_new_internaldate(), err);
	clistiter *it;
	struct fitem f;
	const struct mailimap_date_time *d = NULL;
	char buf[64];
	int rc;

	if (res == NULL)
		return err->code;
	for (it = clist_begin(res); it != NULL && d == NULL; it = clist_next(it)) {
		fitem_read(clist_content(it), &f);
		if (f.uid == uid)
			d = f.date;
	}
	rc = MP_ENOTFOUND;
	if (d != NULL && d->dt_month >= 1 && d->dt_month <= 12) {
		static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
						  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
		int z = d->dt_zone < 0 ? -d->dt_zone : d->dt_zone;

		/* libetpan keeps the zone as the decimal HHMM number. */
		snprintf(buf, sizeof(buf), "%d %s %d %02d:%02d:%02d %c%04d", d->dt_day,
			 mon[d->dt_month - 1], d->dt_year, d->dt_hour, d->dt_min, d->dt_sec,
			 d->dt_zone < 0 ? '-' : '+', z % 10000);
		if (mp_date_parse(buf, strlen(buf), t) == 0)
			rc = 0;
	}
	mailimap_fetch_list_free(res);
	if (rc != 0)
		mp_err_set(err, MP_ENOTFOUND, _("%s: message UID %u is gone"), im->host, uid);
	return rc;
}

/*
 * Gmail's spam label.  libetpan 1.9.4 cannot parse the system labels in a FETCH
 * X-GM-LABELS response (Gmail writes them bare, like flags: "\Inbox"), and a failed parse
 * costs the connection; so the one label that matters is asked for by search instead:
 * UID SEARCH UID n X-GM-RAW "in:spam" (Gmail's IMAP extensions, X-GM-EXT-1).
 * uid 0 asks for the whole examined folder.
 */
static int
gm_spam_search(struct mp_imap *im, uint32_t uid, uint32_t **hits, size_t *nh, struct mp_err *err)
{
	struct mailimap_search_key *all = NULL, *k;
	struct mailimap_set *set = NULL;
	char *raw = NULL;

	all = mailimap_search_key_new_multiple_empty();
	set = uid != 0 ? mailimap_set_new_single(uid) : mailimap_set_new_interval(1, 0);
	raw = mp_strdup_z("in:spam");
	if (all == NULL || set == NULL || raw == NULL)
		goto oom;
	if ((k = mailimap_search_key_new_uid(set)) == NULL)
		goto oom;
	set = NULL;
	if (mailimap_search_key_multiple_add(all, k) != MAILIMAP_NO_ERROR) {
		mailimap_search_key_free(k);
		goto oom;
	}
	if ((k = mailimap_search_key_new_xgmraw(raw)) == NULL)
		goto oom;
	raw = NULL;
	if (mailimap_search_key_multiple_add(all, k) != MAILIMAP_NO_ERROR) {
		mailimap_search_key_free(k);
		goto oom;
	}
	/* uid_search consumes the key. */
	return uid_search(im, im->examined != NULL ? im->examined : "?", all, hits, nh, err);
oom:
	if (all != NULL)
		mailimap_search_key_free(all);
	if (set != NULL)
		mailimap_set_free(set);
	free(raw);
	return mp_err_set(err, MP_ENOMEM, _("out of memory"));
}

int
mp_imap_spam_uids(struct mp_imap *im, bool *asked, uint32_t **uids, size_t *n,
		  struct mp_err *err)
{
	*asked = false;
	*uids = NULL;
	*n = 0;
	if (!mailimap_has_xgmlabels(im->imap))
		return 0;
	*asked = true;
	return gm_spam_search(im, 0, uids, n, err);
}

int
mp_imap_labels(struct mp_imap *im, uint32_t uid, char ***labels, size_t *n, struct mp_err *err)
{
	uint32_t *hits = NULL;
	size_t nh = 0;
	int rc;

	*labels = NULL;
	*n = 0;
	if (!mailimap_has_xgmlabels(im->imap))
		return 0;
	if ((rc = gm_spam_search(im, uid, &hits, &nh, err)) != 0)
		return rc;
	free(hits);
	vlog(im, "Gmail label \\Spam on UID %u: %s", uid, nh > 0 ? "yes" : "no");
	/* A list, empty or not, says that Gmail was asked. */
	if ((*labels = calloc(1, sizeof(**labels))) == NULL ||
	    (nh > 0 && ((*labels)[0] = mp_strdup_z("\\Spam")) == NULL)) {
		free(*labels);
		*labels = NULL;
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	}
	*n = nh > 0 ? 1 : 0;
	return 0;
}

void
mp_imap_labels_free(char **labels, size_t n)
{
	size_t i;

	if (labels == NULL)
		return;
	for (i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
}
