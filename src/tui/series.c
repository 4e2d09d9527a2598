/* series: implementation of the pair-merging buffer and the debiased EMA. */
#include "series.h"

#include <math.h>
#include <string.h>

void series_init(struct series *s) {
    s->n = 0;
    s->stride = 1;
    s->acc_x = s->acc_y = 0;
    s->acc_n = 0;
    s->pushed = s->nonfinite = 0;
    s->last_x = 0;
    s->last_y = NAN;
}

static void merge_pairs(struct series *s) {
    size_t half = s->n / 2;
    for (size_t i = 0; i < half; i++) {
        s->x[i] = 0.5 * (s->x[2 * i] + s->x[2 * i + 1]);
        s->y[i] = 0.5f * (s->y[2 * i] + s->y[2 * i + 1]);
    }
    s->n = half;
    s->stride *= 2;
}

void series_push(struct series *s, double x, float y) {
    if (!isfinite(y)) {
        s->nonfinite++;
        return;
    }
    s->pushed++;
    s->last_x = x;
    s->last_y = y;
    s->acc_x += x;
    s->acc_y += y;
    s->acc_n++;
    /* The provisional point shows the partial bucket's mean. */
    s->x[s->n] = s->acc_x / s->acc_n;
    s->y[s->n] = (float)(s->acc_y / s->acc_n);
    if (s->acc_n == s->stride) {
        s->n++;
        s->acc_x = s->acc_y = 0;
        s->acc_n = 0;
        if (s->n == SERIES_CAP) merge_pairs(s);
    }
}

size_t series_len(const struct series *s) {
    return s->n + (s->acc_n > 0);
}

bool series_empty(const struct series *s) {
    return series_len(s) == 0;
}

bool series_range(const struct series *s, double x0, double x1, float *lo, float *hi) {
    size_t n = series_len(s);
    bool any = false;
    float a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        if (s->x[i] < x0 || s->x[i] > x1) continue;
        float v = s->y[i];
        if (!any) {
            a = b = v;
            any = true;
        } else {
            if (v < a) a = v;
            if (v > b) b = v;
        }
    }
    if (any) {
        *lo = a;
        *hi = b;
    }
    return any;
}

long series_find(const struct series *s, double step) {
    size_t n = series_len(s);
    /* x is non-decreasing: binary search for the last x <= step. */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->x[mid] <= step)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

void series_ema(const float *y, size_t n, double w, float *out) {
    double last = 0;
    double wk = 1; /* w^k, k = values averaged so far */
    for (size_t i = 0; i < n; i++) {
        float v = y[i];
        if (!isfinite(v)) {
            out[i] = v;
            continue;
        }
        last = last * w + (1 - w) * v;
        wk *= w;
        double debias = 1 - wk;
        out[i] = debias > 0 ? (float)(last / debias) : v;
    }
}

double series_ema_weight(double w, uint32_t stride) {
    return stride <= 1 ? w : pow(w, (double)stride);
}
