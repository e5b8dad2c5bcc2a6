/* resolver.c - the project's DNS resolver: zone store, libunbound, one cache; see resolver.h. */
#include "resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <unbound.h>

#include "i18n.h"
#include "util.h"
#include "zone.h"

#define DEFAULT_TIMEOUT_MS 5000
#define CNAME_DEPTH_MAX 8    /* CNAME links followed in zone mode */
#define CACHE_BUCKETS 8192   /* power of two, > MP_RESOLVER_CACHE_MAX */
#define CACHE_TTL_MIN 5	     /* seconds: even TTL 0 answers are reused briefly */
#define CACHE_TTL_MAX 3600   /* seconds: a long-running inspector sees DNS changes */
#define CACHE_TEMPFAIL_TTL 5 /* seconds: a dead server is not asked 4,000 times a second */
#define ZONE_NODES_MAX (4u * MP_ZONE_MAX_RECORDS) /* names incl. empty non-terminals */
#define ROOT_KEY_FILE "/usr/share/dns/root.key"	  /* Debian package dns-root-data */

/*
 * Reverse zones that libunbound answers locally by default (RFC 5737 TEST-NET and the
 * "test." TLD of RFC 6761) but that test setups and documentation examples publish on a
 * real server: make them transparent so the query goes upstream.
 */
static const char *const transparent_zones[] = {
    "2.0.192.in-addr.arpa.",
    "100.51.198.in-addr.arpa.",
    "113.0.203.in-addr.arpa.",
    "test.",
};

/* Zone mode: one node per owner name; ENT nodes (RFC 8020 section 2) have no records. */
struct znode {
	char *name;
	uint32_t hash;
	struct znode *next;
	struct mp_dns_rr *rr;
	size_t count;
	size_t cap;
	int tempfail;
};

struct centry {
	char *name;
	uint16_t type;
	uint32_t hash;
	time_t expires; /* monotonic seconds; 0 = until the zone changes */
	struct mp_dns_answer *ans;
	struct centry *hnext;
	struct centry *prev; /* LRU list, most recent first */
	struct centry *next;
};

/*
 * One asynchronous libunbound query.  Pending queries are on the resolver's list until
 * answered or timed out; a timed-out query that ub_cancel() could not stop is orphaned
 * (its callback frees the result later; the struct goes with the resolver).
 */
struct ubq {
	struct mp_resolver *r;
	int id;
	int orphan;
	char *name;
	uint16_t type;
	uint32_t hash;
	long long deadline; /* monotonic ms */
	mp_dns_done_fn done;
	void *arg;
	struct ubq *prev, *next;
};

struct mp_resolver {
	enum mp_resolver_mode mode;
	unsigned timeout_ms;
	bool fail_fast;		/* opts.fail_fast */
	unsigned long answered; /* answers the server gave (SERVFAIL not counted) */
	bool silent;		/* fail_fast and a query timed out before any answer */
	struct ub_ctx *ub;
	struct ubq *orphans;
	struct ubq *pending; /* asynchronous queries not answered yet */
	size_t npending;
	void (*wait)(void *arg, const int *answered); /* mp_resolver_set_wait() */
	void *wait_arg;

	struct znode **zb;
	size_t znb;
	size_t zn;

	struct centry *cb[CACHE_BUCKETS];
	size_t ccount;
	struct centry *lru_head;
	struct centry *lru_tail;

	unsigned long hits;
	unsigned long misses;
};

/* FNV-1a over the normalised name, then the type. */
static uint32_t
hash_name(const char *s, uint16_t type)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	h ^= type & 0xff;
	h *= 16777619u;
	h ^= type >> 8;
	h *= 16777619u;
	return h;
}

static time_t
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- answers ---------------------------------------------------------------------- */

void
mp_dns_answer_free(struct mp_dns_answer *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->count; i++)
		free(a->rr[i].data);
	free(a->rr);
	free(a->why);
	free(a);
}

static struct mp_dns_answer *
answer_new(enum mp_dns_status status, const char *why)
{
	struct mp_dns_answer *a = calloc(1, sizeof *a);

	if (a == NULL)
		return NULL;
	a->status = status;
	if (why != NULL && (a->why = mp_strdup_z(why)) == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

/* Appends one record (data copied, NUL added). */
static int
answer_add(struct mp_dns_answer *a, const struct mp_dns_rr *rr)
{
	struct mp_dns_rr *n;
	unsigned char *d;

	if (rr->len == (size_t)-1)
		return MP_ENOMEM;
	if ((d = malloc(rr->len + 1)) == NULL)
		return MP_ENOMEM;
	if (rr->len > 0)
		memcpy(d, rr->data, rr->len);
	d[rr->len] = '\0';
	n = realloc(a->rr, (a->count + 1) * sizeof *n);
	if (n == NULL) {
		free(d);
		return MP_ENOMEM;
	}
	a->rr = n;
	n[a->count] = *rr;
	n[a->count].data = d;
	a->count++;
	return 0;
}

static struct mp_dns_answer *
answer_dup(const struct mp_dns_answer *src)
{
	struct mp_dns_answer *a;
	size_t i;

	if ((a = answer_new(src->status, src->why)) == NULL)
		return NULL;
	a->secure = src->secure;
	a->bogus = src->bogus;
	if (src->count > 0 && (a->rr = malloc(src->count * sizeof *a->rr)) == NULL)
		goto fail;
	for (i = 0; i < src->count; i++) {
		a->rr[i] = src->rr[i];
		if ((a->rr[i].data = malloc(src->rr[i].len + 1)) == NULL)
			goto fail;
		memcpy(a->rr[i].data, src->rr[i].data, src->rr[i].len + 1);
		a->count++;
	}
	return a;
fail:
	mp_dns_answer_free(a);
	return NULL;
}

/* ---- zone store --------------------------------------------------------------------- */

static struct znode *
zone_find(const struct mp_resolver *r, const char *name)
{
	uint32_t h = hash_name(name, 0);
	struct znode *n;

	if (r->znb == 0)
		return NULL;
	for (n = r->zb[h & (r->znb - 1)]; n != NULL; n = n->next)
		if (n->hash == h && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static int
zone_grow(struct mp_resolver *r)
{
	size_t nb = r->znb ? r->znb * 2 : 256, i;
	struct znode **b, *n, *next;

	if (nb > ((size_t)-1) / sizeof *b)
		return MP_ENOMEM;
	if ((b = calloc(nb, sizeof *b)) == NULL)
		return MP_ENOMEM;
	for (i = 0; i < r->znb; i++)
		for (n = r->zb[i]; n != NULL; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	free(r->zb);
	r->zb = b;
	r->znb = nb;
	return 0;
}

static int
zone_node(struct mp_resolver *r, const char *name, struct znode **out)
{
	struct znode *n;
	int rc;

	if ((n = zone_find(r, name)) != NULL) {
		*out = n;
		return 0;
	}
	if (r->zn >= ZONE_NODES_MAX)
		return MP_ETOOBIG;
	if (r->zn >= r->znb && (rc = zone_grow(r)) != 0)
		return rc;
	if ((n = calloc(1, sizeof *n)) == NULL)
		return MP_ENOMEM;
	if ((n->name = mp_strdup_z(name)) == NULL) {
		free(n);
		return MP_ENOMEM;
	}
	n->hash = hash_name(name, 0);
	n->next = r->zb[n->hash & (r->znb - 1)];
	r->zb[n->hash & (r->znb - 1)] = n;
	r->zn++;
	*out = n;
	return 0;
}

/*
 * The node for `name`, plus a node for every ancestor, so that an empty non-terminal
 * answers NODATA rather than NXDOMAIN (RFC 8020 section 2).
 */
static int
zone_node_path(struct mp_resolver *r, const char *name, struct znode **out)
{
	const char *p;
	struct znode *anc;
	int rc;

	if ((rc = zone_node(r, name, out)) != 0)
		return rc;
	for (p = strchr(name, '.'); p != NULL; p = strchr(p + 1, '.'))
		if ((rc = zone_node(r, p + 1, &anc)) != 0)
			return rc;
	return 0;
}

static int
zone_add_cb(void *arg, const char *owner, const struct mp_dns_rr *rr, struct mp_err *err)
{
	struct mp_resolver *r = arg;
	struct znode *n;
	struct mp_dns_rr *v;
	unsigned char *d = NULL;
	int rc;

	if ((rc = zone_node_path(r, owner, &n)) != 0)
		goto out;
	if (rr->type == MP_DNS_SOA)
		goto out; /* the name exists; the SOA fields are not needed */
	if (n->count == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 2;

		if ((v = realloc(n->rr, cap * sizeof *v)) == NULL) {
			rc = MP_ENOMEM;
			goto out;
		}
		n->rr = v;
		n->cap = cap;
	}
	if ((d = malloc(rr->len + 1)) == NULL) {
		rc = MP_ENOMEM;
		goto out;
	}
	memcpy(d, rr->data, rr->len);
	d[rr->len] = '\0';
	n->rr[n->count] = *rr;
	n->rr[n->count].data = d;
	n->count++;
out:
	if (rc == MP_ENOMEM)
		mp_err_set(err, rc, _("out of memory"));
	else if (rc == MP_ETOOBIG)
		mp_err_set(err, rc, _("zone: more than %u names"), ZONE_NODES_MAX);
	return rc;
}

static void
zone_free(struct mp_resolver *r)
{
	struct znode *n, *next;
	size_t i, k;

	for (i = 0; i < r->znb; i++)
		for (n = r->zb[i]; n != NULL; n = next) {
			next = n->next;
			for (k = 0; k < n->count; k++)
				free(n->rr[k].data);
			free(n->rr);
			free(n->name);
			free(n);
		}
	free(r->zb);
	r->zb = NULL;
	r->znb = r->zn = 0;
}

/*
 * Zone-mode lookup.  A CNAME is followed (RFC 1034 section 4.3.2) at most
 * CNAME_DEPTH_MAX times; a longer chain or a loop is TEMPFAIL, as a recursive server
 * answers SERVFAIL for it: the zone is broken, the name is not proven absent.
 */
static int
zone_lookup(struct mp_resolver *r, const char *name, uint16_t type, struct mp_dns_answer **out)
{
	const struct znode *n;
	const char *cur = name;
	struct mp_dns_answer *a = NULL;
	size_t i, depth = 0;
	int rc = 0;

	for (;;) {
		const struct mp_dns_rr *cname = NULL;
		size_t found = 0;

		if ((n = zone_find(r, cur)) == NULL) {
			a = answer_new(MP_DNS_NXDOMAIN, NULL);
			break;
		}
		if (n->tempfail) {
			a = answer_new(MP_DNS_TEMPFAIL, _("temporary failure (zone)"));
			break;
		}
		for (i = 0; i < n->count; i++) {
			if (n->rr[i].type == type)
				found++;
			else if (n->rr[i].type == MP_DNS_CNAME && cname == NULL)
				cname = &n->rr[i];
		}
		if (found > 0) {
			if ((a = answer_new(MP_DNS_OK, NULL)) == NULL)
				break;
			for (i = 0; i < n->count && rc == 0; i++)
				if (n->rr[i].type == type)
					rc = answer_add(a, &n->rr[i]);
			break;
		}
		if (cname == NULL || type == MP_DNS_CNAME) {
			a = answer_new(MP_DNS_NODATA, NULL);
			break;
		}
		if (++depth > CNAME_DEPTH_MAX) {
			a = answer_new(MP_DNS_TEMPFAIL, _("CNAME loop or chain longer than 8"));
			break;
		}
		cur = (const char *)cname->data;
	}
	if (a == NULL || rc != 0) {
		mp_dns_answer_free(a);
		return MP_ENOMEM;
	}
	*out = a;
	return 0;
}

/* ---- cache -------------------------------------------------------------------------- */

static void
lru_unlink(struct mp_resolver *r, struct centry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		r->lru_head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		r->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push(struct mp_resolver *r, struct centry *e)
{
	e->prev = NULL;
	e->next = r->lru_head;
	if (r->lru_head != NULL)
		r->lru_head->prev = e;
	r->lru_head = e;
	if (r->lru_tail == NULL)
		r->lru_tail = e;
}

static void
cache_remove(struct mp_resolver *r, struct centry *e)
{
	struct centry **pp;

	for (pp = &r->cb[e->hash & (CACHE_BUCKETS - 1)]; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	lru_unlink(r, e);
	r->ccount--;
	mp_dns_answer_free(e->ans);
	free(e->name);
	free(e);
}

static void
cache_clear(struct mp_resolver *r)
{
	while (r->lru_head != NULL)
		cache_remove(r, r->lru_head);
}

static struct centry *
cache_get(struct mp_resolver *r, const char *name, uint16_t type, uint32_t h)
{
	struct centry *e;

	for (e = r->cb[h & (CACHE_BUCKETS - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->type == type && strcmp(e->name, name) == 0)
			break;
	if (e == NULL)
		return NULL;
	if (e->expires != 0 && e->expires <= now_sec()) {
		cache_remove(r, e);
		return NULL;
	}
	lru_unlink(r, e);
	lru_push(r, e);
	return e;
}

/* Takes ownership of `a` (freed on failure: the cache is only an optimisation). */
static void
cache_put(struct mp_resolver *r, const char *name, uint16_t type, uint32_t h,
	  struct mp_dns_answer *a, time_t expires)
{
	struct centry *e;

	if (r->ccount >= MP_RESOLVER_CACHE_MAX)
		cache_remove(r, r->lru_tail);
	if ((e = calloc(1, sizeof *e)) == NULL || (e->name = mp_strdup_z(name)) == NULL) {
		free(e);
		mp_dns_answer_free(a);
		return;
	}
	e->type = type;
	e->hash = h;
	e->ans = a;
	e->expires = expires;
	e->hnext = r->cb[h & (CACHE_BUCKETS - 1)];
	r->cb[h & (CACHE_BUCKETS - 1)] = e;
	lru_push(r, e);
	r->ccount++;
}

/* ---- libunbound --------------------------------------------------------------------- */

/*
 * "ADDR", "ADDR@PORT", "[V6]", "[V6]@PORT" -> "ADDR@PORT" for ub_ctx_set_fwd().
 * The address must be numeric: a name would need a resolver to find the resolver.
 */
static int
parse_server(const char *s, char *out, size_t outlen, struct mp_err *err)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	const char *at, *end;
	unsigned long port = 53;
	size_t alen;
	int v6 = 0, rc = 0;

	if (s == NULL || *s == '\0') {
		rc = mp_err_set(err, MP_EINVAL, _("no DNS server given (ADDR[@PORT])"));
		goto out;
	}
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			goto bad;
		at = end[1] == '\0' ? NULL : end + 1;
		if (at != NULL && *at != '@')
			goto bad;
		s++;
		alen = (size_t)(end - s);
		v6 = 1;
	} else {
		at = strchr(s, '@');
		alen = at != NULL ? (size_t)(at - s) : strlen(s);
		/* A bare IPv6 address has colons and no port. */
		v6 = memchr(s, ':', alen) != NULL;
	}
	if (alen == 0 || alen >= sizeof addr)
		goto bad;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1)
		goto bad;
	if (at != NULL) {
		const char *p = at + 1;

		if (*p == '\0' || strlen(p) > 5)
			goto bad;
		for (port = 0; *p != '\0'; p++) {
			if (*p < '0' || *p > '9')
				goto bad;
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port == 0 || port > 65535)
			goto bad;
	}
	if ((size_t)snprintf(out, outlen, "%s@%lu", addr, port) >= outlen)
		goto bad;
	goto out;
bad:
	rc = mp_err_set(
	    err, MP_EINVAL,
	    _("bad DNS server address (use ADDR, ADDR@PORT or [IPV6]@PORT with a numeric "
	      "address and port 1-65535)"));
out:
	return rc;
}

static int
ub_setup(struct mp_resolver *r, const struct mp_resolver_opts *opts, struct mp_err *err)
{
	char fwd[INET6_ADDRSTRLEN + 8];
	size_t i;
	int rc = 0, e;

	if (opts->mode == MP_RESOLVER_SERVER &&
	    (rc = parse_server(opts->server, fwd, sizeof fwd, err)) != 0)
		goto out;
	if ((r->ub = ub_ctx_create()) == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("libunbound: cannot create a resolver context"));
		goto out;
	}
	/*
	 * The system resolver is often 127.0.0.53 or a local unbound, and test servers
	 * listen on 127.0.0.1: loopback upstreams must be allowed.  Options are frozen by
	 * the first query and by ub_ctx_zone_add(), so everything is set here, in order.
	 */
	if ((e = ub_ctx_set_option(r->ub, "do-not-query-localhost:", "no")) != 0)
		goto ub_fail;
	if (opts->mode == MP_RESOLVER_SERVER) {
		if ((e = ub_ctx_set_fwd(r->ub, fwd)) != 0)
			goto ub_fail;
	} else {
		if ((e = ub_ctx_resolvconf(r->ub, NULL)) != 0) {
			rc = mp_err_set(err, MP_EIO, _("cannot use /etc/resolv.conf: %s"),
					ub_strerror(e));
			goto out;
		}
		/*
		 * DNSSEC status only in system mode: a server named with --resolver is often
		 * an authoritative or test server that cannot serve the chain of trust, and
		 * validation would then turn every answer bogus.
		 */
		if (access(ROOT_KEY_FILE, R_OK) == 0) {
			if ((e = ub_ctx_add_ta_file(r->ub, ROOT_KEY_FILE)) != 0)
				goto ub_fail;
			/*
			 * Names reserved for testing (RFC 6761, RFC 5737) can never be signed
			 * under the root; a private server for them would only ever look
			 * bogus.  Treat them as unsigned instead.
			 */
			for (i = 0; i < sizeof transparent_zones / sizeof transparent_zones[0];
			     i++)
				if ((e = ub_ctx_set_option(r->ub, "domain-insecure:",
							   transparent_zones[i])) != 0)
					goto ub_fail;
		}
	}
	/* A thread, not a forked process, answers; poll(ub_fd()) bounds each query. */
	if ((e = ub_ctx_async(r->ub, 1)) != 0)
		goto ub_fail;
	for (i = 0; i < sizeof transparent_zones / sizeof transparent_zones[0]; i++)
		if ((e = ub_ctx_zone_add(r->ub, transparent_zones[i], "transparent")) != 0)
			goto ub_fail;
	goto out;
ub_fail:
	rc = mp_err_set(err, MP_EINVAL, "libunbound: %s", ub_strerror(e));
out:
	return rc;
}

/* Wire name (uncompressed, as in ub_result data[]) -> text, lower case, no final dot. */
static int
wire_name(const unsigned char *p, size_t n, size_t *used, char *out)
{
	size_t i = 0, o = 0;

	for (;;) {
		size_t l, k;

		if (i >= n)
			return MP_EPARSE;
		l = p[i++];
		if (l == 0)
			break;
		if (l > MP_ZONE_LABEL_MAX || l > n - i || o + l + 1 > MP_ZONE_NAME_MAX + 1)
			return MP_EPARSE; /* includes compression pointers (0xc0) */
		if (o > 0)
			out[o++] = '.';
		for (k = 0; k < l; k++) {
			unsigned char c = p[i + k];

			if (c <= 0x20 || c >= 0x7f || c == '.')
				return MP_EPARSE;
			out[o++] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
		}
		i += l;
	}
	if (o > MP_ZONE_NAME_MAX)
		return MP_EPARSE;
	out[o] = '\0';
	*used = i;
	return 0;
}

/* One rdata of the asked type (RFC 1035 section 3.3, RFC 3596 section 2.2) -> record. */
static int
ub_rdata(struct mp_dns_answer *a, uint16_t type, uint32_t ttl, const unsigned char *p, size_t n)
{
	struct mp_dns_rr rr;
	char name[MP_ZONE_NAME_MAX + 1];
	unsigned char *txt = NULL;
	size_t i, used, tl = 0;
	int rc = 0;

	memset(&rr, 0, sizeof rr);
	rr.type = type;
	rr.ttl = ttl;
	switch (type) {
	case MP_DNS_A:
	case MP_DNS_AAAA:
		if (n != (type == MP_DNS_A ? 4u : 16u))
			return MP_EPARSE;
		rr.data = (unsigned char *)(uintptr_t)p;
		rr.len = n;
		break;
	case MP_DNS_MX:
	case MP_DNS_NS:
	case MP_DNS_CNAME:
	case MP_DNS_PTR:
		if (type == MP_DNS_MX) {
			if (n < 3)
				return MP_EPARSE;
			rr.pref = (uint16_t)(p[0] << 8 | p[1]);
			p += 2;
			n -= 2;
		}
		if (wire_name(p, n, &used, name) != 0 || used != n)
			return MP_EPARSE;
		rr.data = (unsigned char *)name;
		rr.len = strlen(name);
		break;
	case MP_DNS_TXT:
	case MP_DNS_SPF:
		/* Several <character-string>s, joined (RFC 7208 section 3.3, RFC 6376 3.6.2.2). */
		if ((txt = malloc(n + 1)) == NULL)
			return MP_ENOMEM;
		for (i = 0; i < n;) {
			size_t l = p[i++];

			if (l > n - i) {
				rc = MP_EPARSE;
				goto out;
			}
			memcpy(txt + tl, p + i, l);
			tl += l;
			i += l;
		}
		rr.data = txt;
		rr.len = tl;
		break;
	default:
		rr.data = (unsigned char *)(uintptr_t)p;
		rr.len = n;
		break;
	}
	rc = answer_add(a, &rr);
out:
	free(txt);
	return rc;
}

static const char *
rcode_name(int rcode)
{
	switch (rcode) {
	case 1:
		return "FORMERR";
	case 2:
		return "SERVFAIL";
	case 4:
		return "NOTIMP";
	case 5:
		return "REFUSED";
	default:
		return _("unexpected DNS rcode");
	}
}

static int
ub_convert(int err, const struct ub_result *res, uint16_t type, struct mp_dns_answer **out)
{
	struct mp_dns_answer *a = NULL;
	int i, rc = 0, bad = 0;

	if (err != 0 || res == NULL) {
		a = answer_new(MP_DNS_TEMPFAIL, err != 0 ? ub_strerror(err) : _("no result"));
	} else if (res->bogus) {
		/* RFC 4035 section 5.5: bogus data is not to be used. */
		if ((a = answer_new(MP_DNS_TEMPFAIL, _("DNSSEC bogus"))) != NULL)
			a->bogus = 1;
	} else if (res->rcode == 3 || res->nxdomain) {
		a = answer_new(MP_DNS_NXDOMAIN, NULL);
	} else if (res->rcode != 0) {
		a = answer_new(MP_DNS_TEMPFAIL, rcode_name(res->rcode));
	} else if (!res->havedata || res->data == NULL || res->len == NULL) {
		a = answer_new(MP_DNS_NODATA, NULL); /* data is NULL, not empty, on SERVFAIL */
	} else if ((a = answer_new(MP_DNS_OK, NULL)) != NULL) {
		for (i = 0; res->data[i] != NULL && rc == 0; i++) {
			rc = ub_rdata(a, type, res->ttl < 0 ? 0 : (uint32_t)res->ttl,
				      (const unsigned char *)res->data[i], (size_t)res->len[i]);
			if (rc == MP_EPARSE) {
				bad++; /* one malformed record does not hide the others */
				rc = 0;
			}
		}
		if (rc == 0 && a->count == 0) {
			mp_dns_answer_free(a);
			a = answer_new(bad > 0 ? MP_DNS_TEMPFAIL : MP_DNS_NODATA,
				       bad > 0 ? _("malformed answer") : NULL);
		}
	}
	if (a == NULL || rc != 0) {
		mp_dns_answer_free(a);
		return MP_ENOMEM;
	}
	if (res != NULL && !res->bogus)
		a->secure = res->secure != 0;
	*out = a;
	return 0;
}

/* Cache lifetime of a network answer: its smallest TTL within bounds; failures briefly. */
static time_t
answer_expiry(const struct mp_dns_answer *a)
{
	uint32_t ttl = CACHE_TTL_MAX;
	size_t i;

	if (a->status == MP_DNS_TEMPFAIL) {
		ttl = CACHE_TEMPFAIL_TTL;
	} else {
		for (i = 0; i < a->count; i++)
			if (a->rr[i].ttl < ttl)
				ttl = a->rr[i].ttl;
		if (ttl < CACHE_TTL_MIN)
			ttl = CACHE_TTL_MIN;
	}
	return now_sec() + (time_t)ttl;
}

static void
pending_unlink(struct mp_resolver *r, struct ubq *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		r->pending = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
	r->npending--;
}

static void
ubq_free(struct ubq *q)
{
	if (q == NULL)
		return;
	free(q->name);
	free(q);
}

/*
 * Hands `a` (may be NULL: out of memory) to the query's owner and a copy to the cache.
 * q is off the pending list and freed by the caller.
 */
static void
ubq_deliver(struct ubq *q, struct mp_dns_answer *a)
{
	struct mp_dns_answer *copy = a != NULL ? answer_dup(a) : NULL;

	if (copy != NULL)
		cache_put(q->r, q->name, q->type, q->hash, copy, answer_expiry(copy));
	q->done(q->arg, a);
}

static void
ub_done(void *arg, int err, struct ub_result *res)
{
	struct ubq *q = arg;
	struct mp_dns_answer *a = NULL;

	if (q->orphan) {
		/* Its caller was answered "timeout" already; q is freed with the resolver. */
		ub_resolve_free(res);
		return;
	}
	pending_unlink(q->r, q);
	if (err == 0 && res != NULL && res->rcode != 2 /* SERVFAIL */)
		q->r->answered++;
	if (ub_convert(err, res, q->type, &a) != 0)
		a = NULL;
	ub_resolve_free(res);
	ubq_deliver(q, a);
	ubq_free(q);
}

/* Stops q after its deadline: cancelled, or orphaned when its answer is already on its way. */
static void
ubq_timeout(struct mp_resolver *r, struct ubq *q)
{
	pending_unlink(r, q);
	if (r->fail_fast && r->mode == MP_RESOLVER_SERVER && r->answered == 0)
		r->silent = true;
	ubq_deliver(q, answer_new(MP_DNS_TEMPFAIL, _("timeout")));
	if (ub_cancel(r->ub, q->id) == 0) {
		ubq_free(q);
		return;
	}
	q->orphan = 1;
	q->next = r->orphans;
	r->orphans = q;
}

/*
 * Normalises `name` and answers from the cache or the zone.  *now stays NULL when the
 * network must be asked; `norm` and `*h` are then what the query needs.
 */
static int
query_local(struct mp_resolver *r, const char *name, uint16_t type, char *norm, uint32_t *h,
	    struct mp_dns_answer **now, struct mp_err *err)
{
	struct mp_dns_answer *a = NULL;
	struct centry *e;
	int rc = 0;

	*now = NULL;
	/* A name no DNS server could hold (hostile input) is simply not there. */
	if (mp_zone_name_norm(name, strlen(name), norm) != 0) {
		if ((*now = answer_new(MP_DNS_NXDOMAIN, _("invalid domain name"))) == NULL)
			rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		return rc;
	}
	*h = hash_name(norm, type);
	if ((e = cache_get(r, norm, type, *h)) != NULL) {
		r->hits++;
		if ((*now = answer_dup(e->ans)) == NULL)
			rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		return rc;
	}
	r->misses++;
	if (r->mode != MP_RESOLVER_ZONE)
		return 0;
	if (zone_lookup(r, norm, type, &a) != 0 || (*now = answer_dup(a)) == NULL) {
		mp_dns_answer_free(a);
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	}
	cache_put(r, norm, type, *h, a, 0);
	return 0;
}

int
mp_resolver_query_start(struct mp_resolver *r, const char *name, uint16_t type,
			mp_dns_done_fn done, void *arg, struct mp_dns_answer **now,
			struct mp_err *err)
{
	char norm[MP_ZONE_NAME_MAX + 1];
	struct ubq *q = NULL;
	uint32_t h = 0;
	int rc, e;

	if (r == NULL || name == NULL || now == NULL || done == NULL)
		return mp_err_set(err, MP_EINVAL, "resolver: no name");
	if ((rc = query_local(r, name, type, norm, &h, now, err)) != 0 || *now != NULL)
		return rc;
	if (r->silent) {
		/* Not cached: the answer says nothing about the name. */
		if ((*now = answer_new(MP_DNS_TEMPFAIL, _("the DNS server does not answer"))) ==
		    NULL)
			return mp_err_set(err, MP_ENOMEM, _("out of memory"));
		return 0;
	}
	if ((q = calloc(1, sizeof *q)) == NULL || (q->name = mp_strdup_z(norm)) == NULL) {
		ubq_free(q);
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	}
	q->r = r;
	q->type = type;
	q->hash = h;
	q->done = done;
	q->arg = arg;
	q->deadline = now_ms() + r->timeout_ms;
	e = ub_resolve_async(r->ub, norm[0] != '\0' ? norm : ".", type, 1, q, ub_done, &q->id);
	if (e != 0) {
		ubq_free(q);
		if (ub_convert(e, NULL, type, now) != 0)
			return mp_err_set(err, MP_ENOMEM, _("out of memory"));
		return 0;
	}
	q->next = r->pending;
	if (r->pending != NULL)
		r->pending->prev = q;
	r->pending = q;
	r->npending++;
	return 0;
}

size_t
mp_resolver_pending(const struct mp_resolver *r)
{
	return r != NULL ? r->npending : 0;
}

int
mp_resolver_fd(const struct mp_resolver *r)
{
	return r != NULL && r->ub != NULL ? ub_fd(r->ub) : -1;
}

int
mp_resolver_next_timeout(const struct mp_resolver *r)
{
	const struct ubq *q;
	long long first = -1, now;

	if (r == NULL || r->pending == NULL)
		return -1;
	for (q = r->pending; q != NULL; q = q->next)
		if (first < 0 || q->deadline < first)
			first = q->deadline;
	now = now_ms();
	return first <= now ? 0 : first - now > 60000 ? 60000 : (int)(first - now);
}

int
mp_resolver_process(struct mp_resolver *r)
{
	struct ubq *q, *next;
	long long now;
	int rc = 0;

	if (r == NULL || r->ub == NULL)
		return 0;
	if (r->pending != NULL && ub_poll(r->ub) && ub_process(r->ub) != 0) {
		/* The channel to libunbound's thread is broken: nothing pending can arrive. */
		rc = MP_EIO;
		while (r->pending != NULL)
			ubq_timeout(r, r->pending);
	}
	now = now_ms();
	for (q = r->pending; q != NULL; q = next) {
		next = q->next;
		if (q->deadline <= now)
			ubq_timeout(r, q);
	}
	return rc;
}

void
mp_resolver_set_wait(struct mp_resolver *r, void (*wait)(void *arg, const int *answered),
		     void *arg)
{
	r->wait = wait;
	r->wait_arg = arg;
}

/* The answer of one query asked by mp_resolver_query(). */
struct sync_wait {
	int done;
	struct mp_dns_answer *a;
};

static void
sync_done(void *arg, struct mp_dns_answer *a)
{
	struct sync_wait *w = arg;

	w->a = a;
	w->done = 1;
}

int
mp_resolver_query(struct mp_resolver *r, const char *name, uint16_t type,
		  struct mp_dns_answer **out, struct mp_err *err)
{
	struct sync_wait w = {0, NULL};
	int rc;

	if (r == NULL || name == NULL || out == NULL)
		return mp_err_set(err, MP_EINVAL, "resolver: no name");
	*out = NULL;
	if ((rc = mp_resolver_query_start(r, name, type, sync_done, &w, out, err)) != 0 ||
	    *out != NULL)
		return rc;
	/*
	 * Either another part of the program multiplexes the queries (the waiter returns
	 * once this one is answered), or we poll for it here.  Each round ends at the
	 * query's deadline at the latest, which answers it with a timeout.
	 */
	while (!w.done) {
		if (r->wait != NULL) {
			r->wait(r->wait_arg, &w.done);
			continue;
		}
		{
			struct pollfd pfd = {.fd = ub_fd(r->ub), .events = POLLIN, .revents = 0};
			int left = mp_resolver_next_timeout(r);

			if (poll(&pfd, 1, left < 0 ? 0 : left) < 0 && errno != EINTR)
				return mp_err_set(err, MP_EIO, "poll: %s", strerror(errno));
		}
		(void)mp_resolver_process(r);
	}
	if (w.a == NULL)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	*out = w.a;
	return 0;
}
/* ---- public ------------------------------------------------------------------------- */

void
mp_resolver_free(struct mp_resolver *r)
{
	struct ubq *q, *next;

	if (r == NULL)
		return;
	if (r->ub != NULL)
		ub_ctx_delete(r->ub);
	/* Never answered: their owners stopped waiting (no callback runs any more). */
	for (q = r->pending; q != NULL; q = next) {
		next = q->next;
		ubq_free(q);
	}
	for (q = r->orphans; q != NULL; q = next) {
		next = q->next;
		ubq_free(q);
	}
	cache_clear(r);
	zone_free(r);
	free(r);
}

int
mp_resolver_new(struct mp_resolver **out, const struct mp_resolver_opts *opts, struct mp_err *err)
{
	struct mp_resolver *r = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc = 0;

	if (out == NULL || opts == NULL) {
		rc = mp_err_set(err, MP_EINVAL, "resolver: no options");
		goto out;
	}
	*out = NULL;
	if ((r = calloc(1, sizeof *r)) == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	r->mode = opts->mode;
	r->timeout_ms = opts->timeout_ms != 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	r->fail_fast = opts->fail_fast;
	switch (opts->mode) {
	case MP_RESOLVER_ZONE:
		if ((rc = zone_grow(r)) != 0) {
			mp_err_set(err, rc, _("out of memory"));
			goto out;
		}
		if (opts->zone_file == NULL)
			break;
		if ((rc = mp_zone_read_file(opts->zone_file, &text, &len, err)) != 0)
			goto out;
		if ((rc = mp_zone_parse(text, len, NULL, opts->zone_file, zone_add_cb, r, err)) !=
		    0)
			goto out;
		break;
	case MP_RESOLVER_SYSTEM:
	case MP_RESOLVER_SERVER:
		if ((rc = ub_setup(r, opts, err)) != 0)
			goto out;
		break;
	default:
		rc = mp_err_set(err, MP_EINVAL, "resolver: unknown mode %d", (int)opts->mode);
		goto out;
	}
	*out = r;
	r = NULL;
out:
	free(text);
	mp_resolver_free(r);
	return rc;
}

int
mp_resolver_load_zone_text(struct mp_resolver *r, const char *text, size_t len, const char *origin,
			   struct mp_err *err)
{
	if (r == NULL || r->mode != MP_RESOLVER_ZONE)
		return mp_err_set(err, MP_EINVAL, "zone data given to a resolver not in zone mode");
	/* Records loaded before an error stay: the caller treats the error as fatal. */
	cache_clear(r);
	return mp_zone_parse(text, len, origin, NULL, zone_add_cb, r, err);
}

int
mp_resolver_add_tempfail(struct mp_resolver *r, const char *name, struct mp_err *err)
{
	char norm[MP_ZONE_NAME_MAX + 1];
	struct znode *n;
	int rc;

	if (r == NULL || r->mode != MP_RESOLVER_ZONE || name == NULL)
		return mp_err_set(err, MP_EINVAL, "temporary failures exist only in zone mode");
	if (mp_zone_name_norm(name, strlen(name), norm) != 0)
		return mp_err_set(err, MP_EINVAL, _("bad domain name"));
	cache_clear(r);
	if ((rc = zone_node_path(r, norm, &n)) != 0)
		return mp_err_set(err, rc,
				  rc == MP_ENOMEM ? "out of memory" : "zone: too many names");
	n->tempfail = 1;
	return 0;
}

void
mp_resolver_stats(const struct mp_resolver *r, unsigned long *hits, unsigned long *misses)
{
	if (hits != NULL)
		*hits = r != NULL ? r->hits : 0;
	if (misses != NULL)
		*misses = r != NULL ? r->misses : 0;
}

/* ---- wire format -------------------------------------------------------------------- */

struct wbuf {
	unsigned char *p;
	size_t len;
	size_t cap;
	int full;
};

static void
w_bytes(struct wbuf *w, const void *d, size_t n)
{
	if (w->full || n > w->cap - w->len) {
		w->full = 1;
		return;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void
w_u8(struct wbuf *w, unsigned v)
{
	unsigned char c = (unsigned char)v;

	w_bytes(w, &c, 1);
}

static void
w_u16(struct wbuf *w, unsigned v)
{
	unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};

	w_bytes(w, b, 2);
}

static void
w_u32(struct wbuf *w, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};

	w_bytes(w, b, 4);
}

/* A normalised text name as wire labels (RFC 1035 section 3.1), never compressed. */
static int
w_name(struct wbuf *w, const char *name, size_t n)
{
	size_t start = 0, i;

	if (n > MP_ZONE_NAME_MAX)
		return MP_EINVAL;
	for (i = 0; i <= n; i++) {
		if (i < n && name[i] != '.')
			continue;
		if (i == start) {
			if (n == 0)
				break;
			return MP_EINVAL;
		}
		if (i - start > MP_ZONE_LABEL_MAX)
			return MP_EINVAL;
		w_u8(w, (unsigned)(i - start));
		w_bytes(w, name + start, i - start);
		start = i + 1;
	}
	w_u8(w, 0);
	return 0;
}

static int
w_rdata(struct wbuf *w, const struct mp_dns_rr *rr)
{
	size_t off, i, rdlen;
	int rc = 0;

	off = w->len;
	w_u16(w, 0); /* RDLENGTH, patched below */
	switch (rr->type) {
	case MP_DNS_MX:
	case MP_DNS_NS:
	case MP_DNS_CNAME:
	case MP_DNS_PTR:
		if (rr->type == MP_DNS_MX)
			w_u16(w, rr->pref);
		rc = w_name(w, (const char *)rr->data, rr->len);
		break;
	case MP_DNS_TXT:
	case MP_DNS_SPF:
		/* <character-string>s of at most 255 bytes (RFC 1035 section 3.3.14). */
		i = 0;
		do {
			size_t l = rr->len - i > 255 ? 255 : rr->len - i;

			w_u8(w, (unsigned)l);
			w_bytes(w, rr->data + i, l);
			i += l;
		} while (i < rr->len);
		break;
	default:
		w_bytes(w, rr->data, rr->len);
		break;
	}
	if (rc != 0 || w->full)
		return rc;
	rdlen = w->len - off - 2;
	if (rdlen > 65535)
		return MP_ETOOBIG;
	w->p[off] = (unsigned char)(rdlen >> 8);
	w->p[off + 1] = (unsigned char)rdlen;
	return 0;
}

int
mp_dns_answer_to_wire(const struct mp_dns_answer *a, const char *name, uint16_t type,
		      unsigned char *buf, size_t buflen, size_t *outlen)
{
	char norm[MP_ZONE_NAME_MAX + 1];
	struct wbuf w = {buf, 0, buflen, 0};
	unsigned rcode = 0, flags2, an = 0;
	size_t i;
	int rc = 0;

	if (a == NULL || name == NULL || buf == NULL || outlen == NULL ||
	    mp_zone_name_norm(name, strlen(name), norm) != 0) {
		rc = MP_EINVAL;
		goto out;
	}
	if (a->status == MP_DNS_NXDOMAIN)
		rcode = 3;
	else if (a->status == MP_DNS_TEMPFAIL)
		rcode = 2;
	else if (a->status == MP_DNS_OK)
		an = a->count > 65535 ? 65535 : (unsigned)a->count;
	/* RFC 1035 section 4.1.1: ID 0; QR, RD; RA, AD when validated, RCODE. */
	flags2 = 0x80 | (a->secure ? 0x20 : 0) | rcode;
	w_u16(&w, 0);
	w_u8(&w, 0x81);
	w_u8(&w, flags2);
	w_u16(&w, 1);
	w_u16(&w, an);
	w_u16(&w, 0);
	w_u16(&w, 0);
	if ((rc = w_name(&w, norm, strlen(norm))) != 0)
		goto out;
	w_u16(&w, type);
	w_u16(&w, 1);
	for (i = 0; i < an; i++) {
		w_u16(&w, 0xc00c); /* owner: pointer to the question name */
		w_u16(&w, a->rr[i].type);
		w_u16(&w, 1);
		w_u32(&w, a->rr[i].ttl);
		if ((rc = w_rdata(&w, &a->rr[i])) != 0)
			goto out;
	}
	if (w.full) {
		rc = MP_ETOOBIG;
		goto out;
	}
	*outlen = w.len;
out:
	return rc;
}
