/* pipeline_run: running a pipeline in the foreground — what `r1lab pipeline` and `r1lab distill` share. The
 * stages run one after another on a worker thread (a trainer for train stages, rl/rejection for rejection_sample
 * stages); the calling thread shows the pipeline's directory with the dashboard, which follows the running stage,
 * or with plain lines (train_run.h decides which). Engine messages of a stage go to that stage's events.jsonl,
 * those between stages to PIPE/events.jsonl. A finished stage is skipped; the others start or continue as
 * engine/run/pipeline.h describes. */
#ifndef R1LAB_PIPELINE_RUN_H
#define R1LAB_PIPELINE_RUN_H

#include <stdbool.h>

#include "cli/train_run.h"
#include "engine/run/pipeline.h"

/* Checks every stage of p (a rejection_sample stage's keys too), then prints the resolved config (print_config)
 * or runs what is left of p; redo names a stage to run again with those after it (NULL: none). Returns the exit
 * code: 0 done, 1 an error (reported), 3 interrupted or stopped (a re-run continues). */
int pipeline_run_cli(const struct pipeline *p, const struct train_view *view, bool print_config, const char *redo);

#endif
