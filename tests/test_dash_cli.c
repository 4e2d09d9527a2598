/* Tests for `r1lab dash` without a terminal: --once summaries, one plain line per step when stdout is not a TTY
 * (numbers formatted exactly as the dashboard formats them), inert output for a malicious run, and usage errors. */
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
    cr_expect(strncmp(r.out, "step 1/300  reward ", 19) == 0, "%.200s", r.out);
    cr_expect(strstr(r.out, "\n# state: finished\n") != NULL);
    cr_expect(strstr(r.out, "# saved checkpoint step-000100\n") != NULL, "events are shown");
    th_run_free(&r);
    free(dir);
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
