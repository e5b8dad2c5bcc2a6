/*
 * spamsig.h - the spam verdicts a mailbox provider leaves on a message.
 *
 * Microsoft 365: X-Forefront-Antispam-Report (SFV, SCL, CAT), X-MS-Exchange-Organization-SCL
 * and X-Microsoft-Antispam (BCL).  Gmail: the X-GM-LABELS its IMAP server returns with a
 * message.  Parsers and the verdict only, on (pointer, length) input of at most
 * MP_SPAMSIG_MAX bytes; which header the provider itself wrote is decided in verify.c.
 */
#ifndef MP_SPAMSIG_H
#define MP_SPAMSIG_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"

struct mp_headers;

#define MP_SPAMSIG_MAX (16 * 1024) /* bytes of one header value looked at */
#define MP_SCL_UNKNOWN (-100)	   /* no SCL / BCL written */
#define MP_SCL_JUNK 5		   /* Microsoft's default: SCL 5 and up goes to Junk Email */

/* X-Forefront-Antispam-Report: "CIP:192.0.2.10;CTRY:NL;LANG:nl;SCL:1;SRV:;IPV:NLI;SFV:NSPM;..." */
struct mp_forefront {
	char sfv[8];  /* spam filter verdict ("SPM", "NSPM", "SKS", ...); "" when absent */
	char cat[16]; /* category ("SPM", "BULK", "PHSH", ...); "" when absent */
	int scl;      /* spam confidence level -1..9, or MP_SCL_UNKNOWN */
};

/*
 * Parses an X-Forefront-Antispam-Report value: ';'-separated NAME:VALUE pairs, names
 * without regard to case.  Unknown names are skipped; an SFV or CAT that is not a plain
 * word or an SCL outside -1..9 is left unknown.  Returns 0, or MP_EPARSE when no pair
 * could be read at all, MP_ETOOBIG past MP_SPAMSIG_MAX.
 */
int mp_forefront_parse(const char *v, size_t n, struct mp_forefront *out);

/* An SCL alone (X-MS-Exchange-Organization-SCL: "-1".."9", white space around it allowed),
 * or BCL:n inside X-Microsoft-Antispam (BCL 0..9).  MP_EPARSE when there is none. */
int mp_scl_parse(const char *v, size_t n, int *out);
int mp_bcl_parse(const char *v, size_t n, int *out);

/* Whether Microsoft classed the message as spam: SFV SPM, SKS, BLK or SKB, or an SCL
 * of MP_SCL_JUNK and more when the SFV is not one of the allow verdicts (SFE, SKA, SKN,
 * SKI, SKQ: safe senders, allow lists, rules, released from quarantine). */
bool mp_forefront_spam(const char *sfv, int scl);

/* A Gmail label: "\Spam" marks spam (system labels start with a backslash). */
bool mp_gmlabel_spam(const char *label);

/*
 * The provider's spam verdict on one message, for the report (*out NULL when there is
 * none to trust).  Gmail's labels (labels not NULL, maybe none: from the IMAP server)
 * decide when given.  Otherwise Microsoft's headers count when receiver_host, the host
 * that took the message over from outside, is under outlook.com, and only those where
 * Microsoft writes them (docs/deviations.md, "Provider spam verdicts"): above index
 * `outside` (the field right below the receiving hop's Received field, where the
 * sender's fields start) or below the first X-MS-Exchange-Organization-* field under
 * it.  *ignored says an X-Forefront-Antispam-Report was left out for its position.
 * Returns 0 or MP_ENOMEM.
 */
int mp_spamsig_read(const struct mp_headers *h, size_t outside, const char *receiver_host,
		    const char *const *labels, size_t nlabels, struct mp_rep_provider **out,
		    bool *ignored);

/*
 * Judges the placement check of an IMAP message (m->checked gets MP_CHECK_PLACEMENT):
 * a junk folder fails it (PLACEMENT_JUNK), and so does a message anywhere else that the
 * provider marked as spam (m->provider; PLACEMENT_PROVIDER_SPAM).  Updates m->pass.
 */
void mp_spamsig_placement(struct mp_msgrep *m, const char *folder, bool junk);

#endif
