/* grpo: the GRPO stage (DeepSeek-R1-Zero's RL). One step:
 *   1. draw prompts_per_step problems and render them with the template (Table 1 by default);
 *   2. sample num_generations completions per prompt from the current policy (= pi_old) with the rollout
 *      engine (one prefill per prompt, shared by its samples);
 *   3. score them with the rule-based rewards, and turn rewards into group-relative advantages (eq. 3);
 *   4. num_iterations passes of the clipped surrogate with the k3 KL to the frozen reference (eq. 1-2) over
 *      micro-batches, one optimiser update per pass.
 * With num_iterations = 1 the old log-probs equal the current ones (ratio 1), so no separate scoring pass
 * is needed; with beta = 0 no reference model is kept and sequences whose advantage is 0 are not run
 * through the training pass at all (their gradient is exactly zero).
 *
 * In a data-parallel run each rank takes a share of the step's prompts (dist_share; a group never spans ranks, so
 * advantages stay local) and decodes its sequences from the random streams one process would use for them; the
 * loss is normalised by the step's totals over all ranks, gradients are summed before each update, and every
 * metric is reduced over the ranks before a ratio is taken, so the record is the one a single process writes. */
#include "engine/rl/grpo.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/dist/dist.h"
#include "engine/model/rollout.h"
#include "engine/rl/evaluate.h"
#include "engine/rl/grpo_loss.h"
#include "engine/rl/reward.h"
#include "engine/run/checkpoint.h"
#include "engine/run/metric.h"
#include "engine/tokenizer/template.h"
#include "engine/util/json.h"
#include "engine/util/log.h"
#include "engine/world/problems.h"

struct grpo_stage {
    struct problem_source train, eval;
    bool has_eval;
    struct reward_spec spec;
    enum template_kind tmpl;
    struct rollout_options ro;
    struct eval_options eval_opt;
    struct rollout rollout;
    struct model ref;
    bool has_ref;
    int P, G, B, mu, micro_bs, max_prompt, max_completion, log_groups; /* P, B: this rank's share */
    int P_all, B_all, p0; /* the step's prompts and sequences over every rank; this rank's first prompt */
    struct grpo_loss_config loss;
    bool scale_std, mask_truncated;
    /* per step (B = P * G sequences, T = B * max_completion completion tokens) */
    struct problem *probs_all;     /* (P_all) every rank draws every problem: the data position stays one */
    struct problem *probs;         /* (P) this rank's: probs_all + p0 */
    struct token_buf *prompt_ids;  /* (P) */
    const int32_t **prompt_ptrs;   /* (P) views of prompt_ids for the rollout */
    int *prompt_lens;              /* (P) */
    float *rewards, *adv;          /* (B) */
    struct reward_result *scores;  /* (B) */
    int *tok_start;                /* (B + 1) completion-token offsets */
    float *old_logp, *ref_logp, *logp, *dlogp, *mask, *ent; /* (T) */
    int *train_seqs;               /* (B) sequences that take part in the training passes */
    struct batch_builder bb;
    int32_t *seq_buf;              /* (max_prompt + max_completion) one packed sequence */
    float *row_logp, *row_dlogp, *row_ent; /* (micro rows) */
};

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool aborted(void *user) { return trainer_interrupted(user); }

/* ---------------------------------------------------------------------------------------------------- */
/* Set-up                                                                                                */

/* reward_funcs (names or objects) + reward_weights -> the reward spec's JSON form. */
static enum status parse_rewards(const struct config *c, struct reward_spec *spec) {
    const cJSON *funcs = c->v.grpo.reward_funcs, *weights = c->v.grpo.reward_weights;
    const char *where = config_where(c, "reward_funcs"), *wwhere = config_where(c, "reward_weights");
    if (!funcs || cJSON_GetArraySize(funcs) == 0)
        return err_set(STATUS_INVALID, "%s: reward_funcs must list at least one reward function", where);
    if (weights && cJSON_GetArraySize(weights) != cJSON_GetArraySize(funcs))
        return err_set(STATUS_INVALID, "%s: reward_weights has %d entries for %d reward_funcs", wwhere,
                       cJSON_GetArraySize(weights), cJSON_GetArraySize(funcs));
    cJSON *arr = cJSON_CreateArray();
    int i = 0;
    const cJSON *f;
    enum status st = STATUS_OK;
    cJSON_ArrayForEach(f, funcs) {
        cJSON *term = cJSON_IsObject(f) ? cJSON_Duplicate(f, true) : cJSON_CreateObject();
        if (cJSON_IsString(f)) cJSON_AddStringToObject(term, "name", f->valuestring);
        else if (!cJSON_IsObject(f)) st = err_set(STATUS_INVALID, "%s: reward_funcs[%d] must be a name or an object", where, i);
        const cJSON *w = weights ? cJSON_GetArrayItem(weights, i) : NULL;
        if (w && !cJSON_IsNumber(w)) st = err_set(STATUS_INVALID, "%s: reward_weights[%d] must be a number", wwhere, i);
        if (w && cJSON_IsNumber(w)) {
            cJSON_DeleteItemFromObjectCaseSensitive(term, "weight");
            cJSON_AddNumberToObject(term, "weight", w->valuedouble);
        }
        cJSON_AddItemToArray(arr, term);
        i++;
    }
    if (st == STATUS_OK) st = reward_spec_parse(spec, arr, where);
    cJSON_Delete(arr);
    return st;
}

static enum status open_reference(struct trainer *t, struct grpo_stage *s) {
    const struct config *c = t->cfg;
    const char *start = c->v.run.model_name_or_path;
    if (start) {
        char dir[PATH_MAX];
        TRY(checkpoint_resolve(start, dir, sizeof dir));
        TRY(model_load(&s->ref, dir, t->be));
    } else {
        TRY(model_init(&s->ref, &t->model.cfg, t->be));
        TRY(model_init_random(&s->ref, (uint64_t)c->v.run.seed, (float)c->v.run.init_std));
    }
    s->has_ref = true;
    return model_reserve(&s->ref, s->micro_bs * (s->max_prompt + s->max_completion), s->max_prompt + s->max_completion,
                         false);
}

/* Whether the run evaluates: eval_steps > 0 and a held-out set, eval_dataset or the built-in world's test split. */
static bool has_eval(const struct config *c) {
    return c->v.grpo.eval_steps > 0 && (c->v.grpo.eval_dataset || strncmp(c->v.run.dataset, "world:", 6) == 0);
}

static enum status grpo_check(const struct config *c, struct stage_plan *plan) {
    const struct config_grpo *g = &c->v.grpo;
    *plan = (struct stage_plan){.updates_per_step = g->num_iterations, .eval_steps = g->eval_steps,
                                .data_parallel = true};
    const char *dataset = c->v.run.dataset;
    if (!dataset) {
        enum status st = err_set(STATUS_INVALID, "%s: \"dataset\" is not set", config_where(c, "dataset"));
        err_hint("world:linear, world:arith, world:countdown, world:mix, or a .jsonl file of prompt/answer records");
        return st;
    }
    TRY(problem_source_check_spec(dataset, config_where(c, "dataset")));
    if (g->eval_dataset) TRY(problem_source_check_spec(g->eval_dataset, config_where(c, "eval_dataset")));
    if (c->v.run.world) {
        struct corpus_config cc;
        char where[4200];
        corpus_config_default(&cc);
        snprintf(where, sizeof where, "%s: world", config_where(c, "world"));
        TRY(corpus_config_set(&cc, c->v.run.world, where));
    }
    struct reward_spec spec;
    TRY(parse_rewards(c, &spec));
    const cJSON *sv;
    int n_stop = 0;
    cJSON_ArrayForEach(sv, g->stop_strings) {
        if (!cJSON_IsString(sv) || n_stop++ == ROLLOUT_MAX_STOP)
            return err_set(STATUS_INVALID, "%s: stop_strings must be at most %d strings", config_where(c, "stop_strings"),
                           ROLLOUT_MAX_STOP);
    }
    int64_t B = g->prompts_per_step * g->num_generations;
    if (has_eval(c) && g->eval_k > B) {
        enum status st = err_set(STATUS_INVALID, "%s: eval_k (%lld) exceeds prompts_per_step x num_generations (%lld)",
                                 config_where(c, "eval_k"), (long long)g->eval_k, (long long)B);
        err_hint("a held-out problem's k samples are decoded in one batch of the rollout engine");
        return st;
    }
    return STATUS_OK;
}

static enum status grpo_init(struct trainer *t) {
    const struct config *c = t->cfg;
    const struct config_grpo *g = &c->v.grpo;
    struct grpo_stage *s = calloc(1, sizeof *s);
    if (!s) return err_set(STATUS_NOMEM, "cannot allocate the GRPO stage");
    t->stage = s;
    /* Ranges, the dataset and relations between keys were checked by grpo_check before any work. */
    s->P_all = (int)g->prompts_per_step;
    s->G = (int)g->num_generations;
    s->B_all = s->P_all * s->G;
    const struct dist *d = t->dist;
    if (s->P_all < d->size) {
        enum status st = err_set(STATUS_INVALID, "%s: prompts_per_step (%d) is less than the number of ranks (%d)",
                                 config_where(c, "prompts_per_step"), s->P_all, d->size);
        err_hint("each rank takes whole groups of num_generations completions; raise prompts_per_step or start fewer");
        return st;
    }
    dist_share(s->P_all, d->rank, d->size, &s->p0, &s->P);
    s->B = s->P * s->G;
    s->mu = (int)g->num_iterations;
    s->micro_bs = (int)c->v.run.per_device_train_batch_size;
    s->max_prompt = (int)g->max_prompt_length;
    s->max_completion = (int)g->max_completion_length;
    s->log_groups = (int)g->log_completions;
    if (s->G < 2) log_warn("num_generations = 1: every group has zero spread, so no step has a gradient");
    const char *dataset = c->v.run.dataset;
    uint64_t seed = (uint64_t)c->v.run.seed;
    const cJSON *world = c->v.run.world;
    TRY(problem_source_open(&s->train, dataset, world, seed, TASK_SPLIT_TRAIN));
    const char *eval_ds = g->eval_dataset;
    if (g->eval_steps > 0) {
        if (eval_ds) {
            TRY(problem_source_open(&s->eval, eval_ds, world, seed, TASK_SPLIT_TEST));
            s->has_eval = true;
        } else if (s->train.builtin) {
            TRY(problem_source_open(&s->eval, dataset, world, seed, TASK_SPLIT_TEST));
            s->has_eval = true;
        } else {
            log_warn("no eval_dataset: held-out evaluation is off for a user dataset");
        }
    }
    TRY(parse_rewards(c, &s->spec));
    TRY(template_parse(g->template, &s->tmpl));
    TRY(grpo_loss_type_parse(g->loss_type, &s->loss.type));
    s->loss.epsilon = (float)g->epsilon;
    s->loss.epsilon_high = isnan(g->epsilon_high) ? s->loss.epsilon : (float)g->epsilon_high;
    s->loss.beta = (float)g->beta;
    s->loss.max_completion_length = s->max_completion;
    s->scale_std = strcmp(g->scale_rewards, "group") == 0;
    s->mask_truncated = g->mask_truncated_completions;

    s->ro.sampling = (struct sampler_params){(float)g->temperature, (float)g->top_p, (int)g->top_k};
    TRY(sampler_params_check(&s->ro.sampling));
    s->ro.max_new_tokens = s->max_completion;
    s->ro.include_stop_token_eos = true;
    const cJSON *sv;
    int n_stop = 0;
    cJSON_ArrayForEach(sv, g->stop_strings) s->ro.stop[n_stop++] = sv->valuestring;
    s->eval_opt = (struct eval_options){
        .n_problems = (int)g->eval_problems,
        .k = (int)g->eval_k,
        .tmpl = s->tmpl,
        .add_special_tokens = true,
        .ro = s->ro,
    };
    s->eval_opt.ro.sampling = (struct sampler_params){(float)g->eval_temperature, (float)g->eval_top_p, 0};
    s->eval_opt.ro.seed = seed ^ 0x6576616cULL; /* "eval": the same held-out samples at every evaluation */
    size_t eval_size = s->has_eval ? problem_source_size(&s->eval) : 0;
    if (eval_size > 0 && (size_t)s->eval_opt.n_problems > eval_size) {
        log_info("evaluation: the eval dataset has %zu problems; using all of them", eval_size);
        s->eval_opt.n_problems = (int)eval_size;
    }
    ASSERT(!s->has_eval || s->eval_opt.k <= s->B_all); /* grpo_check */
    /* Evaluation batches are laid out as one process would decode them (B_all sequences at a time), each rank
     * decoding its part of every batch (evaluate.h). */
    s->eval_opt.batch_seqs = s->B_all;
    s->eval_opt.dist = t->dist;

    int max_len = s->max_prompt + s->max_completion;
    /* A rank's share may hold fewer sequences than one held-out problem's k samples. */
    int slots = s->has_eval && s->eval_opt.k > s->B ? s->eval_opt.k : s->B;
    TRY(rollout_init(&s->rollout, &t->model, t->tok, slots, max_len));
    size_t T = (size_t)s->B * s->max_completion;
    s->probs_all = calloc((size_t)s->P_all, sizeof *s->probs_all);
    s->probs = s->probs_all ? s->probs_all + s->p0 : NULL;
    s->prompt_ids = calloc((size_t)s->P, sizeof *s->prompt_ids);
    s->prompt_ptrs = calloc((size_t)s->P, sizeof *s->prompt_ptrs);
    s->prompt_lens = calloc((size_t)s->P, sizeof *s->prompt_lens);
    s->rewards = calloc((size_t)s->B, sizeof(float));
    s->adv = calloc((size_t)s->B, sizeof(float));
    s->scores = calloc((size_t)s->B, sizeof *s->scores);
    s->tok_start = calloc((size_t)s->B + 1, sizeof(int));
    s->train_seqs = calloc((size_t)s->B, sizeof(int));
    float **bufs[] = {&s->old_logp, &s->ref_logp, &s->logp, &s->dlogp, &s->mask, &s->ent};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) *bufs[i] = calloc(T, sizeof(float));
    int rows = s->micro_bs * max_len;
    s->row_logp = calloc((size_t)rows, sizeof(float));
    s->row_dlogp = calloc((size_t)rows, sizeof(float));
    s->row_ent = calloc((size_t)rows, sizeof(float));
    s->seq_buf = calloc((size_t)max_len, sizeof(int32_t));
    if (!s->seq_buf || !s->prompt_ptrs || !s->prompt_lens || !s->probs || !s->prompt_ids || !s->rewards || !s->adv || !s->scores || !s->tok_start || !s->train_seqs ||
        !s->old_logp || !s->ref_logp || !s->logp || !s->dlogp || !s->mask || !s->ent || !s->row_logp ||
        !s->row_dlogp || !s->row_ent)
        return err_set(STATUS_NOMEM, "cannot allocate GRPO buffers");
    TRY(batch_builder_init(&s->bb, rows, s->micro_bs));
    TRY(model_reserve(&t->model, rows, max_len, true));
    if (s->loss.beta > 0) TRY(open_reference(t, s));
    log_info("GRPO: %d prompts x %d completions per step, %s loss, epsilon [%g, %g], beta %g, %d iteration%s",
             s->P, s->G, grpo_loss_type_name(s->loss.type), s->loss.epsilon, s->loss.epsilon_high, s->loss.beta, s->mu,
             s->mu == 1 ? "" : "s");
    return STATUS_OK;
}

static void grpo_free(struct trainer *t) {
    struct grpo_stage *s = t->stage;
    if (!s) return;
    problem_source_free(&s->train);
    problem_source_free(&s->eval);
    rollout_free(&s->rollout);
    if (s->has_ref) model_free(&s->ref);
    if (s->probs_all)
        for (int p = 0; p < s->P_all; p++) task_problem_free(&s->probs_all[p]);
    if (s->prompt_ids)
        for (int p = 0; p < s->P; p++) token_buf_free(&s->prompt_ids[p]);
    free(s->prompt_ptrs), free(s->prompt_lens);
    free(s->probs_all), free(s->prompt_ids), free(s->rewards), free(s->adv), free(s->scores), free(s->tok_start);
    free(s->train_seqs), free(s->old_logp), free(s->ref_logp), free(s->logp), free(s->dlogp), free(s->mask);
    free(s->ent), free(s->row_logp), free(s->row_dlogp), free(s->row_ent), free(s->seq_buf);
    batch_builder_free(&s->bb);
    free(s);
    t->stage = NULL;
}

/* ---------------------------------------------------------------------------------------------------- */
/* One step                                                                                              */

static enum status draw_prompts(struct trainer *t, struct grpo_stage *s) {
    for (int p = 0; p < s->P_all; p++) {
        task_problem_free(&s->probs_all[p]);
        TRY(problem_source_next(&s->train, &s->probs_all[p]));
    }
    for (int p = 0; p < s->P; p++) {
        char *text;
        TRY(template_render_prompt(s->tmpl, s->probs[p].prompt, &text));
        s->prompt_ids[p].n = 0;
        enum status st = tokenizer_encode(t->tok, text, strlen(text), true, &s->prompt_ids[p]);
        free(text);
        TRY(st);
        if ((int)s->prompt_ids[p].n > s->max_prompt) {
            st = err_set(STATUS_INVALID, "a prompt of %s has %zu tokens; max_prompt_length is %d", s->train.name,
                         s->prompt_ids[p].n, s->max_prompt);
            err_hint("raise max_prompt_length");
            return st;
        }
    }
    return STATUS_OK;
}

/* Packs sequences seqs[0..n) (prompt + completion) into s->bb, scoring only completion tokens. */
static enum status pack(struct grpo_stage *s, const int *seqs, int n) {
    batch_builder_clear(&s->bb);
    for (int k = 0; k < n; k++) {
        int i = seqs[k], p = i / s->G;
        const struct token_buf *pr = &s->prompt_ids[p];
        const struct rollout_seq *q = &s->rollout.seqs[i];
        int len = (int)pr->n + q->n;
        ASSERT(len <= s->max_prompt + s->max_completion);
        memcpy(s->seq_buf, pr->ids, pr->n * sizeof(int32_t));
        memcpy(s->seq_buf + pr->n, q->ids, (size_t)q->n * sizeof(int32_t));
        TRY(batch_builder_add(&s->bb, s->seq_buf, len, (int)pr->n));
    }
    return STATUS_OK;
}

/* Completion token j of packed sequence k is scored at row seq_start[k] + prompt_len - 1 + j. */
static void gather(const struct grpo_stage *s, const int *seqs, int n, const float *rows, float *dst) {
    for (int k = 0; k < n; k++) {
        int i = seqs[k];
        int base = s->bb.seq_start[k] + (int)s->prompt_ids[i / s->G].n - 1;
        memcpy(dst + s->tok_start[i], rows + base, sizeof(float) * (size_t)(s->tok_start[i + 1] - s->tok_start[i]));
    }
}

static void scatter(const struct grpo_stage *s, const int *seqs, int n, const float *src, float *rows) {
    memset(rows, 0, sizeof(float) * (size_t)s->bb.N);
    for (int k = 0; k < n; k++) {
        int i = seqs[k];
        int base = s->bb.seq_start[k] + (int)s->prompt_ids[i / s->G].n - 1;
        memcpy(rows + base, src + s->tok_start[i], sizeof(float) * (size_t)(s->tok_start[i + 1] - s->tok_start[i]));
    }
}

/* Forward passes without gradients over the given sequences with model m, writing per-token log-probs. */
static enum status score_pass(struct grpo_stage *s, struct model *m, const int *seqs, int n, float *out) {
    for (int k0 = 0; k0 < n; k0 += s->micro_bs) {
        int nk = n - k0 < s->micro_bs ? n - k0 : s->micro_bs;
        TRY(pack(s, seqs + k0, nk));
        struct batch b = batch_builder_view(&s->bb);
        TRY(model_forward(m, &b, s->row_logp, NULL));
        gather(s, seqs + k0, nk, s->row_logp, out);
    }
    return STATUS_OK;
}

/* dist/rankN/tokens_per_second: each rank's generation throughput, gathered as a sum of one-hot rows. */
static enum status add_rank_throughput(struct trainer *t, double mine, cJSON *m) {
    int n = t->dist->size;
    double *v = calloc((size_t)n, sizeof *v);
    if (!v) return err_set(STATUS_NOMEM, "cannot allocate %d ranks' throughputs", n);
    v[t->dist->rank] = mine;
    enum status st = dist_sum(t->dist, v, n, "the ranks' throughputs");
    for (int r = 0; r < n && st == STATUS_OK; r++) {
        char name[24];
        snprintf(name, sizeof name, "%d", r);
        metric_put_named(m, METRIC_DIST_RANK_TOKENS_PER_SECOND, name, v[r]);
    }
    free(v);
    return st;
}

static void append_groups(struct trainer *t, const cJSON *groups) {
    const cJSON *o;
    cJSON_ArrayForEach(o, groups) {
        if (jsonl_append(&t->samples, o) != STATUS_OK) log_warn("samples.jsonl: %s", err_msg());
    }
}

/* samples.jsonl: the step's first log_completions groups. In a data-parallel run each rank describes the logged
 * groups of its share and rank 0 writes them all, in group order, so the file is the one a single process writes. */
static enum status log_samples(struct trainer *t, struct grpo_stage *s) {
    cJSON *groups = cJSON_CreateArray();
    for (int p = 0; p < s->P && s->p0 + p < s->log_groups; p++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "step", (double)(t->step + 1));
        cJSON_AddNumberToObject(o, "group", s->p0 + p);
        cJSON_AddStringToObject(o, "task", task_kind_name(s->probs[p].kind));
        cJSON_AddStringToObject(o, "prompt", s->probs[p].prompt);
        cJSON_AddStringToObject(o, "answer", s->probs[p].answer);
        cJSON *arr = cJSON_AddArrayToObject(o, "completions");
        for (int g = 0; g < s->G; g++) {
            int i = p * s->G + g;
            const struct rollout_seq *q = &s->rollout.seqs[i];
            cJSON *c = cJSON_CreateObject();
            cJSON_AddStringToObject(c, "text", q->text ? q->text : "");
            cJSON_AddNumberToObject(c, "reward", s->rewards[i]);
            cJSON *rw = cJSON_AddObjectToObject(c, "rewards");
            for (size_t k = 0; k < s->spec.n; k++)
                cJSON_AddNumberToObject(rw, reward_kind_name(s->spec.terms[k].kind), s->scores[i].value[k]);
            cJSON_AddNumberToObject(c, "advantage", s->adv[i]);
            cJSON_AddNumberToObject(c, "length", q->n);
            cJSON_AddBoolToObject(c, "clipped", q->finish == FINISH_LENGTH);
            cJSON_AddBoolToObject(c, "correct", s->scores[i].correct);
            cJSON_AddItemToArray(arr, c);
        }
        cJSON_AddItemToArray(groups, o);
    }
    char **texts = NULL;
    enum status st = STATUS_OK;
    if (t->dist->size > 1) {
        char *mine = cJSON_PrintUnformatted(groups);
        st = mine ? dist_gather_text(t->dist, mine, &texts, "the logged completions")
                  : err_set(STATUS_NOMEM, "cannot format the logged completions");
        cJSON_free(mine);
    }
    if (st == STATUS_OK && trainer_writes(t)) {
        append_groups(t, groups); /* rank 0's own, then the other ranks' in rank order */
        for (int r = 1; texts && r < t->dist->size; r++) {
            cJSON *part = cJSON_Parse(texts[r]);
            append_groups(t, part);
            cJSON_Delete(part);
        }
    }
    if (texts)
        for (int r = 0; r < t->dist->size; r++) free(texts[r]);
    free(texts);
    cJSON_Delete(groups);
    return st;
}

/* The reward metrics over every rank's completions: sums first (one collective), then each reward function's
 * spread around its mean over all ranks (a second), so the numbers are the ones one process computes. */
static enum status add_reward_metrics(struct trainer *t, struct grpo_stage *s, cJSON *m, int zero_std) {
    enum { R_REWARD, R_GROUP_STD, R_ZERO_STD, R_LEN, R_CLIPPED, R_REFL, R_CORRECT, R_FMT, R_TALLY,
           R_FUNC = R_TALLY + REWARD_TALLY_FIELDS };
    double v[R_FUNC + REWARD_MAX_TERMS] = {0};
    int nk = (int)s->spec.n;
    for (int i = 0; i < s->B; i++) v[R_REWARD] += s->rewards[i];
    for (int p = 0; p < s->P; p++) {
        double mean;
        v[R_GROUP_STD] += grpo_group_std(s->rewards + (size_t)p * s->G, s->G, &mean);
    }
    v[R_ZERO_STD] = zero_std;
    for (int k = 0; k < nk; k++)
        for (int i = 0; i < s->B; i++) v[R_FUNC + k] += s->scores[i].value[k];
    double lo = INT_MAX, hi = 0;
    struct reward_tally tally = {0};
    for (int i = 0; i < s->B; i++) {
        reward_tally_add(&tally, &s->scores[i]);
        int n = s->rollout.seqs[i].n;
        v[R_LEN] += n;
        lo = n < lo ? n : lo;
        hi = n > hi ? n : hi;
        v[R_CLIPPED] += s->rollout.seqs[i].finish == FINISH_LENGTH;
        v[R_REFL] += s->scores[i].reflection;
        v[R_CORRECT] += s->scores[i].correct;
        v[R_FMT] += s->scores[i].format_ok;
    }
    reward_tally_pack(&tally, v + R_TALLY);
    TRY(dist_sum(t->dist, v, R_FUNC + nk, "the reward sums"));
    double extremes[2] = {-lo, hi}; /* one maximum gives both */
    TRY(dist_max(t->dist, extremes, 2, "the shortest and longest completions"));
    lo = -extremes[0];
    hi = extremes[1];
    double B = s->B_all, mean[REWARD_MAX_TERMS], var[REWARD_MAX_TERMS] = {0};
    for (int k = 0; k < nk; k++) {
        mean[k] = v[R_FUNC + k] / B;
        for (int i = 0; i < s->B; i++) var[k] += pow(s->scores[i].value[k] - mean[k], 2);
    }
    TRY(dist_sum(t->dist, var, nk, "the reward spreads"));

    metric_put(m, METRIC_REWARD, v[R_REWARD] / B);
    metric_put(m, METRIC_REWARD_STD, v[R_GROUP_STD] / s->P_all);
    for (int k = 0; k < nk; k++) {
        const char *name = reward_kind_name(s->spec.terms[k].kind);
        metric_put_named(m, METRIC_REWARD_FUNC_MEAN, name, mean[k]);
        metric_put_named(m, METRIC_REWARD_FUNC_STD, name, B > 1 ? sqrt(var[k] / (B - 1)) : 0.0);
    }
    metric_put(m, METRIC_FRAC_REWARD_ZERO_STD, v[R_ZERO_STD] / s->P_all);
    metric_put(m, METRIC_COMPLETIONS_MEAN_LENGTH, v[R_LEN] / B);
    metric_put(m, METRIC_COMPLETIONS_MIN_LENGTH, lo);
    metric_put(m, METRIC_COMPLETIONS_MAX_LENGTH, hi);
    metric_put(m, METRIC_COMPLETIONS_CLIPPED_RATIO, v[R_CLIPPED] / B);
    metric_put(m, METRIC_REFLECTION_RATE_WORDS, v[R_REFL] / B);
    metric_put(m, METRIC_ACCURACY, v[R_CORRECT] / B);
    metric_put(m, METRIC_FORMAT_RATE, v[R_FMT] / B);
    tally = reward_tally_unpack(v + R_TALLY);
    reward_tally_to_json(&tally, m, REWARD_TALLY_STEP);
    return STATUS_OK;
}

static enum status grpo_step(struct trainer *t, cJSON *m) {
    struct grpo_stage *s = t->stage;
    double t0 = mono();
    TRY(draw_prompts(t, s));
    for (int p = 0; p < s->P; p++) {
        s->prompt_ptrs[p] = s->prompt_ids[p].ids;
        s->prompt_lens[p] = (int)s->prompt_ids[p].n;
    }
    struct rollout_options ro = s->ro;
    ro.seed = rng_next(&t->rng); /* every rank draws the same seed: their RNGs never differ */
    ro.first_stream = (uint64_t)s->p0 * (uint64_t)s->G;
    struct rollout_stats rs;
    TRY(rollout_run(&s->rollout, s->prompt_ptrs, s->prompt_lens, s->P, s->G, &ro, NULL, aborted, t, &rs));
    double t1 = mono();

    /* Rewards and advantages. */
    for (int i = 0; i < s->B; i++) {
        const struct rollout_seq *q = &s->rollout.seqs[i];
        reward_score(&s->spec, &s->probs[i / s->G], q->text, q->text_len, q->n, s->max_completion, &s->scores[i]);
        s->rewards[i] = (float)s->scores[i].total;
    }
    int zero_std;
    TRY(grpo_advantages(s->rewards, s->P, s->G, s->scale_std, s->adv, &zero_std));
    double masked = 0;
    int n_train = 0;
    s->tok_start[0] = 0;
    for (int i = 0; i < s->B; i++) {
        const struct rollout_seq *q = &s->rollout.seqs[i];
        s->tok_start[i + 1] = s->tok_start[i] + q->n;
        float mk = (s->mask_truncated && q->finish == FINISH_LENGTH) ? 0.0f : 1.0f;
        for (int j = s->tok_start[i]; j < s->tok_start[i + 1]; j++) s->mask[j] = mk;
        masked += mk * q->n;
        /* Without a KL term a zero advantage means a zero gradient: skip the sequence. */
        if (mk > 0 && (s->adv[i] != 0.0f || s->loss.beta > 0)) s->train_seqs[n_train++] = i;
    }
    /* The loss is normalised by the step's totals over every rank. */
    char what[96];
    snprintf(what, sizeof what, "the token counts of step %lld", (long long)t->step + 1);
    double counts[2] = {masked, n_train};
    TRY(dist_sum(t->dist, counts, 2, what));
    double masked_all = counts[0];
    int n_train_all = (int)counts[1];
    if (s->has_ref && n_train > 0) TRY(score_pass(s, &s->ref, s->train_seqs, n_train, s->ref_logp));
    if (s->mu > 1 && n_train > 0) TRY(score_pass(s, &t->model, s->train_seqs, n_train, s->old_logp));
    double t2 = mono();

    /* Optimisation passes. */
    struct grpo_loss_stats ls = {0};
    double ent_sum = 0, ent_tokens = 0, grad_norm = 0, lr = 0, train_tokens = 0, last_loss = NAN;
    int updates = 0;
    for (int it = 0; it < s->mu && n_train_all > 0; it++) {
        struct grpo_loss_stats it_stats = {0};
        for (int k0 = 0; k0 < n_train; k0 += s->micro_bs) {
            if (updates == 0 && trainer_interrupted(t)) { /* nothing changed yet: the step can be dropped */
                model_zero_grads(&t->model);
                return STATUS_ABORTED;
            }
            int nk = n_train - k0 < s->micro_bs ? n_train - k0 : s->micro_bs;
            const int *seqs = s->train_seqs + k0;
            TRY(pack(s, seqs, nk));
            struct batch b = batch_builder_view(&s->bb);
            TRY(model_forward(&t->model, &b, s->row_logp, it == 0 ? s->row_ent : NULL));
            gather(s, seqs, nk, s->row_logp, s->logp);
            if (it == 0) {
                gather(s, seqs, nk, s->row_ent, s->ent);
                for (int k = 0; k < nk; k++)
                    for (int j = s->tok_start[seqs[k]]; j < s->tok_start[seqs[k] + 1]; j++) {
                        ent_sum += s->ent[j] * s->mask[j];
                        ent_tokens += s->mask[j];
                    }
            }
            if (s->mu == 1) gather(s, seqs, nk, s->row_logp, s->old_logp); /* pi_old = pi_theta, detached */
            /* The loss input covers this micro-batch's sequences; their token ranges are contiguous only in the
             * full arrays, so go one sequence at a time. */
            for (int k = 0; k < nk; k++) {
                int i = seqs[k], ts[2] = {0, s->tok_start[i + 1] - s->tok_start[i]};
                int off = s->tok_start[i];
                struct grpo_loss_input in = {
                    .n_seqs = 1, .tok_start = ts, .logp = s->logp + off, .old_logp = s->old_logp + off,
                    .ref_logp = s->has_ref ? s->ref_logp + off : NULL, .mask = s->mask + off, .adv = &s->adv[i],
                    .batch_seqs = s->B_all, .batch_tokens = masked_all,
                };
                grpo_loss(&s->loss, &in, s->dlogp + off, &it_stats);
            }
            scatter(s, seqs, nk, s->dlogp, s->row_dlogp);
            TRY(model_backward(&t->model, &b, s->row_dlogp));
            train_tokens += b.N;
        }
        snprintf(what, sizeof what, "the gradient all-reduce of step %lld", (long long)t->step + 1);
        TRY(dist_sum_grads(t->dist, t->be, t->model.grads, t->model.n_params, what));
        struct optim_result r;
        TRY(optim_step(&t->opt, &r));
        grad_norm = r.grad_norm;
        lr = r.lr;
        updates++;
        if (it == 0) ls = it_stats;
        if (it == s->mu - 1 && s->mu > 1) last_loss = it_stats.loss;
    }
    if (n_train_all == 0) { /* every group had zero spread: nothing to learn from, but the step still counts */
        lr = optim_lr_at(&t->opt.cfg, t->opt.step);
        t->opt.step++;
    }
    double t3 = mono();

    /* Everything below is over every rank: sums of the loss statistics, the slowest rank's phase times. */
    enum { L_LOSS, L_TOKENS, L_KL, L_CLIP_LOW, L_CLIP_HIGH, L_LAST, L_ENT, L_ENT_TOKENS, L_TRAIN_TOKENS, L_NEW_TOKENS,
           L_ALL_TOKENS, L_COUNT };
    double l[L_COUNT] = {ls.loss, ls.tokens, ls.kl_sum, ls.clip_low, ls.clip_high, isnan(last_loss) ? 0 : last_loss,
                         ent_sum, ent_tokens, train_tokens, (double)rs.new_tokens,
                         (double)(rs.prompt_tokens + rs.new_tokens)};
    double times[3] = {t1 - t0, t2 - t1, t3 - t2};
    TRY(dist_sum(t->dist, l, L_COUNT, "the loss sums"));
    TRY(dist_max(t->dist, times, 3, "the phase times"));
    TRY(add_reward_metrics(t, s, m, zero_std));
    metric_put(m, METRIC_LOSS, l[L_LOSS]);
    if (!isnan(last_loss)) /* the last pass sees how far the updates moved the policy */
        metric_put(m, METRIC_LOSS_LAST_ITERATION, l[L_LAST]);
    metric_put(m, METRIC_GRAD_NORM, grad_norm);
    metric_put(m, METRIC_LEARNING_RATE, lr);
    if (l[L_ENT_TOKENS] > 0) metric_put(m, METRIC_ENTROPY, l[L_ENT] / l[L_ENT_TOKENS]);
    if (s->has_ref && l[L_TOKENS] > 0) metric_put(m, METRIC_KL, l[L_KL] / l[L_TOKENS]);
    double toks = l[L_TOKENS] > 0 ? l[L_TOKENS] : 1;
    metric_put(m, METRIC_CLIP_RATIO_LOW, l[L_CLIP_LOW] / toks);
    metric_put(m, METRIC_CLIP_RATIO_HIGH, l[L_CLIP_HIGH] / toks);
    metric_put(m, METRIC_CLIP_RATIO_REGION, (l[L_CLIP_LOW] + l[L_CLIP_HIGH]) / toks);
    metric_put(m, METRIC_TOKENS_PER_SECOND_ROLLOUT, l[L_NEW_TOKENS] / times[0]);
    if (times[2] > 0) metric_put(m, METRIC_TOKENS_PER_SECOND_TRAIN, l[L_TRAIN_TOKENS] / times[2]);
    metric_put(m, METRIC_TIME_ROLLOUT, times[0]);
    metric_put(m, METRIC_TIME_SCORE, times[1]);
    metric_put(m, METRIC_TIME_TRAIN, times[2]);
    metric_put(m, METRIC_NUM_TOKENS, l[L_ALL_TOKENS]);
    metric_put(m, METRIC_TRAINED_SEQUENCES, n_train_all);
    if (t->dist->size > 1) TRY(add_rank_throughput(t, (double)rs.new_tokens / (t1 - t0), m));
    return log_samples(t, s);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Evaluation and state                                                                                  */

static enum status grpo_evaluate(struct trainer *t, cJSON *m) {
    struct grpo_stage *s = t->stage;
    if (!s->has_eval) return STATUS_OK;
    struct eval_result r;
    double t0 = mono();
    TRY(evaluate_run(&s->rollout, t->tok, &s->eval, &s->eval_opt, NULL, t, aborted, &r));
    eval_result_to_json(&r, m, false);
    metric_put(m, METRIC_TIME_EVAL, mono() - t0);
    log_info("eval at step %lld: pass@1 %.3f  cons@%d %.3f  pass@%d %.3f  format %.3f  length %.1f",
             (long long)t->step, r.pass1, r.k, r.cons, r.k, r.passk, r.format, r.mean_length);
    return STATUS_OK;
}

static enum status grpo_save_state(struct trainer *t, cJSON *state) {
    struct grpo_stage *s = t->stage;
    cJSON *d = cJSON_AddObjectToObject(state, "data");
    cJSON_AddNumberToObject(d, "epoch", (double)s->train.epoch);
    cJSON_AddNumberToObject(d, "index", (double)s->train.index);
    cJSON_AddStringToObject(d, "source", s->train.name);
    return STATUS_OK;
}

static enum status grpo_load_state(struct trainer *t, const cJSON *state) {
    struct grpo_stage *s = t->stage;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(state, "data");
    int64_t epoch, index;
    TRY(json_get_int(d, "epoch", true, 0, 0, INT64_MAX / 2, &epoch, "trainer_state.json: data"));
    TRY(json_get_int(d, "index", true, 0, 0, INT64_MAX / 2, &index, "trainer_state.json: data"));
    return problem_source_seek(&s->train, epoch, index);
}

const struct stage_ops stage_grpo = {
    .name = "grpo",
    .check = grpo_check,
    .init = grpo_init,
    .step = grpo_step,
    .save_state = grpo_save_state,
    .load_state = grpo_load_state,
    .evaluate = grpo_evaluate,
    .free = grpo_free,
};
