/* config: training configurations. A JSON file plus `key=value` overrides, checked against one table of
 * known keys (type, default, allowed values, the stages that read it, a line of help, where its value lives).
 * The table is the documentation: --print-config and r1lab-config(5) come from it, unknown keys are refused
 * with a "did you mean", and the resolved configuration (every key of the stage with its effective value) is
 * what a run records.
 *
 * Resolving parses every key once into struct config_values, checking its type and its allowed range or
 * choices, so a bad value is reported with the key, the value and what is allowed before any work starts, and
 * the code that uses a setting reads a typed field (c->v.grpo.epsilon) instead of looking a name up. A message
 * about a value names where it came from: the config file, or the command-line override that set it
 * (config_where). What the table cannot express (the dataset, the world settings, relations between keys) each
 * stage checks in its stage_ops.check, also before any work.
 *
 * Field names follow TRL's GRPOConfig / HF TrainingArguments where one exists. */
#ifndef R1LAB_CONFIG_H
#define R1LAB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cJSON.h>

#include "engine/util/status.h"

enum config_type { CONFIG_INT, CONFIG_NUMBER, CONFIG_BOOL, CONFIG_STRING, CONFIG_OBJECT, CONFIG_ARRAY, CONFIG_ANY };

enum config_stage { STAGE_PRETRAIN = 1, STAGE_SFT = 2, STAGE_GRPO = 4, STAGE_ALL = 7 };

/* The values a number may take: a lower and / or an upper bound, each inclusive or not. All zero: any. */
struct config_range {
    bool has_lo, has_hi, lo_open, hi_open;
    double lo, hi;
};

/* Every setting, typed. Integers are int64_t, numbers double, strings and JSON values point into the resolved
 * object; a null value is NULL (strings, JSON), NAN (numbers) or 0 (integers). Keys of other stages hold their
 * defaults. The sections follow r1lab-config(5). */
struct config_values {
    struct config_run { /* what and where, saving, data */
        const char *stage, *output_dir, *model_name_or_path, *tokenizer, *device, *save_dtype, *dataset;
        const cJSON *model_init, *resume_from_checkpoint, *world;
        double init_std, ddp_timeout;
        int64_t threads, seed, max_steps, save_steps, save_total_limit, per_device_train_batch_size;
        bool overwrite_output_dir;
    } run;
    struct config_optim { /* AdamW and the learning-rate schedule */
        double learning_rate, adam_beta1, adam_beta2, adam_epsilon, weight_decay, max_grad_norm, warmup_ratio;
        const char *lr_scheduler_type;
        int64_t warmup_steps;
    } optim;
    struct config_lm { /* pretrain and sft */
        int64_t gradient_accumulation_steps, dataset_size, max_seq_length;
    } lm;
    struct config_grpo { /* GRPO and its held-out evaluation */
        const char *eval_dataset, *loss_type, *scale_rewards, *template;
        const cJSON *stop_strings, *reward_funcs, *reward_weights;
        int64_t num_generations, prompts_per_step, num_iterations, max_prompt_length, max_completion_length, top_k,
            log_completions, eval_steps, eval_problems, eval_k;
        double epsilon, epsilon_high, beta, temperature, top_p, eval_temperature, eval_top_p;
        bool mask_truncated_completions;
    } grpo;
};

struct config_key {
    const char *name;
    enum config_type type;
    const char *def;             /* default as JSON text; "null" = unset */
    unsigned stages;             /* STAGE_* bits */
    const char *help;            /* one line */
    struct config_range range;   /* CONFIG_INT, CONFIG_NUMBER */
    const char *choices;         /* CONFIG_STRING: "a|b|c", or NULL for any string */
    const char *why;             /* optional: the reason for the range, given as the hint when a value is refused */
    size_t offset;               /* of the value in struct config_values */
};

extern const struct config_key config_keys[];
extern const size_t config_n_keys;

struct config {
    cJSON *root;           /* resolved: every key of the stage */
    cJSON *others;         /* defaults of the keys other stages read (what their fields point into) */
    enum config_stage stage;
    char source[4096];     /* the file it came from (for messages) */
    char **overrides;      /* copies of the key=value overrides applied, in order */
    char **where;          /* "the override KEY=VALUE" for each, what config_where returns */
    int n_overrides;
    struct config_values v;
};

/* Loads path, applies overrides ("key=value"; value parsed as JSON, else taken as a string; "a.b.c=v" sets a
 * field of nested objects), validates and fills defaults. */
enum status config_load(struct config *c, const char *path, char *const *overrides, int n_overrides);
/* Same from an in-memory object (takes ownership of root). `where` names it in messages. */
enum status config_resolve(struct config *c, cJSON *root, const char *where, char *const *overrides, int n);
void config_free(struct config *c);

/* Where key's value came from, for messages: "the override KEY=VALUE" when one set it (the last one), else
 * the config's source. Valid while c is. */
const char *config_where(const struct config *c, const char *key);
/* The allowed values of a key as text (">= 1", "in (0, 1]", "one of grpo, dapo, dr_grpo"), "" when any value of
 * its type is allowed: what messages and r1lab-config(5) say. */
void config_key_allowed(const struct config_key *k, char *out, size_t cap);

/* Prints the resolved configuration as JSON with a help comment line per key ("// ..."), or plain JSON. */
void config_print(const struct config *c, FILE *out, bool with_help);
const char *config_stage_name(enum config_stage s);

#endif
