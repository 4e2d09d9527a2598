/* Tests for the tokenizer against Hugging Face tokenizers: every golden case id-exact (with and without
 * special tokens), decode exact (with and without skip_special), streaming decode equal to full decode with
 * every chunk whole UTF-8; malformed tokenizer.json files rejected with messages naming the file and the
 * field; encoding from two threads at once. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer/tokenizer.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "engine/util/utf8.h"
#include "harness.h"
#include "tok_fixtures.h"

static struct tokenizer *load_fixture(const char *name) {
    char *dir = tok_fixture_dir(name);
    struct tokenizer *tok;
    cr_assert_eq(tokenizer_load(&tok, dir), STATUS_OK, "%s", err_msg());
    free(dir);
    return tok;
}

static bool ids_equal(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

static void print_ids(const char *label, const int32_t *ids, size_t n) {
    fprintf(stderr, "    %s:", label);
    for (size_t i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, n > 40 ? " ...\n" : "\n");
}

/* Streams ids through tokenizer_stream_push one at a time; checks each chunk is whole UTF-8 (a NUL byte is
 * a character too); returns the concatenation (malloc'd, *len bytes) or NULL after reporting a bad chunk. */
static char *stream_decode(const struct tokenizer *tok, const int32_t *ids, size_t n, bool skip, const char *what,
                           size_t *len) {
    size_t cap = tokenizer_max_token_bytes(tok) + 32;
    char *chunk = malloc(cap);
    char *acc = malloc(1);
    size_t n_acc = 0;
    struct tokenizer_stream s;
    tokenizer_stream_init(&s, skip);
    bool ok = true;
    for (size_t i = 0; i <= n; i++) {
        size_t k = i < n ? tokenizer_stream_push(tok, &s, ids[i], chunk, cap) : tokenizer_stream_flush(&s, chunk, cap);
        if (!utf8_valid(chunk, k, NULL) || chunk[k] != '\0') {
            cr_expect(false, "%s: stream chunk %zu is not whole, NUL-terminated UTF-8", what, i);
            ok = false;
        }
        acc = realloc(acc, n_acc + k + 1);
        memcpy(acc + n_acc, chunk, k);
        n_acc += k;
    }
    acc[n_acc] = '\0';
    free(chunk);
    if (!ok) {
        free(acc);
        return NULL;
    }
    *len = n_acc;
    return acc;
}

/* Runs every golden case of one tokenizer; prints a one-line summary and the first few mismatches. */
static void check_fixture(const char *name) {
    struct tokenizer *tok = load_fixture(name);
    size_t n;
    struct tok_case *cases = tok_cases_load(name, &n);
    cr_assert_gt(n, 100, "expected the full case list for %s", name);
    size_t bad_ids = 0, bad_decode = 0, bad_stream = 0;
    for (size_t i = 0; i < n; i++) {
        struct tok_case *c = &cases[i];
        for (int special = 0; special < 2; special++) {
            struct token_buf got = {0};
            cr_assert_eq(tokenizer_encode(tok, c->text, strlen(c->text), special, &got), STATUS_OK, "%s", err_msg());
            const int32_t *want = special ? c->ids_special : c->ids;
            size_t n_want = special ? c->n_ids_special : c->n_ids;
            if (!ids_equal(got.ids, got.n, want, n_want)) {
                if (bad_ids++ < 5) {
                    fprintf(stderr, "  %s cases.jsonl:%d (special=%d) ids differ\n", name, c->line, special);
                    print_ids("want", want, n_want);
                    print_ids("got ", got.ids, got.n);
                }
            }
            token_buf_free(&got);
        }
        for (int skip = 0; skip < 2; skip++) {
            const char *want = skip ? c->decoded_skip : c->decoded;
            char *text;
            size_t len;
            cr_assert_eq(tokenizer_decode(tok, c->ids_special, c->n_ids_special, skip, &text, &len), STATUS_OK, "%s",
                         err_msg());
            if (strcmp(text, want) != 0 || len != strlen(want)) {
                if (bad_decode++ < 5)
                    fprintf(stderr, "  %s cases.jsonl:%d (skip=%d) decode differs\n    want: %s\n    got:  %s\n", name,
                            c->line, skip, want, text);
            }
            char what[96];
            snprintf(what, sizeof what, "%s cases.jsonl:%d skip=%d", name, c->line, skip);
            size_t slen;
            char *streamed = stream_decode(tok, c->ids_special, c->n_ids_special, skip, what, &slen);
            if (!streamed || slen != len || memcmp(streamed, text, len) != 0) bad_stream++;
            free(streamed);
            free(text);
        }
    }
    fprintf(stderr, "  tokenizer %-7s %zu cases: %zu id mismatches, %zu decode mismatches, %zu stream mismatches\n",
            name, n, bad_ids, bad_decode, bad_stream);
    cr_expect_eq(bad_ids, 0, "%s: %zu encodings differ from tokenizers", name, bad_ids);
    cr_expect_eq(bad_decode, 0, "%s: %zu decodings differ from tokenizers", name, bad_decode);
    cr_expect_eq(bad_stream, 0, "%s: %zu streamed decodings differ from the full decode", name, bad_stream);
    tok_cases_free(cases, n);
    tokenizer_free(tok);
}

Test(tokenizer, gpt2_matches_hf) {
    check_fixture("gpt2");
}
Test(tokenizer, qwen2_matches_hf) {
    check_fixture("qwen2");
}
Test(tokenizer, llama3_matches_hf) {
    check_fixture("llama3");
}
Test(tokenizer, misc_a_matches_hf) {
    check_fixture("misc_a");
}
Test(tokenizer, misc_b_matches_hf) {
    check_fixture("misc_b");
}

Test(tokenizer, lookups) {
    struct tokenizer *tok = load_fixture("qwen2");
    int32_t im_start = tokenizer_token_id(tok, "<|im_start|>");
    int32_t think = tokenizer_token_id(tok, "<think>");
    cr_expect_eq(im_start, 1071);
    cr_expect_eq(think, 1073);
    cr_expect(tokenizer_is_special(tok, im_start));
    cr_expect(!tokenizer_is_special(tok, think));
    cr_expect_eq(tokenizer_vocab_size(tok), 1077);
    cr_expect_str_eq(tokenizer_token_str(tok, im_start), "<|im_start|>");
    cr_expect_eq(tokenizer_token_id(tok, "Ġ"), 220, "vocabulary entries are looked up by their byte-level spelling");
    cr_expect_eq(tokenizer_token_id(tok, "no such token"), -1);
    cr_expect_null(tokenizer_token_str(tok, 5000));
    cr_expect_null(tokenizer_token_str(tok, -1));
    cr_expect(strstr(tokenizer_path(tok), "qwen2/tokenizer.json") != NULL, "%s", tokenizer_path(tok));
    tokenizer_free(tok);
}

Test(tokenizer, rejects_bad_ids_and_bad_text) {
    struct tokenizer *tok = load_fixture("gpt2");
    int32_t ids[] = {10, 1000, 11};
    char *text;
    size_t len;
    cr_expect_eq(tokenizer_decode(tok, ids, 3, false, &text, &len), STATUS_INVALID);
    cr_expect(strstr(err_msg(), "1000") != NULL, "%s", err_msg());
    cr_expect_null(text);
    int32_t neg = -1;
    cr_expect_eq(tokenizer_decode(tok, &neg, 1, false, &text, &len), STATUS_INVALID);
    struct token_buf out = {0};
    cr_assert_eq(token_buf_push(&out, 7), STATUS_OK);
    cr_expect_eq(tokenizer_encode(tok, "ok \xff bad", 8, true, &out), STATUS_INVALID);
    cr_expect(strstr(err_msg(), "UTF-8") != NULL, "%s", err_msg());
    cr_expect_eq(out.n, 1, "a failed encode appends nothing");
    token_buf_free(&out);
    tokenizer_free(tok);
}

Test(tokenizer, stream_holds_back_split_characters) {
    struct tokenizer *tok = load_fixture("gpt2");
    /* 你 is E4 BD A0; GPT-2 spells those bytes "ä", "½" and "ł" (A0 is not printable, so it maps past U+00FF). */
    int32_t e4 = tokenizer_token_id(tok, "ä"), bd = tokenizer_token_id(tok, "½"), a0 = tokenizer_token_id(tok, "ł");
    int32_t A = tokenizer_token_id(tok, "A");
    cr_assert(e4 >= 0 && bd >= 0 && a0 >= 0 && A >= 0);
    size_t cap = tokenizer_max_token_bytes(tok) + 32;
    char *out = malloc(cap);
    struct tokenizer_stream s;
    tokenizer_stream_init(&s, false);
    cr_expect_eq(tokenizer_stream_push(tok, &s, e4, out, cap), 0);
    cr_expect_eq(tokenizer_stream_push(tok, &s, bd, out, cap), 0);
    cr_expect_eq(tokenizer_stream_push(tok, &s, a0, out, cap), 3);
    cr_expect_str_eq(out, "你");
    /* A lead byte followed by ASCII: the lead byte alone is one U+FFFD, then the ASCII. */
    cr_expect_eq(tokenizer_stream_push(tok, &s, e4, out, cap), 0);
    tokenizer_stream_push(tok, &s, A, out, cap);
    cr_expect_str_eq(out, "\xEF\xBF\xBD"
                          "A");
    /* An unfinished character at the end comes out of flush as one U+FFFD. */
    tokenizer_stream_push(tok, &s, e4, out, cap);
    tokenizer_stream_push(tok, &s, bd, out, cap);
    cr_expect_eq(tokenizer_stream_flush(&s, out, cap), 3);
    cr_expect_str_eq(out, "\xEF\xBF\xBD");
    cr_expect_eq(tokenizer_stream_flush(&s, out, cap), 0);
    free(out);
    tokenizer_free(tok);
}

/* Random id sequences (many of them broken UTF-8, special tokens mixed in): streaming equals full decode. */
Test(tokenizer, stream_equals_full_decode_on_random_ids) {
    struct tokenizer *tok = load_fixture("qwen2");
    int32_t V = (int32_t)tokenizer_vocab_size(tok);
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    int32_t ids[24];
    for (int round = 0; round < 3000; round++) {
        size_t n = 1 + round % 24;
        for (size_t i = 0; i < n; i++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            /* Favour the 256 single-byte tokens so that byte sequences are often ill-formed. */
            ids[i] = (int32_t)((rng >> 33) % (uint64_t)((rng >> 20) & 1 ? 256 : V));
        }
        for (int skip = 0; skip < 2; skip++) {
            char *full;
            size_t len;
            cr_assert_eq(tokenizer_decode(tok, ids, n, skip, &full, &len), STATUS_OK, "%s", err_msg());
            char what[32];
            snprintf(what, sizeof what, "round %d", round);
            size_t slen;
            char *streamed = stream_decode(tok, ids, n, skip, what, &slen);
            cr_assert_not_null(streamed);
            cr_assert(slen == len && memcmp(streamed, full, len) == 0, "round %d skip %d", round, skip);
            cr_assert(utf8_valid(full, len, NULL));
            free(streamed);
            free(full);
        }
    }
    tokenizer_free(tok);
}

/* Byte-level BPE without a normaliser loses nothing: decode(encode(s)) == s, also for long inputs
 * (a 100k-space run needs more than PCRE2's default JIT stack). */
Test(tokenizer, round_trip_random_and_long_text) {
    struct tokenizer *tok = load_fixture("llama3");
    static const uint32_t pool[] = {'a',    'Z',    ' ',    ' ',     '\n',    '\t',   '\r',   '7',
                                    '\'',   's',    '-',    '.',     0x85,    0xA0,   0xE9,   0x301,
                                    0x3000, 0x4F60, 0x597D, 0x1F600, 0x1F3FD, 0x200D, 0xFFFD, 0x10FFFF};
    uint64_t rng = 42;
    char buf[512];
    for (int round = 0; round < 500; round++) {
        size_t len = 0;
        size_t chars = (size_t)(round % 60);
        for (size_t i = 0; i < chars; i++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            len += utf8_encode(pool[(rng >> 33) % (sizeof pool / sizeof pool[0])], buf + len);
        }
        buf[len] = '\0';
        struct token_buf ids = {0};
        cr_assert_eq(tokenizer_encode(tok, buf, len, false, &ids), STATUS_OK, "%s", err_msg());
        char *back;
        size_t blen;
        cr_assert_eq(tokenizer_decode(tok, ids.ids, ids.n, false, &back, &blen), STATUS_OK);
        cr_assert_str_eq(back, buf, "round %d", round);
        free(back);
        token_buf_free(&ids);
    }
    size_t big = 300000;
    char *text = malloc(big + 1);
    memset(text, ' ', big);
    memcpy(text + big - 3, "end", 3);
    for (size_t i = 1000; i < 50000; i += 7) text[i] = "ab\n9"[i % 4];
    text[big] = '\0';
    struct token_buf ids = {0};
    cr_assert_eq(tokenizer_encode(tok, text, big, true, &ids), STATUS_OK, "%s", err_msg());
    char *back;
    size_t blen;
    cr_assert_eq(tokenizer_decode(tok, ids.ids, ids.n, true, &back, &blen), STATUS_OK);
    cr_expect(blen == big && memcmp(back, text, big) == 0, "long text round trip");
    free(back);
    free(text);
    token_buf_free(&ids);
    tokenizer_free(tok);
}

/* ---- malformed files ------------------------------------------------------------------------------- */

/* Writes the gpt2 fixture, changed by `edit`, to DIR/NAME and loads it; checks the status and that the
 * message names the file and contains each of the expected fragments. */
static void expect_load_error(const char *name, void (*edit)(cJSON *root), enum status want, const char *frag1,
                              const char *frag2) {
    char *src = th_path("tests/fixtures/tokenizers/gpt2/tokenizer.json");
    cJSON *root;
    cr_assert_eq(json_parse_file(src, 1 << 24, &root), STATUS_OK, "%s", err_msg());
    edit(root);
    char *text = cJSON_PrintUnformatted(root);
    char *dir = th_tmpdir("tok");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cr_assert(th_write_file(path, text, strlen(text)));
    struct tokenizer *tok = NULL;
    enum status st = tokenizer_load(&tok, path);
    fprintf(stderr, "  %-22s -> %s\n", name, err_msg());
    cr_expect_eq(st, want, "%s: got status %s: %s", name, status_name(st), err_msg());
    cr_expect_null(tok);
    cr_expect(strstr(err_msg(), path) != NULL, "%s: the message does not name the file: %s", name, err_msg());
    if (frag1) cr_expect(strstr(err_msg(), frag1) != NULL, "%s: expected \"%s\" in: %s", name, frag1, err_msg());
    if (frag2) cr_expect(strstr(err_msg(), frag2) != NULL, "%s: expected \"%s\" in: %s", name, frag2, err_msg());
    tokenizer_free(tok);
    fs_remove_tree(dir);
    free(dir);
    cJSON_free(text);
    cJSON_Delete(root);
    free(src);
}

static cJSON *model_of(cJSON *root) {
    return cJSON_GetObjectItemCaseSensitive(root, "model");
}
static void replace(cJSON *obj, const char *key, const char *json) {
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddItemToObject(obj, key, cJSON_Parse(json));
}

/* Inserts item at index `at` of arr (cJSON 1.7.15's cJSON_InsertItemInArray refuses indices past 0 on
 * parsed arrays). */
static void array_insert(cJSON *arr, int at, cJSON *item) {
    cJSON *moved = cJSON_CreateArray();
    for (int i = 0; arr->child; i++) {
        if (i == at) cJSON_AddItemToArray(moved, item);
        cJSON_AddItemToArray(moved, cJSON_DetachItemFromArray(arr, 0));
    }
    while (moved->child) cJSON_AddItemToArray(arr, cJSON_DetachItemFromArray(moved, 0));
    cJSON_Delete(moved);
}

static void edit_no_model(cJSON *r) {
    cJSON_DeleteItemFromObjectCaseSensitive(r, "model");
}
static void edit_no_vocab(cJSON *r) {
    cJSON_DeleteItemFromObjectCaseSensitive(model_of(r), "vocab");
}
static void edit_vocab_array(cJSON *r) {
    replace(model_of(r), "vocab", "[\"a\", \"b\"]");
}
static void edit_vocab_bad_id(cJSON *r) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(model_of(r), "vocab");
    cJSON_AddItemToObject(v, "zzz", cJSON_CreateString("12"));
}
static void edit_vocab_dup_id(cJSON *r) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(model_of(r), "vocab");
    cJSON_AddItemToObject(v, "zzz-duplicate", cJSON_CreateNumber(5));
}
static void edit_merge_unknown(cJSON *r) {
    cJSON *m = cJSON_GetObjectItemCaseSensitive(model_of(r), "merges");
    array_insert(m, 0, cJSON_CreateString("Ġ qqqqq"));
}
static void edit_merge_malformed(cJSON *r) {
    cJSON *m = cJSON_GetObjectItemCaseSensitive(model_of(r), "merges");
    array_insert(m, 3, cJSON_CreateString("abc"));
}
static void edit_merge_wrong_type(cJSON *r) {
    cJSON *m = cJSON_GetObjectItemCaseSensitive(model_of(r), "merges");
    array_insert(m, 2, cJSON_CreateNumber(7));
}
static void edit_wordpiece(cJSON *r) {
    replace(model_of(r), "type", "\"WordPiece\"");
}
static void edit_byte_fallback(cJSON *r) {
    replace(model_of(r), "byte_fallback", "true");
}
static void edit_normalizer(cJSON *r) {
    replace(r, "normalizer", "{\"type\": \"BertNormalizer\"}");
}
static void edit_pretok(cJSON *r) {
    replace(r, "pre_tokenizer", "{\"type\": \"Whitespace\"}");
}
static void edit_no_bytelevel(cJSON *r) {
    replace(r, "pre_tokenizer",
            "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\s+\"}, \"behavior\": \"Isolated\"}");
}
static void edit_bad_regex(cJSON *r) {
    replace(r, "pre_tokenizer",
            "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \"a(b|c\"},"
            " \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", \"use_regex\": false}]}");
}
static void edit_bad_behavior(cJSON *r) {
    replace(r, "pre_tokenizer",
            "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"String\": \"-\"},"
            " \"behavior\": \"Sideways\"}, {\"type\": \"ByteLevel\"}]}");
}
static void edit_decoder(cJSON *r) {
    replace(r, "decoder", "{\"type\": \"WordPiece\"}");
}
static void edit_no_decoder(cJSON *r) {
    cJSON_DeleteItemFromObjectCaseSensitive(r, "decoder");
}
static void edit_post(cJSON *r) {
    replace(r, "post_processor", "{\"type\": \"RobertaProcessing\"}");
}
static void edit_added_no_content(cJSON *r) {
    replace(r, "added_tokens", "[{\"id\": 0, \"special\": true}]");
}
static void edit_added_not_array(cJSON *r) {
    replace(r, "added_tokens", "{\"id\": 0}");
}
static void edit_truncation(cJSON *r) {
    replace(r, "truncation", "{\"max_length\": 512}");
}
static void edit_top_array(cJSON *r) {
    /* Empties the object and turns it into an array: the top level is not an object any more. */
    while (r->child) cJSON_DeleteItemFromArray(r, 0);
    r->type = cJSON_Array;
}

Test(tokenizer, malformed_files_are_rejected_with_clear_errors) {
    expect_load_error("no-model.json", edit_no_model, STATUS_FORMAT, "model: missing", NULL);
    expect_load_error("no-vocab.json", edit_no_vocab, STATUS_FORMAT, "model.vocab: missing", NULL);
    expect_load_error("vocab-array.json", edit_vocab_array, STATUS_FORMAT, "model.vocab: must be an object", NULL);
    expect_load_error("vocab-bad-id.json", edit_vocab_bad_id, STATUS_FORMAT, "model.vocab[\"zzz\"]", "integer");
    expect_load_error("vocab-dup-id.json", edit_vocab_dup_id, STATUS_FORMAT, "id 5 is given to both", NULL);
    expect_load_error("merge-unknown.json", edit_merge_unknown, STATUS_FORMAT, "model.merges[0]",
                      "\"qqqqq\" is not in model.vocab");
    expect_load_error("merge-malformed.json", edit_merge_malformed, STATUS_FORMAT, "model.merges[3]", "left right");
    expect_load_error("merge-type.json", edit_merge_wrong_type, STATUS_FORMAT, "model.merges[2]", NULL);
    expect_load_error("wordpiece.json", edit_wordpiece, STATUS_UNSUPPORTED,
                      "model.type \"WordPiece\" is not supported (r1lab reads byte-level BPE)", NULL);
    expect_load_error("byte-fallback.json", edit_byte_fallback, STATUS_UNSUPPORTED, "model.byte_fallback", NULL);
    expect_load_error("normalizer.json", edit_normalizer, STATUS_UNSUPPORTED, "normalizer.type \"BertNormalizer\"",
                      NULL);
    expect_load_error("pretok.json", edit_pretok, STATUS_UNSUPPORTED, "pre_tokenizer.type \"Whitespace\"", NULL);
    expect_load_error("no-bytelevel.json", edit_no_bytelevel, STATUS_UNSUPPORTED, "no ByteLevel", NULL);
    expect_load_error("bad-regex.json", edit_bad_regex, STATUS_FORMAT, "pre_tokenizer.pretokenizers[0].pattern.Regex",
                      "missing closing parenthesis at offset 5");
    expect_load_error("bad-behavior.json", edit_bad_behavior, STATUS_FORMAT, "pretokenizers[0].behavior \"Sideways\"",
                      NULL);
    expect_load_error("decoder.json", edit_decoder, STATUS_UNSUPPORTED, "decoder.type \"WordPiece\"", NULL);
    expect_load_error("no-decoder.json", edit_no_decoder, STATUS_UNSUPPORTED, "decoder: missing", NULL);
    expect_load_error("post.json", edit_post, STATUS_UNSUPPORTED, "post_processor.type \"RobertaProcessing\"", NULL);
    expect_load_error("added-content.json", edit_added_no_content, STATUS_FORMAT, "added_tokens[0]", "\"content\"");
    expect_load_error("added-object.json", edit_added_not_array, STATUS_FORMAT, "added_tokens: must be an array", NULL);
    expect_load_error("truncation.json", edit_truncation, STATUS_UNSUPPORTED, "truncation", NULL);
    expect_load_error("top-array.json", edit_top_array, STATUS_FORMAT, "top level", NULL);
}

Test(tokenizer, unreadable_files_are_rejected_with_clear_errors) {
    char *dir = th_tmpdir("tokfile");
    char path[512];
    struct tokenizer *tok = NULL;
    snprintf(path, sizeof path, "%s/truncated.json", dir);
    const char *trunc = "{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0";
    cr_assert(th_write_file(path, trunc, strlen(trunc)));
    cr_expect_eq(tokenizer_load(&tok, path), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), path) && strstr(err_msg(), "truncated"), "%s", err_msg());
    snprintf(path, sizeof path, "%s/latin1.json", dir);
    const char *latin1 = "{\"model\": {\"vocab\": {\"caf\xe9\": 0}}}";
    cr_assert(th_write_file(path, latin1, strlen(latin1)));
    cr_expect_eq(tokenizer_load(&tok, path), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), path) && strstr(err_msg(), "UTF-8"), "%s", err_msg());
    cr_expect_eq(tokenizer_load(&tok, dir), STATUS_IO, "a directory without tokenizer.json");
    cr_expect(strstr(err_msg(), "no tokenizer.json") != NULL, "%s", err_msg());
    snprintf(path, sizeof path, "%s/missing.json", dir);
    cr_expect_eq(tokenizer_load(&tok, path), STATUS_IO);
    cr_expect(strstr(err_msg(), path) != NULL, "%s", err_msg());
    cr_expect_null(tok);
    fs_remove_tree(dir);
    free(dir);
}

/* ---- threads ------------------------------------------------------------------------------------------ */

struct thread_job {
    const struct tokenizer *tok;
    const struct tok_case *cases;
    size_t n;
    size_t mismatches;
};

static void *thread_encode(void *arg) {
    struct thread_job *job = arg;
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < job->n; i++) {
            struct token_buf got = {0};
            const struct tok_case *c = &job->cases[i];
            if (tokenizer_encode(job->tok, c->text, strlen(c->text), true, &got) != STATUS_OK ||
                !ids_equal(got.ids, got.n, c->ids_special, c->n_ids_special))
                job->mismatches++;
            token_buf_free(&got);
        }
    return NULL;
}

Test(tokenizer, encodes_from_two_threads) {
    struct tokenizer *tok = load_fixture("qwen2");
    size_t n;
    struct tok_case *cases = tok_cases_load("qwen2", &n);
    struct thread_job jobs[2] = {{tok, cases, n, 0}, {tok, cases, n, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) cr_assert_eq(pthread_create(&th[i], NULL, thread_encode, &jobs[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    cr_expect_eq(jobs[0].mismatches + jobs[1].mismatches, 0);
    tok_cases_free(cases, n);
    tokenizer_free(tok);
}
