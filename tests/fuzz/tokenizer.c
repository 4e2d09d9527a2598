/* Fuzz target: tokenizer.json (model, vocab, merges, added tokens, normalizer, pre-tokenizer with its regexes,
 * post-processor, decoder), loaded by path as for a checkpoint. An accepted tokenizer encodes and decodes a
 * fixed text, with and without special tokens, and stream-decodes the ids, which must give the full decode's
 * text (tokenizer.h promises the two agree). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer/tokenizer.h"
#include "lib/fuzz_util.h"

static const char SAMPLE[] = "Solve: 2x + 3 = 7. <think> 2x = 4 </think> <answer> 2 </answer>\n"
                             "caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80  12345 don't <|endoftext|>";

static void check_stream(const struct tokenizer *tok, const struct token_buf *ids, const char *full, size_t n) {
    size_t cap = tokenizer_max_token_bytes(tok) + 32;
    char *piece = malloc(cap);
    char *got = malloc(n + cap + 1);
    if (!piece || !got) abort();
    struct tokenizer_stream s;
    tokenizer_stream_init(&s, false);
    size_t len = 0;
    for (size_t i = 0; i < ids->n && len <= n; i++) {
        size_t k = tokenizer_stream_push(tok, &s, ids->ids[i], piece, cap);
        if (len + k > n) abort(); /* more text than the full decode */
        memcpy(got + len, piece, k);
        len += k;
    }
    size_t k = tokenizer_stream_flush(&s, piece, cap);
    if (len + k != n || memcmp(got, full, len) != 0 || memcmp(piece, full + len, k) != 0) abort();
    free(piece);
    free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path("tokenizer.json");
    fuzz_write(path, data, size);
    struct tokenizer *tok;
    if (tokenizer_load(&tok, path) != STATUS_OK) return 0;
    for (int special = 0; special < 2; special++) {
        struct token_buf ids = {0};
        if (tokenizer_encode(tok, SAMPLE, sizeof SAMPLE - 1, special, &ids) == STATUS_OK) {
            char *text;
            size_t n;
            if (tokenizer_decode(tok, ids.ids, ids.n, false, &text, &n) == STATUS_OK) {
                check_stream(tok, &ids, text, n);
                free(text);
            }
        }
        token_buf_free(&ids);
    }
    for (size_t id = 0; id < tokenizer_vocab_size(tok) && id < 512; id++) {
        const char *s = tokenizer_token_str(tok, (int32_t)id);
        if (s && tokenizer_token_id(tok, s) < 0) abort(); /* every stored token string maps back to an id */
    }
    tokenizer_free(tok);
    return 0;
}
