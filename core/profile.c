/* profile.c - see profile.h.  The format is documented in docs/mailproof.conf.5. */
#include "profile.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "util.h"

enum kind { K_STR, K_LIST };

struct key {
	const char *section;
	const char *name;
	enum kind kind;
	size_t off;
};

#define S(sec, key, field)                                                                         \
	{                                                                                          \
		sec, key, K_STR, offsetof(struct mp_profile, field)                                \
	}
#define L(sec, key, field)                                                                         \
	{                                                                                          \
		sec, key, K_LIST, offsetof(struct mp_profile, field)                               \
	}

static const struct key keys[] = {
    S("customer", "name", name),
    S("customer", "abbreviation", abbreviation),
    S("customer", "domain", domain),
    S("customer", "extranet_url", extranet_url),
    S("customer", "contact", contact),
    S("customer", "contact_email", contact_email),
    S("customer", "deadline", deadline),
    S("sender", "from", from),
    S("sender", "envelope_from", envelope_from),
    S("sender", "relay", relay),
    S("sender", "user", user),
    S("sender", "password_file", password_file),
    S("sender", "ca_file", ca_file),
    S("sender", "dkim_domain", dkim_domain),
    S("sender", "dkim_selector", dkim_selector),
    S("sender", "dkim_key", dkim_key),
    S("sender", "dkim_algorithm", dkim_algorithm),
    S("sender", "lang", lang),
    S("mailbox", "imap", imap),
    S("mailbox", "user", imap_user),
    S("mailbox", "password_file", imap_password_file),
    S("mailbox", "ca_file", imap_ca_file),
    S("mailbox", "auth", imap_auth),
    S("mailbox", "oauth2_token_file", imap_oauth2_token_file),
    S("mailbox", "oauth2_token_command", imap_oauth2_token_command),
    L("mailbox", "folders", folders),
    S("mailbox", "provider", provider),
    S("expectations", "require", require),
    L("expectations", "authserv_id", authserv_ids),
    L("expectations", "ip", ips),
    L("expectations", "include", includes),
    L("expectations", "selector", selectors),
};

static const char *const sections[] = {"customer", "sender", "mailbox", "expectations"};

void
mp_profile_init(struct mp_profile *p)
{
	memset(p, 0, sizeof(*p));
}

static void
list_dispose(struct mp_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
mp_profile_dispose(struct mp_profile *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *base = (char *)p + keys[i].off;

		if (keys[i].kind == K_STR)
			free(*(char **)(void *)base);
		else
			list_dispose((struct mp_strlist *)(void *)base);
	}
	mp_profile_init(p);
}

static int
list_add(struct mp_strlist *l, const char *s, size_t n)
{
	char **v;

	if (l->n >= MP_PROFILE_LIST_MAX)
		return MP_ETOOBIG;
	if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL)
		return MP_ENOMEM;
	l->v = v;
	if ((l->v[l->n] = mp_strndup(s, n)) == NULL)
		return MP_ENOMEM;
	l->n++;
	return 0;
}

/* Splits a list value at commas; empty items are skipped. */
static int
list_add_all(struct mp_strlist *l, const char *s, size_t n)
{
	size_t i = 0, start, len;
	const char *item;
	int ret;

	while (i < n) {
		start = i;
		while (i < n && s[i] != ',')
			i++;
		len = i - start;
		item = mp_trim(s + start, &len);
		if (len > 0 && (ret = list_add(l, item, len)) != 0)
			return ret;
		i++;
	}
	return 0;
}

static const struct key *
find_key(const char *section, const char *name, size_t nlen)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].section, section) == 0 && mp_ieq(name, nlen, keys[i].name))
			return &keys[i];
	return NULL;
}

/* Bytes a person can see in an error message: printable ASCII only. */
static void
printable(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < n && j + 1 < dstlen; i++)
		dst[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[j] = '\0';
}

/* One "key = value" line inside a section; seen[] marks single keys set by this text. */
static int
parse_assignment(struct mp_profile *p, const char *section, const char *line, size_t n, bool *seen,
		 const char *name, unsigned lineno, struct mp_err *err)
{
	const char *eq = memchr(line, '=', n), *k, *v;
	size_t klen, vlen;
	const struct key *key;
	char shown[64];
	int ret;

	if (eq == NULL)
		return mp_err_set(err, MP_EPARSE, _("%s:%u: expected \"key = value\""), name,
				  lineno);
	klen = (size_t)(eq - line);
	k = mp_trim(line, &klen);
	vlen = n - (size_t)(eq - line) - 1;
	v = mp_trim(eq + 1, &vlen);
	if (section == NULL)
		return mp_err_set(err, MP_EPARSE, _("%s:%u: a setting before the first [section]"),
				  name, lineno);
	if ((key = find_key(section, k, klen)) == NULL) {
		printable(shown, sizeof(shown), k, klen);
		return mp_err_set(err, MP_EPARSE, _("%s:%u: unknown setting \"%s\" in [%s]"), name,
				  lineno, shown, section);
	}
	/* A value may be quoted to keep leading or trailing blanks. */
	if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
		v++;
		vlen -= 2;
	}
	if (memchr(v, '\0', vlen) != NULL)
		return mp_err_set(err, MP_EPARSE, _("%s:%u: NUL byte in the value"), name, lineno);
	if (key->kind == K_LIST) {
		ret = list_add_all((struct mp_strlist *)(void *)((char *)p + key->off), v, vlen);
		if (ret == MP_ETOOBIG)
			return mp_err_set(err, MP_ETOOBIG, _("%s:%u: more than %d values for %s"),
					  name, lineno, MP_PROFILE_LIST_MAX, key->name);
		if (ret != 0)
			return mp_err_set(err, ret, _("out of memory"));
		return 0;
	}
	if (seen[key - keys])
		return mp_err_set(err, MP_EPARSE, _("%s:%u: %s is set twice in [%s]"), name, lineno,
				  key->name, section);
	seen[key - keys] = true;
	{
		char **slot = (char **)(void *)((char *)p + key->off);
		char *s = mp_strndup(v, vlen);

		if (s == NULL)
			return mp_err_set(err, MP_ENOMEM, _("out of memory"));
		free(*slot);
		*slot = s;
	}
	return 0;
}

int
mp_profile_parse(struct mp_profile *p, const char *text, size_t len, const char *name,
		 struct mp_err *err)
{
	bool seen[sizeof(keys) / sizeof(keys[0])] = {false};
	const char *section = NULL, *line, *nl;
	size_t pos = 0, n, i;
	unsigned lineno = 0;
	int ret;

	if (len > MP_PROFILE_MAX)
		return mp_err_set(err, MP_ETOOBIG, _("%s: larger than %d bytes"), name,
				  MP_PROFILE_MAX);
	/* A UTF-8 byte order mark, as some editors write it. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		lineno++;
		line = text + pos;
		nl = memchr(line, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += n + (nl != NULL);
		if (n > MP_PROFILE_LINE_MAX)
			return mp_err_set(err, MP_ETOOBIG, _("%s:%u: line longer than %d bytes"),
					  name, lineno, MP_PROFILE_LINE_MAX);
		line = mp_trim(line, &n);
		if (n == 0 || line[0] == '#' || line[0] == ';')
			continue;
		if (line[0] != '[') {
			ret = parse_assignment(p, section, line, n, seen, name, lineno, err);
			if (ret != 0)
				return ret;
			continue;
		}
		if (line[n - 1] != ']')
			return mp_err_set(err, MP_EPARSE, _("%s:%u: a section header ends in ']'"),
					  name, lineno);
		section = NULL;
		for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
			size_t sl = n - 2;
			const char *s = mp_trim(line + 1, &sl);

			if (mp_ieq(s, sl, sections[i]))
				section = sections[i];
		}
		if (section == NULL) {
			char shown[64];

			printable(shown, sizeof(shown), line, n);
			return mp_err_set(
			    err, MP_EPARSE,
			    _("%s:%u: unknown section %s (known: [customer], [sender], "
			      "[mailbox], [expectations])"),
			    name, lineno, shown);
		}
	}
	return 0;
}

int
mp_profile_load(struct mp_profile *p, const char *path, struct mp_err *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp;
	int ret;

	if ((fp = fopen(path, "r")) == NULL)
		return mp_err_set(err, errno == ENOENT ? MP_ENOTFOUND : MP_EIO, "%s: %s", path,
				  strerror(errno));
	if ((text = malloc(MP_PROFILE_MAX + 1)) == NULL) {
		ret = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	len = fread(text, 1, MP_PROFILE_MAX + 1, fp);
	if (ferror(fp)) {
		ret = mp_err_set(err, MP_EIO, _("%s: read error"), path);
		goto out;
	}
	ret = mp_profile_parse(p, text, len, path, err);
out:
	free(text);
	fclose(fp);
	return ret;
}
