/* Regressions found by fuzzing (tests/fuzz, docs/testing.md): each input the fuzzers committed under
 * tests/fuzz/regressions/<target>/ is fed here through the program's own code path — the file a user would
 * have, read by the function that reads it — and must give a clear error or a correct result. Under
 * `make test SANITIZE=1` the same inputs also prove the undefined behaviour is gone. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/lm/lm_data.h"
#include "engine/model/model_config.h"
#include "engine/rl/reward.h"
#include "engine/run/config.h"
#include "engine/run/pipeline.h"
#include "engine/run/runctl.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/fsutil.h"
#include "engine/util/utf8.h"
#include "harness.h"
#include "repl/oai.h"
#include "repl/sse.h"
#include "tui/run_source.h"

/* The bytes of tests/fuzz/regressions/TARGET/NAME (NUL-terminated; *len without the NUL). */
static char *regression(const char *target, const char *name, size_t *len) {
    char rel[512];
    snprintf(rel, sizeof rel, "tests/fuzz/regressions/%s/%s", target, name);
    char *path = th_path(rel), *text;
    cr_assert_eq(fs_read_file(path, 1u << 20, &text, len), STATUS_OK, "%s", err_msg());
    free(path);
    return text;
}

/* Parses a status.json text, writes it back the way the trainer does, and reads the file again. */
static void status_round_trip(const char *text, size_t len, struct runctl_status *back) {
    struct runctl_status st;
    cr_assert_eq(runctl_status_parse(text, len, "input", &st), STATUS_OK, "%s", err_msg());
    char *dir = th_tmpdir("status");
    struct runctl rc;
    cr_assert_eq(runctl_open(&rc, dir), STATUS_OK, "%s", err_msg());
    cr_assert_eq(runctl_write_status(&rc, &st), STATUS_OK, "%s", err_msg());
    cr_assert_eq(runctl_status_read(dir, back), STATUS_OK, "the status.json written back does not read: %s", err_msg());
    cr_expect_str_eq(back->message, st.message);
    cr_expect_str_eq(back->device, st.device);
    cr_expect_str_eq(back->stage, st.stage);
    runctl_close(&rc);
    fs_remove_tree(dir);
    free(dir);
}

/* A message of 255 control characters escapes to 1,530 bytes: the writer cut it to fit 600 and wrote a
 * status.json without its closing quote, which no dashboard could read. */
Test(fuzz_regressions, status_with_control_characters_is_written_whole) {
    size_t len;
    char *text = regression("status_json", "control-characters-overflow-escape", &len);
    struct runctl_status back;
    status_round_trip(text, len, &back);
    free(text);
    /* The worst case: every byte of every string field a control character. */
    char worst[4096];
    int n = snprintf(worst, sizeof worst, "{\"stage\": \"");
    for (int i = 0; i < 15; i++) n += snprintf(worst + n, sizeof worst - n, "\\u0001");
    n += snprintf(worst + n, sizeof worst - n, "\", \"device\": \"");
    for (int i = 0; i < 127; i++) n += snprintf(worst + n, sizeof worst - n, "\\u001e");
    n += snprintf(worst + n, sizeof worst - n, "\", \"message\": \"");
    for (int i = 0; i < 255; i++) n += snprintf(worst + n, sizeof worst - n, "\\u001b");
    n += snprintf(worst + n, sizeof worst - n, "\"}");
    status_round_trip(worst, (size_t)n, &back);
    cr_expect_eq(strlen(back.message), 255, "message kept to its 255 bytes, got %zu", strlen(back.message));
    cr_expect_eq(strlen(back.device), 127);
}

/* A device name cut to 127 bytes in the middle of an emoji: the writer then wrote invalid UTF-8, which the
 * reader (rightly) refuses. Both sides now keep strings whole characters. */
Test(fuzz_regressions, status_truncated_inside_a_character_stays_readable) {
    size_t len;
    char *text = regression("status_json", "truncation-splits-utf8", &len);
    struct runctl_status back;
    status_round_trip(text, len, &back);
    free(text);

    /* The writer's side on its own: a message a caller cut mid-character, and a file name that is not UTF-8. */
    char *dir = th_tmpdir("status");
    struct runctl rc;
    cr_assert_eq(runctl_open(&rc, dir), STATUS_OK);
    struct runctl_status st = {.state = RUNCTL_STATE_FAILED};
    char msg[1024] = "";
    for (int i = 0; i < 200; i++) strcat(msg, "\xc3\xa9"); /* é */
    memcpy(st.message, msg, sizeof st.message - 1); /* 255 bytes, as a caller's snprintf cuts: the last é in half */
    st.message[sizeof st.message - 1] = '\0';
    snprintf(st.device, sizeof st.device, "cannot open /data/\xff\xfe.bin");
    cr_assert_eq(runctl_write_status(&rc, &st), STATUS_OK);
    cr_assert_eq(runctl_status_read(dir, &back), STATUS_OK, "%s", err_msg());
    cr_expect_eq(strlen(back.message), 255);
    cr_expect_eq(back.message[254], '?', "the half character is written as '?'");
    cr_expect_str_eq(back.device, "cannot open /data/??.bin");
    runctl_close(&rc);
    fs_remove_tree(dir);
    free(dir);
}

/* Numbers no int64 holds were converted anyway (undefined behaviour); they now read as absent. */
Test(fuzz_regressions, status_with_huge_numbers_reads_them_as_absent) {
    const char text[] = "{\"state\": \"running\", \"pid\": 1e300, \"step\": -1e300, \"max_steps\": 9.3e18}";
    struct runctl_status st;
    cr_assert_eq(runctl_status_parse(text, sizeof text - 1, "status.json", &st), STATUS_OK, "%s", err_msg());
    cr_expect_eq(st.pid, 0);
    cr_expect_eq(st.step, 0);
    cr_expect_eq(st.max_steps, 0);
    cr_expect_eq(st.state, RUNCTL_STATE_RUNNING);
}

/* An SFT file whose first prompt tokenizes to nothing: copying zero ids into a store not yet allocated was
 * pointer arithmetic on NULL. It is a clear error naming the file and line. */
Test(fuzz_regressions, sft_record_with_an_empty_first_prompt_is_a_clear_error) {
    size_t len;
    char *input = regression("sft_data", "empty-first-document", &len);
    cr_assert(len > 1 && input[0] == 0, "the harness's first byte picks SFT");
    char *dir = th_tmpdir("sft");
    char data[4200], cfg_text[8400];
    snprintf(data, sizeof data, "%s/data.jsonl", dir);
    cr_assert(th_write_file(data, input + 1, len - 1));
    snprintf(cfg_text, sizeof cfg_text,
             "{\"stage\": \"sft\", \"dataset\": \"%s\", \"max_seq_length\": 32, \"max_steps\": 1}", data);
    struct config cfg;
    cr_assert_eq(config_resolve(&cfg, cJSON_Parse(cfg_text), "test", NULL, 0), STATUS_OK, "%s", err_msg());
    struct tokenizer *tok;
    char *tok_path = th_path("models/world/tokenizer.json");
    cr_assert_eq(tokenizer_load(&tok, tok_path), STATUS_OK, "%s", err_msg());
    struct lm_data d;
    enum status st = lm_data_load(&d, &cfg, tok, 1);
    cr_expect_eq(st, STATUS_FORMAT, "got %s: %s", status_name(st), err_msg());
    cr_expect(strstr(err_msg(), "data.jsonl:1") && strstr(err_msg(), "prompt"), "%s", err_msg());
    if (st == STATUS_OK) lm_data_free(&d);

    /* The same for a pretraining document that is empty. */
    const char empty_doc[] = "{\"text\": \"\"}\n{\"text\": \"some words of a document\"}\n";
    cr_assert(th_write_file(data, empty_doc, sizeof empty_doc - 1));
    snprintf(cfg_text, sizeof cfg_text,
             "{\"stage\": \"pretrain\", \"dataset\": \"%s\", \"max_seq_length\": 4, \"max_steps\": 1}", data);
    struct config pre;
    cr_assert_eq(config_resolve(&pre, cJSON_Parse(cfg_text), "test", NULL, 0), STATUS_OK, "%s", err_msg());
    cr_expect_eq(lm_data_load(&d, &pre, tok, 1), STATUS_OK, "%s", err_msg());
    lm_data_free(&d);
    config_free(&pre);
    config_free(&cfg);
    tokenizer_free(tok);
    free(tok_path);
    fs_remove_tree(dir);
    free(dir);
    free(input);
}

/* rms_norm_eps 1e-46 is positive as a double but 0 as the float32 the model computes with (and 1e300 does not
 * convert at all): both are refused, naming the field. */
Test(fuzz_regressions, rms_norm_eps_that_is_not_a_float32_is_refused) {
    size_t len;
    char *input = regression("model_config", "rms-norm-eps-underflows-float", &len);
    char *dir = th_tmpdir("mcfg");
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    cr_assert(th_write_file(path, input, len));
    struct model_config c;
    cr_expect_eq(model_config_load(&c, path), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "config.json") && strstr(err_msg(), "rms_norm_eps"), "%s", err_msg());
    free(input);

    const char *big = "{\"model_type\": \"llama\", \"vocab_size\": 8, \"hidden_size\": 8, \"num_hidden_layers\": 1,"
                      " \"num_attention_heads\": 2, \"intermediate_size\": 8, \"rms_norm_eps\": 1e300}";
    cr_assert(th_write_file(path, big, strlen(big)));
    cr_expect_eq(model_config_load(&c, path), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "rms_norm_eps"), "%s", err_msg());
    fs_remove_tree(dir);
    free(dir);
}

/* Token counts in "usage" that no int64 holds (a 21-digit number; 1e3089, which parses as infinity) were
 * converted anyway (undefined behaviour); they now count as absent. Both through the stream parser and
 * through a whole (non-streamed) response. */
struct usage_seen {
    int64_t prompt, completion;
};

static enum status usage_event(void *user, const char *type, const char *data, size_t len) {
    struct usage_seen *u = user;
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) return STATUS_OK;
    struct oai_delta d;
    oai_delta_init(&d);
    enum status st = oai_parse_chunk(data, len, &d);
    if (d.prompt_tokens >= 0) u->prompt = d.prompt_tokens;
    if (d.completion_tokens >= 0) u->completion = d.completion_tokens;
    oai_delta_free(&d);
    return st == STATUS_FORMAT ? STATUS_OK : st; /* the fuzzer's stream also holds a chunk of broken JSON */
}

Test(fuzz_regressions, usage_counts_beyond_int64_are_ignored) {
    size_t len;
    char *stream = regression("sse_stream", "usage-count-overflows-int64", &len);
    struct usage_seen u = {-1, -1};
    struct sse_parser p;
    sse_init(&p, 1 << 16, usage_event, &u);
    cr_expect_eq(sse_feed(&p, stream, len), STATUS_OK, "%s", err_msg());
    sse_free(&p);
    cr_expect_eq(u.prompt, 5, "the sane usage event that follows counts (got %lld)", (long long)u.prompt);
    cr_expect_eq(u.completion, 7);
    free(stream);

    char *body = regression("oai_response", "usage-count-infinite", &len);
    struct oai_delta d;
    oai_delta_init(&d);
    cr_expect_eq(oai_parse_response(body, len, &d), STATUS_OK, "%s", err_msg());
    cr_expect_eq(d.prompt_tokens, 3);
    cr_expect_eq(d.completion_tokens, -1, "an infinite count is no count");
    cr_expect_str_eq(d.content.data, "<think>a</think> 2");
    oai_delta_free(&d);
    free(body);
}

/* Seconds (the fastest of three tries, which drops a moment of a busy machine) to count the reflections in `units`
 * reflection words, and checks the count. */
static double reflection_count_time(size_t units) {
    const char *unit[] = {"wait ", "let me redo ", "\xe7\xad\x89\xe7\xad\x89 ", "\xe9\xaa\x8c\xe8\xaf\x81 "};
    size_t len = 0;
    char *text = malloc(16 * units);
    cr_assert(text);
    for (size_t i = 0; i < units; i++) {
        size_t k = strlen(unit[i % 4]);
        memcpy(text + len, unit[i % 4], k);
        len += k;
    }
    double best = 1e9;
    for (int t = 0; t < 3; t++) {
        double t0 = th_now();
        int count = reward_count_reflections(text, len);
        double dt = th_now() - t0;
        cr_assert_eq(count, (int)units);
        if (dt < best) best = dt;
    }
    free(text);
    return best;
}

/* A think block of n Chinese reflections only, between <think> tags; returns the seconds to decide
 * reward_has_reflection and count them (the fastest of three). */
static double chinese_think_time(size_t n) {
    size_t tlen = 7 + 7 * n;
    char *think = malloc(tlen + 8);
    cr_assert(think);
    memcpy(think, "<think>", 7);
    for (size_t i = 0; i < n; i++) memcpy(think + 7 + 7 * i, "\xe9\xaa\x8c\xe8\xaf\x81 ", 7);
    memcpy(think + tlen, "</think>", 8);
    double best = 1e9;
    for (int t = 0; t < 3; t++) {
        double t0 = th_now();
        cr_assert(reward_has_reflection(think, tlen + 8));
        cr_assert_eq(reward_count_reflections(think + 7, tlen - 7), (int)n);
        double dt = th_now() - t0;
        if (dt < best) best = dt;
    }
    free(think);
    return best;
}

/* The check is on growth, not on seconds (a test must not depend on the machine's speed): eight times the text
 * takes about eight times as long when the scan is linear and sixty-four times when it rescans the text per match
 * (32 s for 40,000 words when it did). A ratio under 24 passes whatever the machine. A think block of Chinese
 * reflections only must likewise not scan for an English word to its end after each one. */
Test(fuzz_regressions, counting_reflections_is_linear) {
    double small = reflection_count_time(10000), large = reflection_count_time(80000);
    cr_expect_lt(large, 24 * small + 0.002, "8x the text took %.1fx the time (%.4f s, %.4f s)", large / small, small,
                 large);
    small = chinese_think_time(2500);
    large = chinese_think_time(20000);
    cr_expect_lt(large, 24 * small + 0.002, "8x the think block took %.1fx the time (%.4f s, %.4f s)", large / small,
                 small, large);
}

/* Parses a pipeline.json text, writes it back as the runner does after every stage, and reads the file again. */
static void pipeline_round_trip(const char *text, size_t len, struct pipeline_status *st, struct pipeline_status *back) {
    cr_assert_eq(pipeline_status_parse(text, len, "pipeline.json", st), STATUS_OK, "%s", err_msg());
    char *dir = th_tmpdir("pipeline");
    cr_assert_eq(pipeline_status_write(dir, st), STATUS_OK, "%s", err_msg());
    cr_assert_eq(pipeline_status_read(dir, back), STATUS_OK, "the pipeline.json written back does not read: %s",
                 err_msg());
    fs_remove_tree(dir);
    free(dir);
}

/* A stage name and a message longer than their fields, each cut by the reader in the middle of a character: the
 * file written back was not UTF-8, so the next `r1lab pipeline` (and the dashboard) refused the pipeline. Cuts now
 * fall on a character boundary and the file reads back with the same fields. */
Test(fuzz_regressions, pipeline_state_cut_inside_a_character_stays_readable) {
    size_t len;
    char *text = regression("pipeline_status", "field-cut-inside-a-character", &len);
    struct pipeline_status st, back;
    pipeline_round_trip(text, len, &st, &back);
    cr_assert_eq(back.n, 1);
    cr_expect(utf8_valid(back.stages[0].name, strlen(back.stages[0].name), NULL));
    cr_expect(utf8_valid(back.stages[0].message, strlen(back.stages[0].message), NULL));
    cr_expect_str_eq(back.stages[0].name, st.stages[0].name);
    cr_expect_str_eq(back.stages[0].message, st.stages[0].message);
    cr_expect_gt(strlen(back.stages[0].message), 200, "the message is cut, not dropped");
    pipeline_status_free(&st);
    pipeline_status_free(&back);
    free(text);
}

/* A pid past int64 was converted anyway (undefined behaviour), and one past 2^53 was not written back as read. The
 * inputs the fuzzer found are read as the runner reads them (one is refused for a stage without "dir"; under
 * SANITIZE=1 the conversion it made first was the crash), and both values read as absent: no process to wait for. */
Test(fuzz_regressions, pipeline_pid_no_process_has_reads_as_absent) {
    const char *names[] = {"pid-overflows-int64", "pid-beyond-double-precision"};
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        char *text = regression("pipeline_status", names[i], &len);
        struct pipeline_status st;
        if (pipeline_status_parse(text, len, "pipeline.json", &st) == STATUS_OK) {
            cr_expect_eq(st.pid, 0, "%s", names[i]);
            pipeline_status_free(&st);
        } else {
            cr_expect(strstr(err_msg(), "pipeline.json") != NULL, "%s: %s", names[i], err_msg());
        }
        free(text);
    }
    const char *pids[] = {"49007199254740993242", "5780678140934228528", "1e300", "-7"};
    for (size_t i = 0; i < 4; i++) {
        char text[256];
        snprintf(text, sizeof text, "{\"state\": \"running\", \"pid\": %s, \"stages\": [{\"name\": \"a\", \"dir\": \"1-a\"}]}",
                 pids[i]);
        struct pipeline_status st, back;
        pipeline_round_trip(text, strlen(text), &st, &back);
        cr_expect_eq(st.pid, 0, "pid %s", pids[i]);
        cr_expect_eq(back.pid, 0, "pid %s", pids[i]);
        pipeline_status_free(&st);
        pipeline_status_free(&back);
    }
}

/* A run directory whose config.json says "max_steps": 1e3080 (infinity once read): the dashboard converted it to an
 * integer (undefined behaviour). Counts no int64 holds read as absent. The fuzzer's whole directory is in
 * tests/fuzz/regressions/run_source/; this is its config.json part, read as the dashboard reads it. */
Test(fuzz_regressions, run_config_counts_beyond_int64_read_as_absent) {
    char *dir = th_tmpdir("runsrc");
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    const char cfg[] = "{\"stage\": \"grpo\", \"max_steps\": 1e3080, \"grpo\": {\"num_generations\": -1e300}, "
                       "\"max_completion_length\": 9.3e18}";
    cr_assert(th_write_file(path, cfg, sizeof cfg - 1));
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    cr_assert(th_write_file(path, "{\"step\": 1, \"loss\": 1.0}\n", 26));
    struct run_source *rs;
    cr_assert_eq(run_source_open(&rs, dir, 0), STATUS_OK, "%s", err_msg());
    for (int i = 0; i < 8; i++) run_source_poll(rs, RS_POLL_BUDGET);
    cr_expect_eq(run_source_max_steps(rs), 0, "an impossible max_steps is no max_steps");
    cr_expect_eq(rs->cfg_num_generations, 0);
    cr_expect_eq(rs->cfg_max_completion_length, 0);
    run_source_free(rs);
    fs_remove_tree(dir);
    free(dir);
}

/* A vocabulary entry with the id 1.5e9 made the loader allocate an id table of 6 GB (the fuzzer's out-of-memory
 * stop): a stray huge id is a broken file and is refused by name. */
Test(fuzz_regressions, tokenizer_with_a_stray_huge_id_is_refused) {
    size_t len;
    char *text = regression("tokenizer", "oom-sparse-vocab-id", &len);
    char *dir = th_tmpdir("tok-sparse");
    char path[4200];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    cr_assert(th_write_file(path, text, len));
    struct tokenizer *tok = NULL;
    enum status st = tokenizer_load(&tok, path);
    cr_expect_eq(st, STATUS_FORMAT, "%s", err_msg());
    cr_expect(strstr(err_msg(), "ids run up to") || strstr(err_msg(), "far beyond"), "message: %s", err_msg());
    if (st == STATUS_OK) tokenizer_free(tok);
    fs_remove_tree(dir);
    free(dir);
    free(text);
}
