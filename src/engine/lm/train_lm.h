/* train_lm: the next-token stages, pretrain and sft, as the trainer runs them. */
#ifndef R1LAB_TRAIN_LM_H
#define R1LAB_TRAIN_LM_H

#include "engine/run/trainer.h"

extern const struct stage_ops stage_lm; /* pretrain and sft: the config's stage says which data it reads */

#endif
