/* preflight_report.c - see preflight_report.h.
 *
 * JSON is built with jansson, which refuses invalid UTF-8: every string of a report is
 * already cleaned by preflight.c.  Key order in JSON follows SPEC.md.
 * The text report speaks the language of core/i18n.c; JSON and JUnit keep their keys,
 * codes and values in English (the problem messages follow the language everywhere).
 */
#include "preflight_report.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "i18n.h"
#include "report.h"

/* Text for a terminal: control characters never reach it as they are. */
static void
put_text(FILE *fp, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, fp);
}

static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* The member "changes" of a domain compared with --baseline (an addition to the schema). */
static int
json_changes(json_t *d, const struct mp_pfrep *r)
{
	json_t *arr = json_array();
	size_t i;

	if (arr == NULL)
		return MP_ENOMEM;
	for (i = 0; i < r->nchanges; i++) {
		const struct mp_pf_change *c = &r->changes[i];

		if (json_array_append_new(arr, json_pack("{s:s, s:o, s:o, s:b}", "what", c->what,
							 "before", jstr(c->before), "after",
							 jstr(c->after), "regression",
							 c->regression)) != 0) {
			json_decref(arr);
			return MP_ENOMEM;
		}
	}
	return json_object_set_new(d, "changes", arr) != 0 ? MP_ENOMEM : 0;
}

static json_t *
json_domain(const struct mp_pfrep *r)
{
	json_t *d = json_object(), *spf = json_object(), *auth = json_array(),
	       *dkim = json_array(), *dmarc = json_object(), *rua = json_array(),
	       *probs = json_array();
	size_t i;

	if (d == NULL || spf == NULL || auth == NULL || dkim == NULL || dmarc == NULL ||
	    rua == NULL || probs == NULL)
		goto fail;
	json_object_set_new(d, "domain", json_string(r->domain));
	json_object_set_new(spf, "record",
			    jstr(r->spf.nnodes > 0 && r->spf.top == MP_SPFREC_FOUND
					 ? r->spf.nodes[0].record : NULL));
	json_object_set_new(spf, "dns_lookups", json_integer(r->spf.dns_lookups));
	json_object_set_new(spf, "void_lookups", json_integer(r->spf.void_lookups));
	for (i = 0; i < r->nauth; i++)
		json_array_append_new(auth, json_pack("{s:s, s:s}", "ip", r->auth[i].ip,
						      "result", r->auth[i].result));
	json_object_set_new(spf, "authorised", auth);
	auth = NULL;
	json_object_set_new(d, "spf", spf);
	spf = NULL;
	for (i = 0; i < r->ndkim; i++) {
		const struct mp_pf_dkim *k = &r->dkim[i];

		json_array_append_new(
		    dkim, json_pack("{s:s, s:o, s:o, s:o, s:b, s:o}", "selector", k->selector,
				    "record", jstr(k->record), "key_type", jstr(k->key_type),
				    "key_bits", k->key_bits > 0 ? json_integer(k->key_bits)
								: json_null(),
				    "testing", k->testing, "matches_private_key",
				    k->matches < 0 ? json_null() : json_boolean(k->matches)));
	}
	json_object_set_new(d, "dkim", dkim);
	dkim = NULL;
	json_object_set_new(dmarc, "record", jstr(r->dmarc.record));
	json_object_set_new(dmarc, "policy", jstr(r->dmarc.policy));
	json_object_set_new(dmarc, "subdomain_policy", jstr(r->dmarc.subdomain_policy));
	json_object_set_new(dmarc, "pct", r->dmarc.pct < 0 ? json_null()
							   : json_integer(r->dmarc.pct));
	for (i = 0; i < r->dmarc.nrua; i++)
		json_array_append_new(rua, json_string(r->dmarc.rua[i]));
	json_object_set_new(dmarc, "rua", rua);
	rua = NULL;
	json_object_set_new(d, "dmarc", dmarc);
	dmarc = NULL;
	json_object_set_new(d, "dnssec", json_string(r->dnssec));
	json_object_set_new(d, "verdict", json_string(r->pass ? "pass" : "fail"));
	for (i = 0; i < r->nproblems; i++)
		json_array_append_new(
		    probs, json_pack("{s:s, s:s, s:s}", "code", r->problems[i].code, "severity",
				     r->problems[i].severity == MP_SEV_ERROR ? "error" : "warning",
				     "message", r->problems[i].message));
	json_object_set_new(d, "problems", probs);
	probs = NULL;
	if (r->baseline != NULL && json_changes(d, r) != 0)
		goto fail;
	return d;
fail:
	json_decref(d);
	json_decref(spf);
	json_decref(auth);
	json_decref(dkim);
	json_decref(dmarc);
	json_decref(rua);
	json_decref(probs);
	return NULL;
}

static int
write_json(FILE *fp, const struct mp_report_opts *o, const struct mp_pfrep *reps, size_t n,
	   struct mp_err *err)
{
	json_t *root = json_pack("{s:s, s:s, s:s, s:[]}", "schema", "mailproof/dns-report-1",
				 "tool", o->tool, "version", o->version, "domains");
	json_t *arr = root != NULL ? json_object_get(root, "domains") : NULL;
	size_t i;
	int rc = 0;

	if (arr == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	for (i = 0; i < n; i++) {
		json_t *d = json_domain(&reps[i]);

		if (d == NULL || json_array_append_new(arr, d) != 0) {
			rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
			goto out;
		}
	}
	if (json_dumpf(root, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 || fputc('\n', fp) == EOF)
		rc = mp_err_set(err, MP_EIO, _("cannot write the report"));
out:
	json_decref(root);
	return rc;
}

/* The DNSSEC states, for the translators; the JSON keeps the English word. */
static const char *const dnssec_words[] = {N_("secure"), N_("insecure"), N_("bogus"),
					   N_("unknown")};

static const char *
dnssec_word(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(dnssec_words) / sizeof(dnssec_words[0]); i++)
		if (strcmp(s, dnssec_words[i]) == 0)
			return _(dnssec_words[i]);
	return s;
}

static void
text_problems(FILE *fp, const struct mp_pfrep *r, bool quiet)
{
	size_t i;

	for (i = 0; i < r->nproblems; i++) {
		if (quiet && r->problems[i].severity != MP_SEV_ERROR)
			continue;
		fprintf(fp, "  %-7s %s: ",
			r->problems[i].severity == MP_SEV_ERROR ? _("error") : _("warning"),
			r->problems[i].code);
		put_text(fp, r->problems[i].message);
		fputc('\n', fp);
	}
}

static void
put_value(FILE *fp, const char *s)
{
	if (s == NULL) {
		fputs(_("(none)"), fp);
		return;
	}
	fputc('"', fp);
	put_text(fp, s);
	fputc('"', fp);
}

/* The "Changes since FILE" block; quiet keeps only the regressions. */
static void
text_changes(FILE *fp, const struct mp_pfrep *r, bool quiet)
{
	size_t i;

	if (r->baseline == NULL)
		return;
	fputs(_("  Changes since "), fp);
	put_text(fp, r->baseline);
	if (r->nchanges == 0) {
		fputs(_(": no changes\n"), fp);
		return;
	}
	fprintf(fp, mp_i18n_ngettext(": %zu change", ": %zu changes", r->nchanges), r->nchanges);
	fputs(r->regressed ? _(", REGRESSION\n") : "\n", fp);
	for (i = 0; i < r->nchanges; i++) {
		const struct mp_pf_change *c = &r->changes[i];

		if (quiet && !c->regression)
			continue;
		fprintf(fp, "    %-10s ", c->regression ? _("regression") : c->improvement
						 ? _("improved") : _("changed"));
		put_text(fp, c->what);
		fputs(": ", fp);
		put_value(fp, c->before);
		fputs(" -> ", fp);
		put_value(fp, c->after);
		fputc('\n', fp);
	}
}

static void
write_text_one(FILE *fp, const struct mp_pfrep *r, bool quiet)
{
	size_t i;

	fprintf(fp, "%s: %s\n", r->domain, r->pass ? _("PASS") : _("FAIL"));
	if (quiet) {
		text_problems(fp, r, true);
		text_changes(fp, r, true);
		return;
	}
	fputs("  SPF    ", fp);
	if (r->spf.top == MP_SPFREC_FOUND && r->spf.nnodes > 0 && r->spf.nodes[0].record) {
		put_text(fp, r->spf.nodes[0].record);
		fputc('\n', fp);
		fprintf(fp, _("         %u DNS lookups (limit 10), %u void (limit 2)\n"),
			r->spf.dns_lookups, r->spf.void_lookups);
	} else {
		fputs(_("(no usable record)\n"), fp);
	}
	for (i = 1; i < r->spf.nnodes; i++) {
		const struct mp_spfrec_node *nd = &r->spf.nodes[i];

		fprintf(fp, "         %*s%s %s: ", (int)(2 * nd->depth), "",
			nd->via != NULL ? nd->via : "", nd->domain);
		put_text(fp, nd->record != NULL ? nd->record : _("(no record)"));
		if (nd->note != NULL) {
			fputs(" [", fp);
			put_text(fp, nd->note);
			fputc(']', fp);
		}
		fputc('\n', fp);
	}
	for (i = 0; i < r->nauth; i++)
		fprintf(fp, "         %s: %s\n", r->auth[i].ip, r->auth[i].result);
	for (i = 0; i < r->ndkim; i++) {
		const struct mp_pf_dkim *k = &r->dkim[i];

		fputs("  DKIM   ", fp);
		put_text(fp, k->selector);
		if (k->record == NULL) {
			fputs(_(": (no key)\n"), fp);
			continue;
		}
		fprintf(fp, ": %s", k->key_type != NULL ? k->key_type : "?");
		if (k->key_bits > 0)
			fprintf(fp, _(" %u bits"), k->key_bits);
		if (k->testing)
			fputs(_(", testing (t=y)"), fp);
		if (k->matches >= 0)
			fputs(k->matches ? _(", matches the private key")
					 : _(", does NOT match the private key"), fp);
		fputc('\n', fp);
	}
	fputs("  DMARC  ", fp);
	put_text(fp, r->dmarc.record != NULL ? r->dmarc.record : _("(no record)"));
	fputc('\n', fp);
	fprintf(fp, "  DNSSEC %s\n", dnssec_word(r->dnssec));
	text_problems(fp, r, false);
	text_changes(fp, r, false);
}

static void
junit_case(FILE *fp, const struct mp_pfrep *r, const char *name, const char *prefix)
{
	size_t i;
	bool failed = false;

	for (i = 0; i < r->nproblems; i++)
		if (r->problems[i].severity == MP_SEV_ERROR &&
		    strncmp(r->problems[i].code, prefix, strlen(prefix)) == 0)
			failed = true;
	fputs("    <testcase classname=\"", fp);
	mp_put_markup(fp, r->domain);
	fprintf(fp, "\" name=\"%s\"", name);
	if (!failed) {
		fputs("/>\n", fp);
		return;
	}
	fprintf(fp, ">\n      <failure message=\"%s fails\">", name);
	for (i = 0; i < r->nproblems; i++) {
		if (strncmp(r->problems[i].code, prefix, strlen(prefix)) != 0)
			continue;
		mp_put_markup(fp, r->problems[i].code);
		fputs(": ", fp);
		mp_put_markup(fp, r->problems[i].message);
		fputc('\n', fp);
	}
	fputs("</failure>\n    </testcase>\n", fp);
}

static void
junit_suite(FILE *fp, const struct mp_pfrep *r)
{
	static const char *const checks[][2] = {
		{"spf", "SPF_"}, {"dkim", "DKIM_"}, {"dmarc", "DMARC_"}, {"dns", "DNS_"}};
	unsigned failures = 0;
	size_t c, j;

	for (c = 0; c < 4; c++)
		for (j = 0; j < r->nproblems; j++)
			if (r->problems[j].severity == MP_SEV_ERROR &&
			    strncmp(r->problems[j].code, checks[c][1], strlen(checks[c][1])) == 0) {
				failures++;
				break;
			}
	fputs("  <testsuite name=\"", fp);
	mp_put_markup(fp, r->domain);
	fprintf(fp, "\" tests=\"4\" failures=\"%u\">\n", failures);
	for (c = 0; c < 4; c++)
		junit_case(fp, r, checks[c][0], checks[c][1]);
	fputs("  </testsuite>\n", fp);
}

static void
write_junit(FILE *fp, const struct mp_report_opts *o, const struct mp_pfrep *reps, size_t n)
{
	size_t i;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"", fp);
	mp_put_markup(fp, o->tool);
	fputs(" dns\">\n", fp);
	for (i = 0; i < n; i++)
		junit_suite(fp, &reps[i]);
	fputs("</testsuites>\n", fp);
}

int
mp_pfreport_write_domain(FILE *fp, const struct mp_report_opts *opts, const struct mp_pfrep *r,
			 unsigned indent, struct mp_err *err)
{
	json_t *d = NULL;
	char *s = NULL, *p;
	int rc = 0;

	switch (opts->format) {
	case MP_FMT_JSON:
		if ((d = json_domain(r)) == NULL ||
		    (s = json_dumps(d, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL) {
			rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
			break;
		}
		/* JSON strings hold no raw newline: every one starts a line to indent. */
		fprintf(fp, "%*s", (int)indent, "");
		for (p = s; *p != '\0'; p++) {
			fputc(*p, fp);
			if (*p == '\n')
				fprintf(fp, "%*s", (int)indent, "");
		}
		break;
	case MP_FMT_JUNIT:
		junit_suite(fp, r);
		break;
	default:
		fprintf(fp, "%s: %s\n", r->domain, r->pass ? "PASS" : "FAIL");
		text_problems(fp, r, opts->quiet);
		break;
	}
	free(s);
	json_decref(d);
	if (rc == 0 && ferror(fp))
		rc = mp_err_set(err, MP_EIO, _("cannot write the report"));
	return rc;
}

int
mp_pfreport_write(FILE *fp, const struct mp_report_opts *opts, const struct mp_pfrep *reps,
		  size_t n, struct mp_err *err)
{
	size_t i;
	int rc = 0;

	switch (opts->format) {
	case MP_FMT_JSON:
		rc = write_json(fp, opts, reps, n, err);
		break;
	case MP_FMT_JUNIT:
		write_junit(fp, opts, reps, n);
		break;
	default:
		for (i = 0; i < n; i++)
			write_text_one(fp, &reps[i], opts->quiet);
		break;
	}
	if (rc == 0 && (fflush(fp) != 0 || ferror(fp)))
		rc = mp_err_set(err, MP_EIO, _("cannot write the report"));
	return rc;
}
