/* test_buf.c - the bounded buffer and the string helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "util.h"

static void
buf_grows_up_to_max(void **state)
{
	struct mp_buf b;
	size_t i;

	(void)state;
	mp_buf_init(&b, 1000);
	for (i = 0; i < 100; i++)
		assert_int_equal(mp_buf_add(&b, "0123456789", 10), 0);
	assert_int_equal(b.len, 1000);
	assert_int_equal(mp_buf_addc(&b, 'x'), MP_ETOOBIG);
	assert_int_equal(b.len, 1000);
	assert_int_equal(strlen(mp_buf_cstr(&b)), 1000);
	mp_buf_dispose(&b);
}

static void
buf_printf_and_detach(void **state)
{
	struct mp_buf b;
	size_t n;
	char *s;

	(void)state;
	mp_buf_init(&b, 64);
	assert_string_equal(mp_buf_cstr(&b), "");
	assert_int_equal(mp_buf_printf(&b, "%s=%d", "bits", 2048), 0);
	assert_string_equal(mp_buf_cstr(&b), "bits=2048");
	assert_int_equal(mp_buf_printf(&b, "%070d", 1), MP_ETOOBIG);
	s = mp_buf_detach(&b, &n);
	assert_int_equal(n, 9);
	assert_string_equal(s, "bits=2048");
	free(s);
	assert_string_equal(mp_buf_cstr(&b), "");
	mp_buf_dispose(&b);
}

static void
buf_size_overflow_is_refused(void **state)
{
	struct mp_buf b;

	(void)state;
	mp_buf_init(&b, (size_t)-1);
	assert_int_equal(mp_buf_add(&b, "a", 1), 0);
	assert_int_equal(mp_buf_add(&b, "a", (size_t)-1), MP_ETOOBIG);
	mp_buf_dispose(&b);
}

static void
buf_read_file_bounded(void **state)
{
	char path[] = "/tmp/mp-test-buf-XXXXXX";
	struct mp_buf b;
	struct mp_err err = {0};
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	mp_buf_init(&b, 10);
	assert_int_equal(mp_buf_read_file(&b, path, &err), 0);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "0123456789", 10);
	mp_buf_dispose(&b);
	mp_buf_init(&b, 9);
	assert_int_equal(mp_buf_read_file(&b, path, &err), MP_ETOOBIG);
	assert_non_null(strstr(err.msg, path));
	mp_buf_dispose(&b);
	unlink(path);
	mp_buf_init(&b, 9);
	assert_int_equal(mp_buf_read_file(&b, path, &err), MP_ENOTFOUND);
	mp_buf_dispose(&b);
}

static void
util_domains(void **state)
{
	char *d;

	(void)state;
	d = mp_addr_domain("NoReply@Klant.TEST.");
	assert_string_equal(d, "klant.test");
	free(d);
	assert_null(mp_addr_domain("nobody"));
	assert_null(mp_addr_domain("nobody@"));
	d = mp_addr_domain("a@b@c.nl");
	assert_string_equal(d, "c.nl");
	free(d);
	assert_true(mp_ieq("Hello", 5, "hELLO"));
	assert_false(mp_ieq("Hello", 4, "hELLO"));
	assert_true(mp_ieq_z(NULL, NULL));
	assert_false(mp_ieq_z("a", NULL));
}

static void
util_trim(void **state)
{
	size_t n = 9;
	const char *s = mp_trim(" \t abc \r\n", &n);

	(void)state;
	assert_int_equal(n, 3);
	assert_memory_equal(s, "abc", 3);
	n = 2;
	s = mp_trim("  ", &n);
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_grows_up_to_max),
		cmocka_unit_test(buf_printf_and_detach),
		cmocka_unit_test(buf_size_overflow_is_refused),
		cmocka_unit_test(buf_read_file_bounded),
		cmocka_unit_test(util_domains),
		cmocka_unit_test(util_trim),
	};
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
