/* metric: the keys of metrics.jsonl — one table with each key's name, unit, meaning and writer, the single
 * owner of that contract (as runctl owns status.json and control.jsonl).
 *
 * Writers name a key by its enum (metric_put(rec, METRIC_REWARD, x)), so a misspelt key does not compile; the
 * dashboard (src/tui/metrics.c) takes its names from here; the key table of docs/run-format.md is this table
 * (tests/test_metric_table.c holds the page to it); and the same test runs real short runs of every
 * stage and checks that every key a stage is listed as writing appears, and that nothing else does.
 *
 * A key marked METRIC_SOMETIMES appears only with certain settings, data or hardware (`when` says which), so a
 * test run need not produce it. METRIC_PATTERN keys hold a "<name>" part (one key per reward function).
 * Records of a held-out evaluation carry the METRIC_BY_EVAL keys; `r1lab eval --json` writes the same numbers
 * without the "eval/" prefix (metric_put_bare). */
#ifndef R1LAB_METRIC_H
#define R1LAB_METRIC_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

/* Every key, in the order of the table (and of docs/run-format.md). */
enum metric_id {
    METRIC_STEP,
    METRIC_TIME,
    METRIC_STAGE,
    METRIC_EPOCH,
    METRIC_LOSS,
    METRIC_LOSS_LAST_ITERATION,
    METRIC_GRAD_NORM,
    METRIC_LEARNING_RATE,
    METRIC_SKIPPED_STEPS,
    METRIC_REWARD,
    METRIC_REWARD_STD,
    METRIC_REWARD_FUNC_MEAN,
    METRIC_REWARD_FUNC_STD,
    METRIC_FRAC_REWARD_ZERO_STD,
    METRIC_COMPLETIONS_MEAN_LENGTH,
    METRIC_COMPLETIONS_MIN_LENGTH,
    METRIC_COMPLETIONS_MAX_LENGTH,
    METRIC_COMPLETIONS_CLIPPED_RATIO,
    METRIC_ACCURACY,
    METRIC_FORMAT_RATE,
    METRIC_KL,
    METRIC_ENTROPY,
    METRIC_CLIP_RATIO_LOW,
    METRIC_CLIP_RATIO_HIGH,
    METRIC_CLIP_RATIO_REGION,
    METRIC_REFLECTION_RATE_WORDS, /* reflection_rate: the older, word-based measure */
    METRIC_REFLECTION_RATE,
    METRIC_REFLECTION_ACCURACY_WITH,
    METRIC_REFLECTION_ACCURACY_WITHOUT,
    METRIC_REFLECTION_ANSWER_CHANGED,
    METRIC_LANGUAGE_MIXED_RATE,
    METRIC_NUM_TOKENS,
    METRIC_TRAINED_SEQUENCES,
    METRIC_TOKENS_PER_SECOND_ROLLOUT,
    METRIC_TOKENS_PER_SECOND_TRAIN,
    METRIC_DIST_WORLD_SIZE,
    METRIC_DIST_RANK_TOKENS_PER_SECOND,
    METRIC_TIME_STEP,
    METRIC_TIME_ROLLOUT,
    METRIC_TIME_SCORE,
    METRIC_TIME_TRAIN,
    METRIC_TIME_EVAL,
    METRIC_MEMORY_HOST,
    METRIC_MEMORY_DEVICE,
    METRIC_MEMORY_DEVICE_PEAK,
    METRIC_MEMORY_DEVICE_TOTAL,
    METRIC_EVAL_PASS1,
    METRIC_EVAL_CONS,
    METRIC_EVAL_PASSK,
    METRIC_EVAL_FORMAT,
    METRIC_EVAL_FORMAT_R1,
    METRIC_EVAL_LANGUAGE,
    METRIC_EVAL_READABILITY,
    METRIC_EVAL_MEAN_LENGTH,
    METRIC_EVAL_REFLECTION_RATE_WORDS,
    METRIC_EVAL_REFLECTION_RATE,
    METRIC_EVAL_REFLECTION_ACCURACY_WITH,
    METRIC_EVAL_REFLECTION_ACCURACY_WITHOUT,
    METRIC_EVAL_REFLECTION_ANSWER_CHANGED,
    METRIC_EVAL_LANGUAGE_MIXED_RATE,
    METRIC_EVAL_K,
    METRIC_EVAL_PROBLEMS,
    METRIC_REJECTION_PROMPTS,
    METRIC_REJECTION_SAMPLES,
    METRIC_REJECTION_KEPT,
    METRIC_REJECTION_KEPT_RATE,
    METRIC_REJECTION_DROPPED,
    METRIC_COUNT,
};

/* Who writes a key (a bit set: the trainer writes some keys for every stage). */
enum metric_writer {
    METRIC_BY_TRAINER = 1u << 0, /* src/engine/run/trainer.c, every stage */
    METRIC_BY_LM = 1u << 1,      /* src/engine/lm/train_lm.c: pretrain and sft */
    METRIC_BY_GRPO = 1u << 2,    /* src/engine/rl/grpo.c */
    METRIC_BY_EVAL = 1u << 3,    /* a GRPO run's held-out evaluations (grpo.c through evaluate.c) */
    METRIC_BY_REJECTION = 1u << 4, /* a pipeline's rejection_sample stage (src/engine/rl/rejection_run.c) */
};

enum metric_flag {
    METRIC_SOMETIMES = 1u << 0, /* only with the settings, data or hardware that `when` names */
    METRIC_PATTERN = 1u << 1,   /* the name holds "<name>": one key per reward function */
};

struct metric_info {
    const char *name;    /* the JSON key ("completions/mean_length"; "rewards/<name>/mean") */
    const char *unit;    /* "tokens", "seconds", "share" (0..1), ... ; "" for a plain count or value */
    unsigned writers;    /* METRIC_BY_* bits */
    unsigned flags;      /* METRIC_SOMETIMES, METRIC_PATTERN */
    const char *when;    /* with METRIC_SOMETIMES: when it is written; else NULL */
    const char *meaning; /* one sentence for docs/run-format.md */
};

/* The entry of a key; id must be < METRIC_COUNT. */
const struct metric_info *metric_info(enum metric_id id);
/* Its JSON key. */
const char *metric_name(enum metric_id id);
/* Names of the METRIC_BY_* bits, comma-separated ("grpo", "trainer"), into out. */
void metric_writers_text(unsigned writers, char *out, size_t cap);

/* The entry whose name matches key (a pattern entry matches any "<name>" part without '/'); -1 if none. */
int metric_lookup(const char *key);

/* Adds id's key with value v to the record. */
void metric_put(cJSON *rec, enum metric_id id, double v);
/* The same for a METRIC_PATTERN key, with name in place of "<name>". */
void metric_put_named(cJSON *rec, enum metric_id id, const char *name, double v);
/* An eval/ key without its "eval/" prefix: r1lab eval --json. */
void metric_put_bare(cJSON *rec, enum metric_id id, double v);

#endif
