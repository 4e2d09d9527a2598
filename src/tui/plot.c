/* plot: implementation. Lines use Bresenham in dot space; glyphs come from fixed tables. */
#include "plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/utf8.h"

/* Braille dot bits by (row, column) within a cell, as Unicode numbers the dots (1-8). */
static const uint8_t braille_bit[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
/* Quadrants: upper-left 1, upper-right 2, lower-left 4, lower-right 8. */
static const uint8_t block_bit[2][2] = {{0x1, 0x2}, {0x4, 0x8}};
static const char *const block_glyph[16] = {" ", "▘", "▝", "▀", "▖", "▌", "▞", "▛",
                                            "▗", "▚", "▐", "▜", "▄", "▙", "▟", "█"};
/* ASCII: top 1, middle 2, bottom 4. Two or more stacked dots read as a steep stroke. */
static const char ascii_glyph[8] = {' ', '\'', '-', '|', '.', ':', '|', '|'};

void plot_canvas_init(struct plot_canvas *c, struct plot_cell *cells, int w, int h, enum plot_mode mode) {
    c->w = w > 0 ? w : 0;
    c->h = h > 0 ? h : 0;
    c->mode = mode;
    c->cells = cells;
    switch (mode) {
    case PLOT_BRAILLE:
        c->dw = 2, c->dh = 4;
        break;
    case PLOT_BLOCK:
        c->dw = 2, c->dh = 2;
        break;
    default:
        c->dw = 1, c->dh = 3;
        break;
    }
    plot_clear(c);
}

void plot_clear(struct plot_canvas *c) {
    memset(c->cells, 0, (size_t)c->w * (size_t)c->h * sizeof *c->cells);
}

void plot_dot_layer(struct plot_canvas *c, int px, int py, uint8_t role, enum plot_layer layer) {
    if (px < 0 || py < 0 || px >= c->w * c->dw || py >= c->h * c->dh) return;
    struct plot_cell *cell = &c->cells[(py / c->dh) * c->w + px / c->dw];
    int sx = px % c->dw, sy = py % c->dh;
    uint8_t bit = c->mode == PLOT_BRAILLE ? braille_bit[sy][sx]
                  : c->mode == PLOT_BLOCK ? block_bit[sy][sx]
                                          : (uint8_t)(1u << sy);
    if (cell->bits && (uint8_t)layer > cell->layer) return; /* a higher layer owns this cell */
    if (cell->bits && (uint8_t)layer < cell->layer) cell->bits = 0; /* this one replaces the lower layer's dots */
    cell->bits |= bit;
    cell->role = role;
    cell->layer = (uint8_t)layer;
    cell->faint = layer != PLOT_LAYER_LINE;
}

void plot_dot(struct plot_canvas *c, int px, int py, uint8_t role, bool faint) {
    plot_dot_layer(c, px, py, role, faint ? PLOT_LAYER_FAINT : PLOT_LAYER_LINE);
}

static double ty(const struct plot_scale *s, double y) {
    return s->logy ? log10(y) : y;
}

bool plot_map(const struct plot_canvas *c, const struct plot_scale *s, double x, double y, int *px, int *py) {
    if (!isfinite(x) || !isfinite(y) || (s->logy && y <= 0)) return false;
    int W = c->w * c->dw, H = c->h * c->dh;
    double xr = s->x1 - s->x0;
    double y0 = ty(s, s->y0), y1 = ty(s, s->y1);
    double yr = y1 - y0;
    double fx = xr > 0 ? (x - s->x0) / xr : 0.5;
    double fy = yr > 0 ? (ty(s, y) - y0) / yr : 0.5;
    /* Clamp slightly outside values onto the frame; far outside ones too (a chart is for shapes). */
    if (fx < 0) fx = 0;
    if (fx > 1) fx = 1;
    if (fy < 0) fy = 0;
    if (fy > 1) fy = 1;
    *px = (int)lround(fx * (W - 1));
    *py = (H - 1) - (int)lround(fy * (H - 1));
    return true;
}

static void segment(struct plot_canvas *c, int x0, int y0, int x1, int y1, uint8_t role, bool faint) {
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        plot_dot(c, x0, y0, role, faint);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

void plot_line(struct plot_canvas *c, const struct plot_scale *s, const double *x, const float *y, size_t n,
               uint8_t role, bool faint) {
    bool have_prev = false;
    int ppx = 0, ppy = 0;
    for (size_t i = 0; i < n; i++) {
        int px, py;
        if (!plot_map(c, s, x[i], y[i], &px, &py)) {
            have_prev = false;
            continue;
        }
        if (have_prev)
            segment(c, ppx, ppy, px, py, role, faint);
        else
            plot_dot(c, px, py, role, faint);
        ppx = px;
        ppy = py;
        have_prev = true;
    }
}

/* A band is shaded with every other dot (a checkerboard), so lines drawn over it stay readable; in ASCII, where a
 * cell has one dot column, only the band's edges are drawn. */
static void fill_column(struct plot_canvas *c, int px, int pa, int pb, uint8_t role) {
    if (pa > pb) {
        int t = pa;
        pa = pb;
        pb = t;
    }
    if (c->mode == PLOT_ASCII) {
        plot_dot_layer(c, px, pa, role, PLOT_LAYER_FILL);
        plot_dot_layer(c, px, pb, role, PLOT_LAYER_FILL);
        return;
    }
    for (int py = pa; py <= pb; py++)
        if (py == pa || py == pb || ((px + py) & 1) == 0) plot_dot_layer(c, px, py, role, PLOT_LAYER_FILL);
}

void plot_band(struct plot_canvas *c, const struct plot_scale *s, const double *x, const float *lo, const float *hi,
               size_t n, uint8_t role) {
    bool have_prev = false;
    int p_x = 0, p_lo = 0, p_hi = 0;
    for (size_t i = 0; i < n; i++) {
        int px, plo, phi;
        if (!plot_map(c, s, x[i], lo[i], &px, &plo) || !plot_map(c, s, x[i], hi[i], &px, &phi)) {
            have_prev = false;
            continue;
        }
        if (have_prev && px > p_x + 1) {
            for (int q = p_x + 1; q < px; q++) {
                double f = (double)(q - p_x) / (double)(px - p_x);
                fill_column(c, q, (int)lround(p_lo + f * (plo - p_lo)), (int)lround(p_hi + f * (phi - p_hi)), role);
            }
        }
        fill_column(c, px, plo, phi, role);
        p_x = px;
        p_lo = plo;
        p_hi = phi;
        have_prev = true;
    }
}

void plot_vline(struct plot_canvas *c, const struct plot_scale *s, double x, uint8_t role) {
    int px, py;
    double y = s->logy ? s->y1 : 0.5 * (s->y0 + s->y1);
    if (!plot_map(c, s, x, y, &px, &py)) return;
    for (int q = 0; q < c->h * c->dh; q++) plot_dot(c, px, q, role, false);
}

void plot_hline(struct plot_canvas *c, const struct plot_scale *s, double y, uint8_t role, bool faint) {
    int px, py;
    if (!plot_map(c, s, s->x0, y, &px, &py)) return;
    for (int q = 0; q < c->w * c->dw; q++) plot_dot(c, q, py, role, faint);
}

size_t plot_glyph(enum plot_mode mode, uint8_t bits, char *out) {
    if (bits == 0) {
        out[0] = ' ';
        out[1] = '\0';
        return 1;
    }
    size_t n;
    switch (mode) {
    case PLOT_BRAILLE:
        n = utf8_encode(0x2800u + bits, out);
        break;
    case PLOT_BLOCK:
        n = strlen(block_glyph[bits & 15]);
        memcpy(out, block_glyph[bits & 15], n);
        break;
    default:
        out[0] = ascii_glyph[bits & 7];
        n = 1;
        break;
    }
    out[n] = '\0';
    return n;
}

size_t plot_row_text(const struct plot_canvas *c, int row, char *out, size_t cap) {
    size_t n = 0;
    for (int col = 0; col < c->w; col++) {
        char g[8];
        size_t k = plot_glyph(c->mode, c->cells[row * c->w + col].bits, g);
        if (n + k + 1 > cap) break;
        memcpy(out + n, g, k);
        n += k;
    }
    if (cap > 0) out[n] = '\0';
    return n;
}

void plot_nice_range(double *lo, double *hi, bool logy) {
    double a = *lo, b = *hi;
    if (!isfinite(a) || !isfinite(b)) a = 0, b = 1;
    if (a > b) {
        double t = a;
        a = b;
        b = t;
    }
    if (logy) {
        if (b <= 0) b = 1;
        if (a <= 0) a = b / 1000;
        double la = log10(a), lb = log10(b);
        if (lb - la < 1e-9) la -= 0.5, lb += 0.5;
        double pad = 0.05 * (lb - la);
        *lo = pow(10, la - pad);
        *hi = pow(10, lb + pad);
        return;
    }
    if (b - a < 1e-12 * fmax(1.0, fabs(b))) {
        double d = fabs(a) > 5 ? 0.1 * fabs(a) : 0.5;
        a -= d;
        b += d;
    } else {
        double pad = 0.05 * (b - a);
        a -= pad;
        b += pad;
    }
    *lo = a;
    *hi = b;
}

/* How many multiples of step lie in [lo, hi]; when at most cap, they are written to out as k * step (no rounding
 * error accumulates, and -0 becomes 0). */
static double multiples(double lo, double hi, double step, int cap, double *out) {
    double a = ceil(lo / step - 1e-9), b = floor(hi / step + 1e-9), n = b < a ? 0 : b - a + 1;
    if (n <= cap)
        for (int i = 0; i < (int)n; i++) out[i] = a + i == 0 ? 0.0 : (a + i) * step;
    return n;
}

int plot_ticks(double lo, double hi, bool logy, int max_ticks, double *out, double *step) {
    if (step) *step = 0;
    if (max_ticks < 1 || !isfinite(lo) || !isfinite(hi)) return 0;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (logy && lo > 0) {
        double a = ceil(log10(lo) - 1e-9), b = floor(log10(hi) + 1e-9);
        if (b - a + 1 >= 2) {
            int n = 0, every = (int)ceil((b - a + 1) / max_ticks);
            for (double k = a; k <= b && n < max_ticks; k += every) out[n++] = pow(10, k);
            return n;
        }
        /* less than two decades: round values as on a linear scale (the caller places them on the log one) */
    }
    if (!(hi > lo)) {
        out[0] = lo;
        return 1;
    }
    /* Steps 1, 2, 5 x 10^k from well below the span up: the first that gives at most max_ticks values. When that
     * leaves a single value, the step before it (a few more than wanted) is thinned to its first and last ones
     * and those evenly between, so an axis always gets two labels at least. */
    enum { TICKS_MAX = 64 };
    static const double mant[] = {1, 2, 5};
    double p = pow(10, floor(log10(hi - lo)) - 2), prev = 0, tmp[TICKS_MAX];
    if (max_ticks > TICKS_MAX / 4) max_ticks = TICKS_MAX / 4;
    for (int k = 0; k < 60; k++) {
        double s = mant[k % 3] * p * pow(10, k / 3);
        double n = multiples(lo, hi, s, max_ticks, out);
        if (n > max_ticks) {
            prev = s;
            continue;
        }
        if (n >= 2 || max_ticks == 1 || prev == 0) {
            if (step) *step = s;
            return (int)n;
        }
        int pn = (int)multiples(lo, hi, prev, TICKS_MAX, tmp);
        if (pn > TICKS_MAX) break;
        for (int i = 0; i < max_ticks; i++) out[i] = tmp[(int)lround((double)i * (pn - 1) / (max_ticks - 1))];
        if (step) *step = prev;
        return max_ticks;
    }
    out[0] = lo;
    return 1;
}

int plot_spark_level(float v, double lo, double hi) {
    if (!isfinite(v)) return -1;
    if (!(hi > lo)) return v == 0 ? 1 : 4;
    double f = (v - lo) / (hi - lo);
    int lvl = 1 + (int)floor(f * 7.999);
    if (lvl < 1) lvl = 1;
    if (lvl > 8) lvl = 8;
    return lvl;
}

size_t plot_sparkline(const float *v, size_t n, double lo, double hi, bool ascii, char *out, size_t cap) {
    static const char *const bars[9] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static const char ascii_bars[9] = {' ', '_', '.', ':', '-', '=', '+', '*', '#'};
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int lvl = plot_spark_level(v[i], lo, hi);
        const char *g;
        char a[2] = {0, 0};
        if (lvl < 0) lvl = 0;
        if (ascii) {
            a[0] = ascii_bars[lvl];
            g = a;
        } else {
            g = bars[lvl];
        }
        size_t k = strlen(g);
        if (o + k + 1 > cap) break;
        memcpy(out + o, g, k);
        o += k;
    }
    if (cap > 0) out[o] = '\0';
    return o;
}
