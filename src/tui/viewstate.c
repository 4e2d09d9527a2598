/* viewstate: implementation. The group index is in file order, so selected offsets are found by binary search. */
#include "viewstate.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "layout.h"

const double viewstate_ema_steps[] = {0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99};
const int viewstate_ema_nsteps = sizeof viewstate_ema_steps / sizeof viewstate_ema_steps[0];
#define EMA_DEFAULT 3 /* 0.6, TensorBoard's default */

void viewstate_init(struct viewstate *v) {
    memset(v, 0, sizeof *v);
    v->focus = PANEL_REWARD;
    v->zoom = -1;
    v->ema_idx = EMA_DEFAULT;
    v->follow = true;
}

void viewstate_reset_selection(struct viewstate *v) {
    v->follow = true;
    v->sel_off = 0;
    v->trace_scroll = 0;
}

double viewstate_ema_weight(const struct viewstate *v) { return viewstate_ema_steps[v->ema_idx]; }

bool viewstate_smoother(struct viewstate *v) {
    if (v->ema_idx + 1 >= viewstate_ema_nsteps) return false;
    v->ema_idx++;
    return true;
}

bool viewstate_rougher(struct viewstate *v) {
    if (v->ema_idx <= 0) return false;
    v->ema_idx--;
    return true;
}

size_t viewstate_selected(const struct viewstate *v, const struct run_source *rs) {
    if (rs->n_idx == 0) return 0;
    if (v->follow) return run_source_step_begin(rs, rs->idx[rs->n_idx - 1].step);
    size_t lo = 0, hi = rs->n_idx;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (rs->idx[mid].off < v->sel_off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == rs->n_idx) lo = rs->n_idx - 1;
    return lo;
}

bool viewstate_cursor_step(const struct viewstate *v, const struct run_source *rs, int64_t *step) {
    if (v->follow || rs->n_idx == 0) return false;
    *step = rs->idx[viewstate_selected(v, rs)].step;
    return true;
}

void viewstate_select(struct viewstate *v, const struct run_source *rs, size_t i) {
    if (i >= rs->n_idx) return;
    v->follow = false;
    v->sel_off = rs->idx[i].off;
    v->trace_scroll = 0;
}

void viewstate_move(struct viewstate *v, const struct run_source *rs, enum viewstate_move m) {
    if (rs->n_idx == 0) return;
    size_t sel = viewstate_selected(v, rs);
    int64_t step = rs->idx[sel].step;
    size_t b = run_source_step_begin(rs, step), e = b + run_source_step_count(rs, step);
    switch (m) {
    case VIEWSTATE_GROUP_PREV:
        if (sel > 0) viewstate_select(v, rs, sel - 1);
        break;
    case VIEWSTATE_GROUP_NEXT:
        if (sel + 1 < rs->n_idx) viewstate_select(v, rs, sel + 1);
        break;
    case VIEWSTATE_STEP_PREV:
        viewstate_select(v, rs, b > 0 ? run_source_step_begin(rs, rs->idx[b - 1].step) : 0);
        break;
    case VIEWSTATE_STEP_NEXT:
        if (e < rs->n_idx) viewstate_select(v, rs, e);
        break;
    case VIEWSTATE_FIRST: viewstate_select(v, rs, 0); break;
    case VIEWSTATE_LATEST:
        v->follow = true;
        v->trace_scroll = 0;
        break;
    }
}

long viewstate_find(const char *hay, size_t n, const char *needle, size_t from) {
    size_t m = strlen(needle);
    if (m == 0 || m > n) return -1;
    for (size_t i = from; i + m <= n; i++) {
        size_t k = 0;
        while (k < m && tolower((unsigned char)hay[i + k]) == tolower((unsigned char)needle[k])) k++;
        if (k == m) return (long)i;
    }
    return -1;
}

bool viewstate_group_matches(const struct viewstate *v, const struct sample_group *g) {
    if (!v->search[0]) return false;
    if (viewstate_find(g->prompt, strlen(g->prompt), v->search, 0) >= 0) return true;
    for (size_t i = 0; i < g->n; i++)
        if (viewstate_find(g->c[i].text, g->c[i].text_len, v->search, 0) >= 0) return true;
    return false;
}

void viewstate_set_search(struct viewstate *v, const char *text, size_t n) {
    snprintf(v->search, sizeof v->search, "%.*s", (int)n, text);
}

enum viewstate_found viewstate_search(struct viewstate *v, struct run_source *rs, int dir,
                                      const struct sample_group **found) {
    *found = NULL;
    if (!v->search[0]) return VIEWSTATE_NO_SEARCH;
    if (rs->n_idx == 0) return VIEWSTATE_NO_MATCH;
    long i = (long)viewstate_selected(v, rs) + dir;
    for (int k = 0; k < VIEWSTATE_SEARCH_BUDGET && i >= 0 && i < (long)rs->n_idx; k++, i += dir) {
        const struct sample_group *g = run_source_group(rs, (size_t)i);
        if (g && viewstate_group_matches(v, g)) {
            viewstate_select(v, rs, (size_t)i);
            v->scroll_to_match = true;
            *found = g;
            return VIEWSTATE_FOUND;
        }
    }
    return i >= 0 && i < (long)rs->n_idx ? VIEWSTATE_NOT_YET : VIEWSTATE_NO_MATCH;
}
