/*
 * records.c - `mailproof-send records`: options (and profile) -> DKIM key (generated
 * or read) -> SPF merge (core/spfrec.h counts the lookups) -> DMARC check -> records
 * as text, zone-file or JSON, or the letter to the DNS administrator (templates
 * letter-LANG.txt).  TXT data is split into strings of at most 255 bytes (RFC 1035 3.3).
 */
#include "records.h"

#include "compose.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "buf.h"
#include "error.h"
#include "profile.h"
#include "resolver.h"
#include "secret.h"
#include "spfrec.h"
#include "util.h"
#include "zone.h"

#define PROG "mailproof-send"
#define EXIT_OK 0
#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_OPER 3
#define REC_MAX_LIST 32
#define SPF_MAX_LOOKUPS 10 /* RFC 7208 section 4.6.4 */
#define TXT_CHUNK 255	   /* bytes in one character-string, RFC 1035 section 3.3 */
#define REC_TTL 3600
#define KEY_MAX (64 * 1024)
#define LETTER_MAX (64 * 1024)
#define OUT_MAX (1024 * 1024)

enum {
	R_DOMAIN = 256,
	R_SELECTOR,
	R_KEY,
	R_GENERATE,
	R_KEY_OUT,
	R_IP,
	R_INCLUDE,
	R_RUA,
	R_LETTER,
	R_ZONE,
	R_RESOLVER,
	R_VERSION,
};

static const struct rec_opt {
	struct option opt;
	const char *arg;
	const char *help;
} rec_opts[] = {
    {{"profile", required_argument, NULL, 'c'}, "FILE", "customer profile (INI)"},
    {{"domain", required_argument, NULL, R_DOMAIN},
     "DOMAIN",
     "the customer's mail domain (profile: domain)"},
    {{"selector", required_argument, NULL, R_SELECTOR},
     "S",
     "DKIM selector (profile: dkim_selector)"},
    {{"key", required_argument, NULL, R_KEY},
     "FILE",
     "existing private key, PEM, mode 0600 (profile: dkim_key)"},
    {{"generate", required_argument, NULL, R_GENERATE},
     "ALG",
     "new key pair: rsa2048, rsa3072 or ed25519 (with --key-out)"},
    {{"key-out", required_argument, NULL, R_KEY_OUT},
     "FILE",
     "where --generate writes the private key (mode 0600, never overwritten)"},
    {{"ip", required_argument, NULL, R_IP},
     "IP[/LEN]",
     "an address SPF must authorise; repeatable (profile: ip)"},
    {{"include", required_argument, NULL, R_INCLUDE},
     "DOMAIN",
     "an SPF include to add; repeatable (profile: include)"},
    {{"rua", required_argument, NULL, R_RUA},
     "ADDRESS",
     "DMARC aggregate reports go here (default dmarc@DOMAIN)"},
    {{"format", required_argument, NULL, 'f'}, "FMT", "text (default), zone or json"},
    {{"letter", required_argument, NULL, R_LETTER},
     "nl|en",
     "print the letter to the DNS administrator"},
    {{"zone", required_argument, NULL, R_ZONE},
     "FILE",
     "answer DNS from this master file only (offline)"},
    {{"resolver", required_argument, NULL, R_RESOLVER}, "ADDR[@PORT]", "ask this DNS server"},
    {{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
    {{"version", no_argument, NULL, R_VERSION}, NULL, "show the version"},
};
#define NREC_OPTS (sizeof(rec_opts) / sizeof(rec_opts[0]))

enum rec_format { FMT_TEXT, FMT_ZONE, FMT_JSON };

struct rec_cfg {
	const char *profile, *domain, *selector, *key, *generate, *key_out, *rua, *letter;
	const char *zone, *resolver;
	const char *ip[REC_MAX_LIST], *inc[REC_MAX_LIST];
	size_t nip, ninc;
	enum rec_format format;
	/* from the profile only */
	const char *customer, *contact, *contact_email, *deadline;
};

/* What gets printed; every string malloc'd. */
struct rec_out {
	char *domain;
	const char *key_type; /* "rsa" or "ed25519" */
	unsigned key_bits;
	bool generated;
	char *dkim_name, *dkim_value;
	char *spf_old, *spf_value; /* spf_old NULL: no record yet */
	unsigned spf_lookups;
	struct mp_buf spf_added;		    /* terms added, space separated */
	char *dmarc_name, *dmarc_old, *dmarc_value; /* dmarc_value NULL: keep dmarc_old */
};

static void
rec_help(void)
{
	char left[64];
	size_t i;

	fputs("usage: " PROG " records [OPTIONS]   the DNS records to publish and the letter "
	      "to the DNS administrator\n\noptions:\n",
	      stdout);
	for (i = 0; i < NREC_OPTS; i++) {
		const struct rec_opt *d = &rec_opts[i];

		if (d->opt.val < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", d->opt.val, d->opt.name,
				 d->arg ? " " : "", d->arg ? d->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", d->opt.name, d->arg ? " " : "",
				 d->arg ? d->arg : "");
		printf("  %-28s %s\n", left, d->help);
	}
	fputs("\nexit status: 0 records printed, 1 the SPF merge is refused (more than 10 DNS "
	      "lookups, several SPF records), 2 usage error, 3 a DNS lookup failed.\n",
	      stdout);
}

static int
rec_usage(const char *what, const char *arg)
{
	if (arg != NULL)
		fprintf(stderr, PROG ": records: %s \"%s\" (see " PROG " records --help)\n", what,
			arg);
	else
		fprintf(stderr, PROG ": records: %s (see " PROG " records --help)\n", what);
	return EXIT_USAGE;
}

static int
rec_parse(int argc, char **argv, struct rec_cfg *c)
{
	struct option lopts[NREC_OPTS + 1];
	size_t i;
	int ch;

	for (i = 0; i < NREC_OPTS; i++)
		lopts[i] = rec_opts[i].opt;
	memset(&lopts[NREC_OPTS], 0, sizeof(lopts[NREC_OPTS]));
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":c:f:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c->profile = optarg;
			break;
		case R_DOMAIN:
			c->domain = optarg;
			break;
		case R_SELECTOR:
			c->selector = optarg;
			break;
		case R_KEY:
			c->key = optarg;
			break;
		case R_GENERATE:
			if (strcmp(optarg, "rsa2048") != 0 && strcmp(optarg, "rsa3072") != 0 &&
			    strcmp(optarg, "ed25519") != 0)
				return rec_usage("--generate: not rsa2048, rsa3072 or ed25519:",
						 optarg);
			c->generate = optarg;
			break;
		case R_KEY_OUT:
			c->key_out = optarg;
			break;
		case R_IP:
			if (c->nip >= REC_MAX_LIST)
				return rec_usage("too many --ip", NULL);
			c->ip[c->nip++] = optarg;
			break;
		case R_INCLUDE:
			if (c->ninc >= REC_MAX_LIST)
				return rec_usage("too many --include", NULL);
			c->inc[c->ninc++] = optarg;
			break;
		case R_RUA:
			c->rua = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				c->format = FMT_TEXT;
			else if (strcmp(optarg, "zone") == 0)
				c->format = FMT_ZONE;
			else if (strcmp(optarg, "json") == 0)
				c->format = FMT_JSON;
			else
				return rec_usage("--format: not text, zone or json:", optarg);
			break;
		case R_LETTER:
			if (strcmp(optarg, "nl") != 0 && strcmp(optarg, "en") != 0)
				return rec_usage("--letter: not nl or en:", optarg);
			c->letter = optarg;
			break;
		case R_ZONE:
			c->zone = optarg;
			break;
		case R_RESOLVER:
			c->resolver = optarg;
			break;
		case 'h':
			rec_help();
			exit(0);
		case R_VERSION:
			printf(PROG " %s\n", MP_VERSION);
			exit(0);
		case ':':
			return rec_usage("option needs an argument:", argv[optind - 1]);
		default:
			return rec_usage("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return rec_usage("unexpected argument", argv[optind]);
	if (c->generate != NULL && c->key != NULL)
		return rec_usage("--key and --generate exclude each other", NULL);
	return 0;
}

/* Options win; the profile fills in the rest. */
static void
rec_merge_profile(struct rec_cfg *c, const struct mp_profile *p)
{
	size_t i;

	if (c->domain == NULL)
		c->domain = p->domain != NULL ? p->domain : p->dkim_domain;
	if (c->selector == NULL)
		c->selector = p->dkim_selector;
	if (c->key == NULL && c->generate == NULL)
		c->key = p->dkim_key;
	if (c->nip == 0)
		for (i = 0; i < p->ips.n && c->nip < REC_MAX_LIST; i++)
			c->ip[c->nip++] = p->ips.v[i];
	if (c->ninc == 0)
		for (i = 0; i < p->includes.n && c->ninc < REC_MAX_LIST; i++)
			c->inc[c->ninc++] = p->includes.v[i];
	c->customer = p->name;
	c->contact = p->contact;
	c->contact_email = p->contact_email;
	c->deadline = p->deadline;
}

static bool
printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* "IP" or "IP/LEN" to the SPF term ip4:... / ip6:... (RFC 7208 section 5.6). */
static int
ip_term(const char *ip, struct mp_buf *term)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	const char *slash = strchr(ip, '/');
	size_t n = slash ? (size_t)(slash - ip) : strlen(ip);
	bool v6;
	unsigned long len = 0;

	if (n == 0 || n >= sizeof(addr))
		return MP_EINVAL;
	memcpy(addr, ip, n);
	addr[n] = '\0';
	v6 = strchr(addr, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1)
		return MP_EINVAL;
	if (slash != NULL) {
		char *e;

		if (slash[1] < '0' || slash[1] > '9')
			return MP_EINVAL;
		errno = 0;
		len = strtoul(slash + 1, &e, 10);
		if (*e != '\0' || errno != 0 || len > (v6 ? 128u : 32u))
			return MP_EINVAL;
	}
	mp_buf_reset(term);
	return mp_buf_printf(term, "%s:%s", v6 ? "ip6" : "ip4", ip);
}

/* A term without its "+" qualifier equals want (case-insensitive). */
static bool
term_eq(const char *t, size_t n, const char *want)
{
	if (n > 0 && t[0] == '+') {
		t++;
		n--;
	}
	return mp_ieq(t, n, want);
}

/* An "all" mechanism with any qualifier. */
static bool
term_is_all(const char *t, size_t n)
{
	if (n > 0 && strchr("+-~?", t[0]) != NULL) {
		t++;
		n--;
	}
	return mp_ieq(t, n, "all");
}

static bool
record_has_term(const char *rec, const char *want)
{
	const char *p = rec;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n > 0 && term_eq(p, n, want))
			return true;
		p += n;
	}
	return false;
}

/*
 * Inserts `add` (space-separated terms) before the "all" term of rec, else before a
 * redirect= modifier, else at the end: mechanisms after "all" would never be reached.
 */
static char *
spf_insert(const char *rec, const char *add)
{
	struct mp_buf b;
	const char *p = rec, *at = NULL, *redirect = NULL;
	size_t pre;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n > 0 && term_is_all(p, n) && at == NULL)
			at = p;
		if (n > 9 && mp_ieq(p, 9, "redirect=") && redirect == NULL)
			redirect = p;
		p += n;
	}
	if (at == NULL)
		at = redirect;
	mp_buf_init(&b, OUT_MAX);
	if (at == NULL) {
		pre = strlen(rec);
		while (pre > 0 && rec[pre - 1] == ' ')
			pre--;
		if (mp_buf_add(&b, rec, pre) != 0 || mp_buf_printf(&b, " %s", add) != 0)
			goto fail;
	} else {
		pre = (size_t)(at - rec);
		if (mp_buf_add(&b, rec, pre) != 0 || mp_buf_printf(&b, "%s %s", add, at) != 0)
			goto fail;
	}
	return mp_buf_detach(&b, NULL);
fail:
	mp_buf_dispose(&b);
	return NULL;
}

static char *
base64(const unsigned char *in, size_t n)
{
	char *out;

	if (n > KEY_MAX || (out = malloc(4 * ((n + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

/* A new key written to path with mode 0600; an existing file is never replaced. */
static int
key_generate(const char *alg, const char *path, EVP_PKEY **out, struct mp_err *err)
{
	EVP_PKEY *k = NULL;
	FILE *fp = NULL;
	int fd = -1, ret = MP_EIO;

	if (strcmp(alg, "ed25519") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		k = EVP_RSA_gen(strcmp(alg, "rsa3072") == 0 ? 3072 : 2048);
	if (k == NULL) {
		ret = mp_err_set(err, MP_EIO, "OpenSSL could not generate a %s key", alg);
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = mp_err_set(err, errno == EEXIST ? MP_EINVAL : MP_EIO, "%s: %s%s", path,
				 strerror(errno),
				 errno == EEXIST ? " (a key is never overwritten)" : "");
		goto out;
	}
	/* the umask may only have narrowed 0600; make it exactly that */
	if (fchmod(fd, 0600) != 0 || (fp = fdopen(fd, "w")) == NULL) {
		ret = mp_err_set(err, MP_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL) != 1) {
		ret = mp_err_set(err, MP_EIO, "%s: cannot write the key", path);
		goto out;
	}
	if (fclose(fp) != 0) {
		fp = NULL;
		ret = mp_err_set(err, MP_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	fp = NULL;
	*out = k;
	k = NULL;
	ret = 0;
out:
	if (fp != NULL) {
		fclose(fp);
		unlink(path);
	} else if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	EVP_PKEY_free(k);
	return ret;
}

static int
key_read(const char *path, EVP_PKEY **out, struct mp_err *err)
{
	char *pem = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int ret;

	if ((ret = mp_secret_read_private(path, "the DKIM key", KEY_MAX, &pem, &len, err)) != 0)
		goto out;
	ret = MP_EINVAL;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		ret = mp_err_set(err, MP_ENOMEM, "out of memory");
		goto out;
	}
	if ((*out = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL) {
		mp_err_set(err, MP_EINVAL, "%s: not a PEM private key (RSA or Ed25519)", path);
		goto out;
	}
	ret = 0;
out:
	BIO_free(bio);
	mp_free_secret(pem);
	return ret;
}

/* The DKIM key record, RFC 6376 section 3.6.1; Ed25519 as RFC 8463 section 4.2. */
static int
dkim_record(EVP_PKEY *k, struct rec_out *o, struct mp_err *err)
{
	unsigned char *der = NULL, *p;
	char *b64 = NULL;
	size_t n = 0;
	int len, ret = MP_EINVAL;
	struct mp_buf b;

	mp_buf_init(&b, OUT_MAX);
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519) {
		o->key_type = "ed25519";
		o->key_bits = 256;
		if ((der = malloc(32)) == NULL)
			goto oom;
		n = 32;
		if (EVP_PKEY_get_raw_public_key(k, der, &n) != 1) {
			ret = mp_err_set(err, MP_EINVAL, "cannot read the Ed25519 public key");
			goto out;
		}
	} else if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA) {
		o->key_type = "rsa";
		o->key_bits = (unsigned)EVP_PKEY_get_bits(k);
		if (o->key_bits < 1024) {
			ret = mp_err_set(err, MP_EINVAL,
					 "RSA key of %u bits: receivers ignore it (RFC 8301)",
					 o->key_bits);
			goto out;
		}
		if ((len = i2d_PUBKEY(k, NULL)) <= 0 || (der = malloc((size_t)len)) == NULL)
			goto oom;
		p = der;
		if (i2d_PUBKEY(k, &p) != len)
			goto oom;
		n = (size_t)len;
	} else {
		ret = mp_err_set(err, MP_EINVAL, "only RSA and Ed25519 keys can sign DKIM");
		goto out;
	}
	if ((b64 = base64(der, n)) == NULL ||
	    mp_buf_printf(&b, "v=DKIM1; k=%s; p=%s", o->key_type, b64) != 0 ||
	    (o->dkim_value = mp_buf_detach(&b, NULL)) == NULL)
		goto oom;
	ret = 0;
	goto out;
oom:
	ret = mp_err_set(err, MP_ENOMEM, "out of memory");
out:
	mp_buf_dispose(&b);
	free(der);
	free(b64);
	return ret;
}

/* Lookups one include adds: itself plus every DNS-querying term of its tree. */
static int
include_cost(struct mp_resolver *res, const char *dom, unsigned *cost, struct mp_err *err)
{
	struct mp_spfrec_tree t;
	int ret;

	memset(&t, 0, sizeof(t));
	if ((ret = mp_spfrec_walk(res, dom, &t, err)) != 0)
		goto out;
	if (t.tempfail != NULL) {
		ret = mp_err_set(err, MP_ETEMP, "DNS lookup failed: %s", t.tempfail);
		goto out;
	}
	if (t.top != MP_SPFREC_FOUND) {
		ret = mp_err_set(err, MP_EINVAL,
				 "include:%s has %s SPF record: an include of it is a permanent "
				 "error (RFC 7208 section 5.2)",
				 dom, t.top == MP_SPFREC_NONE ? "no" : "more than one");
		goto out;
	}
	*cost = 1 + t.dns_lookups;
	ret = 0;
out:
	mp_spfrec_tree_dispose(&t);
	return ret;
}

/*
 * The SPF record to publish: the existing one with the missing terms added before its
 * "all", or a new one.  MP_ETOOBIG (err explains) when the result would need more than
 * 10 lookups, MP_EPARSE for several records or a non-ASCII one, MP_ETEMP when DNS
 * failed, MP_EINVAL for a bad --ip or an include without a record.
 */
static int
spf_build(struct mp_resolver *res, const struct rec_cfg *c, struct rec_out *o, struct mp_err *err)
{
	struct mp_spfrec_tree t;
	struct mp_buf term;
	unsigned cost = 0, extra = 0;
	size_t i;
	int ret;

	memset(&t, 0, sizeof(t));
	mp_buf_init(&term, 512);
	if ((ret = mp_spfrec_walk(res, o->domain, &t, err)) != 0)
		goto out;
	if (t.tempfail != NULL) {
		ret = mp_err_set(err, MP_ETEMP, "DNS lookup failed: %s", t.tempfail);
		goto out;
	}
	if (t.top == MP_SPFREC_MULTIPLE) {
		ret = mp_err_set(err, MP_EPARSE,
				 "%s publishes more than one SPF record (a permanent error, RFC "
				 "7208 section 4.5): merge them into one first",
				 o->domain);
		goto out;
	}
	if (t.top == MP_SPFREC_FOUND && t.nnodes > 0 && t.nodes[0].record != NULL) {
		if (!printable_ascii(t.nodes[0].record)) {
			ret =
			    mp_err_set(err, MP_EPARSE,
				       "the SPF record of %s holds bytes outside printable ASCII: "
				       "correct it first",
				       o->domain);
			goto out;
		}
		if ((o->spf_old = mp_strdup_z(t.nodes[0].record)) == NULL)
			goto oom;
	}
	for (i = 0; i < c->ninc; i++) {
		mp_buf_reset(&term);
		if (mp_buf_printf(&term, "include:%s", c->inc[i]) != 0)
			goto oom;
		if (o->spf_old != NULL && (record_has_term(o->spf_old, mp_buf_cstr(&term)) ||
					   mp_spfrec_has_include(&t, c->inc[i])))
			continue;
		if ((ret = include_cost(res, c->inc[i], &cost, err)) != 0)
			goto out;
		extra += cost;
		if ((o->spf_added.len > 0 && mp_buf_addc(&o->spf_added, ' ') != 0) ||
		    mp_buf_adds(&o->spf_added, mp_buf_cstr(&term)) != 0)
			goto oom;
	}
	for (i = 0; i < c->nip; i++) {
		if (ip_term(c->ip[i], &term) != 0) {
			ret = mp_err_set(err, MP_EINVAL, "--ip: \"%s\" is not an IP address",
					 c->ip[i]);
			goto out;
		}
		if (o->spf_old != NULL && record_has_term(o->spf_old, mp_buf_cstr(&term)))
			continue;
		if ((o->spf_added.len > 0 && mp_buf_addc(&o->spf_added, ' ') != 0) ||
		    mp_buf_adds(&o->spf_added, mp_buf_cstr(&term)) != 0)
			goto oom;
	}
	o->spf_lookups = (o->spf_old != NULL ? t.dns_lookups : 0) + extra;
	if (o->spf_lookups > SPF_MAX_LOOKUPS) {
		ret = mp_err_set(err, MP_ETOOBIG,
				 "adding %s to the SPF record of %s would need %u DNS lookups "
				 "(it needs %u now; at most %d, RFC 7208 section 4.6.4): replace "
				 "includes there by ip4:/ip6: ranges, or use --ip instead",
				 mp_buf_cstr(&o->spf_added), o->domain, o->spf_lookups,
				 o->spf_old != NULL ? t.dns_lookups : 0, SPF_MAX_LOOKUPS);
		goto out;
	}
	if (o->spf_old == NULL) {
		/* ~all: other senders of the domain are unknown yet; DMARC starts at p=none */
		mp_buf_reset(&term);
		if (mp_buf_printf(&term, "v=spf1 %s ~all", mp_buf_cstr(&o->spf_added)) != 0 ||
		    (o->spf_value = mp_buf_detach(&term, NULL)) == NULL)
			goto oom;
	} else if (o->spf_added.len == 0) {
		if ((o->spf_value = mp_strdup_z(o->spf_old)) == NULL)
			goto oom;
	} else if ((o->spf_value = spf_insert(o->spf_old, mp_buf_cstr(&o->spf_added))) == NULL) {
		goto oom;
	}
	ret = 0;
	goto out;
oom:
	ret = mp_err_set(err, MP_ENOMEM, "out of memory");
out:
	mp_buf_dispose(&term);
	mp_spfrec_tree_dispose(&t);
	return ret;
}

/* An existing DMARC record is kept; without one, p=none with rua to start with. */
static int
dmarc_build(struct mp_resolver *res, const struct rec_cfg *c, struct rec_out *o, struct mp_err *err)
{
	struct mp_dns_answer *a = NULL;
	struct mp_buf b;
	size_t i;
	int ret;

	mp_buf_init(&b, OUT_MAX);
	if (mp_buf_printf(&b, "_dmarc.%s", o->domain) != 0 ||
	    (o->dmarc_name = mp_buf_detach(&b, NULL)) == NULL)
		goto oom;
	if ((ret = mp_resolver_query(res, o->dmarc_name, MP_DNS_TXT, &a, err)) != 0)
		goto out;
	if (a->status == MP_DNS_TEMPFAIL) {
		ret = mp_err_set(err, MP_ETEMP, "DNS lookup of %s TXT failed: %s", o->dmarc_name,
				 a->why ? a->why : "no answer");
		goto out;
	}
	for (i = 0; a->status == MP_DNS_OK && i < a->count; i++) {
		const char *d = (const char *)a->rr[i].data;

		if (a->rr[i].len >= 8 && strncmp(d, "v=DMARC1", 8) == 0) {
			char *q;

			if ((o->dmarc_old = mp_utf8_clean(d, a->rr[i].len)) == NULL)
				goto oom;
			/* DNS data goes to a terminal and into a letter: no control bytes */
			for (q = o->dmarc_old; *q != '\0'; q++)
				if ((unsigned char)*q < 0x20 || *q == 0x7f)
					*q = '?';
			break;
		}
	}
	if (o->dmarc_old == NULL) {
		mp_buf_reset(&b);
		if (c->rua != NULL)
			ret = mp_buf_printf(&b, "v=DMARC1; p=none; rua=mailto:%s", c->rua);
		else
			ret = mp_buf_printf(&b, "v=DMARC1; p=none; rua=mailto:dmarc@%s", o->domain);
		if (ret != 0 || (o->dmarc_value = mp_buf_detach(&b, NULL)) == NULL)
			goto oom;
	}
	ret = 0;
	goto out;
oom:
	ret = mp_err_set(err, MP_ENOMEM, "out of memory");
out:
	mp_buf_dispose(&b);
	mp_dns_answer_free(a);
	return ret;
}

/* One zone-file line: the data in quoted strings of at most 255 bytes. */
static int
zone_line(struct mp_buf *b, const char *name, const char *data)
{
	size_t n = strlen(data), i, j;

	if (mp_buf_printf(b, "%s. %d IN TXT", name, REC_TTL) != 0)
		return MP_ENOMEM;
	for (i = 0; i < n; i += TXT_CHUNK) {
		if (mp_buf_adds(b, " \"") != 0)
			return MP_ENOMEM;
		for (j = i; j < n && j < i + TXT_CHUNK; j++)
			if ((data[j] == '"' || data[j] == '\\') && mp_buf_addc(b, '\\') != 0)
				return MP_ENOMEM;
			else if (mp_buf_addc(b, data[j]) != 0)
				return MP_ENOMEM;
		if (mp_buf_addc(b, '"') != 0)
			return MP_ENOMEM;
	}
	return mp_buf_addc(b, '\n');
}

static int
zone_out(const struct rec_out *o, struct mp_buf *b)
{
	int r = 0;

	r |= mp_buf_printf(b, "; DKIM public key (%s, %u bits)\n", o->key_type, o->key_bits);
	r |= zone_line(b, o->dkim_name, o->dkim_value);
	if (o->spf_old == NULL)
		r |= mp_buf_printf(b, "; SPF: new record (DNS lookups: %u)\n", o->spf_lookups);
	else
		r |= mp_buf_printf(b, "; SPF: replaces \"%s\" (DNS lookups: %u)\n", o->spf_old,
				   o->spf_lookups);
	r |= zone_line(b, o->domain, o->spf_value);
	if (o->dmarc_value != NULL) {
		r |= mp_buf_adds(b, "; DMARC: a first policy that only collects reports\n");
		r |= zone_line(b, o->dmarc_name, o->dmarc_value);
	} else {
		r |= mp_buf_printf(b, "; DMARC: %s already has a record; keep it\n", o->dmarc_name);
	}
	return r != 0 ? MP_ENOMEM : 0;
}

/* The `mailproof-inspect dns` command that checks the records once published. */
static int
check_command(const struct rec_cfg *c, const struct rec_out *o, const char *keyfile,
	      struct mp_buf *b)
{
	size_t i;
	int r = 0;

	r |= mp_buf_printf(b, "mailproof-inspect dns --selector %s", c->selector);
	for (i = 0; i < c->nip; i++)
		r |= mp_buf_printf(b, " --ip %s", c->ip[i]);
	for (i = 0; i < c->ninc; i++)
		r |= mp_buf_printf(b, " --include %s", c->inc[i]);
	if (keyfile != NULL)
		r |= mp_buf_printf(b, " --key %s", keyfile);
	r |= mp_buf_printf(b, " %s", o->domain);
	return r != 0 ? MP_ENOMEM : 0;
}

static int
text_out(const struct rec_out *o, const char *check, struct mp_buf *b)
{
	int r = 0;

	r |= mp_buf_printf(b, "DKIM key (%s, %u bits%s)\n  name:  %s\n  type:  TXT\n", o->key_type,
			   o->key_bits, o->generated ? ", new" : "", o->dkim_name);
	r |= mp_buf_printf(b,
			   "  value (one string, for DNS web panels):\n    %s\n  zone file:\n    ",
			   o->dkim_value);
	r |= zone_line(b, o->dkim_name, o->dkim_value);
	r |= mp_buf_printf(b, "\nSPF (%s, %u of %d DNS lookups)\n  name:  %s\n  type:  TXT\n",
			   o->spf_old == NULL	   ? "new record"
			   : o->spf_added.len == 0 ? "already authorised: keep it"
						   : "replaces the existing record",
			   o->spf_lookups, SPF_MAX_LOOKUPS, o->domain);
	r |= mp_buf_printf(b, "  value: %s\n", o->spf_value);
	if (o->spf_old != NULL)
		r |= mp_buf_printf(b, "  was:   %s\n", o->spf_old);
	r |= mp_buf_adds(b, "  zone file:\n    ");
	r |= zone_line(b, o->domain, o->spf_value);
	r |= mp_buf_printf(b, "\nDMARC\n  name:  %s\n  type:  TXT\n", o->dmarc_name);
	if (o->dmarc_value != NULL) {
		r |= mp_buf_printf(b, "  value: %s\n  zone file:\n    ", o->dmarc_value);
		r |= zone_line(b, o->dmarc_name, o->dmarc_value);
	} else {
		r |= mp_buf_printf(b, "  already published, keep it: %s\n", o->dmarc_old);
	}
	r |= mp_buf_printf(b, "\nCheck once published:\n  %s\n", check);
	return r != 0 ? MP_ENOMEM : 0;
}

static json_t *
json_strings(const char *data)
{
	json_t *arr = json_array();
	size_t n = strlen(data), i;

	for (i = 0; arr != NULL && i < n; i += TXT_CHUNK)
		json_array_append_new(
		    arr, json_stringn(data + i, n - i < TXT_CHUNK ? n - i : TXT_CHUNK));
	return arr;
}

static int
json_out(const struct rec_out *o, const char *check, const char *letter, struct mp_buf *b)
{
	json_t *root;
	char *text = NULL;
	int ret = MP_ENOMEM;

	root = json_pack(
	    "{s:s, s:s, s:s, s:s,"
	    " s:{s:s, s:s, s:i, s:b, s:s, s:o},"
	    " s:{s:s, s:s?, s:s, s:o, s:i, s:s},"
	    " s:{s:s, s:s?, s:s?, s:o?},"
	    " s:s, s:s?}",
	    "schema", "mailproof/records-1", "tool", PROG, "version", MP_VERSION, "domain",
	    o->domain, "dkim", "name", o->dkim_name, "key_type", o->key_type, "key_bits",
	    (int)o->key_bits, "generated", o->generated, "record", o->dkim_value, "strings",
	    json_strings(o->dkim_value), "spf", "name", o->domain, "existing", o->spf_old, "record",
	    o->spf_value, "strings", json_strings(o->spf_value), "dns_lookups", (int)o->spf_lookups,
	    "added", mp_buf_cstr(&o->spf_added), "dmarc", "name", o->dmarc_name, "existing",
	    o->dmarc_old, "record", o->dmarc_value, "strings",
	    o->dmarc_value ? json_strings(o->dmarc_value) : NULL, "check", check, "letter", letter);
	if (root == NULL || (text = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII |
							 JSON_PRESERVE_ORDER)) == NULL)
		goto out;
	if (mp_buf_adds(b, text) != 0 || mp_buf_addc(b, '\n') != 0)
		goto out;
	ret = 0;
out:
	free(text);
	json_decref(root);
	return ret;
}

static int
letter_out(const struct rec_cfg *c, const struct rec_out *o, const char *check, struct mp_buf *out,
	   struct mp_err *err)
{
	struct mp_buf tpl, recs;
	char path[4096], by_deadline[256], contact_line[512];
	bool nl = strcmp(c->letter, "nl") == 0;
	int ret;

	/* "Name (address)", or what the profile has of it, else the writer of the letter. */
	if (c->contact != NULL && c->contact_email != NULL)
		snprintf(contact_line, sizeof(contact_line), "%s (%s)", c->contact,
			 c->contact_email);
	else if (c->contact != NULL || c->contact_email != NULL)
		snprintf(contact_line, sizeof(contact_line), "%s",
			 c->contact != NULL ? c->contact : c->contact_email);
	else
		snprintf(contact_line, sizeof(contact_line), "%s",
			 nl ? "de afzender van deze brief" : "the sender of this letter");
	/* "by 1 December" with a deadline, "as soon as possible" without one. */
	if (c->deadline != NULL)
		snprintf(by_deadline, sizeof(by_deadline), "%s %s", nl ? "vóór" : "by",
			 c->deadline);
	else
		snprintf(by_deadline, sizeof(by_deadline), "%s",
			 nl ? "zo spoedig mogelijk" : "as soon as possible");

	mp_buf_init(&tpl, LETTER_MAX);
	mp_buf_init(&recs, OUT_MAX);
	snprintf(path, sizeof(path), "%s/letter-%s.txt", mp_templates_dir(), c->letter);
	if ((ret = mp_buf_read_file(&tpl, path, err)) != 0)
		goto out;
	ret = MP_ENOMEM;
	if (mp_buf_printf(&recs, "1. DKIM\n   %s: %s\n   %s: TXT\n   %s: %s\n\n",
			  nl ? "Naam" : "Name", o->dkim_name, "Type", nl ? "Waarde" : "Value",
			  o->dkim_value) != 0 ||
	    mp_buf_printf(&recs, "2. SPF\n   %s: %s\n   %s: TXT\n   %s: %s\n", nl ? "Naam" : "Name",
			  o->domain, "Type", nl ? "Waarde" : "Value", o->spf_value) != 0)
		goto out;
	if (o->spf_old != NULL && o->spf_added.len > 0 &&
	    mp_buf_printf(&recs, "   %s: %s\n",
			  nl ? "Dit vervangt het huidige SPF-record"
			     : "This replaces the current SPF record",
			  o->spf_old) != 0)
		goto out;
	if (o->dmarc_value != NULL)
		ret = mp_buf_printf(&recs, "\n3. DMARC\n   %s: %s\n   %s: TXT\n   %s: %s\n",
				    nl ? "Naam" : "Name", o->dmarc_name, "Type",
				    nl ? "Waarde" : "Value", o->dmarc_value);
	else
		ret = mp_buf_printf(&recs, "\n3. DMARC\n   %s %s: %s\n",
				    nl ? "Er staat al een DMARC-record op"
				       : "There already is a DMARC record at",
				    o->dmarc_name, o->dmarc_old);
	if (ret != 0)
		goto out;
	{
		const struct mp_tpl_var vars[] = {
		    {"customer", c->customer ? c->customer : o->domain},
		    {"contact", c->contact ? c->contact : "-"},
		    {"contact_email", c->contact_email ? c->contact_email : "-"},
		    {"deadline", c->deadline ? c->deadline
				 : nl	     ? "zo spoedig mogelijk"
					     : "as soon as possible"},
		    {"by_deadline", by_deadline},
		    {"contact_line", contact_line},
		    {"domain", o->domain},
		    {"selector", c->selector},
		    {"records", mp_buf_cstr(&recs)},
		    {"check", check},
		};

		ret =
		    mp_template_expand(out, tpl.data, tpl.len, vars, sizeof(vars) / sizeof(vars[0]),
				       false, err);
		if (ret == MP_ENOMEM)
			mp_err_set(err, MP_ENOMEM, "out of memory");
	}
out:
	if (ret == MP_ENOMEM && err->code == 0)
		mp_err_set(err, MP_ENOMEM, "out of memory");
	mp_buf_dispose(&tpl);
	mp_buf_dispose(&recs);
	return ret;
}

static void
rec_out_dispose(struct rec_out *o)
{
	free(o->domain);
	free(o->dkim_name);
	free(o->dkim_value);
	free(o->spf_old);
	free(o->spf_value);
	mp_buf_dispose(&o->spf_added);
	free(o->dmarc_name);
	free(o->dmarc_old);
	free(o->dmarc_value);
}

static int
exit_for(int code)
{
	switch (code) {
	case MP_ETEMP:
	case MP_EIO:
	case MP_ENOMEM:
		return EXIT_OPER;
	case MP_ETOOBIG:
	case MP_EPARSE:
		return EXIT_REFUSED;
	default:
		return EXIT_USAGE;
	}
}

int
mp_records_main(int argc, char **argv)
{
	struct rec_cfg c;
	struct rec_out o;
	struct mp_profile prof;
	struct mp_resolver_opts ropts = {0};
	struct mp_resolver *res = NULL;
	struct mp_err err = {0};
	struct mp_buf out, check, letter;
	char name[MP_ZONE_NAME_MAX + 1];
	const char *keyfile;
	EVP_PKEY *key = NULL;
	size_t i;
	int rc = EXIT_USAGE, r;

	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	mp_profile_init(&prof);
	mp_buf_init(&out, OUT_MAX);
	mp_buf_init(&check, 4096);
	mp_buf_init(&letter, OUT_MAX);
	mp_buf_init(&o.spf_added, 4096);
	if ((rc = rec_parse(argc, argv, &c)) != 0)
		goto out;
	rc = EXIT_USAGE;
	if (c.profile != NULL) {
		if (mp_profile_load(&prof, c.profile, &err) != 0) {
			fprintf(stderr, PROG ": records: %s\n", err.msg);
			goto out;
		}
		rec_merge_profile(&c, &prof);
	}
	if (c.domain == NULL || mp_zone_name_norm(c.domain, strlen(c.domain), name) != 0 ||
	    name[0] == '\0') {
		rc = rec_usage(c.domain ? "--domain: not a domain name:"
					: "--domain DOMAIN is required (or domain= in the profile)",
			       c.domain);
		goto out;
	}
	if ((o.domain = mp_strdup_z(name)) == NULL)
		goto oom;
	if (c.selector == NULL || mp_zone_name_norm(c.selector, strlen(c.selector), name) != 0 ||
	    name[0] == '\0') {
		rc = rec_usage(c.selector
				   ? "--selector: not a selector:"
				   : "--selector S is required (or dkim_selector= in the profile)",
			       c.selector);
		goto out;
	}
	if (c.generate != NULL && c.key_out == NULL) {
		rc = rec_usage("--generate needs --key-out FILE", NULL);
		goto out;
	}
	if (c.generate == NULL && c.key_out != NULL) {
		rc = rec_usage("--key-out needs --generate ALG", NULL);
		goto out;
	}
	if (c.generate == NULL && c.key == NULL) {
		rc = rec_usage("--key FILE or --generate ALG --key-out FILE is required", NULL);
		goto out;
	}
	if (c.nip == 0 && c.ninc == 0) {
		rc = rec_usage("--ip or --include is required (what SPF must authorise)", NULL);
		goto out;
	}
	for (i = 0; i < c.ninc; i++)
		if (mp_zone_name_norm(c.inc[i], strlen(c.inc[i]), name) != 0 || name[0] == '\0') {
			rc = rec_usage("--include: not a domain name:", c.inc[i]);
			goto out;
		}
	if (c.rua != NULL && (strchr(c.rua, '@') == NULL || !printable_ascii(c.rua) ||
			      strpbrk(c.rua, " ;,!") != NULL)) {
		rc = rec_usage("--rua: not an address:", c.rua);
		goto out;
	}
	if (c.letter != NULL && c.format == FMT_ZONE) {
		rc = rec_usage("--letter cannot be combined with --format zone", NULL);
		goto out;
	}
	if (c.zone != NULL && c.resolver != NULL) {
		rc = rec_usage("--zone and --resolver exclude each other", NULL);
		goto out;
	}

	ropts.mode = c.zone != NULL	  ? MP_RESOLVER_ZONE
		     : c.resolver != NULL ? MP_RESOLVER_SERVER
					  : MP_RESOLVER_SYSTEM;
	ropts.zone_file = c.zone;
	ropts.server = c.resolver;
	if (mp_resolver_new(&res, &ropts, &err) != 0) {
		fprintf(stderr, PROG ": records: %s\n", err.msg);
		rc = err.code == MP_ENOMEM || err.code == MP_EIO ? EXIT_OPER : EXIT_USAGE;
		goto out;
	}
	/* DNS first: a refused merge should not leave a new key file behind */
	if ((r = spf_build(res, &c, &o, &err)) != 0 || (r = dmarc_build(res, &c, &o, &err)) != 0) {
		fprintf(stderr, PROG ": records: %s\n", err.msg);
		rc = exit_for(r);
		goto out;
	}
	if (c.generate != NULL) {
		r = key_generate(c.generate, c.key_out, &key, &err);
		keyfile = c.key_out;
		o.generated = true;
	} else {
		r = key_read(c.key, &key, &err);
		keyfile = c.key;
	}
	if (r != 0 || (r = dkim_record(key, &o, &err)) != 0) {
		fprintf(stderr, PROG ": records: %s\n", err.msg);
		rc = r == MP_EIO || r == MP_ENOMEM ? EXIT_OPER : EXIT_USAGE;
		goto out;
	}
	mp_buf_reset(&out);
	if (mp_buf_printf(&out, "%s._domainkey.%s", c.selector, o.domain) != 0 ||
	    (o.dkim_name = mp_buf_detach(&out, NULL)) == NULL ||
	    check_command(&c, &o, keyfile, &check) != 0)
		goto oom;
	if (c.letter != NULL && (r = letter_out(&c, &o, mp_buf_cstr(&check), &letter, &err)) != 0) {
		fprintf(stderr, PROG ": records: %s\n", err.msg);
		rc = r == MP_ENOMEM ? EXIT_OPER : EXIT_USAGE;
		goto out;
	}
	if (c.format == FMT_JSON)
		r = json_out(&o, mp_buf_cstr(&check), c.letter ? mp_buf_cstr(&letter) : NULL, &out);
	else if (c.format == FMT_ZONE)
		r = zone_out(&o, &out);
	else if (c.letter != NULL)
		r = mp_buf_add(&out, letter.data, letter.len);
	else
		r = text_out(&o, mp_buf_cstr(&check), &out);
	if (r != 0)
		goto oom;
	if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
		fprintf(stderr, PROG ": records: cannot write the output\n");
		rc = EXIT_OPER;
		goto out;
	}
	rc = EXIT_OK;
	goto out;
oom:
	fprintf(stderr, PROG ": records: out of memory\n");
	rc = EXIT_OPER;
out:
	EVP_PKEY_free(key);
	mp_resolver_free(res);
	rec_out_dispose(&o);
	mp_buf_dispose(&out);
	mp_buf_dispose(&check);
	mp_buf_dispose(&letter);
	mp_profile_dispose(&prof);
	return rc;
}
