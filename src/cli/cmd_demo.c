/* r1lab demo: the embedded default — the built-in world's tiny base model learns to solve linear equations with
 * GRPO (the R1-Zero recipe of configs/r1-zero.json), live. Needs no download: the base checkpoint ships with
 * r1lab (models/base, made by `r1lab train configs/base.json`). Any config key can be overridden as key=value. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/train_run.h"
#include "engine/run/config.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"

/* configs/r1-zero.json, byte for byte: the Makefile generates its definition from the file. The demo replaces the
 * file's model path and run directory with the shipped base model and runs/demo. */
extern const char r1lab_demo_config[];

static const struct cli_option options[] = {
    TRAIN_RUN_OPTIONS,
};
static const struct cli_spec spec = {
    .name = "demo",
    .synopsis = "[key=value ...] [--headless] [--device DEV] [--threads N] [options]",
    .summary = "Watch a tiny model learn to reason with GRPO, live (the R1-Zero recipe on the built-in world).",
    .details = "Starts from the base model that ships with r1lab and trains it on the built-in linear equations\n"
               "with accuracy and format rewards, in runs/demo (replaced each time). Keys of configs/r1-zero.json\n"
               "can be overridden: r1lab demo max_steps=50. The base model is $R1LAB_HOME/models/base when\n"
               "R1LAB_HOME is set; otherwise ./models/base, next to the r1lab binary, or in the installed share directory.",
    .options = options,
    .n_options = sizeof options / sizeof options[0],
};

/* The shipped base checkpoint: $R1LAB_HOME/models/base when R1LAB_HOME is set (and nowhere else, so that a
 * user who points it somewhere is never silently given another copy); otherwise the first of the working
 * directory, the binary's directory (the source tree), ../share/r1lab beside the binary (where `make install`
 * puts it, whatever PREFIX was) and the share directory compiled in. */
static bool find_base(char *out, size_t cap) {
    char exe[PATH_MAX], exe_dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe_dir[0] = '\0';
    if (n > 0) {
        exe[n] = '\0';
        fs_dirname(exe_dir, sizeof exe_dir, exe);
    }
    const char *home = getenv("R1LAB_HOME");
#ifndef R1LAB_SHARE_DIR
#define R1LAB_SHARE_DIR "/usr/local/share/r1lab"
#endif
    const char *roots[4];
    size_t n_roots = 0;
    char beside[PATH_MAX + 32];
    if (home && *home) {
        roots[n_roots++] = home;
    } else {
        roots[n_roots++] = ".";
        if (exe_dir[0]) {
            roots[n_roots++] = exe_dir;
            snprintf(beside, sizeof beside, "%s/../share/r1lab", exe_dir);
            roots[n_roots++] = beside;
        }
        roots[n_roots++] = R1LAB_SHARE_DIR;
    }
    for (size_t i = 0; i < n_roots; i++) {
        char cfg[PATH_MAX];
        if (snprintf(out, cap, "%s/models/base", roots[i]) >= (int)cap) continue;
        if (fs_join(cfg, sizeof cfg, out, "config.json") == STATUS_OK && fs_exists(cfg)) return true;
    }
    return false;
}

int cmd_demo(int argc, char **argv) {
    struct cli_parser p;
    cli_parser_init(&p, &spec);
    struct train_view view;
    train_view_init(&view);
    int c;
    while ((c = cli_next(&p, argc, argv)) != -1) {
        if (c == CLI_KEY_HELP) return cli_print_help(stdout, &spec), EXIT_OK;
        if (train_view_option(&view, &spec, c, optarg) != 1) return EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++)
        if (!strchr(argv[i], '=')) return cli_usage_error(&spec, "'%s' is not a key=value override", argv[i]);
    cli_install_log(view.quiet);
    char base[PATH_MAX];
    if (!find_base(base, sizeof base)) {
        enum status st = err_set(STATUS_IO, "the base model (models/base) was not found");
        err_hint("run r1lab demo from the r1lab source directory, set R1LAB_HOME to it, or rebuild the base model "
                 "with: r1lab train configs/base.json, then copy runs/base/latest to models/base");
        return cli_report(st);
    }
    cJSON *root = cJSON_Parse(r1lab_demo_config);
    ASSERT(root != NULL);
    static const char *const replaced[] = {"model_name_or_path", "output_dir", "overwrite_output_dir"};
    for (size_t i = 0; i < sizeof replaced / sizeof replaced[0]; i++) cJSON_DeleteItemFromObjectCaseSensitive(root, replaced[i]);
    cJSON_AddStringToObject(root, "model_name_or_path", base);
    cJSON_AddStringToObject(root, "output_dir", "runs/demo");
    cJSON_AddBoolToObject(root, "overwrite_output_dir", true);
    int n_ov;
    char **ov = train_view_overrides(&view, argv + optind, argc - optind, &n_ov);
    if (!ov) {
        cJSON_Delete(root);
        return cli_report(err_set(STATUS_NOMEM, "cannot hold the overrides"));
    }
    struct config cfg;
    enum status st = config_resolve(&cfg, root, "the demo configuration", ov, n_ov);
    free(ov);
    if (st != STATUS_OK) return cli_report(st);
    int code = train_run_config(&cfg, "demo", &view);
    config_free(&cfg);
    return code;
}
