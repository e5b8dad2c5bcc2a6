/*
 * msg.h - message sources: one message file, standard input, an mbox or a Maildir.
 *
 * A source hands out one message at a time: its header section (at most
 * MP_HDR_MAX_BLOCK bytes, parsed with hdr.h) and then its body as a stream of chunks,
 * both with CRLF line ends.  The body is never held whole: memory stays flat for a
 * 100 MB message or a 10,000-message mbox.  The source owns the current message.
 */
#ifndef MP_MSG_H
#define MP_MSG_H

#include <stddef.h>

#include "error.h"
#include "hdr.h"

#define MP_MSG_READ_BUF (64 * 1024)		    /* input buffer of a source */
#define MP_MSG_CHUNK_MAX (2 * MP_MSG_READ_BUF + 16) /* largest body chunk handed out */

struct mp_msgsrc;
struct mp_msg;

/*
 * Opens path: "-" is standard input; a regular file whose first line starts with
 * "From " is an mbox, any other regular file one message; a directory with cur/ and/or
 * new/ is a Maildir (messages of new/ then cur/, each in file-name order; tmp/ and
 * dot files ignored).  Errors: MP_ENOTFOUND (no such file), MP_EIO (unreadable),
 * MP_EINVAL (anything else: "not a message file, mbox or Maildir"), MP_ENOMEM.
 */
int mp_msgsrc_open(struct mp_msgsrc **out, const char *path, struct mp_err *err);

/*
 * Moves to the next message (skipping what is left of the current body).  Returns 1
 * and sets *msg (valid until the next call) when there is one, 0 at the end, and a
 * negative code when this message is bad (header section over a bound, no header
 * field, an mbox ending inside the header section, a Maildir file gone): *msg is still
 * set so that the caller can name it, and the next call goes on with the next message.
 * A read error of the source itself (MP_EIO) ends an mbox or standard input (the next
 * call returns 0) but only the one file of a Maildir.
 */
int mp_msgsrc_next(struct mp_msgsrc *s, struct mp_msg **msg, struct mp_err *err);
void mp_msgsrc_free(struct mp_msgsrc *s);

/* "path", "path:N" for the Nth (1-based) message of an mbox, the file path of a Maildir
 * message, "-" or "-:N" for standard input. */
const char *mp_msg_source(const struct mp_msg *m);
/* The header section in CRLF form, without the empty line that ends it. */
const char *mp_msg_header_block(const struct mp_msg *m, size_t *len);
/* The parsed header section; NULL when the message is bad. */
const struct mp_headers *mp_msg_headers(const struct mp_msg *m);

/*
 * Next body chunk (at most MP_MSG_CHUNK_MAX bytes, valid until the next call): line ends
 * normalized to CRLF (a bare LF becomes CRLF, a bare CR stays), mboxrd unescaping done
 * (">From " loses one '>').  Returns 1 with a chunk, 0 at the end of the body, negative
 * on a read error.  The caller may stop early.
 */
int mp_msg_body_read(struct mp_msg *m, const char **chunk, size_t *len, struct mp_err *err);

#endif
