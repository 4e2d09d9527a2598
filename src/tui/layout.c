/* layout: implementation. Sizes are computed top-down; every split gives the remainder to the last part so the
 * tiling is exact at any size. */
#include "layout.h"

#include <string.h>

static const char *const names[PANEL_COUNT] = {
    [PANEL_HEADER] = "header",   [PANEL_HEALTH] = "health", [PANEL_REWARD] = "reward", [PANEL_LENGTH] = "length",
    [PANEL_HIST] = "advantages", [PANEL_TRACES] = "traces", [PANEL_FOOTER] = "footer", [PANEL_STAGES] = "stages",
};

const char *layout_panel_name(enum panel p) {
    return (unsigned)p < PANEL_COUNT ? names[p] : "?";
}

static void place(struct layout *l, enum panel p, int y, int x, int h, int w) {
    l->visible[p] = true;
    l->r[p] = (struct rect){y, x, h, w};
}

void layout_compute(int rows, int cols, const struct layout_opts *opt, struct layout *out) {
    memset(out, 0, sizeof *out);
    if (rows < LAYOUT_MIN_ROWS || cols < LAYOUT_MIN_COLS) {
        out->too_small = true;
        out->need_rows = LAYOUT_MIN_ROWS;
        out->need_cols = LAYOUT_MIN_COLS;
        return;
    }
    int health_h = rows >= 36 ? 3 : 2, top = 1;
    place(out, PANEL_HEADER, 0, 0, 1, cols);
    if (opt && opt->stages) place(out, PANEL_STAGES, top++, 0, 1, cols);
    place(out, PANEL_HEALTH, top, 0, health_h, cols);
    place(out, PANEL_FOOTER, rows - 1, 0, 1, cols);
    int by = top + health_h;
    int bh = rows - 1 - by;

    int zoom = opt ? opt->zoom : -1;
    if (zoom >= PANEL_FIRST_BODY && zoom <= PANEL_LAST_BODY) {
        place(out, (enum panel)zoom, by, 0, bh, cols);
        return;
    }
    if (cols >= LAYOUT_WIDE_COLS && rows >= LAYOUT_WIDE_ROWS) {
        int lw = cols * 11 / 20;
        int rh = bh * 2 / 5, lh = bh * 3 / 10;
        place(out, PANEL_REWARD, by, 0, rh, lw);
        place(out, PANEL_LENGTH, by + rh, 0, lh, lw);
        place(out, PANEL_HIST, by + rh + lh, 0, bh - rh - lh, lw);
        place(out, PANEL_TRACES, by, lw, bh, cols - lw);
        return;
    }
    int th = bh * 9 / 20;
    int rw = cols / 2;
    place(out, PANEL_REWARD, by, 0, th, rw);
    place(out, PANEL_LENGTH, by, rw, th, cols - rw);
    int hw = cols * 8 / 25;
    if (hw < 26) hw = 26;
    place(out, PANEL_HIST, by + th, 0, bh - th, hw);
    place(out, PANEL_TRACES, by + th, hw, bh - th, cols - hw);
}

int layout_hit(const struct layout *l, int y, int x) {
    for (int p = 0; p < PANEL_COUNT; p++) {
        if (!l->visible[p]) continue;
        const struct rect *r = &l->r[p];
        if (y >= r->y && y < r->y + r->h && x >= r->x && x < r->x + r->w) return p;
    }
    return -1;
}
