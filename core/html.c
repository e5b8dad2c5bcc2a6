/* html.c - see html.h. */
#include "html.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "util.h"

/* Text from mail, cleaned and escaped for element content and attributes. */
static void
esc(FILE *fp, const char *s)
{
	if (s != NULL)
		mp_put_markup(fp, s);
}

/*
 * A translated sentence: fmt is ours (it may hold markup such as <b>) and goes out as
 * it is; each %s takes the next argument, which may come from mail and is escaped.
 */
static void
say(FILE *fp, const char *fmt, ...)
{
	va_list ap;
	const char *p;

	va_start(ap, fmt);
	for (p = fmt; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 's') {
			esc(fp, va_arg(ap, const char *));
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			fputc('%', fp);
			p++;
		} else {
			fputc(*p, fp);
		}
	}
	va_end(ap);
}

static const char style[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
	"margin:0;background:#f4f5f7;color:#1d2330}"
	"main{max-width:60rem;margin:0 auto;padding:1.5rem}"
	"section.message{background:#fff;border-radius:10px;padding:1.5rem;margin-bottom:2rem;"
	"box-shadow:0 1px 3px rgba(0,0,0,.12)}"
	".verdict h1{font-size:1.7rem;margin:0 0 .4rem}"
	".verdict.pass h1{color:#11703a}.verdict.fail h1{color:#b3261e}"
	".verdict .badge{display:inline-block;padding:.15rem .7rem;border-radius:999px;"
	"color:#fff;font-weight:700;margin-right:.6rem;font-size:1rem;vertical-align:middle}"
	".verdict.pass .badge{background:#11703a}.verdict.fail .badge{background:#b3261e}"
	".facts{margin:.3rem 0 1rem;color:#4a5160;font-size:.95rem}"
	".facts dt{font-weight:600;display:inline}.facts dd{display:inline;margin:0 1rem 0 .3rem}"
	".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:.8rem}"
	".card{border:1px solid #d9dce3;border-left:6px solid #9aa0ac;border-radius:8px;overflow-wrap:anywhere;"
	"padding:.7rem 1rem}"
	".card h2{font-size:1.05rem;margin:0 0 .3rem}"
	".card .state{font-weight:700;text-transform:uppercase;font-size:.8rem;float:right}"
	".card.pass{border-left-color:#11703a}.card.pass .state{color:#11703a}"
	".card.fail{border-left-color:#b3261e}.card.fail .state{color:#b3261e}"
	".card.warn{border-left-color:#b26a00}.card.warn .state{color:#b26a00}"
	".card.skip .state{color:#6b7280}"
	".card p{margin:.3rem 0}.card .todo{font-size:.92rem;color:#374151}"
	".card .todo::before{content:'\\2192  '}"
	"details{margin-top:1.2rem}summary{cursor:pointer;font-weight:600}"
	"table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.9rem}"
	"th,td{text-align:left;border-bottom:1px solid #e5e7eb;padding:.3rem .4rem;"
	"vertical-align:top}"
	"code,.mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:.85rem;"
	"word-break:break-all}.card code{white-space:nowrap;word-break:normal}"
	"li.error{color:#b3261e}li.warning{color:#8a5300}"
	"footer{color:#6b7280;font-size:.8rem;text-align:center;padding-bottom:1rem}"
	"@media print{body{background:#fff}main{padding:0}section.message{box-shadow:none;"
	"padding:0;break-after:page}details{break-before:page}"
	"@page{size:A4;margin:15mm}}";

void
mp_html_open(FILE *fp, const char *tool, const char *version)
{
	fprintf(fp, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n",
		mp_i18n_lang());
	fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"",
	      fp);
	esc(fp, tool);
	fputc(' ', fp);
	esc(fp, version);
	fprintf(fp, "\">\n<title>%s</title>\n<style>", _("mailproof report"));
	fputs(style, fp);
	fputs("</style>\n</head>\n<body>\n<main>\n", fp);
}

/* The advice for the first problem whose code starts with prefix, or NULL. */
static const struct mp_problem *
first_problem(const struct mp_msgrep *m, const char *prefix)
{
	size_t i, n = strlen(prefix);

	for (i = 0; i < m->nproblems; i++)
		if (strncmp(m->problems[i].code, prefix, n) == 0 &&
		    m->problems[i].severity == MP_SEV_ERROR)
			return &m->problems[i];
	for (i = 0; i < m->nproblems; i++)
		if (strncmp(m->problems[i].code, prefix, n) == 0)
			return &m->problems[i];
	return NULL;
}

static void
card_open(FILE *fp, const char *check, const char *title, const char *state)
{
	static const struct {
		const char *state, *word;
	} words[] = {{"pass", N_("pass")},
		     {"fail", N_("fail")},
		     {"warn", N_("attention")},
		     {"skip", N_("not required")}};
	const char *w = state;
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(words[i].state, state) == 0)
			w = _(words[i].word);
	fprintf(fp, "<article class=\"card %s\" data-check=\"%s\" data-state=\"%s\">"
		    "<span class=\"state\">%s</span><h2>%s</h2>\n",
		state, check, state, w, title);
}

/* Closes a card, with the "what to do" of the check's first problem. */
static void
card_close(FILE *fp, const struct mp_msgrep *m, const char *prefix)
{
	const struct mp_problem *p = first_problem(m, prefix);
	const char *adv = p != NULL ? mp_problem_advice(p->code) : NULL;

	if (p != NULL) {
		fputs("<p class=\"why\">", fp);
		esc(fp, p->message);
		fputs("</p>\n", fp);
	}
	if (adv != NULL) {
		fputs("<p class=\"todo\">", fp);
		esc(fp, adv);
		fputs("</p>\n", fp);
	}
	fputs("</article>\n", fp);
}

static const char *
state_of(const struct mp_msgrep *m, unsigned bit, const char *result)
{
	if (!(m->checked & bit))
		return "skip";
	if (m->passed & bit)
		return "pass";
	if (result != NULL && strcmp(result, "temperror") == 0)
		return "warn";
	return "fail";
}

static void
card_spf(FILE *fp, const struct mp_msgrep *m)
{
	const struct mp_rep_spf *s = m->spf;

	card_open(fp, "spf", "SPF", state_of(m, MP_CHECK_SPF, s != NULL ? s->result : NULL));
	fputs("<p class=\"sentence\">", fp);
	if (s == NULL) {
		fputs(_("SPF was not checked: the address that delivered the message is not "
			"known."),
		      fp);
	} else if (strcmp(s->result, "pass") == 0) {
		say(fp,
		    s->aligned ? _("%s may send for %s, which matches the From domain.")
			       : _("%s may send for %s, but that is not the From domain."),
		    s->client_ip, s->domain);
	} else {
		say(fp, _("SPF says <b>%s</b> for %s sending for %s."), s->result,
		    s->client_ip != NULL ? s->client_ip : _("an unknown address"),
		    s->domain != NULL ? s->domain : _("an unknown domain"));
	}
	fputs("</p>\n", fp);
	card_close(fp, m, "SPF");
}

static void
card_dkim(FILE *fp, const struct mp_msgrep *m)
{
	const struct mp_rep_dkim *best = NULL;
	size_t i;

	for (i = 0; i < m->ndkim; i++)
		if (best == NULL || (strcmp(m->dkim[i].result, "pass") == 0 && m->dkim[i].aligned))
			best = &m->dkim[i];
	card_open(fp, "dkim", "DKIM", state_of(m, MP_CHECK_DKIM, best != NULL ? best->result : NULL));
	fputs("<p class=\"sentence\">", fp);
	if (best == NULL) {
		fputs(_("The message carries no DKIM signature."), fp);
	} else if (strcmp(best->result, "pass") == 0) {
		say(fp,
		    best->aligned ? _("The signature of %s verifies and matches the From domain.")
				  : _("The signature of %s verifies, but it is not the From "
				      "domain."),
		    best->domain);
	} else {
		const char *dom = best->domain != NULL ? best->domain : _("an unknown domain");

		if (best->error != NULL)
			say(fp, _("The signature of %s does not verify: %s."), dom, best->error);
		else
			say(fp, _("The signature of %s does not verify."), dom);
	}
	fputs("</p>\n", fp);
	card_close(fp, m, "DKIM");
}

static void
card_dmarc(FILE *fp, const struct mp_msgrep *m)
{
	const struct mp_rep_dmarc *d = m->dmarc;

	card_open(fp, "dmarc", "DMARC", state_of(m, MP_CHECK_DMARC, d != NULL ? d->result : NULL));
	fputs("<p class=\"sentence\">", fp);
	if (d == NULL) {
		fputs(_("DMARC was not checked: the message has no usable From address."), fp);
	} else if (strcmp(d->result, "pass") == 0) {
		say(fp,
		    d->dkim_aligned && d->spf_aligned
			? _("DMARC passes for %s through SPF and DKIM.")
		    : d->dkim_aligned ? _("DMARC passes for %s through DKIM.")
				      : _("DMARC passes for %s through SPF."),
		    d->from_domain);
	} else if (strcmp(d->result, "none") == 0) {
		say(fp, _("%s publishes no DMARC record."), d->from_domain);
	} else if (d->policy == NULL) {
		say(fp, _("DMARC says <b>%s</b> for %s."), d->result, d->from_domain);
	} else {
		/* The policy as a verb; an unknown policy word is shown as the record has it. */
		const char *verb = strcmp(d->policy, "none") == 0	  ? _("deliver it anyway")
				   : strcmp(d->policy, "quarantine") == 0 ? _("quarantine")
				   : strcmp(d->policy, "reject") == 0	  ? _("reject")
									  : d->policy;

		say(fp, _("DMARC says <b>%s</b> for %s; receivers are asked to %s such mail."),
		    d->result, d->from_domain, verb);
	}
	fputs("</p>\n", fp);
	card_close(fp, m, "DMARC");
}

/* The provider's own spam verdict, with the values it rests on. */
static void
provider_sentence(FILE *fp, const struct mp_rep_provider *p)
{
	char lv[64] = "";
	size_t i;

	fputc(' ', fp);
	say(fp, p->spam ? _("Its spam filter marked the message as spam")
			: _("Its spam filter did not mark the message as spam"));
	if (p->verdict != NULL || p->scl >= -1) {
		snprintf(lv, sizeof(lv), "%s%s%s", p->verdict != NULL ? "SFV:" : "",
			 p->verdict != NULL ? p->verdict : "",
			 p->verdict != NULL && p->scl >= -1 ? ", " : "");
		if (p->scl >= -1)
			snprintf(lv + strlen(lv), sizeof(lv) - strlen(lv), "SCL:%d", p->scl);
		say(fp, " (%s)", lv);
	}
	for (i = 0; i < p->nlabels; i++)
		say(fp, i == 0 ? " (%s" : " %s", p->labels[i]);
	fputs(p->nlabels > 0 ? ")." : ".", fp);
}

static void
card_placement(FILE *fp, const struct mp_msgrep *m)
{
	if (!(m->checked & MP_CHECK_PLACEMENT) && m->folder == NULL && m->provider == NULL)
		return;
	card_open(fp, "placement", _("Placement"), state_of(m, MP_CHECK_PLACEMENT, NULL));
	fputs("<p class=\"sentence\">", fp);
	if (m->folder == NULL) {
		fputs(_("The folder is not known."), fp);
	} else {
		say(fp,
		    (m->passed & MP_CHECK_PLACEMENT) ? _("Delivered to %s.") : _("Landed in %s."),
		    m->folder);
	}
	if (m->provider != NULL)
		provider_sentence(fp, m->provider);
	fputs("</p>\n", fp);
	card_close(fp, m, "PLACEMENT");
}

static void
card_receiver(FILE *fp, const struct mp_msgrep *m)
{
	bool any = false, bad = false;
	size_t i, j;

	for (i = 0; i < m->nar; i++)
		if (m->ar[i].trusted) {
			for (j = 0; j < m->ar[i].nresults; j++) {
				const char *r = m->ar[i].results[j].result;

				any = true;
				if (strcmp(r, "fail") == 0 || strcmp(r, "permerror") == 0 ||
				    strcmp(r, "softfail") == 0)
					bad = true;
			}
		}
	card_open(fp, "receiver", _("Receiver's verdict"), !any ? "warn" : bad ? "fail" : "pass");
	fputs("<p class=\"sentence\">", fp);
	if (!any) {
		fputs(_("No trusted Authentication-Results header: the receiver's own view is "
			"unknown."),
		      fp);
	} else {
		const char *last = NULL;
		bool open = false;

		for (i = 0; i < m->nar; i++) {
			if (!m->ar[i].trusted)
				continue;
			/* One sentence per receiver, however many headers it wrote. */
			if (!open || !mp_ieq_z(last, m->ar[i].authserv_id)) {
				if (open)
					fputs(". ", fp);
				say(fp, _("%s says"),
				    m->ar[i].authserv_id != NULL ? m->ar[i].authserv_id
								 : _("The receiver"));
				last = m->ar[i].authserv_id;
				open = true;
			}
			for (j = 0; j < m->ar[i].nresults; j++) {
				fputs(" <code>", fp);
				esc(fp, m->ar[i].results[j].method);
				fputc('=', fp);
				esc(fp, m->ar[i].results[j].result);
				fputs("</code>", fp);
			}
		}
		if (open)
			fputs(".", fp);
	}
	fputs("</p>\n", fp);
	card_close(fp, m, "RECEIVER");
}

static void
details(FILE *fp, const struct mp_msgrep *m)
{
	size_t i, j;

	fprintf(fp, "<details><summary>%s</summary>\n", _("Details"));
	if (m->nproblems > 0) {
		fprintf(fp, "<h3>%s</h3><ul class=\"problems\">\n", _("Problems"));
		for (i = 0; i < m->nproblems; i++) {
			const struct mp_problem *p = &m->problems[i];

			fprintf(fp, "<li class=\"%s\"><code>",
				p->severity == MP_SEV_ERROR ? "error" : "warning");
			esc(fp, p->code);
			fputs("</code> ", fp);
			esc(fp, p->message);
			fputs("</li>\n", fp);
		}
		fputs("</ul>\n", fp);
	}
	if (m->spf != NULL) {
		fprintf(fp, "<h3>SPF</h3><table><tr><th>%s</th><td class=\"mono\">",
			_("client IP"));
		esc(fp, m->spf->client_ip);
		fputs("</td></tr><tr><th>HELO</th><td class=\"mono\">", fp);
		esc(fp, m->spf->helo);
		fputs("</td></tr><tr><th>MAIL FROM</th><td class=\"mono\">", fp);
		esc(fp, m->spf->mail_from);
		fprintf(fp, "</td></tr><tr><th>%s</th><td class=\"mono\">", _("domain"));
		esc(fp, m->spf->domain);
		fputs("</td></tr></table>\n", fp);
	}
	if (m->ndkim > 0) {
		fprintf(fp,
			"<h3>%s</h3><table><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
			"<th>%s</th><th>%s</th></tr>\n",
			_("DKIM signatures"), _("domain"), _("selector"), _("algorithm"), _("key"),
			_("result"), _("aligned"));
		for (i = 0; i < m->ndkim; i++) {
			const struct mp_rep_dkim *d = &m->dkim[i];

			fputs("<tr><td class=\"mono\">", fp);
			esc(fp, d->domain);
			fputs("</td><td class=\"mono\">", fp);
			esc(fp, d->selector);
			fputs("</td><td>", fp);
			esc(fp, d->algorithm);
			fputs("</td><td>", fp);
			fprintf(fp, _("%u bits"), d->key_bits);
			fprintf(fp, "%s</td><td>", d->testing ? _(", testing") : "");
			esc(fp, d->result);
			if (d->error != NULL) {
				fputs(": ", fp);
				esc(fp, d->error);
			}
			fprintf(fp, "</td><td>%s</td></tr>\n", d->aligned ? _("yes") : _("no"));
		}
		fputs("</table>\n", fp);
	}
	if (m->dmarc != NULL) {
		fprintf(fp, "<h3>DMARC</h3><table><tr><th>%s</th><td class=\"mono\">",
			_("From domain"));
		esc(fp, m->dmarc->from_domain);
		fprintf(fp, "</td></tr><tr><th>%s</th><td class=\"mono\">",
			_("organizational domain"));
		esc(fp, m->dmarc->org_domain);
		fprintf(fp, "</td></tr><tr><th>%s</th><td class=\"mono\">", _("record"));
		esc(fp, m->dmarc->record != NULL ? m->dmarc->record : _("none"));
		fputs("</td></tr></table>\n", fp);
	}
	if (m->nhops > 0) {
		fprintf(fp,
			"<h3>%s</h3><table><tr><th>%s</th><th>%s</th><th>%s</th><th>TLS</th>"
			"<th>%s</th></tr>\n",
			_("Route (oldest hop first)"), _("from"), _("by"), _("with"), _("delay"));
		for (i = 0; i < m->nhops; i++) {
			const struct mp_rep_hop *h = &m->hops[i];

			fputs("<tr><td class=\"mono\">", fp);
			esc(fp, h->from);
			if (h->from_ip != NULL) {
				fputs(" [", fp);
				esc(fp, h->from_ip);
				fputc(']', fp);
			}
			fputs("</td><td class=\"mono\">", fp);
			esc(fp, h->by);
			fputs("</td><td>", fp);
			esc(fp, h->with);
			fprintf(fp, "</td><td>%s</td><td>", h->tls ? _("yes") : _("no"));
			if (h->have_delay)
				fprintf(fp, "%.0f s", h->delay);
			fputs("</td></tr>\n", fp);
		}
		fputs("</table>\n", fp);
	}
	if (m->nar > 0) {
		fprintf(fp,
			"<h3>%s</h3><table><tr><th>authserv-id</th><th>%s</th><th>%s</th></tr>\n",
			_("Authentication-Results headers (top to bottom)"), _("trusted"),
			_("results"));
		for (i = 0; i < m->nar; i++) {
			const struct mp_rep_ar *a = &m->ar[i];

			fputs("<tr><td class=\"mono\">", fp);
			esc(fp, a->authserv_id != NULL ? a->authserv_id : _("(none)"));
			fprintf(fp, "</td><td>%s</td><td class=\"mono\">",
				a->trusted ? _("yes") : _("no"));
			if (a->error != NULL) {
				fputs(_("unparsable: "), fp);
				esc(fp, a->error);
			}
			for (j = 0; j < a->nresults; j++) {
				esc(fp, a->results[j].method);
				fputc('=', fp);
				esc(fp, a->results[j].result);
				fputc(' ', fp);
			}
			fputs("</td></tr>\n", fp);
		}
		fputs("</table>\n", fp);
	}
	fputs("</details>\n", fp);
}

void
mp_html_add(FILE *fp, const struct mp_msgrep *m, size_t index)
{
	const char *v = m->pass ? "pass" : "fail";

	fprintf(fp, "<section class=\"message\" id=\"message-%zu\" data-verdict=\"%s\">\n", index + 1,
		v);
	fprintf(fp, "<header class=\"verdict %s\"><h1><span class=\"badge\">%s</span>%s</h1>\n", v,
		m->pass ? _("PASS") : _("FAIL"),
		m->pass ? _("The notification authenticates where it landed.")
			: _("The notification does not authenticate as it should."));
	fputs("<dl class=\"facts\">", fp);
	if (m->subject != NULL) {
		fprintf(fp, "<dt>%s</dt><dd>", _("Subject"));
		esc(fp, m->subject);
		fputs("</dd>", fp);
	}
	if (m->from_address != NULL) {
		fprintf(fp, "<dt>%s</dt><dd>", _("From"));
		esc(fp, m->from_address);
		fputs("</dd>", fp);
	}
	if (m->test_id != NULL) {
		fprintf(fp, "<dt>%s</dt><dd>", _("Test id"));
		esc(fp, m->test_id);
		fputs("</dd>", fp);
	}
	if (m->delivery_seconds >= 0)
		fprintf(fp, "<dt>%s</dt><dd>%.1f s</dd>", _("Delivered in"), m->delivery_seconds);
	fprintf(fp, "<dt>%s</dt><dd class=\"mono\">", _("Source"));
	esc(fp, m->source);
	fputs("</dd></dl>\n</header>\n<div class=\"cards\">\n", fp);
	card_placement(fp, m);
	card_spf(fp, m);
	card_dkim(fp, m);
	card_dmarc(fp, m);
	card_receiver(fp, m);
	fputs("</div>\n", fp);
	details(fp, m);
	fputs("</section>\n", fp);
}

void
mp_html_close(FILE *fp, size_t count, size_t failed)
{
	fputs("<footer>", fp);
	fprintf(fp,
		mp_i18n_ngettext("%zu message checked: %zu passed, %zu failed.",
				 "%zu messages checked: %zu passed, %zu failed.", count),
		count, count - failed, failed);
	fputs("</footer>\n", fp);
	fputs("</main>\n</body>\n</html>\n", fp);
}
