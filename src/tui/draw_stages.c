/* draw_stages: the stage row of a pipeline's dashboard — "pipeline r1  ✓ 1 base  ▶ 2 rl  · 3 rej      c/C: stage",
 * the shown stage in reverse video, each stage in the role of its state. The layout of the labels is
 * pipeview_strip's (tested without a terminal); this file only draws it. */
#include "ui.h"

#include <string.h>

#include "pipeview.h"

#define STRIP_MAX PIPELINE_MAX_STAGES

static enum color_role stage_role(enum pipeline_state s, bool stale) {
    switch (s) {
    case PIPELINE_FINISHED: return COLOR_ROLE_OK;
    case PIPELINE_RUNNING: return stale ? COLOR_ROLE_WARN : COLOR_ROLE_HI;
    case PIPELINE_FAILED: return COLOR_ROLE_ALARM;
    case PIPELINE_STOPPED: return COLOR_ROLE_WARN;
    default: return COLOR_ROLE_INACTIVE;
    }
}

void draw_stages(struct tui *t, const struct rect *r) {
    const struct pipeview *v = t->pipe;
    int y = r->y, x = r->x, end = r->x + r->w;
    ui_fill(t, y, x, r->w, ui_attr(t, COLOR_ROLE_MAIN));
    if (!v) return;
    bool stale = v->st.state == PIPELINE_RUNNING && !pipeview_live(v);
    x += ui_put(t, y, x, end - x, COLOR_ROLE_INACTIVE, 0, " pipeline ");
    x += ui_put(t, y, x, end - x, COLOR_ROLE_TITLE, 0, v->name);
    if (stale) x += ui_put(t, y, x, end - x, COLOR_ROLE_WARN, A_BOLD, " stale");
    x += 2;
    const char *hint = v->st.n > 1 ? "c/C: stage " : "";
    int hw = (int)strlen(hint);
    if (end - x - hw < 12) hw = 0;
    struct pipeview_item items[STRIP_MAX];
    size_t n = pipeview_strip(&v->st, v->shown, end - x - hw - 1, t->ascii, items, STRIP_MAX);
    for (size_t i = 0; i < n; i++) {
        enum pipeline_state s = v->st.stages[items[i].stage].state;
        attr_t extra = items[i].stage == v->shown ? A_REVERSE : 0;
        if (s == PIPELINE_RUNNING) extra |= A_BOLD;
        ui_put(t, y, x + items[i].x, items[i].w, stage_role(s, stale), extra, items[i].text);
    }
    if (hw > 0) ui_put(t, y, end - hw, hw, COLOR_ROLE_INACTIVE, 0, hint);
}
