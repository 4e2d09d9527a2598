/* Crash-safe saves under fire: tests/tools/save_stress.c kills `r1lab train` with SIGKILL during checkpoint writes
 * and checks every checkpoint and the resumed metrics (its own comment says how); here with a count small enough
 * for the suite. `make stress-saves` runs the 1000-kill version recorded in docs/testing.md.
 * Also: a resumed run whose save_total_limit prunes the checkpoint it resumed from keeps saving (it used to copy
 * the tokenizer from that pruned directory and fail — found by the stress test). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "harness.h"

#define SUITE_KILLS 25

/* No criterion .timeout (criterion 2.4 leaks under LeakSanitizer when many tests have one): save-stress bounds
 * itself with --max-seconds, and the trainer runs below end on their own. */
Test(save_stress, killed_saves_leave_loadable_checkpoints_and_exact_resumes) {
    const char *bin = getenv("R1LAB_SAVE_STRESS");
    cr_assert(bin && *bin, "R1LAB_SAVE_STRESS is not set (make test sets it)");
    char *dir = th_tmpdir("stress");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "R1LAB_BIN='%s' '%s' --kills %d --dir '%s/work' --max-seconds %.0f", th_bin(), bin,
             SUITE_KILLS, dir, th_wait_limit(60));
    struct th_run r = th_sh(cmd);
    char want[128];
    snprintf(want, sizeof want, "%d kills, %d resumes, 0 unreadable checkpoints, 0 metric mismatches\n", SUITE_KILLS,
             SUITE_KILLS);
    cr_expect_eq(r.exit_code, 0, "save-stress failed:\n%s%s", r.out, r.err);
    cr_expect(strstr(r.out, want) != NULL, "expected \"%s\" in:\n%s%s", want, r.out, r.err);
    th_run_free(&r);
    fs_remove_tree(dir);
    free(dir);
}

Test(save_stress, resumed_run_outlives_the_checkpoint_it_resumed_from) {
    char *dir = th_tmpdir("prune");
    char *model = th_path("tests/fixtures/models/qwen2_tiny");
    char config[4200], text[8192], out_arg[4300];
    snprintf(config, sizeof config, "%s/tiny.json", dir);
    snprintf(text, sizeof text,
             "{\"stage\": \"pretrain\", \"model_name_or_path\": \"%s\", \"dataset\": \"world:corpus\",\n"
             " \"dataset_size\": 300, \"max_seq_length\": 48, \"per_device_train_batch_size\": 4,\n"
             " \"max_steps\": 2, \"save_steps\": 1, \"save_total_limit\": 1, \"seed\": 7, \"threads\": 1}\n",
             model);
    cr_assert(th_write_file(config, text, strlen(text)));
    snprintf(out_arg, sizeof out_arg, "output_dir=%s/run", dir);
    const char *first[] = {"train", "--headless", config, out_arg, NULL};
    struct th_run r = th_r1lab(NULL, first);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    th_run_free(&r);
    /* Resumes from step 2; saving step 3 prunes step 2, and step 4's save must not need it. */
    const char *again[] = {"train", "--headless", config, out_arg, "resume_from_checkpoint=true", "max_steps=5", NULL};
    r = th_r1lab(NULL, again);
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    th_run_free(&r);
    char p[4400];
    snprintf(p, sizeof p, "%s/run/checkpoints/step-000005/tokenizer.json", dir);
    cr_expect(fs_exists(p), "the last checkpoint has its tokenizer");
    snprintf(p, sizeof p, "%s/run/checkpoints/step-000004", dir);
    cr_expect(!fs_exists(p), "save_total_limit=1 keeps only the newest");
    fs_remove_tree(dir);
    free(dir);
    free(model);
}
