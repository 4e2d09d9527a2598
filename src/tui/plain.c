/* plain: the dashboard without a screen — for a non-TTY stdout, TERM=dumb, --headless training and scripts.
 * Prints one line per optimiser step as it arrives, "# ..." lines for state changes and trainer warnings, or
 * with `once` a short summary of the run as it stands. Reads the run directory through the same run_source as
 * the full dashboard, so both show the same numbers, formatted the same way (fmt.h).
 *
 * Order: run_source reads metrics.jsonl before events.jsonl, so the lines of a poll arrive grouped by file. They
 * wait in two queues (records, and events with state changes), and the earlier head goes out first; a queue's
 * head waits while the other file still has unread bytes, which may hold something earlier. Each queue is in
 * time order already (files are appended in order), so this is a merge, bounded by PLAIN_QUEUE_MAX lines. */
#include "tui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alarms.h"
#include "engine/run/pipeline.h"
#include "fmt.h"
#include "plain_pipeline.h"
#include "run_source.h"
#include "text/sanitize.h"

#define PLAIN_QUEUE_MAX 65536 /* lines held back for ordering at most; beyond it the earliest go out anyway */

struct pline {
    double time;
    char *text; /* the whole line, newline included */
};

/* A FIFO of lines in time order. */
struct pqueue {
    struct pline *v;
    size_t head, n, cap; /* v[head .. head + n) */
    double last;          /* time of the newest line: a line without one (or earlier) takes it */
};

struct plain {
    FILE *out;
    struct run_source *rs;
    enum runctl_state last_state;
    bool printed_state;
    double since;
    struct pqueue records, events;
};

static void pq_push(struct plain *p, struct pqueue *q, double time, const char *text) {
    if (!(time >= q->last)) time = q->last; /* no time, or out of order in its file: it goes after its predecessor */
    q->last = time;
    if (q->head + q->n == q->cap) {
        if (q->head > 0) {
            memmove(q->v, q->v + q->head, q->n * sizeof *q->v);
            q->head = 0;
        } else {
            size_t cap = q->cap ? 2 * q->cap : 256;
            struct pline *v = realloc(q->v, cap * sizeof *v);
            if (!v) {
                fputs(text, p->out); /* no memory to wait: out of order rather than lost */
                return;
            }
            q->v = v;
            q->cap = cap;
        }
    }
    char *copy = strdup(text);
    if (!copy) {
        fputs(text, p->out);
        return;
    }
    q->v[q->head + q->n++] = (struct pline){time, copy};
}

static void pq_pop(struct plain *p, struct pqueue *q) {
    struct pline *l = &q->v[q->head++];
    fputs(l->text, p->out);
    free(l->text);
    if (--q->n == 0) q->head = 0;
}

static void pq_free(struct pqueue *q) {
    for (size_t i = 0; i < q->n; i++) free(q->v[q->head + i].text);
    free(q->v);
    memset(q, 0, sizeof *q);
}

/* Prints the queued lines that can no longer be preceded by anything unread (all of them when `all`). */
static void flush_ordered(struct plain *p, bool all) {
    struct pqueue *r = &p->records, *e = &p->events;
    bool metrics_read = !lr_backlog(&p->rs->metrics_lr), events_read = !lr_backlog(&p->rs->events_lr);
    for (;;) {
        bool over = r->n + e->n > PLAIN_QUEUE_MAX;
        if (r->n && e->n)
            pq_pop(p, r->v[r->head].time <= e->v[e->head].time ? r : e);
        else if (r->n && (all || over || events_read))
            pq_pop(p, r);
        else if (e->n && (all || over || metrics_read))
            pq_pop(p, e);
        else
            break;
    }
}

/* Whether something that happened at `time` is older than what this follower prints. */
static bool before_since(const struct plain *p, double time) {
    return p->since > 0 && time > 0 && time < p->since;
}

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
    if (metrics_has(r, M_WORLD_SIZE) && metrics_has(r, M_RANK_TPS_MIN)) { /* the slowest rank paces the step */
        char w[32];
        snprintf(line + n, cap - n, "  ranks %s (slowest %s)", fmt_value(r->value[M_WORLD_SIZE], w, sizeof w),
                 fmt_value(r->value[M_RANK_TPS_MIN], v, sizeof v));
        n = strlen(line);
    }
    /* a run that ended short of max_steps will not get there: no ETA */
    bool ended = run_source_liveness(rs, runctl_now()) == RS_ENDED && max > 0 && r->step < max;
    snprintf(line + n, cap - n, "  ETA %s", ended ? "n/a" : fmt_duration(run_source_eta(rs), v, sizeof v));
    if (metrics_has(r, M_EVAL_PASS1)) field(line, cap, "pass@1", r, M_EVAL_PASS1);
}

static void on_record(void *user, const struct metrics_rec *r) {
    struct plain *p = user;
    if (before_since(p, r->time)) return;
    char line[512];
    format_record(p->rs, r, line, sizeof line - 1);
    strcat(line, "\n");
    pq_push(p, &p->records, r->time, line);
}

static void on_event(void *user, const struct rs_event *ev) {
    struct plain *p = user;
    if (before_since(p, ev->time)) return;
    char line[256];
    if (ev->level >= LOG_WARN)
        snprintf(line, sizeof line, "# %s: %s\n", ev->level == LOG_ERROR ? "error" : "warning", ev->msg);
    else
        snprintf(line, sizeof line, "# %s\n", ev->msg);
    pq_push(p, &p->events, ev->time, line);
}

/* A state change joins the events, at the time status.json says it was written. A state from before `since` (the
 * end of the run a resumed one continues, the state a detached dashboard showed) counts as seen, not printed. */
static void note_state(struct plain *p) {
    const struct run_source *rs = p->rs;
    if (!rs->have_status || (p->printed_state && rs->status.state == p->last_state)) return;
    p->last_state = rs->status.state;
    p->printed_state = true;
    if (before_since(p, rs->status.updated)) return;
    char line[512];
    snprintf(line, sizeof line, "# state: %s%s%s\n", runctl_state_name(rs->status.state),
             rs->status.message[0] ? ": " : "", rs->status.message);
    pq_push(p, &p->events, rs->status.updated > 0 ? rs->status.updated : runctl_now(), line);
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
    struct plain p = {.out = out, .last_state = RUNCTL_STATE_UNKNOWN, .since = opt.since};
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
        flush_ordered(&p, false);
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
            while (run_source_poll(p.rs, 0) & RS_BACKLOG) flush_ordered(&p, false);
            note_state(&p);
            flush_ordered(&p, true);
            break;
        }
        sleep_ms(opt.poll_ms);
    }
    fflush(out);
    pq_free(&p.records);
    pq_free(&p.events);
    run_source_free(p.rs);
    return STATUS_OK;
}
