/*
 * compose.h - the test notification: templates filled in from the profile, as an
 * RFC 5322 / MIME message (multipart/alternative, text + HTML, UTF-8, quoted-printable
 * where a part needs it, headers RFC 2047-encoded and folded at 78 columns), CRLF.
 * Templates are read once (each at most MP_TEMPLATE_MAX bytes); values substituted into
 * HTML are escaped.  The caller owns every buffer.
 */
#ifndef MP_COMPOSE_H
#define MP_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "error.h"

#define MP_TEMPLATE_MAX (64 * 1024)
#define MP_MESSAGE_MAX (1024 * 1024) /* one composed message */
#define MP_TEST_ID_MAX 64

struct mp_templates {
	char *text; /* "Subject: ...\n\nbody" with {{variables}} */
	size_t text_len;
	char *html;
	size_t html_len;
};

/* Reads notification-LANG.txt and .html from dir. */
int mp_templates_load(struct mp_templates *t, const char *dir, const char *lang,
		      struct mp_err *err);
void mp_templates_dispose(struct mp_templates *t);

struct mp_compose_in {
	const char *lang; /* "nl" or "en" (Content-Language) */
	const char *customer;
	const char *abbreviation;
	const char *domain; /* the customer's domain, named in the text */
	const char *extranet_url;
	const char *contact;
	const char *from_name; /* display name, or NULL */
	const char *from_addr;
	const char *const *to;
	size_t nto;
	const char *test_id;
	time_t when;
};

/*
 * Composes one message into out (reset first).  *message_id receives the Message-ID
 * with its angle brackets (malloc'd).  MP_EINVAL for a template error (unknown
 * variable, missing Subject line), MP_ETOOBIG, MP_ENOMEM.
 */
int mp_compose(const struct mp_templates *t, const struct mp_compose_in *in, struct mp_buf *out,
	       char **message_id, struct mp_err *err);

/* A fresh test id "MP-" + 8 base32 characters (40 bits from getrandom()). */
/* Where the templates are: $MAILPROOF_TEMPLATES, the installed ones, else the source
 * tree's (a binary run from the build tree). */
const char *mp_templates_dir(void);

/* A {{name}} in a template and its value. */
struct mp_tpl_var {
	const char *name;
	const char *value;
};

/*
 * Replaces every {{name}} in (s, n) by its value (HTML-escaped when html); an unknown or
 * unterminated variable is MP_EINVAL.  Line ends come out as LF.
 */
int mp_template_expand(struct mp_buf *out, const char *s, size_t n, const struct mp_tpl_var *vars,
		       size_t nvars, bool html, struct mp_err *err);

int mp_compose_test_id(char *out, size_t outlen, struct mp_err *err);

#endif
