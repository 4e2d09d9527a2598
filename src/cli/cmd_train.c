/* r1lab train: run one training stage from a JSON config. The trainer runs on a worker thread and writes
 * the run directory; the main thread shows it — the live dashboard on a terminal, one plain line per step
 * otherwise (--headless, a pipe, TERM=dumb). Both read the same files, so what is shown is what `r1lab dash`
 * would show. Ctrl-C (headless) or the dashboard's stop saves a checkpoint and ends the run; a resumed run
 * continues exactly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/train_run.h"
#include "engine/run/config.h"

enum { OPT_PRINT_CONFIG = 256 };
static const struct cli_option options[] = {
    {"print-config", OPT_PRINT_CONFIG, NULL, "print the resolved configuration (every key, with help) and exit"},
    TRAIN_RUN_OPTIONS,
};
static const struct cli_spec spec = {
    .name = "train",
    .synopsis = "CONFIG [key=value ...] [--headless] [--device DEV] [--threads N] [--print-config] [options]",
    .summary = "Run a training stage (pretrain, sft or grpo) described by a JSON config.",
    .details = "Any config key can be overridden on the command line as key=value (the value is read as JSON,\n"
               "else as a string): r1lab train configs/r1-zero.json max_steps=50 output_dir=runs/try.\n"
               "Exit status 3 means the run was interrupted; its last checkpoint was saved and\n"
               "resume_from_checkpoint=true continues it.",
    .options = options,
    .n_options = sizeof options / sizeof options[0],
};

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
    bool print_config = false;
    struct train_view view;
    train_view_init(&view);
    int c;
    while ((c = cli_next(&p, argc, argv)) != -1) {
        if (c == CLI_KEY_HELP) return cli_print_help(stdout, &spec), EXIT_OK;
        if (c == OPT_PRINT_CONFIG) {
            print_config = true;
            continue;
        }
        int r = train_view_option(&view, &spec, c, optarg);
        if (r < 0 || r == 0) return EXIT_USAGE;
    }
    if (optind >= argc) return cli_usage_error(&spec, "expected a config file");
    const char *path = argv[optind];
    for (int i = optind + 1; i < argc; i++)
        if (!strchr(argv[i], '=') || argv[i][0] == '-')
            return cli_usage_error(&spec, "'%s' is not a key=value override", argv[i]);
    cli_install_log(view.quiet);
    int n_ov;
    char **ov = train_view_overrides(&view, argv + optind + 1, argc - optind - 1, &n_ov);
    if (!ov) return cli_report(err_set(STATUS_NOMEM, "cannot hold the overrides"));
    struct config cfg;
    enum status st = config_load(&cfg, path, ov, n_ov);
    free(ov);
    if (st != STATUS_OK) return cli_report(st);
    if (print_config) {
        config_print(&cfg, stdout, true);
        config_free(&cfg);
        return EXIT_OK;
    }
    char name[256];
    config_name(path, name, sizeof name);
    int code = train_run_config(&cfg, name, &view);
    config_free(&cfg);
    return code;
}
