/*
 * verify.c - see verify.h.
 *
 * Order of work for one message: parse the header section; read From, Message-ID,
 * Subject and the test id; parse every Authentication-Results header and decide which
 * are trusted; stream the message through DKIM; find the envelope sender, the client
 * IP and HELO; run SPF and DMARC ourselves; compare with what the trusted receiver
 * wrote; fill the report and the verdict (SPEC.md "What counts as passing").
 */
#include "verify.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "dkim.h"
#include "dmarc.h"
#include "hdr.h"
#include "i18n.h"
#include "msg.h"
#include "received.h"
#include "resolver.h"
#include "spamsig.h"
#include "spf.h"
#include "util.h"

#define MAX_RECEIVED 100 /* Received fields looked at per message */
#define MAX_AR 100       /* Authentication-Results fields kept per message */
#define MAX_FROM 16

struct mp_verifier {
	struct mp_resolver *res;
	struct mp_dkim *dkim;
	struct mp_spf *spf;
	struct mp_dmarc *dmarc;
	const char *const *authserv;
	size_t nauthserv;
	unsigned require;
	const char *client_ip;
	const char *const *labels; /* Gmail's labels of the next message (borrowed) */
	size_t nlabels;
};

/* Everything one check holds while it runs; released by check_dispose(). */
struct check {
	const struct mp_headers *hdrs; /* owned by the message */
	struct mp_authres *ar[MAX_AR];
	bool ar_trusted[MAX_AR];
	char *ar_host[MAX_AR]; /* authserv-id, or the host implied for one without (Microsoft) */
	size_t ar_pos[MAX_AR]; /* index of the field in the header section */
	size_t nar;
	struct mp_dkim_sig *sigs;
	size_t nsigs;
	struct mp_received hops[MAX_RECEIVED];
	size_t hop_pos[MAX_RECEIVED]; /* index of each Received field in the header section */
	size_t nhops;
	bool have_pick;   /* mp_received_pick() found the hop that handed the message over */
	size_t pick;      /* that hop */
	size_t outside;   /* index of the first field written before the receiver had the
			   * message (the Received field below the picked hop); SIZE_MAX if unknown */
	struct mp_received_spf rspf;
	bool have_rspf;
	struct mp_spf_result spf;
	bool have_spf;
	struct mp_dmarc_eval dmarc;
	bool have_dmarc;
	char *env_from;
	bool null_sender; /* MAIL FROM:<> */
	char *client_ip;
	char *helo;
	bool temp; /* a DNS lookup failed */
};

int
mp_require_parse(const char *list, unsigned *out, struct mp_err *err)
{
	const char *p = list, *e;
	unsigned bits = 0;
	size_t n;

	while (*p != '\0') {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (mp_ieq(p, n, "spf"))
			bits |= MP_CHECK_SPF;
		else if (mp_ieq(p, n, "dkim"))
			bits |= MP_CHECK_DKIM;
		else if (mp_ieq(p, n, "dmarc"))
			bits |= MP_CHECK_DMARC;
		else if (mp_ieq(p, n, "placement"))
			bits |= MP_CHECK_PLACEMENT;
		else if (n > 0)
			return mp_err_set(err, MP_EINVAL,
					  _("unknown check '%.*s' in --require (spf, dkim, dmarc, "
					    "placement)"),
					  (int)(n > 40 ? 40 : n), p);
		p += n;
		if (*p == ',')
			p++;
	}
	if (bits == 0)
		return mp_err_set(err, MP_EINVAL, _("--require needs at least one check"));
	*out = bits;
	return 0;
}

int
mp_verifier_new(struct mp_verifier **out, struct mp_resolver *res,
		const struct mp_verify_opts *opts, struct mp_err *err)
{
	struct mp_verifier *v;
	int rc;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	v->res = res;
	v->authserv = opts->authserv_ids;
	v->nauthserv = opts->nauthserv;
	v->require = opts->require != 0 ? opts->require
					 : (MP_CHECK_SPF | MP_CHECK_DKIM | MP_CHECK_DMARC);
	v->client_ip = opts->client_ip;
	if ((rc = mp_dkim_new(&v->dkim, res, err)) != 0 ||
	    (rc = mp_spf_new(&v->spf, res, NULL, err)) != 0 ||
	    (rc = mp_dmarc_new(&v->dmarc, res, err)) != 0) {
		mp_verifier_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

void
mp_verifier_free(struct mp_verifier *v)
{
	if (v == NULL)
		return;
	mp_dkim_free(v->dkim);
	mp_spf_free(v->spf);
	mp_dmarc_free(v->dmarc);
	free(v);
}

void
mp_verifier_set_labels(struct mp_verifier *v, const char *const *labels, size_t n)
{
	v->labels = labels;
	v->nlabels = labels != NULL ? n : 0;
}

/* The provider's own spam verdict (core/spamsig.c says which headers count). */
static int
read_provider(struct mp_verifier *v, struct check *c, struct mp_msgrep *rep)
{
	const char *host = c->have_pick ? c->hops[c->pick].by_host : NULL;
	bool ignored = false;
	char *h = host != NULL ? mp_domain_norm(host) : NULL;
	int rc;

	/* Whatever lies below the receiving hop's own Received field came with the message
	 * (for Microsoft also when the sender wrote no Received field of its own). */
	rc = mp_spamsig_read(c->hdrs, c->have_pick ? c->hop_pos[c->pick] + 1 : SIZE_MAX, h,
			     v->labels, v->nlabels, &rep->provider, &ignored);
	free(h);
	if (rc == 0 && ignored)
		mp_msgrep_problem(
		    rep, MP_SEV_WARNING, "PROVIDER_SIGNAL_IGNORED",
		    _("An X-Forefront-Antispam-Report header sits among the fields "
		      "the sender wrote, where anyone can write one: it is ignored."));
	return rc;
}

static void
check_dispose(struct check *c)
{
	size_t i;

	for (i = 0; i < c->nar; i++) {
		mp_authres_free(c->ar[i]);
		free(c->ar_host[i]);
	}
	mp_dkim_sigs_free(c->sigs, c->nsigs);
	for (i = 0; i < c->nhops; i++)
		mp_received_dispose(&c->hops[i]);
	if (c->have_rspf)
		mp_received_spf_dispose(&c->rspf);
	if (c->have_spf)
		mp_spf_result_dispose(&c->spf);
	if (c->have_dmarc)
		mp_dmarc_eval_dispose(&c->dmarc);
	free(c->env_from);
	free(c->client_ip);
	free(c->helo);
}

/* Unfolded value of the nth field called name, or NULL. */
static char *
field_value(const struct mp_headers *h, const char *name, size_t nth)
{
	const struct mp_field *f = mp_headers_find(h, name, nth);

	return f != NULL ? mp_hdr_unfold(f->value, f->value_len, NULL) : NULL;
}

static bool
host_trusted(const char *host, void *arg)
{
	const struct mp_verifier *v = arg;
	size_t i;

	if (host == NULL)
		return false;
	for (i = 0; i < v->nauthserv; i++)
		if (mp_authserv_id_matches(host, v->authserv[i]))
			return true;
	return false;
}

/* ---- identity of the message ---------------------------------------------------------- */

static void
read_identity(struct check *c, struct mp_msgrep *rep)
{
	const struct mp_field *f;
	struct mp_mailbox mb[MAX_FROM];
	size_t n = 0, i, nfrom;
	struct mp_err err = {0};
	char *v;

	if ((f = mp_headers_find(c->hdrs, "Message-ID", 0)) != NULL)
		rep->message_id = mp_hdr_msgid(f->value, f->value_len);
	if ((f = mp_headers_find(c->hdrs, "Subject", 0)) != NULL)
		rep->subject = mp_hdr_decode(f->value, f->value_len);
	if ((v = field_value(c->hdrs, "X-Mailproof-Test-Id", 0)) != NULL) {
		rep->test_id = mp_utf8_clean(v, strlen(v));
		free(v);
	}

	nfrom = mp_headers_count_named(c->hdrs, "From");
	if (nfrom == 0) {
		mp_msgrep_problem(rep, MP_SEV_ERROR, "FROM_MISSING",
				  _("The message has no From header, so DMARC cannot be checked."));
		return;
	}
	if (nfrom > 1) {
		mp_msgrep_problem(rep, MP_SEV_ERROR, "FROM_MULTIPLE",
				  _("The message has %zu From headers; receivers reject or "
				    "quarantine such mail (RFC 7489 6.6.1)."),
				  nfrom);
		return;
	}
	f = mp_headers_find(c->hdrs, "From", 0);
	memset(mb, 0, sizeof(mb));
	if (mp_hdr_mailboxes(f->value, f->value_len, mb, MAX_FROM, &n, &err) != 0 || n == 0) {
		mp_msgrep_problem(rep, MP_SEV_ERROR, "FROM_MISSING",
				  _("The From header holds no usable address%s%s."),
				  err.msg[0] != '\0' ? ": " : "", err.msg);
	} else if (n > 1) {
		mp_msgrep_problem(
		    rep, MP_SEV_ERROR, "FROM_MULTIPLE",
		    _("The From header holds %zu addresses; DMARC needs exactly one."), n);
	} else if (mb[0].domain == NULL) {
		mp_msgrep_problem(rep, MP_SEV_ERROR, "FROM_MISSING",
				  _("The From address has no domain."));
	} else {
		rep->from_address = mp_utf8_clean(mb[0].address, strlen(mb[0].address));
		rep->from_domain = mp_strdup_z(mb[0].domain);
	}
	for (i = 0; i < n && i < MAX_FROM; i++)
		mp_mailbox_dispose(&mb[i]);
}

/* ---- Authentication-Results ------------------------------------------------------------ */

/*
 * The host an Authentication-Results header without authserv-id speaks for (Microsoft
 * 365 writes none): the receiving host of the first Received field below it, which is
 * the hop that header was added at.  NULL when there is none.
 */
static char *
implied_authserv(const struct mp_headers *h, size_t pos)
{
	const struct mp_field *f;
	struct mp_received r;
	struct mp_err err = {0};
	char *u, *host = NULL;
	size_t i, n = mp_headers_count(h), len;

	for (i = pos + 1; i < n; i++) {
		f = mp_headers_at(h, i);
		if (!mp_ieq(f->name, f->name_len, "Received"))
			continue;
		memset(&r, 0, sizeof(r));
		if ((u = mp_hdr_unfold(f->value, f->value_len, &len)) == NULL)
			return NULL;
		if (mp_received_parse(u, len, &r, &err) == 0 && r.by_host != NULL)
			host = mp_domain_norm(r.by_host);
		mp_received_dispose(&r);
		free(u);
		return host;
	}
	return NULL;
}

/*
 * Which Authentication-Results headers are the receiver's (docs/deviations.md, "Trust and
 * the receiving hop").  With --authserv-id: those whose authserv-id (or, without one, the
 * host implied by the Received field below) matches.  Without: the topmost header and
 * those below it under the same id, since receivers often write one header per method.
 * Either way a header below the Received field the receiver's client wrote was in the
 * message before the receiver had it: whoever sent the message can write any
 * authserv-id, so such a header is never trusted.
 */
static void
read_authres(struct mp_verifier *v, struct check *c, struct mp_msgrep *rep)
{
	const struct mp_field *f;
	struct mp_err err = {0};
	const char *top_id = NULL, *below_id = NULL;
	bool top_seen = false, top_block = true, top_implied = false, any = false;
	size_t i, ntop = 0, n = mp_headers_count(c->hdrs);

	for (i = 0; i < n && c->nar < MAX_AR; i++) {
		struct mp_authres *ar = NULL;
		const char *id;
		bool ok;

		f = mp_headers_at(c->hdrs, i);
		if (!mp_ieq(f->name, f->name_len, "Authentication-Results"))
			continue;
		if (mp_authres_parse(f->value, f->value_len, &ar, &err) != 0 || ar == NULL)
			break;
		c->ar[c->nar] = ar;
		c->ar_pos[c->nar] = i;
		if (ar->authserv_id != NULL)
			c->ar_host[c->nar] = mp_domain_norm(ar->authserv_id);
		else if (ar->error == NULL)
			c->ar_host[c->nar] = implied_authserv(c->hdrs, i);
		id = c->ar_host[c->nar];
		if (ar->error != NULL) {
			ok = false;
		} else if (v->nauthserv > 0) {
			ok = host_trusted(id, v);
		} else if (i >= c->outside) {
			ok = true; /* judged by position below */
		} else {
			if (!top_seen) {
				top_seen = true;
				top_id = id;
				top_implied = ar->authserv_id == NULL;
			} else if (!mp_ieq_z(top_id, id)) {
				top_block = false;
			}
			ok = top_block;
			if (ok)
				ntop++;
		}
		if (ok && i >= c->outside) {
			ok = false;
			if (below_id == NULL)
				below_id = id != NULL ? id : _("no authserv-id");
		}
		c->ar_trusted[c->nar] = ok;
		any = any || ok;
		if (ar->error != NULL)
			mp_msgrep_problem(
			    rep, MP_SEV_WARNING, "AR_UNPARSABLE",
			    _("An Authentication-Results header cannot be parsed (%s); "
			      "it is ignored."),
			    ar->error);
		c->nar++;
	}
	if (below_id != NULL)
		mp_msgrep_problem(
		    rep, MP_SEV_WARNING, "AR_BELOW_RECEIVER",
		    _("An Authentication-Results header (%s) sits below the Received "
		      "field of %s, where the receiver took the message over: it came "
		      "with the message and anyone can write one, so it is ignored."),
		    below_id,
		    c->hops[c->pick].by_host != NULL ? c->hops[c->pick].by_host
						     : _("the receiving host"));
	if (v->nauthserv == 0 && ntop > 0)
		mp_msgrep_problem(
		    rep, MP_SEV_WARNING, "AR_TRUST_DEFAULT",
		    mp_i18n_ngettext("No --authserv-id given: the topmost "
				     "Authentication-Results header (%s%s) is trusted "
				     "as the receiver's.",
				     "No --authserv-id given: the topmost "
				     "Authentication-Results headers (%s%s) are trusted "
				     "as the receiver's.",
				     ntop),
		    top_implied ? _("without authserv-id, added at ") : "",
		    top_id != NULL ? top_id : _("an unknown host"));
	if (!any && c->nar == 0 && v->nauthserv > 0)
		mp_msgrep_problem(rep, MP_SEV_WARNING, "AR_NONE_TRUSTED",
				  _("The message has no Authentication-Results header, so what the "
				    "receiver concluded is unknown; only mailproof's own checks "
				    "count."));
	else if (!any && v->nauthserv > 0)
		mp_msgrep_problem(rep, MP_SEV_WARNING, "AR_NONE_TRUSTED",
				  _("No Authentication-Results header comes from a trusted "
				    "receiver (--authserv-id)."));
}

/* Copies the parsed headers into the report, cleaned for output. */
static void
fill_ar(const struct check *c, struct mp_msgrep *rep)
{
	size_t i, j, k;

	if (c->nar == 0 || (rep->ar = calloc(c->nar, sizeof(*rep->ar))) == NULL)
		return;
	rep->nar = c->nar;
	for (i = 0; i < c->nar; i++) {
		const struct mp_authres *a = c->ar[i];
		struct mp_rep_ar *r = &rep->ar[i];

		r->authserv_id = mp_strdup_z(a->authserv_id);
		r->trusted = c->ar_trusted[i];
		r->error = mp_strdup_z(a->error);
		if (a->nresults == 0 || (r->results = calloc(a->nresults, sizeof(*r->results))) == NULL)
			continue;
		r->nresults = a->nresults;
		for (j = 0; j < a->nresults; j++) {
			const struct mp_ar_result *x = &a->results[j];
			struct mp_rep_arres *y = &r->results[j];

			y->method = mp_strdup_z(x->method);
			y->result = mp_strdup_z(x->result);
			y->reason = mp_strdup_z(x->reason);
			if (x->nprops == 0 || (y->props = calloc(x->nprops, sizeof(*y->props))) == NULL)
				continue;
			y->nprops = x->nprops;
			for (k = 0; k < x->nprops; k++) {
				y->props[k].key = mp_strdup_z(x->props[k].key);
				y->props[k].value = mp_strdup_z(x->props[k].value);
			}
		}
	}
}

/* First property `key` of a trusted result of `method`, or NULL. */
static const char *
trusted_prop(const struct check *c, const char *method, const char *key)
{
	size_t i, j;
	const char *p;

	for (i = 0; i < c->nar; i++) {
		if (!c->ar_trusted[i])
			continue;
		for (j = 0; j < c->ar[i]->nresults; j++) {
			const struct mp_ar_result *r = &c->ar[i]->results[j];

			if (method != NULL && strcmp(r->method, method) != 0)
				continue;
			if ((p = mp_ar_result_prop(r, key)) != NULL && *p != '\0')
				return p;
		}
	}
	return NULL;
}

/*
 * A receiver's result word in RFC 8601 terms.  Yahoo writes perm_fail and success,
 * Microsoft bestguesspass (no DMARC record, but it would pass: DMARC "none").
 */
static const char *
norm_result(const char *r)
{
	static const struct {
		const char *in, *out;
	} map[] = {{"perm_fail", "permerror"}, {"permfail", "permerror"},
		   {"temp_fail", "temperror"}, {"tempfail", "temperror"},
		   {"temp_error", "temperror"}, {"hardfail", "fail"},
		   {"success", "pass"},	 {"bestguesspass", "none"}};
	size_t i;

	for (i = 0; r != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(r, map[i].in) == 0)
			return map[i].out;
	return r;
}

/* Results that mean the check did not pass at the receiver: mail is judged on them. */
static bool
is_failure(const char *res)
{
	return res != NULL && (strcmp(res, "fail") == 0 || strcmp(res, "softfail") == 0 ||
			       strcmp(res, "permerror") == 0);
}

/* Name of the receiver that wrote trusted header i, for messages. */
static const char *
ar_name(const struct check *c, size_t i)
{
	return c->ar_host[i] != NULL ? c->ar_host[i] : _("the receiver");
}

/* ---- DKIM --------------------------------------------------------------------------- */

static int
run_dkim(struct mp_verifier *v, struct check *c, struct mp_msg *msg, struct mp_err *err)
{
	struct mp_dkim_ver *dv = NULL;
	const struct mp_field *f;
	const char *chunk;
	size_t i, n, len;
	int rc;

	if (mp_headers_count_named(c->hdrs, "DKIM-Signature") == 0)
		return 0; /* nothing to verify: the body need not be read at all */
	if ((rc = mp_dkim_begin(v->dkim, &dv, err)) != 0)
		return rc;
	n = mp_headers_count(c->hdrs);
	for (i = 0; i < n; i++) {
		f = mp_headers_at(c->hdrs, i);
		if ((rc = mp_dkim_header(dv, f->raw, f->raw_len)) != 0)
			goto out;
	}
	if ((rc = mp_dkim_eoh(dv)) != 0)
		goto out;
	while ((rc = mp_msg_body_read(msg, &chunk, &len, err)) > 0)
		if ((rc = mp_dkim_body(dv, chunk, len)) != 0)
			goto out;
	if (rc < 0)
		goto out;
	rc = mp_dkim_end(dv, &c->sigs, &c->nsigs, err);
out:
	mp_dkim_ver_free(dv);
	return rc;
}

/* ---- envelope sender, client IP, HELO ------------------------------------------------ */

/* The address inside <...> (or the trimmed text without brackets); NULL for "<>" and empty
 * text, with *null set when the null sender was written. */
static char *
angle_addr(const char *v, bool *null)
{
	const char *s = strchr(v, '<'), *e;
	size_t n;

	if (s == NULL) {
		n = strlen(v);
		s = mp_trim(v, &n);
		return n > 0 ? mp_strndup(s, n) : NULL;
	}
	s++;
	e = strchr(s, '>');
	if (e == s && null != NULL)
		*null = true;
	if (e == NULL || e == s)
		return NULL;
	return mp_strndup(s, (size_t)(e - s));
}

/*
 * The MAIL FROM, in this order: Return-Path (written at final delivery), the trusted
 * receiver's smtp.mailfrom, Received-SPF envelope-from, an LMTP "(envelope-from <x>)".
 * A Return-Path below the receiving hop came with the message and is not used.
 */
static void
find_envelope(struct check *c)
{
	const struct mp_field *f;
	const char *p;
	char *rp;
	size_t i, n = mp_headers_count(c->hdrs);

	for (i = 0; i < n && i < c->outside; i++) {
		f = mp_headers_at(c->hdrs, i);
		if (!mp_ieq(f->name, f->name_len, "Return-Path"))
			continue;
		if ((rp = mp_hdr_unfold(f->value, f->value_len, NULL)) == NULL)
			return;
		c->env_from = angle_addr(rp, &c->null_sender);
		free(rp);
		if (c->env_from != NULL || c->null_sender)
			return;
	}
	if ((p = trusted_prop(c, "spf", "smtp.mailfrom")) != NULL) {
		c->env_from = mp_strdup_z(p);
		return;
	}
	if (c->have_rspf && c->rspf.envelope_from != NULL) {
		c->env_from = angle_addr(c->rspf.envelope_from, &c->null_sender);
		if (c->env_from != NULL || c->null_sender)
			return;
	}
	for (i = 0; i < c->nhops; i++)
		if (c->hops[i].envelope_from != NULL) {
			c->env_from = angle_addr(c->hops[i].envelope_from, &c->null_sender);
			if (c->hops[i].envelope_from[0] == '\0')
				c->null_sender = true;
			return;
		}
}

static void
read_received(struct mp_verifier *v, struct check *c)
{
	const struct mp_field *f;
	struct mp_err err = {0};
	char *u;
	size_t i, n, hn = mp_headers_count(c->hdrs), spf_pos = SIZE_MAX;

	c->outside = SIZE_MAX;
	for (i = 0; i < hn && c->nhops < MAX_RECEIVED; i++) {
		f = mp_headers_at(c->hdrs, i);
		if (mp_ieq(f->name, f->name_len, "Received-SPF")) {
			if (spf_pos == SIZE_MAX)
				spf_pos = i;
			continue;
		}
		if (!mp_ieq(f->name, f->name_len, "Received"))
			continue;
		memset(&c->hops[c->nhops], 0, sizeof(c->hops[0]));
		u = mp_hdr_unfold(f->value, f->value_len, &n);
		if (u == NULL)
			continue;
		/* An unparsable field stays as an empty hop: the walk stops there instead of
		 * trusting what lies below it. */
		if (mp_received_parse(u, n, &c->hops[c->nhops], &err) != 0)
			memset(&c->hops[c->nhops], 0, sizeof(c->hops[0]));
		c->hop_pos[c->nhops] = i;
		c->nhops++;
		free(u);
	}
	if (mp_received_pick(c->hops, c->nhops, v->nauthserv > 0 ? host_trusted : NULL, v,
			     &c->pick) == 0) {
		c->have_pick = true;
		if (c->pick + 1 < c->nhops)
			c->outside = c->hop_pos[c->pick + 1];
	}
	/* The topmost Received-SPF that the receiving organisation wrote. */
	if (spf_pos != SIZE_MAX && spf_pos < c->outside) {
		f = mp_headers_at(c->hdrs, spf_pos);
		u = mp_hdr_unfold(f->value, f->value_len, &n);
		if (u != NULL && mp_received_spf_parse(u, n, &c->rspf, &err) == 0)
			c->have_rspf = true;
		free(u);
	}
}

/* SPEC.md: the client IP of the hop that handed the message to the receiving
 * organisation; --client-ip overrides; then trusted A-R properties; then Received-SPF. */
static void
find_client(struct mp_verifier *v, struct check *c)
{
	const char *p;

	if (v->client_ip != NULL)
		c->client_ip = mp_strdup_z(v->client_ip);
	if (c->have_pick) {
		if (c->client_ip == NULL && c->hops[c->pick].from_ip != NULL)
			c->client_ip = mp_strdup_z(c->hops[c->pick].from_ip);
		if (c->hops[c->pick].from_helo != NULL)
			c->helo = mp_strdup_z(c->hops[c->pick].from_helo);
	}
	if (c->client_ip == NULL) {
		if ((p = trusted_prop(c, NULL, "smtp.remote-ip")) != NULL ||
		    (p = trusted_prop(c, "iprev", "policy.iprev")) != NULL)
			c->client_ip = mp_strdup_z(p);
		else if (c->have_rspf && c->rspf.client_ip != NULL)
			c->client_ip = mp_strdup_z(c->rspf.client_ip);
	}
	if (c->helo == NULL) {
		if (c->have_rspf && c->rspf.helo != NULL)
			c->helo = mp_strdup_z(c->rspf.helo);
		else if ((p = trusted_prop(c, NULL, "smtp.helo")) != NULL)
			c->helo = mp_strdup_z(p);
	}
}

/* ---- the checks ------------------------------------------------------------------------ */

static enum mp_severity
sev_for(const struct mp_verifier *v, unsigned bit)
{
	return (v->require & bit) ? MP_SEV_ERROR : MP_SEV_WARNING;
}

static void
spf_problem(struct mp_verifier *v, struct check *c, struct mp_msgrep *rep)
{
	const char *res = c->spf.result;
	const char *why = c->spf.explanation != NULL ? c->spf.explanation : "";
	enum mp_severity s = sev_for(v, MP_CHECK_SPF);

	if (strcmp(res, "pass") == 0)
		return;
	if (strcmp(res, "fail") == 0)
		mp_msgrep_problem(rep, s, "SPF_FAIL", _("SPF fails: %s."), why);
	else if (strcmp(res, "softfail") == 0)
		mp_msgrep_problem(rep, s, "SPF_SOFTFAIL", _("SPF soft-fails: %s."), why);
	else if (strcmp(res, "neutral") == 0)
		mp_msgrep_problem(rep, s, "SPF_NEUTRAL", _("SPF is neutral: %s."), why);
	else if (strcmp(res, "none") == 0)
		mp_msgrep_problem(rep, s, "SPF_NONE", _("%s has no SPF record."),
				  c->spf.domain != NULL ? c->spf.domain : _("The sender's domain"));
	else if (strcmp(res, "temperror") == 0) {
		mp_msgrep_problem(rep, MP_SEV_ERROR, "DNS_TEMPORARY",
				  _("The SPF check could not finish: %s."), why);
		c->temp = true;
	} else
		mp_msgrep_problem(rep, s, "SPF_PERMERROR", _("The SPF record is broken: %s."), why);
}

/* Our own SPF evaluation; reported after DMARC, which knows the alignment mode. */
static void
run_spf(struct mp_verifier *v, struct check *c, struct mp_msgrep *rep, struct mp_err *err)
{
	char *mail_from = NULL;
	const char *mf = c->env_from;
	size_t n;

	if (c->client_ip == NULL) {
		mp_msgrep_problem(rep, sev_for(v, MP_CHECK_SPF), "SPF_NO_CLIENT_IP",
				  _("The IP address that handed the message to the receiver cannot "
				    "be found in its headers, so SPF was not checked; give it with "
				    "--client-ip."));
		return;
	}
	/* Microsoft and policyd-spf write smtp.mailfrom as a bare domain: SPF needs an
	 * address, and the local part matters only to %{l} macros (RFC 7208 4.3). */
	if (mf != NULL && strchr(mf, '@') == NULL) {
		n = strlen(mf);
		if ((mail_from = malloc(n + sizeof("postmaster@"))) == NULL)
			return;
		memcpy(mail_from, "postmaster@", sizeof("postmaster@") - 1);
		memcpy(mail_from + sizeof("postmaster@") - 1, mf, n + 1);
		mf = mail_from;
	}
	if (mp_spf_check(v->spf, c->client_ip, c->helo, mf, &c->spf, err) != 0) {
		mp_msgrep_problem(rep, sev_for(v, MP_CHECK_SPF), "SPF_PERMERROR",
				  _("SPF could not be evaluated: %s."), err->msg);
		goto out;
	}
	c->have_spf = true;
	if (c->null_sender)
		mp_msgrep_problem(
		    rep, MP_SEV_WARNING, "ENVELOPE_NULL",
		    _("The envelope sender is empty (MAIL FROM:<>, as for a bounce), so "
		      "SPF checks the HELO name %s instead; that is rarely aligned with "
		      "the From domain. Send with a bounce address on the customer's "
		      "domain."),
		    c->helo != NULL ? c->helo : _("(none)"));
out:
	free(mail_from);
}

static void
check_spf(struct mp_verifier *v, struct check *c, struct mp_msgrep *rep)
{
	struct mp_rep_spf *s;
	bool strict = c->have_dmarc && c->dmarc.have_record && c->dmarc.parsed.aspf_strict;

	if (!c->have_spf)
		return;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return;
	s->client_ip = mp_strdup_z(c->client_ip);
	s->helo = c->helo != NULL ? mp_utf8_clean(c->helo, strlen(c->helo)) : NULL;
	s->mail_from = c->env_from != NULL ? mp_utf8_clean(c->env_from, strlen(c->env_from)) : NULL;
	s->domain = mp_strdup_z(c->spf.domain);
	s->result = mp_strdup_z(c->spf.result);
	s->aligned = rep->from_domain != NULL && c->spf.domain != NULL &&
		     mp_dmarc_aligned(v->dmarc, c->spf.domain, rep->from_domain, strict);
	rep->spf = s;
	spf_problem(v, c, rep);
	if (strcmp(c->spf.result, "pass") == 0 && !s->aligned && rep->from_domain != NULL)
		mp_msgrep_problem(rep, sev_for(v, MP_CHECK_SPF), "SPF_NOT_ALIGNED",
				  _("SPF passes for %s, which is not aligned with the From domain "
				    "%s%s."),
				  c->spf.domain != NULL ? c->spf.domain : "?", rep->from_domain,
				  strict ? _(" (the DMARC record asks for strict alignment)") : "");
	if (strcmp(c->spf.result, "pass") == 0 && s->aligned)
		rep->passed |= MP_CHECK_SPF;
}

static void
check_dkim(struct mp_verifier *v, struct check *c, struct mp_msgrep *rep)
{
	bool strict = c->have_dmarc && c->dmarc.have_record && c->dmarc.parsed.adkim_strict;
	bool any_pass = false, any_aligned_pass = false;
	enum mp_severity s = sev_for(v, MP_CHECK_DKIM);
	size_t i;

	if (c->nsigs == 0) {
		mp_msgrep_problem(rep, s, "DKIM_NONE", _("The message has no DKIM signature."));
		return;
	}
	rep->dkim = calloc(c->nsigs, sizeof(*rep->dkim));
	if (rep->dkim == NULL)
		return;
	rep->ndkim = c->nsigs;
	for (i = 0; i < c->nsigs; i++) {
		const struct mp_dkim_sig *g = &c->sigs[i];
		struct mp_rep_dkim *d = &rep->dkim[i];

		d->domain = mp_strdup_z(g->domain);
		d->selector = mp_strdup_z(g->selector);
		d->algorithm = mp_strdup_z(g->algorithm);
		d->result = mp_strdup_z(g->result);
		d->error = mp_strdup_z(g->error);
		d->key_bits = g->key_bits;
		d->testing = g->testing;
		d->aligned = rep->from_domain != NULL && g->domain != NULL &&
			     mp_dmarc_aligned(v->dmarc, g->domain, rep->from_domain, strict);
		if (strcmp(g->result, "pass") == 0) {
			any_pass = true;
			any_aligned_pass = any_aligned_pass || d->aligned;
			if (g->testing)
				mp_msgrep_problem(rep, MP_SEV_WARNING, "DKIM_KEY_TESTING",
						  _("The key %s._domainkey.%s is marked as testing "
						    "(t=y); receivers may ignore the signature."),
						  g->selector, g->domain);
			if (g->key_bits > 0 && g->key_bits < 2048 && strncmp(g->algorithm, "rsa", 3) == 0)
				mp_msgrep_problem(rep, MP_SEV_WARNING, "DKIM_KEY_TOO_SHORT",
						  _("The key %s._domainkey.%s has %u bits; 2048 is "
						    "recommended."),
						  g->selector, g->domain, g->key_bits);
		} else if (strcmp(g->result, "temperror") == 0) {
			c->temp = true;
			mp_msgrep_problem(rep, MP_SEV_ERROR, "DNS_TEMPORARY",
					  _("The DKIM key of d=%s s=%s could not be fetched: %s."),
					  g->domain ? g->domain : "?",
					  g->selector ? g->selector : "?",
					  g->error ? g->error : _("DNS failure"));
		}
	}
	/* A failing signature matters when no aligned one passes. */
	for (i = 0; i < c->nsigs; i++) {
		const struct mp_dkim_sig *g = &c->sigs[i];

		if (strcmp(g->result, "pass") == 0 || strcmp(g->result, "temperror") == 0)
			continue;
		mp_msgrep_problem(rep, any_aligned_pass ? MP_SEV_WARNING : s, "DKIM_FAIL",
				  _("The DKIM signature d=%s s=%s does not verify: %s."),
				  g->domain ? g->domain : "?", g->selector ? g->selector : "?",
				  g->error ? g->error : g->result);
	}
	if (any_pass && !any_aligned_pass && rep->from_domain != NULL)
		mp_msgrep_problem(
		    rep, s, "DKIM_NOT_ALIGNED",
		    _("DKIM passes, but no passing signature has a d= aligned with the "
		      "From domain %s%s."),
		    rep->from_domain,
		    strict ? _(" (the DMARC record asks for strict alignment)") : "");
	if (any_aligned_pass)
		rep->passed |= MP_CHECK_DKIM;
}

/* DMARC discovery happens before SPF and DKIM are judged: the record's aspf/adkim
 * decide their alignment. */
static void
run_dmarc(struct mp_verifier *v, struct check *c, struct mp_msgrep *rep, struct mp_err *err)
{
	const char *pass_domains[64];
	struct mp_dmarc_eval_in in = {0};
	size_t i, n = 0;
	int rc;

	if (rep->from_domain == NULL)
		return;
	for (i = 0; i < c->nsigs && n < 64; i++)
		if (strcmp(c->sigs[i].result, "pass") == 0 && c->sigs[i].domain != NULL)
			pass_domains[n++] = c->sigs[i].domain;
		else if (strcmp(c->sigs[i].result, "temperror") == 0)
			in.dkim_temperror = true;
	in.from_domain = rep->from_domain;
	in.spf_domain = c->have_spf ? c->spf.domain : NULL;
	in.spf_result = c->have_spf ? c->spf.result : NULL;
	in.spf_temperror = c->have_spf && strcmp(c->spf.result, "temperror") == 0;
	in.dkim_pass_domains = pass_domains;
	in.ndkim_pass = n;
	rc = mp_dmarc_evaluate(v->dmarc, &in, &c->dmarc, err);
	if (rc != 0) {
		mp_msgrep_problem(rep, sev_for(v, MP_CHECK_DMARC), "DMARC_FAIL",
				  _("DMARC could not be evaluated: %s."), err->msg);
		return;
	}
	c->have_dmarc = true;
}

static void
check_dmarc(struct mp_verifier *v, struct check *c, struct mp_msgrep *rep)
{
	struct mp_rep_dmarc *d;
	enum mp_severity s = sev_for(v, MP_CHECK_DMARC);

	if (!c->have_dmarc)
		return;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return;
	d->from_domain = mp_strdup_z(c->dmarc.from_domain);
	d->org_domain = mp_strdup_z(c->dmarc.org_domain);
	d->record = c->dmarc.record != NULL
			    ? mp_utf8_clean(c->dmarc.record, strlen(c->dmarc.record))
			    : NULL;
	d->policy = mp_strdup_z(mp_dmarc_policy_name(c->dmarc.policy));
	d->result = mp_strdup_z(c->dmarc.result);
	d->spf_aligned = c->dmarc.spf_aligned;
	d->dkim_aligned = c->dmarc.dkim_aligned;
	rep->dmarc = d;

	if (strcmp(c->dmarc.result, "pass") == 0)
		rep->passed |= MP_CHECK_DMARC;
	else if (strcmp(c->dmarc.result, "temperror") == 0) {
		c->temp = true;
		mp_msgrep_problem(rep, MP_SEV_ERROR, "DNS_TEMPORARY", "%s",
				  c->dmarc.message != NULL ? c->dmarc.message
							   : _("The DMARC lookup failed."));
	} else if (strcmp(c->dmarc.result, "none") == 0)
		mp_msgrep_problem(rep, s, "DMARC_MISSING", "%s",
				  c->dmarc.message != NULL ? c->dmarc.message
							   : _("No DMARC record was found."));
	else if (strcmp(c->dmarc.result, "fail") == 0)
		mp_msgrep_problem(rep, s, "DMARC_FAIL",
				  _("DMARC fails for %s: neither SPF nor DKIM passes for a domain "
				    "aligned with it."),
				  rep->from_domain);
	else
		mp_msgrep_problem(
		    rep, s, c->dmarc.problem_code != NULL ? c->dmarc.problem_code : "DMARC_SYNTAX",
		    "%s",
		    c->dmarc.message != NULL ? c->dmarc.message
					     : _("The DMARC record is invalid."));
	if (c->dmarc.policy == MP_DMARC_POLICY_NONE && c->dmarc.record != NULL)
		mp_msgrep_problem(rep, MP_SEV_WARNING, "DMARC_POLICY_NONE",
				  _("The DMARC policy is p=none: receivers deliver failing mail "
				    "anyway, so spoofing is not stopped yet."));
	if (c->dmarc.methods_differ)
		mp_msgrep_problem(
		    rep, MP_SEV_WARNING, "DMARC_DISCOVERY_DIFFERS",
		    _("The RFC 9989 DNS tree walk finds %s (organizational domain %s), "
		      "the Public Suffix List method %s (%s)."),
		    c->dmarc.treewalk_record_name ? c->dmarc.treewalk_record_name : _("no record"),
		    c->dmarc.treewalk_org_domain ? c->dmarc.treewalk_org_domain : "?",
		    c->dmarc.record_name ? c->dmarc.record_name : _("no record"),
		    c->dmarc.org_domain ? c->dmarc.org_domain : "?");
}

/* The domain a receiver's DKIM result is about: header.d, else the domain of header.i. */
static const char *
ar_dkim_domain(const struct mp_ar_result *r)
{
	const char *d = mp_ar_result_prop(r, "header.d"), *at;

	if (d != NULL && *d != '\0')
		return d;
	d = mp_ar_result_prop(r, "header.i");
	if (d != NULL && (at = strrchr(d, '@')) != NULL && at[1] != '\0')
		return at + 1;
	return NULL;
}

static void
receiver_failed(struct mp_verifier *v, struct mp_msgrep *rep, unsigned bit, const char *who,
		const char *method, const char *res, const char *what)
{
	if (v->require & bit)
		rep->passed &= ~bit;
	mp_msgrep_problem(rep, sev_for(v, bit), "RECEIVER_FAIL",
			  _("The receiver (%s) reports %s=%s%s%s."), who, method, res,
			  what != NULL ? _(" for d=") : "", what != NULL ? what : "");
}

static void
receiver_temp(struct mp_msgrep *rep, const char *who, const char *method)
{
	mp_msgrep_problem(rep, MP_SEV_WARNING, "RECEIVER_TEMPERROR",
			  _("The receiver (%s) could not finish its %s check (temperror: a DNS "
			    "lookup failed on its side); if this repeats, check the domain's name "
			    "servers."),
			  who, method);
}

/*
 * SPF and DMARC: the receiver's one result per method ("pass" if any of its results
 * passed) against ours.
 */
static void
compare_one(struct mp_verifier *v, const struct check *c, struct mp_msgrep *rep,
	    const char *method, unsigned bit, const char *ours)
{
	const char *theirs = NULL, *res;
	size_t i, j, at = 0;

	for (i = 0; i < c->nar; i++) {
		if (!c->ar_trusted[i])
			continue;
		for (j = 0; j < c->ar[i]->nresults; j++) {
			if (strcmp(c->ar[i]->results[j].method, method) != 0)
				continue;
			res = norm_result(c->ar[i]->results[j].result);
			if (theirs == NULL || (strcmp(res, "pass") == 0 &&
					       strcmp(theirs, "pass") != 0)) {
				theirs = res;
				at = i;
			}
		}
	}
	if (theirs == NULL)
		return;
	if (is_failure(theirs))
		receiver_failed(v, rep, bit, ar_name(c, at), method, theirs, NULL);
	else if (strcmp(theirs, "temperror") == 0)
		receiver_temp(rep, ar_name(c, at), method);
	/* our own temperror is reported as DNS_TEMPORARY already */
	if (ours != NULL && strcmp(ours, theirs) != 0 && strcmp(ours, "temperror") != 0)
		mp_msgrep_problem(rep, MP_SEV_WARNING, "RECEIVER_DISAGREES",
				  _("The receiver (%s) reports %s=%s, mailproof finds %s."),
				  ar_name(c, at), method, theirs, ours);
}

/*
 * DKIM, signature by signature: a message often carries several (the customer's and the
 * platform's, or a mailing list's), and only one aligned with From has to pass.  The
 * receiver fails the check when none of its aligned results passes and one fails.
 */
static void
compare_dkim(struct mp_verifier *v, const struct check *c, struct mp_msgrep *rep)
{
	bool strict = c->have_dmarc && c->dmarc.have_record && c->dmarc.parsed.adkim_strict;
	bool aligned_pass = false, temp = false;
	const char *fail_res = NULL, *fail_dom = NULL, *who = NULL;
	size_t i, j, k;

	for (i = 0; i < c->nar; i++) {
		if (!c->ar_trusted[i])
			continue;
		for (j = 0; j < c->ar[i]->nresults; j++) {
			const struct mp_ar_result *r = &c->ar[i]->results[j];
			const char *res = norm_result(r->result), *dom = ar_dkim_domain(r);
			const char *sel = mp_ar_result_prop(r, "header.s");
			bool aligned, theirs_pass = strcmp(res, "pass") == 0, found = false;
			bool ours_pass = false, ours_temp = false;

			if (strcmp(r->method, "dkim") != 0)
				continue;
			aligned = dom == NULL ||
				  (rep->from_domain != NULL &&
				   mp_dmarc_aligned(v->dmarc, dom, rep->from_domain, strict));
			if (theirs_pass && aligned)
				aligned_pass = true;
			if (is_failure(res) && aligned && fail_res == NULL) {
				fail_res = res;
				fail_dom = dom;
				who = ar_name(c, i);
			}
			if (strcmp(res, "temperror") == 0 && !temp) {
				temp = true;
				receiver_temp(rep, ar_name(c, i), "dkim");
			}
			if (dom == NULL) {
				if (strcmp(res, "none") == 0 && c->nsigs > 0)
					mp_msgrep_problem(
					    rep, MP_SEV_WARNING, "RECEIVER_DISAGREES",
					    _("The receiver (%s) reports dkim=none (no "
					      "signature), mailproof finds %zu."),
					    ar_name(c, i), c->nsigs);
				continue;
			}
			for (k = 0; k < c->nsigs; k++) {
				const struct mp_dkim_sig *g = &c->sigs[k];

				if (g->domain == NULL || !mp_ieq_z(g->domain, dom) ||
				    (sel != NULL && !mp_ieq_z(g->selector, sel)))
					continue;
				found = true;
				ours_pass = ours_pass || strcmp(g->result, "pass") == 0;
				ours_temp = ours_temp || strcmp(g->result, "temperror") == 0;
			}
			if (found && ours_pass != theirs_pass && (ours_pass || !ours_temp))
				mp_msgrep_problem(rep, MP_SEV_WARNING, "RECEIVER_DISAGREES",
						  _("The receiver (%s) reports dkim=%s for d=%s, "
						    "mailproof finds %s."),
						  ar_name(c, i), res, dom,
						  ours_pass ? "pass" : _("no passing signature"));
		}
	}
	if (!aligned_pass && fail_res != NULL)
		receiver_failed(v, rep, MP_CHECK_DKIM, who, "dkim", fail_res,
				fail_dom);
}

/* The receiver's view decides where the mail lands: a trusted fail fails the check;
 * any disagreement with our own result is reported. */
static void
compare_receiver(struct mp_verifier *v, struct check *c, struct mp_msgrep *rep)
{
	compare_one(v, c, rep, "spf", MP_CHECK_SPF, rep->spf != NULL ? rep->spf->result : NULL);
	compare_dkim(v, c, rep);
	compare_one(v, c, rep, "dmarc", MP_CHECK_DMARC,
		    rep->dmarc != NULL ? rep->dmarc->result : NULL);
}

/*
 * When our SPF fails for the hop that handed the message over, an intermediary that
 * found spf=pass earlier (its ARC-Authentication-Results or Authentication-Results,
 * not trusted as the receiver's) means the message was forwarded: say so, since no
 * SPF record can fix that.
 */
static void
forward_hint(const struct check *c, struct mp_msgrep *rep)
{
	const struct mp_field *f;
	struct mp_authres *ar = NULL;
	struct mp_err err = {0};
	char *via = NULL, *arc_i = NULL;
	const char *p, *e;
	size_t i, j, n = mp_headers_count(c->hdrs);

	if (!c->have_spf || strcmp(c->spf.result, "pass") == 0 ||
	    strcmp(c->spf.result, "temperror") == 0)
		return;
	/* only what was written after the message left the sender's side */
	for (i = 0; i < n && i < c->outside && via == NULL; i++) {
		f = mp_headers_at(c->hdrs, i);
		if (!mp_ieq(f->name, f->name_len, "ARC-Authentication-Results"))
			continue;
			/* "i=N; authserv-id; results": the instance, then an ordinary value */
		p = memchr(f->value, ';', f->value_len);
		if (p == NULL)
			continue;
		if (mp_authres_parse(p + 1, f->value_len - (size_t)(p + 1 - f->value), &ar, &err) !=
		    0)
			break;
		for (j = 0; ar->error == NULL && ar->authserv_id != NULL && j < ar->nresults; j++)
			if (strcmp(ar->results[j].method, "spf") == 0 &&
			    strcmp(ar->results[j].result, "pass") == 0) {
				bool ours = false;
				size_t k;

				for (k = 0; k < c->nar; k++)
					ours = ours || (c->ar_trusted[k] &&
							mp_ieq_z(c->ar_host[k], ar->authserv_id));
				if (!ours) {
					via = mp_domain_norm(ar->authserv_id);
					e = f->value;
					while (e < p && (*e == ' ' || *e == '\t' || *e == '\r' ||
							 *e == '\n'))
						e++;
					arc_i = mp_strndup(e, (size_t)(p - e));
				}
				break;
			}
		mp_authres_free(ar);
		ar = NULL;
	}
	for (i = 0; i < c->nar && via == NULL; i++) {
		if (c->ar_trusted[i] || c->ar[i]->error != NULL || c->ar_host[i] == NULL ||
		    c->ar_pos[i] >= c->outside)
			continue;
		for (j = 0; j < c->ar[i]->nresults; j++)
			if (strcmp(c->ar[i]->results[j].method, "spf") == 0 &&
			    strcmp(c->ar[i]->results[j].result, "pass") == 0) {
				via = mp_strdup_z(c->ar_host[i]);
				break;
			}
	}
	if (via != NULL)
		mp_msgrep_problem(
		    rep, MP_SEV_WARNING, "FORWARDED",
		    _("The message was forwarded: %s%s%s%s found spf=pass, then passed it on from "
		      "%s. SPF cannot pass after forwarding without rewriting the envelope "
		      "sender (SRS), and the SPF record of %s should not list the forwarder; "
		      "DMARC %s. For the test, send to a mailbox that receives the message "
		      "directly."),
		    via, arc_i != NULL ? " (ARC " : "", arc_i != NULL ? arc_i : "",
		    arc_i != NULL ? ")" : "",
		    c->client_ip != NULL ? c->client_ip : _("another host"),
		    c->spf.domain != NULL ? c->spf.domain : _("the sender's domain"),
		    c->have_dmarc && strcmp(c->dmarc.result, "pass") == 0
			? _("still passes through the aligned DKIM signature")
			: _("then depends on an aligned DKIM signature, and none passes"));
	free(via);
	free(arc_i);
}

static void
fill_envelope(struct check *c, struct mp_msgrep *rep)
{
	char *dom;

	if (c->env_from == NULL)
		return;
	dom = strchr(c->env_from, '@') != NULL ? mp_addr_domain(c->env_from)
					       : mp_domain_norm(c->env_from);
	rep->env_address = mp_utf8_clean(c->env_from, strlen(c->env_from));
	rep->env_domain = dom;
}

/* ---- the Received chain for the report ------------------------------------------------ */

/* Case-insensitive search for the C string needle in (h, n). */
static bool
has_ci(const char *h, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; k <= n && i <= n - k; i++)
		if (mp_ieq(h + i, k, needle))
			return true;
	return false;
}

/* Whether a hop used TLS: RFC 3848 protocol names (ESMTPS, ESMTPSA, LMTPS, UTF8SMTPS, ...)
 * or the comments Postfix ("using TLSv1.3"), sendmail and Gmail ("version=TLS1_3"),
 * Exchange ("version=TLS1_2") and Exim ("(TLS1.3) tls") write. */
static bool
hop_tls(const struct mp_received *r, const char *raw, size_t n)
{
	static const char *const tls_with[] = {"ESMTPS",     "ESMTPSA",    "LMTPS",
					       "LMTPSA",     "UTF8SMTPS",  "UTF8SMTPSA",
					       "UTF8LMTPS",  "UTF8LMTPSA", "SMTPS",
					       "HTTPS"};
	size_t i;

	for (i = 0; r->with != NULL && i < sizeof(tls_with) / sizeof(tls_with[0]); i++)
		if (mp_ieq_z(r->with, tls_with[i]))
			return true;
	return has_ci(raw, n, "using TLS") || has_ci(raw, n, "version=TLS") ||
	       has_ci(raw, n, "(TLS1") || has_ci(raw, n, " tls TLS_");
}

static char *
dup_clean(const char *s)
{
	return s != NULL ? mp_utf8_clean(s, strlen(s)) : NULL;
}

/* Copies the Received chain into the report, oldest hop first, with the time each hop
 * took, and the delivery time from the Date field to the receiver's arrival hop. */
static int
fill_hops(const struct check *c, struct mp_msgrep *rep)
{
	struct mp_rep_hop *h;
	const struct mp_field *f;
	size_t k, n;
	int64_t sent;
	char *u;

	if (c->nhops == 0)
		return 0;
	if ((rep->hops = calloc(c->nhops, sizeof(*rep->hops))) == NULL)
		return MP_ENOMEM;
	rep->nhops = c->nhops;
	for (k = 0; k < c->nhops; k++) {
		const struct mp_received *r = &c->hops[c->nhops - 1 - k];

		h = &rep->hops[k];
		h->from = dup_clean(r->from_rdns != NULL ? r->from_rdns : r->from_helo);
		h->from_ip = dup_clean(r->from_ip);
		h->by = dup_clean(r->by_host);
		h->with = dup_clean(r->with);
		h->date = dup_clean(r->date);
		h->receiver = c->have_pick && c->pick == c->nhops - 1 - k;
		f = mp_headers_at(c->hdrs, c->hop_pos[c->nhops - 1 - k]);
		if (f != NULL && (u = mp_hdr_unfold(f->value, f->value_len, &n)) != NULL) {
			h->tls = hop_tls(r, u, n);
			free(u);
		}
		if (r->date != NULL && mp_date_parse(r->date, strlen(r->date), &h->time) == 0)
			h->have_time = true;
		if (k > 0 && h->have_time && rep->hops[k - 1].have_time) {
			h->have_delay = true;
			h->delay = (double)(h->time - rep->hops[k - 1].time);
		}
	}
	/* Negative: the sender's clock is ahead; that is no delivery time. */
	if (c->have_pick && (u = field_value(c->hdrs, "Date", 0)) != NULL) {
		h = &rep->hops[c->nhops - 1 - c->pick];
		if (h->have_time && mp_date_parse(u, strlen(u), &sent) == 0 && h->time >= sent)
			rep->delivery_seconds = (double)(h->time - sent);
		free(u);
	}
	return 0;
}

int
mp_verifier_check(struct mp_verifier *v, struct mp_msg *msg, struct mp_msgrep *rep,
		  struct mp_err *err)
{
	struct check c;
	int rc;

	memset(&c, 0, sizeof(c));
	rep->source = mp_strdup_z(mp_msg_source(msg));
	rep->checked = v->require & ~(unsigned)MP_CHECK_PLACEMENT;
	if ((c.hdrs = mp_msg_headers(msg)) == NULL) {
		mp_msgrep_problem(rep, MP_SEV_ERROR, "MESSAGE_MALFORMED",
				  _("The header section cannot be read."));
		rep->pass = false;
		rc = 0;
		goto out;
	}
	read_identity(&c, rep);
	read_received(v, &c);
	read_authres(v, &c, rep);
	fill_ar(&c, rep);
	if ((rc = read_provider(v, &c, rep)) != 0) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	if ((rc = run_dkim(v, &c, msg, err)) != 0) {
		if (rc == MP_ENOMEM)
			goto out;
		if (rc == MP_ETOOBIG) {
			/* hundreds of signatures: a message built to exhaust the verifier */
			mp_msgrep_problem(rep, MP_SEV_ERROR, "MESSAGE_MALFORMED",
					  _("The message has more than %d DKIM-Signature fields; "
					    "it was not checked."),
					  MP_DKIM_MAX_FIELDS);
			rep->pass = false;
			rc = 0;
			goto out;
		}
		mp_msgrep_problem(rep, MP_SEV_ERROR, "MESSAGE_UNREADABLE",
				  _("The message could not be read to its end: %s."), err->msg);
		rc = MP_EIO;
		rep->pass = false;
		goto out;
	}
	find_envelope(&c);
	fill_envelope(&c, rep);
	find_client(v, &c);
	run_spf(v, &c, rep, err);
	run_dmarc(v, &c, rep, err);
	check_spf(v, &c, rep);
	check_dkim(v, &c, rep);
	check_dmarc(v, &c, rep);
	compare_receiver(v, &c, rep);
	forward_hint(&c, rep);
	rep->pass = (rep->passed & rep->checked) == rep->checked;
	rc = c.temp ? MP_ETEMP : 0;
	if (fill_hops(&c, rep) != 0)
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
out:
	check_dispose(&c);
	v->labels = NULL;
	v->nlabels = 0;
	return rc;
}
