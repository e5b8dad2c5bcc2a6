/*
 * received.h - Received (RFC 5321 section 4.4) and Received-SPF (RFC 7208 section 9.1)
 * fields, and the choice of the hop whose client IP and HELO the SPF re-check uses.
 * Parsers take one field value (folded or not) as (pointer, length), at most MP_RECEIVED_MAX
 * bytes, into a caller-owned struct of malloc'd strings that _dispose frees.  Received is
 * free-form: the parser keeps what it recognises and fails only when nothing usable is there.
 */
#ifndef MP_RECEIVED_H
#define MP_RECEIVED_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define MP_RECEIVED_MAX (64u * 1024) /* longest field value accepted (MP_ETOOBIG beyond) */

/*
 * One Received field.  Every member is NULL when the field does not carry it.  IP addresses
 * are canonical text (inet_ntop): "IPv6:" prefixes, brackets and ":port" suffixes are
 * stripped and IPv4-mapped IPv6 addresses become dotted IPv4.
 */
struct mp_received {
	char *from_helo;     /* the name the client gave in EHLO/HELO, as written */
	char *from_rdns;     /* reverse-DNS name the receiver found; NULL when absent or "unknown" */
	char *from_ip;       /* the client's address */
	char *by_host;       /* the receiving host, without a trailing dot */
	char *with;          /* protocol: "ESMTPS", "LMTP", "HTTPS", "Microsoft SMTP Server", ... */
	char *id;            /* the receiver's queue or message id */
	char *envelope_from; /* from an "(envelope-from <x>)" comment (Dovecot LMTP, Exim); "" for <> */
	char *for_addr;      /* the first "for" recipient, without angle brackets */
	char *date;          /* the text after the last ';', whitespace collapsed */
};

/*
 * Parses one Received field value.  Recognised shapes include Postfix, sendmail, Exim,
 * Dovecot and Cyrus LMTP, Gmail, Microsoft 365 / Exchange, qmail and Yahoo ("HELO x" or
 * "EHLO x" comments).  Returns 0, MP_EPARSE when there is neither a from nor a by clause,
 * MP_ETOOBIG, MP_EINVAL or MP_ENOMEM.  *out is initialised first and left empty on error.
 */
int mp_received_parse(const char *v, size_t n, struct mp_received *out, struct mp_err *err);
void mp_received_dispose(struct mp_received *r);

/*
 * One Received-SPF field (RFC 7208 section 9.1): result [comment] key=value; ...
 * result is lower case and one of RFC 7208's words (the pre-RFC "error" and "unknown"
 * become "temperror" and "permerror").  client_ip is canonical text and NULL when the value
 * is not an IP address; when the key is missing it is taken from a "designates IP" comment
 * (Gmail, libspf2, Microsoft), as envelope_from is from "domain of x@y".  The other members
 * are the keys' values as written, quoted strings unquoted; the first of duplicate keys wins.
 */
struct mp_received_spf {
	char *result;
	char *client_ip;
	char *helo;
	char *envelope_from;
	char *receiver;
	char *identity;  /* "mailfrom", "helo", ... */
	char *mechanism;
	char *problem;
};

/* Returns 0, MP_EPARSE (no valid result word), MP_ETOOBIG, MP_EINVAL or MP_ENOMEM. */
int mp_received_spf_parse(const char *v, size_t n, struct mp_received_spf *out,
			  struct mp_err *err);
void mp_received_spf_dispose(struct mp_received_spf *r);

/*
 * Whether host (a by- or from-name) belongs to the receiving organisation, e.g. a wrapper
 * around mp_authserv_id_matches() over the --authserv-id list.
 */
typedef bool (*mp_received_trust_fn)(const char *host, void *arg);

/*
 * Picks the hop that handed the message to the receiving organisation; hops[] are the
 * Received fields top to bottom (hops[0] is the newest).  Sets *index; the SPF client IP is
 * hops[*index].from_ip and the HELO hops[*index].from_helo.
 *
 * Walking from the top:
 * - Internal hops are passed over whoever wrote them: LMTP and local delivery ("with LMTP",
 *   "LMTPA", "local"); hops with no from part written by a host named by an IP address
 *   (Gmail's "by 2002:a05:...  with SMTP"); Microsoft 365 hops between *.prod.outlook.com /
 *   *.protection.outlook.com / *.outlook.office365.com hosts whose from address is absent,
 *   private or Microsoft's (2603:1000::/24, 2a01:111::/32).
 * - Any other hop must be written by a trusted host, or by the host that the hop above
 *   came from when that was inside the organisation; otherwise the chain of trust ends
 *   (fields below it may be forged) and the walk stops.
 * - Such a hop whose sender is trusted itself (its reverse-DNS name; its HELO name only from
 *   a private address) is internal.  One from a loopback, private, link-local or shared
 *   (100.64/10) address is internal too, but the first of those is remembered: it is the
 *   answer when no hop from a public address is found (test set-ups on 127.0.0.x).
 * - The first remaining hop with a from address is the one.
 *
 * trusted == NULL: the organisation is the registrable domain (Public Suffix List) of the
 * topmost by-host that is a name, and every host under it (and the domain itself) is
 * trusted.  Returns 0, MP_ENOTFOUND when no hop qualifies, MP_EINVAL or MP_ENOMEM.
 */
int mp_received_pick(const struct mp_received *hops, size_t n, mp_received_trust_fn trusted,
		     void *arg, size_t *index);

/*
 * The MAIL FROM the organisation recorded: the envelope_from of the topmost hop at or above
 * index that carries one, else NULL.  Return-Path (added at final delivery, RFC 5321 section
 * 4.4) is the better source when the message has one.  The pointer is into hops[].
 */
const char *mp_received_envelope_from(const struct mp_received *hops, size_t n, size_t index);

#endif
