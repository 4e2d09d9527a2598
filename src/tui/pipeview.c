/* pipeview: reading a pipeline's state for the dashboard, choosing the stage shown, and the strip's layout. */
#include "pipeview.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/util/fsutil.h"
#include "text/sanitize.h"

const char *pipeview_symbol(enum pipeline_state s, bool ascii) {
    static const char *const utf8[PIPELINE_STATE_COUNT] = {"·", "▶", "✓", "✗", "‖"};
    static const char *const plain[PIPELINE_STATE_COUNT] = {".", ">", "+", "x", "|"};
    if ((unsigned)s >= PIPELINE_STATE_COUNT) return "?";
    return ascii ? plain[s] : utf8[s];
}

int pipeview_default_stage(const struct pipeline_status *st) {
    int r = pipeline_status_running(st);
    if (r >= 0) return r;
    for (size_t i = st->n; i-- > 0;)
        if (st->stages[i].state != PIPELINE_PENDING) return (int)i;
    return 0;
}

static void set_shown(struct pipeview *v, int i) {
    if (v->st.n == 0) return;
    if (i < 0 || (size_t)i >= v->st.n) i = 0;
    v->shown = i;
    if (fs_join(v->stage_dir, sizeof v->stage_dir, v->dir, v->st.stages[i].dir) != STATUS_OK)
        snprintf(v->stage_dir, sizeof v->stage_dir, "%s", v->dir);
}

/* Reads pipeline.json if it is not the version already read; true when a new version was taken. */
static bool reload(struct pipeview *v, bool force) {
    char path[PATH_MAX];
    struct stat sb;
    if (fs_join(path, sizeof path, v->dir, PIPELINE_STATE_FILE) != STATUS_OK || stat(path, &sb) != 0) return false;
    if (!force && sb.st_dev == v->dev && sb.st_ino == v->ino && sb.st_size == v->size &&
        sb.st_mtim.tv_sec == v->mtime.tv_sec && sb.st_mtim.tv_nsec == v->mtime.tv_nsec)
        return false;
    struct pipeline_status st;
    if (pipeline_status_read(v->dir, &st) != STATUS_OK || st.n == 0) {
        pipeline_status_free(&st);
        err_clear();
        return false; /* keep what we had: a reader must tolerate a writer's bad moment */
    }
    pipeline_status_free(&v->st);
    v->st = st;
    v->dev = sb.st_dev;
    v->ino = sb.st_ino;
    v->size = sb.st_size;
    v->mtime = sb.st_mtim;
    return true;
}

void pipeview_free(struct pipeview *v) {
    if (!v) return;
    pipeline_status_free(&v->st);
    free(v);
}

enum status pipeview_open(struct pipeview **out, const char *dir, const char *stage) {
    *out = NULL;
    char pipe[PATH_MAX], given[PATH_MAX] = "";
    snprintf(pipe, sizeof pipe, "%s", dir);
    size_t l = strlen(pipe);
    while (l > 1 && pipe[l - 1] == '/') pipe[--l] = '\0';
    if (!pipeline_is_dir(pipe)) {
        /* dir may be a stage directory: its parent holds the pipeline */
        const char *slash = strrchr(pipe, '/');
        snprintf(given, sizeof given, "%s", slash ? slash + 1 : pipe);
        char parent[PATH_MAX];
        fs_dirname(parent, sizeof parent, pipe);
        if (!pipeline_is_dir(parent)) return STATUS_OK;
        snprintf(pipe, sizeof pipe, "%s", parent);
    }
    struct pipeview *v = calloc(1, sizeof *v);
    if (!v) return err_set(STATUS_NOMEM, "out of memory");
    snprintf(v->dir, sizeof v->dir, "%s", pipe);
    const char *base = strrchr(pipe, '/');
    base = base && base[1] ? base + 1 : pipe;
    san_text(base, strlen(base), SAN_ASCII, v->name, sizeof v->name, NULL);
    if (!reload(v, true)) { /* read it again for the error message */
        struct pipeline_status tmp;
        enum status st = pipeline_status_read(pipe, &tmp);
        pipeline_status_free(&tmp);
        pipeview_free(v);
        return st != STATUS_OK ? st : err_set(STATUS_FORMAT, "%s/%s lists no stage", pipe, PIPELINE_STATE_FILE);
    }
    int pick = -1;
    const char *want = stage ? stage : given[0] ? given : NULL;
    for (size_t i = 0; want && i < v->st.n && pick < 0; i++)
        if (strcmp(stage ? v->st.stages[i].name : v->st.stages[i].dir, want) == 0) pick = (int)i;
    if (stage && pick < 0) {
        char names[512] = "";
        for (size_t i = 0; i < v->st.n; i++) {
            size_t n = strlen(names);
            snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", v->st.stages[i].name);
        }
        enum status st = err_set(STATUS_INVALID, "%s: no stage named \"%s\" (stages: %s)", pipe, stage, names);
        pipeview_free(v);
        return st;
    }
    if (!stage && given[0] && pick < 0) { /* a directory inside a pipeline that is not one of its stages */
        pipeview_free(v);
        return STATUS_OK;
    }
    v->follow = pick < 0;
    set_shown(v, pick >= 0 ? pick : pipeview_default_stage(&v->st));
    *out = v;
    return STATUS_OK;
}

bool pipeview_poll(struct pipeview *v) {
    if (!reload(v, false)) return false;
    int r = pipeline_status_running(&v->st);
    if (v->follow && r >= 0) set_shown(v, r);
    else set_shown(v, v->shown); /* the stage list may have grown or shrunk */
    return true;
}

void pipeview_step(struct pipeview *v, int delta) {
    int n = (int)v->st.n;
    if (n == 0) return;
    set_shown(v, ((v->shown + delta) % n + n) % n);
    v->follow = v->shown == pipeline_status_running(&v->st);
}

bool pipeview_live(const struct pipeview *v) {
    if (v->st.state != PIPELINE_RUNNING || v->st.pid <= 0 || v->st.pid > INT_MAX) return false;
    pid_t pid = (pid_t)v->st.pid;
    return pid == getpid() || kill(pid, 0) == 0 || errno == EPERM;
}

const char *pipeview_running_dir(const struct pipeview *v, char *buf, size_t cap) {
    int r = pipeline_status_running(&v->st);
    if (r < 0 || fs_join(buf, cap, v->dir, v->st.stages[r].dir) != STATUS_OK) return NULL;
    return buf;
}

/* ---- the strip ---- */

/* The label of stage i in form 0 (symbol, number, name), 1 (name cut to 8 columns) or 2 (symbol and number). */
static int label(const struct pipeline_status *st, size_t i, int form, bool ascii, char *out, size_t cap) {
    char name[PIPELINE_NAME_MAX];
    san_text(st->stages[i].name, strlen(st->stages[i].name), SAN_ASCII, name, sizeof name, NULL);
    if (form == 1 && strlen(name) > 8) snprintf(name + 7, sizeof name - 7, "%s", ascii ? "~" : "…");
    const char *sym = pipeview_symbol(st->stages[i].state, ascii);
    if (form == 2) snprintf(out, cap, "%s%zu", sym, i + 1);
    else snprintf(out, cap, "%s %zu %s", sym, i + 1, name);
    return san_width(out, strlen(out));
}

size_t pipeview_strip(const struct pipeline_status *st, int shown, int width, bool ascii, struct pipeview_item *items,
                      size_t cap) {
    size_t n = st->n < cap ? st->n : cap;
    if (n == 0 || width <= 0) return 0;
    for (int form = 0; form < 3; form++) {
        int gap = form == 2 ? 1 : 2, x = 0;
        for (size_t i = 0; i < n; i++) {
            items[i].stage = (int)i;
            items[i].w = label(st, i, form, ascii, items[i].text, sizeof items[i].text);
            items[i].x = x;
            x += items[i].w + gap;
        }
        if (x - gap <= width) return n;
    }
    /* Not even the short labels fit: a window of them around the shown stage. */
    if (shown < 0 || (size_t)shown >= n) shown = 0;
    size_t lo = (size_t)shown, hi = (size_t)shown; /* inclusive */
    int used = items[shown].w;
    for (bool grew = true; grew;) {
        grew = false;
        if (hi + 1 < n && used + 1 + items[hi + 1].w <= width) used += 1 + items[++hi].w, grew = true;
        if (lo > 0 && used + 1 + items[lo - 1].w <= width) used += 1 + items[--lo].w, grew = true;
    }
    if (items[shown].w > width) return 0;
    int x = 0;
    for (size_t i = lo; i <= hi; i++) {
        items[i - lo] = items[i];
        items[i - lo].x = x;
        x += items[i - lo].w + 1;
    }
    return hi - lo + 1;
}
