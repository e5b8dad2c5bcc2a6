/*
 * batch.c - see batch.h.
 *
 * The whole file is read and checked before the first DNS query, so a bad line costs
 * nothing but exit 2.  Reports are written as domains finish, in file order
 * (core/preflight_batch.c keeps the order), so memory does not grow with the file.
 */
#include "batch.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"
#include "preflight.h"
#include "preflight_batch.h"
#include "preflight_report.h"
#include "resolver.h"
#include "util.h"
#include "zone.h"

#define PROG "mailproof-inspect"
#define PROGRESS_MS 200

/* One line of the batch file: its own copy of the line, tokens point into it. */
struct bline {
	char *text;
	const char **lists; /* selectors, then ips, then includes (NULL: defaults only) */
	size_t line;
};

struct batch_run {
	const struct dns_batch_cfg *c;
	FILE *out;
	struct mp_report_opts wopts;
	size_t n, passed, failed, tempfailed;
	bool progress;
	long long start_ms, last_ms;
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One terminal-safe line on stderr (mp_diag). */
#define say(...) mp_diag(PROG, __VA_ARGS__)

static int
bad_line(const char *file, size_t line, const char *what, const char *arg)
{
	char safe[80];
	size_t i;

	/* The file's own text goes to a terminal: printable ASCII only, bounded. */
	for (i = 0; arg != NULL && arg[i] != '\0' && i + 1 < sizeof(safe); i++)
		safe[i] = arg[i] > 0x20 && arg[i] < 0x7f ? arg[i] : '?';
	safe[i] = '\0';
	say("%s:%zu: %s%s%s", file, line, what, arg != NULL ? " " : "", arg != NULL ? safe : "");
	return 2;
}

/*
 * Reads one line into buf (at most DNS_BATCH_LINE_MAX bytes, the newline and a final CR
 * dropped).  Returns 1 for a line, 0 at the end, -1 too long, -2 a NUL byte.
 */
static int
read_line(FILE *fp, char *buf)
{
	size_t n = 0;
	int ch, got = 0;

	while ((ch = getc(fp)) != EOF) {
		got = 1;
		if (ch == '\n')
			break;
		if (ch == '\0')
			return -2;
		if (n >= DNS_BATCH_LINE_MAX)
			return -1;
		buf[n++] = (char)ch;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return got;
}

/* Words split on blanks, in place; a word starting with '#' begins a comment. */
static size_t
split_words(char *s, char **tok, size_t max)
{
	size_t n = 0;

	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0' || *s == '#' || n >= max)
			break;
		tok[n++] = s;
		s += strcspn(s, " \t");
		if (*s == '\0')
			break;
		*s++ = '\0';
	}
	return n;
}

static bool
valid_ip(const char *s)
{
	unsigned char bin[16];

	return inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1;
}

/* "--name VALUE" or "--name=VALUE"; the value is the next token when not attached. */
static const char *
opt_value(char **tok, size_t ntok, size_t *i, const char *name)
{
	size_t l = strlen(name);

	if (strncmp(tok[*i], name, l) == 0 && tok[*i][l] == '=')
		return tok[*i][l + 1] != '\0' ? tok[*i] + l + 1 : NULL;
	if (strcmp(tok[*i], name) != 0)
		return NULL;
	if (*i + 1 >= ntok)
		return NULL;
	return tok[++*i];
}

static bool
is_opt(const char *tok, const char *name)
{
	size_t l = strlen(name);

	return strncmp(tok, name, l) == 0 && (tok[l] == '\0' || tok[l] == '=');
}

/* Parses one non-empty line (tokens already split) into item and bl. */
static int
parse_tokens(const struct dns_batch_cfg *c, char **tok, size_t ntok, size_t line,
	     struct mp_pfbatch_item *item, struct bline *bl, const char **last_key)
{
	const char *sel[DNS_BATCH_LIST_MAX], *ip[DNS_BATCH_LIST_MAX], *inc[DNS_BATCH_LIST_MAX];
	size_t nsel = 0, nip = 0, ninc = 0, i;
	bool have_sel = false, have_ip = false, have_inc = false;
	char norm[MP_ZONE_NAME_MAX + 1];
	const char *key = c->key, *v;
	struct mp_err err = {0};

	if (tok[0][0] == '-')
		return bad_line(c->file, line, _("a line starts with the domain, not"), tok[0]);
	if (mp_zone_name_norm(tok[0], strlen(tok[0]), norm) != 0 || norm[0] == '\0')
		return bad_line(c->file, line, _("not a domain name:"), tok[0]);
	for (i = 1; i < ntok; i++) {
		static const char *const names[] = {"--selector", "--ip", "--include", "--key"};
		size_t k;

		for (k = 0; k < 4 && !is_opt(tok[i], names[k]); k++)
			;
		if (k == 4)
			return bad_line(
			    c->file, line,
			    tok[i][0] == '-' ? _("unknown option") : _("unexpected word"), tok[i]);
		if ((v = opt_value(tok, ntok, &i, names[k])) == NULL)
			return bad_line(c->file, line, _("option needs a value:"), names[k]);
		if ((k == 0 && nsel >= DNS_BATCH_LIST_MAX) ||
		    (k == 1 && nip >= DNS_BATCH_LIST_MAX) || (k == 2 && ninc >= DNS_BATCH_LIST_MAX))
			return bad_line(c->file, line, _("too many values of"), names[k]);
		switch (k) {
		case 0:
			/* One label: the selector is the part before "._domainkey.". */
			if (mp_zone_name_norm(v, strlen(v), norm) != 0 || norm[0] == '\0' ||
			    strchr(norm, '.') != NULL)
				return bad_line(c->file, line, _("not a DKIM selector:"), v);
			sel[nsel++] = v;
			have_sel = true;
			break;
		case 1:
			if (!valid_ip(v))
				return bad_line(c->file, line, _("not an IP address:"), v);
			ip[nip++] = v;
			have_ip = true;
			break;
		case 2:
			if (mp_zone_name_norm(v, strlen(v), norm) != 0 || norm[0] == '\0')
				return bad_line(c->file, line, _("not a domain name:"), v);
			inc[ninc++] = v;
			have_inc = true;
			break;
		default:
			key = v;
			break;
		}
	}
	/* Each distinct key file is read once here, so a bad one stops the run before DNS. */
	if (key != NULL && key != c->key && (*last_key == NULL || strcmp(key, *last_key) != 0)) {
		if (mp_preflight_key_check(key, &err) != 0)
			return bad_line(c->file, line, err.msg, NULL);
		*last_key = key;
	}
	if (nsel + nip + ninc > 0) {
		bl->lists = calloc(nsel + nip + ninc, sizeof(*bl->lists));
		if (bl->lists == NULL) {
			fprintf(stderr, PROG ": %s\n", _("out of memory"));
			return 3;
		}
		memcpy(bl->lists, sel, nsel * sizeof(*sel));
		memcpy(bl->lists + nsel, ip, nip * sizeof(*ip));
		memcpy(bl->lists + nsel + nip, inc, ninc * sizeof(*inc));
	}
	/* An option on the line replaces the command line's values of that option. */
	item->domain = tok[0];
	item->opts.selectors = have_sel ? bl->lists : c->sel;
	item->opts.nselectors = have_sel ? nsel : c->nsel;
	item->opts.ips = have_ip ? bl->lists + nsel : c->ip;
	item->opts.nips = have_ip ? nip : c->nip;
	item->opts.includes = have_inc ? bl->lists + nsel + nip : c->inc;
	item->opts.nincludes = have_inc ? ninc : c->ninc;
	item->opts.key_file = key;
	item->opts.dnssec = c->zone == NULL && c->resolver == NULL;
	return 0;
}

static void
free_lines(struct bline *bl, size_t n)
{
	size_t i;

	for (i = 0; bl != NULL && i < n; i++) {
		free(bl[i].text);
		free(bl[i].lists);
	}
	free(bl);
}

/* Reads the batch file into items/lines; exit status 2 (or 3 for I/O) on failure. */
static int
read_batch(const struct dns_batch_cfg *c, struct mp_pfbatch_item **items_out,
	   struct bline **lines_out, size_t *n_out)
{
	char buf[DNS_BATCH_LINE_MAX + 1];
	char *tok[DNS_BATCH_LINE_MAX / 2 + 1];
	struct mp_pfbatch_item *items = NULL;
	struct bline *bl = NULL;
	const char *last_key = NULL;
	size_t n = 0, cap = 0, line = 0;
	FILE *fp;
	int r, status = 0;

	if (strcmp(c->file, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(c->file, "r")) == NULL) {
		say(_("%s: cannot open the batch file"), c->file);
		return 2;
	}
	while (status == 0 && (r = read_line(fp, buf)) != 0) {
		size_t ntok = 0;
		char *p, *text;

		line++;
		if (r == -1) {
			status = bad_line(c->file, line, _("line longer than 4096 bytes"), NULL);
			break;
		}
		if (r == -2) {
			status = bad_line(c->file, line, _("NUL byte in the line"), NULL);
			break;
		}
		p = buf + strspn(buf, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		if (n >= DNS_BATCH_DOMAINS_MAX) {
			status = bad_line(c->file, line, _("more than 100000 domains"), NULL);
			break;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct mp_pfbatch_item *ni = realloc(items, ncap * sizeof(*ni));
			struct bline *nb;

			if (ni != NULL)
				items = ni;
			nb = ni != NULL ? realloc(bl, ncap * sizeof(*nb)) : NULL;
			if (nb == NULL) {
				fprintf(stderr, PROG ": %s\n", _("out of memory"));
				status = 3;
				break;
			}
			bl = nb;
			cap = ncap;
		}
		memset(&items[n], 0, sizeof(items[n]));
		memset(&bl[n], 0, sizeof(bl[n]));
		if ((text = bl[n].text = mp_strdup_z(p)) == NULL) {
			fprintf(stderr, PROG ": %s\n", _("out of memory"));
			status = 3;
			break;
		}
		bl[n].line = line;
		n++;
		ntok = split_words(text, tok, sizeof(tok) / sizeof(tok[0]));
		status = parse_tokens(c, tok, ntok, line, &items[n - 1], &bl[n - 1], &last_key);
	}
	if (status == 0 && ferror(fp)) {
		say(_("%s: cannot read the batch file"), c->file);
		status = 2;
	}
	if (status == 0 && n == 0) {
		say(_("%s: no domains in the batch file"), c->file);
		status = 2;
	}
	if (fp != stdin)
		fclose(fp);
	if (status != 0) {
		free(items);
		free_lines(bl, n);
		return status;
	}
	*items_out = items;
	*lines_out = bl;
	*n_out = n;
	return 0;
}

static void
show_progress(struct batch_run *b, size_t done, bool last)
{
	long long now = mono_ms();
	double secs;

	if (!b->progress || (!last && now - b->last_ms < PROGRESS_MS))
		return;
	b->last_ms = now;
	secs = (double)(now - b->start_ms) / 1000.0;
	fprintf(stderr, "\r" PROG ": ");
	fprintf(stderr, _("%zu/%zu domains checked, %.0f/s "), done, b->n,
		secs > 0 ? (double)done / secs : 0.0);
	if (last)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

static int
report_one(void *arg, size_t index, const struct mp_pfrep *rep, struct mp_err *err)
{
	struct batch_run *b = arg;
	int rc;

	if (rep->tempfail)
		b->tempfailed++;
	if (rep->pass)
		b->passed++;
	else
		b->failed++;
	if (b->c->format == MP_FMT_JSON && index > 0)
		fputs(",\n", b->out);
	rc = mp_pfreport_write_domain(b->out, &b->wopts, rep, 4, err);
	show_progress(b, index + 1, false);
	return rc;
}

static void
write_head(struct batch_run *b)
{
	if (b->c->format == MP_FMT_JSON)
		fprintf(b->out,
			"{\n  \"schema\": \"mailproof/dns-batch-1\",\n  \"tool\": \"%s\",\n"
			"  \"version\": \"%s\",\n  \"domains\": [\n",
			PROG, MP_VERSION);
	else if (b->c->format == MP_FMT_JUNIT)
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"" PROG
		      " dns\">\n",
		      b->out);
}

static void
write_tail(struct batch_run *b)
{
	if (b->c->format == MP_FMT_JSON)
		fprintf(b->out,
			"\n  ],\n  \"summary\": {\n    \"domains\": %zu,\n"
			"    \"pass\": %zu,\n    \"fail\": %zu,\n    \"dns_temporary\": %zu\n"
			"  }\n}\n",
			b->n, b->passed, b->failed, b->tempfailed);
	else if (b->c->format == MP_FMT_JUNIT)
		fputs("</testsuites>\n", b->out);
	else
		fprintf(b->out,
			mp_i18n_ngettext("%zu domain: %zu pass, %zu fail (%zu with a failed DNS "
					 "lookup)\n",
					 "%zu domains: %zu pass, %zu fail (%zu with a failed DNS "
					 "lookup)\n",
					 b->n),
			b->n, b->passed, b->failed, b->tempfailed);
}

int
dns_batch_run(const struct dns_batch_cfg *c)
{
	struct mp_pfbatch_item *items = NULL;
	struct bline *lines = NULL;
	struct mp_resolver_opts ropts = {0};
	struct mp_resolver *res = NULL;
	struct batch_run b;
	struct mp_err err = {0};
	size_t n = 0;
	int status, rc;

	memset(&b, 0, sizeof(b));
	b.c = c;
	b.out = stdout;
	if (c->key != NULL && mp_preflight_key_check(c->key, &err) != 0) {
		say("%s", err.msg);
		return 2;
	}
	if ((status = read_batch(c, &items, &lines, &n)) != 0)
		return status;
	ropts.mode = c->zone != NULL	   ? MP_RESOLVER_ZONE
		     : c->resolver != NULL ? MP_RESOLVER_SERVER
					   : MP_RESOLVER_SYSTEM;
	ropts.zone_file = c->zone;
	ropts.server = c->resolver;
	if (mp_resolver_new(&res, &ropts, &err) != 0) {
		say("%s", err.msg);
		status = err.code == MP_ETEMP || err.code == MP_EIO ? 3 : 2;
		goto out;
	}
	if (c->output != NULL && (b.out = fopen(c->output, "w")) == NULL) {
		say(_("%s: cannot open for writing"), c->output);
		status = 3;
		goto out;
	}
	b.n = n;
	b.wopts.format = c->format;
	b.wopts.tool = PROG;
	b.wopts.version = MP_VERSION;
	b.wopts.quiet = c->quiet;
	b.progress = !c->quiet && isatty(STDERR_FILENO);
	b.start_ms = b.last_ms = mono_ms();
	write_head(&b);
	rc = mp_preflight_batch(res, items, n, c->concurrency, report_one, &b, &err);
	show_progress(&b, n, true);
	if (rc != 0) {
		say("%s", err.msg);
		status = rc == MP_EINVAL ? 2 : 3;
		goto out;
	}
	write_tail(&b);
	if (fflush(b.out) != 0 || ferror(b.out)) {
		fprintf(stderr, PROG ": %s\n", _("cannot write the report"));
		status = 3;
		goto out;
	}
	if (c->verbose > 0) {
		unsigned long hits = 0, misses = 0;
		double secs = (double)(mono_ms() - b.start_ms) / 1000.0;

		mp_resolver_stats(res, &hits, &misses);
		fputs(PROG ": ", stderr);
		fprintf(stderr,
			mp_i18n_ngettext("%zu domain in %.2f s (%.0f domains/s), %lu DNS queries, "
					 "%lu from the cache\n",
					 "%zu domains in %.2f s (%.0f domains/s), %lu DNS queries, "
					 "%lu from the cache\n",
					 n),
			n, secs, secs > 0 ? (double)n / secs : 0.0, misses, hits);
	}
	status = b.tempfailed > 0 ? 3 : b.failed > 0 ? 1 : 0;
	if (b.tempfailed > 0) {
		fputs(PROG ": ", stderr);
		fprintf(stderr,
			mp_i18n_ngettext("%zu domain had a failed DNS lookup; its result is "
					 "incomplete\n",
					 "%zu domains had a failed DNS lookup; their results are "
					 "incomplete\n",
					 b.tempfailed),
			b.tempfailed);
	}
out:
	if (b.out != stdout && b.out != NULL && fclose(b.out) != 0 && status == 0)
		status = 3;
	mp_resolver_free(res);
	free(items);
	free_lines(lines, n);
	return status;
}
