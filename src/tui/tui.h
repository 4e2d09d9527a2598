/* tui: the live training dashboard — public entry points for `r1lab dash` and `r1lab train`.
 *
 * The dashboard reads only a run directory (docs/run-format.md) and talks to the trainer only through its control
 * channel (control.jsonl, see runctl.h), so the same code shows a run trained in this process, a run written by
 * another process, and a finished run. Attaching never blocks or slows a trainer.
 *
 * Integration in `r1lab train` (the trainer on a worker thread, the UI on the main thread):
 *
 *     struct runctl rc;
 *     runctl_open(&rc, run_dir);                  // before the UI exists: no request can be missed
 *     log_set_sink(runctl_log_sink, &rc);         // engine messages go to events.jsonl, not the terminal
 *     struct tui_options o = tui_options_default();
 *     o.in_process = true;                        // no status.json yet = starting, not a recording
 *     o.theme = theme_arg; o.color = color_arg;   // from --theme / --color, if train has them
 *     pthread_create(&th, NULL, trainer_main, &args);  // writes RUN_DIR; runctl_poll(&rc) between micro-steps
 *     enum tui_exit how = TUI_EXIT_DETACH;
 *     enum status st;
 *     if (!headless && tui_available(&o)) {
 *         st = tui_run(run_dir, &o, &how);       // returns when the user leaves
 *     } else {
 *         struct tui_plain_options po = tui_plain_options_default();
 *         po.start_timeout_s = 60;                // wait for the trainer's first status.json
 *         st = tui_follow_plain(run_dir, stdout, &po);  // one line per step until the run ends
 *     }
 *     if (how == TUI_EXIT_TERMINATED) runctl_send(run_dir, RUNCTL_CMD_STOP);  // SIGTERM/SIGHUP: stop cleanly
 *     if (how == TUI_EXIT_DETACH) { ... keep training headless: e.g. tui_follow_plain(run_dir, stdout, &po) ... }
 *     pthread_join(th, NULL);                     // after "stop" the trainer saves a checkpoint and finishes
 *     log_set_sink(NULL, NULL); runctl_close(&rc);
 *
 * The trainer thread acts on runctl_poll() results: RUNCTL_CMD_PAUSE -> status "paused" and no steps until
 * RESUME (keep calling runctl_poll while paused: it also refreshes status.json), SAVE -> checkpoint now, EVAL ->
 * evaluation now, STOP -> save and finish with status "stopped". tests/tools/fake_trainer.c does exactly this.
 *
 * tui_run() takes over the terminal (alternate screen, cbreak, no echo), installs SIGINT/SIGTERM/SIGHUP/SIGWINCH
 * handlers that only set flags, and a crash path (SIGSEGV/SIGABRT/SIGBUS/SIGFPE/SIGILL) that restores the terminal
 * before re-raising; it restores the terminal and the previous handlers on every return, and from atexit(). Only
 * the calling thread touches curses. The trainer thread must not print to the terminal while tui_run() runs
 * (use the log sink / events.jsonl). One tui_run() at a time per process. */
#ifndef R1LAB_TUI_H
#define R1LAB_TUI_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "engine/util/status.h"

enum tui_color {
    TUI_COLOR_AUTO,   /* colours unless NO_COLOR is set (non-empty) or the terminal has none */
    TUI_COLOR_ALWAYS, /* colours even with NO_COLOR */
    TUI_COLOR_NEVER,  /* monochrome: bold / dim / reverse only */
};

enum tui_graph {
    TUI_GRAPH_AUTO, /* braille on UTF-8 terminals, block on the Linux console, ASCII without UTF-8 */
    TUI_GRAPH_BRAILLE,
    TUI_GRAPH_BLOCK,
    TUI_GRAPH_ASCII,
};

struct tui_options {
    const char *theme; /* NAME or PATH (r1lab-theme(5)); NULL: "default" ("mono" without colours) */
    enum tui_color color;
    enum tui_graph graph;
    bool no_mouse;   /* leave the mouse to the terminal (selection, scrollback) */
    bool in_process; /* the trainer runs in this process (r1lab train): a missing status.json means
                        "starting", so q and Ctrl-C still offer to stop it */
    int refresh_ms;  /* input poll interval, 0 = 100 ms */
    const char *stage; /* a pipeline directory: the stage to show first (NULL: the running one, else the last) */
};

static inline struct tui_options tui_options_default(void) {
    return (struct tui_options){NULL, TUI_COLOR_AUTO, TUI_GRAPH_AUTO, false, false, 0, NULL};
}

/* How tui_run() ended. */
enum tui_exit {
    TUI_EXIT_DETACH,     /* the user left; a live trainer was not asked anything and keeps running */
    TUI_EXIT_STOP,       /* the user chose to stop training: "stop" was sent through control.jsonl */
    TUI_EXIT_INTERRUPT,  /* the same, asked for with Ctrl-C (the in-process trainer reports an interruption) */
    TUI_EXIT_TERMINATED, /* SIGTERM or SIGHUP: the UI left without asking the trainer anything */
};

/* True when a full-screen UI can run: stdin and stdout are terminals and TERM is set and not "dumb". Otherwise
 * use tui_follow_plain(). */
bool tui_available(const struct tui_options *opt);

/* Runs the dashboard on the calling thread until the user quits (q, Ctrl-C) or a signal ends it. A run that has
 * finished stays on screen until the user quits. run_dir may be a pipeline's directory (PIPE/pipeline.json) or one
 * of its stages: a row under the header then lists the stages with their states, c / C show the next / previous
 * stage, and the dashboard follows the running stage until the user picks another. Fails (terminal untouched) when run_dir is not a directory or the
 * terminal cannot be initialised; a bad --theme is reported the same way. */
enum status tui_run(const char *run_dir, const struct tui_options *opt, enum tui_exit *how);

/* Plain output for a non-TTY, TERM=dumb, --headless, or scripts: one line per step
 *   step 120/400  reward 1.235  acc 0.8125  len 312.5  kl 0.0123  tok/s 1.23k  ETA 3m12s
 * plus "# ..." lines for state changes and trainer events, all in the order of their times (metrics.jsonl and
 * events.jsonl are merged by their "time" fields, status.json by its "updated"). */
struct tui_plain_options {
    bool once;                        /* print a summary of the run as it is now, then return */
    bool follow;                      /* keep following while the run is live (else stop once caught up) */
    double start_timeout_s;           /* wait this long for status.json to appear before treating the run as recorded */
    int poll_ms;                      /* 0 = 200 ms */
    volatile sig_atomic_t *stop_flag; /* optional: return soon after it becomes non-zero */
    /* optional: when set, follow for as long as it returns true, whatever the run's state (a pipeline stage whose
     * status.json is still the previous attempt's) */
    bool (*keep_following)(void *user);
    void *user;
    const char *stage; /* a pipeline directory: only this stage (NULL: every stage in turn) */
    /* Unix seconds: leave out what happened before (records, events and states with an earlier time), so that a
     * training command's log holds its own steps once: a resumed run's earlier steps are not replayed into
     * `>> log`, nor the steps a dashboard showed before it was detached. 0: everything (r1lab dash). */
    double since;
};

static inline struct tui_plain_options tui_plain_options_default(void) {
    return (struct tui_plain_options){.follow = true};
}

/* Follows run_dir; a pipeline's directory is followed stage by stage, with a "# stage ..." line as each starts and
 * ends (with `once`: the stage list, then the summary of the stage the dashboard would show). Whenever it stops
 * (stop_flag, keep_following, the run's end) it first prints what was already written (since `since`). */
enum status tui_follow_plain(const char *run_dir, FILE *out, const struct tui_plain_options *opt);

#endif
