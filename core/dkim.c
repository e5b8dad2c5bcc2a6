/* dkim.c - placeholder until the module lands. */
typedef int mp_dkim_placeholder;
