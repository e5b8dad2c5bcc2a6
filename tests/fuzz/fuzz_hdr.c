/* fuzz_hdr.c - libFuzzer harness: header sections, then every field through the value
 * helpers (unfolding, RFC 2047 decoding, address lists, Message-ID). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_headers *h = NULL;
	struct mp_mailbox mb[4];
	struct mp_err err;
	const struct mp_field *f;
	size_t i, j, n, count;
	char *s;

	if (mp_headers_parse(&h, (const char *)data, size, &err) != 0)
		return 0;
	for (i = 0; i < mp_headers_count(h); i++) {
		f = mp_headers_at(h, i);
		s = mp_hdr_unfold(f->value, f->value_len, &n);
		if (s != NULL && strlen(s) != n)
			abort(); /* NUL must not survive unfolding */
		free(s);
		free(mp_hdr_decode(f->value, f->value_len));
		free(mp_hdr_msgid(f->value, f->value_len));
		if (mp_hdr_mailboxes(f->value, f->value_len, mb, 4, &count, &err) == 0)
			for (j = 0; j < count && j < 4; j++)
				mp_mailbox_dispose(&mb[j]);
	}
	(void)mp_headers_find(h, "From", 1);
	(void)mp_headers_count_named(h, "Received");
	mp_headers_free(h);
	return 0;
}
