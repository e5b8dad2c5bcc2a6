/* zone.c - RFC 1035 section 5 master files; see zone.h. */
#include "zone.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "i18n.h"
#include "util.h"

#define TXT_STRING_MAX 255	 /* RFC 1035 section 3.3: <character-string> */
#define RDATA_MAX 65535		 /* RFC 1035 section 3.2.1: RDLENGTH is 16 bits */
#define TTL_MAX 2147483647UL	 /* RFC 2181 section 8 */
#define ENTRY_MAX (1024u * 1024) /* decoded bytes of one entry */

struct tok {
	size_t off; /* into the entry's scratch buffer */
	size_t len;
	unsigned long line;
	int quoted;
	int escaped;
};

struct zparser {
	const char *p;
	size_t n;
	size_t pos;
	size_t line_start;
	unsigned long line;
	const char *label;
	struct mp_err *err;

	struct mp_buf scratch; /* decoded token bytes of the current entry */
	struct tok toks[MP_ZONE_MAX_TOKENS];
	size_t ntok;
	int owner_omitted; /* the entry began with blank space (RFC 1035 section 5.1) */
	unsigned long entry_line;

	char origin[MP_ZONE_NAME_MAX + 1];
	int have_origin;
	char owner[MP_ZONE_NAME_MAX + 1];
	int have_owner;
	uint32_t default_ttl; /* $TTL (RFC 2308 section 4) */
	int have_default_ttl;
	uint32_t last_ttl; /* RFC 1035: an omitted TTL is the last one given */
	int have_last_ttl;
	size_t nrec;

	mp_zone_cb cb;
	void *arg;
};

/* Untrusted text in an error message: bounded, printable only. */
static void
shown(char *out, size_t outlen, const char *s, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < n && j + 4 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		out[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		if (i == 40) {
			out[j++] = '.';
			out[j++] = '.';
			out[j++] = '.';
			break;
		}
	}
	out[j] = '\0';
}

static int zerr(struct zparser *zp, unsigned long line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
zerr(struct zparser *zp, unsigned long line, int code, const char *fmt, ...)
{
	char msg[MP_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (zp->label != NULL)
		return mp_err_set(zp->err, code, "%s:%lu: %s", zp->label, line, msg);
	return mp_err_set(zp->err, code, _("line %lu: %s"), line, msg);
}

static const char *
tok_text(const struct zparser *zp, const struct tok *t)
{
	return zp->scratch.data + t->off;
}

static int
tok_is(const struct zparser *zp, const struct tok *t, const char *word)
{
	return !t->quoted && mp_ieq(tok_text(zp, t), t->len, word);
}

int
mp_zone_name_norm(const char *name, size_t n, char *out)
{
	size_t i, label = 0;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n > MP_ZONE_NAME_MAX)
		return MP_EPARSE;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			/* RFC 1035 section 2.3.4: labels of 1..63 octets */
			if (label == 0)
				return MP_EPARSE;
			label = 0;
		} else if (c < 0x21 || c > 0x7e) {
			return MP_EPARSE;
		} else if (++label > MP_ZONE_LABEL_MAX) {
			return MP_EPARSE;
		}
		out[i] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
	}
	if (n > 0 && label == 0)
		return MP_EPARSE;
	out[n] = '\0';
	return 0;
}

/* A name in an entry: '@', absolute ("a.example."), or relative to $ORIGIN. */
static int
parse_name(struct zparser *zp, const struct tok *t, char *out)
{
	char tmp[2 * (MP_ZONE_NAME_MAX + 1) + 1];
	char show[64];
	const char *s = tok_text(zp, t);
	size_t n = t->len;

	shown(show, sizeof show, s, n);
	if (t->quoted || t->escaped)
		return zerr(zp, t->line, MP_EPARSE,
			    _("name %s: quotes and escapes are not supported in names"), show);
	if (n == 1 && s[0] == '@') {
		if (!zp->have_origin)
			return zerr(zp, t->line, MP_EPARSE, _("'@' used without $ORIGIN"));
		memcpy(out, zp->origin, strlen(zp->origin) + 1);
		return 0;
	}
	if (n > MP_ZONE_NAME_MAX + 1)
		return zerr(zp, t->line, MP_EPARSE, _("name %s: longer than 253 bytes"), show);
	memcpy(tmp, s, n);
	/* A relative name gets the origin appended; without one the root is the origin. */
	if (s[n - 1] != '.' && zp->have_origin && zp->origin[0] != '\0') {
		size_t on = strlen(zp->origin);

		tmp[n++] = '.';
		memcpy(tmp + n, zp->origin, on);
		n += on;
	}
	if (n == 1 && tmp[0] == '.') {
		out[0] = '\0';
		return 0;
	}
	if (mp_zone_name_norm(tmp, n, out) != 0)
		return zerr(zp, t->line, MP_EPARSE,
			    _("bad name %s (labels of 1..63 printable bytes, 253 in all)"), show);
	return 0;
}

/* TTL: seconds, or BIND-style units ("1h30m"); at most 2^31-1 (RFC 2181 section 8). */
static int
parse_ttl(const char *s, size_t n, uint32_t *out)
{
	unsigned long total = 0, cur = 0;
	size_t i;
	int digits = 0;

	if (n == 0)
		return MP_EPARSE;
	for (i = 0; i < n; i++) {
		unsigned long mult;

		if (s[i] >= '0' && s[i] <= '9') {
			cur = cur * 10 + (unsigned long)(s[i] - '0');
			if (cur > TTL_MAX)
				return MP_EPARSE;
			digits = 1;
			continue;
		}
		switch (s[i]) {
		case 's':
		case 'S':
			mult = 1;
			break;
		case 'm':
		case 'M':
			mult = 60;
			break;
		case 'h':
		case 'H':
			mult = 3600;
			break;
		case 'd':
		case 'D':
			mult = 86400;
			break;
		case 'w':
		case 'W':
			mult = 604800;
			break;
		default:
			return MP_EPARSE;
		}
		if (!digits || cur > TTL_MAX / mult)
			return MP_EPARSE;
		total += cur * mult;
		if (total > TTL_MAX)
			return MP_EPARSE;
		cur = 0;
		digits = 0;
	}
	total += cur;
	if (total > TTL_MAX)
		return MP_EPARSE;
	*out = (uint32_t)total;
	return 0;
}

static int
parse_u16(const char *s, size_t n, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return MP_EPARSE;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return MP_EPARSE;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return MP_EPARSE;
	*out = (uint16_t)v;
	return 0;
}

static int
parse_u32(const char *s, size_t n, uint32_t *out)
{
	unsigned long long v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return MP_EPARSE;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return MP_EPARSE;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v > 0xffffffffULL)
		return MP_EPARSE;
	*out = (uint32_t)v;
	return 0;
}

/*
 * One character of a token; a backslash escape (RFC 1035 section 5.1: \X is X, \DDD is
 * the octet with decimal value DDD).
 */
static int
take_char(struct zparser *zp, struct tok *t)
{
	unsigned char c = (unsigned char)zp->p[zp->pos];

	if (c != '\\') {
		zp->pos++;
		return mp_buf_addc(&zp->scratch, (char)c);
	}
	t->escaped = 1;
	if (zp->pos + 1 >= zp->n || zp->p[zp->pos + 1] == '\n')
		return zerr(zp, zp->line, MP_EPARSE, _("backslash at end of line"));
	c = (unsigned char)zp->p[zp->pos + 1];
	if (c >= '0' && c <= '9') {
		unsigned v = 0;
		size_t i;

		for (i = 1; i <= 3; i++) {
			if (zp->pos + i >= zp->n || zp->p[zp->pos + i] < '0' ||
			    zp->p[zp->pos + i] > '9')
				return zerr(zp, zp->line, MP_EPARSE,
					    _("bad escape: \\DDD needs three digits"));
			v = v * 10 + (unsigned)(zp->p[zp->pos + i] - '0');
		}
		if (v > 255)
			return zerr(zp, zp->line, MP_EPARSE, _("bad escape: \\%u is above 255"), v);
		zp->pos += 4;
		return mp_buf_addc(&zp->scratch, (char)v);
	}
	zp->pos += 2;
	return mp_buf_addc(&zp->scratch, (char)c);
}

static int
is_delim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '(' ||
	       c == ')' || c == '"';
}

/* Reads one token starting at zp->pos (not blank, not a special character). */
static int
read_token(struct zparser *zp)
{
	struct tok *t;
	int rc = 0, quoted;

	if (zp->ntok == MP_ZONE_MAX_TOKENS)
		return zerr(zp, zp->line, MP_ETOOBIG, _("more than %d items in one entry"),
			    MP_ZONE_MAX_TOKENS);
	t = &zp->toks[zp->ntok];
	memset(t, 0, sizeof *t);
	t->off = zp->scratch.len;
	t->line = zp->line;
	quoted = zp->p[zp->pos] == '"';
	t->quoted = quoted;
	if (quoted) {
		zp->pos++;
		for (;;) {
			if (zp->pos >= zp->n || zp->p[zp->pos] == '\n')
				return zerr(zp, t->line, MP_EPARSE,
					    _("unterminated quoted string"));
			if (zp->p[zp->pos] == '"') {
				zp->pos++;
				break;
			}
			if ((rc = take_char(zp, t)) != 0)
				break;
		}
	} else {
		while (zp->pos < zp->n && !is_delim(zp->p[zp->pos]))
			if ((rc = take_char(zp, t)) != 0)
				break;
	}
	if (rc == MP_ETOOBIG)
		return zerr(zp, t->line, MP_ETOOBIG, _("entry longer than %u bytes"), ENTRY_MAX);
	if (rc != 0)
		return rc;
	t->len = zp->scratch.len - t->off;
	/* Keep a NUL after every token so tokens can be shown and compared as strings. */
	if ((rc = mp_buf_addc(&zp->scratch, '\0')) != 0)
		return rc == MP_ETOOBIG ? zerr(zp, t->line, MP_ETOOBIG,
					       _("entry longer than %u bytes"), ENTRY_MAX)
					: rc;
	zp->ntok++;
	return 0;
}

/*
 * Collects the tokens of the next entry: one line, or several joined by parentheses
 * (RFC 1035 section 5.1).  Sets zp->ntok to 0 at the end of the text.
 */
static int
read_entry(struct zparser *zp)
{
	int paren = 0, started = 0, rc;
	unsigned long paren_line = 0;

	zp->ntok = 0;
	mp_buf_reset(&zp->scratch);
	zp->owner_omitted = 0;
	zp->entry_line = zp->line;
	for (;;) {
		char c;

		if (zp->pos - zp->line_start > MP_ZONE_MAX_LINE)
			return zerr(zp, zp->line, MP_ETOOBIG, _("line longer than %d bytes"),
				    MP_ZONE_MAX_LINE);
		if (zp->pos >= zp->n) {
			if (paren > 0)
				return zerr(zp, paren_line, MP_EPARSE,
					    _("unbalanced '(': no ')' before the end"));
			return 0;
		}
		c = zp->p[zp->pos];
		if (c == '\n') {
			zp->pos++;
			zp->line++;
			zp->line_start = zp->pos;
			if (paren == 0 && zp->ntok > 0)
				return 0;
			if (!started)
				zp->entry_line = zp->line;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			zp->pos++;
		} else if (c == ';') {
			while (zp->pos < zp->n && zp->p[zp->pos] != '\n') {
				zp->pos++;
				if (zp->pos - zp->line_start > MP_ZONE_MAX_LINE)
					return zerr(zp, zp->line, MP_ETOOBIG,
						    _("line longer than %d bytes"),
						    MP_ZONE_MAX_LINE);
			}
		} else {
			/* RFC 1035 section 5.1: an entry that starts blank reuses the last owner.
			 */
			if (!started) {
				started = 1;
				zp->owner_omitted = zp->pos != zp->line_start;
			}
			if (c == '(') {
				if (paren > 0)
					return zerr(zp, zp->line, MP_EPARSE, _("nested '('"));
				paren = 1;
				paren_line = zp->line;
				zp->pos++;
			} else if (c == ')') {
				if (paren == 0)
					return zerr(zp, zp->line, MP_EPARSE, _("unbalanced ')'"));
				paren = 0;
				zp->pos++;
			} else if ((rc = read_token(zp)) != 0) {
				return rc;
			}
		}
	}
}

static int
emit(struct zparser *zp, const char *owner, uint16_t type, uint32_t ttl, uint16_t pref,
     const void *data, size_t len)
{
	struct mp_dns_rr rr;

	if (zp->nrec == MP_ZONE_MAX_RECORDS)
		return zerr(zp, zp->entry_line, MP_ETOOBIG, _("more than %d records"),
			    MP_ZONE_MAX_RECORDS);
	zp->nrec++;
	rr.type = type;
	rr.ttl = ttl;
	rr.pref = pref;
	rr.len = len;
	rr.data = (unsigned char *)(uintptr_t)data;
	return zp->cb(zp->arg, owner, &rr, zp->err);
}

static int
directive(struct zparser *zp)
{
	const struct tok *t = &zp->toks[0];
	char show[64];
	uint32_t ttl;
	int rc;

	if (tok_is(zp, t, "$ORIGIN")) {
		char name[MP_ZONE_NAME_MAX + 1];

		if (zp->ntok != 2)
			return zerr(zp, t->line, MP_EPARSE, _("$ORIGIN needs exactly one name"));
		if ((rc = parse_name(zp, &zp->toks[1], name)) != 0)
			return rc;
		memcpy(zp->origin, name, strlen(name) + 1);
		zp->have_origin = 1;
		return 0;
	}
	if (tok_is(zp, t, "$TTL")) {
		if (zp->ntok != 2 ||
		    parse_ttl(tok_text(zp, &zp->toks[1]), zp->toks[1].len, &ttl) != 0)
			return zerr(zp, t->line, MP_EPARSE,
				    _("$TTL needs one TTL (0..2147483647 seconds)"));
		zp->default_ttl = ttl;
		zp->have_default_ttl = 1;
		return 0;
	}
	if (tok_is(zp, t, "$INCLUDE"))
		return zerr(zp, t->line, MP_EPARSE,
			    _("$INCLUDE is not supported (one self-contained file)"));
	shown(show, sizeof show, tok_text(zp, t), t->len);
	return zerr(zp, t->line, MP_EPARSE, _("unknown directive %s"), show);
}

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
    {"A", MP_DNS_A},	 {"NS", MP_DNS_NS},	{"CNAME", MP_DNS_CNAME},
    {"SOA", MP_DNS_SOA}, {"PTR", MP_DNS_PTR},	{"MX", MP_DNS_MX},
    {"TXT", MP_DNS_TXT}, {"AAAA", MP_DNS_AAAA}, {"SPF", MP_DNS_SPF},
};

/* The rdata of one record, from token i on (RFC 1035 section 3.3, RFC 3596 section 2.4). */
static int
rdata(struct zparser *zp, const char *owner, uint16_t type, uint32_t ttl, size_t i,
      const struct tok *tt)
{
	char name[MP_ZONE_NAME_MAX + 1];
	char show[64];
	unsigned char addr[17]; /* + NUL, as every rdata handed out */
	struct mp_buf txt;
	uint16_t pref = 0;
	size_t want = 1, k, wire = 0;
	const struct tok *d;
	const char *s;
	int rc = 0;

	mp_buf_init(&txt, RDATA_MAX);
	if (type == MP_DNS_MX)
		want = 2;
	else if (type == MP_DNS_SOA)
		want = 7;
	else if (type == MP_DNS_TXT || type == MP_DNS_SPF)
		want = zp->ntok > i ? zp->ntok - i : 1;
	if (zp->ntok < i + want) {
		rc = zerr(zp, tt->line, MP_EPARSE, _("%s: missing data"), tok_text(zp, tt));
		goto out;
	}
	if (zp->ntok > i + want) {
		shown(show, sizeof show, tok_text(zp, &zp->toks[i + want]), zp->toks[i + want].len);
		rc = zerr(zp, zp->toks[i + want].line, MP_EPARSE,
			  _("%s: unexpected %s after the data"), tok_text(zp, tt), show);
		goto out;
	}
	d = &zp->toks[i];
	s = tok_text(zp, d);

	switch (type) {
	case MP_DNS_A:
	case MP_DNS_AAAA:
		if (d->quoted || inet_pton(type == MP_DNS_A ? AF_INET : AF_INET6, s, addr) != 1 ||
		    strlen(s) != d->len) {
			shown(show, sizeof show, s, d->len);
			rc = zerr(zp, d->line, MP_EPARSE, _("bad %s address %s"), tok_text(zp, tt),
				  show);
			goto out;
		}
		addr[type == MP_DNS_A ? 4 : 16] = 0;
		rc = emit(zp, owner, type, ttl, 0, addr, type == MP_DNS_A ? 4 : 16);
		break;
	case MP_DNS_MX:
		if (d->quoted || parse_u16(s, d->len, &pref) != 0) {
			shown(show, sizeof show, s, d->len);
			rc = zerr(zp, d->line, MP_EPARSE, _("bad MX preference %s (0..65535)"),
				  show);
			goto out;
		}
		if ((rc = parse_name(zp, d + 1, name)) != 0)
			goto out;
		rc = emit(zp, owner, type, ttl, pref, name, strlen(name));
		break;
	case MP_DNS_NS:
	case MP_DNS_CNAME:
	case MP_DNS_PTR:
		if ((rc = parse_name(zp, d, name)) != 0)
			goto out;
		rc = emit(zp, owner, type, ttl, 0, name, strlen(name));
		break;
	case MP_DNS_SOA:
		/* RFC 1035 section 3.3.13: MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM */
		for (k = 0; k < 2; k++)
			if ((rc = parse_name(zp, &d[k], name)) != 0)
				goto out;
		for (k = 2; k < 7; k++) {
			uint32_t v;

			if (d[k].quoted ||
			    (k == 2 ? parse_u32(tok_text(zp, &d[k]), d[k].len, &v)
				    : parse_ttl(tok_text(zp, &d[k]), d[k].len, &v)) != 0) {
				shown(show, sizeof show, tok_text(zp, &d[k]), d[k].len);
				rc = zerr(zp, d[k].line, MP_EPARSE, _("bad SOA number %s"), show);
				goto out;
			}
		}
		rc = emit(zp, owner, type, ttl, 0, "", 0);
		break;
	default: /* TXT, SPF: one or more <character-string>s, joined for the caller */
		for (k = i; k < zp->ntok; k++) {
			const struct tok *c = &zp->toks[k];

			if (c->len > TXT_STRING_MAX) {
				rc = zerr(zp, c->line, MP_ETOOBIG,
					  _("TXT string of %zu bytes (at most 255 each: split it "
					    "into \"...\" \"...\")"),
					  c->len);
				goto out;
			}
			wire += 1 + c->len;
			if (wire > RDATA_MAX || mp_buf_add(&txt, tok_text(zp, c), c->len) != 0) {
				rc = zerr(zp, c->line, MP_ETOOBIG,
					  _("TXT record longer than 65535 bytes"));
				goto out;
			}
		}
		rc = emit(zp, owner, type, ttl, 0, mp_buf_cstr(&txt), txt.len);
		break;
	}
out:
	mp_buf_dispose(&txt);
	return rc;
}

static int
record(struct zparser *zp)
{
	char owner[MP_ZONE_NAME_MAX + 1];
	char show[64];
	uint32_t ttl = 0;
	int have_ttl = 0, have_class = 0, rc;
	size_t i = 0, k;
	uint16_t type = 0;
	const struct tok *t;

	if (zp->owner_omitted) {
		if (!zp->have_owner)
			return zerr(zp, zp->entry_line, MP_EPARSE,
				    _("record without an owner name"));
		memcpy(owner, zp->owner, sizeof owner);
	} else {
		if ((rc = parse_name(zp, &zp->toks[0], owner)) != 0)
			return rc;
		memcpy(zp->owner, owner, sizeof owner);
		zp->have_owner = 1;
		i = 1;
	}
	/* [<TTL>] [<class>] or [<class>] [<TTL>] (RFC 1035 section 5.1) */
	for (; i < zp->ntok; i++) {
		t = &zp->toks[i];
		if (t->quoted)
			break;
		if (!have_ttl && t->len > 0 && tok_text(zp, t)[0] >= '0' &&
		    tok_text(zp, t)[0] <= '9') {
			if (parse_ttl(tok_text(zp, t), t->len, &ttl) != 0) {
				shown(show, sizeof show, tok_text(zp, t), t->len);
				return zerr(zp, t->line, MP_EPARSE, _("bad TTL %s"), show);
			}
			have_ttl = 1;
		} else if (!have_class && tok_is(zp, t, "IN")) {
			have_class = 1;
		} else if (!have_class && (tok_is(zp, t, "CH") || tok_is(zp, t, "HS") ||
					   tok_is(zp, t, "CS") || tok_is(zp, t, "ANY"))) {
			return zerr(zp, t->line, MP_EPARSE,
				    _("class %s is not supported (only IN)"), tok_text(zp, t));
		} else {
			break;
		}
	}
	if (i >= zp->ntok)
		return zerr(zp, zp->entry_line, MP_EPARSE, _("record without a type"));
	t = &zp->toks[i];
	for (k = 0; k < sizeof types / sizeof types[0] && !t->quoted; k++)
		if (tok_is(zp, t, types[k].name)) {
			type = types[k].type;
			break;
		}
	if (type == 0) {
		shown(show, sizeof show, tok_text(zp, t), t->len);
		return zerr(zp, t->line, MP_EPARSE, _("unknown type %s"), show);
	}
	if (have_ttl) {
		zp->last_ttl = ttl;
		zp->have_last_ttl = 1;
	} else if (zp->have_default_ttl) {
		ttl = zp->default_ttl;
	} else if (zp->have_last_ttl) {
		ttl = zp->last_ttl;
	} else {
		ttl = 3600;
	}
	return rdata(zp, owner, type, ttl, i + 1, t);
}

int
mp_zone_parse(const char *text, size_t len, const char *origin, const char *label, mp_zone_cb cb,
	      void *arg, struct mp_err *err)
{
	struct zparser *zp = NULL;
	int rc = 0;

	if ((text == NULL && len > 0) || cb == NULL)
		return mp_err_set(err, MP_EINVAL, "zone: no text or no callback");
	if (len > MP_ZONE_MAX_BYTES)
		return mp_err_set(err, MP_ETOOBIG, _("%s: zone larger than %u bytes"),
				  label != NULL ? label : "zone", MP_ZONE_MAX_BYTES);
	zp = calloc(1, sizeof *zp);
	if (zp == NULL)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	zp->p = text;
	zp->n = len;
	zp->line = 1;
	zp->label = label;
	zp->err = err;
	zp->cb = cb;
	zp->arg = arg;
	mp_buf_init(&zp->scratch, ENTRY_MAX);
	if (origin != NULL) {
		if (mp_zone_name_norm(origin, strlen(origin), zp->origin) != 0) {
			rc = mp_err_set(err, MP_EINVAL, "zone: bad origin");
			goto out;
		}
		zp->have_origin = 1;
	}
	for (;;) {
		if ((rc = read_entry(zp)) != 0)
			goto out;
		if (zp->ntok == 0)
			break;
		if (!zp->owner_omitted && !zp->toks[0].quoted && zp->toks[0].len > 0 &&
		    tok_text(zp, &zp->toks[0])[0] == '$')
			rc = directive(zp);
		else
			rc = record(zp);
		if (rc != 0) {
			if (rc == MP_ENOMEM)
				mp_err_set(err, MP_ENOMEM, _("out of memory"));
			goto out;
		}
	}
out:
	if (zp != NULL)
		mp_buf_dispose(&zp->scratch);
	free(zp);
	return rc;
}

int
mp_zone_read_file(const char *path, char **text, size_t *len, struct mp_err *err)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0, size;
	ssize_t n;
	int fd = -1, rc = 0;

	*text = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = mp_err_set(err, errno == ENOENT ? MP_ENOTFOUND : MP_EIO, "%s: %s", path,
				strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = mp_err_set(err, MP_EIO, _("%s: not a regular file"), path);
		goto out;
	}
	if ((unsigned long long)st.st_size > MP_ZONE_MAX_BYTES) {
		rc = mp_err_set(err, MP_ETOOBIG, _("%s: zone larger than %u bytes"), path,
				MP_ZONE_MAX_BYTES);
		goto out;
	}
	/* One byte more than the size, to notice a file that grew since fstat(). */
	size = (size_t)st.st_size;
	if ((data = malloc(size + 2)) == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	while (got <= size) {
		n = read(fd, data + got, size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mp_err_set(err, MP_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > size) {
		rc = mp_err_set(err, MP_EIO, _("%s: the file changed while it was read"), path);
		goto out;
	}
	data[got] = '\0';
	*text = data;
	*len = got;
	data = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(data);
	return rc;
}
