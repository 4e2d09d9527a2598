/* Next-token datasets: sft examples are prompt + completion + EOS scored on the completion (and EOS) only;
 * pretraining text is EOS-joined and cut into max_seq_length sequences scored everywhere; epochs visit every
 * example once in a seeded order that a seek reproduces; malformed lines name file and line. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/lm/lm_data.h"
#include "engine/model/model.h"
#include "engine/run/config.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "harness.h"

static struct tokenizer *tok;
static char *dir;

static void setup(void) {
    char *p = th_path("tests/fixtures/models/qwen2_tiny/tokenizer.json");
    cr_assert_eq(tokenizer_load(&tok, p), STATUS_OK);
    free(p);
    dir = th_tmpdir("lmdata");
}

static void teardown(void) {
    tokenizer_free(tok);
    fs_remove_tree(dir);
    free(dir);
}

static enum status load(struct lm_data *d, const char *stage, const char *file, const char *content, int max_len) {
    char path[4200], json[8192];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    cr_assert(th_write_file(path, content, strlen(content)));
    snprintf(json, sizeof json, "{\"stage\": \"%s\", \"max_steps\": 1, \"dataset\": \"%s\", \"max_seq_length\": %d}",
             stage, path, max_len);
    struct config cfg;
    cr_assert_eq(config_resolve(&cfg, cJSON_Parse(json), "test", NULL, 0), STATUS_OK, "%s", err_msg());
    enum status st = lm_data_load(d, &cfg, tok, 0);
    config_free(&cfg);
    return st;
}

static int n_ids(const char *text) {
    struct token_buf b = {0};
    cr_assert_eq(tokenizer_encode(tok, text, strlen(text), false, &b), STATUS_OK);
    int n = (int)b.n;
    token_buf_free(&b);
    return n;
}

TestSuite(lm_data, .init = setup, .fini = teardown);

Test(lm_data, sft_scores_only_the_completion) {
    struct lm_data d;
    const char *jsonl = "{\"prompt\": \"Solve: 2x + 3 = 7.\", \"completion\": \" <think> 2x = 4 </think> <answer> 2 </answer>\"}\n"
                        "\n"
                        "{\"prompt\": \"User: hi\", \"completion\": \" hello there\"}\n";
    cr_assert_eq(load(&d, "sft", "sft.jsonl", jsonl, 256), STATUS_OK, "%s", err_msg());
    cr_assert_eq(d.n_ex, 2);
    int p0 = n_ids("Solve: 2x + 3 = 7."), c0 = n_ids(" <think> 2x = 4 </think> <answer> 2 </answer>");
    /* examples keep file order in ex[]; the epoch order is a separate permutation */
    cr_expect_eq(d.ex[0].n, p0 + c0 + 1, "prompt + completion + EOS");
    cr_expect_eq(d.ex[0].score_from, p0);
    cr_expect_eq(d.ex[0].ids[d.ex[0].n - 1], 0, "ends with EOS");
    struct batch_builder bb;
    cr_assert_eq(batch_builder_init(&bb, 1024, 4), STATUS_OK);
    cr_assert_eq(batch_builder_add(&bb, d.ex[0].ids, d.ex[0].n, d.ex[0].score_from), STATUS_OK);
    int scored = 0;
    for (int i = 0; i < bb.N; i++) scored += bb.targets[i] >= 0;
    cr_expect_eq(scored, c0 + 1, "the completion tokens and EOS are scored, the prompt is not");
    cr_expect_eq(bb.targets[p0 - 1], d.ex[0].ids[p0], "the last prompt row predicts the first completion token");
    cr_expect_eq(bb.targets[p0 - 2], -1);
    batch_builder_free(&bb);
    lm_data_free(&d);
}

Test(lm_data, sft_truncates_and_refuses_overlong_prompts) {
    struct lm_data d;
    const char *jsonl = "{\"prompt\": \"a b\", \"completion\": \" c d e f g h i j k l m n o p q r s t u v w x y z\"}\n";
    cr_assert_eq(load(&d, "sft", "t.jsonl", jsonl, 8), STATUS_OK, "%s", err_msg());
    cr_expect_eq(d.ex[0].n, 8);
    lm_data_free(&d);
    const char *bad = "{\"prompt\": \"a b c d e f g h i j k l\", \"completion\": \" z\"}\n";
    cr_expect_eq(load(&d, "sft", "long.jsonl", bad, 4), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "long.jsonl:1") && strstr(err_msg(), "max_seq_length"), "%s", err_msg());
}

Test(lm_data, malformed_lines_name_file_and_line) {
    struct lm_data d;
    cr_expect_eq(load(&d, "sft", "m.jsonl", "{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": \"a\"}\n", 64),
                 STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "m.jsonl:2") && strstr(err_msg(), "completion"), "%s", err_msg());
    cr_expect_eq(load(&d, "pretrain", "p.jsonl", "{\"text\": \"ok\"}\n{\"text\": 3}\n", 64), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "p.jsonl:2") && strstr(err_msg(), "\"text\""), "%s", err_msg());
    cr_expect_eq(load(&d, "pretrain", "j.jsonl", "{\"text\": \"ok\"}\nnot json\n", 64), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "j.jsonl:2"), "%s", err_msg());
    cr_expect_eq(load(&d, "pretrain", "u.jsonl", "{\"text\": \"\xff\"}\n", 64), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "u.jsonl:1") && strstr(err_msg(), "UTF-8"), "%s", err_msg());
}

Test(lm_data, pretraining_chunks_and_epochs) {
    struct lm_data d;
    char text[4096] = "";
    for (int i = 0; i < 40; i++) strcat(text, "The quick brown fox jumps over the lazy dog. ");
    cr_assert_eq(load(&d, "pretrain", "t.txt", text, 16), STATUS_OK, "%s", err_msg());
    int total = n_ids(text) + 1;
    cr_expect_eq(d.n_tokens, (size_t)total - (total % 16 == 1 ? 1 : 0), "every token is in exactly one chunk");
    for (size_t i = 0; i + 1 < d.n_ex; i++) cr_expect_eq(d.ex[i].n, 16);
    /* one epoch visits each example once; seeking back reproduces the order */
    int seen[512] = {0};
    struct batch_builder bb;
    cr_assert_eq(batch_builder_init(&bb, 16 * 512, 512), STATUS_OK);
    uint32_t first[512];
    memcpy(first, d.order, d.n_ex * sizeof *first);
    for (size_t i = 0; i < d.n_ex; i++) seen[d.order[i]]++;
    for (size_t i = 0; i < d.n_ex; i++) cr_expect_eq(seen[i], 1);
    cr_assert_eq(lm_data_next(&d, (int)d.n_ex + 1, &bb), STATUS_OK);
    cr_expect_eq(d.epoch, 1, "wrapped into the next epoch");
    cr_expect_neq(memcmp(first, d.order, d.n_ex * sizeof *first), 0, "a new epoch has a new order");
    cr_assert_eq(lm_data_seek(&d, 0, 3), STATUS_OK);
    cr_expect_eq(memcmp(first, d.order, d.n_ex * sizeof *first), 0, "seek reproduces the epoch's order");
    batch_builder_free(&bb);
    lm_data_free(&d);
}
