/* What a killed save leaves behind (src/engine/checkpoint_clean.c): temporaries of dead processes are swept, those of
 * a live one kept, a checkpoint moved aside by a save killed half-way through replacing it is put back; pruning
 * never shows a half-deleted checkpoint under its name; replacing a checkpoint of the same name swaps it whole. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/run/checkpoint.h"
#include "engine/util/fsutil.h"
#include "harness.h"

/* A PID that is certainly not running: a child that has exited and been reaped. */
static long dead_pid(void) {
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    return (long)pid;
}

static void make_file(const char *dir, const char *name, const char *text) {
    char p[8400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    cr_assert(th_write_file(p, text, strlen(text)));
}

static bool exists_in(const char *dir, const char *name) {
    char p[8400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return fs_exists(p);
}

Test(checkpoint_clean, sweeps_temporaries_of_dead_writers_only) {
    char *run = th_tmpdir("clean");
    char ckpts[4200], name[256], path[4600];
    snprintf(ckpts, sizeof ckpts, "%s/checkpoints", run);
    long dead = dead_pid(), alive = (long)getpid();
    /* A finished checkpoint, a half-written one of a dead writer, one of a live writer, a pruning cut short. */
    const char *dirs[] = {"step-000004", "step-000005.tmp-%ld", "step-000006.tmp-%ld", "step-000002.del-%ld"};
    long pids[] = {0, dead, alive, dead};
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, dirs[i], pids[i]);
        snprintf(path, sizeof path, "%s/%s", ckpts, name);
        cr_assert_eq(fs_mkdir_p(path), STATUS_OK);
        make_file(path, "config.json", "{}");
    }
    /* A replacement killed between its two renames: step-3 moved aside, the new one never moved in. */
    snprintf(path, sizeof path, "%s/step-000003.old-%ld", ckpts, dead);
    cr_assert_eq(fs_mkdir_p(path), STATUS_OK);
    make_file(path, "trainer_state.json", "{\"step\": 3}");
    /* Files of the run directory written atomically by a dead process, and a user's file that only looks alike. */
    snprintf(name, sizeof name, "metrics.jsonl.tmp-%ld", dead);
    make_file(run, name, "half");
    snprintf(name, sizeof name, "latest.tmp-%ld", dead);
    make_file(run, name, "x");
    make_file(run, "notes.tmp-x", "mine");

    cr_assert_eq(checkpoint_clean_stale(run), STATUS_OK, "%s", err_msg());
    cr_expect(exists_in(ckpts, "step-000004/config.json"), "a finished checkpoint is kept");
    snprintf(name, sizeof name, "step-000005.tmp-%ld", dead);
    cr_expect(!exists_in(ckpts, name), "a dead writer's half checkpoint is removed");
    snprintf(name, sizeof name, "step-000006.tmp-%ld", alive);
    cr_expect(exists_in(ckpts, name), "a live writer's temporary is left alone");
    snprintf(name, sizeof name, "step-000002.del-%ld", dead);
    cr_expect(!exists_in(ckpts, name), "a pruning cut short is finished");
    cr_expect(exists_in(ckpts, "step-000003/trainer_state.json"), "the checkpoint moved aside is put back");
    snprintf(name, sizeof name, "metrics.jsonl.tmp-%ld", dead);
    cr_expect(!exists_in(run, name));
    snprintf(name, sizeof name, "latest.tmp-%ld", dead);
    cr_expect(!exists_in(run, name));
    cr_expect(exists_in(run, "notes.tmp-x"), "a name without a PID suffix is not ours");
    /* An old copy whose checkpoint exists again is just a leftover. */
    snprintf(path, sizeof path, "%s/step-000004.old-%ld", ckpts, dead);
    cr_assert_eq(fs_mkdir_p(path), STATUS_OK);
    cr_assert_eq(checkpoint_clean_stale(run), STATUS_OK);
    snprintf(name, sizeof name, "step-000004.old-%ld", dead);
    cr_expect(!exists_in(ckpts, name));
    fs_remove_tree(run);
    free(run);
}

Test(checkpoint_clean, remove_never_leaves_a_half_deleted_checkpoint_under_its_name) {
    char *run = th_tmpdir("remove");
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/step-000001", run);
    cr_assert_eq(fs_mkdir_p(dir), STATUS_OK);
    make_file(dir, "model.safetensors", "weights");
    cr_assert_eq(checkpoint_remove(dir), STATUS_OK, "%s", err_msg());
    cr_expect(!fs_exists(dir));
    char left[4400];
    snprintf(left, sizeof left, "%s.del-%ld", dir, (long)getpid());
    cr_expect(!fs_exists(left), "the renamed copy is gone too");
    cr_expect_eq(checkpoint_remove(dir), STATUS_OK, "removing what is not there is fine");
    fs_remove_tree(run);
    free(run);
}
