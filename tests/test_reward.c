/* Tests for reward.h: the table of tricky completions in tests/fixtures/rewards/cases.jsonl (add a line there
 * to add a case), then the language, reflection and length functions, and the reward spec parser. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/rl/reward.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "engine/world/task.h"
#include "harness.h"

/* Builds the problem a fixture line describes. */
static void fixture_problem(const cJSON *c, struct problem *p, const char *where) {
    const char *task_name, *answer;
    cr_assert_eq(json_get_string(c, "task", true, NULL, &task_name, where), STATUS_OK, "%s", err_msg());
    cr_assert_eq(json_get_string(c, "answer", true, NULL, &answer, where), STATUS_OK, "%s", err_msg());
    enum task_kind kind;
    cr_assert_eq(task_kind_parse(task_name, &kind), STATUS_OK, "%s: %s", where, err_msg());
    if (kind == TASK_COUNTDOWN) {
        const cJSON *nums = cJSON_GetObjectItemCaseSensitive(c, "numbers");
        int64_t numbers[TASK_MAX_NUMBERS];
        int n = 0;
        for (const cJSON *v = nums ? nums->child : NULL; v; v = v->next) numbers[n++] = (int64_t)v->valuedouble;
        cr_assert_eq(task_problem_countdown(p, numbers, n, atoll(answer), NULL), STATUS_OK, "%s", where);
    } else {
        cr_assert_eq(task_problem_from_answer(p, kind, "", answer), STATUS_OK, "%s", where);
    }
}

/* Compares an optional expected number in the fixture with got; returns false (after printing) on mismatch. */
static bool expect_number(const cJSON *c, const char *key, double got, const char *where, const char *note) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    if (!v) return true;
    double want = cJSON_IsBool(v) ? (cJSON_IsTrue(v) ? 1.0 : 0.0) : v->valuedouble;
    if (fabs(got - want) < 1e-9) return true;
    fprintf(stderr, "  %s (%s): %s = %g, expected %g\n", where, note, key, got, want);
    return false;
}

Test(reward, fixture_cases) {
    char *path = th_path("tests/fixtures/rewards/cases.jsonl");
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(path, 1 << 20, &text, &len), STATUS_OK, "%s", err_msg());
    int line_no = 0, failures = 0, cases = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        line_no++;
        char where[64];
        snprintf(where, sizeof where, "cases.jsonl:%d", line_no);
        cJSON *c;
        cr_assert_eq(json_parse_text(line, strlen(line), where, &c), STATUS_OK, "%s", err_msg());
        const char *completion, *note;
        cr_assert_eq(json_get_string(c, "completion", true, NULL, &completion, where), STATUS_OK, "%s", err_msg());
        json_get_string(c, "note", false, "", &note, where);
        struct problem p;
        fixture_problem(c, &p, where);
        size_t n = strlen(completion);
        bool ok = true;
        ok &= expect_number(c, "accuracy", reward_accuracy(&p, completion, n), where, note);
        ok &= expect_number(c, "format", reward_format(completion, n, REWARD_FORMAT_R1_ZERO, false), where, note);
        ok &= expect_number(c, "format_soft", reward_format(completion, n, REWARD_FORMAT_R1_ZERO, true), where, note);
        ok &= expect_number(c, "format_r1", reward_format(completion, n, REWARD_FORMAT_R1, false), where, note);
        ok &= expect_number(c, "language", reward_language(completion, n, REWARD_LANG_EN), where, note);
        ok &= expect_number(c, "language_zh", reward_language(completion, n, REWARD_LANG_ZH), where, note);
        ok &= expect_number(c, "reflection", reward_has_reflection(completion, n), where, note);
        ok &= expect_number(c, "format_plain", reward_format_plain(completion, n, false), where, note);
        ok &= expect_number(c, "helpfulness", reward_helpfulness(completion, n, REWARD_LANG_EN), where, note);
        ok &= expect_number(c, "answer_changed", reward_reflection_changed(&p, completion, n), where, note);
        ok &= expect_number(c, "mixed_language", reward_mixed_language(completion, n, REWARD_LANG_EN), where, note);
        failures += !ok;
        cases++;
        task_problem_free(&p);
        cJSON_Delete(c);
    }
    free(text);
    free(path);
    cr_expect_gt(cases, 60, "the fixture lost cases: %d", cases);
    cr_expect_eq(failures, 0, "%d of %d fixture cases failed (details above)", failures, cases);
}

Test(reward, extraction_spans) {
    struct reward_span s;
    const char *t = "<think> a </think> <answer> 42 </answer>";
    cr_assert(reward_find_answer(t, strlen(t), &s));
    cr_expect_eq(s.len, 4);
    cr_expect(memcmp(t + s.off, " 42 ", 4) == 0);
    cr_assert(reward_find_think(t, strlen(t), &s));
    cr_expect(memcmp(t + s.off, " a ", 3) == 0 && s.len == 3);
    cr_expect(!reward_find_answer("<answer> 4", 10, &s));
    cr_expect(!reward_find_answer("</answer> 4 <answer>", 20, &s));
    cr_expect(!reward_find_think("no tags", 7, &s));
    /* The span never reaches beyond the given length, even when the buffer continues. */
    const char *u = "<answer> 1 </answer><answer> 2 </answer>";
    cr_assert(reward_find_answer(u, 20, &s));
    cr_expect(memcmp(u + s.off, " 1 ", 3) == 0);
}

Test(reward, invalid_utf8_is_harmless) {
    const char t[] = "<think> \xff\xfe abc \xe4\xbd </think> <answer> 2 </answer>";
    size_t n = sizeof t - 1;
    struct problem p;
    cr_assert_eq(task_problem_from_answer(&p, TASK_LINEAR, "", "2"), STATUS_OK);
    cr_expect_eq(reward_accuracy(&p, t, n), 1.0);
    cr_expect_eq(reward_format(t, n, REWARD_FORMAT_R1_ZERO, false), 1.0);
    cr_expect_eq(reward_language(t, n, REWARD_LANG_EN), 1.0);
    task_problem_free(&p);
}

Test(reward, language_share_counts) {
    /* 3 English words, 2 CJK characters, 1 Greek word: en 3/6, zh 2/6. Single letters are ignored. */
    const char *s = "so we divide 所以 x y λόγος";
    cr_expect_float_eq(reward_language_share(s, strlen(s), REWARD_LANG_EN), 3.0 / 6, 1e-12);
    cr_expect_float_eq(reward_language_share(s, strlen(s), REWARD_LANG_ZH), 2.0 / 6, 1e-12);
    cr_expect_eq(reward_language_share("x = 2 , y = 3", 13, REWARD_LANG_EN), 1.0);
    /* Accented Latin letters are Latin. */
    const char *fr = "déjà vu";
    cr_expect_eq(reward_language_share(fr, strlen(fr), REWARD_LANG_EN), 1.0);
}

Test(reward, reflection_counts) {
    const char *s = "Wait, let me recheck. Hmm. check checks checked. 等等 验证";
    /* wait, recheck (once, though it is also "let me re..."), hmm, check, checks, checked, 等等, 验证 */
    cr_expect_eq(reward_count_reflections(s, strlen(s)), 8);
    cr_expect_eq(reward_count_reflections("hm rewait waited", 16), 0);
    cr_expect_eq(reward_count_reflections("LET ME REDO", 11), 1);
}

Test(reward, length_overlong) {
    struct reward_spec spec;
    cr_assert_eq(
        reward_spec_parse_text(&spec, "[{\"name\": \"length\", \"max_tokens\": 100, \"buffer_tokens\": 20}]", "t"),
        STATUS_OK, "%s", err_msg());
    const struct reward_term *t = &spec.terms[0];
    cr_expect_eq(reward_length(t, 10, 0, true), 0.0);
    cr_expect_eq(reward_length(t, 80, 0, true), 0.0);
    cr_expect_float_eq(reward_length(t, 90, 0, true), -0.5, 1e-12);
    cr_expect_eq(reward_length(t, 100, 0, true), -1.0);
    cr_expect_eq(reward_length(t, 150, 0, false), -1.0);
    /* max_tokens 0 takes the trainer's limit, buffer 0 a quarter of it. */
    cr_assert_eq(reward_spec_parse_text(&spec, "[\"length\"]", "t"), STATUS_OK);
    cr_expect_eq(reward_length(&spec.terms[0], 150, 200, true), 0.0);
    cr_expect_float_eq(reward_length(&spec.terms[0], 175, 200, true), -0.5, 1e-12);
    cr_expect_eq(reward_length(&spec.terms[0], 175, 0, true), 0.0);
}

Test(reward, length_cosine) {
    struct reward_spec spec;
    cr_assert_eq(
        reward_spec_parse_text(&spec, "[{\"name\": \"length\", \"mode\": \"cosine\", \"max_tokens\": 100}]", "t"),
        STATUS_OK, "%s", err_msg());
    const struct reward_term *t = &spec.terms[0];
    cr_expect_float_eq(reward_length(t, 0, 0, true), 2.0, 1e-12);
    cr_expect_float_eq(reward_length(t, 50, 0, true), 1.5, 1e-12);
    cr_expect_float_eq(reward_length(t, 99, 0, true), 1.0, 1e-3);
    cr_expect_float_eq(reward_length(t, 0, 0, false), -10.0, 1e-12);
    cr_expect_float_eq(reward_length(t, 50, 0, false), -5.0, 1e-12);
    cr_expect_eq(reward_length(t, 100, 0, true), -10.0);
    /* Correct answers prefer short, wrong ones long: the point of the schedule. */
    cr_expect_gt(reward_length(t, 20, 0, true), reward_length(t, 80, 0, true));
    cr_expect_lt(reward_length(t, 20, 0, false), reward_length(t, 80, 0, false));
}

Test(reward, score_composes_weighted_terms) {
    struct reward_spec spec;
    const char *json = "[{\"name\": \"accuracy\", \"weight\": 2}, {\"name\": \"format\", \"weight\": 0.5},"
                       " {\"name\": \"language\", \"weight\": 0.25, \"target\": \"en\"}]";
    cr_assert_eq(reward_spec_parse_text(&spec, json, "t"), STATUS_OK, "%s", err_msg());
    struct problem p;
    cr_assert_eq(task_problem_from_answer(&p, TASK_LINEAR, "Solve: 2x + 3 = 7", "2"), STATUS_OK);
    const char *c = "<think> 减去 3 , divide by 2 , wait </think> <answer> 2 </answer> extra";
    struct reward_result r;
    reward_score(&spec, &p, c, strlen(c), 20, 100, &r);
    cr_expect_eq(r.value[0], 1.0);
    cr_expect_eq(r.value[1], 0.0);
    cr_expect_float_eq(r.value[2], 3.0 / 5, 1e-12); /* divide, by, wait vs 减, 去 */
    cr_expect_float_eq(r.total, 2.0 + 0.25 * 0.6, 1e-12);
    cr_expect(r.correct && !r.format_ok && r.reflection && r.has_answer);
    task_problem_free(&p);
}

Test(reward, spec_default_is_accuracy_and_format) {
    struct reward_spec spec;
    reward_spec_default(&spec);
    cr_assert_eq(spec.n, 2);
    cr_expect_str_eq(reward_kind_name(spec.terms[0].kind), "accuracy");
    cr_expect_str_eq(reward_kind_name(spec.terms[1].kind), "format");
    cr_expect_eq(spec.terms[1].style, REWARD_FORMAT_R1_ZERO);
    cr_expect_eq(spec.terms[0].weight, 1.0);
}

Test(reward, spec_errors_are_specific) {
    struct reward_spec spec;
    cr_expect_eq(reward_spec_parse_text(&spec, "[{\"name\": \"acuracy\"}]", "cfg.json"), STATUS_INVALID);
    cr_expect(strstr(err_msg(), "cfg.json") && strstr(err_msg(), "\"acuracy\"") &&
                  strstr(err_msg(), "accuracy, format, language, length"),
              "got: %s", err_msg());
    cr_expect_eq(reward_spec_parse_text(&spec, "[{\"name\": \"format\", \"stlye\": \"r1\"}]", "c"), STATUS_INVALID);
    cr_expect(strstr(err_msg(), "\"stlye\"") && strstr(err_msg(), "style, soft"), "got: %s", err_msg());
    cr_expect_eq(reward_spec_parse_text(&spec, "[\"accuracy\", {\"name\": \"accuracy\"}]", "c"), STATUS_INVALID);
    cr_expect(strstr(err_msg(), "twice"), "got: %s", err_msg());
    cr_expect_eq(reward_spec_parse_text(&spec, "[]", "c"), STATUS_INVALID);
    cr_expect_eq(reward_spec_parse_text(&spec, "{}", "c"), STATUS_INVALID);
    cr_expect_eq(reward_spec_parse_text(&spec, "[{\"name\": \"format\", \"weight\": \"1\"}]", "c"), STATUS_INVALID);
    cr_expect_eq(reward_spec_parse_text(&spec, "[{\"name\": \"format\", \"style\": \"r2\"}]", "c"), STATUS_INVALID);
    cr_expect(strstr(err_msg(), "\"r1-zero\", \"r1\""), "got: %s", err_msg());
    cr_expect_eq(reward_spec_parse_text(&spec, "[{\"name\": \"accuracy\", \"target\": \"en\"}]", "c"), STATUS_INVALID);
    cr_expect_eq(reward_spec_parse_text(&spec, "[{\"weight\": 1}]", "c"), STATUS_INVALID);
    cr_expect_eq(reward_spec_parse_text(&spec, "[{\"name\": \"length\", \"max_tokens\": -5}]", "c"), STATUS_INVALID);
}

Test(reward, spec_json_roundtrip) {
    struct reward_spec a, b;
    const char *json = "[{\"name\": \"format\", \"weight\": 0.5, \"style\": \"r1\", \"soft\": true},"
                       " {\"name\": \"language\", \"target\": \"zh\"},"
                       " {\"name\": \"length\", \"mode\": \"cosine\", \"max_tokens\": 64, \"exceed\": -3}]";
    cr_assert_eq(reward_spec_parse_text(&a, json, "t"), STATUS_OK, "%s", err_msg());
    cJSON *j = reward_spec_to_json(&a);
    cr_assert(j);
    cr_assert_eq(reward_spec_parse(&b, j, "roundtrip"), STATUS_OK, "%s", err_msg());
    cJSON_Delete(j);
    cr_assert_eq(b.n, 3);
    cr_expect_eq(b.terms[0].style, REWARD_FORMAT_R1);
    cr_expect(b.terms[0].soft);
    cr_expect_eq(b.terms[0].weight, 0.5);
    cr_expect_eq(b.terms[1].lang, REWARD_LANG_ZH);
    cr_expect_eq(b.terms[2].mode, REWARD_LENGTH_COSINE);
    cr_expect_eq(b.terms[2].max_tokens, 64);
    cr_expect_eq(b.terms[2].exceed, -3.0);
}

/* Pathological completions of a few hundred kilobytes: nothing crashes or reads out of bounds, and the rules
 * still hold (these would take minutes if extraction were quadratic). */
Test(reward, huge_and_pathological_completions) {
    enum { REPS = 40000 };
    const char *unit = "\\boxed{<answer>{";
    size_t ul = strlen(unit), n = ul * REPS;
    char *t = malloc(n + 64);
    for (int i = 0; i < REPS; i++) memcpy(t + i * ul, unit, ul);
    strcpy(t + n, "\\boxed{7}");
    size_t len = strlen(t);
    struct reward_span s;
    cr_assert(reward_find_answer(t, len, &s));
    cr_expect_eq(s.len, 1);
    cr_expect_eq(t[s.off], '7');
    cr_expect_eq(reward_format(t, len, REWARD_FORMAT_R1_ZERO, true), 0.0);
    cr_expect_eq(reward_language(t, len, REWARD_LANG_EN), 0.0);
    struct problem p;
    cr_assert_eq(task_problem_from_answer(&p, TASK_LINEAR, "", "7"), STATUS_OK);
    cr_expect_eq(reward_accuracy(&p, t, len), 1.0);
    /* An answer of 300k characters of nested \boxed{ is just wrong. */
    char *a = malloc(n + 64);
    size_t k = 0;
    k += (size_t)sprintf(a, "<answer>");
    for (int i = 0; i < REPS && k + 16 < n; i++) k += (size_t)sprintf(a + k, "\\boxed{");
    k += (size_t)sprintf(a + k, "</answer>");
    cr_expect_eq(reward_accuracy(&p, a, k), 0.0);
    task_problem_free(&p);
    free(a);
    free(t);
}
