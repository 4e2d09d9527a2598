/* r1lab distill: distillation as the DeepSeek-R1 paper does it (r1lab-distill(1)) — a rejection-sampled SFT set
 * from a teacher checkpoint, then SFT of a student config on it. Builds the two-stage pipeline in memory (one
 * "distill" stage, which pipeline.h expands into NAME-sample and NAME) and runs it like r1lab pipeline: in its own
 * pipeline directory, shown live, resumable by running the same command again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/pipeline_run.h"
#include "engine/util/json.h"

enum {
    OPT_TEACHER = 256, OPT_STUDENT, OPT_OUTPUT, OPT_NAME, OPT_DATASET, OPT_PROMPTS, OPT_SAMPLES, OPT_KEEP, OPT_TEMP,
    OPT_TOP_P, OPT_MAX, OPT_STYLE, OPT_EXTRA, OPT_SAMPLE, OPT_SEED, OPT_DEVICE, OPT_THREADS, OPT_PRINT_CONFIG,
};
static const struct cli_option options[] = {
    {"teacher", OPT_TEACHER, "CKPT", "the checkpoint to distil: a directory, RUN@STEP or RUN@latest (required)"},
    {"student", OPT_STUDENT, "CONFIG", "the student's training config (an sft stage; required)"},
    {"output-dir", OPT_OUTPUT, "DIR", "the pipeline directory (default runs/distill-<student config name>)"},
    {"name", OPT_NAME, "NAME", "the student stage's name (default student; sampling is NAME-sample)"},
    {"dataset", OPT_DATASET, "SPEC", "training problems: world:TASK or a .jsonl (default: the teacher's task)"},
    {"prompts", OPT_PROMPTS, "N", "problems to sample (default 256; a file: all of it)"},
    {"samples", OPT_SAMPLES, "K", "completions sampled per problem (default 4)"},
    {"keep", OPT_KEEP, "N", "completions kept per problem at most (default all)"},
    {"temperature", OPT_TEMP, "T", "sampling temperature (default 0.6)"},
    {"top-p", OPT_TOP_P, "P", "nucleus sampling (default 0.95)"},
    {"max-tokens", OPT_MAX, "N", "new tokens per completion (default: the teacher's max_completion_length)"},
    {"format-style", OPT_STYLE, "STYLE", "format a kept completion must have: r1 (default) or r1-zero"},
    {"extra", OPT_EXTRA, "JSON", "more SFT data, e.g. '[{\"world\": \"coldstart\", \"n\": 200}]'"},
    {"sample", OPT_SAMPLE, "JSON", "any other rejection_sample keys, as an object (r1lab-pipeline(1))"},
    {"seed", OPT_SEED, "S", "seed of both stages (default: each config's)"},
    {"device", OPT_DEVICE, "DEV", "auto, cpu, cuda or cuda:N (default: each config's)"},
    {"threads", OPT_THREADS, "N", "CPU threads (default: each config's)"},
    {"print-config", OPT_PRINT_CONFIG, NULL, "print the resolved two-stage pipeline and exit"},
    TRAIN_VIEW_OPTIONS,
};
static const struct cli_spec spec = {
    .name = "distill",
    .synopsis = "--teacher CKPT --student CONFIG [options] [key=value ...]",
    .summary = "Distil a teacher into a student: a rejection-sampled SFT set, then SFT of the student.",
    .details = "key=value arguments override keys of the student config (max_steps=200). The pipeline directory\n"
               "holds NAME-sample (the kept set: dataset.jsonl, summary.json) and NAME (the student's run); running\n"
               "the same command again continues it. The same two stages can be a \"distill\" stage of a pipeline.",
    .options = options,
    .n_options = sizeof options / sizeof options[0],
};

static int parse_json_arg(const char *opt, const char *text, bool want_array, cJSON **out) {
    if (json_parse_text(text, strlen(text), opt, out) != STATUS_OK) return cli_usage_error(&spec, "%s", err_msg());
    if (want_array ? !cJSON_IsArray(*out) : !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return cli_usage_error(&spec, "%s must be a JSON %s", opt, want_array ? "list" : "object");
    }
    return 0;
}

int cmd_distill(int argc, char **argv) {
    struct cli_parser p;
    cli_parser_init(&p, &spec);
    struct train_view view;
    train_view_init(&view);
    const char *teacher = NULL, *student = NULL, *out_dir = NULL, *name = "student";
    bool print_config = false;
    cJSON *sample = cJSON_CreateObject(), *defaults = cJSON_CreateObject(), *extra = NULL, *obj = NULL;
    int code = 0, c;
    long long n;
    double d;
    while (code == 0 && (c = cli_next(&p, argc, argv)) != -1) {
        switch (c) {
        case CLI_KEY_HELP: cli_print_help(stdout, &spec); code = -1; break;
        case OPT_TEACHER: teacher = optarg; break;
        case OPT_STUDENT: student = optarg; break;
        case OPT_OUTPUT: out_dir = optarg; break;
        case OPT_NAME: name = optarg; break;
        case OPT_PRINT_CONFIG: print_config = true; break;
        case OPT_DATASET: cJSON_AddStringToObject(sample, "dataset", optarg); break;
        case OPT_STYLE: cJSON_AddStringToObject(sample, "format_style", optarg); break;
        case OPT_PROMPTS:
        case OPT_SAMPLES:
        case OPT_KEEP:
        case OPT_MAX:
            if ((code = cli_parse_int(&spec, c == OPT_PROMPTS ? "--prompts" : c == OPT_SAMPLES ? "--samples"
                                                                  : c == OPT_KEEP ? "--keep" : "--max-tokens",
                                      optarg, 1, 1 << 24, &n)))
                break;
            cJSON_AddNumberToObject(sample, c == OPT_PROMPTS ? "prompts" : c == OPT_SAMPLES ? "samples_per_prompt"
                                            : c == OPT_KEEP ? "keep_per_prompt" : "max_completion_length",
                                    (double)n);
            break;
        case OPT_TEMP:
        case OPT_TOP_P:
            if ((code = cli_parse_double(&spec, c == OPT_TEMP ? "--temperature" : "--top-p", optarg, c == OPT_TEMP ? 0 : 1e-9,
                                         c == OPT_TEMP ? 100 : 1, &d)))
                break;
            cJSON_AddNumberToObject(sample, c == OPT_TEMP ? "temperature" : "top_p", d);
            break;
        case OPT_EXTRA:
            cJSON_Delete(extra);
            code = parse_json_arg("--extra", optarg, true, &extra);
            break;
        case OPT_SAMPLE:
            cJSON_Delete(obj);
            code = parse_json_arg("--sample", optarg, false, &obj);
            break;
        case OPT_SEED:
            if (!(code = cli_parse_int(&spec, "--seed", optarg, 0, INT64_MAX / 2, &n)))
                cJSON_AddNumberToObject(defaults, "seed", (double)n);
            break;
        case OPT_THREADS:
            if (!(code = cli_parse_int(&spec, "--threads", optarg, 0, 1024, &n)))
                cJSON_AddNumberToObject(defaults, "threads", (double)n);
            break;
        case OPT_DEVICE: cJSON_AddStringToObject(defaults, "device", optarg); break;
        default:
            code = train_view_option(&view, &spec, c, optarg) > 0 ? 0 : EXIT_USAGE;
            break;
        }
    }
    if (code == 0 && (!teacher || !student)) code = cli_usage_error(&spec, "--teacher and --student are required");
    for (int i = optind; code == 0 && i < argc; i++)
        if (!strchr(argv[i], '=') || argv[i][0] == '-')
            code = cli_usage_error(&spec, "'%s' is not a key=value override of the student config", argv[i]);
    if (code != 0) {
        cJSON_Delete(sample), cJSON_Delete(defaults), cJSON_Delete(extra), cJSON_Delete(obj);
        return code < 0 ? EXIT_OK : code;
    }
    /* --sample first, then the specific options over it */
    if (obj) {
        for (cJSON *it = obj->child; it; it = it->next)
            if (!cJSON_GetObjectItemCaseSensitive(sample, it->string))
                cJSON_AddItemToObject(sample, it->string, cJSON_Duplicate(it, true));
        cJSON_Delete(obj);
    }
    if (extra) cJSON_AddItemToObject(sample, "extra", extra);
    cJSON *root = cJSON_CreateObject();
    char base[256], dir[4096];
    const char *slash = strrchr(student, '/');
    snprintf(base, sizeof base, "%s", slash ? slash + 1 : student);
    char *dot = strrchr(base, '.');
    if (dot && dot != base) *dot = '\0';
    snprintf(dir, sizeof dir, "runs/distill-%s", base);
    cJSON_AddStringToObject(root, "output_dir", out_dir ? out_dir : dir);
    cJSON_AddItemToObject(root, "defaults", defaults);
    cJSON *stage = cJSON_CreateObject();
    cJSON_AddStringToObject(stage, "name", name);
    cJSON_AddStringToObject(stage, "kind", "distill");
    cJSON_AddStringToObject(stage, "teacher", teacher);
    cJSON_AddStringToObject(stage, "student", student);
    cJSON_AddItemToObject(stage, "sample", sample);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "stages"), stage);
    cli_install_log(view.quiet);
    /* key=value: the student's overrides, given as NAME.KEY=VALUE to the pipeline */
    int n_over = argc - optind;
    char **over = calloc((size_t)(n_over > 0 ? n_over : 1), sizeof *over);
    for (int i = 0; over && i < n_over; i++) {
        size_t len = strlen(name) + strlen(argv[optind + i]) + 2;
        if ((over[i] = malloc(len))) snprintf(over[i], len, "%s.%s", name, argv[optind + i]);
    }
    struct pipeline pl;
    enum status st = over ? pipeline_resolve(&pl, root, "r1lab distill", base, over, n_over)
                          : (cJSON_Delete(root), err_set(STATUS_NOMEM, "out of memory"));
    for (int i = 0; over && i < n_over; i++) free(over[i]);
    free(over);
    if (st != STATUS_OK) return cli_report(st);
    code = pipeline_run_cli(&pl, &view, print_config, NULL);
    pipeline_free(&pl);
    return code;
}
