/* i18n.c - see i18n.h.  gettext with the catalogue kept in the project (po/nl.po). */
#include "i18n.h"

#include <libintl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#define DOMAIN "mailproof"

static bool use_nl;

/* The language a locale or LANGUAGE value names: its first entry, "nl", "nl_NL.UTF-8"... */
static bool
names_nl(const char *v)
{
	return v != NULL && v[0] == 'n' && v[1] == 'l' &&
	       (v[2] == '\0' || v[2] == '_' || v[2] == '.' || v[2] == '@' || v[2] == ':');
}

/*
 * As gettext decides: the locale is the first of LC_ALL, LC_MESSAGES, LANG that is set;
 * in the C or POSIX locale (or none) messages stay English and LANGUAGE is ignored;
 * otherwise the first entry of LANGUAGE, when set, wins over the locale's language.
 */
static bool
locale_wants_nl(void)
{
	static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
	const char *loc = NULL, *language;
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]) && loc == NULL; i++) {
		loc = getenv(vars[i]);
		if (loc != NULL && loc[0] == '\0')
			loc = NULL;
	}
	if (loc == NULL || strcmp(loc, "C") == 0 || strcmp(loc, "POSIX") == 0)
		return false;
	language = getenv("LANGUAGE");
	if (language != NULL && language[0] != '\0')
		return names_nl(language);
	return names_nl(loc);
}

void
mp_i18n_init(const char *lang)
{
	const char *dir, *cur;

	use_nl = lang != NULL ? strcmp(lang, "nl") == 0 : locale_wants_nl();
	if (!use_nl)
		return;
	/*
	 * gettext ignores the catalogues when LC_MESSAGES is "C" or "POSIX", and a Debian
	 * machine often has no nl_NL locale at all: fall back to C.UTF-8 (always present)
	 * and name the language through LANGUAGE, which gettext honours for any other
	 * locale.  The codeset is fixed: the reports are UTF-8 whatever the terminal's.
	 */
	cur = setlocale(LC_MESSAGES, "");
	if (cur == NULL || strcmp(cur, "C") == 0 || strcmp(cur, "POSIX") == 0)
		setlocale(LC_MESSAGES, "C.UTF-8");
	setenv("LANGUAGE", "nl", 1);
	dir = getenv("MAILPROOF_LOCALEDIR");
	bindtextdomain(DOMAIN, dir != NULL && dir[0] != '\0' ? dir : MP_LOCALEDIR);
	bind_textdomain_codeset(DOMAIN, "UTF-8");
}

bool
mp_i18n_is_nl(void)
{
	return use_nl;
}

const char *
mp_i18n_lang(void)
{
	return use_nl ? "nl" : "en";
}

const char *
mp_i18n_gettext(const char *msgid)
{
	return use_nl ? dgettext(DOMAIN, msgid) : msgid;
}

const char *
mp_i18n_ngettext(const char *singular, const char *plural, unsigned long n)
{
	if (use_nl)
		return dngettext(DOMAIN, singular, plural, n);
	return n == 1 ? singular : plural;
}
