/* report.c - see report.h.  Text for people, JSON and JUnit for machines. */
#include "report.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "html.h"
#include "i18n.h"
#include "util.h"

#define MP_PROBLEMS_MAX 256 /* a message with more problems keeps the first ones */
#define MP_PROBLEM_MSG_MAX 4095

void
mp_msgrep_init(struct mp_msgrep *m)
{
	memset(m, 0, sizeof(*m));
	m->delivery_seconds = -1.0;
}

static void
kv_free(struct mp_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void
mp_msgrep_dispose(struct mp_msgrep *m)
{
	size_t i, j;

	if (m == NULL)
		return;
	free(m->source);
	free(m->folder);
	free(m->message_id);
	free(m->test_id);
	free(m->subject);
	free(m->from_address);
	free(m->from_domain);
	free(m->env_address);
	free(m->env_domain);
	for (i = 0; i < m->nar; i++) {
		free(m->ar[i].authserv_id);
		free(m->ar[i].error);
		for (j = 0; j < m->ar[i].nresults; j++) {
			free(m->ar[i].results[j].method);
			free(m->ar[i].results[j].result);
			free(m->ar[i].results[j].reason);
			kv_free(m->ar[i].results[j].props, m->ar[i].results[j].nprops);
		}
		free(m->ar[i].results);
	}
	free(m->ar);
	for (i = 0; i < m->ndkim; i++) {
		free(m->dkim[i].domain);
		free(m->dkim[i].selector);
		free(m->dkim[i].algorithm);
		free(m->dkim[i].result);
		free(m->dkim[i].error);
	}
	free(m->dkim);
	if (m->spf != NULL) {
		free(m->spf->client_ip);
		free(m->spf->helo);
		free(m->spf->mail_from);
		free(m->spf->domain);
		free(m->spf->result);
		free(m->spf);
	}
	if (m->dmarc != NULL) {
		free(m->dmarc->from_domain);
		free(m->dmarc->org_domain);
		free(m->dmarc->record);
		free(m->dmarc->policy);
		free(m->dmarc->result);
		free(m->dmarc);
	}
	for (i = 0; i < m->nproblems; i++) {
		free(m->problems[i].code);
		free(m->problems[i].message);
	}
	free(m->problems);
	for (i = 0; i < m->nhops; i++) {
		free(m->hops[i].from);
		free(m->hops[i].from_ip);
		free(m->hops[i].by);
		free(m->hops[i].with);
		free(m->hops[i].date);
	}
	free(m->hops);
	if (m->provider != NULL) {
		free(m->provider->provider);
		free(m->provider->verdict);
		free(m->provider->category);
		for (i = 0; i < m->provider->nlabels; i++)
			free(m->provider->labels[i]);
		free(m->provider->labels);
		free(m->provider);
	}
	mp_msgrep_init(m);
}

int
mp_msgrep_problem(struct mp_msgrep *m, enum mp_severity sev, const char *code, const char *fmt,
		  ...)
{
	struct mp_problem *p;
	va_list ap;
	char *msg;
	int n;

	if (m->nproblems >= MP_PROBLEMS_MAX)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > MP_PROBLEM_MSG_MAX)
		n = MP_PROBLEM_MSG_MAX;
	msg = malloc((size_t)n + 1);
	if (msg == NULL)
		return MP_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	p = realloc(m->problems, (m->nproblems + 1) * sizeof(*p));
	if (p == NULL) {
		free(msg);
		return MP_ENOMEM;
	}
	m->problems = p;
	p = &m->problems[m->nproblems];
	p->message = msg;
	p->code = mp_strdup_z(code);
	if (p->code == NULL) {
		free(msg);
		return MP_ENOMEM;
	}
	p->severity = sev;
	m->nproblems++;
	return 0;
}

bool
mp_msgrep_has_problem(const struct mp_msgrep *m, const char *code)
{
	size_t i;

	for (i = 0; i < m->nproblems; i++)
		if (strcmp(m->problems[i].code, code) == 0)
			return true;
	return false;
}

static const struct {
	const char *code;
	const char *advice;
} advice_table[] = {
	{"SPF_FAIL",
	 N_("Add the sending relay (its IP address or the platform's include:) to the SPF "
	    "record of the envelope sender's domain.")},
	{"SPF_SOFTFAIL",
	 N_("The SPF record ends in ~all and does not list the relay: add the relay's IP "
	    "address or the platform's include: to it.")},
	{"SPF_NEUTRAL",
	 N_("The SPF record does not say whether the relay may send: add the relay's IP "
	    "address or the platform's include: to it.")},
	{"SPF_NONE",
	 N_("Publish an SPF record (TXT \"v=spf1 ... -all\") for the envelope sender's domain "
	    "that lists the relay.")},
	{"SPF_PERMERROR",
	 N_("Fix the SPF record: it is invalid, has more than one v=spf1 record, or needs more "
	    "than 10 DNS lookups or 2 void lookups.")},
	{"SPF_TEMPERROR",
	 N_("The DNS lookup for the SPF record failed; check that the domain's name servers "
	    "answer, then run the check again.")},
	{"SPF_NOT_ALIGNED",
	 N_("Use an envelope sender (bounce address) on the From domain or one of its "
	    "subdomains, so SPF counts for DMARC.")},
	{"SPF_NO_CLIENT_IP",
	 N_("Tell mailproof the receiving host with --authserv-id, or give the sending IP with "
	    "--client-ip.")},
	{"DKIM_NONE",
	 N_("Have the relay DKIM-sign the message for the From domain and publish the public "
	    "key under the selector.")},
	{"DKIM_FAIL",
	 N_("Compare the published DKIM key with the relay's signing key, and check that "
	    "nothing changes the message after signing.")},
	{"DKIM_NOT_ALIGNED",
	 N_("Sign with d= equal to the From domain (or its organizational domain), not the "
	    "platform's own domain.")},
	{"DKIM_KEY_TOO_SHORT",
	 N_("Publish a key of at least 2048 bits and sign with it.")},
	{"DKIM_KEY_TESTING",
	 N_("Remove t=y from the DKIM key record once the tests pass.")},
	{"DMARC_FAIL",
	 N_("Make SPF or DKIM pass for a domain aligned with the From domain.")},
	{"DMARC_MISSING",
	 N_("Publish a DMARC record at _dmarc.<domain>, e.g. \"v=DMARC1; p=none; "
	    "rua=mailto:...\".")},
	{"DMARC_SYNTAX",
	 N_("Correct the DMARC record: it must start with v=DMARC1 and carry a valid p= tag.")},
	{"DMARC_MULTIPLE",
	 N_("Remove all but one v=DMARC1 TXT record at that name.")},
	{"DMARC_POLICY_NONE",
	 N_("When the reports show all mail passes, raise the policy to p=quarantine or "
	    "p=reject.")},
	{"DMARC_DISCOVERY_DIFFERS",
	 N_("Publish the DMARC record at the From domain itself, so both discovery methods "
	    "find the same record.")},
	{"RECEIVER_FAIL",
	 N_("The receiving server rejected this check; its result decides where the mail "
	    "lands. Fix the cause above and test again.")},
	{"RECEIVER_DISAGREES",
	 N_("Check the receiver's DNS view (caches, split DNS) and run the test again after "
	    "the TTL has passed.")},
	{"AR_TRUST_DEFAULT",
	 N_("Name the receiving host with --authserv-id (a leading dot trusts a whole domain).")},
	{"AR_NONE_TRUSTED",
	 N_("Name the receiving host with --authserv-id, or check the message as delivered "
	    "(not a forwarded copy).")},
	{"PLACEMENT_JUNK",
	 N_("Fix any failing check above first; when SPF, DKIM and DMARC all pass, the "
	    "receiver judged the content or the sender's reputation: ask its administrator, or "
	    "mark the message as not spam and test again.")},
	{"PLACEMENT_PROVIDER_SPAM",
	 N_("The provider's own spam filter flagged the message although it was delivered to "
	    "this folder (a rule or the user's settings moved it): fix any failing check above, "
	    "then ask the mailbox's administrator why its filter scores the sender as spam.")},
	{"RECEIVER_TEMPERROR",
	 N_("The receiver could not finish its check (DNS timeout): check the domain's name "
	    "servers and send the test again.")},
	{"MESSAGE_MALFORMED",
	 N_("Check the file: it must be one message in RFC 5322 form, an mbox or a Maildir.")},
	{"MESSAGE_UNREADABLE",
	 N_("Check the file: it must be one message in RFC 5322 form, an mbox or a Maildir.")},
	{"FROM_MISSING",
	 N_("The message needs exactly one From address.")},
	{"FROM_MULTIPLE",
	 N_("The message needs exactly one From address.")},
	{"DNS_TEMPORARY",
	 N_("A DNS lookup failed (timeout or server failure): check the resolver or the "
	    "domain's name servers and run the check again.")},
};

const char *
mp_problem_advice(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(advice_table) / sizeof(advice_table[0]); i++)
		if (strcmp(advice_table[i].code, code) == 0)
			return _(advice_table[i].advice);
	return NULL;
}

/* ---- writers ---------------------------------------------------------------------- */

struct mp_report {
	FILE *fp;
	struct mp_report_opts opts;
	size_t count;
	size_t failed;
};

int
mp_report_open(struct mp_report **out, FILE *fp, const struct mp_report_opts *opts,
	       struct mp_err *err)
{
	struct mp_report *r;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	r->fp = fp;
	r->opts = *opts;
	switch (opts->format) {
	case MP_FMT_JSON:
		fprintf(fp, "{\n  \"schema\": \"mailproof/report-1\",\n  \"tool\": \"%s\",\n"
			    "  \"version\": \"%s\",\n  \"messages\": [",
			opts->tool, opts->version);
		break;
	case MP_FMT_JUNIT:
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"", fp);
		fputs(opts->tool, fp);
		fputs("\">\n", fp);
		break;
	case MP_FMT_HTML:
		mp_html_open(fp, opts->tool, opts->version);
		break;
	case MP_FMT_TEXT:
		break;
	}
	*out = r;
	return 0;
}

/* JSON: strings from mail are cleaned to valid UTF-8 first (jansson refuses invalid). */
static json_t *
jstr(const char *s)
{
	json_t *j;
	char *c;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	if (j != NULL)
		return j;
	c = mp_utf8_clean(s, strlen(s));
	j = c != NULL ? json_string(c) : NULL;
	free(c);
	return j != NULL ? j : json_null();
}

static void
jset(json_t *o, const char *k, json_t *v)
{
	json_object_set_new(o, k, v != NULL ? v : json_null());
}

static json_t *
addr_json(const char *addr, const char *dom)
{
	json_t *o;

	if (addr == NULL && dom == NULL)
		return json_null();
	o = json_object();
	jset(o, "address", jstr(addr));
	jset(o, "domain", jstr(dom));
	return o;
}

/* "hops": not in SPEC's schema, an extra member: the Received chain, oldest first. */
static json_t *
hops_json(const struct mp_msgrep *m)
{
	json_t *a = json_array(), *x;
	size_t i;

	for (i = 0; i < m->nhops; i++) {
		const struct mp_rep_hop *h = &m->hops[i];

		x = json_object();
		jset(x, "from", jstr(h->from));
		jset(x, "from_ip", jstr(h->from_ip));
		jset(x, "by", jstr(h->by));
		jset(x, "with", jstr(h->with));
		jset(x, "tls", json_boolean(h->tls));
		jset(x, "date", jstr(h->date));
		jset(x, "delay_seconds", h->have_delay ? json_real(h->delay) : json_null());
		jset(x, "receiver", json_boolean(h->receiver));
		json_array_append_new(a, x);
	}
	return a;
}

/* The provider's own spam verdict (docs/mailproof-inspect.1, JSON). */
static json_t *
provider_json(const struct mp_rep_provider *p)
{
	json_t *o, *a;
	size_t i;

	o = json_object();
	jset(o, "provider", jstr(p->provider));
	jset(o, "spam", json_boolean(p->spam));
	jset(o, "sfv", jstr(p->verdict));
	jset(o, "category", jstr(p->category));
	jset(o, "scl", p->scl >= -1 ? json_integer(p->scl) : json_null());
	jset(o, "bcl", p->bcl >= -1 ? json_integer(p->bcl) : json_null());
	a = json_array();
	for (i = 0; i < p->nlabels; i++)
		json_array_append_new(a, jstr(p->labels[i]));
	jset(o, "labels", a);
	return o;
}

static json_t *
msg_json(const struct mp_msgrep *m)
{
	json_t *o = json_object(), *a, *x, *res, *props;
	size_t i, j, k;

	jset(o, "source", jstr(m->source));
	jset(o, "folder", jstr(m->folder));
	jset(o, "delivery_seconds",
	     m->delivery_seconds >= 0 ? json_real(m->delivery_seconds) : json_null());
	jset(o, "message_id", jstr(m->message_id));
	jset(o, "test_id", jstr(m->test_id));
	jset(o, "subject", jstr(m->subject));
	jset(o, "header_from", addr_json(m->from_address, m->from_domain));
	jset(o, "envelope_from", addr_json(m->env_address, m->env_domain));

	a = json_array();
	for (i = 0; i < m->nar; i++) {
		const struct mp_rep_ar *ar = &m->ar[i];

		x = json_object();
		jset(x, "authserv_id", jstr(ar->authserv_id));
		jset(x, "trusted", json_boolean(ar->trusted));
		jset(x, "error", jstr(ar->error));
		res = json_array();
		for (j = 0; j < ar->nresults; j++) {
			const struct mp_rep_arres *r = &ar->results[j];
			json_t *ro = json_object();

			jset(ro, "method", jstr(r->method));
			jset(ro, "result", jstr(r->result));
			jset(ro, "reason", jstr(r->reason));
			props = json_object();
			for (k = 0; k < r->nprops; k++) {
				/* A repeated key keeps its first value: the object must stay valid JSON. */
				if (json_object_get(props, r->props[k].key) == NULL)
					jset(props, r->props[k].key, jstr(r->props[k].value));
			}
			jset(ro, "properties", props);
			json_array_append_new(res, ro);
		}
		jset(x, "results", res);
		json_array_append_new(a, x);
	}
	jset(o, "authentication_results", a);

	a = json_array();
	for (i = 0; i < m->ndkim; i++) {
		const struct mp_rep_dkim *d = &m->dkim[i];

		x = json_object();
		jset(x, "domain", jstr(d->domain));
		jset(x, "selector", jstr(d->selector));
		jset(x, "algorithm", jstr(d->algorithm));
		jset(x, "result", jstr(d->result));
		jset(x, "aligned", json_boolean(d->aligned));
		jset(x, "key_bits", d->key_bits > 0 ? json_integer(d->key_bits) : json_null());
		jset(x, "testing", json_boolean(d->testing));
		jset(x, "error", jstr(d->error));
		json_array_append_new(a, x);
	}
	jset(o, "dkim", a);

	if (m->spf != NULL) {
		x = json_object();
		jset(x, "client_ip", jstr(m->spf->client_ip));
		jset(x, "helo", jstr(m->spf->helo));
		jset(x, "mail_from", jstr(m->spf->mail_from));
		jset(x, "domain", jstr(m->spf->domain));
		jset(x, "result", jstr(m->spf->result));
		jset(x, "aligned", json_boolean(m->spf->aligned));
		jset(o, "spf", x);
	} else {
		jset(o, "spf", json_null());
	}
	if (m->dmarc != NULL) {
		x = json_object();
		jset(x, "from_domain", jstr(m->dmarc->from_domain));
		jset(x, "organizational_domain", jstr(m->dmarc->org_domain));
		jset(x, "record", jstr(m->dmarc->record));
		jset(x, "policy", jstr(m->dmarc->policy));
		jset(x, "result", jstr(m->dmarc->result));
		jset(x, "spf_aligned", json_boolean(m->dmarc->spf_aligned));
		jset(x, "dkim_aligned", json_boolean(m->dmarc->dkim_aligned));
		jset(o, "dmarc", x);
	} else {
		jset(o, "dmarc", json_null());
	}
	jset(o, "hops", hops_json(m));
	if (m->provider != NULL) /* only then: reports without it keep SPEC's exact shape */
		jset(o, "provider_spam", provider_json(m->provider));
	jset(o, "verdict", json_string(m->pass ? "pass" : "fail"));
	a = json_array();
	for (i = 0; i < m->nproblems; i++) {
		x = json_object();
		jset(x, "code", jstr(m->problems[i].code));
		jset(x, "severity",
		     json_string(m->problems[i].severity == MP_SEV_ERROR ? "error" : "warning"));
		jset(x, "message", jstr(m->problems[i].message));
		json_array_append_new(a, x);
	}
	jset(o, "problems", a);
	return o;
}

/* Writes (s, size) with every newline followed by 4 spaces, a line at a time. */
static void
put_indented(FILE *fp, const char *s, size_t size)
{
	const char *nl;

	while (size > 0) {
		if ((nl = memchr(s, '\n', size)) == NULL) {
			fwrite(s, 1, size, fp);
			break;
		}
		fwrite(s, 1, (size_t)(nl - s), fp);
		fputs("\n    ", fp);
		size -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
}

static int
add_json(struct mp_report *r, const struct mp_msgrep *m, struct mp_err *err)
{
	json_t *o = msg_json(m);
	char *s;

	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	fputs(r->count > 0 ? ",\n    " : "\n    ", r->fp);
	put_indented(r->fp, s, strlen(s));
	free(s);
	return 0;
}

/* ---- text --------------------------------------------------------------------------- */

#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BOLD "\033[1m"
#define C_OFF "\033[0m"

/* Terminal-safe copy (mp_put_safe). */
static void
put_safe(FILE *fp, const char *s)
{
	mp_put_safe(fp, s, strlen(s));
}

static const char *
col(const struct mp_report *r, const char *c)
{
	return r->opts.color ? c : "";
}

static const char *
result_color(const char *res)
{
	if (res == NULL)
		return C_YELLOW;
	if (strcmp(res, "pass") == 0)
		return C_GREEN;
	if (strcmp(res, "fail") == 0 || strcmp(res, "permerror") == 0)
		return C_RED;
	return C_YELLOW;
}

static void
text_check(struct mp_report *r, const char *name, const char *res, bool required, bool passed)
{
	FILE *fp = r->fp;
	const char *mark = !required ? "  " : passed ? "ok" : "!!";

	fprintf(fp, "  %s %-6s %s%-9s%s ", mark, name, col(r, result_color(res)),
		res != NULL ? res : _("n/a"), col(r, C_OFF));
}

/* " spf, dkim and dmarc" for the check bits in `bits`. */
static bool
same_id(const char *a, const char *b)
{
	return mp_ieq_z(a, b);
}

static void
headline_checks(FILE *fp, const struct mp_msgrep *m, unsigned bits)
{
	static const char *const names[] = {"spf", "dkim", "dmarc", "placement"};
	const char *list[4];
	size_t n = 0, i;

	(void)m;
	for (i = 0; i < 4; i++)
		if (bits & (1u << i))
			list[n++] = names[i];
	if (n == 0)
		return;
	fputs(mp_i18n_ngettext(" check ", " checks ", n), fp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(i + 1 == n ? _(" and ") : ", ", fp);
		fputs(list[i], fp);
	}
}

/* Number of characters (not bytes) in UTF-8 s: translated labels align by what shows. */
static size_t
u8_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* "  Label:" padded to the column where the values start (translations vary in length). */
static void
text_label(FILE *fp, const char *label)
{
	size_t w = u8_width(label);

	fputs("  ", fp);
	fputs(label, fp);
	do
		fputc(' ', fp);
	while (++w < 13);
}

/* The Received chain, oldest hop first: who handed it to whom, TLS, and the delay. */
static void
text_hops(FILE *fp, const struct mp_msgrep *m)
{
	size_t i;

	for (i = 0; i < m->nhops; i++) {
		const struct mp_rep_hop *h = &m->hops[i];

		char hop[32];

		snprintf(hop, sizeof(hop), _("Hop %zu"), i + 1);
		text_label(fp, hop);
		/* A HELO that is an address literal says nothing the address does not. */
		if (h->from == NULL || h->from[0] != '[' || h->from_ip == NULL)
			put_safe(fp, h->from != NULL ? h->from : "?");
		if (h->from_ip != NULL) {
			fputs(h->from != NULL && h->from[0] == '[' ? "[" : " [", fp);
			put_safe(fp, h->from_ip);
			fputc(']', fp);
		}
		fputs(" -> ", fp);
		put_safe(fp, h->by != NULL ? h->by : "?");
		if (h->with != NULL) {
			fputs(_(" with "), fp);
			put_safe(fp, h->with);
		}
		fputs(h->tls ? ", TLS" : _(", no TLS"), fp);
		if (h->have_delay)
			fprintf(fp, ", %+.0f s", h->delay);
		else if (!h->have_time)
			fputs(_(", time unknown"), fp);
		if (h->receiver)
			fputs(_(" (arrival at the receiver)"), fp);
		fputc('\n', fp);
	}
}

/* One line: the provider's own spam verdict and what it rests on. */
static void
text_provider(FILE *fp, const struct mp_rep_provider *p)
{
	const char *sep = " (";
	size_t i;

	text_label(fp, _("Spam filter:"));
	fputs(p->spam ? _("the provider marked the message as spam")
		      : _("the provider did not mark the message as spam"),
	      fp);
	if (p->verdict != NULL) {
		fprintf(fp, "%sSFV:", sep);
		put_safe(fp, p->verdict);
		sep = ", ";
	}
	if (p->scl >= -1) {
		fprintf(fp, "%sSCL:%d", sep, p->scl);
		sep = ", ";
	}
	if (p->bcl >= -1) {
		fprintf(fp, "%sBCL:%d", sep, p->bcl);
		sep = ", ";
	}
	if (p->category != NULL) {
		fprintf(fp, "%sCAT:", sep);
		put_safe(fp, p->category);
		sep = ", ";
	}
	for (i = 0; i < p->nlabels; i++) {
		fputs(sep, fp);
		if (i == 0)
			fputs(_("labels "), fp);
		put_safe(fp, p->labels[i]);
		sep = " ";
	}
	fputs(sep[0] == ' ' && sep[1] == '(' ? "\n" : ")\n", fp);
}

static void
add_text(struct mp_report *r, const struct mp_msgrep *m)
{
	FILE *fp = r->fp;
	size_t i;
	bool first = r->count == 0;

	if (!first)
		fputc('\n', fp);
	fprintf(fp, "%s%s%s%s  ", col(r, C_BOLD), col(r, m->pass ? C_GREEN : C_RED),
		m->pass ? _("PASS") : _("FAIL"), col(r, C_OFF));
	put_safe(fp, m->source != NULL ? m->source : "-");
	if (m->folder != NULL) {
		fputs(" (", fp);
		put_safe(fp, m->folder);
		fputc(')', fp);
	}
	fputs(m->pass ? _(": passes") : _(": fails"), fp);
	headline_checks(fp, m, m->pass ? m->passed : (m->checked & ~m->passed));
	fputc('\n', fp);
	if (r->opts.quiet)
		return;
	if (m->subject != NULL) {
		text_label(fp, _("Subject:"));
		put_safe(fp, m->subject);
		fputc('\n', fp);
	}
	if (m->from_address != NULL) {
		text_label(fp, _("From:"));
		put_safe(fp, m->from_address);
		fputc('\n', fp);
	}
	if (m->env_address != NULL) {
		text_label(fp, _("Envelope:"));
		put_safe(fp, m->env_address);
		fputc('\n', fp);
	}
	if (m->message_id != NULL) {
		text_label(fp, _("Message-ID:"));
		put_safe(fp, m->message_id);
		fputc('\n', fp);
	}
	if (m->test_id != NULL) {
		text_label(fp, _("Test id:"));
		put_safe(fp, m->test_id);
		fputc('\n', fp);
	}

	/* One line per check: what the inspector found itself. */
	if (m->spf != NULL) {
		text_check(r, "SPF", m->spf->result, m->checked & MP_CHECK_SPF,
			   m->passed & MP_CHECK_SPF);
		fputs(_("client "), fp);
		put_safe(fp, m->spf->client_ip != NULL ? m->spf->client_ip : _("unknown"));
		if (m->spf->domain != NULL) {
			fputs(_(", domain "), fp);
			put_safe(fp, m->spf->domain);
			fputs(m->spf->aligned ? _(" (aligned)") : _(" (not aligned)"), fp);
		}
		fputc('\n', fp);
	} else {
		text_check(r, "SPF", NULL, m->checked & MP_CHECK_SPF, m->passed & MP_CHECK_SPF);
		fputs(_("not evaluated\n"), fp);
	}
	if (m->ndkim == 0) {
		text_check(r, "DKIM", "none", m->checked & MP_CHECK_DKIM,
			   m->passed & MP_CHECK_DKIM);
		fputs(_("no DKIM-Signature\n"), fp);
	}
	for (i = 0; i < m->ndkim; i++) {
		const struct mp_rep_dkim *d = &m->dkim[i];

		text_check(r, "DKIM", d->result, (m->checked & MP_CHECK_DKIM) && i == 0,
			   m->passed & MP_CHECK_DKIM);
		fputs("d=", fp);
		put_safe(fp, d->domain != NULL ? d->domain : "?");
		fputs(" s=", fp);
		put_safe(fp, d->selector != NULL ? d->selector : "?");
		fputc(' ', fp);
		put_safe(fp, d->algorithm != NULL ? d->algorithm : "?");
		if (d->key_bits > 0)
			fprintf(fp, _(" %u bits"), d->key_bits);
		if (d->testing)
			fputs(_(" testing"), fp);
		fputs(d->aligned ? _(" (aligned)") : _(" (not aligned)"), fp);
		if (d->error != NULL) {
			fputs(": ", fp);
			put_safe(fp, d->error);
		}
		fputc('\n', fp);
	}
	if (m->dmarc != NULL) {
		text_check(r, "DMARC", m->dmarc->result, m->checked & MP_CHECK_DMARC,
			   m->passed & MP_CHECK_DMARC);
		if (m->dmarc->policy != NULL)
			fprintf(fp, "p=%s", m->dmarc->policy);
		else
			fputs(_("no policy"), fp);
		if (m->dmarc->from_domain != NULL) {
			fputs(_(" for "), fp);
			put_safe(fp, m->dmarc->from_domain);
		}
		fprintf(fp, _(" (aligned SPF pass: %s, aligned DKIM pass: %s)\n"),
			m->dmarc->spf_aligned ? _("yes") : _("no"),
			m->dmarc->dkim_aligned ? _("yes") : _("no"));
	} else {
		text_check(r, "DMARC", NULL, m->checked & MP_CHECK_DMARC,
			   m->passed & MP_CHECK_DMARC);
		fputs(_("not evaluated\n"), fp);
	}
	if (m->checked & MP_CHECK_PLACEMENT) {
		text_check(r, _("Folder"), (m->passed & MP_CHECK_PLACEMENT) ? "pass" : "fail", true,
			   m->passed & MP_CHECK_PLACEMENT);
		put_safe(fp, m->folder != NULL ? m->folder : _("unknown"));
		fputc('\n', fp);
	}
	if (m->provider != NULL)
		text_provider(fp, m->provider);

	if (m->delivery_seconds >= 0) {
		text_label(fp, _("Delivery:"));
		fprintf(fp, _("%.0f s from sending to the receiver\n"), m->delivery_seconds);
	}
	text_hops(fp, m);

	/* What the receiver wrote, trusted headers only, one line per receiver. */
	for (i = 0; i < m->nar; i++) {
		const struct mp_rep_ar *ar = &m->ar[i];
		size_t j;

		if (!ar->trusted || ar->nresults == 0)
			continue;
		if (i == 0 || !m->ar[i - 1].trusted || !same_id(m->ar[i - 1].authserv_id, ar->authserv_id)) {
			if (i > 0 && m->ar[i - 1].trusted)
				fputc('\n', fp);
			fputs(_("  Receiver "), fp);
			put_safe(fp,
				 ar->authserv_id != NULL ? ar->authserv_id : _("(no authserv-id)"));
			fputs(":", fp);
		}
		for (j = 0; j < ar->nresults; j++) {
			fputc(' ', fp);
			put_safe(fp, ar->results[j].method);
			fputc('=', fp);
			put_safe(fp, ar->results[j].result);
		}
		if (i + 1 == m->nar || !m->ar[i + 1].trusted ||
		    !same_id(m->ar[i + 1].authserv_id, ar->authserv_id))
			fputc('\n', fp);
	}
	for (i = 0; i < m->nproblems; i++) {
		const struct mp_problem *p = &m->problems[i];
		const char *adv = mp_problem_advice(p->code);
		bool e = p->severity == MP_SEV_ERROR;

		fprintf(fp, "  %s%s%s %s: ", col(r, e ? C_RED : C_YELLOW),
			e ? _("error") : _("warning"), col(r, C_OFF), p->code);
		put_safe(fp, p->message);
		fputc('\n', fp);
		if (adv != NULL)
			fprintf(fp, _("      what to do: %s\n"), adv);
	}
}

/* ---- JUnit ---------------------------------------------------------------------------- */

void
mp_put_markup(FILE *fp, const char *s)
{
	char *c = mp_utf8_clean(s, strlen(s));
	const unsigned char *p;

	if (c == NULL)
		return;
	for (p = (const unsigned char *)c; *p != '\0'; p++) {
		switch (*p) {
		case '&': fputs("&amp;", fp); break;
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&apos;", fp); break;
		default:
			/*
			 * XML 1.0 (section 2.2) allows no C0 control but tab, LF, CR, and
			 * neither U+FFFE nor U+FFFF (EF BF BE/BF), valid UTF-8 as they are.
			 */
			if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
				fputc('?', fp);
			} else if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)) {
				fputs("\xef\xbf\xbd", fp);
				p += 2;
			} else {
				fputc(*p, fp);
			}
		}
	}
	free(c);
}

static void
junit_case(FILE *fp, const struct mp_msgrep *m, const char *name, unsigned bit,
	   const char *result, const char *prefix)
{
	size_t i;

	fputs("    <testcase classname=\"", fp);
	mp_put_markup(fp, m->source != NULL ? m->source : "-");
	fprintf(fp, "\" name=\"%s\"", name);
	if (!(m->checked & bit)) {
		fputs(">\n      <skipped message=\"not required\"/>\n    </testcase>\n", fp);
		return;
	}
	if (m->passed & bit) {
		fputs("/>\n", fp);
		return;
	}
	fputs(">\n      <failure message=\"", fp);
	fprintf(fp, "%s: ", name);
	mp_put_markup(fp, result != NULL ? result : "not evaluated");
	fputs("\">", fp);
	for (i = 0; i < m->nproblems; i++) {
		if (strncmp(m->problems[i].code, prefix, strlen(prefix)) != 0 &&
		    strncmp(m->problems[i].code, "RECEIVER", 8) != 0 &&
		    strncmp(m->problems[i].code, "DNS", 3) != 0)
			continue;
		mp_put_markup(fp, m->problems[i].code);
		fputs(": ", fp);
		mp_put_markup(fp, m->problems[i].message);
		fputs("\n", fp);
	}
	fputs("</failure>\n    </testcase>\n", fp);
}

static void
add_junit(struct mp_report *r, const struct mp_msgrep *m)
{
	FILE *fp = r->fp;
	unsigned tests = 0, failures = 0, skipped = 0, bit;
	const char *dkim_res = m->ndkim > 0 ? m->dkim[0].result : "none";
	size_t i;

	for (bit = MP_CHECK_SPF; bit <= MP_CHECK_PLACEMENT; bit <<= 1) {
		if (bit == MP_CHECK_PLACEMENT && !(m->checked & bit))
			continue;
		tests++;
		if (!(m->checked & bit))
			skipped++;
		else if (!(m->passed & bit))
			failures++;
	}
	for (i = 0; i < m->ndkim; i++)
		if (m->dkim[i].result != NULL && strcmp(m->dkim[i].result, "pass") == 0)
			dkim_res = "pass";
	fputs("  <testsuite name=\"", fp);
	mp_put_markup(fp, m->source != NULL ? m->source : "-");
	fprintf(fp, "\" tests=\"%u\" failures=\"%u\" errors=\"0\" skipped=\"%u\">\n", tests,
		failures, skipped);
	junit_case(fp, m, "spf", MP_CHECK_SPF, m->spf != NULL ? m->spf->result : NULL, "SPF");
	junit_case(fp, m, "dkim", MP_CHECK_DKIM, dkim_res, "DKIM");
	junit_case(fp, m, "dmarc", MP_CHECK_DMARC, m->dmarc != NULL ? m->dmarc->result : NULL,
		   "DMARC");
	if (m->checked & MP_CHECK_PLACEMENT)
		junit_case(fp, m, "placement", MP_CHECK_PLACEMENT, m->folder, "PLACEMENT");
	fputs("  </testsuite>\n", fp);
}

int
mp_report_add(struct mp_report *r, const struct mp_msgrep *m, struct mp_err *err)
{
	int rc = 0;

	switch (r->opts.format) {
	case MP_FMT_JSON:
		rc = add_json(r, m, err);
		break;
	case MP_FMT_JUNIT:
		add_junit(r, m);
		break;
	case MP_FMT_HTML:
		mp_html_add(r->fp, m, r->count);
		break;
	case MP_FMT_TEXT:
		add_text(r, m);
		break;
	}
	r->count++;
	if (!m->pass)
		r->failed++;
	if (rc == 0 && ferror(r->fp))
		rc = mp_err_set(err, MP_EIO, _("cannot write the report"));
	return rc;
}

int
mp_report_close(struct mp_report *r, struct mp_err *err)
{
	int rc = 0;

	if (r == NULL)
		return 0;
	switch (r->opts.format) {
	case MP_FMT_JSON:
		fputs(r->count > 0 ? "\n  ]\n}\n" : "]\n}\n", r->fp);
		break;
	case MP_FMT_JUNIT:
		fputs("</testsuites>\n", r->fp);
		break;
	case MP_FMT_HTML:
		mp_html_close(r->fp, r->count, r->failed);
		break;
	case MP_FMT_TEXT:
		if (r->count > 1 && !r->opts.quiet)
			fprintf(r->fp,
				mp_i18n_ngettext("\n%zu message checked: %zu passed, %zu failed\n",
						 "\n%zu messages checked: %zu passed, %zu failed\n",
						 r->count),
				r->count, r->count - r->failed, r->failed);
		break;
	}
	if (fflush(r->fp) != 0 || ferror(r->fp))
		rc = mp_err_set(err, MP_EIO, _("cannot write the report"));
	free(r);
	return rc;
}
