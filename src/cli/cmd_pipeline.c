/* r1lab pipeline: run a recipe of stages (r1lab-pipeline(1)) — R1-Zero, R1's four stages, distillation — from one
 * JSON config, each stage in its own run directory under the pipeline's, shown live as it runs. Running the same
 * command again continues a pipeline that was interrupted, killed or stopped. The config's reading and the resume
 * rule are engine/run/pipeline.h's; running it is cli/pipeline_run.h's. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/pipeline_run.h"

enum { OPT_PRINT_CONFIG = 256, OPT_REDO };
static const struct cli_option options[] = {
    {"print-config", OPT_PRINT_CONFIG, NULL, "print the resolved pipeline (every stage's configuration) and exit"},
    {"redo", OPT_REDO, "STAGE", "run STAGE and the stages after it again, with their config as it now is"},
    TRAIN_VIEW_OPTIONS,
};
static const struct cli_spec spec = {
    .name = "pipeline",
    .synopsis = "CONFIG [output_dir=DIR] [defaults.KEY=VALUE] [STAGE.KEY=VALUE ...] [--redo STAGE] [--headless] [--print-config] [options]",
    .summary = "Run a multi-stage recipe (pretrain, sft, grpo, rejection sampling, distillation), resumably.",
    .details = "Each stage writes its run directory PIPE/<index>-<name>; PIPE/pipeline.json records their states.\n"
               "Run the same command again to continue after an interrupt, a crash or a stop: finished stages are\n"
               "kept, a train stage continues from its latest checkpoint. A changed config is refused, except for\n"
               "the stages --redo runs again (their earlier run directories are moved to DIR.before-redo).\n"
               "r1lab dash PIPE shows a live or finished pipeline; exit status 3 means it stopped early.",
    .options = options,
    .n_options = sizeof options / sizeof options[0],
};

int cmd_pipeline(int argc, char **argv) {
    struct cli_parser p;
    cli_parser_init(&p, &spec);
    bool print_config = false;
    const char *redo = NULL;
    struct train_view view;
    train_view_init(&view);
    int c;
    while ((c = cli_next(&p, argc, argv)) != -1) {
        if (c == CLI_KEY_HELP) return cli_print_help(stdout, &spec), EXIT_OK;
        if (c == OPT_PRINT_CONFIG) {
            print_config = true;
            continue;
        }
        if (c == OPT_REDO) {
            redo = optarg;
            continue;
        }
        if (train_view_option(&view, &spec, c, optarg) <= 0) return EXIT_USAGE;
    }
    if (optind >= argc) return cli_usage_error(&spec, "expected a pipeline config file");
    for (int i = optind + 1; i < argc; i++)
        if (!strchr(argv[i], '=') || argv[i][0] == '-')
            return cli_usage_error(&spec, "'%s' is not a key=value override", argv[i]);
    cli_install_log(view.quiet);
    struct pipeline pl;
    enum status st = pipeline_load(&pl, argv[optind], argv + optind + 1, argc - optind - 1);
    if (st != STATUS_OK) return cli_report(st);
    int code = pipeline_run_cli(&pl, &view, print_config, redo);
    pipeline_free(&pl);
    return code;
}
