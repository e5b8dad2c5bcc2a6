/* hdr.c - placeholder until the module lands. */
typedef int mp_hdr_placeholder;
