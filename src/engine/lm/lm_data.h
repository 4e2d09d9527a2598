/* lm_data: training examples for next-token stages.
 *
 * pretrain: documents (a .txt file is one document; a .jsonl file has one {"text": ...} per line; a
 *   built-in world:corpus draws dataset_size documents) are tokenized, joined with EOS, and cut into
 *   sequences of max_seq_length tokens in which every next token is scored.
 * sft: {"prompt": ..., "completion": ...} lines (or world:coldstart); each example is prompt + completion +
 *   EOS, truncated to max_seq_length, scored on the completion (and EOS) only.
 *
 * Order: a fresh seeded permutation per epoch; the position (epoch, index) is all a resumed run needs to
 * continue with exactly the batches an uninterrupted run would have seen. Malformed lines are errors that
 * name the file and line. */
#ifndef R1LAB_LM_DATA_H
#define R1LAB_LM_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "engine/model/model.h"
#include "engine/run/config.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/status.h"

struct lm_example {
    const int32_t *ids; /* into the dataset's token store */
    int n;
    int score_from; /* first id that is scored (1 = all next tokens) */
};

struct lm_data {
    struct lm_example *ex;
    size_t n_ex;
    int32_t *store;
    size_t n_tokens;   /* tokens in all examples */
    size_t n_scored;   /* scored tokens in all examples */
    uint32_t *order;   /* (n_ex) this epoch's permutation */
    uint64_t seed;
    int64_t epoch, index; /* position of the next example */
};

/* Checks the config's dataset and world settings for its stage without reading any file (what stage_lm's check
 * runs before any work); lm_data_load runs it too. */
enum status lm_data_check(const struct config *cfg);
/* Builds the examples for the config's stage. eos: id appended after each document / completion. */
enum status lm_data_load(struct lm_data *d, const struct config *cfg, const struct tokenizer *tok, int32_t eos);
void lm_data_free(struct lm_data *d);
/* Moves to (epoch, index), rebuilding that epoch's permutation. */
enum status lm_data_seek(struct lm_data *d, int64_t epoch, int64_t index);
/* Appends the next n examples to bb (moving to the next epoch as needed). */
enum status lm_data_next(struct lm_data *d, int n, struct batch_builder *bb);
/* Fractional epochs consumed so far. */
double lm_data_epoch(const struct lm_data *d);

#endif
