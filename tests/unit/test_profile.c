/* test_profile.c - the INI customer profile: keys, lists, errors with file:line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "profile.h"
#include "secret.h"
#include "util.h"

static int
parse(struct mp_profile *p, const char *text, struct mp_err *err)
{
	mp_profile_init(p);
	mp_err_clear(err);
	return mp_profile_parse(p, text, strlen(text), "t.conf", err);
}

static void
profile_full(void **state)
{
	struct mp_profile p;
	struct mp_err err;
	const char *text = "\xef\xbb\xbf# a customer\n"
			   "[customer]\n"
			   "name = Gemeente Voorbeeld\r\n"
			   "abbreviation=GV\n"
			   "  domain =  klant.test  \n"
			   "\n"
			   "[Sender]\n"
			   "from = \"Extranet GV <noreply@klant.test>\"\n"
			   "dkim_selector = rsa2048\n"
			   "; comment\n"
			   "[mailbox]\n"
			   "folders = INBOX, Archief ,,\n"
			   "folders = Junk\n"
			   "user = jan\n"
			   "[expectations]\n"
			   "ip = 192.0.2.10\n"
			   "include = _spf.platform.test\n";

	(void)state;
	assert_int_equal(parse(&p, text, &err), 0);
	assert_string_equal(p.name, "Gemeente Voorbeeld");
	assert_string_equal(p.abbreviation, "GV");
	assert_string_equal(p.domain, "klant.test");
	assert_string_equal(p.from, "Extranet GV <noreply@klant.test>");
	assert_string_equal(p.dkim_selector, "rsa2048");
	assert_null(p.user);
	assert_string_equal(p.imap_user, "jan");
	assert_int_equal(p.folders.n, 3);
	assert_string_equal(p.folders.v[0], "INBOX");
	assert_string_equal(p.folders.v[1], "Archief");
	assert_string_equal(p.folders.v[2], "Junk");
	assert_int_equal(p.ips.n, 1);
	assert_string_equal(p.includes.v[0], "_spf.platform.test");
	mp_profile_dispose(&p);
}

static const struct {
	const char *text;
	int code;
	const char *msg;
} bad[] = {
    {"name = x\n", MP_EPARSE, "t.conf:1: a setting before the first [section]"},
    {"[customer]\nnaam = x\n", MP_EPARSE, "t.conf:2: unknown setting \"naam\" in [customer]"},
    {"[klant]\n", MP_EPARSE, "t.conf:1: unknown section [klant]"},
    {"[customer\n", MP_EPARSE, "t.conf:1: a section header ends in ']'"},
    {"[customer]\n\nname\n", MP_EPARSE, "t.conf:3: expected \"key = value\""},
    {"[sender]\nuser = a\nuser = b\n", MP_EPARSE, "t.conf:3: user is set twice in [sender]"},
    /* a key of another section */
    {"[customer]\nrelay = smtp://x\n", MP_EPARSE, "t.conf:2: unknown setting \"relay\""},
};

static void
profile_errors(void **state)
{
	struct mp_profile p;
	struct mp_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&p, bad[i].text, &err), bad[i].code);
		if (strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)) != 0)
			fail_msg("case %zu: \"%s\"", i, err.msg);
		mp_profile_dispose(&p);
	}
}

static void
profile_bounds(void **state)
{
	struct mp_profile p;
	struct mp_err err;
	char *big;
	size_t i, n;

	(void)state;
	big = malloc(MP_PROFILE_MAX + 2);
	assert_non_null(big);
	/* one over-long line */
	memcpy(big, "[customer]\nname = ", 18);
	memset(big + 18, 'a', MP_PROFILE_LINE_MAX + 10);
	big[18 + MP_PROFILE_LINE_MAX + 10] = '\0';
	assert_int_equal(parse(&p, big, &err), MP_ETOOBIG);
	assert_non_null(strstr(err.msg, "t.conf:2:"));
	mp_profile_dispose(&p);
	/* a file over the limit */
	memset(big, '#', MP_PROFILE_MAX + 1);
	big[MP_PROFILE_MAX + 1] = '\0';
	assert_int_equal(parse(&p, big, &err), MP_ETOOBIG);
	mp_profile_dispose(&p);
	/* too many list values */
	n = (size_t)snprintf(big, MP_PROFILE_MAX, "[expectations]\n");
	for (i = 0; i <= MP_PROFILE_LIST_MAX; i++)
		n += (size_t)snprintf(big + n, MP_PROFILE_MAX - n, "ip = 192.0.2.%zu\n", i);
	assert_int_equal(parse(&p, big, &err), MP_ETOOBIG);
	mp_profile_dispose(&p);
	/* binary junk never crashes */
	memcpy(big, "[sender]\nuser = a\0b\n", 20);
	mp_profile_init(&p);
	assert_int_equal(mp_profile_parse(&p, big, 20, "t.conf", &err), MP_EPARSE);
	mp_profile_dispose(&p);
	free(big);
}

static void
profile_example_fixtures(void **state)
{
	const char *dir = getenv("MP_FIXTURES");
	const char *names[] = {"klant-nl.conf", "klant-en.conf"};
	struct mp_profile p;
	struct mp_err err;
	char path[4096];
	size_t i;

	(void)state;
	if (dir == NULL)
		skip();
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/profiles/%s", dir, names[i]);
		mp_profile_init(&p);
		if (mp_profile_load(&p, path, &err) != 0)
			fail_msg("%s", err.msg);
		assert_non_null(p.name);
		assert_non_null(p.from);
		mp_profile_dispose(&p);
	}
	mp_profile_init(&p);
	assert_int_equal(mp_profile_load(&p, "/nonexistent/x.conf", &err), MP_ENOTFOUND);
	mp_profile_dispose(&p);
}

static void
secret_file_modes(void **state)
{
	char path[] = "/tmp/mp-secret-XXXXXX";
	char *s = NULL;
	struct mp_err err;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "geheim\r\nrest\n", 13), 13);
	close(fd);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(mp_secret_read_file(path, &s, &err), 0);
	assert_string_equal(s, "geheim");
	mp_free_secret(s);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(mp_secret_read_file(path, &s, &err), MP_EINVAL);
	assert_null(s);
	assert_non_null(strstr(err.msg, "others can read the password file"));
	assert_null(strstr(err.msg, "geheim"));
	assert_int_equal(chmod(path, 0600), 0);
	fd = open(path, O_WRONLY | O_TRUNC);
	close(fd);
	assert_int_equal(mp_secret_read_file(path, &s, &err), MP_EINVAL);
	/* a NUL byte would cut the secret short: refused */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "ge\0heim\n", 8), 8);
	close(fd);
	assert_int_equal(mp_secret_read_file(path, &s, &err), MP_EINVAL);
	assert_null(s);
	assert_non_null(strstr(err.msg, "NUL byte"));
	unlink(path);
	assert_int_equal(mp_secret_read_file(path, &s, &err), MP_ENOTFOUND);
	/* a FIFO is refused at once, not waited on (the test would hang) */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(mp_secret_read_file(path, &s, &err), MP_EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file"));
	unlink(path);
	setenv("MP_TEST_SECRET", "pw", 1);
	assert_int_equal(mp_secret_from_env("MP_TEST_SECRET", &s, &err), 0);
	assert_string_equal(s, "pw");
	mp_free_secret(s);
	assert_int_equal(mp_secret_from_env("MP_TEST_SECRET_UNSET", &s, &err), MP_ENOTFOUND);
}

/* The IMAP login keys of [mailbox]: mechanism and the OAuth 2.0 token sources. */
static void
profile_mailbox_oauth2(void **state)
{
	struct mp_profile p;
	struct mp_err err;
	const char *text = "[mailbox]\n"
			   "auth = oauthbearer\n"
			   "oauth2_token_file = /etc/mailproof/gv.token\n"
			   "oauth2_token_command = mutt_oauth2.py ~/gv.tokens\n";

	(void)state;
	assert_int_equal(parse(&p, text, &err), 0);
	assert_string_equal(p.imap_auth, "oauthbearer");
	assert_string_equal(p.imap_oauth2_token_file, "/etc/mailproof/gv.token");
	assert_string_equal(p.imap_oauth2_token_command, "mutt_oauth2.py ~/gv.tokens");
	mp_profile_dispose(&p);
	assert_int_equal(parse(&p, "[sender]\noauth2_token_file = x\n", &err), MP_EPARSE);
	mp_profile_dispose(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(profile_mailbox_oauth2),
	    cmocka_unit_test(profile_full),	 cmocka_unit_test(profile_errors),
	    cmocka_unit_test(profile_bounds),	 cmocka_unit_test(profile_example_fixtures),
	    cmocka_unit_test(secret_file_modes),
	};

	return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
