/* stages: the registry. */
#include "engine/stages/stages.h"

#include "engine/lm/train_lm.h"
#include "engine/rl/grpo.h"
#include "engine/util/status.h"

const struct stage_ops *stages_for(enum config_stage stage) {
    switch (stage) {
    case STAGE_PRETRAIN:
    case STAGE_SFT: return &stage_lm;
    case STAGE_GRPO: return &stage_grpo;
    case STAGE_ALL: break;
    }
    ASSERTF(0, "no training stage for stage bits %d", (int)stage);
    return NULL;
}
