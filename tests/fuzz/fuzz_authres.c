/* fuzz_authres.c - libFuzzer harness: any bytes through the Authentication-Results parser. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "authres.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_authres *ar = NULL;
	size_t i, j;

	if (mp_authres_parse((const char *)data, size, &ar, NULL) != 0)
		return 0;
	/* Touch every string so ASan checks that each one is inside the block and terminated. */
	if (ar->authserv_id != NULL)
		(void)strlen(ar->authserv_id);
	if (ar->error != NULL)
		(void)strlen(ar->error);
	for (i = 0; i < ar->nresults; i++) {
		const struct mp_ar_result *r = &ar->results[i];

		(void)strlen(r->method);
		(void)strlen(r->result);
		if (r->reason != NULL)
			(void)strlen(r->reason);
		if (r->comment != NULL)
			(void)strlen(r->comment);
		for (j = 0; j < r->nprops; j++)
			(void)(strlen(r->props[j].key) + strlen(r->props[j].value));
		(void)mp_ar_result_prop(r, "header.d");
	}
	(void)mp_authserv_id_matches(ar->authserv_id, ".example.com");
	mp_authres_free(ar);
	return 0;
}
