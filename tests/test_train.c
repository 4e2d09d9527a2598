/* `r1lab train` end to end on the tiny fixture model: exact resume after an interrupt (SIGINT: the trainer
 * saves and exits 3) and after a crash (SIGKILL: the last periodic checkpoint is used and later metrics are
 * dropped), both giving the same per-step losses as an uninterrupted run; refusal to overwrite a run; clear
 * errors for bad configs; a checkpoint that round-trips bit-identically. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/model/model.h"
#include "engine/util/fsutil.h"
#include "harness.h"

static char *write_config(const char *dir, int max_steps, int save_steps) {
    char *model = th_path("tests/fixtures/models/qwen2_tiny");
    char *path = malloc(4096), text[8192];
    snprintf(path, 4096, "%s/tiny.json", dir);
    snprintf(text, sizeof text,
             "{\"stage\": \"pretrain\", \"model_name_or_path\": \"%s\", \"dataset\": \"world:corpus\",\n"
             " \"dataset_size\": 300, \"max_seq_length\": 48, \"per_device_train_batch_size\": 4,\n"
             " \"gradient_accumulation_steps\": 2, \"learning_rate\": 0.003, \"lr_scheduler_type\": \"cosine\",\n"
             " \"warmup_steps\": 3, \"max_steps\": %d, \"save_steps\": %d, \"seed\": 7, \"threads\": 1}\n",
             model, max_steps, save_steps);
    cr_assert(th_write_file(path, text, strlen(text)));
    free(model);
    return path;
}

/* The "loss" of every line of metrics.jsonl, in order; returns the count. */
static int read_losses(const char *run, double *loss, int cap) {
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[8192];
    int n = 0;
    while (n < cap && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "\"loss\":");
        if (p) loss[n++] = strtod(p + 7, NULL);
    }
    fclose(f);
    return n;
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

/* Starts `r1lab train CONFIG output_dir=RUN`, waits until metrics.jsonl has `after` lines, sends sig; returns
 * the exit status (-1 if it had already finished before the signal could be sent). */
static int train_and_signal(const char *config, const char *run, int after, int sig) {
    char out_arg[4200], metrics[4200];
    snprintf(out_arg, sizeof out_arg, "output_dir=%s", run);
    snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", run);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", 1);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(th_bin(), th_bin(), "train", "--headless", config, out_arg, (char *)NULL);
        _exit(127);
    }
    int status;
    for (int waited = 0; waited < 60000; waited += 2) {
        if (waitpid(pid, &status, WNOHANG) == pid) return -1; /* finished on its own: too fast to interrupt */
        if (count_lines(metrics) >= after) break;
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, sig);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void resume(const char *config, const char *run) {
    char out_arg[4200];
    snprintf(out_arg, sizeof out_arg, "output_dir=%s", run);
    const char *args[] = {"train", "--headless", config, out_arg, "resume_from_checkpoint=true", NULL};
    struct th_run r = th_r1lab(NULL, args);
    cr_assert_eq(r.exit_code, 0, "resume failed: %s", r.err);
    th_run_free(&r);
}

static void expect_same_losses(const char *a, const char *b, const char *what) {
    double la[64], lb[64];
    int na = read_losses(a, la, 64), nb = read_losses(b, lb, 64);
    cr_assert_eq(na, 40, "uninterrupted run logged %d steps", na);
    cr_assert_eq(nb, 40, "%s run logged %d steps (one per step, none repeated)", what, nb);
    for (int i = 0; i < 40; i++)
        cr_expect_eq(la[i], lb[i], "%s: step %d loss %.9g vs uninterrupted %.9g", what, i + 1, lb[i], la[i]);
}

Test(train, interrupted_and_crashed_runs_resume_exactly, .timeout = 600) {
    char *dir = th_tmpdir("train");
    char *config = write_config(dir, 40, 5);
    char a[4200], b[4200], c[4200];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(c, sizeof c, "%s/c", dir);
    char out_arg[4300];
    snprintf(out_arg, sizeof out_arg, "output_dir=%s", a);
    const char *args[] = {"train", "--headless", config, out_arg, NULL};
    struct th_run r = th_r1lab(NULL, args);
    cr_assert_eq(r.exit_code, 0, "uninterrupted run failed: %s", r.err);
    th_run_free(&r);

    int code = train_and_signal(config, b, 7, SIGINT);
    if (code == -1) cr_skip_test("the run finished before it could be interrupted");
    cr_expect_eq(code, 3, "an interrupted run exits 3 (got %d)", code);
    resume(config, b);
    expect_same_losses(a, b, "interrupted");

    code = train_and_signal(config, c, 12, SIGKILL);
    if (code == -1) cr_skip_test("the run finished before it could be killed");
    resume(config, c);
    expect_same_losses(a, c, "killed");
    fs_remove_tree(dir);
    free(dir);
    free(config);
}

Test(train, refuses_to_overwrite_a_run_and_reports_bad_configs) {
    char *dir = th_tmpdir("train-err");
    char *config = write_config(dir, 2, 5);
    char out_arg[4200];
    snprintf(out_arg, sizeof out_arg, "output_dir=%s/run", dir);
    const char *args[] = {"train", "--headless", config, out_arg, NULL};
    struct th_run r = th_r1lab(NULL, args);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    th_run_free(&r);
    r = th_r1lab(NULL, args);
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "already holds a run") && strstr(r.err, "resume_from_checkpoint"), "%s", r.err);
    th_run_free(&r);

    const char *typo[] = {"train", "--headless", config, "lerning_rate=0.1", NULL};
    r = th_r1lab(NULL, typo);
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "unknown key \"lerning_rate\"") && strstr(r.err, "learning_rate"), "%s", r.err);
    th_run_free(&r);

    const char *type[] = {"train", "--headless", config, "max_steps=\"many\"", NULL};
    r = th_r1lab(NULL, type);
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "max_steps") && strstr(r.err, "integer"), "%s", r.err);
    th_run_free(&r);

    char bad[4200];
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    const char *bad_text = "{\"stage\": \"pretrain\", \"max_steps\": 3";
    th_write_file(bad, bad_text, strlen(bad_text));
    const char *trunc[] = {"train", "--headless", bad, NULL};
    r = th_r1lab(NULL, trunc);
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "bad.json") && strstr(r.err, "truncated"), "%s", r.err);
    th_run_free(&r);

    char dup[4200];
    snprintf(dup, sizeof dup, "%s/dup.json", dir);
    const char *dup_text = "{\"stage\": \"pretrain\", \"max_steps\": 3, \"max_steps\": 4}";
    th_write_file(dup, dup_text, strlen(dup_text));
    const char *twice[] = {"train", "--headless", dup, NULL};
    r = th_r1lab(NULL, twice);
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "\"max_steps\" appears twice"), "%s", r.err);
    th_run_free(&r);
    fs_remove_tree(dir);
    free(dir);
    free(config);
}

Test(checkpoint, round_trip_is_bit_identical) {
    char *dir = th_tmpdir("ckpt");
    char *config = write_config(dir, 2, 2);
    char out_arg[4200], ckpt[4300], again[4300];
    snprintf(out_arg, sizeof out_arg, "output_dir=%s/run", dir);
    const char *args[] = {"train", "--headless", config, out_arg, NULL};
    struct th_run r = th_r1lab(NULL, args);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    th_run_free(&r);
    snprintf(ckpt, sizeof ckpt, "%s/run/checkpoints/step-000002", dir);
    struct backend *be;
    cr_assert_eq(backend_cpu_open(&be, 1), STATUS_OK);
    struct model m, m2;
    cr_assert_eq(model_load(&m, ckpt, be), STATUS_OK, "%s", err_msg());
    snprintf(again, sizeof again, "%s/again.safetensors", dir);
    cr_assert_eq(model_save_weights(&m, again, ST_F32), STATUS_OK);
    char orig[4400];
    snprintf(orig, sizeof orig, "%s/model.safetensors", ckpt);
    cr_expect(th_same_file_bytes(orig, again), "saving a loaded checkpoint reproduces the file byte for byte");
    cr_assert_eq(model_load(&m2, ckpt, be), STATUS_OK);
    cr_expect_eq(memcmp(m.params, m2.params, m.n_params * sizeof(float)), 0);
    model_free(&m);
    model_free(&m2);
    backend_close(be);
    fs_remove_tree(dir);
    free(dir);
    free(config);
}
