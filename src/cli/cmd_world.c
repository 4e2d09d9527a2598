/* cmd_world: `r1lab world` — look at the built-in world without a model. `sample` prints problems of a task
 * and split, `corpus` writes pretraining or cold-start documents as JSONL, `check` scores a completion with the
 * rule-based rewards and prints the breakdown as JSON. Everything is deterministic for a seed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "engine/rl/reward.h"
#include "engine/run/checkpoint.h"
#include "engine/run/origin.h"
#include "engine/tokenizer/bpe_train.h"
#include "engine/tokenizer/template.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "engine/util/strbuf.h"
#include "engine/world/corpus.h"
#include "engine/world/problems.h"
#include "engine/world/task.h"

enum {
    OPT_TASK = 't',
    OPT_SPLIT = 's',
    OPT_N = 'n',
    OPT_SEED = 'S',
    OPT_JSON = 'j',
    OPT_OUT = 'o',
    OPT_KIND = 'k',
    OPT_ANSWER = 'a',
    OPT_COMPLETION = 'c',
    OPT_START = 256,
    OPT_PARAMS,
    OPT_TEMPLATE,
    OPT_CONFIG,
    OPT_NUMBERS,
    OPT_REWARDS,
    OPT_TOKENS,
    OPT_MAX_TOKENS,
    OPT_VOCAB,
    OPT_DOCS,
    OPT_WORLD,
    OPT_FROM,
};

static const struct cli_option WORLD_OPTIONS[] = {0};
static const struct cli_spec WORLD_SPEC = {
    "world",
    "sample|corpus|check|tokenizer [OPTIONS]",
    "the built-in world: sample problems, write the synthetic corpus, check a completion's rewards",
    "actions:\n"
    "  sample   print problems of a task and split (with their answers)\n"
    "  corpus   write pretraining or cold-start documents as JSONL\n"
    "  check    score a completion with the rule-based rewards, print the breakdown as JSON\n"
    "  tokenizer learn the world's byte-level BPE tokenizer from its corpus\n"
    "'r1lab world ACTION --help' describes an action.",
    WORLD_OPTIONS,
    0};

static const struct cli_option SAMPLE_OPTIONS[] = {
    {"task", OPT_TASK, "TASK", "linear, arith, countdown, plain or mix (by the world's task weights; the default)"},
    {"split", OPT_SPLIT, "SPLIT", "train (default) or test"},
    {"n", OPT_N, "N", "number of problems (default 10)"},
    {"start", OPT_START, "I", "index of the first problem (default 0)"},
    {"seed", OPT_SEED, "S", "seed (default 0)"},
    {"world", OPT_WORLD, "JSON|FILE", "world settings, as a training config's \"world\" (default: built-in)"},
    {"from", OPT_FROM, "CKPT", "the world settings a checkpoint was trained with (its training config)"},
    {"params", OPT_PARAMS, "JSON|FILE", "difficulty overrides of --task, e.g. '{\"max_coef\": 20}'"},
    {"json", OPT_JSON, NULL, "one JSON object per line instead of PROMPT<TAB>ANSWER"},
};
static const struct cli_spec SAMPLE_SPEC = {
    "world",
    "sample [--task TASK] [--split train|test] [--n N] [--start I] [--seed S] [--world JSON | --from CKPT]\n"
    "                    [--params JSON] [--json]",
    "print problems of a built-in task",
    NULL,
    SAMPLE_OPTIONS,
    sizeof SAMPLE_OPTIONS / sizeof SAMPLE_OPTIONS[0]};

static const struct cli_option CORPUS_OPTIONS[] = {
    {"n", OPT_N, "N", "number of documents (required)"},
    {"start", OPT_START, "I", "index of the first document (default 0)"},
    {"seed", OPT_SEED, "S", "seed (default 0, or the config's)"},
    {"kind", OPT_KIND, "KIND", "pretrain (default) or coldstart"},
    {"template", OPT_TEMPLATE, "NAME", "prompt template (default r1-zero)"},
    {"config", OPT_CONFIG, "JSON|FILE", "corpus settings: tasks, quality, task_params, template, seed"},
    {"out", OPT_OUT, "FILE", "output file (required; written atomically)"},
};
static const struct cli_spec CORPUS_SPEC = {
    "world",
    "corpus --n N --out FILE [--kind pretrain|coldstart] [--seed S] [--start I] [--template T] [--config JSON]",
    "write synthetic corpus documents as JSONL",
    NULL,
    CORPUS_OPTIONS,
    sizeof CORPUS_OPTIONS / sizeof CORPUS_OPTIONS[0]};

static const struct cli_option CHECK_OPTIONS[] = {
    {"task", OPT_TASK, "TASK", "linear, arith, countdown or dataset (required)"},
    {"answer", OPT_ANSWER, "A", "the gold answer (countdown: the target)"},
    {"numbers", OPT_NUMBERS, "LIST", "countdown: the given numbers, e.g. 3,5,7"},
    {"completion", OPT_COMPLETION, "TEXT", "the completion to score; - reads it from standard input"},
    {"rewards", OPT_REWARDS, "JSON|FILE", "reward spec (default: accuracy, format, language)"},
    {"tokens", OPT_TOKENS, "N", "the completion's length in tokens, for the length reward (default 0)"},
    {"max-tokens", OPT_MAX_TOKENS, "N", "the generation limit, for the length reward (default 0)"},
};
static const struct cli_spec CHECK_SPEC = {
    "world",
    "check --task TASK --answer A [--numbers LIST] --completion TEXT|- [--rewards JSON] [--tokens N]",
    "score a completion with the rule-based rewards",
    NULL,
    CHECK_OPTIONS,
    sizeof CHECK_OPTIONS / sizeof CHECK_OPTIONS[0]};

static const struct cli_option TOKENIZER_OPTIONS[] = {
    {"out", OPT_OUT, "FILE", "tokenizer.json to write (required; written atomically)"},
    {"vocab", OPT_VOCAB, "N", "vocabulary size: 256 bytes + merges + added tokens (default 512)"},
    {"docs", OPT_DOCS, "N", "pretraining documents to learn from, plus a quarter as many cold-start ones (default 20000)"},
    {"seed", OPT_SEED, "S", "seed of the documents (default 0)"},
    {"config", OPT_CONFIG, "JSON|FILE", "corpus settings, as for corpus"},
};
static const struct cli_spec TOKENIZER_SPEC = {
    "world",
    "tokenizer --out FILE [--vocab N] [--docs N] [--seed S] [--config JSON]",
    "learn the built-in world's byte-level BPE tokenizer from its corpus",
    "The tokenizer splits text like Qwen2's, and keeps whole as added tokens: <|endoftext|> (special, the end of\n"
    "a document), <think>, </think>, <answer>, </answer>, DeepSeek-R1's chat markers, and the R1-Zero template's\n"
    "preamble (Table 1), so a templated prompt costs a handful of tokens instead of ninety.",
    TOKENIZER_OPTIONS,
    sizeof TOKENIZER_OPTIONS / sizeof TOKENIZER_OPTIONS[0]};

/* A JSON option value given inline ('{', '[') or as a file name. */
static enum status parse_json_arg(const char *arg, cJSON **out) {
    const char *p = arg;
    while (*p == ' ' || *p == '\t' || *p == '\n') p++;
    if (*p == '{' || *p == '[') return json_parse_text(arg, strlen(arg), "command line", out);
    return json_parse_file(arg, 1 << 20, out);
}

/* The world settings for sample: --world, or those of a checkpoint's training config, or none (built-in). */
static enum status sample_world(const char *world_arg, const char *from, cJSON **out) {
    *out = NULL;
    if (world_arg) return parse_json_arg(world_arg, out);
    if (!from) return STATUS_OK;
    char dir[4096];
    TRY(checkpoint_resolve(from, dir, sizeof dir));
    struct origin o;
    TRY(origin_load(dir, &o));
    enum status st = STATUS_OK;
    if (!o.known) {
        st = err_set(STATUS_INVALID, "%s: no training config (%s), so no world settings to take", from, ORIGIN_FILE);
        err_hint("pass them with --world, or leave both out for the built-in defaults");
    } else if (o.world && !(*out = cJSON_Duplicate(o.world, true))) {
        st = err_set(STATUS_NOMEM, "out of memory");
    }
    origin_free(&o);
    return st;
}

static void print_problem(struct strbuf *line, const struct problem *pr, enum task_split split, long long seed,
                          uint64_t index, bool json) {
    if (!json) {
        strbuf_printf(line, "%s\t%s\n", pr->prompt, pr->answer);
        return;
    }
    strbuf_printf(line, "{\"task\": \"%s\", \"split\": \"%s\", \"seed\": %lld, \"index\": %llu, \"prompt\": ",
                  task_kind_name(pr->kind), task_split_name(split), seed, (unsigned long long)index);
    strbuf_put_json_string(line, pr->prompt);
    strbuf_puts(line, ", \"answer\": ");
    strbuf_put_json_string(line, pr->answer);
    if (pr->kind == TASK_COUNTDOWN) {
        strbuf_puts(line, ", \"numbers\": [");
        for (int k = 0; k < pr->countdown.n; k++)
            strbuf_printf(line, "%s%lld", k ? ", " : "", (long long)pr->countdown.numbers[k]);
        strbuf_printf(line, "], \"target\": %lld", (long long)pr->countdown.target);
    }
    strbuf_puts(line, "}\n");
}

static int world_sample(int argc, char **argv) {
    struct cli_parser parser;
    cli_parser_init(&parser, &SAMPLE_SPEC);
    const char *task_name = "mix", *split_name = "train", *params = NULL, *world_arg = NULL, *from = NULL;
    long long n = 10, start = 0, seed = 0;
    bool json = false;
    for (int c; (c = cli_next(&parser, argc, argv)) != -1;) {
        switch (c) {
        case OPT_TASK:
            task_name = optarg;
            break;
        case OPT_SPLIT:
            split_name = optarg;
            break;
        case OPT_N:
            if (cli_parse_int(&SAMPLE_SPEC, "--n", optarg, 0, 100000000, &n)) return EXIT_USAGE;
            break;
        case OPT_START:
            if (cli_parse_int(&SAMPLE_SPEC, "--start", optarg, 0, INT64_MAX, &start)) return EXIT_USAGE;
            break;
        case OPT_SEED:
            if (cli_parse_int(&SAMPLE_SPEC, "--seed", optarg, 0, INT64_MAX, &seed)) return EXIT_USAGE;
            break;
        case OPT_PARAMS:
            params = optarg;
            break;
        case OPT_WORLD:
            world_arg = optarg;
            break;
        case OPT_FROM:
            from = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        case CLI_KEY_HELP:
            cli_print_help(stdout, &SAMPLE_SPEC);
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc) return cli_usage_error(&SAMPLE_SPEC, "unexpected argument '%s'", argv[optind]);
    if (world_arg && from) return cli_usage_error(&SAMPLE_SPEC, "--world and --from both name the world settings");
    bool mix = strcmp(task_name, "mix") == 0;
    if (mix && params) return cli_usage_error(&SAMPLE_SPEC, "--params sets one task's difficulty: add --task");
    enum task_kind kind = TASK_LINEAR;
    enum task_split split;
    enum status st = mix ? STATUS_OK : task_kind_parse(task_name, &kind);
    if (st == STATUS_OK && !mix && kind == TASK_DATASET)
        st = err_set(STATUS_INVALID, "task \"dataset\" has no generator (valid: linear, arith, countdown, mix)");
    if (st == STATUS_OK) st = task_split_parse(split_name, &split);
    if (st != STATUS_OK) return cli_usage_error(&SAMPLE_SPEC, "%s", err_msg());
    cJSON *world = NULL;
    if ((st = sample_world(world_arg, from, &world)) != STATUS_OK) return cli_report(st);
    char spec_text[64];
    snprintf(spec_text, sizeof spec_text, "world:%s", task_name);
    struct problem_source src;
    st = problem_source_open(&src, spec_text, world, (uint64_t)seed, split);
    cJSON_Delete(world);
    if (st != STATUS_OK) return cli_report(st);
    if (params) {
        cJSON *p = NULL;
        st = parse_json_arg(params, &p);
        if (st == STATUS_OK) st = task_config_set(&src.world.task[kind], p, "--params");
        cJSON_Delete(p);
    }
    struct strbuf line = {0};
    for (long long i = 0; st == STATUS_OK && i < n; i++) {
        struct problem pr;
        uint64_t index = (uint64_t)start + (uint64_t)i;
        if ((st = problem_source_get(&src, index, &pr)) != STATUS_OK) break;
        strbuf_clear(&line);
        print_problem(&line, &pr, split, seed, index, json);
        task_problem_free(&pr);
        if ((st = strbuf_status(&line)) != STATUS_OK) break;
        fputs(line.data, stdout);
    }
    strbuf_free(&line);
    problem_source_free(&src);
    if (st != STATUS_OK) return cli_report(st);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILURE_;
}

static int world_corpus(int argc, char **argv) {
    struct cli_parser parser;
    cli_parser_init(&parser, &CORPUS_SPEC);
    const char *out = NULL, *kind_name = "pretrain", *template_name = NULL, *config = NULL;
    long long n = -1, start = 0, seed = -1;
    for (int c; (c = cli_next(&parser, argc, argv)) != -1;) {
        switch (c) {
        case OPT_N:
            if (cli_parse_int(&CORPUS_SPEC, "--n", optarg, 0, INT64_MAX, &n)) return EXIT_USAGE;
            break;
        case OPT_START:
            if (cli_parse_int(&CORPUS_SPEC, "--start", optarg, 0, INT64_MAX, &start)) return EXIT_USAGE;
            break;
        case OPT_SEED:
            if (cli_parse_int(&CORPUS_SPEC, "--seed", optarg, 0, INT64_MAX, &seed)) return EXIT_USAGE;
            break;
        case OPT_KIND:
            kind_name = optarg;
            break;
        case OPT_TEMPLATE:
            template_name = optarg;
            break;
        case OPT_CONFIG:
            config = optarg;
            break;
        case OPT_OUT:
            out = optarg;
            break;
        case CLI_KEY_HELP:
            cli_print_help(stdout, &CORPUS_SPEC);
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc) return cli_usage_error(&CORPUS_SPEC, "unexpected argument '%s'", argv[optind]);
    if (n < 0) return cli_usage_error(&CORPUS_SPEC, "--n is required");
    if (!out) return cli_usage_error(&CORPUS_SPEC, "--out is required");
    enum corpus_kind kind;
    if (corpus_kind_parse(kind_name, &kind) != STATUS_OK) return cli_usage_error(&CORPUS_SPEC, "%s", err_msg());
    struct corpus_config cfg;
    corpus_config_default(&cfg);
    enum status st = STATUS_OK;
    if (config) {
        cJSON *j = NULL;
        st = parse_json_arg(config, &j);
        if (st == STATUS_OK) st = corpus_config_set(&cfg, j, "--config");
        cJSON_Delete(j);
        if (st != STATUS_OK) return cli_report(st);
    }
    if (template_name && template_parse(template_name, &cfg.template) != STATUS_OK)
        return cli_usage_error(&CORPUS_SPEC, "%s", err_msg());
    if (seed >= 0) cfg.seed = (uint64_t)seed;
    st = corpus_write(&cfg, kind, (uint64_t)start, (uint64_t)n, out);
    return cli_report(st);
}

static int world_tokenizer(int argc, char **argv) {
    struct cli_parser parser;
    cli_parser_init(&parser, &TOKENIZER_SPEC);
    const char *out = NULL, *config = NULL;
    long long vocab = 512, docs = 20000, seed = 0;
    for (int c; (c = cli_next(&parser, argc, argv)) != -1;) {
        switch (c) {
        case OPT_OUT: out = optarg; break;
        case OPT_CONFIG: config = optarg; break;
        case OPT_VOCAB:
            if (cli_parse_int(&TOKENIZER_SPEC, "--vocab", optarg, 300, 1 << 20, &vocab)) return EXIT_USAGE;
            break;
        case OPT_DOCS:
            if (cli_parse_int(&TOKENIZER_SPEC, "--docs", optarg, 1, INT32_MAX, &docs)) return EXIT_USAGE;
            break;
        case OPT_SEED:
            if (cli_parse_int(&TOKENIZER_SPEC, "--seed", optarg, 0, INT64_MAX, &seed)) return EXIT_USAGE;
            break;
        case CLI_KEY_HELP: cli_print_help(stdout, &TOKENIZER_SPEC); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind < argc) return cli_usage_error(&TOKENIZER_SPEC, "unexpected argument '%s'", argv[optind]);
    if (!out) return cli_usage_error(&TOKENIZER_SPEC, "--out is required");
    struct corpus_config cfg;
    corpus_config_default(&cfg);
    enum status st = STATUS_OK;
    if (config) {
        cJSON *j = NULL;
        st = parse_json_arg(config, &j);
        if (st == STATUS_OK) st = corpus_config_set(&cfg, j, "--config");
        cJSON_Delete(j);
        if (st != STATUS_OK) return cli_report(st);
    }
    cfg.seed = (uint64_t)seed;
    static const struct bpe_added_token added[] = {
        {"<|endoftext|>", true},     {"<think>", false},          {"</think>", false},
        {"<answer>", false},         {"</answer>", false},        {TEMPLATE_R1_ZERO_PREAMBLE, false},
        {"<\uff5cbegin\u2581of\u2581sentence\uff5c>", true}, {"<\uff5cend\u2581of\u2581sentence\uff5c>", true},
        {"<\uff5cUser\uff5c>", true}, {"<\uff5cAssistant\uff5c>", true},
    };
    struct bpe_train_options o = {.added = added, .n_added = sizeof added / sizeof added[0], .vocab_size = (int)vocab,
                                  .min_frequency = 2};
    struct bpe_trainer *t = NULL;
    st = bpe_trainer_init(&t, &o);
    for (long long i = 0; st == STATUS_OK && i < docs + docs / 4; i++) {
        struct corpus_doc d = {0};
        st = corpus_doc(&cfg, i < docs ? CORPUS_PRETRAIN : CORPUS_COLDSTART, (uint64_t)(i < docs ? i : i - docs), &d);
        if (st == STATUS_OK) st = bpe_trainer_add(t, d.text, strlen(d.text));
        corpus_doc_free(&d);
    }
    char *json = NULL;
    if (st == STATUS_OK) st = bpe_trainer_finish(t, &json);
    if (st == STATUS_OK) st = fs_write_atomic(out, json, strlen(json));
    free(json);
    bpe_trainer_free(t);
    if (st == STATUS_OK) fprintf(stderr, "wrote %s\n", out);
    return cli_report(st);
}

/* "3,5,7" or "3 5 7" into numbers. */
static int parse_numbers(const char *s, int64_t *numbers, int *n) {
    *n = 0;
    while (*s) {
        while (*s == ',' || *s == ' ') s++;
        if (!*s) break;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || errno || v < 0 || *n >= TASK_MAX_NUMBERS) return -1;
        numbers[(*n)++] = v;
        s = end;
    }
    return *n > 0 ? 0 : -1;
}

static char *read_stdin(void) {
    struct strbuf sb = {0};
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, stdin)) > 0) strbuf_append(&sb, buf, k);
    return strbuf_detach(&sb);
}

static int world_check(int argc, char **argv) {
    struct cli_parser parser;
    cli_parser_init(&parser, &CHECK_SPEC);
    const char *task_name = NULL, *answer = NULL, *numbers_arg = NULL, *completion_arg = NULL, *rewards = NULL;
    long long tokens = 0, max_tokens = 0;
    for (int c; (c = cli_next(&parser, argc, argv)) != -1;) {
        switch (c) {
        case OPT_TASK:
            task_name = optarg;
            break;
        case OPT_ANSWER:
            answer = optarg;
            break;
        case OPT_NUMBERS:
            numbers_arg = optarg;
            break;
        case OPT_COMPLETION:
            completion_arg = optarg;
            break;
        case OPT_REWARDS:
            rewards = optarg;
            break;
        case OPT_TOKENS:
            if (cli_parse_int(&CHECK_SPEC, "--tokens", optarg, 0, 1 << 30, &tokens)) return EXIT_USAGE;
            break;
        case OPT_MAX_TOKENS:
            if (cli_parse_int(&CHECK_SPEC, "--max-tokens", optarg, 0, 1 << 30, &max_tokens)) return EXIT_USAGE;
            break;
        case CLI_KEY_HELP:
            cli_print_help(stdout, &CHECK_SPEC);
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc) return cli_usage_error(&CHECK_SPEC, "unexpected argument '%s'", argv[optind]);
    if (!task_name) return cli_usage_error(&CHECK_SPEC, "--task is required");
    if (!answer) return cli_usage_error(&CHECK_SPEC, "--answer is required");
    if (!completion_arg) return cli_usage_error(&CHECK_SPEC, "--completion is required");
    enum task_kind kind;
    if (task_kind_parse(task_name, &kind) != STATUS_OK) return cli_usage_error(&CHECK_SPEC, "%s", err_msg());
    struct problem p;
    enum status st;
    if (kind == TASK_COUNTDOWN) {
        int64_t numbers[TASK_MAX_NUMBERS];
        int n;
        if (!numbers_arg) return cli_usage_error(&CHECK_SPEC, "countdown needs --numbers");
        if (parse_numbers(numbers_arg, numbers, &n))
            return cli_usage_error(&CHECK_SPEC, "--numbers: '%s' is not a list of 1 to %d non-negative integers",
                                   numbers_arg, TASK_MAX_NUMBERS);
        long long target;
        if (cli_parse_int(&CHECK_SPEC, "--answer (the countdown target)", answer, -1000000000000LL, 1000000000000LL,
                          &target))
            return EXIT_USAGE;
        st = task_problem_countdown(&p, numbers, n, target, NULL);
    } else {
        if (numbers_arg) return cli_usage_error(&CHECK_SPEC, "--numbers applies to countdown only");
        st = task_problem_from_answer(&p, kind, "", answer);
    }
    if (st != STATUS_OK) return cli_report(st);
    struct reward_spec spec;
    st = reward_spec_parse_text(&spec, "[\"accuracy\", \"format\", \"language\"]", "default rewards");
    ASSERT(st == STATUS_OK);
    if (rewards) {
        cJSON *j = NULL;
        st = parse_json_arg(rewards, &j);
        if (st == STATUS_OK) st = reward_spec_parse(&spec, j, "--rewards");
        cJSON_Delete(j);
    }
    char *text = NULL;
    if (st == STATUS_OK) {
        text = strcmp(completion_arg, "-") == 0 ? read_stdin() : strdup(completion_arg);
        if (!text) st = err_set(STATUS_NOMEM, "out of memory reading the completion");
    }
    if (st != STATUS_OK) {
        task_problem_free(&p);
        return cli_report(st);
    }
    size_t len = strlen(text);
    struct reward_result res;
    reward_score(&spec, &p, text, len, (int)tokens, (int)max_tokens, &res);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "task", task_kind_name(kind));
    cJSON_AddStringToObject(o, "answer", answer);
    char *extracted = NULL, *canonical = NULL;
    if (res.has_answer) {
        extracted = strndup(text + res.answer.off, res.answer.len);
        if (task_canonical_answer(&p, text + res.answer.off, res.answer.len, &canonical) != STATUS_OK) canonical = NULL;
    }
    if (extracted)
        cJSON_AddStringToObject(o, "extracted", extracted);
    else
        cJSON_AddNullToObject(o, "extracted");
    if (canonical)
        cJSON_AddStringToObject(o, "canonical", canonical);
    else
        cJSON_AddNullToObject(o, "canonical");
    if (kind == TASK_COUNTDOWN && res.has_answer)
        cJSON_AddStringToObject(o, "countdown",
                                task_countdown_verdict_name(
                                    task_countdown_check(p.countdown.numbers, p.countdown.n, p.countdown.target,
                                                         text + res.answer.off, res.answer.len, NULL, NULL, 0, NULL)));
    cJSON_AddBoolToObject(o, "correct", res.correct);
    cJSON_AddBoolToObject(o, "format_ok", res.format_ok);
    cJSON_AddBoolToObject(o, "reflection", res.reflection);
    cJSON *r = cJSON_AddObjectToObject(o, "rewards");
    for (size_t i = 0; i < spec.n; i++) cJSON_AddNumberToObject(r, reward_kind_name(spec.terms[i].kind), res.value[i]);
    cJSON_AddNumberToObject(o, "total", res.total);
    char *s = cJSON_PrintUnformatted(o);
    int rc = EXIT_OK;
    if (s)
        printf("%s\n", s);
    else
        rc = cli_report(err_set(STATUS_NOMEM, "out of memory printing the result"));
    free(s);
    cJSON_Delete(o);
    free(extracted);
    free(canonical);
    free(text);
    task_problem_free(&p);
    return rc;
}

int cmd_world(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_print_help(argc < 2 ? stderr : stdout, &WORLD_SPEC);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *action = argv[1];
    if (strcmp(action, "sample") == 0) return world_sample(argc - 1, argv + 1);
    if (strcmp(action, "corpus") == 0) return world_corpus(argc - 1, argv + 1);
    if (strcmp(action, "check") == 0) return world_check(argc - 1, argv + 1);
    if (strcmp(action, "tokenizer") == 0) return world_tokenizer(argc - 1, argv + 1);
    return cli_usage_error(&WORLD_SPEC, "unknown action '%s' (valid: sample, corpus, check, tokenizer)", action);
}
