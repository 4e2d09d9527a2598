/* trainer: run directory, model set-up, resume, the step loop with control requests, and checkpoints. */
#include "engine/run/trainer.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/run/checkpoint.h"
#include "engine/run/metric.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "engine/util/log.h"
#include "engine/util/procmem.h"

static double wall_time(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool interrupt_set(const struct trainer *t) { return t->interrupt && atomic_load(t->interrupt) != 0; }

static bool multi(const struct trainer *t) { return t->dist->size > 1; }

bool trainer_interrupted(const struct trainer *t) { return multi(t) ? t->group_stop : interrupt_set(t); }

bool trainer_writes(const struct trainer *t) { return t->dist->rank == 0; }

/* Every rank's outcome of a set-up phase, so that no rank goes on to wait for one that failed: a rank that failed
 * returns its own error, the others one naming it. */
static enum status agreed(struct trainer *t, enum status st, const char *what) {
    if (!multi(t)) return st;
    enum status ag = dist_agree(t->dist, st == STATUS_OK, what);
    return st != STATUS_OK ? st : ag;
}

static enum status write_status(struct trainer *t, enum runctl_state state, const char *message) {
    if (!t->ctl_open) return STATUS_OK;
    struct runctl_status s = {.state = state, .step = t->step, .max_steps = t->max_steps, .started = t->started};
    snprintf(s.stage, sizeof s.stage, "%s", config_stage_name(t->cfg->stage));
    if (multi(t)) /* the dashboard's header shows the group with the device */
        snprintf(s.device, sizeof s.device, "%s x %d ranks", t->be ? t->be->name : "", t->dist->size);
    else
        snprintf(s.device, sizeof s.device, "%s", t->be ? t->be->name : "");
    snprintf(s.message, sizeof s.message, "%s", message ? message : "");
    return runctl_write_status(&t->ctl, &s);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Model and tokenizer                                                                                   */

static enum status open_model(struct trainer *t, const char *ckpt_dir) {
    const struct config *c = t->cfg;
    const char *tok_path = c->v.run.tokenizer;
    if (ckpt_dir) {
        TRY(model_load(&t->model, ckpt_dir, t->be));
        snprintf(t->tokenizer_src, sizeof t->tokenizer_src, "%s", tok_path ? tok_path : ckpt_dir);
    } else {
        const cJSON *init = c->v.run.model_init;
        if (!init) {
            enum status st = err_set(STATUS_INVALID, "%s: neither \"model_name_or_path\" nor \"model_init\" is set",
                                     c->source);
            err_hint("start from a checkpoint (model_name_or_path) or describe a new model (model_init)");
            return st;
        }
        if (!tok_path) return err_set(STATUS_INVALID, "%s: a model_init model needs \"tokenizer\"", c->source);
        struct model_config mc;
        char where[4200];
        snprintf(where, sizeof where, "%s: model_init", c->source);
        TRY(model_config_from_json(&mc, init, where));
        TRY(model_init(&t->model, &mc, t->be));
        TRY(model_init_random(&t->model, (uint64_t)c->v.run.seed, (float)c->v.run.init_std));
        snprintf(t->tokenizer_src, sizeof t->tokenizer_src, "%s", tok_path);
    }
    TRY(tokenizer_load(&t->tok, t->tokenizer_src));
    if (tokenizer_vocab_size(t->tok) > (size_t)t->model.cfg.vocab_size)
        return err_set(STATUS_INVALID, "the tokenizer (%s) has %zu tokens but the model's vocab_size is %d",
                       t->tokenizer_src, tokenizer_vocab_size(t->tok), t->model.cfg.vocab_size);
    return STATUS_OK;
}

static enum status open_optimizer(struct trainer *t) {
    const struct config *c = t->cfg;
    /* The schedule counts optimiser updates; the stage says how many a step makes. */
    int64_t per_step = t->plan.updates_per_step;
    const struct config_optim *o = &c->v.optim;
    struct optim_config oc = {
        .learning_rate = (float)o->learning_rate,
        .beta1 = (float)o->adam_beta1,
        .beta2 = (float)o->adam_beta2,
        .eps = (float)o->adam_epsilon,
        .weight_decay = (float)o->weight_decay,
        .max_grad_norm = (float)o->max_grad_norm,
        .total_steps = t->max_steps * per_step,
        .warmup_steps = o->warmup_steps * per_step,
    };
    if (oc.warmup_steps == 0) oc.warmup_steps = (int64_t)ceil(o->warmup_ratio * (double)t->max_steps) * per_step;
    TRY(lr_schedule_parse(o->lr_scheduler_type, &oc.schedule));
    return optim_init(&t->opt, &t->model, &oc);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Run directory and resume                                                                              */

static enum status resolve_resume(struct trainer *t, char *ckpt, size_t cap, bool *resume) {
    const cJSON *r = t->cfg->v.run.resume_from_checkpoint;
    *resume = false;
    if (!r || cJSON_IsFalse(r)) return STATUS_OK;
    if (cJSON_IsTrue(r)) {
        int64_t step;
        TRY(checkpoint_find_latest(t->run_dir, ckpt, cap, &step));
        if (step < 0) {
            enum status st = err_set(STATUS_INVALID, "%s: resume_from_checkpoint=true but the run has no checkpoint",
                                     t->run_dir);
            err_hint("start without resume_from_checkpoint, or name a checkpoint");
            return st;
        }
    } else if (cJSON_IsString(r)) {
        TRY(checkpoint_resolve(r->valuestring, ckpt, cap));
    } else {
        return err_set(STATUS_INVALID, "%s: resume_from_checkpoint must be true, false or a checkpoint path",
                       t->cfg->source);
    }
    *resume = true;
    return STATUS_OK;
}

static bool run_has_history(const char *run_dir) {
    char p[PATH_MAX];
    if (fs_join(p, sizeof p, run_dir, "metrics.jsonl") == STATUS_OK && fs_exists(p)) return true;
    return fs_join(p, sizeof p, run_dir, "checkpoints") == STATUS_OK && fs_exists(p);
}

static enum status prepare_run_dir(struct trainer *t, bool resume) {
    if (!resume && run_has_history(t->run_dir)) {
        if (!t->cfg->v.run.overwrite_output_dir) {
            enum status st = err_set(STATUS_INVALID, "%s already holds a run", t->run_dir);
            err_hint("continue it with resume_from_checkpoint=true, start over with overwrite_output_dir=true, "
                     "or choose another output_dir=");
            return st;
        }
        static const char *const files[] = {"metrics.jsonl", "samples.jsonl", "events.jsonl", "status.json",
                                            "control.jsonl", "latest", "checkpoints"};
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            char p[PATH_MAX];
            TRY(fs_join(p, sizeof p, t->run_dir, files[i]));
            TRY(fs_remove_tree(p));
        }
    }
    TRY(fs_mkdir_p(t->run_dir));
    char p[PATH_MAX];
    TRY(fs_join(p, sizeof p, t->run_dir, "config.json"));
    char *text = cJSON_Print(t->cfg->root);
    enum status st = text ? fs_write_atomic(p, text, strlen(text)) : err_set(STATUS_NOMEM, "cannot format config");
    cJSON_free(text);
    return st;
}

static enum status load_trainer_state(struct trainer *t, const char *ckpt) {
    cJSON *state;
    TRY(checkpoint_load_state(ckpt, &state));
    char where[PATH_MAX + 32];
    snprintf(where, sizeof where, "%s/trainer_state.json", ckpt);
    int64_t step;
    const char *rng_text, *stage;
    enum status st = json_get_int(state, "step", true, 0, 0, INT64_MAX / 2, &step, where);
    if (st == STATUS_OK) st = json_get_string(state, "rng", true, NULL, &rng_text, where);
    if (st == STATUS_OK) st = rng_state_parse(&t->rng, rng_text);
    if (st == STATUS_OK) st = json_get_string(state, "stage", true, NULL, &stage, where);
    if (st == STATUS_OK && strcmp(stage, config_stage_name(t->cfg->stage)) != 0)
        st = err_set(STATUS_INVALID, "%s: the checkpoint is from stage %s, the config is stage %s", where, stage,
                     config_stage_name(t->cfg->stage));
    if (st == STATUS_OK) st = t->ops->load_state(t, state);
    if (st == STATUS_OK) t->step = step;
    cJSON_Delete(state);
    return st;
}

/* The backend. In a data-parallel run each rank takes its own GPU: "cuda" and "auto" mean the rank's place among
 * the ranks of its machine (cuda:N names one device for every rank, which is what it says). */
static enum status open_device(struct trainer *t) {
    const char *dev = t->cfg->v.run.device;
    int threads = (int)t->cfg->v.run.threads, local = t->dist->local_rank;
    if (!multi(t) || local == 0 || !dev || (strcmp(dev, "cuda") != 0 && strcmp(dev, "auto") != 0))
        return backend_open(&t->be, dev, threads);
    if (strcmp(dev, "auto") == 0) {
        TRY(backend_open(&t->be, dev, threads));
        if (t->be->kind != BACKEND_CUDA) return STATUS_OK;
        backend_close(t->be);
        t->be = NULL;
    }
    char mine[32];
    snprintf(mine, sizeof mine, "cuda:%d", local);
    return backend_open(&t->be, mine, threads);
}

/* Rank 0's record files: metrics.jsonl and samples.jsonl, cut back to the checkpoint's step when resuming. */
static enum status open_records(struct trainer *t, bool resume, const char *ckpt) {
    char path[PATH_MAX];
    if (resume) {
        /* Drop records of steps after the checkpoint, so the files read as one uninterrupted run. */
        TRY(fs_join(path, sizeof path, t->run_dir, "metrics.jsonl"));
        TRY(jsonl_truncate_after_step(path, t->step));
        TRY(fs_join(path, sizeof path, t->run_dir, "samples.jsonl"));
        TRY(jsonl_truncate_after_step(path, t->step));
        log_info("resumed from %s at step %lld", ckpt, (long long)t->step);
    }
    TRY(fs_join(path, sizeof path, t->run_dir, "metrics.jsonl"));
    TRY(jsonl_open(&t->metrics, path));
    TRY(fs_join(path, sizeof path, t->run_dir, "samples.jsonl"));
    return jsonl_open(&t->samples, path);
}

/* Rank 0's part of opening: what a killed run left, the resume point, the run directory and the control channel. */
static enum status open_run_dir(struct trainer *t, char *ckpt, size_t cap, bool *resume) {
    /* What a killed run left half-written, before `latest` is read; a failure to tidy up does not stop training. */
    if (checkpoint_clean_stale(t->run_dir) != STATUS_OK) log_warn("%s", err_msg());
    TRY(resolve_resume(t, ckpt, cap, resume));
    TRY(prepare_run_dir(t, *resume));
    TRY(runctl_open(&t->ctl, t->run_dir));
    t->ctl_open = true;
    return write_status(t, RUNCTL_STATE_STARTING, "");
}

enum status trainer_open(struct trainer *t, const struct config *cfg, const struct stage_ops *ops, const char *name,
                         atomic_int *interrupt, struct dist *dist) {
    memset(t, 0, sizeof *t);
    t->cfg = cfg;
    t->interrupt = interrupt;
    t->max_steps = cfg->v.run.max_steps;
    t->ops = ops;
    t->solo = (struct dist){.size = 1, .timeout_s = 1};
    t->dist = dist ? dist : &t->solo;
    t->plan = (struct stage_plan){.updates_per_step = 1};
    TRY(ops->check(cfg, &t->plan));
    if (multi(t) && !t->plan.data_parallel) {
        enum status st = err_set(STATUS_UNSUPPORTED, "stage %s runs in one process; %d ranks were started",
                                 config_stage_name(cfg->stage), t->dist->size);
        err_hint("data-parallel runs (mpirun -np N) are for grpo configs; run this one as plain `r1lab train`");
        return st;
    }
    if (backend_check_name(cfg->v.run.device) != STATUS_OK) {
        err_prefix("%s: ", config_where(cfg, "device"));
        return STATUS_INVALID;
    }
    ASSERT(t->plan.updates_per_step >= 1);
    t->started = wall_time();
    t->last_saved = -1;
    const char *out = cfg->v.run.output_dir;
    if (out) snprintf(t->run_dir, sizeof t->run_dir, "%s", out);
    else snprintf(t->run_dir, sizeof t->run_dir, "runs/%s", name);
    char ckpt[PATH_MAX] = "";
    bool resume = false;
    /* Rank 0 prepares the run directory first; the others read the resume point once it has tidied up. */
    enum status st = trainer_writes(t) ? open_run_dir(t, ckpt, sizeof ckpt, &resume) : STATUS_OK;
    TRY(agreed(t, st, "opening the run directory"));
    st = trainer_writes(t) ? STATUS_OK : resolve_resume(t, ckpt, sizeof ckpt, &resume);
    TRY(agreed(t, st, "finding the checkpoint"));
    TRY(agreed(t, open_device(t), "opening the device"));
    TRY(dist_attach_backend(t->dist, t->be));
    const char *start = cfg->v.run.model_name_or_path;
    char start_dir[PATH_MAX];
    if (resume) {
        st = open_model(t, ckpt);
    } else if (start) {
        st = checkpoint_resolve(start, start_dir, sizeof start_dir);
        if (st == STATUS_OK) st = open_model(t, start_dir);
    } else {
        st = open_model(t, NULL);
    }
    if (st == STATUS_OK) st = open_optimizer(t);
    rng_seed_stream(&t->rng, (uint64_t)cfg->v.run.seed, 0x7472616eULL); /* "tran" */
    if (st == STATUS_OK) st = t->ops->init(t);
    if (st == STATUS_OK && resume) {
        st = checkpoint_load_optimizer(ckpt, &t->opt);
        if (st == STATUS_OK) st = load_trainer_state(t, ckpt);
        t->last_saved = t->step;
    }
    if (st == STATUS_OK && trainer_writes(t)) st = open_records(t, resume, ckpt);
    return agreed(t, st, "loading the model");
}

void trainer_close(struct trainer *t) {
    if (t->ops && t->ops->free && t->stage) t->ops->free(t);
    cJSON_Delete(t->boundary_state);
    jsonl_close(&t->metrics);
    jsonl_close(&t->samples);
    if (t->ctl_open) runctl_close(&t->ctl);
    optim_free(&t->opt);
    tokenizer_free(t->tok);
    model_free(&t->model);
    backend_close(t->be);
    memset(t, 0, sizeof *t);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Checkpoints                                                                                           */

static cJSON *state_snapshot(struct trainer *t) {
    cJSON *s = cJSON_CreateObject();
    char rng_text[RNG_STATE_STRLEN];
    rng_state_format(&t->rng, rng_text);
    cJSON_AddNumberToObject(s, "step", (double)t->step);
    cJSON_AddStringToObject(s, "stage", config_stage_name(t->cfg->stage));
    cJSON_AddStringToObject(s, "rng", rng_text);
    cJSON_AddStringToObject(s, "r1lab_version", R1LAB_VERSION);
    if (t->ops->save_state(t, s) != STATUS_OK) {
        cJSON_Delete(s);
        return NULL;
    }
    return s;
}

static void prune_checkpoints(struct trainer *t) {
    int64_t keep = t->cfg->v.run.save_total_limit;
    if (keep <= 0) return;
    char dir[PATH_MAX];
    if (fs_join(dir, sizeof dir, t->run_dir, "checkpoints") != STATUS_OK) return;
    DIR *d = opendir(dir);
    if (!d) return;
    int64_t steps[4096];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096) {
        long long s;
        char tail;
        if (sscanf(e->d_name, "step-%lld%c", &s, &tail) == 1) steps[n++] = s;
    }
    closedir(d);
    /* Remove the oldest beyond the limit (never the one just written). */
    while ((int64_t)n > keep) {
        size_t oldest = 0;
        for (size_t i = 1; i < n; i++)
            if (steps[i] < steps[oldest]) oldest = i;
        char p[PATH_MAX];
        if (checkpoint_step_dir(p, sizeof p, t->run_dir, steps[oldest]) == STATUS_OK && steps[oldest] != t->step)
            checkpoint_remove(p);
        steps[oldest] = steps[--n];
    }
}

static enum status save_with_state(struct trainer *t, const cJSON *state) {
    if (!trainer_writes(t)) { /* every rank holds the same state; rank 0 writes it */
        t->last_saved = t->step;
        return STATUS_OK;
    }
    char dir[PATH_MAX];
    TRY(checkpoint_step_dir(dir, sizeof dir, t->run_dir, t->step));
    const char *dtype = t->cfg->v.run.save_dtype;
    struct checkpoint_contents c = {
        .model = &t->model, .tokenizer_dir = t->tokenizer_src, .optim = &t->opt, .trainer_state = state,
        .training_config = t->cfg->root,
        .weights_dtype = dtype && strcmp(dtype, "bfloat16") == 0 ? ST_BF16 : ST_F32,
    };
    TRY(write_status(t, RUNCTL_STATE_SAVING, ""));
    enum status st = checkpoint_save(dir, &c);
    if (st != STATUS_OK) {
        /* A full disk is the usual cause; what matters to the user is that nothing they had is lost. */
        if (!err_hint_text()[0] && t->last_saved >= 0)
            err_hint("the last checkpoint, step %lld (%s/latest), is intact: make room (or fix the cause) and continue "
                     "with resume_from_checkpoint=true",
                     (long long)t->last_saved, t->run_dir);
        return st;
    }
    TRY(checkpoint_set_latest(t->run_dir, t->step));
    t->last_saved = t->step;
    /* Later checkpoints copy the tokenizer from this one: the checkpoint a run resumed from is pruned in time
     * (save_total_limit), the newest one never is. */
    snprintf(t->tokenizer_src, sizeof t->tokenizer_src, "%s", dir);
    prune_checkpoints(t);
    log_info("saved checkpoint %s", dir);
    return STATUS_OK;
}

enum status trainer_save(struct trainer *t) {
    cJSON *state = state_snapshot(t);
    if (!state) return STATUS_NOMEM;
    enum status st = save_with_state(t, state);
    cJSON_Delete(state);
    return st;
}

/* ---------------------------------------------------------------------------------------------------- */
/* The loop                                                                                              */

/* Runs the held-out evaluation. With `into` the eval/... metrics join that step's record; otherwise (the base
 * model before step 1, or an evaluation asked for between steps) they are appended as a record of their own
 * for the current step. */
static enum status run_eval(struct trainer *t, cJSON *into) {
    if (!t->ops->evaluate) return STATUS_OK;
    TRY(write_status(t, RUNCTL_STATE_EVALUATING, ""));
    cJSON *m = into;
    if (!m) {
        m = cJSON_CreateObject();
        metric_put(m, METRIC_STEP, (double)t->step);
        metric_put(m, METRIC_TIME, wall_time());
        cJSON_AddStringToObject(m, metric_name(METRIC_STAGE), config_stage_name(t->cfg->stage));
    }
    enum status st = t->ops->evaluate(t, m);
    if (st == STATUS_OK && !into && trainer_writes(t)) st = jsonl_append(&t->metrics, m);
    if (!into) cJSON_Delete(m);
    if (st == STATUS_OK) st = write_status(t, t->paused ? RUNCTL_STATE_PAUSED : RUNCTL_STATE_RUNNING, "");
    return st;
}

/* Applies pending control requests; with `wait`, waits while paused. Returns STATUS_ABORTED for a stop request
 * (*stop set) or an interrupt that arrives while paused (*stop left false). */
static enum status handle_control(struct trainer *t, bool wait, bool *eval_now, bool *stop) {
    enum runctl_cmd cmd;
    while ((cmd = runctl_poll(&t->ctl)) != RUNCTL_CMD_NONE || (wait && t->paused)) {
        if (cmd == RUNCTL_CMD_NONE) { /* paused: wait for the next request without spinning */
            if (trainer_interrupted(t)) return STATUS_ABORTED;
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        runctl_ack(&t->ctl, cmd);
        switch (cmd) {
        case RUNCTL_CMD_PAUSE:
            t->paused = true;
            TRY(write_status(t, RUNCTL_STATE_PAUSED, ""));
            break;
        case RUNCTL_CMD_RESUME:
            t->paused = false;
            TRY(write_status(t, RUNCTL_STATE_RUNNING, ""));
            break;
        case RUNCTL_CMD_SAVE:
            if (t->last_saved != t->step) TRY(trainer_save(t));
            TRY(write_status(t, t->paused ? RUNCTL_STATE_PAUSED : RUNCTL_STATE_RUNNING, ""));
            break;
        case RUNCTL_CMD_EVAL: *eval_now = true; break;
        case RUNCTL_CMD_STOP: *stop = true; return STATUS_ABORTED;
        default: break;
        }
        if (t->paused && *eval_now) break; /* evaluate even while paused */
    }
    return STATUS_OK;
}

/* A data-parallel run's step boundary. Rank 0 reads the control channel without waiting; then every rank learns, in
 * one collective, whether any rank was interrupted (mpirun passes Ctrl-C and SIGTERM to every rank, but they need
 * not see it at the same step) and what rank 0 decided. While paused the ranks meet here every 100 ms. */
static enum status group_boundary(struct trainer *t, bool *stop_requested) {
    char what[96];
    snprintf(what, sizeof what, "the boundary before step %lld", (long long)t->step + 1);
    for (;;) {
        bool eval_now = false, stop = false;
        enum status st = trainer_writes(t) ? handle_control(t, false, &eval_now, &stop) : STATUS_OK;
        if (st == STATUS_ABORTED) st = STATUS_OK; /* a stop request: *stop says so to everyone below */
        /* Only rank 0 reads the channel, so whether it failed travels with its decisions. */
        double flags[5] = {interrupt_set(t), stop, eval_now, t->paused, st != STATUS_OK};
        TRY(dist_max(t->dist, flags, 5, what));
        if (st != STATUS_OK) return st;
        if (flags[4] != 0)
            return err_set(STATUS_PEER, "rank %d: rank 0 failed while reading the control channel (its own message "
                           "says why)", t->dist->rank);
        t->paused = flags[3] != 0;
        if (flags[0] != 0 || flags[1] != 0) {
            t->group_stop = true;
            *stop_requested = flags[0] == 0;
            return STATUS_ABORTED;
        }
        if (flags[2] != 0) TRY(run_eval(t, NULL));
        if (!t->paused) return STATUS_OK;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

enum status trainer_run(struct trainer *t) {
    enum status st = write_status(t, RUNCTL_STATE_RUNNING, "");
    int64_t save_steps = t->cfg->v.run.save_steps, eval_steps = t->ops->evaluate ? t->plan.eval_steps : 0;
    bool stop_requested = false;
    if (st == STATUS_OK && t->step == 0 && eval_steps > 0) st = run_eval(t, NULL); /* the base model's score */
    while (st == STATUS_OK && t->step < t->max_steps) {
        if (multi(t)) {
            st = group_boundary(t, &stop_requested);
            if (st != STATUS_OK) break;
        } else {
            bool eval_now = false;
            st = handle_control(t, true, &eval_now, &stop_requested);
            if (st == STATUS_ABORTED) break;
            if (st == STATUS_OK && eval_now) st = run_eval(t, NULL);
            if (st != STATUS_OK) break;
            if (trainer_interrupted(t)) {
                st = STATUS_ABORTED;
                break;
            }
        }
        cJSON_Delete(t->boundary_state);
        t->boundary_state = state_snapshot(t);
        if (!t->boundary_state) {
            st = err_set(STATUS_NOMEM, "cannot snapshot the trainer state");
            break;
        }
        double t0 = wall_time();
        cJSON *m = cJSON_CreateObject();
        metric_put(m, METRIC_STEP, (double)(t->step + 1));
        metric_put(m, METRIC_TIME, t0);
        cJSON_AddStringToObject(m, metric_name(METRIC_STAGE), config_stage_name(t->cfg->stage));
        st = t->ops->step(t, m);
        if (st != STATUS_OK) {
            cJSON_Delete(m);
            break;
        }
        t->step++;
        /* The step completed: the live state is the state of the last completed step again. */
        cJSON_Delete(t->boundary_state);
        t->boundary_state = NULL;
        cJSON_ReplaceItemInObjectCaseSensitive(m, metric_name(METRIC_TIME), cJSON_CreateNumber(wall_time()));
        metric_put(m, METRIC_TIME_STEP, wall_time() - t0);
        metric_put(m, METRIC_SKIPPED_STEPS, (double)t->opt.skipped);
        if (multi(t)) metric_put(m, METRIC_DIST_WORLD_SIZE, t->dist->size);
        uint64_t rss;
        if (procmem_rss_bytes(&rss)) metric_put(m, METRIC_MEMORY_HOST, (double)rss);
        struct backend_memory mem;
        t->be->ops->memory(t->be, &mem);
        if (mem.valid) { /* absent on the CPU: the dashboard shows N/A */
            metric_put(m, METRIC_MEMORY_DEVICE, (double)mem.in_use);
            metric_put(m, METRIC_MEMORY_DEVICE_PEAK, (double)mem.peak);
            metric_put(m, METRIC_MEMORY_DEVICE_TOTAL, (double)mem.total);
        }
        if (eval_steps > 0 && (t->step % eval_steps == 0 || t->step == t->max_steps)) st = run_eval(t, m);
        if (st == STATUS_OK && trainer_writes(t)) st = jsonl_append(&t->metrics, m);
        if (st == STATUS_OK && t->on_step) t->on_step(t->on_step_user, t, m);
        cJSON_Delete(m);
        if (st == STATUS_OK) st = write_status(t, RUNCTL_STATE_RUNNING, "");
        if (st == STATUS_OK && ((save_steps > 0 && t->step % save_steps == 0) || t->step == t->max_steps))
            st = trainer_save(t);
    }
    if (st == STATUS_ABORTED) {
        /* Interrupted or asked to stop: keep what was done. Mid-step, the boundary snapshot describes the last
         * completed step even though the interrupted step had already consumed data or random numbers; between
         * steps there is no snapshot and the live state is the right one. */
        enum status saved = STATUS_OK;
        if (t->last_saved != t->step) {
            cJSON *state = t->boundary_state ? cJSON_Duplicate(t->boundary_state, true) : state_snapshot(t);
            if (state) cJSON_ReplaceItemInObjectCaseSensitive(state, "step", cJSON_CreateNumber((double)t->step));
            saved = state ? save_with_state(t, state) : STATUS_NOMEM;
            cJSON_Delete(state);
        }
        write_status(t, RUNCTL_STATE_STOPPED, stop_requested ? "stopped by request" : "interrupted");
        if (t->ctl_open) runctl_event(&t->ctl, LOG_WARN, "%s at step %lld", stop_requested ? "stopped" : "interrupted", (long long)t->step);
        if (saved != STATUS_OK) return saved;
        if (stop_requested) return STATUS_OK;
        return err_set(STATUS_ABORTED, "training interrupted at step %lld (checkpoint saved)", (long long)t->step);
    }
    if (st != STATUS_OK) {
        char msg[256], full[4096], hint[1024];
        snprintf(msg, sizeof msg, "%s", err_msg());
        snprintf(full, sizeof full, "%s", err_msg());
        snprintf(hint, sizeof hint, "%s", err_hint_text());
        /* These two can fail on the same full disk; the error to report is still the first one. */
        write_status(t, RUNCTL_STATE_FAILED, msg);
        if (t->ctl_open) runctl_event(&t->ctl, LOG_ERROR, "failed at step %lld: %s", (long long)t->step, msg);
        err_set(st, "%s", full);
        if (hint[0]) err_hint("%s", hint);
        return st;
    }
    write_status(t, RUNCTL_STATE_FINISHED, "");
    if (t->ctl_open) runctl_event(&t->ctl, LOG_INFO, "finished after %lld steps", (long long)t->step);
    return STATUS_OK;
}
