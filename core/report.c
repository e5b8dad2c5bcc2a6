/* report.c - placeholder until the module lands. */
typedef int mp_report_placeholder;
