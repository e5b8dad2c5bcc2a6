/*
 * dmarc.h - DMARC: organizational domain, record discovery, record parsing, alignment
 * and the DMARC result of one message (RFC 7489; the DNS tree walk of RFC 9989 too).
 *
 * struct mp_dmarc holds the Public Suffix List (libpsl) and borrows a resolver; it is
 * reused for many messages.  Records and results are caller-owned plain structs
 * released with their _dispose.  Domains are compared in lower-case A-label form
 * (IDNA via libidn2), at most 253 octets; a record is at most MP_DMARC_RECORD_MAX bytes.
 */
#ifndef MP_DMARC_H
#define MP_DMARC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "resolver.h"

#define MP_DMARC_RECORD_MAX 8192 /* longest TXT record parsed */
#define MP_DMARC_URI_MAX 32	 /* most URIs accepted in one rua= or ruf= list */

enum mp_dmarc_policy {
	MP_DMARC_POLICY_UNSET = 0, /* tag absent */
	MP_DMARC_POLICY_NONE,
	MP_DMARC_POLICY_QUARANTINE,
	MP_DMARC_POLICY_REJECT,
};

/* psd= of RFC 9989 section 4.7. */
enum mp_dmarc_psd {
	MP_DMARC_PSD_U = 0, /* default: not said */
	MP_DMARC_PSD_Y,	    /* this is a public suffix domain */
	MP_DMARC_PSD_N,	    /* this is an organizational domain */
};

/* A parsed DMARC record.  Absent tags keep the defaults given here. */
struct mp_dmarc_record {
	enum mp_dmarc_policy p;	 /* always set after a successful parse */
	enum mp_dmarc_policy sp; /* UNSET: p applies to subdomains */
	enum mp_dmarc_policy np; /* UNSET: sp (else p) applies to non-existent subdomains */
	bool adkim_strict;	 /* adkim=s (default r) */
	bool aspf_strict;	 /* aspf=s (default r) */
	int pct;		 /* 0..100, default 100 (RFC 7489 only; not applied) */
	uint32_t ri;		 /* default 86400 */
	enum mp_dmarc_psd psd;
	bool testing; /* t=y (RFC 9989) */
	char *fo;     /* NULL or the fo= value as written (validated) */
	char **rua;   /* the URIs of rua=, trimmed, as written ("mailto:a@b!10m") */
	size_t nrua;
	char **ruf;
	size_t nruf;
};

/* Input of one evaluation.  Domains as found in the message (any case, trailing dot). */
struct mp_dmarc_eval_in {
	const char *from_domain; /* RFC5322.From domain; required */
	const char *spf_domain;	 /* MAIL FROM domain, else HELO; may be NULL */
	const char *spf_result;	 /* the inspector's SPF result ("pass", ...); may be NULL */
	const char *const *dkim_pass_domains; /* d= of every signature that verified */
	size_t ndkim_pass;
	bool dkim_temperror; /* a signature could not be checked (DNS) */
	bool spf_temperror;  /* SPF could not be evaluated (DNS) */
};

/* Result of one evaluation.  Every string is malloc'd or NULL. */
struct mp_dmarc_eval {
	char *from_domain;  /* lower case, A-label, no trailing dot */
	char *org_domain;   /* RFC 7489 section 3.2 via the PSL; NULL for a public suffix */
	char *record;	    /* the raw TXT record applied (or rejected as invalid), or NULL */
	char *record_name;  /* "_dmarc.klant.nl": where the record(s) were found, or NULL */
	bool record_at_org; /* found at the organizational domain, not at the From domain */
	bool have_record;   /* `parsed` holds the valid record */
	struct mp_dmarc_record parsed;
	enum mp_dmarc_policy policy; /* p; sp for a subdomain when found at the org domain;
				      * np when that subdomain does not exist (RFC 9989) */
	char *result;		     /* "pass", "fail", "none", "temperror", "permerror" */
	bool spf_aligned;	     /* SPF passed and its domain is aligned (counts for DMARC) */
	bool dkim_aligned;	     /* a verified signature's d= is aligned */
	/* The RFC 9989 DNS tree walk, run beside the RFC 7489 discovery above. */
	char *treewalk_record_name; /* the record it would apply, or NULL */
	char *treewalk_org_domain;  /* its organizational domain, NULL when it found no record */
	bool treewalk_temperror;    /* a lookup of the walk failed: its fields are NULL */
	bool methods_differ;	    /* the walk found another record or org domain */
	char *treewalk_note;	    /* plain words when methods_differ, else NULL */
	char *problem_code;	    /* NULL, "DMARC_MISSING", "DMARC_MULTIPLE", "DMARC_SYNTAX",
				     * "DMARC_POLICY_NONE" (a warning) or "DNS_TEMPORARY" */
	char *message;		    /* plain words for a person */
};

struct mp_dmarc;

/* `res` is borrowed and must outlive the context.  Loads the newest PSL (psl_latest). */
int mp_dmarc_new(struct mp_dmarc **out, struct mp_resolver *res, struct mp_err *err);
void mp_dmarc_free(struct mp_dmarc *d);

/*
 * Organizational domain of RFC 7489 section 3.2 (public suffix plus one label), lower
 * case, A-label, without trailing dot; malloc'd.  NULL when `domain` is itself a public
 * suffix, is not a valid domain name, or memory runs out.
 */
char *mp_dmarc_org_domain(struct mp_dmarc *d, const char *domain);

/*
 * Identifier alignment (RFC 7489 section 3.1).  Strict: equal, ignoring case, one
 * trailing dot and U-label/A-label spelling.  Relaxed: strictly aligned, or both have
 * the same organizational domain.  NULL or invalid names are never aligned.
 */
bool mp_dmarc_aligned(struct mp_dmarc *d, const char *a, const char *b, bool strict);

/*
 * Parses a DMARC record (RFC 7489 section 6.3/6.4, with the psd=, np= and t= tags of
 * RFC 9989).  v=DMARC1 must come first; p= is required (a checker insists on it, even
 * though receivers may treat a record without p= but with rua= as p=none); the other
 * tags may come in any order; tag names and keyword values are case-insensitive;
 * unknown tags are ignored; a repeated tag is an error.  Returns 0, MP_EPARSE or
 * MP_ETOOBIG with the reason in err, or MP_ENOMEM.  `out` is always disposable.
 */
int mp_dmarc_record_parse(const char *txt, size_t len, struct mp_dmarc_record *out,
			  struct mp_err *err);
void mp_dmarc_record_dispose(struct mp_dmarc_record *r);

/* "none", "quarantine", "reject", or NULL for MP_DMARC_POLICY_UNSET. */
const char *mp_dmarc_policy_name(enum mp_dmarc_policy p);

/*
 * Evaluates DMARC for one message.  Discovery follows RFC 7489 section 6.6.3: the TXT
 * records at _dmarc.<From domain>, else at _dmarc.<organizational domain>; TXT records
 * not starting with v=DMARC1 are ignored.  Outcomes:
 *   pass/fail   a valid record; pass = aligned SPF pass or aligned DKIM pass.  When not
 *               passing and SPF or DKIM had a temporary error, the result is temperror.
 *   none        no record (DMARC_MISSING).
 *   temperror   a DMARC lookup failed (DNS_TEMPORARY); never reported as none.
 *   permerror   two or more v=DMARC1 records at one name (DMARC_MULTIPLE), or an
 *               invalid record (DMARC_SYNTAX).  RFC 7489 lets a receiver ignore an invalid
 *               record; this tool reports it as an error because the customer must fix it.
 *               An invalid record does not send discovery on to the org domain.  A From
 *               domain that is not a valid domain name is also permerror (no code).
 * A valid record with the applicable policy none adds DMARC_POLICY_NONE.  A temperror
 * caused by SPF or DKIM has no problem code here (those modules report the DNS error).
 * The RFC 9989 tree walk (section 4.10) then queries _dmarc.<name> from the From domain
 * up to and including its TLD, at most eight names (a name of eight or more labels
 * jumps to its last seven), stopping at a record with psd=y or psd=n; methods_differ
 * compares the record that applies and, when the walk found one, the org domain.
 * Returns 0 whatever the DMARC result, or a negative code (memory, resolver misuse);
 * dispose `out` in every case.
 */
int mp_dmarc_evaluate(struct mp_dmarc *d, const struct mp_dmarc_eval_in *in,
		      struct mp_dmarc_eval *out, struct mp_err *err);
void mp_dmarc_eval_dispose(struct mp_dmarc_eval *e);

#endif
