/*
 * fuzz_sasl.c - libFuzzer harness for the SASL error challenge an IMAP server sends after
 * a rejected OAuth 2.0 token ("+ <base64 JSON>", RFC 7628 3.2.2).
 *
 * The input is read twice: as the challenge line itself, and as the JSON the server
 * encoded, so the fuzzer reaches the JSON side without having to find valid base64.
 * Nothing may crash, leak or read out of bounds; the status is printable ASCII.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
check(const char *line)
{
	char status[16];
	size_t i;

	mp_sasl_challenge_status(line, status, sizeof(status));
	for (i = 0; status[i] != '\0'; i++)
		if (status[i] <= 0x20 || status[i] >= 0x7f)
			abort();
	mp_sasl_challenge_status(line, status, 1);
	if (status[0] != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line;
	size_t i, o = 0;
	uint32_t v;

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	check(line);
	free(line);

	if ((line = malloc(3 + (size + 2) / 3 * 4 + 1)) == NULL)
		return 0;
	line[o++] = '+';
	line[o++] = ' ';
	for (i = 0; i < size; i += 3) {
		v = (uint32_t)data[i] << 16;
		if (i + 1 < size)
			v |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < size)
			v |= data[i + 2];
		line[o++] = b64[v >> 18 & 63];
		line[o++] = b64[v >> 12 & 63];
		line[o++] = i + 1 < size ? b64[v >> 6 & 63] : '=';
		line[o++] = i + 2 < size ? b64[v & 63] : '=';
	}
	line[o] = '\0';
	check(line);
	free(line);
	return 0;
}
