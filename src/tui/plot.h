/* plot: line charts drawn into a grid of character cells, independent of curses so they can be tested as text.
 *
 * A canvas is a (h, w) grid of cells; each cell holds a few "dots" whose count depends on the mode: braille
 * 2x4 (U+2800 block, UTF-8 terminals), block 2x2 (quadrant characters, for fonts without braille) or ASCII 1x3
 * (' . - characters). Dots carry a colour role and a layer: a band's shading at the bottom, faint points (raw data
 * behind a smoothed line) above it, solid lines on top. A cell shows the dots of its highest layer only (a dot of a
 * higher layer clears the lower ones, a lower one is ignored), so a line is never hidden or blurred by a band or
 * by faint points whatever the order they were drawn in. The caller supplies the cell storage (no allocation
 * here) and chooses the data ranges; plot_nice_range() pads a range and handles flat or log-scaled data, and
 * plot_ticks() picks round values to label an axis with. Rows are numbered from the top. */
#ifndef R1LAB_TUI_PLOT_H
#define R1LAB_TUI_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum plot_mode { PLOT_BRAILLE, PLOT_BLOCK, PLOT_ASCII, PLOT_MODE_COUNT };

/* Layers, highest first: what a cell shows when several are drawn into it. */
enum plot_layer {
    PLOT_LAYER_LINE = 0,  /* solid lines */
    PLOT_LAYER_FAINT = 1, /* faint points and lines (raw values behind a smoothed line, guides) */
    PLOT_LAYER_FILL = 2,  /* the shading of a band */
};

struct plot_cell {
    uint8_t bits;  /* dots set (layout depends on the mode) */
    uint8_t role;  /* colour role of the cell (the last series drawn into its layer) */
    uint8_t faint; /* 1 when the cell shows a faint or fill layer (drawn dim) */
    uint8_t layer; /* enum plot_layer of the dots it shows */
};

struct plot_canvas {
    int w, h;   /* cells */
    int dw, dh; /* dots per cell: 2x4 braille, 2x2 block, 1x3 ASCII */
    enum plot_mode mode;
    struct plot_cell *cells; /* (h, w), row-major, owned by the caller */
};

/* Data-to-dot mapping: x in [x0, x1] spans the canvas width, y in [y0, y1] its height (log10 of both when logy;
 * then y0 must be > 0 and non-positive values are not drawn). */
struct plot_scale {
    double x0, x1;
    double y0, y1;
    bool logy;
};

void plot_canvas_init(struct plot_canvas *c, struct plot_cell *cells, int w, int h, enum plot_mode mode);
void plot_clear(struct plot_canvas *c);
/* Sets one dot; px in [0, w*dw), py in [0, h*dh) from the top. Out-of-range dots are ignored. */
void plot_dot_layer(struct plot_canvas *c, int px, int py, uint8_t role, enum plot_layer layer);
/* The same in the line layer, or the faint one. */
void plot_dot(struct plot_canvas *c, int px, int py, uint8_t role, bool faint);
/* Maps a data point to dot coordinates; false when it cannot be placed (not finite, or <= 0 on a log scale). */
bool plot_map(const struct plot_canvas *c, const struct plot_scale *s, double x, double y, int *px, int *py);

/* Joins consecutive points with straight lines; a point that cannot be placed breaks the line. */
void plot_line(struct plot_canvas *c, const struct plot_scale *s, const double *x, const float *y, size_t n,
               uint8_t role, bool faint);
/* Shades, at every dot column between consecutive points, the span between lo and hi (linearly interpolated), in
 * the fill layer: its edges, and the inside as a checkerboard of dots (edges only in ASCII). */
void plot_band(struct plot_canvas *c, const struct plot_scale *s, const double *x, const float *lo, const float *hi,
               size_t n, uint8_t role);
/* A vertical line at data x / a horizontal line at data y, across the whole canvas. */
void plot_vline(struct plot_canvas *c, const struct plot_scale *s, double x, uint8_t role);
void plot_hline(struct plot_canvas *c, const struct plot_scale *s, double y, uint8_t role, bool faint);

/* The UTF-8 (or ASCII) glyph of a cell into out (at least 8 bytes); returns its length. */
size_t plot_glyph(enum plot_mode mode, uint8_t bits, char *out);
/* A whole canvas row as text (trailing spaces kept) into out; returns the length. For tests and plain output. */
size_t plot_row_text(const struct plot_canvas *c, int row, char *out, size_t cap);

/* Pads [*lo, *hi] by 5% (a flat range becomes +-0.5, or +-10% of a large value) so lines do not sit on the
 * frame; with logy, a non-positive lo is moved to hi/1000 (or 0.1 when hi is also non-positive). */
void plot_nice_range(double *lo, double *hi, bool logy);

/* Up to max_ticks round values inside [lo, hi], ascending, into out (max_ticks entries at least): multiples of one
 * step of 1, 2 or 5 times a power of ten (the most that fit), or on a log scale the powers of ten (1, 2, 5 times
 * them when fewer than two fit). Returns how many; *step (optional) gets the step, 0 for powers. */
int plot_ticks(double lo, double hi, bool logy, int max_ticks, double *out, double *step);

/* Sparkline: one cell per value, eight levels between lo and hi ("▁▂▃▄▅▆▇█", or "_.:-=+*#" in ASCII).
 * Non-finite values leave a blank. Writes UTF-8 into out; returns its length. */
size_t plot_sparkline(const float *v, size_t n, double lo, double hi, bool ascii, char *out, size_t cap);
/* The sparkline level (0..8) of one value, for colouring each cell by a gradient. A flat series (lo == hi) is
 * drawn at the bottom when it is 0 (nothing happened) and half way up otherwise (a steady value). */
int plot_spark_level(float v, double lo, double hi);

#endif
