/* fmt: how the dashboard and the plain log print numbers, so both show a metric the same way. Four significant
 * digits, k/M/G suffixes from 10,000 up, an exponent below 0.001, "nan"/"inf" for non-finite values. */
#ifndef R1LAB_TUI_FMT_H
#define R1LAB_TUI_FMT_H

#include <stddef.h>
#include <stdint.h>

/* 1.235, 0.0123, 312.5, 12.3k, 1.00e-06, nan. Returns out. */
char *fmt_value(double v, char *out, size_t cap);
/* An axis label for a round value v of an axis whose labels are `step` apart (plot_ticks; 0: v alone): as many
 * decimals as the step needs and no trailing zeros (0.5, 1, 1.25), k/M/G from 10,000 up (20k, 1.5M), an exponent
 * when the step is below 0.001 (2e-4). Returns out. */
char *fmt_tick(double v, double step, char *out, size_t cap);
/* 45s, 3m12s, 1h05m, 2d03h; "n/a" for a negative value. */
char *fmt_duration(double seconds, char *out, size_t cap);
/* 512B, 1.2K, 3.4G (powers of 1024). */
char *fmt_bytes(double bytes, char *out, size_t cap);

#endif
