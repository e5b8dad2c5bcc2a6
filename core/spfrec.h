/*
 * spfrec.h - the SPF record of a domain as published: the include/redirect tree and
 * the RFC 7208 4.6.4 limits counted over it, without a client IP (preflight).
 *
 * Every DNS-querying term of the whole tree is counted, as an evaluation that matches
 * nothing would meet them.  Bounded: MP_SPFREC_MAX_NODES records, MP_SPFREC_MAX_DEPTH
 * levels (a loop stops there).  The tree is a caller-owned plain struct.
 */
#ifndef MP_SPFREC_H
#define MP_SPFREC_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define MP_SPFREC_MAX_NODES 64
#define MP_SPFREC_MAX_DEPTH 10

struct mp_resolver;

/* One record of the tree, depth first (nodes[0] is the domain's own record). */
struct mp_spfrec_node {
	unsigned depth;
	char *via;    /* NULL for the top, else "include" or "redirect" */
	char *domain;
	char *record; /* NULL when none was found */
	char *note;   /* NULL, or why the record is not usable or not followed */
};

enum mp_spfrec_top { MP_SPFREC_FOUND = 0, MP_SPFREC_NONE, MP_SPFREC_MULTIPLE };

struct mp_spfrec_tree {
	enum mp_spfrec_top top;
	size_t nnodes;
	struct mp_spfrec_node *nodes;
	unsigned dns_lookups;  /* DNS-querying terms (include a mx ptr exists redirect) */
	unsigned void_lookups; /* of those, answers with no record */
	char *void_terms;      /* "a:x.example (in klant.test), ..." or NULL */
	char *syntax;          /* first syntax problem in the tree, or NULL */
	char *permissive;      /* "+all in klant.test" or NULL */
	char *tempfail;        /* what lookup failed, or NULL: then the counts are partial */
	bool secure;           /* the top record's answer was DNSSEC validated */
	bool bogus;            /* a DNSSEC validation failed */
};

/* Walks the tree of `domain`.  Returns 0 (whatever was found) or MP_ENOMEM/MP_EINVAL. */
int mp_spfrec_walk(struct mp_resolver *res, const char *domain, struct mp_spfrec_tree *out,
		   struct mp_err *err);
void mp_spfrec_tree_dispose(struct mp_spfrec_tree *t);
/* Whether `domain` is the target of an include or redirect anywhere in the tree. */
bool mp_spfrec_has_include(const struct mp_spfrec_tree *t, const char *domain);

#endif
