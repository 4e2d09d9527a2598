/* train_lm: the next-token stages. pretrain scores every next token of fixed-length chunks; sft scores only
 * completion tokens. The loss of a step is the mean over all scored tokens of all its micro-batches (not a
 * mean of micro-batch means), so the result does not depend on how a step is split into micro-batches. */
#include "engine/lm/train_lm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/lm/lm_data.h"
#include "engine/run/metric.h"
#include "engine/util/json.h"
#include "engine/util/log.h"

struct lm_stage {
    struct lm_data data;
    struct batch_builder *micro; /* (accum) */
    int micro_bs, accum, max_len;
    float *logp, *dlogp;         /* (micro_bs * max_len) */
};

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static enum status eos_id(const struct trainer *t, int32_t *eos) {
    if (t->model.cfg.n_eos > 0) {
        *eos = t->model.cfg.eos_token_ids[0];
        return STATUS_OK;
    }
    *eos = tokenizer_token_id(t->tok, "<|endoftext|>");
    if (*eos >= 0) return STATUS_OK;
    enum status st = err_set(STATUS_INVALID, "the model has no eos_token_id and the tokenizer no <|endoftext|>");
    err_hint("set eos_token_id in the model's config (model_init.eos_token_id)");
    return st;
}

static enum status lm_check(const struct config *c, struct stage_plan *plan) {
    *plan = (struct stage_plan){.updates_per_step = 1, .eval_steps = 0};
    return lm_data_check(c);
}

static enum status lm_init(struct trainer *t) {
    struct lm_stage *s = calloc(1, sizeof *s);
    if (!s) return err_set(STATUS_NOMEM, "cannot allocate the training stage");
    t->stage = s;
    s->micro_bs = (int)t->cfg->v.run.per_device_train_batch_size; /* >= 1: the key table's range */
    s->accum = (int)t->cfg->v.lm.gradient_accumulation_steps;
    s->max_len = (int)t->cfg->v.lm.max_seq_length;
    if (s->max_len > t->model.cfg.max_position_embeddings)
        log_warn("max_seq_length %d exceeds the model's max_position_embeddings %d", s->max_len,
                 t->model.cfg.max_position_embeddings);
    int32_t eos;
    TRY(eos_id(t, &eos));
    TRY(lm_data_load(&s->data, t->cfg, t->tok, eos));
    log_info("dataset: %zu sequences, %zu tokens (%zu scored)", s->data.n_ex, s->data.n_tokens, s->data.n_scored);
    int cap = s->micro_bs * s->max_len;
    s->micro = calloc((size_t)s->accum, sizeof *s->micro);
    s->logp = malloc(sizeof(float) * (size_t)cap);
    s->dlogp = malloc(sizeof(float) * (size_t)cap);
    if (!s->micro || !s->logp || !s->dlogp) return err_set(STATUS_NOMEM, "cannot allocate batches");
    for (int i = 0; i < s->accum; i++) TRY(batch_builder_init(&s->micro[i], cap, s->micro_bs));
    return model_reserve(&t->model, cap, s->max_len, true);
}

static void lm_free(struct trainer *t) {
    struct lm_stage *s = t->stage;
    if (!s) return;
    lm_data_free(&s->data);
    if (s->micro)
        for (int i = 0; i < s->accum; i++) batch_builder_free(&s->micro[i]);
    free(s->micro);
    free(s->logp);
    free(s->dlogp);
    free(s);
    t->stage = NULL;
}

static enum status lm_step(struct trainer *t, cJSON *metrics) {
    struct lm_stage *s = t->stage;
    double t0 = mono();
    /* Assemble every micro-batch first: the loss is normalised by the scored tokens of the whole step. */
    int64_t scored = 0, tokens = 0;
    for (int k = 0; k < s->accum; k++) {
        batch_builder_clear(&s->micro[k]);
        TRY(lm_data_next(&s->data, s->micro_bs, &s->micro[k]));
        for (int i = 0; i < s->micro[k].N; i++) scored += s->micro[k].targets[i] >= 0;
        tokens += s->micro[k].N;
    }
    if (scored == 0) return err_set(STATUS_INVALID, "a training step has no scored tokens");
    double nll = 0;
    for (int k = 0; k < s->accum; k++) {
        if (trainer_interrupted(t)) {
            model_zero_grads(&t->model);
            return STATUS_ABORTED;
        }
        struct batch b = batch_builder_view(&s->micro[k]);
        TRY(model_forward(&t->model, &b, s->logp, NULL));
        for (int i = 0; i < b.N; i++) {
            bool on = b.targets[i] >= 0;
            nll -= on ? s->logp[i] : 0.0;
            s->dlogp[i] = on ? (float)(-1.0 / (double)scored) : 0.0f;
        }
        TRY(model_backward(&t->model, &b, s->dlogp));
    }
    struct optim_result r;
    TRY(optim_step(&t->opt, &r));
    double dt = mono() - t0;
    metric_put(metrics, METRIC_LOSS, nll / (double)scored);
    metric_put(metrics, METRIC_GRAD_NORM, r.grad_norm);
    metric_put(metrics, METRIC_LEARNING_RATE, r.lr);
    metric_put(metrics, METRIC_EPOCH, lm_data_epoch(&s->data));
    metric_put(metrics, METRIC_NUM_TOKENS, (double)tokens);
    metric_put(metrics, METRIC_TOKENS_PER_SECOND_TRAIN, (double)tokens / dt);
    return STATUS_OK;
}

static enum status lm_save_state(struct trainer *t, cJSON *state) {
    struct lm_stage *s = t->stage;
    cJSON *d = cJSON_AddObjectToObject(state, "data");
    cJSON_AddNumberToObject(d, "epoch", (double)s->data.epoch);
    cJSON_AddNumberToObject(d, "index", (double)s->data.index);
    cJSON_AddNumberToObject(d, "examples", (double)s->data.n_ex);
    return STATUS_OK;
}

static enum status lm_load_state(struct trainer *t, const cJSON *state) {
    struct lm_stage *s = t->stage;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(state, "data");
    int64_t epoch, index, n_ex;
    TRY(json_get_int(d, "epoch", true, 0, 0, INT64_MAX / 2, &epoch, "trainer_state.json: data"));
    TRY(json_get_int(d, "index", true, 0, 0, INT64_MAX / 2, &index, "trainer_state.json: data"));
    TRY(json_get_int(d, "examples", true, 0, 0, INT64_MAX / 2, &n_ex, "trainer_state.json: data"));
    if ((size_t)n_ex != s->data.n_ex) {
        enum status st = err_set(STATUS_INVALID, "the checkpoint was trained on %lld sequences, the dataset now has %zu",
                                 (long long)n_ex, s->data.n_ex);
        err_hint("resume with the same dataset, max_seq_length and tokenizer");
        return st;
    }
    return lm_data_seek(&s->data, epoch, index);
}

const struct stage_ops stage_lm = {
    .name = "lm",
    .check = lm_check,
    .init = lm_init,
    .step = lm_step,
    .save_state = lm_save_state,
    .load_state = lm_load_state,
    .evaluate = NULL,
    .free = lm_free,
};
