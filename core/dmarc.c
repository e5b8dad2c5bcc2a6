/* dmarc.c - placeholder until the module lands. */
typedef int mp_dmarc_placeholder;
