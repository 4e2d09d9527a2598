/* r1lab eval: the paper's evaluation of a checkpoint on held-out problems — pass@1 as the mean over k
 * samples per problem (temperature 0.6, top-p 0.95 by default), cons@k by majority vote, pass@k, format rate
 * and mean length. Problems come from the built-in world's test split or from a JSONL file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "engine/rl/evaluate.h"
#include "engine/run/origin.h"
#include "engine/run/session.h"
#include "engine/util/json.h"

enum {
    OPT_TASK = 256,
    OPT_K,
    OPT_PROBLEMS,
    OPT_TEMP,
    OPT_TOP_P,
    OPT_MAX,
    OPT_TEMPLATE,
    OPT_SEED,
    OPT_JSON,
    OPT_SAMPLES,
    OPT_DEVICE,
    OPT_THREADS,
    OPT_WORLD
};
static const struct cli_option options[] = {
    {"task", OPT_TASK, "NAME|FILE",
     "linear, arith, countdown, mix (built-in test split) or a .jsonl of prompt/answer (default: the task the "
     "checkpoint trained on, else mix)"},
    {"k", OPT_K, "K", "samples per problem (default 16)"},
    {"problems", OPT_PROBLEMS, "N", "problems to evaluate (default 100; a file: all of it at most)"},
    {"temperature", OPT_TEMP, "T", "sampling temperature (default 0.6)"},
    {"top-p", OPT_TOP_P, "P", "nucleus sampling (default 0.95)"},
    {"max-tokens", OPT_MAX, "N", "new tokens per sample at most (default: the run's max_completion_length, else 256)"},
    {"template", OPT_TEMPLATE, "NAME",
     "r1-zero, r1, chatml, llama3 or raw (default: the checkpoint's training template)"},
    {"world", OPT_WORLD, "JSON",
     "the world's task settings, as a training config's \"world\" (default: the checkpoint's)"},
    {"seed", OPT_SEED, "S", "random seed of the problems and the samples (default: the run's seed, else 42)"},
    {"samples", OPT_SAMPLES, "FILE", "also write every problem's samples and scores to FILE (JSONL)"},
    {"json", OPT_JSON, NULL, "print the summary as one JSON object"},
    {"device", OPT_DEVICE, "DEV", "auto, cpu, cuda or cuda:N (default auto)"},
    {"threads", OPT_THREADS, "N", "CPU threads (default: all cores)"},
};
static const struct cli_spec spec = {
    .name = "eval",
    .synopsis = "CKPT [--task NAME|FILE] [--k K] [--problems N] [--json] [options]",
    .summary = "Evaluate a checkpoint on held-out problems: pass@1 (mean over k samples), cons@k, pass@k.",
    .details = "The built-in tasks use the test split, which training never sees. A checkpoint r1lab trained carries\n"
               "its training config: the task, world settings, template, seed and completion length default to it,\n"
               "so the numbers are those of the run's own evaluations.",
    .options = options,
    .n_options = sizeof options / sizeof options[0],
};

struct samples_out {
    FILE *f;
};

static void write_problem(void *user, int index, const struct problem *p, const struct rollout_seq *samples,
                          const struct reward_result *scores, int k, bool cons_correct) {
    struct samples_out *so = user;
    if (!so->f) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", index);
    cJSON_AddStringToObject(o, "prompt", p->prompt);
    cJSON_AddStringToObject(o, "answer", p->answer);
    cJSON_AddBoolToObject(o, "cons_correct", cons_correct);
    cJSON *arr = cJSON_AddArrayToObject(o, "samples");
    for (int i = 0; i < k; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "text", samples[i].text ? samples[i].text : "");
        cJSON_AddBoolToObject(s, "correct", scores[i].correct);
        cJSON_AddBoolToObject(s, "format", scores[i].format_ok);
        cJSON_AddNumberToObject(s, "length", samples[i].n);
        cJSON_AddItemToArray(arr, s);
    }
    char *text = cJSON_PrintUnformatted(o);
    fprintf(so->f, "%s\n", text);
    cJSON_free(text);
    cJSON_Delete(o);
}

int cmd_eval(int argc, char **argv) {
    struct cli_parser p;
    cli_parser_init(&p, &spec);
    const char *task = NULL, *tmpl_name = NULL, *samples_path = NULL, *device = "auto", *world_text = NULL;
    long long k = 16, n_problems = 100, max_tokens = -1, seed = -1, threads = 0;
    double temperature = 0.6, top_p = 0.95;
    bool json = false;
    int c;
    while ((c = cli_next(&p, argc, argv)) != -1) {
        switch (c) {
        case CLI_KEY_HELP:
            cli_print_help(stdout, &spec);
            return EXIT_OK;
        case OPT_TASK:
            task = optarg;
            break;
        case OPT_K:
            if (cli_parse_int(&spec, "--k", optarg, 1, 1024, &k)) return EXIT_USAGE;
            break;
        case OPT_PROBLEMS:
            if (cli_parse_int(&spec, "--problems", optarg, 1, 1 << 24, &n_problems)) return EXIT_USAGE;
            break;
        case OPT_TEMP:
            if (cli_parse_double(&spec, "--temperature", optarg, 0, 100, &temperature)) return EXIT_USAGE;
            break;
        case OPT_TOP_P:
            if (cli_parse_double(&spec, "--top-p", optarg, 1e-9, 1, &top_p)) return EXIT_USAGE;
            break;
        case OPT_MAX:
            if (cli_parse_int(&spec, "--max-tokens", optarg, 1, 1 << 20, &max_tokens)) return EXIT_USAGE;
            break;
        case OPT_SEED:
            if (cli_parse_int(&spec, "--seed", optarg, 0, INT64_MAX, &seed)) return EXIT_USAGE;
            break;
        case OPT_THREADS:
            if (cli_parse_int(&spec, "--threads", optarg, 0, 1024, &threads)) return EXIT_USAGE;
            break;
        case OPT_TEMPLATE:
            tmpl_name = optarg;
            break;
        case OPT_WORLD:
            world_text = optarg;
            break;
        case OPT_SAMPLES:
            samples_path = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        case OPT_DEVICE:
            device = optarg;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) return cli_usage_error(&spec, "expected one checkpoint");
    cli_install_log(1);
    struct session s;
    enum status st = session_open(&s, argv[optind], device, (int)threads);
    if (st != STATUS_OK) return cli_report(st);
    struct origin org;
    if ((st = origin_load(s.dir, &org)) != STATUS_OK) {
        session_close(&s);
        return cli_report(st);
    }
    struct eval_options eo = {.n_problems = (int)n_problems, .k = (int)k, .add_special_tokens = true};
    char tmpl_why[160] = "chosen with --template";
    if (tmpl_name)
        st = template_parse(tmpl_name, &eo.tmpl);
    else
        eo.tmpl = origin_pick_template(&org, s.tok, tmpl_why, sizeof tmpl_why);
    char task_buf[32];
    if (!task) task = org.task[0] ? strcpy(task_buf, org.task) : "mix";
    if (max_tokens < 0) max_tokens = org.max_completion > 0 ? org.max_completion : 256;
    if (seed < 0) seed = org.seed >= 0 ? org.seed : 42;
    eo.ro.sampling = (struct sampler_params){(float)temperature, (float)top_p, 0};
    eo.ro.max_new_tokens = (int)max_tokens;
    eo.ro.seed = (uint64_t)seed;
    eo.ro.stop[0] = eo.tmpl == TEMPLATE_R1_ZERO ? "</answer>" : NULL;
    cJSON *world = NULL;
    const char *world_from = "the built-in defaults";
    if (st == STATUS_OK && world_text) {
        st = json_parse_text(world_text, strlen(world_text), "--world", &world);
        world_from = "--world";
    } else if (st == STATUS_OK && org.world) {
        world = cJSON_Duplicate(org.world, true);
        world_from = "its training config";
        if (!world) st = err_set(STATUS_NOMEM, "out of memory");
    }
    char spec_text[4200];
    bool is_file = strchr(task, '.') != NULL || strchr(task, '/') != NULL;
    snprintf(spec_text, sizeof spec_text, "%s%s", is_file ? "" : "world:", task);
    struct problem_source src = {0};
    if (st == STATUS_OK) st = problem_source_open(&src, spec_text, world, (uint64_t)seed, TASK_SPLIT_TEST);
    cJSON_Delete(world);
    origin_free(&org);
    if (st != STATUS_OK) {
        session_close(&s);
        return cli_report(st);
    }
    if (!src.builtin && (size_t)eo.n_problems > problem_source_size(&src))
        eo.n_problems = (int)problem_source_size(&src);
    /* Whole problems per rollout batch: at least 64 sequences when k is small. */
    int per_batch = (int)((64 + k - 1) / k);
    struct rollout r = {0};
    st = rollout_init(&r, &s.model, s.tok, per_batch * (int)k, 512 + (int)max_tokens);
    struct samples_out so = {0};
    if (st == STATUS_OK && samples_path && !(so.f = fopen(samples_path, "w")))
        st = err_set_errno(STATUS_IO, "%s: cannot create", samples_path);
    struct eval_result res;
    if (st == STATUS_OK) st = evaluate_run(&r, s.tok, &src, &eo, write_problem, &so, NULL, &res);
    if (so.f && fclose(so.f) != 0 && st == STATUS_OK) st = err_set_errno(STATUS_IO, "%s: write failed", samples_path);
    if (st == STATUS_OK) {
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "checkpoint", s.dir);
            cJSON_AddStringToObject(o, "task", task);
            cJSON_AddStringToObject(o, "template", template_name(eo.tmpl));
            cJSON_AddStringToObject(o, "template_source", tmpl_why);
            if (src.builtin) cJSON_AddStringToObject(o, "world_source", world_from);
            cJSON_AddNumberToObject(o, "max_tokens", (double)max_tokens);
            cJSON_AddNumberToObject(o, "seed", (double)seed);
            eval_result_to_json(&res, o, true);
            cJSON_AddNumberToObject(o, "temperature", temperature);
            cJSON_AddNumberToObject(o, "top_p", top_p);
            char *text = cJSON_PrintUnformatted(o);
            printf("%s\n", text);
            cJSON_free(text);
            cJSON_Delete(o);
        } else {
            printf("checkpoint   %s\n", s.dir);
            printf("task         %s (%s, %d problems, k=%d, temperature %g, top-p %g)\n", task,
                   src.builtin ? "test split" : "file", res.n_problems, res.k, temperature, top_p);
            printf("template     %s (%s)\n", template_name(eo.tmpl), tmpl_why);
            if (src.builtin) printf("world        from %s\n", world_from);
            printf("pass@1       %.3f\n", res.pass1);
            if (res.k > 1) { /* with one sample, cons@1 and pass@1 are pass@1 */
                printf("cons@%-7d %.3f\n", res.k, res.cons);
                printf("pass@%-7d %.3f\n", res.k, res.passk);
            }
            printf("format       %.3f (Table 1)  %.3f (R1: reasoning, then a summary)\n", res.format, res.format_r1);
            printf("language     %.3f of the CoT's words in English\n", res.language);
            printf("readability  %.3f (summary helpfulness)\n", res.readability);
            printf("length       %.1f tokens\n", res.mean_length);
            const struct reward_tally *ty = &res.tally;
            printf("reflection   %.3f", res.reflection);
            if (ty->reflecting > 0 && ty->n > ty->reflecting)
                printf("  (accuracy %.3f with a check, %.3f without)", (double)ty->reflecting_correct / ty->reflecting,
                       (double)ty->plain_correct / (ty->n - ty->reflecting));
            printf("\n");
            printf("mixed        %.3f of the samples mix languages in their CoT\n",
                   ty->n ? (double)ty->mixed / ty->n : 0.0);
        }
    }
    rollout_free(&r);
    session_close(&s);
    problem_source_free(&src);
    return cli_report(st);
}
