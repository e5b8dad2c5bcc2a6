/*
 * hdr.h - RFC 5322 header section: fields, unfolding, address lists, RFC 2047 words.
 *
 * mp_headers_parse() copies a header section once and hands out (pointer, length)
 * views into that copy; they live until mp_headers_free().  Everything is bounded
 * (MP_HDR_MAX_*), keeps NUL and 8-bit bytes, and never trusts the input.  The other
 * helpers return malloc'd strings the caller frees.
 */
#ifndef MP_HDR_H
#define MP_HDR_H

#include <stddef.h>

#include "error.h"

#define MP_HDR_MAX_FIELD (100 * 1024)  /* one field, name and folds included */
#define MP_HDR_MAX_BLOCK (1024 * 1024) /* the whole header section */
#define MP_HDR_MAX_FIELDS 1000	       /* number of fields */

struct mp_field {
	const char *name; /* as written, without the colon or WSP before it */
	size_t name_len;
	const char *raw; /* "Name: value" with internal folds, without the final CRLF (DKIM) */
	size_t raw_len;
	const char *value; /* everything after the colon, still folded */
	size_t value_len;
};

struct mp_headers;

/*
 * Splits a header section (up to, not including, the empty line; CRLF or LF line ends)
 * into fields.  Tolerant like real MTAs: a line that is neither a field nor a
 * continuation (no colon, a name outside RFC 5322 ftext, a continuation with no field
 * before it) is skipped together with its continuations and counted
 * (mp_headers_junk()).  Errors: MP_ETOOBIG when the section, a field or the number of
 * fields exceeds its bound (the message says which); MP_EPARSE when a non-empty
 * section holds no field at all (binary junk); MP_ENOMEM.
 */
int mp_headers_parse(struct mp_headers **out, const char *block, size_t len, struct mp_err *err);
size_t mp_headers_count(const struct mp_headers *h);
/* Fields top to bottom; NULL when i is out of range. */
const struct mp_field *mp_headers_at(const struct mp_headers *h, size_t i);
/* The nth (0-based, top to bottom) field called name (ASCII case-insensitive), or NULL. */
const struct mp_field *mp_headers_find(const struct mp_headers *h, const char *name, size_t nth);
size_t mp_headers_count_named(const struct mp_headers *h, const char *name);
/* Number of lines skipped as junk (see mp_headers_parse). */
size_t mp_headers_junk(const struct mp_headers *h);
void mp_headers_free(struct mp_headers *h);

/*
 * Unfolds a field value (RFC 5322 2.2.3): a CRLF, LF or CR followed by WSP is removed,
 * any other line break becomes one space, leading and trailing WSP is trimmed.  Bytes
 * are otherwise kept (no charset handling), except NUL, which becomes U+FFFD so that
 * the result is a proper C string.  Returns a malloc'd string (outlen, if not NULL,
 * gets its length), NULL when out of memory.
 */
char *mp_hdr_unfold(const char *v, size_t n, size_t *outlen);

/*
 * Text of an unstructured value or display name for people: unfolded, RFC 2047
 * encoded-words (B and Q, any charset glibc iconv knows) decoded, the whitespace
 * between adjacent encoded-words dropped (RFC 2047 6.2).  Always valid UTF-8: invalid
 * bytes and NUL become U+FFFD.  An encoded-word that cannot be decoded (bad base64,
 * unknown charset) stays as written (RFC 2047 6.3).  Control characters are kept:
 * escape for the output.  malloc'd; NULL when out of memory.
 */
char *mp_hdr_decode(const char *v, size_t n);

struct mp_mailbox {
	char *display; /* decoded display name, or NULL */
	char *address; /* addr-spec without angle brackets, comments and folding */
	char *domain;  /* lower case (ASCII), no trailing dot; NULL if none.  Not IDNA-converted */
};

/*
 * Parses an RFC 5322 3.4 address list (From, Sender, To, Cc, Reply-To): display names
 * with quoted strings, comments and encoded-words, angle-addr (obs-route skipped),
 * bare addr-spec, groups ("undisclosed-recipients:;" gives no mailbox), "<>" (empty
 * address).  Fills out[0..max) and sets *count to the number of mailboxes, even beyond
 * max.  On error nothing is left in out and *count is 0: MP_EPARSE (the message says
 * where), MP_ENOMEM.  Dispose each filled entry with mp_mailbox_dispose().
 */
int mp_hdr_mailboxes(const char *v, size_t n, struct mp_mailbox *out, size_t max, size_t *count,
		     struct mp_err *err);
void mp_mailbox_dispose(struct mp_mailbox *m);

/* The "<id-left@id-right>" of a Message-ID style value (RFC 5322 3.6.4), comments and
 * folding around it ignored; NULL when there is none or it holds whitespace. */
char *mp_hdr_msgid(const char *v, size_t n);

#endif
