/* config_keys: every key a training configuration may contain — the single source for validation (type,
 * allowed range or choices), defaults, --print-config and the typed struct config_values. r1lab-config(5)
 * documents each key with its type, default, stages and allowed values, and tests/test_config_doc.c fails when
 * the page and this table disagree. A key whose default is null may be set to null; any other key may not.
 * Names follow HF TrainingArguments and TRL's GRPOConfig.
 *
 * Each row names the section and field of struct config_values the value is parsed into and the kind of key
 * (INT, NUM, BOOL, STR, OBJ, ARR, ANY), which gives both its config_type and the field's C type: a field of
 * another type is an incompatible-pointer warning at compile time. */
#include "engine/run/config.h"

#define ALL STAGE_ALL
#define LM (STAGE_PRETRAIN | STAGE_SFT)
#define GR STAGE_GRPO

/* Ranges: [lo, inf), (lo, inf), [lo, hi], (lo, hi], [lo, hi). */
#define ANY_VALUE {0}
#define AT_LEAST(x) {.has_lo = true, .lo = (x)}
#define ABOVE(x) {.has_lo = true, .lo_open = true, .lo = (x)}
#define WITHIN(a, b) {.has_lo = true, .has_hi = true, .lo = (a), .hi = (b)}
#define WITHIN_OC(a, b) {.has_lo = true, .has_hi = true, .lo_open = true, .lo = (a), .hi = (b)}
#define WITHIN_CO(a, b) {.has_lo = true, .has_hi = true, .hi_open = true, .lo = (a), .hi = (b)}

/* Each kind of key: its enum config_type and the C type of its field. */
#define TYPE_INT CONFIG_INT
#define TYPE_NUM CONFIG_NUMBER
#define TYPE_BOOL CONFIG_BOOL
#define TYPE_STR CONFIG_STRING
#define TYPE_OBJ CONFIG_OBJECT
#define TYPE_ARR CONFIG_ARRAY
#define TYPE_ANY CONFIG_ANY
#define CT_INT int64_t
#define CT_NUM double
#define CT_BOOL bool
#define CT_STR const char *
#define CT_OBJ const cJSON *
#define CT_ARR const cJSON *
#define CT_ANY const cJSON *
#define FIELD(section, name, ct)                                                                                       \
    (offsetof(struct config_values, section.name) +                                                                    \
     0 * sizeof((CT_##ct *){&((struct config_values *)0)->section.name}))
#define KEY(section, name, kind, def, stages, range, choices, why, help)                                             \
    {#name, TYPE_##kind, def, stages, help, range, choices, why, FIELD(section, name, kind)}

const struct config_key config_keys[] = {
    /* what and where */
    KEY(run, stage, STR, "null", ALL, ANY_VALUE, "pretrain|sft|grpo", NULL,
        "training stage: pretrain, sft or grpo (required)"),
    KEY(run, output_dir, STR, "null", ALL, ANY_VALUE, NULL, NULL,
        "run directory (default runs/<config file name>)"),
    KEY(run, model_name_or_path, STR, "null", ALL, ANY_VALUE, NULL, NULL,
        "checkpoint to start from: directory, RUN@STEP or RUN@latest"),
    KEY(run, model_init, OBJ, "null", ALL, ANY_VALUE, NULL, NULL,
        "config.json fields of a new randomly initialised model (instead of a checkpoint)"),
    KEY(run, init_std, NUM, "0.02", ALL, AT_LEAST(0), NULL, NULL,
        "standard deviation of the random init of model_init weights"),
    KEY(run, tokenizer, STR, "null", ALL, ANY_VALUE, NULL, NULL,
        "tokenizer.json (or its directory); default: the checkpoint's"),
    KEY(run, device, STR, "\"auto\"", ALL, ANY_VALUE, NULL, NULL,
        "auto, cpu, cuda or cuda:N"),
    KEY(run, threads, INT, "0", ALL, AT_LEAST(0), NULL, NULL,
        "CPU threads (0 = all cores)"),
    KEY(run, ddp_timeout, NUM, "1800", ALL, ABOVE(0), NULL, NULL,
        "seconds a rank of a data-parallel run (mpirun -np N) waits for the others before it gives up"),
    KEY(run, seed, INT, "42", ALL, ANY_VALUE, NULL, NULL,
        "seed for initialisation, data order and sampling"),
    KEY(run, max_steps, INT, "null", ALL, AT_LEAST(1), NULL, NULL,
        "optimiser steps to run (required)"),
    KEY(run, overwrite_output_dir, BOOL, "false", ALL, ANY_VALUE, NULL, NULL,
        "start afresh even if output_dir already holds a run"),
    KEY(run, resume_from_checkpoint, ANY, "null", ALL, ANY_VALUE, NULL, NULL,
        "true: continue from the run's latest checkpoint; or a checkpoint path"),
    /* optimisation */
    KEY(optim, learning_rate, NUM, "5e-05", ALL, AT_LEAST(0), NULL, NULL,
        "peak learning rate of AdamW"),
    KEY(optim, adam_beta1, NUM, "0.9", ALL, WITHIN_CO(0, 1), NULL, "torch.optim.AdamW refuses betas outside [0, 1)",
        "AdamW beta1"),
    KEY(optim, adam_beta2, NUM, "0.999", ALL, WITHIN_CO(0, 1), NULL, "torch.optim.AdamW refuses betas outside [0, 1)",
        "AdamW beta2"),
    KEY(optim, adam_epsilon, NUM, "1e-08", ALL, AT_LEAST(0), NULL, NULL,
        "AdamW epsilon"),
    KEY(optim, weight_decay, NUM, "0.0", ALL, AT_LEAST(0), NULL, NULL,
        "decoupled weight decay (matrices only)"),
    KEY(optim, max_grad_norm, NUM, "1.0", ALL, AT_LEAST(0), NULL, NULL,
        "clip the global gradient norm to this (0 = no clipping)"),
    KEY(optim, lr_scheduler_type, STR, "\"linear\"", ALL, ANY_VALUE, "constant|constant_with_warmup|linear|cosine", NULL,
        "constant, constant_with_warmup, linear or cosine"),
    KEY(optim, warmup_steps, INT, "0", ALL, AT_LEAST(0), NULL, NULL,
        "linear warm-up steps"),
    KEY(optim, warmup_ratio, NUM, "0.0", ALL, WITHIN(0, 1), NULL, NULL,
        "warm-up as a fraction of max_steps (used when warmup_steps is 0)"),
    KEY(run, per_device_train_batch_size, INT, "8", ALL, AT_LEAST(1), NULL, NULL,
        "sequences per forward/backward micro-batch"),
    KEY(lm, gradient_accumulation_steps, INT, "1", LM, AT_LEAST(1), NULL, NULL,
        "micro-batches per optimiser step"),
    /* saving and logging */
    KEY(run, save_steps, INT, "500", ALL, AT_LEAST(0), NULL, NULL,
        "write a checkpoint every N steps (and at the end); 0 = only at the end"),
    KEY(run, save_total_limit, INT, "null", ALL, AT_LEAST(0), NULL, NULL,
        "keep only the newest N checkpoints (null = keep all)"),
    KEY(run, save_dtype, STR, "\"float32\"", ALL, ANY_VALUE, "float32|bfloat16", NULL,
        "weights dtype in checkpoints: float32 (exact resume) or bfloat16"),
    /* next-token data */
    KEY(run, dataset, STR, "null", ALL, ANY_VALUE, NULL, NULL,
        "data: a .txt / .jsonl file, or world:corpus / world:coldstart (LM); world:TASK or a .jsonl of prompt/answer (GRPO)"),
    KEY(run, world, OBJ, "null", ALL, ANY_VALUE, NULL, NULL,
        "the built-in world: {\"tasks\": {\"linear\": 1, ...}, \"task_params\": {...}, \"quality\": {...}} (r1lab-world(1))"),
    KEY(grpo, eval_dataset, STR, "null", GR, ANY_VALUE, NULL, NULL,
        "held-out .jsonl of prompt/answer for evaluation (default: the world's test split)"),
    KEY(lm, dataset_size, INT, "20000", LM, AT_LEAST(1), NULL, NULL,
        "documents / problems drawn from a built-in world: dataset"),
    KEY(lm, max_seq_length, INT, "256", LM, AT_LEAST(2), NULL, "a sequence needs a token and the next one to score",
        "tokens per training sequence (longer examples are truncated)"),
    /* GRPO */
    KEY(grpo, num_generations, INT, "8", GR, AT_LEAST(1), NULL, NULL,
        "G: completions sampled per prompt"),
    KEY(grpo, prompts_per_step, INT, "16", GR, AT_LEAST(1), NULL, NULL,
        "prompts per optimiser step (each gets num_generations completions)"),
    KEY(grpo, num_iterations, INT, "1", GR, AT_LEAST(1), NULL, NULL,
        "mu: optimisation passes over each batch of rollouts"),
    KEY(grpo, epsilon, NUM, "0.2", GR, AT_LEAST(0), NULL, NULL,
        "lower clipping range: ratio >= 1 - epsilon"),
    KEY(grpo, epsilon_high, NUM, "null", GR, AT_LEAST(0), NULL, NULL,
        "upper clipping range: ratio <= 1 + epsilon_high (default: epsilon)"),
    KEY(grpo, beta, NUM, "0.0", GR, AT_LEAST(0), NULL, NULL,
        "weight of the k3 KL penalty to the frozen reference policy (0: no reference model)"),
    KEY(grpo, loss_type, STR, "\"grpo\"", GR, ANY_VALUE, "grpo|dapo|dr_grpo", NULL,
        "grpo (per-sequence token mean), dapo (token mean over the batch) or dr_grpo"),
    KEY(grpo, scale_rewards, STR, "\"group\"", GR, ANY_VALUE, "group|none", NULL,
        "advantage scaling: group (divide by the group's std) or none (Dr. GRPO)"),
    KEY(grpo, mask_truncated_completions, BOOL, "false", GR, ANY_VALUE, NULL, NULL,
        "completions cut by max_completion_length get no gradient"),
    KEY(grpo, max_prompt_length, INT, "256", GR, AT_LEAST(1), NULL, NULL,
        "prompts longer than this (in tokens) are refused"),
    KEY(grpo, max_completion_length, INT, "128", GR, AT_LEAST(1), NULL, NULL,
        "new tokens per completion at most"),
    KEY(grpo, temperature, NUM, "1.0", GR, ABOVE(0), NULL, "at temperature 0 the num_generations completions of a prompt are all the same, so no group has a spread and nothing is learnt",
        "sampling temperature for rollouts"),
    KEY(grpo, top_p, NUM, "1.0", GR, WITHIN_OC(0, 1), NULL, NULL,
        "nucleus sampling for rollouts"),
    KEY(grpo, top_k, INT, "0", GR, AT_LEAST(0), NULL, NULL,
        "top-k sampling for rollouts (0 = off)"),
    KEY(grpo, template, STR, "\"r1-zero\"", GR, ANY_VALUE, "r1-zero|r1|chatml|llama3|raw", NULL,
        "prompt template: r1-zero (Table 1), r1, chatml, llama3 or raw"),
    KEY(grpo, stop_strings, ARR, "[\"</answer>\"]", GR, ANY_VALUE, NULL, NULL,
        "a completion ends after any of these strings"),
    KEY(grpo, reward_funcs, ARR, "[\"accuracy\", \"format\"]", GR, ANY_VALUE, NULL, NULL,
        "reward functions: accuracy, format, language, length, helpfulness"),
    KEY(grpo, reward_weights, ARR, "null", GR, ANY_VALUE, NULL, NULL,
        "weight of each reward function (default: all 1)"),
    KEY(grpo, log_completions, INT, "4", GR, AT_LEAST(0), NULL, NULL,
        "groups per step written to samples.jsonl"),
    KEY(grpo, eval_steps, INT, "25", GR, AT_LEAST(0), NULL, NULL,
        "evaluate on the held-out split every N steps (0 = never)"),
    KEY(grpo, eval_problems, INT, "64", GR, AT_LEAST(1), NULL, NULL,
        "held-out problems per evaluation"),
    KEY(grpo, eval_k, INT, "4", GR, AT_LEAST(1), NULL, NULL,
        "samples per held-out problem (pass@1 is their mean; cons@k their majority vote)"),
    KEY(grpo, eval_temperature, NUM, "0.6", GR, AT_LEAST(0), NULL, NULL,
        "sampling temperature for evaluation (the paper's 0.6)"),
    KEY(grpo, eval_top_p, NUM, "0.95", GR, WITHIN_OC(0, 1), NULL, NULL,
        "nucleus sampling for evaluation (the paper's 0.95)"),
};
const size_t config_n_keys = sizeof config_keys / sizeof config_keys[0];
