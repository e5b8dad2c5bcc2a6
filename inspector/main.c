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
#include <unistd.h>

#include "msg.h"
#include "report.h"
#include "resolver.h"
#include "util.h"
#include "verify.h"

#define PROG "mailproof-inspect"
#define MAX_AUTHSERV 32

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
	OPT_ZONE = 256,
	OPT_RESOLVER,
	OPT_AUTHSERV,
	OPT_REQUIRE,
	OPT_CLIENT_IP,
	OPT_LANG,
	OPT_VERSION,
};

/* One table drives getopt_long and --help. */
static const struct opt_doc {
	struct option opt;
	const char *arg;
	const char *help;
} opts_doc[] = {
	{{"format", required_argument, NULL, OPT_FORMAT}, "FMT", "text (default), json or junit"},
	{{"output", required_argument, NULL, OPT_OUTPUT}, "FILE", "write the report to FILE"},
	{{"zone", required_argument, NULL, OPT_ZONE}, "FILE",
	 "answer DNS from this master file only (offline)"},
	{{"resolver", required_argument, NULL, OPT_RESOLVER}, "ADDR[@PORT]",
	 "ask this DNS server instead of the system resolver"},
	{{"authserv-id", required_argument, NULL, OPT_AUTHSERV}, "ID",
	 "trust Authentication-Results of ID (.domain: every host under it); repeatable"},
	{{"require", required_argument, NULL, OPT_REQUIRE}, "LIST",
	 "checks that must pass (default spf,dkim,dmarc)"},
	{{"client-ip", required_argument, NULL, OPT_CLIENT_IP}, "IP",
	 "the SPF client IP (instead of deriving it from the headers)"},
	{{"lang", required_argument, NULL, OPT_LANG}, "en|nl", "language of the text report"},
	{{"verbose", no_argument, NULL, OPT_VERBOSE}, NULL, "more detail on stderr"},
	{{"quiet", no_argument, NULL, OPT_QUIET}, NULL, "only the verdict per message"},
	{{"help", no_argument, NULL, OPT_HELP}, NULL, "show this help"},
	{{"version", no_argument, NULL, OPT_VERSION}, NULL, "show the version"},
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
};

static void
usage_full(FILE *fp)
{
	size_t i;
	char left[64];

	fputs("usage: " PROG " message [OPTIONS] FILE...   verify saved messages (.eml, '-' = "
	      "stdin, mbox, Maildir)\n"
	      "       " PROG " imap [OPTIONS]              (not available yet)\n"
	      "       " PROG " dns [OPTIONS] DOMAIN        (not available yet)\n\noptions:\n",
	      fp);
	for (i = 0; i < NOPTS; i++) {
		const struct opt_doc *d = &opts_doc[i];
		int c = d->opt.val;

		if (c < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", c, d->opt.name,
				 d->arg ? " " : "", d->arg ? d->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", d->opt.name, d->arg ? " " : "",
				 d->arg ? d->arg : "");
		fprintf(fp, "  %-28s %s\n", left, d->help);
	}
	fputs("\nexit status: 0 all required checks passed, 1 a required check failed, 2 usage or "
	      "configuration error,\n3 operational error (DNS, I/O), 4 the test message was not "
	      "found in time.\n",
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
	fputs(" (see " PROG " --help)\n", stderr);
	return EXIT_USAGE;
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
	while ((c = getopt_long(argc, argv, ":f:o:vqh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if (strcmp(optarg, "text") == 0)
				cfg->format = MP_FMT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				cfg->format = MP_FMT_JSON;
			else if (strcmp(optarg, "junit") == 0)
				cfg->format = MP_FMT_JUNIT;
			else if (strcmp(optarg, "html") == 0)
				return usage_error("--format html is not available yet");
			else
				return usage_error("unknown format '%s'", optarg);
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
				return usage_error("too many --authserv-id options (at most 32)");
			if (optarg[0] == '\0' || strcmp(optarg, ".") == 0)
				return usage_error("--authserv-id needs a host or .domain");
			cfg->authserv[cfg->nauthserv++] = optarg;
			break;
		case OPT_REQUIRE:
			if (mp_require_parse(optarg, &cfg->require, &err) != 0)
				return usage_error("%s", err.msg);
			break;
		case OPT_CLIENT_IP:
			cfg->client_ip = optarg;
			break;
		case OPT_LANG:
			if (strcmp(optarg, "en") != 0 && strcmp(optarg, "nl") != 0)
				return usage_error("--lang must be en or nl, not '%s'", optarg);
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
			return usage_error("option %s needs an argument", argv[optind - 1]);
		default:
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (cfg->zone != NULL && cfg->resolver != NULL)
		return usage_error("--zone and --resolver exclude each other");
	*first_file = optind;
	return 0;
}

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

/* A message that could not be read still gets an entry, so no input is lost silently. */
static void
report_unreadable(struct mp_msgrep *rep, const char *source, const char *why)
{
	rep->source = mp_strdup_z(source);
	rep->pass = false;
	mp_msgrep_problem(rep, MP_SEV_ERROR, "MESSAGE_UNREADABLE", "%s", why);
}

static int
cmd_message(int argc, char **argv)
{
	struct config cfg = {0};
	struct mp_resolver_opts ropts = {0};
	struct mp_verify_opts vopts = {0};
	struct mp_report_opts popts = {0};
	struct mp_resolver *res = NULL;
	struct mp_verifier *ver = NULL;
	struct mp_report *rep = NULL;
	struct mp_msgsrc *src = NULL;
	struct mp_err err = {0};
	FILE *out = stdout;
	int first = 0, i, rc, ret = EXIT_PASS;
	bool any_fail = false, any_oper = false;

	if ((rc = parse_args(argc, argv, &cfg, &first)) != 0)
		return rc;
	if (first >= argc)
		return usage_error("message needs at least one FILE ('-' for standard input)");

	if (cfg.zone != NULL) {
		ropts.mode = MP_RESOLVER_ZONE;
		ropts.zone_file = cfg.zone;
	} else if (cfg.resolver != NULL) {
		ropts.mode = MP_RESOLVER_SERVER;
		ropts.server = cfg.resolver;
	}
	if (mp_resolver_new(&res, &ropts, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		ret = err.code == MP_ETEMP || err.code == MP_EIO ? EXIT_OPERATIONAL : EXIT_USAGE;
		goto out;
	}
	vopts.authserv_ids = cfg.authserv;
	vopts.nauthserv = cfg.nauthserv;
	vopts.require = cfg.require;
	vopts.client_ip = cfg.client_ip;
	if (mp_verifier_new(&ver, res, &vopts, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		ret = err.code == MP_EINVAL ? EXIT_USAGE : EXIT_OPERATIONAL;
		goto out;
	}
	if (cfg.output != NULL && strcmp(cfg.output, "-") != 0) {
		out = fopen(cfg.output, "w");
		if (out == NULL) {
			fprintf(stderr, PROG ": %s: %s\n", cfg.output, strerror(errno));
			ret = EXIT_OPERATIONAL;
			goto out;
		}
	}
	if (cfg.nauthserv == 0 && !cfg.quiet)
		fprintf(stderr, PROG ": warning: no --authserv-id given: trusting the topmost "
				"Authentication-Results header of each message\n");

	popts.format = cfg.format;
	popts.tool = PROG;
	popts.version = MP_VERSION;
	popts.color = want_color(out, &cfg);
	popts.quiet = cfg.quiet;
	if (mp_report_open(&rep, out, &popts, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		ret = EXIT_OPERATIONAL;
		goto out;
	}

	for (i = first; i < argc; i++) {
		struct mp_msg *msg;

		if (mp_msgsrc_open(&src, argv[i], &err) != 0) {
			fprintf(stderr, PROG ": %s: %s\n", argv[i], err.msg);
			if (ret == EXIT_PASS || ret == EXIT_CHECK_FAILED)
				ret = err.code == MP_EIO ? EXIT_OPERATIONAL : EXIT_USAGE;
			continue;
		}
		for (;;) {
			struct mp_msgrep mr;

			mp_err_clear(&err);
			rc = mp_msgsrc_next(src, &msg, &err);
			if (rc == 0)
				break;
			mp_msgrep_init(&mr);
			if (rc < 0) {
				if (msg == NULL) {
					/* the source itself failed: nothing more to read from it */
					fprintf(stderr, PROG ": %s: %s\n", argv[i], err.msg);
					any_oper = true;
					break;
				}
				report_unreadable(&mr, mp_msg_source(msg), err.msg);
				any_fail = true;
			} else {
				rc = mp_verifier_check(ver, msg, &mr, &err);
				if (rc == MP_ETEMP || rc == MP_EIO)
					any_oper = true;
				else if (rc != 0) {
					fprintf(stderr, PROG ": %s: %s\n", mp_msg_source(msg), err.msg);
					any_oper = true;
				}
				if (!mr.pass)
					any_fail = true;
			}
			if (cfg.verbose > 0 && mr.source != NULL)
				fprintf(stderr, PROG ": checked %s\n", mr.source);
			rc = mp_report_add(rep, &mr, &err);
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
	if (rep != NULL && mp_report_close(rep, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		ret = EXIT_OPERATIONAL;
	}
	if (out != stdout && out != NULL && fclose(out) != 0) {
		fprintf(stderr, PROG ": %s: %s\n", cfg.output, strerror(errno));
		ret = EXIT_OPERATIONAL;
	}
	mp_msgsrc_free(src);
	mp_verifier_free(ver);
	mp_resolver_free(res);
	return ret;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(PROG ": missing command: message, imap or dns (see " PROG " --help)\n",
		      stderr);
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
	if (strcmp(argv[1], "imap") == 0 || strcmp(argv[1], "dns") == 0) {
		fprintf(stderr, PROG ": '%s' is not available in this version yet\n", argv[1]);
		return EXIT_USAGE;
	}
	fprintf(stderr, PROG ": unknown command '%s' (see " PROG " --help)\n", argv[1]);
	return EXIT_USAGE;
}
