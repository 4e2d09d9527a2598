/* Integration tests: the dashboard in a real terminal emulator. Each test starts its own tmux server (socket
 * r1lab-test-<pid>, killed at the end) with a 120x40 window running sh, types commands, and reads the screen
 * with capture-pane, polling until the expected text appears (never fixed sleeps for readiness). Covered: panels
 * and numbers on the recorded run, keys (help, scrubbing, search, smoothing, themes), resize and "too small",
 * colour tiers, ASCII fallback, a live run driven through the control channel (pause stops steps, s writes a
 * checkpoint, Ctrl-C twice stops), the in-process mode, the malicious run, and terminal restoration after q,
 * Ctrl-C, SIGTERM and a crash (`stty -g` identical before and after). Skipped when tmux is missing.
 *
 * Every wait is bounded (wait_for polls for at most a few seconds, the pane's shell lives at most 120 s), so the
 * tests carry no criterion .timeout: criterion 2.4 leaks an object under LeakSanitizer when many tests have one. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "engine/util/fsutil.h"
#include "engine/util/utf8.h"
#include "harness.h"
#include "tui/fmt.h"

struct tmx {
    char sock[64];
    char *sock_path; /* removed at the end: kill-server leaves the socket file behind */
    char *tmp;       /* scratch directory: stty snapshots, tmux config, live run directories */
};

/* The test's server, stopped by the .fini hook when an assertion ends a test early. Tests keep their struct
 * tmx in static storage so it is still valid then. */
static struct tmx *current;

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool have_tmux(void) {
    struct th_run r = th_sh("command -v tmux >/dev/null 2>&1");
    bool ok = r.exit_code == 0;
    th_run_free(&r);
    return ok;
}

/* Runs `tmux -L SOCK ARGS` and returns its output (caller frees). */
static char *tmux(struct tmx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *tmux(struct tmx *x, const char *fmt, ...) {
    char args[8192], cmd[8400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "tmux -L %s %s 2>&1", x->sock, args);
    struct th_run r = th_sh(cmd);
    char *out = r.out;
    r.out = NULL;
    th_run_free(&r);
    return out;
}

static void tmx_do(struct tmx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tmx_do(struct tmx *x, const char *fmt, ...) {
    char args[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    free(tmux(x, "%s", args));
}

/* Starts a server with one 120x40 window running sh in the repository root; `env` adds VAR=value words. */
static void tmx_start(struct tmx *x, int cols, int rows, const char *env) {
    if (!have_tmux()) cr_skip_test("tmux is not installed: skipping the terminal integration tests");
    memset(x, 0, sizeof *x);
    current = x;
    snprintf(x->sock, sizeof x->sock, "r1lab-test-%d", (int)getpid());
    x->tmp = th_tmpdir("tmux");
    struct th_run r = th_sh("infocmp tmux-256color >/dev/null 2>&1");
    const char *term = r.exit_code == 0 ? "tmux-256color" : "screen-256color";
    th_run_free(&r);
    char conf[4200];
    snprintf(conf, sizeof conf, "%s/tmux.conf", x->tmp);
    char body[256];
    snprintf(body, sizeof body, "set -g status off\nset -g default-terminal %s\nset -g history-limit 0\n", term);
    cr_assert(th_write_file(conf, body, strlen(body)));
    char *root = th_path("");
    /* A clean, predictable environment: no colour overrides from the caller, UTF-8, a private HOME. The shell
     * lives at most 120 s, so a test killed by its timeout cannot leave a tmux server behind for long. */
    char *out = tmux(
        x,
        "-f '%s' new-session -d -x %d -y %d -s t -c '%s' "
        "\"env -u NO_COLOR -u COLORTERM -u R1LAB_DASH_TEST_CRASH -u R1LAB_DASH_BENCH_FRAMES "
        "HOME='%s' XDG_CONFIG_HOME='%s/config' LANG=C.UTF-8 LC_ALL=C.UTF-8 PS1='$ ' %s timeout --foreground -s KILL 120 sh\"",
        conf, cols, rows, root, x->tmp, x->tmp, env ? env : "");
    free(root);
    cr_assert(out[0] == '\0', "tmux new-session: %s", out);
    free(out);
    x->sock_path = tmux(x, "display -p '#{socket_path}'");
    x->sock_path[strcspn(x->sock_path, "\n")] = '\0';
}

static void tmx_stop(struct tmx *x) {
    if (!x || !x->tmp) return;
    tmx_do(x, "kill-server");
    if (x->sock_path) unlink(x->sock_path);
    free(x->sock_path);
    x->sock_path = NULL;
    fs_remove_tree(x->tmp);
    free(x->tmp);
    x->tmp = NULL;
    current = NULL;
}

static pid_t live_trainer; /* a fake trainer started by a test, killed at the end */

/* criterion runs this after each test of the suite, passed or not */
static void cleanup(void) {
    if (live_trainer > 0) kill(live_trainer, SIGKILL);
    live_trainer = 0;
    tmx_stop(current);
}

TestSuite(dash_tmux, .fini = cleanup);

static char *capture(struct tmx *x) {
    return tmux(x, "capture-pane -p -t t");
}

/* Polls the screen until `needle` shows (true) or `seconds` pass (false, screen printed for the log). */
static bool wait_for(struct tmx *x, const char *needle, double seconds) {
    double deadline = th_now() + th_wait_limit(seconds);
    for (;;) {
        char *s = capture(x);
        bool hit = strstr(s, needle) != NULL, late = th_now() > deadline;
        if (hit || late) {
            if (!hit) fprintf(stderr, "--- waiting for '%s', screen:\n%s---\n", needle, s);
            free(s);
            return hit;
        }
        free(s);
        sleep_ms(50);
    }
}

/* Waits until the header says "step N/" with N >= min. (Not a fixed "step 3/": on a loaded machine the dashboard
 * may first draw when the trainer is long past step 3, and then the next match would be step 30 or 300.) */
static bool wait_for_step(struct tmx *x, long min, double seconds) {
    double deadline = th_now() + th_wait_limit(seconds);
    for (;;) {
        char *s = capture(x), *at = strstr(s, "step ");
        long step = -1;
        char slash = 0;
        if (at && sscanf(at + 5, "%ld%c", &step, &slash) == 2 && slash != '/') step = -1;
        bool hit = step >= min, late = th_now() > deadline;
        if (hit || late) {
            if (!hit) fprintf(stderr, "--- waiting for step %ld, screen:\n%s---\n", min, s);
            free(s);
            return hit;
        }
        free(s);
        sleep_ms(50);
    }
}

static bool wait_gone(struct tmx *x, const char *needle, double seconds) {
    for (double end = th_now() + th_wait_limit(seconds); th_now() < end;) {
        char *s = capture(x);
        bool gone = strstr(s, needle) == NULL;
        free(s);
        if (gone) return true;
        sleep_ms(50);
    }
    return false;
}

static void keys(struct tmx *x, const char *k) {
    tmx_do(x, "send-keys -t t %s", k);
}
static void type(struct tmx *x, const char *text) {
    char *q = malloc(strlen(text) * 4 + 3), *o = q;
    *o++ = '\'';
    for (const char *p = text; *p; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    *o++ = '\'';
    *o = '\0';
    tmx_do(x, "send-keys -t t -l %s", q);
    free(q);
}

/* Types `stty -g > before; ARGS; rc=$?; stty -g > after; echo DONE rc=$rc` (DONE split so the typed command
 * line does not match). */
static void run_wrapped(struct tmx *x, const char *cmdline) {
    char line[8192];
    snprintf(line, sizeof line, "stty -g > '%s/before'; %s; rc=$?; stty -g > '%s/after'; echo \"DO\"\"NE rc=$rc\"",
             x->tmp, cmdline, x->tmp);
    type(x, line);
    keys(x, "Enter");
}

static void expect_stty_restored(struct tmx *x) {
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/before", x->tmp);
    snprintf(b, sizeof b, "%s/after", x->tmp);
    char *ta, *tb;
    size_t la, lb;
    cr_assert_eq(fs_read_file(a, 1 << 16, &ta, &la), STATUS_OK);
    cr_assert_eq(fs_read_file(b, 1 << 16, &tb, &lb), STATUS_OK);
    cr_expect(la > 10);
    cr_expect_str_eq(ta, tb, "terminal settings changed");
    free(ta);
    free(tb);
    /* and the shell is usable: it echoes what we type and runs it */
    type(x, "echo us\"\"able-$((6*7))");
    keys(x, "Enter");
    cr_expect(wait_for(x, "usable-42", 5));
}

static char *dash_cmd(const char *fixture, const char *extra) {
    static char buf[4096];
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/runs/%s", fixture);
    char *dir = th_path(rel);
    snprintf(buf, sizeof buf, "'%s' dash '%s' %s", th_bin(), dir, extra ? extra : "");
    free(dir);
    return buf;
}

static cJSON *last_metrics(const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(path, 1 << 24, &text, &len), STATUS_OK);
    while (len > 0 && text[len - 1] == '\n') text[--len] = '\0';
    char *nl = strrchr(text, '\n');
    cJSON *j = cJSON_Parse(nl ? nl + 1 : text);
    free(text);
    cr_assert(j);
    return j;
}

static const char *num(cJSON *j, const char *key, char *buf) {
    return fmt_value(cJSON_GetObjectItem(j, key)->valuedouble, buf, 32);
}

Test(dash_tmux, recorded_run_shows_its_panels_and_numbers) {
    static struct tmx x;
    tmx_start(&x, 120, 40, NULL);
    run_wrapped(&x, dash_cmd("recorded", NULL));
    cr_assert(wait_for(&x, "4 Traces", 10));
    char *s = capture(&x);
    const char *want[] = {" 1 Reward ",
                          " 2 Length ",
                          " 3 Advantages ",
                          " 4 Traces ",
                          "● finished",
                          "step 300/300",
                          "CPU (OpenBLAS, 2 threads)",
                          "Q: Solve:",
                          "<think>",
                          "(following)"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) cr_expect(strstr(s, want[i]), "missing '%s'", want[i]);
    /* the numbers shown are the last line of metrics.jsonl */
    char *dir = th_path("tests/fixtures/runs/recorded");
    cJSON *j = last_metrics(dir);
    char v[32], item[96];
    const char *pairs[][2] = {
        {"reward ", "reward"},      {"acc ", "rewards/accuracy/mean"},        {"fmt ", "rewards/format/mean"},
        {"pass@1 ", "eval/pass@1"}, {"mean ", "completions/mean_length"},     {" ", "kl"},
        {" ", "entropy"},           {"rollout ", "tokens_per_second/rollout"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        snprintf(item, sizeof item, "%s%s", pairs[i][0], num(j, pairs[i][1], v));
        cr_expect(strstr(s, item) != NULL, "'%s' (from metrics.jsonl) not on screen", item);
    }
    cJSON_Delete(j);
    free(dir);
    free(s);
    /* the y axes are labelled with round values (two significant digits at most), lengths never below zero */
    char *screen = capture(&x);
    int labels[2] = {0, 0};
    bool in_charts = false;
    for (char *line = strtok(screen, "\n"); line; line = strtok(NULL, "\n")) {
        if (strstr(line, " 1 Reward ")) {
            in_charts = true;
            continue;
        }
        if (!in_charts) continue;
        if (strncmp(line, "╰", strlen("╰")) == 0) break;
        const char *cols[2] = {line + strlen("│"), strstr(line, "││")};
        if (cols[1]) cols[1] += 2 * strlen("│");
        for (int c = 0; c < 2; c++) {
            if (!cols[c] || !((*cols[c] >= '0' && *cols[c] <= '9') || *cols[c] == '-')) continue;
            char *end;
            double v = strtod(cols[c], &end);
            char round[32];
            snprintf(round, sizeof round, "%.2g", v);
            cr_expect(end > cols[c] && strtod(round, NULL) == v, "%s axis label %.*s is not a round value",
                      c ? "length" : "reward", (int)(end - cols[c]), cols[c]);
            if (c == 1) cr_expect_geq(v, 0, "a length axis label below zero: %g", v);
            labels[c]++;
        }
    }
    cr_expect(labels[0] >= 2 && labels[1] >= 2, "axis labels: %d reward, %d length", labels[0], labels[1]);
    free(screen);
    /* requests to a finished run are refused, in words */
    keys(&x, "e");
    cr_expect(wait_for(&x, "cannot run an evaluation: the run is over", 5));
    keys(&x, "s");
    cr_expect(wait_for(&x, "cannot save a checkpoint: the run is over", 5));
    keys(&x, "q");
    cr_expect(wait_for(&x, "DONE rc=0", 5));
    expect_stty_restored(&x);
    tmx_stop(&x);
}

Test(dash_tmux, keys_scrub_search_smooth_and_cycle_themes) {
    static struct tmx x;
    tmx_start(&x, 120, 40, NULL);
    run_wrapped(&x, dash_cmd("recorded", NULL));
    cr_assert(wait_for(&x, "step 300  group 1/2  (following)", 10));
    keys(&x, "'?'");
    cr_expect(wait_for(&x, " Keys ", 5));
    cr_expect(wait_for(&x, "save a checkpoint now", 2));
    keys(&x, "Escape");
    cr_expect(wait_gone(&x, " Keys ", 5));
    keys(&x, "PPage");
    cr_expect(wait_for(&x, "step 299  group 1/2 ", 5), "PgUp goes to the previous step");
    cr_expect(wait_for(&x, "Advantages step 299", 2), "the histogram follows the selected step");
    keys(&x, "Left");
    cr_expect(wait_for(&x, "step 298  group 2/2 ", 5), "Left goes back a group, across the step boundary");
    keys(&x, "Home");
    cr_expect(wait_for(&x, "step 1  group 1/2 ", 5));
    keys(&x, "End");
    cr_expect(wait_for(&x, "(following)", 5));
    keys(&x, "Home"); /* search runs forward from the selected group */
    keys(&x, "/");
    type(&x, "verify");
    cr_expect(wait_for(&x, "/verify", 5), "the prompt shows what is typed");
    keys(&x, "Enter");
    keys(&x, "n");
    cr_expect(wait_for(&x, "'verify' found at step", 5));
    cr_expect(wait_for(&x, "verify:", 2), "the match is scrolled into view");
    keys(&x, "+");
    cr_expect(wait_for(&x, "ema 0.70", 5));
    keys(&x, "-");
    keys(&x, "-");
    cr_expect(wait_for(&x, "ema 0.50", 5));
    keys(&x, "l");
    cr_expect(wait_for(&x, "ema 0.50 log", 5));
    keys(&x, "2");
    keys(&x, "z");
    cr_expect(wait_gone(&x, " 1 Reward ", 5), "z zooms the focused panel");
    keys(&x, "z");
    cr_expect(wait_for(&x, " 1 Reward ", 5));
    keys(&x, "t");
    cr_expect(wait_for(&x, "theme light", 5));
    keys(&x, "t");
    cr_expect(wait_for(&x, "theme mono", 5));
    keys(&x, "C-l");
    keys(&x, "q");
    cr_expect(wait_for(&x, "DONE rc=0", 5));
    expect_stty_restored(&x);
    tmx_stop(&x);
}

Test(dash_tmux, resize_redraws_and_too_small_says_so) {
    static struct tmx x;
    tmx_start(&x, 120, 40, NULL);
    run_wrapped(&x, dash_cmd("recorded", NULL));
    cr_assert(wait_for(&x, "4 Traces", 10));
    tmx_do(&x, "resize-window -t t -x 70 -y 20");
    cr_expect(wait_for(&x, "terminal too small (need 80×24)", 5));
    cr_expect(wait_for(&x, "now 70×20", 2));
    tmx_do(&x, "resize-window -t t -x 80 -y 24");
    cr_expect(wait_for(&x, "4 Traces", 5), "the minimum size shows every panel");
    cr_expect(wait_for(&x, " 1 Reward ", 2));
    cr_expect(wait_for(&x, " 3 Advantages ", 2));
    cr_expect(wait_for(&x, "q quit", 2));
    tmx_do(&x, "resize-window -t t -x 200 -y 60");
    cr_expect(wait_for(&x, "chk acc", 5), "a tall terminal adds the third health row");
    keys(&x, "q");
    cr_expect(wait_for(&x, "DONE rc=0", 5));
    expect_stty_restored(&x);
    tmx_stop(&x);
}

Test(dash_tmux, colour_tiers_and_ascii_fallback) {
    static struct tmx x;
    tmx_start(&x, 120, 40, NULL);
    run_wrapped(&x, dash_cmd("recorded", NULL));
    cr_assert(wait_for(&x, "4 Traces", 10));
    char *e = tmux(&x, "capture-pane -p -e -t t");
    cr_expect(strstr(e, "38;5;") != NULL, "256 colours on tmux-256color");
    free(e);
    keys(&x, "q");
    cr_assert(wait_for(&x, "DONE rc=0", 5));
    tmx_do(&x, "send-keys -t t clear Enter");
    run_wrapped(&x, "NO_COLOR=1 " /* the env prefix applies to the dashboard only */);
    sleep_ms(10);
    tmx_stop(&x);

    tmx_start(&x, 120, 40, "NO_COLOR=1");
    run_wrapped(&x, dash_cmd("recorded", NULL));
    cr_assert(wait_for(&x, "4 Traces", 10));
    e = tmux(&x, "capture-pane -p -e -t t");
    cr_expect(strstr(e, "38;5;") == NULL && strstr(e, "38;2;") == NULL && strstr(e, "[31m") == NULL,
              "NO_COLOR: attributes only");
    free(e);
    keys(&x, "q");
    cr_assert(wait_for(&x, "DONE rc=0", 5));
    tmx_stop(&x);

    tmx_start(&x, 120, 40, "LANG=C LC_ALL=C");
    run_wrapped(&x, dash_cmd("recorded", NULL));
    cr_assert(wait_for(&x, "+- 1 Reward ", 10), "ASCII borders without UTF-8");
    char *s = capture(&x);
    cr_expect(strstr(s, "╭") == NULL && strstr(s, "⠀") == NULL);
    free(s);
    keys(&x, "q");
    cr_assert(wait_for(&x, "DONE rc=0", 5));
    expect_stty_restored(&x);
    tmx_stop(&x);
}

Test(dash_tmux, malicious_run_is_shown_inert) {
    static struct tmx x;
    tmx_start(&x, 120, 40, NULL);
    char *title_before = tmux(&x, "display -p -t t '#{pane_title}'");
    run_wrapped(&x, dash_cmd("malicious", NULL));
    cr_assert(wait_for(&x, "4 Traces", 10));
    cr_expect(wait_for(&x, "last group ␛[41m", 2), "ESC shows as a control picture");
    cr_expect(wait_for(&x, "● failed", 2));
    cr_expect(wait_for(&x, "run failed: boom ␛[31mred␛[0m", 2));
    keys(&x, "4"); /* traces, zoomed to the whole body so a group's completions all fit */
    keys(&x, "z");
    keys(&x, "Left");
    cr_expect(wait_for(&x, "len 1048", 5), "the 1 MB completion is shown (cut)");
    cr_expect(wait_for(&x, "␛]0;pwned-title␇", 2));
    keys(&x, "Home");
    cr_expect(wait_for(&x, "step 1  group 1/2", 5));
    cr_expect(wait_for(&x, "␛[2J␛[H", 2), "CSI clear-screen shows as text");
    cr_expect(wait_for(&x, "␛]52;c;", 2), "OSC 52 shows as text");
    cr_expect(wait_for(&x, "<U+009B>", 2), "C1 CSI is spelt out");
    cr_expect(wait_for(&x, "<U+202E>evil<U+202C>", 2), "bidi overrides are spelt out");
    keys(&x, "Right");
    cr_expect(wait_for(&x, "controls nul", 5), "a NUL ends the string (cJSON), nothing after it is shown");
    cr_expect(wait_for(&x, "␛[?1049l altscreen-off", 2));
    keys(&x, "Right");
    cr_expect(wait_for(&x, "bad \xef\xbf\xbd\xef\xbf\xbd", 5), "invalid UTF-8 becomes U+FFFD");
    char *title_after = tmux(&x, "display -p -t t '#{pane_title}'");
    cr_expect_str_eq(title_after, title_before, "the pane title was changed by model text");
    cr_expect(strstr(title_after, "pwned") == NULL);
    char *buffers = tmux(&x, "list-buffers");
    cr_expect(strstr(buffers, "pwned") == NULL, "the clipboard was written: %s", buffers);
    free(buffers);
    free(title_before);
    free(title_after);
    keys(&x, "q");
    cr_expect(wait_for(&x, "DONE rc=0", 5));
    expect_stty_restored(&x);
    tmx_stop(&x);
}

Test(dash_tmux, ctrl_c_sigterm_and_crash_restore_the_terminal) {
    static struct tmx x;
    tmx_start(&x, 120, 40, NULL);
    /* Ctrl-C on a finished run: nothing to stop, leave at once */
    run_wrapped(&x, dash_cmd("recorded", NULL));
    cr_assert(wait_for(&x, "4 Traces", 10));
    keys(&x, "C-c");
    cr_expect(wait_for(&x, "DONE rc=0", 5));
    expect_stty_restored(&x);
    /* SIGTERM: the dashboard's pid comes from a file written by the shell that then execs it */
    tmx_do(&x, "send-keys -t t clear Enter");
    char pidfile[4200], line[8400];
    snprintf(pidfile, sizeof pidfile, "%s/dash.pid", x.tmp);
    snprintf(line, sizeof line, "sh -c 'echo $$ > %s; exec %s'", pidfile, dash_cmd("recorded", NULL));
    for (char *p = line + strlen(pidfile) + 20; *p; p++)
        if (*p == '\'') *p = '"'; /* dash_cmd quotes with ' : switch to " inside the sh -c '...' */
    line[strlen(line) - 1] = '\'';
    run_wrapped(&x, line);
    cr_assert(wait_for(&x, "4 Traces", 10));
    char *pid_text;
    size_t pid_len;
    cr_assert_eq(fs_read_file(pidfile, 64, &pid_text, &pid_len), STATUS_OK);
    pid_t dash = (pid_t)atoi(pid_text);
    free(pid_text);
    cr_assert(dash > 0);
    kill(dash, SIGTERM);
    cr_expect(wait_for(&x, "DONE rc=3", 5), "SIGTERM: exit status 3 (interrupted)");
    expect_stty_restored(&x);
    /* a crash after the first frame */
    tmx_do(&x, "send-keys -t t clear Enter");
    snprintf(line, sizeof line, "R1LAB_DASH_TEST_CRASH=abort %s", dash_cmd("recorded", NULL));
    run_wrapped(&x, line);
    cr_expect(wait_for(&x, "DONE rc=134", 10), "abort: killed by SIGABRT after restoring the terminal");
    expect_stty_restored(&x);
    char *s = capture(&x);
    cr_expect(strstr(s, "4 Traces") == NULL, "back on the normal screen, not the dashboard's");
    free(s);
    tmx_stop(&x);
}

/* ---- live runs, driven by the fake trainer ---- */

static const char *fake_trainer(void) {
    const char *p = getenv("R1LAB_FAKE_TRAINER");
    return p && *p ? p : "build/rel/tests/fake-trainer";
}

static long count_lines(const char *dir, const char *name) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text;
    size_t len;
    if (fs_read_file(path, 1 << 26, &text, &len) != STATUS_OK) return 0;
    long n = 0;
    for (size_t i = 0; i < len; i++) n += text[i] == '\n';
    free(text);
    return n;
}

static bool status_has(const char *dir, const char *needle, double seconds) {
    char path[4400];
    snprintf(path, sizeof path, "%s/status.json", dir);
    for (double end = th_now() + th_wait_limit(seconds); th_now() < end;) {
        char *text;
        size_t len;
        if (fs_read_file(path, 1 << 16, &text, &len) == STATUS_OK) {
            bool hit = strstr(text, needle) != NULL;
            free(text);
            if (hit) return true;
        }
        sleep_ms(50);
    }
    return false;
}

static bool checkpoint_exists(const char *dir) {
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "ls '%s'/checkpoints/step-*/trainer_state.json >/dev/null 2>&1", dir);
    struct th_run r = th_sh(cmd);
    bool ok = r.exit_code == 0;
    th_run_free(&r);
    return ok;
}

Test(dash_tmux, live_run_pause_save_and_ctrl_c_stop) {
    static struct tmx x;
    tmx_start(&x, 120, 40, NULL);
    char run[4200], cmd[8400];
    snprintf(run, sizeof run, "%s/run", x.tmp);
    snprintf(cmd, sizeof cmd, "'%s' '%s' --interval-ms 100 >/dev/null 2>&1 & echo $!", fake_trainer(), run);
    struct th_run r = th_sh(cmd);
    pid_t trainer = (pid_t)atoi(r.out);
    th_run_free(&r);
    cr_assert(trainer > 0);
    live_trainer = trainer;
    cr_assert(status_has(run, "\"running\"", 10), "the fake trainer did not start");
    snprintf(cmd, sizeof cmd, "'%s' dash '%s'", th_bin(), run);
    run_wrapped(&x, cmd);
    cr_assert(wait_for(&x, "● running", 10));
    /* p pauses: the trainer reports "paused" and steps stop advancing */
    keys(&x, "p");
    cr_expect(wait_for(&x, "● paused", 5));
    cr_assert(status_has(run, "\"paused\"", 5));
    long before = count_lines(run, "metrics.jsonl");
    sleep_ms(700); /* seven step intervals */
    cr_expect_eq(count_lines(run, "metrics.jsonl"), before, "steps advanced while paused");
    /* p resumes */
    keys(&x, "p");
    cr_expect(wait_for(&x, "● running", 5));
    bool advanced = false;
    for (double end = th_now() + th_wait_limit(5); !advanced && th_now() < end; sleep_ms(50)) advanced = count_lines(run, "metrics.jsonl") > before;
    cr_expect(advanced, "steps did not resume");
    /* s writes a checkpoint now */
    keys(&x, "s");
    bool saved = false;
    for (double end = th_now() + th_wait_limit(5); !saved && th_now() < end; sleep_ms(50)) saved = checkpoint_exists(run);
    cr_expect(saved, "s did not create checkpoints/step-*/");
    cr_expect(wait_for(&x, "ckpt step-", 5), "the dashboard shows the new checkpoint");
    keys(&x, "e");
    cr_expect(wait_for(&x, "evaluation requested", 5));
    /* Ctrl-C asks; a second Ctrl-C stops at once (the trainer saves) and gives the terminal back */
    keys(&x, "C-c");
    cr_expect(wait_for(&x, "Save a checkpoint and stop training?", 5));
    keys(&x, "C-c");
    cr_expect(wait_for(&x, "DONE rc=0", 5));
    cr_expect(status_has(run, "\"stopped\"", 10), "the trainer did not get the stop request");
    expect_stty_restored(&x);
    tmx_stop(&x);
}

Test(dash_tmux, in_process_quit_offers_detach_or_stop) {
    static struct tmx x;
    tmx_start(&x, 120, 40, NULL);
    char run[4200], cmd[8400];
    snprintf(run, sizeof run, "%s/run", x.tmp);
    snprintf(cmd, sizeof cmd, "'%s' '%s' --tui --interval-ms 100", fake_trainer(), run);
    run_wrapped(&x, cmd);
    cr_assert(wait_for(&x, "● running", 10));
    cr_assert(wait_for_step(&x, 3, 5));
    keys(&x, "q");
    cr_expect(wait_for(&x, "Leave the dashboard how?", 5));
    keys(&x, "Escape");
    cr_expect(wait_gone(&x, "Leave the dashboard how?", 5));
    keys(&x, "q");
    cr_expect(wait_for(&x, "Leave the dashboard how?", 5));
    keys(&x, "s");
    cr_expect(wait_for(&x, "dashboard exit stop, run stopped", 10));
    cr_expect(wait_for(&x, "DONE rc=0", 5));
    cr_expect(status_has(run, "\"stopped\"", 2));
    cr_expect(checkpoint_exists(run), "stop saves a checkpoint");
    expect_stty_restored(&x);
    tmx_stop(&x);
}

/* The real thing: `r1lab train` on the tiny GRPO fixture with its in-process dashboard. */
Test(dash_tmux, real_training_run_pause_save_and_stop) {
    static struct tmx x;
    tmx_start(&x, 120, 40, NULL);
    char run[4200], cmd[12000];
    snprintf(run, sizeof run, "%s/run", x.tmp);
    char *config = th_path("tests/fixtures/grpo/tiny.json");
    char *model = th_path("tests/fixtures/models/qwen2_tiny");
    snprintf(cmd, sizeof cmd, "'%s' train '%s' output_dir='%s' model_name_or_path='%s' max_steps=100000 save_steps=100000",
             th_bin(), config, run, model);
    free(config);
    free(model);
    run_wrapped(&x, cmd);
    cr_assert(wait_for(&x, "● running", 30), "the dashboard did not come up");
    bool stepping = false;
    for (double end = th_now() + th_wait_limit(30); !stepping && th_now() < end; sleep_ms(50)) stepping = count_lines(run, "metrics.jsonl") >= 2;
    cr_assert(stepping, "no steps");
    keys(&x, "p");
    cr_expect(wait_for(&x, "● paused", 10));
    cr_assert(status_has(run, "\"paused\"", 10));
    long before = count_lines(run, "metrics.jsonl");
    sleep_ms(1500);
    cr_expect_eq(count_lines(run, "metrics.jsonl"), before, "steps advanced while paused");
    keys(&x, "p");
    cr_expect(wait_for(&x, "● running", 10));
    keys(&x, "s");
    bool saved = false;
    for (double end = th_now() + th_wait_limit(10); !saved && th_now() < end; sleep_ms(50)) saved = checkpoint_exists(run);
    cr_expect(saved, "s did not write a checkpoint");
    /* the request is cleared from the header once the trainer has taken it, though "saving" lasted too short a
     * time to be seen (the trainer's request line in events.jsonl says so) */
    cr_expect(wait_gone(&x, "(save requested)", 3), "'(save requested)' stays in the header after the save");
    keys(&x, "q");
    cr_expect(wait_for(&x, "Leave the dashboard how?", 5));
    keys(&x, "s");
    cr_expect(wait_for(&x, "DONE rc=0", 30), "r1lab train did not finish after stop");
    cr_expect(status_has(run, "\"stopped\"", 5));
    expect_stty_restored(&x);
    tmx_stop(&x);
}

/* ---- nothing is cut mid-number ---- */

/* Splits a screen line into words: separated by spaces, box drawing, and plot / sparkline / bar glyphs (whose
 * count depends on the width); a word ending in an ellipsis (a message cut at a word) counts without it. */
static size_t screen_words(const char *line, char words[][64], size_t cap) {
    size_t n = 0, len = strlen(line), wl = 0;
    char cur[64];
    for (size_t i = 0; i <= len;) {
        uint32_t cp = 0;
        size_t k = i < len ? utf8_decode(line + i, len - i, &cp) : 1;
        if (k == 0) k = 1;
        bool sep = i == len || cp == ' ' || cp == '[' || cp == ']' || (cp >= 0x2500 && cp <= 0x259F) ||
                   (cp >= 0x2800 && cp <= 0x28FF) || cp == 0x2026;
        if (sep) {
            if (wl > 0 && n < cap) {
                cur[wl] = '\0';
                memcpy(words[n++], cur, wl + 1);
            }
            wl = 0;
        } else if (wl + k < sizeof cur) {
            memcpy(cur + wl, line + i, k);
            wl += k;
        }
        i += k;
    }
    return n;
}

/* A run whose numbers are as long as fmt_value makes them, with a long device name, GPU memory, four reward
 * functions, a skipped line and a long event: the fields that have to share a narrow screen. */
static void write_wide_run(const char *dir) {
    char path[4400];
    snprintf(path, sizeof path, "%s/checkpoints/step-000030", dir);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && ln -s checkpoints/step-000030 '%s/latest'", path, dir);
    struct th_run r = th_sh(cmd);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    th_run_free(&r);
    snprintf(path, sizeof path, "%s/status.json", dir);
    const char *status = "{\"state\": \"finished\", \"pid\": 1, \"step\": 30, \"max_steps\": 2000, \"stage\": \"grpo\", "
                         "\"started\": 1763830000.0, \"updated\": 1763830400.0, "
                         "\"device\": \"NVIDIA H100 80GB HBM3 (sm_90, 132 SMs)\", \"message\": \"\"}";
    cr_assert(th_write_file(path, status, strlen(status)));
    snprintf(path, sizeof path, "%s/events.jsonl", dir);
    const char *ev = "{\"time\": 1763830400.0, \"level\": \"info\", \"msg\": \"saved checkpoint "
                     "runs/a-rather-long-run-name/checkpoints/step-000030 after 1234.5 seconds\"}\n";
    cr_assert(th_write_file(path, ev, strlen(ev)));
    char *m = NULL;
    size_t mlen = 0;
    FILE *f = open_memstream(&m, &mlen);
    for (int s = 1; s <= 30; s++)
        fprintf(f,
                "{\"step\": %d, \"time\": %.1f, \"stage\": \"grpo\", \"loss\": %.7f, \"grad_norm\": 12.3456, "
                "\"learning_rate\": 3.3e-06, \"reward\": %.4f, \"reward_std\": 0.5432, \"rewards/accuracy/mean\": %.4f, "
                "\"rewards/format/mean\": 0.9961, \"rewards/language/mean\": 0.9987, \"rewards/length/mean\": -0.4321, "
                "\"frac_reward_zero_std\": 0.1234, \"completions/mean_length\": %.2f, \"completions/min_length\": 12, "
                "\"completions/max_length\": 1024, \"completions/clipped_ratio\": 0.125, \"kl\": 0.012345, "
                "\"entropy\": 1.2345, \"clip_ratio/region_mean\": 0.003216, \"reflection_rate\": 0.3743, "
                "\"language_mixed_rate\": 0.0123, \"tokens_per_second/rollout\": 123456.7, "
                "\"tokens_per_second/train\": 98765.4, \"time/step\": 12.345, \"memory/host_bytes\": 12300000000, "
                "\"memory/device_bytes\": 78900000000%s}\n",
                s, 1763830000.0 + 12.3 * s, -0.0123456 + 0.001 * s, 2.0 + 0.0123 * s, 0.5 + 0.0101 * s,
                300.0 + 1.23 * s, s % 10 == 0 ? ", \"eval/pass@1\": 0.6813" : "");
    fprintf(f, "not a metrics line\n");
    fclose(f);
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    cr_assert(th_write_file(path, m, mlen));
    free(m);
}

/* The header, the health strip and the chart legends at the widths people use: every word on them is a word the
 * dashboard shows at 300 columns, so nothing (a number above all) was cut to fit. */
Test(dash_tmux, narrow_terminals_never_cut_a_number) {
    static struct tmx x;
    static char ref[2048][64], got[256][64];
    const int sizes[][2] = {{300, 60}, {80, 24}, {100, 30}, {120, 40}, {160, 40}};
    char run[4200] = "";
    size_t n_ref = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        tmx_start(&x, sizes[si][0], sizes[si][1], NULL);
        if (!run[0]) {
            snprintf(run, sizeof run, "/tmp/r1lab-wide-run-%d", (int)getpid());
            fs_remove_tree(run);
            mkdir(run, 0755);
            write_wide_run(run);
        }
        char cmd[4600];
        snprintf(cmd, sizeof cmd, "'%s' dash '%s'", th_bin(), run);
        run_wrapped(&x, cmd);
        cr_assert(wait_for(&x, "2 Length", 10), "%dx%d", sizes[si][0], sizes[si][1]);
        cr_assert(wait_for(&x, "step 30/2000", 5));
        sleep_ms(200); /* the first frames read the files in bounded chunks: let it settle */
        char *screen = capture(&x);
        int row = 0;
        bool in_body = false;
        for (char *line = strtok(screen, "\n"); line; line = strtok(NULL, "\n"), row++) {
            /* the header and health rows come before the first box; a legend row starts with a marker */
            if (strncmp(line, "╭", strlen("╭")) == 0) in_body = true;
            bool health = !in_body && row < 6;
            bool legend = strstr(line, "│━ ") != NULL;
            if (!health && !legend) continue;
            if (si == 0) {
                n_ref += screen_words(line, ref + n_ref, sizeof ref / sizeof ref[0] - n_ref);
                continue;
            }
            size_t n = screen_words(line, got, sizeof got / sizeof got[0]);
            for (size_t i = 0; i < n; i++) {
                bool known = false;
                for (size_t j = 0; j < n_ref && !known; j++) known = strcmp(got[i], ref[j]) == 0;
                cr_expect(known, "%dx%d, row %d: '%s' is not shown whole:\n%s", sizes[si][0], sizes[si][1], row,
                          got[i], line);
            }
        }
        if (si == 0) {
            cr_assert_geq(n_ref, 30, "the reference screen has %zu words", n_ref);
            /* the brief forms of health fields (a narrow screen's way to keep them whole) */
            static const char *const brief[] = {"roll", "1+0"};
            for (size_t i = 0; i < sizeof brief / sizeof brief[0]; i++) snprintf(ref[n_ref++], 64, "%s", brief[i]);
        }
        free(screen);
        keys(&x, "q");
        cr_expect(wait_for(&x, "DONE rc=0", 5));
        tmx_stop(&x);
    }
    fs_remove_tree(run);
}

/* r1lab demo(1): Ctrl-C in the dashboard is an interruption like Ctrl-C in a headless run — the trainer saves a
 * checkpoint and the exit status is 3; leaving with q and stopping there is a chosen end (0, tested above). */
Test(dash_tmux, demo_stopped_with_ctrl_c_exits_3) {
    static struct tmx x;
    tmx_start(&x, 120, 40, NULL);
    char run[4200], cmd[12000];
    snprintf(run, sizeof run, "%s/runs/demo", x.tmp);
    char *root = th_path("");
    snprintf(cmd, sizeof cmd,
             "cd '%s' && R1LAB_HOME='%s' '%s' demo max_steps=100000 save_steps=100000 eval_steps=0 prompts_per_step=4 "
             "num_generations=4",
             x.tmp, root, th_bin());
    free(root);
    run_wrapped(&x, cmd);
    cr_assert(wait_for(&x, "● running", 30), "the dashboard did not come up");
    bool stepping = false;
    for (double end = th_now() + th_wait_limit(30); !stepping && th_now() < end; sleep_ms(50))
        stepping = count_lines(run, "metrics.jsonl") >= 1;
    cr_assert(stepping, "no steps");
    keys(&x, "C-c");
    cr_expect(wait_for(&x, "Save a checkpoint and stop training?", 5));
    keys(&x, "C-c");
    cr_expect(wait_for(&x, "DONE rc=3", 30), "demo(1): 3 when it was interrupted");
    cr_expect(status_has(run, "\"stopped\"", 5));
    cr_expect(checkpoint_exists(run), "a checkpoint is saved first");
    expect_stty_restored(&x);
    tmx_stop(&x);
}

/* Detaching from `r1lab train`'s dashboard: the run goes on headless and prints plain lines for the steps that come
 * after, not the whole history the dashboard already showed (which, appended to a log, would repeat it). */
Test(dash_tmux, detached_training_prints_only_the_steps_after) {
    static struct tmx x;
    tmx_start(&x, 120, 40, NULL);
    char run[4200], cmd[12000];
    snprintf(run, sizeof run, "%s/run", x.tmp);
    char *config = th_path("tests/fixtures/grpo/tiny.json");
    char *model = th_path("tests/fixtures/models/qwen2_tiny");
    snprintf(cmd, sizeof cmd, "'%s' train '%s' output_dir='%s' model_name_or_path='%s' max_steps=100000 save_steps=100000",
             th_bin(), config, run, model);
    free(config);
    free(model);
    run_wrapped(&x, cmd);
    cr_assert(wait_for(&x, "● running", 30), "the dashboard did not come up");
    bool stepping = false;
    for (double end = th_now() + th_wait_limit(30); !stepping && th_now() < end; sleep_ms(50))
        stepping = count_lines(run, "metrics.jsonl") >= 3;
    cr_assert(stepping, "no steps");
    keys(&x, "q");
    cr_assert(wait_for(&x, "Leave the dashboard how?", 5));
    keys(&x, "d");
    cr_assert(wait_for(&x, "/100000  reward", 30), "no plain step line after detaching");
    keys(&x, "C-c");
    cr_expect(wait_for(&x, "DONE rc=3", 30), "Ctrl-C on the headless run: saved and interrupted");
    char *s = capture(&x);
    cr_expect(strstr(s, "step 1/100000 ") == NULL && strstr(s, "step 2/100000 ") == NULL,
              "steps the dashboard showed are printed again after detaching:\n%s", s);
    int last = 0;
    for (const char *p = s; (p = strstr(p, "step ")) != NULL; p++) {
        int step, max;
        if (sscanf(p, "step %d/%d", &step, &max) != 2 || max != 100000) continue;
        cr_expect_gt(step, last, "step %d after step %d:\n%s", step, last, s);
        last = step;
    }
    cr_expect_geq(last, 3);
    free(s);
    expect_stty_restored(&x);
    tmx_stop(&x);
}
