/* plain_pipeline: following a pipeline stage by stage in plain lines (see plain_pipeline.h). The stage list comes
 * from PIPE/pipeline.json through pipeview; each stage's lines come from tui_follow_plain on its directory, kept
 * going for as long as pipeline.json says the stage runs (its status.json may still be an earlier attempt's). */
#include "plain_pipeline.h"

#include <string.h>
#include <time.h>

#include "engine/util/fsutil.h"
#include "fmt.h"
#include "pipeview.h"

struct follow {
    struct pipeview *v;
    size_t i;
    const struct tui_plain_options *outer;
};

static bool outer_stop(const struct tui_plain_options *o) { return o->stop_flag && *o->stop_flag; }

/* Keep following stage i while it runs and a process runs the pipeline. */
static bool stage_runs(void *user) {
    struct follow *f = user;
    pipeview_poll(f->v);
    if (outer_stop(f->outer) || f->i >= f->v->st.n) return false;
    return f->v->st.stages[f->i].state == PIPELINE_RUNNING && pipeview_live(f->v);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void describe(const struct pipeline_stage_status *s, char *out, size_t cap) {
    snprintf(out, cap, "%s%s%s", s->kind, s->detail[0] ? " " : "", s->detail);
}

static void print_end(FILE *out, const struct pipeview *v, size_t i) {
    const struct pipeline_stage_status *s = &v->st.stages[i];
    char d[32];
    if (s->state == PIPELINE_FINISHED)
        fprintf(out, "# stage %zu/%zu %s: finished in %s\n", i + 1, v->st.n, s->name,
                fmt_duration(s->ended - s->started, d, sizeof d));
    else if (s->state == PIPELINE_RUNNING)
        fprintf(out, "# stage %zu/%zu %s: still marked running, but no process runs the pipeline\n", i + 1, v->st.n,
                s->name);
    else
        fprintf(out, "# stage %zu/%zu %s: %s%s%s\n", i + 1, v->st.n, s->name, pipeline_state_name(s->state),
                s->message[0] ? ": " : "", s->message);
}

static void print_table(FILE *out, const struct pipeview *v) {
    fprintf(out, "pipeline %s: %s%s\n", v->dir, pipeline_state_name(v->st.state),
            v->st.state == PIPELINE_RUNNING && !pipeview_live(v) ? " (stale: no process runs it)" : "");
    for (size_t i = 0; i < v->st.n; i++) {
        const struct pipeline_stage_status *s = &v->st.stages[i];
        char kind[48], d[32] = "";
        describe(s, kind, sizeof kind);
        if (s->state == PIPELINE_FINISHED) fmt_duration(s->ended - s->started, d, sizeof d);
        fprintf(out, "stage %-3zu %-20s %-22s %-9s%s%s%s%s\n", i + 1, s->name, kind, pipeline_state_name(s->state),
                d[0] ? " " : "", d, s->message[0] ? " " : "", s->message);
    }
}

static enum status follow_stage(struct pipeview *v, size_t i, FILE *out, const struct tui_plain_options *opt) {
    char kind[48];
    describe(&v->st.stages[i], kind, sizeof kind);
    fprintf(out, "# stage %zu/%zu %s (%s): started\n", i + 1, v->st.n, v->st.stages[i].name, kind);
    fflush(out);
    char dir[PATH_MAX];
    TRY(fs_join(dir, sizeof dir, v->dir, v->st.stages[i].dir));
    struct follow f = {v, i, opt};
    struct tui_plain_options sub = tui_plain_options_default();
    sub.poll_ms = opt->poll_ms;
    sub.stop_flag = opt->stop_flag;
    sub.keep_following = stage_runs;
    sub.user = &f;
    sub.since = opt->since;
    TRY(tui_follow_plain(dir, out, &sub));
    pipeview_poll(v);
    print_end(out, v, i);
    return STATUS_OK;
}

enum status plain_pipeline_follow(const char *pipe_dir, FILE *out, const struct tui_plain_options *opt) {
    struct pipeview *v;
    TRY(pipeview_open(&v, pipe_dir, opt->stage));
    if (!v) return err_set(STATUS_INVALID, "%s: not a pipeline directory", pipe_dir);
    v->follow = false; /* stages are followed in order here, not by jumping to the running one */
    int poll_ms = opt->poll_ms > 0 ? opt->poll_ms : 200;
    enum status st = STATUS_OK;
    if (opt->once) {
        print_table(out, v);
        fprintf(out, "\n");
        struct tui_plain_options sub = *opt;
        sub.stage = NULL;
        st = tui_follow_plain(v->stage_dir, out, &sub);
    } else if (opt->stage) {
        st = follow_stage(v, (size_t)v->shown, out, opt);
    } else {
        /* Attached to a live pipeline: a stage that ended before this run of the pipeline began gets one line;
         * the others are followed as this run reaches them (a stage stopped by an earlier run looks the same as
         * one stopped by this run, except for its times). A pipeline no process runs is replayed whole. */
        bool live = pipeview_live(v);
        double run_start = v->st.started;
        for (size_t i = 0; st == STATUS_OK && i < v->st.n; i++) {
            const struct pipeline_stage_status *s = &v->st.stages[i];
            if (live && s->state == PIPELINE_FINISHED && s->ended <= run_start) {
                fprintf(out, "# stage %zu/%zu %s: finished earlier\n", i + 1, v->st.n, s->name);
                continue;
            }
            /* a stage that ended before `since` was shown already (by a dashboard detached after it) */
            if (opt->since > 0 && s->state != PIPELINE_RUNNING && s->state != PIPELINE_PENDING && s->ended > 0 &&
                s->ended < opt->since)
                continue;
            /* wait for the stage to start in this run, or for the pipeline to end without it */
            while (live && pipeview_live(v) && !outer_stop(opt)) {
                s = &v->st.stages[i];
                if (s->state == PIPELINE_RUNNING || (s->state != PIPELINE_PENDING && s->started >= run_start)) break;
                sleep_ms(poll_ms);
                pipeview_poll(v);
            }
            pipeview_poll(v);
            if (i >= v->st.n) break;
            s = &v->st.stages[i];
            bool this_run = s->state == PIPELINE_RUNNING || s->started >= run_start;
            if (s->state == PIPELINE_PENDING || (live && !this_run)) break;
            st = follow_stage(v, i, out, opt);
        }
        if (st == STATUS_OK && !pipeview_live(v))
            fprintf(out, "# pipeline %s: %s\n", v->name, pipeline_state_name(v->st.state));
    }
    fflush(out);
    pipeview_free(v);
    return st;
}
