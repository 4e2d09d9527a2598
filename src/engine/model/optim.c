/* optim: schedule, clipping, guard, then one fused AdamW call per parameter tensor (weight decay differs by
 * tensor). */
#include "engine/model/optim.h"

#include <math.h>
#include <string.h>

#include "engine/util/log.h"

struct optim_config optim_config_default(void) {
    return (struct optim_config){.learning_rate = 5e-5f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                                 .weight_decay = 0.0f, .max_grad_norm = 1.0f, .schedule = LR_LINEAR,
                                 .warmup_steps = 0, .total_steps = 1};
}

static const char *const schedule_names[] = {"constant", "constant_with_warmup", "linear", "cosine"};

enum status lr_schedule_parse(const char *name, enum lr_schedule *out) {
    for (int i = 0; i < 4; i++)
        if (strcmp(name, schedule_names[i]) == 0) {
            *out = (enum lr_schedule)i;
            return STATUS_OK;
        }
    return err_set(STATUS_INVALID, "unknown lr_scheduler_type \"%s\" (constant, constant_with_warmup, linear, cosine)",
                   name);
}

const char *lr_schedule_name(enum lr_schedule s) { return schedule_names[s]; }

float optim_lr_at(const struct optim_config *c, int64_t step) {
    double base = c->learning_rate, w = (double)c->warmup_steps;
    if (c->schedule == LR_CONSTANT) return (float)base;
    if (step < c->warmup_steps) return (float)(base * (double)step / (w > 1 ? w : 1));
    if (c->schedule == LR_CONSTANT_WITH_WARMUP) return (float)base;
    double span = (double)(c->total_steps - c->warmup_steps);
    double progress = span > 0 ? (double)(step - c->warmup_steps) / span : 1.0;
    if (progress > 1) progress = 1;
    if (c->schedule == LR_LINEAR) return (float)(base * (1.0 - progress));
    return (float)(base * 0.5 * (1.0 + cos(M_PI * progress)));
}

enum status optim_init(struct optimizer *o, struct model *m, const struct optim_config *cfg) {
    memset(o, 0, sizeof *o);
    o->cfg = *cfg;
    o->model = m;
    struct backend *be = m->be;
    size_t bytes = m->n_params * sizeof(float);
    enum status st = be->ops->alloc(be, bytes, (void **)&o->m);
    if (st == STATUS_OK) st = be->ops->alloc(be, bytes, (void **)&o->v);
    if (st == STATUS_OK) st = model_alloc_grads(m);
    if (st != STATUS_OK) {
        err_prefix("optimiser state: ");
        optim_free(o);
    }
    return st;
}

void optim_free(struct optimizer *o) {
    if (o->model) {
        struct backend *be = o->model->be;
        if (o->m) be->ops->free(be, o->m);
        if (o->v) be->ops->free(be, o->v);
    }
    memset(o, 0, sizeof *o);
}

enum status optim_step(struct optimizer *o, struct optim_result *res) {
    struct model *m = o->model;
    struct backend *be = m->be;
    const struct optim_config *c = &o->cfg;
    res->lr = optim_lr_at(c, o->step);
    res->skipped = false;
    o->step++;
    double norm = sqrt(be->ops->sum_squares(be, m->grads, m->n_params));
    res->grad_norm = norm;
    if (!isfinite(norm)) {
        o->skipped++;
        res->skipped = true;
        log_warn("step %lld: gradient norm is %s; update skipped (%lld skipped so far)", (long long)o->step,
                 isnan(norm) ? "NaN" : "Inf", (long long)o->skipped);
        model_zero_grads(m);
        return be->ops->check(be);
    }
    if (c->max_grad_norm > 0) {
        double coef = c->max_grad_norm / (norm + 1e-6);
        if (coef < 1.0) be->ops->scale(be, m->grads, m->n_params, (float)coef);
    }
    o->adam_step++;
    struct adamw_params hp = {
        .lr = res->lr, .beta1 = c->beta1, .beta2 = c->beta2, .eps = c->eps,
        .bias_correction1 = (float)(1.0 - pow(c->beta1, (double)o->adam_step)),
        .bias_correction2 = (float)(1.0 - pow(c->beta2, (double)o->adam_step)),
    };
    for (size_t i = 0; i < m->n_tensors; i++) {
        const struct param_tensor *p = &m->tensors[i];
        hp.weight_decay = p->decay ? c->weight_decay : 0.0f;
        be->ops->adamw(be, m->params + p->offset, m->grads + p->offset, o->m + p->offset, o->v + p->offset, p->numel,
                       &hp);
    }
    model_zero_grads(m);
    return be->ops->check(be);
}
