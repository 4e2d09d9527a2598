/* r1lab generate: continue a prompt with a checkpoint, streaming the text as it is produced. A thin front
 * end over the rollout engine (one prompt, --n samples sharing its prefix). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "engine/model/rollout.h"
#include "engine/run/session.h"
#include "engine/util/json.h"

enum { OPT_PROMPT = 'p', OPT_MAX = 'n', OPT_TEMP = 't', OPT_JSON = 256, OPT_TOP_P, OPT_TOP_K, OPT_SEED, OPT_STOP,
       OPT_NO_SPECIAL, OPT_DEVICE, OPT_THREADS, OPT_RAW, OPT_SAMPLES };
static const struct cli_option options[] = {
    {"prompt", OPT_PROMPT, "TEXT", "the prompt ('-' reads stdin); required"},
    {"max-tokens", OPT_MAX, "N", "new tokens at most (default 128)"},
    {"temperature", OPT_TEMP, "T", "sampling temperature; 0 = greedy (default 0)"},
    {"top-p", OPT_TOP_P, "P", "nucleus sampling mass in (0, 1] (default 1)"},
    {"top-k", OPT_TOP_K, "K", "sample among the K most likely tokens; 0 = off (default 0)"},
    {"seed", OPT_SEED, "S", "random seed (default 0)"},
    {"stop", OPT_STOP, "STR", "stop after this string (repeatable, up to 4)"},
    {"samples", OPT_SAMPLES, "N", "generate N samples of the same prompt (default 1)"},
    {"json", OPT_JSON, NULL, "print {\"prompt_ids\", \"new_ids\", \"text\", \"finish\"} (one line per sample)"},
    {"no-special", OPT_NO_SPECIAL, NULL, "do not add the tokenizer's special tokens (e.g. BOS) to the prompt"},
    {"raw", OPT_RAW, NULL, "print model text unfiltered even on a terminal"},
    {"device", OPT_DEVICE, "DEV", "auto, cpu, cuda or cuda:N (default auto)"},
    {"threads", OPT_THREADS, "N", "CPU threads (default: all cores)"},
};
static const struct cli_spec spec = {
    .name = "generate",
    .synopsis = "CKPT --prompt TEXT [--max-tokens N] [--temperature T] [--top-p P] [--seed S] [--json] [options]",
    .summary = "Continue a prompt with a checkpoint.",
    .details = "The prompt is used as given (no chat template; see r1lab chat for templates). Text streams to\n"
               "stdout as it is generated; on a terminal, control characters in model output are neutralised.",
    .options = options,
    .n_options = sizeof options / sizeof options[0],
};

struct stream_ctx {
    bool stream, raw;
};

static bool on_token(void *user, int seq, int32_t id, const char *piece, size_t len) {
    (void)seq, (void)id;
    struct stream_ctx *ctx = user;
    if (ctx->stream && len) {
        cli_write_text(stdout, piece, len, ctx->raw);
        fflush(stdout);
    }
    return true;
}

static char *read_all(FILE *f) {
    size_t cap = 4096, n = 0, r;
    char *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    if (buf) buf[n] = '\0';
    return buf;
}

static void print_json(const struct token_buf *prompt, const struct rollout_seq *q) {
    printf("{\"prompt_ids\": [");
    for (size_t i = 0; i < prompt->n; i++) printf("%s%d", i ? ", " : "", prompt->ids[i]);
    printf("], \"new_ids\": [");
    for (int i = 0; i < q->n; i++) printf("%s%d", i ? ", " : "", q->ids[i]);
    size_t cap = q->text_len * 6 + 3;
    char *esc = malloc(cap);
    if (esc) json_escape(esc, cap, q->text);
    printf("], \"text\": %s, \"finish\": \"%s\"}\n", esc ? esc : "\"\"", finish_reason_name(q->finish));
    free(esc);
}

int cmd_generate(int argc, char **argv) {
    struct cli_parser p;
    cli_parser_init(&p, &spec);
    const char *prompt_arg = NULL, *device = "auto";
    long long max_tokens = 128, top_k = 0, seed = 0, threads = 0, samples = 1;
    double temperature = 0, top_p = 1;
    bool json = false, special = true, raw = false;
    struct rollout_options ro = {0};
    int n_stop = 0, c;
    while ((c = cli_next(&p, argc, argv)) != -1) {
        switch (c) {
        case CLI_KEY_HELP: cli_print_help(stdout, &spec); return EXIT_OK;
        case OPT_PROMPT: prompt_arg = optarg; break;
        case OPT_MAX:
            if (cli_parse_int(&spec, "--max-tokens", optarg, 1, 1 << 20, &max_tokens)) return EXIT_USAGE;
            break;
        case OPT_TEMP:
            if (cli_parse_double(&spec, "--temperature", optarg, 0, 100, &temperature)) return EXIT_USAGE;
            break;
        case OPT_TOP_P:
            if (cli_parse_double(&spec, "--top-p", optarg, 1e-9, 1, &top_p)) return EXIT_USAGE;
            break;
        case OPT_TOP_K:
            if (cli_parse_int(&spec, "--top-k", optarg, 0, 1 << 24, &top_k)) return EXIT_USAGE;
            break;
        case OPT_SEED:
            if (cli_parse_int(&spec, "--seed", optarg, 0, INT64_MAX, &seed)) return EXIT_USAGE;
            break;
        case OPT_SAMPLES:
            if (cli_parse_int(&spec, "--samples", optarg, 1, 4096, &samples)) return EXIT_USAGE;
            break;
        case OPT_STOP:
            if (n_stop == ROLLOUT_MAX_STOP) return cli_usage_error(&spec, "at most %d --stop strings", ROLLOUT_MAX_STOP);
            ro.stop[n_stop++] = optarg;
            break;
        case OPT_JSON: json = true; break;
        case OPT_NO_SPECIAL: special = false; break;
        case OPT_RAW: raw = true; break;
        case OPT_DEVICE: device = optarg; break;
        case OPT_THREADS:
            if (cli_parse_int(&spec, "--threads", optarg, 0, 1024, &threads)) return EXIT_USAGE;
            break;
        default: return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) return cli_usage_error(&spec, "expected one checkpoint");
    if (!prompt_arg) return cli_usage_error(&spec, "--prompt is required");
    cli_install_log(1);
    char *prompt = strcmp(prompt_arg, "-") == 0 ? read_all(stdin) : strdup(prompt_arg);
    if (!prompt) return cli_report(err_set(STATUS_NOMEM, "cannot read the prompt"));
    struct session s;
    enum status st = session_open(&s, argv[optind], device, (int)threads);
    if (st != STATUS_OK) {
        free(prompt);
        return cli_report(st);
    }
    struct token_buf ids = {0};
    st = session_encode(&s, prompt, special, &ids);
    if (st == STATUS_OK && ids.n == 0) st = err_set(STATUS_INVALID, "the prompt is empty");
    ro.sampling = (struct sampler_params){.temperature = (float)temperature, .top_p = (float)top_p, .top_k = (int)top_k};
    ro.max_new_tokens = (int)max_tokens;
    ro.seed = (uint64_t)seed;
    struct rollout r = {0};
    if (st == STATUS_OK) st = rollout_init(&r, &s.model, s.tok, (int)samples, (int)(ids.n + max_tokens));
    if (st == STATUS_OK) {
        const int32_t *prompts[1] = {ids.ids};
        int lens[1] = {(int)ids.n};
        struct stream_ctx ctx = {.stream = !json && samples == 1, .raw = raw};
        st = rollout_run(&r, prompts, lens, 1, (int)samples, &ro, on_token, NULL, &ctx, NULL);
        if (st == STATUS_OK) {
            for (int i = 0; i < samples; i++) {
                if (json) {
                    print_json(&ids, &r.seqs[i]);
                } else if (samples > 1) {
                    printf("--- sample %d (%s)\n", i + 1, finish_reason_name(r.seqs[i].finish));
                    cli_write_text(stdout, r.seqs[i].text, r.seqs[i].text_len, raw);
                    printf("\n");
                } else {
                    printf("\n");
                }
            }
        }
    }
    rollout_free(&r);
    token_buf_free(&ids);
    session_close(&s);
    free(prompt);
    return cli_report(st);
}
