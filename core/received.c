/* received.c - see received.h. */
#include "received.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <libpsl.h>

#include "buf.h"
#include "i18n.h"
#include "util.h"

/* Words of one comment looked at when reading TCP-info (RFC 5321 section 4.4). */
#define COMMENT_WORDS 8
/* Longest IP literal text considered ("[IPv6:" + 45 + "]:65535" fits). */
#define IP_TEXT_MAX 64

enum tok_kind {
	TOK_END,
	TOK_WORD,
	TOK_COMMENT, /* text inside the outermost parentheses */
	TOK_ANGLE,   /* text inside < > */
	TOK_SEMI,
};

struct tok {
	enum tok_kind kind;
	const char *p;
	size_t n;
};

/*
 * Folding whitespace, and every other control byte: hostile input may carry NUL, bare CR
 * or LF, and none of them can be part of a name we report.
 */
static bool
is_space(unsigned char c)
{
	return c <= 0x20 || c == 0x7f;
}

/* RFC 5322 section 3.2.2: ccontent = ctext / quoted-pair / comment; unterminated runs to the end. */
static void
scan_comment(const char *s, size_t n, size_t *pos, struct tok *t)
{
	size_t start = *pos + 1, i = start, depth = 1;

	while (i < n) {
		if (s[i] == '\\' && i + 1 < n) {
			i += 2;
			continue;
		}
		if (s[i] == '(') {
			depth++;
		} else if (s[i] == ')') {
			depth--;
			if (depth == 0)
				break;
		}
		i++;
	}
	t->kind = TOK_COMMENT;
	t->p = s + start;
	t->n = i - start;
	*pos = i < n ? i + 1 : n;
}

static void
scan_angle(const char *s, size_t n, size_t *pos, struct tok *t)
{
	size_t start = *pos + 1, i = start;

	while (i < n && s[i] != '>')
		i++;
	t->kind = TOK_ANGLE;
	t->p = s + start;
	t->n = i - start;
	*pos = i < n ? i + 1 : n;
}

/* A received-token word (RFC 5322 section 3.6.7); a quoted string stays one word. */
static void
scan_word(const char *s, size_t n, size_t *pos, struct tok *t)
{
	size_t i = *pos;
	bool quoted = false;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (quoted) {
			if (c == '\\' && i + 1 < n)
				i++;
			else if (c == '"')
				quoted = false;
			i++;
			continue;
		}
		if (c == '"') {
			quoted = true;
			i++;
			continue;
		}
		if (is_space(c) || c == '(' || c == ')' || c == ';' || c == '<')
			break;
		i++;
	}
	t->kind = TOK_WORD;
	t->p = s + *pos;
	t->n = i - *pos;
	*pos = i;
}

/* Advances *pos past one token; stray ')' are skipped like whitespace. */
static void
next_tok(const char *s, size_t n, size_t *pos, struct tok *t)
{
	while (*pos < n && (is_space((unsigned char)s[*pos]) || s[*pos] == ')'))
		(*pos)++;
	if (*pos >= n) {
		t->kind = TOK_END;
		t->p = NULL;
		t->n = 0;
		return;
	}
	switch (s[*pos]) {
	case '(':
		scan_comment(s, n, pos, t);
		break;
	case '<':
		scan_angle(s, n, pos, t);
		break;
	case ';':
		t->kind = TOK_SEMI;
		t->p = s + *pos;
		t->n = 1;
		(*pos)++;
		break;
	default:
		scan_word(s, n, pos, t);
		break;
	}
}

static bool
tok_ieq(const struct tok *t, const char *word)
{
	return t->kind == TOK_WORD && mp_ieq(t->p, t->n, word);
}

/* Copy with every whitespace run turned into one space and both ends trimmed. */
static char *
dup_collapse(const char *p, size_t n)
{
	char *d = malloc(n + 1);
	size_t i, j = 0;
	bool sp = false;

	if (d == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (is_space((unsigned char)p[i])) {
			sp = j > 0;
			continue;
		}
		if (sp)
			d[j++] = ' ';
		sp = false;
		d[j++] = p[i];
	}
	d[j] = '\0';
	return d;
}

/* Sets *dst to a copy of (p, n) unless already set: the first occurrence wins. */
static int
set_str(char **dst, const char *p, size_t n)
{
	if (*dst != NULL)
		return MP_OK;
	*dst = mp_strndup(p, n);
	return *dst != NULL ? MP_OK : MP_ENOMEM;
}

/* As set_str, without one trailing dot (an absolute name as Gmail writes it). */
static int
set_host(char **dst, const char *p, size_t n)
{
	if (n > 1 && p[n - 1] == '.')
		n--;
	return set_str(dst, p, n);
}

/*
 * Parses an IP address written as "192.0.2.1", "2001:db8::1", "[192.0.2.1]",
 * "[IPv6:2001:db8::1]" (RFC 5321 section 4.1.3) or with a ":port" after the bracket
 * (Exim).  Writes canonical text; an IPv4-mapped IPv6 address becomes IPv4 because SPF
 * evaluates those as IPv4 (RFC 7208 section 5).
 */
static bool
ip_parse(const char *p, size_t n, char out[INET6_ADDRSTRLEN])
{
	char tmp[IP_TEXT_MAX];
	struct in_addr a4;
	struct in6_addr a6;
	const char *close;

	if (n == 0 || n >= sizeof(tmp))
		return false;
	if (p[0] == '[') {
		close = memchr(p, ']', n);
		if (close == NULL)
			return false;
		/* whatever follows the bracket must be a port */
		if ((size_t)(close - p) + 1 < n && close[1] != ':')
			return false;
		n = (size_t)(close - p) - 1;
		p++;
		if (n > 5 && strncasecmp(p, "IPv6:", 5) == 0) {
			p += 5;
			n -= 5;
		}
	}
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, &a4) == 1)
		return inet_ntop(AF_INET, &a4, out, INET6_ADDRSTRLEN) != NULL;
	if (inet_pton(AF_INET6, tmp, &a6) != 1)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4.s_addr, &a6.s6_addr[12], 4);
		return inet_ntop(AF_INET, &a4, out, INET6_ADDRSTRLEN) != NULL;
	}
	return inet_ntop(AF_INET6, &a6, out, INET6_ADDRSTRLEN) != NULL;
}

/* A plausible host name: letters, digits, '-', '_' and '.', at most 255 bytes. */
static bool
host_like(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > 255)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* What the comments of a from clause said (RFC 5321 section 4.4 TCP-info, and vendor forms). */
struct from_info {
	const char *helo; /* "HELO x" / "EHLO x" (qmail, Yahoo) or "helo=x" (Exim) */
	size_t helo_n;
	const char *rdns; /* the name before "[ip]" (Postfix, sendmail, Gmail) */
	size_t rdns_n;
	bool has_ip;
	char ip[INET6_ADDRSTRLEN];
};

static void
from_comment(const char *c, size_t cn, struct from_info *fi)
{
	struct tok w[COMMENT_WORDS], t;
	size_t nw = 0, pos = 0, i;

	for (;;) {
		next_tok(c, cn, &pos, &t);
		if (t.kind == TOK_END || nw == COMMENT_WORDS)
			break;
		if (t.kind == TOK_WORD)
			w[nw++] = t;
	}
	if (nw == 0)
		return;
	if (nw >= 2 && (tok_ieq(&w[0], "HELO") || tok_ieq(&w[0], "EHLO"))) {
		if (fi->helo == NULL) {
			fi->helo = w[1].p;
			fi->helo_n = w[1].n;
		}
		return;
	}
	for (i = 0; i < nw; i++) {
		if (w[i].n > 5 && strncasecmp(w[i].p, "helo=", 5) == 0) {
			if (fi->helo == NULL) {
				fi->helo = w[i].p + 5;
				fi->helo_n = w[i].n - 5;
			}
		} else if (w[i].p[0] == '[' && !fi->has_ip && ip_parse(w[i].p, w[i].n, fi->ip)) {
			fi->has_ip = true;
			if (i > 0 && fi->rdns == NULL && host_like(w[i - 1].p, w[i - 1].n)) {
				fi->rdns = w[i - 1].p;
				fi->rdns_n = w[i - 1].n;
			}
		}
	}
	/* "(192.0.2.10)": Exchange, qmail and Yahoo write the address alone, unbracketed */
	if (!fi->has_ip && nw == 1 && ip_parse(w[0].p, w[0].n, fi->ip))
		fi->has_ip = true;
}

/* "(envelope-from <x>)" as Dovecot LMTP and Exim write it, anywhere in the field. */
static int
envelope_comment(const char *c, size_t cn, struct mp_received *out)
{
	struct tok t;
	size_t pos = 0;

	next_tok(c, cn, &pos, &t);
	if (!tok_ieq(&t, "envelope-from"))
		return MP_OK;
	next_tok(c, cn, &pos, &t);
	if (t.kind == TOK_ANGLE)
		return set_str(&out->envelope_from, t.p, t.n);
	if (t.kind == TOK_WORD)
		return set_str(&out->envelope_from, t.p, t.n);
	return MP_OK;
}

enum clause {
	C_NONE,
	C_FROM,
	C_BY,
	C_VIA,
	C_WITH,
	C_ID,
	C_FOR,
	C_OTHER, /* words after a clause's value, or unknown clauses */
};

static enum clause
keyword(const struct tok *t)
{
	static const struct {
		const char *w;
		enum clause c;
	} kw[] = {
		{ "from", C_FROM }, { "by", C_BY }, { "via", C_VIA },
		{ "with", C_WITH }, { "id", C_ID }, { "for", C_FOR },
	};
	size_t i;

	for (i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (tok_ieq(t, kw[i].w))
			return kw[i].c;
	return C_NONE;
}

/* Turns the from word and its comments into helo / rdns / ip. */
static int
from_finish(const struct tok *fw, const struct from_info *fi, struct mp_received *out)
{
	char ip[INET6_ADDRSTRLEN];
	bool word_ip = fw != NULL && ip_parse(fw->p, fw->n, ip);
	int rc = MP_OK;

	if (fi->helo != NULL) {
		/* qmail, Yahoo and Exim: the from word is the receiver's name for the client */
		rc = set_str(&out->from_helo, fi->helo, fi->helo_n);
		if (rc == MP_OK && fw != NULL && !word_ip && fi->rdns == NULL &&
		    host_like(fw->p, fw->n) && !mp_ieq(fw->p, fw->n, "unknown"))
			rc = set_host(&out->from_rdns, fw->p, fw->n);
	} else if (fw != NULL && !(word_ip && fw->p[0] != '[') &&
		   !mp_ieq(fw->p, fw->n, "unknown")) {
		/* RFC 5321 section 4.4: "from" is followed by the EHLO argument ("unknown"
		 * stands for none given) */
		rc = set_str(&out->from_helo, fw->p, fw->n);
	}
	if (rc == MP_OK && fi->rdns != NULL && !mp_ieq(fi->rdns, fi->rdns_n, "unknown"))
		rc = set_host(&out->from_rdns, fi->rdns, fi->rdns_n);
	if (rc == MP_OK && fi->has_ip)
		rc = set_str(&out->from_ip, fi->ip, strlen(fi->ip));
	else if (rc == MP_OK && word_ip)
		rc = set_str(&out->from_ip, ip, strlen(ip));
	return rc;
}

/* Position of the last top-level ';' (RFC 5322 section 3.6.7: ";" date-time), or n. */
static size_t
last_semicolon(const char *s, size_t n)
{
	struct tok t;
	size_t pos = 0, semi = n;

	for (;;) {
		next_tok(s, n, &pos, &t);
		if (t.kind == TOK_END)
			break;
		if (t.kind == TOK_SEMI)
			semi = pos - 1;
	}
	return semi;
}

/* Parses the clauses in s[0..n); the walk is one pass over the tokens, so it is linear. */
static int
parse_clauses(const char *s, size_t n, struct mp_received *out)
{
	struct from_info fi;
	struct tok t, fw;
	enum clause cl = C_NONE, kw;
	bool want_value = false, have_from = false, from_done = false;
	const char *with_start = NULL, *with_end = NULL;
	size_t pos = 0;
	int rc = MP_OK;

	memset(&fi, 0, sizeof(fi));
	memset(&fw, 0, sizeof(fw));
	for (;;) {
		next_tok(s, n, &pos, &t);
		if (t.kind == TOK_END)
			break;
		if (t.kind == TOK_COMMENT) {
			if (cl == C_FROM && !from_done)
				from_comment(t.p, t.n, &fi);
			if ((rc = envelope_comment(t.p, t.n, out)) != MP_OK)
				goto out;
			if (cl == C_WITH)
				cl = C_OTHER;
			continue;
		}
		if (t.kind == TOK_SEMI)
			continue;
		if (t.kind == TOK_ANGLE) {
			if (cl == C_FOR && want_value &&
			    (rc = set_str(&out->for_addr, t.p, t.n)) != MP_OK)
				goto out;
			want_value = false;
			if (cl == C_WITH)
				cl = C_OTHER;
			continue;
		}
		/* a word: the value of the clause just named, a keyword, or more of a value */
		if (!want_value && (kw = keyword(&t)) != C_NONE) {
			if (cl == C_FROM)
				from_done = true;
			/* a clause named twice keeps its first value */
			cl = kw;
			want_value = true;
			continue;
		}
		if (want_value) {
			want_value = false;
			switch (cl) {
			case C_FROM:
				if (!have_from) {
					fw = t;
					have_from = true;
				}
				break;
			case C_BY:
				rc = set_host(&out->by_host, t.p, t.n);
				break;
			case C_WITH:
				if (out->with == NULL && with_start == NULL) {
					with_start = t.p;
					with_end = t.p + t.n;
				} else {
					cl = C_OTHER;
				}
				break;
			case C_ID:
				rc = set_str(&out->id, t.p, t.n);
				break;
			case C_FOR:
				rc = set_str(&out->for_addr, t.p, t.n);
				break;
			default:
				break;
			}
			if (rc != MP_OK)
				goto out;
			continue;
		}
		/* "with Microsoft SMTP Server": a protocol name of several words */
		if (cl == C_WITH && with_start != NULL)
			with_end = t.p + t.n;
	}
	if (with_start != NULL && out->with == NULL) {
		out->with = dup_collapse(with_start, (size_t)(with_end - with_start));
		if (out->with == NULL) {
			rc = MP_ENOMEM;
			goto out;
		}
	}
	if (have_from || fi.has_ip || fi.helo != NULL)
		rc = from_finish(have_from ? &fw : NULL, &fi, out);
out:
	return rc;
}

int
mp_received_parse(const char *v, size_t n, struct mp_received *out, struct mp_err *err)
{
	size_t semi;
	int rc = MP_OK;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (out == NULL || (v == NULL && n > 0)) {
		rc = mp_err_set(err, MP_EINVAL, "Received: no input or no output");
		goto out;
	}
	if (n > MP_RECEIVED_MAX) {
		rc = mp_err_set(err, MP_ETOOBIG, _("Received field longer than %u bytes"),
				MP_RECEIVED_MAX);
		goto out;
	}
	if (n == 0) {
		rc = mp_err_set(err, MP_EPARSE, _("empty Received field"));
		goto out;
	}
	semi = last_semicolon(v, n);
	if (semi < n) {
		out->date = dup_collapse(v + semi + 1, n - semi - 1);
		if (out->date == NULL) {
			rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
			goto out;
		}
		if (out->date[0] == '\0') {
			free(out->date);
			out->date = NULL;
		}
	}
	rc = parse_clauses(v, semi, out);
	if (rc != MP_OK) {
		rc = mp_err_set(err, rc, _("out of memory"));
		goto out;
	}
	if (out->from_helo == NULL && out->from_rdns == NULL && out->from_ip == NULL &&
	    out->by_host == NULL)
		rc = mp_err_set(err, MP_EPARSE,
				_("Received field has neither a from nor a by clause"));
out:
	if (rc != MP_OK)
		mp_received_dispose(out);
	return rc;
}

void
mp_received_dispose(struct mp_received *r)
{
	if (r == NULL)
		return;
	free(r->from_helo);
	free(r->from_rdns);
	free(r->from_ip);
	free(r->by_host);
	free(r->with);
	free(r->id);
	free(r->envelope_from);
	free(r->for_addr);
	free(r->date);
	memset(r, 0, sizeof(*r));
}

/* ---- Received-SPF (RFC 7208 section 9.1) ---- */

static const char *
spf_result_word(const char *p, size_t n)
{
	static const char *const words[] = {
		"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", "policy",
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (mp_ieq(p, n, words[i]))
			return words[i];
	/* the pre-RFC 4408 drafts' names, still written by old filters */
	if (mp_ieq(p, n, "error"))
		return "temperror";
	if (mp_ieq(p, n, "unknown"))
		return "permerror";
	return NULL;
}

static bool
is_key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* "... domain of x@y designates 192.0.2.10 as permitted sender": a fallback for the keys. */
static int
spf_comment(const char *c, size_t cn, struct mp_received_spf *out)
{
	struct tok t, prev, prev2;
	char ip[INET6_ADDRSTRLEN];
	size_t pos = 0;
	int rc = MP_OK;

	memset(&prev, 0, sizeof(prev));
	memset(&prev2, 0, sizeof(prev2));
	for (;;) {
		next_tok(c, cn, &pos, &t);
		if (t.kind == TOK_END)
			break;
		if (t.kind != TOK_WORD)
			continue;
		if ((tok_ieq(&prev, "designates") || tok_ieq(&prev, "designate")) &&
		    out->client_ip == NULL && ip_parse(t.p, t.n, ip))
			rc = set_str(&out->client_ip, ip, strlen(ip));
		else if (tok_ieq(&prev2, "domain") && tok_ieq(&prev, "of") &&
			 memchr(t.p, '@', t.n) != NULL)
			rc = set_str(&out->envelope_from, t.p, t.n);
		if (rc != MP_OK)
			break;
		prev2 = prev;
		prev = t;
	}
	return rc;
}

static int
spf_store(struct mp_received_spf *out, const char *k, size_t kn, const char *v, size_t vn)
{
	char ip[INET6_ADDRSTRLEN];

	if (mp_ieq(k, kn, "client-ip"))
		return ip_parse(v, vn, ip) ? set_str(&out->client_ip, ip, strlen(ip)) : MP_OK;
	if (mp_ieq(k, kn, "helo"))
		return set_str(&out->helo, v, vn);
	if (mp_ieq(k, kn, "envelope-from"))
		return set_str(&out->envelope_from, v, vn);
	if (mp_ieq(k, kn, "receiver"))
		return set_str(&out->receiver, v, vn);
	if (mp_ieq(k, kn, "identity"))
		return set_str(&out->identity, v, vn);
	if (mp_ieq(k, kn, "mechanism"))
		return set_str(&out->mechanism, v, vn);
	if (mp_ieq(k, kn, "problem"))
		return set_str(&out->problem, v, vn);
	return MP_OK;
}

/* Skips whitespace and comments; returns the new position. */
static size_t
skip_cfws(const char *s, size_t n, size_t pos)
{
	struct tok t;

	for (;;) {
		while (pos < n && is_space((unsigned char)s[pos]))
			pos++;
		if (pos >= n || s[pos] != '(')
			return pos;
		scan_comment(s, n, &pos, &t);
	}
}

/*
 * key-value-list (RFC 7208 section 9.1): key [CFWS] "=" (dot-atom / quoted-string), ';'
 * separated.  Values end at whitespace, ';' or '(' so that "receiver=<UNKNOWN>" and
 * addresses survive; anything that is not a pair is skipped.  Every turn advances pos.
 */
static int
spf_pairs(const char *s, size_t n, size_t pos, struct mp_received_spf *out, struct mp_buf *qb)
{
	struct tok t, comment = { TOK_END, NULL, 0 };
	size_t ks, kn, vs, eq;
	int rc = MP_OK;

	while (pos < n && rc == MP_OK) {
		unsigned char c = (unsigned char)s[pos];

		if (is_space(c) || c == ';' || c == ')') {
			pos++;
			continue;
		}
		if (c == '(') {
			scan_comment(s, n, &pos, &t);
			if (comment.kind == TOK_END)
				comment = t;
			continue;
		}
		ks = pos;
		while (pos < n && is_key_char((unsigned char)s[pos]))
			pos++;
		kn = pos - ks;
		eq = skip_cfws(s, n, pos);
		if (kn == 0 || eq >= n || s[eq] != '=') {
			/* not a pair: skip the rest of this word */
			while (pos < n && !is_space((unsigned char)s[pos]) && s[pos] != ';' &&
			       s[pos] != '(')
				pos++;
			if (pos == ks)
				pos++;
			continue;
		}
		pos = skip_cfws(s, n, eq + 1);
		if (pos < n && s[pos] == '"') {
			mp_buf_reset(qb);
			for (pos++; pos < n && s[pos] != '"' && rc == MP_OK; pos++) {
				if (s[pos] == '\\' && pos + 1 < n)
					pos++;
				rc = mp_buf_addc(qb, s[pos]);
			}
			if (pos < n)
				pos++;
			if (rc == MP_OK)
				rc = spf_store(out, s + ks, kn, mp_buf_cstr(qb), qb->len);
			continue;
		}
		vs = pos;
		while (pos < n && !is_space((unsigned char)s[pos]) && s[pos] != ';' && s[pos] != '(')
			pos++;
		rc = spf_store(out, s + ks, kn, s + vs, pos - vs);
	}
	/* after the pairs, so that a key always wins over the comment */
	if (rc == MP_OK && comment.kind == TOK_COMMENT)
		rc = spf_comment(comment.p, comment.n, out);
	return rc;
}

int
mp_received_spf_parse(const char *v, size_t n, struct mp_received_spf *out, struct mp_err *err)
{
	struct mp_buf qb;
	const char *word;
	size_t pos, ws;
	int rc = MP_OK;

	mp_buf_init(&qb, MP_RECEIVED_MAX);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (out == NULL || (v == NULL && n > 0)) {
		rc = mp_err_set(err, MP_EINVAL, "Received-SPF: no input or no output");
		goto out;
	}
	if (n > MP_RECEIVED_MAX) {
		rc = mp_err_set(err, MP_ETOOBIG, _("Received-SPF field longer than %u bytes"),
				MP_RECEIVED_MAX);
		goto out;
	}
	pos = skip_cfws(v, n, 0);
	ws = pos;
	while (pos < n && ((v[pos] >= 'a' && v[pos] <= 'z') || (v[pos] >= 'A' && v[pos] <= 'Z')))
		pos++;
	word = pos > ws ? spf_result_word(v + ws, pos - ws) : NULL;
	if (word == NULL || (pos < n && !is_space((unsigned char)v[pos]) && v[pos] != '(' &&
			     v[pos] != ';')) {
		rc = mp_err_set(err, MP_EPARSE,
				_("Received-SPF field does not start with an SPF result"));
		goto out;
	}
	out->result = mp_strdup_z(word);
	if (out->result == NULL || (rc = spf_pairs(v, n, pos, out, &qb)) != MP_OK) {
		rc = mp_err_set(err, rc == MP_ETOOBIG ? MP_ETOOBIG : MP_ENOMEM,
				_("Received-SPF: out of memory"));
		goto out;
	}
out:
	mp_buf_dispose(&qb);
	if (rc != MP_OK)
		mp_received_spf_dispose(out);
	return rc;
}

void
mp_received_spf_dispose(struct mp_received_spf *r)
{
	if (r == NULL)
		return;
	free(r->result);
	free(r->client_ip);
	free(r->helo);
	free(r->envelope_from);
	free(r->receiver);
	free(r->identity);
	free(r->mechanism);
	free(r->problem);
	memset(r, 0, sizeof(*r));
}

/* ---- the hop that handed the message over ---- */

/*
 * Loopback, private (RFC 1918), shared (RFC 6598), link-local and unspecified IPv4;
 * loopback, unique-local (RFC 4193) and link-local IPv6.  Documentation ranges count as
 * public: tests use them for the outside world.
 */
static bool
ip_is_internal(const char *ip)
{
	struct in_addr a4;
	struct in6_addr a6;
	uint32_t a;

	if (ip == NULL)
		return false;
	if (inet_pton(AF_INET, ip, &a4) == 1) {
		a = ntohl(a4.s_addr);
		return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
		       (a >> 16) == 0xa9fe || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8 ||
		       (a >> 22) == (100u << 2 | 1u);
	}
	if (inet_pton(AF_INET6, ip, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_UNSPECIFIED(&a6) ||
		       IN6_IS_ADDR_LINKLOCAL(&a6) || (a6.s6_addr[0] & 0xfe) == 0xfc;
	return false;
}

/* Microsoft's own IPv6 space that its internal hops use: 2603:1000::/24, 2a01:111::/32. */
static bool
ip_is_microsoft(const char *ip)
{
	struct in6_addr a6;

	if (ip == NULL || inet_pton(AF_INET6, ip, &a6) != 1)
		return false;
	return (a6.s6_addr[0] == 0x26 && a6.s6_addr[1] == 0x03 && a6.s6_addr[2] == 0x10) ||
	       (a6.s6_addr[0] == 0x2a && a6.s6_addr[1] == 0x01 && a6.s6_addr[2] == 0x01 &&
		a6.s6_addr[3] == 0x11);
}

/* host equals dom, or ends in "." + dom; ASCII case-insensitive, a trailing dot ignored. */
static bool
host_under(const char *host, const char *dom)
{
	size_t hn, dn;

	if (host == NULL || dom == NULL)
		return false;
	hn = strlen(host);
	dn = strlen(dom);
	if (hn > 0 && host[hn - 1] == '.')
		hn--;
	if (dn > 0 && dom[dn - 1] == '.')
		dn--;
	if (dn == 0 || hn < dn || strncasecmp(host + hn - dn, dom, dn) != 0)
		return false;
	return hn == dn || host[hn - dn - 1] == '.';
}

static bool
host_is_microsoft(const char *host)
{
	return host_under(host, "prod.outlook.com") || host_under(host, "protection.outlook.com") ||
	       host_under(host, "outlook.office365.com") ||
	       host_under(host, "prod.exchangelabs.com");
}

static bool
host_is_ip(const char *host)
{
	char ip[INET6_ADDRSTRLEN];

	return host != NULL && ip_parse(host, strlen(host), ip);
}

/* Whether s contains the lower-case word w, ASCII case-insensitively. */
static bool
contains_ci(const char *s, const char *w)
{
	size_t sn = strlen(s), wn = strlen(w), i;

	for (i = 0; wn <= sn && i <= sn - wn; i++)
		if (strncasecmp(s + i, w, wn) == 0)
			return true;
	return false;
}

/* Hops passed over whoever wrote them (see received.h). */
static bool
hop_transparent(const struct mp_received *h)
{
	const char *from = h->from_rdns != NULL ? h->from_rdns : h->from_helo;

	if (h->with != NULL && (contains_ci(h->with, "lmtp") || mp_ieq_z(h->with, "local")))
		return true;
	if (from == NULL && h->from_ip == NULL && host_is_ip(h->by_host))
		return true;
	if (host_is_microsoft(from) && host_is_microsoft(h->by_host) &&
	    (h->from_ip == NULL || ip_is_internal(h->from_ip) || ip_is_microsoft(h->from_ip)))
		return true;
	return false;
}

/* Whether the sender of hop h is itself inside the organisation.  A HELO name is the
 * client's claim, so it counts only from an address no outsider can connect from. */
static bool
hop_from_trusted(const struct mp_received *h, mp_received_trust_fn trusted, void *arg)
{
	if (h->from_rdns != NULL)
		return trusted(h->from_rdns, arg);
	if (h->from_helo != NULL && (h->from_ip == NULL || ip_is_internal(h->from_ip)))
		return trusted(h->from_helo, arg);
	return false;
}

static bool
trust_org(const char *host, void *arg)
{
	return host_under(host, arg);
}

/* The registrable domain of the topmost by-host that is a name, for the default trust. */
static int
default_org(const struct mp_received *hops, size_t n, char **org)
{
	const psl_ctx_t *psl = psl_builtin();
	const char *host = NULL, *reg, *dot;
	char *lc = NULL;
	size_t i;
	int rc = MP_OK;

	*org = NULL;
	for (i = 0; i < n && host == NULL; i++)
		if (hops[i].by_host != NULL && strchr(hops[i].by_host, '.') != NULL &&
		    !host_is_ip(hops[i].by_host))
			host = hops[i].by_host;
	if (host == NULL) {
		rc = MP_ENOTFOUND;
		goto out;
	}
	if (psl != NULL && psl_str_to_utf8lower(host, "utf-8", NULL, &lc) == PSL_SUCCESS &&
	    (reg = psl_registrable_domain(psl, lc)) != NULL) {
		*org = mp_domain_norm(reg);
	} else {
		/* no usable PSL answer: the parent domain of the host */
		dot = strchr(host, '.');
		*org = mp_domain_norm(dot[1] != '\0' && strchr(dot + 1, '.') != NULL ? dot + 1 : host);
	}
	if (*org == NULL)
		rc = MP_ENOMEM;
out:
	if (lc != NULL)
		psl_free_string(lc);
	return rc;
}

int
mp_received_pick(const struct mp_received *hops, size_t n, mp_received_trust_fn trusted,
		 void *arg, size_t *index)
{
	const struct mp_received *h;
	char *org = NULL;
	bool inside = false, by_ok, have_fallback = false;
	size_t i, fallback = 0;
	int rc = MP_ENOTFOUND;

	if ((hops == NULL && n > 0) || index == NULL) {
		rc = MP_EINVAL;
		goto out;
	}
	if (trusted == NULL) {
		if ((rc = default_org(hops, n, &org)) != MP_OK)
			goto out;
		trusted = trust_org;
		arg = org;
		rc = MP_ENOTFOUND;
	}
	for (i = 0; i < n; i++) {
		h = &hops[i];
		if (hop_transparent(h))
			continue;
		by_ok = inside || (h->by_host != NULL && trusted(h->by_host, arg));
		if (!by_ok)
			break;
		/* the sender of this hop wrote the next field: trust it only if it is inside */
		inside = true;
		if (hop_from_trusted(h, trusted, arg))
			continue;
		if (h->from_ip == NULL) {
			/* nothing to check, and no way to know who wrote the next field */
			inside = false;
			continue;
		}
		if (ip_is_internal(h->from_ip)) {
			if (!have_fallback) {
				fallback = i;
				have_fallback = true;
			}
			continue;
		}
		*index = i;
		rc = MP_OK;
		goto out;
	}
	if (have_fallback) {
		*index = fallback;
		rc = MP_OK;
	}
out:
	free(org);
	return rc;
}

const char *
mp_received_envelope_from(const struct mp_received *hops, size_t n, size_t index)
{
	size_t i;

	for (i = 0; hops != NULL && i < n && i <= index; i++)
		if (hops[i].envelope_from != NULL)
			return hops[i].envelope_from;
	return NULL;
}
