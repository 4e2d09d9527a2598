/* Tests for `r1lab dash` without a terminal: --once summaries, one plain line per step when stdout is not a TTY
 * (numbers formatted exactly as the dashboard formats them) in the order of their times, a resumed training run
 * that appends only its own steps to a log, inert output for a malicious run, and usage errors. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "engine/util/fsutil.h"
#include "harness.h"
#include "tui/fmt.h"

/* The last line of metrics.jsonl of a fixture, parsed. */
static cJSON *last_metrics(const char *fixture) {
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/runs/%s/metrics.jsonl", fixture);
    char *path = th_path(rel), *text;
    size_t len;
    cr_assert_eq(fs_read_file(path, 1 << 24, &text, &len), STATUS_OK);
    free(path);
    while (len > 0 && text[len - 1] == '\n') text[--len] = '\0';
    cJSON *j = cJSON_Parse(strrchr(text, '\n') + 1);
    free(text);
    cr_assert(j);
    return j;
}

static const char *num(cJSON *j, const char *key) {
    static char buf[8][32];
    static int k;
    k = (k + 1) % 8;
    return fmt_value(cJSON_GetObjectItem(j, key)->valuedouble, buf[k], sizeof buf[k]);
}

Test(dash_cli, once_summarises_the_recorded_run) {
    char *dir = th_path("tests/fixtures/runs/recorded");
    struct th_run r = th_r1lab(NULL, (const char *[]){"dash", dir, "--once", NULL});
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "state    finished") != NULL, "%s", r.out);
    cJSON *j = last_metrics("recorded");
    char want[512];
    snprintf(want, sizeof want,
             "last     step 300/300  reward %s  acc %s  len %s  checks %s  kl %s  tok/s %s  ETA 0s  pass@1 %s",
             num(j, "reward"), num(j, "rewards/accuracy/mean"), num(j, "completions/mean_length"),
             num(j, "reflection_rate"), num(j, "kl"), num(j, "tokens_per_second/rollout"), num(j, "eval/pass@1"));
    cr_expect(strstr(r.out, want) != NULL, "want: %s\ngot:\n%s", want, r.out);
    cr_expect(strstr(r.out, "alarms   none") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "read     300 steps (0 bad lines), 600 sample groups (0 bad lines)") != NULL, "%s", r.out);
    cJSON_Delete(j);
    th_run_free(&r);
    free(dir);
}

Test(dash_cli, non_tty_prints_one_line_per_step) {
    char *dir = th_path("tests/fixtures/runs/recorded");
    struct th_run r = th_r1lab(NULL, (const char *[]){"dash", dir, NULL});
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    int steps = 0;
    for (const char *p = r.out; (p = strstr(p, "\nstep ")) != NULL; p++) steps++;
    if (strncmp(r.out, "step ", 5) == 0) steps++;
    cr_expect_eq(steps, 300, "one line per step");
    /* in the order of their times: the trainer's first message, step 1, ..., step 100, the checkpoint saved after
     * it, step 101, ..., the end (events.jsonl and metrics.jsonl merged, not one file after the other) */
    cr_expect(strncmp(r.out, "# grpo: 300 steps", 17) == 0, "%.200s", r.out);
    cr_expect(strstr(r.out, "\nstep 1/300  reward ") != NULL, "%.300s", r.out);
    const char *s100 = strstr(r.out, "\nstep 100/300 "), *saved = strstr(r.out, "\n# saved checkpoint step-000100\n"),
               *s101 = strstr(r.out, "\nstep 101/300 ");
    cr_expect(s100 && saved && s101 && s100 < saved && saved < s101 && strchr(s100 + 1, '\n') == saved,
              "the checkpoint saved after step 100 is printed between steps 100 and 101");
    const char *end = strstr(r.out, "\n# finished: 300 steps\n# state: finished\n");
    cr_expect(end && end[strlen("\n# finished: 300 steps\n# state: finished\n")] == '\0', "the end comes last:\n%s",
              r.out + (strlen(r.out) > 300 ? strlen(r.out) - 300 : 0));
    th_run_free(&r);
    free(dir);
}

/* A headless run resumed into the same log: `train ... > log`, then `train ... resume_from_checkpoint=true >> log`
 * holds every step once, in order; the second command does not replay the first one's steps. */
Test(dash_cli, resumed_training_appends_only_its_own_steps) {
    char *dir = th_tmpdir("plain-resume"), *config = th_path("tests/fixtures/grpo/tiny.json"),
         *model = th_path("tests/fixtures/models/qwen2_tiny");
    char cmd[16384];
    for (int part = 0; part < 2; part++) {
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && '%s' train '%s' output_dir=run model_name_or_path='%s' max_steps=%d save_steps=3 %s %s log "
                 "2>/dev/null",
                 dir, th_bin(), config, model, part ? 6 : 3, part ? "resume_from_checkpoint=true" : "",
                 part ? ">>" : ">");
        struct th_run r = th_sh(cmd);
        cr_assert_eq(r.exit_code, 0, "part %d: %s", part, r.err);
        th_run_free(&r);
    }
    snprintf(cmd, sizeof cmd, "cat '%s/log'", dir);
    struct th_run r = th_sh(cmd);
    int next = 1;
    for (const char *line = r.out; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : line + strlen(line)) {
        int step, max;
        if (sscanf(line, "step %d/%d", &step, &max) != 2) continue;
        cr_expect_eq(step, next, "step %d where step %d comes next:\n%s", step, next, r.out);
        cr_expect_eq(max, step <= 3 ? 3 : 6);
        next = step + 1;
    }
    cr_expect_eq(next, 7, "steps 1 to 6, each once:\n%s", r.out);
    cr_expect_eq(strstr(r.out, "# finished after 3 steps") ? 1 : 0, 1);
    const char *first = strstr(r.out, "# finished after 3 steps");
    cr_expect(first && !strstr(first + 1, "# finished after 3 steps"), "the first run's end is printed once");
    th_run_free(&r);
    fs_remove_tree(dir);
    free(dir);
    free(config);
    free(model);
}

Test(dash_cli, malicious_run_prints_nothing_a_terminal_would_obey) {
    char *dir = th_path("tests/fixtures/runs/malicious");
    const char *modes[][2] = {{"--once", NULL}, {"--plain", NULL}};
    for (int m = 0; m < 2; m++) {
        struct th_run r = th_r1lab(NULL, (const char *[]){"dash", dir, modes[m][0], NULL});
        cr_assert_eq(r.exit_code, 0, "%s", r.err);
        for (const unsigned char *p = (const unsigned char *)r.out; *p; p++) {
            cr_assert(*p >= 0x20 || *p == '\n', "control byte 0x%02x in %s output", *p, modes[m][0]);
            cr_assert(!(p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F), "C1 control in %s output", modes[m][0]);
        }
        cr_expect(strstr(r.out, "step 999") == NULL, "the torn last line is never shown");
        th_run_free(&r);
    }
    struct th_run r = th_r1lab(NULL, (const char *[]){"dash", dir, "--once", NULL});
    /* control pictures in a UTF-8 locale, caret notation otherwise */
    cr_expect(strstr(r.out, "state    failed: boom ␛[31mred␛[0m") ||
                  strstr(r.out, "state    failed: boom ^[[31mred^[[0m"),
              "%s", r.out);
    cr_expect(strstr(r.out, "read     4 steps (2 bad lines), 5 sample groups (4 bad lines)") != NULL, "%s", r.out);
    th_run_free(&r);
    free(dir);
}

Test(dash_cli, usage_errors_and_missing_directories) {
    struct th_run r = th_r1lab(NULL, (const char *[]){"dash", NULL});
    cr_expect_eq(r.exit_code, 2);
    cr_expect(strstr(r.err, "missing RUN_DIR") != NULL, "%s", r.err);
    th_run_free(&r);
    r = th_r1lab(NULL, (const char *[]){"dash", "x", "--color", "sometimes", NULL});
    cr_expect_eq(r.exit_code, 2);
    th_run_free(&r);
    r = th_r1lab(NULL, (const char *[]){"dash", "/nonexistent/run", "--once", NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "/nonexistent/run: cannot open run directory") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "hint:") != NULL, "%s", r.err);
    th_run_free(&r);
    r = th_r1lab(NULL, (const char *[]){"help", "dash", NULL});
    cr_expect_eq(r.exit_code, 0);
    cr_expect(strstr(r.out, "--no-mouse") && strstr(r.out, "--theme NAME|PATH"), "%s", r.out);
    th_run_free(&r);
}
