/* Tests for runctl, the trainer's side of the control channel: requests come back in order, requests from before
 * the trainer opened the run are ignored, half-written lines wait for their newline, malformed lines are
 * skipped, a replaced file is read from its start; status.json is replaced atomically (a reader racing a writer
 * only ever sees whole files); events are whole lines. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/run/runctl.h"
#include "engine/util/fsutil.h"
#include "harness.h"

static char *dir_file(const char *dir, const char *name) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static void append_raw(const char *path, const char *s) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
    close(fd);
}

Test(runctl, requests_come_back_in_order) {
    char *dir = th_tmpdir("runctl");
    struct runctl rc;
    cr_assert_eq(runctl_open(&rc, dir), STATUS_OK, "%s", err_msg());
    cr_expect_eq(runctl_poll(&rc), RUNCTL_CMD_NONE, "no control file yet");
    enum runctl_cmd sent[] = {RUNCTL_CMD_PAUSE, RUNCTL_CMD_SAVE, RUNCTL_CMD_RESUME, RUNCTL_CMD_EVAL, RUNCTL_CMD_STOP};
    for (size_t i = 0; i < 5; i++) cr_assert_eq(runctl_send(dir, sent[i]), STATUS_OK, "%s", err_msg());
    for (size_t i = 0; i < 5; i++) cr_expect_eq(runctl_poll(&rc), sent[i], "request %zu", i);
    cr_expect_eq(runctl_poll(&rc), RUNCTL_CMD_NONE);
    runctl_send(dir, RUNCTL_CMD_PAUSE);
    cr_expect_eq(runctl_poll(&rc), RUNCTL_CMD_PAUSE, "later requests still arrive");
    runctl_close(&rc);
    runctl_close(&rc); /* idempotent */
    fs_remove_tree(dir);
    free(dir);
}

Test(runctl, earlier_sessions_requests_are_ignored) {
    char *dir = th_tmpdir("runctl");
    runctl_send(dir, RUNCTL_CMD_STOP); /* left by a dashboard of an earlier session */
    struct runctl rc;
    cr_assert_eq(runctl_open(&rc, dir), STATUS_OK);
    cr_expect_eq(runctl_poll(&rc), RUNCTL_CMD_NONE, "an old stop must not stop the new session");
    runctl_send(dir, RUNCTL_CMD_SAVE);
    cr_expect_eq(runctl_poll(&rc), RUNCTL_CMD_SAVE);
    runctl_close(&rc);
    fs_remove_tree(dir);
    free(dir);
}

Test(runctl, half_lines_wait_and_bad_lines_are_skipped) {
    char *dir = th_tmpdir("runctl");
    struct runctl rc;
    cr_assert_eq(runctl_open(&rc, dir), STATUS_OK);
    const char *path = dir_file(dir, "control.jsonl");
    append_raw(path, "{\"time\": 1, \"cmd\": \"pa");
    cr_expect_eq(runctl_poll(&rc), RUNCTL_CMD_NONE, "half a line is not a request");
    append_raw(path, "use\"}\nnot json\n{\"cmd\": \"explode\"}\n{\"cmd\": 3}\n\n");
    char big[2000];
    memset(big, 'x', sizeof big - 2);
    big[sizeof big - 2] = '\n';
    big[sizeof big - 1] = '\0';
    append_raw(path, big);
    append_raw(path, "{\"cmd\": \"eval\"}\r\n");
    cr_expect_eq(runctl_poll(&rc), RUNCTL_CMD_PAUSE);
    cr_expect_eq(runctl_poll(&rc), RUNCTL_CMD_EVAL, "malformed, unknown and over-long lines are skipped");
    cr_expect_eq(runctl_poll(&rc), RUNCTL_CMD_NONE);
    runctl_close(&rc);
    fs_remove_tree(dir);
    free(dir);
}

Test(runctl, replaced_control_file_is_read_from_its_start) {
    char *dir = th_tmpdir("runctl");
    struct runctl rc;
    runctl_send(dir, RUNCTL_CMD_PAUSE);
    runctl_send(dir, RUNCTL_CMD_PAUSE);
    cr_assert_eq(runctl_open(&rc, dir), STATUS_OK);
    const char *path = dir_file(dir, "control.jsonl");
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    cr_assert(th_write_file(tmp, "{\"cmd\": \"save\"}\n", 16));
    cr_assert_eq(rename(tmp, path), 0);
    cr_expect_eq(runctl_poll(&rc), RUNCTL_CMD_SAVE);
    cr_expect_eq(runctl_poll(&rc), RUNCTL_CMD_NONE);
    runctl_close(&rc);
    fs_remove_tree(dir);
    free(dir);
}

Test(runctl, status_round_trip_and_events) {
    char *dir = th_tmpdir("runctl");
    struct runctl rc;
    cr_assert_eq(runctl_open(&rc, dir), STATUS_OK);
    struct runctl_status st = {RUNCTL_STATE_PAUSED, 0, 120, 400, "grpo", 0, 0, "CPU \"x\"\n", "ok"};
    cr_assert_eq(runctl_write_status(&rc, &st), STATUS_OK, "%s", err_msg());
    struct runctl_status back;
    cr_assert_eq(runctl_status_read(dir, &back), STATUS_OK, "%s", err_msg());
    cr_expect_eq(back.state, RUNCTL_STATE_PAUSED);
    cr_expect_eq(back.pid, (int64_t)getpid(), "pid filled in");
    cr_expect_eq(back.step, 120);
    cr_expect_eq(back.max_steps, 400);
    cr_expect_str_eq(back.stage, "grpo");
    cr_expect_str_eq(back.device, "CPU \"x\"\n");
    cr_expect(back.updated > 1e9 && back.started > 1e9);
    cr_expect(!fs_exists(rc.status_tmp), "no temporary file left behind");
    cr_expect(runctl_state_active(RUNCTL_STATE_PAUSED) && !runctl_state_active(RUNCTL_STATE_FINISHED));
    cr_expect_eq(runctl_state_parse("evaluating"), RUNCTL_STATE_EVALUATING);
    cr_expect_eq(runctl_cmd_parse("resume"), RUNCTL_CMD_RESUME);
    cr_expect_eq(runctl_cmd_parse("nope"), RUNCTL_CMD_NONE);

    cr_assert_eq(runctl_event(&rc, LOG_WARN, "saved %s\x1b[31m", "step-1"), STATUS_OK);
    cr_assert_eq(runctl_event(&rc, LOG_INFO, "two"), STATUS_OK);
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(dir_file(dir, "events.jsonl"), 1 << 20, &text, &len), STATUS_OK);
    cr_expect(strstr(text, "\"level\": \"warning\", \"msg\": \"saved step-1\\u001b[31m\"}\n") != NULL, "%s", text);
    cr_expect(len > 0 && text[len - 1] == '\n');
    free(text);
    runctl_close(&rc);
    fs_remove_tree(dir);
    free(dir);
}

/* A child rewrites status.json as fast as it can while the parent keeps reading it: every read parses. */
Test(runctl, status_json_is_never_seen_half_written) {
    char *dir = th_tmpdir("runctl");
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        struct runctl rc;
        if (runctl_open(&rc, dir) != STATUS_OK) _exit(1);
        struct runctl_status st = {RUNCTL_STATE_RUNNING, 0, 0, 1000000, "grpo", 0, 0, "", ""};
        for (int i = 0; i < 3000; i++) {
            st.step = i;
            snprintf(st.message, sizeof st.message, "%0*d", i % 200, 7); /* vary the size */
            runctl_write_status(&rc, &st);
        }
        _exit(0);
    }
    int reads = 0, ok = 0;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        struct runctl_status st;
        enum status s = runctl_status_read(dir, &st);
        if (s == STATUS_IO) continue; /* not written yet */
        reads++;
        if (s == STATUS_OK && st.state == RUNCTL_STATE_RUNNING) ok++;
    }
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_expect_eq(ok, reads, "%d of %d reads saw a torn file", reads - ok, reads);
    fs_remove_tree(dir);
    free(dir);
}

Test(runctl, poll_keeps_status_fresh_and_log_sink_writes_events) {
    char *dir = th_tmpdir("runctl");
    struct runctl rc;
    cr_assert_eq(runctl_open(&rc, dir), STATUS_OK);
    cr_expect_eq(runctl_poll(&rc), RUNCTL_CMD_NONE, "no status yet: nothing to refresh");
    cr_expect(!fs_exists(dir_file(dir, "status.json")));
    struct runctl_status st = {RUNCTL_STATE_PAUSED, 0, 5, 10, "grpo", 0, 0, "", ""};
    cr_assert_eq(runctl_write_status(&rc, &st), STATUS_OK);
    struct runctl_status a, b;
    runctl_status_read(dir, &a);
    rc.heartbeat = 0.0; /* every poll is overdue */
    usleep(20000);
    runctl_poll(&rc);
    runctl_status_read(dir, &b);
    cr_expect_gt(b.updated, a.updated, "the heartbeat rewrote status.json");
    cr_expect_eq(b.state, RUNCTL_STATE_PAUSED, "with the same contents");
    cr_expect_eq(b.step, 5);
    runctl_log_sink(LOG_WARN, "from the engine", &rc);
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(dir_file(dir, "events.jsonl"), 1 << 16, &text, &len), STATUS_OK);
    cr_expect(strstr(text, "\"level\": \"warning\", \"msg\": \"from the engine\"") != NULL, "%s", text);
    free(text);
    runctl_close(&rc);
    fs_remove_tree(dir);
    free(dir);
}
