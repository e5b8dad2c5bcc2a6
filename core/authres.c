/*
 * authres.c - see authres.h.
 *
 * A cursor parser over (value, len) for the grammar of RFC 8601 section 2.2.  Strings are
 * written once into a scratch area (on the stack for ordinary headers) as offsets; when the
 * parse ends, one block holding the struct, the arrays and the strings is allocated and the
 * offsets become pointers.  That keeps the cost at one malloc() per header.
 */
#include "authres.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "i18n.h"
#include "util.h"

#define NOSTR UINT32_MAX
#define SMALL_SCRATCH 4096
#define WHY_MAX 160

struct pres {
	uint32_t method;
	uint32_t result;
	uint32_t reason;
	uint32_t comment;
	int mver;
	uint32_t prop0;
	uint32_t nprops;
};

struct pprop {
	uint32_t key;
	uint32_t value;
};

struct parser {
	const char *s;
	size_t len;
	size_t pos;
	char *sb; /* scratch for output strings, addressed by offset */
	size_t sblen;
	size_t sbcap;
	bool sbfull;
	uint32_t id;
	int version;
	bool none;
	size_t nres;
	size_t nprops;
	char why[WHY_MAX];
	struct pres res[MP_AR_MAX_RESULTS];
	struct pprop props[MP_AR_MAX_RESULTS * MP_AR_MAX_PROPS];
};

static int fail_at(struct parser *p, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records why the parse failed (the first reason wins) and returns -1.  Only offsets and
 * ASCII keywords go into the text, never raw input. */
static int
fail_at(struct parser *p, size_t at, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (p->why[0] != '\0')
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	n = strlen(p->why);
	if (n < sizeof(p->why))
		snprintf(p->why + n, sizeof(p->why) - n, _(" at offset %zu"), at);
	return -1;
}

#define fail(p, ...) fail_at((p), (p)->pos, __VA_ARGS__)

/* Keywords quoted in error messages are ASCII letters, digits and '-'; keep them short. */
static int
klen(size_t n)
{
	return n > 32 ? 32 : (int)n;
}

static bool
is_wsp(unsigned char c)
{
	/* Folding (RFC 5322 section 3.2.2): CR and LF count as white space, so CRLF+WSP, bare
	 * LF from saved files and stray line breaks all unfold the same way. */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 2045 token character (authserv-id = value); 8-bit bytes, already checked to be UTF-8,
 * are allowed for internationalized names (RFC 8616). */
static bool
is_tok(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if (c <= 0x20 || c == 0x7f)
		return false;
	switch (c) {
	case '(': case ')': case '<': case '>': case '@': case ',': case ';': case ':':
	case '\\': case '"': case '/': case '[': case ']': case '?': case '=':
		return false;
	default:
		return true;
	}
}

/* Character of an unquoted pvalue.  Stricter than this breaks on real headers: base64
 * header.b values hold '/', '+' and '=', IPv6 addresses hold ':' (docs/deviations.md). */
static bool
is_pchar(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if (c <= 0x20 || c == 0x7f)
		return false;
	return c != '(' && c != ')' && c != ';' && c != '"' && c != '\\';
}

static void
sb_putc(struct parser *p, char c)
{
	/* One byte always stays free for the terminating NUL. */
	if (p->sblen + 1 < p->sbcap)
		p->sb[p->sblen++] = c;
	else
		p->sbfull = true;
}

static uint32_t
sb_end(struct parser *p, uint32_t mark)
{
	if (p->sblen < p->sbcap)
		p->sb[p->sblen++] = '\0';
	else
		p->sbfull = true;
	return mark;
}

/* Appends the input bytes [start, start + n). */
static void
sb_span(struct parser *p, size_t start, size_t n)
{
	if (n < p->sbcap - p->sblen) {
		memcpy(p->sb + p->sblen, p->s + start, n);
		p->sblen += n;
	} else {
		p->sbfull = true;
	}
}

static uint32_t
emit_lower(struct parser *p, size_t start, size_t n, bool terminate)
{
	uint32_t mark = (uint32_t)p->sblen;
	const char *in = p->s + start;
	char *o;
	size_t i;

	if (n >= p->sbcap - p->sblen) {
		p->sbfull = true;
		return mark;
	}
	/* Locals, not p->..., in the loop: stores through char * may alias the parser. */
	o = p->sb + p->sblen;
	for (i = 0; i < n; i++) {
		char c = in[i];

		o[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	p->sblen += n;
	return terminate ? sb_end(p, mark) : mark;
}

/* Rejects NUL, control characters other than HTAB/CR/LF, and bytes that are not UTF-8
 * (RFC 3629 section 4: no overlong forms, no surrogates, nothing above U+10FFFF). */
static int
check_bytes(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->s;
	size_t i = 0, k, n;

	while (i < p->len) {
		unsigned char c, lo = 0x80, hi = 0xbf;

		/* Fast path: eight bytes at a time while they are printable ASCII (no byte with
		 * the high bit, below 0x20 or equal to 0x7f). */
		while (p->len - i >= 8) {
			uint64_t x;

			memcpy(&x, s + i, 8);
			if (((x | ((x - 0x2020202020202020ULL) | ((x ^ 0x7f7f7f7f7f7f7f7fULL) -
								     0x0101010101010101ULL))) &
			     0x8080808080808080ULL) != 0)
				break;
			i += 8;
		}
		if (i >= p->len)
			break;
		c = s[i];
		if (c < 0x80) {
			if (c == 0)
				return fail_at(p, i, _("NUL byte"));
			if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
				return fail_at(p, i, _("control character"));
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return fail_at(p, i, _("byte that is not UTF-8"));
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (n >= p->len - i)
			return fail_at(p, i, _("truncated UTF-8 sequence"));
		for (k = 1; k <= n; k++) {
			if (s[i + k] < lo || s[i + k] > hi)
				return fail_at(p, i, _("byte that is not UTF-8"));
			lo = 0x80;
			hi = 0xbf;
		}
		i += n + 1;
	}
	return 0;
}

/*
 * comment = "(" *([FWS] ccontent) [FWS] ")", ccontent = ctext / quoted-pair / comment
 * (RFC 5322 section 3.2.2).  With cap, the text inside the outer parentheses is saved with
 * quoted-pairs resolved and white space runs collapsed to one space.
 */
static int
comment(struct parser *p, uint32_t *cap)
{
	const unsigned char *s = (const unsigned char *)p->s;
	size_t start = p->pos, pos = p->pos, len = p->len;
	uint32_t mark = (uint32_t)p->sblen;
	/* Output through locals: one byte stays free for the NUL, as in sb_putc(). */
	char *o = p->sb + p->sblen, *oend = p->sb + p->sbcap - 1;
	int depth = 0;
	bool space = false, any = false;

	while (pos < len) {
		unsigned char c = s[pos];

		if (c == '\\') {
			if (pos + 1 >= len)
				break;
			c = s[pos + 1];
			pos += 2;
			if (is_wsp(c)) {
				space = true;
				continue;
			}
		} else if (c == '(') {
			if (++depth > MP_AR_MAX_NEST)
				return fail_at(p, pos, _("comments nested deeper than %d"),
					       MP_AR_MAX_NEST);
			pos++;
			if (depth == 1)
				continue;
		} else if (c == ')') {
			pos++;
			if (--depth == 0)
				break;
		} else if (is_wsp(c)) {
			space = true;
			pos++;
			continue;
		} else if (cap != NULL) {
			/* A run of ordinary comment text goes over in one copy. */
			size_t run = pos + 1;

			while (run < len && s[run] != '\\' && s[run] != '(' && s[run] != ')' &&
			       !is_wsp(s[run]))
				run++;
			if (space && any) {
				if (o < oend)
					*o++ = ' ';
				else
					p->sbfull = true;
			}
			if (run - pos < (size_t)(oend - o)) {
				memcpy(o, s + pos, run - pos);
				o += run - pos;
			} else {
				p->sbfull = true;
			}
			pos = run;
			space = false;
			any = true;
			continue;
		} else {
			pos++;
		}
		if (cap != NULL) {
			if (space && any) {
				if (o < oend)
					*o++ = ' ';
				else
					p->sbfull = true;
			}
			if (o < oend)
				*o++ = (char)c;
			else
				p->sbfull = true;
			any = true;
		}
		space = false;
	}
	if (depth != 0)
		return fail_at(p, start, _("unterminated comment"));
	p->pos = pos;
	if (cap != NULL) {
		p->sblen = (size_t)(o - p->sb);
		if (any)
			*cap = sb_end(p, mark);
		else
			p->sblen = mark;
	}
	return 0;
}

/* CFWS (RFC 5322 section 3.2.2).  cap, when not NULL and still unset, receives the first
 * comment. */
static int
skip_cfws(struct parser *p, uint32_t *cap)
{
	const char *s = p->s;
	size_t pos = p->pos, len = p->len;

	for (;;) {
		while (pos < len && is_wsp((unsigned char)s[pos]))
			pos++;
		p->pos = pos;
		if (pos >= len || s[pos] != '(')
			return 0;
		if (comment(p, cap != NULL && *cap == NOSTR ? cap : NULL) < 0)
			return -1;
		pos = p->pos;
	}
}

/* Keyword = ldh-str (RFC 5321 section 4.1.2): a letter or digit, then letters, digits, '-'.
 * '_' is accepted too: Yahoo writes "dkim=perm_fail" (docs/deviations.md). */
static bool
keyword(struct parser *p, size_t *start, size_t *n)
{
	const unsigned char *s = (const unsigned char *)p->s;
	size_t pos = p->pos, len = p->len;

	*start = pos;
	if (pos < len && is_alnum(s[pos])) {
		while (pos < len && (is_alnum(s[pos]) || s[pos] == '-' || s[pos] == '_'))
			pos++;
	}
	p->pos = pos;
	*n = pos - *start;
	return *n > 0;
}

static int
number(struct parser *p, int *out, const char *what)
{
	int v = 0, n = 0;

	while (p->pos < p->len && is_digit((unsigned char)p->s[p->pos])) {
		if (n == 9)
			return fail(p, _("%s number too long"), what);
		v = v * 10 + (p->s[p->pos] - '0');
		n++;
		p->pos++;
	}
	if (n == 0)
		return fail(p, _("expected %s number"), what);
	*out = v;
	return 0;
}

/*
 * quoted-string (RFC 5322 section 3.2.4).  Unquoted, the content is written without the
 * quotes and with quoted-pairs resolved; with keep, exactly as written.  Line breaks inside
 * are folding and dropped.
 */
static int
quoted(struct parser *p, bool keep)
{
	size_t start = p->pos;

	p->pos++;
	if (keep)
		sb_putc(p, '"');
	while (p->pos < p->len) {
		char c = p->s[p->pos];

		if (c == '"') {
			p->pos++;
			if (keep)
				sb_putc(p, '"');
			return 0;
		}
		if (c == '\\') {
			if (p->pos + 1 >= p->len)
				break;
			if (keep)
				sb_putc(p, '\\');
			sb_putc(p, p->s[p->pos + 1]);
			p->pos += 2;
			continue;
		}
		if (c != '\r' && c != '\n')
			sb_putc(p, c);
		p->pos++;
	}
	return fail_at(p, start, _("unterminated quoted string"));
}

/* End of the run of pvalue characters at the cursor. */
static size_t
pchars(const struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->s;
	size_t pos = p->pos, len = p->len;

	while (pos < len && is_pchar(s[pos]))
		pos++;
	return pos;
}

/* pvalue = [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS]; the caller skips the
 * CFWS.  Also used for reasonspec's value. */
static int
pvalue(struct parser *p, uint32_t *out)
{
	uint32_t mark = (uint32_t)p->sblen;
	size_t start = p->pos;

	if (p->pos < p->len && p->s[p->pos] == '"') {
		if (quoted(p, false) < 0)
			return -1;
		if (p->pos < p->len && p->s[p->pos] == '@') {
			/* A quoted local-part: the quotes are part of the address. */
			p->sblen = mark;
			p->pos = start;
			if (quoted(p, true) < 0)
				return -1;
			start = p->pos;
			p->pos = pchars(p);
			sb_span(p, start, p->pos - start);
		}
	} else {
		p->pos = pchars(p);
		if (p->pos == start)
			return fail(p, _("missing value after '='"));
		sb_span(p, start, p->pos - start);
	}
	*out = sb_end(p, mark);
	return 0;
}

/* Bare "name=value" pairs without a ptype that real receivers write (docs/deviations.md). */
static bool
bare_allowed(const char *s, size_t n)
{
	return mp_ieq(s, n, "action") || (n > 2 && strncasecmp(s, "x-", 2) == 0);
}

static int
add_prop(struct parser *p, struct pres *r, uint32_t key, uint32_t value)
{
	if (r->nprops >= MP_AR_MAX_PROPS)
		return fail(p, _("more than %d properties in one result"), MP_AR_MAX_PROPS);
	p->props[p->nprops].key = key;
	p->props[p->nprops].value = value;
	p->nprops++;
	r->nprops++;
	return 0;
}

/* One property after the result: propspec, reasonspec, or an accepted bare name=value. */
static int
property(struct parser *p, struct pres *r)
{
	size_t ks, kn, ps, pn;
	uint32_t key, value;

	if (!keyword(p, &ks, &kn))
		return fail(p, _("unexpected character in the result of '%s'"), p->sb + r->method);
	if (skip_cfws(p, &r->comment) < 0)
		return -1;
	if (p->pos < p->len && p->s[p->pos] == '.') {
		/* propspec = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue */
		p->pos++;
		if (skip_cfws(p, &r->comment) < 0)
			return -1;
		if (!keyword(p, &ps, &pn))
			return fail(p, _("property name missing after '%.*s.'"), klen(kn),
				    p->s + ks);
		if (skip_cfws(p, &r->comment) < 0)
			return -1;
		if (p->pos >= p->len || p->s[p->pos] != '=')
			return fail(p, _("property '%.*s.%.*s' without '='"), klen(kn), p->s + ks,
				    klen(pn), p->s + ps);
		p->pos++;
		if (skip_cfws(p, &r->comment) < 0)
			return -1;
		key = emit_lower(p, ks, kn, false);
		sb_putc(p, '.');
		emit_lower(p, ps, pn, false);
		sb_end(p, key);
		if (pvalue(p, &value) < 0)
			return -1;
		return add_prop(p, r, key, value);
	}
	if (p->pos >= p->len || p->s[p->pos] != '=')
		return fail(p, _("'%.*s' is neither a property nor a reason"), klen(kn), p->s + ks);
	p->pos++;
	if (skip_cfws(p, &r->comment) < 0)
		return -1;
	if (mp_ieq(p->s + ks, kn, "reason")) {
		/* reasonspec = "reason" [CFWS] "=" [CFWS] value */
		if (r->reason != NOSTR)
			return fail(p, _("second reason in one result"));
		return pvalue(p, &r->reason);
	}
	if (!bare_allowed(p->s + ks, kn))
		return fail(p, _("property '%.*s' without a ptype"), klen(kn), p->s + ks);
	key = emit_lower(p, ks, kn, true);
	if (pvalue(p, &value) < 0)
		return -1;
	return add_prop(p, r, key, value);
}

/* resinfo = [CFWS] ";" methodspec [ CFWS reasonspec ] [ CFWS 1*propspec ]; the caller has
 * consumed the ";" and the CFWS before methodspec. */
static int
resinfo(struct parser *p)
{
	struct pres *r;
	size_t ms, mn, rs, rn;

	if (p->nres >= MP_AR_MAX_RESULTS)
		return fail(p, _("more than %d results"), MP_AR_MAX_RESULTS);
	r = &p->res[p->nres];
	r->method = r->result = r->reason = r->comment = NOSTR;
	r->mver = 1;
	r->prop0 = (uint32_t)p->nprops;
	r->nprops = 0;
	/* methodspec = [CFWS] method [CFWS] "=" [CFWS] result;
	 * method = Keyword [ [CFWS] "/" [CFWS] method-version ] */
	if (!keyword(p, &ms, &mn))
		return fail(p, _("expected a method name"));
	if (skip_cfws(p, NULL) < 0)
		return -1;
	if (p->pos < p->len && p->s[p->pos] == '/') {
		p->pos++;
		if (skip_cfws(p, NULL) < 0 || number(p, &r->mver, "method version") < 0 ||
		    skip_cfws(p, NULL) < 0)
			return -1;
	}
	if (p->pos >= p->len || p->s[p->pos] != '=')
		return fail(p, _("method '%.*s' without '='"), klen(mn), p->s + ms);
	p->pos++;
	r->method = emit_lower(p, ms, mn, true);
	if (skip_cfws(p, &r->comment) < 0)
		return -1;
	if (!keyword(p, &rs, &rn))
		return fail(p, _("missing result for method '%.*s'"), klen(mn), p->s + ms);
	r->result = emit_lower(p, rs, rn, true);
	for (;;) {
		if (skip_cfws(p, &r->comment) < 0)
			return -1;
		if (p->pos >= p->len || p->s[p->pos] == ';')
			break;
		if (property(p, r) < 0)
			return -1;
	}
	p->nres++;
	return 0;
}

/* no-result = [CFWS] ";" [CFWS] "none": 1 when the cursor is at that "none" (consumed with
 * the CFWS after it), 0 when not (nothing consumed), -1 on error. */
static int
at_none(struct parser *p)
{
	size_t save = p->pos, s, n;

	if (!keyword(p, &s, &n) || !mp_ieq(p->s + s, n, "none"))
		goto no;
	if (skip_cfws(p, NULL) < 0)
		return -1;
	if (p->pos >= p->len || p->s[p->pos] == ';')
		return 1;
no:
	p->pos = save;
	return 0;
}

/*
 * authserv-id [ CFWS authres-version ].  RFC 8601 requires the authserv-id, but Microsoft 365
 * starts with the first method: a first token followed by "=" or "/" can only be a method,
 * so then there is no authserv-id and the cursor is left at the method.
 */
static int
authserv(struct parser *p)
{
	size_t start = p->pos, after;

	if (p->s[p->pos] == '"') {
		uint32_t mark = (uint32_t)p->sblen;

		if (quoted(p, false) < 0)
			return -1;
		p->id = sb_end(p, mark);
	} else {
		while (p->pos < p->len && is_tok((unsigned char)p->s[p->pos]))
			p->pos++;
		if (p->pos == start)
			return fail(p, _("missing authserv-id"));
		after = p->pos;
		if (skip_cfws(p, NULL) < 0)
			return -1;
		if (p->pos < p->len && (p->s[p->pos] == '=' || p->s[p->pos] == '/')) {
			p->pos = start;
			return 0;
		}
		p->pos = after;
		p->id = (uint32_t)p->sblen;
		sb_span(p, start, after - start);
		sb_end(p, p->id);
	}
	if (skip_cfws(p, NULL) < 0)
		return -1;
	if (p->pos < p->len && is_digit((unsigned char)p->s[p->pos]))
		return number(p, &p->version, "authres-version");
	return 0;
}

static int
parse(struct parser *p)
{
	int rc;

	if (p->len > MP_AR_MAX_LEN)
		return fail_at(p, 0, _("header value longer than %d bytes"), MP_AR_MAX_LEN);
	if (check_bytes(p) < 0 || skip_cfws(p, NULL) < 0)
		return -1;
	if (p->pos >= p->len)
		return fail(p, _("empty header value"));
	if (authserv(p) < 0)
		return -1;
	if (p->id == NOSTR && resinfo(p) < 0)
		return -1;
	for (;;) {
		if (skip_cfws(p, NULL) < 0)
			return -1;
		if (p->pos >= p->len)
			break;
		if (p->s[p->pos] != ';')
			return fail(p, _("expected ';'"));
		p->pos++;
		if (skip_cfws(p, NULL) < 0)
			return -1;
		/* An empty resinfo (";;" or a trailing ";") is a deviation we accept. */
		if (p->pos >= p->len || p->s[p->pos] == ';')
			continue;
		if (p->none)
			return fail(p, _("results after 'none'"));
		if (p->nres == 0 && p->id != NOSTR) {
			if ((rc = at_none(p)) < 0)
				return -1;
			if (rc == 1) {
				p->none = true;
				continue;
			}
		}
		if (resinfo(p) < 0)
			return -1;
	}
	if (p->nres == 0 && !p->none)
		return fail(p, _("no results"));
	if (p->sbfull)
		return fail_at(p, 0, _("internal string bound exceeded"));
	return 0;
}

/* One block: the struct, the results, the properties, then the strings. */
static struct mp_authres *
build(const struct parser *p, bool ok)
{
	struct mp_authres *ar;
	struct mp_ar_result *res;
	struct mp_ar_prop *props;
	char *str;
	size_t nres = ok ? p->nres : 0, nprops = ok ? p->nprops : 0;
	size_t idl = 0, whyl = 0, strl, i;

	if (ok) {
		strl = p->sblen;
	} else {
		if (p->id != NOSTR)
			idl = strlen(p->sb + p->id) + 1;
		whyl = strlen(p->why) + 1;
		strl = idl + whyl;
	}
	/* Bounded by MP_AR_MAX_RESULTS, MP_AR_MAX_PROPS and the scratch size: no overflow. */
	ar = malloc(sizeof(*ar) + nres * sizeof(*res) + nprops * sizeof(*props) + strl);
	if (ar == NULL)
		return NULL;
	res = (struct mp_ar_result *)(void *)(ar + 1);
	props = (struct mp_ar_prop *)(void *)(res + nres);
	str = (char *)(props + nprops);
	ar->version = p->version;
	ar->nresults = nres;
	ar->results = nres > 0 ? res : NULL;
	if (!ok) {
		ar->none = false;
		ar->authserv_id = NULL;
		if (idl > 0) {
			memcpy(str, p->sb + p->id, idl);
			ar->authserv_id = str;
		}
		memcpy(str + idl, p->why, whyl);
		ar->error = str + idl;
		return ar;
	}
	if (strl > 0)
		memcpy(str, p->sb, strl);
	ar->none = p->none;
	ar->error = NULL;
	ar->authserv_id = p->id != NOSTR ? str + p->id : NULL;
	for (i = 0; i < nprops; i++) {
		props[i].key = str + p->props[i].key;
		props[i].value = str + p->props[i].value;
	}
	for (i = 0; i < nres; i++) {
		const struct pres *r = &p->res[i];

		res[i].method = str + r->method;
		res[i].method_version = r->mver;
		res[i].result = str + r->result;
		res[i].reason = r->reason != NOSTR ? str + r->reason : NULL;
		res[i].comment = r->comment != NOSTR ? str + r->comment : NULL;
		res[i].nprops = r->nprops;
		res[i].props = r->nprops > 0 ? props + r->prop0 : NULL;
	}
	return ar;
}

int
mp_authres_parse(const char *value, size_t len, struct mp_authres **out, struct mp_err *err)
{
	/* The parser state is large (fixed result and property tables) but not zeroed: only the
	 * counters below are read before being written. */
	struct parser p;
	char small[SMALL_SCRATCH];
	char *heap = NULL;
	bool ok;
	int rc = MP_OK;

	if (out == NULL)
		return mp_err_set(err, MP_EINVAL, "mp_authres_parse: out is NULL");
	*out = NULL;
	if (value == NULL)
		len = 0;
	p.s = value;
	p.len = len;
	p.pos = 0;
	p.sblen = 0;
	p.sbfull = false;
	p.id = NOSTR;
	p.version = 1;
	p.none = false;
	p.nres = 0;
	p.nprops = 0;
	p.why[0] = '\0';
	/* Every output byte comes from a distinct input byte, plus one NUL per string (each
	 * string consumes at least one input byte): 2 * len + 1 suffices. */
	p.sb = small;
	p.sbcap = sizeof(small);
	if (len <= MP_AR_MAX_LEN && 2 * len + 16 > sizeof(small)) {
		heap = malloc(2 * len + 16);
		if (heap == NULL) {
			rc = mp_err_set(err, MP_ENOMEM,
					_("out of memory parsing Authentication-Results"));
			goto out;
		}
		p.sb = heap;
		p.sbcap = 2 * len + 16;
	}
	if (len == 0)
		ok = fail_at(&p, 0, _("empty header value")) == 0;
	else
		ok = parse(&p) == 0;
	*out = build(&p, ok);
	if (*out == NULL)
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory parsing Authentication-Results"));
out:
	free(heap);
	return rc;
}

void
mp_authres_free(struct mp_authres *ar)
{
	free(ar);
}

const char *
mp_ar_result_prop(const struct mp_ar_result *r, const char *key)
{
	size_t i;

	if (r == NULL || key == NULL)
		return NULL;
	for (i = 0; i < r->nprops; i++)
		if (mp_ieq_z(r->props[i].key, key))
			return r->props[i].value;
	return NULL;
}

bool
mp_authserv_id_matches(const char *id, const char *pattern)
{
	size_t il, pl;

	if (id == NULL || pattern == NULL)
		return false;
	il = strlen(id);
	pl = strlen(pattern);
	if (il > 0 && id[il - 1] == '.')
		il--;
	if (pl > 0 && pattern[pl - 1] == '.')
		pl--;
	if (il == 0 || pl == 0)
		return false;
	if (pattern[0] == '.') {
		/* Strictly below the domain: at least one non-empty label in front. */
		if (pl == 1 || il <= pl || id[il - pl - 1] == '.')
			return false;
		return strncasecmp(id + il - pl, pattern, pl) == 0;
	}
	return il == pl && strncasecmp(id, pattern, il) == 0;
}
