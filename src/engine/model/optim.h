/* optim: AdamW with decoupled weight decay and bias correction (the arithmetic of torch.optim.AdamW),
 * global-norm gradient clipping (torch.nn.utils.clip_grad_norm_), the learning-rate schedules of HF's
 * get_scheduler (constant, constant_with_warmup, linear, cosine; step counted from 0), and a non-finite
 * guard: a step whose gradient norm is NaN or Inf changes nothing, is counted, and is reported.
 * Weight decay applies to matrices only (not norms or biases), as HF Trainer does by default.
 * Moments live on the model's backend, laid out like the parameters. */
#ifndef R1LAB_OPTIM_H
#define R1LAB_OPTIM_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/model/model.h"
#include "engine/util/status.h"

enum lr_schedule { LR_CONSTANT, LR_CONSTANT_WITH_WARMUP, LR_LINEAR, LR_COSINE };

struct optim_config {
    float learning_rate;
    float beta1, beta2, eps;
    float weight_decay;
    float max_grad_norm; /* <= 0: no clipping */
    enum lr_schedule schedule;
    int64_t warmup_steps;
    int64_t total_steps; /* for linear / cosine decay */
};

/* HF TrainingArguments defaults: lr 5e-5, betas (0.9, 0.999), eps 1e-8, weight decay 0, clip 1.0, linear. */
struct optim_config optim_config_default(void);
/* Parses "constant", "constant_with_warmup", "linear", "cosine". */
enum status lr_schedule_parse(const char *name, enum lr_schedule *out);
const char *lr_schedule_name(enum lr_schedule s);

struct optimizer {
    struct optim_config cfg;
    struct model *model; /* borrowed */
    float *m, *v;        /* (n_params) first and second moments, backend memory */
    int64_t step;        /* optimisation steps attempted (drives the schedule) */
    int64_t adam_step;   /* updates applied (drives bias correction) */
    int64_t skipped;     /* steps skipped for a non-finite gradient */
};

struct optim_result {
    double grad_norm; /* before clipping; NaN/Inf when skipped */
    float lr;
    bool skipped;
};

enum status optim_init(struct optimizer *o, struct model *m, const struct optim_config *cfg);
void optim_free(struct optimizer *o); /* accepts a zeroed struct */
/* Learning rate at a given (0-based) step. */
float optim_lr_at(const struct optim_config *cfg, int64_t step);
/* Applies one update from the model's accumulated gradients, then zeroes them. */
enum status optim_step(struct optimizer *o, struct optim_result *res);

#endif
