/*
 * mailproof-send - composes an Extranet-style test notification, DKIM-signs it and
 * submits it through the customer's relay; prints the test id.
 *
 * options (and profile) -> compose.c -> sign.c -> submit.c.  Only this file prints
 * and chooses exit codes (SPEC.md): 0 sent, 2 usage or configuration, 3 operational.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "compose.h"
#include "error.h"
#include "profile.h"
#include "records.h"
#include "secret.h"
#include "sign.h"
#include "submit.h"
#include "util.h"

#define PROG "mailproof-send"
#define EXIT_SENT 0
#define EXIT_USAGE 2
#define EXIT_OPER 3
#define MAX_TO 16
#define MAX_COUNT 10000
#define PASSWORD_ENV "MAILPROOF_SMTP_PASSWORD"

enum opt_id {
	OPT_PROFILE = 'c',
	OPT_VERBOSE = 'v',
	OPT_QUIET = 'q',
	OPT_HELP = 'h',
	OPT_TO = 256,
	OPT_FROM,
	OPT_ENVELOPE_FROM,
	OPT_RELAY,
	OPT_USER,
	OPT_PASSWORD_FILE,
	OPT_CA_FILE,
	OPT_DKIM_DOMAIN,
	OPT_DKIM_SELECTOR,
	OPT_DKIM_KEY,
	OPT_RETRY_FOR,
	OPT_SAVE,
	OPT_DRY_RUN,
	OPT_COUNT,
	OPT_RECEIPT,
	OPT_LANG,
	OPT_CUSTOMER,
	OPT_ABBREVIATION,
	OPT_EXTRANET_URL,
	OPT_CONTACT,
	OPT_VERSION,
};

/* One table drives getopt_long and --help. */
static const struct opt_doc {
	struct option opt;
	const char *arg;
	const char *help;
} opts_doc[] = {
    {{"profile", required_argument, NULL, OPT_PROFILE},
     "FILE",
     "customer profile (INI, mailproof.conf(5)); options override it"},
    {{"to", required_argument, NULL, OPT_TO}, "ADDRESS", "recipient; repeatable"},
    {{"from", required_argument, NULL, OPT_FROM},
     "ADDRESS",
     "From: address, \"Name <address>\" for a display name"},
    {{"envelope-from", required_argument, NULL, OPT_ENVELOPE_FROM},
     "ADDRESS",
     "MAIL FROM (default: the From address)"},
    {{"relay", required_argument, NULL, OPT_RELAY},
     "URL",
     "smtp://HOST[:PORT] (STARTTLS required, port 587 by default)"},
    {{"user", required_argument, NULL, OPT_USER}, "NAME", "AUTH PLAIN/LOGIN as NAME"},
    {{"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
     "FILE",
     "file holding the password (mode 0600; or $" PASSWORD_ENV ")"},
    {{"ca-file", required_argument, NULL, OPT_CA_FILE},
     "FILE",
     "trust this CA (PEM) instead of the system's"},
    {{"dkim-domain", required_argument, NULL, OPT_DKIM_DOMAIN},
     "DOMAIN",
     "DKIM d= (default: the From domain)"},
    {{"dkim-selector", required_argument, NULL, OPT_DKIM_SELECTOR}, "SELECTOR", "DKIM s="},
    {{"dkim-key", required_argument, NULL, OPT_DKIM_KEY},
     "FILE",
     "private key, PEM (RSA: rsa-sha256, Ed25519: ed25519-sha256; mode 0600)"},
    {{"retry-for", required_argument, NULL, OPT_RETRY_FOR},
     "SECONDS",
     "retry 4xx replies (greylisting) with back-off this long (default 0)"},
    {{"save", required_argument, NULL, OPT_SAVE},
     "FILE",
     "write the exact message as submitted (FILE.N for --count)"},
    {{"dry-run", no_argument, NULL, OPT_DRY_RUN}, NULL, "compose and sign, send nothing"},
    {{"count", required_argument, NULL, OPT_COUNT},
     "N",
     "N notifications, each with its own test id, in one SMTP session"},
    {{"receipt", required_argument, NULL, OPT_RECEIPT},
     "FILE",
     "write a JSON receipt (test id, Message-ID, time, relay, queue id)"},
    {{"lang", required_argument, NULL, OPT_LANG},
     "nl|en",
     "language of the notification (default nl)"},
    {{"customer", required_argument, NULL, OPT_CUSTOMER}, "NAME", "the customer's name"},
    {{"abbreviation", required_argument, NULL, OPT_ABBREVIATION},
     "ABBR",
     "the customer's abbreviation"},
    {{"extranet-url", required_argument, NULL, OPT_EXTRANET_URL},
     "URL",
     "link in the notification"},
    {{"contact", required_argument, NULL, OPT_CONTACT}, "NAME", "the person addressed"},
    {{"verbose", no_argument, NULL, OPT_VERBOSE},
     NULL,
     "show the SMTP dialogue on stderr (never a password)"},
    {{"quiet", no_argument, NULL, OPT_QUIET}, NULL, "only errors on stderr"},
    {{"help", no_argument, NULL, OPT_HELP}, NULL, "show this help"},
    {{"version", no_argument, NULL, OPT_VERSION}, NULL, "show the version"},
};
#define NOPTS (sizeof(opts_doc) / sizeof(opts_doc[0]))

struct config {
	const char *profile;
	const char *to[MAX_TO];
	size_t nto;
	const char *from;
	const char *envelope_from;
	const char *relay;
	const char *user;
	const char *password_file;
	const char *ca_file;
	const char *dkim_domain;
	const char *dkim_selector;
	const char *dkim_key;
	unsigned retry_for;
	const char *save;
	bool dry_run;
	unsigned count;
	const char *receipt;
	const char *lang;
	const char *customer;
	const char *abbreviation;
	const char *extranet_url;
	const char *contact;
	int verbose;
	bool quiet;
};

static void
usage_full(FILE *fp)
{
	char left[64];
	size_t i;

	fputs("usage: " PROG " [OPTIONS] --to ADDRESS   send one notification, print its test id\n"
	      "       " PROG " records [OPTIONS]        DNS records to publish\n\noptions:\n",
	      fp);
	for (i = 0; i < NOPTS; i++) {
		const struct opt_doc *d = &opts_doc[i];

		if (d->opt.val < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", d->opt.val, d->opt.name,
				 d->arg ? " " : "", d->arg ? d->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", d->opt.name, d->arg ? " " : "",
				 d->arg ? d->arg : "");
		fprintf(fp, "  %-28s %s\n", left, d->help);
	}
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see " PROG " --help)\n");
	return EXIT_USAGE;
}

static bool
parse_uint(const char *s, unsigned max, unsigned *out)
{
	unsigned long v;
	char *e;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &e, 10);
	if (*e != '\0' || errno != 0 || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

static int
parse_args(int argc, char **argv, struct config *c)
{
	struct option lopts[NOPTS + 1];
	size_t i;
	int ch;

	for (i = 0; i < NOPTS; i++)
		lopts[i] = opts_doc[i].opt;
	memset(&lopts[NOPTS], 0, sizeof(lopts[NOPTS]));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:vqh", lopts, NULL)) != -1) {
		switch (ch) {
		case OPT_PROFILE:
			c->profile = optarg;
			break;
		case OPT_TO:
			if (c->nto >= MAX_TO)
				return usage_error("at most %s recipients", "16");
			c->to[c->nto++] = optarg;
			break;
		case OPT_FROM:
			c->from = optarg;
			break;
		case OPT_ENVELOPE_FROM:
			c->envelope_from = optarg;
			break;
		case OPT_RELAY:
			c->relay = optarg;
			break;
		case OPT_USER:
			c->user = optarg;
			break;
		case OPT_PASSWORD_FILE:
			c->password_file = optarg;
			break;
		case OPT_CA_FILE:
			c->ca_file = optarg;
			break;
		case OPT_DKIM_DOMAIN:
			c->dkim_domain = optarg;
			break;
		case OPT_DKIM_SELECTOR:
			c->dkim_selector = optarg;
			break;
		case OPT_DKIM_KEY:
			c->dkim_key = optarg;
			break;
		case OPT_RETRY_FOR:
			if (!parse_uint(optarg, 86400, &c->retry_for))
				return usage_error("--retry-for: \"%s\" is not 0-86400 seconds",
						   optarg);
			break;
		case OPT_SAVE:
			c->save = optarg;
			break;
		case OPT_DRY_RUN:
			c->dry_run = true;
			break;
		case OPT_COUNT:
			if (!parse_uint(optarg, MAX_COUNT, &c->count) || c->count == 0)
				return usage_error("--count: \"%s\" is not 1-10000", optarg);
			break;
		case OPT_RECEIPT:
			c->receipt = optarg;
			break;
		case OPT_LANG:
			if (strcmp(optarg, "nl") != 0 && strcmp(optarg, "en") != 0)
				return usage_error("--lang: \"%s\" is not nl or en", optarg);
			c->lang = optarg;
			break;
		case OPT_CUSTOMER:
			c->customer = optarg;
			break;
		case OPT_ABBREVIATION:
			c->abbreviation = optarg;
			break;
		case OPT_EXTRANET_URL:
			c->extranet_url = optarg;
			break;
		case OPT_CONTACT:
			c->contact = optarg;
			break;
		case OPT_VERBOSE:
			c->verbose++;
			break;
		case OPT_QUIET:
			c->quiet = true;
			break;
		case OPT_HELP:
			usage_full(stdout);
			exit(0);
		case OPT_VERSION:
			printf(PROG " %s\n", MP_VERSION);
			exit(0);
		case ':':
			return usage_error("%s needs an argument", argv[optind - 1]);
		default:
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument \"%s\"", argv[optind]);
	return 0;
}

/* Profile values fill in what the command line left open. */
static void
merge_profile(struct config *c, const struct mp_profile *p)
{
#define FILL(field, value)                                                                         \
	do {                                                                                       \
		if (c->field == NULL)                                                              \
			c->field = (value);                                                        \
	} while (0)
	FILL(from, p->from);
	FILL(envelope_from, p->envelope_from);
	FILL(relay, p->relay);
	FILL(user, p->user);
	FILL(password_file, p->password_file);
	FILL(ca_file, p->ca_file);
	FILL(dkim_domain, p->dkim_domain);
	FILL(dkim_selector, p->dkim_selector);
	FILL(dkim_key, p->dkim_key);
	FILL(lang, p->lang);
	FILL(customer, p->name);
	FILL(abbreviation, p->abbreviation);
	FILL(extranet_url, p->extranet_url);
	FILL(contact, p->contact);
#undef FILL
}

/* "Name <addr>" or "addr"; both parts are malloc'd. */
static int
split_from(const char *from, char **name, char **addr)
{
	const char *lt = strrchr(from, '<'), *gt;
	size_t n;

	*name = *addr = NULL;
	if (lt == NULL) {
		n = strlen(from);
		from = mp_trim(from, &n);
		*addr = mp_strndup(from, n);
	} else {
		if ((gt = strchr(lt, '>')) == NULL || gt[1] != '\0')
			return MP_EPARSE;
		n = (size_t)(lt - from);
		from = mp_trim(from, &n);
		if (n >= 2 && from[0] == '"' && from[n - 1] == '"') {
			/* a quoted-string (RFC 5322 section 3.2.4): drop the quotes and the
			 * backslashes of quoted-pairs; compose.c quotes it again */
			size_t i, j = 0;

			if ((*name = malloc(n)) == NULL)
				return MP_ENOMEM;
			for (i = 1; i + 1 < n; i++) {
				if (from[i] == '\\' && i + 2 < n)
					i++;
				(*name)[j++] = from[i];
			}
			(*name)[j] = '\0';
		} else {
			*name = mp_strndup(from, n);
		}
		*addr = mp_strndup(lt + 1, (size_t)(gt - lt - 1));
	}
	if (*addr == NULL)
		return MP_ENOMEM;
	return 0;
}

/* A plain addr-spec as RFC 5321 takes it: local@domain, printable, no blanks. */
static bool
address_ok(const char *a)
{
	const char *at = strrchr(a, '@'), *p;

	if (at == NULL || at == a || at[1] == '\0' || strlen(a) > 254)
		return false;
	for (p = a; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    strchr("<>(),;\\\"", *p))
			return false;
	return true;
}

static int
write_file(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	int ok;

	if (fp == NULL)
		return -1;
	ok = fwrite(data, 1, len, fp) == len;
	ok = (fclose(fp) == 0) && ok;
	return ok ? 0 : -1;
}

struct outmsg {
	char test_id[MP_TEST_ID_MAX];
	char *message_id;
	struct mp_buf data;
};

static void
iso_time(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		snprintf(out, outlen, "1970-01-01T00:00:00Z");
	else
		strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *
msg_json(const struct outmsg *m, const struct mp_submit_msg *sm, const char *when)
{
	return json_pack("{s:s, s:s, s:s, s:s?}", "test_id", m->test_id, "message_id",
			 m->message_id, "time", when, "queue_id", sm ? sm->queue_id : NULL);
}

static int
write_receipt(const struct config *c, const char *from_addr, const struct outmsg *msgs,
	      const struct mp_submit_msg *sm, size_t n, time_t when, const char *alg)
{
	char iso[32], *text = NULL;
	json_t *root, *to, *arr;
	size_t i;
	int ret = -1;

	iso_time(when, iso, sizeof(iso));
	root = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s}", "schema",
			 "mailproof/receipt-1", "tool", PROG, "version", MP_VERSION, "test_id",
			 msgs[0].test_id, "message_id", msgs[0].message_id, "time", iso, "relay",
			 c->relay, "queue_id", sm ? sm[0].queue_id : NULL, "from", from_addr);
	to = json_array();
	if (root == NULL || to == NULL)
		goto out;
	for (i = 0; i < c->nto; i++)
		json_array_append_new(to, json_string(c->to[i]));
	json_object_set_new(root, "to", to);
	json_object_set_new(root, "dkim",
			    alg ? json_pack("{s:s, s:s, s:s}", "domain", c->dkim_domain, "selector",
					    c->dkim_selector, "algorithm", alg)
				: json_null());
	if (c->dry_run)
		json_object_set_new(root, "dry_run", json_true());
	if (n > 1) {
		if ((arr = json_array()) == NULL)
			goto out;
		for (i = 0; i < n; i++)
			json_array_append_new(arr, msg_json(&msgs[i], sm ? &sm[i] : NULL, iso));
		json_object_set_new(root, "messages", arr);
	}
	if ((text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII)) == NULL)
		goto out;
	{
		size_t tl = strlen(text);
		char *nl = realloc(text, tl + 2);

		if (nl == NULL)
			goto out;
		text = nl;
		memcpy(text + tl, "\n", 2);
		if (write_file(c->receipt, text, tl + 1) != 0)
			goto out;
	}
	ret = 0;
out:
	free(text);
	json_decref(root);
	return ret;
}

/* MAILPROOF_TEST_TIME / MAILPROOF_TEST_ID: fixed values so golden tests are byte-stable;
 * 0 when not set. */
static time_t
test_time(void)
{
	const char *v = getenv("MAILPROOF_TEST_TIME");
	long long t;
	char *e;

	if (v != NULL && *v != '\0') {
		errno = 0;
		t = strtoll(v, &e, 10);
		if (*e == '\0' && errno == 0 && t >= 0)
			return (time_t)t;
	}
	return 0;
}

static int
make_test_id(char *out, size_t outlen, unsigned i, struct mp_err *err)
{
	const char *v = getenv("MAILPROOF_TEST_ID");
	size_t k;

	if (v == NULL || *v == '\0')
		return mp_compose_test_id(out, outlen, err);
	for (k = 0; v[k] != '\0'; k++)
		if (!((v[k] >= 'A' && v[k] <= 'Z') || (v[k] >= 'a' && v[k] <= 'z') ||
		      (v[k] >= '0' && v[k] <= '9') || v[k] == '-'))
			return mp_err_set(err, MP_EINVAL,
					  "MAILPROOF_TEST_ID: letters, digits "
					  "and '-' only");
	if (strlen(v) + 8 >= outlen)
		return mp_err_set(err, MP_EINVAL, "MAILPROOF_TEST_ID is too long");
	if (i == 0)
		k = (size_t)snprintf(out, outlen, "%s", v);
	else
		k = (size_t)snprintf(out, outlen, "%s-%u", v, i + 1);
	return k < outlen ? 0 : mp_err_set(err, MP_EINVAL, "MAILPROOF_TEST_ID is too long");
}

static int
run(struct config *c)
{
	struct mp_profile prof;
	struct mp_templates tpl = {0};
	struct mp_signer *signer = NULL;
	struct outmsg *msgs = NULL;
	struct mp_submit_msg *sm = NULL;
	struct mp_submit_opts so = {0};
	struct mp_compose_in in = {0};
	struct mp_err err = {0};
	char *from_name = NULL, *from_addr = NULL, *password = NULL, *dkim_dom = NULL;
	char *url_default = NULL, *name_default = NULL, *cust_domain = NULL;
	const char *alg = NULL;
	time_t when;
	size_t i, nsent = 0;
	int rc = EXIT_USAGE, r;

	mp_profile_init(&prof);
	if (c->profile != NULL) {
		if (mp_profile_load(&prof, c->profile, &err) != 0) {
			fprintf(stderr, PROG ": %s\n", err.msg);
			goto out;
		}
		merge_profile(c, &prof);
	}
	if (c->count == 0)
		c->count = 1;
	if (c->lang == NULL)
		c->lang = "nl";
	else if (strcmp(c->lang, "nl") != 0 && strcmp(c->lang, "en") != 0) {
		fprintf(stderr, PROG ": lang \"%s\" is not nl or en\n", c->lang);
		goto out;
	}
	if (c->nto == 0) {
		rc = usage_error("%s", "--to ADDRESS is required");
		goto out;
	}
	for (i = 0; i < c->nto; i++)
		if (!address_ok(c->to[i])) {
			rc = usage_error("--to: \"%s\" is not an address", c->to[i]);
			goto out;
		}
	if (c->from == NULL) {
		rc = usage_error("%s", "--from ADDRESS is required (or from= in the profile)");
		goto out;
	}
	if ((r = split_from(c->from, &from_name, &from_addr)) != 0 || !address_ok(from_addr)) {
		rc = usage_error("--from: \"%s\" is not an address", c->from);
		goto out;
	}
	if (from_name != NULL && from_name[0] == '\0') {
		free(from_name);
		from_name = NULL;
	}
	if (c->envelope_from == NULL)
		c->envelope_from = from_addr;
	if (!address_ok(c->envelope_from)) {
		rc = usage_error("--envelope-from: \"%s\" is not an address", c->envelope_from);
		goto out;
	}
	if (!c->dry_run && c->relay == NULL) {
		rc = usage_error("%s", "--relay URL is required (or --dry-run)");
		goto out;
	}
	if (c->relay != NULL) {
		char *h = NULL;
		unsigned port;

		if (mp_submit_parse_relay(c->relay, &h, &port, &err) != 0) {
			fprintf(stderr, PROG ": %s\n", err.msg);
			goto out;
		}
		free(h);
	}
	/* The password is read before anything is composed: a missing one is a config error. */
	if (!c->dry_run && c->user != NULL) {
		if (c->password_file != NULL)
			r = mp_secret_read_file(c->password_file, &password, &err);
		else
			r = mp_secret_from_env(PASSWORD_ENV, &password, &err);
		if (r != 0) {
			if (c->password_file == NULL)
				fprintf(stderr, PROG ": --user needs --password-file or $%s\n",
					PASSWORD_ENV);
			else
				fprintf(stderr, PROG ": %s\n", err.msg);
			goto out;
		}
	}
	if (c->dkim_key != NULL || c->dkim_selector != NULL) {
		if (c->dkim_key == NULL || c->dkim_selector == NULL) {
			rc = usage_error("%s",
					 "DKIM signing needs both --dkim-key and --dkim-selector");
			goto out;
		}
		if (c->dkim_domain == NULL)
			c->dkim_domain = dkim_dom = mp_addr_domain(from_addr);
		if (c->dkim_domain == NULL ||
		    mp_signer_new(&signer, c->dkim_key, c->dkim_domain, c->dkim_selector,
				  test_time(), &err) != 0) {
			fprintf(stderr, PROG ": %s\n", c->dkim_domain ? err.msg : "out of memory");
			goto out;
		}
		alg = mp_signer_algorithm(signer);
		if (prof.dkim_algorithm != NULL && strcmp(prof.dkim_algorithm, alg) != 0) {
			fprintf(stderr, PROG ": %s: dkim_algorithm is %s, but %s is a key for %s\n",
				c->profile, prof.dkim_algorithm, c->dkim_key, alg);
			goto out;
		}
	}
	if (mp_templates_load(&tpl, mp_templates_dir(), c->lang, &err) != 0) {
		fprintf(stderr, PROG ": template: %s\n", err.msg);
		goto out;
	}

	/* What the templates say when the profile does not. */
	cust_domain = prof.domain ? mp_strdup_z(prof.domain) : mp_addr_domain(from_addr);
	if (cust_domain == NULL)
		goto oom;
	if (c->customer == NULL)
		c->customer = cust_domain;
	if (c->abbreviation == NULL)
		c->abbreviation = c->customer;
	if (c->extranet_url == NULL) {
		size_t n = strlen(cust_domain) + 32;

		if ((url_default = malloc(n)) == NULL)
			goto oom;
		snprintf(url_default, n, "https://extranet.%s/", cust_domain);
		c->extranet_url = url_default;
	}
	if (c->contact == NULL)
		c->contact = strcmp(c->lang, "en") == 0 ? "Sir or Madam" : "heer, mevrouw";
	if (from_name == NULL) {
		size_t n = strlen(c->abbreviation) + 16;

		if ((name_default = malloc(n)) == NULL)
			goto oom;
		snprintf(name_default, n, "Extranet %s", c->abbreviation);
	}

	if ((when = test_time()) == 0)
		when = time(NULL);
	if ((msgs = calloc(c->count, sizeof(*msgs))) == NULL ||
	    (sm = calloc(c->count, sizeof(*sm))) == NULL)
		goto oom;
	in.lang = c->lang;
	in.customer = c->customer;
	in.abbreviation = c->abbreviation;
	in.domain = cust_domain;
	in.extranet_url = c->extranet_url;
	in.contact = c->contact;
	in.from_name = from_name ? from_name : name_default;
	in.from_addr = from_addr;
	in.to = c->to;
	in.nto = c->nto;
	in.when = when;
	for (i = 0; i < c->count; i++) {
		mp_buf_init(&msgs[i].data, MP_MESSAGE_MAX);
		if (make_test_id(msgs[i].test_id, sizeof(msgs[i].test_id), (unsigned)i, &err) !=
		    0) {
			fprintf(stderr, PROG ": %s\n", err.msg);
			rc = err.code == MP_EINVAL ? EXIT_USAGE : EXIT_OPER;
			goto out;
		}
		in.test_id = msgs[i].test_id;
		if (mp_compose(&tpl, &in, &msgs[i].data, &msgs[i].message_id, &err) != 0 ||
		    (signer != NULL && mp_signer_sign(signer, &msgs[i].data, &err) != 0)) {
			fprintf(stderr, PROG ": %s\n", err.msg);
			goto out;
		}
		sm[i].data = msgs[i].data.data;
		sm[i].len = msgs[i].data.len;
	}
	if (c->save != NULL) {
		for (i = 0; i < c->count; i++) {
			char path[4096];

			if (c->count == 1)
				snprintf(path, sizeof(path), "%s", c->save);
			else
				snprintf(path, sizeof(path), "%s.%zu", c->save, i + 1);
			if (write_file(path, msgs[i].data.data, msgs[i].data.len) != 0) {
				fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
				goto out;
			}
		}
	}
	if (c->dry_run) {
		for (i = 0; i < c->count; i++)
			printf("%s\n", msgs[i].test_id);
		if (c->receipt != NULL &&
		    write_receipt(c, from_addr, msgs, NULL, c->count, when, alg) != 0) {
			fprintf(stderr, PROG ": %s: cannot write the receipt\n", c->receipt);
			rc = EXIT_OPER;
			goto out;
		}
		rc = EXIT_SENT;
		goto out;
	}

	so.relay = c->relay;
	so.user = c->user;
	so.password = password;
	so.ca_file = c->ca_file;
	so.envelope_from = c->envelope_from;
	so.to = c->to;
	so.nto = c->nto;
	so.retry_for = c->retry_for;
	so.trace = c->verbose > 0 ? stderr : NULL;
	{
		const char *t = getenv("MAILPROOF_SMTP_TIMEOUT"),
			   *b = getenv("MAILPROOF_RETRY_BASE");

		if (t != NULL && !parse_uint(t, 3600, &so.timeout))
			so.timeout = 0;
		if (b != NULL && !parse_uint(b, 3600, &so.retry_base))
			so.retry_base = 0;
	}
	r = mp_submit(&so, sm, c->count, &err);
	for (i = 0; i < c->count; i++)
		nsent += sm[i].sent != 0;
	if (r != 0) {
		if (c->count > 1 && nsent > 0)
			fprintf(stderr, PROG ": %s (%zu of %u messages were accepted before)\n",
				err.msg, nsent, c->count);
		else
			fprintf(stderr, PROG ": %s\n", err.msg);
		rc = r == MP_EINVAL ? EXIT_USAGE : EXIT_OPER;
		goto out;
	}
	for (i = 0; i < c->count; i++)
		printf("%s\n", msgs[i].test_id);
	if (!c->quiet)
		for (i = 0; i < c->count && c->verbose > 0; i++)
			fprintf(stderr, PROG ": %s accepted: %s\n", msgs[i].test_id,
				sm[i].reply ? sm[i].reply : "");
	if (c->receipt != NULL && write_receipt(c, from_addr, msgs, sm, c->count, when, alg) != 0) {
		fprintf(stderr, PROG ": %s: cannot write the receipt (the message was sent)\n",
			c->receipt);
		rc = EXIT_OPER;
		goto out;
	}
	rc = EXIT_SENT;
	goto out;
oom:
	fprintf(stderr, PROG ": out of memory\n");
	rc = EXIT_OPER;
out:
	for (i = 0; msgs != NULL && i < c->count; i++) {
		free(msgs[i].message_id);
		mp_buf_dispose(&msgs[i].data);
	}
	for (i = 0; sm != NULL && i < c->count; i++)
		mp_submit_msg_dispose(&sm[i]);
	free(msgs);
	free(sm);
	mp_free_secret(password);
	mp_signer_free(signer);
	mp_templates_dispose(&tpl);
	free(from_name);
	free(from_addr);
	free(dkim_dom);
	free(url_default);
	free(name_default);
	free(cust_domain);
	mp_profile_dispose(&prof);
	return rc;
}

int
main(int argc, char **argv)
{
	struct config c = {0};
	int rc;

	if (argc >= 2 && strcmp(argv[1], "records") == 0)
		return mp_records_main(argc - 1, argv + 1);
	if ((rc = parse_args(argc, argv, &c)) != 0)
		return rc;
	rc = run(&c);
	if (fflush(stdout) != 0 && rc == EXIT_SENT)
		rc = EXIT_OPER;
	return rc;
}
