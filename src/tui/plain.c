/* plain: the dashboard without a screen — for a non-TTY stdout, TERM=dumb, --headless training and scripts.
 * Prints one line per optimiser step as it arrives, "# ..." lines for state changes and trainer warnings, or
 * with `once` a short summary of the run as it stands. Reads the run directory through the same run_source as
 * the full dashboard, so both show the same numbers, formatted the same way (fmt.h). */
#include "tui.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alarms.h"
#include "engine/run/pipeline.h"
#include "fmt.h"
#include "plain_pipeline.h"
#include "run_source.h"
#include "text/sanitize.h"

struct plain {
    FILE *out;
    struct run_source *rs;
    enum runctl_state last_state;
    bool printed_state;
};

static void field(char *line, size_t cap, const char *label, const struct metrics_rec *r, enum metric m) {
    char v[32];
    size_t n = strlen(line);
    snprintf(line + n, cap - n, "  %s %s", label, metrics_has(r, m) ? fmt_value(r->value[m], v, sizeof v) : "n/a");
}

/* The one-line form of a record (shared by following and the summary). */
static void format_record(const struct run_source *rs, const struct metrics_rec *r, char *line, size_t cap) {
    char v[32];
    int64_t max = run_source_max_steps(rs);
    if (max > 0)
        snprintf(line, cap, "step %lld/%lld", (long long)r->step, (long long)max);
    else
        snprintf(line, cap, "step %lld", (long long)r->step);
    if (metrics_has(r, M_REWARD) || !metrics_has(r, M_LOSS)) {
        field(line, cap, "reward", r, M_REWARD);
        size_t n = strlen(line);
        int acc = -1;
        for (int i = 0; i < rs->names.n; i++)
            if (strcmp(rs->names.name[i], "accuracy") == 0) acc = i;
        snprintf(line + n, cap - n, "  acc %s",
                 acc >= 0 && (r->reward_valid & (1u << acc)) ? fmt_value(r->reward[acc], v, sizeof v) : "n/a");
        field(line, cap, "len", r, M_LEN_MEAN);
        if (metrics_has(r, M_REFLECTION)) field(line, cap, "checks", r, M_REFLECTION);
        field(line, cap, "kl", r, M_KL);
    } else {
        field(line, cap, "loss", r, M_LOSS);
        field(line, cap, "lr", r, M_LR);
    }
    size_t n = strlen(line);
    enum metric tps = metrics_has(r, M_TPS_ROLLOUT) ? M_TPS_ROLLOUT : M_TPS_TRAIN;
    snprintf(line + n, cap - n, "  tok/s %s", metrics_has(r, tps) ? fmt_value(r->value[tps], v, sizeof v) : "n/a");
    n = strlen(line);
    /* a run that ended short of max_steps will not get there: no ETA */
    bool ended = run_source_liveness(rs, runctl_now()) == RS_ENDED && max > 0 && r->step < max;
    snprintf(line + n, cap - n, "  ETA %s", ended ? "n/a" : fmt_duration(run_source_eta(rs), v, sizeof v));
    if (metrics_has(r, M_EVAL_PASS1)) field(line, cap, "pass@1", r, M_EVAL_PASS1);
}

static void on_record(void *user, const struct metrics_rec *r) {
    struct plain *p = user;
    char line[512];
    format_record(p->rs, r, line, sizeof line);
    fprintf(p->out, "%s\n", line);
}

static void on_event(void *user, const struct rs_event *ev) {
    struct plain *p = user;
    if (ev->level >= LOG_WARN)
        fprintf(p->out, "# %s: %s\n", ev->level == LOG_ERROR ? "error" : "warning", ev->msg);
    else
        fprintf(p->out, "# %s\n", ev->msg);
}

static void note_state(struct plain *p) {
    const struct run_source *rs = p->rs;
    if (!rs->have_status || (p->printed_state && rs->status.state == p->last_state)) return;
    p->last_state = rs->status.state;
    p->printed_state = true;
    fprintf(p->out, "# state: %s%s%s\n", runctl_state_name(rs->status.state), rs->status.message[0] ? ": " : "",
            rs->status.message);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void summary(struct plain *p, const char *dir) {
    const struct run_source *rs = p->rs;
    FILE *o = p->out;
    char line[512], a[32];
    double now = runctl_now();
    fprintf(o, "run      %s\n", dir);
    if (rs->have_status) {
        enum rs_liveness l = run_source_liveness(rs, now);
        fprintf(o, "state    %s%s%s%s%s\n", l == RS_STALE ? "stale (was " : "", runctl_state_name(rs->status.state),
                l == RS_STALE ? ")" : "", rs->status.message[0] ? ": " : "", rs->status.message);
        if (rs->status.stage[0] || rs->status.device[0])
            fprintf(o, "stage    %s%s%s\n", rs->status.stage, rs->status.device[0] ? " on " : "", rs->status.device);
    } else {
        fprintf(o, "state    recorded (no status.json)\n");
    }
    if (rs->have_last) {
        format_record(rs, &rs->last, line, sizeof line);
        fprintf(o, "last     %s\n", line);
    } else {
        fprintf(o, "last     no metrics yet\n");
    }
    const struct series *ev = &rs->m[M_EVAL_PASS1];
    if (!series_empty(ev))
        fprintf(o, "eval     pass@1 %s at step %lld\n", fmt_value(ev->last_y, a, sizeof a), (long long)ev->last_x);
    for (int i = 0; i < rs->names.n; i++) {
        if (series_empty(&rs->rw[i])) continue;
        fprintf(o, "reward   %s %s\n", rs->names.name[i], fmt_value(rs->rw[i].last_y, a, sizeof a));
    }
    struct alarm al[8];
    size_t na = alarms_check(rs, now, al, 8);
    if (na == 0) fprintf(o, "alarms   none\n");
    for (size_t i = 0; i < na; i++) fprintf(o, "alarm    %s\n", al[i].text);
    fprintf(o, "read     %llu steps (%llu bad lines), %zu sample groups (%llu bad lines), %llu events\n",
            (unsigned long long)rs->n_records, (unsigned long long)(rs->bad_metrics + rs->metrics_lr.too_long),
            rs->n_idx, (unsigned long long)(rs->bad_samples + rs->samples_lr.too_long),
            (unsigned long long)rs->events_lr.lines);
    if (rs->latest_ckpt[0]) fprintf(o, "ckpt     %s\n", rs->latest_ckpt);
}

enum status tui_follow_plain(const char *run_dir, FILE *out, const struct tui_plain_options *opt_in) {
    struct tui_plain_options opt = opt_in ? *opt_in : tui_plain_options_default();
    if (opt.poll_ms <= 0) opt.poll_ms = 200;
    if (pipeline_is_dir(run_dir)) return plain_pipeline_follow(run_dir, out, &opt);
    struct plain p = {out, NULL, RUNCTL_STATE_UNKNOWN, false};
    TRY(run_source_open(&p.rs, run_dir, MB_CUR_MAX > 1 ? 0 : SAN_ASCII));
    if (opt.once) {
        while (run_source_poll(p.rs, 0) & RS_BACKLOG) {
        }
        summary(&p, run_dir);
        fflush(out);
        run_source_free(p.rs);
        return STATUS_OK;
    }
    p.rs->on_record = on_record;
    p.rs->on_event = on_event;
    p.rs->hook_user = &p;
    double start = runctl_now();
    for (;;) {
        unsigned ch = run_source_poll(p.rs, 0);
        note_state(&p);
        fflush(out);
        bool stop = opt.stop_flag && *opt.stop_flag;
        if (!stop && (ch & RS_BACKLOG)) continue;
        if (!stop) {
            double now = runctl_now();
            enum rs_liveness l = run_source_liveness(p.rs, now);
            bool waiting = l == RS_NO_STATUS && now - start < opt.start_timeout_s;
            stop = opt.keep_following ? !opt.keep_following(opt.user) : !opt.follow || !(l == RS_LIVE || waiting);
        }
        if (stop) {
            /* what was written before the end still gets printed */
            while (run_source_poll(p.rs, 0) & RS_BACKLOG) {
            }
            note_state(&p);
            break;
        }
        sleep_ms(opt.poll_ms);
    }
    fflush(out);
    run_source_free(p.rs);
    return STATUS_OK;
}
