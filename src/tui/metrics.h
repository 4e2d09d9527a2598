/* metrics: one line of metrics.jsonl as a plain record with validity bits (docs/run-format.md).
 *
 * Every known key has a slot in a fixed table and a bit saying whether this step reported it, so a pretraining
 * step simply has no reward ("n/a"), and a value given as null or as a string like "NaN" is recorded as present
 * but not finite. Reward functions (rewards/<name>/mean) are discovered by name as they appear, up to
 * METRICS_MAX_REWARDS of them; their names, like "stage", are kept sanitised (printable ASCII). Unknown keys are
 * ignored. The parser never keeps pointers into the JSON. */
#ifndef R1LAB_TUI_METRICS_H
#define R1LAB_TUI_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Known scalar keys, in the order of the name table in metrics.c. */
enum metric {
    M_EPOCH,
    M_LOSS,
    M_GRAD_NORM,
    M_LR,
    M_SKIPPED,
    M_REWARD,
    M_REWARD_STD,
    M_FRAC_ZERO_STD,
    M_LEN_MEAN,
    M_LEN_MIN,
    M_LEN_MAX,
    M_CLIPPED,
    M_KL,
    M_ENTROPY,
    M_CLIP_LOW,
    M_CLIP_HIGH,
    M_CLIP_REGION,
    M_REFLECTION,
    M_TPS_ROLLOUT,
    M_TPS_TRAIN,
    M_TIME_STEP,
    M_TIME_ROLLOUT,
    M_TIME_SCORE,
    M_TIME_TRAIN,
    M_MEM_HOST,
    M_MEM_DEVICE,
    M_EVAL_PASS1,
    M_EVAL_CONS,
    M_EVAL_PASSK,
    M_EVAL_FORMAT,
    M_EVAL_LEN,
    M_EVAL_K,
    M_REFL_ACC_WITH,    /* accuracy of completions with a self-check */
    M_REFL_ACC_WITHOUT, /* ... and without one */
    M_LANG_MIXED,       /* share of completions whose CoT mixes languages */
    M_WORLD_SIZE,       /* ranks of a data-parallel run */
    /* Derived while parsing, not keys of their own: the slowest and fastest rank's generation throughput of the
     * record's dist/rank<N>/tokens_per_second keys. */
    M_RANK_TPS_MIN,
    M_RANK_TPS_MAX,
    M_COUNT,
};

#define METRICS_MAX_REWARDS 8 /* reward functions tracked by name */
#define METRICS_NAME_MAX 32   /* bytes of a reward function's name, NUL included */

/* The reward functions seen so far, in order of first appearance; shared by all records of a run. */
struct metrics_names {
    char name[METRICS_MAX_REWARDS][METRICS_NAME_MAX];
    int n;
    bool overflow; /* more distinct names than slots were seen */
};

struct metrics_rec {
    int64_t step;
    double time; /* Unix seconds */
    char stage[16];
    uint64_t valid;        /* bit m: value[m] was present */
    double value[M_COUNT]; /* NaN when present but not a finite number */
    uint32_t reward_valid; /* bit i: reward[i] (function names->name[i]) was present */
    double reward[METRICS_MAX_REWARDS];
};

/* The JSON key of a known metric ("completions/mean_length"); for a derived slot, the keys it comes from. */
const char *metrics_key(enum metric m);
static inline bool metrics_has(const struct metrics_rec *r, enum metric m) {
    return (r->valid >> m) & 1u;
}

/* Parses one line (no newline needed). Returns false when the line is not a JSON object with a "step" that is a
 * whole number of at least 0 (steps count from 1; 0 is the evaluation of the starting model, docs/run-format.md):
 * the caller counts it as bad. Reward names are added to `names` as discovered. */
bool metrics_parse(const char *line, size_t len, struct metrics_names *names, struct metrics_rec *out);

#endif
