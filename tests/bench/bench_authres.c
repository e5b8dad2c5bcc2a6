/*
 * bench_authres.c - Authentication-Results parse rate of mp_authres_parse().
 *
 * Reads values separated by NUL bytes (tests/bench/gen writes authres.bin), parses each
 * one `rounds` times over, and prints headers per second of parsing alone (reading the
 * file is not timed).  A benchmark, not a test: run by tests/bench/run, not by ctest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authres.h"
#include "error.h"

#define INPUT_MAX (256u * 1024 * 1024) /* largest input file read */

struct value {
	const char *s;
	size_t len;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
read_all(const char *path, char **out, size_t *outlen)
{
	FILE *fp = NULL;
	char *data = NULL, *p;
	size_t len = 0, cap = 0, n;
	int rc = -1;

	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "bench_authres: %s: %s\n", path, strerror(errno));
		goto out;
	}
	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 1u << 20 : cap * 2;
			if (cap > INPUT_MAX) {
				fprintf(stderr, "bench_authres: %s: larger than %u bytes\n", path,
					INPUT_MAX);
				goto out;
			}
			if ((p = realloc(data, cap)) == NULL) {
				fprintf(stderr, "bench_authres: out of memory\n");
				goto out;
			}
			data = p;
		}
		n = fread(data + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		fprintf(stderr, "bench_authres: %s: read error\n", path);
		goto out;
	}
	*out = data;
	*outlen = len;
	data = NULL;
	rc = 0;
out:
	if (fp != NULL)
		fclose(fp);
	free(data);
	return rc;
}

/* Splits data at NUL bytes; an empty last piece (after the final NUL) is not a value. */
static int
split(const char *data, size_t len, struct value **out, size_t *nout)
{
	struct value *v = NULL;
	size_t n = 0, i, start = 0;

	for (i = 0; i < len; i++)
		n += data[i] == '\0';
	if (len > 0 && data[len - 1] != '\0')
		n++;
	if (n == 0 || (v = calloc(n, sizeof(*v))) == NULL)
		return -1;
	n = 0;
	for (i = 0; i <= len; i++) {
		if (i == len || data[i] == '\0') {
			if (i > start) {
				v[n].s = data + start;
				v[n].len = i - start;
				n++;
			}
			start = i + 1;
		}
	}
	*out = v;
	*nout = n;
	return n > 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	char *data = NULL, *end;
	struct value *vals = NULL;
	size_t len = 0, nvals = 0, i, parsed = 0, results = 0, broken = 0;
	unsigned long rounds = 1, r;
	struct mp_authres *ar;
	struct mp_err err;
	double t0, secs;
	int rc = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bench_authres FILE [ROUNDS]\n");
		return 2;
	}
	if (argc == 3) {
		errno = 0;
		rounds = strtoul(argv[2], &end, 10);
		if (errno != 0 || *end != '\0' || rounds == 0 || rounds > 1000) {
			fprintf(stderr, "bench_authres: ROUNDS must be 1..1000\n");
			return 2;
		}
	}
	if (read_all(argv[1], &data, &len) != 0)
		goto out;
	if (split(data, len, &vals, &nvals) != 0) {
		fprintf(stderr, "bench_authres: %s: no values\n", argv[1]);
		goto out;
	}
	t0 = now();
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < nvals; i++) {
			if (mp_authres_parse(vals[i].s, vals[i].len, &ar, &err) != 0) {
				fprintf(stderr, "bench_authres: %s\n", err.msg);
				goto out;
			}
			/* counted, so the work cannot be optimised away */
			results += ar->nresults;
			broken += ar->error != NULL;
			mp_authres_free(ar);
			parsed++;
		}
	}
	secs = now() - t0;
	printf("authres: %zu headers (%zu results, %zu unparsable) in %.3f s: %.0f headers/s\n",
	       parsed, results, broken, secs, secs > 0 ? (double)parsed / secs : 0.0);
	rc = 0;
out:
	free(vals);
	free(data);
	return rc;
}
