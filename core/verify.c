/* verify.c - placeholder until the module lands. */
typedef int mp_verify_placeholder;
