/* Tests for `r1lab world`: the binary is run as a user would, and its output parsed. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "harness.h"

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

Test(world_cli, sample_prints_tab_separated_problems_deterministically) {
    const char *args[] = {"world", "sample", "--task", "linear", "--n", "5", "--seed", "3", NULL};
    struct th_run a = th_r1lab(NULL, args), b = th_r1lab(NULL, args);
    cr_assert_eq(a.exit_code, 0, "stderr: %s", a.err);
    cr_expect_eq(count_lines(a.out), 5);
    cr_expect_str_eq(a.out, b.out);
    cr_expect(strncmp(a.out, "Solve: ", 7) == 0 && strchr(a.out, '\t'), "%s", a.out);
    const char *targs[] = {"world", "sample", "--task", "linear", "--n", "5", "--seed", "3", "--split", "test", NULL};
    struct th_run t = th_r1lab(NULL, targs);
    cr_assert_eq(t.exit_code, 0);
    cr_expect_str_neq(t.out, a.out);
    th_run_free(&a);
    th_run_free(&b);
    th_run_free(&t);
}

Test(world_cli, sample_json_lines_parse) {
    const char *args[] = {"world", "sample", "--task", "countdown", "--n", "3", "--start", "10", "--json", NULL};
    struct th_run r = th_r1lab(NULL, args);
    cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
    int lines = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        cJSON *j;
        cr_assert_eq(json_parse_text(line, strlen(line), "stdout", &j), STATUS_OK, "%s", err_msg());
        int64_t index, target;
        cr_expect_eq(json_get_int(j, "index", true, 0, 0, 1000, &index, "out"), STATUS_OK);
        cr_expect_eq(index, 10 + lines);
        cr_expect_eq(json_get_int(j, "target", true, 0, 1, 50, &target, "out"), STATUS_OK);
        cr_expect(cJSON_IsArray(cJSON_GetObjectItem(j, "numbers")));
        cJSON_Delete(j);
    }
    cr_expect_eq(lines, 3);
    th_run_free(&r);
}

Test(world_cli, sample_params_change_difficulty) {
    const char *args[] = {
        "world", "sample", "--task", "arith", "--n", "3", "--params", "{\"digits\": 4, \"ops\": \"+\"}", NULL};
    struct th_run r = th_r1lab(NULL, args);
    cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
    long a, b;
    cr_assert_eq(sscanf(r.out, "Compute: %ld + %ld", &a, &b), 2, "%s", r.out);
    cr_expect(a >= 1000 && a <= 9999 && b >= 1000 && b <= 9999);
    th_run_free(&r);
    const char *bad[] = {"world", "sample", "--task", "arith", "--params", "{\"digit\": 4}", NULL};
    r = th_r1lab(NULL, bad);
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "unknown arith parameter \"digit\"") && strstr(r.err, "digits, operands, ops"), "%s",
              r.err);
    th_run_free(&r);
}

Test(world_cli, usage_errors_exit_2) {
    const char *cases[][8] = {
        {"world", "sample", "--params", "{}", NULL},
        {"world", "sample", "--world", "{}", "--from", "models/base", NULL},
        {"world", "sample", "--task", "algebra", NULL},
        {"world", "sample", "--task", "linear", "--n", "x", NULL},
        {"world", "sample", "--task", "linear", "--split", "dev", NULL},
        {"world", "sample", "--task", "dataset", NULL},
        {"world", "corpus", "--n", "3", NULL},
        {"world", "check", "--task", "countdown", "--answer", "22", "--completion", NULL},
        {"world", "frobnicate", NULL},
        {"world", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct th_run r = th_r1lab(NULL, cases[i]);
        cr_expect_eq(r.exit_code, 2, "case %zu exited %d: %s", i, r.exit_code, r.err);
        cr_expect(strstr(r.err, "usage: r1lab world") != NULL, "case %zu: %s", i, r.err);
        th_run_free(&r);
    }
}

Test(world_cli, corpus_writes_jsonl) {
    char *dir = th_tmpdir("world");
    char out[512];
    snprintf(out, sizeof out, "%s/pre.jsonl", dir);
    const char *args[] = {"world", "corpus", "--n", "25", "--seed", "4", "--out", out, NULL};
    struct th_run r = th_r1lab(NULL, args);
    cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(out, 1 << 24, &text, &len), STATUS_OK);
    cr_expect_eq(count_lines(text), 25);
    cr_expect(strncmp(text, "{\"text\": \"", 10) == 0);
    free(text);
    th_run_free(&r);
    snprintf(out, sizeof out, "%s/cold.jsonl", dir);
    const char *cargs[] = {"world",      "corpus", "--n",   "4", "--kind", "coldstart",
                           "--template", "chatml", "--out", out, NULL};
    r = th_r1lab(NULL, cargs);
    cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
    cr_assert_eq(fs_read_file(out, 1 << 24, &text, &len), STATUS_OK);
    cr_expect_eq(count_lines(text), 4);
    cr_expect(strstr(text, "{\"prompt\": \"<|im_start|>user\\n") == text, "%.200s", text);
    free(text);
    th_run_free(&r);
    fs_remove_tree(dir);
    free(dir);
}

static cJSON *check(const char *input, const char *const *args) {
    struct th_run r = th_r1lab(input, args);
    cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
    cJSON *j;
    cr_assert_eq(json_parse_text(r.out, strlen(r.out), "stdout", &j), STATUS_OK, "%s: %s", err_msg(), r.out);
    th_run_free(&r);
    return j;
}

static double reward_of(const cJSON *j, const char *name) {
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "rewards"), name);
    cr_assert(cJSON_IsNumber(v), "no reward \"%s\"", name);
    return v->valuedouble;
}

Test(world_cli, check_prints_the_reward_breakdown) {
    const char *args[] = {
        "world",    "check", "--task",       "linear",
        "--answer", "2",     "--completion", " <think> 2x = 4 . wait , let me check </think> <answer> x = 2 </answer>",
        NULL};
    cJSON *j = check(NULL, args);
    cr_expect_eq(reward_of(j, "accuracy"), 1.0);
    cr_expect_eq(reward_of(j, "format"), 1.0);
    cr_expect_eq(reward_of(j, "language"), 1.0);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "reflection")));
    cr_expect_str_eq(cJSON_GetObjectItem(j, "canonical")->valuestring, "2");
    cr_expect_eq(cJSON_GetObjectItem(j, "total")->valuedouble, 3.0);
    cJSON_Delete(j);

    const char *cd[] = {"world", "check",    "--task", "countdown",    "--numbers",
                        "3,5,7", "--answer", "22",     "--completion", "<think>x</think><answer>5 + 5 + 7</answer>",
                        NULL};
    j = check(NULL, cd);
    cr_expect_eq(reward_of(j, "accuracy"), 0.0);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "countdown")->valuestring, "reused_number");
    cJSON_Delete(j);

    const char *spec[] = {"world",
                          "check",
                          "--task",
                          "dataset",
                          "--answer",
                          "#### 7",
                          "--completion",
                          "-",
                          "--rewards",
                          "[{\"name\": \"format\", \"soft\": true}, {\"name\": \"length\", \"max_tokens\": 10}]",
                          "--tokens",
                          "9",
                          NULL};
    j = check("<think> a </think> <answer> 7 </answer> trailing", spec);
    cr_expect_eq(reward_of(j, "format"), 0.75);
    cr_expect_float_eq(reward_of(j, "length"), -0.5, 1e-9);
    cr_expect_null(cJSON_GetObjectItem(j, "rewards")->child->next->next, "only the requested rewards");
    cJSON_Delete(j);

    const char *none[] = {"world", "check", "--task", "arith", "--answer", "5", "--completion", "no tags here", NULL};
    j = check(NULL, none);
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(j, "extracted")));
    cr_expect_eq(reward_of(j, "accuracy"), 0.0);
    cJSON_Delete(j);
}

Test(world_cli, check_rejects_bad_rewards) {
    const char *args[] = {"world",        "check", "--task",    "linear",    "--answer", "2",
                          "--completion", "x",     "--rewards", "[\"acc\"]", NULL};
    struct th_run r = th_r1lab(NULL, args);
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "unknown reward \"acc\"") && strstr(r.err, "accuracy, format, language, length"), "%s",
              r.err);
    th_run_free(&r);
}

Test(world_cli, listed_in_help) {
    const char *args[] = {"--help", NULL};
    struct th_run r = th_r1lab(NULL, args);
    cr_assert_eq(r.exit_code, 0);
    cr_expect(strstr(r.out, "world") != NULL, "%s", r.out);
    th_run_free(&r);
    const char *h[] = {"help", "world", NULL};
    r = th_r1lab(NULL, h);
    cr_expect_eq(r.exit_code, 0);
    cr_expect(strstr(r.out, "sample") && strstr(r.out, "corpus") && strstr(r.out, "check"), "%s", r.out);
    th_run_free(&r);
}

/* models/world/tokenizer.json is exactly what `r1lab world tokenizer` makes with its defaults. */
Test(world_cli, tokenizer_command_reproduces_the_shipped_tokenizer) {
    char *dir = th_tmpdir("wtok");
    char out[4200];
    snprintf(out, sizeof out, "%s/tokenizer.json", dir);
    const char *args[] = {"world", "tokenizer", "--out", out, NULL};
    struct th_run r = th_r1lab(NULL, args);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    th_run_free(&r);
    char *shipped = th_path("models/world/tokenizer.json");
    char *a, *b;
    size_t na, nb;
    cr_assert_eq(fs_read_file(out, 1 << 24, &a, &na), STATUS_OK);
    cr_assert_eq(fs_read_file(shipped, 1 << 24, &b, &nb), STATUS_OK);
    cr_expect(na == nb && memcmp(a, b, na) == 0, "regenerated tokenizer differs from models/world/tokenizer.json");
    free(a), free(b), free(shipped);
    fs_remove_tree(dir);
    free(dir);
}

/* With no --task, problems come from the world's task mix; --from takes the world settings a checkpoint was
 * trained with (the shipped base model's: linear 0.8, arith 0.2, small numbers). */
Test(world_cli, sample_defaults_to_the_mix_and_takes_a_checkpoints_world) {
    struct th_run r = th_r1lab(NULL, (const char *[]){"world", "sample", "--n", "40", "--json", NULL});
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "\"task\": \"linear\"") && strstr(r.out, "\"task\": \"countdown\""), "%s", r.out);
    th_run_free(&r);
    char *base = th_path("models/base"), *foreign = th_path("tests/fixtures/models/qwen2_tiny");
    r = th_r1lab(NULL, (const char *[]){"world", "sample", "--n", "60", "--json", "--from", base, NULL});
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "\"task\": \"countdown\"") == NULL, "countdown has weight 0 in models/base: %s", r.out);
    int linear = 0, big = 0;
    for (const char *l = r.out; (l = strstr(l, "\"prompt\": \"Solve: ")); l++) {
        linear++;
        int a, b, c;
        char x;
        if (sscanf(l + 18, "%d%c + %d = %d", &a, &x, &b, &c) == 4 && a > 6) big++;
    }
    cr_expect(linear > 30, "linear is 80%% of the mix: %d of 60", linear);
    cr_expect_eq(big, 0, "models/base was trained on coefficients up to 6");
    th_run_free(&r);
    r = th_r1lab(NULL, (const char *[]){"world", "sample", "--from", foreign, NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "no training config") && strstr(r.err, "hint:"), "%s", r.err);
    th_run_free(&r);
    free(base), free(foreign);
}
