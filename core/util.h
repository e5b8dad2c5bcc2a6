/*
 * util.h - small string helpers shared by the core modules.
 *
 * All returned strings are malloc'd and NUL-terminated; NULL means out of memory
 * (or, where said, no result).  Inputs are (pointer, length) unless they end in _z.
 */
#ifndef MP_UTIL_H
#define MP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

char *mp_strndup(const char *s, size_t n);
char *mp_strdup_z(const char *s);
/* ASCII lower-casing in place; returns s. */
char *mp_lower(char *s);
/* ASCII case-insensitive equality of (a, an) and the C string b. */
bool mp_ieq(const char *a, size_t an, const char *b);
/* ASCII case-insensitive equality of two C strings; NULLs equal only each other. */
bool mp_ieq_z(const char *a, const char *b);
/* Domain of an address: the part after the last '@', lower case, without a trailing dot;
 * NULL when there is no '@' or nothing after it. */
char *mp_addr_domain(const char *addr);
/* Copy of a domain name, lower case, without one trailing dot. */
char *mp_domain_norm(const char *dom);
/* Trims ASCII whitespace at both ends of (s, *n); returns the new start. */
const char *mp_trim(const char *s, size_t *n);
/* Copy of (s, n) that is valid UTF-8: every invalid or overlong sequence, surrogate
 * and NUL byte becomes U+FFFD.  Reports print only sanitized text. */
char *mp_utf8_clean(const char *s, size_t n);
/* Length of the valid UTF-8 sequence at s (1-4), or 0 if the bytes there are invalid. */
size_t mp_utf8_seqlen(const unsigned char *s, size_t n);
/* Writes (s, n) terminal-safe: control characters (C0, DEL, C1) never reach a terminal
 * as they are (they could move the cursor or change colours): a tab becomes a space, the
 * others '?'; invalid UTF-8 becomes U+FFFD. */
void mp_put_safe(FILE *fp, const char *s, size_t n);
/* One diagnostic line on stderr, "prog: message", the message written with mp_put_safe:
 * file names and error details can carry bytes from the input. */
void mp_diag(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* RFC 5322 section 3.3 date-time (with the obsolete forms of section 4.3: two-digit
 * years, zone names, missing seconds; comments skipped) to seconds since the epoch, UTC.
 * (s, n) is at most 256 bytes.  Returns 0, or MP_EPARSE for anything else. */
int mp_date_parse(const char *s, size_t n, int64_t *out);
/* Free a string that may hold a secret: wipe first. */
void mp_free_secret(char *s);

#endif
