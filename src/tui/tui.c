/* tui: the dashboard's loop. Waits for input with a timeout, reads what the run directory gained, redraws only
 * when something changed (data, input, a resize, the once-a-second clock), and turns keys into view changes or
 * control requests. Signal handlers (term.c) only set flags; they are acted on here, on the UI thread. */
#include "ui.h"

#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/util/utf8.h"
#include "keys.h"
#include "pipeview.h"
#include "text/sanitize.h"

bool tui_available(const struct tui_options *opt) {
    (void)opt;
    struct term_env e;
    termcaps_from_env(&e);
    return !termcaps_plain(&e);
}

static void message(struct tui *t, bool warn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void message(struct tui *t, bool warn, const char *fmt, ...) {
    char raw[sizeof t->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    san_text(raw, strlen(raw), t->ascii ? SAN_ASCII : 0, t->message, sizeof t->message, NULL);
    t->message_until = t->now + 4.0;
    t->message_alarm = warn;
}

static void tui_free(struct tui *t) {
    if (!t) return;
    run_source_free(t->src);
    pipeview_free(t->pipe);
    free(t->cells);
    free(t->ema);
    free(t->vals);
    free(t->lines);
    free(t->styles);
    free(t->linebuf);
    free(t->fbuf);
    free(t->fsty);
    free(t->run_dir);
    free(t);
}

/* The run's name: the directory's last component. */
static void set_run_name(struct tui *t) {
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", t->run_dir);
    size_t l = strlen(tmp);
    while (l > 1 && tmp[l - 1] == '/') tmp[--l] = '\0';
    const char *base = strrchr(tmp, '/');
    base = base && base[1] ? base + 1 : tmp;
    san_text(base, strlen(base), 0, t->run_name, sizeof t->run_name, NULL);
}

static struct tui *tui_new(const char *run_dir, const struct tui_options *opt) {
    struct tui *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->opt = *opt;
    if (t->opt.refresh_ms <= 0) t->opt.refresh_ms = 100;
    t->run_dir = strdup(run_dir);
    t->cells = calloc(UI_PLOT_MAX_CELLS, sizeof *t->cells);
    t->ema = calloc(SERIES_CAP + 1 > 1024 ? SERIES_CAP + 1 : 1024, sizeof *t->ema);
    t->vals = calloc((size_t)RS_CACHE * SAMPLES_MAX_COMPLETIONS, sizeof *t->vals);
    t->lines = calloc(UI_TRACE_MAX_LINES, sizeof *t->lines);
    t->styles = malloc((size_t)SAMPLES_MAX_COMPLETIONS * UI_STYLE_BYTES);
    t->linebuf = malloc(4096);
    t->fbuf = malloc(UI_FBUF);
    t->fsty = malloc(UI_FBUF);
    if (!t->run_dir || !t->cells || !t->ema || !t->vals || !t->lines || !t->styles || !t->linebuf || !t->fbuf ||
        !t->fsty) {
        tui_free(t);
        return NULL;
    }
    set_run_name(t);
    viewstate_init(&t->view);
    return t;
}

/* ---- control ---- */

/* A trainer is working on the run. In-process, a run without status.json yet is one still starting. */
static bool is_live(struct tui *t) {
    enum rs_liveness l = run_source_liveness(t->src, t->now);
    return l == RS_LIVE || (t->opt.in_process && l == RS_NO_STATUS);
}

/* The run shown, or the pipeline it belongs to, is live: leaving should ask, and stop stops the pipeline. */
static bool any_live(struct tui *t) {
    if (!t->pipe) return is_live(t);
    /* a stage not started yet has no status.json: the pipeline's own state says whether anything runs */
    return pipeview_live(t->pipe) || run_source_liveness(t->src, t->now) == RS_LIVE;
}

static void send_cmd(struct tui *t, enum runctl_cmd cmd) {
    /* A pipeline's stop goes to the stage that runs, whichever stage is shown. */
    char buf[PATH_MAX];
    const char *dir = cmd == RUNCTL_CMD_STOP && t->pipe ? pipeview_running_dir(t->pipe, buf, sizeof buf) : NULL;
    if (runctl_send(dir ? dir : t->run_dir, cmd) != STATUS_OK) {
        message(t, true, "could not send '%s': %s", runctl_cmd_name(cmd), err_msg());
        return;
    }
    t->pending = cmd;
    t->pending_since = t->now;
    t->pending_after = t->src->ev_seq;
}

/* verb: what the request does ("save a checkpoint"), for the refusal; noun: what it asks for ("checkpoint"),
 * for the acknowledgement. */
static void request(struct tui *t, enum runctl_cmd cmd, const char *verb, const char *noun) {
    enum rs_liveness l = run_source_liveness(t->src, t->now);
    if (!is_live(t)) {
        message(t, true, "cannot %s: the run is %s", verb,
                l == RS_NO_STATUS ? "a recording (no status.json)"
                : l == RS_STALE   ? "stale (no trainer)"
                                  : "over");
        return;
    }
    send_cmd(t, cmd);
    if (t->pending == cmd) message(t, false, "%s requested", noun);
}

static void start_stop(struct tui *t) {
    send_cmd(t, RUNCTL_CMD_STOP);
    t->stopping = true;
    t->overlay = UI_OVERLAY_NONE;
    message(t, true, "stop requested: the trainer saves a checkpoint and finishes (q leaves now)");
}

static void quit(struct tui *t, enum tui_exit how) {
    t->quit = true;
    t->how = how == TUI_EXIT_STOP && t->by_ctrl_c ? TUI_EXIT_INTERRUPT : how;
}

static void on_interrupt(struct tui *t) {
    if (!any_live(t)) {
        quit(t, t->stopping ? TUI_EXIT_STOP : TUI_EXIT_DETACH);
        return;
    }
    if (t->overlay == UI_OVERLAY_INTERRUPT || t->stopping) {
        if (!t->stopping) send_cmd(t, RUNCTL_CMD_STOP), t->by_ctrl_c = true;
        quit(t, TUI_EXIT_STOP);
        return;
    }
    t->overlay = UI_OVERLAY_INTERRUPT;
}

/* Clears a pending request once the trainer has taken it: it says so in events.jsonl (runctl_ack) before acting,
 * and status.json then shows the effect ("saving", "paused") for as long as it lasts, which for a small model's
 * checkpoint is shorter than a poll. A trainer that never answers (not r1lab's, or gone) times out. */
static void update_pending(struct tui *t) {
    const struct runctl_status *s = &t->src->status;
    bool done = run_source_acked(t->src, t->pending_after, t->pending);
    switch (t->pending) {
    case RUNCTL_CMD_PAUSE:
        done |= s->state == RUNCTL_STATE_PAUSED;
        break;
    case RUNCTL_CMD_RESUME:
        done |= s->state == RUNCTL_STATE_RUNNING;
        break;
    case RUNCTL_CMD_SAVE:
        done |= s->state == RUNCTL_STATE_SAVING;
        break;
    case RUNCTL_CMD_EVAL:
        done |= s->state == RUNCTL_STATE_EVALUATING;
        break;
    case RUNCTL_CMD_STOP:
        done |= !runctl_state_active(s->state);
        break;
    default:
        break;
    }
    if (done || t->now - t->pending_since > 15.0) t->pending = RUNCTL_CMD_NONE;
}

/* ---- pipeline stages ---- */

/* Shows the run in dir instead of the current one (a pipeline's other stage); the view keeps its panels, zoom and
 * smoothing, and starts following the new run's newest step. */
static void switch_run(struct tui *t, const char *dir) {
    struct run_source *src;
    char *copy = strdup(dir);
    if (!copy || run_source_open(&src, dir, t->ascii ? SAN_ASCII : 0) != STATUS_OK) {
        message(t, true, "cannot show %s: %s", dir, copy ? err_msg() : "out of memory");
        free(copy);
        return;
    }
    run_source_free(t->src);
    free(t->run_dir);
    t->src = src;
    t->run_dir = copy;
    set_run_name(t);
    viewstate_reset_selection(&t->view);
    t->pending = RUNCTL_CMD_NONE;
    t->n_alarms = 0;
}

/* After the pipeline's state changed or the user picked a stage: show the pipeview's stage if it is not shown. */
static void show_stage(struct tui *t) {
    if (t->pipe && strcmp(t->pipe->stage_dir, t->run_dir) != 0) switch_run(t, t->pipe->stage_dir);
}

static void step_stage(struct tui *t, int delta) {
    if (!t->pipe) {
        message(t, false, "not a pipeline: no other stages");
        return;
    }
    pipeview_step(t->pipe, delta);
    show_stage(t);
    const struct pipeline_stage_status *s = &t->pipe->st.stages[t->pipe->shown];
    message(t, false, "stage %d/%zu %s: %s%s", t->pipe->shown + 1, t->pipe->st.n, s->name,
            pipeline_state_name(s->state), t->pipe->follow ? " (following)" : "");
}

/* ---- navigation ---- */

static void nav(struct tui *t, enum action a) {
    static const struct {
        enum action act;
        enum viewstate_move move;
    } moves[] = {{ACT_GROUP_PREV, VIEWSTATE_GROUP_PREV}, {ACT_GROUP_NEXT, VIEWSTATE_GROUP_NEXT},
                 {ACT_STEP_PREV, VIEWSTATE_STEP_PREV},   {ACT_STEP_NEXT, VIEWSTATE_STEP_NEXT},
                 {ACT_FIRST, VIEWSTATE_FIRST},           {ACT_LATEST, VIEWSTATE_LATEST}};
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
        if (moves[i].act == a) viewstate_move(&t->view, t->src, moves[i].move);
}

static void search(struct tui *t, int dir) {
    const struct sample_group *g;
    switch (viewstate_search(&t->view, t->src, dir, &g)) {
    case VIEWSTATE_FOUND:
        message(t, false, "'%s' found at step %lld, group %lld", t->view.search, (long long)g->step,
                (long long)g->group);
        break;
    case VIEWSTATE_NO_SEARCH: message(t, false, "no search yet: press / to search the traces"); break;
    case VIEWSTATE_NOT_YET:
        message(t, true, "'%s' not in the next %d groups (%s continues)", t->view.search, VIEWSTATE_SEARCH_BUDGET,
                dir > 0 ? "n" : "N");
        break;
    case VIEWSTATE_NO_MATCH:
        if (t->src->n_idx > 0) message(t, true, "no %s match for '%s'", dir > 0 ? "later" : "earlier", t->view.search);
        break;
    }
}

static void commit_search(struct tui *t) {
    t->prompt_active = false;
    viewstate_set_search(&t->view, t->prompt, t->prompt_len);
    if (!t->view.search[0]) return;
    size_t sel = viewstate_selected(&t->view, t->src);
    const struct sample_group *g = sel < t->src->n_idx ? run_source_group(t->src, sel) : NULL;
    if (g && viewstate_group_matches(&t->view, g)) {
        t->view.scroll_to_match = true;
        return;
    }
    search(t, +1);
}

static void prompt_key(struct tui *t, int key, bool is_char) {
    if (is_char && (key == '\n' || key == '\r')) {
        commit_search(t);
    } else if (!is_char && key == KEY_ENTER) {
        commit_search(t);
    } else if (is_char && key == 27) {
        t->prompt_active = false;
    } else if ((!is_char && key == KEY_BACKSPACE) || (is_char && (key == 127 || key == 8))) {
        while (t->prompt_len > 0 && ((unsigned char)t->prompt[t->prompt_len - 1] & 0xC0) == 0x80) t->prompt_len--;
        if (t->prompt_len > 0) t->prompt_len--;
    } else if (is_char && key >= 0x20 && key != 0x7F && !(key >= 0x80 && key < 0xA0)) {
        char b[4];
        size_t n = utf8_encode((uint32_t)key, b);
        char safe[16];
        /* keep only what the sanitiser passes unchanged: the query is drawn as typed */
        size_t m = san_text(b, n, t->ascii ? SAN_ASCII : 0, safe, sizeof safe, NULL);
        if (n > 0 && m == n && memcmp(safe, b, n) == 0 && t->prompt_len + n < sizeof t->prompt - 1) {
            memcpy(t->prompt + t->prompt_len, b, n);
            t->prompt_len += n;
        }
    }
}

/* ---- themes and symbols ---- */

static void cycle_theme(struct tui *t) {
    if (t->n_themes == 0) return;
    for (size_t tries = 0; tries < t->n_themes; tries++) {
        t->theme_idx = (t->theme_idx + 1) % t->n_themes;
        char warn[256];
        struct theme th;
        if (theme_load(t->theme_names[t->theme_idx], &th, warn, sizeof warn) == STATUS_OK) {
            t->theme = th;
            term_apply_theme(t);
            message(t, false, "theme %s%s", t->theme.name,
                    t->depth == DEPTH_MONO ? " (no colours on this terminal)" : "");
            return;
        }
    }
}

static void cycle_graph(struct tui *t) {
    if (t->ascii) {
        message(t, false, "plot symbols: ASCII (the terminal is not UTF-8)");
        return;
    }
    t->mode = (enum plot_mode)((t->mode + 1) % PLOT_MODE_COUNT);
    static const char *const names[] = {"braille", "block", "ASCII"};
    message(t, false, "plot symbols: %s", names[t->mode]);
}

/* ---- input ---- */

static void on_mouse(struct tui *t) {
    MEVENT ev;
    if (getmouse(&ev) != OK) return;
    int p = layout_hit(&t->lay, ev.y, ev.x);
    if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
        int dir = (ev.bstate & BUTTON4_PRESSED) ? -1 : 1;
        if (t->overlay == UI_OVERLAY_HELP)
            t->view.help_scroll += dir * 3;
        else if (p == PANEL_TRACES)
            t->view.trace_scroll += dir * 3;
        else if (p >= PANEL_FIRST_BODY && p <= PANEL_LAST_BODY)
            nav(t, dir < 0 ? ACT_STEP_PREV : ACT_STEP_NEXT);
    } else if (ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) {
        if (p >= PANEL_FIRST_BODY && p <= PANEL_LAST_BODY) t->view.focus = p;
    }
}

static void on_action(struct tui *t, enum action a, int key) {
    switch (a) {
    case ACT_QUIT:
        if (t->stopping)
            quit(t, TUI_EXIT_STOP);
        else if (any_live(t))
            t->overlay = UI_OVERLAY_QUIT;
        else
            quit(t, TUI_EXIT_DETACH);
        break;
    case ACT_INTERRUPT:
        on_interrupt(t);
        break;
    case ACT_PAUSE:
        if (t->src->status.state == RUNCTL_STATE_PAUSED)
            request(t, RUNCTL_CMD_RESUME, "resume", "resume");
        else
            request(t, RUNCTL_CMD_PAUSE, "pause", "pause");
        break;
    case ACT_SAVE:
        request(t, RUNCTL_CMD_SAVE, "save a checkpoint", "checkpoint");
        break;
    case ACT_EVAL:
        request(t, RUNCTL_CMD_EVAL, "run an evaluation", "evaluation");
        break;
    case ACT_FOCUS_NEXT:
        t->view.focus = t->view.focus >= PANEL_LAST_BODY ? PANEL_FIRST_BODY : t->view.focus + 1;
        if (t->view.zoom >= 0) t->view.zoom = t->view.focus;
        break;
    case ACT_FOCUS_PREV:
        t->view.focus = t->view.focus <= PANEL_FIRST_BODY ? PANEL_LAST_BODY : t->view.focus - 1;
        if (t->view.zoom >= 0) t->view.zoom = t->view.focus;
        break;
    case ACT_FOCUS_PANEL:
        t->view.focus = PANEL_FIRST_BODY + (key - '1');
        if (t->view.zoom >= 0) t->view.zoom = t->view.focus;
        break;
    case ACT_ZOOM:
        t->view.zoom = t->view.zoom >= 0 ? -1 : t->view.focus;
        break;
    case ACT_GROUP_PREV:
    case ACT_GROUP_NEXT:
    case ACT_STEP_PREV:
    case ACT_STEP_NEXT:
    case ACT_FIRST:
    case ACT_LATEST:
        nav(t, a);
        break;
    case ACT_SCROLL_UP:
        t->view.trace_scroll--;
        break;
    case ACT_SCROLL_DOWN:
        t->view.trace_scroll++;
        break;
    case ACT_SEARCH:
        t->prompt_active = true;
        t->prompt_len = 0;
        break;
    case ACT_SEARCH_NEXT:
        search(t, +1);
        break;
    case ACT_SEARCH_PREV:
        search(t, -1);
        break;
    case ACT_SMOOTH_MORE:
        viewstate_smoother(&t->view);
        message(t, false, "smoothing %.2f", viewstate_ema_weight(&t->view));
        break;
    case ACT_SMOOTH_LESS:
        viewstate_rougher(&t->view);
        message(t, false, "smoothing %.2f", viewstate_ema_weight(&t->view));
        break;
    case ACT_LOG:
        if (t->view.focus == PANEL_REWARD || t->view.focus == PANEL_LENGTH) {
            bool *l = &t->view.logy[t->view.focus - PANEL_REWARD];
            *l = !*l;
            message(t, false, "%s chart: %s scale", t->view.focus == PANEL_REWARD ? "reward" : "length",
                    *l ? "log" : "linear");
        } else {
            message(t, false, "focus a chart first (1: reward, 2: length)");
        }
        break;
    case ACT_GRAPH:
        cycle_graph(t);
        break;
    case ACT_THEME:
        cycle_theme(t);
        break;
    case ACT_REDRAW:
        clearok(curscr, TRUE);
        break;
    case ACT_CLOSE:
        if (t->overlay != UI_OVERLAY_NONE)
            t->overlay = UI_OVERLAY_NONE;
        else if (t->view.search[0])
            t->view.search[0] = '\0';
        else if (t->view.zoom >= 0)
            t->view.zoom = -1;
        break;
    case ACT_HELP:
        t->overlay = t->overlay == UI_OVERLAY_HELP ? UI_OVERLAY_NONE : UI_OVERLAY_HELP;
        t->view.help_scroll = 0;
        break;
    case ACT_MOUSE:
        on_mouse(t);
        break;
    case ACT_STAGE_NEXT:
    case ACT_STAGE_PREV:
        step_stage(t, a == ACT_STAGE_NEXT ? 1 : -1);
        break;
    case ACT_NONE:
    case ACT_COUNT:
        break;
    }
}

static void on_key(struct tui *t, int r, wint_t wc) {
    bool is_char = r == OK;
    int key = (int)wc;
    if (!is_char && key == KEY_RESIZE) {
        term_handle_resize(t, false);
        return;
    }
    if (t->prompt_active) {
        prompt_key(t, key, is_char);
        return;
    }
    switch (t->overlay) {
    case UI_OVERLAY_QUIT:
        if (is_char && (key == 'd' || key == 'D'))
            quit(t, TUI_EXIT_DETACH);
        else if (is_char && (key == 's' || key == 'S'))
            start_stop(t);
        else if ((is_char && (key == 27 || key == 'n' || key == 'q')) || key == 3)
            t->overlay = UI_OVERLAY_NONE;
        return;
    case UI_OVERLAY_INTERRUPT:
        if (is_char && (key == 'y' || key == 'Y')) {
            start_stop(t);
            t->by_ctrl_c = true;
        } else if (is_char && (key == 'n' || key == 'N' || key == 27 || key == 'q'))
            t->overlay = UI_OVERLAY_NONE;
        else if (is_char && key == 3)
            on_interrupt(t);
        return;
    case UI_OVERLAY_HELP:
        if (!is_char && (key == KEY_UP || key == KEY_PPAGE))
            t->view.help_scroll -= key == KEY_UP ? 1 : 10;
        else if (!is_char && (key == KEY_DOWN || key == KEY_NPAGE))
            t->view.help_scroll += key == KEY_DOWN ? 1 : 10;
        else if (is_char && (key == 'k' || key == 'j'))
            t->view.help_scroll += key == 'j' ? 1 : -1;
        else if ((is_char && (key == 27 || key == '?' || key == 'q')) || (!is_char && key == KEY_F(1)))
            t->overlay = UI_OVERLAY_NONE;
        else if (!is_char && key == KEY_MOUSE)
            on_mouse(t);
        return;
    case UI_OVERLAY_NONE:
        break;
    }
    on_action(t, keys_lookup(key), key);
}

/* ---- the loop ---- */

static double mono_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Test and benchmark hooks, read once: R1LAB_DASH_BENCH_FRAMES=N draws N frames back to back once the run is
 * loaded and reports their times on stderr after the terminal is restored; R1LAB_DASH_TEST_CRASH=segv|abort
 * crashes after the first frame (the integration tests check the terminal comes back). */
struct hooks {
    long bench_frames;
    const char *crash;
    double bench_total, bench_max;
    long bench_done;
};

static void run_bench(struct tui *t, struct hooks *h) {
    for (long i = 0; i < h->bench_frames; i++) {
        double t0 = mono_now();
        t->view.ema_idx = (int)(i % viewstate_ema_nsteps); /* vary something so every frame really redraws */
        draw_frame(t);
        double dt = mono_now() - t0;
        h->bench_total += dt;
        if (dt > h->bench_max) h->bench_max = dt;
        h->bench_done++;
    }
}

static void loop(struct tui *t, struct hooks *h) {
    bool dirty = true;
    double last_tick = 0;
    long frames = 0;
    while (!t->quit) {
        t->now = runctl_now();
        if (term_take_sigterm()) {
            quit(t, TUI_EXIT_TERMINATED);
            break;
        }
        if (term_take_winch()) {
            term_handle_resize(t, true);
            dirty = true;
        }
        if (term_take_sigint()) {
            on_interrupt(t);
            dirty = true;
            if (t->quit) break;
        }
        if (t->pipe && pipeview_poll(t->pipe)) {
            show_stage(t);
            dirty = true;
        }
        unsigned ch = run_source_poll(t->src, 0);
        if (ch & ~(unsigned)RS_BACKLOG) {
            dirty = true;
            t->n_alarms = alarms_check(t->src, t->now, t->alarms, UI_MAX_ALARMS);
        }
        if (t->pending != RUNCTL_CMD_NONE) update_pending(t);
        if (t->stopping && !any_live(t)) {
            quit(t, TUI_EXIT_STOP);
            break;
        }
        if (t->now - last_tick >= 1.0) {
            last_tick = t->now;
            t->n_alarms = alarms_check(t->src, t->now, t->alarms, UI_MAX_ALARMS);
            dirty = true;
        }
        if (dirty) {
            draw_frame(t);
            dirty = false;
            frames++;
            if (frames == 1 && h->crash) {
                if (strcmp(h->crash, "segv") == 0) raise(SIGSEGV);
                abort();
            }
        }
        if (h->bench_frames > 0 && !(ch & RS_BACKLOG)) {
            run_bench(t, h);
            quit(t, TUI_EXIT_DETACH);
            break;
        }
        timeout((ch & RS_BACKLOG) ? 0 : t->opt.refresh_ms);
        wint_t wc;
        int r = get_wch(&wc);
        if (r == ERR) continue;
        on_key(t, r, wc);
        dirty = true;
    }
}

enum status tui_run(const char *run_dir, const struct tui_options *opt_in, enum tui_exit *how) {
    *how = TUI_EXIT_DETACH;
    struct tui_options opt = opt_in ? *opt_in : tui_options_default();
    const char *ctype = setlocale(LC_CTYPE, NULL);
    if (!ctype || strcmp(ctype, "C") == 0 || strcmp(ctype, "POSIX") == 0) setlocale(LC_CTYPE, "");
    struct pipeview *pipe;
    enum status st = pipeview_open(&pipe, run_dir, opt.stage);
    if (st != STATUS_OK) return st;
    if (!pipe && opt.stage) return err_set(STATUS_INVALID, "%s is not a pipeline: it has no stages to pick", run_dir);
    struct tui *t = tui_new(pipe ? pipe->stage_dir : run_dir, &opt);
    if (!t) {
        pipeview_free(pipe);
        return err_set(STATUS_NOMEM, "dashboard: out of memory");
    }
    t->pipe = pipe;
    termcaps_from_env(&t->env);
    t->ascii = !t->env.utf8;
    t->mode = termcaps_plot_mode(opt.graph, &t->env);
    st = run_source_open(&t->src, t->run_dir, t->ascii ? SAN_ASCII : 0);
    if (st != STATUS_OK) {
        tui_free(t);
        return st;
    }
    char warn[512] = "";
    const char *spec = opt.theme ? opt.theme : "default";
    st = theme_load(spec, &t->theme, warn, sizeof warn);
    if (st != STATUS_OK) {
        tui_free(t);
        return st;
    }
    t->n_themes = theme_list(t->theme_names, UI_MAX_THEMES);
    for (size_t i = 0; i < t->n_themes; i++)
        if (strcmp(t->theme_names[i], t->theme.name) == 0) t->theme_idx = i;
    struct hooks h = {0};
    const char *bf = getenv("R1LAB_DASH_BENCH_FRAMES");
    h.bench_frames = bf ? strtol(bf, NULL, 10) : 0;
    h.crash = getenv("R1LAB_DASH_TEST_CRASH");
    if (h.crash && !*h.crash) h.crash = NULL;

    st = term_start(t);
    if (st != STATUS_OK) {
        tui_free(t);
        return st;
    }
    term_apply_theme(t);
    t->now = runctl_now();
    if (warn[0]) {
        warn[strcspn(warn, "\n")] = '\0';
        message(t, true, "theme: %s", warn);
    }
    loop(t, &h);
    term_stop();
    if (h.bench_done > 0)
        fprintf(stderr, "r1lab dash: %ld frames at %dx%d, %llu steps: mean %.3f ms, max %.3f ms per frame\n",
                h.bench_done, t->cols, t->rows, (unsigned long long)t->src->n_records,
                1e3 * h.bench_total / h.bench_done, 1e3 * h.bench_max);
    *how = t->how;
    tui_free(t);
    return STATUS_OK;
}
