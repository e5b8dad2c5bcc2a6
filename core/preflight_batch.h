/*
 * preflight_batch.h - many domains' preflight checks at once (mailproof-inspect dns --batch).
 *
 * Each domain's check (mp_preflight_run) runs on a small stack of its own; when it waits
 * for DNS it steps aside and the next check runs, so up to `concurrency` domains, each
 * with one asynchronous libunbound query in flight, progress together on one thread.
 * Reports are handed over in input order; at most 4 x concurrency finished reports wait.
 */
#ifndef MP_PREFLIGHT_BATCH_H
#define MP_PREFLIGHT_BATCH_H

#include <stddef.h>

#include "error.h"
#include "preflight.h"

#define MP_PFBATCH_CONCURRENCY_MAX 1024

struct mp_resolver;

struct mp_pfbatch_item {
	const char *domain;
	struct mp_preflight_opts opts;
};

/*
 * Called once per item, in item order, with the finished report (disposed afterwards).
 * A non-zero return (with err set) stops the batch and is returned by mp_preflight_batch.
 */
typedef int (*mp_pfbatch_report_fn)(void *arg, size_t index, const struct mp_pfrep *rep,
				    struct mp_err *err);

/*
 * Checks items[0..n) with at most `concurrency` (1..MP_PFBATCH_CONCURRENCY_MAX) domains
 * and DNS queries in flight.  Returns 0, a domain's mp_preflight_run() error (MP_EINVAL
 * for a bad --key or --ip, MP_ENOMEM; err names the domain), the report function's code,
 * or MP_ENOMEM.  The resolver's waiter is set during the call and removed afterwards.
 */
int mp_preflight_batch(struct mp_resolver *res, const struct mp_pfbatch_item *items, size_t n,
		       unsigned concurrency, mp_pfbatch_report_fn report, void *arg,
		       struct mp_err *err);

#endif
