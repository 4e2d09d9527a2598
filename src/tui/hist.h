/* hist: the advantage histogram — binning values and drawing vertical bars as text, independent of curses.
 *
 * Bars use eighth blocks (▁▂▃▄▅▆▇█) so a column resolves eight levels per row; in ASCII a bar is '#' for a full
 * row and '.' for a partial top, and any non-zero count shows at least a sliver, so a bin with one value is never
 * mistaken for an empty one. */
#ifndef R1LAB_TUI_HIST_H
#define R1LAB_TUI_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HIST_MAX_BINS 128

struct hist {
    int nbins;
    double lo, hi; /* value range; bin i covers [lo + i*(hi-lo)/nbins, ...), the last bin includes hi */
    uint32_t count[HIST_MAX_BINS];
    uint32_t max;     /* largest count */
    uint32_t total;   /* values binned */
    uint32_t skipped; /* non-finite values */
};

/* Bins v[0..n) into nbins (clamped to 1..HIST_MAX_BINS) over [lo, hi]; values outside go to the end bins. */
void hist_build(struct hist *h, const float *v, size_t n, double lo, double hi, int nbins);
/* A symmetric range [-m, m] covering all finite values (m >= 0.1), as suits advantages centred on zero. */
void hist_symmetric_range(const float *v, size_t n, double *lo, double *hi);
/* Row `row` (0 = top) of a bar chart `height` rows tall, each bin `bar_w` columns wide (the last column of a
 * bar left blank as a gap when bar_w > 1). Writes text into out; returns its length. */
size_t hist_render_row(const struct hist *h, int height, int row, int bar_w, bool ascii, char *out, size_t cap);
/* Eighths of `height` rows a bin's bar fills (0 only for an empty bin). */
int hist_bar_eighths(const struct hist *h, int bin, int height);

#endif
