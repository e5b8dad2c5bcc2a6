/* compose.c - see compose.h.  RFC 5322 (message format), RFC 2045/2046 (MIME,
 * quoted-printable, multipart/alternative), RFC 2047 (encoded words in headers). */
#include "compose.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include "util.h"

#define LINE_MAX_COLS 78 /* RFC 5322 section 2.1.1 "SHOULD" */
#define QP_COLS 76	 /* RFC 2045 section 6.7 rule 5 */
#define EW_PAYLOAD 63	 /* 75 - strlen("=?UTF-8?Q?") - strlen("?=") */

static int
read_file(const char *path, char **out, size_t *len, struct mp_err *err)
{
	FILE *fp;
	char *p;
	size_t n;

	if ((fp = fopen(path, "r")) == NULL)
		return mp_err_set(err, errno == ENOENT ? MP_ENOTFOUND : MP_EIO, "%s: %s", path,
				  strerror(errno));
	if ((p = malloc(MP_TEMPLATE_MAX + 1)) == NULL) {
		fclose(fp);
		return mp_err_set(err, MP_ENOMEM, "out of memory");
	}
	n = fread(p, 1, MP_TEMPLATE_MAX + 1, fp);
	fclose(fp);
	if (n > MP_TEMPLATE_MAX) {
		free(p);
		return mp_err_set(err, MP_ETOOBIG, "%s: larger than %d bytes", path,
				  MP_TEMPLATE_MAX);
	}
	p[n] = '\0';
	*out = p;
	*len = n;
	return 0;
}

int
mp_templates_load(struct mp_templates *t, const char *dir, const char *lang, struct mp_err *err)
{
	char path[4096];
	int ret;

	memset(t, 0, sizeof(*t));
	if ((size_t)snprintf(path, sizeof(path), "%s/notification-%s.txt", dir, lang) >=
	    sizeof(path))
		return mp_err_set(err, MP_EINVAL, "template directory name too long");
	if ((ret = read_file(path, &t->text, &t->text_len, err)) != 0)
		return ret;
	snprintf(path, sizeof(path), "%s/notification-%s.html", dir, lang);
	if ((ret = read_file(path, &t->html, &t->html_len, err)) != 0) {
		mp_templates_dispose(t);
		return ret;
	}
	return 0;
}

void
mp_templates_dispose(struct mp_templates *t)
{
	free(t->text);
	free(t->html);
	memset(t, 0, sizeof(*t));
}

int
mp_compose_test_id(char *out, size_t outlen, struct mp_err *err)
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"; /* RFC 4648 */
	unsigned char r[5];
	unsigned long long v = 0;
	size_t i;

	if (outlen < 12)
		return mp_err_set(err, MP_EINVAL, "test id buffer too small");
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return mp_err_set(err, MP_EIO, "getrandom: %s", strerror(errno));
	for (i = 0; i < sizeof(r); i++)
		v = v << 8 | r[i];
	memcpy(out, "MP-", 3);
	for (i = 0; i < 8; i++)
		out[3 + i] = b32[(v >> (35 - 5 * i)) & 31];
	out[11] = '\0';
	return 0;
}

static bool
is_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || s[i] == '\0')
			return false;
	return true;
}

/* --- headers ------------------------------------------------------------ */

/* Emits atoms separated by one space, folding before an atom that would pass column 78. */
struct folder {
	struct mp_buf *b;
	size_t col;
	int ret;
};

static void
fold_atom(struct folder *f, const char *a, size_t n, bool first)
{
	if (f->ret != 0)
		return;
	if (!first) {
		if (f->col + 1 + n > LINE_MAX_COLS) {
			f->ret = mp_buf_add(f->b, "\r\n ", 3);
			f->col = 1;
		} else {
			f->ret = mp_buf_addc(f->b, ' ');
			f->col++;
		}
	}
	if (f->ret == 0)
		f->ret = mp_buf_add(f->b, a, n);
	f->col += n;
}

/* RFC 2047 section 5 (3): the Q characters that are safe even inside a phrase. */
static bool
q_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

/* Encoded words for (s, n), each at most 75 characters, never splitting a UTF-8 character. */
static void
fold_encoded(struct folder *f, const char *s, size_t n, bool first)
{
	char word[80];
	size_t i = 0, w, k, seq;

	while (i < n && f->ret == 0) {
		w = (size_t)snprintf(word, sizeof(word), "=?UTF-8?Q?");
		while (i < n) {
			seq = mp_utf8_seqlen((const unsigned char *)s + i, n - i);
			if (seq == 0)
				seq = 1; /* invalid byte: encoded as is, never dropped */
			if (w + 3 * seq + 2 > 10 + EW_PAYLOAD + 2)
				break;
			for (k = 0; k < seq; k++, i++) {
				unsigned char c = (unsigned char)s[i];

				if (c == ' ')
					word[w++] = '_';
				else if (q_safe(c))
					word[w++] = (char)c;
				else
					w += (size_t)snprintf(word + w, sizeof(word) - w, "=%02X",
							      c);
			}
		}
		word[w++] = '?';
		word[w++] = '=';
		fold_atom(f, word, w, first);
		first = false;
	}
}

/*
 * A header with unstructured text (RFC 5322 section 3.2.5): plain words stay readable;
 * a run of words with non-ASCII bytes becomes encoded words, spaces inside the run
 * encoded so that they survive the decoding.
 */
static int
add_text_header(struct mp_buf *b, const char *name, const char *v)
{
	struct folder f = {b, strlen(name) + 1, 0};
	size_t n = strlen(v), i = 0, ws, we, run_end, j, ns, ne;

	if ((f.ret = mp_buf_printf(b, "%s:", name)) != 0)
		return f.ret;
	while (i < n && f.ret == 0) {
		while (i < n && v[i] == ' ')
			i++;
		if (i >= n)
			break;
		ws = i;
		while (i < n && v[i] != ' ')
			i++;
		we = i;
		if (is_ascii(v + ws, we - ws)) {
			fold_atom(&f, v + ws, we - ws, false);
			continue;
		}
		/* extend the run over the non-ASCII words that follow */
		run_end = we;
		for (;;) {
			for (j = run_end; j < n && v[j] == ' '; j++)
				;
			for (ns = j; j < n && v[j] != ' '; j++)
				;
			ne = j;
			if (ns == ne || is_ascii(v + ns, ne - ns))
				break;
			run_end = ne;
		}
		fold_encoded(&f, v + ws, run_end - ws, false);
		i = run_end;
	}
	return f.ret ? f.ret : mp_buf_add(b, "\r\n", 2);
}

/* The display name as an RFC 5322 phrase: atoms, a quoted string, or encoded words. */
static int
add_from_header(struct mp_buf *b, const char *name, const char *addr)
{
	struct folder f = {b, 5, 0};
	const char *p;
	bool plain = true;
	struct mp_buf q;
	int ret;

	if ((ret = mp_buf_adds(b, "From:")) != 0)
		return ret;
	if (name == NULL || *name == '\0') {
		fold_atom(&f, addr, strlen(addr), false);
		return f.ret ? f.ret : mp_buf_add(b, "\r\n", 2);
	}
	if (!is_ascii(name, strlen(name))) {
		fold_encoded(&f, name, strlen(name), false);
	} else {
		for (p = name; *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == ' ' ||
			      strchr("!#$%&'*+-/=?^_`{|}~", *p)))
				plain = false;
		mp_buf_init(&q, 1024);
		if (!plain) {
			ret = mp_buf_addc(&q, '"');
			for (p = name; *p != '\0' && ret == 0; p++) {
				if (*p == '"' || *p == '\\')
					ret = mp_buf_addc(&q, '\\');
				if (ret == 0)
					ret = mp_buf_addc(&q, *p);
			}
			if (ret == 0)
				ret = mp_buf_addc(&q, '"');
		} else {
			ret = mp_buf_adds(&q, name);
		}
		if (ret == 0)
			fold_atom(&f, q.data, q.len, false);
		mp_buf_dispose(&q);
		if (ret != 0)
			return ret;
	}
	if (f.ret == 0) {
		char a[512];
		int an = snprintf(a, sizeof(a), "<%s>", addr);

		if (an < 0 || (size_t)an >= sizeof(a))
			return MP_ETOOBIG;
		fold_atom(&f, a, (size_t)an, false);
	}
	return f.ret ? f.ret : mp_buf_add(b, "\r\n", 2);
}

static int
add_to_header(struct mp_buf *b, const char *const *to, size_t nto)
{
	struct folder f = {b, 3, 0};
	char a[512];
	size_t i;
	int an;

	if ((f.ret = mp_buf_adds(b, "To:")) != 0)
		return f.ret;
	for (i = 0; i < nto; i++) {
		an = snprintf(a, sizeof(a), "%s%s", to[i], i + 1 < nto ? "," : "");
		if (an < 0 || (size_t)an >= sizeof(a))
			return MP_ETOOBIG;
		fold_atom(&f, a, (size_t)an, false);
	}
	return f.ret ? f.ret : mp_buf_add(b, "\r\n", 2);
}

/* --- templates ---------------------------------------------------------- */


static int
add_html_escaped(struct mp_buf *b, const char *s)
{
	int ret = 0;

	for (; *s != '\0' && ret == 0; s++) {
		switch (*s) {
		case '&':
			ret = mp_buf_adds(b, "&amp;");
			break;
		case '<':
			ret = mp_buf_adds(b, "&lt;");
			break;
		case '>':
			ret = mp_buf_adds(b, "&gt;");
			break;
		case '"':
			ret = mp_buf_adds(b, "&quot;");
			break;
		case '\'':
			ret = mp_buf_adds(b, "&#39;");
			break;
		default:
			ret = mp_buf_addc(b, *s);
		}
	}
	return ret;
}

int
mp_template_expand(struct mp_buf *out, const char *s, size_t n, const struct mp_tpl_var *vars,
		   size_t nvars, bool html, struct mp_err *err)
{
	size_t i = 0, k, e;
	int ret = 0;

	while (i < n && ret == 0) {
		if (s[i] == '\r') {
			i++;
			continue;
		}
		if (s[i] != '{' || i + 1 >= n || s[i + 1] != '{') {
			ret = mp_buf_addc(out, s[i++]);
			continue;
		}
		for (e = i + 2; e + 1 < n && !(s[e] == '}' && s[e + 1] == '}') && e - i < 40; e++)
			;
		if (e + 1 >= n || s[e] != '}' || s[e + 1] != '}')
			return mp_err_set(err, MP_EINVAL, "template: unterminated {{ variable");
		for (k = 0; k < nvars; k++)
			if (strlen(vars[k].name) == e - i - 2 &&
			    memcmp(vars[k].name, s + i + 2, e - i - 2) == 0)
				break;
		if (k == nvars)
			return mp_err_set(err, MP_EINVAL, "template: unknown variable {{%.*s}}",
					  (int)(e - i - 2), s + i + 2);
		ret = html ? add_html_escaped(out, vars[k].value) : mp_buf_adds(out, vars[k].value);
		i = e + 2;
	}
	if (ret != 0)
		return mp_err_set(err, ret, "message too large");
	return 0;
}

/* Whether (s, n) (LF line ends) can go as 7bit: ASCII and every line within 78 columns. */
static bool
fits_7bit(const char *s, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80 || s[i] == '\0')
			return false;
		col = s[i] == '\n' ? 0 : col + 1;
		if (col > LINE_MAX_COLS)
			return false;
	}
	return true;
}

/* RFC 2045 section 6.7: soft breaks keep lines within 76 columns; never split an =XX. */
static int
add_qp(struct mp_buf *b, const char *s, size_t n)
{
	size_t i, col = 0, tl;
	char tok[4];
	int ret = 0;

	for (i = 0; i < n && ret == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		bool eol = i + 1 >= n || s[i + 1] == '\n';

		if (c == '\n') {
			ret = mp_buf_add(b, "\r\n", 2);
			col = 0;
			continue;
		}
		if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !eol)) {
			tok[0] = (char)c;
			tl = 1;
		} else {
			snprintf(tok, sizeof(tok), "=%02X", c);
			tl = 3;
		}
		/* room for the token, plus a soft break "=" unless the line ends here */
		if (col + tl > (eol ? QP_COLS : QP_COLS - 1)) {
			ret = mp_buf_add(b, "=\r\n", 3);
			col = 0;
		}
		if (ret == 0)
			ret = mp_buf_add(b, tok, tl);
		col += tl;
	}
	return ret;
}

static int
add_part(struct mp_buf *b, const char *boundary, const char *type, const struct mp_buf *body)
{
	bool plain = fits_7bit(body->data, body->len);
	size_t i;
	int ret;

	ret = mp_buf_printf(b,
			    "--%s\r\n"
			    "Content-Type: %s; charset=utf-8\r\n"
			    "Content-Transfer-Encoding: %s\r\n\r\n",
			    boundary, type, plain ? "7bit" : "quoted-printable");
	if (ret != 0)
		return ret;
	if (!plain)
		ret = add_qp(b, body->data, body->len);
	for (i = 0; plain && i < body->len && ret == 0; i++)
		ret = body->data[i] == '\n' ? mp_buf_add(b, "\r\n", 2)
					    : mp_buf_addc(b, body->data[i]);
	/* the delimiter's CRLF belongs to the boundary (RFC 2046 section 5.1.1) */
	if (ret == 0 && body->len > 0 && body->data[body->len - 1] != '\n')
		ret = mp_buf_add(b, "\r\n", 2);
	return ret;
}

int
mp_compose(const struct mp_templates *t, const struct mp_compose_in *in, struct mp_buf *out,
	   char **message_id, struct mp_err *err)
{
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	struct mp_buf text, html;
	char date[64], human[64], boundary[96], *lower = NULL, *subject = NULL;
	const char *body, *nl, *sstart;
	struct tm tm;
	size_t slen;
	int ret;

	*message_id = NULL;
	mp_buf_init(&text, MP_MESSAGE_MAX);
	mp_buf_init(&html, MP_MESSAGE_MAX);
	mp_buf_reset(out);
	/* UTC keeps the message the same wherever it is composed (and the golden tests stable). */
	if (gmtime_r(&in->when, &tm) == NULL) {
		ret = mp_err_set(err, MP_EINVAL, "time out of range");
		goto out;
	}
	snprintf(date, sizeof(date), "%s, %d %s %04d %02d:%02d:%02d +0000", wday[tm.tm_wday],
		 tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	snprintf(human, sizeof(human), "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	{
		const struct mp_tpl_var vars[] = {
		    {"customer", in->customer},
		    {"abbreviation", in->abbreviation},
		    {"domain", in->domain},
		    {"extranet_url", in->extranet_url},
		    {"contact", in->contact},
		    {"test_id", in->test_id},
		    {"date", human},
		};
		size_t nv = sizeof(vars) / sizeof(vars[0]);

		if ((ret = mp_template_expand(&text, t->text, t->text_len, vars, nv, false, err)) != 0 ||
		    (ret = mp_template_expand(&html, t->html, t->html_len, vars, nv, true, err)) != 0)
			goto out;
	}
	/* The text template starts with "Subject: ..." and an empty line. */
	body = mp_buf_cstr(&text);
	if (strncmp(body, "Subject:", 8) != 0 || (nl = strchr(body, '\n')) == NULL ||
	    nl[1] != '\n') {
		ret = mp_err_set(err, MP_EINVAL,
				 "template: the text template must start with \"Subject: ...\" "
				 "and an empty line");
		goto out;
	}
	slen = (size_t)(nl - body) - 8;
	sstart = mp_trim(body + 8, &slen);
	if ((subject = mp_strndup(sstart, slen)) == NULL) {
		ret = mp_err_set(err, MP_ENOMEM, "out of memory");
		goto out;
	}
	memmove(text.data, nl + 2, text.len - (size_t)(nl + 2 - body));
	text.len -= (size_t)(nl + 2 - body);
	text.data[text.len] = '\0';

	if ((lower = mp_strdup_z(in->test_id)) == NULL) {
		ret = mp_err_set(err, MP_ENOMEM, "out of memory");
		goto out;
	}
	mp_lower(lower);
	snprintf(boundary, sizeof(boundary), "=_mailproof_%s", lower);
	ret = mp_buf_printf(out, "Date: %s\r\n", date);
	if (ret == 0)
		ret = add_from_header(out, in->from_name, in->from_addr);
	if (ret == 0)
		ret = add_to_header(out, in->to, in->nto);
	if (ret == 0)
		ret = add_text_header(out, "Subject", subject);
	if (ret == 0)
		ret = mp_buf_printf(out, "Message-ID: <%s.%lld@%s>\r\n", lower, (long long)in->when,
				    in->domain);
	if (ret == 0)
		ret = mp_buf_printf(out,
				    "X-Mailproof-Test-Id: %s\r\n"
				    "MIME-Version: 1.0\r\n"
				    "Content-Language: %s\r\n"
				    "Content-Type: multipart/alternative;\r\n"
				    " boundary=\"%s\"\r\n"
				    "\r\n"
				    "This is a message in MIME format.\r\n"
				    "\r\n",
				    in->test_id, in->lang, boundary);
	if (ret == 0)
		ret = add_part(out, boundary, "text/plain", &text);
	if (ret == 0)
		ret = mp_buf_adds(out, "\r\n");
	if (ret == 0)
		ret = add_part(out, boundary, "text/html", &html);
	if (ret == 0)
		ret = mp_buf_printf(out, "\r\n--%s--\r\n", boundary);
	if (ret != 0) {
		ret =
		    mp_err_set(err, ret, ret == MP_ETOOBIG ? "message too large" : "out of memory");
		goto out;
	}
	if ((*message_id = malloc(strlen(lower) + strlen(in->domain) + 32)) == NULL) {
		ret = mp_err_set(err, MP_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(*message_id, strlen(lower) + strlen(in->domain) + 32, "<%s.%lld@%s>", lower,
		 (long long)in->when, in->domain);
out:
	free(lower);
	free(subject);
	mp_buf_dispose(&text);
	mp_buf_dispose(&html);
	return ret;
}

const char *
mp_templates_dir(void)
{
	const char *env = getenv("MAILPROOF_TEMPLATES");

	if (env != NULL && *env != '\0')
		return env;
	if (access(MP_DATADIR "/notification-nl.txt", R_OK) == 0)
		return MP_DATADIR;
#ifdef MP_SOURCE_TEMPLATES
	return MP_SOURCE_TEMPLATES; /* running from the build tree */
#else
	return MP_DATADIR;
#endif
}
