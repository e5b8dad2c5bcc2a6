/* test_dkim.c - DKIM verification against the signed fixtures and RFC 8463. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkim.h"
#include "resolver.h"

#define KLANT_ZONE "zones/dkim.zone"

struct fx {
	struct mp_resolver *res;
	struct mp_dkim *dkim;
};

/* ---- input helpers ---- */

static char *
read_file(const char *dirvar, const char *rel, size_t *len)
{
	const char *dir = getenv(dirvar);
	char path[4096];
	FILE *fp;
	char *buf = NULL;
	long n;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* Bare LF -> CRLF (the message reader does this for real). */
static char *
to_crlf(const char *s, size_t n, size_t *outn)
{
	char *p = malloc(2 * n + 1);
	size_t i, j = 0;

	assert_non_null(p);
	for (i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			p[j++] = '\r';
		p[j++] = s[i];
	}
	p[j] = '\0';
	*outn = j;
	return p;
}

/*
 * Feeds a message: header fields split at lines not starting with WSP (each
 * without its final line end), then the body after the first empty line in chunks
 * of `chunk` bytes (0: all at once).  `eol` is "\r\n" or "\n".
 */
static int
feed(struct mp_dkim_ver *v, const char *msg, size_t len, size_t chunk, const char *eol)
{
	size_t el = strlen(eol), pos = 0, start = 0;
	const char *body = NULL;
	size_t bodylen = 0;
	int rc;

	while (pos < len) {
		const char *nl = NULL;
		size_t i;

		for (i = pos; i + el <= len; i++)
			if (memcmp(msg + i, eol, el) == 0) {
				nl = msg + i;
				break;
			}
		if (nl == NULL) { /* no body separator: everything is header */
			if (len > start && (rc = mp_dkim_header(v, msg + start, len - start)) != 0)
				return rc;
			return mp_dkim_eoh(v);
		}
		if (nl == msg + pos) { /* empty line: end of the header */
			if (pos > start &&
			    (rc = mp_dkim_header(v, msg + start, pos - start - el)) != 0)
				return rc;
			body = nl + el;
			bodylen = len - (size_t)(body - msg);
			break;
		}
		pos = (size_t)(nl - msg) + el;
		/* a new field starts at a line not beginning with WSP */
		if (pos < len && msg[pos] != ' ' && msg[pos] != '\t' && pos > start) {
			if ((rc = mp_dkim_header(v, msg + start, pos - start - el)) != 0)
				return rc;
			start = pos;
		}
	}
	if ((rc = mp_dkim_eoh(v)) != 0)
		return rc;
	if (body == NULL)
		return 0;
	if (chunk == 0)
		chunk = bodylen;
	for (pos = 0; pos < bodylen; pos += chunk) {
		size_t n = bodylen - pos < chunk ? bodylen - pos : chunk;

		if ((rc = mp_dkim_body(v, body + pos, n)) != 0)
			return rc;
	}
	return 0;
}

static int
verify_text(struct fx *fx, const char *msg, size_t len, size_t chunk, const char *eol,
	    struct mp_dkim_sig **sigs, size_t *n)
{
	struct mp_dkim_ver *v = NULL;
	struct mp_err err = { 0 };
	int rc, rc2;

	assert_int_equal(mp_dkim_begin(fx->dkim, &v, &err), 0);
	rc = feed(v, msg, len, chunk, eol);
	rc2 = mp_dkim_end(v, sigs, n, &err);
	mp_dkim_ver_free(v);
	return rc != 0 ? rc : rc2;
}

static void
verify_file(struct fx *fx, const char *dirvar, const char *rel, size_t chunk,
	    struct mp_dkim_sig **sigs, size_t *n)
{
	size_t rawlen, len;
	char *raw = read_file(dirvar, rel, &rawlen);
	char *msg = to_crlf(raw, rawlen, &len);

	assert_int_equal(verify_text(fx, msg, len, chunk, "\r\n", sigs, n), 0);
	free(msg);
	free(raw);
}

/* ---- fixtures ---- */

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct mp_resolver_opts opts = { 0 };
	struct mp_err err = { 0 };
	char path[4096];
	const char *dir = getenv("MP_FIXTURES");

	if (fx == NULL || dir == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, KLANT_ZONE);
	opts.mode = MP_RESOLVER_ZONE;
	opts.zone_file = path;
	if (mp_resolver_new(&fx->res, &opts, &err) != 0) {
		fprintf(stderr, "resolver: %s\n", err.msg);
		free(fx);
		return -1;
	}
	if (mp_resolver_add_tempfail(fx->res, "tempfail._domainkey.klant.test", &err) != 0 ||
	    mp_dkim_new(&fx->dkim, fx->res, &err) != 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		mp_resolver_free(fx->res);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	mp_dkim_free(fx->dkim);
	mp_resolver_free(fx->res);
	free(fx);
	return 0;
}

/* ---- expectations ---- */

struct want_sig {
	const char *result;
	const char *error;     /* substring; NULL: no error */
	unsigned key_bits;
	bool testing;
	const char *algorithm; /* NULL: absent */
	const char *selector;
	const char *canon;
};

struct want {
	const char *file;
	size_t n;
	struct want_sig sig[2];
};

static const struct want cases[] = {
	{ "messages/dkim-pass-rsa2048-relaxed.eml", 1,
	  { { "pass", NULL, 2048, false, "rsa-sha256", "rsa2048", "relaxed/relaxed" } } },
	{ "messages/dkim-pass-rsa1024-simple.eml", 1,
	  { { "pass", NULL, 1024, false, "rsa-sha256", "rsa1024", "simple/simple" } } },
	{ "messages/dkim-pass-ed25519.eml", 1,
	  { { "pass", NULL, 256, false, "ed25519-sha256", "ed25519", "relaxed/relaxed" } } },
	{ "messages/dkim-two-signatures.eml", 2,
	  { { "pass", NULL, 256, false, "ed25519-sha256", "ed25519", "relaxed/relaxed" },
	    { "pass", NULL, 2048, false, "rsa-sha256", "rsa2048", "relaxed/relaxed" } } },
	{ "messages/dkim-body-changed.eml", 1,
	  { { "fail", "body hash mismatch (the body was changed after signing)", 2048, false,
	      "rsa-sha256", "rsa2048", "relaxed/relaxed" } } },
	{ "messages/dkim-header-changed.eml", 1,
	  { { "fail", "signature verification failed (a signed header was changed", 2048,
	      false, "rsa-sha256", "rsa2048", "relaxed/relaxed" } } },
	{ "messages/dkim-key-missing.eml", 1,
	  { { "permerror", "no key for missing._domainkey.klant.test in DNS", 0, false,
	      "rsa-sha256", "missing", "relaxed/relaxed" } } },
	{ "messages/dkim-key-revoked.eml", 1,
	  { { "permerror", "key revoked (empty p= in revoked._domainkey.klant.test)", 0,
	      false, "rsa-sha256", "revoked", "relaxed/relaxed" } } },
	{ "messages/dkim-key-testing.eml", 1,
	  { { "pass", NULL, 2048, true, "rsa-sha256", "testing", "relaxed/relaxed" } } },
	{ "messages/dkim-key-too-short.eml", 1,
	  { { "policy", "key too short (512 bits", 512, false, "rsa-sha256", "tooshort",
	      "relaxed/relaxed" } } },
	{ "messages/dkim-dns-tempfail.eml", 1,
	  { { "temperror",
	      "DNS lookup for the key failed (temporary): tempfail._domainkey.klant.test", 0,
	      false, "rsa-sha256", "tempfail", "relaxed/relaxed" } } },
	{ "messages/dkim-expired.eml", 1,
	  { { "permerror", "signature expired on 2023-11-15 22:13:20 UTC", 0, false,
	      "rsa-sha256", "rsa2048", "relaxed/relaxed" } } },
	{ "messages/dkim-unknown-algorithm.eml", 1,
	  { { "permerror", "unknown signing algorithm a=rsa-sha512", 0, false, "rsa-sha512",
	      "rsa2048", "relaxed/relaxed" } } },
	{ "messages/dkim-missing-b.eml", 1,
	  { { "permerror", "malformed DKIM-Signature: missing b= tag", 0, false,
	      "rsa-sha256", "rsa2048", "relaxed/relaxed" } } },
	{ "messages/dkim-broken-tag-list.eml", 2,
	  { { "permerror", "malformed DKIM-Signature: missing tags b=, bh=, h=, s=; empty d= tag",
	      0, false, "rsa-sha256", NULL, "simple/simple" },
	    { "pass", NULL, 2048, false, "rsa-sha256", "rsa2048", "relaxed/relaxed" } } },
	{ "messages/dkim-no-signature.eml", 0, { { NULL, NULL, 0, false, NULL, NULL, NULL } } },
};

static void
check_sig(const char *file, size_t i, const struct mp_dkim_sig *got,
	  const struct want_sig *w)
{
	print_message("%s #%zu: %s (%s)\n", file, i, got->result,
		      got->error != NULL ? got->error : "-");
	assert_string_equal(got->result, w->result);
	if (w->error == NULL) {
		assert_null(got->error);
	} else {
		assert_non_null(got->error);
		if (strstr(got->error, w->error) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\"", file, got->error, w->error);
	}
	assert_int_equal(got->key_bits, w->key_bits);
	assert_int_equal(got->testing, w->testing);
	if (w->algorithm != NULL)
		assert_string_equal(got->algorithm, w->algorithm);
	else
		assert_null(got->algorithm);
	if (w->selector != NULL)
		assert_string_equal(got->selector, w->selector);
	else
		assert_null(got->selector);
	assert_string_equal(got->canon, w->canon);
	if (w->selector != NULL || strcmp(w->result, "pass") == 0) {
		assert_string_equal(got->domain, "klant.test");
		assert_string_equal(got->identity, "@klant.test");
	}
}

static void
test_fixtures(void **state)
{
	size_t c, i;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct mp_dkim_sig *sigs = NULL;
		size_t n = 99;

		verify_file(*state, "MP_FIXTURES", cases[c].file, 0, &sigs, &n);
		assert_int_equal(n, cases[c].n);
		if (n == 0)
			assert_null(sigs);
		for (i = 0; i < n; i++)
			check_sig(cases[c].file, i, &sigs[i], &cases[c].sig[i]);
		mp_dkim_sigs_free(sigs, n);
	}
}

static bool
str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Body chunks of 1 and 7 bytes give exactly what one chunk gives. */
static void
test_streaming(void **state)
{
	static const size_t chunks[] = { 1, 7 };
	size_t c, k, i;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct mp_dkim_sig *ref = NULL;
		size_t nref = 0;

		verify_file(*state, "MP_FIXTURES", cases[c].file, 0, &ref, &nref);
		for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			struct mp_dkim_sig *sigs = NULL;
			size_t n = 0;

			verify_file(*state, "MP_FIXTURES", cases[c].file, chunks[k], &sigs, &n);
			assert_int_equal(n, nref);
			for (i = 0; i < n; i++) {
				assert_string_equal(sigs[i].result, ref[i].result);
				assert_true(str_same(sigs[i].error, ref[i].error));
				assert_int_equal(sigs[i].key_bits, ref[i].key_bits);
				assert_int_equal(sigs[i].testing, ref[i].testing);
				assert_true(str_same(sigs[i].selector, ref[i].selector));
			}
			mp_dkim_sigs_free(sigs, n);
		}
		mp_dkim_sigs_free(ref, nref);
	}
}

/* RFC 8463 appendix A: the same message signed with Ed25519 and with RSA. */
static void
test_rfc8463(void **state)
{
	struct fx fx = { 0 };
	struct mp_resolver_opts opts = { 0 };
	struct mp_err err = { 0 };
	struct mp_dkim_sig *sigs = NULL;
	size_t n = 0, zlen;
	char *zone = read_file("MP_CONFORMANCE", "dkim/rfc8463-appendix-a.zone", &zlen);

	(void)state;
	opts.mode = MP_RESOLVER_ZONE;
	assert_int_equal(mp_resolver_new(&fx.res, &opts, &err), 0);
	assert_int_equal(mp_resolver_load_zone_text(fx.res, zone, zlen, NULL, &err), 0);
	assert_int_equal(mp_dkim_new(&fx.dkim, fx.res, &err), 0);

	verify_file(&fx, "MP_CONFORMANCE", "dkim/rfc8463-appendix-a.eml", 0, &sigs, &n);
	assert_int_equal(n, 2);
	assert_string_equal(sigs[0].result, "pass");
	assert_null(sigs[0].error);
	assert_string_equal(sigs[0].algorithm, "ed25519-sha256");
	assert_string_equal(sigs[0].selector, "brisbane");
	assert_string_equal(sigs[0].domain, "football.example.com");
	assert_int_equal(sigs[0].key_bits, 256);
	assert_string_equal(sigs[0].canon, "simple/simple");
	assert_string_equal(sigs[1].result, "pass");
	assert_string_equal(sigs[1].algorithm, "rsa-sha256");
	assert_string_equal(sigs[1].selector, "test");
	assert_int_equal(sigs[1].key_bits, 1024);
	mp_dkim_sigs_free(sigs, n);

	/* The same vector as a 1-byte stream. */
	verify_file(&fx, "MP_CONFORMANCE", "dkim/rfc8463-appendix-a.eml", 1, &sigs, &n);
	assert_int_equal(n, 2);
	assert_string_equal(sigs[0].result, "pass");
	assert_string_equal(sigs[1].result, "pass");
	mp_dkim_sigs_free(sigs, n);

	mp_dkim_free(fx.dkim);
	mp_resolver_free(fx.res);
	free(zone);
}

/* Hostile or broken DKIM-Signature fields: one non-pass entry each, never a crash. */
static void
test_malformed_fields(void **state)
{
	static const char head[] = "From: a@klant.test\r\nSubject: x\r\n";
	static const struct {
		const char *field, *result, *error;
	} bad[] = {
		{ "DKIM-Signature:", "permerror", "missing tags v=, a=, b=, bh=, d=, h=, s=" },
		{ "DKIM-Signature: ;;;;", "permerror", "empty tag in the tag list" },
		{ "DKIM-Signature: =", "permerror", "invalid tag name" },
		{ "DKIM-Signature: v=1; a=rsa-sha256; d=klant.test; s=x; h=from; bh=AA==; "
		  "b=AA==; b=BB==", "permerror", "tag b= appears twice" },
		{ "DKIM-Signature: v=1; a=rsa-sha256; d=kl\x80nt.test; s=x; h=from; bh=AA==; "
		  "b=AA==", "permerror", "invalid character in the d= value" },
		{ "DKIM-Signature: v=1; a=rsa-sha256; d=klant..test; s=x; h=from; bh=AA==; "
		  "b=AA==", "permerror", "do not form a valid DNS name" },
		{ "DKIM-Signature: v=1; a=rsa-sha256; d=klant.test; s=x; h=to; bh=AA==; b=AA==",
		  "permerror", "h= does not list From" },
		{ "DKIM-Signature: v=2; a=rsa-sha256; d=klant.test; s=x; h=from; bh=AA==; b=AA==",
		  "permerror", "version" },
		{ "DKIM-Signature: v=1; a=rsa-sha256; c=weird; d=klant.test; s=x; h=from; "
		  "bh=AA==; b=AA==", "permerror", "unknown canonicalization c=weird" },
		{ "DKIM-Signature: v=1; a=rsa-sha256; d=klant.test; s=x; h=from; bh=AA==; "
		  "b=AA==; x=1; t=5", "permerror", "signature expired on 1970-01-01 00:00:01 UTC" },
		{ "DKIM-Signature: v=1; a=rsa-sha256; d=klant.test; s=x; h=from; bh=AA==; "
		  "b=AA==; t=99999999999", "permerror", "in the future" },
		{ "DKIM-Signature: v=1; a=rsa-sha256; d=klant.test; s=rsa2048; h=from; bh=AA==; "
		  "b=AA==", "fail", "signature verification failed" },
		{ "DKIM-Signature \t: v=1", "permerror", "missing tags a=, b=, bh=, d=, h=, s=" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[512];
		struct mp_dkim_sig *sigs = NULL;
		size_t n = 0;
		int len = snprintf(msg, sizeof(msg), "%s\r\n%s\r\nbody\r\n", bad[i].field,
				   head);

		assert_true(len > 0 && (size_t)len < sizeof(msg));
		assert_int_equal(verify_text(*state, msg, (size_t)len, 0, "\r\n", &sigs, &n), 0);
		assert_int_equal(n, 1);
		print_message("case %zu -> %s (%s)\n", i, sigs[0].result, sigs[0].error);
		assert_string_equal(sigs[0].result, bad[i].result);
		assert_non_null(sigs[0].error);
		if (strstr(sigs[0].error, bad[i].error) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, sigs[0].error,
				 bad[i].error);
		mp_dkim_sigs_free(sigs, n);
	}
}

/* A d= too long for DNS, a NUL byte, an over-long field: permerror, no crash. */
static void
test_hostile_sizes(void **state)
{
	char *msg = malloc(40000);
	size_t len = 0;
	struct mp_dkim_sig *sigs = NULL;
	size_t n = 0;
	int i;

	assert_non_null(msg);
	len += (size_t)snprintf(msg + len, 400, "DKIM-Signature: v=1; a=rsa-sha256; d=");
	for (i = 0; i < 30; i++)
		len += (size_t)snprintf(msg + len, 20, "abcdefghij.");
	len += (size_t)snprintf(msg + len, 400,
				"test; s=x; h=from; bh=AA==; b=AA==\r\n"
				"DKIM-Signature: v=1; a=rsa-sha256; d=klant.test; s=x;\r\n h=from; "
				"bh=AA==; b=AA=");
	msg[len++] = '\0';
	len += (size_t)snprintf(msg + len, 400, "=\r\nDKIM-Signature: v=1; x=");
	memset(msg + len, '1', 20000);
	len += 20000;
	len += (size_t)snprintf(msg + len, 400, "\r\nFrom: a@klant.test\r\n\r\nbody\r\n");

	assert_int_equal(verify_text(*state, msg, len, 0, "\r\n", &sigs, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(sigs[0].result, "permerror");
	assert_non_null(strstr(sigs[0].error, "valid DNS name"));
	assert_string_not_equal(sigs[1].result, "pass");
	assert_string_equal(sigs[2].result, "permerror");
	assert_non_null(strstr(sigs[2].error, "longer than"));
	mp_dkim_sigs_free(sigs, n);
	free(msg);
}

/* More signatures than MP_DKIM_MAX_VERIFY: the rest are "policy", order kept. */
static void
test_many_signatures(void **state)
{
	size_t rawlen, len, siglen, i;
	char *raw = read_file("MP_FIXTURES", "messages/dkim-pass-rsa2048-relaxed.eml", &rawlen);
	char *one = to_crlf(raw, rawlen, &len);
	const char *from = strstr(one, "\r\nFrom:");
	size_t copies = MP_DKIM_MAX_VERIFY + 4;
	char *msg;
	struct mp_dkim_sig *sigs = NULL;
	size_t n = 0, pos = 0;

	assert_non_null(from);
	siglen = (size_t)(from - one) + 2;
	msg = malloc(siglen * copies + len);
	assert_non_null(msg);
	for (i = 0; i < copies; i++, pos += siglen)
		memcpy(msg + pos, one, siglen);
	memcpy(msg + pos, one + siglen, len - siglen);
	pos += len - siglen;

	assert_int_equal(verify_text(*state, msg, pos, 0, "\r\n", &sigs, &n), 0);
	assert_int_equal(n, copies);
	for (i = 0; i < copies; i++)
		assert_string_equal(sigs[i].result, i < MP_DKIM_MAX_VERIFY ? "pass" : "policy");
	mp_dkim_sigs_free(sigs, n);
	free(msg);
	free(one);
	free(raw);
}

/* Random byte changes in the signed header: any outcome but a crash or a leak. */
static void
test_mutations(void **state)
{
	size_t rawlen, len, i, k;
	char *raw = read_file("MP_FIXTURES", "messages/dkim-two-signatures.eml", &rawlen);
	char *orig = to_crlf(raw, rawlen, &len);
	char *msg = malloc(len);
	const char *sep = strstr(orig, "\r\n\r\n");
	size_t headlen = (size_t)(sep - orig);
	uint32_t seed = 12345;

	assert_non_null(msg);
	for (i = 0; i < 300; i++) {
		struct mp_dkim_sig *sigs = NULL;
		size_t n = 0;

		memcpy(msg, orig, len);
		for (k = 0; k < 1 + i % 5; k++) {
			seed = seed * 1103515245u + 12345u; /* fixed sequence: reproducible */
			msg[(seed >> 8) % headlen] = (char)(seed >> 24);
		}
		assert_int_equal(verify_text(*state, msg, len, 0, "\r\n", &sigs, &n), 0);
		assert_true(n <= 3);
		for (k = 0; k < n; k++) {
			assert_non_null(sigs[k].result);
			assert_true(strcmp(sigs[k].result, "pass") == 0 || sigs[k].error != NULL);
		}
		mp_dkim_sigs_free(sigs, n);
	}
	free(msg);
	free(orig);
	free(raw);
}

/* Bare LF input is the reader's job; here it must only not crash. */
static void
test_bare_lf(void **state)
{
	size_t len;
	char *raw = read_file("MP_FIXTURES", "messages/dkim-two-signatures.eml", &len);
	char *lf = malloc(len + 1);
	size_t i, j = 0, n = 0;
	struct mp_dkim_sig *sigs = NULL;

	assert_non_null(lf);
	for (i = 0; i < len; i++)
		if (raw[i] != '\r')
			lf[j++] = raw[i];
	assert_int_equal(verify_text(*state, lf, j, 3, "\n", &sigs, &n), 0);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++)
		assert_non_null(sigs[i].result);
	mp_dkim_sigs_free(sigs, n);
	free(lf);
	free(raw);
}

/* No From field: libopendkim cannot verify anything (RFC 6376 section 5.4). */
static void
test_no_from(void **state)
{
	size_t rawlen, len;
	char *raw = read_file("MP_FIXTURES", "messages/dkim-pass-rsa2048-relaxed.eml", &rawlen);
	char *msg = to_crlf(raw, rawlen, &len);
	char *from = strstr(msg, "\r\nFrom:");
	struct mp_dkim_sig *sigs = NULL;
	size_t n = 0;

	assert_non_null(from);
	memcpy(from + 2, "Xrom", 4);
	assert_int_equal(verify_text(*state, msg, len, 0, "\r\n", &sigs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(sigs[0].result, "permerror");
	assert_non_null(strstr(sigs[0].error, "cannot be verified"));
	assert_string_equal(sigs[0].selector, "rsa2048");
	mp_dkim_sigs_free(sigs, n);
	free(msg);
	free(raw);
}

static void
test_misuse(void **state)
{
	struct fx *fx = *state;
	struct mp_dkim_ver *v = NULL;
	struct mp_err err = { 0 };
	struct mp_dkim_sig *sigs = NULL;
	struct mp_dkim *tmp = NULL;
	size_t n = 7;

	mp_dkim_free(NULL);
	mp_dkim_ver_free(NULL);
	mp_dkim_sigs_free(NULL, 3);
	assert_int_equal(mp_dkim_new(&tmp, NULL, &err), MP_EINVAL);
	assert_null(tmp);

	assert_int_equal(mp_dkim_begin(fx->dkim, &v, &err), 0);
	assert_int_equal(mp_dkim_body(v, "x", 1), MP_EINVAL);
	assert_int_equal(mp_dkim_end(v, &sigs, &n, &err), MP_EINVAL);
	assert_null(sigs);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err.msg, "body"));
	mp_dkim_ver_free(v);

	v = NULL;
	assert_int_equal(mp_dkim_begin(fx->dkim, &v, &err), 0);
	assert_int_equal(mp_dkim_header(v, "From: a@klant.test", 18), 0);
	assert_int_equal(mp_dkim_header(v, "", 0), 0);
	assert_int_equal(mp_dkim_eoh(v), 0);
	assert_int_equal(mp_dkim_header(v, "To: b@klant.test", 16), MP_EINVAL);
	assert_int_equal(mp_dkim_end(v, &sigs, &n, &err), MP_EINVAL);
	mp_dkim_ver_free(v);
}

/* One verifier, many messages: keys come from the resolver's cache. */
static void
test_reuse_and_speed(void **state)
{
	struct fx *fx = *state;
	size_t rawlen, len, i, rounds = 300;
	char *raw = read_file("MP_FIXTURES", "messages/dkim-pass-rsa2048-relaxed.eml", &rawlen);
	char *msg = to_crlf(raw, rawlen, &len);
	unsigned long hits0, misses0, hits1, misses1;
	struct timespec t0, t1;
	double secs;

	mp_resolver_stats(fx->res, &hits0, &misses0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < rounds; i++) {
		struct mp_dkim_sig *sigs = NULL;
		size_t n = 0;

		assert_int_equal(verify_text(fx, msg, len, 0, "\r\n", &sigs, &n), 0);
		assert_int_equal(n, 1);
		assert_string_equal(sigs[0].result, "pass");
		mp_dkim_sigs_free(sigs, n);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	mp_resolver_stats(fx->res, &hits1, &misses1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("%zu messages in %.3f s: %.0f msgs/s\n", rounds, secs,
		      secs > 0 ? (double)rounds / secs : 0.0);
	assert_true(hits1 - hits0 + misses1 - misses0 == rounds);
	assert_true(misses1 - misses0 <= 1);
	free(msg);
	free(raw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_rfc8463),
		cmocka_unit_test(test_malformed_fields),
		cmocka_unit_test(test_hostile_sizes),
		cmocka_unit_test(test_many_signatures),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_no_from),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_reuse_and_speed),
	};

	return cmocka_run_group_tests_name("dkim", tests, setup, teardown);
}
