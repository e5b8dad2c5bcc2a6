/*
 * mailproof-inspect - verify SPF, DKIM and DMARC of delivered messages.
 *
 * main() parses the command line, builds the resolver and the verifier, walks the
 * inputs one message at a time and streams the report.  It is the only place that
 * turns errors into exit codes (SPEC.md) and one-line messages on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd_dns.h"
#include "find.h"
#include "i18n.h"
#include "imap_auth.h"
#include "profile.h"
#include "provider.h"
#include "secret.h"
#include "msg.h"
#include "report.h"
#include "resolver.h"
#include "util.h"
#include "verify.h"

#define PROG "mailproof-inspect"
#define MAX_AUTHSERV 32
#define MAX_FOLDERS 32
#define MAX_WAIT 86400

enum exit_code {
	EXIT_PASS = 0,
	EXIT_CHECK_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_OPERATIONAL = 3,
	EXIT_NOT_FOUND = 4,
};

enum opt_id {
	OPT_FORMAT = 'f',
	OPT_OUTPUT = 'o',
	OPT_VERBOSE = 'v',
	OPT_QUIET = 'q',
	OPT_HELP = 'h',
	OPT_PROFILE = 'c',
	OPT_ZONE = 256,
	OPT_RESOLVER,
	OPT_AUTHSERV,
	OPT_REQUIRE,
	OPT_CLIENT_IP,
	OPT_LANG,
	OPT_VERSION,
	OPT_IMAP,
	OPT_USER,
	OPT_PASSWORD_FILE,
	OPT_CA_FILE,
	OPT_TEST_ID,
	OPT_RECEIPT,
	OPT_FOLDER,
	OPT_WAIT,
	OPT_ALL,
	OPT_FROM,
	OPT_PROVIDER,
	OPT_AUTH,
	OPT_TOKEN_FILE,
	OPT_TOKEN_COMMAND,
};

/* One table drives getopt_long and --help. */
static const struct opt_doc {
	struct option opt;
	const char *arg;
	const char *help;
} opts_doc[] = {
	{{"profile", required_argument, NULL, OPT_PROFILE}, "FILE",
	 N_("customer profile (mailproof.conf(5)); options override it")},
	{{"format", required_argument, NULL, OPT_FORMAT}, "FMT",
	 N_("text (default), json, junit or html")},
	{{"output", required_argument, NULL, OPT_OUTPUT}, "FILE", N_("write the report to FILE")},
	{{"zone", required_argument, NULL, OPT_ZONE}, "FILE",
	 N_("answer DNS from this master file only (offline)")},
	{{"resolver", required_argument, NULL, OPT_RESOLVER}, "ADDR[@PORT]",
	 N_("ask this DNS server instead of the system resolver")},
	{{"authserv-id", required_argument, NULL, OPT_AUTHSERV}, "ID",
	 N_("trust Authentication-Results of ID (.domain: every host under it); repeatable")},
	{{"require", required_argument, NULL, OPT_REQUIRE}, "LIST",
	 N_("checks that must pass (default spf,dkim,dmarc)")},
	{{"client-ip", required_argument, NULL, OPT_CLIENT_IP}, "IP",
	 N_("the SPF client IP (instead of deriving it from the headers)")},
	{{"lang", required_argument, NULL, OPT_LANG}, "en|nl",
	 N_("language of messages and reports (default: the locale)")},
	{{"imap", required_argument, NULL, OPT_IMAP}, "URL",
	 N_("imap: imaps://HOST[:PORT] or imap://HOST[:PORT] (STARTTLS required)")},
	{{"user", required_argument, NULL, OPT_USER}, "NAME", N_("imap: the login name")},
	{{"password-file", required_argument, NULL, OPT_PASSWORD_FILE}, "FILE",
	 N_("imap: file holding the password (mode 0600; or $MAILPROOF_IMAP_PASSWORD)")},
	{{"auth", required_argument, NULL, OPT_AUTH}, "MECH",
	 N_("imap: auto (default), login, plain, xoauth2 or oauthbearer")},
	{{"oauth2-token-file", required_argument, NULL, OPT_TOKEN_FILE}, "FILE",
	 N_("imap: file holding an OAuth 2.0 access token (mode 0600; or $MAILPROOF_OAUTH2_TOKEN)")},
	{{"oauth2-token-command", required_argument, NULL, OPT_TOKEN_COMMAND}, "CMD",
	 N_("imap: command that prints a fresh OAuth 2.0 access token")},
	{{"ca-file", required_argument, NULL, OPT_CA_FILE}, "FILE",
	 N_("imap: trust this CA (PEM) instead of the system's")},
	{{"test-id", required_argument, NULL, OPT_TEST_ID}, "ID",
	 N_("imap: the test id to look for")},
	{{"receipt", required_argument, NULL, OPT_RECEIPT}, "FILE",
	 N_("imap: take the test id from mailproof-send's receipt")},
	{{"folder", required_argument, NULL, OPT_FOLDER}, "NAME",
	 N_("imap: search this folder too (INBOX and junk folders always); repeatable")},
	{{"wait", required_argument, NULL, OPT_WAIT}, "SECONDS",
	 N_("imap: wait this long for the message to arrive (default 0)")},
	{{"all", no_argument, NULL, OPT_ALL}, NULL,
	 N_("imap: verify every message of the folders")},
	{{"from", required_argument, NULL, OPT_FROM}, "ADDRESS",
	 N_("imap: without a test id, the newest message from this address")},
	{{"provider", required_argument, NULL, OPT_PROVIDER}, "NAME",
	 N_("m365, gmail or generic: the provider's IMAP server and trusted receiver")},
	{{"verbose", no_argument, NULL, OPT_VERBOSE}, NULL, N_("more detail on stderr")},
	{{"quiet", no_argument, NULL, OPT_QUIET}, NULL, N_("only the verdict per message")},
	{{"help", no_argument, NULL, OPT_HELP}, NULL, N_("show this help")},
	{{"version", no_argument, NULL, OPT_VERSION}, NULL, N_("show the version")},
};
#define NOPTS (sizeof(opts_doc) / sizeof(opts_doc[0]))

struct config {
	enum mp_format format;
	const char *output;
	const char *zone;
	const char *resolver;
	const char *authserv[MAX_AUTHSERV];
	size_t nauthserv;
	unsigned require;
	const char *client_ip;
	int verbose;
	bool quiet;
	const char *imap;
	const char *user;
	const char *password_file;
	enum mp_auth_mech auth;
	bool auth_set;
	const char *token_file;
	const char *token_command;
	const char *ca_file;
	const char *test_id;
	const char *receipt;
	const char *from;
	const char *folders[MAX_FOLDERS];
	size_t nfolders;
	unsigned wait_s;
	bool all;
	bool imap_opts; /* an imap-only option was given */
	const char *profile_path;
	struct mp_profile profile; /* loaded from profile_path; fills what options left unset */
	bool have_profile;
	bool require_set;
	const char *provider_name;	     /* --provider, else the profile's */
	const struct mp_provider *provider; /* its defaults fill what is still unset */
};

static void
usage_full(FILE *fp)
{
	size_t i;
	char left[64];

	fprintf(fp, _("usage: %s message [OPTIONS] FILE...   verify saved messages (.eml, '-' = "
		        "stdin, mbox, Maildir)\n"
		        "       %s imap [OPTIONS]              find the test message in a mailbox "
		        "(waiting for it), verify\n"
		        "       %s dns [OPTIONS] DOMAIN        check the published SPF, DKIM and "
		        "DMARC records\n\noptions:\n"),
		PROG, PROG, PROG);
	for (i = 0; i < NOPTS; i++) {
		const struct opt_doc *d = &opts_doc[i];
		int c = d->opt.val;

		if (c < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", c, d->opt.name,
				 d->arg ? " " : "", d->arg ? d->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", d->opt.name, d->arg ? " " : "",
				 d->arg ? d->arg : "");
		fprintf(fp, "  %-28s %s\n", left, _(d->help));
	}
	fputs(_("\nexit status: 0 all required checks passed, 1 a required check failed, 2 usage "
		  "or configuration error,\n3 operational error (DNS, I/O), 4 the test message was "
		  "not found in time.\n"),
	      fp);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, _(" (see %s --help)\n"), PROG);
	return EXIT_USAGE;
}

/* Settings of the profile fill in what the command line left unset (SPEC: options win). */
static int
apply_profile(struct config *cfg)
{
	struct mp_profile *p = &cfg->profile;
	struct mp_err err = {0};
	size_t i;

	mp_profile_init(p);
	cfg->have_profile = true;
	if (mp_profile_load(p, cfg->profile_path, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return EXIT_USAGE;
	}
	if (cfg->nauthserv == 0)
		for (i = 0; i < p->authserv_ids.n && cfg->nauthserv < MAX_AUTHSERV; i++)
			cfg->authserv[cfg->nauthserv++] = p->authserv_ids.v[i];
	if (!cfg->require_set && p->require != NULL &&
	    mp_require_parse(p->require, &cfg->require, &err) != 0)
		return usage_error("%s: %s", cfg->profile_path, err.msg);
	if (cfg->imap == NULL)
		cfg->imap = p->imap;
	if (cfg->user == NULL)
		cfg->user = p->imap_user;
	/* A password or token source named on the command line replaces the profile's. */
	if (cfg->token_file == NULL && cfg->token_command == NULL && cfg->password_file == NULL) {
		if (p->imap_oauth2_token_file != NULL && p->imap_oauth2_token_command != NULL)
			return usage_error(_("%s: oauth2_token_file and oauth2_token_command "
					     "exclude each other"),
					   cfg->profile_path);
		cfg->token_file = p->imap_oauth2_token_file;
		cfg->token_command = p->imap_oauth2_token_command;
	}
	if (cfg->password_file == NULL)
		cfg->password_file = p->imap_password_file;
	if (cfg->ca_file == NULL)
		cfg->ca_file = p->imap_ca_file;
	if (!cfg->auth_set && p->imap_auth != NULL &&
	    mp_imap_auth_parse(p->imap_auth, &cfg->auth) != 0)
		return usage_error(_("%s: auth must be auto, login, plain, xoauth2 or "
				     "oauthbearer, not '%s'"),
				   cfg->profile_path, p->imap_auth);
	if (cfg->nfolders == 0)
		for (i = 0; i < p->folders.n && cfg->nfolders < MAX_FOLDERS; i++)
			cfg->folders[cfg->nfolders++] = p->folders.v[i];
	return 0;
}

/* Whether the login uses a token unless --auth says otherwise: a token file or command
 * was named, or $MAILPROOF_OAUTH2_TOKEN is set and no password file was named. */
static bool
token_named(const struct config *cfg)
{
	const char *env = getenv("MAILPROOF_OAUTH2_TOKEN");

	return cfg->token_file != NULL || cfg->token_command != NULL ||
	       (cfg->password_file == NULL && env != NULL && *env != '\0');
}

/* The provider's defaults (core/provider.c) for what options and profile left unset. */
static int
apply_provider(struct config *cfg)
{
	const struct mp_provider *p;
	size_t i;

	if (cfg->provider_name == NULL && cfg->have_profile)
		cfg->provider_name = cfg->profile.provider;
	if (cfg->provider_name == NULL)
		return 0;
	if ((p = mp_provider_find(cfg->provider_name)) == NULL)
		return usage_error(_("unknown provider '%s' (m365, gmail or generic)"),
				   cfg->provider_name);
	cfg->provider = p;
	if (cfg->imap == NULL)
		cfg->imap = p->imap_url;
	if (cfg->nauthserv == 0)
		for (i = 0; i < p->nauthserv && cfg->nauthserv < MAX_AUTHSERV; i++)
			cfg->authserv[cfg->nauthserv++] = p->authserv_ids[i];
	/* The provider's mechanism, unless --auth or the profile named one. */
	if (!cfg->auth_set && cfg->auth == MP_AUTH_AUTO)
		cfg->auth = mp_provider_auth(p, token_named(cfg));
	return 0;
}

static void
config_dispose(struct config *cfg)
{
	if (cfg->have_profile)
		mp_profile_dispose(&cfg->profile);
	cfg->have_profile = false;
}

static int
parse_args(int argc, char **argv, struct config *cfg, int *first_file)
{
	struct option longopts[NOPTS + 1];
	struct mp_err err = {0};
	size_t i;
	int c;

	for (i = 0; i < NOPTS; i++)
		longopts[i] = opts_doc[i].opt;
	memset(&longopts[NOPTS], 0, sizeof(longopts[NOPTS]));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:f:o:vqh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if (strcmp(optarg, "text") == 0)
				cfg->format = MP_FMT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				cfg->format = MP_FMT_JSON;
			else if (strcmp(optarg, "junit") == 0)
				cfg->format = MP_FMT_JUNIT;
			else if (strcmp(optarg, "html") == 0)
				cfg->format = MP_FMT_HTML;
			else
				return usage_error(_("unknown format '%s'"), optarg);
			break;
		case OPT_OUTPUT:
			cfg->output = optarg;
			break;
		case OPT_ZONE:
			cfg->zone = optarg;
			break;
		case OPT_RESOLVER:
			cfg->resolver = optarg;
			break;
		case OPT_AUTHSERV:
			if (cfg->nauthserv >= MAX_AUTHSERV)
				return usage_error(
				    _("too many --authserv-id options (at most 32)"));
			if (optarg[0] == '\0' || strcmp(optarg, ".") == 0)
				return usage_error(_("--authserv-id needs a host or .domain"));
			cfg->authserv[cfg->nauthserv++] = optarg;
			break;
		case OPT_REQUIRE:
			if (mp_require_parse(optarg, &cfg->require, &err) != 0)
				return usage_error("%s", err.msg);
			cfg->require_set = true;
			break;
		case OPT_CLIENT_IP:
			cfg->client_ip = optarg;
			break;
		case OPT_LANG:
			if (strcmp(optarg, "en") != 0 && strcmp(optarg, "nl") != 0)
				return usage_error(_("--lang must be en or nl, not '%s'"), optarg);
			break;
		case OPT_PROFILE:
			cfg->profile_path = optarg;
			break;
		case OPT_IMAP:
			cfg->imap = optarg;
			cfg->imap_opts = true;
			break;
		case OPT_USER:
			cfg->user = optarg;
			cfg->imap_opts = true;
			break;
		case OPT_PASSWORD_FILE:
			cfg->password_file = optarg;
			cfg->imap_opts = true;
			break;
		case OPT_AUTH:
			if (mp_imap_auth_parse(optarg, &cfg->auth) != 0)
				return usage_error(_("--auth must be auto, login, plain, xoauth2 or "
						     "oauthbearer, not '%s'"),
						   optarg);
			cfg->auth_set = true;
			cfg->imap_opts = true;
			break;
		case OPT_TOKEN_FILE:
			cfg->token_file = optarg;
			cfg->imap_opts = true;
			break;
		case OPT_TOKEN_COMMAND:
			cfg->token_command = optarg;
			cfg->imap_opts = true;
			break;
		case OPT_CA_FILE:
			cfg->ca_file = optarg;
			cfg->imap_opts = true;
			break;
		case OPT_TEST_ID:
			cfg->test_id = optarg;
			cfg->imap_opts = true;
			break;
		case OPT_RECEIPT:
			cfg->receipt = optarg;
			cfg->imap_opts = true;
			break;
		case OPT_FOLDER:
			if (cfg->nfolders >= MAX_FOLDERS)
				return usage_error(_("too many --folder options (at most 32)"));
			cfg->folders[cfg->nfolders++] = optarg;
			cfg->imap_opts = true;
			break;
		case OPT_WAIT: {
			char *e;
			unsigned long w = strtoul(optarg, &e, 10);

			if (*optarg == '\0' || *e != '\0' || w > MAX_WAIT)
				return usage_error(_("--wait takes seconds, 0 to %d"), MAX_WAIT);
			cfg->wait_s = (unsigned)w;
			cfg->imap_opts = true;
			break;
		}
		case OPT_ALL:
			cfg->all = true;
			cfg->imap_opts = true;
			break;
		case OPT_FROM:
			cfg->from = optarg;
			cfg->imap_opts = true;
			break;
		case OPT_PROVIDER:
			cfg->provider_name = optarg;
			break;
		case OPT_VERBOSE:
			cfg->verbose++;
			break;
		case OPT_QUIET:
			cfg->quiet = true;
			break;
		case OPT_HELP:
			usage_full(stdout);
			exit(EXIT_PASS);
		case OPT_VERSION:
			printf(PROG " %s\n", MP_VERSION);
			exit(EXIT_PASS);
		case ':':
			return usage_error(_("option %s needs an argument"), argv[optind - 1]);
		default:
			return usage_error(_("unknown option %s"), argv[optind - 1]);
		}
	}
	if (cfg->zone != NULL && cfg->resolver != NULL)
		return usage_error(_("--zone and --resolver exclude each other"));
	if (cfg->token_file != NULL && cfg->token_command != NULL)
		return usage_error(_("--oauth2-token-file and --oauth2-token-command exclude "
				     "each other"));
	*first_file = optind;
	if (cfg->profile_path != NULL && (c = apply_profile(cfg)) != 0)
		return c;
	return apply_provider(cfg);
}

/* One terminal-safe line on stderr (mp_diag). */
#define diag(...) mp_diag(PROG, __VA_ARGS__)

static bool
want_color(FILE *fp, const struct config *cfg)
{
	const char *term = getenv("TERM");

	if (cfg->format != MP_FMT_TEXT || getenv("NO_COLOR") != NULL)
		return false;
	if (term == NULL || strcmp(term, "dumb") == 0)
		return false;
	return isatty(fileno(fp));
}

/*
 * A message that could not be read still gets an entry, so no input is lost silently.
 * A header section that breaks a bound or ends early is the message's fault
 * (MESSAGE_MALFORMED); a file that cannot be opened or read is not (MESSAGE_UNREADABLE).
 */
static void
report_unreadable(struct mp_msgrep *rep, const char *source, const struct mp_err *err)
{
	bool malformed = err->code == MP_EPARSE || err->code == MP_ETOOBIG;

	rep->source = mp_strdup_z(source);
	rep->pass = false;
	mp_msgrep_problem(rep, MP_SEV_ERROR, malformed ? "MESSAGE_MALFORMED" : "MESSAGE_UNREADABLE",
			  "%s", err->msg);
}

/* What every command sets up: resolver, verifier, output and report. */
struct session {
	struct mp_resolver *res;
	struct mp_verifier *ver;
	struct mp_report *rep;
	FILE *out;
};

static int
session_open(struct session *ss, const struct config *cfg, unsigned require)
{
	struct mp_resolver_opts ropts = {0};
	struct mp_verify_opts vopts = {0};
	struct mp_report_opts popts = {0};
	struct mp_err err = {0};

	memset(ss, 0, sizeof(*ss));
	ss->out = stdout;
	if (cfg->zone != NULL) {
		ropts.mode = MP_RESOLVER_ZONE;
		ropts.zone_file = cfg->zone;
	} else if (cfg->resolver != NULL) {
		ropts.mode = MP_RESOLVER_SERVER;
		ropts.server = cfg->resolver;
		ropts.fail_fast = true; /* a server that never answered is not asked again */
	}
	if (mp_resolver_new(&ss->res, &ropts, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return err.code == MP_ETEMP || err.code == MP_EIO ? EXIT_OPERATIONAL : EXIT_USAGE;
	}
	vopts.authserv_ids = cfg->authserv;
	vopts.nauthserv = cfg->nauthserv;
	vopts.require = require;
	vopts.client_ip = cfg->client_ip;
	if (mp_verifier_new(&ss->ver, ss->res, &vopts, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return err.code == MP_EINVAL ? EXIT_USAGE : EXIT_OPERATIONAL;
	}
	if (cfg->output != NULL && strcmp(cfg->output, "-") != 0) {
		ss->out = fopen(cfg->output, "w");
		if (ss->out == NULL) {
			fprintf(stderr, PROG ": %s: %s\n", cfg->output, strerror(errno));
			return EXIT_OPERATIONAL;
		}
	}
	if (cfg->nauthserv == 0 && !cfg->quiet)
		fprintf(stderr, _("%s: warning: no --authserv-id given: trusting the topmost "
				    "Authentication-Results header of each message\n"),
			PROG);
	popts.format = cfg->format;
	popts.tool = PROG;
	popts.version = MP_VERSION;
	popts.color = want_color(ss->out, cfg);
	popts.quiet = cfg->quiet;
	if (mp_report_open(&ss->rep, ss->out, &popts, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return EXIT_OPERATIONAL;
	}
	return 0;
}

/* Closes the report and the output; returns ret, or EXIT_OPERATIONAL if writing failed. */
static int
session_close(struct session *ss, const struct config *cfg, int ret)
{
	struct mp_err err = {0};

	if (ss->rep != NULL && mp_report_close(ss->rep, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		ret = EXIT_OPERATIONAL;
	}
	if (ss->out != stdout && ss->out != NULL && fclose(ss->out) != 0) {
		fprintf(stderr, PROG ": %s: %s\n", cfg->output, strerror(errno));
		ret = EXIT_OPERATIONAL;
	}
	mp_verifier_free(ss->ver);
	mp_resolver_free(ss->res);
	memset(ss, 0, sizeof(*ss));
	return ret;
}

static int
run_message(struct config *cfgp, int argc, char **argv)
{
#define cfg (*cfgp)
	struct session ss;
	struct mp_msgsrc *src = NULL;
	struct mp_err err = {0};
	int first = 0, i, rc, ret = EXIT_PASS;
	size_t nmsg;
	bool any_fail = false, any_oper = false;

	if ((rc = parse_args(argc, argv, &cfg, &first)) != 0)
		return rc;
	if (cfg.imap_opts)
		return usage_error(_("--imap, --user, --test-id, --wait, ... belong to the imap "
				     "command"));
	if (first >= argc)
		return usage_error(_("message needs at least one FILE ('-' for standard input)"));
	if ((ret = session_open(&ss, &cfg, cfg.require & ~(unsigned)MP_CHECK_PLACEMENT)) != 0)
		goto out;

	for (i = first; i < argc; i++) {
		struct mp_msg *msg;

		if (mp_msgsrc_open(&src, argv[i], &err) != 0) {
			diag("%s", err.msg); /* it names the path */
			if (ret == EXIT_PASS || ret == EXIT_CHECK_FAILED)
				ret = err.code == MP_EIO ? EXIT_OPERATIONAL : EXIT_USAGE;
			continue;
		}
		for (nmsg = 0;; nmsg++) {
			struct mp_msgrep mr;

			mp_err_clear(&err);
			rc = mp_msgsrc_next(src, &msg, &err);
			if (rc == 0) {
				/* an empty Maildir must not pass as if its messages were fine */
				if (nmsg == 0) {
					diag(_("%s: no messages in it"), argv[i]);
					if (ret == EXIT_PASS || ret == EXIT_CHECK_FAILED)
						ret = EXIT_USAGE;
				}
				break;
			}
			mp_msgrep_init(&mr);
			if (rc < 0) {
				if (msg == NULL) {
					/* the source itself failed: nothing more to read from it */
					diag("%s: %s", argv[i], err.msg);
					any_oper = true;
					break;
				}
				report_unreadable(&mr, mp_msg_source(msg), &err);
				any_fail = true;
			} else {
				rc = mp_verifier_check(ss.ver, msg, &mr, &err);
				if (rc == MP_ETEMP || rc == MP_EIO)
					any_oper = true;
				else if (rc != 0) {
					diag("%s: %s", mp_msg_source(msg), err.msg);
					any_oper = true;
				}
				if (!mr.pass)
					any_fail = true;
			}
			if (cfg.verbose > 0 && mr.source != NULL)
				diag(_("checked %s"), mr.source);
			rc = mp_report_add(ss.rep, &mr, &err);
			mp_msgrep_dispose(&mr);
			if (rc != 0) {
				fprintf(stderr, PROG ": %s\n", err.msg);
				ret = EXIT_OPERATIONAL;
				goto out;
			}
		}
		mp_msgsrc_free(src);
		src = NULL;
	}
	if (ret == EXIT_PASS) {
		if (any_oper)
			ret = EXIT_OPERATIONAL;
		else if (any_fail)
			ret = EXIT_CHECK_FAILED;
	}
out:
	mp_msgsrc_free(src);
	return session_close(&ss, &cfg, ret);
}
#undef cfg

static int
cmd_message(int argc, char **argv)
{
	struct config cfg;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	rc = run_message(&cfg, argc, argv);
	config_dispose(&cfg);
	return rc;
}

/* The test id (and Message-ID) from mailproof-send's receipt. */
static int
read_receipt(const char *path, char **test_id, char **message_id)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), *m;
	const char *t, *mid;

	if (j == NULL) {
		fprintf(stderr, _("%s: %s: not a receipt: %s (line %d)\n"), PROG, path, jerr.text,
			jerr.line);
		return EXIT_USAGE;
	}
	/* A receipt of --count N lists its messages; the first one is looked for. */
	m = json_object_get(j, "messages");
	if (json_is_array(m) && json_array_size(m) > 0)
		m = json_array_get(m, 0);
	else
		m = j;
	t = json_string_value(json_object_get(m, "test_id"));
	mid = json_string_value(json_object_get(m, "message_id"));
	if (t == NULL && mid == NULL) {
		json_decref(j);
		fprintf(stderr, _("%s: %s: the receipt has no test_id\n"), PROG, path);
		return EXIT_USAGE;
	}
	*test_id = mp_strdup_z(t);
	*message_id = mp_strdup_z(mid);
	json_decref(j);
	return 0;
}

/* The IMAP password: a file only its owner can read, or the environment. */
static char *
read_password(const char *file, int *ret)
{
	struct mp_err err = {0};
	char *pw = NULL;
	int rc;

	*ret = 0;
	rc = file != NULL ? mp_secret_read_file(file, &pw, &err)
			  : mp_secret_from_env("MAILPROOF_IMAP_PASSWORD", &pw, &err);
	if (rc == 0)
		return pw;
	if (file == NULL)
		fprintf(stderr, _("%s: imap needs --password-file or $MAILPROOF_IMAP_PASSWORD\n"),
			PROG);
	else
		diag("%s", err.msg);
	*ret = rc == MP_EIO ? EXIT_OPERATIONAL : EXIT_USAGE;
	return NULL;
}

/*
 * The IMAP credentials: an OAuth 2.0 token (file, command or $MAILPROOF_OAUTH2_TOKEN) or
 * a password (file or $MAILPROOF_IMAP_PASSWORD).  --auth login|plain takes the password,
 * xoauth2|oauthbearer a token; auto prefers what was named explicitly, then a token.
 */
static int
read_credentials(const struct config *cfg, struct mp_imap_opts *io, char **password,
		 char **token)
{
	struct mp_err err = {0};
	char *all = NULL;
	const char *env = getenv("MAILPROOF_OAUTH2_TOKEN");
	size_t len = 0;
	bool oauth, forced = cfg->auth != MP_AUTH_AUTO;
	int rc, ret = 0;

	*password = *token = NULL;
	if (forced)
		oauth = mp_imap_auth_is_oauth(cfg->auth);
	else
		oauth = token_named(cfg);
	if (!oauth) {
		if ((*password = read_password(cfg->password_file, &ret)) == NULL)
			return ret;
		io->password = *password;
		return 0;
	}
	if (cfg->token_command != NULL) {
		io->token_command = cfg->token_command; /* run for each login */
		return 0;
	}
	if (cfg->token_file != NULL) {
		rc = mp_secret_read_private(cfg->token_file, _("the token file"),
					    MP_OAUTH2_TOKEN_MAX + 2, &all, &len, &err);
		if (rc == 0) {
			all[strcspn(all, "\r\n")] = '\0';
			rc = mp_oauth2_token_check(all, cfg->token_file, &err);
		}
		if (rc != 0) {
			diag("%s", err.msg);
			mp_free_secret(all);
			return rc == MP_EIO ? EXIT_OPERATIONAL : EXIT_USAGE;
		}
		*token = all;
	} else if (env != NULL && *env != '\0') {
		if (mp_oauth2_token_check(env, "$MAILPROOF_OAUTH2_TOKEN", &err) != 0) {
			diag("%s", err.msg);
			return EXIT_USAGE;
		}
		if ((*token = mp_strdup_z(env)) == NULL) {
			fprintf(stderr, PROG ": %s\n", _("out of memory"));
			return EXIT_OPERATIONAL;
		}
	} else {
		fprintf(stderr,
			_("%s: --auth %s needs --oauth2-token-file, --oauth2-token-command or "
			  "$MAILPROOF_OAUTH2_TOKEN\n"),
			PROG, mp_auth_mech_name(cfg->auth));
		return EXIT_USAGE;
	}
	io->token = *token;
	return 0;
}

/* Network timeout per IMAP operation: MAILPROOF_IMAP_TIMEOUT seconds (1-600), else 30. */
static unsigned
net_timeout(void)
{
	const char *v = getenv("MAILPROOF_IMAP_TIMEOUT");
	unsigned long t;
	char *e;

	if (v == NULL || *v == '\0')
		return 30;
	t = strtoul(v, &e, 10);
	return *e == '\0' && t >= 1 && t <= 600 ? (unsigned)t : 30;
}

static int
run_imap(struct config *cfgp, int argc, char **argv)
{
#define cfg (*cfgp)
	struct mp_find_opts fo = {0};
	struct session ss;
	struct mp_err err = {0};
	enum mp_find_outcome outcome;
	char *password = NULL, *token = NULL, *rid = NULL, *rmid = NULL;
	unsigned require;
	bool failed = false, temp = false;
	int first = 0, rc, ret = EXIT_PASS;

	memset(&ss, 0, sizeof(ss));
	if ((rc = parse_args(argc, argv, &cfg, &first)) != 0)
		return rc;
	if (first < argc)
		return usage_error(_("imap takes no file arguments ('%s')"), argv[first]);
	if (cfg.imap == NULL)
		return usage_error(_("imap needs --imap imaps://HOST or imap://HOST"));
	if (cfg.user == NULL)
		return usage_error(_("imap needs --user"));
	if (!cfg.all && cfg.test_id == NULL && cfg.receipt == NULL && cfg.from == NULL)
		return usage_error(_("imap needs --test-id, --receipt, --from or --all"));
	if (cfg.receipt != NULL && (ret = read_receipt(cfg.receipt, &rid, &rmid)) != 0)
		goto out;
	if ((ret = read_credentials(&cfg, &fo.imap, &password, &token)) != 0)
		goto out;
	require = cfg.require != 0 ? cfg.require
				   : (MP_CHECK_SPF | MP_CHECK_DKIM | MP_CHECK_DMARC |
				      MP_CHECK_PLACEMENT);
	/* The placement bit goes along: "--require placement" alone must not mean the default. */
	if ((ret = session_open(&ss, &cfg, require)) != 0)
		goto out;
	fo.imap.url = cfg.imap;
	fo.imap.user = cfg.user;
	fo.imap.auth = cfg.auth;
	fo.imap.ca_file = cfg.ca_file;
	fo.imap.verbose = cfg.verbose;
	fo.imap.timeout_s = net_timeout();
	fo.test_id = cfg.test_id != NULL ? cfg.test_id : rid;
	fo.message_id = fo.test_id == NULL ? rmid : NULL;
	fo.from = cfg.from;
	fo.receipt = cfg.receipt;
	fo.folders = cfg.folders;
	fo.nfolders = cfg.nfolders;
	fo.wait_s = cfg.wait_s;
	fo.all = cfg.all;
	fo.progress = !cfg.quiet && isatty(STDERR_FILENO);
	fo.require = require;
	rc = mp_find_run(&fo, ss.ver, ss.rep, &outcome, &failed, &temp, &err);
	if (rc != 0) {
		diag("%s", err.msg); /* may quote the server */
		ret = rc == MP_EINVAL ? EXIT_USAGE : EXIT_OPERATIONAL;
	} else if (outcome == MP_FIND_NOT_FOUND) {
		fprintf(stderr,
			cfg.nfolders > 0
				? _("%s: test message %s not found in INBOX, the junk folders and "
				    "the folders named within %u s\n")
				: _("%s: test message %s not found in INBOX, the junk folders within "
				    "%u s\n"),
			PROG,
			fo.test_id != NULL ? fo.test_id : fo.message_id != NULL ? fo.message_id : fo.from,
			cfg.wait_s);
		ret = EXIT_NOT_FOUND;
	} else if (temp) {
		ret = EXIT_OPERATIONAL;
	} else if (failed) {
		ret = EXIT_CHECK_FAILED;
	}
out:
	mp_free_secret(password);
	mp_free_secret(token);
	free(rid);
	free(rmid);
	return session_close(&ss, &cfg, ret);
}
#undef cfg

static int
cmd_imap(int argc, char **argv)
{
	struct config cfg;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	rc = run_imap(&cfg, argc, argv);
	config_dispose(&cfg);
	return rc;
}

/*
 * The --lang value, looked up before the options are parsed so that even the errors
 * about them come out in the chosen language; NULL (the locale decides) without one.
 */
static const char *
lang_arg(int argc, char **argv)
{
	const char *lang = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc)
			lang = argv[++i];
		else if (strncmp(argv[i], "--lang=", 7) == 0)
			lang = argv[i] + 7;
	}
	if (lang != NULL && strcmp(lang, "en") != 0 && strcmp(lang, "nl") != 0)
		return NULL;
	return lang;
}

int
main(int argc, char **argv)
{
	mp_i18n_init(lang_arg(argc, argv));
	if (argc < 2) {
		fprintf(stderr, _("%s: missing command: message, imap or dns (see %s --help)\n"),
			PROG, PROG);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage_full(stdout);
		return EXIT_PASS;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf(PROG " %s\n", MP_VERSION);
		return EXIT_PASS;
	}
	if (strcmp(argv[1], "message") == 0)
		return cmd_message(argc - 1, argv + 1);
	if (strcmp(argv[1], "imap") == 0)
		return cmd_imap(argc - 1, argv + 1);
	if (strcmp(argv[1], "dns") == 0)
		return mp_cmd_dns(argc - 1, argv + 1);
	fprintf(stderr, _("%s: unknown command '%s' (see %s --help)\n"), PROG, argv[1], PROG);
	return EXIT_USAGE;
}
