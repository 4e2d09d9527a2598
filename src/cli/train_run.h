/* train_run: running a training configuration in the foreground — what `r1lab train` and `r1lab demo` share.
 * The trainer runs on a worker thread and writes the run directory; the calling thread shows it with the live
 * dashboard on a terminal, or one plain line per step otherwise. Ctrl-C / SIGTERM stop the run after saving a
 * checkpoint. Also the options both commands accept: how the run is shown (--headless, --theme, --color,
 * --no-mouse, --quiet) and --device / --threads, which every command that runs a model takes (for a training
 * run they stand for the config overrides device= and threads=). */
#ifndef R1LAB_TRAIN_RUN_H
#define R1LAB_TRAIN_RUN_H

#include <stdatomic.h>
#include <stdbool.h>

#include "cli/cli.h"
#include "engine/run/config.h"
#include "tui/tui.h"

struct train_view {
    bool headless, quiet;
    struct tui_options tui;
    char device[96], threads[48]; /* "device=DEV" / "threads=N" from --device / --threads, or "" */
    double started;               /* when the command began (train_view_init): plain lines start from here */
};

enum { TRAIN_OPT_HEADLESS = 300, TRAIN_OPT_THEME, TRAIN_OPT_COLOR, TRAIN_OPT_NO_MOUSE, TRAIN_OPT_DEVICE, TRAIN_OPT_THREADS };
/* The option-table entries of the view options, for a command's cli_option array. */
#define TRAIN_VIEW_OPTIONS                                                                                     \
    {"headless", TRAIN_OPT_HEADLESS, NULL, "no dashboard: one log line per step (automatic when stdout is not a terminal)"}, \
        {"theme", TRAIN_OPT_THEME, "NAME|PATH", "dashboard theme (see r1lab-theme(5))"},                       \
        {"color", TRAIN_OPT_COLOR, "WHEN", "auto, always or never"},                                           \
        {"no-mouse", TRAIN_OPT_NO_MOUSE, NULL, "leave the mouse to the terminal"},                             \
        {"quiet", 'q', NULL, "no run-directory line at the start and no summary at the end"}
/* The view options plus --device and --threads, for the commands that run one training config (train, demo):
 * they apply them through train_view_overrides. */
#define TRAIN_RUN_OPTIONS                                                                                      \
    TRAIN_VIEW_OPTIONS,                                                                                        \
        {"device", TRAIN_OPT_DEVICE, "DEV", "auto, cpu, cuda or cuda:N (the same as device=DEV)"},             \
        {"threads", TRAIN_OPT_THREADS, "N", "CPU threads, 0 = all cores (the same as threads=N)"}

void train_view_init(struct train_view *v);
/* Applies one parsed option if it is a shared option: 1 = handled, 0 = not one, -1 = bad value (already
 * reported). */
int train_view_option(struct train_view *v, const struct cli_spec *spec, int key, const char *arg);
/* The command line's key=value overrides followed by those --device and --threads stand for (so they win).
 * Returns a malloc'd array of n + 2 pointers at most (into kv and v; the caller frees only the array), NULL when
 * out of memory; *n_out is its length. */
char **train_view_overrides(const struct train_view *v, char *const *kv, int n, int *n_out);

/* A job for the worker thread: returns its status, leaving the message for train_run_job to carry back. */
typedef enum status (*train_job_fn)(void *user, atomic_int *interrupt);

/* Runs job on a worker thread while the calling thread shows dir (a run directory, or a pipeline's: the dashboard
 * then follows its stages) with the live dashboard or plain lines, as --headless and the terminal decide. SIGINT and
 * SIGTERM set the interrupt flag the job receives (a second one kills). Returns the job's status, with its error
 * message and hint restored on the calling thread; STATUS_ABORTED when the user stopped it with Ctrl-C in the
 * dashboard (an interruption, as Ctrl-C is headless; a stop chosen with q returns the job's own status). */
enum status train_run_job(const char *dir, train_job_fn job, void *user, const struct train_view *view);

/* Opens the run described by cfg (name: the default run directory name) and runs it to the end, showing it.
 * Returns the exit code (0, 1 after reporting the error, 3 when interrupted). */
int train_run_config(const struct config *cfg, const char *name, const struct train_view *view);

#endif
