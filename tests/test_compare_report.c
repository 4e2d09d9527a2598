/* Tests of the comparison report: the scorecard's arithmetic (pass@1 over samples, format shares, means) and
 * its choice of examples on synthetic scores; then `r1lab compare` end to end against the fake server's
 * scripted replies, whose outcomes are known in advance (so pass@1 over K samples, the format split, language
 * mixing, readability and the examples can be checked against numbers worked out by hand below), in text,
 * --brief and --json; chat's /report; an errored reply in --json; collapsed reasoning in plain chat.
 *
 * No criterion .timeout here (criterion 2.4 leaks an object under LeakSanitizer when many tests carry one): every
 * wait is bounded by the remote client's --timeout and the fake server's own 60 s alarm. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "fake_openai.h"
#include "harness.h"
#include "repl/scorecard.h"

/* ---- the scorecard on synthetic scores ---- */

static struct scorecard_reply reply(int correct, enum scorecard_format f, bool mixed, double readability) {
    return (struct scorecard_reply){.correct = correct,
                                    .format = f,
                                    .format_ok = f != SCORECARD_FORMAT_NONE,
                                    .mixed = mixed,
                                    .readability = readability,
                                    .language = mixed ? 0.5 : 1.0,
                                    .tokens = 10};
}

Test(scorecard, pass1_is_the_mean_over_prompts_of_the_mean_over_samples) {
    struct scorecard_sum s = {0};
    /* prompt 1: 3 samples, 2 right; prompt 2: no known answer; prompt 3: 2 samples, both wrong, one failed */
    struct scorecard_reply p1[3] = {reply(1, SCORECARD_FORMAT_R1_ZERO, false, 0.5),
                                    reply(0, SCORECARD_FORMAT_R1_ZERO, true, 0.5),
                                    reply(1, SCORECARD_FORMAT_R1, false, 1.0)};
    struct scorecard_reply p2[1] = {reply(-1, SCORECARD_FORMAT_R1, false, 1.0)};
    struct scorecard_reply p3[2] = {reply(0, SCORECARD_FORMAT_NONE, false, 0.0), reply(0, SCORECARD_FORMAT_R1_ZERO, true, 0.5)};
    bool failed3[2] = {true, false};
    scorecard_sum_add(&s, p1, NULL, 3);
    scorecard_sum_add(&s, p2, NULL, 1);
    scorecard_sum_add(&s, p3, failed3, 2);
    scorecard_sum_add(&s, p3, NULL, 0); /* nothing: not a prompt */
    struct scorecard_row r;
    scorecard_row_of(&s, &r);
    cr_expect_eq(r.prompts, 3);
    cr_expect_eq(r.replies, 6);
    cr_expect_eq(r.answered, 5);
    cr_expect_eq(r.correct, 2);
    cr_expect_eq(r.errors, 1);
    cr_expect(r.has_pass1);
    /* (2/3 + 0/2) / 2 prompts — not the pooled 2/5: each prompt weighs the same, as in the paper */
    cr_expect(fabs(r.pass1 - 1.0 / 3.0) < 1e-12, "pass@1 %g", r.pass1);
    cr_expect(fabs(r.format - 5.0 / 6.0) < 1e-12, "format %g", r.format);
    cr_expect(fabs(r.format_r1_zero - 3.0 / 6.0) < 1e-12);
    cr_expect(fabs(r.format_r1 - 2.0 / 6.0) < 1e-12);
    cr_expect_str_eq(r.format_mostly, "r1-zero");
    cr_expect(fabs(r.mixed - 2.0 / 6.0) < 1e-12);
    cr_expect(fabs(r.readability - 3.5 / 6.0) < 1e-12, "readability %g", r.readability);
    cr_expect(fabs(r.language - 5.0 / 6.0) < 1e-12);
    cr_expect(fabs(r.tokens - 10.0) < 1e-12);
    /* no answers at all: no pass@1; no formatted reply: no "mostly" */
    struct scorecard_sum t = {0};
    struct scorecard_reply u[2] = {reply(-1, SCORECARD_FORMAT_NONE, false, 0), reply(-1, SCORECARD_FORMAT_NONE, false, 0)};
    scorecard_sum_add(&t, u, NULL, 2);
    scorecard_row_of(&t, &r);
    cr_expect(!r.has_pass1);
    cr_expect_null(r.format_mostly);
    cJSON *o = cJSON_CreateObject();
    scorecard_row_json(&r, o);
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(o, "pass@1")));
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(o, "format_mostly")));
    cJSON_Delete(o);
    /* as many r1-zero as r1 replies */
    struct scorecard_reply b[2] = {reply(-1, SCORECARD_FORMAT_R1_ZERO, false, 0), reply(-1, SCORECARD_FORMAT_R1, false, 0)};
    memset(&t, 0, sizeof t);
    scorecard_sum_add(&t, b, NULL, 2);
    scorecard_row_of(&t, &r);
    cr_expect_str_eq(r.format_mostly, "both");
}

static struct scorecard_prompt prompt(int n, int correct0, int correct1, int mixed0, int mixed1, double read0,
                                      double read1, bool answered) {
    struct scorecard_prompt p = {.n = {n, n},
                                 .answered = {answered ? n : 0, answered ? n : 0},
                                 .correct = {correct0, correct1},
                                 .mixed = {mixed0, mixed1},
                                 .readability = {read0, read1}};
    return p;
}

Test(scorecard, examples_right_against_wrong_then_mixing_then_readability) {
    struct scorecard_prompt p[8] = {
        prompt(4, 2, 2, 0, 0, 0.5, 0.6, true),  /* 0: readability 0.1 apart */
        prompt(4, 1, 3, 0, 0, 0.5, 1.0, true),  /* 1: correctness 0.5 apart (and readability) */
        prompt(4, 4, 4, 2, 0, 0.5, 0.5, true),  /* 2: A mixes, B never */
        prompt(4, 0, 4, 4, 0, 0.5, 1.0, true),  /* 3: correctness 1.0 apart: the best */
        prompt(4, 4, 4, 0, 0, 0.5, 0.5, true),  /* 4: alike: never chosen */
        prompt(4, 0, 0, 1, 1, 0.5, 1.0, false), /* 5: both mix: no language reason; readability 0.5 */
        prompt(4, 3, 1, 0, 0, 0.5, 0.5, true),  /* 6: correctness 0.5 apart, B behind */
        prompt(0, 0, 0, 0, 0, 0.0, 0.0, false), /* 7: not finished: never chosen */
    };
    struct scorecard_example ex[16];
    size_t n = scorecard_choose(p, 8, 16, ex);
    size_t want[] = {3, 1, 6, 2, 5, 0};
    enum scorecard_reason why[] = {SCORECARD_REASON_CORRECTNESS, SCORECARD_REASON_CORRECTNESS,
                                   SCORECARD_REASON_CORRECTNESS, SCORECARD_REASON_LANGUAGE,
                                   SCORECARD_REASON_READABILITY, SCORECARD_REASON_READABILITY};
    cr_assert_eq(n, 6, "every prompt where they differ, once: got %zu", n);
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(ex[i].index, want[i], "example %zu is prompt %zu, want %zu", i, ex[i].index, want[i]);
        cr_expect_eq(ex[i].reason, why[i], "example %zu: reason %s", i, scorecard_reason_name(ex[i].reason));
    }
    cr_expect(fabs(ex[0].gap - 1.0) < 1e-12);
    /* at most max, the best first */
    cr_expect_eq(scorecard_choose(p, 8, 2, ex), 2);
    cr_expect_eq(ex[0].index, 3);
    cr_expect_eq(ex[1].index, 1);
    cr_expect_eq(scorecard_choose(p, 8, 0, ex), 0);
    /* the reasons, said in one line with the names */
    const char *names[2] = {"zero", "r1"};
    struct strbuf sb = {0};
    n = scorecard_choose(p, 8, 16, ex);
    scorecard_example_reason(&ex[0], p, names, &sb);
    cr_expect_str_eq(sb.data, "r1 is right in 4 of 4 samples, zero in 0 of 4");
    strbuf_clear(&sb);
    scorecard_example_reason(&ex[3], p, names, &sb);
    cr_expect_str_eq(sb.data, "zero mixes languages in 2 of 4 samples, r1 never");
    strbuf_clear(&sb);
    scorecard_example_reason(&ex[4], p, names, &sb);
    cr_expect_str_eq(sb.data, "readability 1.00 (r1) against 0.50 (zero)");
    strbuf_free(&sb);
    /* one sample each */
    struct scorecard_prompt q[2] = {prompt(1, 1, 0, 0, 0, 0.5, 1.0, true), prompt(1, 1, 1, 0, 1, 0.5, 0.5, true)};
    cr_assert_eq(scorecard_choose(q, 2, 3, ex), 2);
    scorecard_example_reason(&ex[0], q, names, &sb);
    cr_expect_str_eq(sb.data, "zero is right, r1 is wrong");
    strbuf_clear(&sb);
    scorecard_example_reason(&ex[1], q, names, &sb);
    cr_expect_str_eq(sb.data, "r1 mixes languages, zero does not");
    strbuf_free(&sb);
}

/* The replies the scripted server gives (see the end-to-end tests). */
#define ZR "<think> 2x = 4 , so x = 2 </think> <answer> 2 </answer>"
#define ZW "<think> 2x = 4 , so x = 3 </think> <answer> 3 </answer>"
#define ZM "<think> 2x = 4 \xe6\x89\x80\xe4\xbb\xa5 x = 2 </think> <answer> 2 </answer>"
#define RR "<think> 2x = 4 , so x = 2 </think> So x is 2 . <answer> 2 </answer>"
#define RW "<think> 2x = 4 , so x = 3 </think> So x is 3 . <answer> 3 </answer>"
#define ZP "<think> 31 ends in 1 </think> <answer> odd </answer>"
#define RP "<think> </think> 31 is odd . <answer> odd </answer>"
#define SAME "<think> hi </think> Hello there . <answer> hi </answer>"

Test(scorecard, formats_either_pattern_and_readability) {
    struct problem two, odd;
    cr_assert_eq(task_problem_from_answer(&two, TASK_DATASET, "Solve: 2x = 4", "2"), STATUS_OK);
    cr_assert_eq(task_problem_from_answer(&odd, TASK_PLAIN, "Is 31 even or odd", "odd"), STATUS_OK);
    struct scorecard_reply r;
    scorecard_score(&two, false, ZR, 5, &r);
    cr_expect(r.correct == 1 && r.format == SCORECARD_FORMAT_R1_ZERO && !r.mixed);
    cr_expect(fabs(r.readability - 0.5) < 1e-12, "R1-Zero's bare answer: %g", r.readability);
    scorecard_score(&two, false, RR, 5, &r);
    cr_expect(r.correct == 1 && r.format == SCORECARD_FORMAT_R1 && !r.mixed);
    cr_expect(fabs(r.readability - 1.0) < 1e-12, "R1's summary: %g", r.readability);
    scorecard_score(&two, false, ZM, 5, &r);
    cr_expect(r.correct == 1 && r.format == SCORECARD_FORMAT_R1_ZERO && r.mixed && r.language < 1);
    scorecard_score(&two, false, "x is 2 <answer> 2 </answer>", 5, &r);
    cr_expect(r.correct == 1 && r.format == SCORECARD_FORMAT_NONE && !r.format_ok);
    /* a plain question: R1's pattern is the empty think; a reasoned one is neither format */
    scorecard_score(&odd, true, RP, 5, &r);
    cr_expect(r.correct == 1 && r.format == SCORECARD_FORMAT_R1, "plain R1 reply: format %d", r.format);
    scorecard_score(&odd, false, RP, 5, &r);
    cr_expect_eq(r.format, SCORECARD_FORMAT_NONE, "an empty think is not R1's reasoning format");
    scorecard_score(&odd, true, "<think> 31 ends in 1 </think> So it is odd . <answer> odd </answer>", 5, &r);
    cr_expect_eq(r.format, SCORECARD_FORMAT_NONE, "a plain question is answered without reasoning");
    scorecard_score(&odd, true, ZP, 5, &r);
    cr_expect_eq(r.format, SCORECARD_FORMAT_R1_ZERO, "R1-Zero's format counts for plain questions too");
    task_problem_free(&two);
    task_problem_free(&odd);
}

/* ---- r1lab compare against scripted replies ---- */

/* Six prompts; "zero" answers in R1-Zero's format, "r1" in R1's. With --samples 2 (seeds 0 and 1), by hand:
 *   1  zero ZR, ZW (1/2)      r1 RR, RR (2/2)   correctness 0.5 apart
 *   2  zero ZW, ZW (0/2)      r1 RR, RW (1/2)   correctness 0.5 apart
 *   3  zero ZM, ZM (2/2, mix) r1 RR, RR (2/2)   zero mixes languages
 *   4  zero ZR, ZR            r1 RR, RR         readability 0.5 against 1
 *   5  plain: zero ZP, ZP     r1 RP, RP         readability 0.5 against 1 (r1's format: the plain pattern)
 *   6  no answer: SAME for both                 alike
 * zero: pass@1 (1/2 + 0 + 1 + 1 + 1) / 5 = 0.7, 7 of 10; format 12/12 (10 r1-zero, 2 r1); mixing 2/12;
 *       readability (10 * 0.5 + 2 * 1) / 12.
 * r1:   pass@1 (1 + 1/2 + 1 + 1 + 1) / 5 = 0.9, 9 of 10; format 12/12, all r1; mixing 0; readability 1.
 * With one sample (seed 0): zero 4/5 = 0.8, r1 5/5 = 1. */
static const char PROMPTS[] =
    "{\"prompt\": \"zero=" ZR " || " ZW " ;; r1=" RR " || " RR "\", \"answer\": 2}\n"
    "{\"prompt\": \"zero=" ZW " || " ZW " ;; r1=" RR " || " RW "\", \"answer\": 2}\n"
    "{\"prompt\": \"zero=" ZM " ;; r1=" RR "\", \"answer\": \"2\"}\n"
    "{\"prompt\": \"zero=" ZR " ;; r1=" RR "\", \"answer\": 2}\n"
    "{\"task\": \"plain\", \"prompt\": \"zero=" ZP " ;; r1=" RP "\", \"answer\": \"odd\"}\n"
    "{\"prompt\": \"zero=" SAME " ;; r1=" SAME "\"}\n";

/* `r1lab compare URL#zero URL#r1 --prompts PROMPTS [extra]` against a scripted server. */
static struct th_run compare_scripted(const char *const *extra, char *names_out) {
    char *dir = th_tmpdir("report");
    char prompts[600];
    snprintf(prompts, sizeof prompts, "%s/prompts.jsonl", dir);
    cr_assert(th_write_file(prompts, PROMPTS, sizeof PROMPTS - 1));
    struct fake_server srv;
    cr_assert(fake_start(&srv, FAKE_SCRIPTED, 6 * 2 * 4, NULL));
    char a[200], b[200];
    snprintf(a, sizeof a, "%s#zero", srv.url);
    snprintf(b, sizeof b, "%s#r1", srv.url);
    if (names_out) snprintf(names_out, 64, "%d", srv.port);
    const char *args[32] = {"compare", a, b, "--prompts", prompts, "--timeout", "10", "--width", "120"};
    size_t n = 9;
    for (size_t i = 0; extra && extra[i] && n < 31; i++) args[n++] = extra[i];
    args[n] = NULL;
    struct th_run r = th_r1lab(NULL, args);
    fake_stop(&srv);
    fs_remove_tree(dir);
    free(dir);
    return r;
}

static double num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(o, key);
    cr_assert(cJSON_IsNumber(v), "\"%s\" is not a number", key);
    return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(o, key);
    cr_assert(cJSON_IsString(v), "\"%s\" is not a string", key);
    return v->valuestring;
}

Test(compare_report, json_pass1_over_samples_formats_and_examples) {
    struct th_run r = compare_scripted((const char *[]){"--samples", "2", "--json", NULL}, NULL);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cJSON *o = cJSON_Parse(r.out);
    cr_assert(o, "%s", r.out);
    const cJSON *models = cJSON_GetObjectItem(o, "models");
    const cJSON *z = cJSON_GetArrayItem(models, 0), *q = cJSON_GetArrayItem(models, 1);
    cr_expect_eq(num(z, "samples"), 2);
    cr_expect_eq(num(z, "prompts"), 6);
    cr_expect_eq(num(z, "replies"), 12);
    cr_expect_eq(num(z, "answered"), 10);
    cr_expect_eq(num(z, "correct"), 7);
    cr_expect(fabs(num(z, "pass@1") - 0.7) < 1e-9, "zero pass@1 %g", num(z, "pass@1"));
    cr_expect(fabs(num(q, "pass@1") - 0.9) < 1e-9, "r1 pass@1 %g", num(q, "pass@1"));
    cr_expect(fabs(num(q, "accuracy") - 0.9) < 1e-9, "the older name stays");
    cr_expect_eq(num(z, "format"), 1.0, "both formats count: %g", num(z, "format"));
    cr_expect_eq(num(q, "format"), 1.0);
    cr_expect(fabs(num(z, "format_r1_zero") - 10.0 / 12) < 1e-9);
    cr_expect(fabs(num(z, "format_r1") - 2.0 / 12) < 1e-9);
    cr_expect_eq(num(q, "format_r1"), 1.0);
    cr_expect_str_eq(str(z, "format_mostly"), "r1-zero");
    cr_expect_str_eq(str(q, "format_mostly"), "r1");
    cr_expect(fabs(num(z, "mixed_language") - 2.0 / 12) < 1e-9);
    cr_expect_eq(num(q, "mixed_language"), 0);
    cr_expect(fabs(num(z, "readability") - 7.0 / 12) < 1e-9, "zero readability %g", num(z, "readability"));
    cr_expect(fabs(num(q, "readability") - 1.0) < 1e-9);
    cr_expect_lt(num(z, "language"), 1.0);
    cr_expect_eq(num(q, "language"), 1.0);
    cr_expect_eq(num(cJSON_GetObjectItem(o, "settings"), "samples"), 2);
    /* every sample is in the document; "replies" holds the first ones */
    const cJSON *p0 = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "prompts"), 0);
    const cJSON *samples = cJSON_GetObjectItem(p0, "samples");
    cr_assert_eq(cJSON_GetArraySize(samples), 2);
    const cJSON *zs = cJSON_GetArrayItem(samples, 0);
    cr_assert_eq(cJSON_GetArraySize(zs), 2);
    cr_expect_str_eq(str(cJSON_GetArrayItem(zs, 0), "text"), ZR);
    cr_expect_str_eq(str(cJSON_GetArrayItem(zs, 1), "text"), ZW);
    cr_expect_str_eq(str(cJSON_GetArrayItem(cJSON_GetObjectItem(p0, "replies"), 0), "text"), ZR);
    const cJSON *first = cJSON_GetArrayItem(zs, 0);
    cr_expect_str_eq(str(first, "format_style"), "r1-zero");
    cr_expect_str_eq(str(first, "finish"), "stop");
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(first, "mixed_language")));
    const cJSON *p4 = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "prompts"), 4);
    cr_expect_str_eq(str(p4, "task"), "plain");
    /* the examples: right against wrong (prompts 1 and 2, equal gaps: in order), then language mixing */
    const cJSON *ex = cJSON_GetObjectItem(o, "examples");
    cr_assert_eq(cJSON_GetArraySize(ex), 3, "three by default");
    int want[] = {0, 1, 2};
    const char *why[] = {"correctness", "correctness", "language"};
    for (int i = 0; i < 3; i++) {
        const cJSON *e = cJSON_GetArrayItem(ex, i);
        cr_expect_eq(num(e, "prompt"), want[i], "example %d", i);
        cr_expect_str_eq(str(e, "reason"), why[i]);
    }
    cr_expect(strstr(str(cJSON_GetArrayItem(ex, 0), "detail"), "is right in 2 of 2 samples") != NULL);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(o, "complete")));
    cJSON_Delete(o);
    th_run_free(&r);
    /* more examples: then readability, the plain prompt after the earlier one; the alike prompt never */
    r = compare_scripted((const char *[]){"--samples", "2", "--json", "--examples", "10", NULL}, NULL);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    o = cJSON_Parse(r.out);
    cr_assert(o, "%s", r.out);
    ex = cJSON_GetObjectItem(o, "examples");
    cr_assert_eq(cJSON_GetArraySize(ex), 5);
    cr_expect_eq(num(cJSON_GetArrayItem(ex, 3), "prompt"), 3);
    cr_expect_eq(num(cJSON_GetArrayItem(ex, 4), "prompt"), 4);
    cr_expect_str_eq(str(cJSON_GetArrayItem(ex, 4), "reason"), "readability");
    cJSON_Delete(o);
    th_run_free(&r);
    /* one sample: seed 0 only */
    r = compare_scripted((const char *[]){"--json", NULL}, NULL);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    o = cJSON_Parse(r.out);
    cr_assert(o, "%s", r.out);
    models = cJSON_GetObjectItem(o, "models");
    cr_expect(fabs(num(cJSON_GetArrayItem(models, 0), "pass@1") - 0.8) < 1e-9);
    cr_expect(fabs(num(cJSON_GetArrayItem(models, 1), "pass@1") - 1.0) < 1e-9);
    cr_expect_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "prompts"), 0), "samples"));
    cJSON_Delete(o);
    th_run_free(&r);
}

static bool ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

/* The line of the summary table that starts with label, or "" (static buffer). */
static const char *table_line(const char *out, const char *label) {
    static char line[512];
    char needle[64];
    snprintf(needle, sizeof needle, "\n%s  ", label);
    const char *p = strstr(out, needle);
    line[0] = '\0';
    if (!p) return line;
    const char *e = strchr(p + 1, '\n');
    snprintf(line, sizeof line, "%.*s", (int)(e ? e - p - 1 : (long)strlen(p + 1)), p + 1);
    return line;
}

Test(compare_report, text_report_samples_table_and_examples) {
    char port[64];
    struct th_run r = compare_scripted((const char *[]){"--samples", "2", NULL}, port);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "; 6 prompts x 2 samples; ") && strstr(r.out, "seeds 0-1\n"), "%s", r.out);
    cr_expect(strstr(r.out, "  2 samples: zero@") != NULL, "a line per prompt over its samples: %s", r.out);
    cr_expect(strstr(r.out, " 1/2 correct, 2/2 formatted · r1@") != NULL, "%s", r.out);
    const char *l = table_line(r.out, "pass@1 (mean of 2)");
    cr_expect(strstr(l, "70.0% (7/10)") && strstr(l, "90.0% (9/10)"), "pass@1 row: '%s'\n%s", l, r.out);
    l = table_line(r.out, "format");
    cr_expect(strstr(l, "100.0%, mostly r1-zero  ") && ends_with(l, "  100.0% r1"), "format row: '%s'", l);
    l = table_line(r.out, "  r1-zero | r1");
    cr_expect(strstr(l, "83.3% | 16.7%") && strstr(l, "0.0% | 100.0%"), "'%s'", l);
    l = table_line(r.out, "readability (0-1)");
    cr_expect(strstr(l, "0.58") && strstr(l, "1.00"), "'%s'", l);
    l = table_line(r.out, "mixing languages");
    cr_expect(strstr(l, "16.7%") && strstr(l, "0.0%"), "'%s'", l);
    const char *ex = strstr(r.out, "\nwhere they differ: 5 of 6 prompts; the 3 most telling, first samples:\n");
    cr_assert(ex, "%s", r.out);
    const char *e1 = strstr(ex, "[1/6] "), *e2 = strstr(ex, "[2/6] "), *e3 = strstr(ex, "[3/6] ");
    cr_assert(e1 && e2 && e3, "%s", ex);
    cr_expect(e1 < e2 && e2 < e3, "in order of how much they differ");
    cr_expect(strstr(ex, "[4/6]") == NULL && strstr(ex, "[6/6]") == NULL, "only three: %s", ex);
    char want[400];
    snprintf(want, sizeof want, "\n  r1@127.0.0.1:%s is right in 2 of 2 samples, zero@127.0.0.1:%s in 1 of 2\n", port,
             port);
    cr_expect(strstr(e1, want) != NULL, "reason line '%s' in %s", want, e1);
    snprintf(want, sizeof want, "\n  zero@127.0.0.1:%s mixes languages in 2 of 2 samples, r1@127.0.0.1:%s never\n",
             port, port);
    cr_expect(strstr(e3, want) != NULL, "reason line '%s' in %s", want, e3);
    cr_expect(strstr(e3, "format r1-zero") && strstr(e3, "format r1 "), "first samples with their footers: %s", e3);
    th_run_free(&r);
}

Test(compare_report, brief_prints_no_per_prompt_blocks) {
    struct th_run r = compare_scripted((const char *[]){"--samples", "2", "--brief", NULL}, NULL);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    const char *ex = strstr(r.out, "\nwhere they differ");
    cr_assert(ex, "%s", r.out);
    char *head = strndup(r.out, (size_t)(ex - r.out));
    cr_expect(strncmp(head, "r1lab compare: A = zero@", 24) == 0, "the header first: %s", head);
    cr_expect(strstr(head, "[1/6]") == NULL && strstr(head, "samples:") == NULL && strstr(head, "-+-") == NULL,
              "no per-prompt output before the summary: %s", head);
    cr_expect(strstr(head, "\npass@1 (mean of 2)") != NULL, "the summary: %s", head);
    free(head);
    cr_expect(strstr(ex, "[1/6]") != NULL, "the examples: %s", ex);
    th_run_free(&r);
    r = compare_scripted((const char *[]){"--brief", "--json", NULL}, NULL);
    cr_expect_eq(r.exit_code, 2, "--brief with --json is a usage error");
    th_run_free(&r);
    r = compare_scripted((const char *[]){"--samples", "0", NULL}, NULL);
    cr_expect_eq(r.exit_code, 2);
    cr_expect(strstr(r.err, "--samples") != NULL, "%s", r.err);
    th_run_free(&r);
    r = compare_scripted((const char *[]){"--examples", "0", NULL}, NULL);
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "where they differ") == NULL);
    th_run_free(&r);
}

/* ---- chat: /report, errors in --json, collapsed reasoning ---- */

Test(compare_report, chat_report_summarises_the_session) {
    struct fake_server srv;
    cr_assert(fake_start(&srv, FAKE_SCRIPTED, 8, NULL));
    char a[200], b[200];
    snprintf(a, sizeof a, "%s#zero", srv.url);
    snprintf(b, sizeof b, "%s#r1", srv.url);
    const char *input = "/report\n"
                        "zero=" ZR " ;; r1=" RR "\n"
                        "zero=" ZM " ;; r1=" RR "\n"
                        "/report\n/blind on\n/report\n";
    struct th_run r = th_r1lab(input, (const char *[]){"chat", a, "--compare", b, "--timeout", "10", NULL});
    fake_stop(&srv);
    cr_expect_eq(r.exit_code, 1, "the first /report (nothing yet) and the blind one fail: %s", r.err);
    cr_expect(strstr(r.err, "no prompt has answers from both") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "would undo the blind comparison") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "over 2 prompts of this session") != NULL, "%s", r.err);
    const char *l = table_line(r.out, "format");
    cr_expect(strstr(l, "100.0% r1-zero  ") && ends_with(l, "  100.0% r1"), "'%s'\n%s", l, r.out);
    l = table_line(r.out, "pass@1");
    cr_expect(strstr(l, "-") != NULL, "no known answers in a chat: '%s'", l);
    l = table_line(r.out, "readability (0-1)");
    cr_expect(strstr(l, "0.50") && strstr(l, "1.00"), "'%s'", l);
    l = table_line(r.out, "mixing languages");
    cr_expect(strstr(l, "50.0%") && strstr(l, "0.0%"), "'%s'", l);
    th_run_free(&r);
}

Test(compare_report, an_errored_reply_says_error_in_json) {
    char *dir = th_tmpdir("cmperror");
    char prompts[600];
    snprintf(prompts, sizeof prompts, "%s/prompts.jsonl", dir);
    cr_assert(th_write_file(prompts, "What is 2+2?\n", 13));
    struct fake_server ok, bad;
    cr_assert(fake_start(&ok, FAKE_NORMAL, 2, NULL));
    cr_assert(fake_start(&bad, FAKE_500, 2, NULL));
    char a[200], b[200];
    snprintf(a, sizeof a, "%s#good", ok.url);
    snprintf(b, sizeof b, "%s#broken", bad.url);
    struct th_run r = th_r1lab(NULL, (const char *[]){"compare", a, b, "--prompts", prompts, "--json", "--timeout", "5",
                                                      NULL});
    fake_stop(&ok);
    fake_stop(&bad);
    cr_expect_eq(r.exit_code, 1, "a generation failed: %s", r.err);
    cJSON *o = cJSON_Parse(r.out);
    cr_assert(o, "%s", r.out);
    const cJSON *replies = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "prompts"), 0), "replies");
    cr_expect_str_eq(str(cJSON_GetArrayItem(replies, 0), "finish"), "stop");
    cr_expect_str_eq(str(cJSON_GetArrayItem(replies, 1), "finish"), "error", "not \"stop\"");
    cr_expect(strstr(str(cJSON_GetArrayItem(replies, 1), "error"), "500") != NULL, "the message says what failed");
    cr_expect_eq(num(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "models"), 1), "errors"), 1);
    cJSON_Delete(o);
    th_run_free(&r);
    fs_remove_tree(dir);
    free(dir);
}

Test(compare_report, collapsed_reasoning_does_not_run_into_the_answer) {
    struct fake_server srv;
    cr_assert(fake_start(&srv, FAKE_INLINE_THINK, 2, NULL));
    char spec[200];
    snprintf(spec, sizeof spec, "%s#m", srv.url);
    struct th_run r = th_r1lab("/think collapse\nq\n", (const char *[]){"chat", spec, "--plain", NULL});
    fake_stop(&srv);
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    /* "<think>reasoning here</think>\n\nFinal: <answer>4</answer>": the reply's own blank line separates */
    cr_expect_str_eq(r.out, "[think: 14 chars]\n\nFinal: <answer>4</answer>\n");
    th_run_free(&r);
    cr_assert(fake_start(&srv, FAKE_REASONING, 2, NULL));
    snprintf(spec, sizeof spec, "%s#m", srv.url);
    r = th_r1lab("/think collapse\nq\n", (const char *[]){"chat", spec, "--plain", NULL});
    fake_stop(&srv);
    cr_expect_eq(r.exit_code, 0, "%s", r.err);
    /* reasoning sent apart, then "The answer is …": a line break of its own */
    cr_expect_str_eq(r.out, "[think: 29 chars]\nThe answer is <answer>4</answer>\n");
    th_run_free(&r);
}
