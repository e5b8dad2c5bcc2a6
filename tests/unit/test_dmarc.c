/* test_dmarc.c - organizational domain, alignment, record parsing and evaluation
 * against fixtures/zones/dmarc.zone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"
#include "error.h"
#include "resolver.h"

struct fx {
	struct mp_resolver *res;
	struct mp_dmarc *d;
};

/* A zone-mode resolver on the fixture zone (or on no zone) and a DMARC context. */
static void
fx_open(struct fx *f, bool with_zone)
{
	struct mp_resolver_opts opts;
	struct mp_err err = {0};
	char path[4096];
	const char *dir = getenv("MP_FIXTURES");
	int n;

	memset(&opts, 0, sizeof(opts));
	opts.mode = MP_RESOLVER_ZONE;
	if (with_zone) {
		assert_non_null(dir);
		n = snprintf(path, sizeof(path), "%s/zones/dmarc.zone", dir);
		assert_true(n > 0 && (size_t)n < sizeof(path));
		opts.zone_file = path;
	}
	if (mp_resolver_new(&f->res, &opts, &err) != 0)
		fail_msg("resolver: %s", err.msg);
	if (mp_dmarc_new(&f->d, f->res, &err) != 0)
		fail_msg("dmarc: %s", err.msg);
}

static void
fx_close(struct fx *f)
{
	mp_dmarc_free(f->d);
	mp_resolver_free(f->res);
}

/* Equal strings, or both NULL; names the case and the field on failure. */
static void
check_str(const char *name, const char *field, const char *got, const char *want)
{
	if (got == NULL && want == NULL)
		return;
	if (got == NULL || want == NULL || strcmp(got, want) != 0)
		fail_msg("%s: %s is \"%s\", expected \"%s\"", name, field, got ? got : "(null)",
			 want ? want : "(null)");
}

/* ------------------------------------------------------------------ org domain */

static void
org_domain_table(void **state)
{
	static const struct {
		const char *in, *want;
	} t[] = {
	    {"example.com", "example.com"},
	    {"mail.example.com", "example.com"},
	    {"a.b.c.example.com", "example.com"},
	    {"Mail.Example.ORG", "example.org"},
	    {"mail.example.org.", "example.org"},
	    {"example.co.uk", "example.co.uk"},
	    {"mail.example.co.uk", "example.co.uk"},
	    {"co.uk", NULL}, /* a public suffix has none */
	    {"com", NULL},
	    {"bar.github.io", "bar.github.io"}, /* private section of the PSL */
	    {"x.bar.github.io", "bar.github.io"},
	    {"a.b.ck", "a.b.ck"},		    /* wildcard *.ck */
	    {"www.ck", "www.ck"},		    /* exception !www.ck */
	    {"mail.bücher.de", "xn--bcher-kva.de"}, /* U-labels become A-labels */
	    {"mail.xn--bcher-kva.de", "xn--bcher-kva.de"},
	    {"x.公司.cn", "x.xn--55qx5d.cn"}, /* 公司.cn is a public suffix */
	    {"klant.test", "klant.test"},     /* unlisted TLD: implicit * rule */
	    {"", NULL},
	    {".", NULL},
	    {"a..example.com", NULL},
	    {"exa mple.com", NULL},
	    {"user@example.com", NULL},
	    {NULL, NULL},
	};
	struct fx f;
	size_t i;

	(void)state;
	fx_open(&f, false);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = mp_dmarc_org_domain(f.d, t[i].in);

		check_str(t[i].in ? t[i].in : "(null)", "org domain", got, t[i].want);
		free(got);
	}
	fx_close(&f);
}

static void
org_domain_bounds(void **state)
{
	char name[600];
	char *got;
	struct fx f;
	size_t i;

	(void)state;
	fx_open(&f, false);
	/* 64-octet label: not a domain name (RFC 1035 section 2.3.4) */
	memset(name, 'a', 64);
	memcpy(name + 64, ".example.com", sizeof(".example.com"));
	assert_null(mp_dmarc_org_domain(f.d, name));
	/* 63 octets is fine */
	memmove(name, name + 1, strlen(name));
	got = mp_dmarc_org_domain(f.d, name);
	assert_non_null(got);
	assert_string_equal(got, "example.com");
	free(got);
	/* longer than 253 octets */
	for (i = 0; i + 2 < 300; i += 2)
		memcpy(name + i, "a.", 2);
	memcpy(name + i, "com", 4);
	assert_null(mp_dmarc_org_domain(f.d, name));
	fx_close(&f);
}

/* ------------------------------------------------------------------ alignment */

static void
alignment_table(void **state)
{
	static const struct {
		const char *a, *b;
		bool strict, want;
	} t[] = {
	    {"example.com", "example.com", true, true},
	    {"example.com", "example.com", false, true},
	    {"mail.example.com", "example.com", true, false}, /* child */
	    {"mail.example.com", "example.com", false, true},
	    {"example.com", "mail.example.com", true, false}, /* parent */
	    {"example.com", "mail.example.com", false, true},
	    {"a.example.com", "b.example.com", true, false}, /* siblings */
	    {"a.example.com", "b.example.com", false, true},
	    {"Example.COM", "example.com", true, true},	 /* case */
	    {"example.com.", "EXAMPLE.com", true, true}, /* trailing dot */
	    {"example.com", "example.org", false, false},
	    {"example.com", "xexample.com", false, false},
	    {"example.co.uk", "mail.example.co.uk", false, true},
	    {"example.co.uk", "mail.example.co.uk", true, false},
	    {"example.co.uk", "other.co.uk", false, false},
	    {"co.uk", "example.co.uk", false, false}, /* public suffix */
	    {"example.co.uk", "co.uk", false, false},
	    {"co.uk", "co.uk", false, true},		  /* identical stays aligned */
	    {"a.github.io", "b.github.io", false, false}, /* private section */
	    {"x.a.github.io", "a.github.io", false, true},
	    {"bücher.de", "xn--bcher-kva.de", true, true}, /* IDN spellings */
	    {"mail.BÜCHER.de", "xn--bcher-kva.de", false, true},
	    {"mail.bücher.de", "xn--bcher-kva.de", true, false},
	    {"example.com", NULL, false, false},
	    {NULL, NULL, true, false},
	    {"", "", true, false},
	    {"example..com", "example..com", true, false},
	};
	struct fx f;
	size_t i;

	(void)state;
	fx_open(&f, false);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool got = mp_dmarc_aligned(f.d, t[i].a, t[i].b, t[i].strict);

		if (got != t[i].want)
			fail_msg("case %zu: %s vs %s (%s): got %d", i, t[i].a ? t[i].a : "(null)",
				 t[i].b ? t[i].b : "(null)", t[i].strict ? "strict" : "relaxed",
				 got);
	}
	fx_close(&f);
}

/* ------------------------------------------------------------------ parser */

static void
record_parse_table(void **state)
{
	static const struct {
		const char *txt;
		int rc;
		const char *errpart; /* substring of the error message */
		enum mp_dmarc_policy p, sp, np;
		bool adkim_s, aspf_s;
		int pct;
		size_t nrua;
		const char *rua0;
		enum mp_dmarc_psd psd;
		bool testing;
	} t[] = {
	    {"v=DMARC1; p=none", 0, NULL, MP_DMARC_POLICY_NONE, 0, 0, false, false, 100, 0, NULL,
	     MP_DMARC_PSD_U, false},
	    {"v=DMARC1;p=reject;sp=quarantine;np=none;adkim=s;aspf=s;pct=50;"
	     "rua=mailto:a@x.test",
	     0, NULL, MP_DMARC_POLICY_REJECT, MP_DMARC_POLICY_QUARANTINE, MP_DMARC_POLICY_NONE,
	     true, true, 50, 1, "mailto:a@x.test", MP_DMARC_PSD_U, false},
	    {"  v = DMARC1 ;\tp = quarantine ; rua = mailto:a@x.test , mailto:b@y.test!10m ;", 0,
	     NULL, MP_DMARC_POLICY_QUARANTINE, 0, 0, false, false, 100, 2, "mailto:a@x.test",
	     MP_DMARC_PSD_U, false},
	    {"v=DMARC1; p=REJECT; SP=None; ADKIM=S; aspf=R", 0, NULL, MP_DMARC_POLICY_REJECT,
	     MP_DMARC_POLICY_NONE, 0, true, false, 100, 0, NULL, MP_DMARC_PSD_U, false},
	    {"v=DMARC1; p=none; future=whatever; x_y=1;", 0, NULL, MP_DMARC_POLICY_NONE, 0, 0,
	     false, false, 100, 0, NULL, MP_DMARC_PSD_U, false},
	    {"v=DMARC1; p=none; psd=y; t=y", 0, NULL, MP_DMARC_POLICY_NONE, 0, 0, false, false, 100,
	     0, NULL, MP_DMARC_PSD_Y, true},
	    {"v=DMARC1; p=none; psd=n; t=n", 0, NULL, MP_DMARC_POLICY_NONE, 0, 0, false, false, 100,
	     0, NULL, MP_DMARC_PSD_N, false},
	    {"v=DMARC1; sp=reject; p=none", 0, NULL, MP_DMARC_POLICY_NONE, MP_DMARC_POLICY_REJECT,
	     0, false, false, 100, 0, NULL, MP_DMARC_PSD_U, false},
	    {"v=DMARC1; p=none; pct=0; ri=3600; fo=1:d:s; rf=afrf", 0, NULL, MP_DMARC_POLICY_NONE,
	     0, 0, false, false, 0, 0, NULL, MP_DMARC_PSD_U, false},
	    {"v=DMARC1; p=none;;", 0, NULL, MP_DMARC_POLICY_NONE, 0, 0, false, false, 100, 0, NULL,
	     MP_DMARC_PSD_U, false},
	    /* errors */
	    {"v=DMARC1", MP_EPARSE, "no p= tag", 0, 0, 0, false, false, 100, 0, NULL, 0, false},
	    {"v=DMARC1; rua=mailto:a@x.test", MP_EPARSE, "no p= tag", 0, 0, 0, false, false, 100, 0,
	     NULL, 0, false},
	    {"v=DMARC2; p=none", MP_EPARSE, "start with v=DMARC1", 0, 0, 0, false, false, 100, 0,
	     NULL, 0, false},
	    {"p=none; v=DMARC1", MP_EPARSE, "start with v=DMARC1", 0, 0, 0, false, false, 100, 0,
	     NULL, 0, false},
	    {"", MP_EPARSE, "start with v=DMARC1", 0, 0, 0, false, false, 100, 0, NULL, 0, false},
	    {"; v=DMARC1; p=none", MP_EPARSE, "start with v=DMARC1", 0, 0, 0, false, false, 100, 0,
	     NULL, 0, false},
	    {"v=DMARC1; p=rejected", MP_EPARSE, "p= has the invalid value \"rejected\"", 0, 0, 0,
	     false, false, 100, 0, NULL, 0, false},
	    {"v=DMARC1; p=", MP_EPARSE, "p= has the invalid value", 0, 0, 0, false, false, 100, 0,
	     NULL, 0, false},
	    {"v=DMARC1; p=none; sp=all", MP_EPARSE, "sp= has", 0, 0, 0, false, false, 100, 0, NULL,
	     0, false},
	    {"v=DMARC1; p=none; pct=101", MP_EPARSE, "pct= has", 0, 0, 0, false, false, 100, 0,
	     NULL, 0, false},
	    {"v=DMARC1; p=none; pct=-1", MP_EPARSE, "pct= has", 0, 0, 0, false, false, 100, 0, NULL,
	     0, false},
	    {"v=DMARC1; p=none; pct=99999999999999999999", MP_EPARSE, "pct= has", 0, 0, 0, false,
	     false, 100, 0, NULL, 0, false},
	    {"v=DMARC1; p=none; ri=4294967296", MP_EPARSE, "ri= has", 0, 0, 0, false, false, 100, 0,
	     NULL, 0, false},
	    {"v=DMARC1; p=none; adkim=x", MP_EPARSE, "adkim= has", 0, 0, 0, false, false, 100, 0,
	     NULL, 0, false},
	    {"v=DMARC1; p=none; fo=2", MP_EPARSE, "fo= has", 0, 0, 0, false, false, 100, 0, NULL, 0,
	     false},
	    {"v=DMARC1; p=none; psd=maybe", MP_EPARSE, "psd= has", 0, 0, 0, false, false, 100, 0,
	     NULL, 0, false},
	    {"v=DMARC1; p=none; rua=dmarc@x.test", MP_EPARSE, "not a URI", 0, 0, 0, false, false,
	     100, 0, NULL, 0, false},
	    {"v=DMARC1; p=none; rua=mailto:a@x.test,", MP_EPARSE, "not a URI", 0, 0, 0, false,
	     false, 100, 0, NULL, 0, false},
	    {"v=DMARC1; p=none; p=reject", MP_EPARSE, "more than once", 0, 0, 0, false, false, 100,
	     0, NULL, 0, false},
	    {"v=DMARC1; p=none; P=reject", MP_EPARSE, "more than once", 0, 0, 0, false, false, 100,
	     0, NULL, 0, false},
	    {"v=DMARC1; p=none; junk", MP_EPARSE, "not a tag=value", 0, 0, 0, false, false, 100, 0,
	     NULL, 0, false},
	    {"v=DMARC1; p=none; =x", MP_EPARSE, "no valid tag name", 0, 0, 0, false, false, 100, 0,
	     NULL, 0, false},
	    {"v=DMARC1; p=none; a-b=x", MP_EPARSE, "not a valid tag name", 0, 0, 0, false, false,
	     100, 0, NULL, 0, false},
	    {"v=DMARC1; p=\x01\xff", MP_EPARSE, "\"??\"", 0, 0, 0, false, false, 100, 0, NULL, 0,
	     false},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mp_dmarc_record r;
		struct mp_err err = {0};
		int rc = mp_dmarc_record_parse(t[i].txt, strlen(t[i].txt), &r, &err);

		if (rc != t[i].rc)
			fail_msg("\"%s\": rc %d (%s), expected %d", t[i].txt, rc, err.msg, t[i].rc);
		if (rc != 0) {
			if (t[i].errpart != NULL && strstr(err.msg, t[i].errpart) == NULL)
				fail_msg("\"%s\": message \"%s\" lacks \"%s\"", t[i].txt, err.msg,
					 t[i].errpart);
			assert_int_equal(r.nrua, 0);
			assert_null(r.rua);
			continue;
		}
		assert_int_equal(r.p, t[i].p);
		assert_int_equal(r.sp, t[i].sp);
		assert_int_equal(r.np, t[i].np);
		assert_int_equal(r.adkim_strict, t[i].adkim_s);
		assert_int_equal(r.aspf_strict, t[i].aspf_s);
		assert_int_equal(r.pct, t[i].pct);
		assert_int_equal(r.nrua, t[i].nrua);
		if (t[i].rua0 != NULL)
			assert_string_equal(r.rua[0], t[i].rua0);
		assert_int_equal(r.psd, t[i].psd);
		assert_int_equal(r.testing, t[i].testing);
		mp_dmarc_record_dispose(&r);
	}
}

static void
record_parse_details(void **state)
{
	static const char rec[] = "v=DMARC1; p=none; ri=3600; fo=1:d; "
				  "rua=mailto:a@x.test, mailto:b@y.test!10m; ruf=mailto:f@x.test";
	static const char nul[] = "v=DMARC1; p=none\0; p=reject";
	struct mp_dmarc_record r;
	struct mp_err err = {0};
	char big[MP_DMARC_RECORD_MAX + 16];
	size_t i;

	(void)state;
	assert_int_equal(mp_dmarc_record_parse(rec, strlen(rec), &r, &err), 0);
	assert_int_equal(r.ri, 3600);
	assert_string_equal(r.fo, "1:d");
	assert_int_equal(r.nrua, 2);
	assert_string_equal(r.rua[1], "mailto:b@y.test!10m");
	assert_int_equal(r.nruf, 1);
	assert_string_equal(r.ruf[0], "mailto:f@x.test");
	mp_dmarc_record_dispose(&r);
	assert_int_equal(r.nrua, 0);

	/* (pointer, length): the bytes after len are not read */
	assert_int_equal(mp_dmarc_record_parse(rec, 17, &r, &err), 0);
	assert_int_equal(r.nrua, 0);
	mp_dmarc_record_dispose(&r);

	assert_int_equal(mp_dmarc_record_parse(nul, sizeof(nul) - 1, &r, &err), MP_EPARSE);
	assert_non_null(strstr(err.msg, "NUL"));

	memset(big, ' ', sizeof(big));
	memcpy(big, "v=DMARC1; p=none;", 17);
	assert_int_equal(mp_dmarc_record_parse(big, sizeof(big), &r, &err), MP_ETOOBIG);
	assert_int_equal(mp_dmarc_record_parse(big, MP_DMARC_RECORD_MAX, &r, &err), 0);
	mp_dmarc_record_dispose(&r);

	/* more than MP_DMARC_URI_MAX report URIs */
	{
		char list[4096];
		size_t o = 0;
		int n;

		n = snprintf(list, sizeof(list), "v=DMARC1; p=none; rua=");
		o = (size_t)n;
		for (i = 0; i <= MP_DMARC_URI_MAX; i++) {
			n = snprintf(list + o, sizeof(list) - o, "%smailto:r%zu@x.test",
				     i ? "," : "", i);
			o += (size_t)n;
		}
		assert_int_equal(mp_dmarc_record_parse(list, o, &r, &err), MP_EPARSE);
		assert_non_null(strstr(err.msg, "more than"));
		assert_int_equal(r.nrua, 0);
	}
	assert_string_equal(mp_dmarc_policy_name(MP_DMARC_POLICY_QUARANTINE), "quarantine");
	assert_null(mp_dmarc_policy_name(MP_DMARC_POLICY_UNSET));
}

/* Hostile input: random bytes and mutations of a valid record never crash the parser
 * and only give the documented codes. */
static void
record_parse_garbage(void **state)
{
	static const char base[] = "v=DMARC1; p=reject; sp=none; rua=mailto:a@x.test; pct=5";
	static const char alphabet[] = "v=DMARC1;p, :!\t\r\nx\0\xff";
	uint32_t seed = 12345;
	char buf[128];
	size_t i, j, n, ok = 0;

	(void)state;
	for (i = 0; i < 20000; i++) {
		struct mp_dmarc_record r;
		struct mp_err err = {0};
		int rc;

		n = sizeof(base) - 1;
		memcpy(buf, base, n);
		for (j = 0; j < 1 + i % 4; j++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % n] = alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
		}
		seed = seed * 1103515245u + 12345u;
		if (i % 3 == 0)
			n = (seed >> 8) % (n + 1);
		rc = mp_dmarc_record_parse(buf, n, &r, &err);
		if (rc != 0 && rc != MP_EPARSE)
			fail_msg("iteration %zu: rc %d", i, rc);
		if (rc != 0 && err.msg[0] == '\0')
			fail_msg("iteration %zu: error without a message", i);
		if (rc == 0) {
			assert_int_not_equal(r.p, MP_DMARC_POLICY_UNSET);
			ok++;
		}
		mp_dmarc_record_dispose(&r);
	}
	/* some mutations (e.g. in the URI) stay valid: the loop tested both paths */
	assert_true(ok > 0 && ok < 20000);
}

/* ------------------------------------------------------------------ evaluation */

struct eval_case {
	const char *name;
	const char *from, *spf_domain, *spf_result, *dkim1, *dkim2;
	bool dkim_temperror, spf_temperror;
	const char *tempfail; /* a name whose lookups fail */
	/* expectations */
	const char *result, *problem, *record_name, *org;
	enum mp_dmarc_policy policy;
	bool spf_aligned, dkim_aligned;
	const char *tw_record, *tw_org;
	bool differ, tw_temperror;
};

static const struct eval_case eval_cases[] = {
    {"dkim pass at from domain",
     "klant.test",
     NULL,
     NULL,
     "klant.test",
     NULL,
     false,
     false,
     NULL,
     "pass",
     NULL,
     "_dmarc.klant.test",
     "klant.test",
     MP_DMARC_POLICY_REJECT,
     false,
     true,
     "_dmarc.klant.test",
     "klant.test",
     false,
     false},
    {"spf pass relaxed from subdomain envelope",
     "Klant.TEST.",
     "bounce.klant.test",
     "pass",
     NULL,
     NULL,
     false,
     false,
     NULL,
     "pass",
     NULL,
     "_dmarc.klant.test",
     "klant.test",
     MP_DMARC_POLICY_REJECT,
     true,
     false,
     "_dmarc.klant.test",
     "klant.test",
     false,
     false},
    {"spf domain aligned but spf failed",
     "klant.test",
     "klant.test",
     "softfail",
     NULL,
     NULL,
     false,
     false,
     NULL,
     "fail",
     NULL,
     "_dmarc.klant.test",
     "klant.test",
     MP_DMARC_POLICY_REJECT,
     false,
     false,
     "_dmarc.klant.test",
     "klant.test",
     false,
     false},
    {"nothing aligned",
     "klant.test",
     "platform.example",
     "pass",
     "platform.example",
     "other.test",
     false,
     false,
     NULL,
     "fail",
     NULL,
     "_dmarc.klant.test",
     "klant.test",
     MP_DMARC_POLICY_REJECT,
     false,
     false,
     "_dmarc.klant.test",
     "klant.test",
     false,
     false},
    {"second signature aligned",
     "klant.test",
     NULL,
     NULL,
     "platform.example",
     "mail.klant.test",
     false,
     false,
     NULL,
     "pass",
     NULL,
     "_dmarc.klant.test",
     "klant.test",
     MP_DMARC_POLICY_REJECT,
     false,
     true,
     "_dmarc.klant.test",
     "klant.test",
     false,
     false},
    {"dkim temperror, nothing passes",
     "klant.test",
     NULL,
     NULL,
     NULL,
     NULL,
     true,
     false,
     NULL,
     "temperror",
     NULL,
     "_dmarc.klant.test",
     "klant.test",
     MP_DMARC_POLICY_REJECT,
     false,
     false,
     "_dmarc.klant.test",
     "klant.test",
     false,
     false},
    {"spf temperror but dkim passes",
     "klant.test",
     NULL,
     NULL,
     "klant.test",
     NULL,
     false,
     true,
     NULL,
     "pass",
     NULL,
     "_dmarc.klant.test",
     "klant.test",
     MP_DMARC_POLICY_REJECT,
     false,
     true,
     "_dmarc.klant.test",
     "klant.test",
     false,
     false},
    {"non-DMARC TXT ignored",
     "mixed.test",
     NULL,
     NULL,
     "mixed.test",
     NULL,
     false,
     false,
     NULL,
     "pass",
     NULL,
     "_dmarc.mixed.test",
     "mixed.test",
     MP_DMARC_POLICY_QUARANTINE,
     false,
     true,
     "_dmarc.mixed.test",
     "mixed.test",
     false,
     false},
    {"record at org domain, sp applies",
     "mail.org.test",
     NULL,
     NULL,
     "other.test",
     NULL,
     false,
     false,
     NULL,
     "fail",
     NULL,
     "_dmarc.org.test",
     "org.test",
     MP_DMARC_POLICY_QUARANTINE,
     false,
     false,
     "_dmarc.org.test",
     "org.test",
     false,
     false},
    {"record at org domain, relaxed dkim",
     "mail.org.test",
     NULL,
     NULL,
     "org.test",
     NULL,
     false,
     false,
     NULL,
     "pass",
     NULL,
     "_dmarc.org.test",
     "org.test",
     MP_DMARC_POLICY_QUARANTINE,
     false,
     true,
     "_dmarc.org.test",
     "org.test",
     false,
     false},
    {"org domain itself uses p",
     "org.test",
     NULL,
     NULL,
     "org.test",
     NULL,
     false,
     false,
     NULL,
     "pass",
     NULL,
     "_dmarc.org.test",
     "org.test",
     MP_DMARC_POLICY_REJECT,
     false,
     true,
     "_dmarc.org.test",
     "org.test",
     false,
     false},
    {"strict dkim child fails",
     "strict.test",
     "mail.strict.test",
     "pass",
     "mail.strict.test",
     NULL,
     false,
     false,
     NULL,
     "fail",
     NULL,
     "_dmarc.strict.test",
     "strict.test",
     MP_DMARC_POLICY_REJECT,
     false,
     false,
     "_dmarc.strict.test",
     "strict.test",
     false,
     false},
    {"strict exact passes",
     "strict.test",
     "STRICT.test.",
     "pass",
     NULL,
     NULL,
     false,
     false,
     NULL,
     "pass",
     NULL,
     "_dmarc.strict.test",
     "strict.test",
     MP_DMARC_POLICY_REJECT,
     true,
     false,
     "_dmarc.strict.test",
     "strict.test",
     false,
     false},
    {"policy none warns",
     "watch.test",
     NULL,
     NULL,
     "watch.test",
     NULL,
     false,
     false,
     NULL,
     "pass",
     "DMARC_POLICY_NONE",
     "_dmarc.watch.test",
     "watch.test",
     MP_DMARC_POLICY_NONE,
     false,
     true,
     "_dmarc.watch.test",
     "watch.test",
     false,
     false},
    {"multi-string TXT joined",
     "split.test",
     NULL,
     NULL,
     "split.test",
     NULL,
     false,
     false,
     NULL,
     "pass",
     NULL,
     "_dmarc.split.test",
     "split.test",
     MP_DMARC_POLICY_QUARANTINE,
     false,
     true,
     "_dmarc.split.test",
     "split.test",
     false,
     false},
    {"no record",
     "nothing.test",
     NULL,
     NULL,
     "nothing.test",
     NULL,
     false,
     false,
     NULL,
     "none",
     "DMARC_MISSING",
     NULL,
     "nothing.test",
     MP_DMARC_POLICY_UNSET,
     false,
     true,
     NULL,
     NULL,
     false,
     false},
    {"no record for a subdomain",
     "mail.nothing.test",
     NULL,
     NULL,
     NULL,
     NULL,
     false,
     false,
     NULL,
     "none",
     "DMARC_MISSING",
     NULL,
     "nothing.test",
     MP_DMARC_POLICY_UNSET,
     false,
     false,
     NULL,
     NULL,
     false,
     false},
    {"two records",
     "double.test",
     NULL,
     NULL,
     "double.test",
     NULL,
     false,
     false,
     NULL,
     "permerror",
     "DMARC_MULTIPLE",
     "_dmarc.double.test",
     "double.test",
     MP_DMARC_POLICY_UNSET,
     false,
     true,
     NULL,
     NULL,
     false,
     false},
    {"syntax error", "broken.test",
     NULL,	     NULL,
     "broken.test",  NULL,
     false,	     false,
     NULL,	     "permerror",
     "DMARC_SYNTAX", "_dmarc.broken.test",
     "broken.test",  MP_DMARC_POLICY_UNSET,
     false,	     true,
     NULL,	     NULL,
     false,	     false},
    {"syntax error does not fall back",
     "www.broken.test",
     NULL,
     NULL,
     NULL,
     NULL,
     false,
     false,
     NULL,
     "permerror",
     "DMARC_SYNTAX",
     "_dmarc.broken.test",
     "broken.test",
     MP_DMARC_POLICY_UNSET,
     false,
     false,
     NULL,
     NULL,
     false,
     false},
    {"tempfail at from domain",
     "klant.test",
     NULL,
     NULL,
     "klant.test",
     NULL,
     false,
     false,
     "_dmarc.klant.test",
     "temperror",
     "DNS_TEMPORARY",
     NULL,
     "klant.test",
     MP_DMARC_POLICY_UNSET,
     false,
     true,
     NULL,
     NULL,
     false,
     false},
    {"tempfail at org domain",
     "mail.org.test",
     NULL,
     NULL,
     NULL,
     NULL,
     false,
     false,
     "_dmarc.org.test",
     "temperror",
     "DNS_TEMPORARY",
     NULL,
     "org.test",
     MP_DMARC_POLICY_UNSET,
     false,
     false,
     NULL,
     NULL,
     false,
     false},
    {"tempfail in the tree walk only",
     "sub.tw.test",
     NULL,
     NULL,
     "tw.test",
     NULL,
     false,
     false,
     "_dmarc.test",
     "pass",
     NULL,
     "_dmarc.tw.test",
     "tw.test",
     MP_DMARC_POLICY_REJECT,
     false,
     true,
     NULL,
     NULL,
     false,
     true},
    {"np for a non-existent subdomain",
     "ghost.np.test",
     NULL,
     NULL,
     NULL,
     NULL,
     false,
     false,
     NULL,
     "fail",
     NULL,
     "_dmarc.np.test",
     "np.test",
     MP_DMARC_POLICY_REJECT,
     false,
     false,
     "_dmarc.np.test",
     "np.test",
     false,
     false},
    {"sp for an existing subdomain",
     "www.np.test",
     NULL,
     NULL,
     NULL,
     NULL,
     false,
     false,
     NULL,
     "fail",
     NULL,
     "_dmarc.np.test",
     "np.test",
     MP_DMARC_POLICY_QUARANTINE,
     false,
     false,
     "_dmarc.np.test",
     "np.test",
     false,
     false},
    {"tree walk finds an intermediate record",
     "a.dept.walk.test",
     NULL,
     NULL,
     "dept.walk.test",
     NULL,
     false,
     false,
     NULL,
     "none",
     "DMARC_MISSING",
     NULL,
     "walk.test",
     MP_DMARC_POLICY_UNSET,
     false,
     true,
     "_dmarc.dept.walk.test",
     "dept.walk.test",
     true,
     false},
    {"tree walk stops at psd=n",
     "x.corp.walk2.test",
     NULL,
     NULL,
     "x.corp.walk2.test",
     NULL,
     false,
     false,
     NULL,
     "pass",
     "DMARC_POLICY_NONE",
     "_dmarc.walk2.test",
     "walk2.test",
     MP_DMARC_POLICY_NONE,
     false,
     true,
     "_dmarc.corp.walk2.test",
     "corp.walk2.test",
     true,
     false},
    {"tree walk uses a PSD record (psd=y)",
     "mail.klant.psdtld",
     NULL,
     NULL,
     NULL,
     NULL,
     false,
     false,
     NULL,
     "none",
     "DMARC_MISSING",
     NULL,
     "klant.psdtld",
     MP_DMARC_POLICY_UNSET,
     false,
     false,
     "_dmarc.psdtld",
     "klant.psdtld",
     true,
     false},
    {"tree walk jumps to seven labels",
     "a.b.c.d.e.f.g.h.i.deep.test",
     NULL,
     NULL,
     NULL,
     NULL,
     false,
     false,
     NULL,
     "none",
     "DMARC_MISSING",
     NULL,
     "deep.test",
     MP_DMARC_POLICY_UNSET,
     false,
     false,
     "_dmarc.f.g.h.i.deep.test",
     "f.g.h.i.deep.test",
     true,
     false},
    {"nine labels: own record with psd=n",
     "c.d.e.f.g.h.i.deep.test",
     NULL,
     NULL,
     NULL,
     NULL,
     false,
     false,
     NULL,
     "fail",
     NULL,
     "_dmarc.c.d.e.f.g.h.i.deep.test",
     "deep.test",
     MP_DMARC_POLICY_REJECT,
     false,
     false,
     "_dmarc.c.d.e.f.g.h.i.deep.test",
     "c.d.e.f.g.h.i.deep.test",
     true,
     false},
    {"from domain is a public suffix",
     "co.uk",
     NULL,
     NULL,
     NULL,
     NULL,
     false,
     false,
     NULL,
     "none",
     "DMARC_MISSING",
     NULL,
     NULL,
     MP_DMARC_POLICY_UNSET,
     false,
     false,
     NULL,
     NULL,
     false,
     false},
    {"invalid from domain",
     "not a domain",
     NULL,
     NULL,
     NULL,
     NULL,
     false,
     false,
     NULL,
     "permerror",
     NULL,
     NULL,
     NULL,
     MP_DMARC_POLICY_UNSET,
     false,
     false,
     NULL,
     NULL,
     false,
     false},
};

static void
run_eval_case(const struct eval_case *c)
{
	struct fx f;
	struct mp_err err = {0};
	struct mp_dmarc_eval_in in;
	struct mp_dmarc_eval out;
	const char *dk[2];
	size_t nd = 0;
	bool want_record;

	fx_open(&f, true);
	if (c->tempfail != NULL && mp_resolver_add_tempfail(f.res, c->tempfail, &err) != 0)
		fail_msg("%s: add_tempfail: %s", c->name, err.msg);
	if (c->dkim1 != NULL)
		dk[nd++] = c->dkim1;
	if (c->dkim2 != NULL)
		dk[nd++] = c->dkim2;
	memset(&in, 0, sizeof(in));
	in.from_domain = c->from;
	in.spf_domain = c->spf_domain;
	in.spf_result = c->spf_result;
	in.dkim_pass_domains = dk;
	in.ndkim_pass = nd;
	in.dkim_temperror = c->dkim_temperror;
	in.spf_temperror = c->spf_temperror;
	if (mp_dmarc_evaluate(f.d, &in, &out, &err) != 0)
		fail_msg("%s: evaluate: %s", c->name, err.msg);
	check_str(c->name, "result", out.result, c->result);
	check_str(c->name, "problem_code", out.problem_code, c->problem);
	check_str(c->name, "record_name", out.record_name, c->record_name);
	check_str(c->name, "org_domain", out.org_domain, c->org);
	check_str(c->name, "treewalk_record_name", out.treewalk_record_name, c->tw_record);
	check_str(c->name, "treewalk_org_domain", out.treewalk_org_domain, c->tw_org);
	if (out.policy != c->policy)
		fail_msg("%s: policy %d, expected %d", c->name, out.policy, c->policy);
	if (out.spf_aligned != c->spf_aligned || out.dkim_aligned != c->dkim_aligned)
		fail_msg("%s: spf_aligned %d dkim_aligned %d", c->name, out.spf_aligned,
			 out.dkim_aligned);
	if (out.methods_differ != c->differ || out.treewalk_temperror != c->tw_temperror)
		fail_msg("%s: methods_differ %d treewalk_temperror %d", c->name, out.methods_differ,
			 out.treewalk_temperror);
	if (out.message == NULL || out.message[0] == '\0')
		fail_msg("%s: no message", c->name);
	if (out.methods_differ != (out.treewalk_note != NULL))
		fail_msg("%s: treewalk_note does not match methods_differ", c->name);
	want_record = c->record_name != NULL &&
		      (c->problem == NULL || strcmp(c->problem, "DMARC_POLICY_NONE") == 0);
	if (out.have_record != want_record)
		fail_msg("%s: have_record %d", c->name, out.have_record);
	mp_dmarc_eval_dispose(&out);
	fx_close(&f);
}

static void
evaluate_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(eval_cases) / sizeof(eval_cases[0]); i++)
		run_eval_case(&eval_cases[i]);
}

static void
evaluate_record_details(void **state)
{
	struct fx f;
	struct mp_err err = {0};
	struct mp_dmarc_eval_in in;
	struct mp_dmarc_eval out;

	(void)state;
	fx_open(&f, true);
	memset(&in, 0, sizeof(in));
	in.from_domain = "watch.test";
	assert_int_equal(mp_dmarc_evaluate(f.d, &in, &out, &err), 0);
	assert_true(out.have_record);
	assert_string_equal(out.record,
			    "v=DMARC1; p=none; rua=mailto:a@watch.test,mailto:b@watch.test");
	assert_int_equal(out.parsed.nrua, 2);
	assert_string_equal(out.parsed.rua[1], "mailto:b@watch.test");
	assert_string_equal(out.result, "fail");
	assert_false(out.record_at_org);
	mp_dmarc_eval_dispose(&out);

	/* the invalid record is kept for the report, with the parser's reason */
	in.from_domain = "broken.test";
	assert_int_equal(mp_dmarc_evaluate(f.d, &in, &out, &err), 0);
	assert_false(out.have_record);
	assert_string_equal(out.record, "v=DMARC1; p=rejected");
	assert_non_null(strstr(out.message, "rejected"));
	mp_dmarc_eval_dispose(&out);

	in.from_domain = "mail.org.test";
	assert_int_equal(mp_dmarc_evaluate(f.d, &in, &out, &err), 0);
	assert_true(out.record_at_org);
	mp_dmarc_eval_dispose(&out);

	in.from_domain = NULL;
	assert_int_equal(mp_dmarc_evaluate(f.d, &in, &out, &err), 0);
	assert_string_equal(out.result, "permerror");
	mp_dmarc_eval_dispose(&out);
	mp_dmarc_eval_dispose(NULL);
	mp_dmarc_free(NULL);
	fx_close(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(org_domain_table),	    cmocka_unit_test(org_domain_bounds),
	    cmocka_unit_test(alignment_table),	    cmocka_unit_test(record_parse_table),
	    cmocka_unit_test(record_parse_details), cmocka_unit_test(record_parse_garbage),
	    cmocka_unit_test(evaluate_table),	    cmocka_unit_test(evaluate_record_details),
	};
	return cmocka_run_group_tests_name("dmarc", tests, NULL, NULL);
}
