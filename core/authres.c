/* authres.c - placeholder until the module lands. */
typedef int mp_authres_placeholder;
