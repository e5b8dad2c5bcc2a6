/* resolver.c - placeholder until the module lands. */
typedef int mp_resolver_placeholder;
