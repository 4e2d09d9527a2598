/* Fuzz target: text through the shipped tokenizers (the built-in world's and the Llama-3-style and Qwen2-style
 * test fixtures: added tokens, normalizers, Split regexes, ByteLevel). The first byte picks the tokenizer and
 * whether special tokens are added; the rest is the text, as a prompt or a dataset line would reach
 * tokenizer_encode. Checks: invalid UTF-8 is refused, valid text encodes; ids decode; the streaming decoder
 * agrees with the full decode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer/tokenizer.h"
#include "engine/util/utf8.h"
#include "lib/fuzz_util.h"

static const char *const PATHS[] = {
    FUZZ_ROOT "/models/world/tokenizer.json",
    FUZZ_ROOT "/tests/fixtures/tokenizers/llama3/tokenizer.json",
    FUZZ_ROOT "/tests/fixtures/tokenizers/qwen2/tokenizer.json",
    FUZZ_ROOT "/tests/fixtures/tokenizers/misc_a/tokenizer.json",
};
#define N_TOK (sizeof PATHS / sizeof PATHS[0])
static struct tokenizer *toks[N_TOK];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    for (size_t i = 0; i < N_TOK; i++)
        if (tokenizer_load(&toks[i], PATHS[i]) != STATUS_OK) {
            fprintf(stderr, "%s\n", err_msg());
            abort();
        }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const struct tokenizer *tok = toks[data[0] % N_TOK];
    bool special = data[0] & 0x80;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    struct token_buf ids = {0};
    enum status st = tokenizer_encode(tok, text, n, special, &ids);
    size_t bad;
    if (utf8_valid(text, n, &bad) != (st == STATUS_OK)) abort(); /* exactly the invalid texts are refused */
    if (st == STATUS_OK) {
        char *out;
        size_t len;
        if (tokenizer_decode(tok, ids.ids, ids.n, false, &out, &len) != STATUS_OK) abort(); /* own ids decode */
        size_t cap = tokenizer_max_token_bytes(tok) + 32, got = 0;
        char *piece = malloc(cap);
        if (!piece) abort();
        struct tokenizer_stream s;
        tokenizer_stream_init(&s, false);
        for (size_t i = 0; i < ids.n; i++) {
            size_t k = tokenizer_stream_push(tok, &s, ids.ids[i], piece, cap);
            if (got + k > len || memcmp(out + got, piece, k) != 0) abort();
            got += k;
        }
        size_t k = tokenizer_stream_flush(&s, piece, cap);
        if (got + k != len || memcmp(out + got, piece, k) != 0) abort();
        free(piece);
        free(out);
    }
    token_buf_free(&ids);
    return 0;
}
