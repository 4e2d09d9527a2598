/* draw_charts: the reward chart, the response-length chart, the advantage histogram and the health sparklines.
 * Each chart is a box with a legend row, a y axis on the left, the canvas, and step labels below. Data comes
 * from the run_source series; the canvas (plot.h) and smoothing buffers are the scratch allocated at start. */
#include "ui.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "hist.h"
#include "text/sanitize.h"

#define AXIS_W 7 /* y-axis label column */

struct chart_series {
    const struct series *s;
    enum color_role role;
    bool smooth; /* EMA line over faint raw points; otherwise the raw line, solid */
    const char *name;
    double latest; /* shown in the legend */
    bool has_latest;
};

static enum color_role reward_role(const char *name) {
    if (strcmp(name, "accuracy") == 0) return COLOR_ROLE_REWARD_ACCURACY;
    if (strcmp(name, "format") == 0) return COLOR_ROLE_REWARD_FORMAT;
    if (strcmp(name, "language") == 0) return COLOR_ROLE_REWARD_LANGUAGE;
    return COLOR_ROLE_REWARD_OTHER;
}

static const char *short_name(const char *name) {
    if (strcmp(name, "accuracy") == 0) return "acc";
    if (strcmp(name, "format") == 0) return "fmt";
    if (strcmp(name, "language") == 0) return "lang";
    return name;
}

/* Copies the canvas to the screen, batching cells of equal attributes. */
static void blit(struct tui *t, const struct plot_canvas *c, int y, int x) {
    char run[1024];
    for (int row = 0; row < c->h; row++) {
        size_t n = 0;
        attr_t cur = 0;
        int start = 0;
        for (int col = 0; col <= c->w; col++) {
            attr_t a = 0;
            char g[8];
            size_t k = 0;
            if (col < c->w) {
                const struct plot_cell *cell = &c->cells[row * c->w + col];
                a = cell->bits ? ui_attr(t, (enum color_role)cell->role) | (cell->faint ? A_DIM : 0)
                               : ui_attr(t, COLOR_ROLE_MAIN);
                k = plot_glyph(c->mode, cell->bits, g);
            }
            if (col == c->w || (n > 0 && (a != cur || n + k >= sizeof run))) {
                attrset(cur);
                mvaddnstr(y + row, x + start, run, (int)n);
                n = 0;
                start = col;
            }
            if (col < c->w) {
                if (n == 0) cur = a;
                memcpy(run + n, g, k);
                n += k;
            }
        }
    }
}

/* Title on the top border: " N Name " then extra info. */
static void chart_title(struct tui *t, const struct rect *r, int num, const char *name, const char *extra) {
    char buf[128];
    bool focused = t->view.focus == PANEL_REWARD + num - 1;
    snprintf(buf, sizeof buf, " %d %s ", num, name);
    int x = r->x + 2;
    x += ui_put(t, r->y, x, r->w - 4, focused ? COLOR_ROLE_BORDER_FOCUS : COLOR_ROLE_TITLE, A_BOLD, buf);
    if (extra && extra[0]) ui_put_whole(t, r->y, x, r->x + r->w - 2 - x, COLOR_ROLE_INACTIVE, 0, extra);
}

/* One entry of a legend: a coloured marker (or none) and its text, e.g. "━ " "acc 0.8125". */
struct legend_item {
    const char *mark;
    enum color_role mark_role, text_role;
    char text[64];
};

/* A legend row of whole entries: two spaces between them, one when that makes more of them fit; an entry that does
 * not fit ends the row (never a name without its number, never a number cut short). */
static void legend_row(struct tui *t, int y, int x, int w, const struct legend_item *it, int n) {
    int gap = 2, width = 0;
    for (int i = 0; i < n; i++) {
        width += (it[i].mark ? san_width(it[i].mark, strlen(it[i].mark)) : 0) + san_width(it[i].text, strlen(it[i].text));
        if (i < n - 1) width += 2;
    }
    if (width > w) gap = 1;
    int end = x + w;
    for (int i = 0; i < n; i++) {
        int mw = it[i].mark ? san_width(it[i].mark, strlen(it[i].mark)) : 0;
        int tw = san_width(it[i].text, strlen(it[i].text));
        if (x + mw + tw > end) break;
        if (it[i].mark) x += ui_put(t, y, x, end - x, it[i].mark_role, 0, it[i].mark);
        x += ui_put_whole(t, y, x, end - x, it[i].text_role, 0, it[i].text);
        x += gap;
    }
}

/* Legend row of chart series: "━ reward 1.235  ━ acc 0.8125 ...". */
static void legend(struct tui *t, int y, int x, int w, const struct chart_series *cs, int n) {
    struct legend_item it[METRICS_MAX_REWARDS + 2];
    for (int i = 0; i < n; i++) {
        char v[32];
        if (cs[i].has_latest)
            fmt_value(cs[i].latest, v, sizeof v);
        else
            snprintf(v, sizeof v, "n/a");
        it[i] = (struct legend_item){t->ascii ? "- " : "━ ", cs[i].role, COLOR_ROLE_MAIN, ""};
        snprintf(it[i].text, sizeof it[i].text, "%s %s", cs[i].name, v);
    }
    legend_row(t, y, x, w, it, n);
}

/* X range over the given series: first and last steps. */
static bool x_range(struct chart_series *cs, int n, double *x0, double *x1) {
    bool any = false;
    for (int i = 0; i < n; i++) {
        size_t len = series_len(cs[i].s);
        if (len == 0) continue;
        double a = cs[i].s->x[0], b = cs[i].s->x[len - 1];
        if (!any || a < *x0) *x0 = a;
        if (!any || b > *x1) *x1 = b;
        any = true;
    }
    if (any && *x1 <= *x0) {
        *x0 -= 1;
        *x1 += 1;
    }
    return any;
}

static bool y_range(struct chart_series *cs, int n, double x0, double x1, bool logy, double *y0, double *y1) {
    bool any = false;
    for (int i = 0; i < n; i++) {
        float lo, hi;
        if (!series_range(cs[i].s, x0, x1, &lo, &hi)) continue;
        if (logy) {
            /* only positive values can be placed */
            float plo = INFINITY;
            size_t len = series_len(cs[i].s);
            for (size_t k = 0; k < len; k++)
                if (cs[i].s->y[k] > 0 && cs[i].s->y[k] < plo) plo = cs[i].s->y[k];
            if (!isfinite(plo)) continue;
            lo = plo;
        }
        if (!any || lo < *y0) *y0 = lo;
        if (!any || hi > *y1) *y1 = hi;
        any = true;
    }
    if (any) plot_nice_range(y0, y1, logy);
    return any;
}

/* Round values on the y axis (plot_ticks), each on the row where the chart puts it, more of them on a taller
 * chart; a label too wide for the axis column is left out rather than cut. */
static void y_labels(struct tui *t, const struct plot_canvas *c, const struct plot_scale *sc, int y, int x) {
    double ticks[8], step;
    int want = c->h >= 12 ? 4 : c->h >= 5 ? 3 : 2;
    int n = plot_ticks(sc->y0, sc->y1, sc->logy, want, ticks, &step);
    int last_row = -1;
    for (int i = n - 1; i >= 0; i--) { /* top down */
        int px, py;
        if (!plot_map(c, sc, sc->x0, ticks[i], &px, &py)) continue;
        int row = py / c->dh;
        if (row == last_row) continue;
        char v[32];
        if (ui_put_whole(t, y + row, x, AXIS_W - 1, COLOR_ROLE_INACTIVE, 0, fmt_tick(ticks[i], step, v, sizeof v)))
            last_row = row;
    }
}

static void x_labels(struct tui *t, int y, int x, int w, double x0, double x1) {
    char a[32], b[32];
    snprintf(a, sizeof a, "%.0f", x0);
    snprintf(b, sizeof b, "step %.0f", x1);
    ui_put(t, y, x, w, COLOR_ROLE_INACTIVE, 0, a);
    int bw = (int)strlen(b);
    if (bw + (int)strlen(a) + 1 < w) ui_put(t, y, x + w - bw, bw, COLOR_ROLE_INACTIVE, 0, b);
}

/* The canvas for a plot area of pw x ph cells, clipped to the scratch size. */
static void canvas_for(struct tui *t, struct plot_canvas *c, int *pw, int ph) {
    if (*pw * ph > UI_PLOT_MAX_CELLS) *pw = UI_PLOT_MAX_CELLS / ph;
    plot_canvas_init(c, t->cells, *pw, ph, t->mode);
}

static void draw_series(struct tui *t, struct plot_canvas *c, const struct plot_scale *sc, struct chart_series *cs,
                        int n) {
    double w = viewstate_ema_weight(&t->view);
    for (int i = 0; i < n; i++) /* raw points first, faint, so the smoothed lines sit on top */
        if (cs[i].smooth && w > 0)
            plot_line(c, sc, cs[i].s->x, cs[i].s->y, series_len(cs[i].s), (uint8_t)cs[i].role, true);
    for (int i = 0; i < n; i++) {
        size_t len = series_len(cs[i].s);
        const float *y = cs[i].s->y;
        if (cs[i].smooth && w > 0) {
            series_ema(y, len, series_ema_weight(w, cs[i].s->stride), t->ema);
            y = t->ema;
        }
        plot_line(c, sc, cs[i].s->x, y, len, (uint8_t)cs[i].role, false);
    }
}

static void cursor_line(struct tui *t, struct plot_canvas *c, const struct plot_scale *sc) {
    int64_t step;
    if (viewstate_cursor_step(&t->view, t->src, &step)) plot_vline(c, sc, (double)step, COLOR_ROLE_CURSOR);
}

static void empty_note(struct tui *t, const struct rect *r, const char *msg) {
    ui_put(t, r->y + r->h / 2, r->x + 2, r->w - 4, COLOR_ROLE_INACTIVE, 0, msg);
}

void draw_reward(struct tui *t, const struct rect *r) {
    struct run_source *rs = t->src;
    char extra[64];
    snprintf(extra, sizeof extra, "ema %.2f%s ", viewstate_ema_weight(&t->view), t->view.logy[0] ? " log" : "");
    ui_box(t, r, t->view.focus == PANEL_REWARD);
    chart_title(t, r, 1, "Reward", extra);
    struct chart_series cs[METRICS_MAX_REWARDS + 2];
    int n = 0;
    for (int i = 0; i < rs->names.n; i++) {
        if (series_empty(&rs->rw[i])) continue;
        bool has = rs->have_last && (rs->last.reward_valid & (1u << i));
        cs[n++] = (struct chart_series){&rs->rw[i],
                                        reward_role(rs->names.name[i]),
                                        true,
                                        short_name(rs->names.name[i]),
                                        has ? rs->last.reward[i] : rs->rw[i].last_y,
                                        true};
    }
    if (!series_empty(&rs->m[M_REWARD])) {
        bool has = rs->have_last && metrics_has(&rs->last, M_REWARD);
        cs[n++] = (struct chart_series){&rs->m[M_REWARD],
                                        COLOR_ROLE_REWARD_TOTAL,
                                        true,
                                        "reward",
                                        has ? rs->last.value[M_REWARD] : rs->m[M_REWARD].last_y,
                                        true};
    }
    /* pass@1 is listed before the total (legend runs from the end) and drawn last, unsmoothed */
    int n_train = n;
    if (!series_empty(&rs->m[M_EVAL_PASS1])) {
        struct chart_series ev = {
            &rs->m[M_EVAL_PASS1], COLOR_ROLE_EVAL, false, "pass@1", rs->m[M_EVAL_PASS1].last_y, true};
        cs[n++] = ev;
    }
    int ix = r->x + 1, iy = r->y + 1, iw = r->w - 2, ih = r->h - 2;
    if (n == 0) {
        empty_note(t, r, rs->have_last ? "no rewards in this run (not a GRPO stage)" : "waiting for metrics...");
        return;
    }
    /* legend: total first, then the reward functions, then pass@1 */
    struct chart_series leg[METRICS_MAX_REWARDS + 2];
    int nl = 0;
    if (n_train > 0 && cs[n_train - 1].role == COLOR_ROLE_REWARD_TOTAL) leg[nl++] = cs[n_train - 1];
    for (int i = 0; i < n_train; i++)
        if (cs[i].role != COLOR_ROLE_REWARD_TOTAL) leg[nl++] = cs[i];
    if (n > n_train) leg[nl++] = cs[n_train];
    legend(t, iy, ix, iw, leg, nl);

    int ph = ih - 2, pw = iw - AXIS_W;
    if (ph < 1 || pw < 4) return;
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    x_range(cs, n, &x0, &x1);
    if (!y_range(cs, n, x0, x1, t->view.logy[0], &y0, &y1)) return;
    struct plot_canvas c;
    canvas_for(t, &c, &pw, ph);
    struct plot_scale sc = {x0, x1, y0, y1, t->view.logy[0]};
    draw_series(t, &c, &sc, cs, n);
    cursor_line(t, &c, &sc);
    blit(t, &c, iy + 1, ix + AXIS_W);
    y_labels(t, &c, &sc, iy + 1, ix);
    x_labels(t, iy + 1 + ph, ix + AXIS_W, pw, x0, x1);
}

void draw_length(struct tui *t, const struct rect *r) {
    struct run_source *rs = t->src;
    char extra[64], a[32], b[32], c2[32];
    snprintf(extra, sizeof extra, "tokens%s ", t->view.logy[1] ? " log" : "");
    ui_box(t, r, t->view.focus == PANEL_LENGTH);
    chart_title(t, r, 2, "Length", extra);
    int ix = r->x + 1, iy = r->y + 1, iw = r->w - 2, ih = r->h - 2;
    const struct series *mean = &rs->m[M_LEN_MEAN], *lo = &rs->m[M_LEN_MIN], *hi = &rs->m[M_LEN_MAX],
                        *clip = &rs->m[M_CLIPPED];
    if (series_empty(mean)) {
        empty_note(t, r, rs->have_last ? "no completion lengths in this run" : "waiting for metrics...");
        return;
    }
    /* legend: mean, the min-max band, the clipped share, then reflection and language mixing on a 0-100% scale
     * of their own (the paper's Figure 3 with the "aha" beside it); whole entries only */
    const struct metrics_rec *l = &rs->last;
    const struct series *refl = &rs->m[M_REFLECTION], *mixed = &rs->m[M_LANG_MIXED];
    const struct {
        const struct series *s;
        const char *label;
        enum color_role role;
    } shares[] = {{refl, "checks", COLOR_ROLE_REFLECT}, {mixed, "mixed", COLOR_ROLE_REWARD_LANGUAGE}};
    struct legend_item it[5];
    int ni = 0;
    it[ni] = (struct legend_item){t->ascii ? "- " : "━ ", COLOR_ROLE_LENGTH, COLOR_ROLE_MAIN, ""};
    snprintf(it[ni++].text, sizeof it[0].text, "mean %s",
             fmt_value(metrics_has(l, M_LEN_MEAN) ? l->value[M_LEN_MEAN] : mean->last_y, a, sizeof a));
    if (!series_empty(lo) && !series_empty(hi)) {
        it[ni] = (struct legend_item){t->ascii ? "# " : "▒ ", COLOR_ROLE_LENGTH_BAND, COLOR_ROLE_MAIN, ""};
        snprintf(it[ni++].text, sizeof it[0].text, "%s-%s", fmt_value(lo->last_y, a, sizeof a),
                 fmt_value(hi->last_y, b, sizeof b));
    }
    if (!series_empty(clip)) {
        it[ni] = (struct legend_item){NULL, COLOR_ROLE_LENGTH_CAP, COLOR_ROLE_LENGTH_CAP, ""};
        snprintf(it[ni++].text, sizeof it[0].text, "clipped %s%%", fmt_value(100.0 * clip->last_y, c2, sizeof c2));
    }
    for (size_t i = 0; i < sizeof shares / sizeof shares[0]; i++) {
        if (series_empty(shares[i].s)) continue;
        it[ni] = (struct legend_item){t->ascii ? ". " : "┄ ", shares[i].role, shares[i].role, ""};
        snprintf(it[ni++].text, sizeof it[0].text, "%s %s%%", shares[i].label,
                 fmt_value(100.0 * shares[i].s->last_y, c2, sizeof c2));
    }
    legend_row(t, iy, ix, iw, it, ni);
    int ph = ih - 2 - (series_empty(clip) ? 0 : 1), pw = iw - AXIS_W;
    if (ph < 1 || pw < 4) return;
    struct chart_series cs[3];
    int n = 0;
    bool band = !series_empty(lo) && !series_empty(hi);
    if (band) {
        cs[n++] = (struct chart_series){lo, COLOR_ROLE_LENGTH_BAND, false, "min", 0, false};
        cs[n++] = (struct chart_series){hi, COLOR_ROLE_LENGTH_BAND, false, "max", 0, false};
    }
    cs[n++] = (struct chart_series){mean, COLOR_ROLE_LENGTH, true, "mean", 0, false};
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    x_range(cs, n, &x0, &x1);
    if (!y_range(cs, n, x0, x1, t->view.logy[1], &y0, &y1)) return;
    if (y0 < 0) y0 = 0; /* a length is never negative: the padding stops at the axis */
    double cap = (double)rs->cfg_max_completion_length;
    bool show_cap = cap > 0 && y1 >= 0.5 * cap;
    if (show_cap && cap > y1) {
        y1 = cap;
        double lo_ = y0;
        plot_nice_range(&lo_, &y1, t->view.logy[1]);
    }
    struct plot_canvas c;
    canvas_for(t, &c, &pw, ph);
    struct plot_scale sc = {x0, x1, y0, y1, t->view.logy[1]};
    if (band) {
        size_t len = series_len(lo) < series_len(hi) ? series_len(lo) : series_len(hi);
        plot_band(&c, &sc, lo->x, lo->y, hi->y, len, COLOR_ROLE_LENGTH_BAND);
    }
    if (show_cap) plot_hline(&c, &sc, cap, COLOR_ROLE_LENGTH_CAP, true);
    struct plot_scale share_sc = {x0, x1, 0.0, 1.0, false};
    for (size_t i = 0; i < sizeof shares / sizeof shares[0]; i++)
        if (!series_empty(shares[i].s))
            plot_line(&c, &share_sc, shares[i].s->x, shares[i].s->y, series_len(shares[i].s), (uint8_t)shares[i].role,
                      true);
    draw_series(t, &c, &sc, &cs[n - 1], 1);
    cursor_line(t, &c, &sc);
    blit(t, &c, iy + 1, ix + AXIS_W);
    y_labels(t, &c, &sc, iy + 1, ix);
    int yy = iy + 1 + ph;
    if (!series_empty(clip)) {
        /* clipped ratio strip: one sparkline cell per plot column, at the step under it, scale 0..1 */
        ui_put(t, yy, ix, AXIS_W - 1, COLOR_ROLE_INACTIVE, 0, "clip");
        for (int col = 0; col < pw && col < 1024; col++) {
            double step = x0 + (col + 0.5) / pw * (x1 - x0);
            long k = series_find(clip, step);
            t->ema[col] = k >= 0 ? clip->y[k] : NAN;
        }
        size_t n_out = plot_sparkline(t->ema, (size_t)(pw < 1024 ? pw : 1024), 0.0, 1.0, t->ascii, t->linebuf, 4096);
        ui_putn(t, yy, ix + AXIS_W, pw, COLOR_ROLE_LENGTH_CAP, 0, t->linebuf, n_out);
        yy++;
    }
    x_labels(t, yy, ix + AXIS_W, pw, x0, x1);
}

void draw_spark(struct tui *t, int y, int x, int w, const struct series *s) {
    size_t len = series_len(s);
    if (w <= 0 || len == 0) return;
    size_t n = len < (size_t)w ? len : (size_t)w;
    const float *v = s->y + (len - n);
    float lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) {
        if (v[i] < lo) lo = v[i];
        if (v[i] > hi) hi = v[i];
    }
    char g[8];
    for (size_t i = 0; i < n; i++) {
        int lvl = plot_spark_level(v[i], lo, hi);
        if (lvl < 0) continue;
        size_t k = plot_sparkline(&v[i], 1, lo, hi, t->ascii, g, sizeof g);
        attrset(t->grad_attr[COLOR_GRAD_SPARK][(lvl - 1) * (COLOR_GRAD_STEPS - 1) / 7]);
        mvaddnstr(y, x + (int)i, g, (int)k);
    }
}

void draw_hist(struct tui *t, const struct rect *r) {
    struct run_source *rs = t->src;
    ui_box(t, r, t->view.focus == PANEL_HIST);
    size_t sel = viewstate_selected(&t->view, t->src);
    char extra[64], line[256];
    int ix = r->x + 1, iy = r->y + 1, iw = r->w - 2, ih = r->h - 2;
    if (sel >= rs->n_idx) {
        chart_title(t, r, 3, "Advantages", "");
        empty_note(t, r, rs->n_idx ? "no group selected" : "no samples logged yet");
        return;
    }
    int64_t step = rs->idx[sel].step;
    snprintf(extra, sizeof extra, "step %lld ", (long long)step);
    chart_title(t, r, 3, "Advantages", extra);
    size_t b = run_source_step_begin(rs, step), cnt = run_source_step_count(rs, step);
    size_t nv = 0, zero = 0, groups = 0;
    for (size_t i = b; i < b + cnt && groups < RS_CACHE; i++, groups++) {
        const struct sample_group *g = run_source_group(rs, i);
        if (!g) continue;
        if (g->zero_std) zero++;
        for (size_t k = 0; k < g->n && nv < (size_t)RS_CACHE * SAMPLES_MAX_COMPLETIONS; k++)
            t->vals[nv++] = (float)g->c[k].advantage;
    }
    /* the step's share of zero-std groups over all its groups (metrics), when the metrics have it */
    struct legend_item it[3];
    int ni = 0;
    it[ni] = (struct legend_item){NULL, COLOR_ROLE_MAIN, COLOR_ROLE_MAIN, ""};
    snprintf(it[ni++].text, sizeof it[0].text, "%zu group%s", groups, groups == 1 ? "" : "s");
    it[ni] = (struct legend_item){NULL, COLOR_ROLE_MAIN, COLOR_ROLE_MAIN, ""};
    snprintf(it[ni++].text, sizeof it[0].text, "zero-std %zu/%zu", zero, groups);
    long k = series_find(&rs->m[M_FRAC_ZERO_STD], (double)step);
    if (k >= 0 && rs->m[M_FRAC_ZERO_STD].stride == 1 && rs->m[M_FRAC_ZERO_STD].x[k] == (double)step) {
        it[ni] = (struct legend_item){NULL, COLOR_ROLE_MAIN, COLOR_ROLE_MAIN, ""};
        snprintf(it[ni++].text, sizeof it[0].text, "(step: %.0f%%)", 100.0 * rs->m[M_FRAC_ZERO_STD].y[k]);
    }
    legend_row(t, iy, ix, iw, it, ni);
    int bh = ih - 2, aw = 4, bw = iw - aw;
    if (bh < 1 || bw < 4) return;
    double lo, hi;
    hist_symmetric_range(t->vals, nv, &lo, &hi);
    int nbins = bw / 2 > 40 ? 40 : bw / 2;
    if (nbins % 2 == 0) nbins--; /* an odd count puts zero in the middle of a bin */
    if (nbins < 3) nbins = 3;
    int bar_w = bw / nbins;
    struct hist h;
    hist_build(&h, t->vals, nv, lo, hi, nbins);
    char cnt_label[16];
    snprintf(cnt_label, sizeof cnt_label, "%u", h.max);
    ui_put(t, iy + 1, ix, aw - 1, COLOR_ROLE_INACTIVE, 0, cnt_label);
    ui_put(t, iy + bh, ix, aw - 1, COLOR_ROLE_INACTIVE, 0, "0");
    for (int row = 0; row < bh; row++) {
        for (int bin = 0; bin < nbins; bin++) {
            struct hist one = h;
            one.nbins = 1;
            one.count[0] = h.count[bin];
            char g[64];
            size_t n = hist_render_row(&one, bh, row, bar_w, t->ascii, g, sizeof g);
            int step_c = nbins > 1 ? bin * (COLOR_GRAD_STEPS - 1) / (nbins - 1) : 0;
            attrset(t->grad_attr[COLOR_GRAD_ADV][step_c]);
            mvaddnstr(iy + 1 + row, ix + aw + bin * bar_w, g, (int)n);
        }
    }
    char a[32], c[32];
    fmt_value(lo, a, sizeof a);
    snprintf(c, sizeof c, "+%s", fmt_value(hi, line, sizeof line));
    int yy = iy + 1 + bh, span = nbins * bar_w;
    ui_put(t, yy, ix + aw, span, COLOR_ROLE_INACTIVE, 0, a);
    if (span > 12) ui_put(t, yy, ix + aw + span / 2 - 1, 2, COLOR_ROLE_INACTIVE, 0, "0");
    int cw = (int)strlen(c);
    if (span > cw + 8) ui_put(t, yy, ix + aw + span - cw, cw, COLOR_ROLE_INACTIVE, 0, c);
}
