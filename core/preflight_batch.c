/* preflight_batch.c - see preflight_batch.h.
 *
 * The checks in preflight.c, spfrec.c, spf.c (libspf2) and dmarc.c ask DNS one question
 * at a time and use each answer before the next question.  Rather than rewrite each of
 * them (and libspf2) as a state machine, every domain's check runs as a coroutine
 * (ucontext) on a stack of its own: the resolver's waiter switches back to the scheduler
 * while the query is in flight, and the scheduler resumes the check once libunbound has
 * answered.  One thread, so no locks: the resolver, its cache and libspf2 are only ever
 * used by one check at a time.  In zone mode every answer is immediate and the checks
 * simply run one after another.
 */
#include "preflight_batch.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "i18n.h"
#include "resolver.h"

#if defined(__SANITIZE_ADDRESS__)
#define PFB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PFB_ASAN 1
#endif
#endif
#ifdef PFB_ASAN
#include <sanitizer/common_interface_defs.h>
#define PFB_STACK (2u * 1024 * 1024) /* ASan's redzones need room */
#else
#define PFB_STACK (512u * 1024) /* libspf2 and OpenSSL stay far below; pages are touched lazily */
#endif

enum task_state { T_FREE = 0, T_RUNNING, T_WAITING, T_FINISHED };

struct pftask {
	ucontext_t ctx;
	void *map; /* the stack, with a guard page below it */
	size_t maplen;
	enum task_state state;
	size_t index;
	const int *answered; /* T_WAITING: the resolver sets it */
	void *fake_stack;    /* ASan bookkeeping of the suspended coroutine */
	struct mp_pfrep rep;
	struct mp_err err;
	int rc;
};

struct slot {
	bool full;
	struct mp_pfrep rep;
};

struct batch {
	struct mp_resolver *res;
	const struct mp_pfbatch_item *items;
	ucontext_t sched;
	struct pftask *cur; /* the coroutine running now */
	void *sched_fake;   /* ASan: the scheduler's fake stack while a coroutine runs */
	const void *main_bottom;
	size_t main_size;
};

/* makecontext() passes only ints: the coroutine being started is handed over here. */
static struct batch *starting;

static void
switch_begin(void **fake, const void *bottom, size_t size)
{
#ifdef PFB_ASAN
	__sanitizer_start_switch_fiber(fake, bottom, size);
#else
	(void)fake;
	(void)bottom;
	(void)size;
#endif
}

static void
switch_end(void *fake, const void **bottom_old, size_t *size_old)
{
#ifdef PFB_ASAN
	__sanitizer_finish_switch_fiber(fake, bottom_old, size_old);
#else
	(void)fake;
	(void)bottom_old;
	(void)size_old;
#endif
}

static void
task_main(void)
{
	struct batch *b = starting;
	struct pftask *t = b->cur;

	switch_end(NULL, &b->main_bottom, &b->main_size);
	t->rc = mp_preflight_run(b->res, b->items[t->index].domain, &b->items[t->index].opts,
				 &t->rep, &t->err);
	t->state = T_FINISHED;
	/* A finished coroutine is never resumed; its stack serves the next domain. */
	switch_begin(NULL, b->main_bottom, b->main_size);
	setcontext(&b->sched);
}

/* The resolver's waiter: runs on a coroutine's stack, back when its answer is there. */
static void
task_wait(void *arg, const int *answered)
{
	struct batch *b = arg;
	struct pftask *t = b->cur;

	t->answered = answered;
	t->state = T_WAITING;
	switch_begin(&t->fake_stack, b->main_bottom, b->main_size);
	swapcontext(&t->ctx, &b->sched);
	switch_end(t->fake_stack, NULL, NULL);
}

/* Runs t until it waits for DNS or finishes. */
static void
task_resume(struct batch *b, struct pftask *t)
{
	b->cur = t;
	t->state = T_RUNNING;
	starting = b;
	switch_begin(&b->sched_fake, (char *)t->map + sysconf(_SC_PAGESIZE), PFB_STACK);
	swapcontext(&b->sched, &t->ctx);
	switch_end(b->sched_fake, NULL, NULL);
	b->cur = NULL;
}

static int
task_start(struct batch *b, struct pftask *t, size_t index)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (t->map == NULL) {
		t->maplen = PFB_STACK + page;
		t->map = mmap(NULL, t->maplen, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (t->map == MAP_FAILED) {
			t->map = NULL;
			return MP_ENOMEM;
		}
		/* An overflow faults on the guard page instead of corrupting the heap. */
		if (mprotect(t->map, page, PROT_NONE) != 0)
			return MP_ENOMEM;
	}
	memset(&t->rep, 0, sizeof(t->rep));
	mp_err_clear(&t->err);
	t->rc = 0;
	t->index = index;
	t->answered = NULL;
	if (getcontext(&t->ctx) != 0)
		return MP_ENOMEM;
	t->ctx.uc_stack.ss_sp = (char *)t->map + page;
	t->ctx.uc_stack.ss_size = PFB_STACK;
	t->ctx.uc_link = NULL;
	makecontext(&t->ctx, task_main, 0);
	task_resume(b, t);
	return 0;
}

/* Waits for DNS answers (or the next deadline) and delivers them. */
static int
wait_dns(struct batch *b, struct mp_err *err)
{
	struct pollfd pfd;
	int left = mp_resolver_next_timeout(b->res);

	if (mp_resolver_pending(b->res) == 0)
		return mp_err_set(err, MP_EINVAL, _("internal error: checks wait for no query"));
	pfd.fd = mp_resolver_fd(b->res);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, left < 0 ? 0 : left) < 0 && errno != EINTR)
		return mp_err_set(err, MP_EIO, "poll: %s", strerror(errno));
	(void)mp_resolver_process(b->res); /* a broken channel answers every query TEMPFAIL */
	return 0;
}

int
mp_preflight_batch(struct mp_resolver *res, const struct mp_pfbatch_item *items, size_t n,
		   unsigned concurrency, mp_pfbatch_report_fn report, void *arg, struct mp_err *err)
{
	struct batch b;
	struct pftask *tasks = NULL;
	struct slot *slots = NULL;
	size_t window, next_start = 0, next_report = 0, i, active = 0;
	int rc = 0, failed = 0;

	if (concurrency < 1 || concurrency > MP_PFBATCH_CONCURRENCY_MAX || report == NULL)
		return mp_err_set(err, MP_EINVAL, _("concurrency must be 1..%d"),
				  MP_PFBATCH_CONCURRENCY_MAX);
	memset(&b, 0, sizeof(b));
	b.res = res;
	b.items = items;
	window = 4 * (size_t)concurrency;
	tasks = calloc(concurrency, sizeof(*tasks));
	slots = calloc(window, sizeof(*slots));
	if (tasks == NULL || slots == NULL) {
		rc = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	mp_resolver_set_wait(res, task_wait, &b);
	/*
	 * Every round starts, resumes or reports at least one domain, or waits for DNS,
	 * which answers or times out every query within the resolver's timeout.
	 */
	while (next_report < n) {
		bool progress = false;

		for (i = 0; i < concurrency && !failed; i++) {
			struct pftask *t = &tasks[i];

			if (t->state == T_FREE && next_start < n &&
			    next_start < next_report + window) {
				if ((rc = task_start(&b, t, next_start)) != 0) {
					mp_err_set(err, rc, _("out of memory"));
					failed = 1;
					break;
				}
				next_start++;
				active++;
				progress = true;
			} else if (t->state == T_WAITING && *t->answered) {
				task_resume(&b, t);
				progress = true;
			}
		}
		for (i = 0; i < concurrency; i++) {
			struct pftask *t = &tasks[i];

			if (t->state != T_FINISHED)
				continue;
			if (t->rc != 0 && !failed) {
				rc = mp_err_set(err, t->rc, "%s: %s", items[t->index].domain,
						t->err.msg);
				failed = 1;
			}
			slots[t->index % window].rep = t->rep;
			slots[t->index % window].full = true;
			memset(&t->rep, 0, sizeof(t->rep));
			t->state = T_FREE;
			active--;
			progress = true;
		}
		while (!failed && next_report < n && slots[next_report % window].full) {
			struct slot *s = &slots[next_report % window];

			rc = report(arg, next_report, &s->rep, err);
			mp_pfrep_dispose(&s->rep);
			s->full = false;
			next_report++;
			progress = true;
			if (rc != 0)
				failed = 1;
		}
		if (failed && active == 0)
			break;
		if (!progress && (rc = wait_dns(&b, err)) != 0) {
			/* Suspended checks cannot be unwound safely: give up on the whole run. */
			failed = 1;
			break;
		}
	}
out:
	mp_resolver_set_wait(res, NULL, NULL);
	for (i = 0; tasks != NULL && i < concurrency; i++) {
		mp_pfrep_dispose(&tasks[i].rep);
		if (tasks[i].map != NULL)
			munmap(tasks[i].map, tasks[i].maplen);
	}
	for (i = 0; slots != NULL && i < window; i++)
		if (slots[i].full)
			mp_pfrep_dispose(&slots[i].rep);
	free(tasks);
	free(slots);
	return rc;
}
