/* hdr.c - see hdr.h. */
#include "hdr.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "i18n.h"
#include "util.h"

struct mp_headers {
	char *data; /* owned copy of the block; fields point into it */
	size_t len;
	struct mp_field *fields;
	size_t nfields;
	size_t cap;
	size_t junk;
};

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 3.6.8: ftext = %d33-57 / %d59-126 */
static bool
is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* End of the line starting at p: the index just past its CRLF or LF (or n). */
static size_t
line_end(const char *s, size_t n, size_t i)
{
	const char *nl = memchr(s + i, '\n', n - i);

	return nl != NULL ? (size_t)(nl - s) + 1 : n;
}

/* Length of the line content without its CRLF / LF. */
static size_t
content_len(const char *s, size_t from, size_t to)
{
	if (to > from && s[to - 1] == '\n') {
		to--;
		if (to > from && s[to - 1] == '\r')
			to--;
	}
	return to - from;
}

static int
add_field(struct mp_headers *h, size_t start, size_t end, size_t colon, size_t name_end,
	  struct mp_err *err)
{
	struct mp_field *f, *nf;
	size_t ncap;

	if (h->nfields >= MP_HDR_MAX_FIELDS)
		return mp_err_set(err, MP_ETOOBIG, _("more than %d header fields"),
				  MP_HDR_MAX_FIELDS);
	if (end - start > MP_HDR_MAX_FIELD)
		return mp_err_set(err, MP_ETOOBIG, _("header field %.*s longer than %d bytes"),
				  (int)(name_end - start > 64 ? 64 : name_end - start),
				  h->data + start, MP_HDR_MAX_FIELD);
	if (h->nfields == h->cap) {
		ncap = h->cap ? h->cap * 2 : 32;
		if (ncap > MP_HDR_MAX_FIELDS)
			ncap = MP_HDR_MAX_FIELDS;
		nf = realloc(h->fields, ncap * sizeof(*nf));
		if (nf == NULL)
			return mp_err_set(err, MP_ENOMEM, _("out of memory"));
		h->fields = nf;
		h->cap = ncap;
	}
	f = &h->fields[h->nfields++];
	f->name = h->data + start;
	f->name_len = name_end - start;
	f->raw = h->data + start;
	f->raw_len = end - start;
	f->value = h->data + colon + 1;
	f->value_len = end - colon - 1;
	return 0;
}

/*
 * A field line is "name WSP* : ..." with name made of ftext (RFC 5322 2.2, 3.6.8; the
 * WSP before the colon is obs-optional, 4.5.2).  Returns true and the colon and
 * name-end indexes when the line is one.
 */
static bool
field_line(const char *s, size_t from, size_t to, size_t *colon, size_t *name_end)
{
	size_t i = from, ne;

	while (i < to && is_ftext((unsigned char)s[i]))
		i++;
	ne = i;
	while (i < to && is_wsp(s[i]))
		i++;
	if (ne == from || i >= to || s[i] != ':')
		return false;
	*colon = i;
	*name_end = ne;
	return true;
}

int
mp_headers_parse(struct mp_headers **out, const char *block, size_t len, struct mp_err *err)
{
	struct mp_headers *h = NULL;
	size_t i, le, start = 0, end = 0, colon = 0, name_end = 0;
	bool open = false, junk = false;
	int rc = 0;

	*out = NULL;
	if (len > MP_HDR_MAX_BLOCK) {
		rc = mp_err_set(err, MP_ETOOBIG, _("header section larger than %d bytes"),
				MP_HDR_MAX_BLOCK);
		goto out;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL || (h->data = mp_strndup(block, len)) == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	h->len = len;
	for (i = 0; i < len; i = le) {
		le = line_end(h->data, len, i);
		if (is_wsp(h->data[i])) {
			/* RFC 5322 2.2.3: a continuation of the field (or junk) above. */
			if (open)
				end = i + content_len(h->data, i, le);
			else if (!junk) {
				h->junk++;
				junk = true;
			}
			continue;
		}
		if (open && (rc = add_field(h, start, end, colon, name_end, err)) != 0)
			goto out;
		open = false;
		junk = false;
		if (content_len(h->data, i, le) == 0)
			continue; /* a stray empty line: nothing to keep */
		if (field_line(h->data, i, le, &colon, &name_end)) {
			open = true;
			start = i;
			end = i + content_len(h->data, i, le);
		} else {
			h->junk++;
			junk = true;
		}
	}
	if (open && (rc = add_field(h, start, end, colon, name_end, err)) != 0)
		goto out;
	if (h->nfields == 0 && h->junk > 0) {
		rc = mp_err_set(err, MP_EPARSE, _("no header field in the header section"));
		goto out;
	}
	*out = h;
	h = NULL;
out:
	mp_headers_free(h);
	return rc;
}

size_t
mp_headers_count(const struct mp_headers *h)
{
	return h != NULL ? h->nfields : 0;
}

const struct mp_field *
mp_headers_at(const struct mp_headers *h, size_t i)
{
	return h != NULL && i < h->nfields ? &h->fields[i] : NULL;
}

const struct mp_field *
mp_headers_find(const struct mp_headers *h, const char *name, size_t nth)
{
	size_t i;

	for (i = 0; h != NULL && i < h->nfields; i++)
		if (mp_ieq(h->fields[i].name, h->fields[i].name_len, name) && nth-- == 0)
			return &h->fields[i];
	return NULL;
}

size_t
mp_headers_count_named(const struct mp_headers *h, const char *name)
{
	size_t i, c = 0;

	for (i = 0; h != NULL && i < h->nfields; i++)
		if (mp_ieq(h->fields[i].name, h->fields[i].name_len, name))
			c++;
	return c;
}

size_t
mp_headers_junk(const struct mp_headers *h)
{
	return h != NULL ? h->junk : 0;
}

void
mp_headers_free(struct mp_headers *h)
{
	if (h == NULL)
		return;
	free(h->data);
	free(h->fields);
	free(h);
}

/* ---- unfolding ---- */

/* Output bound for a transformation of n input bytes that may grow each byte to at most
 * k bytes; 0 on overflow. */
static size_t
out_max(size_t n, size_t k)
{
	if (n > (SIZE_MAX - 64) / k)
		return 0;
	return n * k + 64;
}

static int
unfold_into(struct mp_buf *b, const char *v, size_t n)
{
	size_t i, end;
	int rc = 0;

	v = mp_trim(v, &n);
	for (i = 0; i < n && rc == 0; i++) {
		if (v[i] == '\r' || v[i] == '\n') {
			if (v[i] == '\r' && i + 1 < n && v[i + 1] == '\n')
				i++;
			end = i + 1;
			/* RFC 5322 2.2.3: CRLF before WSP is removed; a lone break is not a fold,
			 * but a line break never reaches the output. */
			if (end < n && is_wsp(v[end]))
				continue;
			rc = mp_buf_addc(b, ' ');
		} else if (v[i] == '\0') {
			rc = mp_buf_add(b, replacement, 3);
		} else {
			rc = mp_buf_addc(b, v[i]);
		}
	}
	return rc;
}

char *
mp_hdr_unfold(const char *v, size_t n, size_t *outlen)
{
	struct mp_buf b;
	char *s = NULL;
	size_t max = out_max(n, 3);

	mp_buf_init(&b, max);
	if (max != 0 && unfold_into(&b, v, n) == 0)
		s = mp_buf_detach(&b, outlen);
	mp_buf_dispose(&b);
	return s;
}

/* ---- UTF-8 and RFC 2047 ---- */

/* Length of the valid UTF-8 sequence at s (RFC 3629 4), 0 if none. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return s[0] != 0 ? 1 : 0;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/* Appends (p, n) as valid UTF-8: every byte that does not start a valid sequence (and
 * NUL) becomes U+FFFD. */
static int
add_utf8(struct mp_buf *b, const char *p, size_t n)
{
	size_t i = 0, k;
	int rc = 0;

	while (i < n && rc == 0) {
		k = utf8_seq((const unsigned char *)p + i, n - i);
		if (k == 0) {
			rc = mp_buf_add(b, replacement, 3);
			i++;
		} else {
			rc = mp_buf_add(b, p + i, k);
			i += k;
		}
	}
	return rc;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* RFC 2047 4.1 / RFC 4648 4.  Padding may be missing (common); anything else that is not
 * base64 makes the word undecodable. */
static bool
b64_decode(struct mp_buf *b, const char *s, size_t n)
{
	uint32_t acc = 0;
	size_t i, bits = 0, pad = 0, nchar = 0;
	int v;

	for (i = 0; i < n; i++) {
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64val((unsigned char)s[i])) < 0)
			return false;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		nchar++;
		if (bits >= 8) {
			bits -= 8;
			if (mp_buf_addc(b, (char)((acc >> bits) & 0xFF)) != 0)
				return false;
		}
	}
	/* one lone sextet cannot encode a byte; more than two pads is not base64 */
	return nchar % 4 != 1 && pad <= 2;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 2047 4.2: "_" is a space, "=XX" a byte; a broken "=" is kept as it is. */
static bool
q_decode(struct mp_buf *b, const char *s, size_t n)
{
	size_t i;
	int hi, lo, rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		if (s[i] == '_') {
			rc = mp_buf_addc(b, ' ');
		} else if (s[i] == '=' && i + 2 < n &&
			   (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
			   (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			rc = mp_buf_addc(b, (char)(hi * 16 + lo));
			i += 2;
		} else {
			rc = mp_buf_addc(b, s[i]);
		}
	}
	return rc == 0;
}

/* A charset name we are willing to hand to iconv_open: short, no path characters. */
static bool
charset_ok(const char *cs, size_t n)
{
	size_t i;

	if (n == 0 || n > 40)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)cs[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':' || c == '+'))
			return false;
	}
	return true;
}

static bool
charset_is_utf8(const char *cs)
{
	return mp_ieq_z(cs, "utf-8") || mp_ieq_z(cs, "utf8") || mp_ieq_z(cs, "us-ascii") ||
	       mp_ieq_z(cs, "ascii");
}

/* Converts (p, n) from charset cs to UTF-8 and appends it.  Returns 1 on success,
 * 0 when the charset is unknown, negative on a buffer error. */
static int
convert(struct mp_buf *b, const char *cs, const char *p, size_t n)
{
	iconv_t cd;
	char tmp[1024], *in = (char *)p, *o;
	size_t inleft = n, oleft, r;
	int rc = 1;

	if (charset_is_utf8(cs))
		return add_utf8(b, p, n) == 0 ? 1 : -1;
	if ((cd = iconv_open("UTF-8", cs)) == (iconv_t)-1)
		return 0;
	while (rc == 1) {
		o = tmp;
		oleft = sizeof(tmp);
		if (inleft > 0)
			r = iconv(cd, &in, &inleft, &o, &oleft);
		else
			r = iconv(cd, NULL, NULL, &o, &oleft); /* flush a stateful charset */
		if (add_utf8(b, tmp, sizeof(tmp) - oleft) != 0) {
			rc = -1;
			break;
		}
		if (r != (size_t)-1) {
			if (inleft == 0)
				break;
			continue;
		}
		if (errno == E2BIG)
			continue;
		if (mp_buf_add(b, replacement, 3) != 0)
			rc = -1;
		if (errno == EILSEQ && inleft > 0) {
			in++;
			inleft--;
		} else {
			break; /* EINVAL: truncated sequence at the end */
		}
	}
	iconv_close(cd);
	return rc;
}

struct ew {
	size_t end;  /* index just past "?=" */
	char cs[48]; /* charset, RFC 2231 language removed */
	char enc;    /* 'B' or 'Q' */
	const char *text;
	size_t text_len;
};

/* RFC 2047 2: "=?" charset "?" encoding "?" encoded-text "?=", no whitespace inside. */
static bool
ew_scan(const char *s, size_t n, size_t i, struct ew *w)
{
	size_t cs, cse, t;

	if (i + 2 > n || s[i] != '=' || s[i + 1] != '?')
		return false;
	cs = i + 2;
	for (cse = cs; cse < n && s[cse] != '?'; cse++)
		if (is_wsp(s[cse]))
			return false;
	if (cse + 3 > n || s[cse + 2] != '?')
		return false;
	w->enc = (char)(s[cse + 1] & ~0x20);
	if (w->enc != 'B' && w->enc != 'Q')
		return false;
	for (t = cse + 3; t < n && s[t] != '?'; t++)
		if (is_wsp(s[t]))
			return false;
	if (t + 2 > n || s[t + 1] != '=')
		return false;
	w->text = s + cse + 3;
	w->text_len = t - (cse + 3);
	w->end = t + 2;
	/* RFC 2231 5: charset "*" language */
	{
		const char *star = memchr(s + cs, '*', cse - cs);
		size_t cl = star != NULL ? (size_t)(star - (s + cs)) : cse - cs;

		if (!charset_ok(s + cs, cl))
			return false;
		memcpy(w->cs, s + cs, cl);
		w->cs[cl] = '\0';
	}
	return true;
}

/*
 * Decoded bytes of adjacent encoded-words in one charset are converted together, so a
 * character split across two words (seen in the wild, against RFC 2047 5) survives.
 */
struct pend {
	struct mp_buf bytes;
	char cs[48];
	const char *lit; /* the words as written, for an unknown charset */
	size_t lit_len;
};

static int
pend_flush(struct mp_buf *b, struct pend *p)
{
	int rc = 0, r;

	if (p->cs[0] == '\0')
		return 0;
	r = convert(b, p->cs, p->bytes.data != NULL ? p->bytes.data : "", p->bytes.len);
	if (r < 0)
		rc = MP_ENOMEM;
	else if (r == 0)
		rc = add_utf8(b, p->lit, p->lit_len); /* RFC 2047 6.3: show it as written */
	mp_buf_reset(&p->bytes);
	p->cs[0] = '\0';
	return rc;
}

static int
decode_into(struct mp_buf *b, const char *s, size_t n)
{
	struct pend p;
	struct ew w;
	size_t i, raw = 0, k, mark;
	bool after_ew = false, ok, ws_only;
	int rc = 0;

	mp_buf_init(&p.bytes, n + 16);
	p.cs[0] = '\0';
	p.lit = NULL;
	p.lit_len = 0;
	for (i = 0; i < n && rc == 0;) {
		if (s[i] != '=' || !ew_scan(s, n, i, &w)) {
			i++;
			continue;
		}
		ws_only = true;
		for (k = raw; k < i; k++)
			if (!is_wsp(s[k]))
				ws_only = false;
		/* RFC 2047 6.2: whitespace between adjacent encoded-words is dropped */
		if (!(after_ew && ws_only)) {
			if ((rc = pend_flush(b, &p)) != 0 ||
			    (rc = add_utf8(b, s + raw, i - raw)) != 0)
				break;
		}
		if (p.cs[0] != '\0' && !mp_ieq_z(p.cs, w.cs) && (rc = pend_flush(b, &p)) != 0)
			break;
		mark = p.bytes.len;
		ok = w.enc == 'B' ? b64_decode(&p.bytes, w.text, w.text_len)
				  : q_decode(&p.bytes, w.text, w.text_len);
		if (!ok) {
			/* undecodable word: literal text, and it ends the run of words */
			p.bytes.len = mark;
			if ((rc = pend_flush(b, &p)) != 0 ||
			    (rc = add_utf8(b, s + i, w.end - i)) != 0)
				break;
			after_ew = false;
		} else {
			if (p.cs[0] == '\0') {
				memcpy(p.cs, w.cs, sizeof(p.cs));
				p.lit = s + i;
			}
			p.lit_len = (size_t)(s + w.end - p.lit);
			after_ew = true;
		}
		i = raw = w.end;
	}
	if (rc == 0 && (rc = pend_flush(b, &p)) == 0)
		rc = add_utf8(b, s + raw, n - raw);
	mp_buf_dispose(&p.bytes);
	return rc;
}

char *
mp_hdr_decode(const char *v, size_t n)
{
	struct mp_buf b;
	char *u = NULL, *s = NULL;
	size_t ulen = 0, max;

	if ((u = mp_hdr_unfold(v, n, &ulen)) == NULL)
		goto out;
	/* a byte may become up to 3 (U+FFFD) or, through iconv, a few code points */
	if ((max = out_max(ulen, 8)) == 0)
		goto out;
	mp_buf_init(&b, max);
	if (decode_into(&b, u, ulen) == 0)
		s = mp_buf_detach(&b, NULL);
	mp_buf_dispose(&b);
out:
	free(u);
	return s;
}

/* ---- RFC 5322 3.4 address lists ---- */

struct cur {
	const char *s;
	size_t n, i;
};

/* RFC 5322 3.2.3 atext, plus 8-bit bytes (RFC 6532 3.2) */
static bool
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80)
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* RFC 5322 3.2.2 CFWS, comments nest; returns false on an unclosed comment.  *had is
 * set when anything was skipped. */
static bool
skip_cfws(struct cur *c, bool *had)
{
	size_t depth;

	if (had != NULL)
		*had = false;
	while (c->i < c->n) {
		char ch = c->s[c->i];

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			c->i++;
		} else if (ch == '(') {
			depth = 1;
			c->i++;
			while (c->i < c->n && depth > 0) {
				ch = c->s[c->i++];
				if (ch == '\\' && c->i < c->n)
					c->i++;
				else if (ch == '(')
					depth++;
				else if (ch == ')')
					depth--;
			}
			if (depth > 0)
				return false;
		} else {
			break;
		}
		if (had != NULL)
			*had = true;
	}
	return true;
}

/* RFC 5322 3.2.4 quoted-string at c->i (on the DQUOTE).  Appends the unescaped content
 * to content and the string as written to raw (either may be NULL). */
static bool
quoted(struct cur *c, struct mp_buf *content, struct mp_buf *raw)
{
	size_t start = c->i;
	int rc = 0;

	c->i++;
	while (c->i < c->n && c->s[c->i] != '"' && rc == 0) {
		if (c->s[c->i] == '\\' && c->i + 1 < c->n)
			c->i++;
		if (content != NULL)
			rc = mp_buf_addc(content, c->s[c->i]);
		c->i++;
	}
	if (c->i >= c->n || rc != 0)
		return false;
	c->i++;
	return raw == NULL || mp_buf_add(raw, c->s + start, c->i - start) == 0;
}

/*
 * A phrase or a local-part: words (atoms, quoted strings) and dots, CFWS between them
 * (obs-phrase, obs-local-part: RFC 5322 4.1, 4.4).  disp gets the display form (a space
 * where CFWS was), raw the words without CFWS; *words counts the words, *local tells
 * whether the sequence can be a local-part (no two words without a dot between).
 */
static int
phrase(struct cur *c, struct mp_buf *disp, struct mp_buf *raw, size_t *words, bool *local)
{
	bool gap = false, last_word = false;
	size_t st;
	int rc = 0;

	*words = 0;
	*local = true;
	for (;;) {
		if (!skip_cfws(c, &gap))
			return MP_EPARSE;
		if (c->i >= c->n)
			break;
		if (gap && disp->len > 0 && (rc = mp_buf_addc(disp, ' ')) != 0)
			return rc;
		if (c->s[c->i] == '"') {
			if (!quoted(c, disp, raw))
				return MP_EPARSE;
			if (last_word)
				*local = false;
			last_word = true;
			(*words)++;
		} else if (c->s[c->i] == '.') {
			if ((rc = mp_buf_addc(disp, '.')) != 0 || (rc = mp_buf_addc(raw, '.')) != 0)
				return rc;
			c->i++;
			last_word = false;
		} else if (is_atext((unsigned char)c->s[c->i])) {
			st = c->i;
			while (c->i < c->n && is_atext((unsigned char)c->s[c->i]))
				c->i++;
			if ((rc = mp_buf_add(disp, c->s + st, c->i - st)) != 0 ||
			    (rc = mp_buf_add(raw, c->s + st, c->i - st)) != 0)
				return rc;
			if (last_word)
				*local = false;
			last_word = true;
			(*words)++;
		} else {
			break;
		}
	}
	return 0;
}

/* RFC 5322 3.4.1 domain: dot-atom or domain-literal, CFWS allowed around parts
 * (obs-domain).  Appends it without CFWS to raw. */
static int
domain(struct cur *c, struct mp_buf *raw)
{
	size_t st, before = raw->len;
	int rc = 0;

	for (;;) {
		if (!skip_cfws(c, NULL))
			return MP_EPARSE;
		if (c->i >= c->n)
			break;
		if (c->s[c->i] == '[') {
			st = c->i;
			while (c->i < c->n && c->s[c->i] != ']') {
				if (c->s[c->i] == '\\' && c->i + 1 < c->n)
					c->i++;
				c->i++;
			}
			if (c->i >= c->n)
				return MP_EPARSE;
			c->i++;
			rc = mp_buf_add(raw, c->s + st, c->i - st);
		} else if (c->s[c->i] == '.' || is_atext((unsigned char)c->s[c->i])) {
			st = c->i;
			while (c->i < c->n &&
			       (c->s[c->i] == '.' || is_atext((unsigned char)c->s[c->i])))
				c->i++;
			rc = mp_buf_add(raw, c->s + st, c->i - st);
		} else {
			break;
		}
		if (rc != 0)
			return rc;
	}
	return raw->len > before ? 0 : MP_EPARSE;
}

static int
mailbox_set(struct mp_mailbox *m, const struct mp_buf *disp, const struct mp_buf *addr, size_t at)
{
	size_t dl;

	m->display = NULL;
	m->address = NULL;
	m->domain = NULL;
	if (disp->len > 0 && (m->display = mp_hdr_decode(disp->data, disp->len)) == NULL)
		goto fail;
	if (m->display != NULL && m->display[0] == '\0') {
		free(m->display);
		m->display = NULL;
	}
	if ((m->address = mp_strndup(mp_buf_cstr(addr), addr->len)) == NULL)
		goto fail;
	if (at != (size_t)-1) {
		dl = addr->len - at - 1;
		if (dl > 0 && addr->data[addr->len - 1] == '.')
			dl--;
		if ((m->domain = mp_strndup(addr->data + at + 1, dl)) == NULL)
			goto fail;
		mp_lower(m->domain);
	}
	return 0;
fail:
	mp_mailbox_dispose(m);
	return MP_ENOMEM;
}

/* obs-route (RFC 5322 4.4): "@a,@b:" before the addr-spec in an angle-addr */
static bool
skip_route(struct cur *c)
{
	size_t j = c->i;

	if (j >= c->n || c->s[j] != '@')
		return true;
	while (j < c->n && c->s[j] != ':' && c->s[j] != '>')
		j++;
	if (j >= c->n || c->s[j] != ':')
		return false;
	c->i = j + 1;
	return true;
}

/* The angle-addr after '<': fills addr, *at = index of '@' in it or -1. */
static int
angle_addr(struct cur *c, struct mp_buf *addr, size_t *at)
{
	struct mp_buf scratch;
	size_t words;
	bool local;
	int rc;

	*at = (size_t)-1;
	c->i++;
	if (!skip_cfws(c, NULL) || !skip_route(c))
		return MP_EPARSE;
	mp_buf_init(&scratch, c->n + 16);
	rc = phrase(c, &scratch, addr, &words, &local);
	mp_buf_dispose(&scratch);
	if (rc != 0)
		return rc;
	if (c->i < c->n && c->s[c->i] == '@') {
		if (!local || addr->len == 0)
			return MP_EPARSE;
		*at = addr->len;
		c->i++;
		if ((rc = mp_buf_addc(addr, '@')) != 0 || (rc = domain(c, addr)) != 0)
			return rc;
	} else if (!local) {
		return MP_EPARSE;
	}
	if (!skip_cfws(c, NULL) || c->i >= c->n || c->s[c->i] != '>')
		return MP_EPARSE;
	c->i++;
	return 0;
}

int
mp_hdr_mailboxes(const char *v, size_t n, struct mp_mailbox *out, size_t max, size_t *count,
		 struct mp_err *err)
{
	struct cur c;
	struct mp_buf disp, addr;
	struct mp_mailbox tmp;
	char *u = NULL;
	size_t ulen = 0, words, at, cnt = 0, i;
	bool local, in_group = false;
	int rc = 0;

	*count = 0;
	mp_buf_init(&disp, 0);
	mp_buf_init(&addr, 0);
	if ((u = mp_hdr_unfold(v, n, &ulen)) == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	mp_buf_init(&disp, ulen + 16);
	mp_buf_init(&addr, ulen + 16);
	c.s = u;
	c.n = ulen;
	c.i = 0;
	for (;;) {
		if (!skip_cfws(&c, NULL))
			goto bad;
		if (c.i >= c.n)
			break;
		if (c.s[c.i] == ',') { /* obs-addr-list: empty elements */
			c.i++;
			continue;
		}
		if (c.s[c.i] == ';') {
			if (!in_group)
				goto bad;
			in_group = false;
			c.i++;
			continue;
		}
		mp_buf_reset(&disp);
		mp_buf_reset(&addr);
		at = (size_t)-1;
		if ((rc = phrase(&c, &disp, &addr, &words, &local)) == MP_EPARSE)
			goto bad;
		if (rc != 0)
			goto nomem;
		if (c.i < c.n && c.s[c.i] == ':') {
			/* RFC 5322 3.4 group: the name is not a mailbox */
			if (in_group || words == 0)
				goto bad;
			in_group = true;
			c.i++;
			continue;
		}
		if (c.i < c.n && c.s[c.i] == '<') {
			mp_buf_reset(&addr);
			if ((rc = angle_addr(&c, &addr, &at)) == MP_EPARSE)
				goto bad;
			if (rc != 0)
				goto nomem;
		} else if (c.i < c.n && c.s[c.i] == '@') {
			if (!local || addr.len == 0)
				goto bad;
			mp_buf_reset(&disp); /* a bare addr-spec has no display name */
			at = addr.len;
			c.i++;
			if ((rc = mp_buf_addc(&addr, '@')) != 0)
				goto nomem;
			if ((rc = domain(&c, &addr)) == MP_EPARSE)
				goto bad;
			if (rc != 0)
				goto nomem;
		} else if (words > 0 && local) {
			/* a local-part alone ("root"): a mailbox without a domain */
			mp_buf_reset(&disp);
		} else {
			goto bad;
		}
		if (!skip_cfws(&c, NULL))
			goto bad;
		if (c.i < c.n && c.s[c.i] != ',' && !(in_group && c.s[c.i] == ';'))
			goto bad;
		if (cnt < max) {
			if ((rc = mailbox_set(&out[cnt], &disp, &addr, at)) != 0)
				goto nomem;
		} else if ((rc = mailbox_set(&tmp, &disp, &addr, at)) != 0) {
			goto nomem;
		} else {
			mp_mailbox_dispose(&tmp);
		}
		cnt++;
	}
	*count = cnt;
	goto out;
bad:
	if (c.i < c.n)
		rc = mp_err_set(err, MP_EPARSE, _("address list: unexpected '%c' at offset %zu"),
				(unsigned char)c.s[c.i] >= 0x20 && (unsigned char)c.s[c.i] < 0x7F
				    ? c.s[c.i]
				    : '?',
				c.i);
	else
		rc = mp_err_set(err, MP_EPARSE, _("address list: unexpected end"));
	goto fail;
nomem:
	rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
fail:
	for (i = 0; i < cnt && i < max; i++)
		mp_mailbox_dispose(&out[i]);
out:
	mp_buf_dispose(&disp);
	mp_buf_dispose(&addr);
	free(u);
	return rc;
}

void
mp_mailbox_dispose(struct mp_mailbox *m)
{
	if (m == NULL)
		return;
	free(m->display);
	free(m->address);
	free(m->domain);
	m->display = m->address = m->domain = NULL;
}

char *
mp_hdr_msgid(const char *v, size_t n)
{
	struct cur c;
	char *u = NULL, *id = NULL;
	size_t ulen = 0, st, j;

	if ((u = mp_hdr_unfold(v, n, &ulen)) == NULL)
		goto out;
	c.s = u;
	c.n = ulen;
	c.i = 0;
	if (!skip_cfws(&c, NULL) || c.i >= c.n || c.s[c.i] != '<')
		goto out;
	st = c.i;
	for (j = st + 1; j < c.n && c.s[j] != '>'; j++)
		if (is_wsp(c.s[j]) || c.s[j] == '<')
			goto out;
	if (j >= c.n || j == st + 1)
		goto out;
	id = mp_strndup(c.s + st, j + 1 - st);
out:
	free(u);
	return id;
}
