/* Pipelines and rejection sampling: the rejection filter on hand-written completions (every drop reason, the counts
 * adding up, both format styles); the pipeline config (defaults, overrides, "@NAME" references, distill stages,
 * the errors a user makes); the state file; the stage strip's layout; and a tiny four-stage pipeline end to end
 * (sft, grpo, rejection_sample, sft on its output) that leaves every stage directory, refuses a changed config,
 * does nothing when run again, and — killed with SIGKILL during the grpo stage and run again — keeps the finished
 * stage's files untouched and ends with the same metrics (bit for bit) and the same data set bytes as an
 * uninterrupted pipeline. Also `r1lab distill` on the same tiny models. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/rl/readability.h"
#include "engine/rl/rejection.h"
#include "engine/run/metric.h"
#include "engine/run/pipeline.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "harness.h"
#include "tui/pipeview.h"

/* ---------------------------------------------------------------------------------------------------- */
/* The filter                                                                                            */

static const char *const GOOD = " <think> subtract 3 , then divide by 2 : x = 4 / 2 = 2 . </think> So x = 2 . <answer> 2 </answer>";
static const char *const GOOD2 = " <think> 2x = 4 , so x = 2 . </think> The answer is 2 . <answer> 2 </answer>";
static const char *const WRONG = " <think> 2x = 6 , so x = 3 . </think> So x = 3 . <answer> 3 </answer>";
static const char *const NO_CLOSE = " <think> 2x = 4 , so x = 2 . <answer> 2 </answer>";
static const char *const MIXED =
    " <think> 减去 3 : 2x = 4 , so divide both sides and we get x = 2 . </think> So x = 2 . <answer> 2 </answer>";

static int judge(const struct rejection_filter *f, const char *const *texts, const bool *trunc, int n,
                 struct rejection_verdict *v) {
    struct problem p;
    cr_assert_eq(task_problem_from_answer(&p, TASK_DATASET, "Solve: 2x + 3 = 7", "2"), STATUS_OK);
    struct rejection_candidate c[16];
    for (int i = 0; i < n; i++) c[i] = (struct rejection_candidate){texts[i], strlen(texts[i]), trunc[i]};
    rejection_filter_group(f, &p, c, n, v);
    task_problem_free(&p);
    return n;
}

Test(rejection, every_drop_reason_on_hand_written_completions) {
    const char *texts[] = {GOOD, GOOD, WRONG, NO_CLOSE, MIXED, GOOD, GOOD2};
    const bool trunc[] = {false, true, false, false, false, false, false};
    const enum rejection_reason want[] = {REJECTION_KEPT,     REJECTION_TRUNCATED, REJECTION_WRONG, REJECTION_FORMAT,
                                          REJECTION_LANGUAGE, REJECTION_DUPLICATE, REJECTION_KEPT};
    struct rejection_filter f = {REWARD_FORMAT_R1, REWARD_LANG_EN, 1.0, 0};
    struct rejection_verdict v[7];
    int n = judge(&f, texts, trunc, 7, v);
    for (int i = 0; i < n; i++)
        cr_expect_eq(v[i].reason, want[i], "completion %d: %s, want %s", i, rejection_reason_name(v[i].reason),
                     rejection_reason_name(want[i]));
    /* each check on its own: the truncated copy of a good text fails only that check, and so on */
    cr_expect_eq(v[0].failed, 0u);
    cr_expect_eq(v[1].failed, 1u << REJECTION_TRUNCATED);
    cr_expect_eq(v[2].failed, 1u << REJECTION_WRONG);
    cr_expect_eq(v[3].failed, 1u << REJECTION_FORMAT);
    cr_expect_eq(v[4].failed, 1u << REJECTION_LANGUAGE);
    cr_expect(v[4].language < 1.0 && v[4].language > 0.5, "mixed CoT share %g", v[4].language);

    /* at most one per prompt: the second good text is over the limit */
    f.keep_per_prompt = 1;
    judge(&f, texts, trunc, 7, v);
    cr_expect_eq(v[0].reason, REJECTION_KEPT);
    cr_expect_eq(v[5].reason, REJECTION_DUPLICATE);
    cr_expect_eq(v[6].reason, REJECTION_OVER_LIMIT);

    /* a looser language bar keeps the mixed one; the strict Table 1 style refuses R1's summary */
    f = (struct rejection_filter){REWARD_FORMAT_R1, REWARD_LANG_EN, 0.5, 0};
    judge(&f, texts, trunc, 7, v);
    cr_expect_eq(v[4].reason, REJECTION_KEPT);
    f.style = REWARD_FORMAT_R1_ZERO;
    judge(&f, texts, trunc, 7, v);
    cr_expect_eq(v[0].reason, REJECTION_FORMAT, "a summary between </think> and <answer> is not Table 1");
    const char *zero[] = {" <think> x = 2 . </think> <answer> 2 </answer>"};
    const bool no[] = {false};
    judge(&f, zero, no, 1, v);
    cr_expect_eq(v[0].reason, REJECTION_KEPT);
}

Test(rejection, counts_add_up) {
    const char *texts[] = {GOOD, GOOD, WRONG, NO_CLOSE, MIXED, GOOD, GOOD2};
    const bool trunc[] = {false, true, false, false, false, false, false};
    struct rejection_filter f = {REWARD_FORMAT_R1, REWARD_LANG_EN, 1.0, 1};
    struct rejection_verdict v[7];
    struct rejection_counts c = {0};
    for (int rep = 0; rep < 3; rep++) rejection_counts_add(&c, v, judge(&f, texts, trunc, 7, v));
    int64_t dropped = 0;
    for (int r = REJECTION_TRUNCATED; r < REJECTION_REASON_COUNT; r++) dropped += c.dropped[r];
    cr_expect_eq(c.samples, 21);
    cr_expect_eq(c.prompts, 3);
    cr_expect_eq(c.kept, 3);
    cr_expect_eq(c.prompts_with_kept, 3);
    cr_expect_eq(c.kept + dropped, c.samples, "kept %lld + dropped %lld", (long long)c.kept, (long long)dropped);
    cr_expect_eq(c.dropped[REJECTION_KEPT], 0);
    cr_expect_eq(c.failed[REJECTION_WRONG], 3);
    cr_expect_eq(c.dropped[REJECTION_OVER_LIMIT], 3);
    cJSON *o = cJSON_CreateObject();
    rejection_counts_to_json(&c, o);
    cr_expect_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "dropped"), "duplicate")->valuedouble, 3);
    cJSON_Delete(o);
}

/* R1-Zero's outputs rewritten into R1's format: the reasoning kept, a summary and the answer after it, readable
 * and in R1's format by the same measures the pipeline applies to R1's own outputs. */
Test(rejection, rewrite_turns_r1_zero_outputs_into_cold_start_records) {
    struct problem p;
    cr_assert_eq(task_problem_from_answer(&p, TASK_LINEAR, "Solve: 2x + 3 = 7", "2"), STATUS_OK);
    const char *zero = " <think> 2x + 3 = 7 . subtract 3 : 2x = 4 . divide by 2 : x = 4 / 2 = 2 . </think> "
                       "<answer> 2 </answer>";
    cr_expect_eq(reward_format(zero, strlen(zero), REWARD_FORMAT_R1, false), 0.0, "R1-Zero's format is not R1's");
    struct strbuf out = {0};
    cr_assert_eq(rejection_rewrite_r1(&p, zero, strlen(zero), &out), STATUS_OK, "%s", err_msg());
    cr_expect_str_eq(out.data, " <think> 2x + 3 = 7 . subtract 3 : 2x = 4 . divide by 2 : x = 4 / 2 = 2 . </think> "
                               "so x = 2 . <answer> 2 </answer>");
    cr_expect_eq(reward_format(out.data, out.len, REWARD_FORMAT_R1, false), 1.0, "%s", out.data);
    cr_expect_eq(reward_accuracy(&p, out.data, out.len), 1.0);
    cr_expect_float_eq(readability_score(out.data, out.len, REWARD_LANG_EN), 1.0, 1e-12);
    strbuf_free(&out);
    cr_expect_eq(rejection_rewrite_r1(&p, " <answer> 2 </answer>", 21, &out), STATUS_FORMAT, "no reasoning to keep");
    strbuf_free(&out);
    task_problem_free(&p);
}

Test(rejection, config_errors_name_the_key) {
    struct {
        const char *json, *want;
    } cases[] = {
        {"{}", "\"model\" is not set"},
        {"{\"model\": \"m\", \"sample_per_prompt\": 3}", "unknown key \"sample_per_prompt\""},
        {"{\"model\": \"m\", \"format_style\": \"r2\"}", "format_style \"r2\""},
        {"{\"model\": \"m\", \"min_language\": 2}", "min_language"},
        {"{\"model\": \"m\", \"rewrite\": \"r2\"}", "rewrite \"r2\" is not none or r1"},
        {"{\"model\": \"m\", \"prompts\": \"all\"}", "\"prompts\""},
        {"{\"model\": \"m\", \"extra\": [{\"world\": \"nonsense\", \"n\": 3}]}", "extra[0]"},
        {"{\"model\": \"m\", \"extra\": [{\"world\": \"coldstart\"}]}", "\"n\""},
        {"{\"model\": \"m\", \"extra\": [{\"dataset\": \"a.jsonl\", \"world\": \"coldstart\", \"n\": 1}]}", "exactly one"},
        {"{\"model\": \"m\", \"world\": {\"tasks\": {\"cooking\": 1}}}", "cooking"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *j = cJSON_Parse(cases[i].json);
        struct rejection_config rc;
        cr_expect_neq(rejection_config_parse(&rc, j, "x.json"), STATUS_OK, "%s was accepted", cases[i].json);
        cr_expect(strstr(err_msg(), cases[i].want) != NULL, "%s: message \"%s\" lacks \"%s\"", cases[i].json, err_msg(),
                  cases[i].want);
        cJSON_Delete(j);
    }
    cJSON *j = cJSON_Parse("{\"model\": \"m\", \"keep_per_prompt\": 2, \"extra\": [{\"world\": \"coldstart\", \"n\": 5}]}");
    struct rejection_config rc;
    cr_assert_eq(rejection_config_parse(&rc, j, "x.json"), STATUS_OK, "%s", err_msg());
    cr_expect_eq(rc.filter.keep_per_prompt, 2);
    cr_expect_eq(rc.samples_per_prompt, 4);
    cr_expect_eq(rc.n_extra, 1);
    cr_expect_eq(cJSON_GetArraySize(rc.root), (int)rejection_n_keys, "the resolved config holds every key");
    rejection_config_free(&rc);
    cJSON_Delete(j);
}

/* ---------------------------------------------------------------------------------------------------- */
/* The pipeline config                                                                                   */

static enum status resolve_text(struct pipeline *p, const char *json, char **over, int n) {
    cJSON *root = cJSON_Parse(json);
    cr_assert(root != NULL, "bad test JSON: %s", json);
    return pipeline_resolve(p, root, "p.json", "p", over, n);
}

static const char *cfg_string(const struct pipeline *p, size_t i, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(p->stages[i].config, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

#define SFT "{\"stage\": \"sft\", \"model_name_or_path\": \"base\", \"dataset\": \"world:coldstart\", \"max_steps\": 3"
#define GRPO "{\"stage\": \"grpo\", \"model_name_or_path\": \"@a\", \"dataset\": \"world:linear\", \"max_steps\": 3"

Test(pipeline, references_defaults_and_overrides) {
    struct pipeline p;
    char *over[] = {"b.learning_rate=0.25", "defaults.seed=9", "output_dir=runs/x/"};
    enum status st = resolve_text(&p,
                                  "{\"defaults\": {\"seed\": 1, \"eval_steps\": 5, \"threads\": 2},"
                                  " \"stages\": ["
                                  "  {\"name\": \"a\", \"kind\": \"train\", \"config\": " SFT
                                  ", \"output_dir\": \"elsewhere\", \"resume_from_checkpoint\": true}},"
                                  "  {\"name\": \"b\", \"kind\": \"train\", \"config\": " GRPO
                                  ", \"seed\": 4}, \"overrides\": {\"max_steps\": 7}},"
                                  "  {\"name\": \"r\", \"kind\": \"rejection_sample\", \"model\": \"@b\", \"stop_strings\": [\"@@x\"]},"
                                  "  {\"name\": \"c\", \"kind\": \"train\", \"config\": " SFT "}, \"overrides\": {\"dataset\": \"@r\", \"model_name_or_path\": \"@a\"}}]}",
                                  over, 3);
    cr_assert_eq(st, STATUS_OK, "%s", err_msg());
    cr_assert_eq(p.n, 4);
    cr_expect_str_eq(p.dir, "runs/x");
    cr_expect_str_eq(p.stages[1].dir, "runs/x/2-b");
    cr_expect_str_eq(p.stages[0].output, "runs/x/1-a@latest");
    cr_expect_str_eq(p.stages[2].output, "runs/x/3-r/dataset.jsonl");
    /* references: to earlier stages' outputs; "@@" escapes */
    cr_expect_str_eq(cfg_string(&p, 1, "model_name_or_path"), "runs/x/1-a@latest");
    cr_expect_str_eq(cfg_string(&p, 2, "model"), "runs/x/2-b@latest");
    cr_expect_str_eq(cfg_string(&p, 3, "dataset"), "runs/x/3-r/dataset.jsonl");
    cr_expect_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(p.stages[2].config, "stop_strings"), 0)->valuestring, "@x");
    /* the pipeline owns output_dir and resume; defaults fill gaps, only with keys the stage reads */
    cr_expect_str_eq(cfg_string(&p, 0, "output_dir"), "runs/x/1-a");
    cr_expect_null(cJSON_GetObjectItem(p.stages[0].config, "resume_from_checkpoint"));
    cr_expect_eq(cJSON_GetObjectItem(p.stages[0].config, "seed")->valuedouble, 9);
    cr_expect_eq(cJSON_GetObjectItem(p.stages[1].config, "seed")->valuedouble, 4, "the config's own key wins");
    cr_expect_null(cJSON_GetObjectItem(p.stages[0].config, "eval_steps"), "sft reads no eval_steps");
    cr_expect_eq(cJSON_GetObjectItem(p.stages[1].config, "eval_steps")->valuedouble, 5);
    cr_expect_eq(cJSON_GetObjectItem(p.stages[1].config, "max_steps")->valuedouble, 7);
    cr_expect_eq(cJSON_GetObjectItem(p.stages[1].config, "learning_rate")->valuedouble, 0.25);
    cr_expect_eq(cJSON_GetObjectItem(p.stages[2].config, "threads")->valuedouble, 2, "shared defaults reach every stage");
    cr_expect_null(cJSON_GetObjectItem(p.stages[2].config, "eval_steps"));
    struct config c;
    cr_assert_eq(pipeline_train_config(&p, 1, true, false, &c), STATUS_OK, "%s", err_msg());
    cr_expect(c.v.run.overwrite_output_dir == false);
    cr_expect(cJSON_IsTrue(c.v.run.resume_from_checkpoint));
    config_free(&c);
    pipeline_free(&p);
}

Test(pipeline, distill_stage_becomes_sampling_and_sft) {
    struct pipeline p;
    enum status st = resolve_text(&p,
                                  "{\"stages\": [{\"name\": \"small\", \"kind\": \"distill\", \"teacher\": \"runs/t@latest\","
                                  " \"student\": {\"model_name_or_path\": \"s\", \"max_steps\": 2},"
                                  " \"sample\": {\"prompts\": 8}, \"overrides\": {\"max_steps\": 5}}]}",
                                  NULL, 0);
    cr_assert_eq(st, STATUS_OK, "%s", err_msg());
    cr_assert_eq(p.n, 2);
    cr_expect_str_eq(p.stages[0].name, "small-sample");
    cr_expect_eq(p.stages[0].kind, PIPELINE_KIND_REJECTION);
    cr_expect_str_eq(cfg_string(&p, 0, "model"), "runs/t@latest");
    cr_expect_eq(cJSON_GetObjectItem(p.stages[0].config, "prompts")->valuedouble, 8);
    cr_expect_str_eq(p.stages[1].name, "small");
    cr_expect_str_eq(cfg_string(&p, 1, "stage"), "sft");
    cr_expect_str_eq(cfg_string(&p, 1, "dataset"), "runs/p/1-small-sample/dataset.jsonl");
    cr_expect_eq(cJSON_GetObjectItem(p.stages[1].config, "max_steps")->valuedouble, 5);
    pipeline_free(&p);
}

Test(pipeline, mistakes_are_refused_with_the_stage_named) {
    struct {
        const char *json, *want;
    } cases[] = {
        {"{\"stages\": []}", "non-empty"},
        {"{\"stage\": []}", "unknown key \"stage\""},
        {"{\"stages\": [{\"name\": \"a\", \"kind\": \"train\", \"config\": " SFT ", \"model_name_or_path\": \"@b\"}},"
         " {\"name\": \"b\", \"kind\": \"train\", \"config\": " SFT "}}]}",
         "\"@b\" names a later stage"},
        {"{\"stages\": [{\"name\": \"a\", \"kind\": \"train\", \"config\": " SFT ", \"model_name_or_path\": \"@a\"}}]}",
         "this stage itself"},
        {"{\"stages\": [{\"name\": \"a\", \"kind\": \"train\", \"config\": " SFT ", \"model_name_or_path\": \"@zz\"}}]}",
         "\"@zz\" names no stage"},
        {"{\"stages\": [{\"name\": \"a\", \"kind\": \"train\", \"config\": " SFT "}}, {\"name\": \"a\", \"kind\": \"train\", \"config\": " SFT "}}]}",
         "two stages are named \"a\""},
        {"{\"stages\": [{\"name\": \"a b\", \"kind\": \"train\", \"config\": " SFT "}}]}", "stage name \"a b\""},
        {"{\"stages\": [{\"name\": \"a\", \"kind\": \"cook\"}]}", "kind \"cook\""},
        {"{\"stages\": [{\"name\": \"a\", \"kind\": \"train\"}]}", "needs \"config\""},
        {"{\"stages\": [{\"name\": \"a\", \"kind\": \"train\", \"config\": " SFT ", \"learning_rat\": 1}}]}",
         "stage 1 \"a\": unknown key \"learning_rat\""},
        {"{\"defaults\": {\"sed\": 1}, \"stages\": [{\"name\": \"a\", \"kind\": \"train\", \"config\": " SFT "}}]}",
         "\"defaults\": unknown key \"sed\""},
        {"{\"stages\": [{\"name\": \"a\", \"kind\": \"train\", \"config\": \"/nonexistent/x.json\"}]}", "/nonexistent/x.json"},
        {"{\"stages\": [{\"name\": \"d\", \"kind\": \"distill\", \"teacher\": \"t\", \"student\": " GRPO "}}]}",
         "must be an sft stage"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pipeline p;
        cr_expect_neq(resolve_text(&p, cases[i].json, NULL, 0), STATUS_OK, "accepted: %s", cases[i].json);
        cr_expect(strstr(err_msg(), cases[i].want) != NULL, "case %zu: \"%s\" lacks \"%s\"", i, err_msg(), cases[i].want);
    }
    struct pipeline p;
    char *bad[] = {"nosuch.max_steps=3"};
    cr_expect_neq(resolve_text(&p, "{\"stages\": [{\"name\": \"a\", \"kind\": \"train\", \"config\": " SFT "}}]}", bad, 1),
                  STATUS_OK);
    cr_expect(strstr(err_msg(), "no stage \"nosuch\"") != NULL, "%s", err_msg());
}

Test(pipeline, state_file_round_trip_and_train_start) {
    char *dir = th_tmpdir("pipe-state");
    struct pipeline_stage_status stages[2] = {
        {.name = "a", .kind = "train", .detail = "sft", .dir = "1-a", .state = PIPELINE_FINISHED, .started = 1, .ended = 2},
        {.name = "b", .kind = "rejection_sample", .dir = "2-b", .state = PIPELINE_FAILED, .message = "it \"broke\"\n"},
    };
    struct pipeline_status s = {.state = PIPELINE_STOPPED, .pid = 77, .started = 5, .updated = 6, .n = 2, .stages = stages};
    cr_assert_eq(pipeline_status_write(dir, &s), STATUS_OK, "%s", err_msg());
    cr_expect(pipeline_is_dir(dir));
    struct pipeline_status r;
    cr_assert_eq(pipeline_status_read(dir, &r), STATUS_OK, "%s", err_msg());
    cr_expect_eq(r.state, PIPELINE_STOPPED);
    cr_expect_eq(r.pid, 77);
    cr_assert_eq(r.n, 2);
    cr_expect_str_eq(r.stages[0].detail, "sft");
    cr_expect_eq(r.stages[0].state, PIPELINE_FINISHED);
    cr_expect_eq(r.stages[1].state, PIPELINE_FAILED);
    cr_expect_str_eq(r.stages[1].message, "it \"broke\"\n");
    cr_expect_eq(pipeline_status_running(&r), -1);
    pipeline_status_free(&r);
    /* a stage dir that escapes the pipeline is refused */
    const char *evil = "{\"stages\": [{\"name\": \"a\", \"dir\": \"../../etc\"}]}";
    cr_expect_neq(pipeline_status_parse(evil, strlen(evil), "x", &r), STATUS_OK);

    /* how a re-run starts a train stage: nothing there, an attempt without a checkpoint, one with */
    struct pipeline p;
    cr_assert_eq(resolve_text(&p, "{\"stages\": [{\"name\": \"a\", \"kind\": \"train\", \"config\": " SFT "}}]}", NULL, 0),
                 STATUS_OK);
    snprintf(p.stages[0].dir, sizeof p.stages[0].dir, "%s/run", dir);
    cr_assert_eq(fs_mkdir_p(p.stages[0].dir), STATUS_OK);
    bool resume, overwrite;
    cr_assert_eq(pipeline_train_start(&p, 0, &resume, &overwrite), STATUS_OK, "%s", err_msg());
    cr_expect(!resume && !overwrite);
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.jsonl", p.stages[0].dir);
    cr_assert(th_write_file(path, "{\"step\": 1}\n", 12));
    cr_assert_eq(pipeline_train_start(&p, 0, &resume, &overwrite), STATUS_OK);
    cr_expect(!resume && overwrite, "killed before its first checkpoint: start afresh");
    snprintf(path, sizeof path, "%s/checkpoints/step-000002", p.stages[0].dir);
    cr_assert_eq(fs_mkdir_p(path), STATUS_OK);
    snprintf(path, sizeof path, "%s/latest", p.stages[0].dir);
    cr_assert_eq(symlink("checkpoints/step-000002", path), 0);
    cr_assert_eq(pipeline_train_start(&p, 0, &resume, &overwrite), STATUS_OK, "%s", err_msg());
    cr_expect(resume && !overwrite, "a checkpoint: continue from it");
    pipeline_free(&p);
    fs_remove_tree(dir);
    free(dir);
}

Test(pipeline, stage_strip_fits_any_width) {
    struct pipeline_stage_status stages[5] = {
        {.name = "cold_start", .state = PIPELINE_FINISHED},  {.name = "reasoning_rl", .state = PIPELINE_RUNNING},
        {.name = "rejection", .state = PIPELINE_PENDING},    {.name = "sft_all", .state = PIPELINE_PENDING},
        {.name = "rl_all_scenarios", .state = PIPELINE_PENDING},
    };
    struct pipeline_status s = {.n = 5, .stages = stages};
    struct pipeview_item it[8];
    size_t n = pipeview_strip(&s, 1, 200, false, it, 8);
    cr_assert_eq(n, 5);
    cr_expect_str_eq(it[1].text, "▶ 2 reasoning_rl");
    cr_expect_str_eq(it[0].text, "✓ 1 cold_start");
    n = pipeview_strip(&s, 1, 200, true, it, 8);
    cr_expect_str_eq(it[1].text, "> 2 reasoning_rl");
    for (int w = 1; w <= 120; w++) {
        for (int shown = 0; shown < 5; shown++) {
            n = pipeview_strip(&s, shown, w, false, it, 8);
            if (w >= 3) cr_assert_geq(n, 1, "width %d shows nothing", w);
            bool has_shown = false;
            for (size_t i = 0; i < n; i++) {
                cr_assert(it[i].x >= 0 && it[i].x + it[i].w <= w, "width %d: item %zu at %d+%d", w, i, it[i].x, it[i].w);
                if (i > 0) cr_assert_gt(it[i].x, it[i - 1].x + it[i - 1].w - 1, "width %d: items overlap", w);
                has_shown |= it[i].stage == shown;
            }
            if (n > 0) cr_expect(has_shown, "width %d: the shown stage %d is not in the strip", w, shown);
        }
    }
    n = pipeview_strip(&s, 4, 40, false, it, 8);
    cr_expect_eq(n, 5, "short labels fit 40 columns");
    cr_expect_str_eq(it[0].text, "✓1");
    struct pipeline_status empty = {0};
    cr_expect_eq(pipeview_default_stage(&s), 1);
    stages[1].state = PIPELINE_FAILED;
    cr_expect_eq(pipeview_default_stage(&s), 1, "nothing runs: the last stage that started");
    cr_expect_eq(pipeview_strip(&empty, 0, 80, false, it, 8), 0);
}

/* ---------------------------------------------------------------------------------------------------- */
/* End to end                                                                                            */

static char *write_pipeline_config(const char *dir) {
    char *model = th_path("tests/fixtures/models/qwen2_tiny"), *grpo = th_path("tests/fixtures/grpo/tiny.json");
    char *path = malloc(4200), text[8192];
    snprintf(path, 4200, "%s/tiny-pipeline.json", dir);
    snprintf(text, sizeof text,
             "{\"defaults\": {\"seed\": 5, \"threads\": 1, \"world\": {\"template\": \"raw\"}},\n"
             " \"stages\": [\n"
             "  {\"name\": \"base\", \"kind\": \"train\", \"config\": {\"stage\": \"sft\", \"model_name_or_path\": \"%s\",\n"
             "    \"dataset\": \"world:coldstart\", \"dataset_size\": 16, \"max_seq_length\": 64,\n"
             "    \"per_device_train_batch_size\": 4, \"learning_rate\": 0.003, \"max_steps\": 3, \"save_steps\": 0}},\n"
             "  {\"name\": \"rl\", \"kind\": \"train\", \"config\": \"%s\",\n"
             "    \"overrides\": {\"model_name_or_path\": \"@base\", \"max_steps\": 24, \"save_steps\": 3}},\n"
             "  {\"name\": \"rej\", \"kind\": \"rejection_sample\", \"model\": \"@rl\", \"dataset\": \"world:linear\",\n"
             "    \"prompts\": 6, \"samples_per_prompt\": 3, \"batch_prompts\": 4, \"max_completion_length\": 12,\n"
             "    \"max_prompt_length\": 32, \"temperature\": 1.0, \"extra\": [{\"world\": \"coldstart\", \"n\": 5},\n"
             "    {\"world\": \"nonreasoning\", \"n\": 3}]},\n"
             "  {\"name\": \"sft\", \"kind\": \"train\", \"config\": {\"stage\": \"sft\", \"model_name_or_path\": \"@base\",\n"
             "    \"dataset\": \"@rej\", \"max_seq_length\": 64, \"per_device_train_batch_size\": 4, \"learning_rate\": 0.003,\n"
             "    \"max_steps\": 3, \"save_steps\": 0}}]}\n",
             model, grpo);
    cr_assert(th_write_file(path, text, strlen(text)));
    free(model);
    free(grpo);
    return path;
}

static bool same_stat(const char *path, const struct stat *before) {
    struct stat now;
    return stat(path, &now) == 0 && now.st_mtim.tv_sec == before->st_mtim.tv_sec &&
           now.st_mtim.tv_nsec == before->st_mtim.tv_nsec && now.st_size == before->st_size && now.st_ino == before->st_ino;
}

static struct th_run run_pipeline2(const char *config, const char *out, const char *extra, const char *extra2) {
    char arg[4300];
    snprintf(arg, sizeof arg, "output_dir=%s", out);
    const char *args[] = {"pipeline", "--headless", config, arg, extra, extra ? extra2 : NULL, NULL};
    return th_r1lab(NULL, args);
}

static struct th_run run_pipeline(const char *config, const char *out, const char *extra) {
    return run_pipeline2(config, out, extra, NULL);
}


static char *slurp(const char *dir, const char *rel) {
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    char *text = NULL;
    size_t len;
    if (fs_read_file(path, 1 << 26, &text, &len) != STATUS_OK) return NULL;
    return text;
}

/* --redo on a finished pipeline: the stage named and those after it run again with their config as it now is, the
 * stages before are kept untouched, a change before the redone stage is still refused, a misspelt stage is named. */
static void expect_redo(const char *config, const char *pipe) {
    char base_metrics[4300], rej_data[4300], old_sft[4300];
    snprintf(base_metrics, sizeof base_metrics, "%s/1-base/metrics.jsonl", pipe);
    snprintf(rej_data, sizeof rej_data, "%s/3-rej/dataset.jsonl", pipe);
    snprintf(old_sft, sizeof old_sft, "%s/4-sft.before-redo/config.json", pipe);
    struct stat bm, rd;
    cr_assert_eq(stat(base_metrics, &bm), 0);
    cr_assert_eq(stat(rej_data, &rd), 0);
    struct th_run r = run_pipeline2(config, pipe, "--redo=sfft", NULL);
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "no stage \"sfft\"") && strstr(r.err, "did you mean \"sft\""), "%s", r.err);
    th_run_free(&r);
    r = run_pipeline2(config, pipe, "rl.learning_rate=0.5", "--redo=sft");
    cr_expect_eq(r.exit_code, 1, "a change before the redone stage is refused");
    cr_expect(strstr(r.err, "different configuration") && strstr(r.err, "\"rl\""), "%s", r.err);
    th_run_free(&r);
    r = run_pipeline2(config, pipe, "sft.learning_rate=0.001", "--redo=sft");
    cr_assert_eq(r.exit_code, 0, "the redo failed:\n%s\n%s", r.out, r.err);
    cr_expect(strstr(r.out, "# stage 4/4 sft (train sft): started") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "# stage 3/4 rej: finished earlier") != NULL, "%s", r.out);
    th_run_free(&r);
    cr_expect(same_stat(base_metrics, &bm) && same_stat(rej_data, &rd), "a stage before the redone one changed");
    cr_expect(fs_exists(old_sft), "the earlier run of the redone stage is kept aside");
    char *text = slurp(pipe, "4-sft/config.json");
    cr_assert(text != NULL, "the redone stage has no config.json");
    cJSON *c = cJSON_Parse(text);
    cr_assert(c != NULL);
    cr_expect_float_eq(cJSON_GetObjectItem(c, "learning_rate")->valuedouble, 0.001, 1e-12, "the new config ran");
    cJSON_Delete(c);
    free(text);
    struct pipeline_status ps;
    cr_assert_eq(pipeline_status_read(pipe, &ps), STATUS_OK, "%s", err_msg());
    for (size_t i = 0; i < ps.n; i++) cr_expect_eq(ps.stages[i].state, PIPELINE_FINISHED, "stage %zu", i + 1);
    pipeline_status_free(&ps);
    r = run_pipeline2(config, pipe, "sft.learning_rate=0.001", NULL);
    cr_expect_eq(r.exit_code, 0, "the redone config is now the pipeline's: %s", r.err);
    cr_expect(strstr(r.err, "nothing to do") != NULL, "%s", r.err);
    th_run_free(&r);
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

/* The values of the keys that must match, per step, from a stage's metrics.jsonl. */
static void expect_same_metrics(const char *a, const char *b, const char *stage, int steps) {
    static const char *const keys[] = {"loss", "grad_norm", "reward", "kl", "completions/mean_length", "learning_rate"};
    char rel[256];
    snprintf(rel, sizeof rel, "%s/metrics.jsonl", stage);
    char *ta = slurp(a, rel), *tb = slurp(b, rel);
    cr_assert(ta && tb, "%s: metrics missing", stage);
    cJSON *la[64], *lb[64];
    int na = 0, nb = 0;
    for (char *l = strtok(ta, "\n"); l && na < 64; l = strtok(NULL, "\n")) la[na++] = cJSON_Parse(l);
    for (char *l = strtok(tb, "\n"); l && nb < 64; l = strtok(NULL, "\n")) lb[nb++] = cJSON_Parse(l);
    cr_expect_eq(na, steps, "%s: uninterrupted run logged %d steps", stage, na);
    cr_expect_eq(nb, na, "%s: resumed run logged %d steps, uninterrupted %d (one per step)", stage, nb, na);
    for (int i = 0; i < na && i < nb; i++)
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            const cJSON *x = cJSON_GetObjectItem(la[i], keys[k]), *y = cJSON_GetObjectItem(lb[i], keys[k]);
            if (!x) continue;
            cr_assert(y != NULL, "%s step %d: %s missing after resume", stage, i + 1, keys[k]);
            cr_expect_eq(x->valuedouble, y->valuedouble, "%s step %d %s: resumed %.17g vs uninterrupted %.17g", stage,
                         i + 1, keys[k], y->valuedouble, x->valuedouble);
        }
    for (int i = 0; i < na; i++) cJSON_Delete(la[i]);
    for (int i = 0; i < nb; i++) cJSON_Delete(lb[i]);
    free(ta);
    free(tb);
}

/* The rejection stage's metrics.jsonl against the metrics table: every key it writes is listed with the
 * rejection_sample writer, and every key listed for it (and not only sometimes) is written. */
static void expect_rejection_keys(const char *pipe) {
    char *text = slurp(pipe, "3-rej/metrics.jsonl");
    cr_assert(text != NULL);
    bool seen[METRIC_COUNT] = {false};
    int lines = 0;
    for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n"), lines++) {
        cJSON *o = cJSON_Parse(l);
        cr_assert(o != NULL);
        for (const cJSON *it = o->child; it; it = it->next) {
            int id = metric_lookup(it->string);
            cr_expect(id >= 0, "rejection stage writes \"%s\", which the metrics table lacks", it->string);
            if (id < 0) continue;
            cr_expect(metric_info((enum metric_id)id)->writers & METRIC_BY_REJECTION,
                      "\"%s\" is not listed as written by rejection_sample", it->string);
            seen[id] = true;
        }
        cJSON_Delete(o);
    }
    cr_expect_eq(lines, 2, "6 problems in batches of 4: two steps");
    for (int i = 0; i < METRIC_COUNT; i++) {
        const struct metric_info *m = metric_info((enum metric_id)i);
        if ((m->writers & METRIC_BY_REJECTION) && !(m->flags & METRIC_SOMETIMES))
            cr_expect(seen[i], "the table lists %s for rejection_sample, but it was not written", m->name);
    }
    free(text);
}

Test(pipeline_run, end_to_end_resume_after_sigkill_and_refusals, .timeout = 600) {
    char *dir = th_tmpdir("pipeline");
    char *config = write_pipeline_config(dir);
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);

    /* a: uninterrupted */
    struct th_run r = run_pipeline(config, a, NULL);
    cr_assert_eq(r.exit_code, 0, "pipeline failed:\n%s\n%s", r.out, r.err);
    cr_expect(strstr(r.out, "# stage 1/4 base (train sft): started") != NULL, "plain output:\n%s", r.out);
    cr_expect(strstr(r.out, "# stage 3/4 rej (rejection_sample): started") != NULL);
    cr_expect(strstr(r.out, "# stage 4/4 sft: finished") != NULL);
    th_run_free(&r);
    static const char *const files[] = {
        "pipeline.json", "pipeline_config.json", "1-base/config.json", "1-base/metrics.jsonl", "1-base/latest",
        "2-rl/status.json", "2-rl/samples.jsonl", "2-rl/latest", "3-rej/config.json", "3-rej/metrics.jsonl",
        "3-rej/status.json", "3-rej/events.jsonl", "3-rej/dataset.jsonl", "3-rej/summary.json", "4-sft/latest",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[4300];
        snprintf(p, sizeof p, "%s/%s", a, files[i]);
        cr_expect(fs_exists(p), "%s missing", p);
    }
    struct pipeline_status ps;
    cr_assert_eq(pipeline_status_read(a, &ps), STATUS_OK, "%s", err_msg());
    cr_expect_eq(ps.state, PIPELINE_FINISHED);
    for (size_t i = 0; i < ps.n; i++) cr_expect_eq(ps.stages[i].state, PIPELINE_FINISHED, "stage %zu", i + 1);
    pipeline_status_free(&ps);
    /* the rejection stage's output is what the sft stage read: its records are the extra coldstart documents */
    char *summary = slurp(a, "3-rej/summary.json");
    cJSON *sj = cJSON_Parse(summary);
    cr_assert(sj != NULL);
    double samples = cJSON_GetObjectItem(sj, "samples")->valuedouble, kept = cJSON_GetObjectItem(sj, "kept")->valuedouble;
    double dropped = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItem(sj, "dropped")) dropped += d->valuedouble;
    cr_expect_eq(samples, 18);
    cr_expect_eq(kept + dropped, samples, "counts add up");
    char dpath[4300];
    snprintf(dpath, sizeof dpath, "%s/3-rej/dataset.jsonl", a);
    cr_expect_eq(count_lines(dpath), (int)cJSON_GetObjectItem(sj, "records")->valuedouble);
    cr_expect_eq(cJSON_GetObjectItem(sj, "records")->valuedouble, kept + 5 + 3);
    cJSON_Delete(sj);
    free(summary);
    expect_rejection_keys(a);

    /* run again: nothing to do, nothing touched */
    char sft_metrics[4300];
    snprintf(sft_metrics, sizeof sft_metrics, "%s/4-sft/metrics.jsonl", a);
    struct stat before;
    cr_assert_eq(stat(sft_metrics, &before), 0);
    r = run_pipeline(config, a, NULL);
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strstr(r.err, "nothing to do") != NULL, "%s", r.err);
    cr_expect(same_stat(sft_metrics, &before), "a finished pipeline's files were rewritten");
    th_run_free(&r);
    /* a changed config is refused, and says how to proceed */
    r = run_pipeline(config, a, "rl.learning_rate=0.5");
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "different configuration") && strstr(r.err, "learning_rate") && strstr(r.err, "hint:"),
              "%s", r.err);
    th_run_free(&r);
    /* the dashboard's summary of a finished pipeline */
    const char *dargs[] = {"dash", a, "--once", NULL};
    r = th_r1lab(NULL, dargs);
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "stage 3   rej") && strstr(r.out, "run      ") , "%s", r.out);
    th_run_free(&r);

    /* b: killed during the grpo stage, then run again */
    char out_arg[4300], rl_metrics[4300];
    snprintf(out_arg, sizeof out_arg, "output_dir=%s", b);
    snprintf(rl_metrics, sizeof rl_metrics, "%s/2-rl/metrics.jsonl", b);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(th_bin(), th_bin(), "pipeline", "--headless", config, out_arg, (char *)NULL);
        _exit(127);
    }
    int status;
    bool finished_early = false;
    double t0 = th_now();
    while (th_now() - t0 < th_wait_limit(60)) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            finished_early = true;
            break;
        }
        if (count_lines(rl_metrics) >= 8) break;
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!finished_early) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    if (finished_early) cr_skip_test("the pipeline finished before it could be killed");
    cr_assert_eq(pipeline_status_read(b, &ps), STATUS_OK, "%s", err_msg());
    if (ps.stages[1].state == PIPELINE_FINISHED) {
        pipeline_status_free(&ps);
        cr_skip_test("the grpo stage finished before it could be killed");
    }
    cr_expect_eq(ps.stages[0].state, PIPELINE_FINISHED);
    cr_expect_eq(ps.stages[1].state, PIPELINE_RUNNING, "killed: the grpo stage is still marked running");
    cr_expect_eq(ps.stages[2].state, PIPELINE_PENDING);
    pipeline_status_free(&ps);
    char base_metrics[4300], base_weights[4300];
    snprintf(base_metrics, sizeof base_metrics, "%s/1-base/metrics.jsonl", b);
    snprintf(base_weights, sizeof base_weights, "%s/1-base/checkpoints/step-000003/model.safetensors", b);
    struct stat bm, bw;
    cr_assert_eq(stat(base_metrics, &bm), 0);
    cr_assert_eq(stat(base_weights, &bw), 0);
    r = run_pipeline(config, b, NULL);
    cr_assert_eq(r.exit_code, 0, "the re-run failed:\n%s\n%s", r.out, r.err);
    cr_expect(strstr(r.out, "continuing from its latest checkpoint") || strstr(r.out, "resumed from"), "%s", r.out);
    cr_expect(strstr(r.out, "# stage 1/4 base: finished earlier") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "# stage 1/4 base (train sft): started") == NULL, "the finished stage was run again:\n%s",
              r.out);
    th_run_free(&r);
    cr_expect(same_stat(base_metrics, &bm) && same_stat(base_weights, &bw), "the finished stage's files changed");
    expect_same_metrics(a, b, "1-base", 3);
    expect_same_metrics(a, b, "2-rl", 24);
    expect_same_metrics(a, b, "4-sft", 3);
    char pa[4300], pb[4300];
    /* the summaries differ only in the model's path (a/... against b/...) */
    char *sa = slurp(a, "3-rej/summary.json"), *sb = slurp(b, "3-rej/summary.json");
    cJSON *ja = cJSON_Parse(sa), *jb = cJSON_Parse(sb);
    cr_assert(ja && jb);
    cJSON_DeleteItemFromObject(ja, "model");
    cJSON_DeleteItemFromObject(jb, "model");
    cr_expect(cJSON_Compare(ja, jb, true), "summary.json differs:\n%s\n%s", sa, sb);
    cJSON_Delete(ja), cJSON_Delete(jb), free(sa), free(sb);
    static const char *const same[] = {"3-rej/dataset.jsonl", "2-rl/checkpoints/step-000024/model.safetensors",
                                       "4-sft/checkpoints/step-000003/model.safetensors"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        snprintf(pa, sizeof pa, "%s/%s", a, same[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, same[i]);
        cr_expect(th_same_file_bytes(pa, pb), "%s differs between the uninterrupted and the resumed pipeline", same[i]);
    }
    expect_redo(config, a);
    fs_remove_tree(dir);
    free(dir);
    free(config);
}

Test(pipeline_run, distill_command_runs_the_two_stages, .timeout = 300) {
    char *dir = th_tmpdir("distill");
    char *model = th_path("tests/fixtures/models/qwen2_tiny");
    char student[4200], text[2048], out[4300], extra[256];
    snprintf(student, sizeof student, "%s/student.json", dir);
    snprintf(text, sizeof text,
             "{\"stage\": \"sft\", \"model_name_or_path\": \"%s\", \"max_seq_length\": 64, \"max_steps\": 2,"
             " \"per_device_train_batch_size\": 2, \"save_steps\": 0, \"threads\": 1}",
             model);
    cr_assert(th_write_file(student, text, strlen(text)));
    snprintf(out, sizeof out, "%s/d", dir);
    snprintf(extra, sizeof extra, "[{\"world\": \"coldstart\", \"n\": 4}]");
    const char *args[] = {"distill", "--headless", "--teacher", model, "--student", student, "--output-dir", out,
                          "--prompts", "3", "--samples", "2", "--max-tokens", "8", "--extra", extra,
                          "--sample", "{\"template\": \"raw\", \"world\": {\"template\": \"raw\"}}", "max_steps=3", NULL};
    struct th_run r = th_r1lab(NULL, args);
    cr_assert_eq(r.exit_code, 0, "%s\n%s", r.out, r.err);
    cr_expect(strstr(r.out, "# stage 1/2 student-sample (rejection_sample): started") != NULL, "%s", r.out);
    th_run_free(&r);
    char *cfg = slurp(out, "pipeline_config.json");
    cr_assert(cfg != NULL);
    cr_expect(strstr(cfg, "\"max_steps\":\t3") != NULL, "the key=value override reached the student:\n%s", cfg);
    free(cfg);
    char p[4400];
    snprintf(p, sizeof p, "%s/2-student/latest", out);
    cr_expect(fs_exists(p));
    snprintf(p, sizeof p, "%s/1-student-sample/dataset.jsonl", out);
    cr_expect_geq(count_lines(p), 4);
    /* the student must be an sft config */
    char *grpo = th_path("tests/fixtures/grpo/tiny.json");
    const char *bad[] = {"distill", "--teacher", model, "--student", grpo, NULL};
    r = th_r1lab(NULL, bad);
    free(grpo);
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "must be an sft stage") != NULL, "%s", r.err);
    th_run_free(&r);
    free(model);
    fs_remove_tree(dir);
    free(dir);
}
