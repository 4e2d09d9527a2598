/* series: the bounded history of one scalar metric, and TensorBoard-style smoothing of it.
 *
 * A series keeps at most SERIES_CAP points however long the run: when the buffer fills, neighbouring pairs are
 * merged into their mean and every later point stands for twice as many raw steps (the stride doubles). So a
 * run of 10,000 steps is drawn from at most 4,096 points per series, and memory is fixed at init. Points not
 * yet forming a full bucket are visible as a provisional last point, so the newest data always shows.
 * Non-finite values are counted and left out (a chart cannot place them; the raw number is still shown from
 * the latest metrics record).
 *
 * The smoothing is TensorBoard's: an exponential moving average started from 0 and divided by 1 - w^k
 * (debiased), so the first smoothed points are not dragged towards zero. */
#ifndef R1LAB_TUI_SERIES_H
#define R1LAB_TUI_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef SERIES_CAP
#define SERIES_CAP 4096 /* stored points per series; even (the fuzz build sets a smaller one) */
#endif

struct series {
    double x[SERIES_CAP + 1]; /* step of each point (mean step of a merged point); [n] = provisional point */
    float y[SERIES_CAP + 1];
    size_t n;        /* complete points */
    uint32_t stride; /* raw values per complete point (a power of two) */
    double acc_x;    /* the bucket being filled: sums and count */
    double acc_y;
    uint32_t acc_n;
    uint64_t pushed;    /* finite values pushed */
    uint64_t nonfinite; /* values refused because NaN or infinite */
    double last_x;      /* the newest raw value, unmerged */
    float last_y;
};

void series_init(struct series *s);
void series_push(struct series *s, double x, float y);
/* Number of points to draw (complete ones plus the provisional one); they are s->x[0..n), s->y[0..n). */
size_t series_len(const struct series *s);
bool series_empty(const struct series *s);
/* Smallest and largest y among the drawable points with x in [x0, x1]; false when there is none. */
bool series_range(const struct series *s, double x0, double x1, float *lo, float *hi);
/* Index of the last drawable point with x <= step, or -1. */
long series_find(const struct series *s, double step);

/* Debiased EMA of y[0..n) with weight w in [0, 1) into out[0..n) (may alias y). Non-finite inputs pass through
 * unchanged and do not disturb the average. w = 0 gives the raw values. */
void series_ema(const float *y, size_t n, double w, float *out);
/* The per-point weight that makes smoothing a series of the given stride behave like w applied per raw step. */
double series_ema_weight(double w, uint32_t stride);

#endif
