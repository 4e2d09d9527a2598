/* The dashboard's view state (src/tui/viewstate.c) on the recorded run fixture (300 steps, two logged groups
 * each): following the newest group, moving by group and by step and stopping at the ends, the chart cursor,
 * the smoothing steps, and searching the traces forwards and backwards with the case-insensitive matcher. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tui/run_source.h"
#include "tui/viewstate.h"

static struct run_source *open_recorded(void) {
    char *dir = th_path("tests/fixtures/runs/recorded");
    struct run_source *rs;
    cr_assert_eq(run_source_open(&rs, dir, 0), STATUS_OK, "%s", err_msg());
    while (run_source_poll(rs, 0) & RS_BACKLOG) {
    }
    free(dir);
    cr_assert_eq(rs->n_idx, 600);
    return rs;
}

Test(viewstate, selection_follows_moves_and_stops_at_the_ends) {
    struct run_source *rs = open_recorded();
    struct viewstate v;
    viewstate_init(&v);
    int64_t step;
    cr_expect(v.follow);
    cr_expect_eq(viewstate_selected(&v, rs), 598, "following: the first group of the newest step");
    cr_expect(!viewstate_cursor_step(&v, rs, &step), "no chart cursor while following");
    viewstate_move(&v, rs, VIEWSTATE_GROUP_NEXT);
    cr_expect_eq(viewstate_selected(&v, rs), 599);
    cr_expect(!v.follow);
    cr_expect(viewstate_cursor_step(&v, rs, &step) && step == 300);
    viewstate_move(&v, rs, VIEWSTATE_GROUP_NEXT);
    cr_expect_eq(viewstate_selected(&v, rs), 599, "the last group stays selected");
    viewstate_move(&v, rs, VIEWSTATE_STEP_PREV);
    cr_expect_eq(viewstate_selected(&v, rs), 596, "first group of step 299");
    v.trace_scroll = 7;
    viewstate_move(&v, rs, VIEWSTATE_STEP_NEXT);
    cr_expect_eq(viewstate_selected(&v, rs), 598);
    cr_expect_eq(v.trace_scroll, 0, "a new group is shown from the top");
    viewstate_move(&v, rs, VIEWSTATE_FIRST);
    cr_expect_eq(viewstate_selected(&v, rs), 0);
    viewstate_move(&v, rs, VIEWSTATE_GROUP_PREV);
    viewstate_move(&v, rs, VIEWSTATE_STEP_PREV);
    cr_expect_eq(viewstate_selected(&v, rs), 0, "nothing before the first group");
    cr_expect(viewstate_cursor_step(&v, rs, &step) && step == 1);
    viewstate_select(&v, rs, 600);
    cr_expect_eq(viewstate_selected(&v, rs), 0, "an index out of range is ignored");
    viewstate_move(&v, rs, VIEWSTATE_LATEST);
    cr_expect(v.follow);
    cr_expect_eq(viewstate_selected(&v, rs), 598);
    viewstate_select(&v, rs, 5);
    viewstate_reset_selection(&v);
    cr_expect(v.follow && v.sel_off == 0 && v.trace_scroll == 0);
    run_source_free(rs);
}

Test(viewstate, smoothing_steps_stop_at_both_ends) {
    struct viewstate v;
    viewstate_init(&v);
    cr_expect_eq(viewstate_ema_weight(&v), 0.6, "TensorBoard's default");
    int more = 0, less = 0;
    while (viewstate_smoother(&v)) more++;
    cr_expect_eq(viewstate_ema_weight(&v), viewstate_ema_steps[viewstate_ema_nsteps - 1]);
    while (viewstate_rougher(&v)) less++;
    cr_expect_eq(viewstate_ema_weight(&v), 0.0, "the lowest step is no smoothing");
    cr_expect_eq(less, viewstate_ema_nsteps - 1);
    cr_expect_eq(more + 3, viewstate_ema_nsteps - 1);
}

Test(viewstate, search_moves_between_matching_groups) {
    cr_expect_eq(viewstate_find("Solve: 5X + 10", 14, "5x", 0), 7, "ASCII case is ignored");
    cr_expect_eq(viewstate_find("abcabc", 6, "bc", 2), 4);
    cr_expect_eq(viewstate_find("abc", 3, "", 0), -1);
    cr_expect_eq(viewstate_find("ab", 2, "abc", 0), -1);

    struct run_source *rs = open_recorded();
    struct viewstate v;
    viewstate_init(&v);
    const struct sample_group *g;
    cr_expect_eq(viewstate_search(&v, rs, +1, &g), VIEWSTATE_NO_SEARCH);
    viewstate_move(&v, rs, VIEWSTATE_FIRST);
    viewstate_set_search(&v, "SOLVE: 6x + 19", strlen("SOLVE: 6x + 19"));
    cr_assert_eq(viewstate_search(&v, rs, +1, &g), VIEWSTATE_FOUND);
    cr_expect_eq(viewstate_selected(&v, rs), 1, "step 1's second group asks 6x + 19 = -17");
    cr_expect(g && g->step == 1 && g->group == 1);
    cr_expect(v.scroll_to_match);
    cr_expect(viewstate_group_matches(&v, g));
    size_t first = viewstate_selected(&v, rs);
    enum viewstate_found f = viewstate_search(&v, rs, +1, &g);
    if (f == VIEWSTATE_FOUND) cr_expect_gt(viewstate_selected(&v, rs), first);
    else cr_expect_eq(f, VIEWSTATE_NO_MATCH);
    viewstate_select(&v, rs, 599);
    cr_expect_eq(viewstate_search(&v, rs, -1, &g), VIEWSTATE_FOUND, "backwards from the end finds one");
    cr_expect_lt(viewstate_selected(&v, rs), 599);
    viewstate_set_search(&v, "no such text anywhere", 21);
    cr_expect_eq(viewstate_search(&v, rs, +1, &g), VIEWSTATE_NO_MATCH);
    cr_expect_null(g);
    run_source_free(rs);
}
