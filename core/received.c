/* received.c - placeholder until the module lands. */
typedef int mp_received_placeholder;
