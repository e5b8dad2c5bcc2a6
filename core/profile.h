/*
 * profile.h - the customer profile (INI, see mailproof.conf(5)) shared by both tools.
 *
 * Sections [customer], [sender], [mailbox] and [expectations] with fixed keys; an
 * unknown section or key, a repeated single-valued key or an over-long line is an
 * error "file:line: ..." in struct mp_err.  Bounded: MP_PROFILE_MAX bytes per file.
 * The caller owns struct mp_profile; every string in it is malloc'd (or NULL).
 */
#ifndef MP_PROFILE_H
#define MP_PROFILE_H

#include <stddef.h>

#include "error.h"

#define MP_PROFILE_MAX (64 * 1024) /* bytes in one profile file */
#define MP_PROFILE_LINE_MAX 1024   /* bytes in one line */
#define MP_PROFILE_LIST_MAX 64	   /* entries in one list-valued key */

/* A list-valued key: repeated lines and comma-separated values add up. */
struct mp_strlist {
	char **v;
	size_t n;
};

struct mp_profile {
	/* [customer] */
	char *name;	    /* "Gemeente Voorbeeld" */
	char *abbreviation; /* "GV" */
	char *domain;	    /* the customer's mail domain */
	char *extranet_url;
	char *contact; /* contact person at the customer */
	char *contact_email;
	char *deadline; /* for the letter to the DNS administrator */
	/* [sender] */
	char *from; /* "Extranet GV <noreply@klant.nl>" or a bare address */
	char *envelope_from;
	char *relay; /* smtp://host[:port] or smtps://host[:port] */
	char *user;
	char *password_file;
	char *ca_file;
	char *dkim_domain;
	char *dkim_selector;
	char *dkim_key;
	char *dkim_algorithm; /* rsa-sha256 | ed25519-sha256 */
	char *lang;	      /* nl | en */
	/* [mailbox] */
	char *imap;
	char *imap_user;
	char *imap_password_file;
	char *imap_ca_file;
	char *provider; /* m365 | gmail | generic (core/provider.h) */
	char *imap_auth;		 /* auto | login | plain | xoauth2 | oauthbearer */
	char *imap_oauth2_token_file;	 /* an OAuth 2.0 access token, mode 0600 */
	char *imap_oauth2_token_command; /* prints a fresh access token */
	struct mp_strlist folders;
	/* [expectations] */
	char *require;
	struct mp_strlist authserv_ids;
	struct mp_strlist ips;
	struct mp_strlist includes;
	struct mp_strlist selectors;
};

void mp_profile_init(struct mp_profile *p);
void mp_profile_dispose(struct mp_profile *p);

/*
 * Parses (text, len) into p (initialised by the caller; keys already set are an error
 * only when repeated within this text).  `name` is used in error messages.  Returns 0,
 * MP_EPARSE (err says "name:line: why"), MP_ETOOBIG or MP_ENOMEM.
 */
int mp_profile_parse(struct mp_profile *p, const char *text, size_t len, const char *name,
		     struct mp_err *err);

/* Reads and parses a profile file.  MP_ENOTFOUND/MP_EIO when it cannot be read. */
int mp_profile_load(struct mp_profile *p, const char *path, struct mp_err *err);

#endif
