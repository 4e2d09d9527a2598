/* pipeview: what the dashboard knows of a pipeline — its state file (PIPE/pipeline.json, engine/run/pipeline.h),
 * re-read when it changes, which stage is shown, and whether that follows the running stage. Also the stage strip
 * as a pure layout (which label of which stage goes where in a given width) so that it can be tested without a
 * terminal; draw_stages.c draws it and plain_pipeline.c follows a pipeline without a screen.
 *
 * Only reads files; never writes to the pipeline. Owned by one thread (the UI's). */
#ifndef R1LAB_TUI_PIPEVIEW_H
#define R1LAB_TUI_PIPEVIEW_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "engine/run/pipeline.h"
#include "engine/util/status.h"

struct pipeview {
    char dir[PATH_MAX];  /* PIPE */
    char name[64];       /* its last path component, sanitised */
    struct pipeline_status st;
    dev_t dev; /* identity of the pipeline.json last read */
    ino_t ino;
    off_t size;
    struct timespec mtime;
    int shown;             /* index of the stage shown */
    bool follow;           /* shown moves to the running stage */
    char stage_dir[PATH_MAX]; /* PIPE/<shown stage's dir> */
};

/* The pipeline dir belongs to: dir itself when it holds pipeline.json, or its parent when dir is one of that
 * pipeline's stage directories; else *out = NULL (not an error). stage names the stage to show (an error naming
 * the stages when there is none of that name); without it: the stage dir given, else the running stage, else
 * the last one that started. */
enum status pipeview_open(struct pipeview **out, const char *dir, const char *stage);
void pipeview_free(struct pipeview *v); /* accepts NULL */

/* Re-reads pipeline.json when it changed (true then). While following, the shown stage becomes the running one. */
bool pipeview_poll(struct pipeview *v);
/* Shows the stage delta places on (cyclically); following resumes when that is the running stage. */
void pipeview_step(struct pipeview *v, int delta);
/* A process is running the pipeline (state running and its pid alive). */
bool pipeview_live(const struct pipeview *v);
/* Directory of the running stage, or NULL. */
const char *pipeview_running_dir(const struct pipeview *v, char *buf, size_t cap);
/* The stage to show by default: the running one, else the last that is not pending, else the first. */
int pipeview_default_stage(const struct pipeline_status *st);

/* One stage of the strip: its label and where it goes (columns from the strip's left edge). */
struct pipeview_item {
    int stage;
    int x, w;
    char text[96];
};
/* Lays the stages of st out in `width` columns: "✓ 1 base  ▶ 2 rl  · 3 rej" with whole names if they fit, else
 * names cut to 8 columns, else "✓1 ▶2 ·3", else as many of those as fit around `shown`. Returns the items placed. */
size_t pipeview_strip(const struct pipeline_status *st, int shown, int width, bool ascii, struct pipeview_item *items,
                      size_t cap);
/* The one-column symbol of a state: · ▶ ✓ ✗ ‖ (ASCII . > + x |). */
const char *pipeview_symbol(enum pipeline_state s, bool ascii);

#endif
