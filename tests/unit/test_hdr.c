/* test_hdr.c - header fields, unfolding, RFC 2047 decoding, address lists, Message-ID. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "hdr.h"

#define S(lit) lit, sizeof(lit) - 1

static void
assert_field(const struct mp_field *f, const char *name, const char *raw, const char *value)
{
	assert_non_null(f);
	assert_int_equal(f->name_len, strlen(name));
	assert_memory_equal(f->name, name, f->name_len);
	assert_int_equal(f->raw_len, strlen(raw));
	assert_memory_equal(f->raw, raw, f->raw_len);
	assert_int_equal(f->value_len, strlen(value));
	assert_memory_equal(f->value, value, f->value_len);
}

static void
parse_fields_and_folds(void **state)
{
	static const char block[] = "Received: from a\r\n\tby b\r\n"
				    "From: Alice <alice@example.org>\r\n"
				    "received: from c\r\n"
				    "Subject : hello\r\n"
				    "DKIM-Signature: v=1;\r\n  b=abc\r\n";
	struct mp_headers *h = NULL;
	struct mp_err err = {0};

	(void)state;
	assert_int_equal(mp_headers_parse(&h, S(block), &err), 0);
	assert_int_equal(mp_headers_count(h), 5);
	assert_field(mp_headers_at(h, 0), "Received", "Received: from a\r\n\tby b",
		     " from a\r\n\tby b");
	assert_field(mp_headers_at(h, 3), "Subject", "Subject : hello", " hello");
	assert_field(mp_headers_at(h, 4), "DKIM-Signature", "DKIM-Signature: v=1;\r\n  b=abc",
		     " v=1;\r\n  b=abc");
	assert_null(mp_headers_at(h, 5));
	assert_int_equal(mp_headers_count_named(h, "RECEIVED"), 2);
	assert_field(mp_headers_find(h, "received", 1), "received", "received: from c", " from c");
	assert_null(mp_headers_find(h, "received", 2));
	assert_null(mp_headers_find(h, "To", 0));
	assert_int_equal(mp_headers_junk(h), 0);
	mp_headers_free(h);
	mp_headers_free(NULL);
}

static void
parse_lf_and_no_final_crlf(void **state)
{
	static const char block[] = "A: 1\n\tx\nB: 2";
	struct mp_headers *h = NULL;

	(void)state;
	assert_int_equal(mp_headers_parse(&h, S(block), NULL), 0);
	assert_int_equal(mp_headers_count(h), 2);
	assert_field(mp_headers_at(h, 0), "A", "A: 1\n\tx", " 1\n\tx");
	assert_field(mp_headers_at(h, 1), "B", "B: 2", " 2");
	mp_headers_free(h);
}

/* Tolerant policy: junk lines and their continuations are skipped and counted. */
static void
parse_junk_lines(void **state)
{
	static const struct {
		const char *block;
		size_t len;
		int rc;
		size_t fields, junk;
	} cases[] = {
	    {S("\tleading continuation\r\nA: 1\r\n"), 0, 1, 1},
	    {S("A: 1\r\nno colon here\r\n\tcontinued junk\r\nB: 2\r\n"), 0, 2, 1},
	    {S(">From someone\r\nA: 1\r\n"), 0, 1, 1},
	    {S("Bad Name: x\r\nA: 1\r\n"), 0, 1, 1},
	    {S(": empty name\r\nA: 1\r\n"), 0, 1, 1},
	    {S("A: 1\r\n\r\nB: 2\r\n"), 0, 2, 0},
	    {S(""), 0, 0, 0},
	    {S("\x7f\x45LF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\r\n\xff\xfe junk"), MP_EPARSE, 0,
	     0},
	    {S("no header at all\r\n"), MP_EPARSE, 0, 0},
	};
	struct mp_headers *h;
	struct mp_err err = {0};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		h = NULL;
		assert_int_equal(mp_headers_parse(&h, cases[i].block, cases[i].len, &err),
				 cases[i].rc);
		if (cases[i].rc != 0) {
			assert_null(h);
			assert_int_equal(err.code, cases[i].rc);
			continue;
		}
		assert_int_equal(mp_headers_count(h), cases[i].fields);
		assert_int_equal(mp_headers_junk(h), cases[i].junk);
		mp_headers_free(h);
	}
}

static void
parse_nul_and_8bit_kept(void **state)
{
	static const char block[] = "Subject: a\0b \xe9t\xc3\xa9\r\nX\0Y: junk\r\nTo: c\r\n";
	struct mp_headers *h = NULL;
	const struct mp_field *f;

	(void)state;
	assert_int_equal(mp_headers_parse(&h, S(block), NULL), 0);
	assert_int_equal(mp_headers_count(h), 2);
	assert_int_equal(mp_headers_junk(h), 1);
	f = mp_headers_find(h, "subject", 0);
	assert_non_null(f);
	assert_int_equal(f->value_len, 9);
	assert_memory_equal(f->value, " a\0b \xe9t\xc3\xa9", 9);
	mp_headers_free(h);
}

static void
parse_bounds(void **state)
{
	struct mp_buf b;
	struct mp_headers *h = NULL;
	struct mp_err err = {0};
	size_t i;

	(void)state;
	/* one field just over MP_HDR_MAX_FIELD, folded */
	mp_buf_init(&b, 2 * MP_HDR_MAX_BLOCK);
	assert_int_equal(mp_buf_adds(&b, "X-Long: "), 0);
	for (i = 0; i < MP_HDR_MAX_FIELD / 64; i++)
		assert_int_equal(mp_buf_adds(&b,
					     "0123456789012345678901234567890123456789012345678901"
					     "234567890\r\n\t"),
				 0);
	assert_int_equal(mp_headers_parse(&h, b.data, b.len, &err), MP_ETOOBIG);
	assert_null(h);
	assert_non_null(strstr(err.msg, "X-Long"));

	/* exactly MP_HDR_MAX_FIELDS fields pass, one more does not */
	mp_buf_reset(&b);
	for (i = 0; i < MP_HDR_MAX_FIELDS; i++)
		assert_int_equal(mp_buf_printf(&b, "X-N: %zu\r\n", i), 0);
	assert_int_equal(mp_headers_parse(&h, b.data, b.len, &err), 0);
	assert_int_equal(mp_headers_count(h), MP_HDR_MAX_FIELDS);
	assert_int_equal(mp_headers_count_named(h, "x-n"), MP_HDR_MAX_FIELDS);
	mp_headers_free(h);
	h = NULL;
	assert_int_equal(mp_buf_adds(&b, "X-N: last\r\n"), 0);
	assert_int_equal(mp_headers_parse(&h, b.data, b.len, &err), MP_ETOOBIG);
	assert_non_null(strstr(err.msg, "fields"));

	/* the whole section */
	mp_buf_reset(&b);
	while (b.len <= MP_HDR_MAX_BLOCK)
		assert_int_equal(mp_buf_adds(&b, "X-Fill: 0123456789012345678901234567890123456789"
						 "0123456789012345678901234567890123456789\r\n"),
				 0);
	assert_int_equal(mp_headers_parse(&h, b.data, b.len, &err), MP_ETOOBIG);
	assert_non_null(strstr(err.msg, "section"));
	mp_buf_dispose(&b);
}

static void
unfold_table(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
		size_t outlen;
	} cases[] = {
	    {S(" a\r\n b"), S("a b")},
	    {S(" a\r\n\tb\r\n  c "), S("a\tb  c")},
	    {S("a\n b"), S("a b")},
	    {S("a\r b"), S("a b")},
	    {S("a\r\nb"), S("a b")}, /* not a fold: still no line break in the output */
	    {S("a\0b"), S("a\xef\xbf\xbd"
			  "b")},
	    {S("  \r\n\t "), S("")},
	    {S("\xe9t\xe9"), S("\xe9t\xe9")},
	};
	size_t i, n;
	char *s;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = mp_hdr_unfold(cases[i].in, cases[i].len, &n);
		assert_non_null(s);
		assert_int_equal(n, cases[i].outlen);
		assert_memory_equal(s, cases[i].out, n);
		assert_int_equal(s[n], '\0');
		free(s);
	}
	s = mp_hdr_unfold(S("x"), NULL);
	assert_string_equal(s, "x");
	free(s);
}

static void
decode_table(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
	    {"plain text", "plain text"},
	    {"=?UTF-8?B?w6l0w6k=?=", "\xc3\xa9t\xc3\xa9"},
	    {"=?utf-8?b?w6l0w6k?=", "\xc3\xa9t\xc3\xa9"}, /* no padding */
	    {"=?ISO-8859-1?Q?caf=E9_cr=e8me?=",
	     "caf\xc3\xa9 cr\xc3\xa8me"}, /* underscore, hex case */
	    {"=?iso-8859-15?q?=A4?=", "\xe2\x82\xac"},
	    {"=?windows-1252?Q?=80_=93?=", "\xe2\x82\xac \xe2\x80\x9c"},
	    {"=?US-ASCII?Q?Keith_Moore?=", "Keith Moore"},
	    {"=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab"},	/* RFC 2047 6.2 */
	    {"=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?=", "ab"},	/* folded */
	    {"=?UTF-8?Q?a?= b =?UTF-8?Q?c?=", "a b c"}, /* text in between stays */
	    {"(=?UTF-8?Q?a?=) b", "(a) b"},
	    {"=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=", "\xe2\x82\xac"}, /* character split over words */
	    {"=?UTF-8?B?w6l0w6k*?=", "=?UTF-8?B?w6l0w6k*?="},	   /* bad base64 stays as written */
	    {"=?UTF-8?B?w?=", "=?UTF-8?B?w?="},			   /* one sextet */
	    {"=?X-UNKNOWN?Q?abc?=", "=?X-UNKNOWN?Q?abc?="},	   /* unknown charset */
	    {"=?../../etc/x?Q?abc?=", "=?../../etc/x?Q?abc?="},	   /* no path to iconv */
	    {"=?UTF-8*en?Q?lang?=", "lang"},			   /* RFC 2231 language */
	    {"=?UTF-8?Q?bad=ZZ=?=", "bad=ZZ="},			   /* broken = kept */
	    {"=?UTF-8?Q?nul=00x?=", "nul\xef\xbf\xbdx"},
	    {"=?UTF-8?Q?=FF=C3?=", "\xef\xbf\xbd\xef\xbf\xbd"},	    /* invalid UTF-8 */
	    {"=?ISO-8859-1?Q?a?= =?UTF-8?Q?=C3=A9?=", "a\xc3\xa9"}, /* different charsets */
	    {"raw \xe9t\xc3\xa9", "raw \xef\xbf\xbdt\xc3\xa9"},	    /* 8-bit raw */
	    {"\xed\xa0\x80 \xc0\xaf",
	     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd"},
	    {"=?UTF-8?Q?a b?=", "=?UTF-8?Q?a b?="}, /* no space inside a word */
	    {"=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="},
	    {"=?", "=?"},
	    {"=?UTF-8?Q?", "=?UTF-8?Q?"},
	    {"=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=", "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88"},
	};
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = mp_hdr_decode(cases[i].in, strlen(cases[i].in));
		assert_non_null(s);
		if (strcmp(s, cases[i].out) != 0)
			fail_msg("case %zu: \"%s\" decoded to \"%s\"", i, cases[i].in, s);
		free(s);
	}
}

struct mbx_want {
	const char *display, *address, *domain;
};

static void
mailboxes_table(void **state)
{
	static const struct {
		const char *in;
		int rc;
		size_t count;
		struct mbx_want m[2];
	} cases[] = {
	    {"alice@example.org", 0, 1, {{NULL, "alice@example.org", "example.org"}}},
	    {"Alice <alice@Example.ORG.>", 0, 1, {{"Alice", "alice@Example.ORG.", "example.org"}}},
	    {"\"Doe, John\" <j@x.test>, b@y.test",
	     0,
	     2,
	     {{"Doe, John", "j@x.test", "x.test"}, {NULL, "b@y.test", "y.test"}}},
	    {"a@one.test, Bob <b@two.test>",
	     0,
	     2,
	     {{NULL, "a@one.test", "one.test"}, {"Bob", "b@two.test", "two.test"}}},
	    {"undisclosed-recipients:;", 0, 0, {{NULL, NULL, NULL}}},
	    {"Team: a@x.test, B <b@y.test>; c@z.test",
	     0,
	     3,
	     {{NULL, "a@x.test", "x.test"}, {"B", "b@y.test", "y.test"}}},
	    {"john (the man) @ (at) example . org (x)",
	     0,
	     1,
	     {{NULL, "john@example.org", "example.org"}}},
	    {"(c) Fred (nick) \"the\" Bloggs (x) <fred@b.test> (y)",
	     0,
	     1,
	     {{"Fred the Bloggs", "fred@b.test", "b.test"}}},
	    {"=?UTF-8?Q?J=C3=B6rg?= =?UTF-8?Q?_M?= <j@x.test>",
	     0,
	     1,
	     {{"J\xc3\xb6rg M", "j@x.test", "x.test"}}},
	    {"\"=?ISO-8859-1?Q?Ren=E9?=\" <r@x.test>",
	     0,
	     1,
	     {{"Ren\xc3\xa9", "r@x.test", "x.test"}}},
	    {"\"a\\\"b\" <\"q u\"@x.test>", 0, 1, {{"a\"b", "\"q u\"@x.test", "x.test"}}},
	    {"root", 0, 1, {{NULL, "root", NULL}}},
	    {"Local <postmaster>", 0, 1, {{"Local", "postmaster", NULL}}},
	    {"<>", 0, 1, {{NULL, "", NULL}}},
	    {"<@relay.test,@r2.test:u@x.test>", 0, 1, {{NULL, "u@x.test", "x.test"}}},
	    {"J. Smith <js@x.test>", 0, 1, {{"J. Smith", "js@x.test", "x.test"}}},
	    {"M\xc3\xbcller <m@b\xc3\xbc\x63her.example>",
	     0,
	     1,
	     {{"M\xc3\xbcller", "m@b\xc3\xbc\x63her.example", "b\xc3\xbc\x63her.example"}}},
	    {"u@[192.0.2.1]", 0, 1, {{NULL, "u@[192.0.2.1]", "[192.0.2.1]"}}},
	    {", a@x.test ,, ", 0, 1, {{NULL, "a@x.test", "x.test"}}},
	    {"a.b..c@x.test", 0, 1, {{NULL, "a.b..c@x.test", "x.test"}}},
	    {"", 0, 0, {{NULL, NULL, NULL}}},
	    {"John Doe", MP_EPARSE, 0, {{NULL, NULL, NULL}}},
	    {"a@x.test <b@y.test>", MP_EPARSE, 0, {{NULL, NULL, NULL}}},
	    {"<a@x.test", MP_EPARSE, 0, {{NULL, NULL, NULL}}},
	    {"a@", MP_EPARSE, 0, {{NULL, NULL, NULL}}},
	    {"@x.test", MP_EPARSE, 0, {{NULL, NULL, NULL}}},
	    {"\"unterminated <a@x.test>", MP_EPARSE, 0, {{NULL, NULL, NULL}}},
	    {"a@x.test (open comment", MP_EPARSE, 0, {{NULL, NULL, NULL}}},
	    {"a@x.test; b@y.test", MP_EPARSE, 0, {{NULL, NULL, NULL}}},
	    {"g1: g2: a@x.test;;", MP_EPARSE, 0, {{NULL, NULL, NULL}}},
	    {"a@x.test, b@y.test >", MP_EPARSE, 0, {{NULL, NULL, NULL}}},
	};
	struct mp_mailbox mb[2];
	struct mp_err err = {0};
	size_t i, j, count;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		count = 99;
		rc = mp_hdr_mailboxes(cases[i].in, strlen(cases[i].in), mb, 2, &count, &err);
		if (rc != cases[i].rc)
			fail_msg("case %zu \"%s\": rc %d (%s)", i, cases[i].in, rc, err.msg);
		assert_int_equal(count, cases[i].count);
		for (j = 0; j < count && j < 2; j++) {
			const struct mbx_want *w = &cases[i].m[j];

			if (w->display == NULL)
				assert_null(mb[j].display);
			else
				assert_string_equal(mb[j].display, w->display);
			assert_string_equal(mb[j].address, w->address);
			if (w->domain == NULL)
				assert_null(mb[j].domain);
			else
				assert_string_equal(mb[j].domain, w->domain);
			mp_mailbox_dispose(&mb[j]);
		}
	}
}

static void
mailboxes_count_beyond_max(void **state)
{
	static const char v[] = "a@x.test,\r\n b@y.test, C <c@z.test>";
	struct mp_mailbox mb[1];
	size_t count = 0;

	(void)state;
	assert_int_equal(mp_hdr_mailboxes(S(v), mb, 1, &count, NULL), 0);
	assert_int_equal(count, 3);
	assert_string_equal(mb[0].address, "a@x.test");
	mp_mailbox_dispose(&mb[0]);
	mp_mailbox_dispose(&mb[0]); /* idempotent */
	assert_int_equal(mp_hdr_mailboxes(S(v), NULL, 0, &count, NULL), 0);
	assert_int_equal(count, 3);
}

static void
msgid_table(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
	    {" <abc@example.org>", "<abc@example.org>"},
	    {"(comment)\r\n <a.b@c> (x)", "<a.b@c>"},
	    {"<a@b> <c@d>", "<a@b>"},
	    {"abc@example.org", NULL},
	    {"<>", NULL},
	    {"<a b@c>", NULL},
	    {"<abc@example.org", NULL},
	    {"", NULL},
	};
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = mp_hdr_msgid(cases[i].in, strlen(cases[i].in));
		if (cases[i].out == NULL)
			assert_null(s);
		else
			assert_string_equal(s, cases[i].out);
		free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_fields_and_folds),
	    cmocka_unit_test(parse_lf_and_no_final_crlf),
	    cmocka_unit_test(parse_junk_lines),
	    cmocka_unit_test(parse_nul_and_8bit_kept),
	    cmocka_unit_test(parse_bounds),
	    cmocka_unit_test(unfold_table),
	    cmocka_unit_test(decode_table),
	    cmocka_unit_test(mailboxes_table),
	    cmocka_unit_test(mailboxes_count_beyond_max),
	    cmocka_unit_test(msgid_table),
	};
	return cmocka_run_group_tests_name("hdr", tests, NULL, NULL);
}
