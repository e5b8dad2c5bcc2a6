/*
 * report.h - the verification report of one message and its three renderings.
 *
 * struct mp_msgrep is a plain, caller-owned record of what was found (strings are
 * malloc'd and released by mp_msgrep_dispose).  The writers stream: a run opens a
 * report, adds one message at a time and closes it, so memory does not grow with the
 * number of messages.  JSON follows SPEC.md schema "mailproof/report-1" exactly.
 */
#ifndef MP_REPORT_H
#define MP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

enum mp_severity { MP_SEV_ERROR = 0, MP_SEV_WARNING };

struct mp_problem {
	char *code;    /* "SPF_NOT_ALIGNED" */
	enum mp_severity severity;
	char *message; /* plain words: what happened and what to do */
};

struct mp_kv {
	char *key;
	char *value;
};

struct mp_rep_arres {
	char *method, *result, *reason;
	size_t nprops;
	struct mp_kv *props;
};

struct mp_rep_ar {
	char *authserv_id; /* NULL: none written (Microsoft 365) */
	bool trusted;
	char *error; /* NULL, or why the header is unparsable */
	size_t nresults;
	struct mp_rep_arres *results;
};

struct mp_rep_dkim {
	char *domain, *selector, *algorithm, *result, *error;
	bool aligned, testing;
	unsigned key_bits; /* 0: unknown (null in JSON) */
};

struct mp_rep_spf {
	char *client_ip, *helo, *mail_from, *domain, *result;
	bool aligned;
};

struct mp_rep_dmarc {
	char *from_domain, *org_domain, *record, *policy, *result;
	bool spf_aligned, dkim_aligned;
};

/* One Received hop; the report lists them oldest first (the reverse of header order). */
struct mp_rep_hop {
	char *from;    /* the sender as the receiver named it (reverse DNS, else HELO) */
	char *from_ip;
	char *by;
	char *with;
	char *date;    /* as written */
	bool tls;      /* ESMTPS and friends, or a TLS comment ("using TLSv1.3", "version=TLS1_2") */
	bool receiver; /* the hop that handed the message to the receiving organisation */
	bool have_time;
	int64_t time;  /* seconds since the epoch, UTC */
	bool have_delay;
	double delay;  /* seconds since the hop before (negative: the clocks disagree) */
};

/* What the mailbox provider itself concluded about spam (Microsoft's anti-spam headers,
 * Gmail's labels), when it wrote something mailproof trusts (docs/deviations.md). */
struct mp_rep_provider {
	char *provider; /* "m365" | "gmail" */
	bool spam;	/* the provider classed the message as spam */
	char *verdict;	/* Microsoft's SFV ("NSPM", "SPM"), or NULL */
	char *category; /* Microsoft's CAT, or NULL */
	int scl, bcl;	/* Microsoft's levels; below -1: not written */
	size_t nlabels;
	char **labels; /* Gmail's X-GM-LABELS */
};

/* Checks a run can require (--require). */
enum mp_check { MP_CHECK_SPF = 1, MP_CHECK_DKIM = 2, MP_CHECK_DMARC = 4, MP_CHECK_PLACEMENT = 8 };

struct mp_msgrep {
	char *source;
	char *folder;            /* NULL outside IMAP */
	double delivery_seconds; /* < 0: unknown */
	char *message_id, *test_id, *subject;
	char *from_address, *from_domain; /* both NULL: no usable From */
	char *env_address, *env_domain;
	size_t nar;
	struct mp_rep_ar *ar;
	size_t ndkim;
	struct mp_rep_dkim *dkim;
	struct mp_rep_spf *spf;     /* NULL: not evaluated */
	struct mp_rep_dmarc *dmarc; /* NULL: not evaluated */
	size_t nhops;
	struct mp_rep_hop *hops;    /* Received chain, oldest first */
	struct mp_rep_provider *provider; /* NULL: no trusted provider spam verdict */
	unsigned checked;           /* mp_check bits that were required */
	unsigned passed;            /* mp_check bits that passed */
	bool pass;                  /* verdict */
	size_t nproblems;
	struct mp_problem *problems;
};

void mp_msgrep_init(struct mp_msgrep *m);
void mp_msgrep_dispose(struct mp_msgrep *m);
/* Adds a problem; the message is printf-formatted.  Returns 0 or MP_ENOMEM. */
int mp_msgrep_problem(struct mp_msgrep *m, enum mp_severity sev, const char *code,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
bool mp_msgrep_has_problem(const struct mp_msgrep *m, const char *code);

/* Writes untrusted text into XML or HTML (content or a quoted attribute): cleaned to
 * UTF-8, markup characters escaped, characters XML forbids replaced. */
void mp_put_markup(FILE *fp, const char *s);

/* What a person should do about a problem code; NULL when there is nothing to add. */
const char *mp_problem_advice(const char *code);

enum mp_format { MP_FMT_TEXT = 0, MP_FMT_JSON, MP_FMT_JUNIT, MP_FMT_HTML };

struct mp_report_opts {
	enum mp_format format;
	const char *tool;    /* "mailproof-inspect" */
	const char *version;
	bool color;          /* text only; decided by the caller (terminal, NO_COLOR) */
	bool quiet;          /* text: only the headline per message */
};

struct mp_report;
int mp_report_open(struct mp_report **out, FILE *fp, const struct mp_report_opts *opts,
		   struct mp_err *err);
int mp_report_add(struct mp_report *r, const struct mp_msgrep *m, struct mp_err *err);
/* Writes the closing part and frees r; returns MP_EIO when the output failed. */
int mp_report_close(struct mp_report *r, struct mp_err *err);

#endif
