/*
 * find.c - see find.h.
 *
 * A fetched message is handed to the same message reader as a saved file, through an
 * anonymous in-memory file (memfd), so IMAP and `message` share one code path.
 * Waiting watches every folder at once: INBOX IDLEs on the searching connection, up to
 * MAX_WATCHERS other folders on one connection each, the rest are searched each slice.
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
#define MAX_WATCHERS 8    /* extra connections, one per watched folder besides INBOX */
#define MAX_WATCH_FAILS 3 /* failed openings of one, after which its folder is only searched */

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

/* A message written over the anonymous file fd (one for all messages of --all: its pages
 * are reused), verified and reported. */
static int
check_data(const struct mp_find_opts *o, struct mp_verifier *ver, struct mp_report *rep, int fd,
	   const char *data, size_t len, const char *folder, bool junk, char *url, bool *failed,
	   bool *temp, struct mp_err *err)
{
	size_t off = 0;
	ssize_t w;

	while (off < len) {
		w = pwrite(fd, data + off, len - off, (off_t)off);
		if (w <= 0) {
			free(url);
			return mp_err_set(err, MP_EIO, _("cannot hold the fetched message"));
		}
		off += (size_t)w;
	}
	if (ftruncate(fd, (off_t)len) != 0) {
		free(url);
		return mp_err_set(err, MP_EIO, _("cannot hold the fetched message"));
	}
	return check_fd(o, ver, rep, fd, folder, junk, url, failed, temp, err);
}

struct all_ctx {
	int fd; /* the anonymous file each message is verified from */
	const struct mp_find_opts *o;
	struct mp_verifier *ver;
	struct mp_report *rep;
	struct mp_imap *im;
	const char *folder;
	bool junk;
	size_t *found;
	bool *failed, *temp;
	struct mp_err *err;
	bool gm_asked;	     /* Gmail was asked for its \Spam label (X-GM-EXT-1) */
	const uint32_t *gm_spam; /* the folder's UIDs labelled \Spam, ascending */
	size_t ngm_spam;
};

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
all_one(uint32_t uid, const char *data, size_t len, void *arg)
{
	struct all_ctx *a = arg;
	static const char *const spam[] = {"\\Spam"};
	bool is_spam;
	int rc;

	/* The session belongs to the fetching thread now: the labels were asked for before. */
	if (a->gm_asked) {
		is_spam = a->ngm_spam > 0 &&
			  bsearch(&uid, a->gm_spam, a->ngm_spam, sizeof(uid), uid_cmp) != NULL;
		mp_verifier_set_labels(a->ver, is_spam ? spam : spam + 1, is_spam ? 1 : 0);
	}
	rc = check_data(a->o, a->ver, a->rep, a->fd, data, len, a->folder, a->junk,
			message_url(a->o, a->folder, mp_imap_uidvalidity(a->im), uid), a->failed,
			a->temp, a->err);
	mp_verifier_set_labels(a->ver, NULL, 0);
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
		return mp_err_set(err, MP_EIO, _("cannot hold the fetched message"));
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

/* One pass over the folders; *found counts the messages reported.  *inbox_next is INBOX's
 * UIDNEXT as its search saw it. */
static int
search_once(struct mp_imap *im, const struct mp_find_opts *o, struct mp_verifier *ver,
	    struct mp_report *rep, char **names, const bool *junk, size_t nf, size_t *found,
	    uint32_t *inbox_next, bool *failed, bool *temp, struct mp_err *err)
{
	size_t i, j, nu, best_f = 0, pass;
	uint32_t *uids, best_uid = 0;
	int64_t best_t = INT64_MIN, t;
	struct mp_imap_query q = {NULL, NULL, NULL, 0};
	int rc;

	if (o->test_id != NULL) {
		q.field = "X-Mailproof-Test-Id";
		q.value = o->test_id;
		/* mailproof-send writes the id into the Message-ID too (lower case; SEARCH
		 * ignores case, RFC 3501 6.4.4), a field servers have cached far more often. */
		q.hint = "Message-ID";
	} else if (o->message_id != NULL) {
		q.field = "Message-ID";
		q.value = o->message_id;
	} else {
		q.field = "From";
		q.value = o->from;
	}
	/* The message cannot have arrived before mailproof-send took it. */
	if (o->receipt != NULL && !receipt_time(o->receipt, &q.since))
		q.since = 0;
	if (o->all)
		q.value = NULL;
	for (i = 0, rc = 0; i < nf && rc == 0; i++) {
		uids = NULL;
		if ((rc = mp_imap_query(im, names[i], &q, &uids, &nu, err)) != 0) {
			/* A folder listed by name but missing is no reason to stop. */
			if (rc != MP_EIO || i == 0)
				break;
			rc = 0;
			continue;
		}
		if (i == 0)
			*inbox_next = mp_imap_uidnext(im);
		if (o->all) {
			struct all_ctx a = {memfd_create("mailproof-message", MFD_CLOEXEC),
					    o,
					    ver,
					    rep,
					    im,
					    names[i],
					    junk[i],
					    found,
					    failed,
					    temp,
					    err,
					    false,
					    NULL,
					    0};

			uint32_t *gm = NULL;
			size_t ngm = 0;

			if (a.fd < 0) {
				free(uids);
				rc = mp_err_set(err, MP_EIO, _("cannot hold the fetched messages"));
				break;
			}
			rc = mp_imap_spam_uids(im, &a.gm_asked, &gm, &ngm, err);
			if (rc == 0) {
				if (ngm > 1)
					qsort(gm, ngm, sizeof(*gm), uid_cmp);
				a.gm_spam = gm;
				a.ngm_spam = ngm;
				rc = mp_imap_fetch_many(im, uids, nu, all_one, &a, err);
			}
			free(gm);
			close(a.fd);
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
			/* One test message: the newest copy that really carries the id.  When
			 * only others matched (a shortcut of the search found them), the second
			 * pass searches the field itself. */
			for (pass = 0, rc = 1; pass < 2 && rc == 1 && nu > 0; pass++) {
				for (j = nu; j > 0 && nu - j < MAX_CANDIDATES && rc == 1; j--)
					rc = check_one(im, o, ver, rep, names[i], junk[i],
						       uids[j - 1], found, failed, temp, err);
				if (rc == 1 && pass == 0) {
					free(uids);
					uids = NULL;
					nu = 0;
					rc = mp_imap_query(im, names[i], &q, &uids, &nu, err);
					rc = rc == 0 ? 1 : rc;
				}
			}
			rc = rc == 1 ? 0 : rc;
		}
		free(uids);
	}
	if (rc == 0 && best_uid != 0 && (rc = mp_imap_examine(im, names[best_f], err)) == 0) {
		rc = check_one(im, o, ver, rep, names[best_f], junk[best_f], best_uid, found, failed,
			       temp, err);
		rc = rc == 1 ? 0 : rc;
	}
	return rc;
}

/* The connections that wait for mail in the folders other than INBOX (INBOX waits on the
 * searching connection), one per folder, each EXAMINEd and IDLEing with the others. */
struct watch {
	struct mp_imap *im[1 + MAX_WATCHERS]; /* [0]: the searching connection (INBOX) */
	unsigned fails[1 + MAX_WATCHERS];      /* failed attempts to open im[i] */
	size_t n;                              /* folders 1 .. n-1 have a connection slot */
	bool polled;                           /* some folder is only searched, each slice */
};

static void
watch_close(struct watch *w)
{
	for (size_t i = 1; i < w->n; i++) {
		mp_imap_close(w->im[i]);
		w->im[i] = NULL;
	}
	w->n = 0;
}

/*
 * Opens what is missing of one connection per watched folder.  Returns true when one was
 * opened: mail that came before its EXAMINE is only found by searching again, so the
 * caller searches before it waits.
 */
static bool
watch_open(struct watch *w, const struct mp_find_opts *o, struct mp_imap *main_im, char **names,
	   size_t nf)
{
	struct mp_err e = {0};
	bool opened = false;
	size_t i;

	w->im[0] = main_im;
	if (!mp_imap_has_idle(main_im)) {
		w->n = 1;
		w->polled = nf > 1;
		return false;
	}
	w->n = nf < 1 + MAX_WATCHERS ? nf : 1 + MAX_WATCHERS;
	w->polled = nf > w->n;
	for (i = 1; i < w->n; i++) {
		if (w->im[i] != NULL)
			continue;
		/* A server that refuses more connections is not asked every round. */
		if (w->fails[i] >= MAX_WATCH_FAILS) {
			w->polled = true;
			continue;
		}
		if (mp_imap_open(&w->im[i], &o->imap, &e) != 0 ||
		    mp_imap_examine(w->im[i], names[i], &e) != 0) {
			/* Searched each slice until a later round gets a connection. */
			if (o->imap.verbose > 0)
				fprintf(stderr, _("mailproof-inspect: imap: watching %s: %s\n"),
					names[i], e.msg);
			mp_imap_close(w->im[i]);
			w->im[i] = NULL;
			w->fails[i]++;
			w->polled = true;
			continue;
		}
		w->fails[i] = 0;
		opened = true;
	}
	return opened;
}

int
mp_find_run(const struct mp_find_opts *o, struct mp_verifier *ver, struct mp_report *rep,
	    enum mp_find_outcome *outcome, bool *failed, bool *temp, struct mp_err *err)
{
	struct mp_imap *im = NULL;
	struct watch w = {{NULL}, {0}, 0, false};
	int st[1 + MAX_WATCHERS];
	char **names = NULL;
	bool *junk = NULL;
	size_t nf = 0, found = 0, i;
	uint32_t inbox_next = 0;
	double start = now_s(), deadline = start + o->wait_s, left, slice;
	bool progress_shown = false;
	unsigned rounds = 0;
	int rc;

	*outcome = MP_FIND_NOT_FOUND;
	*failed = *temp = false;
	/* Bounded by the deadline; the count only guards against a clock gone wrong. */
	for (; rounds < 1000000; rounds++) {
		if (im == NULL) {
			/* A new connection may list other folders: the watchers follow it. */
			watch_close(&w);
			mp_imap_folders_free(names, junk, nf);
			names = NULL;
			junk = NULL;
			nf = 0;
			rc = mp_imap_open(&im, &o->imap, err);
			if (rc == 0 &&
			    (rc = mp_imap_folders(im, o->folders, o->nfolders, &names, &junk, &nf,
						  err)) != 0) {
				mp_imap_close(im);
				im = NULL;
				if (rc != MP_EIO)
					goto out;
				rc = MP_EIO;
				if (now_s() >= deadline)
					goto out;
				continue;
			}
			if (rc != 0) {
				/* Refusals (TLS, login, usage) are final; a lost server is retried. */
				if (rc != MP_EIO || !mp_imap_last_open_unreachable() ||
				    now_s() + RETRY_MS / 1000.0 >= deadline)
					goto out;
				sleep_ms(RETRY_MS);
				continue;
			}
		}
		rc = search_once(im, o, ver, rep, names, junk, nf, &found, &inbox_next, failed, temp,
				 err);
		if (rc == MP_EIO) {
			/* The connection dropped: reconnect within the wait. */
			if (o->imap.verbose > 0)
				fprintf(stderr, _("mailproof-inspect: imap: %s; reconnecting\n"),
					err->msg);
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
			fputc('\r', stderr);
			fprintf(stderr, _("mailproof-inspect: waiting for %s: %.0f s left  "),
				o->test_id != NULL	? o->test_id
				: o->message_id != NULL ? o->message_id
							: o->from,
				left);
			progress_shown = true;
		}
		if (watch_open(&w, o, im, names, nf))
			continue;
		/* INBOX waits on this connection: mail that came since its search is announced
		 * by no IDLE, but shows in UIDNEXT. */
		if (mp_imap_examine(im, "INBOX", err) != 0) {
			mp_imap_close(im);
			im = NULL;
			continue;
		}
		if (inbox_next != 0 && mp_imap_uidnext(im) > inbox_next)
			continue;
		slice = left * 1000;
		if (w.polled && slice > SLICE_MS)
			slice = SLICE_MS;
		mp_imap_wait_any(w.im, w.n, (unsigned)slice, st);
		for (i = 0; i < w.n; i++) {
			if (st[i] >= 0)
				continue;
			if (o->imap.verbose > 0)
				fprintf(stderr,
					_("mailproof-inspect: imap: connection for %s lost; "
					  "reconnecting\n"),
					names[i]);
			mp_imap_close(w.im[i]);
			w.im[i] = NULL;
			if (i == 0)
				im = NULL;
		}
		if (im == NULL)
			watch_close(&w);
	}
	rc = 0;
out:
	if (progress_shown)
		fputs("\n", stderr);
	watch_close(&w);
	mp_imap_close(im);
	mp_imap_folders_free(names, junk, nf);
	return rc;
}
