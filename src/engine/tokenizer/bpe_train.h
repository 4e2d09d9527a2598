/* bpe_train: learns byte-level BPE merges from text — how the built-in world's tokenizer is made, so that
 * `r1lab world tokenizer` reproduces it without Python. The pre-tokenization (pattern, added tokens) is that
 * of a skeleton tokenizer.json with no merges, run through the tokenizer module itself, so training sees
 * exactly the pieces encoding will see. The result is a complete tokenizer.json (BPE model, Split + ByteLevel
 * pre-tokenizer, ByteLevel decoder, the added tokens) that r1lab and HF tokenizers load.
 *
 * Merges are chosen greedily by frequency (ties: the pair of lower ids first, so results are reproducible);
 * pieces are counted once per distinct piece, so training cost grows with the vocabulary of the text, not its
 * length. */
#ifndef R1LAB_BPE_TRAIN_H
#define R1LAB_BPE_TRAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/util/status.h"

struct bpe_added_token {
    const char *content;
    bool special; /* special tokens are skipped when decoding with skip_special */
};

struct bpe_train_options {
    const char *pattern;                 /* the Split regex (Qwen2's when NULL) */
    const struct bpe_added_token *added; /* whole strings that are always one token */
    size_t n_added;
    int vocab_size;                      /* bytes + merges + added tokens */
    int min_frequency;                   /* a pair seen fewer times is never merged */
};

struct bpe_trainer;

enum status bpe_trainer_init(struct bpe_trainer **out, const struct bpe_train_options *opt);
/* Counts the pieces of one text. */
enum status bpe_trainer_add(struct bpe_trainer *t, const char *text, size_t len);
/* Learns the merges and returns the tokenizer.json text (malloc'd). */
enum status bpe_trainer_finish(struct bpe_trainer *t, char **json);
void bpe_trainer_free(struct bpe_trainer *t); /* accepts NULL */

#endif
