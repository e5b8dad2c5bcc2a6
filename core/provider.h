/*
 * provider.h - what mailproof knows about the big mailbox providers (--provider).
 *
 * A static table, read-only: the IMAP URL, the preferred login mechanism, the receiver
 * whose Authentication-Results are trusted and the names its spam folder goes by.  The
 * values are defaults: an explicit option or profile key always wins.  Also the
 * spam-folder name test used when a server marks no folder \Junk (RFC 6154).
 */
#ifndef MP_PROVIDER_H
#define MP_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

enum mp_provider_id { MP_PROVIDER_GENERIC = 0, MP_PROVIDER_M365, MP_PROVIDER_GMAIL };

/* Login mechanisms, named as --auth names them. */
enum mp_auth_mech {
	MP_AUTH_AUTO = 0, /* whatever the server offers: a password with LOGIN or PLAIN */
	MP_AUTH_LOGIN,
	MP_AUTH_PLAIN,
	MP_AUTH_XOAUTH2,
	MP_AUTH_OAUTHBEARER,
};

struct mp_provider {
	enum mp_provider_id id;
	const char *name;		 /* "m365", "gmail", "generic" */
	const char *title;		 /* "Microsoft 365" */
	const char *imap_url;		 /* NULL: none (generic) */
	enum mp_auth_mech auth_token;	 /* preferred mechanism with an OAuth 2.0 token */
	enum mp_auth_mech auth_password; /* with a password (Gmail: an app password); AUTO:
					  * the provider takes no passwords */
	const char *const *authserv_ids; /* trusted receivers, as for --authserv-id */
	size_t nauthserv;
	const char *const *junk_names; /* its spam folder, English and Dutch mailboxes */
	size_t njunk;
};

/* The provider called name ("m365", "gmail", "generic"; case-insensitive), or NULL. */
const struct mp_provider *mp_provider_find(const char *name);

/* The mechanism to use with (have_token) or without an OAuth 2.0 token. */
enum mp_auth_mech mp_provider_auth(const struct mp_provider *p, bool have_token);

/* "auto", "login", "plain", "xoauth2", "oauthbearer". */
const char *mp_auth_mech_name(enum mp_auth_mech m);

/*
 * Whether a folder name is a well-known spam folder of any provider, for servers that
 * mark none \Junk: "Junk", "Junk Email", "Junk E-mail", "Spam", "Ongewenste e-mail" and
 * the like, compared without regard to case, either at the top level or directly under
 * INBOX, "[Gmail]" or "[Google Mail]" ("INBOX.Junk", "[Gmail]/Spam").  delim is the
 * server's hierarchy delimiter; 0 when unknown ('/' and '.' are then both tried).
 */
bool mp_provider_junk_name(const char *name, char delim);

#endif
