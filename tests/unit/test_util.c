/* test_util.c - the RFC 5322 date parser of util.c (Date and Received timestamps). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "util.h"

struct dcase {
	const char *in;
	int rc;
	int64_t want;
};

static const struct dcase dates[] = {
	{"Thu, 26 Nov 2026 03:59:40 +0000", 0, 1795665580},
	{"Thu, 26 Nov 2026 03:59:40 +0000 (UTC)", 0, 1795665580},
	{"26 Nov 2026 04:59:40 +0100", 0, 1795665580},
	{"Wed, 25 Nov 2026 22:59:40 -0500", 0, 1795665580},
	{"Wed, 25 Nov 2026 22:59:40 EST", 0, 1795665580},
	{"Thu,26 Nov 2026 03:59:40 GMT", 0, 1795665580},
	{"Thu, 26 Nov 26 03:59:40 +0000", 0, 1795665580},
	{"Thu, 26 Nov 2026 03:59 +0000", 0, 1795665540},
	{"  Thu (day) , 26 (x) nov 2026 03 : 59 : 40 +0000 ", 0, 1795665580},
	{"Thu, 1 Jan 1970 00:00:00 +0000", 0, 0},
	{"Tue, 29 Feb 2028 12:00:00 +0000", 0, 1835438400},
	{"Sat, 31 Dec 2016 23:59:60 +0000", 0, 1483228800},
	{"Thu, 26 Nov 2026 03:59:40 Z", 0, 1795665580},
	{"Thu, 26 Nov 2026 03:59:40 XYZ", 0, 1795665580},
	{"", MP_EPARSE, 0},
	{"Thu 26 Nov 2026 03:59:40 +0000", MP_EPARSE, 0},
	{"Thu, 26 Foo 2026 03:59:40 +0000", MP_EPARSE, 0},
	{"Thu, 26 Nov 2026 24:00:00 +0000", MP_EPARSE, 0},
	{"Thu, 26 Nov 2026 03:59:40 +00", MP_EPARSE, 0},
	{"Thu, 26 Nov 2026 03:59:40 +0000 trailing", MP_EPARSE, 0},
	{"Thu, 26 Nov 2026 03:59:40", MP_EPARSE, 0},
	{"Thu, 0 Nov 2026 03:59:40 +0000", MP_EPARSE, 0},
	{"Thu, 26 Nov 2026 03:59:40 +0000 (open comment", 0, 1795665580},
	{"1234567890123456789012345", MP_EPARSE, 0},
};

static void
test_dates(void **state)
{
	size_t i;
	int64_t t;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		t = -1;
		rc = mp_date_parse(dates[i].in, strlen(dates[i].in), &t);
		if (rc != dates[i].rc || (rc == 0 && t != dates[i].want)) {
			print_error("\"%s\": rc %d t %lld, want rc %d t %lld\n", dates[i].in, rc,
				    (long long)t, dates[i].rc, (long long)dates[i].want);
			fail();
		}
	}
}

/* Length-bounded: bytes after n are never read, and NUL inside is just a bad byte. */
static void
test_date_bounds(void **state)
{
	static const char nul[] = "Thu, 26 Nov 2026 03:59:40 +0000\0junk";
	char big[400];
	int64_t t;

	(void)state;
	assert_int_equal(mp_date_parse(nul, 31, &t), 0);
	assert_int_equal(mp_date_parse(nul, sizeof(nul) - 1, &t), MP_EPARSE);
	memset(big, ' ', sizeof(big));
	memcpy(big, "26 Nov 2026 03:59:40 +0000", 26);
	assert_int_equal(mp_date_parse(big, sizeof(big), &t), MP_EPARSE);
	assert_int_equal(mp_date_parse(big, 26, &t), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_date_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
