/*
 * fuzz_spamsig.c - libFuzzer harness for the provider spam verdicts.
 *
 * The input is read twice: as one X-Forefront-Antispam-Report / SCL / BCL value, and as
 * a header section whose Microsoft fields are looked for (the first byte picks where the
 * sender's side starts).  Nothing may crash, leak or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>

#include "hdr.h"
#include "report.h"
#include "spamsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_forefront f;
	struct mp_headers *h = NULL;
	struct mp_err err;
	struct mp_msgrep m;
	bool ignored;
	int l;

	(void)mp_forefront_parse((const char *)data, size, &f);
	(void)mp_forefront_spam(f.sfv, f.scl);
	(void)mp_scl_parse((const char *)data, size, &l);
	(void)mp_bcl_parse((const char *)data, size, &l);
	if (size < 1 || mp_headers_parse(&h, (const char *)data + 1, size - 1, &err) != 0)
		return 0;
	mp_msgrep_init(&m);
	if (mp_spamsig_read(h, data[0] == 0xff ? SIZE_MAX : data[0] % 16,
			    "db1pepf000509f0.mail.protection.outlook.com", NULL, 0, &m.provider,
			    &ignored) == 0)
		mp_spamsig_placement(&m, "INBOX", false);
	mp_msgrep_dispose(&m);
	mp_headers_free(h);
	return 0;
}
