/* checkpoint: a training checkpoint is a Hugging Face model directory (config.json, model.safetensors,
 * tokenizer.json, tokenizer_config.json, generation_config.json) that transformers loads as is, plus
 * r1lab's optimizer.safetensors (AdamW moments as "<param>.exp_avg" / "<param>.exp_avg_sq", step counters
 * in the metadata), trainer_state.json (whatever the trainer needs to resume exactly) and
 * training_config.json (the resolved configuration it was trained with, so that chat, compare and eval use
 * its template and world: origin.h).
 *
 * Saving builds the directory under a temporary name next to the target, fsyncs every file and the
 * directory, then renames it into place, so a crash leaves either no checkpoint or a whole one. Names on
 * the command line may be a directory, RUN_DIR@STEP or RUN_DIR@latest. */
#ifndef R1LAB_CHECKPOINT_H
#define R1LAB_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "engine/model/model.h"
#include "engine/model/optim.h"
#include "engine/model/safetensors.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/status.h"

struct checkpoint_contents {
    const struct model *model;
    const char *tokenizer_dir;      /* directory (or tokenizer.json path) to copy the tokenizer files from */
    const struct optimizer *optim;  /* NULL: no optimizer.safetensors */
    const cJSON *trainer_state;     /* NULL: no trainer_state.json */
    const cJSON *training_config;   /* the run's resolved config, as training_config.json (origin.h); NULL: none */
    enum st_dtype weights_dtype;    /* ST_F32 (exact resume) or ST_BF16 */
};

/* Writes the checkpoint to dir atomically. An existing dir is replaced. */
enum status checkpoint_save(const char *dir, const struct checkpoint_contents *c);
/* Restores AdamW moments and counters from dir/optimizer.safetensors into an initialised optimizer. */
enum status checkpoint_load_optimizer(const char *dir, struct optimizer *o);
/* Parses dir/trainer_state.json (caller deletes). */
enum status checkpoint_load_state(const char *dir, cJSON **state);

/* Resolves a checkpoint name: a directory with config.json, "RUN@STEP" (RUN/checkpoints/step-NNNNNN) or
 * "RUN@latest" (the RUN/latest link). Writes the directory path into out. */
enum status checkpoint_resolve(const char *name, char *out, size_t cap);
/* The directory name of step n inside a run: RUN/checkpoints/step-NNNNNN. */
enum status checkpoint_step_dir(char *out, size_t cap, const char *run_dir, int64_t step);
/* Points RUN/latest at checkpoints/step-NNNNNN, atomically (new link under a temporary name, rename). */
enum status checkpoint_set_latest(const char *run_dir, int64_t step);
/* The newest checkpoint of a run (via RUN/latest); *step = -1 when there is none. */
enum status checkpoint_find_latest(const char *run_dir, char *out, size_t cap, int64_t *step);

/* checkpoint_clean.c. Removes what killed writers left in RUN and RUN/checkpoints (NAME.tmp-PID, step-N.old-PID,
 * step-N.del-PID of processes no longer running), and puts back a step-N.old-PID whose step-N is missing. */
enum status checkpoint_clean_stale(const char *run_dir);
/* Removes a checkpoint directory so that it never exists half-deleted under its name: renamed, then deleted. */
enum status checkpoint_remove(const char *dir);

#endif
