/*
 * test_spf.c - unit tests of core/spf.c against fixtures/zones/spf.zone, through the
 * project's zone-mode resolver: each RFC 7208 result, the global lookup and void-lookup
 * limits, error mapping, the HELO identity, IPv6 and the reported counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver.h"
#include "spf.h"

struct fixture {
	struct mp_resolver *res;
	struct mp_spf *spf;
};

static int
setup(void **state)
{
	static char path[4096];
	const char *dir = getenv("MP_FIXTURES");
	struct mp_resolver_opts opts = { .mode = MP_RESOLVER_ZONE, .zone_file = path };
	struct fixture *f = calloc(1, sizeof(*f));
	struct mp_err err = { 0 };

	if (f == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/zones/spf.zone", dir != NULL ? dir : "fixtures");
	if (mp_resolver_new(&f->res, &opts, &err) != 0 ||
	    mp_resolver_add_tempfail(f->res, "broken.spf.test", &err) != 0 ||
	    mp_resolver_add_tempfail(f->res, "toplevel.spf.test", &err) != 0 ||
	    mp_spf_new(&f->spf, f->res, "mx.receiver.test", &err) != 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		mp_resolver_free(f->res);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	mp_spf_free(f->spf);
	mp_resolver_free(f->res);
	free(f);
	return 0;
}

struct spf_case {
	const char *name;
	const char *ip, *helo, *mail_from;
	const char *result, *domain, *identity;
	int lookups, voids;       /* -1: not checked */
	const char *explain_part; /* NULL: not checked */
};

static const struct spf_case cases[] = {
	{ "pass", "192.0.2.7", "mta.example", "a@pass.spf.test", "pass", "pass.spf.test",
	  "mailfrom", 0, 0, "192.0.2.7 is permitted by the SPF record of pass.spf.test" },
	{ "fail", "203.0.113.9", "mta.example", "a@pass.spf.test", "fail", "pass.spf.test",
	  "mailfrom", 0, 0, "203.0.113.9 is not permitted by the SPF record of pass.spf.test" },
	{ "softfail", "203.0.113.9", "mta.example", "a@soft.spf.test", "softfail",
	  "soft.spf.test", "mailfrom", 0, 0, "soft fail" },
	{ "neutral", "203.0.113.9", "mta.example", "a@neutral.spf.test", "neutral",
	  "neutral.spf.test", "mailfrom", 0, 0, "neutral" },
	{ "none (no TXT)", "192.0.2.7", "mta.example", "a@nothing.spf.test", "none",
	  "nothing.spf.test", "mailfrom", 0, 0, "nothing.spf.test has no SPF record" },
	{ "none (NXDOMAIN)", "192.0.2.7", "mta.example", "a@nx.spf.test", "none",
	  "nx.spf.test", "mailfrom", 0, 0, NULL },
	{ "none (TXT not SPF)", "192.0.2.7", "mta.example", "a@notspf.spf.test", "none",
	  "notspf.spf.test", "mailfrom", 0, 0, NULL },
	{ "none (single label)", "192.0.2.7", "mta.example", "a@localdomain", "none",
	  "localdomain", "mailfrom", 0, 0, "not a valid domain name" },
	{ "angle brackets", "192.0.2.7", "mta.example", "<a@pass.spf.test>", "pass",
	  "pass.spf.test", "mailfrom", 0, 0, NULL },
	{ "multi-string TXT joined", "203.0.113.9", "mta.example", "a@split.spf.test",
	  "fail", "split.spf.test", "mailfrom", 0, 0, NULL },
	{ "mx and a count", "198.51.100.7", "mta.example", "a@mx.spf.test", "pass",
	  "mx.spf.test", "mailfrom", 1, 0, NULL },
	{ "mx then a (no A: one void)", "203.0.113.9", "mta.example", "a@mx.spf.test", "fail",
	  "mx.spf.test", "mailfrom", 2, 1, NULL },
	{ "include pass", "203.0.113.9", "mta.example", "a@incl.spf.test", "pass",
	  "incl.spf.test", "mailfrom", 1, 0, NULL },
	{ "include of a domain without SPF", "192.0.2.7", "mta.example",
	  "a@inclnone.spf.test", "permerror", "inclnone.spf.test", "mailfrom", 1, 0,
	  "nothing.spf.test, named by include: or redirect=, has no SPF record" },
	{ "include chain of 11", "192.0.2.7", "mta.example", "a@chain0.spf.test",
	  "permerror", "chain0.spf.test", "mailfrom", 11, 0, "more than 10 DNS lookups" },
	{ "include chain of 10", "192.0.2.7", "mta.example", "a@ten0.spf.test", "pass",
	  "ten0.spf.test", "mailfrom", 10, 0, NULL },
	{ "3 void lookups", "192.0.2.7", "mta.example", "a@void3.spf.test", "permerror",
	  "void3.spf.test", "mailfrom", 3, 3, "more than 2 DNS lookups found nothing" },
	{ "2 void lookups", "192.0.2.7", "mta.example", "a@void2.spf.test", "pass",
	  "void2.spf.test", "mailfrom", 2, 2, NULL },
	{ "two records", "192.0.2.7", "mta.example", "a@two.spf.test", "permerror",
	  "two.spf.test", "mailfrom", 0, 0, "more than one SPF record" },
	{ "unknown mechanism", "192.0.2.7", "mta.example", "a@syntax.spf.test", "permerror",
	  "syntax.spf.test", "mailfrom", 0, 0, "is invalid" },
	{ "bad CIDR", "192.0.2.7", "mta.example", "a@badcidr.spf.test", "permerror",
	  "badcidr.spf.test", "mailfrom", 0, 0, "is invalid" },
	{ "top-level tempfail", "192.0.2.7", "mta.example", "a@toplevel.spf.test",
	  "temperror", "toplevel.spf.test", "mailfrom", 0, 0, "failed temporarily" },
	{ "tempfail inside include", "192.0.2.7", "mta.example", "a@tempinc.spf.test",
	  "temperror", "tempinc.spf.test", "mailfrom", 1, 0, "broken.spf.test" },
	{ "HELO identity, empty MAIL FROM", "198.51.100.3", "helo.spf.test", "", "pass",
	  "helo.spf.test", "helo", 0, 0, NULL },
	{ "HELO identity, <>", "203.0.113.9", "helo.spf.test", "<>", "fail", "helo.spf.test",
	  "helo", 0, 0, NULL },
	{ "HELO identity, NULL MAIL FROM", "198.51.100.3", "helo.spf.test", NULL, "pass",
	  "helo.spf.test", "helo", 0, 0, NULL },
	{ "MAIL FROM wins over HELO", "198.51.100.3", "helo.spf.test", "a@pass.spf.test",
	  "fail", "pass.spf.test", "mailfrom", 0, 0, NULL },
	{ "IPv6 pass", "2001:db8::1", "mta.example", "a@v6.spf.test", "pass", "v6.spf.test",
	  "mailfrom", 0, 0, NULL },
	{ "IPv6 fail", "2001:db9::1", "mta.example", "a@v6.spf.test", "fail", "v6.spf.test",
	  "mailfrom", 0, 0, NULL },
	{ "IPv6 mx", "2001:db8::7", "mta.example", "a@mx.spf.test", "pass", "mx.spf.test",
	  "mailfrom", 1, 0, NULL },
	{ "IPv4-mapped IPv6 is IPv4", "::ffff:192.0.2.7", "mta.example", "a@pass.spf.test",
	  "pass", "pass.spf.test", "mailfrom", 0, 0, NULL },
	{ "redirect after a mechanism: mechanism", "198.51.100.1", "mta.example",
	  "a@redir.spf.test", "pass", "redir.spf.test", "mailfrom", 0, 0, NULL },
	{ "redirect after a mechanism: redirect", "203.0.113.9", "mta.example",
	  "a@redir.spf.test", "fail", "redir.spf.test", "mailfrom", 1, 0, NULL },
	{ "%{r} outside exp=", "192.0.2.7", "mta.example", "a@badmacro.spf.test", "permerror",
	  "badmacro.spf.test", "mailfrom", 0, 0, "is invalid at \"a:%{r}.spf.test\"" },
	{ "unknown modifier ignored", "192.0.2.7", "mta.example", "a@unknownmod.spf.test",
	  "pass", "unknownmod.spf.test", "mailfrom", 0, 0, NULL },
	{ "exp= twice", "192.0.2.7", "mta.example", "a@twoexp.spf.test", "permerror",
	  "twoexp.spf.test", "mailfrom", 0, 0, NULL },
	{ "loopback gets no free pass", "127.0.0.1", "mta.example", "a@pass.spf.test", "fail",
	  "pass.spf.test", "mailfrom", 0, 0, NULL },
};

static void
test_cases(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct spf_case *c = &cases[i];
		struct mp_spf_result r;
		struct mp_err err = { 0 };
		int rc;

		rc = mp_spf_check(f->spf, c->ip, c->helo, c->mail_from, &r, &err);
		if (rc != 0)
			fail_msg("%s: mp_spf_check returned %d: %s", c->name, rc, err.msg);
		if (strcmp(r.result, c->result) != 0 || strcmp(r.domain, c->domain) != 0 ||
		    strcmp(r.identity, c->identity) != 0 ||
		    (c->lookups >= 0 && r.dns_lookups != (unsigned)c->lookups) ||
		    (c->voids >= 0 && r.void_lookups != (unsigned)c->voids) ||
		    r.explanation == NULL ||
		    (c->explain_part != NULL && strstr(r.explanation, c->explain_part) == NULL))
			fail_msg("%s: got %s %s %s lookups=%u voids=%u \"%s\"", c->name, r.result,
				 r.domain, r.identity, r.dns_lookups, r.void_lookups,
				 r.explanation != NULL ? r.explanation : "(null)");
		mp_spf_result_dispose(&r);
	}
}

static void
test_record_reported(void **state)
{
	struct fixture *f = *state;
	struct mp_spf_result r;
	struct mp_err err = { 0 };

	assert_int_equal(mp_spf_check(f->spf, "192.0.2.7", "mta.example", "a@split.spf.test",
				      &r, &err), 0);
	assert_string_equal(r.record, "v=spf1 ip4:192.0.2.0/24 -all");
	mp_spf_result_dispose(&r);
	assert_int_equal(mp_spf_check(f->spf, "192.0.2.7", "mta.example", "a@nothing.spf.test",
				      &r, &err), 0);
	assert_null(r.record);
	mp_spf_result_dispose(&r);
}

static void
test_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct mp_spf_result r;
	struct mp_err err = { 0 };
	static const char *const bad_ips[] = { "", "192.0.2", "192.0.2.300", "2001:db8::g",
					       "klant.nl", "192.0.2.1 " };
	size_t i;

	for (i = 0; i < sizeof(bad_ips) / sizeof(bad_ips[0]); i++) {
		assert_int_equal(mp_spf_check(f->spf, bad_ips[i], "mta.example",
					      "a@pass.spf.test", &r, &err), MP_EINVAL);
		assert_null(r.result);
	}
	assert_int_equal(mp_spf_check(f->spf, NULL, "h.example", "a@pass.spf.test", &r, &err),
			 MP_EINVAL);
	assert_int_equal(mp_spf_check(f->spf, "192.0.2.7", NULL, NULL, &r, &err), MP_EINVAL);
	assert_int_equal(mp_spf_check(f->spf, "192.0.2.7", "", "<>", &r, &err), MP_EINVAL);
	mp_spf_free(NULL);
	mp_spf_result_dispose(NULL);
}

/* State from one check must not leak into the next (counts, limits, record). */
static void
test_reuse(void **state)
{
	struct fixture *f = *state;
	struct mp_spf_result r;
	struct mp_err err = { 0 };
	int i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(mp_spf_check(f->spf, "192.0.2.7", "mta.example",
					      "a@chain0.spf.test", &r, &err), 0);
		assert_string_equal(r.result, "permerror");
		mp_spf_result_dispose(&r);
		assert_int_equal(mp_spf_check(f->spf, "192.0.2.7", "mta.example",
					      "a@pass.spf.test", &r, &err), 0);
		assert_string_equal(r.result, "pass");
		assert_int_equal(r.dns_lookups, 0);
		mp_spf_result_dispose(&r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_record_reported),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_reuse),
	};

	return cmocka_run_group_tests_name("spf", tests, setup, teardown);
}
