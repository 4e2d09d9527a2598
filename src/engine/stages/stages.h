/* stages: which implementation runs a config's "stage" — the one place that names every training stage, so
 * the trainer (src/engine/run) stays stage-agnostic and a new stage (the R1 pipeline's) is one line here plus
 * its own folder. */
#ifndef R1LAB_STAGES_H
#define R1LAB_STAGES_H

#include "engine/run/config.h"
#include "engine/run/trainer.h"

/* The stage table for a resolved config's stage. */
const struct stage_ops *stages_for(enum config_stage stage);

#endif
