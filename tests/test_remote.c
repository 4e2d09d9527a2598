/* Integration tests of remote models: r1lab chat and compare against the project's fake OpenAI-compatible
 * server on loopback (fake_openai.h) — streaming, reasoning fields, inline think tags, a whole JSON response,
 * redirects, and every failure the client must name clearly: 401, 429, 5xx, malformed JSON, an error inside
 * the stream, a dropped stream, a stream without [DONE], a stalled server, an oversized body, a refused
 * connection. The API key must reach the server and never appear in r1lab's output. */
#include <criterion/criterion.h>
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "fake_openai.h"
#include "harness.h"

#define SECRET "sk-test-SECRET-0123456789"

struct result {
    struct th_run run;
    char *log; /* what the server received */
};

/* Runs `r1lab chat URL#fake-model --plain [extra...]` with input, against a fresh server in `mode`. */
static struct result chat_with(enum fake_mode mode, const char *input, const char *const *extra) {
    struct result res = {0};
    char *dir = th_tmpdir("remote");
    char log[512];
    snprintf(log, sizeof log, "%s/requests.log", dir);
    struct fake_server srv;
    cr_assert(fake_start(&srv, mode, 4, log), "fake server");
    char spec[256];
    snprintf(spec, sizeof spec, "%s#fake-model", srv.url);
    const char *args[32] = {"chat", spec, "--plain", "--timeout", "2", "--connect-timeout", "2"};
    size_t n = 7;
    for (size_t i = 0; extra && extra[i] && n < 31; i++) args[n++] = extra[i];
    args[n] = NULL;
    setenv("OPENAI_API_KEY", SECRET, 1);
    res.run = th_r1lab(input, args);
    fake_stop(&srv);
    size_t len;
    if (fs_read_file(log, 1 << 24, &res.log, &len) != STATUS_OK) res.log = strdup("");
    fs_remove_tree(dir);
    free(dir);
    /* The key goes to the server, never to the user's screen or logs. */
    cr_expect(strstr(res.run.out, SECRET) == NULL, "the API key leaked to stdout");
    cr_expect(strstr(res.run.err, SECRET) == NULL, "the API key leaked to stderr");
    return res;
}

static void result_free(struct result *r) {
    th_run_free(&r->run);
    free(r->log);
}

Test(remote, streams_a_reply_and_sends_a_proper_request) {
    struct result r =
        chat_with(FAKE_NORMAL, "What is 2+2?\n", (const char *[]){"--temperature", "0", "--seed", "9", NULL});
    cr_expect_eq(r.run.exit_code, 0, "stderr: %s", r.run.err);
    cr_expect_str_eq(r.run.out, "Hello from fake: What is 2+2?\n");
    cr_expect(strstr(r.run.err, "5 tokens") != NULL, "usage from the server: %s", r.run.err);
    cr_expect(strstr(r.log, "POST /v1/chat/completions HTTP/1.1") != NULL, "%s", r.log);
    cr_expect(strstr(r.log, "Authorization: Bearer " SECRET) != NULL, "the key is sent: %s", r.log);
    cr_expect(strstr(r.log, "\"stream\": true") != NULL, "%s", r.log);
    cr_expect(strstr(r.log, "\"model\": \"fake-model\"") != NULL, "%s", r.log);
    cr_expect(strstr(r.log, "\"temperature\": 0") != NULL, "%s", r.log);
    cr_expect(strstr(r.log, "\"seed\": 9") != NULL, "%s", r.log);
    result_free(&r);
}

Test(remote, conversation_history_is_sent) {
    struct result r = chat_with(FAKE_NORMAL, "first\n/system be brief\nsecond\n", NULL);
    cr_expect_eq(r.run.exit_code, 0, "%s", r.run.err);
    cr_expect_str_eq(r.run.out, "Hello from fake: first\nHello from fake: second\n");
    const char *second = strstr(r.log, "----\n");
    cr_assert(second);
    cr_expect(strstr(second, "{\"role\": \"system\", \"content\": \"be brief\"}") != NULL, "%s", second);
    cr_expect(strstr(second, "{\"role\": \"assistant\", \"content\": \"Hello from fake: first\"}") != NULL, "%s",
              second);
    result_free(&r);
}

Test(remote, reasoning_fields_become_think_text) {
    enum fake_mode modes[] = {FAKE_REASONING, FAKE_REASONING_ALT};
    for (int i = 0; i < 2; i++) {
        struct result r = chat_with(modes[i], "q\n", NULL);
        cr_expect_eq(r.run.exit_code, 0, "%s", r.run.err);
        cr_expect_str_eq(r.run.out, "<think>Let me think. Wait, check it.</think>The answer is <answer>4</answer>\n");
        result_free(&r);
        r = chat_with(modes[i], "/think collapse\nq\n/think hide\nq\n", NULL);
        cr_expect_str_eq(r.run.out,
                         "[think: 29 chars]\nThe answer is <answer>4</answer>\nThe answer is <answer>4</answer>\n");
        result_free(&r);
    }
}

Test(remote, inline_think_tags_split_across_chunks) {
    struct result r = chat_with(FAKE_INLINE_THINK, "/think collapse\nq\n", NULL);
    cr_expect_eq(r.run.exit_code, 0, "%s", r.run.err);
    cr_expect_str_eq(r.run.out, "[think: 14 chars]\n\nFinal: <answer>4</answer>\n");
    result_free(&r);
}

Test(remote, whole_json_response_bytewise_stream_and_split_utf8) {
    struct result r = chat_with(FAKE_JSON, "q\n", NULL);
    cr_expect_eq(r.run.exit_code, 0, "%s", r.run.err);
    cr_expect_str_eq(r.run.out, "<think>thought first</think>whole reply\n");
    result_free(&r);
    r = chat_with(FAKE_BYTEWISE, "byte by byte\n", NULL);
    cr_expect_eq(r.run.exit_code, 0, "%s", r.run.err);
    cr_expect_str_eq(r.run.out, "Hello from fake: byte by byte\n");
    result_free(&r);
    r = chat_with(FAKE_SPLIT_UTF8, "q\n", NULL);
    cr_expect_eq(r.run.exit_code, 0, "%s", r.run.err);
    cr_expect_str_eq(r.run.out, "caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80!\n");
    result_free(&r);
}

Test(remote, escape_sequences_are_neutralised) {
    struct result r = chat_with(FAKE_ESCAPES, "q\n", NULL);
    cr_expect_eq(r.run.exit_code, 0, "%s", r.run.err);
    cr_expect(strchr(r.run.out, '\x1b') == NULL, "no ESC reaches the terminal: %s", r.run.out);
    cr_expect(strchr(r.run.out, '\x07') == NULL, "no BEL either");
    cr_expect_str_eq(r.run.out, "red\xe2\x90\x9b[31mALERT\xe2\x90\x9b[0m title\xe2\x90\x9b]0;pwned\xe2\x90\x87 bell\xe2\x90\x87 done\n");
    result_free(&r);
}

/* An HTTP or stream failure: exit 1 (plain mode saw an error), the message names the URL and the problem. */
static void expect_failure(enum fake_mode mode, const char *const *needles, const char *const *extra) {
    struct result r = chat_with(mode, "hello\n", extra);
    cr_expect_eq(r.run.exit_code, 1, "mode %d: exit %d, stderr: %s", mode, r.run.exit_code, r.run.err);
    cr_expect(strstr(r.run.err, "http://127.0.0.1:") != NULL, "mode %d names the URL: %s", mode, r.run.err);
    for (size_t i = 0; needles[i]; i++)
        cr_expect(strstr(r.run.err, needles[i]) != NULL, "mode %d: '%s' in: %s", mode, needles[i], r.run.err);
    cr_expect(strstr(r.run.err, "hint:") != NULL, "mode %d gives a hint: %s", mode, r.run.err);
    result_free(&r);
}

Test(remote, http_errors) {
    expect_failure(FAKE_401,
                   (const char *[]){"HTTP 401 Unauthorized", "Incorrect API key provided", "OPENAI_API_KEY", NULL},
                   NULL);
    expect_failure(FAKE_429, (const char *[]){"HTTP 429", "rate limited", "wait 7 s", NULL}, NULL);
    expect_failure(FAKE_500, (const char *[]){"HTTP 500 server error", "internal boom", NULL}, NULL);
    expect_failure(FAKE_REDIRECT_OTHER, (const char *[]){"redirect to http://127.0.0.2", "refused", NULL}, NULL);
}

Test(remote, stream_errors) {
    expect_failure(FAKE_MALFORMED, (const char *[]){"malformed JSON", "{not json", NULL}, NULL);
    expect_failure(FAKE_MIDSTREAM_ERROR, (const char *[]){"model overloaded", NULL}, NULL);
    expect_failure(FAKE_DROP, (const char *[]){"dropped", NULL}, NULL);
    expect_failure(FAKE_NO_DONE, (const char *[]){"ended before [DONE]", NULL}, NULL);
    expect_failure(FAKE_HTML, (const char *[]){"not an event stream (Content-Type: text/html)", NULL}, NULL);
    expect_failure(FAKE_SLOW, (const char *[]){"no data for 1 s", "stalled", NULL},
                   (const char *[]){"--timeout", "1", NULL});
    expect_failure(FAKE_HUGE, (const char *[]){"exceeds 65536 bytes", "--max-response", NULL},
                   (const char *[]){"--max-response", "65536", NULL});
}

Test(remote, partial_replies_are_kept_and_the_repl_goes_on) {
    /* After a dropped stream the next prompt still works (a new connection). */
    struct result r = chat_with(FAKE_DROP, "one\n/show\n", NULL);
    cr_expect(strstr(r.run.out, "partial partial") != NULL, "the partial reply was shown: %s", r.run.out);
    cr_expect(strstr(r.run.out, "conversation: 1 prompt") != NULL, "and kept: %s", r.run.out);
    result_free(&r);
}

Test(remote, same_origin_redirect_is_followed) {
    struct result r = chat_with(FAKE_REDIRECT_SAME, "hop\n", NULL);
    cr_expect_eq(r.run.exit_code, 0, "%s", r.run.err);
    cr_expect_str_eq(r.run.out, "Hello from fake: hop\n");
    cr_expect(strstr(r.log, "POST /v2/chat/completions") != NULL, "%s", r.log);
    cr_expect(strstr(strstr(r.log, "/v2/") ? strstr(r.log, "/v2/") : r.log, "Bearer " SECRET) != NULL);
    result_free(&r);
}

Test(remote, connection_refused_and_bad_urls) {
    struct fake_server srv;
    cr_assert(fake_start(&srv, FAKE_NORMAL, 1, NULL));
    fake_stop(&srv); /* the port is now closed */
    char url[160];
    snprintf(url, sizeof url, "%s#m", srv.url);
    struct th_run r = th_r1lab("hi\n", (const char *[]){"chat", url, "--plain", NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "cannot connect") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "is the server running") != NULL, "%s", r.err);
    th_run_free(&r);
    r = th_r1lab("hi\n", (const char *[]){"chat", "http://127.0.0.1:1/v1", "--plain", NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "no model name") != NULL, "%s", r.err);
    th_run_free(&r);
    r = th_r1lab("hi\n", (const char *[]){"chat", "http://exa mple/v1#m", "--plain", NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "not a valid URL") != NULL, "%s", r.err);
    th_run_free(&r);
    unsetenv("OPENAI_BASE_URL");
    r = th_r1lab("hi\n", (const char *[]){"chat", "remote:m", "--plain", NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "OPENAI_BASE_URL is not set") != NULL, "%s", r.err);
    th_run_free(&r);
}

Test(remote, openai_base_url_and_model_option) {
    struct fake_server srv;
    cr_assert(fake_start(&srv, FAKE_NORMAL, 2, NULL));
    setenv("OPENAI_BASE_URL", srv.url, 1);
    struct th_run r = th_r1lab("env\n", (const char *[]){"chat", "--plain", "--model", "m1", NULL});
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "Hello from fake: env\n");
    th_run_free(&r);
    r = th_r1lab("opt\n", (const char *[]){"chat", "--remote", srv.url, "-m", "m2", "--plain", NULL});
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "Hello from fake: opt\n");
    th_run_free(&r);
    fake_stop(&srv);
}

Test(remote, compare_local_against_remote) {
    char *dir = th_tmpdir("cmpremote");
    char prompts[512];
    snprintf(prompts, sizeof prompts, "%s/prompts.jsonl", dir);
    const char text[] = "{\"prompt\": \"What is 2+2?\", \"answer\": \"4\"}\nplain line prompt\n";
    cr_assert(th_write_file(prompts, text, sizeof text - 1));
    struct fake_server srv;
    cr_assert(fake_start(&srv, FAKE_REASONING, 2, NULL));
    char spec[256];
    snprintf(spec, sizeof spec, "%s#reasoner", srv.url);
    char *model = th_path("tests/fixtures/models/qwen2_tiny");
    struct th_run r = th_r1lab(NULL, (const char *[]){"compare", model, spec, "--prompts", prompts, "--template", "raw",
                                                      "-n", "12", "--width", "100", NULL});
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "qwen2_tiny") && strstr(r.out, "reasoner@127.0.0.1"), "%s", r.out);
    cr_expect(strstr(r.out, "[1/2] What is 2+2?  (answer: 4)") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "answer is <answer>4</answer>") != NULL, "%s", r.out);
    /* The remote model is right on the first prompt; the summary says so. */
    cr_expect(strstr(r.out, "correct") != NULL, "%s", r.out);
    const char *row = strstr(r.out, "\npass@1 ");
    cr_assert(row, "summary table: %s", r.out);
    const char *eol = strchr(row + 1, '\n');
    cr_assert(eol);
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)(eol - row - 1), row + 1);
    cr_expect(strstr(line, "0.0% (0/1)") && strstr(line, "100.0% (1/1)"), "local, then remote: %s", line);
    th_run_free(&r);
    fake_stop(&srv);
    cr_assert(fake_start(&srv, FAKE_REASONING, 2, NULL));
    snprintf(spec, sizeof spec, "%s#reasoner", srv.url);
    r = th_r1lab(NULL, (const char *[]){"compare", model, spec, "--prompts", prompts, "--template", "raw", "-n", "12",
                                        "--json", NULL});
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cJSON *o = cJSON_Parse(r.out);
    cr_assert(o, "JSON: %s", r.out);
    cJSON *models = cJSON_GetObjectItem(o, "models");
    cr_expect_eq(cJSON_GetArraySize(models), 2);
    cJSON *m1 = cJSON_GetArrayItem(models, 1);
    cr_expect_eq(cJSON_GetObjectItem(m1, "accuracy")->valuedouble, 1.0);
    cr_expect_eq(cJSON_GetObjectItem(m1, "reflection_rate")->valuedouble, 1.0, "\"Wait,\" in the reasoning");
    cr_expect_gt(cJSON_GetObjectItem(m1, "think_share")->valuedouble, 0.3);
    cJSON *p0 = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "prompts"), 0);
    cJSON *rep = cJSON_GetArrayItem(cJSON_GetObjectItem(p0, "replies"), 1);
    cr_expect_str_eq(cJSON_GetObjectItem(rep, "reasoning")->valuestring, "Let me think. Wait, check it.");
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(rep, "correct")));
    cJSON_Delete(o);
    th_run_free(&r);
    fake_stop(&srv);
    free(model);
    fs_remove_tree(dir);
    free(dir);
}

Test(remote, compare_report_neutralises_escapes) {
    struct fake_server srv;
    cr_assert(fake_start(&srv, FAKE_ESCAPES, 2, NULL));
    char spec[256];
    snprintf(spec, sizeof spec, "%s#esc", srv.url);
    char *model = th_path("tests/fixtures/models/qwen2_tiny");
    struct th_run r = th_r1lab("a prompt with \x1b[2J inside\n",
                               (const char *[]){"compare", model, spec, "--template", "raw", "-n", "6", NULL});
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strchr(r.out, '\x1b') == NULL, "no ESC in the report: %s", r.out);
    cr_expect(strstr(r.out, "\xe2\x90\x9b[2J") != NULL, "the prompt is shown neutralised: %s", r.out);
    cr_expect(strstr(r.out, "pwned") != NULL, "%s", r.out);
    th_run_free(&r);
    fake_stop(&srv);
    free(model);
}
