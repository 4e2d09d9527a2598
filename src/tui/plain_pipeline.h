/* plain_pipeline: a pipeline without a screen — what tui_follow_plain does when given a pipeline's directory.
 * Stage after stage, as each starts: a "# stage i/n NAME (kind): started" line, the stage's own plain lines (the
 * follower of plain.c on its run directory), then "# stage i/n NAME: finished in 12s" (or failed / stopped, with
 * the reason). A finished pipeline is replayed the same way; attached to a live one, the stages it had already
 * finished get one line each. With `once`, the stage list and the summary of the
 * stage the dashboard would show; with `stage`, that stage alone. */
#ifndef R1LAB_TUI_PLAIN_PIPELINE_H
#define R1LAB_TUI_PLAIN_PIPELINE_H

#include <stdio.h>

#include "engine/util/status.h"
#include "tui.h"

enum status plain_pipeline_follow(const char *pipe_dir, FILE *out, const struct tui_plain_options *opt);

#endif
