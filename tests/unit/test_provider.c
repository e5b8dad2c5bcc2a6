/* test_provider.c - the provider table and the spam folder names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "error.h"
#include "profile.h"
#include "provider.h"

static void
provider_table(void **state)
{
	const struct mp_provider *p;

	(void)state;
	p = mp_provider_find("m365");
	assert_non_null(p);
	assert_string_equal(p->imap_url, "imaps://outlook.office365.com:993");
	assert_int_equal(mp_provider_auth(p, true), MP_AUTH_XOAUTH2);
	assert_string_equal(mp_auth_mech_name(mp_provider_auth(p, true)), "xoauth2");
	assert_int_equal(p->nauthserv, 1);
	assert_string_equal(p->authserv_ids[0], ".outlook.com");

	p = mp_provider_find("GMail");
	assert_non_null(p);
	assert_string_equal(p->imap_url, "imaps://imap.gmail.com:993");
	assert_string_equal(mp_auth_mech_name(mp_provider_auth(p, true)), "oauthbearer");
	assert_string_equal(mp_auth_mech_name(mp_provider_auth(p, false)), "plain");
	assert_string_equal(p->authserv_ids[0], "mx.google.com");

	p = mp_provider_find("generic");
	assert_non_null(p);
	assert_null(p->imap_url);
	assert_int_equal(p->nauthserv, 0);
	assert_string_equal(mp_auth_mech_name(mp_provider_auth(p, true)), "auto");

	assert_null(mp_provider_find("yahoo"));
	assert_null(mp_provider_find(""));
	assert_null(mp_provider_find(NULL));
	assert_string_equal(mp_auth_mech_name(MP_AUTH_AUTO), "auto");
}

/* Every provider's own junk names are recognised by the name test. */
static void
provider_junk_names_known(void **state)
{
	const char *const names[] = {"generic", "m365", "gmail"};
	size_t i, j;

	(void)state;
	for (i = 0; i < 3; i++) {
		const struct mp_provider *p = mp_provider_find(names[i]);

		assert_true(p->njunk > 0);
		for (j = 0; j < p->njunk; j++)
			assert_true(mp_provider_junk_name(p->junk_names[j], '\0'));
	}
}

static void
junk_name_table(void **state)
{
	static const struct {
		const char *name;
		char delim;
		bool junk;
	} cases[] = {
	    {"Junk", '/', true},
	    {"junk", '/', true},
	    {"Junk Email", '/', true},
	    {"JUNK EMAIL", '/', true},
	    {"Junk E-mail", '/', true},
	    {"Junk E-Mail", '/', true},
	    {"Ongewenste e-mail", '/', true},
	    {"ongewenste E-mail", '/', true},
	    {"Spam", '/', true},
	    {"[Gmail]/Spam", '/', true},
	    {"[Google Mail]/Spam", '/', true},
	    {"[gmail]/spam", '/', true},
	    {"INBOX.Junk", '.', true},
	    {"INBOX.Spam", '.', true},
	    {"INBOX/Junk E-mail", '/', true},
	    {"INBOX/Ongewenste e-mail", '/', true},
	    {"Inbox.junk", '\0', true},
	    {"[Gmail]/Spam", '\0', true},
	    /* not junk */
	    {"INBOX", '/', false},
	    {"Projects/Spam", '/', false},
	    {"Klanten.Junk", '.', false},
	    {"[Gmail]/Sent Mail", '/', false},
	    {"[Gmail]/Alle berichten", '/', false},
	    {"Junk Emails", '/', false},
	    {"Junk/", '/', false},
	    {"/Junk", '/', false},
	    {"INBOX.Junk", '/', false},
	    {"INBOX/Junk/Old", '/', false},
	    {"", '/', false},
	    {"Verwijderde items", '/', false},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (mp_provider_junk_name(cases[i].name, cases[i].delim) != cases[i].junk)
			fail_msg("case %zu '%s' (delimiter '%c'): expected %s", i, cases[i].name,
				 cases[i].delim != '\0' ? cases[i].delim : '0',
				 cases[i].junk ? "junk" : "not junk");
	}
	assert_false(mp_provider_junk_name(NULL, '/'));
}

/* A name far too long, or one made only of delimiters, is not junk and does not crash. */
static void
junk_name_hostile(void **state)
{
	char big[1024];

	(void)state;
	memset(big, '/', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(mp_provider_junk_name(big, '/'));
	assert_false(mp_provider_junk_name(big, '\0'));
	memcpy(big + sizeof(big) - 6, "/Junk", 6);
	assert_false(mp_provider_junk_name(big, '/'));
}

/* The profile key names a provider the table knows; a repeated key is an error. */
static void
profile_provider_key(void **state)
{
	struct mp_profile p;
	struct mp_err err = {0};
	const char *text = "[mailbox]\nprovider = m365\nuser = test@klant.test\n";
	const char *twice = "[mailbox]\nprovider = m365\nprovider = gmail\n";

	(void)state;
	mp_profile_init(&p);
	assert_int_equal(mp_profile_parse(&p, text, strlen(text), "t.conf", &err), 0);
	assert_string_equal(p.provider, "m365");
	assert_non_null(mp_provider_find(p.provider));
	mp_profile_dispose(&p);
	mp_profile_init(&p);
	assert_int_not_equal(mp_profile_parse(&p, twice, strlen(twice), "t.conf", &err), 0);
	mp_profile_dispose(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(provider_table),	    cmocka_unit_test(provider_junk_names_known),
	    cmocka_unit_test(junk_name_table),	    cmocka_unit_test(junk_name_hostile),
	    cmocka_unit_test(profile_provider_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
