/* origin: chat, compare, eval and world sample talk to a checkpoint r1lab trained the way it was trained.
 * A short GRPO run from the shipped base model (trained with r1-zero on a world whose tokenizer also holds
 * R1's chat markers, so detection alone would pick r1) checks that the template comes from the checkpoint's
 * training_config.json, that compare with no --template scores what it scores with the right one, that eval
 * takes the run's task, world and limits, and that older checkpoints (the run's config.json) and foreign
 * ones (detection) are handled and say so. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/run/origin.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "harness.h"

static char *g_dir;
static char g_run[4300];

/* One 2-step GRPO run shared by the tests of this file (criterion runs each test in its own process, so
 * each makes its own; it takes a second or two). */
static void train_short_run(void) {
    g_dir = th_tmpdir("origin");
    snprintf(g_run, sizeof g_run, "%s/zero", g_dir);
    char *root = th_path("");
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' train configs/r1-zero.json max_steps=2 eval_steps=0 save_steps=2 prompts_per_step=4 "
             "output_dir='%s' --headless -q",
             root, th_bin(), g_run);
    struct th_run r = th_sh(cmd);
    cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
    th_run_free(&r);
    free(root);
}

static void remove_run(void) {
    fs_remove_tree(g_dir);
    free(g_dir);
}

TestSuite(origin, .init = train_short_run, .fini = remove_run, .timeout = 120);

static char *prompts_file(void) {
    static const char text[] = "{\"prompt\": \"Solve: 2x + 3 = 7\", \"answer\": 2}\n"
                               "{\"prompt\": \"Solve: 3x + 1 = 10\", \"answer\": 3}\n"
                               "{\"prompt\": \"Compute: 4 + 5\", \"answer\": 9}\n";
    char *p = malloc(strlen(g_dir) + 32);
    sprintf(p, "%s/prompts.jsonl", g_dir);
    cr_assert(th_write_file(p, text, strlen(text)));
    return p;
}

Test(origin, checkpoints_carry_their_training_config) {
    char ckpt[4400];
    snprintf(ckpt, sizeof ckpt, "%s/latest", g_run);
    struct origin o;
    cr_assert_eq(origin_load(ckpt, &o), STATUS_OK, "%s", err_msg());
    cr_expect(o.known && o.has_template && o.tmpl == TEMPLATE_R1_ZERO);
    cr_expect(strstr(o.source, "/latest/" ORIGIN_FILE) != NULL, "%s", o.source);
    cr_expect_str_eq(o.stage, "grpo");
    cr_expect_str_eq(o.task, "linear");
    cr_expect_eq(o.max_completion, 96);
    cr_expect_eq(o.seed, 42);
    cr_expect(o.world && cJSON_GetObjectItem(o.world, "task_params"));
    origin_free(&o);
}

Test(origin, chat_uses_the_training_template) {
    char spec[4400];
    snprintf(spec, sizeof spec, "%s@latest", g_run);
    struct th_run r = th_r1lab("/show\n/template\n", (const char *[]){"chat", spec, NULL});
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "template: r1-zero (from its training config: the GRPO stage's template)"), "%s", r.out);
    cr_expect(strstr(r.out, "zero@latest: r1-zero (from its training config"), "%s", r.out);
    th_run_free(&r);
    /* The user's choice wins, and says nothing about where it came from. */
    r = th_r1lab("/show\n", (const char *[]){"chat", spec, "--template", "r1", NULL});
    cr_expect(strstr(r.out, "template: r1\n"), "%s", r.out);
    th_run_free(&r);
}

Test(origin, compare_scores_what_the_right_template_scores) {
    char spec[4400], *prompts = prompts_file(), *base = th_path("models/base");
    snprintf(spec, sizeof spec, "%s@latest", g_run);
    cJSON *report[2];
    for (int i = 0; i < 2; i++) {
        const char *args[16] = {"compare", base, spec, "--prompts", prompts, "-n", "64", "--json"};
        if (i) args[8] = "--template", args[9] = "r1-zero";
        struct th_run r = th_r1lab(NULL, args);
        cr_assert_eq(r.exit_code, 0, "%s", r.err);
        report[i] = cJSON_Parse(r.out);
        cr_assert(report[i], "%s", r.out);
        th_run_free(&r);
    }
    for (int m = 0; m < 2; m++) {
        const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(report[0], "models"), m);
        const cJSON *b = cJSON_GetArrayItem(cJSON_GetObjectItem(report[1], "models"), m);
        cr_expect_str_eq(cJSON_GetObjectItem(a, "template")->valuestring, "r1-zero");
        cr_expect(strstr(cJSON_GetObjectItem(a, "template_source")->valuestring, "training config"));
        const char *same[] = {"correct", "answered", "format", "mean_tokens"};
        for (size_t k = 0; k < sizeof same / sizeof same[0]; k++)
            cr_expect(cJSON_Compare(cJSON_GetObjectItem(a, same[k]), cJSON_GetObjectItem(b, same[k]), true),
                      "model %d: %s differs with and without --template r1-zero", m, same[k]);
        /* The strict Table 1 format is what both models were trained to write. */
        cr_expect_gt(cJSON_GetObjectItem(a, "format")->valuedouble, 0.5, "model %d", m);
    }
    cJSON_Delete(report[0]);
    cJSON_Delete(report[1]);
    free(prompts), free(base);
}

Test(origin, eval_takes_the_runs_task_world_and_limits) {
    char spec[4400];
    snprintf(spec, sizeof spec, "%s@latest", g_run);
    struct th_run r = th_r1lab(NULL, (const char *[]){"eval", spec, "--k", "2", "--problems", "4", "--json", NULL});
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cJSON *o = cJSON_Parse(r.out);
    cr_assert(o, "%s", r.out);
    cr_expect_str_eq(cJSON_GetObjectItem(o, "task")->valuestring, "linear");
    cr_expect_str_eq(cJSON_GetObjectItem(o, "template")->valuestring, "r1-zero");
    cr_expect_str_eq(cJSON_GetObjectItem(o, "world_source")->valuestring, "its training config");
    cr_expect_eq(cJSON_GetObjectItem(o, "max_tokens")->valueint, 96);
    cr_expect_eq(cJSON_GetObjectItem(o, "seed")->valueint, 42);
    cJSON_Delete(o);
    th_run_free(&r);
    /* With the world's built-in defaults instead, the problems are other (harder) ones. */
    char samples[2][4400];
    for (int i = 0; i < 2; i++) {
        snprintf(samples[i], sizeof samples[i], "%s/eval%d.jsonl", g_dir, i);
        const char *args[16] = {"eval", spec, "--k", "1", "--problems", "8", "--samples", samples[i]};
        if (i) args[8] = "--world", args[9] = "{}";
        r = th_r1lab(NULL, args);
        cr_assert_eq(r.exit_code, 0, "%s", r.err);
        th_run_free(&r);
    }
    cr_expect(!th_same_file_bytes(samples[0], samples[1]), "--world {} must change the problems");
}

Test(origin, older_checkpoints_use_the_runs_config) {
    char ckpt[4400], file[4500];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints/step-000002", g_run);
    snprintf(file, sizeof file, "%s/%s", ckpt, ORIGIN_FILE);
    cr_assert_eq(remove(file), 0);
    struct origin o;
    cr_assert_eq(origin_load(ckpt, &o), STATUS_OK, "%s", err_msg());
    cr_expect(o.known && o.has_template && o.tmpl == TEMPLATE_R1_ZERO);
    cr_expect(strstr(o.source, "/zero/config.json") != NULL, "%s", o.source);
    origin_free(&o);
    /* A broken training config is an error naming the file, not a silent fallback. */
    const char *bad_stage = "{\"stage\": 3}", *bad_template = "{\"stage\": \"grpo\", \"template\": \"alpaca\"}";
    cr_assert(th_write_file(file, bad_stage, strlen(bad_stage)));
    cr_expect_eq(origin_load(ckpt, &o), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), ORIGIN_FILE) && strstr(err_msg(), "stage"), "%s", err_msg());
    cr_assert(th_write_file(file, bad_template, strlen(bad_template)));
    cr_expect_neq(origin_load(ckpt, &o), STATUS_OK);
    cr_expect(strstr(err_msg(), "template") && strstr(err_msg(), "r1-zero"), "%s", err_msg());
}

Test(origin, foreign_checkpoints_are_detected_and_say_so) {
    char *qwen = th_path("tests/fixtures/models/qwen2_tiny");
    struct th_run r = th_r1lab("/show\n", (const char *[]){"chat", qwen, NULL});
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    /* The fixture's tokenizer has <think> and <answer> as tokens and no chat markers. */
    cr_expect(strstr(r.out, "template: r1-zero (detected from the tokenizer: no training config)"), "%s", r.out);
    th_run_free(&r);
    free(qwen);
}
