/*
 * resolver.h - the one DNS resolver of the project.
 *
 * Three modes: the system's resolver (libunbound reading /etc/resolv.conf), one
 * named server ("ADDR[@PORT]", libunbound forwarding), or an in-memory zone loaded
 * from an RFC 1035 master file (offline: a name not in it is NXDOMAIN, nothing goes
 * to the network).  DKIM, SPF and DMARC all ask through here, so there is one cache
 * (bounded, MP_RESOLVER_CACHE_MAX answers) and one behaviour.  A failed lookup
 * (timeout, SERVFAIL, bogus DNSSEC) is MP_DNS_TEMPFAIL, never "no such record".
 * Answers are caller-owned copies (mp_dns_answer_free).  Not thread-safe: one resolver
 * per thread.  DNSSEC status needs /usr/share/dns/root.key and SYSTEM mode.
 */
#ifndef MP_RESOLVER_H
#define MP_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define MP_RESOLVER_CACHE_MAX 4096
#define MP_ZONE_MAX_BYTES (16u * 1024 * 1024) /* largest zone file accepted */

/* RR types we use (RFC 1035 / 3596 numbers). */
enum {
	MP_DNS_A = 1,
	MP_DNS_NS = 2,
	MP_DNS_CNAME = 5,
	MP_DNS_SOA = 6,
	MP_DNS_PTR = 12,
	MP_DNS_MX = 15,
	MP_DNS_TXT = 16,
	MP_DNS_AAAA = 28,
	MP_DNS_SPF = 99,
};

enum mp_resolver_mode {
	MP_RESOLVER_SYSTEM = 0, /* /etc/resolv.conf via libunbound */
	MP_RESOLVER_SERVER,     /* forward to opts.server */
	MP_RESOLVER_ZONE,       /* in-memory zone only (zone_file may be NULL: empty zone) */
};

/*
 * SYSTEM and SERVER both use libunbound: loopback upstreams allowed, the RFC 5737
 * TEST-NET reverse zones and "test." passed upstream instead of answered locally.
 * The root trust anchor is loaded in SYSTEM mode only: a --resolver server is often
 * authoritative or a test server, which cannot serve the chain of trust (all bogus).
 */
struct mp_resolver_opts {
	enum mp_resolver_mode mode;
	const char *server;    /* MP_RESOLVER_SERVER: "192.0.2.53", "192.0.2.53@5353", "[::1]@53";
				* numeric only, port 1-65535 (MP_EINVAL otherwise) */
	const char *zone_file; /* MP_RESOLVER_ZONE */
	unsigned timeout_ms;   /* per query; 0 = default (5000) */
	/* MP_RESOLVER_SERVER: once a query has timed out before the server answered anything
	 * at all, later queries fail at once instead of waiting out their own timeouts (a
	 * server that is down or unreachable).  Not for batches of unrelated domains. */
	bool fail_fast;
};

enum mp_dns_status {
	MP_DNS_OK = 0,      /* at least one record of the asked type */
	MP_DNS_NXDOMAIN,    /* the name does not exist */
	MP_DNS_NODATA,      /* the name exists, but has no record of this type */
	MP_DNS_TEMPFAIL,    /* timeout, SERVFAIL, refused, bogus: the lookup itself failed */
};

struct mp_dns_rr {
	uint16_t type;
	uint32_t ttl;
	uint16_t pref;      /* MX preference */
	size_t len;         /* bytes in data (without the terminating NUL) */
	unsigned char *data; /* A: 4 bytes; AAAA: 16 bytes; TXT: the strings of one record
			      * joined; MX/PTR/CNAME/NS: the target name, lower case, no trailing
			      * dot.  Always NUL-terminated. */
};

struct mp_dns_answer {
	enum mp_dns_status status;
	int secure;  /* DNSSEC validated (never in zone mode) */
	int bogus;   /* DNSSEC validation failed (then status is MP_DNS_TEMPFAIL) */
	char *why;   /* NULL or a short reason for TEMPFAIL ("timeout", "SERVFAIL", ...) */
	size_t count;
	struct mp_dns_rr *rr; /* count records, in answer order, CNAMEs already followed */
};

struct mp_resolver;

int mp_resolver_new(struct mp_resolver **out, const struct mp_resolver_opts *opts,
		    struct mp_err *err);
void mp_resolver_free(struct mp_resolver *r);

/*
 * Zone mode only: add records.  `text` is master-file text (RFC 1035 section 5:
 * $ORIGIN, $TTL, relative and absolute names, '@', parentheses, comments, multi-string
 * TXT).  `origin` may be NULL (then relative names are relative to the root).  Types: A,
 * AAAA, TXT, SPF, MX, PTR, CNAME, NS, SOA (checked, not kept); $INCLUDE and other types
 * are MP_EPARSE with "label:line: why" in err.  No wildcards ("*" is an ordinary label).
 * Every ancestor of an owner exists (empty non-terminal: NODATA, not NXDOMAIN).  A CNAME
 * is followed up to 8 links; a longer chain or a loop is MP_DNS_TEMPFAIL (as a recursive
 * server's SERVFAIL).  Empties the cache.  Used by --zone and by tests.
 */
int mp_resolver_load_zone_text(struct mp_resolver *r, const char *text, size_t len,
			       const char *origin, struct mp_err *err);
/* Zone mode only: every query for `name` (any type) fails with MP_DNS_TEMPFAIL. */
int mp_resolver_add_tempfail(struct mp_resolver *r, const char *name, struct mp_err *err);

/*
 * Looks up name/type (name with or without trailing dot, any case).  Returns 0 and a
 * caller-owned answer (whatever its status), or a negative code for a programming or
 * memory error.  A DNS failure is an answer with status MP_DNS_TEMPFAIL, not an error.
 * A name no DNS server could hold (empty label, label > 63, > 253 bytes, bytes outside
 * printable ASCII) is MP_DNS_NXDOMAIN with why "invalid domain name".  Only records of
 * the asked type are returned (MP_DNS_SPF does not fall back to TXT).  Cached: zone
 * answers until the zone changes, network answers for their TTL (5 s .. 1 h),
 * TEMPFAIL for 5 s.
 */
int mp_resolver_query(struct mp_resolver *r, const char *name, uint16_t type,
		      struct mp_dns_answer **out, struct mp_err *err);
void mp_dns_answer_free(struct mp_dns_answer *a);

/*
 * Asynchronous lookups: many queries in flight on one libunbound context (dns --batch).
 *
 * mp_resolver_query_start() answers at once when it can (cache, zone mode, an invalid
 * name): then *now is the answer and `done` is never called.  Otherwise *now is NULL and
 * done(arg, answer) runs later from mp_resolver_process(), with a caller-owned answer
 * (NULL: out of memory), at the latest timeout_ms after the start ("timeout", TEMPFAIL).
 * Between calls, poll mp_resolver_fd() for reading with mp_resolver_next_timeout() as the
 * limit.  Answers go into the one cache as mp_resolver_query()'s do.
 */
typedef void (*mp_dns_done_fn)(void *arg, struct mp_dns_answer *a);
int mp_resolver_query_start(struct mp_resolver *r, const char *name, uint16_t type,
			    mp_dns_done_fn done, void *arg, struct mp_dns_answer **now,
			    struct mp_err *err);
/* Queries started and not answered yet. */
size_t mp_resolver_pending(const struct mp_resolver *r);
/* Readable when answers have arrived; -1 in zone mode (nothing is ever pending). */
int mp_resolver_fd(const struct mp_resolver *r);
/* Milliseconds until the next pending query times out (0: overdue), -1 when none is. */
int mp_resolver_next_timeout(const struct mp_resolver *r);
/* Runs `done` for every arrived answer and every overdue query.  MP_EIO when libunbound's
 * channel broke (every pending query is then answered TEMPFAIL). */
int mp_resolver_process(struct mp_resolver *r);
/*
 * With a waiter set, mp_resolver_query() starts its query and calls wait(arg, answered)
 * until *answered is non-zero, instead of polling itself: the waiter lets other work
 * (other domains' checks) run and drives mp_resolver_process().  NULL removes it.
 */
void mp_resolver_set_wait(struct mp_resolver *r, void (*wait)(void *arg, const int *answered),
			  void *arg);

/*
 * Encodes an answer as a DNS wire-format response to `name`/`type` (for libopendkim's
 * DNS hooks): ID 0, QR RD RA (AD if secure), rcode NOERROR / NXDOMAIN / SERVFAIL
 * (TEMPFAIL), the question, and the records with the question name as owner; TXT data
 * split into 255-byte strings.  Returns 0 and sets *outlen, MP_ETOOBIG when buf is too
 * small, MP_EINVAL for a bad name.  Note: libopendkim reads a SERVFAIL reply as "no key";
 * its waitreply hook must return DKIM_DNS_ERROR for a TEMPFAIL answer instead.
 */
int mp_dns_answer_to_wire(const struct mp_dns_answer *a, const char *name, uint16_t type,
			  unsigned char *buf, size_t buflen, size_t *outlen);

/* Number of queries answered from the cache / sent upstream (for -v and benchmarks). */
void mp_resolver_stats(const struct mp_resolver *r, unsigned long *hits, unsigned long *misses);

#endif
