/* test_imap_auth.c - the IMAP login mechanism choice and the OAuth 2.0 token command. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "imap_auth.h"
#include "util.h"

static void
auth_parse(void **state)
{
	enum mp_auth_mech m = MP_AUTH_AUTO;

	(void)state;
	assert_int_equal(mp_imap_auth_parse("oauthbearer", &m), 0);
	assert_int_equal(m, MP_AUTH_OAUTHBEARER);
	assert_int_equal(mp_imap_auth_parse("auto", &m), 0);
	assert_int_equal(m, MP_AUTH_AUTO);
	assert_int_equal(mp_imap_auth_parse("XOAUTH2", &m), MP_EINVAL);
	assert_int_equal(mp_imap_auth_parse("", &m), MP_EINVAL);
	assert_string_equal(mp_auth_mech_name(MP_AUTH_PLAIN), "plain");
	assert_string_equal(mp_imap_auth_mech(MP_AUTH_XOAUTH2), "XOAUTH2");
}

/* One row: what is wanted, whether there is a token, what the server offers, the result. */
static const struct choice {
	enum mp_auth_mech want;
	bool token;
	struct mp_imap_caps caps;
	int rc;
	enum mp_auth_mech got;
	const char *says;
} choices[] = {
    {MP_AUTH_AUTO, true, {.xoauth2 = true, .oauthbearer = true}, 0, MP_AUTH_OAUTHBEARER, NULL},
    {MP_AUTH_AUTO, true, {.plain = true, .xoauth2 = true}, 0, MP_AUTH_XOAUTH2, NULL},
    {MP_AUTH_AUTO, true, {.plain = true}, MP_EIO, 0, "neither OAUTHBEARER nor XOAUTH2"},
    {MP_AUTH_AUTO, false, {.plain = true, .oauthbearer = true}, 0, MP_AUTH_PLAIN, NULL},
    {MP_AUTH_AUTO, false, {.xoauth2 = true}, 0, MP_AUTH_LOGIN, NULL},
    {MP_AUTH_AUTO, false, {.logindisabled = true}, MP_EIO, 0, "offers no AUTHENTICATE PLAIN"},
    {MP_AUTH_LOGIN, false, {.plain = true, .logindisabled = true}, MP_EIO, 0, "LOGINDISABLED"},
    {MP_AUTH_LOGIN, false, {.plain = true}, 0, MP_AUTH_LOGIN, NULL},
    {MP_AUTH_PLAIN, false, {.xoauth2 = true}, MP_EIO, 0, "does not offer AUTHENTICATE PLAIN"},
    {MP_AUTH_XOAUTH2, true, {.xoauth2 = true, .oauthbearer = true}, 0, MP_AUTH_XOAUTH2, NULL},
    {MP_AUTH_OAUTHBEARER,
     true,
     {.xoauth2 = true},
     MP_EIO,
     0,
     "does not offer AUTHENTICATE OAUTHBEARER"},
};

static void
auth_choose(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
		const struct choice *c = &choices[i];
		enum mp_auth_mech got = MP_AUTH_AUTO;
		struct mp_err err = {0};
		int rc = mp_imap_auth_choose(c->want, c->token, &c->caps, "imap.test", &got, &err);

		assert_int_equal(rc, c->rc);
		if (rc == 0) {
			assert_int_equal(got, c->got);
		} else {
			assert_non_null(strstr(err.msg, c->says));
			assert_non_null(strstr(err.msg, "imap.test"));
		}
	}
}

static void
token_check(void **state)
{
	struct mp_err err = {0};
	char big[MP_OAUTH2_TOKEN_MAX + 2];

	(void)state;
	assert_int_equal(mp_oauth2_token_check("eyJhbGciOi.eyJzdWIi.c2ln-_~+/=", "t", &err), 0);
	assert_int_equal(mp_oauth2_token_check("", "t", &err), MP_EINVAL);
	assert_int_equal(mp_oauth2_token_check("a b", "t", &err), MP_EINVAL);
	assert_int_equal(mp_oauth2_token_check("a\001b", "t", &err), MP_EINVAL);
	assert_int_equal(mp_oauth2_token_check("caf\xc3\xa9", "t", &err), MP_EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(mp_oauth2_token_check(big, "t", &err), MP_ETOOBIG);
}

/* run CMD: the token, or NULL with err filled. */
static char *
run(const char *cmd, int want_rc, struct mp_err *err)
{
	char *tok = NULL;

	mp_err_clear(err);
	assert_int_equal(mp_oauth2_token_run(cmd, &tok, err), want_rc);
	return tok;
}

static void
token_command(void **state)
{
	struct mp_err err;
	char *tok;

	(void)state;
	tok = run("printf '  tok-1  \\r\\nsecond line\\n'", 0, &err);
	assert_string_equal(tok, "tok-1");
	mp_free_secret(tok);
	tok = run("printf tok-2", 0, &err); /* no newline at the end */
	assert_string_equal(tok, "tok-2");
	mp_free_secret(tok);

	run("echo leaked-secret; exit 7", MP_EIO, &err);
	assert_non_null(strstr(err.msg, "exit status 7"));
	assert_null(strstr(err.msg, "leaked-secret"));
	run("true", MP_EIO, &err);
	assert_non_null(strstr(err.msg, "printed no token"));
	run("echo '   '", MP_EIO, &err);
	assert_non_null(strstr(err.msg, "printed no token"));
	run("kill -9 $$", MP_EIO, &err);
	assert_non_null(strstr(err.msg, "signal 9"));
	run("head -c 9000 /dev/zero | tr '\\0' a", MP_EIO, &err);
	assert_non_null(strstr(err.msg, "more than 8192 bytes"));
	/* endless output is cut off at the bound, not read forever */
	run("yes aaaaaaaa", MP_EIO, &err);
	assert_non_null(strstr(err.msg, "more than 8192 bytes"));
	run("echo 'tok en'", MP_EIO, &err);
	assert_non_null(strstr(err.msg, "spaces"));
	assert_null(strstr(err.msg, "tok en"));
	/* a NUL byte would cut the token short: refused, not sent as "tok-3" */
	run("printf 'tok-3\\0junk\\n'", MP_EIO, &err);
	assert_non_null(strstr(err.msg, "NUL byte"));
	run("/nonexistent/token-helper", MP_EIO, &err);
	assert_non_null(strstr(err.msg, "exit status 127"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(auth_parse),
	    cmocka_unit_test(auth_choose),
	    cmocka_unit_test(token_check),
	    cmocka_unit_test(token_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
