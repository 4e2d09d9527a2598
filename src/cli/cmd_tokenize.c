/* cmd_tokenize: `r1lab tokenize` — text to token ids and back with a checkpoint's tokenizer.json, the same
 * ids Hugging Face tokenizers gives. Encoding prints one JSON array on one line; decoding prints the text,
 * byte-exact into a pipe and with control characters made visible on a terminal (unless --raw). */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "engine/tokenizer/tokenizer.h"

enum { OPT_NO_SPECIAL = 256, OPT_SKIP_SPECIAL, OPT_RAW };

static const struct cli_option tokenize_options[] = {
    {"decode", 'd', NULL, "TEXT is token ids (JSON array, or ints separated by spaces/commas): print their text"},
    {"no-special", OPT_NO_SPECIAL, NULL, "encode without the special tokens the tokenizer adds (e.g. Llama-3's BOS)"},
    {"skip-special", OPT_SKIP_SPECIAL, NULL, "with --decode: leave special tokens out of the text"},
    {"raw", OPT_RAW, NULL, "with --decode: print control characters as they are, even on a terminal"},
};

static const struct cli_spec tokenize_spec = {
    .name = "tokenize",
    .synopsis = "[--no-special] PATH TEXT | --decode [--skip-special] [--raw] PATH IDS",
    .summary = "encode text into token ids, or decode token ids into text",
    .details = "PATH is a checkpoint directory or a tokenizer.json file. TEXT (or IDS) '-' reads standard input.\n"
               "Encoding adds the tokenizer's special tokens, as tokenizers' encode() does by default.",
    .options = tokenize_options,
    .n_options = sizeof tokenize_options / sizeof tokenize_options[0],
};

/* Reads all of standard input into a NUL-terminated malloc'd buffer. */
static int tokenize_read_stdin(char **out, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) break;
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, stdin);
        n += got;
        if (got == 0) {
            if (ferror(stdin)) {
                fprintf(stderr, "r1lab: error: reading standard input: %s\n", strerror(errno));
                free(buf);
                return EXIT_FAILURE_;
            }
            buf[n] = '\0';
            *out = buf;
            *len = n;
            return EXIT_OK;
        }
    }
    free(buf);
    fprintf(stderr, "r1lab: error: out of memory reading standard input\n");
    return EXIT_FAILURE_;
}

/* "[1, 2, 3]", "1 2 3" or "1,2,3" -> ids. Anything else is a usage error. */
static int tokenize_parse_ids(const char *s, struct token_buf *ids) {
    const char *p = s;
    while (*p) {
        if (isspace((unsigned char)*p) || *p == ',' || *p == '[' || *p == ']') {
            p++;
            continue;
        }
        if (!isdigit((unsigned char)*p))
            return cli_usage_error(&tokenize_spec, "IDS: '%.20s' is not a token id (expected integers >= 0)", p);
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno || v > INT32_MAX)
            return cli_usage_error(&tokenize_spec, "IDS: '%.20s' is out of range for a token id", p);
        if (token_buf_push(ids, (int32_t)v) != STATUS_OK) return cli_report(STATUS_NOMEM);
        p = end;
    }
    return EXIT_OK;
}

static int tokenize_encode(const struct tokenizer *tok, const char *text, size_t len, bool add_special) {
    struct token_buf ids = {0};
    enum status st = tokenizer_encode(tok, text, len, add_special, &ids);
    if (st != STATUS_OK) return cli_report(st);
    putchar('[');
    for (size_t i = 0; i < ids.n; i++) printf(i ? ", %d" : "%d", ids.ids[i]);
    putchar(']');
    putchar('\n');
    token_buf_free(&ids);
    return EXIT_OK;
}

static int tokenize_decode(const struct tokenizer *tok, const char *arg, bool skip_special, bool raw) {
    struct token_buf ids = {0};
    int rc = tokenize_parse_ids(arg, &ids);
    if (rc != EXIT_OK) {
        token_buf_free(&ids);
        return rc;
    }
    char *text;
    size_t len;
    enum status st = tokenizer_decode(tok, ids.ids, ids.n, skip_special, &text, &len);
    token_buf_free(&ids);
    if (st != STATUS_OK) return cli_report(st);
    /* Into a pipe or file: exactly the decoded bytes; on a terminal, neutralised and ended with a newline. */
    cli_write_text(stdout, text, len, raw);
    if (isatty(STDOUT_FILENO)) putchar('\n');
    free(text);
    return EXIT_OK;
}

int cmd_tokenize(int argc, char **argv) {
    struct cli_parser parser;
    cli_parser_init(&parser, &tokenize_spec);
    bool decode = false, no_special = false, skip_special = false, raw = false;
    int c;
    while ((c = cli_next(&parser, argc, argv)) != -1) {
        switch (c) {
        case 'd':
            decode = true;
            break;
        case OPT_NO_SPECIAL:
            no_special = true;
            break;
        case OPT_SKIP_SPECIAL:
            skip_special = true;
            break;
        case OPT_RAW:
            raw = true;
            break;
        case CLI_KEY_HELP:
            cli_print_help(stdout, &tokenize_spec);
            return EXIT_OK;
        default:
            return EXIT_USAGE; /* already reported */
        }
    }
    if (argc - optind != 2)
        return cli_usage_error(&tokenize_spec, argc - optind < 2 ? "expected PATH and TEXT" : "too many arguments");
    if (decode && no_special) return cli_usage_error(&tokenize_spec, "--no-special applies to encoding, not --decode");
    if (!decode && (skip_special || raw))
        return cli_usage_error(&tokenize_spec, "%s applies to --decode only",
                               skip_special ? "--skip-special" : "--raw");
    const char *path = argv[optind], *arg = argv[optind + 1];

    cli_install_log(0); /* the loader warns about added-token ids that disagree with the file */
    struct tokenizer *tok;
    enum status st = tokenizer_load(&tok, path);
    if (st != STATUS_OK) return cli_report(st);
    char *input = NULL;
    size_t len = strlen(arg);
    int rc = EXIT_OK;
    if (strcmp(arg, "-") == 0) {
        rc = tokenize_read_stdin(&input, &len);
        arg = input;
    }
    if (rc == EXIT_OK)
        rc = decode ? tokenize_decode(tok, arg, skip_special, raw) : tokenize_encode(tok, arg, len, !no_special);
    if (rc == EXIT_OK && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "r1lab: error: writing standard output: %s\n", strerror(errno));
        rc = EXIT_FAILURE_;
    }
    free(input);
    tokenizer_free(tok);
    return rc;
}
