/* spf.c - placeholder until the module lands. */
typedef int mp_spf_placeholder;
