/* The demo and the base model it starts from: the configuration compiled into `r1lab demo` is
 * configs/r1-zero.json byte for byte (generated from it by the Makefile); the demo runs a step from any directory
 * (finding models/base through R1LAB_HOME); the recipe that made models/base (configs/base.json) runs and describes the
 * shipped model's architecture. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "harness.h"

extern const char r1lab_demo_config[];
extern const char r1lab_demo_r1_config[];

static void expect_embedded(const char *embedded, const char *file) {
    char *path = th_path(file);
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(path, 1 << 20, &text, &len), STATUS_OK, "%s", err_msg());
    free(path);
    cr_expect_eq(strlen(embedded), len, "the embedded configuration has %zu bytes, %s %zu", strlen(embedded), file, len);
    cr_expect(memcmp(embedded, text, len) == 0, "the embedded configuration differs from %s", file);
    cJSON *j = cJSON_Parse(embedded);
    cr_expect(j != NULL && cJSON_IsObject(j), "the embedded %s is not a JSON object", file);
    cJSON_Delete(j);
    free(text);
}

Test(demo, embedded_configs_are_the_files) {
    expect_embedded(r1lab_demo_config, "configs/r1-zero.json");
    expect_embedded(r1lab_demo_r1_config, "configs/r1.json");
}

/* r1lab demo r1: configs/r1.json's five stages, from models/base-aha found through R1LAB_HOME, in runs/demo-r1 (here
 * with every stage cut to a step or two); run again, it starts afresh; a directory of that name that is not a
 * pipeline is left alone. */
Test(demo, r1_demo_runs_the_five_stages, .timeout = 300) {
    char *dir = th_tmpdir("demo-r1");
    char *root = th_path("");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && R1LAB_HOME='%s' '%s' demo r1 --headless --threads 1 cold_start.max_steps=2 "
             "reasoning_rl.max_steps=2 reasoning_rl.eval_steps=0 reasoning_rl.prompts_per_step=2 "
             "reasoning_rl.num_generations=2 reasoning_rl.per_device_train_batch_size=4 rejection.prompts=4 "
             "'rejection.extra=[{\"world\": \"nonreasoning\", \"n\": 2}]' sft_all.max_steps=2 rl_all.max_steps=2 "
             "rl_all.eval_steps=0 rl_all.prompts_per_step=2 rl_all.num_generations=2 rl_all.per_device_train_batch_size=4",
             dir, root, th_bin());
    for (int run = 0; run < 2; run++) {
        struct th_run r = th_sh(cmd);
        cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
        cr_expect(strstr(r.out, "# stage 1/5 cold_start (train sft): started") != NULL, "run %d starts afresh:\n%s",
                  run + 1, r.out);
        cr_expect(strstr(r.out, "# stage 5/5 rl_all: finished") != NULL, "%s", r.out);
        th_run_free(&r);
    }
    char cfg[4300], *text = NULL;
    size_t len;
    snprintf(cfg, sizeof cfg, "%s/runs/demo-r1/2-reasoning_rl/config.json", dir);
    cr_assert_eq(fs_read_file(cfg, 1 << 20, &text, &len), STATUS_OK, "%s", err_msg());
    cr_expect(strstr(text, "\"threads\":\t1") != NULL, "--threads reaches every stage:\n%s", text);
    free(text);
    char want[4300];
    snprintf(want, sizeof want, "\"model_name_or_path\":\t\"%s/models/base-aha\"", root);
    snprintf(cfg, sizeof cfg, "%s/runs/demo-r1/1-cold_start/config.json", dir);
    cr_assert_eq(fs_read_file(cfg, 1 << 20, &text, &len), STATUS_OK, "%s", err_msg());
    cr_expect(strstr(text, want) != NULL, "the cold start reads the shipped base (%s):\n%s", want, text);
    free(text);
    snprintf(cmd, sizeof cmd, "cd '%s' && rm -rf runs/demo-r1 && mkdir -p runs/demo-r1 && touch runs/demo-r1/mine && "
             "R1LAB_HOME='%s' '%s' demo r1 --headless", dir, root, th_bin());
    struct th_run r = th_sh(cmd);
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "not a pipeline directory") && strstr(r.err, "hint:"), "%s", r.err);
    th_run_free(&r);
    snprintf(cfg, sizeof cfg, "%s/runs/demo-r1/mine", dir);
    cr_expect(fs_exists(cfg), "the directory was left alone");
    fs_remove_tree(dir);
    free(dir);
    free(root);
}

Test(demo, runs_from_any_directory, .timeout = 300) {
    char *dir = th_tmpdir("demo");
    char *root = th_path("");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && R1LAB_HOME='%s' '%s' demo max_steps=2 eval_steps=0 prompts_per_step=4 num_generations=4 "
             "--headless",
             dir, root, th_bin());
    struct th_run r = th_sh(cmd);
    cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "step 2/2") != NULL, "%s", r.out);
    char metrics[4300];
    snprintf(metrics, sizeof metrics, "%s/runs/demo/metrics.jsonl", dir);
    cr_expect(fs_exists(metrics));
    th_run_free(&r);
    /* without the base model: a clear error with a hint */
    snprintf(cmd, sizeof cmd, "cd '%s' && R1LAB_HOME=/nonexistent '%s' demo --headless", dir, th_bin());
    r = th_sh(cmd);
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "models/base") && strstr(r.err, "hint:"), "%s", r.err);
    th_run_free(&r);
    fs_remove_tree(dir);
    free(dir);
    free(root);
}

/* A shipped base model's recipe (configs/NAME.json) runs, and describes the shipped models/NAME: its
 * architecture, its tokenizer and its training_config.json but for the keys this short run overrides. */
static void check_base_recipe(const char *name) {
    char *dir = th_tmpdir("base");
    char *root = th_path("");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' train configs/%s.json max_steps=2 dataset_size=200 output_dir='%s/run' --headless", root,
             th_bin(), name, dir);
    struct th_run r = th_sh(cmd);
    cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
    th_run_free(&r);
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s/config.json", name);
    char made[4300], *shipped = th_path(rel);
    snprintf(made, sizeof made, "%s/run/latest/config.json", dir);
    cJSON *a, *b;
    cr_assert_eq(json_parse_file(made, 1 << 20, &a), STATUS_OK, "%s", err_msg());
    cr_assert_eq(json_parse_file(shipped, 1 << 20, &b), STATUS_OK, "%s", err_msg());
    const char *keys[] = {"model_type",        "vocab_size",          "hidden_size",
                          "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                          "intermediate_size", "tie_word_embeddings", "eos_token_id"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_expect(cJSON_Compare(cJSON_GetObjectItem(a, keys[i]), cJSON_GetObjectItem(b, keys[i]), true),
                  "%s differs between configs/%s.json and models/%s", keys[i], name, name);
    snprintf(rel, sizeof rel, "models/%s/tokenizer.json", name);
    char tok_made[4300], *tok_shipped = th_path(rel);
    snprintf(tok_made, sizeof tok_made, "%s/run/latest/tokenizer.json", dir);
    cr_expect(th_same_file_bytes(tok_made, tok_shipped), "the base model's tokenizer is models/world/tokenizer.json");
    /* The shipped training_config.json is the recipe's, but for the keys this short run overrode. */
    snprintf(rel, sizeof rel, "models/%s/training_config.json", name);
    char cfg_made[4300], *cfg_shipped = th_path(rel);
    snprintf(cfg_made, sizeof cfg_made, "%s/run/latest/training_config.json", dir);
    cJSON *ca, *cb;
    cr_assert_eq(json_parse_file(cfg_made, 1 << 20, &ca), STATUS_OK, "%s", err_msg());
    cr_assert_eq(json_parse_file(cfg_shipped, 1 << 20, &cb), STATUS_OK, "%s", err_msg());
    const char *overridden[] = {"max_steps", "dataset_size", "output_dir"};
    for (size_t i = 0; i < sizeof overridden / sizeof overridden[0]; i++) {
        cJSON_DeleteItemFromObject(ca, overridden[i]);
        cJSON_DeleteItemFromObject(cb, overridden[i]);
    }
    cr_expect(cJSON_Compare(ca, cb, true), "models/%s/training_config.json is not configs/%s.json resolved", name,
              name);
    cJSON_Delete(ca);
    cJSON_Delete(cb);
    free(cfg_shipped);
    free(tok_shipped), free(shipped);
    cJSON_Delete(a);
    cJSON_Delete(b);
    fs_remove_tree(dir);
    free(dir);
    free(root);
}

Test(demo, base_model_recipe_runs_and_matches_the_shipped_model, .timeout = 300) {
    check_base_recipe("base");
}

Test(demo, aha_base_model_recipe_runs_and_matches_the_shipped_model, .timeout = 300) {
    check_base_recipe("base-aha");
}

Test(demo, search_base_model_recipe_runs_and_matches_the_shipped_model, .timeout = 300) {
    check_base_recipe("base-search");
}

/* The search tier's R1-Zero run (configs/r1-zero-search.json, from the shipped models/base-search), a few steps
 * of it end to end: held-out countdown problems are evaluated and the reflection and language metrics logged. */
Test(demo, search_tier_r1_zero_runs_end_to_end, .timeout = 300) {
    char *dir = th_tmpdir("search");
    char *root = th_path("");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' train configs/r1-zero-search.json max_steps=2 prompts_per_step=2 num_generations=4 "
             "eval_steps=2 eval_problems=4 eval_k=2 save_steps=2 output_dir='%s/run' --headless",
             root, th_bin(), dir);
    struct th_run r = th_sh(cmd);
    cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
    th_run_free(&r);
    char path[4300];
    snprintf(path, sizeof path, "%s/run/metrics.jsonl", dir);
    char *text = NULL;
    size_t n = 0;
    cr_assert_eq(fs_read_file(path, 1 << 24, &text, &n), STATUS_OK, "%s", err_msg());
    const char *keys[] = {"\"reflection/rate\"", "\"language/mixed_rate\"", "\"eval/pass@1\"",
                          "\"eval/reflection/rate\"", "\"eval/mean_length\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_expect(strstr(text, keys[i]), "no %s in %s", keys[i], text);
    free(text);
    snprintf(path, sizeof path, "%s/run/samples.jsonl", dir);
    cr_assert_eq(fs_read_file(path, 1 << 24, &text, &n), STATUS_OK, "%s", err_msg());
    cr_expect(strstr(text, "\"task\": \"countdown\"") || strstr(text, "\"task\":\"countdown\""),
              "countdown groups are logged: %.300s", text);
    free(text);
    fs_remove_tree(dir);
    free(dir);
    free(root);
}

/* `make install` puts the base model in PREFIX/share/r1lab/models/base: an installed binary finds it beside
 * itself (../share/r1lab), whatever PREFIX it was built for, from any directory and without R1LAB_HOME. */
Test(demo, installed_binary_finds_the_base_model_beside_it, .timeout = 300) {
    char *dir = th_tmpdir("installed");
    char *base = th_path("models/base");
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'; mkdir -p bin share/r1lab/models work; cp '%s' bin/r1lab; "
             "cp -r '%s' share/r1lab/models/base; cd work; "
             "env -u R1LAB_HOME ../bin/r1lab demo max_steps=1 eval_steps=0 prompts_per_step=2 num_generations=2 "
             "--headless",
             dir, th_bin(), base);
    struct th_run r = th_sh(cmd);
    cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
    th_run_free(&r);
    char cfg[4300], want[4300];
    snprintf(cfg, sizeof cfg, "%s/work/runs/demo/config.json", dir);
    snprintf(want, sizeof want, "%s/bin/../share/r1lab/models/base", dir);
    cJSON *c;
    cr_assert_eq(json_parse_file(cfg, 1 << 20, &c), STATUS_OK, "%s", err_msg());
    const cJSON *m = cJSON_GetObjectItem(c, "model_name_or_path");
    cr_expect(cJSON_IsString(m) && strcmp(m->valuestring, want) == 0, "the model beside the binary: %s",
              cJSON_IsString(m) ? m->valuestring : "(none)");
    cJSON_Delete(c);
    free(base);
    fs_remove_tree(dir);
    free(dir);
}
