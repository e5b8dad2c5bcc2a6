/* msg.c - placeholder until the module lands. */
typedef int mp_msg_placeholder;
