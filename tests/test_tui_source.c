/* Tests for the dashboard's data side: metrics and sample records with validity bits, run_source reading a run
 * directory incrementally (torn lines, bad lines, unknown and missing keys, replaced files, bounded work per
 * poll on a 100 MB file), the sample-group index and cache, the recorded and malicious fixtures, and alarms. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "engine/util/fsutil.h"
#include "harness.h"
#include "tui/alarms.h"
#include "tui/metrics.h"
#include "tui/run_source.h"
#include "tui/samples.h"

static void append_raw(const char *dir, const char *name, const char *s) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
    close(fd);
}

Test(metrics, validity_bits_and_nan_like_values) {
    struct metrics_names names = {0};
    struct metrics_rec r;
    const char *line = "{\"step\": 7, \"time\": 12.5, \"stage\": \"grpo\", \"reward\": 1.5, \"loss\": \"NaN\", "
                       "\"kl\": null, \"rewards/format/mean\": 1, \"rewards/format/std\": 0, \"x/y\": [1], "
                       "\"rewards/accuracy/mean\": 0.25, \"grad_norm\": true}";
    cr_assert(metrics_parse(line, strlen(line), &names, &r));
    cr_expect_eq(r.step, 7);
    cr_expect_float_eq(r.time, 12.5, 0);
    cr_expect_str_eq(r.stage, "grpo");
    cr_expect(metrics_has(&r, M_REWARD) && r.value[M_REWARD] == 1.5);
    cr_expect(metrics_has(&r, M_LOSS) && isnan(r.value[M_LOSS]), "\"NaN\" is present but not finite");
    cr_expect(metrics_has(&r, M_KL) && isnan(r.value[M_KL]));
    cr_expect(!metrics_has(&r, M_GRAD_NORM), "a boolean is not a value");
    cr_expect(!metrics_has(&r, M_ENTROPY), "missing key");
    cr_expect_eq(names.n, 2);
    cr_expect_str_eq(names.name[0], "format");
    cr_expect_str_eq(names.name[1], "accuracy");
    cr_expect_eq(r.reward_valid, 3u);
    cr_expect_float_eq(r.reward[1], 0.25, 0);
    cr_expect(!metrics_parse("{\"time\": 1}", 11, &names, &r), "no step");
    cr_expect(!metrics_parse("{\"step\": 1.5}", 13, &names, &r), "fractional step");
    cr_expect(!metrics_parse("{\"step\": -5}", 12, &names, &r), "negative step (it would show as progress -2%)");
    cr_expect(metrics_parse("{\"step\": 0}", 11, &names, &r), "step 0: the starting model's evaluation");
    cr_expect(!metrics_parse("{\"step\": 1, \"reward\": NaN}", 26, &names, &r), "not JSON");
    cr_expect(!metrics_parse("[1, 2]", 6, &names, &r));
}

Test(metrics, ranks_give_the_world_size_and_the_range_of_their_throughputs) {
    struct metrics_names names = {0};
    struct metrics_rec r;
    const char *line = "{\"step\": 2, \"dist/world_size\": 3, \"dist/rank0/tokens_per_second\": 900, "
                       "\"dist/rank1/tokens_per_second\": 700.5, \"dist/rank2/tokens_per_second\": 1200, "
                       "\"dist/rankx/tokens\": 1, \"dist/rank3/tokens_per_second\": \"slow\"}";
    cr_assert(metrics_parse(line, strlen(line), &names, &r));
    cr_expect(metrics_has(&r, M_WORLD_SIZE) && r.value[M_WORLD_SIZE] == 3);
    cr_expect(metrics_has(&r, M_RANK_TPS_MIN) && r.value[M_RANK_TPS_MIN] == 700.5, "min %g", r.value[M_RANK_TPS_MIN]);
    cr_expect(metrics_has(&r, M_RANK_TPS_MAX) && r.value[M_RANK_TPS_MAX] == 1200, "max %g", r.value[M_RANK_TPS_MAX]);
    const char *single = "{\"step\": 2, \"tokens_per_second/rollout\": 5}";
    cr_assert(metrics_parse(single, strlen(single), &names, &r));
    cr_expect(!metrics_has(&r, M_WORLD_SIZE) && !metrics_has(&r, M_RANK_TPS_MIN), "one process: no ranks");
}

Test(samples, parse_sanitises_and_flags_zero_std) {
    const char *line = "{\"step\": 3, \"group\": 1, \"task\": \"t\\u001b[5m\", \"prompt\": \"p\\n\\u202eq\", "
                       "\"answer\": \"2\", \"completions\": [{\"text\": \"<think>a\\u001b]52;c;x\\u0007</think>\", "
                       "\"reward\": 1, \"advantage\": 0, \"length\": 9, \"rewards\": {\"accuracy\": 1}}, "
                       "{\"text\": \"b\", \"reward\": 1, \"correct\": false, \"clipped\": true}]}";
    struct sample_group g;
    cr_assert(samples_parse(line, strlen(line), 0, &g));
    cr_expect_eq(g.step, 3);
    cr_expect_eq(g.group, 1);
    cr_expect_str_eq(g.task, "t␛[5m");
    cr_expect_str_eq(g.prompt, "p\n<U+202E>q");
    cr_expect_eq(g.n, 2);
    cr_expect_str_eq(g.c[0].text, "<think>a␛]52;c;x␇</think>");
    cr_expect_eq(g.c[0].correct, 1);
    cr_expect_eq(g.c[0].length, 9);
    cr_expect_eq(g.c[1].correct, 0);
    cr_expect(g.c[1].clipped);
    cr_expect(isnan(g.c[1].advantage));
    cr_expect_eq(g.c[1].length, -1);
    cr_expect(g.zero_std, "both rewards are 1");
    samples_free(&g);
    samples_free(&g);
    cr_expect(!samples_parse("{\"step\": 1}", 11, 0, &g), "no completions");
    cr_expect(!samples_parse("{\"step\": 1, \"completions\": {}}", 30, 0, &g));
}

Test(samples, long_completions_are_cut_and_say_so) {
    size_t n = 3 * SAMPLES_TEXT_MAX;
    char *line = malloc(n + 128);
    int k = sprintf(line, "{\"step\": 1, \"completions\": [{\"text\": \"");
    memset(line + k, 'A', n);
    strcpy(line + k + n, "\"}]}");
    struct sample_group g;
    cr_assert(samples_parse(line, strlen(line), 0, &g));
    cr_expect_eq(g.c[0].text_len, SAMPLES_TEXT_MAX);
    cr_expect_eq(g.c[0].text_cut, n - SAMPLES_TEXT_MAX);
    samples_free(&g);
    free(line);
}

Test(run_source, torn_lines_wait_and_bad_lines_are_counted) {
    char *dir = th_tmpdir("rs");
    struct run_source *rs;
    cr_assert_eq(run_source_open(&rs, dir, 0), STATUS_OK);
    cr_expect_eq(run_source_poll(rs, 0) & RS_CHANGED_METRICS, 0u, "no files yet");
    append_raw(dir, "metrics.jsonl", "{\"step\": 1, \"time\": 100, \"reward\": 0.5}\n{\"step\": 2, \"ti");
    cr_expect(run_source_poll(rs, 0) & RS_CHANGED_METRICS);
    cr_expect_eq(rs->n_records, 1);
    cr_expect_eq(rs->last.step, 1);
    cr_expect_eq(run_source_poll(rs, 0) & RS_CHANGED_METRICS, 0u, "nothing new");
    append_raw(dir, "metrics.jsonl", "me\": 101, \"reward\": 0.75, \"new/key\": 1}\nnot json\n{\"no\": \"step\"}\n");
    append_raw(dir, "metrics.jsonl", "{\"step\": -5, \"time\": 101.5, \"reward\": 9}\n");
    append_raw(dir, "metrics.jsonl", "{\"step\": 3, \"time\": 102}\n");
    run_source_poll(rs, 0);
    cr_expect_eq(rs->n_records, 3);
    cr_expect_eq(rs->bad_metrics, 3, "the line with a negative step is refused and counted");
    cr_expect_eq(rs->last.step, 3);
    cr_expect(!metrics_has(&rs->last, M_REWARD), "step 3 has no reward: n/a, not the previous value");
    cr_expect_eq(series_len(&rs->m[M_REWARD]), 2);
    cr_expect_float_eq(rs->m[M_REWARD].y[1], 0.75f, 0);
    run_source_free(rs);
    fs_remove_tree(dir);
    free(dir);
}

/* A request is known to be taken when the trainer's acknowledgement (runctl_ack) is read after it was sent. */
Test(run_source, acknowledgements_of_requests) {
    char *dir = th_tmpdir("rs");
    struct run_source *rs;
    cr_assert_eq(run_source_open(&rs, dir, 0), STATUS_OK);
    append_raw(dir, "events.jsonl", "{\"time\": 1, \"level\": \"info\", \"msg\": \"request: save\"}\n");
    run_source_poll(rs, 0);
    uint64_t sent = rs->ev_seq;
    cr_expect_eq(sent, 1);
    cr_expect(!run_source_acked(rs, sent, RUNCTL_CMD_SAVE), "an acknowledgement from before the request");
    append_raw(dir, "events.jsonl", "{\"time\": 2, \"level\": \"info\", \"msg\": \"request: eval\"}\n"
                                    "{\"time\": 3, \"level\": \"info\", \"msg\": \"saved checkpoint x\"}\n");
    run_source_poll(rs, 0);
    cr_expect(run_source_acked(rs, sent, RUNCTL_CMD_EVAL));
    cr_expect(!run_source_acked(rs, sent, RUNCTL_CMD_SAVE), "another request's acknowledgement");
    cr_expect_eq(runctl_ack_parse("request: pause"), RUNCTL_CMD_PAUSE);
    cr_expect_eq(runctl_ack_parse("request: nope"), RUNCTL_CMD_NONE);
    cr_expect_eq(runctl_ack_parse("saved checkpoint"), RUNCTL_CMD_NONE);
    run_source_free(rs);
    fs_remove_tree(dir);
    free(dir);
}

Test(run_source, replaced_file_resets) {
    char *dir = th_tmpdir("rs");
    struct run_source *rs;
    cr_assert_eq(run_source_open(&rs, dir, 0), STATUS_OK);
    append_raw(dir, "metrics.jsonl", "{\"step\": 1, \"reward\": 1}\n{\"step\": 2, \"reward\": 1}\n");
    run_source_poll(rs, 0);
    cr_expect_eq(rs->n_records, 2);
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    cr_assert(th_write_file(tmp, "{\"step\": 1, \"reward\": 5}\n", 25));
    rename(tmp, path);
    unsigned ch = run_source_poll(rs, 0);
    cr_expect(ch & RS_CHANGED_RESET);
    cr_expect_eq(rs->n_records, 1);
    cr_expect_float_eq(rs->last.value[M_REWARD], 5.0, 0);
    run_source_free(rs);
    fs_remove_tree(dir);
    free(dir);
}

Test(run_source, recorded_fixture_matches_its_last_line) {
    char *dir = th_path("tests/fixtures/runs/recorded");
    struct run_source *rs;
    cr_assert_eq(run_source_open(&rs, dir, 0), STATUS_OK, "%s", err_msg());
    while (run_source_poll(rs, 0) & RS_BACKLOG) {
    }
    cr_expect_eq(rs->n_records, 300);
    cr_expect_eq(rs->bad_metrics, 0);
    cr_expect_eq(rs->n_idx, 600);
    cr_expect_eq(rs->bad_samples, 0);
    cr_expect(rs->have_status && rs->status.state == RUNCTL_STATE_FINISHED);
    cr_expect_eq(run_source_liveness(rs, runctl_now()), RS_ENDED);
    cr_expect_eq(run_source_max_steps(rs), 300);
    cr_expect_eq(rs->cfg_max_completion_length, 128);
    /* the last record equals the file's last line, parsed independently */
    char *text;
    size_t len;
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    cr_assert_eq(fs_read_file(path, 1 << 24, &text, &len), STATUS_OK);
    text[len - 1] = '\0';
    cJSON *j = cJSON_Parse(strrchr(text, '\n') + 1);
    cr_assert(j);
    cr_expect_float_eq(rs->last.value[M_REWARD], cJSON_GetObjectItem(j, "reward")->valuedouble, 0);
    cr_expect_float_eq(rs->last.value[M_ENTROPY], cJSON_GetObjectItem(j, "entropy")->valuedouble, 0);
    cr_expect_float_eq(rs->last.reward[0], cJSON_GetObjectItem(j, "rewards/accuracy/mean")->valuedouble, 0);
    cJSON_Delete(j);
    free(text);
    /* groups by step, re-read on demand */
    size_t b = run_source_step_begin(rs, 150);
    cr_expect_eq(run_source_step_count(rs, 150), 2);
    const struct sample_group *g = run_source_group(rs, b + 1);
    cr_assert(g);
    cr_expect_eq(g->step, 150);
    cr_expect_eq(g->group, 1);
    cr_expect_eq(g->n, 4);
    for (size_t i = 0; i < rs->n_idx; i += 37) cr_expect(run_source_group(rs, i) != NULL, "group %zu", i);
    cr_expect_eq(run_source_group(rs, rs->n_idx), NULL);
    struct alarm al[8];
    size_t na = alarms_check(rs, runctl_now(), al, 8);
    cr_expect_eq(na, 0, "the recorded run is healthy; got: %s", na ? al[0].text : "");
    run_source_free(rs);
    free(dir);
}

Test(run_source, malicious_fixture_is_read_safely) {
    char *dir = th_path("tests/fixtures/runs/malicious");
    struct run_source *rs;
    cr_assert_eq(run_source_open(&rs, dir, 0), STATUS_OK);
    while (run_source_poll(rs, 0) & RS_BACKLOG) {
    }
    cr_expect_eq(rs->n_records, 4, "steps 1-4; the NaN line and garbage are skipped, step 999 is torn");
    cr_expect_eq(rs->bad_metrics, 2);
    cr_expect_eq(rs->last.step, 4);
    cr_expect_eq(rs->n_idx, 5, "valid groups: (1,0) (1,1) (2,0) (3,1 = the 1 MB line) (4,0)");
    cr_expect_eq(rs->bad_samples, 4);
    cr_expect_eq(rs->status.state, RUNCTL_STATE_FAILED);
    cr_expect(strchr(rs->status.device, 0x1b) == NULL && strchr(rs->status.message, 0x1b) == NULL);
    for (int i = 0; i < rs->names.n; i++) cr_expect(strchr(rs->names.name[i], 0x1b) == NULL);
    for (size_t i = 0; i < rs->n_idx; i++) {
        const struct sample_group *g = run_source_group(rs, i);
        cr_assert(g, "group %zu", i);
        for (size_t k = 0; k < g->n; k++)
            for (size_t c = 0; c < g->c[k].text_len; c++) {
                unsigned char ch = (unsigned char)g->c[k].text[c];
                cr_assert(ch >= 0x20 || ch == '\n', "control byte 0x%02x in group %zu", ch, i);
            }
        cr_expect(strchr(g->prompt, 0x1b) == NULL && strchr(g->task, 0x1b) == NULL);
    }
    const struct sample_group *big = run_source_group(rs, 3);
    cr_expect_gt(big->c[0].text_cut, 1000000);
    struct alarm al[8];
    size_t na = alarms_check(rs, runctl_now(), al, 8);
    bool failed = false, nonfinite = false;
    for (size_t i = 0; i < na; i++) {
        failed |= al[i].id == ALARM_FAILED;
        nonfinite |= al[i].id == ALARM_NONFINITE;
        cr_expect(strchr(al[i].text, 0x1b) == NULL);
    }
    cr_expect(failed && nonfinite);
    run_source_free(rs);
    free(dir);
}

/* 100 MB of metrics: each poll reads at most its budget, so the UI thread gets control back every few MB. */
Test(run_source, large_file_is_read_in_bounded_chunks) {
    char *dir = th_tmpdir("rs-big");
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    char pad[900];
    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    long n = 0;
    size_t bytes = 0;
    while (bytes < 100u * 1000 * 1000) {
        n++;
        int k = fprintf(f, "{\"step\": %ld, \"time\": %ld, \"reward\": %.3f, \"kl\": 0.01, \"note\": \"%s\"}\n", n,
                        1000 + n, 0.001 * (double)(n % 1000), pad);
        bytes += (size_t)k;
    }
    fclose(f);
    struct run_source *rs;
    cr_assert_eq(run_source_open(&rs, dir, 0), STATUS_OK);
    const size_t budget = 4u << 20;
    int polls = 0;
    off_t before = 0;
    unsigned ch;
    do {
        ch = run_source_poll(rs, budget);
        off_t pos = rs->metrics_lr.pos;
        cr_assert_leq((size_t)(pos - before), budget, "poll %d read %lld bytes", polls, (long long)(pos - before));
        if (polls == 0) {
            cr_expect(ch & RS_BACKLOG, "the first poll leaves a backlog");
            cr_expect_lt(run_source_loaded(rs), 0.1);
        }
        before = pos;
        polls++;
    } while (ch & RS_BACKLOG);
    cr_expect_geq(polls, 24, "100 MB in 4 MB polls");
    cr_expect_eq(rs->n_records, (uint64_t)n);
    cr_expect_eq(rs->last.step, n);
    cr_expect_leq(series_len(&rs->m[M_REWARD]), SERIES_CAP + 1, "history stays bounded");
    cr_expect_float_eq(run_source_loaded(rs), 1.0, 0);
    run_source_free(rs);
    fs_remove_tree(dir);
    free(dir);
}

static void write_metrics(const char *dir, int steps, void (*line)(int s, char *buf, size_t cap)) {
    for (int s = 1; s <= steps; s++) {
        char buf[512];
        line(s, buf, sizeof buf);
        append_raw(dir, "metrics.jsonl", buf);
    }
}

static size_t alarms_for(void (*line)(int, char *, size_t), int steps, struct alarm *al) {
    char *dir = th_tmpdir("alarm");
    write_metrics(dir, steps, line);
    struct run_source *rs;
    cr_assert_eq(run_source_open(&rs, dir, 0), STATUS_OK);
    while (run_source_poll(rs, 0) & RS_BACKLOG) {
    }
    size_t n = alarms_check(rs, runctl_now(), al, 8);
    run_source_free(rs);
    fs_remove_tree(dir);
    free(dir);
    return n;
}

static bool has_alarm(const struct alarm *al, size_t n, enum alarm_id id) {
    for (size_t i = 0; i < n; i++)
        if (al[i].id == id) return true;
    return false;
}

static void healthy(int s, char *b, size_t cap) {
    snprintf(b, cap,
             "{\"step\": %d, \"reward\": %.3f, \"entropy\": 1.0, \"frac_reward_zero_std\": 0.2, "
             "\"completions/clipped_ratio\": 0.01%s}\n",
             s, 0.5 + 0.001 * s, s % 10 == 0 ? ", \"eval/pass@1\": 0.3" : "");
}
static void collapse(int s, char *b, size_t cap) {
    snprintf(b, cap, "{\"step\": %d, \"entropy\": %.4f}\n", s, s < 20 ? 1.5 : 0.05);
}
static void zero_std(int s, char *b, size_t cap) {
    snprintf(b, cap, "{\"step\": %d, \"frac_reward_zero_std\": %s}\n", s, s == 30 ? "1.0" : "0.5");
}
static void capped(int s, char *b, size_t cap) {
    snprintf(b, cap, "{\"step\": %d, \"completions/clipped_ratio\": %s}\n", s, s == 30 ? "0.8" : "0.1");
}
static void hacking(int s, char *b, size_t cap) {
    /* reward keeps rising; pass@1 peaks at step 20 then falls */
    double pass = s <= 20 ? 0.2 + 0.02 * s : 0.6 - 0.01 * (s - 20);
    snprintf(b, cap, "{\"step\": %d, \"reward\": %.3f%s%.3f}\n", s, 0.2 + 0.02 * s,
             s % 10 == 0 ? ", \"eval/pass@1\": " : ", \"x\": ", pass);
}
static void nonfinite(int s, char *b, size_t cap) {
    snprintf(b, cap, "{\"step\": %d, \"loss\": 0.1, \"skipped_steps\": %d}\n", s, s > 25 ? 3 : 0);
}

Test(alarms, each_condition_fires_and_a_healthy_run_is_quiet) {
    struct alarm al[8];
    size_t n = alarms_for(healthy, 40, al);
    cr_expect_eq(n, 0, "%s", n ? al[0].text : "");
    n = alarms_for(collapse, 40, al);
    cr_expect(has_alarm(al, n, ALARM_ENTROPY_COLLAPSE));
    n = alarms_for(zero_std, 30, al);
    cr_expect(has_alarm(al, n, ALARM_ZERO_STD));
    n = alarms_for(capped, 30, al);
    cr_expect(has_alarm(al, n, ALARM_LENGTH_CAP));
    n = alarms_for(hacking, 40, al);
    cr_expect(has_alarm(al, n, ALARM_REWARD_HACKING), "n=%zu", n);
    n = alarms_for(nonfinite, 30, al);
    cr_expect(has_alarm(al, n, ALARM_NONFINITE));
    cr_expect(strstr(al[0].text, "3 steps skipped") != NULL, "%s", al[0].text);
}
