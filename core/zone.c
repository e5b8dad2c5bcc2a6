/* zone.c - placeholder until the module lands. */
typedef int mp_zone_placeholder;
