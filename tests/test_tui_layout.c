/* Tests for the dashboard layout (a pure function of the terminal size): over every size from the minimum to
 * 300x100 the panels tile the screen exactly — inside it, no overlaps, no gaps — and each keeps a usable size;
 * below the minimum it reports the size it needs. Also the key table against the help overlay. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "harness.h"

#include "tui/keys.h"
#include "tui/layout.h"
#include "tui/tui_curses.h"

static bool overlap(const struct rect *a, const struct rect *b) {
    return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

static void check_with(int rows, int cols, int zoom, bool stages) {
    struct layout l;
    struct layout_opts o = {zoom, stages};
    layout_compute(rows, cols, &o, &l);
    cr_assert(!l.too_small, "%dx%d", cols, rows);
    long area = 0;
    for (int p = 0; p < PANEL_COUNT; p++) {
        if (!l.visible[p]) continue;
        const struct rect *r = &l.r[p];
        cr_assert(r->w > 0 && r->h > 0, "%s empty at %dx%d", layout_panel_name(p), cols, rows);
        cr_assert(r->x >= 0 && r->y >= 0 && r->x + r->w <= cols && r->y + r->h <= rows, "%s off-screen at %dx%d",
                  layout_panel_name(p), cols, rows);
        area += (long)r->w * r->h;
        for (int q = p + 1; q < PANEL_COUNT; q++)
            if (l.visible[q])
                cr_assert(!overlap(r, &l.r[q]), "%s overlaps %s at %dx%d", layout_panel_name(p), layout_panel_name(q),
                          cols, rows);
    }
    cr_assert_eq(area, (long)rows * cols, "panels do not tile %dx%d (area %ld)", cols, rows, area);
    cr_assert(l.visible[PANEL_HEADER] && l.visible[PANEL_HEALTH] && l.visible[PANEL_FOOTER]);
    cr_assert_eq(l.visible[PANEL_STAGES], stages, "the stage row is there exactly for a pipeline");
    if (stages) cr_assert(l.r[PANEL_STAGES].y == 1 && l.r[PANEL_STAGES].h == 1 && l.r[PANEL_STAGES].w == cols);
    for (int p = PANEL_FIRST_BODY; p <= PANEL_LAST_BODY; p++) {
        cr_assert_eq(l.visible[p], zoom < 0 || zoom == p, "%s visibility at %dx%d zoom %d", layout_panel_name(p), cols,
                     rows, zoom);
        if (!l.visible[p]) continue;
        /* a chart needs its border, a legend, a few plot rows and an axis row; traces need room for text */
        cr_assert_geq(l.r[p].h, 7, "%s too short at %dx%d", layout_panel_name(p), cols, rows);
        cr_assert_geq(l.r[p].w, p == PANEL_TRACES ? 40 : 26, "%s too narrow at %dx%d", layout_panel_name(p), cols,
                      rows);
    }
}

static void check(int rows, int cols, int zoom) { check_with(rows, cols, zoom, false); }

Test(layout, a_pipeline_row_still_tiles_every_size) {
    for (int rows = LAYOUT_MIN_ROWS; rows <= 100; rows++)
        for (int cols = LAYOUT_MIN_COLS; cols <= 300; cols += 3) check_with(rows, cols, rows % 5 == 0 ? PANEL_TRACES : -1, true);
}

Test(layout, tiles_every_size_from_the_minimum_to_300x100) {
    for (int rows = LAYOUT_MIN_ROWS; rows <= 100; rows++)
        for (int cols = LAYOUT_MIN_COLS; cols <= 300; cols++) check(rows, cols, -1);
}

Test(layout, zoomed_panel_takes_the_body) {
    for (int p = PANEL_FIRST_BODY; p <= PANEL_LAST_BODY; p++)
        for (int rows = LAYOUT_MIN_ROWS; rows <= 100; rows += 7)
            for (int cols = LAYOUT_MIN_COLS; cols <= 300; cols += 11) check(rows, cols, p);
}

Test(layout, too_small_says_what_it_needs) {
    int sizes[][2] = {{23, 80}, {24, 79}, {1, 1}, {0, 0}, {10, 200}, {60, 40}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct layout l;
        layout_compute(sizes[i][0], sizes[i][1], NULL, &l);
        cr_expect(l.too_small, "%dx%d", sizes[i][1], sizes[i][0]);
        cr_expect_eq(l.need_cols, 80);
        cr_expect_eq(l.need_rows, 24);
        for (int p = 0; p < PANEL_COUNT; p++) cr_expect(!l.visible[p]);
    }
}

Test(layout, wide_terminals_give_traces_a_full_column) {
    struct layout l;
    layout_compute(50, 200, NULL, &l);
    cr_expect_eq(l.r[PANEL_TRACES].y, l.r[PANEL_REWARD].y);
    cr_expect_eq(l.r[PANEL_TRACES].y + l.r[PANEL_TRACES].h, l.r[PANEL_FOOTER].y);
    cr_expect_eq(layout_hit(&l, l.r[PANEL_HIST].y + 1, l.r[PANEL_HIST].x + 1), PANEL_HIST);
    cr_expect_eq(layout_hit(&l, 0, 0), PANEL_HEADER);
}

Test(keys, every_action_has_a_row_and_every_key_dispatches_to_its_row) {
    bool seen[ACT_COUNT] = {false};
    for (size_t i = 0; i < keys_table_len; i++) {
        const struct key_binding *b = &keys_table[i];
        cr_assert(b->label && b->label[0] && b->help && b->help[0], "row %zu needs a label and help", i);
        cr_assert(b->keys[0] != 0, "row %zu binds no key", i);
        seen[b->action] = true;
        for (int k = 0; k < KEYS_PER_BINDING && b->keys[k]; k++)
            cr_expect_eq(keys_lookup(b->keys[k]), b->action, "key %d of row '%s' dispatches elsewhere", b->keys[k],
                         b->label);
    }
    for (int a = ACT_NONE + 1; a < ACT_COUNT; a++)
        cr_expect(seen[a], "action %s has no row in the key table (so no help either)", keys_action_name(a));
    cr_expect_eq(keys_lookup('x'), ACT_NONE);
}

Test(keys, help_overlay_lines_come_from_the_table) {
    char line[256];
    for (size_t i = 0; i < keys_table_len; i++) {
        size_t n = keys_help_line(i, 12, false, line, sizeof line);
        cr_expect_gt(n, 0);
        cr_expect(strstr(line, keys_table[i].label) == line, "line %zu starts with its label: %s", i, line);
        cr_expect(strstr(line, keys_table[i].help) != NULL, "line %zu carries its help: %s", i, line);
        cr_expect_leq(strlen(keys_table[i].help), 60, "help of '%s' too long for an 80-column overlay",
                      keys_table[i].label);
        keys_help_line(i, 12, true, line, sizeof line);
        for (const char *p = line; *p; p++) cr_expect((unsigned char)*p < 0x80, "ASCII help line %zu: %s", i, line);
    }
    cr_expect_eq(keys_help_line(keys_table_len, 12, false, line, sizeof line), 0);
    /* the keys the issue names */
    cr_expect_eq(keys_lookup('q'), ACT_QUIT);
    cr_expect_eq(keys_lookup('p'), ACT_PAUSE);
    cr_expect_eq(keys_lookup(' '), ACT_PAUSE);
    cr_expect_eq(keys_lookup('s'), ACT_SAVE);
    cr_expect_eq(keys_lookup('e'), ACT_EVAL);
    cr_expect_eq(keys_lookup('\t'), ACT_FOCUS_NEXT);
    cr_expect_eq(keys_lookup('3'), ACT_FOCUS_PANEL);
    cr_expect_eq(keys_lookup(KEY_LEFT), ACT_GROUP_PREV);
    cr_expect_eq(keys_lookup(KEY_NPAGE), ACT_STEP_NEXT);
    cr_expect_eq(keys_lookup('/'), ACT_SEARCH);
    cr_expect_eq(keys_lookup('+'), ACT_SMOOTH_MORE);
    cr_expect_eq(keys_lookup('-'), ACT_SMOOTH_LESS);
    cr_expect_eq(keys_lookup('l'), ACT_LOG);
    cr_expect_eq(keys_lookup('t'), ACT_THEME);
    cr_expect_eq(keys_lookup('L' & 0x1f), ACT_REDRAW);
    cr_expect_eq(keys_lookup(27), ACT_CLOSE);
    cr_expect_eq(keys_lookup('?'), ACT_HELP);
}

/* The KEYS sections of r1lab-dash(1) and r1lab-train(1) list the key table row by row (label, then help). */
static __attribute__((noinline)) char *read_man(const char *rel) {
    char *path = th_path(rel), *text;
    size_t len;
    cr_assert_eq(fs_read_file(path, 1 << 20, &text, &len), STATUS_OK, "%s", err_msg());
    free(path);
    /* undo roff escapes used in labels and help: "\-" is a plain hyphen-minus */
    char *w = text;
    for (const char *r = text; *r; r++) {
        if (r[0] == '\\' && r[1] == '-') continue;
        *w++ = *r;
    }
    *w = '\0';
    return text;
}

static void expect_keys_listed(const char *page, const char *section) {
    for (size_t i = 0; i < keys_table_len; i++) {
        char label[64], want[256];
        keys_label(i, true, label, sizeof label);
        snprintf(want, sizeof want, ".B %s\n%s\n", label, keys_table[i].help);
        cr_expect(strstr(section, want) != NULL, "%s: KEYS lacks\n%s", page, want);
    }
}

Test(keys, man_pages_list_every_key) {
    const char *pages[] = {"man/r1lab-dash.1", "man/r1lab-train.1", "man/r1lab-pipeline.1"};
    for (int p = 0; p < 3; p++) {
        char *text = read_man(pages[p]);
        const char *keys_sec = strstr(text, ".SH KEYS\n");
        cr_expect(keys_sec != NULL, "%s has no KEYS section", pages[p]);
        if (keys_sec) expect_keys_listed(pages[p], keys_sec);
        free(text);
    }
}
