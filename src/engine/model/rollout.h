/* rollout: batched generation, the dominant cost of GRPO. P prompts are each prefilled once; their KV
 * slots are copied to G sample slots (prefix sharing); then every step decodes one token for each still
 * active sequence, and a sequence leaves the active batch as soon as it emits EOS, completes a stop string
 * or reaches max_new_tokens, so finished sequences cost nothing.
 *
 * Each sequence samples from its own RNG stream seeded by (seed, sequence index), so results do not
 * depend on which other sequences share the batch or on when they finish. On a backend that samples on the
 * device (sample_on_device: CUDA) the decode steps draw their tokens there, from the same per-sequence streams
 * (one uniform per token, as on the host), so that the (S, V) logits never cross the bus; the first token of
 * each sample, drawn from the prompt's logits, is sampled on the host either way. The same call serves the REPL
 * (P = G = 1, with a per-token callback for streaming) and `r1lab generate`.
 *
 * Owns its KV cache and buffers (sized at init for max_seqs sequences of max_len tokens); borrows the
 * model and tokenizer. */
#ifndef R1LAB_ROLLOUT_H
#define R1LAB_ROLLOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/backend/sampler.h"
#include "engine/model/model.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/rng.h"
#include "engine/util/status.h"

enum finish_reason { FINISH_NONE, FINISH_EOS, FINISH_STOP, FINISH_LENGTH, FINISH_ABORTED };
const char *finish_reason_name(enum finish_reason f); /* "eos", "stop", "length", "aborted" */

#define ROLLOUT_MAX_STOP 4
struct rollout_options {
    struct sampler_params sampling;
    int max_new_tokens;
    uint64_t seed;
    /* Sequence s samples from random stream first_stream + s of seed: a data-parallel rank that decodes sequences
     * [first, first + S) of a step draws exactly what one process decoding all of them would. */
    uint64_t first_stream;
    const char *stop[ROLLOUT_MAX_STOP]; /* stop strings (kept in the output), NULL-terminated or full */
    bool include_stop_token_eos;        /* keep the EOS id in the output ids (GRPO scores it) */
};

/* One generated sequence. `ids` are the completion tokens only. */
struct rollout_seq {
    int32_t *ids;   /* (n) owned by the rollout, valid until the next run */
    int n;
    char *text;     /* decoded completion, NUL-terminated, owned by the rollout */
    size_t text_len;
    enum finish_reason finish;
};

/* Called for each new token of sequence `seq` with the text it completed (possibly empty). Return false
 * to stop that sequence (FINISH_ABORTED). */
typedef bool (*rollout_token_fn)(void *user, int seq, int32_t id, const char *piece, size_t len);
/* Polled between decode steps; returning true stops everything (STATUS_ABORTED). */
typedef bool (*rollout_abort_fn)(void *user);

struct rollout_stats {
    int64_t prompt_tokens, new_tokens;
    double prefill_s, decode_s, first_token_s;
};

struct rollout {
    struct model *model;
    const struct tokenizer *tok;
    int max_seqs, max_len;
    struct kv_cache kv;
    struct sampler sampler;
    struct rng *rngs;            /* (max_seqs) */
    float *logits;               /* (max_seqs, V) host logits (host sampling only) */
    double *u;                   /* (max_seqs) uniforms for device sampling */
    int32_t *next;               /* (max_seqs) tokens sampled on the device */
    int32_t *tokens, *slots, *pos, *active; /* (max_seqs) */
    struct rollout_seq *seqs;    /* (max_seqs) */
    int32_t *id_store;           /* (max_seqs, max_new) */
    char **text_store;           /* per sequence, grown as needed */
    size_t *text_cap;
    struct tokenizer_stream *streams;
    char *piece;      /* (piece_cap) text completed by one token */
    size_t piece_cap;
    int max_new;
};

enum status rollout_init(struct rollout *r, struct model *m, const struct tokenizer *tok, int max_seqs, int max_len);
void rollout_free(struct rollout *r); /* accepts a zeroed struct */

/* Generates G samples for each of P prompts (P * G <= max_seqs). Results in r->seqs[p * G + g]. */
enum status rollout_run(struct rollout *r, const int32_t *const *prompts, const int *prompt_lens, int P, int G,
                        const struct rollout_options *opt, rollout_token_fn on_token, rollout_abort_fn should_abort,
                        void *user, struct rollout_stats *stats);

#endif
