/* rejection_run: the rejection_sample stage in its run directory (rejection.h). Opens the checkpoint, takes the
 * settings it does not set from what the checkpoint trained with (origin.h, as r1lab eval does), then samples
 * batch after batch through the rollout engine, judges every group, and keeps the output in memory until the end,
 * when the data set and the summary are written atomically. Each batch draws from its own sampling stream, so a
 * batch's samples depend only on the seed and the batch's position. */
#include "engine/rl/rejection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/model/rollout.h"
#include "engine/run/metric.h"
#include "engine/run/origin.h"
#include "engine/run/pipeline.h"
#include "engine/run/runctl.h"
#include "engine/run/session.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "engine/util/jsonl.h"
#include "engine/util/log.h"
#include "engine/util/rng.h"
#include "engine/util/strbuf.h"
#include "engine/world/corpus.h"
#include "engine/world/problems.h"

#define SALT_BATCH 0x72656a6563740000ULL /* "reject" */
#define DEFAULT_PROMPTS 256
#define EXTRA_MAX_BYTES ((size_t)1 << 30)

struct rrun {
    const struct rejection_config *c;
    const char *dir;
    atomic_int *interrupt;
    struct session s;
    struct origin org;
    struct problem_source src;
    struct rollout r;
    struct runctl ctl;
    bool ctl_open;
    struct jsonl metrics, samples;
    struct strbuf out; /* dataset.jsonl, built up in memory */
    cJSON *world;      /* the effective world settings, or NULL (owned) */
    enum template_kind tmpl;
    char tmpl_why[160];
    char dataset[PATH_MAX];
    int max_completion;
    int64_t n_prompts, batches, step;
    struct rejection_counts counts;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool interrupted(void *user) {
    const struct rrun *x = user;
    return x->interrupt && atomic_load(x->interrupt) != 0;
}

static enum status write_status(struct rrun *x, enum runctl_state state, const char *message) {
    if (!x->ctl_open) return STATUS_OK;
    struct runctl_status s = {.state = state, .step = x->step, .max_steps = x->batches};
    snprintf(s.stage, sizeof s.stage, "rejection");
    snprintf(s.device, sizeof s.device, "%s", x->s.be ? x->s.be->name : "");
    snprintf(s.message, sizeof s.message, "%s", message ? message : "");
    return runctl_write_status(&x->ctl, &s);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Set-up                                                                                                */

static bool is_problem_task(const char *task) {
    enum task_kind k;
    if (strcmp(task, "mix") == 0) return true;
    bool ok = task_kind_parse(task, &k) == STATUS_OK && k != TASK_DATASET;
    err_clear();
    return ok;
}

/* What the config leaves open, from the checkpoint: template, task, world, completion length. */
static enum status settle(struct rrun *x) {
    const struct rejection_config *c = x->c;
    TRY(session_open(&x->s, c->model, c->device, c->threads));
    TRY(origin_load(x->s.dir, &x->org));
    if (c->has_template) {
        x->tmpl = c->tmpl;
        snprintf(x->tmpl_why, sizeof x->tmpl_why, "set by the stage");
    } else {
        x->tmpl = origin_pick_template(&x->org, x->s.tok, x->tmpl_why, sizeof x->tmpl_why);
    }
    if (c->dataset) snprintf(x->dataset, sizeof x->dataset, "%s", c->dataset);
    else if (x->org.task[0] && is_problem_task(x->org.task)) snprintf(x->dataset, sizeof x->dataset, "world:%s", x->org.task);
    else snprintf(x->dataset, sizeof x->dataset, "world:mix");
    const cJSON *world = c->world ? c->world : x->org.world;
    if (world && !(x->world = cJSON_Duplicate(world, true))) return err_set(STATUS_NOMEM, "out of memory");
    x->max_completion = c->max_completion > 0 ? c->max_completion : x->org.max_completion > 0 ? x->org.max_completion : 256;
    TRY(problem_source_open(&x->src, x->dataset, x->world, (uint64_t)c->seed, TASK_SPLIT_TRAIN));
    x->n_prompts = c->prompts > 0 ? c->prompts : x->src.builtin ? DEFAULT_PROMPTS : (int64_t)problem_source_size(&x->src);
    if (!x->src.builtin && (size_t)x->n_prompts > problem_source_size(&x->src)) {
        log_info("%s has %zu problems; sampling all of them", x->dataset, problem_source_size(&x->src));
        x->n_prompts = (int64_t)problem_source_size(&x->src);
    }
    x->batches = (x->n_prompts + c->batch_prompts - 1) / c->batch_prompts;
    return rollout_init(&x->r, &x->s.model, x->s.tok, c->batch_prompts * c->samples_per_prompt,
                        c->max_prompt + x->max_completion);
}

/* The resolved configuration with what the checkpoint decided filled in: the stage's config.json. */
static enum status write_config(struct rrun *x) {
    cJSON *cfg = cJSON_Duplicate(x->c->root, true);
    if (!cfg) return err_set(STATUS_NOMEM, "out of memory");
    cJSON_ReplaceItemInObjectCaseSensitive(cfg, "dataset", cJSON_CreateString(x->dataset));
    cJSON_ReplaceItemInObjectCaseSensitive(cfg, "template", cJSON_CreateString(template_name(x->tmpl)));
    cJSON_ReplaceItemInObjectCaseSensitive(cfg, "max_completion_length", cJSON_CreateNumber(x->max_completion));
    cJSON_ReplaceItemInObjectCaseSensitive(cfg, "prompts", cJSON_CreateNumber((double)x->n_prompts));
    cJSON_ReplaceItemInObjectCaseSensitive(cfg, "world", x->world ? cJSON_Duplicate(x->world, true) : cJSON_CreateNull());
    char *text = cJSON_Print(cfg);
    cJSON_Delete(cfg);
    if (!text) return err_set(STATUS_NOMEM, "out of memory");
    char path[PATH_MAX];
    enum status st = fs_join(path, sizeof path, x->dir, "config.json");
    if (st == STATUS_OK) st = fs_write_atomic(path, text, strlen(text));
    cJSON_free(text);
    return st;
}

/* Removes what an earlier attempt left, opens the live files. */
static enum status open_dir(struct rrun *x) {
    static const char *const old[] = {"metrics.jsonl", "samples.jsonl", "summary.json", PIPELINE_DATASET_FILE};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
        TRY(fs_join(path, sizeof path, x->dir, old[i]));
        TRY(fs_remove_tree(path));
    }
    TRY(runctl_open(&x->ctl, x->dir));
    x->ctl_open = true;
    TRY(write_status(x, RUNCTL_STATE_STARTING, ""));
    TRY(fs_join(path, sizeof path, x->dir, "metrics.jsonl"));
    TRY(jsonl_open(&x->metrics, path));
    TRY(fs_join(path, sizeof path, x->dir, "samples.jsonl"));
    return jsonl_open(&x->samples, path);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Batches                                                                                               */

/* Requests between batches: pause waits (still polling, which keeps status.json fresh), stop ends the stage. */
static enum status poll_control(struct rrun *x) {
    bool paused = false;
    for (;;) {
        if (interrupted(x)) return err_set(STATUS_ABORTED, "rejection sampling interrupted at batch %lld",
                                           (long long)x->step);
        enum runctl_cmd cmd = runctl_poll(&x->ctl);
        if (cmd == RUNCTL_CMD_NONE) {
            if (!paused) return STATUS_OK;
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        runctl_ack(&x->ctl, cmd);
        switch (cmd) {
        case RUNCTL_CMD_PAUSE:
            paused = true;
            TRY(write_status(x, RUNCTL_STATE_PAUSED, ""));
            break;
        case RUNCTL_CMD_RESUME:
            paused = false;
            TRY(write_status(x, RUNCTL_STATE_RUNNING, ""));
            break;
        case RUNCTL_CMD_STOP:
            x->counts.stopped_by_request = true;
            return err_set(STATUS_ABORTED, "rejection sampling stopped by request at batch %lld", (long long)x->step);
        default:
            runctl_event(&x->ctl, LOG_WARN, "'%s' does nothing in a rejection_sample stage", runctl_cmd_name(cmd));
            break;
        }
    }
}

static void add_line(struct strbuf *sb, const char *prompt, const char *completion, const char *question,
                     const char *answer, const char *task) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "prompt", prompt);
    cJSON_AddStringToObject(o, "completion", completion);
    if (question) cJSON_AddStringToObject(o, "question", question);
    if (answer) cJSON_AddStringToObject(o, "answer", answer);
    if (task) cJSON_AddStringToObject(o, "task", task);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) {
        sb->oom = true;
        return;
    }
    strbuf_puts(sb, text);
    strbuf_putc(sb, '\n');
    cJSON_free(text);
}

struct rbatch {
    int P;
    struct problem *probs;       /* (batch_prompts) */
    char **rendered;             /* (batch_prompts) template-rendered prompts */
    struct token_buf *ids;       /* (batch_prompts) */
    const int32_t **ptrs;        /* (batch_prompts) */
    int *lens;                   /* (batch_prompts) */
    struct rejection_candidate *cand;  /* (batch_prompts * G) */
    struct rejection_verdict *verdict; /* (batch_prompts * G) */
};

static void batch_free(struct rbatch *b, int cap) {
    for (int p = 0; p < cap; p++) {
        if (b->probs) task_problem_free(&b->probs[p]);
        if (b->rendered) free(b->rendered[p]);
        if (b->ids) token_buf_free(&b->ids[p]);
    }
    free(b->probs), free(b->rendered), free(b->ids), free(b->ptrs), free(b->lens), free(b->cand), free(b->verdict);
}

static enum status prepare_batch(struct rrun *x, struct rbatch *b, int64_t first) {
    const struct rejection_config *c = x->c;
    b->P = (int)(x->n_prompts - first < c->batch_prompts ? x->n_prompts - first : c->batch_prompts);
    for (int p = 0; p < b->P; p++) {
        task_problem_free(&b->probs[p]);
        free(b->rendered[p]);
        b->rendered[p] = NULL;
        TRY(problem_source_get(&x->src, (uint64_t)(first + p), &b->probs[p]));
        TRY(template_render_prompt(x->tmpl, b->probs[p].prompt, &b->rendered[p]));
        b->ids[p].n = 0;
        TRY(session_encode(&x->s, b->rendered[p], true, &b->ids[p]));
        if ((int)b->ids[p].n > c->max_prompt) {
            enum status st = err_set(STATUS_INVALID, "a prompt of %s has %zu tokens; max_prompt_length is %d", x->dataset,
                                     b->ids[p].n, c->max_prompt);
            err_hint("raise max_prompt_length");
            return st;
        }
        b->ptrs[p] = b->ids[p].ids;
        b->lens[p] = (int)b->ids[p].n;
    }
    return STATUS_OK;
}

static void log_groups(struct rrun *x, const struct rbatch *b) {
    int G = x->c->samples_per_prompt;
    for (int p = 0; p < b->P && p < x->c->log_completions; p++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "step", (double)(x->step + 1));
        cJSON_AddNumberToObject(o, "group", p);
        cJSON_AddStringToObject(o, "task", task_kind_name(b->probs[p].kind));
        cJSON_AddStringToObject(o, "prompt", b->probs[p].prompt);
        cJSON_AddStringToObject(o, "answer", b->probs[p].answer);
        cJSON *arr = cJSON_AddArrayToObject(o, "completions");
        for (int g = 0; g < G; g++) {
            const struct rollout_seq *q = &x->r.seqs[p * G + g];
            const struct rejection_verdict *v = &b->verdict[p * G + g];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "text", q->text ? q->text : "");
            cJSON_AddNumberToObject(e, "reward", v->reason == REJECTION_KEPT);
            cJSON *rw = cJSON_AddObjectToObject(e, "rewards");
            cJSON_AddNumberToObject(rw, "accuracy", v->accuracy);
            cJSON_AddNumberToObject(rw, "format", v->format);
            cJSON_AddNumberToObject(rw, "language", v->language);
            cJSON_AddNumberToObject(e, "length", q->n);
            cJSON_AddBoolToObject(e, "clipped", q->finish == FINISH_LENGTH);
            cJSON_AddBoolToObject(e, "correct", v->accuracy >= 1.0);
            cJSON_AddStringToObject(e, "verdict", rejection_reason_name(v->reason));
            cJSON_AddItemToArray(arr, e);
        }
        if (jsonl_append(&x->samples, o) != STATUS_OK) log_warn("samples.jsonl: %s", err_msg());
        cJSON_Delete(o);
    }
}

static enum status batch_metrics(struct rrun *x, const struct rbatch *b, double t0, const struct rollout_stats *rs) {
    int G = x->c->samples_per_prompt, S = b->P * G;
    double kept = 0, acc = 0, fmt = 0, lang = 0, len = 0, clipped = 0, refl = 0;
    int mn = 1 << 30, mx = 0;
    for (int i = 0; i < S; i++) {
        const struct rejection_verdict *v = &b->verdict[i];
        const struct rollout_seq *q = &x->r.seqs[i];
        kept += v->reason == REJECTION_KEPT;
        acc += v->accuracy;
        fmt += v->format;
        lang += v->language;
        len += q->n;
        mn = q->n < mn ? q->n : mn;
        mx = q->n > mx ? q->n : mx;
        clipped += q->finish == FINISH_LENGTH;
        refl += reward_has_reflection(q->text, q->text_len);
    }
    double t1 = now_s(), gen = rs->prefill_s + rs->decode_s;
    cJSON *m = cJSON_CreateObject();
    metric_put(m, METRIC_STEP, (double)(x->step + 1));
    metric_put(m, METRIC_TIME, t1);
    cJSON_AddStringToObject(m, metric_name(METRIC_STAGE), "rejection");
    metric_put(m, METRIC_REWARD, kept / S);
    metric_put_named(m, METRIC_REWARD_FUNC_MEAN, "accuracy", acc / S);
    metric_put_named(m, METRIC_REWARD_FUNC_MEAN, "format", fmt / S);
    metric_put_named(m, METRIC_REWARD_FUNC_MEAN, "language", lang / S);
    metric_put(m, METRIC_COMPLETIONS_MEAN_LENGTH, len / S);
    metric_put(m, METRIC_COMPLETIONS_MIN_LENGTH, mn);
    metric_put(m, METRIC_COMPLETIONS_MAX_LENGTH, mx);
    metric_put(m, METRIC_COMPLETIONS_CLIPPED_RATIO, clipped / S);
    metric_put(m, METRIC_REFLECTION_RATE_WORDS, refl / S);
    metric_put(m, METRIC_TOKENS_PER_SECOND_ROLLOUT, gen > 0 ? (double)rs->new_tokens / gen : 0.0);
    metric_put(m, METRIC_TIME_STEP, t1 - t0);
    metric_put(m, METRIC_TIME_ROLLOUT, gen);
    const struct rejection_counts *c = &x->counts;
    metric_put(m, METRIC_REJECTION_PROMPTS, (double)c->prompts);
    metric_put(m, METRIC_REJECTION_SAMPLES, (double)c->samples);
    metric_put(m, METRIC_REJECTION_KEPT, (double)c->kept);
    metric_put(m, METRIC_REJECTION_KEPT_RATE, c->samples ? (double)c->kept / (double)c->samples : 0.0);
    for (int r = REJECTION_TRUNCATED; r < REJECTION_REASON_COUNT; r++)
        metric_put_named(m, METRIC_REJECTION_DROPPED, rejection_reason_name((enum rejection_reason)r),
                         (double)c->dropped[r]);
    enum status st = jsonl_append(&x->metrics, m);
    cJSON_Delete(m);
    return st;
}

static enum status run_batch(struct rrun *x, struct rbatch *b) {
    const struct rejection_config *c = x->c;
    int G = c->samples_per_prompt;
    double t0 = now_s();
    TRY(prepare_batch(x, b, x->step * c->batch_prompts));
    struct rollout_options ro = {
        .sampling = {(float)c->temperature, (float)c->top_p, c->top_k},
        .max_new_tokens = x->max_completion,
        .seed = rng_mix64((uint64_t)c->seed ^ (SALT_BATCH + (uint64_t)x->step)),
    };
    for (int k = 0; k < REJECTION_MAX_STOP && c->stop[k]; k++) ro.stop[k] = c->stop[k];
    struct rollout_stats rs = {0};
    TRY(rollout_run(&x->r, b->ptrs, b->lens, b->P, G, &ro, NULL, interrupted, x, &rs));
    for (int p = 0; p < b->P; p++) {
        for (int g = 0; g < G; g++) {
            const struct rollout_seq *q = &x->r.seqs[p * G + g];
            b->cand[p * G + g] = (struct rejection_candidate){q->text ? q->text : "", q->text_len,
                                                              q->finish == FINISH_LENGTH};
        }
        const struct problem *pr = &b->probs[p];
        rejection_filter_group(&c->filter, pr, &b->cand[p * G], G, &b->verdict[p * G]);
        rejection_counts_add(&x->counts, &b->verdict[p * G], G);
        for (int g = 0; g < G; g++) {
            if (b->verdict[p * G + g].reason != REJECTION_KEPT) continue;
            if (!c->rewrite_r1) {
                add_line(&x->out, b->rendered[p], b->cand[p * G + g].text, pr->prompt, pr->answer,
                         task_kind_name(pr->kind));
                continue;
            }
            struct strbuf done = {0};
            char *prompt = NULL;
            enum status st = rejection_rewrite_r1(pr, b->cand[p * G + g].text, b->cand[p * G + g].len, &done);
            if (st == STATUS_OK) st = template_render_prompt(TEMPLATE_R1, pr->prompt, &prompt);
            if (st == STATUS_OK) add_line(&x->out, prompt, done.data, pr->prompt, pr->answer, task_kind_name(pr->kind));
            free(prompt);
            strbuf_free(&done);
            TRY(st);
        }
    }
    TRY(strbuf_status(&x->out));
    TRY(batch_metrics(x, b, t0, &rs));
    log_groups(x, b);
    x->step++;
    return write_status(x, RUNCTL_STATE_RUNNING, "");
}

/* ---------------------------------------------------------------------------------------------------- */
/* Extra sources                                                                                         */

static enum status extra_file(struct rrun *x, const struct rejection_extra *e, int64_t *added) {
    char *text;
    size_t len;
    TRY(fs_read_file(e->path, EXTRA_MAX_BYTES, &text, &len));
    enum status st = STATUS_OK;
    size_t lineno = 0;
    for (char *line = text; st == STATUS_OK && line < text + len && (e->n == 0 || *added < e->n);) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
        lineno++;
        size_t k = 0;
        while (k < n && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) k++;
        if (k < n) {
            char where[PATH_MAX + 32];
            snprintf(where, sizeof where, "%s:%zu", e->path, lineno);
            cJSON *rec = NULL;
            st = json_parse_text(line, n, where, &rec);
            const char *prompt = NULL, *completion = NULL, *q = NULL, *a = NULL, *t = NULL;
            if (st == STATUS_OK && !cJSON_IsObject(rec)) st = err_set(STATUS_FORMAT, "%s: expected a JSON object", where);
            if (st == STATUS_OK) st = json_get_string(rec, "prompt", true, NULL, &prompt, where);
            if (st == STATUS_OK) st = json_get_string(rec, "completion", true, NULL, &completion, where);
            if (st == STATUS_OK) {
                /* question, answer and task come along when they are strings */
                const cJSON *v;
                if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(rec, "question"))) q = v->valuestring;
                if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(rec, "answer"))) a = v->valuestring;
                if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(rec, "task"))) t = v->valuestring;
                add_line(&x->out, prompt, completion, q, a, t);
                (*added)++;
            }
            cJSON_Delete(rec);
        }
        line = nl ? nl + 1 : text + len;
    }
    free(text);
    if (st == STATUS_OK && *added == 0) st = err_set(STATUS_FORMAT, "%s: no prompt/completion records", e->path);
    return st;
}

static enum status extra_world(struct rrun *x, const struct rejection_extra *e, int64_t *added) {
    struct corpus_config cc;
    corpus_config_default(&cc);
    if (x->world) TRY(corpus_config_set(&cc, x->world, "\"world\""));
    cc.seed = (uint64_t)(e->seed >= 0 ? e->seed : x->c->seed);
    enum corpus_kind kind;
    TRY(corpus_kind_parse(e->world, &kind));
    enum status st = STATUS_OK;
    for (int64_t i = 0; i < e->n && st == STATUS_OK; i++) {
        struct corpus_doc d = {0};
        st = corpus_doc(&cc, kind, (uint64_t)i, &d);
        if (st == STATUS_OK && (!d.prompt || !d.completion)) {
            st = err_set(STATUS_INVALID, "document %lld of the world corpus \"%s\" is plain text, not a "
                                         "prompt/completion pair",
                         (long long)i, e->world);
            err_hint("use a corpus kind of prompt/completion pairs, such as coldstart");
        }
        if (st == STATUS_OK) {
            add_line(&x->out, d.prompt, d.completion, d.question, d.answer, task_kind_name(d.task));
            (*added)++;
        }
        corpus_doc_free(&d);
    }
    return st;
}

static enum status add_extras(struct rrun *x, cJSON *summary) {
    cJSON *arr = cJSON_AddArrayToObject(summary, "extra");
    for (int i = 0; i < x->c->n_extra; i++) {
        const struct rejection_extra *e = &x->c->extra[i];
        int64_t added = 0;
        enum status st = e->path[0] ? extra_file(x, e, &added) : extra_world(x, e, &added);
        if (st != STATUS_OK) {
            err_prefix("%s: extra[%d]: ", x->c->source, i);
            return st;
        }
        TRY(strbuf_status(&x->out));
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, e->path[0] ? "dataset" : "world", e->path[0] ? e->path : e->world);
        cJSON_AddNumberToObject(o, "records", (double)added);
        cJSON_AddItemToArray(arr, o);
        x->counts.extra_records += added;
        log_info("extra[%d]: %lld records from %s", i, (long long)added, e->path[0] ? e->path : e->world);
    }
    return STATUS_OK;
}

/* ---------------------------------------------------------------------------------------------------- */
/* The stage                                                                                             */

static enum status write_outputs(struct rrun *x) {
    cJSON *sum = cJSON_CreateObject();
    cJSON_AddStringToObject(sum, "model", x->c->model);
    cJSON_AddStringToObject(sum, "dataset", x->dataset);
    cJSON_AddStringToObject(sum, "template", template_name(x->tmpl));
    cJSON_AddStringToObject(sum, "rewrite", x->c->rewrite_r1 ? "r1" : "none");
    cJSON_AddNumberToObject(sum, "samples_per_prompt", x->c->samples_per_prompt);
    enum status st = add_extras(x, sum);
    x->counts.records = x->counts.kept + x->counts.extra_records;
    rejection_counts_to_json(&x->counts, sum);
    double samples = (double)x->counts.samples;
    cJSON_AddNumberToObject(sum, "accuracy", samples > 0 ? (samples - (double)x->counts.failed[REJECTION_WRONG]) / samples : 0);
    cJSON_AddNumberToObject(sum, "kept_rate", samples > 0 ? (double)x->counts.kept / samples : 0);
    cJSON_AddStringToObject(sum, "output", PIPELINE_DATASET_FILE);
    char path[PATH_MAX];
    if (st == STATUS_OK) st = fs_join(path, sizeof path, x->dir, PIPELINE_DATASET_FILE);
    if (st == STATUS_OK) st = fs_write_atomic(path, x->out.data ? x->out.data : "", x->out.len);
    char *text = st == STATUS_OK ? cJSON_Print(sum) : NULL;
    if (st == STATUS_OK && !text) st = err_set(STATUS_NOMEM, "out of memory");
    if (st == STATUS_OK) st = fs_join(path, sizeof path, x->dir, "summary.json");
    if (st == STATUS_OK) st = fs_write_atomic(path, text, strlen(text));
    cJSON_free(text);
    cJSON_Delete(sum);
    return st;
}

static enum status run_all(struct rrun *x) {
    const struct rejection_config *c = x->c;
    TRY(open_dir(x)); /* first, so that a failure to open the checkpoint shows in status.json */
    TRY(settle(x));
    TRY(write_config(x));
    log_info("rejection sampling: %lld problems of %s x %d samples from %s (template %s: %s)", (long long)x->n_prompts,
             x->dataset, c->samples_per_prompt, x->s.dir, template_name(x->tmpl), x->tmpl_why);
    TRY(write_status(x, RUNCTL_STATE_RUNNING, ""));
    struct rbatch b = {0};
    int cap = c->batch_prompts, S = cap * c->samples_per_prompt;
    b.probs = calloc((size_t)cap, sizeof *b.probs);
    b.rendered = calloc((size_t)cap, sizeof *b.rendered);
    b.ids = calloc((size_t)cap, sizeof *b.ids);
    b.ptrs = calloc((size_t)cap, sizeof *b.ptrs);
    b.lens = calloc((size_t)cap, sizeof *b.lens);
    b.cand = calloc((size_t)S, sizeof *b.cand);
    b.verdict = calloc((size_t)S, sizeof *b.verdict);
    enum status st = b.probs && b.rendered && b.ids && b.ptrs && b.lens && b.cand && b.verdict
                         ? STATUS_OK
                         : err_set(STATUS_NOMEM, "cannot allocate rejection sampling buffers");
    while (st == STATUS_OK && x->step < x->batches) {
        st = poll_control(x);
        if (st == STATUS_OK) st = run_batch(x, &b);
    }
    batch_free(&b, cap);
    if (st == STATUS_OK) st = write_outputs(x);
    return st;
}

enum status rejection_run(const struct rejection_config *c, const char *dir, atomic_int *interrupt,
                          struct rejection_counts *out) {
    struct rrun *x = calloc(1, sizeof *x);
    if (!x) return err_set(STATUS_NOMEM, "out of memory");
    x->c = c;
    x->dir = dir;
    x->interrupt = interrupt;
    enum status st = run_all(x);
    /* What follows (status, events, closing) must not lose run_all's message. */
    char msg[256], err[2048], hint[1024];
    snprintf(msg, sizeof msg, "%s", st == STATUS_OK ? "" : err_msg());
    snprintf(err, sizeof err, "%s", err_msg());
    snprintf(hint, sizeof hint, "%s", err_hint_text());
    if (st == STATUS_OK) {
        write_status(x, RUNCTL_STATE_FINISHED, "");
        runctl_event(&x->ctl, LOG_INFO, "kept %lld of %lld samples (%lld of %lld problems) and %lld extra records",
                     (long long)x->counts.kept, (long long)x->counts.samples, (long long)x->counts.prompts_with_kept,
                     (long long)x->counts.prompts, (long long)x->counts.extra_records);
    } else if (st == STATUS_ABORTED) {
        write_status(x, RUNCTL_STATE_STOPPED, x->counts.stopped_by_request ? "stopped by request" : "interrupted");
        if (x->ctl_open) runctl_event(&x->ctl, LOG_WARN, "%s", msg);
    } else {
        write_status(x, RUNCTL_STATE_FAILED, msg);
        if (x->ctl_open) runctl_event(&x->ctl, LOG_ERROR, "failed: %s", msg);
    }
    if (out) *out = x->counts;
    rollout_free(&x->r);
    problem_source_free(&x->src);
    origin_free(&x->org);
    session_close(&x->s);
    jsonl_close(&x->metrics);
    jsonl_close(&x->samples);
    if (x->ctl_open) runctl_close(&x->ctl);
    strbuf_free(&x->out);
    cJSON_Delete(x->world);
    free(x);
    if (st != STATUS_OK) {
        err_set(st, "%s", err);
        if (hint[0]) err_hint("%s", hint);
    }
    return st;
}
