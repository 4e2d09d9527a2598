/* Data-parallel GRPO (mpirun -np 2 r1lab train) on the CPU, against the same run in one process: the metrics agree
 * within a stated tolerance and the rollouts are identical; a killed rank and a stopped (SIGSTOP) rank end the run
 * within a bounded time with a clear message on the survivors; Ctrl-C stops every rank at one step boundary; a
 * 2-rank run resumed from its checkpoint continues as the uninterrupted one. Also how a step's prompts are shared
 * out. The mpirun tests skip when this r1lab was built without MPI or mpirun is missing, unless R1LAB_REQUIRE_MPI=1
 * (CI sets it, so that they cannot silently stop running). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dist/dist.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "harness.h"

Test(dist, shares_cover_every_prompt_once_and_differ_by_at_most_one) {
    for (int n = 1; n <= 17; n++)
        for (int size = 1; size <= n; size++) {
            int next = 0, lo = n, hi = 0;
            for (int r = 0; r < size; r++) {
                int first, count;
                dist_share(n, r, size, &first, &count);
                cr_assert_eq(first, next, "n %d size %d rank %d starts at %d, not %d", n, size, r, first, next);
                next = first + count;
                lo = count < lo ? count : lo;
                hi = count > hi ? count : hi;
            }
            cr_assert_eq(next, n, "n %d size %d: the shares cover %d", n, size, next);
            cr_assert(hi - lo <= 1, "n %d size %d: shares from %d to %d", n, size, lo, hi);
        }
}

/* --- under mpirun ------------------------------------------------------------------------------------------- */

/* mpirun as root (CI), on a machine with fewer cores than ranks, quiet about both. Under the sanitizers the ranks
 * keep AddressSanitizer and UBSan but not the leak check: Open MPI leaves its own allocations (many in components
 * it has unloaded, so no suppression can name them) at exit. Leaks of r1lab's own code are checked by the
 * single-process runs of the same trainer. */
#define MPIRUN                                                                                                  \
    "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" OMPI_ALLOW_RUN_AS_ROOT=1 "                   \
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 mpirun"

static void need_mpi(void) {
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "command -v mpirun >/dev/null && '%s' --version | grep -q 'data-parallel training: MPI'",
             th_bin());
    struct th_run r = th_sh(cmd);
    bool ok = r.exit_code == 0;
    th_run_free(&r);
    if (ok) return;
    const char *req = getenv("R1LAB_REQUIRE_MPI");
    cr_assert(!(req && strcmp(req, "1") == 0), "R1LAB_REQUIRE_MPI=1 but mpirun or an MPI build of r1lab is missing");
    cr_skip_test("built without MPI or no mpirun: install libopenmpi-dev openmpi-bin and rebuild");
}

/* r1lab train on the tiny fixture, with `ranks` ranks under mpirun (0: plain r1lab, no launcher). */
static struct th_run train(int ranks, const char *run, const char *extra) {
    char *config = th_path("tests/fixtures/grpo/tiny.json"), *root = th_path("");
    char launcher[256] = "";
    if (ranks > 0) snprintf(launcher, sizeof launcher, MPIRUN " -np %d", ranks);
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s '%s' train --headless '%s' output_dir='%s' %s", root, launcher, th_bin(),
             config, run, extra ? extra : "");
    struct th_run r = th_sh(cmd);
    free(config);
    free(root);
    return r;
}

static cJSON *records(const char *run, const char *file) {
    cJSON *arr = th_jsonl(run, file);
    cr_assert(arr != NULL);
    return arr;
}

static bool per_run_key(const char *k) {
    return strncmp(k, "time", 4) == 0 || strncmp(k, "tokens_per_second", 17) == 0 || strncmp(k, "memory/", 7) == 0 ||
           strncmp(k, "dist/", 5) == 0;
}

/* Every number of want's records (but times, throughputs, memory) in got's within rtol: the ranks sum gradients
 * and loss terms in another order than one process does, so the last digits differ. */
static void expect_same_metrics(const char *want_run, const char *got_run, double rtol) {
    cJSON *want = records(want_run, "metrics.jsonl"), *got = records(got_run, "metrics.jsonl");
    cr_assert_eq(cJSON_GetArraySize(got), cJSON_GetArraySize(want), "records: %d, one process %d",
                 cJSON_GetArraySize(got), cJSON_GetArraySize(want));
    double worst = 0;
    const char *worst_key = "";
    for (int i = 0; i < cJSON_GetArraySize(want); i++) {
        const cJSON *w = cJSON_GetArrayItem(want, i), *g = cJSON_GetArrayItem(got, i), *kv;
        cJSON_ArrayForEach(kv, w) {
            if (!cJSON_IsNumber(kv) || per_run_key(kv->string)) continue;
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(g, kv->string);
            cr_assert(cJSON_IsNumber(o), "record %d: %s missing", i, kv->string);
            double a = kv->valuedouble, b = o->valuedouble, err = fabs(a - b) / (fabs(a) + 1e-6);
            cr_expect(fabs(a - b) <= rtol * fabs(a) + 1e-6, "record %d %s: %.9g, one process %.9g", i, kv->string, b, a);
            if (err > worst) worst = err, worst_key = kv->string;
        }
    }
    cr_log_info("largest relative difference %.3g (%s)", worst, worst_key);
    cJSON_Delete(want);
    cJSON_Delete(got);
}

Test(dist, two_ranks_give_the_metrics_and_rollouts_of_one_process, .timeout = 300) {
    need_mpi();
    char *dir = th_tmpdir("dist-same");
    char one[4200], two[4200];
    snprintf(one, sizeof one, "%s/one", dir);
    snprintf(two, sizeof two, "%s/two", dir);
    const char *extra = "max_steps=5 save_steps=0 eval_steps=2 eval_problems=6 eval_k=4 log_completions=4";
    struct th_run r = train(0, one, extra);
    cr_assert_eq(r.exit_code, 0, "one process: %s", r.err);
    th_run_free(&r);
    r = train(2, two, extra);
    cr_assert_eq(r.exit_code, 0, "two ranks: %s%s", r.out, r.err);
    cr_expect(strstr(r.err, "2 ranks") != NULL, "the start line names the ranks: %s", r.err);
    cr_expect(strstr(r.out, "ranks 2 (slowest ") != NULL, "each step's line shows the ranks: %s", r.out);
    th_run_free(&r);
    expect_same_metrics(one, two, 1e-4);

    /* The group is in every record, with each rank's throughput, and in status.json for the dashboard. */
    cJSON *m = records(two, "metrics.jsonl");
    const cJSON *step1 = cJSON_GetArrayItem(m, 1); /* record 0 is the base model's evaluation */
    cr_expect_eq(cJSON_GetObjectItem(step1, "dist/world_size")->valueint, 2);
    for (int rank = 0; rank < 2; rank++) {
        char key[64];
        snprintf(key, sizeof key, "dist/rank%d/tokens_per_second", rank);
        const cJSON *v = cJSON_GetObjectItem(step1, key);
        cr_expect(cJSON_IsNumber(v) && v->valuedouble > 0, "%s missing or not positive", key);
    }
    cJSON_Delete(m);
    char path[4300], *status;
    size_t len;
    snprintf(path, sizeof path, "%s/status.json", two);
    cr_assert_eq(fs_read_file(path, 1 << 16, &status, &len), STATUS_OK);
    cr_expect(strstr(status, "x 2 ranks") != NULL, "status.json: %s", status);
    free(status);

    /* Identical rollouts: each rank decodes its groups from the random streams one process uses for them, and rank
     * 0 writes every logged group, so samples.jsonl is the one-process file. */
    cJSON *s1 = records(one, "samples.jsonl"), *s2 = records(two, "samples.jsonl");
    int compared = 0;
    const cJSON *g2;
    cJSON_ArrayForEach(g2, s2) {
        const cJSON *g1 = NULL, *c;
        cJSON_ArrayForEach(c, s1) if (cJSON_GetObjectItem(c, "step")->valueint == cJSON_GetObjectItem(g2, "step")->valueint &&
                                      cJSON_GetObjectItem(c, "group")->valueint == cJSON_GetObjectItem(g2, "group")->valueint)
            g1 = c;
        cr_assert(g1 != NULL, "group of step %d not logged by one process", cJSON_GetObjectItem(g2, "step")->valueint);
        const cJSON *a = cJSON_GetObjectItem(g1, "completions"), *b = cJSON_GetObjectItem(g2, "completions");
        cr_assert_eq(cJSON_GetArraySize(a), cJSON_GetArraySize(b));
        for (int i = 0; i < cJSON_GetArraySize(a); i++) {
            const char *ta = cJSON_GetObjectItem(cJSON_GetArrayItem(a, i), "text")->valuestring;
            const char *tb = cJSON_GetObjectItem(cJSON_GetArrayItem(b, i), "text")->valuestring;
            cr_expect_str_eq(tb, ta, "step %d group %d completion %d", cJSON_GetObjectItem(g2, "step")->valueint,
                             cJSON_GetObjectItem(g2, "group")->valueint, i);
            compared++;
        }
    }
    cr_expect_eq(compared, 5 * 4 * 4, "4 groups of 4 at each of the 5 steps");
    char f1[4300], f2[4300];
    snprintf(f1, sizeof f1, "%s/samples.jsonl", one);
    snprintf(f2, sizeof f2, "%s/samples.jsonl", two);
    cr_expect(th_same_file_bytes(f1, f2), "samples.jsonl (texts, rewards, advantages) differs from one process's");
    cJSON_Delete(s1);
    cJSON_Delete(s2);
    fs_remove_tree(dir);
    free(dir);
}

Test(dist, a_resumed_two_rank_run_continues_as_the_uninterrupted_one, .timeout = 300) {
    need_mpi();
    char *dir = th_tmpdir("dist-resume");
    char whole[4200], parts[4200];
    snprintf(whole, sizeof whole, "%s/whole", dir);
    snprintf(parts, sizeof parts, "%s/parts", dir);
    struct th_run r = train(2, whole, "max_steps=6 save_steps=3");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    th_run_free(&r);
    r = train(2, parts, "max_steps=3 save_steps=3");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    th_run_free(&r);
    r = train(2, parts, "max_steps=6 save_steps=3 resume_from_checkpoint=true");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    th_run_free(&r);
    expect_same_metrics(whole, parts, 1e-6);
    fs_remove_tree(dir);
    free(dir);
}

/* Starts a long 2-rank run, waits for its first records, does `act` to rank 1 (a shell command on $r1), and waits
 * for mpirun to end. Prints "rc=N elapsed=S" and then what the run printed. */
static struct th_run act_on_rank1(const char *run, const char *extra, const char *act) {
    char *config = th_path("tests/fixtures/grpo/tiny.json"), *root = th_path("");
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && run='%s'\n"
             MPIRUN " -np 2 '%s' train --headless '%s' output_dir=\"$run\" max_steps=1000000 save_steps=0 %s "
             ">\"$run.out\" 2>&1 & mp=$!\n"
             "i=0; until [ -s \"$run/metrics.jsonl\" ] && [ $(wc -l <\"$run/metrics.jsonl\") -ge 3 ]; do\n"
             "  i=$((i+1)); [ $i -gt 1200 ] && { echo 'no records after 120 s'; kill -9 $mp; exit 2; }; sleep 0.1; done\n"
             "r1=; for s in /proc/[0-9]*/status; do\n"
             "  p=${s#/proc/}; p=${p%%/status}\n"
             "  grep -q \"^PPid:[[:space:]]*$mp\\$\" \"$s\" 2>/dev/null || continue\n"
             "  tr '\\0' '\\n' <\"/proc/$p/environ\" 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && r1=$p; done\n"
             "[ -n \"$r1\" ] || { echo 'rank 1 not found'; kill -9 $mp; exit 2; }\n"
             "start=$(date +%%s.%%N); %s; wait $mp; rc=$?; end=$(date +%%s.%%N)\n"
             "kill -9 $r1 2>/dev/null; kill -CONT $r1 2>/dev/null\n"
             "echo \"rc=$rc elapsed=$(awk \"BEGIN {print $end - $start}\")\"; cat \"$run.out\"\n",
             root, run, th_bin(), config, extra, act);
    struct th_run r = th_sh(cmd);
    free(config);
    free(root);
    return r;
}

static void expect_bounded_failure(const struct th_run *r, double limit) {
    int rc = -1;
    double elapsed = 1e9;
    cr_assert(sscanf(r->out, "rc=%d elapsed=%lf", &rc, &elapsed) == 2, "%s%s", r->out, r->err);
    cr_expect_neq(rc, 0, "mpirun exited 0 after a rank was lost:\n%s", r->out);
    cr_expect(elapsed < limit, "the run took %.1f s to end (limit %.0f):\n%s", elapsed, limit, r->out);
}

Test(dist, a_killed_rank_ends_the_run_on_every_rank, .timeout = 300) {
    need_mpi();
    char *dir = th_tmpdir("dist-kill");
    char run[4200];
    snprintf(run, sizeof run, "%s/run", dir);
    struct th_run r = act_on_rank1(run, "", "kill -9 $r1");
    expect_bounded_failure(&r, th_wait_limit(15));
    cr_expect(strstr(r.out, "rank 1") != NULL, "the message names the lost rank:\n%s", r.out);
    th_run_free(&r);
    fs_remove_tree(dir);
    free(dir);
}

Test(dist, a_stopped_rank_times_out_with_a_clear_error, .timeout = 300) {
    need_mpi();
    char *dir = th_tmpdir("dist-stop");
    char run[4200];
    snprintf(run, sizeof run, "%s/run", dir);
    struct th_run r = act_on_rank1(run, "ddp_timeout=2", "kill -STOP $r1");
    expect_bounded_failure(&r, 2 + th_wait_limit(15));
    cr_expect(strstr(r.out, "no answer from the other ranks for 2 s") != NULL, "%s", r.out);
    th_run_free(&r);
    char path[4300], *status;
    size_t len;
    snprintf(path, sizeof path, "%s/status.json", run);
    cr_assert_eq(fs_read_file(path, 1 << 16, &status, &len), STATUS_OK);
    cr_expect(strstr(status, "\"failed\"") && strstr(status, "no answer from the other ranks"), "status.json: %s",
              status);
    free(status);
    fs_remove_tree(dir);
    free(dir);
}

Test(dist, ctrl_c_stops_every_rank_at_one_boundary_and_saves, .timeout = 300) {
    need_mpi();
    char *dir = th_tmpdir("dist-int");
    char run[4200];
    snprintf(run, sizeof run, "%s/run", dir);
    /* SIGINT to mpirun, as Ctrl-C in its terminal: it passes the signal on to every rank. */
    struct th_run r = act_on_rank1(run, "", "kill -INT $mp");
    int rc = -1;
    double elapsed;
    cr_assert(sscanf(r.out, "rc=%d elapsed=%lf", &rc, &elapsed) == 2, "%s", r.out);
    cr_expect(strstr(r.out, "interrupted at step") != NULL, "%s", r.out);
    th_run_free(&r);
    /* One checkpoint, at the step metrics.jsonl ends with: the ranks stopped together. */
    cJSON *m = records(run, "metrics.jsonl");
    int last = cJSON_GetObjectItem(cJSON_GetArrayItem(m, cJSON_GetArraySize(m) - 1), "step")->valueint;
    cJSON_Delete(m);
    char ckpt[4400];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints/step-%06d/model.safetensors", run, last);
    cr_expect(fs_exists(ckpt), "no checkpoint at the last recorded step %d", last);
    fs_remove_tree(dir);
    free(dir);
}

Test(dist, other_commands_refuse_to_run_under_mpirun) {
    need_mpi();
    char cmd[4400];
    snprintf(cmd, sizeof cmd, MPIRUN " -np 1 '%s' world", th_bin());
    struct th_run r = th_sh(cmd);
    cr_expect_neq(r.exit_code, 0);
    cr_expect(strstr(r.err, "only `r1lab train` runs under an MPI launcher") != NULL, "%s", r.err);
    th_run_free(&r);
}

/* A build without MPI started by a launcher would run N copies of a one-process run into the same directory:
 * it refuses instead, saying how to get MPI in. (Runs only on such a build; the environment stands in for mpirun.) */
Test(dist, a_build_without_mpi_refuses_a_launched_run) {
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "'%s' --version", th_bin());
    struct th_run v = th_sh(cmd);
    bool with_mpi = strstr(v.out, "data-parallel training: MPI") != NULL;
    th_run_free(&v);
    if (with_mpi) cr_skip_test("this r1lab is built with MPI (the mpirun tests cover it)");
    char *dir = th_tmpdir("dist-nompi");
    char run[4200];
    snprintf(run, sizeof run, "%s/run", dir);
    struct th_run r = train(0, run, "max_steps=1");
    cr_assert_eq(r.exit_code, 0, "without a launcher it trains: %s", r.err);
    th_run_free(&r);
    setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
    r = train(0, run, "max_steps=1 overwrite_output_dir=true");
    unsetenv("OMPI_COMM_WORLD_SIZE");
    cr_expect_neq(r.exit_code, 0);
    cr_expect(strstr(r.err, "built without MPI") != NULL, "%s", r.err);
    th_run_free(&r);
    fs_remove_tree(dir);
    free(dir);
}
