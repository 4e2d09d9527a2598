/* fake_trainer: a stand-in for `r1lab train` in the dashboard's integration tests. It writes a run directory the
 * way the trainer does (docs/run-format.md) — config.json, one metrics line and a few sample groups per step,
 * status.json, events.jsonl — with made-up but plausible numbers, and obeys control.jsonl through runctl: pause
 * stops steps advancing (status "paused", kept fresh by runctl_poll's heartbeat), resume continues, save writes
 * checkpoints/step-NNNNNN/ (a trainer_state.json marker, atomically) and moves `latest`, eval adds eval/pass@1 to
 * the next step, stop saves and finishes with status "stopped".
 *
 * With --tui it is also the reference for wiring the dashboard into `r1lab train`: the loop runs on a worker
 * thread and tui_run() on the main thread (see run_with_tui below).
 *
 *   fake-trainer RUN_DIR [--steps N] [--interval-ms MS] [--groups K] [--tui] */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/run/runctl.h"
#include "engine/util/fsutil.h"
#include "tui/tui.h"

struct trainer {
    const char *dir;
    long steps;
    int interval_ms;
    int groups;
    struct runctl rc;
    struct runctl_status st;
    bool eval_next;
    atomic_bool abort; /* set by the UI side when it must end without a stop request */
    unsigned rng;
};

static double frand(struct trainer *t) {
    t->rng = t->rng * 1103515245u + 12345u;
    return ((t->rng >> 8) & 0xFFFF) / 65536.0;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void append(const char *dir, const char *name, const char *line) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return;
    ssize_t w = write(fd, line, strlen(line)); /* one write per line: readers never see a torn record */
    (void)w;
    close(fd);
}

static void set_state(struct trainer *t, enum runctl_state s) {
    t->st.state = s;
    t->st.updated = 0;
    runctl_write_status(&t->rc, &t->st);
}

static void save(struct trainer *t) {
    set_state(t, RUNCTL_STATE_SAVING);
    char name[64], tmp[4096], dst[4096], marker[4200], link_tmp[4096], link[4096];
    snprintf(name, sizeof name, "step-%06lld", (long long)t->st.step);
    snprintf(tmp, sizeof tmp, "%s/checkpoints/.%s.tmp", t->dir, name);
    snprintf(dst, sizeof dst, "%s/checkpoints/%s", t->dir, name);
    fs_remove_tree(tmp);
    fs_mkdir_p(tmp);
    snprintf(marker, sizeof marker, "%s/trainer_state.json", tmp);
    char body[128];
    snprintf(body, sizeof body, "{\"step\": %lld, \"fake\": true}\n", (long long)t->st.step);
    fs_write_atomic(marker, body, strlen(body));
    fs_remove_tree(dst);
    rename(tmp, dst);
    snprintf(link_tmp, sizeof link_tmp, "%s/latest.tmp", t->dir);
    snprintf(link, sizeof link, "%s/latest", t->dir);
    char target[128];
    snprintf(target, sizeof target, "checkpoints/%s", name);
    unlink(link_tmp);
    if (symlink(target, link_tmp) == 0) rename(link_tmp, link);
    runctl_event(&t->rc, LOG_INFO, "saved checkpoint %s", name);
    set_state(t, RUNCTL_STATE_RUNNING);
}

/* Acts on one request; returns false when the run must end. */
static bool handle(struct trainer *t, enum runctl_cmd cmd, bool *paused) {
    runctl_ack(&t->rc, cmd); /* as the real trainer does, before acting */
    switch (cmd) {
    case RUNCTL_CMD_PAUSE:
        if (!*paused) runctl_event(&t->rc, LOG_INFO, "paused at step %lld", (long long)t->st.step);
        *paused = true;
        set_state(t, RUNCTL_STATE_PAUSED);
        break;
    case RUNCTL_CMD_RESUME:
        if (*paused) runctl_event(&t->rc, LOG_INFO, "resumed");
        *paused = false;
        set_state(t, RUNCTL_STATE_RUNNING);
        break;
    case RUNCTL_CMD_SAVE:
        save(t);
        if (*paused) set_state(t, RUNCTL_STATE_PAUSED);
        break;
    case RUNCTL_CMD_EVAL:
        t->eval_next = true;
        runctl_event(&t->rc, LOG_INFO, "evaluation requested");
        break;
    case RUNCTL_CMD_STOP:
        save(t);
        runctl_event(&t->rc, LOG_INFO, "stopped by request at step %lld", (long long)t->st.step);
        set_state(t, RUNCTL_STATE_STOPPED);
        return false;
    default:
        break;
    }
    return true;
}

static void write_step(struct trainer *t, long s) {
    double p = (double)s / (double)(t->steps > 300 ? 300 : t->steps);
    if (p > 1) p = 1;
    double acc = 0.1 + 0.7 * p + 0.05 * (frand(t) - 0.5), fmt = 0.3 + 0.68 * sqrt(p);
    double len = 30 + 40 * p + 4 * frand(t);
    char line[2048];
    int n = snprintf(line, sizeof line,
                     "{\"step\": %ld, \"time\": %.3f, \"stage\": \"grpo\", \"loss\": %.5f, \"grad_norm\": %.4f, "
                     "\"learning_rate\": 1e-06, \"skipped_steps\": 0, \"reward\": %.4f, \"reward_std\": %.4f, "
                     "\"rewards/accuracy/mean\": %.4f, \"rewards/format/mean\": %.4f, \"frac_reward_zero_std\": %.4f, "
                     "\"completions/mean_length\": %.2f, \"completions/min_length\": %.0f, "
                     "\"completions/max_length\": %.0f, \"completions/clipped_ratio\": 0.0, \"kl\": %.5f, "
                     "\"entropy\": %.4f, \"clip_ratio/region_mean\": %.5f, \"reflection_rate\": %.4f, "
                     "\"tokens_per_second/rollout\": %.1f, \"tokens_per_second/train\": %.1f, \"time/step\": %.4f",
                     s, runctl_now(), 0.01 * (frand(t) - 0.5), 0.8 + 0.4 * frand(t), acc + fmt, 0.5 - 0.1 * p, acc, fmt,
                     0.1 + 0.2 * p, len, len * 0.4, len * 2, 0.02 * p + 0.001 * frand(t), 1.6 - 0.8 * p,
                     0.003 * frand(t), 0.3 * p, 1800 + 100 * frand(t), 5200 + 200 * frand(t), t->interval_ms / 1000.0);
    if (t->eval_next || s % 20 == 0) {
        n += snprintf(line + n, sizeof line - (size_t)n, ", \"eval/pass@1\": %.4f, \"eval/k\": 8", 0.1 + 0.55 * p);
        t->eval_next = false;
    }
    snprintf(line + n, sizeof line - (size_t)n, "}\n");
    append(t->dir, "metrics.jsonl", line);
    for (int g = 0; g < t->groups; g++) {
        int a = 2 + (int)(frand(t) * 7), x = (int)(frand(t) * 10), b = 1 + (int)(frand(t) * 9);
        n = snprintf(line, sizeof line,
                     "{\"step\": %ld, \"group\": %d, \"task\": \"linear\", \"prompt\": \"Solve: %dx + %d = %d\", "
                     "\"answer\": \"%d\", \"completions\": [",
                     s, g, a, b, a * x + b, x);
        for (int i = 0; i < 4; i++) {
            bool ok = frand(t) < acc;
            int ans = ok ? x : x + 1;
            n += snprintf(line + n, sizeof line - (size_t)n,
                          "%s{\"text\": \"<think> %dx = %d. x = %d.%s </think> <answer> %d </answer>\", "
                          "\"reward\": %.1f, \"rewards\": {\"accuracy\": %.1f, \"format\": 1.0}, \"advantage\": %.3f, "
                          "\"length\": %d, \"clipped\": false}",
                          i ? ", " : "", a, a * x, ans, ok && frand(t) < p ? " wait, check: yes." : "", ans,
                          ok ? 2.0 : 1.0, ok ? 1.0 : 0.0, ok ? 0.866 : -0.866, 20 + i);
        }
        snprintf(line + n, sizeof line - (size_t)n, "]}\n");
        append(t->dir, "samples.jsonl", line);
    }
}

static void *train(void *arg) {
    struct trainer *t = arg;
    set_state(t, RUNCTL_STATE_RUNNING);
    runctl_event(&t->rc, LOG_INFO, "fake trainer: %ld steps every %d ms", t->steps, t->interval_ms);
    bool paused = false;
    long s = 1;
    while (s <= t->steps && !atomic_load(&t->abort)) {
        enum runctl_cmd cmd;
        bool go_on = true;
        while (go_on && (cmd = runctl_poll(&t->rc)) != RUNCTL_CMD_NONE) go_on = handle(t, cmd, &paused);
        if (!go_on) return NULL;
        if (paused) { /* runctl_poll keeps status.json fresh meanwhile */
            sleep_ms(20);
            continue;
        }
        write_step(t, s);
        t->st.step = s;
        set_state(t, RUNCTL_STATE_RUNNING);
        s++;
        if (t->interval_ms > 0) sleep_ms(t->interval_ms);
    }
    runctl_event(&t->rc, LOG_INFO, "finished: %lld steps", (long long)t->st.step);
    set_state(t, RUNCTL_STATE_FINISHED);
    return NULL;
}

/* The integration pattern for `r1lab train`: trainer on a worker thread, dashboard on this one. */
static int run_with_tui(struct trainer *t) {
    pthread_t th;
    if (pthread_create(&th, NULL, train, t) != 0) return 1;
    struct tui_options o = tui_options_default();
    o.in_process = true;
    enum tui_exit how = TUI_EXIT_DETACH;
    enum status st = tui_run(t->dir, &o, &how);
    if (st != STATUS_OK) fprintf(stderr, "fake-trainer: %s\n", err_msg());
    if (how == TUI_EXIT_TERMINATED) runctl_send(t->dir, RUNCTL_CMD_STOP);
    if (how == TUI_EXIT_DETACH) { /* training goes on without a screen: plain lines until it ends */
        struct tui_plain_options po = tui_plain_options_default();
        tui_follow_plain(t->dir, stdout, &po);
    }
    /* TUI_EXIT_STOP: "stop" was sent; the trainer saves a checkpoint and finishes */
    pthread_join(th, NULL);
    printf("fake-trainer: dashboard exit %s, run %s\n",
           how == TUI_EXIT_STOP     ? "stop"
           : how == TUI_EXIT_DETACH ? "detach"
                                    : "terminated",
           runctl_state_name(t->st.state));
    return st == STATUS_OK ? 0 : 1;
}

int main(int argc, char **argv) {
    struct trainer t = {0};
    t.steps = 1000000;
    t.interval_ms = 200;
    t.groups = 2;
    t.rng = 12345;
    bool tui = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc)
            t.steps = atol(argv[++i]);
        else if (strcmp(argv[i], "--interval-ms") == 0 && i + 1 < argc)
            t.interval_ms = atoi(argv[++i]);
        else if (strcmp(argv[i], "--groups") == 0 && i + 1 < argc)
            t.groups = atoi(argv[++i]);
        else if (strcmp(argv[i], "--tui") == 0)
            tui = true;
        else if (argv[i][0] != '-' && !t.dir)
            t.dir = argv[i];
        else {
            fprintf(stderr, "usage: fake-trainer RUN_DIR [--steps N] [--interval-ms MS] [--groups K] [--tui]\n");
            return 2;
        }
    }
    if (!t.dir) {
        fprintf(stderr, "usage: fake-trainer RUN_DIR [--steps N] [--interval-ms MS] [--groups K] [--tui]\n");
        return 2;
    }
    if (fs_mkdir_p(t.dir) != STATUS_OK || runctl_open(&t.rc, t.dir) != STATUS_OK) {
        fprintf(stderr, "fake-trainer: %s\n", err_msg());
        return 1;
    }
    char cfg[512], path[4096];
    snprintf(cfg, sizeof cfg,
             "{\"stage\": \"grpo\", \"max_steps\": %ld, \"num_generations\": 4, \"max_completion_length\": 128}\n",
             t.steps);
    snprintf(path, sizeof path, "%s/config.json", t.dir);
    fs_write_atomic(path, cfg, strlen(cfg));
    t.st = (struct runctl_status){RUNCTL_STATE_STARTING, 0, 0, t.steps, "grpo", 0, 0, "CPU (fake trainer)", ""};
    set_state(&t, RUNCTL_STATE_STARTING);
    int rc = 0;
    if (tui) {
        log_set_sink(runctl_log_sink, &t.rc); /* nothing may print on the dashboard's terminal */
        rc = run_with_tui(&t);
        log_set_sink(NULL, NULL);
    } else {
        train(&t);
    }
    runctl_close(&t.rc);
    return rc;
}
