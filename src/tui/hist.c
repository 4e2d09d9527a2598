/* hist: implementation. */
#include "hist.h"

#include <math.h>
#include <string.h>

void hist_build(struct hist *h, const float *v, size_t n, double lo, double hi, int nbins) {
    memset(h, 0, sizeof *h);
    if (nbins < 1) nbins = 1;
    if (nbins > HIST_MAX_BINS) nbins = HIST_MAX_BINS;
    if (!(hi > lo)) hi = lo + 1;
    h->nbins = nbins;
    h->lo = lo;
    h->hi = hi;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            h->skipped++;
            continue;
        }
        long b = (long)floor((v[i] - lo) / (hi - lo) * nbins);
        if (b < 0) b = 0;
        if (b >= nbins) b = nbins - 1;
        h->count[b]++;
        h->total++;
        if (h->count[b] > h->max) h->max = h->count[b];
    }
}

void hist_symmetric_range(const float *v, size_t n, double *lo, double *hi) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]) && fabs(v[i]) > m) m = fabs(v[i]);
    if (m < 0.1) m = 0.1;
    m *= 1.0001; /* so the largest value falls inside its bin rather than on the edge */
    *lo = -m;
    *hi = m;
}

int hist_bar_eighths(const struct hist *h, int bin, int height) {
    if (bin < 0 || bin >= h->nbins || h->count[bin] == 0 || h->max == 0) return 0;
    long e = (long)ceil((double)h->count[bin] * height * 8 / h->max);
    return e < 1 ? 1 : (int)e;
}

size_t hist_render_row(const struct hist *h, int height, int row, int bar_w, bool ascii, char *out, size_t cap) {
    static const char *const eighths[9] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    if (bar_w < 1) bar_w = 1;
    int from_bottom = height - 1 - row; /* rows below this one */
    size_t o = 0;
    for (int b = 0; b < h->nbins; b++) {
        int fill = hist_bar_eighths(h, b, height) - from_bottom * 8;
        if (fill < 0) fill = 0;
        if (fill > 8) fill = 8;
        const char *g = ascii ? (fill == 8 ? "#" : fill > 0 ? "." : " ") : eighths[fill];
        for (int k = 0; k < bar_w; k++) {
            const char *cell = (bar_w > 1 && k == bar_w - 1) ? " " : g;
            size_t len = strlen(cell);
            if (o + len + 1 > cap) goto done;
            memcpy(out + o, cell, len);
            o += len;
        }
    }
done:
    if (cap > 0) out[o] = '\0';
    return o;
}
