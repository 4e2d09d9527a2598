/* Tests for `r1lab tokenize`: ids printed for golden cases equal tokenizers' ids, --decode prints the
 * decoded text byte-exact into a pipe, stdin input, exit codes and messages for bad paths and bad usage, and
 * the terminal-safe writer used for decoded text on a TTY. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "harness.h"
#include "text/sanitize.h"
#include "tok_fixtures.h"

/* "[1, 2, 3]\n" for ids. */
static char *format_ids(const int32_t *ids, size_t n) {
    char *s = malloc(16 * n + 8);
    size_t w = (size_t)sprintf(s, "[");
    for (size_t i = 0; i < n; i++) w += (size_t)sprintf(s + w, i ? ", %d" : "%d", ids[i]);
    sprintf(s + w, "]\n");
    return s;
}

Test(tokenize_cli, ids_and_text_match_fixtures) {
    size_t n;
    struct tok_case *cases = tok_cases_load(NULL, &n);
    size_t checked = 0;
    /* Every 9th case, over all tokenizers: enough to cover each configuration without a process per case. */
    for (size_t i = 0; i < n; i += 9) {
        struct tok_case *c = &cases[i];
        if (c->text[0] == '\0' || c->text[0] == '-') continue; /* "" and "-..." cannot be passed as TEXT */
        char *dir = tok_fixture_dir(c->tokenizer);
        char *want = format_ids(c->ids_special, c->n_ids_special);
        struct th_run r = th_r1lab(NULL, (const char *[]){"tokenize", dir, c->text, NULL});
        cr_expect_eq(r.exit_code, 0, "%s", r.err);
        cr_expect_str_eq(r.out, want, "%s cases.jsonl:%d", c->tokenizer, c->line);
        th_run_free(&r);
        free(want);

        want = format_ids(c->ids, c->n_ids);
        r = th_r1lab(NULL, (const char *[]){"tokenize", "--no-special", dir, c->text, NULL});
        cr_expect_str_eq(r.out, want, "%s cases.jsonl:%d --no-special", c->tokenizer, c->line);
        th_run_free(&r);

        /* Decoding into a pipe: exactly the decoded bytes, no newline added. */
        char *ids = format_ids(c->ids_special, c->n_ids_special);
        ids[strlen(ids) - 1] = '\0';
        r = th_r1lab(NULL, (const char *[]){"tokenize", "--decode", dir, ids, NULL});
        cr_expect_eq(r.exit_code, 0, "%s", r.err);
        cr_expect_str_eq(r.out, c->decoded, "%s cases.jsonl:%d --decode", c->tokenizer, c->line);
        th_run_free(&r);
        r = th_r1lab(NULL, (const char *[]){"tokenize", "-d", "--skip-special", dir, ids, NULL});
        cr_expect_str_eq(r.out, c->decoded_skip, "%s cases.jsonl:%d --decode --skip-special", c->tokenizer, c->line);
        th_run_free(&r);
        free(ids);
        free(want);
        free(dir);
        checked++;
    }
    cr_expect_gt(checked, 50);
    tok_cases_free(cases, n);
}

Test(tokenize_cli, reads_stdin_and_accepts_plain_id_lists) {
    char *dir = tok_fixture_dir("llama3");
    char *file = th_path("tests/fixtures/tokenizers/llama3/tokenizer.json");
    struct th_run r = th_r1lab("Hello world", (const char *[]){"tokenize", dir, "-", NULL});
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    char *from_stdin = strdup(r.out);
    th_run_free(&r);
    r = th_r1lab(NULL, (const char *[]){"tokenize", file, "Hello world", NULL});
    cr_expect_str_eq(r.out, from_stdin, "a tokenizer.json path works like its directory; stdin like an argument");
    th_run_free(&r);
    /* The same ids as "1 2 3", "1,2,3" and from stdin. */
    char list[256] = "";
    for (char *p = from_stdin; *p; p++)
        if (*p != '[' && *p != ']' && *p != '\n') strncat(list, p, 1);
    r = th_r1lab(NULL, (const char *[]){"tokenize", "--decode", dir, list, NULL});
    cr_expect_str_eq(r.out, "<|begin_of_text|>Hello world");
    th_run_free(&r);
    r = th_r1lab(from_stdin, (const char *[]){"tokenize", "--decode", "--skip-special", dir, "-", NULL});
    cr_expect_str_eq(r.out, "Hello world");
    th_run_free(&r);
    free(from_stdin);
    free(file);
    free(dir);
}

Test(tokenize_cli, bad_paths_and_ids_fail_with_messages) {
    char *dir = th_tmpdir("tokcli");
    char missing[512];
    snprintf(missing, sizeof missing, "%s/nope/tokenizer.json", dir);
    struct th_run r = th_r1lab(NULL, (const char *[]){"tokenize", missing, "hi", NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, missing) != NULL, "message names the file: %s", r.err);
    th_run_free(&r);
    r = th_r1lab(NULL, (const char *[]){"tokenize", dir, "hi", NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "no tokenizer.json") != NULL, "%s", r.err);
    th_run_free(&r);
    char *fixture = tok_fixture_dir("gpt2");
    r = th_r1lab(NULL, (const char *[]){"tokenize", "--decode", fixture, "[5, 99999]", NULL});
    cr_expect_eq(r.exit_code, 1);
    cr_expect(strstr(r.err, "99999") != NULL, "%s", r.err);
    th_run_free(&r);
    free(fixture);
    fs_remove_tree(dir);
    free(dir);
}

Test(tokenize_cli, usage_errors_exit_2) {
    char *dir = tok_fixture_dir("gpt2");
    const char *const *cases[] = {
        (const char *[]){"tokenize", NULL},
        (const char *[]){"tokenize", dir, NULL},
        (const char *[]){"tokenize", dir, "a", "b", NULL},
        (const char *[]){"tokenize", "--bogus", dir, "a", NULL},
        (const char *[]){"tokenize", "--decode", dir, "1 two 3", NULL},
        (const char *[]){"tokenize", "--decode", dir, "-4", NULL},
        (const char *[]){"tokenize", "--raw", dir, "text", NULL},
        (const char *[]){"tokenize", "--decode", "--no-special", dir, "1", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct th_run r = th_r1lab(NULL, cases[i]);
        cr_expect_eq(r.exit_code, 2, "case %zu: exit %d, stderr: %s", i, r.exit_code, r.err);
        cr_expect(strstr(r.err, "r1lab tokenize") != NULL, "case %zu: %s", i, r.err);
        th_run_free(&r);
    }
    struct th_run r = th_r1lab(NULL, (const char *[]){"tokenize", "--help", NULL});
    cr_expect_eq(r.exit_code, 0);
    cr_expect(strstr(r.out, "--skip-special") != NULL);
    th_run_free(&r);
    free(dir);
}

/* The round-trip example of r1lab-tokenize(1), run through a shell pipe as the manual shows it. */
Test(tokenize_cli, manual_round_trip_example) {
    char *dir = tok_fixture_dir("qwen2");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' tokenize --no-special '%s' 'caf\xc3\xa9' | '%s' tokenize -d '%s' -", th_bin(), dir,
             th_bin(), dir);
    struct th_run r = th_sh(cmd);
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "caf\xc3\xa9");
    th_run_free(&r);
    free(dir);
}

Test(tokenize_cli, terminal_output_neutralises_control_characters) {
    /* On a terminal, decoded text goes through the shared sanitiser (cli_write_text -> san_text). */
    const char text[] = "ok\x1b[31mred\ttab\nline\r\x7f \xc2\x85 \xe2\x80\xae caf\xc3\xa9 \xf0\x9f\x98\x80";
    char out[512];
    size_t used = 0, n = san_text(text, sizeof text - 1, SAN_KEEP_NEWLINES, out, sizeof out, &used);
    cr_assert_eq(used, sizeof text - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        cr_expect(c >= 0x20 || c == '\n', "control byte 0x%02x at %zu", c, i);
        cr_expect(c != 0x7f, "DEL at %zu", i);
    }
    cr_expect(strstr(out, "\xc2\x85") == NULL, "C1 control removed");
    cr_expect(strstr(out, "\xe2\x80\xae") == NULL, "bidi override removed");
    cr_expect(strstr(out, "red") && strstr(out, "line") && strstr(out, "caf\xc3\xa9") && strstr(out, "\xf0\x9f\x98\x80"),
              "ordinary text kept: %s", out);
    cr_expect(strchr(out, '\n') != NULL, "newlines kept as line breaks");
}
