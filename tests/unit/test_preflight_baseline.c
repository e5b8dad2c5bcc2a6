/* test_preflight_baseline.c - comparison of a preflight report with a baseline report:
 * which differences are listed and which of them are regressions, and which files are
 * refused as baselines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "preflight.h"
#include "preflight_baseline.h"

#define SPF "v=spf1 include:a.test -all"
#define KEY "v=DKIM1; k=rsa; p=AAAB"
#define DMARC "v=DMARC1; p=reject"

/* klant.test with one SPF record, selector sel1 and a DMARC record; with_error adds a
 * failing problem. */
static void
make_report(struct mp_pfrep *r, int with_error)
{
	memset(r, 0, sizeof(*r));
	r->domain = strdup("klant.test");
	r->spf.top = MP_SPFREC_FOUND;
	r->spf.nnodes = 1;
	r->spf.nodes = calloc(1, sizeof(*r->spf.nodes));
	assert_non_null(r->spf.nodes);
	r->spf.nodes[0].domain = strdup("klant.test");
	r->spf.nodes[0].record = strdup(SPF);
	r->spf.dns_lookups = 1;
	r->ndkim = 1;
	r->dkim = calloc(1, sizeof(*r->dkim));
	assert_non_null(r->dkim);
	r->dkim[0].selector = strdup("sel1");
	r->dkim[0].record = strdup(KEY);
	r->dkim[0].key_type = strdup("rsa");
	r->dkim[0].key_bits = 2048;
	r->dkim[0].matches = -1;
	r->dmarc.record = strdup(DMARC);
	r->dmarc.policy = "reject";
	r->dmarc.pct = 100;
	r->dnssec = "unknown";
	r->pass = !with_error;
	if (with_error) {
		r->nproblems = 1;
		r->problems = calloc(1, sizeof(*r->problems));
		assert_non_null(r->problems);
		r->problems[0].code = strdup("DKIM_KEY_TOO_SHORT");
		r->problems[0].severity = MP_SEV_ERROR;
		r->problems[0].message = strdup("too short");
	}
}

static char *
write_tmp(const char *text)
{
	char *path = strdup("/tmp/mp-baseline-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static const struct bcase {
	const char *name;
	int with_error;
	const char *domain; /* the baseline's entry for the domain */
	size_t nchanges;
	int regressed;
	const char *what; /* one change that must be listed, or NULL */
	int what_regression;
} cases[] = {
	{"same", 0, "\"domain\": \"klant.test\", \"verdict\": \"pass\", \"spf\": {\"record\": \"" SPF
	 "\", \"dns_lookups\": 1}, \"dkim\": [{\"selector\": \"sel1\", \"record\": \"" KEY
	 "\", \"key_type\": \"rsa\", \"key_bits\": 2048}], \"dmarc\": {\"record\": \"" DMARC
	 "\", \"policy\": \"reject\"}, \"problems\": []", 0, 0, NULL, 0},
	{"name in other case", 0, "\"domain\": \"KLANT.test.\", \"verdict\": \"pass\", \"spf\": "
	 "{\"record\": \"" SPF "\", \"dns_lookups\": 1}, \"dkim\": [{\"selector\": \"sel1\", "
	 "\"record\": \"" KEY "\", \"key_type\": \"rsa\", \"key_bits\": 2048}], \"dmarc\": "
	 "{\"record\": \"" DMARC "\", \"policy\": \"reject\"}", 0, 0, NULL, 0},
	{"key changed", 0, "\"domain\": \"klant.test\", \"verdict\": \"pass\", \"spf\": {\"record\": \""
	 SPF "\", \"dns_lookups\": 1}, \"dkim\": [{\"selector\": \"sel1\", \"record\": "
	 "\"v=DKIM1; k=rsa; p=ZZZZ\", \"key_type\": \"rsa\", \"key_bits\": 2048}], \"dmarc\": "
	 "{\"record\": \"" DMARC "\", \"policy\": \"reject\"}", 1, 1, "dkim.sel1.record", 1},
	{"only a tag added", 0, "\"domain\": \"klant.test\", \"verdict\": \"pass\", \"spf\": "
	 "{\"record\": \"" SPF "\", \"dns_lookups\": 1}, \"dkim\": [{\"selector\": \"sel1\", "
	 "\"record\": \"v=DKIM1; k=rsa; t=y; p=AA AB\", \"key_type\": \"rsa\", \"key_bits\": "
	 "2048}], \"dmarc\": {\"record\": \"" DMARC "\", \"policy\": \"reject\"}", 1, 0,
	 "dkim.sel1.record", 0},
	{"key shrank", 0, "\"domain\": \"klant.test\", \"verdict\": \"pass\", \"spf\": {\"record\": \""
	 SPF "\", \"dns_lookups\": 1}, \"dkim\": [{\"selector\": \"sel1\", \"record\": \"" KEY
	 "\", \"key_type\": \"rsa\", \"key_bits\": 4096}], \"dmarc\": {\"record\": \"" DMARC
	 "\", \"policy\": \"reject\"}", 1, 1, "dkim.sel1.key_bits", 1},
	{"include gone", 0, "\"domain\": \"klant.test\", \"verdict\": \"pass\", \"spf\": {\"record\": "
	 "\"v=spf1 include:a.test include:b.test -all\", \"dns_lookups\": 1}, \"dkim\": "
	 "[{\"selector\": \"sel1\", \"record\": \"" KEY "\", \"key_type\": \"rsa\", \"key_bits\": "
	 "2048}], \"dmarc\": {\"record\": \"" DMARC "\", \"policy\": \"reject\"}", 2, 1,
	 "spf.term", 1},
	{"softfail became fail", 0, "\"domain\": \"klant.test\", \"verdict\": \"pass\", \"spf\": "
	 "{\"record\": \"v=spf1 include:a.test ~all\", \"dns_lookups\": 1}, \"dkim\": "
	 "[{\"selector\": \"sel1\", \"record\": \"" KEY "\", \"key_type\": \"rsa\", \"key_bits\": "
	 "2048}], \"dmarc\": {\"record\": \"" DMARC "\", \"policy\": \"reject\"}", 3, 0,
	 "spf.record", 0},
	{"policy got stricter", 0, "\"domain\": \"klant.test\", \"verdict\": \"pass\", \"spf\": "
	 "{\"record\": \"" SPF "\", \"dns_lookups\": 1}, \"dkim\": [{\"selector\": \"sel1\", "
	 "\"record\": \"" KEY "\", \"key_type\": \"rsa\", \"key_bits\": 2048}], \"dmarc\": "
	 "{\"record\": \"" DMARC "\", \"policy\": \"none\"}", 1, 0, "dmarc.policy", 0},
	{"problem resolved", 0, "\"domain\": \"klant.test\", \"verdict\": \"fail\", \"spf\": "
	 "{\"record\": \"" SPF "\", \"dns_lookups\": 1}, \"dkim\": [{\"selector\": \"sel1\", "
	 "\"record\": null}], \"dmarc\": {\"record\": \"" DMARC "\", \"policy\": \"reject\"}, "
	 "\"problems\": [{\"code\": \"DKIM_KEY_MISSING\", \"severity\": \"error\"}]", 5, 0,
	 "problem.DKIM_KEY_MISSING", 0},
	{"new error", 1, "\"domain\": \"klant.test\", \"verdict\": \"pass\", \"spf\": {\"record\": \""
	 SPF "\", \"dns_lookups\": 1}, \"dkim\": [{\"selector\": \"sel1\", \"record\": \"" KEY
	 "\", \"key_type\": \"rsa\", \"key_bits\": 2048}], \"dmarc\": {\"record\": \"" DMARC
	 "\", \"policy\": \"reject\"}", 2, 1, "problem.DKIM_KEY_TOO_SHORT", 1},
	{"record disappeared", 0, "\"domain\": \"klant.test\", \"verdict\": \"pass\", \"spf\": "
	 "{\"record\": \"" SPF "\", \"dns_lookups\": 1}, \"dkim\": [{\"selector\": \"sel1\", "
	 "\"record\": \"" KEY "\", \"key_type\": \"rsa\", \"key_bits\": 2048}], \"dmarc\": "
	 "{\"record\": \"" DMARC "\", \"policy\": \"reject\"}", 0, 0, NULL, 0},
	{"wrong types count as absent", 0, "\"domain\": \"klant.test\", \"verdict\": 1, \"spf\": [], "
	 "\"dkim\": {}, \"dmarc\": \"x\", \"problems\": [7, {\"code\": 3}]", 5, 0, "verdict", 0},
	{"other domain", 0, "\"domain\": \"other.test\"", 1, 0, "domain", 0},
};

static void
compare_cases(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bcase *c = &cases[i];
		struct mp_pfbase *b = NULL;
		struct mp_pfrep r;
		struct mp_err err = {0};
		char json[4096];
		char *path;
		int found = c->what == NULL;

		snprintf(json, sizeof(json), "{\"schema\": \"mailproof/dns-report-1\", "
			 "\"domains\": [{%s}]}", c->domain);
		path = write_tmp(json);
		assert_int_equal(mp_pfbase_load(&b, path, &err), 0);
		make_report(&r, c->with_error);
		if (strcmp(c->name, "record disappeared") == 0) {
			free(r.dmarc.record);
			r.dmarc.record = NULL;
			r.dmarc.policy = NULL;
		}
		assert_int_equal(mp_pfbase_compare(b, &r, &err), 0);
		for (j = 0; j < r.nchanges; j++)
			if (c->what != NULL && strcmp(r.changes[j].what, c->what) == 0 &&
			    r.changes[j].regression == c->what_regression)
				found = 1;
		if (strcmp(c->name, "record disappeared") == 0) {
			/* dmarc.record and dmarc.policy both went: two regressions. */
			assert_int_equal(r.nchanges, 2);
			assert_true(r.regressed);
			assert_true(r.changes[0].regression && r.changes[0].after == NULL);
		} else {
			if (r.nchanges != c->nchanges || (int)r.regressed != c->regressed || !found)
				fail_msg("%s: %zu changes (want %zu), regressed %d (want %d), "
					 "%s listed: %d", c->name, r.nchanges, c->nchanges,
					 r.regressed, c->regressed, c->what ? c->what : "-", found);
		}
		assert_non_null(r.baseline);
		mp_pfrep_dispose(&r);
		mp_pfbase_free(b);
		unlink(path);
		free(path);
	}
}

static void
refused_baselines(void **state)
{
	static const char *const bad[] = {
		"", "{", "[]", "{\"schema\": \"mailproof/report-1\", \"domains\": []}",
		"{\"schema\": \"mailproof/dns-report-1\", \"schema\": \"mailproof/dns-report-1\", "
		"\"domains\": []}",
		"{\"schema\": \"mailproof/dns-report-1\"}",
		"{\"schema\": \"mailproof/dns-report-1\", \"domains\": [{\"verdict\": \"pass\"}]}",
		"{\"schema\": \"mailproof/dns-report-1\", \"domains\": [\"x\"]}",
		"{\"schema\": \"mailproof/dns-report-1\", \"domains\": []}\x01",
	};
	struct mp_pfbase *b = NULL;
	struct mp_err err = {0};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = write_tmp(bad[i]);

		assert_int_equal(mp_pfbase_load(&b, path, &err), MP_EPARSE);
		assert_null(b);
		assert_non_null(strstr(err.msg, path));
		assert_null(strchr(err.msg, '\n'));
		unlink(path);
		free(path);
	}
	assert_int_equal(mp_pfbase_load(&b, "/nonexistent/baseline.json", &err), MP_EIO);
	assert_null(b);
	mp_pfbase_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(compare_cases),
		cmocka_unit_test(refused_baselines),
	};
	return cmocka_run_group_tests_name("preflight_baseline", tests, NULL, NULL);
}
