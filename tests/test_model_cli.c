/* The checkpoint commands end to end against Hugging Face (tests/fixtures/models/cli.json, written by
 * tests/ref/make_model_fixtures.py): `score --json` gives HF's ids and log-probs, `generate --json` HF's greedy
 * tokens, `info --json` the parameter count transformers reports; malformed config.json files get errors
 * that name the file and the field; and eval says what to change when a prompt does not fit the context. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "harness.h"

static cJSON *cli_fixture(const char *model) {
    char *path = th_path("tests/fixtures/models/cli.json");
    cJSON *root;
    cr_assert_eq(json_parse_file(path, 1 << 20, &root), STATUS_OK, "%s", err_msg());
    free(path);
    cJSON *m = cJSON_DetachItemFromObject(root, model);
    cJSON_Delete(root);
    cr_assert(m != NULL);
    return m;
}

static void expect_int_array(const cJSON *got, const cJSON *want, const char *what) {
    cr_assert_eq(cJSON_GetArraySize(got), cJSON_GetArraySize(want), "%s: %d vs %d entries", what,
                 cJSON_GetArraySize(got), cJSON_GetArraySize(want));
    for (int i = 0; i < cJSON_GetArraySize(want); i++)
        cr_expect_eq(cJSON_GetArrayItem(got, i)->valueint, cJSON_GetArrayItem(want, i)->valueint, "%s[%d]", what, i);
}

static void check_score_and_generate(const char *model) {
    cJSON *want = cli_fixture(model);
    char rel[128];
    snprintf(rel, sizeof rel, "tests/fixtures/models/%s", model);
    char *dir = th_path(rel);
    const char *score[] = {"score", dir, cJSON_GetObjectItem(want, "text")->valuestring, "--json", "--threads", "1", NULL};
    struct th_run r = th_r1lab(NULL, score);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cJSON *got;
    cr_assert_eq(json_parse_text(r.out, strlen(r.out), "score output", &got), STATUS_OK, "%s", r.out);
    expect_int_array(cJSON_GetObjectItem(got, "ids"), cJSON_GetObjectItem(want, "ids"), "ids");
    const cJSON *gl = cJSON_GetObjectItem(got, "logprobs"), *wl = cJSON_GetObjectItem(want, "logprobs");
    cr_assert_eq(cJSON_GetArraySize(gl), cJSON_GetArraySize(wl));
    for (int i = 0; i < cJSON_GetArraySize(wl); i++) {
        double a = cJSON_GetArrayItem(gl, i)->valuedouble, b = cJSON_GetArrayItem(wl, i)->valuedouble;
        cr_expect(fabs(a - b) <= 1e-4 * fabs(b) + 1e-5, "logprob %d: %.7g vs HF %.7g", i, a, b);
    }
    double sum = cJSON_GetObjectItem(got, "sum")->valuedouble, wsum = cJSON_GetObjectItem(want, "sum")->valuedouble;
    cr_expect(fabs(sum - wsum) <= 1e-4 * fabs(wsum), "sum %.7g vs HF %.7g", sum, wsum);
    cJSON_Delete(got);
    th_run_free(&r);

    const char *gen[] = {"generate", dir, "--prompt", cJSON_GetObjectItem(want, "prompt")->valuestring,
                         "--max-tokens", "12", "--json", "--threads", "1", NULL};
    r = th_r1lab(NULL, gen);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_eq(json_parse_text(r.out, strlen(r.out), "generate output", &got), STATUS_OK, "%s", r.out);
    expect_int_array(cJSON_GetObjectItem(got, "prompt_ids"), cJSON_GetObjectItem(want, "prompt_ids"), "prompt_ids");
    expect_int_array(cJSON_GetObjectItem(got, "new_ids"), cJSON_GetObjectItem(want, "new_ids"), "new_ids");
    cr_expect(cJSON_IsString(cJSON_GetObjectItem(got, "text")));
    cJSON_Delete(got);
    th_run_free(&r);

    const char *info[] = {"info", dir, "--json", NULL};
    r = th_r1lab(NULL, info);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_assert_eq(json_parse_text(r.out, strlen(r.out), "info output", &got), STATUS_OK, "%s", r.out);
    cr_expect_eq(cJSON_GetObjectItem(got, "parameters")->valuedouble,
                 cJSON_GetObjectItem(want, "parameters")->valuedouble, "parameter count as transformers counts it");
    cJSON_Delete(got);
    th_run_free(&r);
    cJSON_Delete(want);
    free(dir);
}

Test(model_cli, qwen2_score_generate_info_match_transformers) { check_score_and_generate("qwen2_tiny"); }
Test(model_cli, llama_sharded_score_generate_info_match_transformers) { check_score_and_generate("llama_tiny"); }

Test(model_cli, generate_samples_reproducibly_and_streams_plain_text) {
    char *dir = th_path("tests/fixtures/models/qwen2_tiny");
    const char *a[] = {"generate", dir, "--prompt", "Solve", "--temperature", "0.8", "--top-p", "0.9", "--seed", "5",
                       "--max-tokens", "20", "--json", NULL};
    struct th_run r1 = th_r1lab(NULL, a), r2 = th_r1lab(NULL, a);
    cr_assert_eq(r1.exit_code, 0, "%s", r1.err);
    cr_expect_str_eq(r1.out, r2.out, "same seed, same sample");
    const char *b[] = {"generate", dir, "--prompt", "Solve", "--temperature", "0.8", "--seed", "6", "--max-tokens",
                       "20", "--json", NULL};
    struct th_run r3 = th_r1lab(NULL, b);
    cr_expect_str_neq(r1.out, r3.out, "another seed, another sample");
    const char *plain[] = {"generate", dir, "--prompt", "-", "--max-tokens", "5", NULL};
    struct th_run r4 = th_r1lab("Solve: 2x", plain);
    cr_expect_eq(r4.exit_code, 0, "%s", r4.err);
    cr_expect(strlen(r4.out) > 0);
    th_run_free(&r1), th_run_free(&r2), th_run_free(&r3), th_run_free(&r4);
    free(dir);
}

/* A copy of the qwen2_tiny checkpoint with config.json replaced. */
static char *broken_checkpoint(const char *config_text) {
    char *dir = th_tmpdir("badcfg");
    char *src = th_path("tests/fixtures/models/qwen2_tiny");
    const char *files[] = {"model.safetensors", "tokenizer.json"};
    for (int i = 0; i < 2; i++) {
        char a[4200], b[4200];
        snprintf(a, sizeof a, "%s/%s", src, files[i]);
        snprintf(b, sizeof b, "%s/%s", dir, files[i]);
        cr_assert_eq(fs_copy_file(a, b), STATUS_OK);
    }
    char cfg[4200];
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    cr_assert(th_write_file(cfg, config_text, strlen(config_text)));
    free(src);
    return dir;
}

Test(model_cli, malformed_config_json_is_reported) {
    struct {
        const char *config, *expect;
    } cases[] = {
        {"{\"model_type\": \"qwen2\", \"vocab_size\": 388", "truncated"},
        {"{\"model_type\": \"qwen2\"}", "missing field \"vocab_size\""},
        {"{\"model_type\": \"gpt2\", \"vocab_size\": 388}", "model_type \"gpt2\""},
        {"{\"model_type\": \"qwen2\", \"vocab_size\": \"388\", \"hidden_size\": 48}", "\"vocab_size\" must be an integer"},
        {"{\"model_type\": \"qwen2\", \"vocab_size\": 388, \"hidden_size\": 48, \"num_hidden_layers\": 2, "
         "\"num_attention_heads\": 4, \"num_key_value_heads\": 3, \"intermediate_size\": 112}",
         "not a multiple of num_key_value_heads"},
        {"{\"model_type\": \"qwen2\", \"vocab_size\": 388, \"hidden_size\": 48, \"num_hidden_layers\": 3, "
         "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"intermediate_size\": 112}",
         "model.layers.2.input_layernorm.weight\" is missing"},
        {"{\"model_type\": \"qwen2\", \"vocab_size\": 388, \"hidden_size\": 48, \"num_hidden_layers\": 2, "
         "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"intermediate_size\": 100}",
         "has shape [112, 48] but config.json implies [100, 48]"},
        {"{\"model_type\": \"qwen2\", \"vocab_size\": 388, \"hidden_size\": 48, \"num_hidden_layers\": 1, "
         "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"intermediate_size\": 112}",
         "unexpected tensor \"model.layers.1."},
        {"{\"model_type\": \"qwen2\", \"vocab_size\": 388, \"hidden_size\": 48, \"num_hidden_layers\": 2, "
         "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"intermediate_size\": 112, \"hidden_act\": \"gelu\"}",
         "hidden_act \"gelu\""},
        {"{\"model_type\": \"qwen2\", \"vocab_size\": 388, \"hidden_size\": 48, \"num_hidden_layers\": 2, "
         "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"intermediate_size\": 112, "
         "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4}}",
         "rope scaling type \"yarn\""},
        {"{\"model_type\": \"qwen2\", \"vocab_size\": 300, \"hidden_size\": 48, \"num_hidden_layers\": 2, "
         "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"intermediate_size\": 112}",
         "shape [388, 48] but config.json implies [300, 48]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir = broken_checkpoint(cases[i].config);
        const char *args[] = {"score", dir, "hello world", NULL};
        struct th_run r = th_r1lab(NULL, args);
        cr_expect_eq(r.exit_code, 1, "case %zu: exit %d", i, r.exit_code);
        cr_expect(strstr(r.err, cases[i].expect) != NULL, "case %zu: expected \"%s\" in: %s", i, cases[i].expect, r.err);
        cr_expect(strstr(r.err, dir) != NULL, "case %zu: the message names the checkpoint: %s", i, r.err);
        th_run_free(&r);
        fs_remove_tree(dir);
        free(dir);
    }
    const char *missing[] = {"info", "/nonexistent/ckpt", NULL};
    struct th_run r = th_r1lab(NULL, missing);
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "/nonexistent/ckpt") && strstr(r.err, "hint:"), "%s", r.err);
    th_run_free(&r);
    const char *usage[] = {"score", NULL};
    r = th_r1lab(NULL, usage);
    cr_expect_eq(r.exit_code, 2);
    th_run_free(&r);
}

/* A prompt that leaves no room for the completion: eval names the problem and its template and says what helps
 * (the raw template when the template's text alone fills the context; fewer new tokens when that is enough),
 * never "ask for at most 0 new tokens". */
Test(model_cli, eval_prompt_past_the_context_suggests_what_fits) {
    char *model = th_path("tests/fixtures/models/qwen2_tiny");
    struct th_run r = th_r1lab(NULL, (const char *[]){"eval", model, "--template", "r1-zero", "--problems", "2", "--k",
                                                      "1", "--max-tokens", "16", NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "problem 0: its prompt is") && strstr(r.err, "with the r1-zero template"), "%s", r.err);
    cr_expect(strstr(r.err, "context of 128 positions") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "--template raw") != NULL, "the hint suggests the raw template: %s", r.err);
    cr_expect(strstr(r.err, "at most 0") == NULL && strstr(r.err, "at most -") == NULL, "%s", r.err);
    th_run_free(&r);
    r = th_r1lab(NULL, (const char *[]){"eval", model, "--template", "raw", "--problems", "2", "--k", "1",
                                        "--max-tokens", "127", NULL});
    cr_expect_eq(r.exit_code, 1);
    const char *hint = strstr(r.err, "hint: ask for at most ");
    int n = hint ? atoi(hint + strlen("hint: ask for at most ")) : -1;
    cr_expect(n > 0 && n < 127, "a positive number of new tokens that fits: %s", r.err);
    th_run_free(&r);
    /* and that many do fit */
    char fits[16];
    snprintf(fits, sizeof fits, "%d", n);
    r = th_r1lab(NULL, (const char *[]){"eval", model, "--template", "raw", "--problems", "1", "--k", "1",
                                        "--max-tokens", fits, NULL});
    cr_expect_eq(r.exit_code, 0, "--max-tokens %s: %s", fits, r.err);
    th_run_free(&r);
    free(model);
}
