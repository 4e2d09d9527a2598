/* Tests of `r1lab chat` and `r1lab compare` with local checkpoints, through pipes (plain mode): commands
 * and their messages, """ blocks, seeds and /regen, /save's Markdown, /read, side by side and /diff, blind
 * votes, compare reports (text and JSON) over a prompts file, usage errors, and the manual's examples. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/util/fsutil.h"
#include "harness.h"

static char *qwen(void) {
    return th_path("tests/fixtures/models/qwen2_tiny");
}
static char *llama(void) {
    return th_path("tests/fixtures/models/llama_tiny");
}

/* chat MODEL --template raw -n 16 [extra] with input. */
static struct th_run chat(const char *input, const char *const *extra) {
    char *m = qwen();
    const char *args[32] = {"chat", m, "--template", "raw", "-n", "16"};
    size_t n = 6;
    for (size_t i = 0; extra && extra[i]; i++) args[n++] = extra[i];
    args[n] = NULL;
    struct th_run r = th_r1lab(input, args);
    free(m);
    return r;
}

static size_t count(const char *s, const char *needle) {
    size_t k = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) k++;
    return k;
}

Test(chat_cli, plain_mode_replies_and_stats) {
    struct th_run r = chat("Hello there\n/clear\nHello there\n", (const char *[]){"-t", "0", NULL});
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    /* Greedy: the same prompt in a fresh conversation gives the same reply. */
    char *nl = strchr(r.out, '\n');
    cr_assert(nl);
    size_t first = (size_t)(nl - r.out) + 1;
    cr_expect_eq(strncmp(r.out, r.out + first, first), 0, "%s", r.out);
    cr_expect_eq(count(r.err, " tok/s"), 2, "one stats line per reply on stderr: %s", r.err);
    cr_expect(strstr(r.err, "conversation cleared") != NULL);
    cr_expect(strchr(r.out, '\x1b') == NULL, "no colours in plain mode");
    th_run_free(&r);
}

Test(chat_cli, seeds_make_sessions_reproducible_and_regen_resamples) {
    const char *in = "Once upon\n/regen\n";
    struct th_run a = chat(in, (const char *[]){"-t", "1", "--seed", "5", NULL});
    struct th_run b = chat(in, (const char *[]){"-t", "1", "--seed", "5", NULL});
    cr_expect_eq(a.exit_code, 0, "%s", a.err);
    cr_expect_str_eq(a.out, b.out, "same seed, same session");
    char *nl = strchr(a.out, '\n');
    cr_assert(nl);
    size_t len = (size_t)(nl - a.out) + 1;
    cr_expect(strncmp(a.out, a.out + len, len) != 0, "/regen samples with the next seed: %s", a.out);
    th_run_free(&a);
    th_run_free(&b);
}

Test(chat_cli, commands_and_hints) {
    struct th_run r = chat("/help\n/help set\n/hepl\n/frobnicate\n/set top_q 0.5\n/set temperature 7e\n/set top_p 2\n"
                           "/set max_tokens 8\n/set\n/think collapse\n/think sideways\n/template chatml\n/template\n"
                           "/system Be brief.\n/show\n/regen\n/load /nonexistent/ckpt\n/vote a\n/diff\n/q\n"
                           "never reached\n",
                           NULL);
    cr_expect_eq(r.exit_code, 1, "some commands failed: %s", r.err);
    cr_expect(strstr(r.out, "/compare [CKPT|URL|off]") != NULL, "/help lists the table: %s", r.out);
    cr_expect(strstr(r.out, "/set [PARAM VALUE]\n  set temperature") != NULL, "/help set: %s", r.out);
    cr_expect(strstr(r.err, "unknown command /hepl\n  hint: did you mean /help?") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "unknown command /frobnicate\n  hint: /help lists") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "did you mean top_p?") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "\"7e\" is not a number") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "top_p must be in [0, 1]") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "max_tokens = 8") != NULL, "%s", r.err);
    cr_expect(strstr(r.out, "max_tokens: 8\n") != NULL, "/set lists: %s", r.out);
    cr_expect(strstr(r.err, "usage: /think [show|hide|collapse]") != NULL, "%s", r.err);
    cr_expect(strstr(r.out, "qwen2_tiny: chatml\n") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "template: chatml\n") != NULL, "/show: %s", r.out);
    cr_expect(strstr(r.out, "system: Be brief.") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "architecture: qwen2, 2 layers") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "think: collapse") != NULL, "%s", r.out);
    cr_expect(strstr(r.err, "nothing to regenerate") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "/nonexistent/ckpt") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "not comparing") != NULL, "%s", r.err);
    cr_expect(strstr(r.out, "never reached") == NULL && strstr(r.err, "never reached") == NULL, "/q quits");
    th_run_free(&r);
}

Test(chat_cli, multi_line_blocks_and_slash_escape) {
    char *dir = th_tmpdir("chatml");
    char save[512];
    snprintf(save, sizeof save, "%s/t.md", dir);
    char input[1024];
    snprintf(input, sizeof input,
             "\"\"\"\nfirst line\n  second line\n\"\"\"\n\"\"\"one-liner\"\"\"\n//not a command\n/save %s\n", save);
    struct th_run r = chat(input, NULL);
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect_eq(count(r.err, " tok/s"), 3, "three prompts: %s", r.err);
    char *md;
    size_t len;
    cr_assert_eq(fs_read_file(save, 1 << 20, &md, &len), STATUS_OK);
    cr_expect(strstr(md, "## 1. User\n\n```text\nfirst line\n  second line\n```") != NULL, "%s", md);
    cr_expect(strstr(md, "## 2. User\n\n```text\none-liner\n```") != NULL, "%s", md);
    cr_expect(strstr(md, "## 3. User\n\n```text\n/not a command\n```") != NULL, "%s", md);
    cr_expect(strstr(md, "## 1. qwen2_tiny\n\n") != NULL, "%s", md);
    cr_expect(strstr(md, "- model: ") && strstr(md, "(template raw)"), "%s", md);
    cr_expect(strstr(md, " tok/s") != NULL);
    cr_expect(strchr(md, '\x1b') == NULL && strchr(md, '\x07') == NULL, "the transcript is sanitised too");
    free(md);
    th_run_free(&r);
    /* An unterminated block at the end of the input is an error. */
    r = chat("\"\"\"\nnever closed\n", NULL);
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "inside a \"\"\" block") != NULL, "%s", r.err);
    th_run_free(&r);
    fs_remove_tree(dir);
    free(dir);
}

Test(chat_cli, read_sends_a_file) {
    char *dir = th_tmpdir("chatread");
    char file[512], input[1024];
    snprintf(file, sizeof file, "%s/q.txt", dir);
    cr_assert(th_write_file(file, "a question\nover two lines\n", 26));
    snprintf(input, sizeof input, "/read %s\n/read %s/missing\n/save %s/t.md\n", file, dir, dir);
    struct th_run r = chat(input, NULL);
    cr_expect_eq(r.exit_code, 1, "the missing file fails");
    cr_expect(strstr(r.err, "sending ") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "/missing") != NULL, "%s", r.err);
    char path[600], *md;
    size_t len;
    snprintf(path, sizeof path, "%s/t.md", dir);
    cr_assert_eq(fs_read_file(path, 1 << 20, &md, &len), STATUS_OK);
    cr_expect(strstr(md, "a question\nover two lines\n```") != NULL, "%s", md);
    free(md);
    th_run_free(&r);
    fs_remove_tree(dir);
    free(dir);
}

Test(chat_cli, model_text_is_neutralised_in_plain_output) {
    /* The tiny random model emits control bytes now and then; nothing below 0x20 but \n and \t may appear. */
    struct th_run r = chat("x\n/clear\ny\n/clear\nz\n/clear\nw\n", (const char *[]){"-t", "1.5", "-n", "64", NULL});
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    for (const char *p = r.out; *p; p++)
        cr_assert(!((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') && *p != 0x7f, "raw control byte 0x%02x",
                  (unsigned char)*p);
    cr_expect(strstr(r.out, "\xe2\x90") != NULL || strstr(r.out, "<U+") != NULL, "shown as visible symbols instead: %s", r.out);
    th_run_free(&r);
}

Test(chat_cli, side_by_side_and_diff) {
    char *l = llama();
    char input[1024];
    snprintf(input, sizeof input, "/compare %s\nHello\n/diff\n/diff full\n/compare\n/compare off\nagain\n", l);
    struct th_run r = chat(input, (const char *[]){"-t", "0", NULL});
    setenv("COLUMNS", "80", 1);
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strstr(r.err, "side by side: qwen2_tiny | llama_tiny") != NULL, "%s", r.err);
    cr_expect(strstr(r.out, "qwen2_tiny") && strstr(r.out, " | llama_tiny"), "column headers: %s", r.out);
    cr_expect(strstr(r.out, "-+-") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "[-A: qwen2_tiny-] {+B: llama_tiny+}") != NULL, "/diff header: %s", r.out);
    cr_expect(strstr(r.err, "words in common") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "side by side off") != NULL, "%s", r.err);
    th_run_free(&r);
    free(l);
}

Test(chat_cli, blind_votes) {
    char *dir = th_tmpdir("blind");
    char votes[512];
    snprintf(votes, sizeof votes, "%s/votes.jsonl", dir);
    char *l = llama();
    const char *input = "/vote a\nfirst\n/vote b\n/vote a\nsecond\n/vote tie\n/vote\n";
    struct th_run r = chat(input, (const char *[]){"--compare", l, "--blind", "--votes", votes, NULL});
    cr_expect_eq(r.exit_code, 1, "the vote before any prompt and the second vote fail: %s", r.err);
    cr_expect(strstr(r.out, "Model A") && strstr(r.out, "Model B"), "names hidden: %s", r.out);
    cr_expect(strstr(r.out, "llama_tiny  ") == NULL, "no real name in the header: %s", r.out);
    cr_expect(strstr(r.err, "A was ") != NULL, "revealed after the vote: %s", r.err);
    cr_expect(strstr(r.err, "already has a vote") != NULL, "%s", r.err);
    cr_expect(strstr(r.out, "votes: 2 (") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "1 tie") != NULL, "%s", r.out);
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(votes, 1 << 20, &text, &len), STATUS_OK);
    cr_expect_eq(count(text, "\n"), 2);
    cr_expect(strstr(text, "\"vote\":\"b\"") && strstr(text, "\"vote\":\"tie\""), "%s", text);
    cr_expect(strstr(text, "\"blind\":true") != NULL, "%s", text);
    free(text);
    th_run_free(&r);
    r = chat("x\n", (const char *[]){"--blind", NULL});
    cr_expect_eq(r.exit_code, 2, "--blind needs --compare");
    th_run_free(&r);
    free(l);
    fs_remove_tree(dir);
    free(dir);
}

Test(chat_cli, usage_errors) {
    unsetenv("OPENAI_BASE_URL");
    struct th_run r = th_r1lab("", (const char *[]){"chat", NULL});
    cr_expect_eq(r.exit_code, 2);
    cr_expect(strstr(r.err, "no model") != NULL, "%s", r.err);
    th_run_free(&r);
    r = th_r1lab("", (const char *[]){"chat", "a", "b", NULL});
    cr_expect_eq(r.exit_code, 2);
    th_run_free(&r);
    r = th_r1lab("", (const char *[]){"chat", "x", "--think", "maybe", NULL});
    cr_expect_eq(r.exit_code, 2);
    th_run_free(&r);
    r = th_r1lab("", (const char *[]){"chat", "x", "--template", "alpaca", NULL});
    cr_expect_eq(r.exit_code, 2);
    cr_expect(strstr(r.err, "r1-zero") != NULL, "%s", r.err);
    th_run_free(&r);
    r = th_r1lab("", (const char *[]){"chat", "/no/such/dir", NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "/no/such/dir") != NULL, "%s", r.err);
    th_run_free(&r);
    r = th_r1lab("", (const char *[]){"compare", "onlyone", NULL});
    cr_expect_eq(r.exit_code, 2);
    th_run_free(&r);
    r = th_r1lab("", (const char *[]){"chat", "--help", NULL});
    cr_expect_eq(r.exit_code, 0);
    cr_expect(strstr(r.out, "--max-response") != NULL);
    th_run_free(&r);
    r = th_r1lab("", (const char *[]){"help", "compare", NULL});
    cr_expect_eq(r.exit_code, 0);
    cr_expect(strstr(r.out, "--prompts") != NULL);
    th_run_free(&r);
}

/* ---- r1lab compare ---- */

static char *write_prompts(const char *dir, const char *text) {
    char *p = malloc(strlen(dir) + 32);
    sprintf(p, "%s/prompts.jsonl", dir);
    cr_assert(th_write_file(p, text, strlen(text)));
    return p;
}

Test(compare_cli, report_and_summary) {
    char *dir = th_tmpdir("cmp");
    char *prompts =
        write_prompts(dir, "{\"prompt\": \"Solve: 2x + 3 = 7\", \"answer\": 2}\n\n"
                           "{\"question\": \"Compute: 3 * 4\", \"answer\": \"12\"}\n"
                           "{\"prompt\": \"Using the numbers 3, 5, make 8\", \"numbers\": [3, 5], \"target\": 8}\n"
                           "just a plain prompt\n");
    char *a = qwen(), *b = llama();
    struct th_run r = th_r1lab(NULL, (const char *[]){"compare", a, b, "--prompts", prompts, "--template", "raw", "-n",
                                                      "10", "--seed", "3", "--width", "90", "--examples", "0", NULL});
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "A = qwen2_tiny, B = llama_tiny; 4 prompts") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "[1/4] Solve: 2x + 3 = 7  (answer: 2)") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "[3/4] Using the numbers 3, 5, make 8  (answer: 8)") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "[4/4] just a plain prompt\n") != NULL, "%s", r.out);
    cr_expect_eq(count(r.out, "wrong"), 6, "three answered prompts, two models: %s", r.out);
    cr_expect(strstr(r.out, "\n                        qwen2_tiny              llama_tiny\nprompts                 4") != NULL,
              "the summary, one column per model: %s", r.out);
    cr_expect(strstr(r.out, "\npass@1                  0.0% (0/3)              0.0% (0/3)\n") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "where they differ") == NULL, "--examples 0: %s", r.out);
    for (const char *line = r.out; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        cr_expect(n <= 89 * 4, "very long line"); /* bytes; widths are checked in the layout tests */
        line += n + (nl ? 1 : 0);
    }
    /* Deterministic: the same command gives the same report, apart from timings. */
    th_run_free(&r);
    r = th_r1lab(
        NULL, (const char *[]){"compare", a, b, "--prompts", prompts, "--template", "raw", "-n", "10", "--json", NULL});
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cJSON *o = cJSON_Parse(r.out);
    cr_assert(o, "%s", r.out);
    cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "models"), 0);
    cr_expect_str_eq(cJSON_GetObjectItem(m0, "name")->valuestring, "qwen2_tiny");
    cr_expect_eq(cJSON_GetObjectItem(m0, "prompts")->valueint, 4);
    cr_expect_eq(cJSON_GetObjectItem(m0, "answered")->valueint, 3);
    cr_expect_eq(cJSON_GetObjectItem(m0, "mean_tokens")->valuedouble, 10);
    cJSON *ps = cJSON_GetObjectItem(o, "prompts");
    cr_expect_eq(cJSON_GetArraySize(ps), 4);
    cJSON *p3 = cJSON_GetArrayItem(ps, 3);
    cr_expect_null(cJSON_GetObjectItem(p3, "answer"));
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(p3, "replies"), 0), "correct")));
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(o, "complete")));
    cJSON_Delete(o);
    th_run_free(&r);
    free(a);
    free(b);
    free(prompts);
    fs_remove_tree(dir);
    free(dir);
}

Test(compare_cli, prompts_from_stdin_and_errors) {
    char *a = qwen(), *b = llama();
    struct th_run r = th_r1lab("one\ntwo\n", (const char *[]){"compare", a, b, "--template", "raw", "-n", "4", NULL});
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "[2/2] two") != NULL, "%s", r.out);
    th_run_free(&r);
    char *dir = th_tmpdir("cmperr");
    char *prompts = write_prompts(dir, "{\"prompt\": \"ok\"}\n{\"prompt\": 5}\n");
    r = th_r1lab(NULL, (const char *[]){"compare", a, b, "--prompts", prompts, NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "prompts.jsonl:2: missing \"prompt\"") != NULL, "%s", r.err);
    th_run_free(&r);
    r = th_r1lab(NULL, (const char *[]){"compare", a, b, "--prompts", "/no/such/file", NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "/no/such/file") != NULL, "%s", r.err);
    th_run_free(&r);
    r = th_r1lab("", (const char *[]){"compare", a, b, "--blind", NULL});
    cr_expect_eq(r.exit_code, 2, "--blind reads votes from stdin, so prompts must come from a file");
    th_run_free(&r);
    free(prompts);
    fs_remove_tree(dir);
    free(dir);
    free(a);
    free(b);
}

Test(compare_cli, blind_votes_from_stdin) {
    char *dir = th_tmpdir("cmpblind");
    char *prompts = write_prompts(dir, "p1\np2\np3\n");
    char votes[512];
    snprintf(votes, sizeof votes, "%s/v.jsonl", dir);
    char *a = qwen(), *b = llama();
    struct th_run r =
        th_r1lab("a\nskip\ntie\n", (const char *[]){"compare", a, b, "--prompts", prompts, "--blind", "--votes", votes,
                                                    "--template", "raw", "-n", "4", NULL});
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "A = (hidden), B = (hidden)") != NULL, "%s", r.out);
    cr_expect_eq(count(r.out, "Model A"), 3, "%s", r.out);
    cr_expect_eq(count(r.out, "A was "), 2, "revealed after each vote, not after a skip: %s", r.out);
    cr_expect(strstr(r.out, "votes: 2 (") != NULL, "%s", r.out);
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(votes, 1 << 20, &text, &len), STATUS_OK);
    cr_expect_eq(count(text, "\n"), 2);
    free(text);
    th_run_free(&r);
    /* Running out of votes stops the comparison with an error. */
    r = th_r1lab("a\n", (const char *[]){"compare", a, b, "--prompts", prompts, "--blind", "--votes", votes,
                                         "--template", "raw", "-n", "4", NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "expected a vote") != NULL, "%s", r.err);
    th_run_free(&r);
    free(a);
    free(b);
    free(prompts);
    fs_remove_tree(dir);
    free(dir);
}

/* The plain-mode example of r1lab-chat(1), run through a shell pipe as the manual shows it. */
Test(chat_cli, manual_example_runs) {
    char *m = qwen();
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "printf '/think hide\\nSolve: 2x + 3 = 7\\n' | '%s' chat -t 0 --template raw -n 8 '%s'",
             th_bin(), m);
    struct th_run r = th_sh(cmd);
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strlen(r.out) > 1 && r.out[strlen(r.out) - 1] == '\n', "%s", r.out);
    th_run_free(&r);
    free(m);
}

Test(chat_cli, run_dir_at_step_and_latest) {
    char *dir = th_tmpdir("rundir");
    char path[600], *m = qwen();
    char abs[4096];
    cr_assert(realpath(m, abs));
    snprintf(path, sizeof path, "%s/run/checkpoints", dir);
    cr_assert_eq(fs_mkdir_p(path), STATUS_OK);
    snprintf(path, sizeof path, "%s/run/checkpoints/step-000005", dir);
    cr_assert_eq(symlink(abs, path), 0);
    snprintf(path, sizeof path, "%s/run/latest", dir);
    cr_assert_eq(symlink("checkpoints/step-000005", path), 0);
    char spec[600];
    snprintf(spec, sizeof spec, "%s/run@5", dir);
    struct th_run r = th_r1lab("/show\n", (const char *[]){"chat", spec, "--template", "raw", NULL});
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "model: run@5\n") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "step-000005") != NULL, "%s", r.out);
    th_run_free(&r);
    snprintf(spec, sizeof spec, "%s/run@latest", dir);
    r = th_r1lab("hi\n", (const char *[]){"chat", spec, "--template", "raw", "-n", "4", NULL});
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    th_run_free(&r);
    snprintf(spec, sizeof spec, "%s/run@7", dir);
    r = th_r1lab("hi\n", (const char *[]){"chat", spec, NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "step-000007") != NULL, "%s", r.err);
    th_run_free(&r);
    free(m);
    fs_remove_tree(dir);
    free(dir);
}
