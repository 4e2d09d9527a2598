/* grpo: the GRPO stage (DeepSeek-R1-Zero's RL) as the trainer runs it; see grpo.c for one step. */
#ifndef R1LAB_GRPO_H
#define R1LAB_GRPO_H

#include "engine/run/trainer.h"

extern const struct stage_ops stage_grpo;

#endif
