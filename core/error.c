/* error.c - see error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int
mp_err_set(struct mp_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void
mp_err_clear(struct mp_err *err)
{
	if (err == NULL)
		return;
	err->code = MP_OK;
	err->msg[0] = '\0';
}
