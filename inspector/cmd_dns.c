/*
 * cmd_dns.c - `mailproof-inspect dns [OPTIONS] DOMAIN`: options -> resolver ->
 * preflight (core/preflight.c) -> report (core/preflight_report.c) -> exit status.
 * DNS_TEMPORARY wins over a failed check: an unanswered lookup proves nothing (exit 3).
 * With --baseline a regression against the earlier report is exit 1 even when every
 * check passes; the baseline is read first so a bad file costs no DNS queries.
 */
#include "cmd_dns.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "i18n.h"
#include "preflight.h"
#include "preflight_batch.h"
#include "profile.h"
#include "preflight_baseline.h"
#include "preflight_report.h"
#include "resolver.h"

#define PROG "mailproof-inspect"
#define DNS_MAX_LIST 32

enum {
	O_SELECTOR = 256,
	O_IP,
	O_INCLUDE,
	O_KEY,
	O_ZONE,
	O_RESOLVER,
	O_BASELINE,
	O_BATCH,
	O_CONCURRENCY,
	O_VERSION,
	O_LANG
};

#define DNS_CONCURRENCY_DEFAULT 64

static const struct dns_opt {
	struct option opt;
	const char *arg;
	const char *help;
} dns_opts[] = {
	{{"profile", required_argument, NULL, 'c'}, "FILE",
	 N_("customer profile: its domain, selectors, ip, include and DKIM key unless given")},
	{{"selector", required_argument, NULL, O_SELECTOR}, "S",
	 N_("DKIM selector to check; repeatable")},
	{{"ip", required_argument, NULL, O_IP}, "IP", N_("an address SPF must pass; repeatable")},
	{{"include", required_argument, NULL, O_INCLUDE}, "DOMAIN",
	 N_("a domain the SPF record must include; repeatable")},
	{{"key", required_argument, NULL, O_KEY}, "FILE",
	 N_("the private key (PEM) the published DKIM keys must match")},
	{{"zone", required_argument, NULL, O_ZONE}, "FILE",
	 N_("answer DNS from this master file only (offline)")},
	{{"resolver", required_argument, NULL, O_RESOLVER}, "ADDR[@PORT]",
	 N_("ask this DNS server (e.g. the domain's authoritative one)")},
	{{"baseline", required_argument, NULL, O_BASELINE}, "FILE",
	 N_("compare with an earlier JSON report; a regression exits 1")},
	{{"batch", required_argument, NULL, O_BATCH}, "FILE",
	 N_("check every domain listed in FILE (one per line, with its own options)")},
	{{"concurrency", required_argument, NULL, O_CONCURRENCY}, "N",
	 N_("--batch: domains checked at once, DNS queries in flight (default 64; 1 = in turn)")},
	{{"format", required_argument, NULL, 'f'}, "FMT", N_("text (default), json or junit")},
	{{"output", required_argument, NULL, 'o'}, "FILE", N_("write the report to FILE")},
	{{"quiet", no_argument, NULL, 'q'}, NULL, N_("only the verdict and errors")},
	{{"verbose", no_argument, NULL, 'v'}, NULL, N_("more detail on stderr")},
	{{"help", no_argument, NULL, 'h'}, NULL, N_("show this help")},
	{{"version", no_argument, NULL, O_VERSION}, NULL, N_("show the version")},
	{{"lang", required_argument, NULL, O_LANG}, "en|nl",
	 N_("language of messages and reports (default: the locale)")},
};
#define NDNS_OPTS (sizeof(dns_opts) / sizeof(dns_opts[0]))

struct dns_cfg {
	const char *sel[DNS_MAX_LIST], *ip[DNS_MAX_LIST], *inc[DNS_MAX_LIST];
	size_t nsel, nip, ninc;
	const char *key, *zone, *resolver, *output, *baseline;
	enum mp_format format;
	bool quiet;
	int verbose;
	const char *profile_path;
	struct mp_profile profile;
	bool have_profile;
	const char *domain;
	const char *batch;
	unsigned concurrency; /* 0: not given */
};

/* The profile fills in what the command line left out (SPEC: options win). */
static int
apply_profile(struct dns_cfg *c)
{
	struct mp_profile *p = &c->profile;
	struct mp_err err = {0};
	size_t i;

	mp_profile_init(p);
	c->have_profile = true;
	if (mp_profile_load(p, c->profile_path, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return 2;
	}
	if (c->nsel == 0)
		for (i = 0; i < p->selectors.n && c->nsel < DNS_MAX_LIST; i++)
			c->sel[c->nsel++] = p->selectors.v[i];
	if (c->nsel == 0 && p->dkim_selector != NULL)
		c->sel[c->nsel++] = p->dkim_selector;
	if (c->nip == 0)
		for (i = 0; i < p->ips.n && c->nip < DNS_MAX_LIST; i++)
			c->ip[c->nip++] = p->ips.v[i];
	if (c->ninc == 0)
		for (i = 0; i < p->includes.n && c->ninc < DNS_MAX_LIST; i++)
			c->inc[c->ninc++] = p->includes.v[i];
	if (c->key == NULL)
		c->key = p->dkim_key;
	if (c->domain == NULL)
		c->domain = p->domain;
	return 0;
}

static void
dns_help(void)
{
	char left[64];
	size_t i;

	printf(_("usage: %s dns [OPTIONS] DOMAIN   check the published SPF, DKIM and DMARC "
		 "records\n       %s dns [OPTIONS] --batch FILE   the same for every domain "
		 "in FILE\n\noptions:\n"), PROG, PROG);
	for (i = 0; i < NDNS_OPTS; i++) {
		const struct dns_opt *d = &dns_opts[i];

		if (d->opt.val < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", d->opt.val, d->opt.name,
				 d->arg ? " " : "", d->arg ? d->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", d->opt.name,
				 d->arg ? " " : "", d->arg ? d->arg : "");
		printf("  %-28s %s\n", left, _(d->help));
	}
	fputs(_("\nexit status: 0 every check passed, 1 a check failed or a regression against "
		"the baseline, 2 usage error, 3 a DNS lookup failed; with --batch the worst "
		"domain's.\nbatch file: one domain per line, then its own --selector, --ip, "
		"--include, --key; '#' comments.\n"), stdout);
}

static int
dns_usage(const char *what, const char *arg)
{
	fprintf(stderr, _("%s: %s%s%s (see %s dns --help)\n"), PROG, what, arg ? " " : "",
		arg ? arg : "", PROG);
	return 2;
}

static int
add_list(const char **list, size_t *n, const char *v, const char *name)
{
	if (*n >= DNS_MAX_LIST)
		return dns_usage(_("too many options"), name);
	list[(*n)++] = v;
	return 0;
}

/* 1..MP_PFBATCH_CONCURRENCY_MAX, decimal digits only. */
static int
parse_concurrency(const char *s, unsigned *out)
{
	unsigned long v = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '9' && v <= MP_PFBATCH_CONCURRENCY_MAX; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (p == s || *p != '\0' || v < 1 || v > MP_PFBATCH_CONCURRENCY_MAX)
		return dns_usage(_("--concurrency must be a number from 1 to 1024, not"), s);
	*out = (unsigned)v;
	return 0;
}

/* --batch: the command line's lists and key are the defaults of every line. */
static int
run_batch(const struct dns_cfg *c)
{
	struct dns_batch_cfg b = {0};

	b.file = c->batch;
	b.concurrency = c->concurrency != 0 ? c->concurrency : DNS_CONCURRENCY_DEFAULT;
	b.sel = c->sel;
	b.nsel = c->nsel;
	b.ip = c->ip;
	b.nip = c->nip;
	b.inc = c->inc;
	b.ninc = c->ninc;
	b.key = c->key;
	b.format = c->format;
	b.quiet = c->quiet;
	b.verbose = c->verbose;
	b.output = c->output;
	b.zone = c->zone;
	b.resolver = c->resolver;
	return dns_batch_run(&b);
}

static int
dns_parse(int argc, char **argv, struct dns_cfg *c, int *first)
{
	struct option longopts[NDNS_OPTS + 1];
	size_t i;
	int o, rc = 0;

	for (i = 0; i < NDNS_OPTS; i++)
		longopts[i] = dns_opts[i].opt;
	memset(&longopts[NDNS_OPTS], 0, sizeof(longopts[NDNS_OPTS]));
	opterr = 0;
	optind = 1;
	while (rc == 0 && (o = getopt_long(argc, argv, ":c:f:o:qvh", longopts, NULL)) != -1) {
		switch (o) {
		case 'c':
			c->profile_path = optarg;
			break;
		case O_SELECTOR:
			rc = add_list(c->sel, &c->nsel, optarg, "--selector");
			break;
		case O_IP:
			rc = add_list(c->ip, &c->nip, optarg, "--ip");
			break;
		case O_INCLUDE:
			rc = add_list(c->inc, &c->ninc, optarg, "--include");
			break;
		case O_KEY:
			c->key = optarg;
			break;
		case O_ZONE:
			c->zone = optarg;
			break;
		case O_RESOLVER:
			c->resolver = optarg;
			break;
		case O_BASELINE:
			c->baseline = optarg;
			break;
		case O_BATCH:
			c->batch = optarg;
			break;
		case O_CONCURRENCY:
			rc = parse_concurrency(optarg, &c->concurrency);
			break;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				c->format = MP_FMT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				c->format = MP_FMT_JSON;
			else if (strcmp(optarg, "junit") == 0)
				c->format = MP_FMT_JUNIT;
			else
				rc = dns_usage(_("dns: unknown format"), optarg);
			break;
		case 'o':
			c->output = optarg;
			break;
		case O_LANG: /* applied by main() before any option is parsed */
			if (strcmp(optarg, "en") != 0 && strcmp(optarg, "nl") != 0)
				rc = dns_usage(_("--lang must be en or nl, not"), optarg);
			break;
		case 'q':
			c->quiet = true;
			break;
		case 'v':
			c->verbose++;
			break;
		case 'h':
			dns_help();
			exit(0);
		case O_VERSION:
			printf(PROG " %s\n", MP_VERSION);
			exit(0);
		case ':':
			rc = dns_usage(_("option needs an argument:"), argv[optind - 1]);
			break;
		default:
			rc = dns_usage(_("unknown option"), argv[optind - 1]);
			break;
		}
	}
	if (rc != 0)
		return rc;
	if (c->zone != NULL && c->resolver != NULL)
		return dns_usage(_("--zone and --resolver exclude each other"), NULL);
	if (c->batch != NULL && optind < argc)
		return dns_usage(_("dns --batch takes no DOMAIN:"), argv[optind]);
	if (c->batch != NULL && c->baseline != NULL)
		return dns_usage(_("--baseline cannot be combined with --batch"), NULL);
	if (c->batch == NULL && c->concurrency != 0)
		return dns_usage(_("--concurrency needs --batch"), NULL);
	if (optind + 1 < argc)
		return dns_usage(_("dns takes one DOMAIN, not also"), argv[optind + 1]);
	if (optind < argc)
		c->domain = argv[optind];
	if (c->profile_path != NULL && (rc = apply_profile(c)) != 0)
		return rc;
	if (c->domain == NULL && c->batch == NULL)
		return dns_usage(_("dns needs a DOMAIN (or a profile with one)"), NULL);
	*first = optind;
	return 0;
}

int
mp_cmd_dns(int argc, char **argv)
{
	struct dns_cfg c = {0};
	struct mp_resolver_opts ropts = {0};
	struct mp_preflight_opts popts = {0};
	struct mp_report_opts wopts = {0};
	struct mp_resolver *res = NULL;
	struct mp_pfbase *base = NULL;
	struct mp_pfrep rep = {0};
	struct mp_err err = {0};
	FILE *out = stdout;
	int first = 0, rc, status;

	status = dns_parse(argc, argv, &c, &first);
	(void)first;
	if (status != 0)
		goto out;
	if (c.batch != NULL) {
		status = run_batch(&c);
		goto out;
	}
	if (c.baseline != NULL && (rc = mp_pfbase_load(&base, c.baseline, &err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		status = rc == MP_ENOMEM ? 3 : 2;
		goto out;
	}
	ropts.mode = c.zone != NULL ? MP_RESOLVER_ZONE
		     : c.resolver != NULL ? MP_RESOLVER_SERVER : MP_RESOLVER_SYSTEM;
	ropts.zone_file = c.zone;
	ropts.server = c.resolver;
	ropts.fail_fast = true; /* one domain: a silent server stays silent */
	if (mp_resolver_new(&res, &ropts, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		status = err.code == MP_ETEMP || err.code == MP_EIO ? 3 : 2;
		goto out;
	}
	popts.selectors = c.sel;
	popts.nselectors = c.nsel;
	popts.ips = c.ip;
	popts.nips = c.nip;
	popts.includes = c.inc;
	popts.nincludes = c.ninc;
	popts.key_file = c.key;
	popts.dnssec = ropts.mode == MP_RESOLVER_SYSTEM;
	rc = mp_preflight_run(res, c.domain, &popts, &rep, &err);
	if (rc != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		status = rc == MP_EINVAL ? 2 : 3;
		goto out;
	}
	if (base != NULL && mp_pfbase_compare(base, &rep, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		status = 3;
		goto out;
	}
	if (c.output != NULL && (out = fopen(c.output, "w")) == NULL) {
		fprintf(stderr, _("%s: %s: cannot open for writing\n"), PROG, c.output);
		status = 3;
		goto out;
	}
	wopts.format = c.format;
	wopts.tool = PROG;
	wopts.version = MP_VERSION;
	wopts.quiet = c.quiet;
	if (mp_pfreport_write(out, &wopts, &rep, 1, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		status = 3;
		goto out;
	}
	if (c.verbose > 0) {
		unsigned long hits = 0, misses = 0;

		mp_resolver_stats(res, &hits, &misses);
		fprintf(stderr, _("%s: %lu DNS queries, %lu from the cache\n"), PROG, misses, hits);
	}
	status = rep.tempfail ? 3 : rep.regressed || !rep.pass ? 1 : 0;
	if (rep.tempfail)
		fprintf(stderr, _("%s: %s: a DNS lookup failed; the result is incomplete\n"), PROG,
			rep.domain);
out:
	if (out != stdout && out != NULL && fclose(out) != 0 && status == 0)
		status = 3;
	mp_pfrep_dispose(&rep);
	mp_resolver_free(res);
	mp_pfbase_free(base);
	if (c.have_profile)
		mp_profile_dispose(&c.profile);
	return status;
}
