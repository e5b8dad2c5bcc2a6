/*
 * zone.h - RFC 1035 section 5 master-file parser, used by the resolver's zone mode.
 *
 * mp_zone_parse() walks (text, len) and hands every record to a callback; names are
 * lower case without the trailing dot, rdata is in the resolver's mp_dns_rr form and
 * only valid during the call.  Bounded: MP_ZONE_MAX_BYTES of text, MP_ZONE_MAX_LINE
 * bytes per line, MP_ZONE_MAX_RECORDS records, 255-byte TXT strings, 63/253-byte names.
 */
#ifndef MP_ZONE_H
#define MP_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "resolver.h"

#define MP_ZONE_NAME_MAX 253 /* text form without the final dot (255 on the wire) */
#define MP_ZONE_LABEL_MAX 63
#define MP_ZONE_MAX_LINE 65536	   /* bytes in one physical line */
#define MP_ZONE_MAX_RECORDS 262144 /* records in one parse */
#define MP_ZONE_MAX_TOKENS 1024	   /* tokens in one entry (parentheses included) */

/*
 * Called once per record.  `owner` is normalised; rr->data is NUL-terminated and only
 * valid during the call.  SOA records are reported with len 0 (their fields are checked,
 * not kept).  A non-zero return stops the parse and is returned by mp_zone_parse().
 */
typedef int (*mp_zone_cb)(void *arg, const char *owner, const struct mp_dns_rr *rr,
			  struct mp_err *err);

/*
 * Parses master-file text.  `origin` (may be NULL) is the initial $ORIGIN; without one,
 * relative names are taken relative to the root.  `label` names the input in error
 * messages ("zone.txt:12: unknown type FOO"; NULL gives "line 12: ...").
 * Returns 0, MP_EPARSE, MP_ETOOBIG, MP_ENOMEM or the callback's code.
 */
int mp_zone_parse(const char *text, size_t len, const char *origin, const char *label,
		  mp_zone_cb cb, void *arg, struct mp_err *err);

/* Reads a whole zone file (at most MP_ZONE_MAX_BYTES) into a malloc'd, NUL-terminated copy. */
int mp_zone_read_file(const char *path, char **text, size_t *len, struct mp_err *err);

/*
 * Normalises a domain name (n bytes): lower case, one trailing dot dropped, labels of
 * 1..63 printable ASCII bytes, at most 253 bytes.  "." and "" give "" (the root).
 * Writes a NUL-terminated copy into out[MP_ZONE_NAME_MAX + 1]; MP_EPARSE if invalid.
 */
int mp_zone_name_norm(const char *name, size_t n, char *out);

#endif
