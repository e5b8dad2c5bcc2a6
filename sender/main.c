/*
 * mailproof-send - compose, DKIM-sign and submit an Extranet notification.
 *
 * Not built yet: until its issue lands the program prints its usage and exits 2,
 * as SPEC.md allows.
 */
#include <stdio.h>
#include <string.h>

static const char usage[] =
	"usage: mailproof-send [OPTIONS] --to ADDRESS\n"
	"       mailproof-send records [OPTIONS]\n"
	"mailproof-send is not implemented yet in this version.\n";

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("mailproof-send %s\n", MP_VERSION);
		return 0;
	}
	fputs(usage, stderr);
	return 2;
}
