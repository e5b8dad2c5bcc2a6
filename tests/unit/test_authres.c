/*
 * test_authres.c - Authentication-Results parser (RFC 8601): real-world shapes from the
 * receivers we meet, the RFC's own examples, malformed input, bounds, and authserv-id matching.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "buf.h"

/* In want_res.comment: the result must have no comment (NULL there means "not checked"). */
static const char ABSENT[] = "\001absent";

struct want_prop {
	const char *key;
	const char *value; /* NULL: the property must be absent */
};

struct want_res {
	const char *method;
	const char *result;
	const char *reason;  /* NULL: must be NULL */
	const char *comment; /* NULL: not checked; ABSENT: must be NULL */
	int nprops;          /* -1: not checked */
	struct want_prop p[5];
};

struct ar_case {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	bool error;
	const char *why; /* error cases: a substring of the error, or NULL */
	const char *id;  /* NULL: authserv_id must be NULL */
	bool none;
	int version; /* 0: not checked */
	size_t nres;
	struct want_res r[5];
};

/* An input with its exact length, for inputs that hold NUL. */
#define LIT(s) .in = (s), .len = sizeof(s) - 1

static const struct ar_case cases[] = {
	/* ---- Gmail ---- */
	{ .name = "gmail: dkim spf dmarc, folded",
	  .in = "mx.google.com;\r\n       dkim=pass header.i=@klant.nl header.s=sel1 header.b=AbCd1234;"
		"\r\n       spf=pass (google.com: domain of bounce@klant.nl designates 192.0.2.10 as "
		"permitted sender) smtp.mailfrom=bounce@klant.nl;\r\n       dmarc=pass (p=REJECT "
		"sp=REJECT dis=NONE) header.from=klant.nl",
	  .id = "mx.google.com", .version = 1, .nres = 3,
	  .r = { { "dkim", "pass", NULL, ABSENT, 3,
		   { { "header.i", "@klant.nl" }, { "header.s", "sel1" }, { "header.b", "AbCd1234" } } },
		 { "spf", "pass", NULL,
		   "google.com: domain of bounce@klant.nl designates 192.0.2.10 as permitted sender", 1,
		   { { "smtp.mailfrom", "bounce@klant.nl" } } },
		 { "dmarc", "pass", NULL, "p=REJECT sp=REJECT dis=NONE", 1,
		   { { "header.from", "klant.nl" } } } } },
	{ .name = "gmail: base64 header.b with + / =",
	  .in = "mx.google.com; dkim=pass header.i=@klant.nl header.s=sel1 header.b=Xy+/Ab1=",
	  .id = "mx.google.com", .nres = 1,
	  .r = { { "dkim", "pass", NULL, NULL, 3, { { "header.b", "Xy+/Ab1=" } } } } },
	{ .name = "gmail: arc with a comment full of key=value",
	  .in = "mx.google.com;\r\n       arc=pass (i=1 spf=pass spfdomain=klant.nl dkim=pass "
		"dkdomain=klant.nl dmarc=pass fromdomain=klant.nl);\r\n       spf=softfail (google.com: "
		"domain of transitioning bounce@klant.nl does not designate 198.51.100.7 as permitted "
		"sender) smtp.mailfrom=bounce@klant.nl",
	  .id = "mx.google.com", .nres = 2,
	  .r = { { "arc", "pass", NULL,
		   "i=1 spf=pass spfdomain=klant.nl dkim=pass dkdomain=klant.nl dmarc=pass "
		   "fromdomain=klant.nl", 0, { { "spf", NULL } } },
		 { "spf", "softfail", NULL, NULL, 1, { { "smtp.mailfrom", "bounce@klant.nl" } } } } },
	{ .name = "gmail: dmarc fail, dkim neutral",
	  .in = "mx.google.com;\r\n       dkim=neutral (no key) header.i=@klant.nl header.s=old "
		"header.b=QQ12;\r\n       dmarc=fail (p=NONE sp=NONE dis=NONE) header.from=klant.nl",
	  .id = "mx.google.com", .nres = 2,
	  .r = { { "dkim", "neutral", NULL, "no key", 3, { { "header.s", "old" } } },
		 { "dmarc", "fail", NULL, "p=NONE sp=NONE dis=NONE", 1,
		   { { "header.from", "klant.nl" } } } } },

	/* ---- Microsoft 365: no authserv-id ---- */
	{ .name = "microsoft: no authserv-id, action=none, reason=100",
	  .in = "spf=pass (sender IP is 192.0.2.10) smtp.mailfrom=klant.nl; dkim=pass (signature was "
		"verified) header.d=klant.nl;dmarc=pass action=none header.from=klant.nl;compauth=pass "
		"reason=100",
	  .nres = 4,
	  .r = { { "spf", "pass", NULL, "sender IP is 192.0.2.10", 1,
		   { { "smtp.mailfrom", "klant.nl" } } },
		 { "dkim", "pass", NULL, "signature was verified", 1, { { "header.d", "klant.nl" } } },
		 { "dmarc", "pass", NULL, ABSENT, 2,
		   { { "action", "none" }, { "header.from", "klant.nl" } } },
		 { "compauth", "pass", "100", ABSENT, 0, { { "reason", NULL } } } } },
	{ .name = "microsoft: none results, trailing ';'",
	  .in = "spf=none (sender IP is 192.0.2.10) smtp.mailfrom=klant.nl; dkim=none (message not "
		"signed) header.d=none;dmarc=none action=none header.from=klant.nl; ",
	  .nres = 3,
	  .r = { { "spf", "none", NULL, "sender IP is 192.0.2.10", 1, { { 0 } } },
		 { "dkim", "none", NULL, "message not signed", 1, { { "header.d", "none" } } },
		 { "dmarc", "none", NULL, NULL, 2, { { "action", "none" } } } } },
	{ .name = "microsoft: fail, oreject, folded with LF only",
	  .in = "spf=fail (sender IP is 198.51.100.7)\n smtp.mailfrom=klant.nl; dkim=fail (signature "
		"did not verify)\n header.d=klant.nl;dmarc=fail action=oreject\n "
		"header.from=klant.nl;compauth=fail reason=000",
	  .nres = 4,
	  .r = { { "spf", "fail", NULL, NULL, 1, { { "smtp.mailfrom", "klant.nl" } } },
		 { "dkim", "fail", NULL, "signature did not verify", 1, { { 0 } } },
		 { "dmarc", "fail", NULL, NULL, 2, { { "action", "oreject" } } },
		 { "compauth", "fail", "000", NULL, 0, { { 0 } } } } },
	{ .name = "microsoft: bestguesspass and smtp.helo",
	  .in = "spf=softfail (sender IP is 203.0.113.9) smtp.helo=relay.klant.nl; dkim=none (message "
		"not signed) header.d=none;dmarc=bestguesspass action=none header.from=klant.nl;",
	  .nres = 3,
	  .r = { { "spf", "softfail", NULL, NULL, 1, { { "smtp.helo", "relay.klant.nl" } } },
		 { "dkim", "none", NULL, NULL, 1, { { 0 } } },
		 { "dmarc", "bestguesspass", NULL, NULL, 2, { { "header.from", "klant.nl" } } } } },
	{ .name = "microsoft: spf/1 method version without authserv-id",
	  .in = "spf/1=pass smtp.mailfrom=klant.nl",
	  .nres = 1,
	  .r = { { "spf", "pass", NULL, NULL, 1, { { "smtp.mailfrom", "klant.nl" } } } } },

	/* ---- Yahoo ---- */
	{ .name = "yahoo: comment glued to result, trailing ';'",
	  .in = "atlas-production.v2.mail.yahoo.com;\r\n dkim=pass header.i=@klant.nl header.s=sel1;"
		"\r\n spf=pass smtp.mailfrom=klant.nl;\r\n dmarc=pass(p=REJECT) header.from=klant.nl;",
	  .id = "atlas-production.v2.mail.yahoo.com", .nres = 3,
	  .r = { { "dkim", "pass", NULL, ABSENT, 2, { { "header.i", "@klant.nl" } } },
		 { "spf", "pass", NULL, ABSENT, 1, { { "smtp.mailfrom", "klant.nl" } } },
		 { "dmarc", "pass", NULL, "p=REJECT", 1, { { "header.from", "klant.nl" } } } } },
	{ .name = "yahoo: perm_fail and success",
	  .in = "atlas101.mail.bf1.yahoo.com;\r\n dkim=perm_fail header.i=@klant.nl header.s=sel1;\r\n "
		"spf=pass smtp.mailfrom=klant.nl;\r\n dmarc=success(p=NONE) header.from=klant.nl;",
	  .id = "atlas101.mail.bf1.yahoo.com", .nres = 3,
	  .r = { { "dkim", "perm_fail", NULL, NULL, 2, { { "header.s", "sel1" } } },
		 { "spf", "pass", NULL, NULL, 1, { { 0 } } },
		 { "dmarc", "success", NULL, "p=NONE", 1, { { 0 } } } } },

	/* ---- Fastmail ---- */
	{ .name = "fastmail: x- methods and policy.ptr",
	  .in = "mx6.messagingengine.com;\r\n    x-csa=none;\r\n    x-me-sender=none;\r\n    x-ptr=pass "
		"smtp.helo=relay.example policy.ptr=relay.example",
	  .id = "mx6.messagingengine.com", .nres = 3,
	  .r = { { "x-csa", "none", NULL, ABSENT, 0, { { 0 } } },
		 { "x-me-sender", "none", NULL, ABSENT, 0, { { 0 } } },
		 { "x-ptr", "pass", NULL, ABSENT, 2,
		   { { "smtp.helo", "relay.example" }, { "policy.ptr", "relay.example" } } } } },
	{ .name = "fastmail: arc none",
	  .in = "mx6.messagingengine.com;\r\n    arc=none (no signatures found)",
	  .id = "mx6.messagingengine.com", .nres = 1,
	  .r = { { "arc", "none", NULL, "no signatures found", 0, { { 0 } } } } },
	{ .name = "fastmail: dkim with bare x-bits",
	  .in = "mx6.messagingengine.com;\r\n    dkim=pass (2048-bit rsa key sha256) header.d=klant.nl "
		"header.i=@klant.nl header.b=AbCd header.a=rsa-sha256 header.s=sel1 x-bits=2048",
	  .id = "mx6.messagingengine.com", .nres = 1,
	  .r = { { "dkim", "pass", NULL, "2048-bit rsa key sha256", 6,
		   { { "header.a", "rsa-sha256" }, { "x-bits", "2048" }, { "header.s", "sel1" } } } } },
	{ .name = "fastmail: spf and dmarc with policy properties",
	  .in = "mx6.messagingengine.com;\r\n    spf=pass smtp.mailfrom=bounce@klant.nl "
		"smtp.helo=relay.example;\r\n    dmarc=pass policy.published-domain-policy=reject "
		"policy.applied-disposition=none policy.evaluated-disposition=none "
		"(p=reject,d=none,d.eval=none) policy.policy-from=p header.from=klant.nl",
	  .id = "mx6.messagingengine.com", .nres = 2,
	  .r = { { "spf", "pass", NULL, NULL, 2, { { "smtp.helo", "relay.example" } } },
		 { "dmarc", "pass", NULL, "p=reject,d=none,d.eval=none", 5,
		   { { "policy.published-domain-policy", "reject" },
		     { "policy.policy-from", "p" } } } } },

	/* ---- iCloud: one authserv-id per method ---- */
	{ .name = "icloud: dkim-verifier",
	  .in = "dkim-verifier.icloud.com; dkim=pass (2048-bit key) header.d=klant.nl "
		"header.i=@klant.nl header.b=AbCd",
	  .id = "dkim-verifier.icloud.com", .nres = 1,
	  .r = { { "dkim", "pass", NULL, "2048-bit key", 3, { { "header.d", "klant.nl" } } } } },
	{ .name = "icloud: spf",
	  .in = "spf.icloud.com; spf=pass (spf.icloud.com: domain of bounce@klant.nl designates "
		"192.0.2.10 as permitted sender) smtp.mailfrom=bounce@klant.nl",
	  .id = "spf.icloud.com", .nres = 1,
	  .r = { { "spf", "pass", NULL, NULL, 1, { { "smtp.mailfrom", "bounce@klant.nl" } } } } },
	{ .name = "icloud: dmarc",
	  .in = "dmarc.icloud.com; dmarc=pass header.from=klant.nl",
	  .id = "dmarc.icloud.com", .nres = 1,
	  .r = { { "dmarc", "pass", NULL, ABSENT, 1, { { "header.from", "klant.nl" } } } } },

	/* ---- Proton ---- */
	{ .name = "proton: quoted header.b",
	  .in = "mail.protonmail.ch; dkim=pass (2048-bit key) header.d=klant.nl header.i=@klant.nl "
		"header.b=\"AbCd1234\"",
	  .id = "mail.protonmail.ch", .nres = 1,
	  .r = { { "dkim", "pass", NULL, "2048-bit key", 3, { { "header.b", "AbCd1234" } } } } },
	{ .name = "proton: spf",
	  .in = "mail.protonmail.ch; spf=pass smtp.mailfrom=klant.nl",
	  .id = "mail.protonmail.ch", .nres = 1,
	  .r = { { "spf", "pass", NULL, ABSENT, 1, { { "smtp.mailfrom", "klant.nl" } } } } },
	{ .name = "proton: dmarc",
	  .in = "mail.protonmail.ch; dmarc=pass (p=reject dis=none) header.from=klant.nl",
	  .id = "mail.protonmail.ch", .nres = 1,
	  .r = { { "dmarc", "pass", NULL, "p=reject dis=none", 1, { { 0 } } } } },
	{ .name = "proton: arc none with remote-ip",
	  .in = "mail.protonmail.ch; arc=none smtp.remote-ip=192.0.2.10",
	  .id = "mail.protonmail.ch", .nres = 1,
	  .r = { { "arc", "none", NULL, ABSENT, 1, { { "smtp.remote-ip", "192.0.2.10" } } } } },

	/* ---- Postfix with OpenDKIM, OpenDMARC and the SPF checkers ---- */
	{ .name = "opendkim: two signatures and dkim-atps",
	  .in = "mx.ontvanger.test;\r\n\tdkim=pass header.d=klant.test header.i=@klant.test "
		"header.a=ed25519-sha256 header.s=ed25519 header.b=G1iIlorT;\r\n\tdkim=pass (2048-bit "
		"key; unprotected) header.d=klant.test header.i=@klant.test header.a=rsa-sha256 "
		"header.s=rsa2048 header.b=nhi53Z35;\r\n\tdkim-atps=neutral",
	  .id = "mx.ontvanger.test", .nres = 3,
	  .r = { { "dkim", "pass", NULL, ABSENT, 5, { { "header.a", "ed25519-sha256" } } },
		 { "dkim", "pass", NULL, "2048-bit key; unprotected", 5,
		   { { "header.s", "rsa2048" }, { "header.b", "nhi53Z35" } } },
		 { "dkim-atps", "neutral", NULL, ABSENT, 0, { { 0 } } } } },
	{ .name = "opendmarc",
	  .in = "mx.ontvanger.test; dmarc=pass (p=reject dis=none) header.from=klant.test",
	  .id = "mx.ontvanger.test", .nres = 1,
	  .r = { { "dmarc", "pass", NULL, "p=reject dis=none", 1,
		   { { "header.from", "klant.test" } } } } },
	{ .name = "policyd-spf: folded comments, ';' inside a comment",
	  .in = "mx.ontvanger.test; spf=pass (sender SPF \r\n   authorized) smtp.mailfrom=klant.test "
		"(client-ip=192.0.2.2; \r\n   helo=smtp.relay.test; envelope-from=bounce@klant.test; "
		"\r\n   receiver=<UNKNOWN>)",
	  .id = "mx.ontvanger.test", .nres = 1,
	  .r = { { "spf", "pass", NULL, "sender SPF authorized", 1,
		   { { "smtp.mailfrom", "klant.test" } } } } },
	{ .name = "opendkim: quoted reason before comment",
	  .in = "mx.ontvanger.test;\r\n\tdkim=fail reason=\"signature verification failed\" "
		"(2048-bit key; unprotected) header.d=klant.test header.i=@klant.test "
		"header.a=rsa-sha256 header.s=rsa2048 header.b=nhi53Z35",
	  .id = "mx.ontvanger.test", .nres = 1,
	  .r = { { "dkim", "fail", "signature verification failed", "2048-bit key; unprotected", 5,
		   { { "header.d", "klant.test" } } } } },
	{ .name = "opendkim: dkim=none without properties",
	  .in = "mx.ontvanger.test; dkim=none; dkim-atps=neutral",
	  .id = "mx.ontvanger.test", .nres = 2,
	  .r = { { "dkim", "none", NULL, ABSENT, 0, { { 0 } } },
		 { "dkim-atps", "neutral", NULL, ABSENT, 0, { { 0 } } } } },
	{ .name = "pyspf: none with a comment",
	  .in = "mx.ontvanger.test; none (SPF check N/A for local connections -  client-ip=127.0.0.3; "
		"helo=smtp.rogue.test; envelope-from=bounce@klant.test; receiver=ontvanger.test)",
	  .id = "mx.ontvanger.test", .none = true, .nres = 0 },
	{ .name = "pyspf: spf fail, 3-space continuation",
	  .in = "mx.ontvanger.test; spf=fail (SPF fail - not authorized) smtp.mailfrom=klant.test "
		"(client-ip=127.0.0.3; \r\n   helo=smtp.rogue.test; envelope-from=bounce@klant.test; "
		"\r\n   receiver=<UNKNOWN>)",
	  .id = "mx.ontvanger.test", .nres = 1,
	  .r = { { "spf", "fail", NULL, "SPF fail - not authorized", 1, { { 0 } } } } },

	/* ---- rspamd ---- */
	{ .name = "rspamd: quoted local part inside a comment",
	  .in = "mx.example.org;\r\n\tdkim=pass header.d=klant.nl header.s=sel1 header.b=AbCd;\r\n\t"
		"dmarc=pass (policy=reject) header.from=klant.nl;\r\n\tspf=pass (mx.example.org: domain "
		"of \"bounce@klant.nl\" designates 192.0.2.10 as permitted sender) "
		"smtp.mailfrom=bounce@klant.nl",
	  .id = "mx.example.org", .nres = 3,
	  .r = { { "dkim", "pass", NULL, ABSENT, 3, { { "header.b", "AbCd" } } },
		 { "dmarc", "pass", NULL, "policy=reject", 1, { { 0 } } },
		 { "spf", "pass", NULL,
		   "mx.example.org: domain of \"bounce@klant.nl\" designates 192.0.2.10 as permitted "
		   "sender", 1, { { "smtp.mailfrom", "bounce@klant.nl" } } } } },

	/* ---- RFC 8601 examples ---- */
	{ .name = "rfc8601: version and none",
	  .in = "example.org 1; none",
	  .id = "example.org", .version = 1, .none = true, .nres = 0 },
	{ .name = "rfc8601: spf",
	  .in = "example.com; spf=pass smtp.mailfrom=example.net",
	  .id = "example.com", .nres = 1,
	  .r = { { "spf", "pass", NULL, NULL, 1, { { "smtp.mailfrom", "example.net" } } } } },
	{ .name = "rfc8601: auth and spf",
	  .in = "example.com;\r\n          auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n"
		"          spf=pass smtp.mailfrom=example.net",
	  .id = "example.com", .nres = 2,
	  .r = { { "auth", "pass", NULL, "cram-md5", 1, { { "smtp.auth", "sender@example.net" } } },
		 { "spf", "pass", NULL, ABSENT, 1, { { 0 } } } } },
	{ .name = "rfc8601: sender-id",
	  .in = "example.com;\r\n          sender-id=pass header.from=example.net",
	  .id = "example.com", .nres = 1,
	  .r = { { "sender-id", "pass", NULL, NULL, 1, { { "header.from", "example.net" } } } } },
	{ .name = "rfc8601: two dkim with comments",
	  .in = "example.com;\r\n          dkim=pass (good signature) header.d=mail-router.example.net;"
		"\r\n          dkim=fail (bad signature) header.d=newyork.example.com",
	  .id = "example.com", .nres = 2,
	  .r = { { "dkim", "pass", NULL, "good signature", 1,
		   { { "header.d", "mail-router.example.net" } } },
		 { "dkim", "fail", NULL, "bad signature", 1,
		   { { "header.d", "newyork.example.com" } } } } },
	{ .name = "rfc8601: two dkim with quoted reasons",
	  .in = "example.com;\r\n          dkim=pass reason=\"good signature\"\r\n            "
		"header.i=@mail-router.example.net;\r\n          dkim=fail reason=\"bad signature\"\r\n"
		"            header.i=@newyork.example.com",
	  .id = "example.com", .nres = 2,
	  .r = { { "dkim", "pass", "good signature", ABSENT, 1,
		   { { "header.i", "@mail-router.example.net" } } },
		 { "dkim", "fail", "bad signature", ABSENT, 1,
		   { { "header.i", "@newyork.example.com" } } } } },
	{ .name = "rfc8601: iprev",
	  .in = "example.com;\r\n          iprev=pass\r\n            policy.iprev=192.0.2.200",
	  .id = "example.com", .nres = 1,
	  .r = { { "iprev", "pass", NULL, NULL, 1, { { "policy.iprev", "192.0.2.200" } } } } },
	{ .name = "rfc8601: comments everywhere",
	  .in = "foo.example.net (foobar) 1 (baz);\r\n    dkim (Because I like it) / 1 (One yay) = "
		"(wait for it) fail\r\n      policy (A dot can go here) . (like that) expired\r\n"
		"      (this surprised me) = (as I wasn't expecting it) 1362471462",
	  .id = "foo.example.net", .version = 1, .nres = 1,
	  .r = { { "dkim", "fail", NULL, "wait for it", 1, { { "policy.expired", "1362471462" } } } } },
	{ .name = "rfc8601: method version 1",
	  .in = "example.com; spf/1=pass smtp.mailfrom=example.net; dkim / 2 = pass",
	  .id = "example.com", .nres = 2,
	  .r = { { "spf", "pass", NULL, NULL, 1, { { 0 } } },
		 { "dkim", "pass", NULL, NULL, 0, { { 0 } } } } },

	/* ---- other shapes the grammar allows or receivers write ---- */
	{ .name = "quoted authserv-id",
	  .in = "\"mx example\"; spf=pass smtp.mailfrom=klant.nl",
	  .id = "mx example", .nres = 1, .r = { { "spf", "pass", NULL, NULL, 1, { { 0 } } } } },
	{ .name = "quoted local part keeps its quotes",
	  .in = "mx.example; spf=pass smtp.mailfrom=\"john doe\"@klant.nl",
	  .id = "mx.example", .nres = 1,
	  .r = { { "spf", "pass", NULL, NULL, 1,
		   { { "smtp.mailfrom", "\"john doe\"@klant.nl" } } } } },
	{ .name = "quoted value with quoted-pair is unquoted",
	  .in = "mx.example; dkim=pass header.b=\"Ab\\\"Cd\"",
	  .id = "mx.example", .nres = 1,
	  .r = { { "dkim", "pass", NULL, NULL, 1, { { "header.b", "Ab\"Cd" } } } } },
	{ .name = "UTF-8 address (RFC 8616)",
	  .in = "mx.example; spf=pass smtp.mailfrom=j\xc3\xb6rg@kl\xc3\xa4nt.nl",
	  .id = "mx.example", .nres = 1,
	  .r = { { "spf", "pass", NULL, NULL, 1,
		   { { "smtp.mailfrom", "j\xc3\xb6rg@kl\xc3\xa4nt.nl" } } } } },
	{ .name = "IPv6 remote-ip",
	  .in = "mx.example; iprev=pass smtp.remote-ip=2001:db8::25 policy.iprev=2001:db8::25",
	  .id = "mx.example", .nres = 1,
	  .r = { { "iprev", "pass", NULL, NULL, 2, { { "smtp.remote-ip", "2001:db8::25" } } } } },
	{ .name = "case folding of method, result and key; values as written",
	  .in = "MX.Example; DKIM=PASS Header.D=Klant.NL SMTP.MailFrom=Bounce@Klant.NL",
	  .id = "MX.Example", .nres = 1,
	  .r = { { "dkim", "pass", NULL, NULL, 2,
		   { { "header.d", "Klant.NL" }, { "HEADER.D", "Klant.NL" },
		     { "smtp.mailfrom", "Bounce@Klant.NL" } } } } },
	{ .name = "nested comment and quoted-pair in comment",
	  .in = "mx.example; dkim=pass (outer (inner) \\) text) header.d=klant.nl",
	  .id = "mx.example", .nres = 1,
	  .r = { { "dkim", "pass", NULL, "outer (inner) ) text", 1, { { 0 } } } } },
	{ .name = "empty comment is no comment",
	  .in = "mx.example; dkim=pass ( ) header.d=klant.nl",
	  .id = "mx.example", .nres = 1, .r = { { "dkim", "pass", NULL, ABSENT, 1, { { 0 } } } } },
	{ .name = "comment between authserv-id and ';', leading CFWS",
	  .in = "  (front) mx.example (trusted) ; spf=pass smtp.mailfrom=klant.nl",
	  .id = "mx.example", .nres = 1, .r = { { "spf", "pass", NULL, ABSENT, 1, { { 0 } } } } },
	{ .name = "reason after the properties",
	  .in = "mx.example; dkim=fail header.d=klant.nl reason=\"body hash did not verify\"",
	  .id = "mx.example", .nres = 1,
	  .r = { { "dkim", "fail", "body hash did not verify", NULL, 1, { { 0 } } } } },
	{ .name = "unknown method, ptype and result kept",
	  .in = "mx.example; foo=maybe bar.baz=1 qux.quux=two",
	  .id = "mx.example", .nres = 1,
	  .r = { { "foo", "maybe", NULL, NULL, 2, { { "bar.baz", "1" }, { "qux.quux", "two" } } } } },
	{ .name = "none in upper case with trailing ';'",
	  .in = "mx.example; NONE;",
	  .id = "mx.example", .none = true, .nres = 0 },
	{ .name = "empty quoted value",
	  .in = "mx.example; dkim=pass header.b=\"\"",
	  .id = "mx.example", .nres = 1, .r = { { "dkim", "pass", NULL, NULL, 1, { { "header.b", "" } } } } },
	{ .name = "method named none with '='",
	  .in = "mx.example; none=pass",
	  .id = "mx.example", .nres = 1, .r = { { "none", "pass", NULL, NULL, 0, { { 0 } } } } },
	{ .name = "duplicate property: lookup gives the first",
	  .in = "mx.example; dkim=pass header.d=first.example header.d=second.example",
	  .id = "mx.example", .nres = 1,
	  .r = { { "dkim", "pass", NULL, NULL, 2, { { "header.d", "first.example" } } } } },
	{ .name = "authres-version 2 is kept",
	  .in = "mx.example 2; spf=pass",
	  .id = "mx.example", .version = 2, .nres = 1,
	  .r = { { "spf", "pass", NULL, NULL, 0, { { 0 } } } } },

	/* ---- malformed: error set, nothing invented ---- */
	{ .name = "bad: empty", .in = "", .error = true, .why = "empty" },
	{ .name = "bad: only white space and a comment", .in = " \r\n\t(c) ", .error = true,
	  .why = "empty" },
	{ .name = "bad: only ';'", .in = ";", .error = true, .why = "authserv-id" },
	{ .name = "bad: authserv-id without results", .in = "mx.example;", .error = true,
	  .why = "no results", .id = "mx.example" },
	{ .name = "bad: authserv-id only", .in = "mx.example", .error = true, .why = "no results",
	  .id = "mx.example" },
	{ .name = "bad: missing result at end", .in = "mx.example; dkim=", .error = true,
	  .why = "missing result", .id = "mx.example" },
	{ .name = "bad: missing result before ';'", .in = "mx.example; dkim=; spf=pass",
	  .error = true, .why = "missing result", .id = "mx.example" },
	{ .name = "bad: unterminated comment", .in = "mx.example; dkim=pass (no end header.d=x",
	  .error = true, .why = "unterminated comment", .id = "mx.example" },
	{ .name = "bad: unterminated quoted string",
	  .in = "mx.example; dkim=fail reason=\"no end", .error = true,
	  .why = "unterminated quoted", .id = "mx.example" },
	{ .name = "bad: unterminated quoted authserv-id", .in = "\"mx.example; spf=pass",
	  .error = true, .why = "unterminated quoted" },
	{ .name = "bad: method without '='", .in = "mx.example; dkim", .error = true,
	  .why = "without '='", .id = "mx.example" },
	{ .name = "bad: method and result without '='", .in = "mx.example; dkim pass",
	  .error = true, .why = "without '='", .id = "mx.example" },
	{ .name = "bad: property without ptype", .in = "mx.example; dkim=pass headerd=klant.nl",
	  .error = true, .why = "without a ptype", .id = "mx.example" },
	{ .name = "bad: property without '='", .in = "mx.example; dkim=pass header.d",
	  .error = true, .why = "without '='", .id = "mx.example" },
	{ .name = "bad: property name missing", .in = "mx.example; dkim=pass header.=klant.nl",
	  .error = true, .why = "property name missing", .id = "mx.example" },
	{ .name = "bad: '=' without value at end", .in = "mx.example; dkim=pass header.d=",
	  .error = true, .why = "missing value", .id = "mx.example" },
	{ .name = "bad: '=' without value before ';'",
	  .in = "mx.example; dkim=pass header.d= ; spf=pass", .error = true,
	  .why = "missing value", .id = "mx.example" },
	{ .name = "bad: NUL byte", LIT("mx.example; dkim=pass\0 header.d=klant.nl"),
	  .error = true, .why = "NUL" },
	{ .name = "bad: 8-bit junk", .in = "mx.example; dkim=pass header.d=\xff\xfe", .error = true,
	  .why = "not UTF-8" },
	{ .name = "bad: overlong UTF-8", .in = "mx.example; spf=pass smtp.mailfrom=a\xc0\xaf@b",
	  .error = true, .why = "not UTF-8" },
	{ .name = "bad: truncated UTF-8", .in = "mx.example; spf=pass smtp.mailfrom=a@b\xe2\x82",
	  .error = true, .why = "truncated" },
	{ .name = "bad: UTF-16 surrogate", .in = "mx.example; spf=pass smtp.mailfrom=\xed\xa0\x80",
	  .error = true, .why = "not UTF-8" },
	{ .name = "bad: control character", .in = "mx.example; spf=pass\x01", .error = true,
	  .why = "control" },
	{ .name = "bad: lone backslash at end of comment", .in = "mx.example; dkim=pass (abc\\",
	  .error = true, .why = "unterminated comment", .id = "mx.example" },
	{ .name = "bad: lone backslash at end of quoted string",
	  .in = "mx.example; dkim=pass header.b=\"abc\\", .error = true,
	  .why = "unterminated quoted", .id = "mx.example" },
	{ .name = "bad: lone backslash outside", .in = "mx.example; dkim=pass \\", .error = true,
	  .id = "mx.example" },
	{ .name = "bad: results after none", .in = "mx.example; none; spf=pass", .error = true,
	  .why = "after 'none'", .id = "mx.example" },
	{ .name = "bad: missing ';' after authserv-id", .in = "mx.example spf=pass", .error = true,
	  .why = "expected ';'", .id = "mx.example" },
	{ .name = "bad: junk word after properties",
	  .in = "mx.example; dkim=pass header.d=klant.nl junk", .error = true,
	  .why = "neither", .id = "mx.example" },
	{ .name = "bad: second reason", .in = "mx.example; dkim=fail reason=a reason=b",
	  .error = true, .why = "second reason", .id = "mx.example" },
	{ .name = "bad: method missing", .in = "mx.example; =pass", .error = true,
	  .why = "method name", .id = "mx.example" },
	{ .name = "bad: method version missing", .in = "mx.example; dkim/=pass", .error = true,
	  .why = "method version", .id = "mx.example" },
	{ .name = "bad: method version too long", .in = "mx.example; dkim/1234567890=pass",
	  .error = true, .why = "too long", .id = "mx.example" },
	{ .name = "bad: authres-version too long", .in = "mx.example 12345678901; none",
	  .error = true, .why = "too long", .id = "mx.example" },
	{ .name = "bad: result is not a keyword", .in = "mx.example; dkim=\"pass\"", .error = true,
	  .why = "missing result", .id = "mx.example" },
	{ .name = "bad: unbalanced ')'", .in = "mx.example; dkim=pass )", .error = true,
	  .id = "mx.example" },
	{ .name = "bad: microsoft shape with broken second result",
	  .in = "spf=pass smtp.mailfrom=klant.nl; dkim=", .error = true, .why = "missing result" },
};

static void
check_case(const struct ar_case *c)
{
	struct mp_authres *ar = NULL;
	struct mp_err err = { 0 };
	size_t len = c->len != 0 ? c->len : strlen(c->in);
	size_t i, j;
	int rc;

	print_message("case: %s\n", c->name);
	rc = mp_authres_parse(c->in, len, &ar, &err);
	assert_int_equal(rc, 0);
	assert_non_null(ar);
	if (c->id == NULL)
		assert_null(ar->authserv_id);
	else
		assert_string_equal(ar->authserv_id, c->id);
	if (c->error) {
		assert_non_null(ar->error);
		if (c->why != NULL && strstr(ar->error, c->why) == NULL)
			fail_msg("%s: error '%s' does not mention '%s'", c->name, ar->error, c->why);
		assert_false(ar->none);
		assert_int_equal(ar->nresults, 0);
		assert_null(ar->results);
		goto out;
	}
	if (ar->error != NULL)
		fail_msg("%s: unexpected error '%s'", c->name, ar->error);
	assert_int_equal(ar->none, c->none);
	if (c->version != 0)
		assert_int_equal(ar->version, c->version);
	assert_int_equal(ar->nresults, c->nres);
	for (i = 0; i < c->nres; i++) {
		const struct want_res *w = &c->r[i];
		const struct mp_ar_result *r = &ar->results[i];

		assert_string_equal(r->method, w->method);
		assert_string_equal(r->result, w->result);
		if (w->reason == NULL)
			assert_null(r->reason);
		else
			assert_string_equal(r->reason, w->reason);
		if (w->comment == ABSENT)
			assert_null(r->comment);
		else if (w->comment != NULL)
			assert_string_equal(r->comment, w->comment);
		if (w->nprops >= 0)
			assert_int_equal(r->nprops, w->nprops);
		for (j = 0; j < 5 && w->p[j].key != NULL; j++) {
			const char *v = mp_ar_result_prop(r, w->p[j].key);

			if (w->p[j].value == NULL)
				assert_null(v);
			else
				assert_string_equal(v, w->p[j].value);
		}
	}
out:
	mp_authres_free(ar);
}

static void
test_table(void **state)
{
	size_t i, nbad = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_case(&cases[i]);
		if (cases[i].error)
			nbad++;
	}
	/* The coverage the module promises: at least 60 cases, 15 of them malformed. */
	assert_true(sizeof(cases) / sizeof(cases[0]) >= 60);
	assert_true(nbad >= 15);
}

/* Every case again, cut at every length: never a crash or a leak, always a verdict. */
static void
test_prefixes(void **state)
{
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len != 0 ? cases[i].len : strlen(cases[i].in);

		for (n = 0; n <= len; n++) {
			struct mp_authres *ar = NULL;
			char *copy = malloc(n + 1);

			assert_non_null(copy);
			/* An exact-size heap copy so ASan sees any read past the end. */
			memcpy(copy, cases[i].in, n);
			assert_int_equal(mp_authres_parse(copy, n, &ar, NULL), 0);
			assert_non_null(ar);
			assert_true((ar->error != NULL) != (ar->nresults > 0 || ar->none));
			mp_authres_free(ar);
			free(copy);
		}
	}
}

static struct mp_authres *
parse_buf(struct mp_buf *b)
{
	struct mp_authres *ar = NULL;
	struct mp_err err = { 0 };

	assert_int_equal(mp_authres_parse(b->data, b->len, &ar, &err), 0);
	assert_non_null(ar);
	return ar;
}

static void
test_bounds_results(void **state)
{
	struct mp_buf b;
	struct mp_authres *ar;
	int i;

	(void)state;
	mp_buf_init(&b, 1 << 20);
	assert_int_equal(mp_buf_adds(&b, "mx.example"), 0);
	for (i = 0; i < MP_AR_MAX_RESULTS; i++)
		assert_int_equal(mp_buf_printf(&b, "; dkim=pass header.s=s%d", i), 0);
	ar = parse_buf(&b);
	assert_null(ar->error);
	assert_int_equal(ar->nresults, MP_AR_MAX_RESULTS);
	assert_string_equal(mp_ar_result_prop(&ar->results[63], "header.s"), "s63");
	mp_authres_free(ar);

	assert_int_equal(mp_buf_adds(&b, "; spf=pass"), 0);
	ar = parse_buf(&b);
	assert_non_null(ar->error);
	assert_non_null(strstr(ar->error, "more than 64 results"));
	assert_int_equal(ar->nresults, 0);
	mp_authres_free(ar);
	mp_buf_dispose(&b);
}

static void
test_bounds_props(void **state)
{
	struct mp_buf b;
	struct mp_authres *ar;
	int i;

	(void)state;
	mp_buf_init(&b, 1 << 20);
	assert_int_equal(mp_buf_adds(&b, "mx.example; dkim=pass"), 0);
	for (i = 0; i < MP_AR_MAX_PROPS; i++)
		assert_int_equal(mp_buf_printf(&b, " x.p%d=%d", i, i), 0);
	ar = parse_buf(&b);
	assert_null(ar->error);
	assert_int_equal(ar->results[0].nprops, MP_AR_MAX_PROPS);
	assert_string_equal(mp_ar_result_prop(&ar->results[0], "x.p31"), "31");
	mp_authres_free(ar);

	assert_int_equal(mp_buf_adds(&b, " x.one=more"), 0);
	ar = parse_buf(&b);
	assert_non_null(ar->error);
	assert_non_null(strstr(ar->error, "more than 32 properties"));
	mp_authres_free(ar);
	mp_buf_dispose(&b);
}

static void
test_bounds_nesting(void **state)
{
	struct mp_buf b;
	struct mp_authres *ar;
	int i;

	(void)state;
	mp_buf_init(&b, 1 << 20);
	assert_int_equal(mp_buf_adds(&b, "mx.example; dkim=pass "), 0);
	for (i = 0; i < MP_AR_MAX_NEST; i++)
		assert_int_equal(mp_buf_addc(&b, '('), 0);
	for (i = 0; i < MP_AR_MAX_NEST; i++)
		assert_int_equal(mp_buf_addc(&b, ')'), 0);
	ar = parse_buf(&b);
	assert_null(ar->error);
	assert_int_equal(ar->nresults, 1);
	mp_authres_free(ar);

	mp_buf_reset(&b);
	assert_int_equal(mp_buf_adds(&b, "mx.example; dkim=pass "), 0);
	for (i = 0; i <= MP_AR_MAX_NEST; i++)
		assert_int_equal(mp_buf_addc(&b, '('), 0);
	for (i = 0; i <= MP_AR_MAX_NEST; i++)
		assert_int_equal(mp_buf_addc(&b, ')'), 0);
	ar = parse_buf(&b);
	assert_non_null(ar->error);
	assert_non_null(strstr(ar->error, "nested deeper"));
	mp_authres_free(ar);
	mp_buf_dispose(&b);
}

static void
test_bounds_length(void **state)
{
	struct mp_buf b;
	struct mp_authres *ar;

	(void)state;
	/* Exactly the bound, in a long comment: accepted (and needs the heap scratch). */
	mp_buf_init(&b, 1 << 20);
	assert_int_equal(mp_buf_adds(&b, "mx.example; dkim=pass ("), 0);
	while (b.len < MP_AR_MAX_LEN - 1)
		assert_int_equal(mp_buf_addc(&b, 'x'), 0);
	assert_int_equal(mp_buf_addc(&b, ')'), 0);
	assert_int_equal(b.len, MP_AR_MAX_LEN);
	ar = parse_buf(&b);
	assert_null(ar->error);
	assert_int_equal(strlen(ar->results[0].comment), MP_AR_MAX_LEN - 24);
	mp_authres_free(ar);

	assert_int_equal(mp_buf_addc(&b, ' '), 0);
	ar = parse_buf(&b);
	assert_non_null(ar->error);
	assert_non_null(strstr(ar->error, "longer than"));
	assert_null(ar->authserv_id);
	mp_authres_free(ar);
	mp_buf_dispose(&b);
}

static void
test_api_edges(void **state)
{
	struct mp_authres *ar = NULL;
	struct mp_err err = { 0 };
	struct mp_ar_result r = { 0 };

	(void)state;
	assert_int_equal(mp_authres_parse("x", 1, NULL, &err), MP_EINVAL);
	assert_int_equal(err.code, MP_EINVAL);
	assert_int_equal(mp_authres_parse(NULL, 0, &ar, &err), 0);
	assert_non_null(ar);
	assert_non_null(ar->error);
	mp_authres_free(ar);
	mp_authres_free(NULL);
	assert_null(mp_ar_result_prop(NULL, "header.d"));
	assert_null(mp_ar_result_prop(&r, NULL));
	assert_null(mp_ar_result_prop(&r, "header.d"));
}

struct mver_case {
	const char *in;
	int version[3]; /* method_version of each result */
};

static const struct mver_case mvers[] = {
	{ "spf/1=pass smtp.mailfrom=klant.nl", { 1 } },
	{ "example.com; spf/1=pass smtp.mailfrom=example.net; dkim / 2 = pass; dmarc=pass", { 1, 2, 1 } },
	{ "foo.example.net (foobar) 1 (baz); dkim (Because I like it) / 1 (One yay) = fail", { 1 } },
	{ "mx.example; x-ptr/007=pass", { 7 } },
};

static void
test_method_version(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(mvers) / sizeof(mvers[0]); i++) {
		struct mp_authres *ar = NULL;

		assert_int_equal(mp_authres_parse(mvers[i].in, strlen(mvers[i].in), &ar, NULL), 0);
		assert_null(ar->error);
		for (j = 0; j < ar->nresults; j++)
			assert_int_equal(ar->results[j].method_version, mvers[i].version[j]);
		assert_true(ar->nresults == 3 || mvers[i].version[ar->nresults] == 0);
		mp_authres_free(ar);
	}
}

struct match_case {
	const char *id;
	const char *pattern;
	bool match;
};

static const struct match_case matches[] = {
	{ "mx.example", "mx.example", true },
	{ "MX.Example", "mx.EXAMPLE", true },
	{ "mx.example.", "mx.example", true },
	{ "mx.example", "mx.example.", true },
	{ "mx2.example", "mx.example", false },
	{ "a.mx.example", "mx.example", false },
	{ "a.yahoo.com", ".yahoo.com", true },
	{ "x.y.yahoo.com", ".yahoo.com", true },
	{ "X.Y.YAHOO.COM.", ".yahoo.com", true },
	{ "yahoo.com", ".yahoo.com", false },
	{ "evilyahoo.com", ".yahoo.com", false },
	{ ".yahoo.com", ".yahoo.com", false },
	{ "..yahoo.com", ".yahoo.com", false },
	{ "a.yahoo.com.evil", ".yahoo.com", false },
	{ NULL, "mx.example", false },
	{ "mx.example", NULL, false },
	{ "", "", false },
	{ "a.example", ".", false },
	{ "", ".example", false },
};

static void
test_authserv_id_matches(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
		if (mp_authserv_id_matches(matches[i].id, matches[i].pattern) != matches[i].match)
			fail_msg("mp_authserv_id_matches(%s, %s) != %d",
				 matches[i].id ? matches[i].id : "NULL",
				 matches[i].pattern ? matches[i].pattern : "NULL", matches[i].match);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_bounds_results),
		cmocka_unit_test(test_bounds_props),
		cmocka_unit_test(test_bounds_nesting),
		cmocka_unit_test(test_bounds_length),
		cmocka_unit_test(test_api_edges),
		cmocka_unit_test(test_method_version),
		cmocka_unit_test(test_authserv_id_matches),
	};

	return cmocka_run_group_tests_name("authres", tests, NULL, NULL);
}
