/* viewstate: what the dashboard's user is looking at — the focused and zoomed panels, the smoothing weight,
 * log scales, the selected sample group (or following the newest), the trace scroll and the active search —
 * and the rules that move it: stepping through groups and steps, searching for the next match. One owner for
 * state that tui.c (keys) and the drawers (draw_charts.c, draw_traces.c) share; drawers ask it which group is
 * selected instead of reading the run source's index themselves.
 *
 * Plain data and pure functions of (state, run_source): no curses, so tests drive it directly. The selection
 * is kept as the group's line offset in samples.jsonl, which stays valid as the file grows. */
#ifndef R1LAB_TUI_VIEWSTATE_H
#define R1LAB_TUI_VIEWSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "run_source.h"

#define VIEWSTATE_SEARCH_MAX 128
#define VIEWSTATE_SEARCH_BUDGET 20000 /* groups examined per search step (one keypress) */

struct viewstate {
    int focus;            /* a body panel (layout.h) */
    int zoom;             /* a body panel or -1 */
    int ema_idx;          /* index into viewstate_ema_steps */
    bool logy[2];         /* reward, length */
    bool follow;          /* the selected group follows the newest step */
    off_t sel_off;        /* the selected group, by its line offset in samples.jsonl (when not following) */
    int trace_scroll;     /* first trace line shown */
    bool scroll_to_match; /* after a search jump: bring the first match into view */
    int help_scroll;
    char search[VIEWSTATE_SEARCH_MAX]; /* the active search ("" = none) */
};

/* The smoothing weights the +/- keys step through (0 = raw), and how many. */
extern const double viewstate_ema_steps[];
extern const int viewstate_ema_nsteps;

/* Reward panel focused, nothing zoomed, TensorBoard's smoothing 0.6, following the newest group. */
void viewstate_init(struct viewstate *v);
/* Another run is shown: follow its newest group from the top of the trace. */
void viewstate_reset_selection(struct viewstate *v);

double viewstate_ema_weight(const struct viewstate *v);
/* One step smoother / rougher; false when already at the end. */
bool viewstate_smoother(struct viewstate *v);
bool viewstate_rougher(struct viewstate *v);

/* The selected group's index in rs's group index; 0 when the index is empty (check rs->n_idx). Following: the
 * first group of the newest step. */
size_t viewstate_selected(const struct viewstate *v, const struct run_source *rs);
/* The step of the selected group when one is pinned (not following) and exists: where charts draw a cursor. */
bool viewstate_cursor_step(const struct viewstate *v, const struct run_source *rs, int64_t *step);

enum viewstate_move {
    VIEWSTATE_GROUP_PREV,
    VIEWSTATE_GROUP_NEXT,
    VIEWSTATE_STEP_PREV, /* first group of the previous step */
    VIEWSTATE_STEP_NEXT, /* first group of the next step */
    VIEWSTATE_FIRST,
    VIEWSTATE_LATEST, /* follow the newest again */
};
/* Moves the selection; nothing happens at the ends or with no groups. */
void viewstate_move(struct viewstate *v, const struct run_source *rs, enum viewstate_move m);
/* Pins group i (ignored when out of range), from the top of its trace. */
void viewstate_select(struct viewstate *v, const struct run_source *rs, size_t i);

/* Case-insensitive (ASCII) search of needle in hay[0..n) from `from`; the offset, or -1. */
long viewstate_find(const char *hay, size_t n, const char *needle, size_t from);
/* Whether the active search matches the group's prompt or one of its completions. */
bool viewstate_group_matches(const struct viewstate *v, const struct sample_group *g);
/* Sets the active search (n bytes of text; "" clears it). */
void viewstate_set_search(struct viewstate *v, const char *text, size_t n);

enum viewstate_found {
    VIEWSTATE_FOUND,     /* selected; *found is the group */
    VIEWSTATE_NO_SEARCH, /* no active search */
    VIEWSTATE_NOT_YET,   /* none in the next VIEWSTATE_SEARCH_BUDGET groups; pressing again continues */
    VIEWSTATE_NO_MATCH,  /* none up to the end (dir > 0) or the start (dir < 0) */
};
/* Selects the next (dir = +1) or previous (-1) group after the selected one that matches the active search. */
enum viewstate_found viewstate_search(struct viewstate *v, struct run_source *rs, int dir,
                                      const struct sample_group **found);
#endif
