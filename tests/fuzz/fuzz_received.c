/*
 * fuzz_received.c - libFuzzer harness for the Received and Received-SPF parsers.
 *
 * The input is one header value; both parsers must stay within their bounds and
 * release everything, whatever the bytes.
 */
#include <stddef.h>
#include <stdint.h>

#include "received.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_received r;
	struct mp_received_spf s;
	struct mp_err err;
	size_t idx;

	if (mp_received_parse((const char *)data, size, &r, &err) == 0) {
		(void)mp_received_pick(&r, 1, NULL, NULL, &idx);
		mp_received_dispose(&r);
	}
	if (mp_received_spf_parse((const char *)data, size, &s, &err) == 0)
		mp_received_spf_dispose(&s);
	return 0;
}
