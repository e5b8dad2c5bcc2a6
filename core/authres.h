/*
 * authres.h - parser for Authentication-Results header values (RFC 8601).
 *
 * mp_authres_parse() turns one raw, possibly folded header value into a struct mp_authres
 * that lives in a single allocation: every pointer inside it belongs to that block and is
 * released only by mp_authres_free().  Input is bounded (MP_AR_MAX_LEN bytes, MP_AR_MAX_RESULTS
 * results, MP_AR_MAX_PROPS properties each, comments nested MP_AR_MAX_NEST deep); accepted
 * real-world deviations from RFC 8601 are listed in docs/deviations.md.
 */
#ifndef MP_AUTHRES_H
#define MP_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define MP_AR_MAX_RESULTS 64
#define MP_AR_MAX_PROPS 32
#define MP_AR_MAX_LEN 65536
#define MP_AR_MAX_NEST 32

struct mp_ar_prop {
	/* "ptype.property" in lower case ("header.d", "smtp.mailfrom"); a bare name=value
	 * without ptype that we accept as a deviation (Microsoft's action=none) keeps its name. */
	char *key;
	/* Comments removed, a quoted string unquoted, otherwise as written (an address with a
	 * quoted local part keeps its quotes: "\"a b\"@klant.nl"). */
	char *value;
};

struct mp_ar_result {
	char *method;       /* lower case, without "/version" */
	int method_version; /* 1 when no "/version" was written */
	char *result;       /* lower case, unknown words kept */
	char *reason;       /* NULL, or the reason= value unquoted */
	/* NULL, or the first comment after "method=" in this resinfo, outer parentheses
	 * removed and white space collapsed: "2048-bit key; unprotected". */
	char *comment;
	size_t nprops;
	struct mp_ar_prop *props; /* in the order written */
};

struct mp_authres {
	char *authserv_id; /* NULL when absent (Microsoft 365) or not reached before an error */
	int version;       /* authres-version, 1 when absent */
	bool none;         /* "authserv-id; none" */
	size_t nresults;
	struct mp_ar_result *results;
	/* NULL, or why the header is unparsable: then none is false and there are no results,
	 * so nothing is invented from a broken header. */
	char *error;
};

/*
 * Parses the raw header value after "Authentication-Results:" (value, len), which may be
 * folded with CRLF or LF and may hold NUL or 8-bit bytes.  On success and on any input problem
 * returns 0 and sets *out (the problem is in (*out)->error); returns MP_ENOMEM or MP_EINVAL
 * (NULL out) with *out NULL and err set.  Never reads past len.
 */
int mp_authres_parse(const char *value, size_t len, struct mp_authres **out, struct mp_err *err);

/* Frees what mp_authres_parse() returned; NULL is a no-op.  Do not free the members. */
void mp_authres_free(struct mp_authres *ar);

/* Value of the first property of r whose key equals key (case-insensitive); NULL if absent. */
const char *mp_ar_result_prop(const struct mp_ar_result *r, const char *key);

/*
 * Whether authserv-id id is the one pattern names.  "mx.example" matches exactly (ASCII
 * case-insensitive, one trailing dot ignored on either side).  ".yahoo.com" matches every host
 * strictly under yahoo.com (a.yahoo.com, x.y.yahoo.com) but not yahoo.com itself: list both to
 * trust both.  A NULL or empty id or pattern, or a pattern that is only ".", never matches.
 */
bool mp_authserv_id_matches(const char *id, const char *pattern);

#endif
