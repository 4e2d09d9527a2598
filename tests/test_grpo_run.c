/* GRPO end to end on the tiny fixture model (tests/fixtures/grpo/tiny.json): the stored trajectory of rewards,
 * losses, gradient norms and KL is reproduced (a regression guard on the whole loop: rollouts, rewards,
 * advantages, two iterations with KL and asymmetric clipping); a run interrupted mid-way and resumed logs the same
 * values at every step as the uninterrupted one; samples.jsonl holds the logged groups with their rewards. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "harness.h"

static cJSON *metrics(const char *run) {
    cJSON *arr = th_jsonl(run, "metrics.jsonl");
    cr_assert(arr != NULL);
    return arr;
}

static void run_train(const char *run, const char *extra) {
    char *config = th_path("tests/fixtures/grpo/tiny.json");
    char out[4200];
    snprintf(out, sizeof out, "output_dir=%s", run);
    char *root = th_path("");
    /* model_name_or_path in the fixture is relative to the repository root */
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' train --headless '%s' '%s' %s", root, th_bin(), config, out,
             extra ? extra : "");
    struct th_run r = th_sh(cmd);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    th_run_free(&r);
    free(config);
    free(root);
}

static const char *keys[] = {"reward", "reward_std", "loss", "grad_norm", "kl", "completions/mean_length",
                             "frac_reward_zero_std"};

Test(grpo_run, reproduces_the_golden_trajectory, .timeout = 300) {
    char *dir = th_tmpdir("grpo-golden");
    run_train(dir, NULL);
    cJSON *got = metrics(dir);
    char *gpath = th_path("tests/fixtures/grpo/golden.json");
    cJSON *golden;
    cr_assert_eq(json_parse_file(gpath, 1 << 20, &golden), STATUS_OK);
    const cJSON *want = cJSON_GetObjectItem(golden, "steps");
    cr_assert_eq(cJSON_GetArraySize(got), cJSON_GetArraySize(want));
    for (int s = 0; s < cJSON_GetArraySize(want); s++) {
        const cJSON *g = cJSON_GetArrayItem(got, s), *w = cJSON_GetArrayItem(want, s);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            const cJSON *a = cJSON_GetObjectItem(g, keys[k]), *b = cJSON_GetObjectItem(w, keys[k]);
            if (!b) continue;
            cr_assert(a != NULL, "step %d: %s missing", s + 1, keys[k]);
            double x = a->valuedouble, y = b->valuedouble;
            cr_expect(fabs(x - y) <= 1e-4 * fabs(y) + 1e-7, "step %d %s: %.9g, golden %.9g", s + 1, keys[k], x, y);
        }
    }
    /* samples.jsonl: log_completions groups per step, each with every completion's reward and advantage */
    char spath[4200];
    snprintf(spath, sizeof spath, "%s/samples.jsonl", dir);
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(spath, 1 << 24, &text, &len), STATUS_OK);
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        cJSON *o = cJSON_Parse(line);
        cr_assert(o != NULL);
        const cJSON *comps = cJSON_GetObjectItem(o, "completions");
        cr_expect_eq(cJSON_GetArraySize(comps), 4, "num_generations completions per group");
        double adv_sum = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, comps) {
            cr_expect(cJSON_IsNumber(cJSON_GetObjectItem(c, "reward")));
            cr_expect(cJSON_IsObject(cJSON_GetObjectItem(c, "rewards")));
            adv_sum += cJSON_GetObjectItem(c, "advantage")->valuedouble;
        }
        cr_expect(fabs(adv_sum) < 1e-4, "advantages of a group sum to zero (%g)", adv_sum);
        cJSON_Delete(o);
    }
    cr_expect_eq(lines, 8 * 4, "4 logged groups per step");
    free(text);
    cJSON_Delete(got);
    cJSON_Delete(golden);
    free(gpath);
    fs_remove_tree(dir);
    free(dir);
}

Test(grpo_run, resumed_run_matches_uninterrupted, .timeout = 300) {
    char *dir = th_tmpdir("grpo-resume");
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    run_train(a, NULL);
    /* b: stop after 4 steps as a crash would (the last checkpoint is step 3), then resume */
    run_train(b, "max_steps=8");
    char ckpt4[4300];
    snprintf(ckpt4, sizeof ckpt4, "%s/checkpoints/step-000006", b);
    fs_remove_tree(ckpt4);
    char latest[4300];
    snprintf(latest, sizeof latest, "%s/latest", b);
    unlink(latest);
    cr_assert_eq(symlink("checkpoints/step-000003", latest), 0);
    run_train(b, "resume_from_checkpoint=true");
    cJSON *ma = metrics(a), *mb = metrics(b);
    cr_assert_eq(cJSON_GetArraySize(mb), 8, "one line per step after the resume");
    for (int s = 0; s < 8; s++)
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            const cJSON *x = cJSON_GetObjectItem(cJSON_GetArrayItem(ma, s), keys[k]);
            const cJSON *y = cJSON_GetObjectItem(cJSON_GetArrayItem(mb, s), keys[k]);
            if (!x) continue;
            cr_assert(y != NULL);
            cr_expect_eq(x->valuedouble, y->valuedouble, "step %d %s: resumed %.9g vs uninterrupted %.9g", s + 1,
                         keys[k], y->valuedouble, x->valuedouble);
        }
    cJSON_Delete(ma);
    cJSON_Delete(mb);
    fs_remove_tree(dir);
    free(dir);
}
