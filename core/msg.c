/*
 * msg.c - see msg.h.
 *
 * mbox (RFC 4155) reading rules, chosen for the mboxes that mutt, Thunderbird and
 * Gmail Takeout write:
 * - a message starts at a line beginning with "From " at the start of the file or
 *   right after an empty line (every mboxo/mboxrd writer puts one there); a "From "
 *   line elsewhere is ordinary text;
 * - the "From " line is not part of the message, nor is the one empty line before the
 *   next "From " line (or before the end of the file);
 * - a line matching ^>+From  loses one '>' (mboxrd).  In an mboxo file a body line
 *   that really began with ">From " cannot be told from an escaped "From ": it loses
 *   its '>' too; that ambiguity is inherent in mboxo.
 * - the file ending inside a header section makes that message bad; ending inside a
 *   body just ends the message.
 */
#include "msg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "i18n.h"
#include "util.h"

#define NAME_MAX_LEN (2 * PATH_MAX)

enum src_kind { SRC_FILE, SRC_MBOX, SRC_MAILDIR };

/* A line reader over a file descriptor with one fixed buffer. */
struct reader {
	int fd;
	bool eof;
	size_t pos, len;
	char buf[MP_MSG_READ_BUF];
};

struct mp_msg {
	struct mp_msgsrc *src;
	struct mp_buf name;
	struct mp_buf hdr;
	struct mp_headers *headers;
	bool in_body;	 /* body not read to its end yet */
	bool bol;	 /* the reader is at the start of a line */
	bool prev_empty; /* the line before was empty (a "From " line may follow) */
	bool pending;	 /* an empty line held back: it may be the mbox separator */
	size_t out_len;
	char out[MP_MSG_CHUNK_MAX];
};

struct mp_msgsrc {
	enum src_kind kind;
	char *path;
	bool is_stdin;
	bool done; /* no more messages (end or read error) */
	bool started;
	size_t index; /* messages handed out */
	char **files; /* Maildir: message paths in order */
	size_t nfiles;
	struct reader rd;
	struct mp_msg msg;
};

/* ---- the reader ---- */

static int
rd_fill(struct reader *r, struct mp_err *err)
{
	ssize_t nr;

	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	do
		nr = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
	while (nr < 0 && errno == EINTR);
	if (nr < 0)
		return mp_err_set(err, MP_EIO, _("read error: %s"), strerror(errno));
	if (nr == 0)
		r->eof = true;
	r->len += (size_t)nr;
	return 0;
}

/*
 * The next piece of input: a whole line with its LF, or, for a line longer than the
 * buffer, a part of it (never ending in a CR, so that a CRLF is never split), or the
 * last line without a line end.  Returns 1, 0 at the end, or MP_EIO.  Nothing is
 * consumed (rd_consume).
 */
static int
rd_peek(struct reader *r, const char **p, size_t *n, struct mp_err *err)
{
	const char *nl;
	size_t scanned = 0;
	int rc;

	for (;;) {
		nl = memchr(r->buf + r->pos + scanned, '\n', r->len - r->pos - scanned);
		if (nl != NULL) {
			*p = r->buf + r->pos;
			*n = (size_t)(nl - *p) + 1;
			return 1;
		}
		scanned = r->len - r->pos;
		if (r->eof) {
			if (scanned == 0)
				return 0;
			*p = r->buf + r->pos;
			*n = scanned;
			return 1;
		}
		if (r->pos == 0 && r->len == sizeof(r->buf)) {
			*p = r->buf;
			*n = r->len;
			if (*n > 1 && r->buf[*n - 1] == '\r')
				(*n)--;
			return 1;
		}
		if ((rc = rd_fill(r, err)) != 0)
			return rc;
	}
}

static void
rd_consume(struct reader *r, size_t n)
{
	r->pos += n;
}

static void
rd_reset(struct reader *r, int fd)
{
	r->fd = fd;
	r->eof = false;
	r->pos = r->len = 0;
}

static bool
piece_complete(const char *p, size_t n)
{
	return n > 0 && p[n - 1] == '\n';
}

static bool
empty_line(const char *p, size_t n)
{
	return (n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' && p[1] == '\n');
}

static bool
from_line(const char *p, size_t n)
{
	return n >= 5 && memcmp(p, "From ", 5) == 0;
}

/* mboxrd: ^>+From  */
static bool
escaped_from(const char *p, size_t n)
{
	size_t k = 0;

	while (k < n && p[k] == '>')
		k++;
	return k > 0 && from_line(p + k, n - k);
}

/* Appends a piece with its line end turned into CRLF (RFC 5322 2.3). */
static int
add_crlf_piece(struct mp_buf *b, const char *p, size_t n)
{
	int rc;

	if (!piece_complete(p, n))
		return mp_buf_add(b, p, n);
	n--;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if ((rc = mp_buf_add(b, p, n)) != 0)
		return rc;
	return mp_buf_add(b, "\r\n", 2);
}

/* The same into the fixed chunk buffer; the caller guarantees room for n + 2 bytes. */
static void
out_piece(struct mp_msg *m, const char *p, size_t n)
{
	bool nl = piece_complete(p, n);

	if (nl) {
		n--;
		if (n > 0 && p[n - 1] == '\r')
			n--;
	}
	memcpy(m->out + m->out_len, p, n);
	m->out_len += n;
	if (nl) {
		memcpy(m->out + m->out_len, "\r\n", 2);
		m->out_len += 2;
	}
}

/* ---- messages ---- */

static void
msg_reset(struct mp_msg *m)
{
	mp_buf_reset(&m->name);
	mp_buf_reset(&m->hdr);
	mp_headers_free(m->headers);
	m->headers = NULL;
	m->in_body = false;
	m->bol = true;
	m->prev_empty = false;
	m->pending = false;
	m->out_len = 0;
}

/* Skips the rest of the current line (the mbox "From " line). */
static int
skip_line(struct mp_msgsrc *s, struct mp_err *err)
{
	const char *p;
	size_t n;
	int r;

	while ((r = rd_peek(&s->rd, &p, &n, err)) > 0) {
		rd_consume(&s->rd, n);
		if (piece_complete(p, n))
			break;
	}
	return r < 0 ? r : 0;
}

/*
 * Reads the header section up to and including the empty line that ends it.  After a
 * bound is exceeded the rest of the section is still consumed so that the body and the
 * next message stay in step.  Returns 0 or a negative code for a bad message (MP_EIO:
 * the source could not be read).
 */
static int
read_header(struct mp_msgsrc *s, struct mp_msg *m, struct mp_err *err)
{
	const char *p;
	size_t n, total = 0;
	int r, bad = 0;

	for (;;) {
		if ((r = rd_peek(&s->rd, &p, &n, err)) < 0)
			return r;
		if (r == 0) {
			/* the last line had no line end: the block is still CRLF form */
			if (!m->bol && bad == 0 && mp_buf_add(&m->hdr, "\r\n", 2) != 0)
				bad = mp_err_set(err, MP_ETOOBIG,
						 _("header section larger than %d bytes"),
						 MP_HDR_MAX_BLOCK);
			/* no empty line: all header, empty body (an mbox must have one) */
			if (s->kind == SRC_MBOX && bad == 0)
				bad = mp_err_set(err, MP_EPARSE,
						 _("mbox ends inside the header section"));
			else if (total == 0 && bad == 0)
				bad = mp_err_set(err, MP_EPARSE, _("empty message"));
			break;
		}
		total += n;
		if (m->bol && empty_line(p, n)) {
			rd_consume(&s->rd, n);
			m->in_body = true;
			m->prev_empty = true;
			break;
		}
		if (s->kind == SRC_MBOX && m->bol && escaped_from(p, n)) {
			rd_consume(&s->rd, 1);
			p++;
			n--;
		}
		if (bad == 0 && add_crlf_piece(&m->hdr, p, n) != 0)
			bad = mp_err_set(err, MP_ETOOBIG, _("header section larger than %d bytes"),
					 MP_HDR_MAX_BLOCK);
		m->bol = piece_complete(p, n);
		rd_consume(&s->rd, n);
	}
	m->bol = true;
	if (bad == 0)
		bad = mp_headers_parse(&m->headers, mp_buf_cstr(&m->hdr), m->hdr.len, err);
	return bad;
}

int
mp_msg_body_read(struct mp_msg *m, const char **chunk, size_t *len, struct mp_err *err)
{
	struct mp_msgsrc *s = m->src;
	const char *p;
	size_t n;
	int r;

	m->out_len = 0;
	*chunk = m->out;
	*len = 0;
	while (m->in_body && m->out_len < MP_MSG_READ_BUF) {
		if ((r = rd_peek(&s->rd, &p, &n, err)) < 0) {
			m->in_body = false;
			return r;
		}
		if (r == 0) {
			m->in_body = false; /* a held-back empty line is the mbox separator */
			break;
		}
		if (s->kind == SRC_MBOX && m->bol) {
			if (m->prev_empty && from_line(p, n)) {
				m->in_body = false; /* the next message; its line stays unread */
				break;
			}
			if (empty_line(p, n)) {
				if (m->pending)
					out_piece(m, "\n", 1);
				m->pending = true;
				m->prev_empty = true;
				rd_consume(&s->rd, n);
				continue;
			}
			if (m->pending)
				out_piece(m, "\n", 1);
			m->pending = false;
			m->prev_empty = false;
			if (escaped_from(p, n)) {
				rd_consume(&s->rd, 1);
				p++;
				n--;
			}
		}
		out_piece(m, p, n);
		m->bol = piece_complete(p, n);
		rd_consume(&s->rd, n);
	}
	*len = m->out_len;
	return m->out_len > 0 ? 1 : 0;
}

const char *
mp_msg_source(const struct mp_msg *m)
{
	return mp_buf_cstr(&m->name);
}

const char *
mp_msg_header_block(const struct mp_msg *m, size_t *len)
{
	if (len != NULL)
		*len = m->hdr.len;
	return mp_buf_cstr(&m->hdr);
}

const struct mp_headers *
mp_msg_headers(const struct mp_msg *m)
{
	return m->headers;
}

/* ---- sources ---- */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Appends the entries of dir/sub (if it exists) in name order.  Subdirectories are not
 * messages and are left out; anything else that is there (a FIFO, a dangling symlink)
 * is listed so that maildir_open() reports it instead of it vanishing from the run.
 */
static int
maildir_list(struct mp_msgsrc *s, const char *sub, struct mp_err *err)
{
	struct mp_buf dir, path;
	DIR *d = NULL;
	struct dirent *de;
	struct stat st;
	char **nf, *f = NULL;
	size_t first = s->nfiles, cap = s->nfiles;
	int rc = 0;

	mp_buf_init(&dir, NAME_MAX_LEN);
	mp_buf_init(&path, NAME_MAX_LEN);
	if (mp_buf_printf(&dir, "%s/%s", s->path, sub) != 0) {
		rc = mp_err_set(err, MP_EINVAL, _("%s: path too long"), s->path);
		goto out;
	}
	if ((d = opendir(mp_buf_cstr(&dir))) == NULL) {
		if (errno != ENOENT)
			rc = mp_err_set(err, MP_EIO, "%s: %s", mp_buf_cstr(&dir), strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) != 0) {
			/* gone (a mail reader moved it to cur/): not an error */
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
				continue;
		} else if (S_ISDIR(st.st_mode)) {
			continue;
		}
		mp_buf_reset(&path);
		if (mp_buf_printf(&path, "%s/%s", mp_buf_cstr(&dir), de->d_name) != 0) {
			rc = mp_err_set(err, MP_EINVAL, _("%s: path too long"), s->path);
			goto out;
		}
		if ((f = mp_strndup(mp_buf_cstr(&path), path.len)) == NULL) {
			rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
			goto out;
		}
		if (s->nfiles == cap) {
			cap = cap ? cap * 2 : 64;
			nf = cap <= SIZE_MAX / sizeof(*nf) ? realloc(s->files, cap * sizeof(*nf))
							   : NULL;
			if (nf == NULL) {
				rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
				goto out;
			}
			s->files = nf;
		}
		s->files[s->nfiles++] = f;
		f = NULL;
	}
	if (s->nfiles > first) /* files is still NULL for an empty new/ */
		qsort(s->files + first, s->nfiles - first, sizeof(*s->files), name_cmp);
out:
	free(f);
	if (d != NULL)
		closedir(d);
	mp_buf_dispose(&dir);
	mp_buf_dispose(&path);
	return rc;
}

static bool
is_dir(const char *base, const char *sub)
{
	struct mp_buf p;
	struct stat st;
	bool yes;

	mp_buf_init(&p, NAME_MAX_LEN);
	yes = mp_buf_printf(&p, "%s/%s", base, sub) == 0 && stat(mp_buf_cstr(&p), &st) == 0 &&
	      S_ISDIR(st.st_mode);
	mp_buf_dispose(&p);
	return yes;
}

/* Decides between one message and an mbox from the first line (RFC 4155). */
static int
sniff(struct mp_msgsrc *s, struct mp_err *err)
{
	const char *p;
	size_t n;
	int r;

	if ((r = rd_peek(&s->rd, &p, &n, err)) < 0)
		return r;
	s->kind = r > 0 && from_line(p, n) ? SRC_MBOX : SRC_FILE;
	return 0;
}

static struct mp_msgsrc *
src_new(const char *path)
{
	struct mp_msgsrc *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->rd.fd = -1;
	s->msg.src = s;
	mp_buf_init(&s->msg.name, NAME_MAX_LEN);
	mp_buf_init(&s->msg.hdr, MP_HDR_MAX_BLOCK);
	if ((s->path = mp_strdup_z(path)) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

int
mp_msgsrc_open(struct mp_msgsrc **out, const char *path, struct mp_err *err)
{
	struct mp_msgsrc *s = NULL;
	struct stat st;
	int fd, rc = 0;

	*out = NULL;
	if ((s = src_new(path)) == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	if (strcmp(path, "-") == 0) {
		s->is_stdin = true;
		rd_reset(&s->rd, STDIN_FILENO);
		rc = sniff(s, err);
		goto out;
	}
	if (stat(path, &st) != 0) {
		rc = mp_err_set(err, errno == ENOENT || errno == ENOTDIR ? MP_ENOTFOUND : MP_EIO,
				"%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISREG(st.st_mode)) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			rc = mp_err_set(err, errno == ENOENT ? MP_ENOTFOUND : MP_EIO, "%s: %s",
					path, strerror(errno));
			goto out;
		}
		rd_reset(&s->rd, fd);
		rc = sniff(s, err);
	} else if (S_ISDIR(st.st_mode) && (is_dir(path, "new") || is_dir(path, "cur"))) {
		s->kind = SRC_MAILDIR;
		if ((rc = maildir_list(s, "new", err)) == 0)
			rc = maildir_list(s, "cur", err);
	} else {
		rc = mp_err_set(err, MP_EINVAL, _("%s: not a message file, mbox or Maildir"), path);
	}
out:
	if (rc != 0) {
		mp_msgsrc_free(s);
		s = NULL;
	}
	*out = s;
	return rc;
}

/* Opens the next Maildir file; a leading "From " line (left by mbox converters) is
 * skipped. */
static int
maildir_open(struct mp_msgsrc *s, struct mp_msg *m, struct mp_err *err)
{
	const char *f = s->files[s->index];
	const char *p;
	struct stat st;
	size_t n;
	int fd, r;

	if (s->rd.fd >= 0)
		close(s->rd.fd);
	rd_reset(&s->rd, -1);
	if (mp_buf_adds(&m->name, f) != 0)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; no effect on a file */
	if ((fd = open(f, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return mp_err_set(err, errno == ENOENT ? MP_ENOTFOUND : MP_EIO, "%s: %s", f,
				  strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return mp_err_set(err, MP_EIO, _("%s: not a regular file"), f);
	}
	rd_reset(&s->rd, fd);
	if ((r = rd_peek(&s->rd, &p, &n, err)) < 0)
		return r;
	if (r > 0 && from_line(p, n))
		return skip_line(s, err);
	return 0;
}

/* A read error ends an mbox or a single message, but only the one file of a Maildir. */
static void
src_failed(struct mp_msgsrc *s)
{
	if (s->kind != SRC_MAILDIR)
		s->done = true;
}

int
mp_msgsrc_next(struct mp_msgsrc *s, struct mp_msg **msg, struct mp_err *err)
{
	struct mp_msg *m = &s->msg;
	const char *chunk;
	size_t len;
	int rc = 0;

	*msg = NULL;
	while (s->started && m->in_body && (rc = mp_msg_body_read(m, &chunk, &len, err)) > 0)
		;
	s->started = true;
	if (rc < 0 && s->kind != SRC_MAILDIR) {
		/* the source broke while skipping that body: report it once, under its name */
		s->done = true;
		m->in_body = false;
		*msg = m;
		goto out;
	}
	msg_reset(m);
	rc = 0;
	if (s->done)
		goto out;
	switch (s->kind) {
	case SRC_FILE:
		if (s->index > 0)
			goto end;
		rc = mp_buf_adds(&m->name, s->path) == 0 ? 0 : MP_ENOMEM;
		break;
	case SRC_MBOX:
		/* we stand at a "From " line (RFC 4155), or at the end */
		if ((rc = rd_peek(&s->rd, &chunk, &len, err)) == 0)
			goto end;
		if (rc > 0)
			rc = skip_line(s, err);
		if (mp_buf_printf(&m->name, "%s:%zu", s->path, s->index + 1) != 0 && rc == 0)
			rc = MP_ENOMEM;
		break;
	case SRC_MAILDIR:
		if (s->index >= s->nfiles)
			goto end;
		rc = maildir_open(s, m, err);
		break;
	}
	s->index++;
	*msg = m;
	if (rc == MP_ENOMEM)
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
	if (rc == 0)
		rc = read_header(s, m, err);
	if (rc == MP_EIO)
		src_failed(s);
	if (rc == 0)
		rc = 1;
	goto out;
end:
	s->done = true;
out:
	return rc;
}

void
mp_msgsrc_free(struct mp_msgsrc *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (!s->is_stdin && s->rd.fd >= 0)
		close(s->rd.fd);
	for (i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	mp_headers_free(s->msg.headers);
	mp_buf_dispose(&s->msg.name);
	mp_buf_dispose(&s->msg.hdr);
	free(s->path);
	free(s);
}
