/*
 * test_spf_suite.c - runs the RFC 7208 (OpenSPF) conformance suite through mp_spf.
 *
 * The YAML suite is converted at build time by tests/spf-suite-to-text into a line
 * file (MP_SPF_SUITE_TEXT); every scenario gets its own zone-mode resolver.  The test
 * fails when fewer cases pass than SPF_SUITE_FLOOR, the count measured and documented
 * in docs/spf-conformance.md, so a regression cannot slip in unnoticed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "resolver.h"
#include "spf.h"
#include "util.h"

#define SPF_SUITE_TOTAL 203 /* tests in rfc7208-tests.yml (release 2014.04) */
#define SPF_SUITE_FLOOR 183 /* measured pass count; raise it when more pass */
#define SUITE_MAX_BYTES (4u * 1024 * 1024)
#define SUITE_MAX_FIELDS 8
#define SUITE_MAX_NAMES 64

struct suite_case {
	char *f[SUITE_MAX_FIELDS]; /* C id host helo mailfrom results spec (decoded) */
	size_t nf;
};

struct suite {
	char *scenario;
	struct mp_buf zone;
	char *tempfail[SUITE_MAX_NAMES];
	size_t ntempfail;
	struct suite_case *cases;
	size_t ncases, capcases;
	unsigned passed, failed;
	struct mp_buf report; /* one line per failing case */
};

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes the percent-encoding of the line format; NULL on malformed input. */
static char *
pct_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t i, o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (n - i < 3) {
				free(out);
				return NULL;
			}
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

static void
suite_clear_scenario(struct suite *st)
{
	size_t i, j;

	free(st->scenario);
	st->scenario = NULL;
	mp_buf_reset(&st->zone);
	for (i = 0; i < st->ntempfail; i++)
		free(st->tempfail[i]);
	st->ntempfail = 0;
	for (i = 0; i < st->ncases; i++)
		for (j = 0; j < st->cases[i].nf; j++)
			free(st->cases[i].f[j]);
	st->ncases = 0;
}

/* True when `got` is one of the comma-separated words of `want`. */
static bool
result_ok(const char *got, const char *want)
{
	const char *p = want;

	while (*p != '\0') {
		const char *c = strchr(p, ',');
		size_t n = c != NULL ? (size_t)(c - p) : strlen(p);

		if (mp_ieq(p, n, got))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

static void
suite_run_scenario(struct suite *st)
{
	struct mp_resolver_opts opts = { .mode = MP_RESOLVER_ZONE };
	struct mp_resolver *res = NULL;
	struct mp_spf *spf = NULL;
	struct mp_err err = { 0 };
	size_t i;

	if (st->ncases == 0)
		return;
	assert_int_equal(mp_resolver_new(&res, &opts, &err), 0);
	if (st->zone.len > 0 && mp_resolver_load_zone_text(res, st->zone.data, st->zone.len,
							     NULL, &err) != 0)
		fail_msg("scenario '%s': zone rejected: %s", st->scenario, err.msg);
	for (i = 0; i < st->ntempfail; i++)
		assert_int_equal(mp_resolver_add_tempfail(res, st->tempfail[i], &err), 0);
	assert_int_equal(mp_spf_new(&spf, res, "receiver.example", &err), 0);

	for (i = 0; i < st->ncases; i++) {
		char **f = st->cases[i].f;
		struct mp_spf_result r = { 0 };
		int rc;

		rc = mp_spf_check(spf, f[1], f[2], f[3], &r, &err);
		if (rc == 0 && result_ok(r.result, f[4])) {
			st->passed++;
		} else {
			st->failed++;
			mp_buf_printf(&st->report, "  %-28s %-10s want %-20s (%s; %s) %s\n", f[0],
				      rc == 0 ? r.result : "ERROR", f[4], st->scenario, f[5],
				      rc == 0 ? r.explanation : err.msg);
		}
		mp_spf_result_dispose(&r);
	}
	mp_spf_free(spf);
	mp_resolver_free(res);
}

static char *
read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct mp_buf b;
	char chunk[8192];
	size_t n;
	int ok = 1;

	*len = 0;
	if (fp == NULL)
		return NULL;
	mp_buf_init(&b, SUITE_MAX_BYTES);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (mp_buf_add(&b, chunk, n) != 0) {
			ok = 0;
			break;
		}
	if (ferror(fp))
		ok = 0;
	fclose(fp);
	if (!ok) {
		mp_buf_dispose(&b);
		return NULL;
	}
	if (b.data == NULL && mp_buf_addc(&b, '\0') == 0)
		b.len = 0;
	return mp_buf_detach(&b, len);
}

/* Splits `line` at tabs into decoded fields (the first, the record kind, excluded). */
static size_t
split_fields(const char *line, size_t n, char **f, size_t max)
{
	const char *p = memchr(line, '\t', n);
	size_t nf = 0;

	while (p != NULL && nf < max) {
		const char *start = p + 1;
		size_t rest = n - (size_t)(start - line);
		const char *tab = memchr(start, '\t', rest);
		size_t flen = tab != NULL ? (size_t)(tab - start) : rest;

		f[nf] = pct_decode(start, flen);
		assert_non_null(f[nf]);
		nf++;
		p = tab;
	}
	return nf;
}

static void
rfc7208_suite(void **state)
{
	const char *path = getenv("MP_SPF_SUITE");
	const char *conf = getenv("MP_CONFORMANCE");
	struct suite st;
	char *text, *line, *end;
	size_t len, total;

	(void)state;
	if (path == NULL)
		path = MP_SPF_SUITE_TEXT;
	text = read_all(path, &len);
	if (text == NULL) {
		char yml[4096];
		FILE *fp;

		snprintf(yml, sizeof(yml), "%s/spf/rfc7208-tests.yml", conf != NULL ? conf : "");
		fp = fopen(yml, "rb");
		if (fp == NULL) {
			print_message("conformance data not found (%s): suite skipped\n", yml);
			skip();
		}
		fclose(fp);
		fail_msg("%s is missing although %s exists: rebuild", path, yml);
	}

	memset(&st, 0, sizeof(st));
	mp_buf_init(&st.zone, 1024 * 1024);
	mp_buf_init(&st.report, 1024 * 1024);
	for (line = text; line < text + len; line = end + 1) {
		size_t n;

		end = memchr(line, '\n', (size_t)(text + len - line));
		if (end == NULL)
			end = text + len;
		n = (size_t)(end - line);
		if (n == 0 || line[0] == '#')
			continue;
		switch (line[0]) {
		case 'S': {
			char *f[1] = { NULL };

			suite_run_scenario(&st);
			suite_clear_scenario(&st);
			assert_int_equal(split_fields(line, n, f, 1), 1);
			st.scenario = f[0];
			break;
		}
		case 'Z':
			assert_true(n > 2);
			assert_int_equal(mp_buf_add(&st.zone, line + 2, n - 2), 0);
			assert_int_equal(mp_buf_addc(&st.zone, '\n'), 0);
			break;
		case 'F': {
			char *f[1] = { NULL };

			assert_true(st.ntempfail < SUITE_MAX_NAMES);
			assert_int_equal(split_fields(line, n, f, 1), 1);
			st.tempfail[st.ntempfail++] = f[0];
			break;
		}
		case 'C': {
			struct suite_case *c;

			if (st.ncases == st.capcases) {
				size_t ncap = st.capcases == 0 ? 32 : st.capcases * 2;
				struct suite_case *nc = realloc(st.cases, ncap * sizeof(*nc));

				assert_non_null(nc);
				st.cases = nc;
				st.capcases = ncap;
			}
			c = &st.cases[st.ncases];
			memset(c, 0, sizeof(*c));
			c->nf = split_fields(line, n, c->f, SUITE_MAX_FIELDS);
			st.ncases++;
			assert_int_equal(c->nf, 6);
			break;
		}
		default:
			fail_msg("unknown line in %s: %.40s", path, line);
		}
	}
	suite_run_scenario(&st);
	suite_clear_scenario(&st);

	total = st.passed + st.failed;
	print_message("SPF conformance: %u passed, %u failed of %zu\n", st.passed, st.failed,
		      total);
	if (st.failed > 0) {
		const char *p = mp_buf_cstr(&st.report), *nl;

		print_message("failing cases (id, result, wanted, scenario, spec, why):\n");
		/* cmocka's message buffer is small: one line at a time. */
		for (; *p != '\0'; p = nl + 1) {
			if ((nl = strchr(p, '\n')) == NULL)
				break;
			print_message("%.*s\n", (int)(nl - p), p);
		}
	}
	mp_buf_dispose(&st.zone);
	mp_buf_dispose(&st.report);
	free(st.cases);
	free(text);
	assert_int_equal(total, SPF_SUITE_TOTAL);
	assert_true(st.passed >= SPF_SUITE_FLOOR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc7208_suite),
	};

	return cmocka_run_group_tests_name("spf_suite", tests, NULL, NULL);
}
