/*
 * html.h - the HTML rendering of a report (--format html), for the joint test.
 *
 * One self-contained page: no external assets and no scripts.  Per message a headline
 * verdict in words and colour, one card per check with a sentence saying what was found
 * and what to do, and the details folded beneath (<details>).  The headline part fits
 * one printed A4 page.  Every string from a message is escaped for HTML.
 */
#ifndef MP_HTML_H
#define MP_HTML_H

#include <stdio.h>

#include "report.h"

void mp_html_open(FILE *fp, const char *tool, const char *version);
void mp_html_add(FILE *fp, const struct mp_msgrep *m, size_t index);
void mp_html_close(FILE *fp, size_t count, size_t failed);

#endif
