/* train_run: the foreground run shared by r1lab train and r1lab demo (see train_run.h). */
#include "cli/train_run.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/dist/dist.h"
#include "engine/run/runctl.h"
#include "engine/run/trainer.h"
#include "engine/stages/stages.h"
#include "engine/util/log.h"
#include "engine/util/sighandle.h"

static atomic_int interrupt_flag;
static volatile sig_atomic_t trainer_done;

static void on_signal(int sig) {
    if (atomic_load(&interrupt_flag)) {
        /* Second signal: stop waiting. Restore the default action and re-raise. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    atomic_store(&interrupt_flag, 1);
}

struct job {
    train_job_fn fn;
    void *user;
    enum status st;
    char err[2048], hint[1024];
};

static void *job_main(void *arg) {
    struct job *j = arg;
    j->st = j->fn(j->user, &interrupt_flag);
    /* Errors are thread-local: carry the message back to the main thread. */
    snprintf(j->err, sizeof j->err, "%s", err_msg());
    snprintf(j->hint, sizeof j->hint, "%s", err_hint_text());
    trainer_done = 1;
    return NULL;
}

static void install_signals(void) {
    static const int sigs[] = {SIGINT, SIGTERM};
    sighandle_install(sigs, 2, on_signal, 0, NULL);
}

void train_view_init(struct train_view *v) {
    memset(v, 0, sizeof *v);
    v->tui = tui_options_default();
    v->tui.in_process = true;
    v->started = runctl_now();
}

char **train_view_overrides(const struct train_view *v, char *const *kv, int n, int *n_out) {
    char **out = malloc(sizeof *out * (size_t)(n + 2));
    if (!out) return NULL;
    int k = 0;
    for (int i = 0; i < n; i++) out[k++] = kv[i];
    if (v->device[0]) out[k++] = (char *)v->device;
    if (v->threads[0]) out[k++] = (char *)v->threads;
    *n_out = k;
    return out;
}

int train_view_option(struct train_view *v, const struct cli_spec *spec, int key, const char *arg) {
    switch (key) {
    case TRAIN_OPT_HEADLESS: v->headless = true; return 1;
    case TRAIN_OPT_THEME: v->tui.theme = arg; return 1;
    case TRAIN_OPT_NO_MOUSE: v->tui.no_mouse = true; return 1;
    case 'q': v->quiet = true; return 1;
    case TRAIN_OPT_DEVICE:
        if (snprintf(v->device, sizeof v->device, "device=%s", arg) >= (int)sizeof v->device)
            return cli_usage_error(spec, "--device: '%.40s...' is too long", arg), -1;
        return 1;
    case TRAIN_OPT_THREADS: {
        long long n;
        if (cli_parse_int(spec, "--threads", arg, 0, 1024, &n)) return -1;
        snprintf(v->threads, sizeof v->threads, "threads=%lld", n);
        return 1;
    }
    case TRAIN_OPT_COLOR:
        if (strcmp(arg, "auto") == 0) v->tui.color = TUI_COLOR_AUTO;
        else if (strcmp(arg, "always") == 0) v->tui.color = TUI_COLOR_ALWAYS;
        else if (strcmp(arg, "never") == 0) v->tui.color = TUI_COLOR_NEVER;
        else return cli_usage_error(spec, "--color: '%s' is not auto, always or never", arg), -1;
        return 1;
    default: return 0;
    }
}

enum status train_run_job(const char *dir, train_job_fn fn, void *user, const struct train_view *view) {
    install_signals();
    struct tui_options topt = view->tui;
    bool dashboard = !view->headless && tui_available(&topt);
    struct job job = {.fn = fn, .user = user};
    trainer_done = 0;
    pthread_t th;
    if (pthread_create(&th, NULL, job_main, &job) != 0) return err_set(STATUS_NOMEM, "cannot start the worker thread");
    /* Plain lines are this command's own: what the run directory held before it began (the steps a resumed run
     * already took, which an earlier command printed to the same log) is not printed again. */
    struct tui_plain_options po = tui_plain_options_default();
    po.stop_flag = &trainer_done;
    po.since = view->started > 0 ? view->started : runctl_now();
    enum tui_exit how = TUI_EXIT_DETACH;
    if (dashboard) {
        enum status ui = tui_run(dir, &topt, &how);
        if (ui != STATUS_OK) fprintf(stderr, "r1lab: warning: dashboard: %s\n", err_msg());
        if (how == TUI_EXIT_TERMINATED) atomic_store(&interrupt_flag, 1);
        /* Detached (or the dashboard failed): keep reporting plainly until the job finishes, from now on when the
         * dashboard has shown what came before. */
        if (ui == STATUS_OK) po.since = runctl_now();
        if (!trainer_done) tui_follow_plain(dir, stdout, &po);
    } else {
        tui_follow_plain(dir, stdout, &po);
    }
    pthread_join(th, NULL);
    /* Ctrl-C in the dashboard stops the run the way it stops a headless one (the trainer saves first) and is
     * reported the same way: an interruption, exit status 3. A stop chosen with q is a normal end. */
    if (job.st == STATUS_OK && how == TUI_EXIT_INTERRUPT)
        return err_set(STATUS_ABORTED, "stopped with Ctrl-C in the dashboard (the last completed step is saved)");
    err_set(job.st, "%s", job.err);
    if (job.hint[0]) err_hint("%s", job.hint);
    return job.st;
}

static enum status trainer_job(void *user, atomic_int *interrupt) {
    (void)interrupt; /* trainer_open was given the same flag */
    return trainer_run(user);
}

/* A rank of a data-parallel run other than rank 0: it writes nothing and shows nothing, so it trains on this thread
 * and reports only warnings and errors. */
static enum status run_quiet_rank(struct trainer *t) { return trainer_run(t); }

int train_run_config(const struct config *cfg, const char *name, const struct train_view *view) {
    bool quiet = view->quiet;
    install_signals();
    /* The process group: one process unless an MPI launcher started this one (mpirun -np N r1lab train ...). */
    struct dist group;
    enum status st = dist_init(&group, cfg->v.run.ddp_timeout);
    if (st != STATUS_OK) {
        int code = cli_report(st);
        dist_finalize(&group, true);
        return code;
    }
    if (group.size > 1) cli_set_rank(group.rank, group.size);
    if (group.rank != 0) cli_install_log(1); /* rank 0 tells the story; the others only warn */
    struct trainer t;
    st = trainer_open(&t, cfg, stages_for(cfg->stage), name, &interrupt_flag, &group);
    if (st != STATUS_OK) {
        int code = cli_report(st);
        trainer_close(&t);
        /* Every rank knows of the failure (trainer_open agrees on each phase), so none waits: leave normally. */
        dist_finalize(&group, false);
        return code;
    }
    if (group.rank != 0) {
        st = run_quiet_rank(&t);
        int code = st == STATUS_OK ? EXIT_OK : cli_report(st);
        trainer_close(&t);
        dist_finalize(&group, st != STATUS_OK && st != STATUS_ABORTED);
        return code;
    }
    bool dashboard = !view->headless && tui_available(&view->tui);
    /* From here on engine messages go to events.jsonl; the dashboard or the plain follower shows them, so the
     * terminal gets one stream in either mode. */
    log_set_sink(runctl_log_sink, &t.ctl);
    if (!dashboard && !quiet) {
        if (group.size > 1)
            fprintf(stderr, "run directory %s (device %s; %d ranks)\n", t.run_dir, t.be->name, group.size);
        else
            fprintf(stderr, "run directory %s (device %s)\n", t.run_dir, t.be->name);
    }
    st = train_run_job(t.run_dir, trainer_job, &t, view);
    cli_install_log(quiet);
    int code = st == STATUS_OK ? EXIT_OK : cli_report(st);
    if (st == STATUS_OK && !quiet)
        fprintf(stderr, "done: %lld steps in %s (latest checkpoint: %s/latest)\n", (long long)t.step, t.run_dir,
                t.run_dir);
    trainer_close(&t);
    dist_finalize(&group, st != STATUS_OK && st != STATUS_ABORTED);
    return code;
}
