/*
 * imap_auth.h - how mailproof-inspect logs in to IMAP, and where OAuth 2.0 tokens come from.
 *
 * One SASL exchange on libetpan's public API serves AUTHENTICATE PLAIN (RFC 4616), XOAUTH2
 * and OAUTHBEARER (RFC 7628): the initial response inline when the server has SASL-IR
 * (RFC 4959), an error challenge decoded (at most MP_SASL_CHALLENGE_MAX bytes) and
 * answered as the mechanism requires.  Secrets leave with the stream's privacy flag off
 * and never appear in an error message.  Every read is bounded by the session timeout.
 */
#ifndef MP_IMAP_AUTH_H
#define MP_IMAP_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "provider.h" /* enum mp_auth_mech: the login mechanism; AUTO picks one from
			  * the capabilities (mp_imap_auth_choose) */

struct mailimap;

#define MP_SASL_CHALLENGE_MAX 4096   /* bytes of an error challenge that are decoded */
#define MP_OAUTH2_TOKEN_MAX 8192     /* bytes of a token, and of a token command's output */
#define MP_OAUTH2_COMMAND_TIMEOUT 30 /* seconds a token command may run */

/* "auto", "login", "plain", "xoauth2", "oauthbearer"; MP_EINVAL for anything else. */
int mp_imap_auth_parse(const char *name, enum mp_auth_mech *out);
/* The name on the wire: "LOGIN", "PLAIN", "XOAUTH2", "OAUTHBEARER" (not for AUTO). */
const char *mp_imap_auth_mech(enum mp_auth_mech m);
bool mp_imap_auth_is_oauth(enum mp_auth_mech m);

/* What the server offers (after TLS, from an explicit CAPABILITY). */
struct mp_imap_caps {
	bool plain, xoauth2, oauthbearer; /* AUTH=... */
	bool sasl_ir;			  /* SASL-IR: initial response inline */
	bool logindisabled;		  /* LOGINDISABLED: no LOGIN command */
};

/* Asks the server for its capabilities (CAPABILITY) and fills caps. */
int mp_imap_auth_caps(struct mailimap *imap, struct mp_imap_caps *caps, struct mp_err *err);

/*
 * The mechanism to use: `want` when forced, else with a token OAUTHBEARER if offered,
 * else XOAUTH2; with a password AUTHENTICATE PLAIN if offered, else LOGIN.  MP_EIO
 * (err names the host) when the server offers nothing that fits.
 */
int mp_imap_auth_choose(enum mp_auth_mech want, bool have_token, const struct mp_imap_caps *caps,
			const char *host, enum mp_auth_mech *out, struct mp_err *err);

/* The "status" member of an error challenge ("+ <base64 JSON>", RFC 7628 3.2.2) into
 * status (printable ASCII, at most cap - 1 bytes; "" when there is none).  The line comes
 * from the server: at most MP_SASL_CHALLENGE_MAX bytes of it are decoded. */
void mp_sasl_challenge_status(const char *line, char *status, size_t cap);

/* How an exchange ended, beyond its return code. */
enum mp_sasl_outcome {
	MP_SASL_OK = 0,
	MP_SASL_REJECTED,    /* NO [AUTHENTICATIONFAILED], or a JSON status 401/invalid_token */
	MP_SASL_UNAVAILABLE, /* NO [UNAVAILABLE]: the server's side failed for now */
	MP_SASL_FAILED,	     /* another NO or BAD */
	MP_SASL_BROKEN,	     /* no reply in time, or the connection is gone */
};

struct mp_sasl_login {
	enum mp_auth_mech mech; /* PLAIN, XOAUTH2 or OAUTHBEARER */
	const char *user;	/* authzid/user */
	const char *secret;	/* password or access token; never logged */
	const char *host;	/* for OAUTHBEARER's host= and for messages */
	uint16_t port;
	bool sasl_ir;
};

/*
 * Runs AUTHENTICATE.  0 when the session is authenticated; otherwise MP_EIO with err
 * saying why in plain words and *outcome saying what kind of failure it was.  After
 * MP_SASL_REJECTED/UNAVAILABLE/FAILED the session can take another command.
 */
int mp_imap_sasl(struct mailimap *imap, const struct mp_sasl_login *l,
		 enum mp_sasl_outcome *outcome, struct mp_err *err);

/*
 * Checks that a token can go into a SASL message: visible ASCII only (RFC 6750 b64token
 * and the like), at most MP_OAUTH2_TOKEN_MAX bytes.  `what` names its source.
 */
int mp_oauth2_token_check(const char *token, const char *what, struct mp_err *err);

/*
 * Runs `command` with /bin/sh -c; the first line of its standard output is the token
 * (standard error passes through).  Bounded: MP_OAUTH2_COMMAND_TIMEOUT seconds and
 * MP_OAUTH2_TOKEN_MAX bytes of output.  MP_EIO when it fails, times out or prints no
 * token; the message never contains the output.  Free *token with mp_free_secret().
 */
int mp_oauth2_token_run(const char *command, char **token, struct mp_err *err);

#endif
