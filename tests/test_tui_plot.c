/* Tests for the dashboard's pure drawing pieces: plot renderers (braille / block / ASCII) and sparklines against
 * expected text, layers (a band never hides a line), round axis ticks and their labels, EMA smoothing with
 * TensorBoard's debiasing, the bounded series buffer, and the histogram. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "tui/fmt.h"
#include "tui/hist.h"
#include "tui/plot.h"
#include "tui/series.h"

static struct plot_cell cells[64 * 16];

static const char *row(const struct plot_canvas *c, int r) {
    static char buf[512];
    plot_row_text(c, r, buf, sizeof buf);
    return buf;
}

Test(plot, braille_diagonal) {
    struct plot_canvas c;
    plot_canvas_init(&c, cells, 2, 1, PLOT_BRAILLE); /* 4 x 4 dots */
    double x[] = {0, 3};
    float y[] = {0, 3};
    struct plot_scale s = {0, 3, 0, 3, false};
    plot_line(&c, &s, x, y, 2, 1, false);
    /* dots (0,3) (1,2) | (2,1) (3,0): U+2860 and U+280A */
    cr_expect_str_eq(row(&c, 0), "⡠⠊");
}

Test(plot, braille_flat_line_sits_in_the_middle) {
    struct plot_canvas c;
    plot_canvas_init(&c, cells, 3, 2, PLOT_BRAILLE); /* 6 x 8 dots */
    double x[] = {0, 10};
    float y[] = {0.5f, 0.5f};
    struct plot_scale s = {0, 10, 0, 1, false};
    plot_line(&c, &s, x, y, 2, 1, false);
    cr_expect_str_eq(row(&c, 0), "⣀⣀⣀"); /* dot row 3: the bottom dots of the first cell row */
    cr_expect_str_eq(row(&c, 1), "   ");
}

Test(plot, block_quadrants) {
    struct plot_canvas c;
    plot_canvas_init(&c, cells, 2, 1, PLOT_BLOCK); /* 4 x 2 dots */
    double x[] = {0, 3};
    float y[] = {0, 1};
    struct plot_scale s = {0, 3, 0, 1, false};
    plot_line(&c, &s, x, y, 2, 1, false);
    cr_expect_str_eq(row(&c, 0), "▄▀");
}

Test(plot, ascii_three_levels_per_cell) {
    struct plot_canvas c;
    plot_canvas_init(&c, cells, 4, 1, PLOT_ASCII); /* 4 x 3 dots */
    double x[] = {0, 3};
    float y[] = {0, 2};
    struct plot_scale s = {0, 3, 0, 2, false};
    plot_line(&c, &s, x, y, 2, 1, false);
    cr_expect_str_eq(row(&c, 0), ".--'");
}

Test(plot, ascii_two_rows) {
    struct plot_canvas c;
    plot_canvas_init(&c, cells, 3, 2, PLOT_ASCII); /* 3 x 6 dots */
    double x[] = {0, 1, 2};
    float y[] = {0, 5, 0};
    struct plot_scale s = {0, 2, 0, 5, false};
    plot_line(&c, &s, x, y, 3, 1, false);
    /* dots: x=0 y=5..3 (bottom cell row), x=1 y=2..0 (top), x=2 y=3..5 (bottom): steep strokes */
    cr_expect_str_eq(row(&c, 0), " | ");
    cr_expect_str_eq(row(&c, 1), "| |");
}

Test(plot, non_finite_point_breaks_the_line) {
    struct plot_canvas c;
    plot_canvas_init(&c, cells, 3, 1, PLOT_ASCII);
    double x[] = {0, 1, 2};
    float y[] = {0, NAN, 0};
    struct plot_scale s = {0, 2, 0, 1, false};
    plot_line(&c, &s, x, y, 3, 1, false);
    cr_expect_str_eq(row(&c, 0), ". .");
}

Test(plot, log_scale_skips_non_positive) {
    struct plot_canvas c;
    plot_canvas_init(&c, cells, 3, 1, PLOT_ASCII);
    double x[] = {0, 1, 2};
    float y[] = {1, 0, 100};
    struct plot_scale s = {0, 2, 1, 100, true};
    plot_line(&c, &s, x, y, 3, 1, false);
    cr_expect_str_eq(row(&c, 0), ". '");
    int px, py;
    cr_expect(plot_map(&c, &s, 1, 10, &px, &py));
    cr_expect_eq(py, 1, "10 is halfway between 1 and 100 on a log scale");
}

Test(plot, solid_replaces_faint_in_a_cell) {
    struct plot_canvas c;
    plot_canvas_init(&c, cells, 1, 1, PLOT_BRAILLE);
    plot_dot(&c, 0, 0, 3, true);
    cr_expect_eq(c.cells[0].faint, 1);
    plot_dot(&c, 1, 3, 5, false);
    cr_expect_eq(c.cells[0].faint, 0);
    cr_expect_eq(c.cells[0].role, 5);
    cr_expect_eq(c.cells[0].bits, 0x80, "the faint dot is gone, the solid one stays");
    plot_dot(&c, 0, 1, 3, true);
    cr_expect_eq(c.cells[0].bits, 0x80, "faint dots do not enter a solid cell");
}

Test(plot, band_is_a_checkerboard_between_edges) {
    struct plot_canvas c;
    plot_canvas_init(&c, cells, 2, 1, PLOT_BRAILLE);
    double x[] = {0, 3};
    float lo[] = {0, 0}, hi[] = {3, 3};
    struct plot_scale s = {0, 3, 0, 3, false};
    plot_band(&c, &s, x, lo, hi, 2, 2);
    /* every dot column has rows 0 and 3 (edges); inside, dot (px, py) is set when px + py is even:
     * left dot columns get row 2 (0x01|0x04|0x40), right ones row 1 (0x08|0x10|0x80): 0xDD per cell */
    cr_expect_str_eq(row(&c, 0), "⣝⣝");
}

/* A line through a band shows in every cell it crosses with its own dots only, whichever was drawn first, and faint
 * points (the raw values behind a smoothed line) show over the band too: the band never hides a line. */
Test(plot, band_never_hides_a_line) {
    static struct plot_cell alone[8 * 4], band_first[8 * 4], line_first[8 * 4];
    double x[] = {0, 15};
    float lo[] = {0, 0}, hi[] = {15, 15}, mid[] = {6, 9};
    struct plot_scale s = {0, 15, 0, 15, false};
    struct plot_canvas a, b, c;
    plot_canvas_init(&a, alone, 8, 4, PLOT_BRAILLE);
    plot_line(&a, &s, x, mid, 2, 1, false);
    plot_canvas_init(&b, band_first, 8, 4, PLOT_BRAILLE);
    plot_band(&b, &s, x, lo, hi, 2, 2);
    plot_line(&b, &s, x, mid, 2, 1, false);
    plot_canvas_init(&c, line_first, 8, 4, PLOT_BRAILLE);
    plot_line(&c, &s, x, mid, 2, 1, false);
    plot_band(&c, &s, x, lo, hi, 2, 2);
    int crossed = 0;
    for (int i = 0; i < 8 * 4; i++) {
        if (!alone[i].bits) {
            cr_expect(band_first[i].bits && band_first[i].role == 2, "cell %d: the band fills the rest", i);
            continue;
        }
        crossed++;
        cr_expect_eq(band_first[i].bits, alone[i].bits, "cell %d: band dots mixed into the line", i);
        cr_expect_eq(band_first[i].role, 1);
        cr_expect_eq(band_first[i].faint, 0);
        cr_expect_eq(line_first[i].bits, alone[i].bits, "cell %d: a band drawn later covered the line", i);
        cr_expect_eq(line_first[i].role, 1);
    }
    cr_expect_geq(crossed, 8, "the line crosses every column");
    /* faint points over the band: their dots, their colour, still dim */
    plot_canvas_init(&b, band_first, 8, 4, PLOT_BRAILLE);
    plot_band(&b, &s, x, lo, hi, 2, 2);
    plot_dot(&b, 5, 5, 3, true);
    cr_expect_eq(band_first[1 * 8 + 2].bits, 0x10, "the faint dot alone (dot row 1, column 1 of its cell)");
    cr_expect_eq(band_first[1 * 8 + 2].role, 3);
    cr_expect_eq(band_first[1 * 8 + 2].faint, 1);
    plot_dot_layer(&b, 5, 6, 2, PLOT_LAYER_FILL);
    cr_expect_eq(band_first[1 * 8 + 2].bits, 0x10, "more shading does not enter a cell with a point");
}

/* Axis labels are round: steps of 1, 2 or 5 times a power of ten, inside the range, as many as asked at most. */
Test(plot, ticks_are_round_values_inside_the_range) {
    double t[8], step;
    int n = plot_ticks(-0.035, 1.912, false, 3, t, &step);
    cr_assert_eq(n, 2);
    cr_expect(t[0] == 0 && t[1] == 1 && step == 1, "%g %g step %g", t[0], t[1], step);
    n = plot_ticks(0, 134.1, false, 3, t, &step);
    cr_assert_eq(n, 3);
    cr_expect(t[0] == 0 && t[1] == 50 && t[2] == 100 && step == 50);
    n = plot_ticks(0.61, 0.67, false, 4, t, &step);
    cr_expect(n >= 2 && n <= 4 && step == 0.02, "n %d step %g", n, step);
    for (int i = 0; i < n; i++) cr_expect(t[i] >= 0.61 && t[i] <= 0.67);
    n = plot_ticks(0.3, 1.7, false, 2, t, &step); /* step 1 leaves one value: step 0.5 thinned to two */
    cr_expect(n == 2 && t[0] == 0.5 && t[1] == 1.5, "n %d: %g %g", n, t[0], t[1]);
    n = plot_ticks(0.5, 2000, true, 4, t, &step);
    cr_expect(n == 4 && t[0] == 1 && t[3] == 1000 && step == 0, "decades on a log scale");
    n = plot_ticks(20, 130, true, 3, t, &step);
    cr_expect(n >= 2 && t[0] >= 20 && t[n - 1] <= 130, "under two decades: round linear values");
    n = plot_ticks(5, 5, false, 3, t, &step);
    cr_expect(n == 1 && t[0] == 5, "a flat range: its value");
    n = plot_ticks(-2e-4, 1e-4, false, 3, t, &step);
    cr_expect(n >= 2 && t[n - 1] <= 1e-4 && t[0] >= -2e-4);
}

Test(plot, sparkline_levels) {
    float v[] = {0, 1, 2, 3, 4, 5, 6, 7, NAN};
    char out[64];
    plot_sparkline(v, 9, 0, 7, false, out, sizeof out);
    cr_expect_str_eq(out, "▁▂▃▄▅▆▇█ ");
    plot_sparkline(v, 9, 0, 7, true, out, sizeof out);
    cr_expect_str_eq(out, "_.:-=+*# ");
    /* a flat series: zero lies flat at the bottom, a steady non-zero value half way up */
    float zero[] = {0, 0, 0}, steady[] = {3, 3, 3};
    plot_sparkline(zero, 3, 0, 0, false, out, sizeof out);
    cr_expect_str_eq(out, "▁▁▁");
    plot_sparkline(steady, 3, 3, 3, false, out, sizeof out);
    cr_expect_str_eq(out, "▄▄▄");
}

Test(plot, nice_range_pads_and_handles_flat_data) {
    double lo = 0, hi = 10;
    plot_nice_range(&lo, &hi, false);
    cr_expect_float_eq(lo, -0.5, 1e-12);
    cr_expect_float_eq(hi, 10.5, 1e-12);
    lo = hi = 3;
    plot_nice_range(&lo, &hi, false);
    cr_expect(lo < 3 && hi > 3);
    lo = -1, hi = 100;
    plot_nice_range(&lo, &hi, true);
    cr_expect(lo > 0 && lo < 0.1 && hi > 100);
}

Test(fmt, tick_labels_are_as_short_as_their_step_allows) {
    char b[32];
    cr_expect_str_eq(fmt_tick(0, 1, b, sizeof b), "0");
    cr_expect_str_eq(fmt_tick(1, 1, b, sizeof b), "1");
    cr_expect_str_eq(fmt_tick(0.5, 0.5, b, sizeof b), "0.5");
    cr_expect_str_eq(fmt_tick(1, 0.5, b, sizeof b), "1");
    cr_expect_str_eq(fmt_tick(0.64, 0.02, b, sizeof b), "0.64");
    cr_expect_str_eq(fmt_tick(-0.6, 0.2, b, sizeof b), "-0.6");
    cr_expect_str_eq(fmt_tick(150, 50, b, sizeof b), "150");
    cr_expect_str_eq(fmt_tick(20000, 10000, b, sizeof b), "20k");
    cr_expect_str_eq(fmt_tick(25000, 5000, b, sizeof b), "25k");
    cr_expect_str_eq(fmt_tick(1.5e6, 5e5, b, sizeof b), "1.5M");
    cr_expect_str_eq(fmt_tick(2e-4, 1e-4, b, sizeof b), "2e-4");
    cr_expect_str_eq(fmt_tick(1.5e-4, 5e-5, b, sizeof b), "1.5e-4");
    cr_expect_str_eq(fmt_tick(1000, 0, b, sizeof b), "1000", "a power of ten on a log axis");
    cr_expect_str_eq(fmt_tick(0.001, 0, b, sizeof b), "0.001");
}

Test(series, ema_is_debiased_like_tensorboard) {
    float y[] = {0, 1, 1, 1}, out[4];
    series_ema(y, 4, 0.5, out);
    /* last_k = 0.5 last + 0.5 y_k; smoothed_k = last_k / (1 - 0.5^k) */
    cr_expect_float_eq(out[0], 0.0f, 1e-6);
    cr_expect_float_eq(out[1], 0.5f / 0.75f, 1e-6);
    cr_expect_float_eq(out[2], 0.75f / 0.875f, 1e-6);
    cr_expect_float_eq(out[3], 0.875f / 0.9375f, 1e-6);
    float c[] = {2, 2, 2};
    series_ema(c, 3, 0.9, out);
    for (int i = 0; i < 3; i++) cr_expect_float_eq(out[i], 2.0f, 1e-5, "a constant stays constant from the start");
    float raw[] = {1, 5, 3};
    series_ema(raw, 3, 0.0, out);
    cr_expect(memcmp(raw, out, sizeof raw) == 0, "weight 0 is the raw series");
}

Test(series, ema_passes_non_finite_values_through) {
    float y[] = {1, NAN, 1}, out[3];
    series_ema(y, 3, 0.6, out);
    cr_expect_float_eq(out[0], 1.0f, 1e-6);
    cr_expect(isnan(out[1]));
    cr_expect_float_eq(out[2], 1.0f, 1e-6);
}

Test(series, bounded_by_merging_pairs) {
    static struct series s;
    series_init(&s);
    size_t n = 3 * SERIES_CAP + 5;
    for (size_t i = 1; i <= n; i++) series_push(&s, (double)i, (float)i);
    cr_expect_leq(series_len(&s), SERIES_CAP + 1);
    cr_expect_eq(s.stride, 4u);
    cr_expect_float_eq(s.x[0], 2.5, 1e-9, "the first point is the mean of steps 1..4");
    cr_expect_float_eq(s.y[0], 2.5f, 1e-4);
    cr_expect_float_eq(s.last_x, (double)n, 1e-9);
    size_t len = series_len(&s);
    cr_expect_float_eq(s.x[len - 1], (double)n, 2.0, "the newest steps are visible at once");
    for (size_t i = 1; i < len; i++) cr_expect(s.x[i] > s.x[i - 1]);
    cr_expect_float_eq(series_ema_weight(0.5, 4), 0.0625, 1e-12);
}

Test(series, refuses_non_finite_and_finds_steps) {
    static struct series s;
    series_init(&s);
    series_push(&s, 1, 1);
    series_push(&s, 2, NAN);
    series_push(&s, 3, INFINITY);
    series_push(&s, 4, 4);
    cr_expect_eq(series_len(&s), 2);
    cr_expect_eq(s.nonfinite, 2);
    cr_expect_eq(series_find(&s, 3.5), 0);
    cr_expect_eq(series_find(&s, 4), 1);
    cr_expect_eq(series_find(&s, 0), -1);
    float lo, hi;
    cr_expect(series_range(&s, 0, 10, &lo, &hi));
    cr_expect_float_eq(lo, 1.0f, 0);
    cr_expect_float_eq(hi, 4.0f, 0);
}

Test(hist, bins_and_renders_bars) {
    float v[] = {-1, -1, 0, 1, NAN};
    struct hist h;
    hist_build(&h, v, 5, -1.5, 1.5, 3);
    cr_expect_eq(h.count[0], 2);
    cr_expect_eq(h.count[1], 1);
    cr_expect_eq(h.count[2], 1);
    cr_expect_eq(h.max, 2);
    cr_expect_eq(h.total, 4);
    cr_expect_eq(h.skipped, 1);
    char out[128];
    hist_render_row(&h, 2, 0, 1, false, out, sizeof out);
    cr_expect_str_eq(out, "█  ");
    hist_render_row(&h, 2, 1, 1, false, out, sizeof out);
    cr_expect_str_eq(out, "███");
    hist_render_row(&h, 2, 1, 2, false, out, sizeof out);
    cr_expect_str_eq(out, "█ █ █ ");
    hist_render_row(&h, 2, 0, 1, true, out, sizeof out);
    cr_expect_str_eq(out, "#  ");
}

Test(hist, eighths_and_small_counts_stay_visible) {
    float v[16];
    for (int i = 0; i < 15; i++) v[i] = -1;
    v[15] = 1;
    struct hist h;
    hist_build(&h, v, 16, -2, 2, 2);
    cr_expect_eq(hist_bar_eighths(&h, 1, 1), 1, "one value in fifteen still shows a sliver");
    char out[64];
    hist_render_row(&h, 1, 0, 1, false, out, sizeof out);
    cr_expect_str_eq(out, "█▁");
    hist_render_row(&h, 1, 0, 1, true, out, sizeof out);
    cr_expect_str_eq(out, "#.");
    double lo, hi;
    hist_symmetric_range(v, 16, &lo, &hi);
    cr_expect(lo < -1 && hi > 1 && lo == -hi);
}
