/*
 * provider.c - see provider.h.
 *
 * Sources for the values: Microsoft's "POP, IMAP, and SMTP settings" page and "Authenticate
 * an IMAP, POP or SMTP connection using OAuth" (outlook.office365.com:993, XOAUTH2 only);
 * Google's "IMAP, POP, and SMTP" and "IMAP Extensions" pages (imap.gmail.com:993, XOAUTH2
 * and OAUTHBEARER, \Junk on "[Gmail]/Spam").  docs/providers/ explains them to users.
 */
#include "provider.h"

#include <string.h>
#include <strings.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Exchange Online writes Authentication-Results without authserv-id; the verifier
 * attributes it to the by-host of the Received field below (…mail.protection.outlook.com). */
static const char *const m365_ids[] = {".outlook.com"};
static const char *const gmail_ids[] = {"mx.google.com"};

/* Names a mailbox language gives the spam folder: English and Dutch Outlook mailboxes
 * (the older "Junk E-mail" too); Gmail keeps "Spam" in Dutch, some accounts use the
 * "[Google Mail]" prefix. */
static const char *const m365_junk[] = {"Junk Email", "Junk E-mail", "Ongewenste e-mail"};
static const char *const gmail_junk[] = {"[Gmail]/Spam", "[Google Mail]/Spam"};
static const char *const generic_junk[] = {"Junk", "Spam", "INBOX.Junk", "INBOX.Spam"};

static const struct mp_provider providers[] = {
    {MP_PROVIDER_GENERIC, "generic", "generic IMAP", NULL, MP_AUTH_AUTO, MP_AUTH_AUTO, NULL, 0,
     generic_junk, N(generic_junk)},
    {MP_PROVIDER_M365, "m365", "Microsoft 365", "imaps://outlook.office365.com:993",
     MP_AUTH_XOAUTH2, MP_AUTH_AUTO, m365_ids, N(m365_ids), m365_junk, N(m365_junk)},
    {MP_PROVIDER_GMAIL, "gmail", "Gmail", "imaps://imap.gmail.com:993", MP_AUTH_OAUTHBEARER,
     MP_AUTH_PLAIN, gmail_ids, N(gmail_ids), gmail_junk, N(gmail_junk)},
};

/* The last path component of every spam folder name in any language mailproof knows;
 * "Junk-E-Mail" is the German Outlook name, "Bulk Mail" Yahoo's. */
static const char *const junk_leaves[] = {
    "Junk", "Junk Email", "Junk E-mail", "Junk-E-Mail", "Spam", "Bulk Mail", "Ongewenste e-mail",
};

/* Parents under which a spam folder of the list above lives. */
static const char *const junk_parents[] = {"INBOX", "[Gmail]", "[Google Mail]"};

const struct mp_provider *
mp_provider_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < N(providers); i++)
		if (strcasecmp(name, providers[i].name) == 0)
			return &providers[i];
	return NULL;
}

enum mp_auth_mech
mp_provider_auth(const struct mp_provider *p, bool have_token)
{
	if (p == NULL)
		return MP_AUTH_AUTO;
	return have_token ? p->auth_token : p->auth_password;
}

const char *
mp_auth_mech_name(enum mp_auth_mech m)
{
	switch (m) {
	case MP_AUTH_LOGIN:
		return "login";
	case MP_AUTH_PLAIN:
		return "plain";
	case MP_AUTH_XOAUTH2:
		return "xoauth2";
	case MP_AUTH_OAUTHBEARER:
		return "oauthbearer";
	case MP_AUTH_AUTO:
	default:
		return "auto";
	}
}

static bool
in_list(const char *s, size_t n, const char *const *list, size_t nlist)
{
	size_t i;

	for (i = 0; i < nlist; i++)
		if (strlen(list[i]) == n && strncasecmp(s, list[i], n) == 0)
			return true;
	return false;
}

static bool
junk_with(const char *name, size_t n, char delim)
{
	const char *sep = NULL, *p;

	for (p = name; p < name + n; p++)
		if (*p == delim)
			sep = p;
	if (sep == NULL)
		return in_list(name, n, junk_leaves, N(junk_leaves));
	return in_list(sep + 1, (size_t)(name + n - sep - 1), junk_leaves, N(junk_leaves)) &&
	       in_list(name, (size_t)(sep - name), junk_parents, N(junk_parents));
}

bool
mp_provider_junk_name(const char *name, char delim)
{
	size_t n;

	if (name == NULL || (n = strlen(name)) == 0 || n > 255)
		return false;
	if (delim != '\0')
		return junk_with(name, n, delim);
	return junk_with(name, n, '/') || junk_with(name, n, '.');
}
