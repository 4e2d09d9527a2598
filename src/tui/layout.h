/* layout: where each dashboard panel goes, as a pure function of the terminal size and a few options.
 *
 * The screen is tiled without gaps or overlaps: a header row, for a pipeline the stage row, the health strip (2 rows, 3 from 36 rows up), the
 * body, and a footer row. The body holds the four chart/trace panels: from 160 columns by 30 rows the charts
 * stack in a left column beside a full-height trace panel; otherwise reward and length charts share a top
 * band and the histogram sits beside the traces below. A zoomed panel takes the whole body. Below
 * LAYOUT_MIN_COLS x LAYOUT_MIN_ROWS nothing is placed and the caller says how big the terminal must be.
 * No curses here: tests run it over every size from the minimum up to 300x100. */
#ifndef R1LAB_TUI_LAYOUT_H
#define R1LAB_TUI_LAYOUT_H

#include <stdbool.h>

#define LAYOUT_MIN_COLS 80
#define LAYOUT_MIN_ROWS 24
#define LAYOUT_WIDE_COLS 160 /* from here (and LAYOUT_WIDE_ROWS) the traces get a full-height column */
#define LAYOUT_WIDE_ROWS 30

enum panel {
    PANEL_HEADER,
    PANEL_HEALTH,
    PANEL_REWARD, /* the focusable body panels come in focus order: keys 1-4 */
    PANEL_LENGTH,
    PANEL_HIST,
    PANEL_TRACES,
    PANEL_FOOTER,
    PANEL_STAGES, /* a pipeline's stage list, under the header (only with layout_opts.stages) */
    PANEL_COUNT,
};
#define PANEL_FIRST_BODY PANEL_REWARD
#define PANEL_LAST_BODY PANEL_TRACES

struct rect {
    int y, x, h, w;
};

struct layout_opts {
    int zoom;    /* a body panel to show alone, or -1 */
    bool stages; /* a row for the stage list of a pipeline, under the header */
};

struct layout {
    bool too_small;
    int need_rows, need_cols; /* when too_small */
    bool visible[PANEL_COUNT];
    struct rect r[PANEL_COUNT];
};

void layout_compute(int rows, int cols, const struct layout_opts *opt, struct layout *out);
/* The visible panel containing screen cell (y, x), or -1. */
int layout_hit(const struct layout *l, int y, int x);
const char *layout_panel_name(enum panel p);

#endif
