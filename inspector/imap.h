/*
 * imap.h - the inspector's IMAP client (the only user of libetpan).
 *
 * Connects with implicit TLS (imaps://) or STARTTLS (imap://, required), verifies the
 * server's certificate chain and host name itself before any credential is sent
 * (libetpan's GnuTLS build verifies nothing), logs in, and reads without changing
 * anything: EXAMINE and BODY.PEEK[] only.  A session is used by one thread at a time
 * (mp_imap_fetch_many fetches on a thread of its own while the caller verifies).
 */
#ifndef MP_IMAP_H
#define MP_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "imap_auth.h"

#define MP_IMAP_MAX_FOLDERS 64
#define MP_IMAP_MAX_UIDS 100000

struct mp_imap_opts {
	const char *url;      /* imaps://HOST[:PORT] or imap://HOST[:PORT] */
	const char *user;
	const char *password; /* never logged */
	enum mp_auth_mech auth;	   /* the login mechanism; AUTO chooses from the capabilities */
	const char *token;	   /* an OAuth 2.0 access token (file, environment); never logged */
	const char *token_command; /* or: run before each login for a fresh token */
	const char *ca_file;  /* NULL: the system's CAs */
	unsigned timeout_s;   /* network timeout per operation; 0 = 30 */
	int verbose;          /* > 0: the dialogue on stderr, without the password */
};

struct mp_imap;

/* Connects, secures, verifies the certificate and logs in (imap_auth.h): with a token
 * command, a rejected token is fetched again and tried once more.  MP_EIO for network,
 * TLS, certificate, token command and authentication failures (err says which). */
int mp_imap_open(struct mp_imap **out, const struct mp_imap_opts *opts, struct mp_err *err);
/* True when this thread's last mp_imap_open failed to reach the server at all (no TCP or
 * TLS session): worth retrying, unlike a refusal.  err's text is translated, so callers ask
 * this instead of matching it. */
bool mp_imap_last_open_unreachable(void);
void mp_imap_close(struct mp_imap *im);

/* The folders to search: INBOX, every SPECIAL-USE \Junk folder, folders whose name is a
 * well-known spam folder in English or Dutch ("Junk", "Junk Email", "Ongewenste e-mail",
 * "[Gmail]/Spam", "INBOX.Junk": mp_provider_junk_name), then `extra`.
 * *is_junk[i] says whether folder i is a junk folder.  Caller frees with
 * mp_imap_folders_free. */
int mp_imap_folders(struct mp_imap *im, const char *const *extra, size_t nextra,
		    char ***names, bool **is_junk, size_t *n, struct mp_err *err);
void mp_imap_folders_free(char **names, bool *is_junk, size_t n);

/* Selects `folder` read-only (EXAMINE) and returns the UIDs of the messages whose header
 * `field` contains `value` (server-side SEARCH); value NULL: every message.  *n may be 0. */
int mp_imap_search(struct mp_imap *im, const char *folder, const char *field, const char *value,
		   uint32_t **uids, size_t *n, struct mp_err *err);

/* A search for mp_imap_query. */
struct mp_imap_query {
	const char *field; /* the header field that holds value */
	const char *value; /* NULL: every message */
	const char *hint;  /* another field that usually holds value too, searched first, as
			    * servers tend to have it cached (Message-ID); NULL: none */
	int64_t since;     /* the message arrived at or after this time (epoch seconds);
			    * mail older than the day before is skipped.  0: unknown */
};

/* mp_imap_search with a hint field and a time the message cannot have arrived before.
 * What the hint finds may be another message: the caller checks, and a second call for
 * the same value searches `field` itself. */
int mp_imap_query(struct mp_imap *im, const char *folder, const struct mp_imap_query *q,
		  uint32_t **uids, size_t *n, struct mp_err *err);

/* Opens `folder` read-only (EXAMINE) afresh, so new messages become visible. */
int mp_imap_examine(struct mp_imap *im, const char *folder, struct mp_err *err);

/* Writes the whole message with that UID of the currently examined folder, as the server
 * sent it (CRLF), to fd.  MP_ENOTFOUND when the message is gone. */
int mp_imap_fetch(struct mp_imap *im, uint32_t uid, int fd, struct mp_err *err);

/* Messages per FETCH command of mp_imap_fetch_many, and the bytes (by RFC822.SIZE) the
 * batches held at once (one verified, the next fetched: half each) may take; a single
 * larger message is fetched on its own. */
#define MP_IMAP_BATCH 100
#define MP_IMAP_BATCH_BYTES (16u * 1024 * 1024)

/* Called with each message of a batch (data valid only during the call). A negative
 * return stops mp_imap_fetch_many, which returns it. */
typedef int (*mp_imap_msg_fn)(uint32_t uid, const char *data, size_t len, void *arg);

/* Fetches the messages with these UIDs from the examined folder, BODY.PEEK[] for many
 * messages per command (one round trip per batch instead of one per message), and
 * hands each to fn, in the order of uids, on the calling thread; the next batch is
 * fetched by a second thread meanwhile.  Messages gone in the meantime are skipped. */
int mp_imap_fetch_many(struct mp_imap *im, const uint32_t *uids, size_t n, mp_imap_msg_fn fn,
		       void *arg, struct mp_err *err);

/* INTERNALDATE (arrival in the mailbox) of a message of the examined folder, as seconds
 * since the epoch.  MP_ENOTFOUND when the message is gone. */
int mp_imap_internaldate(struct mp_imap *im, uint32_t uid, int64_t *t, struct mp_err *err);

/* Whether the server offers IDLE (RFC 2177). */
bool mp_imap_has_idle(const struct mp_imap *im);

/* UIDNEXT of the examined folder as its EXAMINE reported it (0: unknown). */
uint32_t mp_imap_uidnext(const struct mp_imap *im);

/* Sessions one mp_imap_wait_any watches at most, and the longest IDLE before it is
 * renewed (servers may end an IDLE after 30 minutes, RFC 2177; Dovecot warns at 29). */
#define MP_IMAP_WAIT_MAX 16
#define MP_IMAP_IDLE_MAX_MS (25u * 60 * 1000)

/*
 * Waits up to ms (at most MP_IMAP_IDLE_MAX_MS) for new mail in the examined folder of any
 * of the n sessions: IDLE on each at once and poll() over their sockets; it returns as
 * soon as one announces mail or drops, and IDLE has ended on all of them when it returns.
 * Sessions without IDLE or without an examined folder are skipped (with none left it only
 * sleeps).  st[i]: 1 new mail announced, 0 nothing, MP_EIO the connection is lost (close
 * it).  Returns how many announced new mail.
 */
int mp_imap_wait_any(struct mp_imap *const *ims, size_t n, unsigned ms, int *st);

/* mp_imap_wait_any on one session: 1 new mail, 0 timeout, MP_EIO lost (err says so). */
int mp_imap_wait(struct mp_imap *im, unsigned ms, struct mp_err *err);

/* Gmail's labels that decide its spam verdict ("\Spam") on a message of the examined
 * folder, where the server advertises X-GM-EXT-1 (asked with X-GM-RAW, see imap.c):
 * *labels is then a list, maybe empty; elsewhere NULL.  Free with mp_imap_labels_free. */
int mp_imap_labels(struct mp_imap *im, uint32_t uid, char ***labels, size_t *n, struct mp_err *err);
void mp_imap_labels_free(char **labels, size_t n);

/* The same for a whole folder at once (for --all, whose fetching thread owns the session
 * while messages are verified): *asked says whether the server has X-GM-EXT-1, *uids the
 * UIDs labelled \Spam, ascending (caller frees). */
int mp_imap_spam_uids(struct mp_imap *im, bool *asked, uint32_t **uids, size_t *n,
		      struct mp_err *err);

/* UIDVALIDITY of the examined folder (for the report's source URL). */
uint32_t mp_imap_uidvalidity(const struct mp_imap *im);

#endif
