/*
 * fuzz_zone.c - libFuzzer harness for the RFC 1035 master-file parser behind --zone.
 *
 * Zone files come from users and tests; the parser must reject any bytes with an
 * error, never overrun or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "resolver.h"
#include "zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
count_rr(void *arg, const char *owner, const struct mp_dns_rr *rr, struct mp_err *err)
{
	size_t *n = arg;

	(void)err;
	(void)strlen(owner);
	if (rr->data != NULL)
		(void)rr->data[rr->len]; /* terminated, as promised */
	(*n)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_err err;
	size_t n = 0;

	(void)mp_zone_parse((const char *)data, size, "klant.test.", "fuzz", count_rr, &n, &err);
	return 0;
}
