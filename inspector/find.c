/*
 * find.c - see find.h.
 *
 * A fetched message is handed to the same message reader as a saved file, through an
 * anonymous in-memory file (memfd), so IMAP and `message` share one code path.
 */
#define _GNU_SOURCE
#include "find.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "util.h"

#define SLICE_MS 2000  /* longest IDLE between two searches of the other folders */
#define RETRY_MS 1000  /* pause before reconnecting */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* RFC 5092 IMAP URL of one message, for the report's "source". */
static char *
message_url(const struct mp_find_opts *o, const char *folder, uint32_t uidvalidity, uint32_t uid)
{
	size_t n = strlen(o->imap.url) + strlen(folder) + 64;
	const char *base = o->imap.url;
	size_t bl = strlen(base);
	char *s = malloc(n);

	if (s == NULL)
		return NULL;
	if (bl > 0 && base[bl - 1] == '/')
		bl--;
	snprintf(s, n, "%.*s/%s;UIDVALIDITY=%u/;UID=%u", (int)bl, base, folder, uidvalidity, uid);
	return s;
}

/* Verifies the fetched message in fd (read from the start) and reports it. */
static int
check_fd(const struct mp_find_opts *o, struct mp_verifier *ver, struct mp_report *rep, int fd,
	 const char *folder, bool junk, char *url, bool *failed, bool *temp, struct mp_err *err)
{
	struct mp_msgsrc *src = NULL;
	struct mp_msg *msg = NULL;
	struct mp_msgrep mr;
	char path[64];
	int rc;

	mp_msgrep_init(&mr);
	mr.source = url;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((rc = mp_msgsrc_open(&src, path, err)) != 0)
		goto out;
	rc = mp_msgsrc_next(src, &msg, err);
	if (rc > 0) {
		char *keep = mr.source;

		mr.source = NULL;
		rc = mp_verifier_check(ver, msg, &mr, err);
		free(mr.source);
		mr.source = keep;
		if (rc == MP_ETEMP)
			*temp = true;
		rc = rc == MP_ENOMEM ? rc : 0;
	} else {
		mp_msgrep_problem(&mr, MP_SEV_ERROR, "MESSAGE_MALFORMED",
				  "The fetched message cannot be read: %s.",
				  rc < 0 ? err->msg : "empty");
		mr.pass = false;
		rc = 0;
	}
	mr.folder = mp_strdup_z(folder);
	if (o->require & MP_CHECK_PLACEMENT) {
		mr.checked |= MP_CHECK_PLACEMENT;
		if (!junk)
			mr.passed |= MP_CHECK_PLACEMENT;
		else
			mp_msgrep_problem(&mr, MP_SEV_ERROR, "PLACEMENT_JUNK",
					  "The message landed in the junk folder %s.", folder);
		mr.pass = (mr.passed & mr.checked) == mr.checked;
	}
	if (!mr.pass)
		*failed = true;
	if (rc == 0)
		rc = mp_report_add(rep, &mr, err);
out:
	mp_msgrep_dispose(&mr);
	mp_msgsrc_free(src);
	return rc;
}

/* One pass over the folders; *found counts the messages reported. */
static int
search_once(struct mp_imap *im, const struct mp_find_opts *o, struct mp_verifier *ver,
	    struct mp_report *rep, size_t *found, bool *failed, bool *temp, struct mp_err *err)
{
	char **names = NULL;
	bool *junk = NULL;
	size_t nf = 0, i, j, nu;
	uint32_t *uids;
	int rc;

	if ((rc = mp_imap_folders(im, o->folders, o->nfolders, &names, &junk, &nf, err)) != 0)
		return rc;
	for (i = 0; i < nf && rc == 0; i++) {
		const char *field = o->test_id != NULL ? "X-Mailproof-Test-Id" : "Message-ID";
		const char *value = o->all ? NULL : o->test_id != NULL ? o->test_id : o->message_id;

		uids = NULL;
		if ((rc = mp_imap_search(im, names[i], field, value, &uids, &nu, err)) != 0) {
			/* A folder listed by name but missing is no reason to stop. */
			if (rc != MP_EIO || i == 0)
				break;
			rc = 0;
			continue;
		}
		/* One test message: the newest copy; --all: every message. */
		for (j = o->all ? 0 : (nu > 0 ? nu - 1 : 0); j < nu && rc == 0; j++) {
			/* The message goes to an anonymous file, not a second copy in memory. */
			int fd = memfd_create("mailproof-message", MFD_CLOEXEC);

			if (fd < 0) {
				rc = mp_err_set(err, MP_EIO, "cannot hold the fetched message");
				break;
			}
			rc = mp_imap_fetch(im, uids[j], fd, err);
			if (rc == MP_ENOTFOUND) {
				close(fd);
				rc = 0;
				continue;
			}
			if (rc == 0)
				rc = check_fd(o, ver, rep, fd, names[i], junk[i],
					      message_url(o, names[i], mp_imap_uidvalidity(im), uids[j]),
					      failed, temp, err);
			close(fd);
			if (rc == 0)
				(*found)++;
		}
		free(uids);
	}
	mp_imap_folders_free(names, junk, nf);
	return rc;
}

int
mp_find_run(const struct mp_find_opts *o, struct mp_verifier *ver, struct mp_report *rep,
	    enum mp_find_outcome *outcome, bool *failed, bool *temp, struct mp_err *err)
{
	struct mp_imap *im = NULL;
	double start = now_s(), deadline = start + o->wait_s, left;
	size_t found = 0;
	bool progress_shown = false;
	int rc;

	*outcome = MP_FIND_NOT_FOUND;
	*failed = *temp = false;
	for (;;) {
		if (im == NULL) {
			rc = mp_imap_open(&im, &o->imap, err);
			if (rc != 0) {
				/* Refusals (TLS, login, usage) are final; a lost server is retried. */
				if (rc != MP_EIO || strstr(err->msg, "cannot connect") == NULL ||
				    now_s() + RETRY_MS / 1000.0 >= deadline)
					goto out;
				sleep_ms(RETRY_MS);
				continue;
			}
		}
		rc = search_once(im, o, ver, rep, &found, failed, temp, err);
		if (rc == MP_EIO) {
			/* The connection dropped: reconnect within the wait. */
			mp_imap_close(im);
			im = NULL;
			if (now_s() >= deadline)
				goto out;
			continue;
		}
		if (rc != 0)
			goto out;
		if (found > 0 || o->all) {
			*outcome = MP_FIND_CHECKED;
			break;
		}
		left = deadline - now_s();
		if (left <= 0)
			break;
		if (o->progress) {
			fprintf(stderr, "\rmailproof-inspect: waiting for %s: %.0f s left  ",
				o->test_id != NULL ? o->test_id : o->message_id, left);
			progress_shown = true;
		}
		/* Watch INBOX between searches; the other folders are searched each slice. */
		if (mp_imap_examine(im, "INBOX", err) != 0) {
			mp_imap_close(im);
			im = NULL;
			continue;
		}
		rc = mp_imap_wait(im, (unsigned)(left * 1000 < SLICE_MS ? left * 1000 : SLICE_MS), err);
		if (rc < 0) {
			mp_imap_close(im);
			im = NULL;
		}
	}
	rc = 0;
out:
	if (progress_shown)
		fputs("\n", stderr);
	mp_imap_close(im);
	return rc;
}
