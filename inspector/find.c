/*
 * find.c - see find.h.
 *
 * A fetched message is handed to the same message reader as a saved file, through an
 * anonymous in-memory file (memfd), so IMAP and `message` share one code path.
 */
#define _GNU_SOURCE
#include "find.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "i18n.h"
#include "msg.h"
#include "spamsig.h"
#include "util.h"

#define SLICE_MS 2000  /* longest IDLE between two searches of the other folders */
#define RETRY_MS 1000  /* pause before reconnecting */
#define MAX_CANDIDATES 20 /* substring matches of a test id fetched per folder and pass */

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

/* mailproof-send's receipt "time" (RFC 3339, UTC: 2026-11-26T05:57:15Z) as epoch seconds. */
static bool
receipt_time(const char *path, int64_t *t)
{
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	json_t *j = path != NULL ? json_load_file(path, 0, NULL) : NULL, *m;
	const char *v;
	unsigned y, mo, d, hh, mi, ss;
	char buf[64], z;
	bool ok = false;

	if (j == NULL)
		return false;
	m = json_object_get(j, "messages");
	m = json_is_array(m) && json_array_size(m) > 0 ? json_array_get(m, 0) : j;
	v = json_string_value(json_object_get(m, "time"));
	if (v == NULL)
		v = json_string_value(json_object_get(j, "time"));
	if (v != NULL && strlen(v) == 20 &&
	    sscanf(v, "%4u-%2u-%2uT%2u:%2u:%2u%c", &y, &mo, &d, &hh, &mi, &ss, &z) == 7 &&
	    z == 'Z' && mo >= 1 && mo <= 12) {
		snprintf(buf, sizeof(buf), "%u %s %u %02u:%02u:%02u +0000", d, mon[mo - 1], y, hh,
			 mi, ss);
		ok = mp_date_parse(buf, strlen(buf), t) == 0;
	}
	json_decref(j);
	return ok;
}

/* The receipt knows when the relay took the message: a better start than Date. */
static void
receipt_delivery(const struct mp_find_opts *o, struct mp_msgrep *mr)
{
	int64_t sent;
	size_t i;

	if (o->receipt == NULL || !receipt_time(o->receipt, &sent))
		return;
	for (i = 0; i < mr->nhops; i++)
		if (mr->hops[i].receiver && mr->hops[i].have_time && mr->hops[i].time >= sent)
			mr->delivery_seconds = (double)(mr->hops[i].time - sent);
}

/* IMAP SEARCH matches substrings (RFC 3501 section 6.4.4): MP-X finds MP-XZ3NCTVO too.
 * Whether the verified message is really the one asked for. */
static bool
is_wanted(const struct mp_find_opts *o, const struct mp_msgrep *mr)
{
	if (o->all)
		return true;
	if (o->test_id != NULL)
		return mr->test_id != NULL && strcasecmp(mr->test_id, o->test_id) == 0;
	if (o->message_id != NULL)
		return mr->message_id != NULL && strcmp(mr->message_id, o->message_id) == 0;
	return mr->from_address != NULL && o->from != NULL &&
	       strcasecmp(mr->from_address, o->from) == 0;
}

/* Verifies the fetched message in fd (read from the start) and reports it.  Returns 1
 * without reporting it when it is not the message asked for. */
static int
check_fd(const struct mp_find_opts *o, struct mp_verifier *ver, struct mp_report *rep, int fd,
	 const char *folder, bool junk, char *url, bool *failed, bool *temp, struct mp_err *err)
{
	struct mp_msgsrc *src = NULL;
	struct mp_msg *msg = NULL;
	struct mp_msgrep mr;
	char path[64];
	bool tmp = false;
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
		tmp = rc == MP_ETEMP;
		rc = rc == MP_ENOMEM ? rc : 0;
		if (rc == 0 && !is_wanted(o, &mr)) {
			rc = 1;
			goto out;
		}
	} else {
		mp_msgrep_problem(&mr, MP_SEV_ERROR, "MESSAGE_MALFORMED",
				  _("The fetched message cannot be read: %s."),
				  rc < 0 ? err->msg : _("empty"));
		mr.pass = false;
		rc = 0;
	}
	mr.folder = mp_strdup_z(folder);
	receipt_delivery(o, &mr);
	if (o->require & MP_CHECK_PLACEMENT)
		mp_spamsig_placement(&mr, folder, junk); /* junk folder or the provider's verdict */
	if (!mr.pass)
		*failed = true;
	if (tmp)
		*temp = true;
	if (rc == 0)
		rc = mp_report_add(rep, &mr, err);
out:
	mp_msgrep_dispose(&mr);
	mp_msgsrc_free(src);
	return rc;
}

/* A message in a fresh anonymous file, verified and reported. */
static int
check_data(const struct mp_find_opts *o, struct mp_verifier *ver, struct mp_report *rep,
	   const char *data, size_t len, const char *folder, bool junk, char *url, bool *failed,
	   bool *temp, struct mp_err *err)
{
	/* The message goes to an anonymous file, read back by the same reader as `message`. */
	int fd = memfd_create("mailproof-message", MFD_CLOEXEC), rc;
	const char *p = data;
	ssize_t w;

	if (fd < 0) {
		free(url);
		return mp_err_set(err, MP_EIO, "cannot hold the fetched message");
	}
	while (len > 0) {
		w = write(fd, p, len);
		if (w <= 0) {
			close(fd);
			free(url);
			return mp_err_set(err, MP_EIO, "cannot hold the fetched message");
		}
		p += w;
		len -= (size_t)w;
	}
	rc = check_fd(o, ver, rep, fd, folder, junk, url, failed, temp, err);
	close(fd);
	return rc;
}

struct all_ctx {
	const struct mp_find_opts *o;
	struct mp_verifier *ver;
	struct mp_report *rep;
	struct mp_imap *im;
	const char *folder;
	bool junk;
	size_t *found;
	bool *failed, *temp;
	struct mp_err *err;
};

static int
all_one(uint32_t uid, const char *data, size_t len, void *arg)
{
	struct all_ctx *a = arg;
	char **labels = NULL;
	size_t nl = 0;
	int rc;

	if ((rc = mp_imap_labels(a->im, uid, &labels, &nl, a->err)) != 0)
		return rc;
	mp_verifier_set_labels(a->ver, (const char *const *)labels, nl);
	rc = check_data(a->o, a->ver, a->rep, data, len, a->folder, a->junk,
			message_url(a->o, a->folder, mp_imap_uidvalidity(a->im), uid), a->failed,
			a->temp, a->err);
	mp_verifier_set_labels(a->ver, NULL, 0);
	mp_imap_labels_free(labels, nl);
	if (rc == 0)
		(*a->found)++;
	return rc;
}

/* Fetches one message of the examined folder and reports it if it is the one asked for:
 * 0 when reported, 1 when it is another or gone (the next pass looks again). */
static int
check_one(struct mp_imap *im, const struct mp_find_opts *o, struct mp_verifier *ver,
	  struct mp_report *rep, const char *folder, bool junk, uint32_t uid, size_t *found,
	  bool *failed, bool *temp, struct mp_err *err)
{
	int fd = memfd_create("mailproof-message", MFD_CLOEXEC), rc;
	char **labels = NULL;
	size_t nl = 0;

	if (fd < 0)
		return mp_err_set(err, MP_EIO, "cannot hold the fetched message");
	rc = mp_imap_fetch(im, uid, fd, err);
	if (rc == MP_ENOTFOUND) {
		close(fd);
		return 1;
	}
	if (rc == 0)
		rc = mp_imap_labels(im, uid, &labels, &nl, err); /* Gmail's spam verdict */
	if (rc == 0) {
		mp_verifier_set_labels(ver, (const char *const *)labels, nl);
		rc = check_fd(o, ver, rep, fd, folder, junk,
			      message_url(o, folder, mp_imap_uidvalidity(im), uid), failed, temp,
			      err);
		mp_verifier_set_labels(ver, NULL, 0);
	}
	mp_imap_labels_free(labels, nl);
	close(fd);
	if (rc == 0)
		(*found)++;
	return rc;
}

/* One pass over the folders; *found counts the messages reported. */
static int
search_once(struct mp_imap *im, const struct mp_find_opts *o, struct mp_verifier *ver,
	    struct mp_report *rep, size_t *found, bool *failed, bool *temp, struct mp_err *err)
{
	char **names = NULL;
	bool *junk = NULL;
	size_t nf = 0, i, j, nu, best_f = 0;
	uint32_t *uids, best_uid = 0;
	int64_t best_t = INT64_MIN, t;
	const char *field, *value;
	int rc;

	if (o->test_id != NULL) {
		field = "X-Mailproof-Test-Id";
		value = o->test_id;
	} else if (o->message_id != NULL) {
		field = "Message-ID";
		value = o->message_id;
	} else {
		field = "From";
		value = o->from;
	}
	if (o->all)
		value = NULL;
	if ((rc = mp_imap_folders(im, o->folders, o->nfolders, &names, &junk, &nf, err)) != 0)
		return rc;
	for (i = 0; i < nf && rc == 0; i++) {
		uids = NULL;
		if ((rc = mp_imap_search(im, names[i], field, value, &uids, &nu, err)) != 0) {
			/* A folder listed by name but missing is no reason to stop. */
			if (rc != MP_EIO || i == 0)
				break;
			rc = 0;
			continue;
		}
		if (o->all) {
			struct all_ctx a = {o,	  ver,	   rep,	   im,	 names[i],
					    junk[i], found, failed, temp, err};

			rc = mp_imap_fetch_many(im, uids, nu, all_one, &a, err);
		} else if (nu > 0 && o->test_id == NULL && o->message_id == NULL) {
			/* The newest message from the address, over all folders: by arrival. */
			rc = mp_imap_internaldate(im, uids[nu - 1], &t, err);
			if (rc == 0 && t >= best_t) {
				best_t = t;
				best_f = i;
				best_uid = uids[nu - 1];
			}
			rc = rc == MP_ENOTFOUND ? 0 : rc;
		} else {
			/* One test message: the newest copy that really carries the id. */
			for (j = nu, rc = 1; j > 0 && nu - j < MAX_CANDIDATES && rc == 1; j--)
				rc = check_one(im, o, ver, rep, names[i], junk[i], uids[j - 1], found,
					       failed, temp, err);
			rc = rc == 1 ? 0 : rc;
		}
		free(uids);
	}
	if (rc == 0 && best_uid != 0 && (rc = mp_imap_examine(im, names[best_f], err)) == 0) {
		rc = check_one(im, o, ver, rep, names[best_f], junk[best_f], best_uid, found, failed,
			       temp, err);
		rc = rc == 1 ? 0 : rc;
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
			if (o->imap.verbose > 0)
				fprintf(stderr, "mailproof-inspect: imap: %s; reconnecting\n", err->msg);
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
				o->test_id != NULL	  ? o->test_id
				: o->message_id != NULL ? o->message_id
							: o->from,
				left);
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
			if (o->imap.verbose > 0)
				fprintf(stderr, "mailproof-inspect: imap: %s; reconnecting\n", err->msg);
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
