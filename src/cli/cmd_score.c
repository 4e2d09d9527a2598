/* r1lab score: per-token log-probabilities of a text under a checkpoint — the quantity GRPO's ratios and
 * KL are built from, so a user can check a model (or r1lab) against another implementation. */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "engine/run/session.h"
#include "text/sanitize.h"

enum { OPT_JSON = 256, OPT_NO_SPECIAL, OPT_DEVICE, OPT_THREADS };
static const struct cli_option options[] = {
    {"json", OPT_JSON, NULL, "print {\"ids\": [...], \"logprobs\": [...], \"sum\": x}"},
    {"no-special", OPT_NO_SPECIAL, NULL, "do not add the tokenizer's special tokens (e.g. BOS)"},
    {"device", OPT_DEVICE, "DEV", "auto, cpu, cuda or cuda:N (default auto)"},
    {"threads", OPT_THREADS, "N", "CPU threads (default: all cores)"},
};
static const struct cli_spec spec = {
    .name = "score",
    .synopsis = "CKPT TEXT [--json] [options]",
    .summary = "Print the log-probability of every token of TEXT given the tokens before it.",
    .details = "logprobs[i] is log p(ids[i+1] | ids[0..i]); the first token is not scored. TEXT '-' reads stdin.",
    .options = options,
    .n_options = sizeof options / sizeof options[0],
};

static char *read_stdin(void) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, stdin)) > 0) {
        n += r;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    if (buf) buf[n] = '\0';
    return buf;
}

int cmd_score(int argc, char **argv) {
    struct cli_parser p;
    cli_parser_init(&p, &spec);
    bool json = false, special = true;
    const char *device = "auto";
    long long threads = 0;
    int c;
    while ((c = cli_next(&p, argc, argv)) != -1) {
        switch (c) {
        case CLI_KEY_HELP: cli_print_help(stdout, &spec); return EXIT_OK;
        case OPT_JSON: json = true; break;
        case OPT_NO_SPECIAL: special = false; break;
        case OPT_DEVICE: device = optarg; break;
        case OPT_THREADS:
            if (cli_parse_int(&spec, "--threads", optarg, 0, 1024, &threads)) return EXIT_USAGE;
            break;
        default: return EXIT_USAGE;
        }
    }
    if (optind + 2 != argc) return cli_usage_error(&spec, "expected a checkpoint and a text");
    cli_install_log(1);
    char *text = strcmp(argv[optind + 1], "-") == 0 ? read_stdin() : strdup(argv[optind + 1]);
    if (!text) return cli_report(err_set(STATUS_NOMEM, "cannot read the text"));
    struct session s;
    struct token_buf ids = {0};
    enum status st = session_open(&s, argv[optind], device, (int)threads);
    if (st != STATUS_OK) {
        free(text);
        return cli_report(st);
    }
    st = session_encode(&s, text, special, &ids);
    if (st == STATUS_OK && ids.n < 2) st = err_set(STATUS_INVALID, "the text has %zu token(s); at least 2 are needed to score", ids.n);
    float *logp = NULL;
    if (st == STATUS_OK) {
        struct batch_builder bb;
        st = batch_builder_init(&bb, (int)ids.n, 1);
        if (st == STATUS_OK) st = batch_builder_add(&bb, ids.ids, (int)ids.n, 1);
        logp = malloc(sizeof(float) * ids.n);
        if (st == STATUS_OK && !logp) st = err_set(STATUS_NOMEM, "cannot allocate scores");
        if (st == STATUS_OK) {
            struct batch b = batch_builder_view(&bb);
            st = model_reserve(&s.model, b.N, b.N, false);
            if (st == STATUS_OK) st = model_forward(&s.model, &b, logp, NULL);
        }
        batch_builder_free(&bb);
    }
    if (st == STATUS_OK) {
        double sum = 0;
        for (size_t i = 0; i + 1 < ids.n; i++) sum += logp[i];
        if (json) {
            printf("{\"ids\": [");
            for (size_t i = 0; i < ids.n; i++) printf("%s%d", i ? ", " : "", ids.ids[i]);
            printf("], \"logprobs\": [");
            for (size_t i = 0; i + 1 < ids.n; i++) printf("%s%.9g", i ? ", " : "", logp[i]);
            printf("], \"sum\": %.9g}\n", sum);
        } else {
            printf("%6s  %8s  %10s  %s\n", "pos", "id", "logprob", "token");
            for (size_t i = 0; i < ids.n; i++) {
                char *piece = NULL;
                size_t len = 0;
                if (tokenizer_decode(s.tok, &ids.ids[i], 1, false, &piece, &len) != STATUS_OK) len = 0;
                if (i == 0) printf("%6zu  %8d  %10s  ", i, ids.ids[i], "-");
                else printf("%6zu  %8d  %10.4f  ", i, ids.ids[i], logp[i - 1]);
                /* One token per row: even a newline is shown as a symbol, so rows stay rows. */
                char shown[256];
                size_t used = 0;
                size_t n = san_text(piece ? piece : "", len, 0, shown, sizeof shown, &used);
                fwrite(shown, 1, n, stdout);
                printf("\n");
                free(piece);
            }
            printf("total log-probability %.6f over %zu scored tokens (perplexity %.3f)\n", sum, ids.n - 1,
                   exp(-sum / (double)(ids.n - 1)));
        }
    }
    free(logp);
    free(text);
    token_buf_free(&ids);
    session_close(&s);
    return cli_report(st);
}
