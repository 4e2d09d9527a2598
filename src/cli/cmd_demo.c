/* r1lab demo: the embedded default — the built-in world's tiny base model learns to solve linear equations with
 * GRPO (the R1-Zero recipe of configs/r1-zero.json), live. Needs no download: the base checkpoint ships with
 * r1lab (models/base, made by `r1lab train configs/base.json`). Any config key can be overridden as key=value.
 * `r1lab demo r1`: DeepSeek-R1's four stages (configs/r1.json, each stage shortened) from the two-sided tier's
 * base (models/base-aha), as a pipeline in runs/demo-r1. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/pipeline_run.h"
#include "cli/train_run.h"
#include "engine/run/config.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"

/* configs/r1-zero.json and configs/r1.json, byte for byte: the Makefile generates their definitions from the files.
 * The demos replace the files' model paths and run directories with the shipped base models and runs/demo(-r1). */
extern const char r1lab_demo_config[];
extern const char r1lab_demo_r1_config[];

/* How `r1lab demo r1` shortens configs/r1.json: about six minutes on two cores instead of forty, each stage long
 * enough to show what it does (the format and readability rise in reasoning_rl, the filter's counts, the final
 * RL's helpfulness reward). The user's STAGE.KEY=VALUE come after these and win. */
static const char *const demo_r1_shortening[] = {
    "cold_start.max_steps=60",      "cold_start.save_steps=0",       "cold_start.dataset_size=1200",
    "reasoning_rl.max_steps=40",    "reasoning_rl.eval_steps=20",    "reasoning_rl.eval_problems=32",
    "reasoning_rl.save_steps=20",   "rejection.prompts=160",         "rejection.extra=[{\"world\": \"nonreasoning\", \"n\": 40}]",
    "sft_all.max_steps=30",         "sft_all.save_steps=0",          "rl_all.max_steps=30",
    "rl_all.eval_steps=15",         "rl_all.eval_problems=32",       "rl_all.save_steps=15",
};

static const struct cli_option options[] = {
    TRAIN_RUN_OPTIONS,
};
static const struct cli_spec spec = {
    .name = "demo",
    .synopsis = "[r1] [key=value ...] [--headless] [--device DEV] [--threads N] [options]",
    .summary = "Watch a tiny model learn to reason with GRPO, live (the R1-Zero recipe on the built-in world).",
    .details = "Starts from the base model that ships with r1lab and trains it on the built-in linear equations\n"
               "with accuracy and format rewards, in runs/demo (replaced each time). Keys of configs/r1-zero.json\n"
               "can be overridden: r1lab demo max_steps=50. The base model is $R1LAB_HOME/models/base when\n"
               "R1LAB_HOME is set; otherwise ./models/base, next to the r1lab binary, or in the installed share directory.\n"
               "r1lab demo r1 runs R1's four stages instead (configs/r1.json, shortened to ~6 minutes on two cores)\n"
               "from models/base-aha as a pipeline in runs/demo-r1 (replaced each time); overrides are\n"
               "STAGE.KEY=VALUE, as for r1lab pipeline: r1lab demo r1 rl_all.max_steps=60.",
    .options = options,
    .n_options = sizeof options / sizeof options[0],
};

/* A shipped base checkpoint, models/NAME: under $R1LAB_HOME when R1LAB_HOME is set (and nowhere else, so that a
 * user who points it somewhere is never silently given another copy); otherwise the first of the working
 * directory, the binary's directory (the source tree), ../share/r1lab beside the binary (where `make install`
 * puts it, whatever PREFIX was) and the share directory compiled in. */
static bool find_base(const char *name, char *out, size_t cap) {
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
        if (snprintf(out, cap, "%s/models/%s", roots[i], name) >= (int)cap) continue;
        if (fs_join(cfg, sizeof cfg, out, "config.json") == STATUS_OK && fs_exists(cfg)) return true;
    }
    return false;
}

static int base_not_found(const char *name) {
    enum status st = err_set(STATUS_IO, "the base model (models/%s) was not found", name);
    err_hint("run r1lab demo from the r1lab source directory, set R1LAB_HOME to it, or rebuild the base model "
             "with: r1lab train configs/%s.json, then copy runs/%s/latest to models/%s", name, name, name);
    return cli_report(st);
}

/* configs/r1.json's stages read models/base-aha (the cold start and the SFT of stage 3 start from it): point them
 * at the copy that was found. */
static void point_at_base(cJSON *root, const char *base) {
    const cJSON *stage;
    cJSON_ArrayForEach(stage, cJSON_GetObjectItemCaseSensitive(root, "stages")) {
        cJSON *cfg = cJSON_GetObjectItemCaseSensitive(stage, "config");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(cfg, "model_name_or_path");
        if (cJSON_IsString(m) && strcmp(m->valuestring, "models/base-aha") == 0)
            cJSON_ReplaceItemInObjectCaseSensitive(cfg, "model_name_or_path", cJSON_CreateString(base));
    }
}

/* r1lab demo r1: configs/r1.json, shortened, from the shipped two-sided base, in runs/demo-r1. */
static int demo_r1(const struct train_view *view, char **user, int n_user) {
    char base[PATH_MAX];
    if (!find_base("base-aha", base, sizeof base)) return base_not_found("base-aha");
    const char *dir = "runs/demo-r1";
    if (fs_exists(dir)) {
        if (!pipeline_is_dir(dir)) {
            enum status st = err_set(STATUS_INVALID, "%s exists and is not a pipeline directory; not replacing it", dir);
            err_hint("move it away, or run the recipe elsewhere: r1lab pipeline configs/r1.json output_dir=DIR");
            return cli_report(st);
        }
        enum status st = fs_remove_tree(dir);
        if (st != STATUS_OK) return cli_report(st);
    }
    cJSON *root = cJSON_Parse(r1lab_demo_r1_config);
    ASSERT(root != NULL);
    point_at_base(root, base);
    cJSON_ReplaceItemInObjectCaseSensitive(root, "output_dir", cJSON_CreateString(dir));
    size_t n_short = sizeof demo_r1_shortening / sizeof demo_r1_shortening[0], n = 0;
    char **ov = calloc(n_short + (size_t)n_user + 2, sizeof *ov);
    if (!ov) {
        cJSON_Delete(root);
        return cli_report(err_set(STATUS_NOMEM, "cannot hold the overrides"));
    }
    for (size_t i = 0; i < n_short; i++) ov[n++] = (char *)demo_r1_shortening[i];
    /* --device and --threads hold "device=DEV" / "threads=N": for a pipeline they are defaults of every stage */
    char device[sizeof view->device + 16], threads[sizeof view->threads + 16];
    if (view->device[0]) snprintf(device, sizeof device, "defaults.%s", view->device), ov[n++] = device;
    if (view->threads[0]) snprintf(threads, sizeof threads, "defaults.%s", view->threads), ov[n++] = threads;
    for (int i = 0; i < n_user; i++) ov[n++] = user[i];
    struct pipeline pl;
    enum status st = pipeline_resolve(&pl, root, "the R1 demo configuration (configs/r1.json, shortened)", "demo-r1", ov,
                                      (int)n);
    free(ov);
    if (st != STATUS_OK) return cli_report(st);
    int code = pipeline_run_cli(&pl, view, false, NULL);
    pipeline_free(&pl);
    return code;
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
    bool r1 = optind < argc && strcmp(argv[optind], "r1") == 0;
    if (r1) optind++;
    for (int i = optind; i < argc; i++)
        if (!strchr(argv[i], '=')) {
            if (i == optind && argv[i][0] != '-')
                return cli_usage_error(&spec, "no demo called '%s' (there are the default, R1-Zero, and r1)", argv[i]);
            return cli_usage_error(&spec, "'%s' is not a key=value override", argv[i]);
        }
    cli_install_log(view.quiet);
    if (r1) return demo_r1(&view, argv + optind, argc - optind);
    char base[PATH_MAX];
    if (!find_base("base", base, sizeof base)) return base_not_found("base");
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
