/* test_spamsig.c - provider spam verdicts: parsers, which header counts, placement. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hdr.h"
#include "report.h"
#include "spamsig.h"

#define FF_NSPM                                                                                    \
	"CIP:192.0.2.25;CTRY:NL;LANG:nl;SCL:1;SRV:;IPV:NLI;SFV:NSPM;H:smtp.relay.test;"            \
	"PTR:smtp.relay.test;CAT:NONE;SFS:(13230040)(4636009)(69100299015);DIR:INB;"

static void
forefront_parse_table(void **state)
{
	static const struct {
		const char *v;
		int rc;
		const char *sfv, *cat;
		int scl;
		bool spam;
	} cases[] = {
	    {FF_NSPM, 0, "NSPM", "NONE", 1, false},
	    {"CIP:192.0.2.25;SCL:5;SFV:SPM;CAT:SPM;DIR:INB;", 0, "SPM", "SPM", 5, true},
	    {"SFV:SKS;SCL:9", 0, "SKS", "", 9, true},
	    {"SFV:BLK;SCL:-1;", 0, "BLK", "", -1, true},
	    {"SFV:SFE;SCL:-1;", 0, "SFE", "", -1, false},
	    {"SFV:SKA;SCL:6;", 0, "SKA", "", 6, false},
	    {"SFV:NSPM;SCL:6;", 0, "NSPM", "", 6, true},
	    {"scl:7; sfv:spm ;", 0, "SPM", "", 7, true},
	    {"CIP:192.0.2.25;\r\n SCL:1;SFV:NSPM", 0, "NSPM", "", 1, false},
	    {"SCL:5", 0, "", "", 5, true},
	    {"SCL:4;CAT:BULK", 0, "", "BULK", 4, false},
	    /* hostile or odd values: left unknown, never guessed */
	    {"SCL:10;SFV:NSPM", 0, "NSPM", "", MP_SCL_UNKNOWN, false},
	    {"SCL:-2;SFV:SP<M>", 0, "", "", MP_SCL_UNKNOWN, false},
	    {"SCL:5x;SFV:TOOLONGWORD", 0, "", "", MP_SCL_UNKNOWN, false},
	    {"SFV:", 0, "", "", MP_SCL_UNKNOWN, false},
	    {"", MP_EPARSE, "", "", MP_SCL_UNKNOWN, false},
	    {";;;", MP_EPARSE, "", "", MP_SCL_UNKNOWN, false},
	    {"no pairs here", MP_EPARSE, "", "", MP_SCL_UNKNOWN, false},
	    {":SPM;:5", MP_EPARSE, "", "", MP_SCL_UNKNOWN, false},
	};
	struct mp_forefront f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = mp_forefront_parse(cases[i].v, strlen(cases[i].v), &f);

		if (rc != cases[i].rc || strcmp(f.sfv, cases[i].sfv) != 0 ||
		    strcmp(f.cat, cases[i].cat) != 0 || f.scl != cases[i].scl ||
		    mp_forefront_spam(f.sfv[0] != '\0' ? f.sfv : NULL, f.scl) != cases[i].spam)
			fail_msg("case %zu '%s': rc %d sfv '%s' cat '%s' scl %d", i, cases[i].v, rc,
				 f.sfv, f.cat, f.scl);
	}
}

static void
forefront_hostile(void **state)
{
	struct mp_forefront f;
	char *big = malloc(MP_SPAMSIG_MAX + 2);
	const char nul[] = "SFV:SPM\0;SCL:5;";

	(void)state;
	assert_non_null(big);
	memset(big, ';', MP_SPAMSIG_MAX + 1);
	assert_int_equal(mp_forefront_parse(big, MP_SPAMSIG_MAX + 1, &f), MP_ETOOBIG);
	memset(big, 'A', MP_SPAMSIG_MAX);
	assert_int_equal(mp_forefront_parse(big, MP_SPAMSIG_MAX, &f), MP_EPARSE);
	free(big);
	/* A NUL inside a value makes that value unusable, not the rest. */
	assert_int_equal(mp_forefront_parse(nul, sizeof(nul) - 1, &f), 0);
	assert_string_equal(f.sfv, "");
	assert_int_equal(f.scl, 5);
}

static void
levels(void **state)
{
	int l;

	(void)state;
	assert_int_equal(mp_scl_parse(" 1 ", 3, &l), 0);
	assert_int_equal(l, 1);
	assert_int_equal(mp_scl_parse("-1", 2, &l), 0);
	assert_int_equal(l, -1);
	assert_int_equal(mp_scl_parse("12", 2, &l), MP_EPARSE);
	assert_int_equal(l, MP_SCL_UNKNOWN);
	assert_int_equal(mp_scl_parse("", 0, &l), MP_EPARSE);
	assert_int_equal(mp_bcl_parse("BCL:0;ARA:13230040|29132699027;", 31, &l), 0);
	assert_int_equal(l, 0);
	assert_int_equal(mp_bcl_parse("BCL:7", 5, &l), 0);
	assert_int_equal(l, 7);
	assert_int_equal(mp_bcl_parse("ARA:1;BCL:-1", 12, &l), MP_EPARSE);
	assert_int_equal(mp_bcl_parse("BCL:", 4, &l), MP_EPARSE);
}

static void
gmail_labels(void **state)
{
	(void)state;
	assert_true(mp_gmlabel_spam("\\Spam"));
	assert_true(mp_gmlabel_spam("\\spam"));
	assert_false(mp_gmlabel_spam("Spam")); /* a user label of that name */
	assert_false(mp_gmlabel_spam("\\Inbox"));
	assert_false(mp_gmlabel_spam(NULL));
}

/* A Microsoft 365 header section: internal hops, A-R, the receiving hop, the sender's
 * fields (with `forged` among them), then what Exchange appends (`tail`). */
static struct mp_headers *
m365_headers(const char *forged, const char *tail)
{
	char block[4096];
	struct mp_headers *h = NULL;
	struct mp_err err = {0};

	snprintf(block, sizeof(block),
		 "Received: from DB1PEPF000509F0.eurprd02.prod.outlook.com by "
		 "AS8PR02MB9876.eurprd02.prod.outlook.com with HTTPS; Wed, 26 Nov 2025 "
		 "04:00:03 +0000\r\n"
		 "Authentication-Results: spf=pass (sender IP is 192.0.2.25) "
		 "smtp.mailfrom=klant.test; dkim=pass header.d=klant.test;dmarc=pass "
		 "action=none header.from=klant.test;compauth=pass reason=100\r\n"
		 "Received: from smtp.relay.test (192.0.2.25) by "
		 "DB1PEPF000509F0.mail.protection.outlook.com (10.167.242.74) with Microsoft "
		 "SMTP Server id 15.20.8207.10 via Frontend Transport; Wed, 26 Nov 2025 04:00:02 "
		 "+0000\r\n"
		 "Received: from app.klant.test (app.klant.test [192.0.2.30]) by smtp.relay.test "
		 "with ESMTPS id 1; Wed, 26 Nov 2025 04:00:01 +0000\r\n"
		 "From: noreply@klant.test\r\n"
		 "%s"
		 "Subject: test\r\n"
		 "%s",
		 forged, tail);
	assert_int_equal(mp_headers_parse(&h, block, strlen(block), &err), 0);
	return h;
}

/* Index of the first Received field below the receiving hop (where the sender starts). */
#define OUTSIDE 3

static void
read_m365_tail(void **state)
{
	struct mp_headers *h =
	    m365_headers("", "X-MS-Exchange-Organization-SCL: 5\r\n"
			     "X-Microsoft-Antispam: BCL:0;\r\n"
			     "X-Forefront-Antispam-Report: SCL:5;SFV:SPM;CAT:SPM;\r\n");
	struct mp_rep_provider *p = NULL;
	bool ignored;

	(void)state;
	assert_int_equal(mp_spamsig_read(h, OUTSIDE, "db1pepf000509f0.mail.protection.outlook.com",
					 NULL, 0, &p, &ignored),
			 0);
	assert_non_null(p);
	assert_string_equal(p->provider, "m365");
	assert_true(p->spam);
	assert_string_equal(p->verdict, "SPM");
	assert_string_equal(p->category, "SPM");
	assert_int_equal(p->scl, 5);
	assert_int_equal(p->bcl, 0);
	assert_false(ignored);
	{
		struct mp_msgrep m;

		mp_msgrep_init(&m);
		m.provider = p;
		mp_spamsig_placement(&m, "INBOX", false);
		assert_false(m.pass);
		assert_true(mp_msgrep_has_problem(&m, "PLACEMENT_PROVIDER_SPAM"));
		assert_false(mp_msgrep_has_problem(&m, "PLACEMENT_JUNK"));
		mp_msgrep_dispose(&m); /* frees p */
	}
	mp_headers_free(h);
}

/* A forged clean verdict among the sender's fields is ignored; Microsoft's counts. */
static void
read_m365_forged(void **state)
{
	struct mp_headers *h =
	    m365_headers("X-Forefront-Antispam-Report: "
			 "SCL:1;SFV:NSPM;\r\nX-MS-Exchange-Organization-SCL: -1\r\n",
			 "");
	struct mp_rep_provider *p = NULL;
	bool ignored;
	struct mp_msgrep m;

	(void)state;
	/* Only forged fields: nothing trusted, the forgery reported as ignored.  (The
	 * forged X-MS-Exchange-Organization-* field would start Microsoft's block, but it
	 * sits above the forged report, which therefore stays outside it.) */
	assert_int_equal(mp_spamsig_read(h, OUTSIDE, "db1pepf000509f0.mail.protection.outlook.com",
					 NULL, 0, &p, &ignored),
			 0);
	assert_null(p);
	assert_true(ignored);
	mp_headers_free(h);

	h = m365_headers("X-Forefront-Antispam-Report: SCL:1;SFV:NSPM;\r\n",
			 "X-MS-Exchange-Organization-AuthAs: Anonymous\r\n"
			 "X-Forefront-Antispam-Report: SCL:6;SFV:SPM;\r\n");
	assert_int_equal(mp_spamsig_read(h, OUTSIDE, "db1pepf000509f0.mail.protection.outlook.com",
					 NULL, 0, &p, &ignored),
			 0);
	assert_non_null(p);
	assert_true(p->spam);
	assert_int_equal(p->scl, 6);
	mp_msgrep_init(&m);
	m.provider = p;
	mp_spamsig_placement(&m, "Junk Email", true);
	assert_true(mp_msgrep_has_problem(&m, "PLACEMENT_JUNK"));
	assert_false(mp_msgrep_has_problem(&m, "PLACEMENT_PROVIDER_SPAM"));
	mp_msgrep_dispose(&m);
	mp_headers_free(h);
}

/* Microsoft's headers mean nothing when Microsoft was not the receiver. */
static void
read_not_microsoft(void **state)
{
	struct mp_headers *h = m365_headers("", "X-MS-Exchange-Organization-SCL: 9\r\n"
						"X-Forefront-Antispam-Report: SCL:9;SFV:SPM;\r\n");
	struct mp_rep_provider *p = NULL;
	bool ignored;

	(void)state;
	assert_int_equal(mp_spamsig_read(h, OUTSIDE, "mx.ontvanger.test", NULL, 0, &p, &ignored),
			 0);
	assert_null(p);
	assert_int_equal(mp_spamsig_read(h, OUTSIDE, NULL, NULL, 0, &p, &ignored), 0);
	assert_null(p);
	/* outlook.com.evil.test is not under outlook.com */
	assert_int_equal(
	    mp_spamsig_read(h, OUTSIDE, "mx.outlook.com.evil.test", NULL, 0, &p, &ignored), 0);
	assert_null(p);
	mp_headers_free(h);
}

static void
read_gmail_labels(void **state)
{
	const char *const spam[] = {"\\Important", "\\Spam"};
	const char *const inbox[] = {"\\Inbox", "Spam", "Klanten/\xc3\xa9\xff"};
	const char *const none[] = {NULL};
	struct mp_rep_provider *p = NULL;
	struct mp_msgrep m;
	bool ignored;

	(void)state;
	assert_int_equal(mp_spamsig_read(NULL, SIZE_MAX, NULL, spam, 2, &p, &ignored), 0);
	assert_non_null(p);
	assert_string_equal(p->provider, "gmail");
	assert_true(p->spam);
	assert_int_equal(p->nlabels, 2);
	mp_msgrep_init(&m);
	m.provider = p;
	mp_spamsig_placement(&m, "INBOX", false);
	assert_true(mp_msgrep_has_problem(&m, "PLACEMENT_PROVIDER_SPAM"));
	assert_false(m.pass);
	mp_msgrep_dispose(&m);

	/* Gmail asked, no label that matters: a verdict "not spam". */
	assert_int_equal(mp_spamsig_read(NULL, SIZE_MAX, NULL, none, 0, &p, &ignored), 0);
	assert_non_null(p);
	assert_false(p->spam);
	assert_int_equal(p->nlabels, 0);
	mp_msgrep_init(&m);
	m.provider = p;
	mp_msgrep_dispose(&m);

	assert_int_equal(mp_spamsig_read(NULL, SIZE_MAX, NULL, inbox, 3, &p, &ignored), 0);
	assert_non_null(p);
	assert_false(p->spam);
	assert_int_equal(p->nlabels, 3);
	mp_msgrep_init(&m);
	m.provider = p;
	mp_spamsig_placement(&m, "INBOX", false);
	assert_true(m.pass);
	assert_true(m.passed & MP_CHECK_PLACEMENT);
	assert_int_equal(m.nproblems, 0);
	mp_msgrep_dispose(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(forefront_parse_table),
	    cmocka_unit_test(forefront_hostile),
	    cmocka_unit_test(levels),
	    cmocka_unit_test(gmail_labels),
	    cmocka_unit_test(read_m365_tail),
	    cmocka_unit_test(read_m365_forged),
	    cmocka_unit_test(read_not_microsoft),
	    cmocka_unit_test(read_gmail_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
