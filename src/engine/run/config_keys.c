/* config_keys: every key a training configuration may contain — the single source for validation, defaults
 * and --print-config. r1lab-config(5) documents each key with its type, default and stages, and
 * tests/test_config_doc.c fails when the page and this table disagree. A key whose default is null may be
 * set to null; any other key may not. Names follow HF TrainingArguments and TRL's GRPOConfig. */
#include "engine/run/config.h"

#define ALL STAGE_ALL
#define LM (STAGE_PRETRAIN | STAGE_SFT)
#define GR STAGE_GRPO

const struct config_key config_keys[] = {
    /* what and where */
    {"stage", CONFIG_STRING, "null", ALL, "training stage: pretrain, sft or grpo (required)"},
    {"output_dir", CONFIG_STRING, "null", ALL, "run directory (default runs/<config file name>)"},
    {"model_name_or_path", CONFIG_STRING, "null", ALL, "checkpoint to start from: directory, RUN@STEP or RUN@latest"},
    {"model_init", CONFIG_OBJECT, "null", ALL, "config.json fields of a new randomly initialised model (instead of a checkpoint)"},
    {"init_std", CONFIG_NUMBER, "0.02", ALL, "standard deviation of the random init of model_init weights"},
    {"tokenizer", CONFIG_STRING, "null", ALL, "tokenizer.json (or its directory); default: the checkpoint's"},
    {"device", CONFIG_STRING, "\"auto\"", ALL, "auto, cpu, cuda or cuda:N"},
    {"threads", CONFIG_INT, "0", ALL, "CPU threads (0 = all cores)"},
    {"seed", CONFIG_INT, "42", ALL, "seed for initialisation, data order and sampling"},
    {"max_steps", CONFIG_INT, "null", ALL, "optimiser steps to run (required)"},
    {"overwrite_output_dir", CONFIG_BOOL, "false", ALL, "start afresh even if output_dir already holds a run"},
    {"resume_from_checkpoint", CONFIG_ANY, "null", ALL, "true: continue from the run's latest checkpoint; or a checkpoint path"},
    /* optimisation */
    {"learning_rate", CONFIG_NUMBER, "5e-05", ALL, "peak learning rate of AdamW"},
    {"adam_beta1", CONFIG_NUMBER, "0.9", ALL, "AdamW beta1"},
    {"adam_beta2", CONFIG_NUMBER, "0.999", ALL, "AdamW beta2"},
    {"adam_epsilon", CONFIG_NUMBER, "1e-08", ALL, "AdamW epsilon"},
    {"weight_decay", CONFIG_NUMBER, "0.0", ALL, "decoupled weight decay (matrices only)"},
    {"max_grad_norm", CONFIG_NUMBER, "1.0", ALL, "clip the global gradient norm to this (0 = no clipping)"},
    {"lr_scheduler_type", CONFIG_STRING, "\"linear\"", ALL, "constant, constant_with_warmup, linear or cosine"},
    {"warmup_steps", CONFIG_INT, "0", ALL, "linear warm-up steps"},
    {"warmup_ratio", CONFIG_NUMBER, "0.0", ALL, "warm-up as a fraction of max_steps (used when warmup_steps is 0)"},
    {"per_device_train_batch_size", CONFIG_INT, "8", ALL, "sequences per forward/backward micro-batch"},
    {"gradient_accumulation_steps", CONFIG_INT, "1", LM, "micro-batches per optimiser step"},
    /* saving and logging */
    {"save_steps", CONFIG_INT, "500", ALL, "write a checkpoint every N steps (and at the end); 0 = only at the end"},
    {"save_total_limit", CONFIG_INT, "null", ALL, "keep only the newest N checkpoints (null = keep all)"},
    {"save_dtype", CONFIG_STRING, "\"float32\"", ALL, "weights dtype in checkpoints: float32 (exact resume) or bfloat16"},
    /* next-token data */
    {"dataset", CONFIG_STRING, "null", ALL, "data: a .txt / .jsonl file, or world:corpus / world:coldstart (LM); world:TASK or a .jsonl of prompt/answer (GRPO)"},
    {"world", CONFIG_OBJECT, "null", ALL, "the built-in world: {\"tasks\": {\"linear\": 1, ...}, \"task_params\": {...}, \"quality\": {...}} (r1lab-world(1))"},
    {"eval_dataset", CONFIG_STRING, "null", GR, "held-out .jsonl of prompt/answer for evaluation (default: the world's test split)"},
    {"dataset_size", CONFIG_INT, "20000", LM, "documents / problems drawn from a built-in world: dataset"},
    {"max_seq_length", CONFIG_INT, "256", LM, "tokens per training sequence (longer examples are truncated)"},
    /* GRPO */
    {"num_generations", CONFIG_INT, "8", GR, "G: completions sampled per prompt"},
    {"prompts_per_step", CONFIG_INT, "16", GR, "prompts per optimiser step (each gets num_generations completions)"},
    {"num_iterations", CONFIG_INT, "1", GR, "mu: optimisation passes over each batch of rollouts"},
    {"epsilon", CONFIG_NUMBER, "0.2", GR, "lower clipping range: ratio >= 1 - epsilon"},
    {"epsilon_high", CONFIG_NUMBER, "null", GR, "upper clipping range: ratio <= 1 + epsilon_high (default: epsilon)"},
    {"beta", CONFIG_NUMBER, "0.0", GR, "weight of the k3 KL penalty to the frozen reference policy (0: no reference model)"},
    {"loss_type", CONFIG_STRING, "\"grpo\"", GR, "grpo (per-sequence token mean), dapo (token mean over the batch) or dr_grpo"},
    {"scale_rewards", CONFIG_STRING, "\"group\"", GR, "advantage scaling: group (divide by the group's std) or none (Dr. GRPO)"},
    {"mask_truncated_completions", CONFIG_BOOL, "false", GR, "completions cut by max_completion_length get no gradient"},
    {"max_prompt_length", CONFIG_INT, "256", GR, "prompts longer than this (in tokens) are refused"},
    {"max_completion_length", CONFIG_INT, "128", GR, "new tokens per completion at most"},
    {"temperature", CONFIG_NUMBER, "1.0", GR, "sampling temperature for rollouts"},
    {"top_p", CONFIG_NUMBER, "1.0", GR, "nucleus sampling for rollouts"},
    {"top_k", CONFIG_INT, "0", GR, "top-k sampling for rollouts (0 = off)"},
    {"template", CONFIG_STRING, "\"r1-zero\"", GR, "prompt template: r1-zero (Table 1), r1, chatml, llama3 or raw"},
    {"stop_strings", CONFIG_ARRAY, "[\"</answer>\"]", GR, "a completion ends after any of these strings"},
    {"reward_funcs", CONFIG_ARRAY, "[\"accuracy\", \"format\"]", GR, "reward functions: accuracy, format, language, length, helpfulness"},
    {"reward_weights", CONFIG_ARRAY, "null", GR, "weight of each reward function (default: all 1)"},
    {"log_completions", CONFIG_INT, "4", GR, "groups per step written to samples.jsonl"},
    {"eval_steps", CONFIG_INT, "25", GR, "evaluate on the held-out split every N steps (0 = never)"},
    {"eval_problems", CONFIG_INT, "64", GR, "held-out problems per evaluation"},
    {"eval_k", CONFIG_INT, "4", GR, "samples per held-out problem (pass@1 is their mean; cons@k their majority vote)"},
    {"eval_temperature", CONFIG_NUMBER, "0.6", GR, "sampling temperature for evaluation (the paper's 0.6)"},
    {"eval_top_p", CONFIG_NUMBER, "0.95", GR, "nucleus sampling for evaluation (the paper's 0.95)"},
};
const size_t config_n_keys = sizeof config_keys / sizeof config_keys[0];
