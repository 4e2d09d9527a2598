/* r1lab train: run one training stage from a JSON config. The trainer runs on a worker thread and writes
 * the run directory; the main thread shows it — the live dashboard on a terminal, one plain line per step
 * otherwise (--headless, a pipe, TERM=dumb). Both read the same files, so what is shown is what `r1lab dash`
 * would show. Ctrl-C (headless) or the dashboard's stop saves a checkpoint and ends the run; a resumed run
 * continues exactly. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "config.h"
#include "log.h"
#include "runctl.h"
#include "trainer.h"
#include "tui/tui.h"

enum { OPT_HEADLESS = 256, OPT_PRINT_CONFIG, OPT_THEME, OPT_COLOR, OPT_NO_MOUSE, OPT_QUIET };
static const struct cli_option options[] = {
    {"headless", OPT_HEADLESS, NULL, "no dashboard: one log line per step (automatic when stdout is not a terminal)"},
    {"print-config", OPT_PRINT_CONFIG, NULL, "print the resolved configuration (every key, with help) and exit"},
    {"theme", OPT_THEME, "NAME|PATH", "dashboard theme (see r1lab-theme(5))"},
    {"color", OPT_COLOR, "WHEN", "auto, always or never"},
    {"no-mouse", OPT_NO_MOUSE, NULL, "leave the mouse to the terminal"},
    {"quiet", 'q', NULL, "headless: no info messages, only the step lines"},
};
static const struct cli_spec spec = {
    .name = "train",
    .synopsis = "CONFIG [key=value ...] [--headless] [--print-config]",
    .summary = "Run a training stage (pretrain, sft or grpo) described by a JSON config.",
    .details = "Any config key can be overridden on the command line as key=value (the value is read as JSON,\n"
               "else as a string): r1lab train configs/r1-zero.json max_steps=50 output_dir=runs/try.\n"
               "Exit status 3 means the run was interrupted; its last checkpoint was saved and\n"
               "resume_from_checkpoint=true continues it.",
    .options = options,
    .n_options = sizeof options / sizeof options[0],
};

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
    struct trainer *t;
    enum status st;
    char err[2048], hint[1024];
};

static void *trainer_main(void *arg) {
    struct job *j = arg;
    j->st = trainer_run(j->t);
    /* Errors are thread-local: carry the message back to the main thread. */
    snprintf(j->err, sizeof j->err, "%s", err_msg());
    snprintf(j->hint, sizeof j->hint, "%s", err_hint_text());
    trainer_done = 1;
    return NULL;
}

static void config_name(const char *path, char *out, size_t cap) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, cap, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = '\0';
}

int cmd_train(int argc, char **argv) {
    struct cli_parser p;
    cli_parser_init(&p, &spec);
    bool headless = false, print_config = false, quiet = false;
    struct tui_options topt = tui_options_default();
    topt.in_process = true;
    int c;
    while ((c = cli_next(&p, argc, argv)) != -1) {
        switch (c) {
        case CLI_KEY_HELP: cli_print_help(stdout, &spec); return EXIT_OK;
        case OPT_HEADLESS: headless = true; break;
        case OPT_PRINT_CONFIG: print_config = true; break;
        case OPT_THEME: topt.theme = optarg; break;
        case OPT_NO_MOUSE: topt.no_mouse = true; break;
        case 'q': quiet = true; break;
        case OPT_COLOR:
            if (strcmp(optarg, "auto") == 0) topt.color = TUI_COLOR_AUTO;
            else if (strcmp(optarg, "always") == 0) topt.color = TUI_COLOR_ALWAYS;
            else if (strcmp(optarg, "never") == 0) topt.color = TUI_COLOR_NEVER;
            else return cli_usage_error(&spec, "--color: '%s' is not auto, always or never", optarg);
            break;
        default: return EXIT_USAGE;
        }
    }
    if (optind >= argc) return cli_usage_error(&spec, "expected a config file");
    const char *path = argv[optind];
    for (int i = optind + 1; i < argc; i++)
        if (!strchr(argv[i], '=') || argv[i][0] == '-')
            return cli_usage_error(&spec, "'%s' is not a key=value override (options go before CONFIG)", argv[i]);
    cli_install_log(quiet);
    struct config cfg;
    enum status st = config_load(&cfg, path, argv + optind + 1, argc - optind - 1);
    if (st != STATUS_OK) return cli_report(st);
    if (print_config) {
        config_print(&cfg, stdout, true);
        config_free(&cfg);
        return EXIT_OK;
    }
    char name[256];
    config_name(path, name, sizeof name);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct trainer t;
    st = trainer_open(&t, &cfg, name, &interrupt_flag);
    if (st != STATUS_OK) {
        int code = cli_report(st);
        trainer_close(&t);
        config_free(&cfg);
        return code;
    }
    bool dashboard = !headless && tui_available(&topt);
    /* From here on engine messages go to events.jsonl; the dashboard or the plain follower shows them, so the
     * terminal gets one stream in either mode. */
    log_set_sink(runctl_log_sink, &t.ctl);
    if (!dashboard && !quiet) fprintf(stderr, "run directory %s (device %s)\n", t.run_dir, t.be->name);

    struct job job = {.t = &t};
    pthread_t th;
    if (pthread_create(&th, NULL, trainer_main, &job) != 0) {
        trainer_close(&t);
        config_free(&cfg);
        return cli_report(err_set(STATUS_NOMEM, "cannot start the trainer thread"));
    }
    struct tui_plain_options po = tui_plain_options_default();
    po.stop_flag = &trainer_done;
    if (dashboard) {
        enum tui_exit how = TUI_EXIT_DETACH;
        enum status ui = tui_run(t.run_dir, &topt, &how);
        if (ui != STATUS_OK) fprintf(stderr, "r1lab: warning: dashboard: %s\n", err_msg());
        if (how == TUI_EXIT_TERMINATED) atomic_store(&interrupt_flag, 1);
        /* Detached (or the dashboard failed): keep reporting plainly until the trainer finishes. */
        if (!trainer_done) tui_follow_plain(t.run_dir, stdout, &po);
    } else {
        tui_follow_plain(t.run_dir, stdout, &po);
    }
    pthread_join(th, NULL);
    cli_install_log(quiet);
    err_set(job.st, "%s", job.err);
    if (job.hint[0]) err_hint("%s", job.hint);
    int code = job.st == STATUS_OK ? EXIT_OK : cli_report(job.st);
    if (job.st == STATUS_OK && !quiet)
        fprintf(stderr, "done: %lld steps in %s (latest checkpoint: %s/latest)\n", (long long)t.step, t.run_dir,
                t.run_dir);
    trainer_close(&t);
    config_free(&cfg);
    return code;
}
