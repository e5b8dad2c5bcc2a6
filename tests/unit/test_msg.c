/* test_msg.c - message sources: files, standard input, mbox, Maildir, streaming bodies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "hdr.h"
#include "msg.h"

static char *
fixture(const char *rel)
{
	const char *dir = getenv("MP_FIXTURES");
	struct mp_buf b;

	mp_buf_init(&b, 4096);
	assert_int_equal(mp_buf_printf(&b, "%s/%s", dir != NULL ? dir : "fixtures", rel), 0);
	return mp_buf_detach(&b, NULL);
}

/* The whole body of the current message, read in chunks. */
static char *
read_body(struct mp_msg *m, size_t *len)
{
	struct mp_buf b;
	struct mp_err err = {0};
	const char *chunk;
	size_t n;
	int rc;

	mp_buf_init(&b, 1024 * 1024);
	while ((rc = mp_msg_body_read(m, &chunk, &n, &err)) > 0) {
		assert_true(n > 0 && n <= MP_MSG_CHUNK_MAX);
		assert_int_equal(mp_buf_add(&b, chunk, n), 0);
	}
	assert_int_equal(rc, 0);
	return mp_buf_detach(&b, len);
}

struct want {
	int rc;
	const char *source; /* relative to the fixture path, "" = the path itself */
	const char *header; /* NULL: do not check */
	const char *body;
};

/* Reads every message of a fixture and compares it with the table. */
static void
check_source(const char *path, const char *shown, const struct want *w, size_t nw)
{
	struct mp_msgsrc *s = NULL;
	struct mp_msg *m;
	struct mp_err err = {0};
	char *body, src[4096];
	const char *h;
	size_t i, len;
	int rc;

	assert_int_equal(mp_msgsrc_open(&s, path, &err), 0);
	for (i = 0; i < nw; i++) {
		rc = mp_msgsrc_next(s, &m, &err);
		if (rc != w[i].rc)
			fail_msg("%s message %zu: rc %d (%s)", path, i, rc, err.msg);
		assert_non_null(m);
		snprintf(src, sizeof(src), "%s%s", shown, w[i].source);
		assert_string_equal(mp_msg_source(m), src);
		if (rc < 0) {
			assert_int_equal(err.code, rc);
			assert_null(mp_msg_headers(m));
		} else {
			assert_non_null(mp_msg_headers(m));
		}
		if (w[i].header != NULL) {
			h = mp_msg_header_block(m, &len);
			assert_int_equal(len, strlen(w[i].header));
			assert_memory_equal(h, w[i].header, len);
		}
		if (w[i].body != NULL) {
			body = read_body(m, &len);
			assert_int_equal(len, strlen(w[i].body));
			assert_memory_equal(body, w[i].body, len);
			free(body);
		}
	}
	assert_int_equal(mp_msgsrc_next(s, &m, &err), 0);
	assert_null(m);
	assert_int_equal(mp_msgsrc_next(s, &m, &err), 0);
	mp_msgsrc_free(s);
}

static void
check_fixture(const char *rel, const struct want *w, size_t nw)
{
	char *path = fixture(rel);

	check_source(path, path, w, nw);
	free(path);
}

#define CHECK(rel, tbl) check_fixture(rel, tbl, sizeof(tbl) / sizeof(tbl[0]))

static const char eol_header[] = "From: Alice Example <alice@klant.test>\r\n"
				 "To: bob@example.net\r\n"
				 "Subject: =?UTF-8?Q?Caf=C3=A9?= test\r\n"
				 "\tfolded part\r\n"
				 "Message-ID: <eol-1@klant.test>\r\n"
				 "Date: Mon, 1 Jan 2024 10:00:00 +0100\r\n";
static const char eol_body[] = "Hello Bob,\r\n\r\n"
			       ">From the start, this line keeps its '>' in a plain file.\r\n"
			       "From here too.\r\n\r\n-- \r\nAlice\r\n";

/* CRLF, LF and mixed line ends give the same CRLF header block and body. */
static void
eol_variants_identical(void **state)
{
	static const struct want w[] = {{1, "", eol_header, eol_body}};
	static const char *files[] = {"messages/input-crlf.eml", "messages/input-lf.eml",
				      "messages/input-mixed-eol.eml"};
	static const struct want nofinal[] = {
	    {1, "", eol_header,
	     "Hello Bob,\r\n\r\n"
	     ">From the start, this line keeps its '>' in a plain file.\r\n"
	     "From here too.\r\n\r\n-- \r\nAlice"}};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		check_fixture(files[i], w, 1);
	CHECK("messages/input-no-final-newline.eml", nofinal);
}

static void
odd_single_files(void **state)
{
	static const struct want nobody[] = {
	    {1, "", "From: a@klant.test\r\nSubject: headers only\r\n", ""}};
	static const struct want empty[] = {{MP_EPARSE, "", "", ""}};
	static const struct want junk[] = {{MP_EPARSE, "", NULL, NULL}};
	struct mp_msgsrc *s = NULL;
	struct mp_msg *m;
	struct mp_err err = {0};
	const struct mp_field *f;
	char *path;

	(void)state;
	CHECK("messages/input-no-body.eml", nobody);
	CHECK("messages/input-empty.eml", empty);
	CHECK("messages/input-binary-junk.eml", junk);
	/* the header block holds the NUL; strlen() in check_source would stop there */
	path = fixture("messages/input-nul-in-header.eml");
	assert_int_equal(mp_msgsrc_open(&s, path, &err), 0);
	assert_int_equal(mp_msgsrc_next(s, &m, &err), 1);
	f = mp_headers_find(mp_msg_headers(m), "Subject", 0);
	assert_non_null(f);
	assert_int_equal(f->value_len, 9);
	assert_memory_equal(f->value, " nul\0byte", 9);
	mp_msgsrc_free(s);
	free(path);

	path = fixture("messages/input-junk-header-line.eml");
	assert_int_equal(mp_msgsrc_open(&s, path, &err), 0);
	assert_int_equal(mp_msgsrc_next(s, &m, &err), 1);
	assert_int_equal(mp_headers_count(mp_msg_headers(m)), 2);
	assert_int_equal(mp_headers_junk(mp_msg_headers(m)), 1);
	mp_msgsrc_free(s);
	free(path);
}

static void
mbox_three_messages(void **state)
{
	static const struct want w[] = {
	    {1, ":1", "From: sender1@klant.test\r\nSubject: message 1\r\n",
	     "Body one.\r\n\r\nSecond paragraph.\r\n"},
	    {1, ":2", "From: sender2@klant.test\r\nSubject: message 2\r\n",
	     "Body two ends with an empty line.\r\n\r\n"},
	    {1, ":3", "From: sender3@klant.test\r\nSubject: message 3\r\n", "Body three.\r\n"},
	};
	static const struct want crlf[] = {
	    {1, ":1", "From: sender1@klant.test\r\nSubject: message 1\r\n", "one\r\n\r\n"},
	    {1, ":2", "From: sender2@klant.test\r\nSubject: message 2\r\n", "two\r\n"},
	};

	(void)state;
	CHECK("mbox/three-messages.mbox", w);
	CHECK("mbox/crlf.mbox", crlf);
}

static void
mbox_escaping(void **state)
{
	static const struct want rd[] = {
	    {1, ":1", NULL,
	     "line\r\nFrom escaped once\r\n>From escaped twice\r\n> From not escaped\r\n"
	     "x From inside\r\n>From\r\n\r\nFrom after blank\r\n"},
	    {1, ":2", NULL, "last\r\n"},
	};
	static const struct want o[] = {
	    {1, ":1", NULL, "text\r\nFrom a line not after an empty line stays\r\n"},
	    {1, ":2", NULL, "two\r\n"},
	};

	(void)state;
	CHECK("mbox/mboxrd-escaping.mbox", rd);
	CHECK("mbox/mboxo-from-in-body.mbox", o);
}

static void
mbox_truncated(void **state)
{
	static const struct want body[] = {
	    {1, ":1", NULL, "one\r\n"},
	    {1, ":2", NULL, "cut off in the mid"},
	};
	static const struct want hdr[] = {
	    {1, ":1", NULL, "one\r\n"},
	    {MP_EPARSE, ":2", "From: b@klant.test\r\nSubject: cut off\r\n", ""},
	};

	(void)state;
	CHECK("mbox/truncated-in-body.mbox", body);
	CHECK("mbox/truncated-in-header.mbox", hdr);
}

static void
maildir_new_then_cur(void **state)
{
	static const struct want w[] = {
	    {1, "/new/1700000001.M1P1.host", NULL, "new one\r\n"},
	    {1, "/new/1700000002.M2P2.host", NULL, "new two\r\n"},
	    {1, "/cur/1600000001.M1P1.host:2,S", NULL, "cur one\r\n"},
	    {1, "/cur/1600000002.M2P2.host:2,RS",
	     "From: c2@klant.test\r\nSubject: cur 2 with a From_ line\r\n", "cur two\r\n"},
	};
	static const struct want only[] = {{1, "/cur/1600000001.M1P1.host:2,", NULL, "only\r\n"}};

	(void)state;
	CHECK("maildir/new-and-cur", w);
	CHECK("maildir/only-cur", only);
}

static void
open_errors(void **state)
{
	static const struct {
		const char *path; /* NULL: the fixtures directory itself */
		int rc;
	} cases[] = {
	    {"/nonexistent/mailproof.eml", MP_ENOTFOUND},
	    {"/dev/null", MP_EINVAL},
	    {NULL, MP_EINVAL},
	};
	struct mp_msgsrc *s;
	struct mp_err err = {0};
	char *dir = fixture("messages");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = (struct mp_msgsrc *)&err; /* must be reset to NULL */
		assert_int_equal(mp_msgsrc_open(&s, cases[i].path ? cases[i].path : dir, &err),
				 cases[i].rc);
		assert_null(s);
		assert_int_equal(err.code, cases[i].rc);
	}
	assert_non_null(strstr(err.msg, "not a message file, mbox or Maildir"));
	free(dir);
	mp_msgsrc_free(NULL);
}

/* ---- generated inputs (never committed: they are big) ---- */

struct tmpdir {
	char path[64];
	char file[128];
};

static void
tmp_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/mp-test-msg-XXXXXX");
	assert_non_null(mkdtemp(t->path));
	snprintf(t->file, sizeof(t->file), "%s/input", t->path);
}

static void
tmp_remove(struct tmpdir *t)
{
	unlink(t->file);
	rmdir(t->path);
}

static void
write_all(FILE *f, const void *p, size_t n)
{
	assert_int_equal(fwrite(p, 1, n, f), n);
}

/* Stdin through a pipe: one message, then an mbox ("-:N"). */
static void
stdin_pipe(void **state)
{
	static const char one[] = "Subject: piped\nFrom: p@klant.test\n\nline\n";
	static const char mbox[] = "From x Mon Jan  1 10:00:00 2024\nSubject: a\n\nA\n\n"
				   "From y Mon Jan  1 10:00:00 2024\nSubject: b\n\nB\n\n";
	static const struct want w1[] = {
	    {1, "", "Subject: piped\r\nFrom: p@klant.test\r\n", "line\r\n"}};
	static const struct want w2[] = {
	    {1, ":1", "Subject: a\r\n", "A\r\n"},
	    {1, ":2", "Subject: b\r\n", "B\r\n"},
	};
	const char *inputs[] = {one, mbox};
	int fds[2], saved;
	size_t i;

	(void)state;
	saved = dup(STDIN_FILENO);
	assert_true(saved >= 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(pipe(fds), 0);
		assert_int_equal(write(fds[1], inputs[i], strlen(inputs[i])),
				 (ssize_t)strlen(inputs[i]));
		close(fds[1]);
		assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
		close(fds[0]);
		if (i == 0)
			check_source("-", "-", w1, 1);
		else
			check_source("-", "-", w2, 2);
	}
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
}

/* Line i of the generated body, without its line end. */
static size_t
gen_line(size_t i, char *buf, size_t cap)
{
	size_t n, k;

	if (i % 997 == 5)
		n = MP_MSG_READ_BUF - 1; /* with CRLF: the CR is the buffer's last byte */
	else if (i % 1499 == 7)
		n = 3 * MP_MSG_READ_BUF + 17; /* longer than the buffer */
	else if (i % 31 == 0)
		n = 0;
	else
		n = 1 + (i * 7919) % 200;
	assert_true(n < cap);
	for (k = 0; k < n; k++)
		buf[k] = (char)('a' + (i + k) % 26);
	if (i % 101 == 1 && i % 31 != 1 && n >= 5)
		memcpy(buf, "From ", 5); /* never after an empty line: stays */
	return n;
}

/* Bytes in use on the heap, mmap'd blocks included. */
static size_t
heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static uint64_t
fnv(uint64_t h, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* A 10 MB body with long lines and mixed line ends, read in chunks: the output is the
 * CRLF form and the heap does not grow with the body.  Rounds: a plain file, an mbox,
 * an mbox whose reader stops after three chunks (the next message is still found). */
static void
big_body_constant_memory(void **state)
{
	static char line[4 * MP_MSG_READ_BUF];
	struct tmpdir t;
	struct mp_msgsrc *s = NULL;
	struct mp_msg *m;
	struct mp_err err = {0};
	size_t before, after;
	const char *chunk;
	FILE *f;
	uint64_t want = 14695981039346656037ULL, got = 14695981039346656037ULL;
	size_t i, n, total = 0, wanted = 0, chunks = 0, peak = 0;
	int rc, round;

	(void)state;
	for (round = 0; round < 3; round++) {
		tmp_make(&t);
		assert_non_null(f = fopen(t.file, "wb"));
		if (round > 0)
			fputs("From big Mon Jan  1 10:00:00 2024\n", f);
		fputs("Subject: big\n\n", f);
		for (i = 0; wanted < 10 * 1024 * 1024; i++) {
			n = gen_line(i, line, sizeof(line));
			write_all(f, line, n);
			write_all(f, i % 3 == 0 ? "\r\n" : "\n", i % 3 == 0 ? 2 : 1);
			want = fnv(fnv(want, line, n), "\r\n", 2);
			wanted += n + 2;
		}
		if (round > 0)
			fputs("\nFrom next Mon Jan  1 10:00:00 2024\nSubject: n\n\nN\n", f);
		assert_int_equal(fclose(f), 0);

		assert_int_equal(mp_msgsrc_open(&s, t.file, &err), 0);
		assert_int_equal(mp_msgsrc_next(s, &m, &err), 1);
		before = heap_used();
		while ((rc = mp_msg_body_read(m, &chunk, &n, &err)) > 0) {
			assert_true(n <= MP_MSG_CHUNK_MAX);
			got = fnv(got, chunk, n);
			total += n;
			chunks++;
			after = heap_used();
			if (after > before && after - before > peak)
				peak = after - before;
			if (round == 2 && chunks == 3)
				break;
		}
		if (round < 2) {
			assert_int_equal(rc, 0);
			assert_int_equal(total, wanted);
			assert_true(got == want);
			assert_true(chunks >= wanted / MP_MSG_CHUNK_MAX);
		}
		assert_true(peak < 64 * 1024);
		if (round > 0) {
			assert_int_equal(mp_msgsrc_next(s, &m, &err), 1);
			assert_string_equal(mp_msg_header_block(m, NULL), "Subject: n\r\n");
		}
		assert_int_equal(mp_msgsrc_next(s, &m, &err), 0);
		mp_msgsrc_free(s);
		tmp_remove(&t);
		total = wanted = chunks = peak = 0;
		want = got = 14695981039346656037ULL;
	}
}

/* Over-bound header sections are bad messages; the mbox goes on after them. */
static void
mbox_bounds_then_next(void **state)
{
	struct tmpdir t;
	struct mp_msgsrc *s = NULL;
	struct mp_msg *m;
	struct mp_err err = {0};
	FILE *f;
	size_t i;
	char *body;

	(void)state;
	tmp_make(&t);
	assert_non_null(f = fopen(t.file, "wb"));
	/* 1: one 1 MB header line (under the section bound, over the field bound) */
	fputs("From a Mon Jan  1 10:00:00 2024\nSubject: ok\nX-Long: ", f);
	for (i = 0; i < 1000 * 1000; i++)
		fputc('x', f);
	fputs("\n\nbody one\n\n", f);
	/* 2: 10,000 fields */
	fputs("From b Mon Jan  1 10:00:00 2024\n", f);
	for (i = 0; i < 10000; i++)
		fprintf(f, "X-Field-%zu: %zu\n", i, i);
	fputs("\nbody two\n\n", f);
	/* 3: a header section over 1 MiB */
	fputs("From c Mon Jan  1 10:00:00 2024\n", f);
	for (i = 0; i < 20000; i++)
		fputs("Received: from host.example by mx.example; Mon, 1 Jan 2024\n", f);
	fputs("\nbody three\n\n", f);
	/* 4: fine */
	fputs("From d Mon Jan  1 10:00:00 2024\nSubject: four\n\nbody four\n\n", f);
	assert_int_equal(fclose(f), 0);

	assert_int_equal(mp_msgsrc_open(&s, t.file, &err), 0);
	assert_int_equal(mp_msgsrc_next(s, &m, &err), MP_ETOOBIG);
	assert_non_null(strstr(err.msg, "X-Long"));
	assert_non_null(strstr(mp_msg_source(m), ":1"));
	assert_int_equal(mp_msgsrc_next(s, &m, &err), MP_ETOOBIG);
	assert_non_null(strstr(err.msg, "fields"));
	assert_non_null(strstr(mp_msg_source(m), ":2"));
	assert_int_equal(mp_msgsrc_next(s, &m, &err), MP_ETOOBIG);
	assert_non_null(strstr(err.msg, "section"));
	assert_non_null(strstr(mp_msg_source(m), ":3"));
	assert_true(mp_msg_header_block(m, NULL) != NULL);
	assert_int_equal(mp_msgsrc_next(s, &m, &err), 1);
	assert_non_null(strstr(mp_msg_source(m), ":4"));
	assert_string_equal(mp_msg_header_block(m, NULL), "Subject: four\r\n");
	body = read_body(m, &i);
	assert_string_equal(body, "body four\r\n");
	free(body);
	assert_int_equal(mp_msgsrc_next(s, &m, &err), 0);
	mp_msgsrc_free(s);
	tmp_remove(&t);
}

/* 10,000 messages: all found, heap flat; the caller may stop reading a body early. */
static void
mbox_many_messages_flat(void **state)
{
	struct tmpdir t;
	struct mp_msgsrc *s = NULL;
	struct mp_msg *m;
	struct mp_err err = {0};
	size_t base, now;
	const char *chunk;
	FILE *f;
	size_t i, n, count = 0, peak = 0;
	char want[256];

	(void)state;
	tmp_make(&t);
	assert_non_null(f = fopen(t.file, "wb"));
	for (i = 1; i <= 10000; i++)
		fprintf(
		    f,
		    "From s%zu@klant.test Mon Jan  1 10:00:00 2024\nMessage-ID: <%zu@klant.test>\n"
		    "Subject: n %zu\n\nline one of %zu\nline two\n\n",
		    i, i, i, i);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(mp_msgsrc_open(&s, t.file, &err), 0);
	assert_int_equal(mp_msgsrc_next(s, &m, &err), 1);
	count = 1;
	base = heap_used();
	while (mp_msgsrc_next(s, &m, &err) == 1) {
		count++;
		snprintf(want, sizeof(want), "%s:%zu", t.file, count);
		assert_string_equal(mp_msg_source(m), want);
		if (count % 2 == 0) {
			assert_int_equal(mp_msg_body_read(m, &chunk, &n, &err), 1);
			snprintf(want, sizeof(want), "line one of %zu\r\nline two\r\n", count);
			assert_int_equal(n, strlen(want));
			assert_memory_equal(chunk, want, n);
		}
		now = heap_used();
		if (now > base && now - base > peak)
			peak = now - base;
	}
	assert_int_equal(count, 10000);
	assert_true(peak < 64 * 1024);
	mp_msgsrc_free(s);
	tmp_remove(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(eol_variants_identical),
	    cmocka_unit_test(odd_single_files),
	    cmocka_unit_test(mbox_three_messages),
	    cmocka_unit_test(mbox_escaping),
	    cmocka_unit_test(mbox_truncated),
	    cmocka_unit_test(maildir_new_then_cur),
	    cmocka_unit_test(open_errors),
	    cmocka_unit_test(stdin_pipe),
	    cmocka_unit_test(big_body_constant_memory),
	    cmocka_unit_test(mbox_bounds_then_next),
	    cmocka_unit_test(mbox_many_messages_flat),
	};
	return cmocka_run_group_tests_name("msg", tests, NULL, NULL);
}
