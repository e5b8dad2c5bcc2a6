/*
 * i18n.h - the language of every message a person reads (English or Dutch).
 *
 * mp_i18n_init() picks the language once, from --lang or the locale, and binds the
 * "mailproof" gettext domain.  _() translates a string (a no-op in English, so English
 * output never depends on the machine's catalogues); N_() only marks one for xgettext.
 */
#ifndef MP_I18N_H
#define MP_I18N_H

#include <stdbool.h>

/* lang: "en", "nl" or NULL (LC_ALL, LC_MESSAGES, LANG and LANGUAGE decide, as for gettext). */
void mp_i18n_init(const char *lang);
/* True when messages come out in Dutch. */
bool mp_i18n_is_nl(void);
/* "en" or "nl": for lang attributes. */
const char *mp_i18n_lang(void);
/* format_arg: gcc checks a translated printf format against the English msgid. */
const char *mp_i18n_gettext(const char *msgid) __attribute__((format_arg(1)));
const char *mp_i18n_ngettext(const char *singular, const char *plural, unsigned long n)
    __attribute__((format_arg(1), format_arg(2)));

#define _(s) mp_i18n_gettext(s)
#define N_(s) (s)

#endif
