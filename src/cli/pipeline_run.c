/* pipeline_run: the worker that runs a pipeline's stages, and the log sink that follows it from stage to stage
 * (see pipeline_run.h). */
#include "cli/pipeline_run.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "engine/rl/rejection.h"
#include "engine/run/runctl.h"
#include "engine/run/trainer.h"
#include "engine/stages/stages.h"
#include "engine/util/log.h"

/* ---- a log sink that writes to the events.jsonl of the stage being run ---- */

static pthread_mutex_t sink_mu = PTHREAD_MUTEX_INITIALIZER;
static struct runctl sink_ctl;
static bool sink_open;

static void stage_sink(enum log_level level, const char *msg, void *user) {
    (void)user;
    pthread_mutex_lock(&sink_mu);
    if (sink_open) runctl_event(&sink_ctl, level, "%s", msg);
    pthread_mutex_unlock(&sink_mu);
}

/* Points the sink at dir/events.jsonl (NULL: nowhere). */
static void sink_to(const char *dir) {
    pthread_mutex_lock(&sink_mu);
    if (sink_open) runctl_close(&sink_ctl);
    sink_open = dir && runctl_open(&sink_ctl, dir) == STATUS_OK;
    pthread_mutex_unlock(&sink_mu);
}

/* ---- the stages ---- */

struct pjob {
    const struct pipeline *p;
    struct pipeline_status st;
    int lock_fd;
};

/* Runs train stage i; *stopped when it ended early on a stop request. */
static enum status run_train(const struct pipeline *p, size_t i, atomic_int *interrupt, bool *stopped) {
    bool resume, overwrite;
    TRY(pipeline_train_start(p, i, &resume, &overwrite));
    if (resume) log_info("stage %s: continuing from its latest checkpoint", p->stages[i].name);
    else if (overwrite) log_info("stage %s: an earlier attempt saved no checkpoint; starting afresh", p->stages[i].name);
    struct config cfg;
    TRY(pipeline_train_config(p, i, resume, overwrite, &cfg));
    struct trainer t;
    enum status st = trainer_open(&t, &cfg, stages_for(cfg.stage), p->stages[i].name, interrupt, NULL);
    if (st == STATUS_OK) st = trainer_run(&t);
    *stopped = st == STATUS_OK && t.step < t.max_steps;
    trainer_close(&t);
    config_free(&cfg);
    return st;
}

static enum status run_rejection(const struct pipeline *p, size_t i, atomic_int *interrupt, bool *stopped) {
    struct rejection_config rc;
    char where[PATH_MAX + 96];
    snprintf(where, sizeof where, "%s: stage %zu \"%s\"", p->source, i + 1, p->stages[i].name);
    TRY(rejection_config_parse(&rc, p->stages[i].config, where));
    struct rejection_counts counts;
    enum status st = rejection_run(&rc, p->stages[i].dir, interrupt, &counts);
    *stopped = false;
    rejection_config_free(&rc);
    return st;
}

static enum status pipeline_job(void *user, atomic_int *interrupt) {
    struct pjob *j = user;
    const struct pipeline *p = j->p;
    enum pipeline_state final = PIPELINE_FINISHED;
    enum status result = STATUS_OK, wst = STATUS_OK;
    char err[2048] = "", hint[1024] = "";
    size_t at = 0;
    for (size_t i = 0; i < p->n && wst == STATUS_OK; i++) {
        if (j->st.stages[i].state == PIPELINE_FINISHED) continue;
        if (atomic_load(interrupt)) { /* between stages: the next one is left as it is */
            snprintf(err, sizeof err, "interrupted before it started");
            final = PIPELINE_STOPPED;
            result = STATUS_ABORTED;
            at = i;
            break;
        }
        sink_to(p->stages[i].dir);
        pipeline_status_mark(&j->st, i, PIPELINE_RUNNING, "");
        if ((wst = pipeline_status_write(p->dir, &j->st)) != STATUS_OK) break;
        bool stopped = false;
        enum status st = p->stages[i].kind == PIPELINE_KIND_TRAIN ? run_train(p, i, interrupt, &stopped)
                                                                  : run_rejection(p, i, interrupt, &stopped);
        snprintf(err, sizeof err, "%s", st == STATUS_OK ? (stopped ? "stopped by request" : "") : err_msg());
        snprintf(hint, sizeof hint, "%s", st == STATUS_OK ? "" : err_hint_text());
        enum pipeline_state outcome = st == STATUS_OK && !stopped ? PIPELINE_FINISHED
                                      : st == STATUS_OK || st == STATUS_ABORTED ? PIPELINE_STOPPED
                                                                                : PIPELINE_FAILED;
        pipeline_status_mark(&j->st, i, outcome, err);
        wst = pipeline_status_write(p->dir, &j->st);
        if (outcome != PIPELINE_FINISHED) {
            final = outcome;
            result = st == STATUS_OK ? STATUS_ABORTED : st;
            at = i;
            break;
        }
    }
    sink_to(p->dir);
    if (wst != STATUS_OK) {
        snprintf(err, sizeof err, "%s", err_msg());
        final = PIPELINE_FAILED;
    }
    enum status est = pipeline_end(p, &j->st, final, j->lock_fd);
    sink_to(NULL);
    if (wst != STATUS_OK) return err_set(wst, "%s", err);
    if (result == STATUS_ABORTED) {
        err_set(STATUS_ABORTED, "pipeline stopped in stage %zu \"%s\": %s", at + 1, p->stages[at].name, err);
        err_hint("run the same command again to continue from there");
        return STATUS_ABORTED;
    }
    if (result != STATUS_OK) {
        err_set(result, "stage %zu \"%s\" failed: %s", at + 1, p->stages[at].name, err);
        if (hint[0]) err_hint("%s", hint);
        return result;
    }
    return est;
}

/* ---- the command ---- */

static enum status check_stages(const struct pipeline *p) {
    for (size_t i = 0; i < p->n; i++) {
        if (p->stages[i].kind != PIPELINE_KIND_REJECTION) continue; /* train stages were checked by pipeline_resolve */
        struct rejection_config rc;
        char where[PATH_MAX + 96];
        snprintf(where, sizeof where, "%s: stage %zu \"%s\"", p->source, i + 1, p->stages[i].name);
        TRY(rejection_config_parse(&rc, p->stages[i].config, where));
        rejection_config_free(&rc);
    }
    return STATUS_OK;
}

int pipeline_run_cli(const struct pipeline *p, const struct train_view *view, bool print_config, const char *redo) {
    enum status st = check_stages(p);
    if (st != STATUS_OK) return cli_report(st);
    if (print_config) {
        char *text = cJSON_Print(p->resolved);
        printf("%s\n", text ? text : "");
        cJSON_free(text);
        return EXIT_OK;
    }
    size_t redo_from = redo ? pipeline_stage_index(p, redo) : p->n;
    if (redo && redo_from == p->n) return cli_report(STATUS_INVALID);
    struct pjob job = {.p = p, .lock_fd = -1};
    if ((st = pipeline_begin(p, redo_from, &job.st, &job.lock_fd)) != STATUS_OK) return cli_report(st);
    size_t todo = 0;
    for (size_t i = 0; i < p->n; i++) todo += job.st.stages[i].state != PIPELINE_FINISHED;
    if (todo == 0) {
        st = pipeline_end(p, &job.st, PIPELINE_FINISHED, job.lock_fd);
        pipeline_status_free(&job.st);
        if (st == STATUS_OK && !view->quiet)
            fprintf(stderr, "pipeline %s: all %zu stages finished earlier; nothing to do\n", p->dir, p->n);
        return cli_report(st);
    }
    bool dashboard = !view->headless && tui_available(&view->tui);
    if (!dashboard && !view->quiet)
        fprintf(stderr, "pipeline directory %s: %zu stages, %zu to run\n", p->dir, p->n, todo);
    sink_to(p->dir);
    log_set_sink(stage_sink, NULL); /* before the worker exists (log.h) */
    st = train_run_job(p->dir, pipeline_job, &job, view);
    cli_install_log(view->quiet);
    sink_to(NULL);
    pipeline_status_free(&job.st);
    int code = cli_report(st);
    if (st == STATUS_OK && !view->quiet) fprintf(stderr, "done: pipeline %s: %zu stages finished\n", p->dir, p->n);
    return code;
}
