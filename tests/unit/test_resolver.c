/* test_resolver.c - zone parsing, zone lookups, the cache, wire encoding, server mode. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "resolver.h"
#include "zone.h"

/* ---- helpers ------------------------------------------------------------------------ */

static struct mp_resolver *
zone_res(const char *text)
{
	struct mp_resolver_opts o = {.mode = MP_RESOLVER_ZONE};
	struct mp_resolver *r = NULL;
	struct mp_err err = {0};

	assert_int_equal(mp_resolver_new(&r, &o, &err), 0);
	if (text != NULL) {
		int rc = mp_resolver_load_zone_text(r, text, strlen(text), NULL, &err);

		if (rc != 0)
			print_error("zone: %s\n", err.msg);
		assert_int_equal(rc, 0);
	}
	return r;
}

static struct mp_dns_answer *
ask(struct mp_resolver *r, const char *name, uint16_t type)
{
	struct mp_dns_answer *a = NULL;
	struct mp_err err = {0};

	assert_int_equal(mp_resolver_query(r, name, type, &a, &err), 0);
	assert_non_null(a);
	return a;
}

static void
expect_status(struct mp_resolver *r, const char *name, uint16_t type, enum mp_dns_status st)
{
	struct mp_dns_answer *a = ask(r, name, type);

	if (a->status != st)
		print_error("%s/%u: status %d, want %d\n", name, type, a->status, st);
	assert_int_equal(a->status, st);
	if (st != MP_DNS_OK)
		assert_int_equal(a->count, 0);
	mp_dns_answer_free(a);
}

/* The one record of name/type, as a string (TXT joined, names) */
static void
expect_one(struct mp_resolver *r, const char *name, uint16_t type, const char *want)
{
	struct mp_dns_answer *a = ask(r, name, type);

	if (a->status != MP_DNS_OK)
		print_error("%s/%u: status %d\n", name, type, a->status);
	assert_int_equal(a->status, MP_DNS_OK);
	assert_int_equal(a->count, 1);
	assert_int_equal(a->rr[0].type, type);
	assert_int_equal(a->rr[0].len, strlen(want));
	assert_string_equal((const char *)a->rr[0].data, want);
	mp_dns_answer_free(a);
}

static void
expect_addr(struct mp_resolver *r, const char *name, uint16_t type, const char *want, uint32_t ttl)
{
	struct mp_dns_answer *a = ask(r, name, type);
	unsigned char bin[16];
	int af = type == MP_DNS_A ? AF_INET : AF_INET6;

	assert_int_equal(inet_pton(af, want, bin), 1);
	if (a->status != MP_DNS_OK)
		print_error("%s/%u: status %d (%s)\n", name, type, a->status, a->why ? a->why : "");
	assert_int_equal(a->status, MP_DNS_OK);
	assert_int_equal(a->count, 1);
	assert_int_equal(a->rr[0].len, type == MP_DNS_A ? 4 : 16);
	assert_memory_equal(a->rr[0].data, bin, a->rr[0].len);
	if (ttl != 0)
		assert_int_equal(a->rr[0].ttl, ttl);
	mp_dns_answer_free(a);
}

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- zone parsing --------------------------------------------------------------------- */

static const char features_zone[] =
    "; every feature of the master-file parser\n"
    "$ORIGIN example.org.\n"
    "$TTL 600\n"
    "@\tIN SOA ns1 hostmaster ( 2024010101 ; serial\n"
    "\t\t3600 900 1209600 1h )\n"
    "\tIN NS ns1\n"
    "\tIN MX 10 mx1\n"
    "\tIN MX 20 mx2.example.net.\n"
    "\tTXT \"v=spf1 ip4:192.0.2.0/24 \" \"include:_spf.example.net -all\"\n"
    "ns1 300 IN A 192.0.2.53\n"
    "mx1 IN 300 A 192.0.2.25\n"
    "    AAAA 2001:db8::25\n"
    "www CNAME mx1\n"
    "sel._domainkey TXT ( \"v=DKIM1; k=rsa; \"\n"
    "                     \"p=MIIB\" ) ; key\n"
    "quote TXT \"a \\\"quoted\\\" ; not a comment \\\\ done \\065\\066\"\n"
    "multi TXT \"one\"\n"
    "multi TXT \"two\"\n"
    "deep.a.b TXT \"deep\"\n"
    "25.2.0.192.in-addr.arpa. PTR mx1\n"
    "spfrr SPF \"v=spf1 -all\"\n"
    "unq TXT v=spf1\n"
    "crlf A 192.0.2.99\r\n"
    "$ORIGIN sub\n"
    "x A 192.0.2.1\n"
    "ABS.Example.COM. 1h A 198.51.100.1\n"
    "$TTL 1d\n"
    "y A 192.0.2.2\n"
    "z 1W2d3h4m5s A 192.0.2.3\n";

static void
test_zone_features(void **state)
{
	struct mp_resolver *r = zone_res(features_zone);
	struct mp_dns_answer *a;

	(void)state;
	a = ask(r, "example.org", MP_DNS_MX);
	assert_int_equal(a->status, MP_DNS_OK);
	assert_int_equal(a->count, 2);
	assert_int_equal(a->rr[0].pref, 10);
	assert_string_equal((char *)a->rr[0].data, "mx1.example.org");
	assert_int_equal(a->rr[1].pref, 20);
	assert_string_equal((char *)a->rr[1].data, "mx2.example.net");
	assert_int_equal(a->rr[0].ttl, 600);
	mp_dns_answer_free(a);

	expect_one(r, "example.org", MP_DNS_TXT,
		   "v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all");
	expect_one(r, "example.org", MP_DNS_NS, "ns1.example.org");
	expect_status(r, "example.org", MP_DNS_A, MP_DNS_NODATA);
	expect_addr(r, "ns1.example.org", MP_DNS_A, "192.0.2.53", 300);
	expect_addr(r, "mx1.example.org", MP_DNS_A, "192.0.2.25", 300);
	expect_addr(r, "mx1.example.org", MP_DNS_AAAA, "2001:db8::25", 600);
	expect_addr(r, "www.example.org", MP_DNS_A, "192.0.2.25", 300);
	expect_one(r, "www.example.org", MP_DNS_CNAME, "mx1.example.org");
	expect_one(r, "sel._domainkey.example.org", MP_DNS_TXT, "v=DKIM1; k=rsa; p=MIIB");
	expect_one(r, "quote.example.org", MP_DNS_TXT, "a \"quoted\" ; not a comment \\ done AB");
	expect_one(r, "deep.a.b.example.org", MP_DNS_TXT, "deep");
	expect_one(r, "25.2.0.192.in-addr.arpa", MP_DNS_PTR, "mx1.example.org");
	expect_one(r, "spfrr.example.org", MP_DNS_SPF, "v=spf1 -all");
	expect_status(r, "spfrr.example.org", MP_DNS_TXT, MP_DNS_NODATA);
	expect_one(r, "unq.example.org", MP_DNS_TXT, "v=spf1");
	expect_addr(r, "crlf.example.org", MP_DNS_A, "192.0.2.99", 0);
	expect_addr(r, "x.sub.example.org", MP_DNS_A, "192.0.2.1", 600);
	expect_addr(r, "abs.example.com", MP_DNS_A, "198.51.100.1", 3600);
	expect_addr(r, "y.sub.example.org", MP_DNS_A, "192.0.2.2", 86400);
	expect_addr(r, "z.sub.example.org", MP_DNS_A, "192.0.2.3",
		    604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);

	a = ask(r, "multi.example.org", MP_DNS_TXT);
	assert_int_equal(a->status, MP_DNS_OK);
	assert_int_equal(a->count, 2);
	assert_string_equal((char *)a->rr[0].data, "one");
	assert_string_equal((char *)a->rr[1].data, "two");
	mp_dns_answer_free(a);
	mp_resolver_free(r);
}

static void
test_zone_origin(void **state)
{
	struct mp_resolver *r = zone_res("example.com. TXT \"abs\"\nrel.example TXT \"rel\"\n");
	struct mp_err err = {0};
	const char *t = "@ A 192.0.2.1\nwww A 192.0.2.2\n";

	(void)state;
	/* Without $ORIGIN, relative names are relative to the root. */
	expect_one(r, "example.com", MP_DNS_TXT, "abs");
	expect_one(r, "rel.example", MP_DNS_TXT, "rel");
	/* The origin argument stands in for $ORIGIN. */
	assert_int_equal(mp_resolver_load_zone_text(r, t, strlen(t), "example.net.", &err), 0);
	expect_addr(r, "example.net", MP_DNS_A, "192.0.2.1", 0);
	expect_addr(r, "www.example.net", MP_DNS_A, "192.0.2.2", 0);
	/* ... and '@' without any origin is an error. */
	assert_int_equal(mp_resolver_load_zone_text(r, t, strlen(t), NULL, &err), MP_EPARSE);
	assert_string_equal(err.msg, "line 1: '@' used without $ORIGIN");
	mp_resolver_free(r);
}

struct zcase {
	const char *text;
	int code;
	const char *msg; /* the whole message, or its start when it ends in '*' */
};

static const struct zcase zone_errors[] = {
    {"a.example. IN FOO x\n", MP_EPARSE, "line 1: unknown type FOO"},
    {"; c\n\n; d\nb.example. BAR 1\n", MP_EPARSE, "line 4: unknown type BAR"},
    {"a.example. TXT ( \"x\"\n \"y\" )\nb.example. BAR 1\n", MP_EPARSE, "line 3: unknown type BAR"},
    {"a.example. \x01\xff 1\n", MP_EPARSE, "line 1: unknown type ??"},
    {"\n\na.example. A 1.2.3.4.5\n", MP_EPARSE, "line 3: bad A address 1.2.3.4.5"},
    {"a.example. AAAA 192.0.2.1\n", MP_EPARSE, "line 1: bad AAAA address 192.0.2.1"},
    {"a.example. A \"192.0.2.1\"\n", MP_EPARSE, "line 1: bad A address*"},
    {"$INCLUDE other.zone\n", MP_EPARSE, "line 1: $INCLUDE is not supported*"},
    {"$FOO x\n", MP_EPARSE, "line 1: unknown directive $FOO"},
    {"$TTL abc\n", MP_EPARSE, "line 1: $TTL needs one TTL*"},
    {"$TTL\n", MP_EPARSE, "line 1: $TTL needs one TTL*"},
    {"$ORIGIN a. b.\n", MP_EPARSE, "line 1: $ORIGIN needs exactly one name"},
    {"a.example. TXT \"unterminated\n", MP_EPARSE, "line 1: unterminated quoted string"},
    {"a.example. TXT ( \"x\"\n\n", MP_EPARSE, "line 1: unbalanced '(': no ')' before the end"},
    {"a.example. TXT \"x\" )\n", MP_EPARSE, "line 1: unbalanced ')'"},
    {"a.example. TXT ( ( \"x\" ) )\n", MP_EPARSE, "line 1: nested '('"},
    {"  A 192.0.2.1\n", MP_EPARSE, "line 1: record without an owner name"},
    {"a.example.\n", MP_EPARSE, "line 1: record without a type"},
    {"a.example. 300 IN\n", MP_EPARSE, "line 1: record without a type"},
    {"a.example. MX 70000 mx.example.\n", MP_EPARSE, "line 1: bad MX preference 70000 (0..65535)"},
    {"a.example. MX 10\n", MP_EPARSE, "line 1: MX: missing data"},
    {"a.example. A\n", MP_EPARSE, "line 1: A: missing data"},
    {"a.example. A 192.0.2.1 extra\n", MP_EPARSE, "line 1: A: unexpected extra after the data"},
    {"a.example. CNAME b. c.\n", MP_EPARSE, "line 1: CNAME: unexpected c. after the data"},
    {"a.example. SOA ns. host. 1 2 3 4\n", MP_EPARSE, "line 1: SOA: missing data"},
    {"a.example. SOA ns. host. 1 2 3 x 5\n", MP_EPARSE, "line 1: bad SOA number x"},
    {"a.example. CH TXT x\n", MP_EPARSE, "line 1: class CH is not supported (only IN)"},
    {"a.example. 99999999999 A 192.0.2.1\n", MP_EPARSE, "line 1: bad TTL 99999999999"},
    {"a.example. 2147483648 A 192.0.2.1\n", MP_EPARSE, "line 1: bad TTL 2147483648"},
    {"a.example. 1x A 192.0.2.1\n", MP_EPARSE, "line 1: bad TTL 1x"},
    {"a..example. A 192.0.2.1\n", MP_EPARSE, "line 1: bad name a..example.*"},
    {".a.example. A 192.0.2.1\n", MP_EPARSE, "line 1: bad name .a.example.*"},
    {"a\\.b.example. A 192.0.2.1\n", MP_EPARSE, "line 1: name a.b.example.: quotes and escapes*"},
    {"a.example. CNAME \"b.example.\"\n", MP_EPARSE,
     "line 1: name b.example.: quotes and escapes*"},
    {"a.example. TXT \"\\300\"\n", MP_EPARSE, "line 1: bad escape: \\300 is above 255"},
    {"a.example. TXT \"\\1x\"\n", MP_EPARSE, "line 1: bad escape: \\DDD needs three digits"},
    {"a.example. TXT \"x\\", MP_EPARSE, "line 1: backslash at end of line"},
    {"ok.example. A 192.0.2.1\n\n  \n\tTXT \"x\"\nbad.example. NULL\n", MP_EPARSE,
     "line 5: unknown type NULL"},
};

static void
check_zone_error(const char *text, size_t len, int code, const char *msg)
{
	struct mp_resolver *r = zone_res(NULL);
	struct mp_err err = {0};
	int rc = mp_resolver_load_zone_text(r, text, len, NULL, &err);
	size_t n = strlen(msg);

	if (rc != code ||
	    (msg[n - 1] == '*' ? strncmp(err.msg, msg, n - 1) : strcmp(err.msg, msg)) != 0)
		print_error("zone %.40s: got %d \"%s\", want %d \"%s\"\n", text, rc, err.msg, code,
			    msg);
	assert_int_equal(rc, code);
	if (msg[n - 1] == '*')
		assert_memory_equal(err.msg, msg, n - 1);
	else
		assert_string_equal(err.msg, msg);
	mp_resolver_free(r);
}

static void
test_zone_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof zone_errors / sizeof zone_errors[0]; i++)
		check_zone_error(zone_errors[i].text, strlen(zone_errors[i].text),
				 zone_errors[i].code, zone_errors[i].msg);
}

/* Bounds: label, name, TXT string, line, record count. */
static void
test_zone_bounds(void **state)
{
	char *l63 = repeat('a', 63), *l64 = repeat('a', 64), *s255 = repeat('x', 255);
	char *s256 = repeat('x', 256), *line = repeat('y', MP_ZONE_MAX_LINE + 10);
	char text[1024], name[300];
	struct mp_resolver *r;
	struct mp_dns_answer *a;
	size_t i, n;
	char *big;

	(void)state;
	snprintf(text, sizeof text, "%s.example. TXT \"%s\" \"%s\"\n", l63, s255, s255);
	r = zone_res(text);
	snprintf(name, sizeof name, "%s.example", l63);
	a = ask(r, name, MP_DNS_TXT);
	assert_int_equal(a->status, MP_DNS_OK);
	assert_int_equal(a->rr[0].len, 510);
	mp_dns_answer_free(a);
	mp_resolver_free(r);

	snprintf(text, sizeof text, "%s.example. A 192.0.2.1\n", l64);
	check_zone_error(text, strlen(text), MP_EPARSE, "line 1: bad name *");
	snprintf(text, sizeof text, "a.example. TXT \"%s\"\n", s256);
	check_zone_error(text, strlen(text), MP_ETOOBIG, "line 1: TXT string of 256 bytes*");
	/* 4 labels of 63 + 3 dots = 255 > 253 */
	snprintf(text, sizeof text, "%s.%s.%s.%s A 192.0.2.1\n", l63, l63, l63, l63);
	check_zone_error(text, strlen(text), MP_EPARSE, "line 1: name aaaa*");
	check_zone_error(line, strlen(line), MP_ETOOBIG, "line 1: line longer than 65536 bytes");

	/* One record more than the limit. */
	n = (size_t)MP_ZONE_MAX_RECORDS + 1;
	big = malloc(n * 13 + 16);
	assert_non_null(big);
	memcpy(big, "a", 1);
	for (i = 0; i < n; i++)
		memcpy(big + 1 + i * 13, " A 192.0.2.1\n", 13);
	check_zone_error(big, 1 + n * 13, MP_ETOOBIG, "line 262145: more than 262144 records");
	free(big);
	free(l63);
	free(l64);
	free(s255);
	free(s256);
	free(line);
}

static char *
fixture(const char *rel)
{
	const char *dir = getenv("MP_FIXTURES");
	size_t n;
	char *p;

	if (dir == NULL)
		return NULL;
	n = strlen(dir) + strlen(rel) + 2;
	p = malloc(n);
	assert_non_null(p);
	snprintf(p, n, "%s/%s", dir, rel);
	return p;
}

static void
test_zone_file(void **state)
{
	struct mp_resolver_opts o = {.mode = MP_RESOLVER_ZONE};
	struct mp_resolver *r = NULL;
	struct mp_err err = {0};
	char *ok = fixture("zones/basic.zone"), *bad = fixture("zones/bad-type.zone");
	char want[600], tmp[] = "/tmp/mp-zone-XXXXXX";
	int fd;

	(void)state;
	if (ok == NULL)
		skip();
	o.zone_file = ok;
	assert_int_equal(mp_resolver_new(&r, &o, &err), 0);
	expect_one(r, "sel._domainkey.example.org", MP_DNS_TXT, "v=DKIM1; k=rsa; p=MIIB");
	expect_one(r, "_dmarc.example.org.", MP_DNS_TXT,
		   "v=DMARC1; p=reject; rua=mailto:dmarc@example.org");
	expect_addr(r, "mx1.example.org", MP_DNS_AAAA, "2001:db8::25", 600);
	mp_resolver_free(r);

	o.zone_file = bad;
	r = NULL;
	assert_int_equal(mp_resolver_new(&r, &o, &err), MP_EPARSE);
	assert_null(r);
	snprintf(want, sizeof want, "%s:4: unknown type FOO", bad);
	assert_string_equal(err.msg, want);

	o.zone_file = "/nonexistent/zone.txt";
	assert_int_equal(mp_resolver_new(&r, &o, &err), MP_ENOTFOUND);

	/* A sparse file one byte over the limit is refused before it is read. */
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)MP_ZONE_MAX_BYTES + 1), 0);
	close(fd);
	o.zone_file = tmp;
	assert_int_equal(mp_resolver_new(&r, &o, &err), MP_ETOOBIG);
	unlink(tmp);
	free(ok);
	free(bad);
}

/* The public RFC 8463 zone, read in place. */
static void
test_zone_conformance(void **state)
{
	const char *dir = getenv("MP_CONFORMANCE");
	struct mp_resolver_opts o = {.mode = MP_RESOLVER_ZONE};
	struct mp_resolver *r = NULL;
	struct mp_err err = {0};
	char path[4096];

	(void)state;
	if (dir == NULL)
		skip();
	snprintf(path, sizeof path, "%s/dkim/rfc8463-appendix-a.zone", dir);
	o.zone_file = path;
	assert_int_equal(mp_resolver_new(&r, &o, &err), 0);
	expect_one(r, "brisbane._domainkey.football.example.com", MP_DNS_TXT,
		   "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
	expect_status(r, "_domainkey.football.example.com", MP_DNS_TXT, MP_DNS_NODATA);
	mp_resolver_free(r);
}

static void
test_system_mode(void **state)
{
	struct mp_resolver_opts o = {.mode = MP_RESOLVER_SYSTEM};
	struct mp_resolver *r = NULL;
	struct mp_err err = {0};
	int rc = mp_resolver_new(&r, &o, &err);

	(void)state;
	/* Only the set-up: unit tests send nothing to the network. */
	if (access("/etc/resolv.conf", R_OK) == 0) {
		assert_int_equal(rc, 0);
		assert_non_null(r);
	} else {
		assert_int_equal(rc, MP_EIO);
	}
	mp_resolver_free(r);
	o.mode = (enum mp_resolver_mode)42;
	assert_int_equal(mp_resolver_new(&r, &o, &err), MP_EINVAL);
	assert_int_equal(mp_resolver_new(&r, NULL, &err), MP_EINVAL);
}

/* ---- lookups ------------------------------------------------------------------------ */

static const char lookup_zone[] =
    "$ORIGIN example.org.\n"
    "host A 192.0.2.10\n"
    "deep.ent.example.org. TXT \"deep\"\n"
    "alias CNAME host\n"
    "dangling CNAME nowhere\n"
    "loop1 CNAME loop2\n"
    "loop2 CNAME loop1\n"
    "c0 CNAME c1\nc1 CNAME c2\nc2 CNAME c3\nc3 CNAME c4\nc4 CNAME c5\n"
    "c5 CNAME c6\nc6 CNAME c7\nc7 CNAME c8\nc8 CNAME c9\nc9 TXT \"end\"\n"
    "broken TXT \"never seen\"\n";

static void
test_lookup_status(void **state)
{
	struct mp_resolver *r = zone_res(lookup_zone);
	struct mp_dns_answer *a;
	struct mp_err err = {0};
	char *longname = repeat('a', 300);

	(void)state;
	expect_addr(r, "host.example.org", MP_DNS_A, "192.0.2.10", 0);
	expect_addr(r, "HOST.Example.ORG.", MP_DNS_A, "192.0.2.10", 0);
	expect_status(r, "host.example.org", MP_DNS_TXT, MP_DNS_NODATA);
	expect_status(r, "nothere.example.org", MP_DNS_TXT, MP_DNS_NXDOMAIN);
	expect_status(r, "sub.host.example.org", MP_DNS_A, MP_DNS_NXDOMAIN);
	/* empty non-terminals: RFC 8020 */
	expect_status(r, "ent.example.org", MP_DNS_TXT, MP_DNS_NODATA);
	expect_status(r, "example.org", MP_DNS_A, MP_DNS_NODATA);
	expect_status(r, "ghost.ent.example.org", MP_DNS_TXT, MP_DNS_NXDOMAIN);
	/* CNAMEs */
	expect_addr(r, "alias.example.org", MP_DNS_A, "192.0.2.10", 0);
	expect_status(r, "alias.example.org", MP_DNS_TXT, MP_DNS_NODATA);
	expect_status(r, "dangling.example.org", MP_DNS_A, MP_DNS_NXDOMAIN);
	expect_one(r, "c1.example.org", MP_DNS_TXT, "end"); /* 8 links */
	a = ask(r, "c0.example.org", MP_DNS_TXT);	    /* 9 links */
	assert_int_equal(a->status, MP_DNS_TEMPFAIL);
	assert_string_equal(a->why, "CNAME loop or chain longer than 8");
	mp_dns_answer_free(a);
	a = ask(r, "loop1.example.org", MP_DNS_A);
	assert_int_equal(a->status, MP_DNS_TEMPFAIL);
	mp_dns_answer_free(a);
	/* temporary failures: every type, name exists or not */
	assert_int_equal(mp_resolver_add_tempfail(r, "Broken.Example.Org.", &err), 0);
	assert_int_equal(mp_resolver_add_tempfail(r, "gone.example.org", &err), 0);
	expect_status(r, "broken.example.org", MP_DNS_TXT, MP_DNS_TEMPFAIL);
	expect_status(r, "broken.example.org", MP_DNS_A, MP_DNS_TEMPFAIL);
	expect_status(r, "gone.example.org", MP_DNS_MX, MP_DNS_TEMPFAIL);
	a = ask(r, "gone.example.org", MP_DNS_TXT);
	assert_non_null(a->why);
	mp_dns_answer_free(a);
	assert_int_equal(mp_resolver_add_tempfail(r, "a..b", &err), MP_EINVAL);
	/* names no server could hold */
	a = ask(r, longname, MP_DNS_TXT);
	assert_int_equal(a->status, MP_DNS_NXDOMAIN);
	assert_string_equal(a->why, "invalid domain name");
	mp_dns_answer_free(a);
	expect_status(r, "a..example.org", MP_DNS_A, MP_DNS_NXDOMAIN);
	expect_status(r, "sp ace.example.org", MP_DNS_A, MP_DNS_NXDOMAIN);
	expect_status(r, "", MP_DNS_A, MP_DNS_NXDOMAIN);
	assert_int_equal(mp_resolver_query(r, NULL, MP_DNS_A, &a, &err), MP_EINVAL);
	free(longname);
	mp_resolver_free(r);
}

static void
test_lookup_empty_zone(void **state)
{
	struct mp_resolver *r = zone_res(NULL);

	(void)state;
	expect_status(r, "example.org", MP_DNS_TXT, MP_DNS_NXDOMAIN);
	expect_status(r, "localhost", MP_DNS_A, MP_DNS_NXDOMAIN);
	mp_resolver_free(r);
	mp_resolver_free(NULL);
	mp_dns_answer_free(NULL);
}

/* ---- cache -------------------------------------------------------------------------- */

static void
test_cache(void **state)
{
	struct mp_resolver *r = zone_res("a.example. TXT \"one\"\n");
	struct mp_dns_answer *a1, *a2;
	struct mp_err err = {0};
	unsigned long hits, misses;
	const char *more = "b.example. TXT \"two\"\n";

	(void)state;
	a1 = ask(r, "a.example", MP_DNS_TXT);
	a2 = ask(r, "A.EXAMPLE.", MP_DNS_TXT);
	mp_resolver_stats(r, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 1);
	/* Each caller owns its copy. */
	assert_ptr_not_equal(a1, a2);
	assert_ptr_not_equal(a1->rr[0].data, a2->rr[0].data);
	mp_dns_answer_free(a1);
	assert_string_equal((char *)a2->rr[0].data, "one");
	mp_dns_answer_free(a2);
	/* Negative answers are cached too ... */
	expect_status(r, "b.example", MP_DNS_TXT, MP_DNS_NXDOMAIN);
	expect_status(r, "b.example", MP_DNS_TXT, MP_DNS_NXDOMAIN);
	mp_resolver_stats(r, &hits, &misses);
	assert_int_equal(hits, 2);
	assert_int_equal(misses, 2);
	/* ... but new zone data empties the cache. */
	assert_int_equal(mp_resolver_load_zone_text(r, more, strlen(more), NULL, &err), 0);
	expect_one(r, "b.example", MP_DNS_TXT, "two");
	/* The type is part of the key. */
	expect_status(r, "b.example", MP_DNS_A, MP_DNS_NODATA);
	mp_resolver_stats(r, &hits, &misses);
	assert_int_equal(hits, 2);
	assert_int_equal(misses, 4);
	mp_resolver_free(r);
}

static void
test_cache_evict(void **state)
{
	struct mp_resolver *r = zone_res(NULL);
	unsigned long hits, misses;
	char name[64];
	size_t i;

	(void)state;
	for (i = 0; i < MP_RESOLVER_CACHE_MAX + 10; i++) {
		snprintf(name, sizeof name, "n%zu.example", i);
		expect_status(r, name, MP_DNS_TXT, MP_DNS_NXDOMAIN);
	}
	/* The most recent is still there, the oldest was evicted. */
	expect_status(r, name, MP_DNS_TXT, MP_DNS_NXDOMAIN);
	mp_resolver_stats(r, &hits, &misses);
	assert_int_equal(hits, 1);
	expect_status(r, "n0.example", MP_DNS_TXT, MP_DNS_NXDOMAIN);
	mp_resolver_stats(r, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, MP_RESOLVER_CACHE_MAX + 11);
	mp_resolver_free(r);
}

/* ---- wire format -------------------------------------------------------------------- */

static void
test_wire(void **state)
{
	char *s255 = repeat('k', 255), *s45 = repeat('m', 45);
	char text[1024], exp[NS_MAXDNAME];
	unsigned char buf[4096];
	struct mp_resolver *r;
	struct mp_dns_answer *a;
	size_t len = 0;
	ns_msg msg;
	ns_rr rr;
	const unsigned char *rd;

	(void)state;
	snprintf(text, sizeof text,
		 "key.example. 300 TXT \"%s\" \"%s\"\n"
		 "empty.example. TXT \"\"\n"
		 "mail.example. MX 5 mx.example.net.\n"
		 "mx.example.net. A 192.0.2.25\n",
		 s255, s45);
	r = zone_res(text);

	/* A 300-byte TXT goes out as strings of 255 and 45 bytes. */
	a = ask(r, "key.example", MP_DNS_TXT);
	assert_int_equal(
	    mp_dns_answer_to_wire(a, "Key.Example.", MP_DNS_TXT, buf, sizeof buf, &len), 0);
	assert_int_equal(ns_initparse(buf, (int)len, &msg), 0);
	assert_int_equal(ns_msg_id(msg), 0);
	assert_int_equal(ns_msg_getflag(msg, ns_f_qr), 1);
	assert_int_equal(ns_msg_getflag(msg, ns_f_rcode), ns_r_noerror);
	assert_int_equal(ns_msg_count(msg, ns_s_qd), 1);
	assert_int_equal(ns_msg_count(msg, ns_s_an), 1);
	assert_int_equal(ns_parserr(&msg, ns_s_qd, 0, &rr), 0);
	assert_string_equal(ns_rr_name(rr), "key.example");
	assert_int_equal(ns_rr_type(rr), ns_t_txt);
	assert_int_equal(ns_rr_class(rr), ns_c_in);
	assert_int_equal(ns_parserr(&msg, ns_s_an, 0, &rr), 0);
	assert_string_equal(ns_rr_name(rr), "key.example");
	assert_int_equal(ns_rr_type(rr), ns_t_txt);
	assert_int_equal(ns_rr_ttl(rr), 300);
	assert_int_equal(ns_rr_rdlen(rr), 1 + 255 + 1 + 45);
	rd = ns_rr_rdata(rr);
	assert_int_equal(rd[0], 255);
	assert_memory_equal(rd + 1, s255, 255);
	assert_int_equal(rd[256], 45);
	assert_memory_equal(rd + 257, s45, 45);
	/* Too small a buffer */
	assert_int_equal(mp_dns_answer_to_wire(a, "key.example", MP_DNS_TXT, buf, len - 1, &len),
			 MP_ETOOBIG);
	assert_int_equal(mp_dns_answer_to_wire(a, "a..b", MP_DNS_TXT, buf, sizeof buf, &len),
			 MP_EINVAL);
	mp_dns_answer_free(a);

	/* An empty TXT is one empty string. */
	a = ask(r, "empty.example", MP_DNS_TXT);
	assert_int_equal(
	    mp_dns_answer_to_wire(a, "empty.example", MP_DNS_TXT, buf, sizeof buf, &len), 0);
	assert_int_equal(ns_initparse(buf, (int)len, &msg), 0);
	assert_int_equal(ns_parserr(&msg, ns_s_an, 0, &rr), 0);
	assert_int_equal(ns_rr_rdlen(rr), 1);
	assert_int_equal(ns_rr_rdata(rr)[0], 0);
	mp_dns_answer_free(a);

	/* MX: preference and an expandable name */
	a = ask(r, "mail.example", MP_DNS_MX);
	assert_int_equal(mp_dns_answer_to_wire(a, "mail.example", MP_DNS_MX, buf, sizeof buf, &len),
			 0);
	assert_int_equal(ns_initparse(buf, (int)len, &msg), 0);
	assert_int_equal(ns_parserr(&msg, ns_s_an, 0, &rr), 0);
	assert_int_equal(ns_rr_type(rr), ns_t_mx);
	assert_int_equal(ns_get16(ns_rr_rdata(rr)), 5);
	assert_true(dn_expand(buf, buf + len, ns_rr_rdata(rr) + 2, exp, sizeof exp) > 0);
	assert_string_equal(exp, "mx.example.net");
	mp_dns_answer_free(a);

	/* A */
	a = ask(r, "mx.example.net", MP_DNS_A);
	assert_int_equal(
	    mp_dns_answer_to_wire(a, "mx.example.net", MP_DNS_A, buf, sizeof buf, &len), 0);
	assert_int_equal(ns_initparse(buf, (int)len, &msg), 0);
	assert_int_equal(ns_parserr(&msg, ns_s_an, 0, &rr), 0);
	assert_int_equal(ns_rr_rdlen(rr), 4);
	assert_memory_equal(ns_rr_rdata(rr), "\xc0\x00\x02\x19", 4);
	mp_dns_answer_free(a);

	/* NXDOMAIN -> 3, NODATA -> NOERROR with no answer, TEMPFAIL -> SERVFAIL */
	a = ask(r, "nope.example", MP_DNS_TXT);
	assert_int_equal(
	    mp_dns_answer_to_wire(a, "nope.example", MP_DNS_TXT, buf, sizeof buf, &len), 0);
	assert_int_equal(ns_initparse(buf, (int)len, &msg), 0);
	assert_int_equal(ns_msg_getflag(msg, ns_f_rcode), ns_r_nxdomain);
	assert_int_equal(ns_msg_count(msg, ns_s_an), 0);
	mp_dns_answer_free(a);
	a = ask(r, "key.example", MP_DNS_A);
	assert_int_equal(mp_dns_answer_to_wire(a, "key.example", MP_DNS_A, buf, sizeof buf, &len),
			 0);
	assert_int_equal(ns_initparse(buf, (int)len, &msg), 0);
	assert_int_equal(ns_msg_getflag(msg, ns_f_rcode), ns_r_noerror);
	assert_int_equal(ns_msg_count(msg, ns_s_an), 0);
	mp_dns_answer_free(a);
	assert_int_equal(mp_resolver_add_tempfail(r, "key.example", &(struct mp_err){0}), 0);
	a = ask(r, "key.example", MP_DNS_TXT);
	assert_int_equal(mp_dns_answer_to_wire(a, "key.example", MP_DNS_TXT, buf, sizeof buf, &len),
			 0);
	assert_int_equal(ns_initparse(buf, (int)len, &msg), 0);
	assert_int_equal(ns_msg_getflag(msg, ns_f_rcode), ns_r_servfail);
	mp_dns_answer_free(a);

	free(s255);
	free(s45);
	mp_resolver_free(r);
}

/* ---- server mode -------------------------------------------------------------------- */

static void
test_server_address(void **state)
{
	static const struct {
		const char *addr;
		int rc;
	} cases[] = {
	    {"192.0.2.53", 0},
	    {"192.0.2.53@5353", 0},
	    {"1.2.3.4@5353", 0},
	    {"[::1]@53", 0},
	    {"[2001:db8::1]", 0},
	    {"::1", 0},
	    {"127.0.0.1@65535", 0},
	    {"bad@@", MP_EINVAL},
	    {"1.2.3.4@99999", MP_EINVAL},
	    {"1.2.3.4@0", MP_EINVAL},
	    {"1.2.3.4@", MP_EINVAL},
	    {"@53", MP_EINVAL},
	    {"", MP_EINVAL},
	    {NULL, MP_EINVAL},
	    {"[::1", MP_EINVAL},
	    {"[::1]53", MP_EINVAL},
	    {"ns.example", MP_EINVAL},
	    {"1.2.3.4@53x", MP_EINVAL},
	    {"[1.2.3.4]@53", MP_EINVAL},
	    {"1.2.3.4@+53", MP_EINVAL},
	    {"1.2.3@53", MP_EINVAL},
	    {"::1@53", 0},
	    {"1.2.3.4@053535", MP_EINVAL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mp_resolver_opts o = {.mode = MP_RESOLVER_SERVER, .server = cases[i].addr};
		struct mp_resolver *r = NULL;
		struct mp_err err = {0};
		int rc = mp_resolver_new(&r, &o, &err);

		if (rc != cases[i].rc)
			print_error("%s: %d (%s)\n", cases[i].addr ? cases[i].addr : "NULL", rc,
				    err.msg);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0) {
			struct mp_err e2 = {0};

			assert_non_null(r);
			/* zone-only calls are refused in this mode */
			assert_int_equal(mp_resolver_add_tempfail(r, "a.example", &e2), MP_EINVAL);
			assert_int_equal(mp_resolver_load_zone_text(r, "", 0, NULL, &e2),
					 MP_EINVAL);
		} else {
			assert_null(r);
			assert_true(err.msg[0] != '\0');
		}
		mp_resolver_free(r);
	}
}

/*
 * A tiny DNS server on 127.0.0.1 in a child process.  It answers from a fixed table by
 * query name; "slow.example" gets no answer at all.
 */
static size_t
put_name(unsigned char *p, const char *name)
{
	size_t o = 0;

	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);

		p[o++] = (unsigned char)l;
		memcpy(p + o, name, l);
		o += l;
		name += l + (dot != NULL);
	}
	p[o++] = 0;
	return o;
}

static size_t
put_rr_head(unsigned char *p, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	p[0] = 0xc0; /* owner: the question name */
	p[1] = 12;
	p[2] = (unsigned char)(type >> 8);
	p[3] = (unsigned char)type;
	p[4] = 0;
	p[5] = 1;
	p[6] = (unsigned char)(ttl >> 24);
	p[7] = (unsigned char)(ttl >> 16);
	p[8] = (unsigned char)(ttl >> 8);
	p[9] = (unsigned char)ttl;
	p[10] = (unsigned char)(rdlen >> 8);
	p[11] = (unsigned char)rdlen;
	return 12;
}

static size_t
fake_answer(const unsigned char *q, size_t qlen, unsigned char *out)
{
	char qname[256];
	size_t i = 12, o = 0, qend, k;
	unsigned qtype, rcode = 0, an = 0;
	unsigned char *p;

	if (qlen < 17)
		return 0;
	while (i < qlen && q[i] != 0 && o + q[i] + 1 < sizeof qname) {
		size_t l = q[i];

		if (i + 1 + l > qlen)
			return 0;
		if (o > 0)
			qname[o++] = '.';
		for (k = 0; k < l; k++)
			qname[o++] = (char)(q[i + 1 + k] | 0x20);
		i += 1 + l;
	}
	qname[o] = '\0';
	if (i + 5 > qlen)
		return 0;
	qtype = (unsigned)(q[i + 1] << 8 | q[i + 2]);
	qend = i + 5;
	if (strcmp(qname, "slow.example") == 0)
		return 0;
	memcpy(out, q, qend);
	p = out + qend;
	if (strcmp(qname, "txt.example") == 0 && qtype == MP_DNS_TXT) {
		p += put_rr_head(p, MP_DNS_TXT, 120, 13);
		memcpy(p, "\006hello \005world", 13);
		p += 13;
		an = 1;
	} else if (strcmp(qname, "mx.example") == 0 && qtype == MP_DNS_MX) {
		/* exchange "mail" + pointer to the question name: compressed rdata */
		p += put_rr_head(p, MP_DNS_MX, 120, 9);
		memcpy(p, "\000\012\004mail\300\014", 9);
		p += 9;
		an = 1;
	} else if (strcmp(qname, "1.2.0.192.in-addr.arpa") == 0 && qtype == MP_DNS_PTR) {
		p += put_rr_head(p, MP_DNS_PTR, 120, 14);
		p += put_name(p, "host.example");
		an = 1;
	} else if (strcmp(qname, "www.klant.test") == 0 && qtype == MP_DNS_A) {
		p += put_rr_head(p, MP_DNS_A, 120, 4);
		memcpy(p, "\300\000\002\007", 4);
		p += 4;
		an = 1;
	} else if (strcmp(qname, "cname.example") == 0 && qtype == MP_DNS_A) {
		p += put_rr_head(p, MP_DNS_CNAME, 120, 16);
		p += put_name(p, "target.example");
		p += put_name(p, "target.example");
		memcpy(p, "\000\001\000\001\000\000\000\170\000\004\300\000\002\011", 14);
		p += 14;
		an = 2;
	} else if (strcmp(qname, "target.example") == 0 && qtype == MP_DNS_A) {
		p += put_rr_head(p, MP_DNS_A, 120, 4);
		memcpy(p, "\300\000\002\011", 4);
		p += 4;
		an = 1;
	} else if (strcmp(qname, "fail.example") == 0) {
		rcode = 2;
	} else if (strcmp(qname, "refused.example") == 0) {
		rcode = 5;
	} else if (strcmp(qname, "nodata.example") != 0 && strcmp(qname, "txt.example") != 0) {
		rcode = 3;
	}
	out[2] = (unsigned char)(0x80 | (q[2] & 0x01) | 0x04); /* QR, RD copied, AA */
	out[3] = (unsigned char)(0x80 | rcode);
	out[4] = 0;
	out[5] = 1;
	out[6] = 0;
	out[7] = (unsigned char)an;
	memset(out + 8, 0, 4);
	return (size_t)(p - out);
}

static void
fake_server(int fd)
{
	unsigned char q[4096], a[4096];

	alarm(60);
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
		size_t len;

		if (n <= 0)
			continue;
		if ((len = fake_answer(q, (size_t)n, a)) > 0)
			sendto(fd, a, len, 0, (struct sockaddr *)&from, fl);
	}
}

struct server {
	pid_t pid;
	unsigned port;
};

static int
server_setup(void **state)
{
	struct server *s = calloc(1, sizeof *s);
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	int fd;

	if (s == NULL)
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0)
		return -1;
	s->port = ntohs(sin.sin_port);
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		fake_server(fd);
		_exit(0);
	}
	close(fd);
	*state = s;
	return 0;
}

static int
server_teardown(void **state)
{
	struct server *s = *state;

	if (s != NULL && s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	free(s);
	return 0;
}

static struct mp_resolver *
server_res(unsigned port, unsigned timeout_ms)
{
	char addr[64];
	struct mp_resolver_opts o = {
	    .mode = MP_RESOLVER_SERVER, .server = addr, .timeout_ms = timeout_ms};
	struct mp_resolver *r = NULL;
	struct mp_err err = {0};

	snprintf(addr, sizeof addr, "127.0.0.1@%u", port);
	assert_int_equal(mp_resolver_new(&r, &o, &err), 0);
	return r;
}

static long long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_server_answers(void **state)
{
	struct server *s = *state;
	struct mp_resolver *r = server_res(s->port, 3000);
	struct mp_dns_answer *a;
	unsigned long hits, misses;

	a = ask(r, "txt.example", MP_DNS_TXT);
	assert_int_equal(a->status, MP_DNS_OK);
	assert_int_equal(a->count, 1);
	assert_string_equal((char *)a->rr[0].data, "hello world");
	assert_int_equal(a->rr[0].len, 11);
	assert_int_equal(a->secure, 0);
	assert_int_equal(a->bogus, 0);
	mp_dns_answer_free(a);
	expect_one(r, "TXT.example.", MP_DNS_TXT, "hello world"); /* from the cache */
	mp_resolver_stats(r, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 1);

	a = ask(r, "mx.example", MP_DNS_MX);
	assert_int_equal(a->status, MP_DNS_OK);
	assert_int_equal(a->count, 1);
	assert_int_equal(a->rr[0].pref, 10);
	assert_string_equal((char *)a->rr[0].data, "mail.mx.example");
	mp_dns_answer_free(a);

	expect_one(r, "1.2.0.192.in-addr.arpa", MP_DNS_PTR, "host.example");
	expect_addr(r, "www.klant.test", MP_DNS_A, "192.0.2.7", 120);
	expect_addr(r, "cname.example", MP_DNS_A, "192.0.2.9", 0);
	expect_status(r, "nx.example", MP_DNS_TXT, MP_DNS_NXDOMAIN);
	expect_status(r, "nodata.example", MP_DNS_TXT, MP_DNS_NODATA);
	expect_status(r, "txt.example", MP_DNS_A, MP_DNS_NODATA);

	a = ask(r, "fail.example", MP_DNS_TXT);
	assert_int_equal(a->status, MP_DNS_TEMPFAIL);
	assert_non_null(a->why);
	mp_dns_answer_free(a);
	expect_status(r, "refused.example", MP_DNS_TXT, MP_DNS_TEMPFAIL);
	mp_resolver_free(r);
}

static void
test_server_timeout(void **state)
{
	struct server *s = *state;
	struct mp_resolver *r = server_res(s->port, 700);
	struct mp_dns_answer *a;
	long long t0 = ms_now(), dt;

	a = ask(r, "slow.example", MP_DNS_TXT);
	dt = ms_now() - t0;
	assert_int_equal(a->status, MP_DNS_TEMPFAIL);
	assert_non_null(a->why);
	assert_true(dt < 2500);
	mp_dns_answer_free(a);
	mp_resolver_free(r);
}

static struct mp_resolver *
server_res_ff(unsigned port, unsigned timeout_ms, bool fail_fast)
{
	char addr[64];
	struct mp_resolver_opts o = {.mode = MP_RESOLVER_SERVER,
				     .server = addr,
				     .timeout_ms = timeout_ms,
				     .fail_fast = fail_fast};
	struct mp_resolver *r = NULL;
	struct mp_err err = {0};

	snprintf(addr, sizeof addr, "127.0.0.1@%u", port);
	assert_int_equal(mp_resolver_new(&r, &o, &err), 0);
	return r;
}

/* fail_fast: a server that timed out before it ever answered is not asked again; one
 * that answered before is, and without fail_fast every query waits for its own answer. */
static void
test_server_fail_fast(void **state)
{
	struct server *s = *state;
	struct mp_resolver *r = server_res_ff(s->port, 500, true);
	struct mp_dns_answer *a;
	long long t0;

	expect_status(r, "slow.example", MP_DNS_TXT, MP_DNS_TEMPFAIL);
	t0 = ms_now();
	a = ask(r, "txt.example", MP_DNS_TXT);
	assert_int_equal(a->status, MP_DNS_TEMPFAIL);
	assert_true(ms_now() - t0 < 250);
	mp_dns_answer_free(a);
	mp_resolver_free(r);

	r = server_res_ff(s->port, 500, true);
	expect_one(r, "txt.example", MP_DNS_TXT, "hello world");
	expect_status(r, "slow.example", MP_DNS_TXT, MP_DNS_TEMPFAIL);
	expect_status(r, "nx.example", MP_DNS_TXT, MP_DNS_NXDOMAIN);
	mp_resolver_free(r);

	r = server_res_ff(s->port, 500, false);
	expect_status(r, "slow.example", MP_DNS_TXT, MP_DNS_TEMPFAIL);
	expect_one(r, "txt.example", MP_DNS_TXT, "hello world");
	mp_resolver_free(r);
}

static void
test_server_closed_port(void **state)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	struct mp_resolver *r;
	long long t0, dt;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);
	r = server_res(ntohs(sin.sin_port), 1000);
	t0 = ms_now();
	expect_status(r, "example.org", MP_DNS_TXT, MP_DNS_TEMPFAIL);
	dt = ms_now() - t0;
	assert_true(dt < 3000);
	mp_resolver_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_zone_features),
	    cmocka_unit_test(test_zone_origin),
	    cmocka_unit_test(test_zone_errors),
	    cmocka_unit_test(test_zone_bounds),
	    cmocka_unit_test(test_zone_file),
	    cmocka_unit_test(test_zone_conformance),
	    cmocka_unit_test(test_system_mode),
	    cmocka_unit_test(test_lookup_status),
	    cmocka_unit_test(test_lookup_empty_zone),
	    cmocka_unit_test(test_cache),
	    cmocka_unit_test(test_cache_evict),
	    cmocka_unit_test(test_wire),
	    cmocka_unit_test(test_server_address),
	    cmocka_unit_test_setup_teardown(test_server_answers, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_timeout, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_fail_fast, server_setup, server_teardown),
	    cmocka_unit_test(test_server_closed_port),
	};

	return cmocka_run_group_tests_name("resolver", tests, NULL, NULL);
}
