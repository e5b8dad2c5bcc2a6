/* test_received.c - Received and Received-SPF parsers, and the choice of the SPF hop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "received.h"

#define DATE "Thu, 26 Nov 2026 03:59:40 +0000"
#define NUL_CASE "from a\0b ([192.0.2.1]) by mx.example.org; " DATE

static void
expect_field(const char *cname, const char *field, const char *want, const char *got)
{
	if (want == NULL && got == NULL)
		return;
	if (want != NULL && got != NULL && strcmp(want, got) == 0)
		return;
	print_error("%s: %s: want \"%s\", got \"%s\"\n", cname, field,
		    want != NULL ? want : "(null)", got != NULL ? got : "(null)");
	fail();
}

/* ---- Received ---- */

struct rcase {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	int rc;
	const char *helo, *rdns, *ip, *by, *with, *id, *env, *for_addr, *date;
};

static const struct rcase rcases[] = {
	{ "postfix_tls",
	  "from smtp.relay.test (smtp.relay.test [192.0.2.2])\r\n"
	  "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n"
	  "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n"
	  "\t(No client certificate requested)\r\n"
	  "\tby mx.ontvanger.test (Postfix) with ESMTPS id B5D67A76B13\r\n"
	  "\tfor <alice@ontvanger.test>; " DATE " (UTC)",
	  0, MP_OK, "smtp.relay.test", "smtp.relay.test", "192.0.2.2", "mx.ontvanger.test",
	  "ESMTPS", "B5D67A76B13", NULL, "alice@ontvanger.test", DATE " (UTC)" },
	{ "postfix_unknown_rdns",
	  "from foo.example (unknown [192.0.2.9]) by mx.example.org (Postfix) with ESMTP id 4ABCD; " DATE,
	  0, MP_OK, "foo.example", NULL, "192.0.2.9", "mx.example.org", "ESMTP", "4ABCD", NULL, NULL,
	  DATE },
	{ "postfix_helo_mismatch",
	  "from helo.example (rdns.example [192.0.2.9]) by mx.example.org (Postfix) with ESMTP id 1; " DATE,
	  0, MP_OK, "helo.example", "rdns.example", "192.0.2.9", "mx.example.org", "ESMTP", "1", NULL,
	  NULL, DATE },
	{ "postfix_literal_helo",
	  "from [192.0.2.9] (unknown [192.0.2.9]) by mx.example.org (Postfix) with SMTP id 2; " DATE,
	  0, MP_OK, "[192.0.2.9]", NULL, "192.0.2.9", "mx.example.org", "SMTP", "2", NULL, NULL, DATE },
	{ "postfix_ipv6_literal",
	  "from relay.example (relay.example [IPv6:2001:DB8::25]) by mx.example.org (Postfix) with ESMTPS id 3; " DATE,
	  0, MP_OK, "relay.example", "relay.example", "2001:db8::25", "mx.example.org", "ESMTPS", "3",
	  NULL, NULL, DATE },
	{ "postfix_ipv6_long_form",
	  "from smtp.relay.example (smtp.relay.example [IPv6:2001:db8:0:0:0:0:0:25])\r\n"
	  "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n"
	  "\t(No client certificate requested)\r\n"
	  "\tby mx.example.org (Postfix) with ESMTPS id 4Nabc12345\r\n"
	  "\tfor <alice@example.org>; " DATE,
	  0, MP_OK, "smtp.relay.example", "smtp.relay.example", "2001:db8::25", "mx.example.org",
	  "ESMTPS", "4Nabc12345", NULL, "alice@example.org", DATE },
	{ "postfix_v4_mapped",
	  "from relay.example (relay.example [IPv6:::ffff:192.0.2.10]) by mx.example.org (Postfix) with ESMTP id 5; " DATE,
	  0, MP_OK, "relay.example", "relay.example", "192.0.2.10", "mx.example.org", "ESMTP", "5",
	  NULL, NULL, DATE },
	{ "postfix_localhost",
	  "from vm (localhost [127.0.0.1])\r\n\tby smtp.relay.test (Postfix) with ESMTP id 8A50BA76B10\r\n"
	  "\tfor <alice@ontvanger.test>; " DATE " (UTC)",
	  0, MP_OK, "vm", "localhost", "127.0.0.1", "smtp.relay.test", "ESMTP", "8A50BA76B10", NULL,
	  "alice@ontvanger.test", DATE " (UTC)" },
	{ "postfix_pickup",
	  "by mx.example.org (Postfix, from userid 1000)\r\n\tid 4AB12; " DATE,
	  0, MP_OK, NULL, NULL, NULL, "mx.example.org", NULL, "4AB12", NULL, NULL, DATE },
	{ "postfix_authenticated",
	  "from client.example (client.example [192.0.2.55]) (Authenticated sender: user@klant.test) "
	  "by smtp.relay.test (Postfix) with ESMTPSA id 1234; " DATE,
	  0, MP_OK, "client.example", "client.example", "192.0.2.55", "smtp.relay.test", "ESMTPSA",
	  "1234", NULL, NULL, DATE },
	{ "dovecot_lmtp",
	  "from mx.ontvanger.test ([192.0.2.1])\r\n\tby mx.ontvanger.test with LMTP\r\n"
	  "\tid 8HV7N6yuB2v1EAAAg+zDdQ\r\n\t(envelope-from <bounce@klant.test>)\r\n"
	  "\tfor <alice@ontvanger.test>; " DATE,
	  0, MP_OK, "mx.ontvanger.test", NULL, "192.0.2.1", "mx.ontvanger.test", "LMTP",
	  "8HV7N6yuB2v1EAAAg+zDdQ", "bounce@klant.test", "alice@ontvanger.test", DATE },
	{ "gmail_mx",
	  "from smtp.relay.example (smtp.relay.example. [192.0.2.10])\r\n"
	  "        by mx.google.com with ESMTPS id a1-20020a05600c.2026.11.26.03.59.40\r\n"
	  "        for <alice@gmail.com>\r\n"
	  "        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\r\n"
	  "        Thu, 26 Nov 2026 03:59:40 -0800 (PST)",
	  0, MP_OK, "smtp.relay.example", "smtp.relay.example", "192.0.2.10", "mx.google.com",
	  "ESMTPS", "a1-20020a05600c.2026.11.26.03.59.40", NULL, "alice@gmail.com",
	  "Thu, 26 Nov 2026 03:59:40 -0800 (PST)" },
	{ "gmail_internal",
	  "by 2002:a05:6000:1a8a:b0:33a:1234:5678 with SMTP id abc123;\r\n        " DATE,
	  0, MP_OK, NULL, NULL, NULL, "2002:a05:6000:1a8a:b0:33a:1234:5678", "SMTP", "abc123", NULL,
	  NULL, DATE },
	{ "microsoft_https",
	  "from AM0PR02MB1234.eurprd02.prod.outlook.com (2603:10a6:208:ee::12) by "
	  "DB9PR02MB5678.eurprd02.prod.outlook.com with HTTPS; " DATE,
	  0, MP_OK, "AM0PR02MB1234.eurprd02.prod.outlook.com", NULL, "2603:10a6:208:ee::12",
	  "DB9PR02MB5678.eurprd02.prod.outlook.com", "HTTPS", NULL, NULL, NULL, DATE },
	{ "microsoft_frontend",
	  "from AM6EUR05FT012.eop-eur05.prod.protection.outlook.com (2603:10a6:20b:2d8:cafe::a1) by "
	  "AM6P194CA0099.outlook.office365.com (2603:10a6:209:8f::40) with Microsoft SMTP Server "
	  "(version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7000.30 via "
	  "Frontend Transport; " DATE,
	  0, MP_OK, "AM6EUR05FT012.eop-eur05.prod.protection.outlook.com", NULL,
	  "2603:10a6:20b:2d8:cafe::a1", "AM6P194CA0099.outlook.office365.com", "Microsoft SMTP Server",
	  "15.20.7000.30", NULL, NULL, DATE },
	{ "microsoft_edge",
	  "from smtp.relay.example (192.0.2.10) by AM6EUR05FT012.mail.protection.outlook.com "
	  "(10.167.240.18) with Microsoft SMTP Server (version=TLS1_2, "
	  "cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7000.20 via Frontend Transport; " DATE,
	  0, MP_OK, "smtp.relay.example", NULL, "192.0.2.10",
	  "AM6EUR05FT012.mail.protection.outlook.com", "Microsoft SMTP Server", "15.20.7000.20", NULL,
	  NULL, DATE },
	{ "microsoft_mapi",
	  "from AM0PR02MB1234.eurprd02.prod.outlook.com ([fe80::1234:5678:9abc:def0]) by "
	  "AM0PR02MB1234.eurprd02.prod.outlook.com ([fe80::1234:5678:9abc:def0%5]) with mapi id "
	  "15.20.7000.025; " DATE,
	  0, MP_OK, "AM0PR02MB1234.eurprd02.prod.outlook.com", NULL, "fe80::1234:5678:9abc:def0",
	  "AM0PR02MB1234.eurprd02.prod.outlook.com", "mapi", "15.20.7000.025", NULL, NULL, DATE },
	{ "exim_no_rdns",
	  "from [192.0.2.10] (helo=relay.example) by mx.example.org with esmtps (TLS1.3) tls "
	  "TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <bounce@klant.nl>) id 1abc-000123-AB "
	  "for alice@example.org; " DATE,
	  0, MP_OK, "relay.example", NULL, "192.0.2.10", "mx.example.org", "esmtps", "1abc-000123-AB",
	  "bounce@klant.nl", "alice@example.org", DATE },
	{ "exim_rdns_port_null_sender",
	  "from mail.relay.example ([192.0.2.10]:51234 helo=relay.example) by mx.example.org with "
	  "esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <>) id "
	  "1abc-000124-AB for <bob@example.org>; " DATE,
	  0, MP_OK, "relay.example", "mail.relay.example", "192.0.2.10", "mx.example.org", "esmtps",
	  "1abc-000124-AB", "", "bob@example.org", DATE },
	{ "exim_ipv6",
	  "from relay.example ([2001:db8::25]) by mx.example.org with esmtp (Exim 4.96) "
	  "(envelope-from <b@klant.nl>) id 1xyz; " DATE,
	  0, MP_OK, "relay.example", NULL, "2001:db8::25", "mx.example.org", "esmtp", "1xyz",
	  "b@klant.nl", NULL, DATE },
	{ "sendmail",
	  "from relay.example (relay.example [192.0.2.10]) by mx.example.org (8.17.1/8.17.1) with "
	  "ESMTPS id 4ABC1234567890 (version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 "
	  "verify=NOT) for <alice@example.org>; " DATE,
	  0, MP_OK, "relay.example", "relay.example", "192.0.2.10", "mx.example.org", "ESMTPS",
	  "4ABC1234567890", NULL, "alice@example.org", DATE },
	{ "sendmail_may_be_forged",
	  "from helo.example (rdns.example [192.0.2.10] (may be forged)) by mx.example.org "
	  "(8.17.1/8.17.1) with ESMTP id 4ABC; " DATE,
	  0, MP_OK, "helo.example", "rdns.example", "192.0.2.10", "mx.example.org", "ESMTP", "4ABC",
	  NULL, NULL, DATE },
	{ "qmail_helo_comment",
	  "from unknown (HELO foo.example) (192.0.2.9) by mx.example.org with SMTP; "
	  "26 Nov 2026 03:59:40 -0000",
	  0, MP_OK, "foo.example", NULL, "192.0.2.9", "mx.example.org", "SMTP", NULL, NULL, NULL,
	  "26 Nov 2026 03:59:40 -0000" },
	{ "unknown_helo_bracketed_ip",
	  "from unknown (HELO foo) ([192.0.2.9]) by mx.example.org with SMTP; " DATE,
	  0, MP_OK, "foo", NULL, "192.0.2.9", "mx.example.org", "SMTP", NULL, NULL, NULL, DATE },
	{ "postfix_no_helo",
	  "from unknown (unknown [192.0.2.9]) by mx.example.org (Postfix) with SMTP id 6; " DATE,
	  0, MP_OK, NULL, NULL, "192.0.2.9", "mx.example.org", "SMTP", "6", NULL, NULL, DATE },
	{ "exim_port_and_helo",
	  "from [192.0.2.10] (port=51234 helo=relay.example) by mx.example.org with esmtps "
	  "(TLS1.3) tls TLS_AES_256_GCM_SHA384 (Exim 4.97) id 1rXyZ-000abc-2D; " DATE,
	  0, MP_OK, "relay.example", NULL, "192.0.2.10", "mx.example.org", "esmtps",
	  "1rXyZ-000abc-2D", NULL, NULL, DATE },
	{ "exchange_onprem",
	  "from EXCH01.corp.example.org (10.1.1.5) by EXCH02.corp.example.org (10.1.1.6) with "
	  "Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id "
	  "15.1.2507.6; " DATE,
	  0, MP_OK, "EXCH01.corp.example.org", NULL, "10.1.1.5", "EXCH02.corp.example.org",
	  "Microsoft SMTP Server", "15.1.2507.6", NULL, NULL, DATE },
	{ "yahoo_smtp",
	  "from smtp.relay.example (EHLO smtp.relay.example) (192.0.2.10)\r\n"
	  "  by mta4001.mail.gq1.yahoo.com with SMTPs; " DATE,
	  0, MP_OK, "smtp.relay.example", "smtp.relay.example", "192.0.2.10",
	  "mta4001.mail.gq1.yahoo.com", "SMTPs", NULL, NULL, NULL, DATE },
	{ "yahoo_http",
	  "from 192.0.2.10 by atlas.mail.gq1.yahoo.com with HTTP; " DATE,
	  0, MP_OK, NULL, NULL, "192.0.2.10", "atlas.mail.gq1.yahoo.com", "HTTP", NULL, NULL, NULL,
	  DATE },
	{ "cyrus_lmtpproxy",
	  "from mx1.messagingengine.com ([10.202.2.200])\r\n\tby compute1.internal (LMTPProxy); " DATE,
	  0, MP_OK, "mx1.messagingengine.com", NULL, "10.202.2.200", "compute1.internal", NULL, NULL,
	  NULL, NULL, DATE },
	{ "cyrus_lmtpa",
	  "from compute1.internal (compute1.nyi.internal [10.202.2.41])\r\n"
	  "\tby sloti1d1t01 (Cyrus 3.9.0) with LMTPA; " DATE,
	  0, MP_OK, "compute1.internal", "compute1.nyi.internal", "10.202.2.41", "sloti1d1t01",
	  "LMTPA", NULL, NULL, NULL, DATE },
	{ "fastmail_postfix_no_id",
	  "from mailout.example (mailout.example [192.0.2.10])\r\n"
	  "\t(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits))\r\n"
	  "\t(No client certificate requested)\r\n"
	  "\tby mx1.messagingengine.com (Postfix) with ESMTPS\r\n\tfor <alice@fastmail.test>; " DATE,
	  0, MP_OK, "mailout.example", "mailout.example", "192.0.2.10", "mx1.messagingengine.com",
	  "ESMTPS", NULL, NULL, "alice@fastmail.test", DATE },
	{ "keywords_upper_case",
	  "FROM relay.example ([192.0.2.10]) BY mx.example.org WITH ESMTP ID abc FOR <a@example.org>; " DATE,
	  0, MP_OK, "relay.example", NULL, "192.0.2.10", "mx.example.org", "ESMTP", "abc", NULL,
	  "a@example.org", DATE },
	{ "keyword_as_helo",
	  "from by (by.example [192.0.2.3]) by mx.example.org with SMTP; " DATE,
	  0, MP_OK, "by", "by.example", "192.0.2.3", "mx.example.org", "SMTP", NULL, NULL, NULL, DATE },
	{ "lf_folding_no_date",
	  "from relay.example\n ([192.0.2.10])\n\tby mx.example.org.",
	  0, MP_OK, "relay.example", NULL, "192.0.2.10", "mx.example.org", NULL, NULL, NULL, NULL,
	  NULL },
	{ "bad_literal",
	  "from [999.1.1.1] (unknown [999.1.1.1]) by mx.example.org; " DATE,
	  0, MP_OK, "[999.1.1.1]", NULL, NULL, "mx.example.org", NULL, NULL, NULL, NULL, DATE },
	{ "unterminated_comment",
	  "from relay.example (relay.example [192.0.2.10] by mx.example.org with ESMTP",
	  0, MP_OK, "relay.example", "relay.example", "192.0.2.10", NULL, NULL, NULL, NULL, NULL,
	  NULL },
	{ "unterminated_angle",
	  "from relay.example ([192.0.2.10]) by mx.example.org for <alice@example.org",
	  0, MP_OK, "relay.example", NULL, "192.0.2.10", "mx.example.org", NULL, NULL, NULL,
	  "alice@example.org", NULL },
	{ "embedded_nul", NUL_CASE, sizeof(NUL_CASE) - 1,
	  MP_OK, "a", NULL, "192.0.2.1", "mx.example.org", NULL, NULL, NULL, NULL, DATE },
	{ "empty", "", 0, MP_EPARSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "only_from", "from", 0, MP_EPARSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "only_whitespace", " \r\n\t ", 0, MP_EPARSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL },
	{ "only_semicolon", ";", 0, MP_EPARSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "only_date", "; " DATE, 0, MP_EPARSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL },
	{ "junk_bytes", "\x01\x02\xff\xfe((( ]]] <<<", 0, MP_EPARSE, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL, NULL },
};

static void
received_table(void **state)
{
	struct mp_received r;
	struct mp_err err;
	size_t i, len;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(rcases) / sizeof(rcases[0]); i++) {
		const struct rcase *c = &rcases[i];

		len = c->len != 0 ? c->len : strlen(c->in);
		mp_err_clear(&err);
		rc = mp_received_parse(c->in, len, &r, &err);
		if (rc != c->rc) {
			print_error("%s: rc %d, want %d (%s)\n", c->name, rc, c->rc, err.msg);
			fail();
		}
		if (rc != MP_OK)
			assert_true(err.msg[0] != '\0');
		expect_field(c->name, "from_helo", c->helo, r.from_helo);
		expect_field(c->name, "from_rdns", c->rdns, r.from_rdns);
		expect_field(c->name, "from_ip", c->ip, r.from_ip);
		expect_field(c->name, "by_host", c->by, r.by_host);
		expect_field(c->name, "with", c->with, r.with);
		expect_field(c->name, "id", c->id, r.id);
		expect_field(c->name, "envelope_from", c->env, r.envelope_from);
		expect_field(c->name, "for_addr", c->for_addr, r.for_addr);
		expect_field(c->name, "date", c->date, r.date);
		mp_received_dispose(&r);
	}
}

static void
received_too_big(void **state)
{
	struct mp_received r;
	struct mp_err err;
	size_t n = MP_RECEIVED_MAX + 1;
	char *big = malloc(n);

	(void)state;
	assert_non_null(big);
	memset(big, 'a', n);
	memcpy(big, "from x ", 7);
	assert_int_equal(mp_received_parse(big, n, &r, &err), MP_ETOOBIG);
	assert_int_equal(err.code, MP_ETOOBIG);
	assert_null(r.from_helo);
	/* exactly at the bound it is accepted */
	assert_int_equal(mp_received_parse(big, n - 1, &r, &err), MP_OK);
	assert_string_equal(r.from_helo, "x");
	mp_received_dispose(&r);
	free(big);
}

static void
received_deep_nesting(void **state)
{
	struct mp_received r;
	struct mp_err err;
	size_t n = MP_RECEIVED_MAX, i;
	char *s = malloc(n);

	(void)state;
	assert_non_null(s);
	memcpy(s, "from deep.example ", 18);
	for (i = 18; i < n; i++)
		s[i] = i % 3 == 0 ? '\\' : '(';
	assert_int_equal(mp_received_parse(s, n, &r, &err), MP_OK);
	assert_string_equal(r.from_helo, "deep.example");
	assert_null(r.by_host);
	mp_received_dispose(&r);
	/* the same depth, closed, then the rest of the field */
	for (i = 18; i < n / 2 - 100; i++)
		s[i] = '(';
	for (; i < n; i++)
		s[i] = ')';
	memcpy(s + n - 20, " by mx.example.org; ", 20);
	assert_int_equal(mp_received_parse(s, n, &r, &err), MP_OK);
	assert_string_equal(r.from_helo, "deep.example");
	assert_string_equal(r.by_host, "mx.example.org");
	mp_received_dispose(&r);
	free(s);
}

/* Every prefix of a real field, and seeded random junk: no crash, no leak, sane codes. */
static void
received_truncations_and_junk(void **state)
{
	static const char full[] =
		"from smtp.relay.test (smtp.relay.test [IPv6:2001:db8::25]) (using TLSv1.3 with "
		"cipher X (256/256 bits)) by mx.ontvanger.test (Postfix) with ESMTPS id B5D "
		"(envelope-from <b@klant.test>) for <alice@ontvanger.test>; " DATE;
	static const char alphabet[] = "()<>[];\"\\ \t\r\n:.=@abfromybywithidfor0129IPv6";
	struct mp_received r;
	struct mp_err err;
	char junk[300];
	size_t i, j, len;
	unsigned seed = 12345;
	int rc, ok = 0;

	(void)state;
	for (i = 0; i <= sizeof(full) - 1; i++) {
		rc = mp_received_parse(full, i, &r, &err);
		assert_true(rc == MP_OK || rc == MP_EPARSE);
		ok += rc == MP_OK;
		mp_received_dispose(&r);
	}
	assert_true(ok > 0);
	for (i = 0; i < 3000; i++) {
		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % sizeof(junk);
		for (j = 0; j < len; j++) {
			seed = seed * 1103515245u + 12345u;
			junk[j] = (seed >> 16) % 7 == 0 ? (char)((seed >> 8) & 0xff) :
				  alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		rc = mp_received_parse(junk, len, &r, &err);
		assert_true(rc == MP_OK || rc == MP_EPARSE);
		mp_received_dispose(&r);
	}
}

static void
received_bad_args(void **state)
{
	struct mp_received r;
	struct mp_received_spf s;
	struct mp_err err;

	(void)state;
	assert_int_equal(mp_received_parse(NULL, 3, &r, &err), MP_EINVAL);
	assert_int_equal(err.code, MP_EINVAL);
	assert_null(r.by_host);
	assert_int_equal(mp_received_parse("by x", 4, NULL, &err), MP_EINVAL);
	assert_int_equal(mp_received_spf_parse("pass", 4, NULL, &err), MP_EINVAL);
	assert_int_equal(mp_received_parse(NULL, 0, &r, NULL), MP_EPARSE);
	assert_int_equal(mp_received_spf_parse(NULL, 3, &s, &err), MP_EINVAL);
	assert_int_equal(mp_received_spf_parse(NULL, 0, &s, NULL), MP_EPARSE);
	mp_received_dispose(NULL);
	mp_received_spf_dispose(NULL);
}

/* ---- Received-SPF ---- */

struct scase {
	const char *name;
	const char *in;
	int rc;
	const char *result, *ip, *helo, *env, *receiver, *identity, *mechanism, *problem;
};

static const struct scase scases[] = {
	{ "policyd_pass_trailing_space",
	  "Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.10; helo=smtp.relay.test; "
	  "envelope-from=bounce@klant.test; receiver=<UNKNOWN> ",
	  MP_OK, "pass", "192.0.2.10", "smtp.relay.test", "bounce@klant.test", "<UNKNOWN>",
	  "mailfrom", NULL, NULL },
	{ "policyd_fail",
	  "Fail (mailfrom) identity=mailfrom; client-ip=127.0.0.3; helo=smtp.rogue.test; "
	  "envelope-from=bounce@klant.test; receiver=ontvanger.test ",
	  MP_OK, "fail", "127.0.0.3", "smtp.rogue.test", "bounce@klant.test", "ontvanger.test",
	  "mailfrom", NULL, NULL },
	{ "pyspf_milter_folded",
	  "Softfail (mailfrom) identity=mailfrom; \r\n   client-ip=192.0.2.77; \r\n"
	  "   helo=smtp.relay.test; envelope-from=bounce@klant.test; \r\n   receiver=mx.ontvanger.test",
	  MP_OK, "softfail", "192.0.2.77", "smtp.relay.test", "bounce@klant.test",
	  "mx.ontvanger.test", "mailfrom", NULL, NULL },
	{ "gmail",
	  "pass (google.com: domain of bounce@klant.nl designates 192.0.2.10 as permitted sender) "
	  "client-ip=192.0.2.10;",
	  MP_OK, "pass", "192.0.2.10", NULL, "bounce@klant.nl", NULL, NULL, NULL, NULL },
	{ "gmail_ip_only_in_comment",
	  "pass (google.com: domain of bounce@klant.nl designates 2001:DB8::25 as permitted sender)",
	  MP_OK, "pass", "2001:db8::25", NULL, "bounce@klant.nl", NULL, NULL, NULL, NULL },
	{ "key_wins_over_comment",
	  "pass (google.com: domain of x@klant.nl designates 192.0.2.1 as permitted sender) "
	  "client-ip=192.0.2.2; envelope-from=y@klant.nl",
	  MP_OK, "pass", "192.0.2.2", NULL, "y@klant.nl", NULL, NULL, NULL, NULL },
	{ "microsoft_pass",
	  "Pass (protection.outlook.com: domain of klant.nl designates 192.0.2.10 as permitted "
	  "sender) receiver=protection.outlook.com; client-ip=192.0.2.10; helo=smtp.relay.example; pr=C",
	  MP_OK, "pass", "192.0.2.10", "smtp.relay.example", NULL, "protection.outlook.com", NULL,
	  NULL, NULL },
	{ "microsoft_fail",
	  "Fail (protection.outlook.com: domain of klant.nl does not designate 203.0.113.7 as "
	  "permitted sender) receiver=protection.outlook.com; client-ip=203.0.113.7; helo=rogue.example;",
	  MP_OK, "fail", "203.0.113.7", "rogue.example", NULL, "protection.outlook.com", NULL, NULL,
	  NULL },
	{ "microsoft_none",
	  "None (protection.outlook.com: klant.nl does not designate permitted sender hosts)",
	  MP_OK, "none", NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "libspf2",
	  "pass (mx.example.org: domain of bounce@klant.nl designates 192.0.2.10 as permitted "
	  "sender) client-ip=192.0.2.10; envelope-from=\"bounce@klant.nl\"; helo=relay.example; "
	  "receiver=mx.example.org; mechanism=ip4:192.0.2.0/24; identity=mailfrom",
	  MP_OK, "pass", "192.0.2.10", "relay.example", "bounce@klant.nl", "mx.example.org",
	  "mailfrom", "ip4:192.0.2.0/24", NULL },
	{ "nested_comment_quoted_pair",
	  "SoftFail (example.org: transitioning domain of klant.nl does not designate 192.0.2.99 as "
	  "permitted sender (mechanism '~all' matched)) receiver=mx.example.org; identity=mailfrom; "
	  "envelope-from=\"b\\\"x@klant.nl\"; helo=relay.example; client-ip=192.0.2.99",
	  MP_OK, "softfail", "192.0.2.99", "relay.example", "b\"x@klant.nl", "mx.example.org",
	  "mailfrom", NULL, NULL },
	{ "cfws_around_equals",
	  "  (leading comment) pass client-ip = 192.0.2.10 ; helo =(c) relay.example",
	  MP_OK, "pass", "192.0.2.10", "relay.example", NULL, NULL, NULL, NULL, NULL },
	{ "permerror_problem",
	  "PermError (x) problem=\"include loop\"; identity=mailfrom",
	  MP_OK, "permerror", NULL, NULL, NULL, NULL, "mailfrom", NULL, "include loop" },
	{ "legacy_error", "error (DNS timeout) helo=relay.example", MP_OK, "temperror", NULL,
	  "relay.example", NULL, NULL, NULL, NULL, NULL },
	{ "legacy_unknown", "unknown", MP_OK, "permerror", NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "result_touching_comment", "Neutral(mailfrom)identity=mailfrom", MP_OK, "neutral", NULL,
	  NULL, NULL, NULL, "mailfrom", NULL, NULL },
	{ "policy_result", "policy client-ip=192.0.2.1", MP_OK, "policy", "192.0.2.1", NULL, NULL,
	  NULL, NULL, NULL, NULL },
	{ "invalid_client_ip", "pass client-ip=999.0.0.1; helo=x", MP_OK, "pass", NULL, "x", NULL,
	  NULL, NULL, NULL, NULL },
	{ "duplicate_keys", "pass client-ip=192.0.2.1; client-ip=192.0.2.2", MP_OK, "pass",
	  "192.0.2.1", NULL, NULL, NULL, NULL, NULL, NULL },
	{ "junk_between_pairs", "pass junk =; <x> helo=relay.example ;; (", MP_OK, "pass", NULL,
	  "relay.example", NULL, NULL, NULL, NULL, NULL },
	{ "unterminated_quote", "pass envelope-from=\"abc", MP_OK, "pass", NULL, NULL, "abc", NULL,
	  NULL, NULL, NULL },
	{ "empty", "", MP_EPARSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "unknown_result", "maybe (x) client-ip=192.0.2.1", MP_EPARSE, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL },
	{ "result_prefix_only", "passed", MP_EPARSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "result_glued", "pass=1", MP_EPARSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "only_comment", "(pass)", MP_EPARSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};

static void
spf_table(void **state)
{
	struct mp_received_spf r;
	struct mp_err err;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(scases) / sizeof(scases[0]); i++) {
		const struct scase *c = &scases[i];

		mp_err_clear(&err);
		rc = mp_received_spf_parse(c->in, strlen(c->in), &r, &err);
		if (rc != c->rc) {
			print_error("%s: rc %d, want %d (%s)\n", c->name, rc, c->rc, err.msg);
			fail();
		}
		if (rc != MP_OK)
			assert_true(err.msg[0] != '\0');
		expect_field(c->name, "result", c->result, r.result);
		expect_field(c->name, "client_ip", c->ip, r.client_ip);
		expect_field(c->name, "helo", c->helo, r.helo);
		expect_field(c->name, "envelope_from", c->env, r.envelope_from);
		expect_field(c->name, "receiver", c->receiver, r.receiver);
		expect_field(c->name, "identity", c->identity, r.identity);
		expect_field(c->name, "mechanism", c->mechanism, r.mechanism);
		expect_field(c->name, "problem", c->problem, r.problem);
		mp_received_spf_dispose(&r);
	}
}

static void
spf_too_big_and_junk(void **state)
{
	struct mp_received_spf r;
	struct mp_err err;
	size_t n = MP_RECEIVED_MAX + 1, i, j, len;
	char *big = malloc(n), junk[200];
	unsigned seed = 777;
	int rc;

	(void)state;
	assert_non_null(big);
	memset(big, ';', n);
	memcpy(big, "pass ", 5);
	assert_int_equal(mp_received_spf_parse(big, n, &r, &err), MP_ETOOBIG);
	assert_int_equal(mp_received_spf_parse(big, n - 1, &r, &err), MP_OK);
	assert_string_equal(r.result, "pass");
	mp_received_spf_dispose(&r);
	free(big);
	for (i = 0; i < 3000; i++) {
		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % sizeof(junk);
		memcpy(junk, "fail ", len < 5 ? len : 5);
		for (j = 5; j < len; j++) {
			seed = seed * 1103515245u + 12345u;
			junk[j] = "()\"\\=; \tclient-ip=helo1.2:"[(seed >> 16) % 27];
		}
		rc = mp_received_spf_parse(junk, len, &r, &err);
		assert_true(rc == MP_OK || rc == MP_EPARSE);
		mp_received_spf_dispose(&r);
	}
}

/* ---- the hop that handed the message over ---- */

struct trust {
	const char *const *patterns;
	size_t n;
};

/* "name" matches itself, ".domain" every host strictly under domain (as --authserv-id). */
static bool
test_trust(const char *host, void *arg)
{
	const struct trust *t = arg;
	size_t i, hn = strlen(host), pn;

	for (i = 0; i < t->n; i++) {
		pn = strlen(t->patterns[i]);
		if (t->patterns[i][0] == '.') {
			if (hn > pn && strcasecmp(host + hn - pn, t->patterns[i]) == 0)
				return true;
		} else if (strcasecmp(host, t->patterns[i]) == 0) {
			return true;
		}
	}
	return false;
}

static void
parse_chain(const char *const *fields, size_t n, struct mp_received *hops)
{
	struct mp_err err;
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(mp_received_parse(fields[i], strlen(fields[i]), &hops[i], &err),
				 MP_OK);
}

static void
dispose_chain(struct mp_received *hops, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mp_received_dispose(&hops[i]);
}

#define MAX_HOPS 6

struct pcase {
	const char *name;
	const char *fields[MAX_HOPS]; /* top to bottom, NULL-terminated */
	const char *patterns[3];      /* NULL-terminated; none at all: default trust */
	int rc;
	size_t index;
	const char *ip, *helo;
};

static const struct pcase pcases[] = {
	{ "postfix_mx_dovecot_lmtp",
	  { "from mx.ontvanger.test ([192.0.2.1]) by mx.ontvanger.test with LMTP id 8HV7N6yuB2v1EAAAg+zDdQ "
	    "(envelope-from <bounce@klant.test>) for <alice@ontvanger.test>; " DATE,
	    "from smtp.relay.test (smtp.relay.test [192.0.2.2]) (using TLSv1.3 with cipher X "
	    "(256/256 bits)) (No client certificate requested) by mx.ontvanger.test (Postfix) with "
	    "ESMTPS id B5D67A76B13 for <alice@ontvanger.test>; " DATE " (UTC)",
	    "from vm (localhost [127.0.0.1]) by smtp.relay.test (Postfix) with ESMTP id 8A50BA76B10 "
	    "for <alice@ontvanger.test>; " DATE " (UTC)",
	    NULL },
	  { "mx.ontvanger.test", NULL }, MP_OK, 1, "192.0.2.2", "smtp.relay.test" },
	{ "lab_loopback_fallback",
	  { "from mx.ontvanger.test ([127.0.0.1]) by mx.ontvanger.test with LMTP id 8HV7 "
	    "(envelope-from <bounce@klant.test>) for <alice@ontvanger.test>; " DATE,
	    "from smtp.relay.test (smtp.relay.test [127.0.0.2]) by mx.ontvanger.test (Postfix) with "
	    "ESMTPS id B5D67A76B13 for <alice@ontvanger.test>; " DATE,
	    "from vm (localhost [127.0.0.1]) by smtp.relay.test (Postfix) with ESMTP id 8A50BA76B10; " DATE,
	    NULL },
	  { "mx.ontvanger.test", NULL }, MP_OK, 1, "127.0.0.2", "smtp.relay.test" },
	{ "gmail_internal_hops",
	  { "by 2002:a05:6000:1a8a:b0:33a:1234:5678 with SMTP id abc; " DATE,
	    "by 2002:a17:907:7b8b:b0:a9a:1111:2222 with SMTP id def; " DATE,
	    "from smtp.relay.example (smtp.relay.example. [192.0.2.10]) by mx.google.com with ESMTPS "
	    "id a1-20020a05600c for <alice@gmail.com> (version=TLS1_3 cipher=X bits=256/256); " DATE,
	    "from client.klant.nl (client.klant.nl [198.51.100.7]) by smtp.relay.example (Postfix) "
	    "with ESMTPSA id 77; " DATE,
	    NULL },
	  { "mx.google.com", NULL }, MP_OK, 2, "192.0.2.10", "smtp.relay.example" },
	{ "gmail_default_trust",
	  { "by 2002:a05:6000:1a8a:b0:33a:1234:5678 with SMTP id abc; " DATE,
	    "from smtp.relay.example (smtp.relay.example. [192.0.2.10]) by mx.google.com with ESMTPS "
	    "id a1; " DATE,
	    "from client.klant.nl (client.klant.nl [198.51.100.7]) by smtp.relay.example (Postfix) "
	    "with ESMTPSA id 77; " DATE,
	    NULL },
	  { NULL }, MP_OK, 1, "192.0.2.10", "smtp.relay.example" },
	{ "microsoft365_chain",
	  { "from AM0PR02MB1234.eurprd02.prod.outlook.com (2603:10a6:208:ee::12) by "
	    "DB9PR02MB5678.eurprd02.prod.outlook.com with HTTPS; " DATE,
	    "from AM0PR02MB1234.eurprd02.prod.outlook.com ([fe80::1234:5678:9abc:def0]) by "
	    "AM0PR02MB1234.eurprd02.prod.outlook.com ([fe80::1234:5678:9abc:def0%5]) with mapi id "
	    "15.20.7000.025; " DATE,
	    "from AM6EUR05FT012.eop-eur05.prod.protection.outlook.com (2603:10a6:20b:2d8:cafe::a1) "
	    "by AM6P194CA0099.outlook.office365.com (2603:10a6:209:8f::40) with Microsoft SMTP Server "
	    "(version=TLS1_2, cipher=X) id 15.20.7000.30 via Frontend Transport; " DATE,
	    "from smtp.relay.example (192.0.2.10) by AM6EUR05FT012.mail.protection.outlook.com "
	    "(10.167.240.18) with Microsoft SMTP Server (version=TLS1_2, cipher=X) id 15.20.7000.20 "
	    "via Frontend Transport; " DATE,
	    "from client.klant.nl (client.klant.nl [198.51.100.7]) by smtp.relay.example (Postfix) "
	    "with ESMTPSA id 77; " DATE,
	    NULL },
	  { ".protection.outlook.com", NULL }, MP_OK, 3, "192.0.2.10", "smtp.relay.example" },
	{ "microsoft365_default_trust",
	  { "from AM0PR02MB1234.eurprd02.prod.outlook.com (2603:10a6:208:ee::12) by "
	    "DB9PR02MB5678.eurprd02.prod.outlook.com with HTTPS; " DATE,
	    "from AM6EUR05FT012.eop-eur05.prod.protection.outlook.com (2603:10a6:20b:2d8:cafe::a1) "
	    "by AM6P194CA0099.outlook.office365.com (2603:10a6:209:8f::40) with Microsoft SMTP Server "
	    "id 15.20.7000.30 via Frontend Transport; " DATE,
	    "from smtp.relay.example (192.0.2.10) by AM6EUR05FT012.mail.protection.outlook.com "
	    "(10.167.240.18) with Microsoft SMTP Server id 15.20.7000.20 via Frontend Transport; " DATE,
	    NULL },
	  { NULL }, MP_OK, 2, "192.0.2.10", "smtp.relay.example" },
	{ "microsoft_forged_internal_helo",
	  { "from AM6EUR05FT999.eop-eur05.prod.protection.outlook.com (203.0.113.5) by "
	    "AM6EUR05FT012.mail.protection.outlook.com (10.167.240.18) with Microsoft SMTP Server "
	    "id 15.20.7000.20 via Frontend Transport; " DATE,
	    "from smtp.relay.example (192.0.2.10) by AM6EUR05FT012.mail.protection.outlook.com "
	    "(10.167.240.18) with Microsoft SMTP Server id 15.20.7000.20; " DATE,
	    NULL },
	  { ".protection.outlook.com", NULL }, MP_OK, 0, "203.0.113.5",
	  "AM6EUR05FT999.eop-eur05.prod.protection.outlook.com" },
	{ "no_trusted_host",
	  { "from smtp.relay.test (smtp.relay.test [192.0.2.2]) by mx.ontvanger.test (Postfix) "
	    "with ESMTPS id B5D; " DATE,
	    NULL },
	  { "mx.elsewhere.test", ".other.test", NULL }, MP_ENOTFOUND, 0, NULL, NULL },
	{ "chain_broken_above_trusted",
	  { "from relay.forwarder.test (relay.forwarder.test [192.0.2.50]) by mx.elsewhere.test "
	    "(Postfix) with ESMTP id 1; " DATE,
	    "from smtp.relay.test (smtp.relay.test [192.0.2.2]) by mx.ontvanger.test (Postfix) "
	    "with ESMTPS id 2; " DATE,
	    NULL },
	  { ".ontvanger.test", NULL }, MP_ENOTFOUND, 0, NULL, NULL },
	{ "forged_helo_public_ip",
	  { "from mx.ontvanger.test (unknown [203.0.113.5]) by mx.ontvanger.test (Postfix) with "
	    "ESMTP id 3; " DATE,
	    "from smtp.relay.test (smtp.relay.test [192.0.2.2]) by mx.ontvanger.test (Postfix) "
	    "with ESMTPS id 2; " DATE,
	    NULL },
	  { ".ontvanger.test", NULL }, MP_OK, 0, "203.0.113.5", "mx.ontvanger.test" },
	{ "internal_relay_by_name",
	  { "from mx-in.example.org (mx-in.example.org [10.0.0.5]) by store.example.org (Postfix) "
	    "with ESMTP id 1; " DATE,
	    "from relay.klant.nl (relay.klant.nl [192.0.2.10]) by mx-in.example.org (Postfix) with "
	    "ESMTPS id 2; " DATE,
	    NULL },
	  { ".example.org", NULL }, MP_OK, 1, "192.0.2.10", "relay.klant.nl" },
	{ "internal_relay_by_private_address",
	  { "from gw.corp (gw.corp [10.0.0.5]) by store.example.org (Postfix) with ESMTP id 1; " DATE,
	    "from relay.klant.nl (relay.klant.nl [192.0.2.10]) by gw.corp with ESMTPS id 2; " DATE,
	    NULL },
	  { "store.example.org", NULL }, MP_OK, 1, "192.0.2.10", "relay.klant.nl" },
	{ "amavis_reinjection",
	  { "from localhost (localhost [127.0.0.1]) by mail.example.org (Postfix) with ESMTP id A; " DATE,
	    "from mail.example.org ([127.0.0.1]) by localhost (mail.example.org [127.0.0.1]) "
	    "(amavisd-new, port 10024) with ESMTP id B for <alice@example.org>; " DATE,
	    "from relay.klant.nl (relay.klant.nl [192.0.2.10]) by mail.example.org (Postfix) with "
	    "ESMTPS id C; " DATE,
	    NULL },
	  { "mail.example.org", NULL }, MP_OK, 2, "192.0.2.10", "relay.klant.nl" },
	{ "ipv6_client",
	  { "from relay.klant.nl (relay.klant.nl [IPv6:2001:db8::25]) by mx.example.org (Postfix) "
	    "with ESMTPS id C; " DATE,
	    NULL },
	  { "mx.example.org", NULL }, MP_OK, 0, "2001:db8::25", "relay.klant.nl" },
	{ "no_from_address_ends_trust",
	  { "from relay.example by mx.example.org with ESMTP id 1; " DATE,
	    "from relay.klant.nl (relay.klant.nl [192.0.2.10]) by relay.example with ESMTPS id 2; " DATE,
	    NULL },
	  { "mx.example.org", NULL }, MP_ENOTFOUND, 0, NULL, NULL },
	{ "default_trust_only_ip_hosts",
	  { "by 2002:a05:6000:1a8a:b0:33a:1234:5678 with SMTP id abc; " DATE, NULL },
	  { NULL }, MP_ENOTFOUND, 0, NULL, NULL },
};

static void
pick_table(void **state)
{
	struct mp_received hops[MAX_HOPS];
	struct trust tr;
	size_t i, n, idx;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		const struct pcase *c = &pcases[i];

		for (n = 0; n < MAX_HOPS && c->fields[n] != NULL; n++)
			;
		parse_chain(c->fields, n, hops);
		for (tr.n = 0; c->patterns[tr.n] != NULL; tr.n++)
			;
		tr.patterns = c->patterns;
		idx = 99;
		rc = mp_received_pick(hops, n, tr.n > 0 ? test_trust : NULL, &tr, &idx);
		if (rc != c->rc || (rc == MP_OK && idx != c->index)) {
			print_error("%s: rc %d index %zu, want rc %d index %zu\n", c->name, rc, idx,
				    c->rc, c->index);
			fail();
		}
		if (rc == MP_OK) {
			expect_field(c->name, "from_ip", c->ip, hops[idx].from_ip);
			expect_field(c->name, "from_helo", c->helo, hops[idx].from_helo);
		}
		dispose_chain(hops, n);
	}
}

static void
pick_bad_args_and_envelope(void **state)
{
	static const char *const chain[] = {
		"from mx.ontvanger.test ([192.0.2.1]) by mx.ontvanger.test with LMTP id 8HV7 "
		"(envelope-from <bounce@klant.test>) for <alice@ontvanger.test>; " DATE,
		"from smtp.relay.test (smtp.relay.test [192.0.2.2]) by mx.ontvanger.test (Postfix) "
		"with ESMTPS id B5D; " DATE,
		"from vm (localhost [127.0.0.1]) by smtp.relay.test with ESMTP "
		"(envelope-from <other@klant.test>) id 8A5; " DATE,
	};
	struct mp_received hops[3];
	size_t idx = 0;

	(void)state;
	assert_int_equal(mp_received_pick(NULL, 0, NULL, NULL, &idx), MP_ENOTFOUND);
	assert_int_equal(mp_received_pick(NULL, 2, NULL, NULL, &idx), MP_EINVAL);
	parse_chain(chain, 3, hops);
	assert_int_equal(mp_received_pick(hops, 3, NULL, NULL, NULL), MP_EINVAL);
	/* default trust: ontvanger.test, from the topmost by-host */
	assert_int_equal(mp_received_pick(hops, 3, NULL, NULL, &idx), MP_OK);
	assert_int_equal(idx, 1);
	assert_string_equal(mp_received_envelope_from(hops, 3, idx), "bounce@klant.test");
	/* a field below the picked hop is not the organisation's word */
	mp_received_dispose(&hops[0]);
	assert_null(mp_received_envelope_from(hops, 3, 1));
	assert_string_equal(mp_received_envelope_from(hops, 3, 2), "other@klant.test");
	assert_null(mp_received_envelope_from(NULL, 0, 0));
	dispose_chain(hops, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(received_table),
		cmocka_unit_test(received_too_big),
		cmocka_unit_test(received_deep_nesting),
		cmocka_unit_test(received_truncations_and_junk),
		cmocka_unit_test(received_bad_args),
		cmocka_unit_test(spf_table),
		cmocka_unit_test(spf_too_big_and_junk),
		cmocka_unit_test(pick_table),
		cmocka_unit_test(pick_bad_args_and_envelope),
	};
	return cmocka_run_group_tests_name("received", tests, NULL, NULL);
}
