/*
 * find.h - finding the test message in a mailbox and verifying it (`imap` command).
 *
 * Searches INBOX, every junk folder and the named folders server-side for the test id
 * (or Message-ID, or the newest message from an address), waits for it with IDLE on
 * every folder at once until the deadline, reconnects whatever connection drops, and
 * hands each message found to the verifier and the report; --all fetches whole folders
 * in batches on a second thread while the first verifies.
 */
#ifndef MP_FIND_H
#define MP_FIND_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "imap.h"
#include "report.h"
#include "verify.h"

struct mp_find_opts {
	struct mp_imap_opts imap;
	const char *test_id;    /* X-Mailproof-Test-Id to look for */
	const char *message_id; /* or this Message-ID ("<...>") */
	const char *from;       /* or the newest message from this address */
	const char *receipt;    /* mailproof-send's receipt: its "time" starts the delivery time */
	const char *const *folders; /* extra folders to search */
	size_t nfolders;
	unsigned wait_s;  /* how long to wait for the message */
	bool all;         /* verify every message of the folders instead */
	bool progress;    /* show progress on stderr (a terminal) */
	unsigned require; /* mp_check bits; placement is judged here */
};

enum mp_find_outcome {
	MP_FIND_CHECKED = 0, /* the message(s) were verified and reported */
	MP_FIND_NOT_FOUND,   /* the deadline passed */
};

/*
 * Runs the search and verification.  Returns 0 with *outcome set, and *failed set when
 * a reported message failed its checks and *temp when a DNS lookup failed; or a negative
 * code for operational errors (network, TLS, login), err saying which.
 */
int mp_find_run(const struct mp_find_opts *o, struct mp_verifier *ver, struct mp_report *rep,
		enum mp_find_outcome *outcome, bool *failed, bool *temp, struct mp_err *err);

#endif
