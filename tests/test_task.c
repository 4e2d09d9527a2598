/* Tests for the built-in tasks (task.h), exact rationals (rational.h), answer normalisation (answer.h), the
 * Countdown verifier and user datasets (dataset.h). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/rational.h"
#include "engine/world/answer.h"
#include "engine/world/dataset.h"
#include "engine/world/task.h"
#include "harness.h"

/* ---- rationals ---------------------------------------------------------------------------------------- */

Test(rational, normalises_and_computes_exactly) {
    struct rat r;
    cr_assert_eq(rat_make(2, 4, &r), RAT_OK);
    cr_expect(r.num == 1 && r.den == 2);
    cr_assert_eq(rat_make(-3, -6, &r), RAT_OK);
    cr_expect(r.num == 1 && r.den == 2);
    cr_assert_eq(rat_make(3, -6, &r), RAT_OK);
    cr_expect(r.num == -1 && r.den == 2);
    cr_assert_eq(rat_make(0, -5, &r), RAT_OK);
    cr_expect(r.num == 0 && r.den == 1);
    cr_expect_eq(rat_make(1, 0, &r), RAT_DIV_ZERO);
    struct rat a = {1, 3}, b = {1, 6};
    cr_assert_eq(rat_add(a, b, &r), RAT_OK);
    cr_expect(r.num == 1 && r.den == 2);
    cr_assert_eq(rat_sub(b, a, &r), RAT_OK);
    cr_expect(r.num == -1 && r.den == 6);
    cr_assert_eq(rat_mul(a, (struct rat){3, 1}, &r), RAT_OK);
    cr_expect(r.num == 1 && r.den == 1);
    cr_assert_eq(rat_div(a, (struct rat){-2, 3}, &r), RAT_OK);
    cr_expect(r.num == -1 && r.den == 2);
    cr_expect_eq(rat_div(a, rat_int(0), &r), RAT_DIV_ZERO);
    cr_expect_eq(rat_cmp((struct rat){1, 3}, (struct rat){1, 2}), -1);
    cr_expect_eq(rat_cmp((struct rat){-1, 2}, (struct rat){-1, 2}), 0);
    char buf[RAT_STRLEN];
    rat_format(buf, sizeof buf, (struct rat){-7, 3});
    cr_expect_str_eq(buf, "-7/3");
    rat_format(buf, sizeof buf, rat_int(42));
    cr_expect_str_eq(buf, "42");
}

Test(rational, overflow_is_reported_not_wrapped) {
    struct rat r;
    cr_expect_eq(rat_add(rat_int(INT64_MAX), rat_int(1), &r), RAT_OVERFLOW);
    cr_expect_eq(rat_sub(rat_int(-INT64_MAX), rat_int(2), &r), RAT_OVERFLOW);
    cr_expect_eq(rat_mul(rat_int(4000000000LL), rat_int(4000000000LL), &r), RAT_OVERFLOW);
    cr_expect_eq(rat_add((struct rat){1, 4000000000LL}, (struct rat){1, 3999999999LL}, &r), RAT_OVERFLOW);
    /* Cross-reduction finds results that fit although a naive product would not. */
    cr_assert_eq(rat_mul((struct rat){4000000000LL, 3}, (struct rat){3, 4000000000LL}, &r), RAT_OK);
    cr_expect(r.num == 1 && r.den == 1);
    /* INT64_MIN is never a part: negation must stay safe. */
    cr_expect_eq(rat_make(INT64_MIN, 1, &r), RAT_OVERFLOW);
    cr_assert_eq(rat_make(INT64_MIN, 2, &r), RAT_OK);
    cr_expect(r.num == INT64_MIN / 2 && r.den == 1);
}

Test(rational, parse_numbers) {
    struct {
        const char *s;
        enum rat_result res;
        bool syntax;
        int64_t num, den;
    } cases[] = {
        {"7", RAT_OK, true, 7, 1},
        {"-3", RAT_OK, true, -3, 1},
        {"+2", RAT_OK, true, 2, 1},
        {"007", RAT_OK, true, 7, 1},
        {"2.0", RAT_OK, true, 2, 1},
        {"0.5", RAT_OK, true, 1, 2},
        {".25", RAT_OK, true, 1, 4},
        {"3.", RAT_OK, true, 3, 1},
        {"-1.75", RAT_OK, true, -7, 4},
        {"6/4", RAT_OK, true, 3, 2},
        {"-3/4", RAT_OK, true, -3, 4},
        {"1/0", RAT_DIV_ZERO, true, 0, 0},
        {"99999999999999999999", RAT_OVERFLOW, true, 0, 0},
        {"", RAT_OK, false, 0, 0},
        {"-", RAT_OK, false, 0, 0},
        {"1/", RAT_OK, false, 0, 0},
        {"/2", RAT_OK, false, 0, 0},
        {"1 2", RAT_OK, false, 0, 0},
        {"1e3", RAT_OK, false, 0, 0},
        {"3/-4", RAT_OK, false, 0, 0},
        {"1.2.3", RAT_OK, false, 0, 0},
        {"--1", RAT_OK, false, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rat r = {0, 1};
        bool syntax;
        enum rat_result res = rat_parse(cases[i].s, strlen(cases[i].s), &r, &syntax);
        cr_expect_eq(syntax, cases[i].syntax, "\"%s\": syntax", cases[i].s);
        if (!cases[i].syntax) continue;
        cr_expect_eq(res, cases[i].res, "\"%s\": result %d", cases[i].s, res);
        if (res == RAT_OK)
            cr_expect(r.num == cases[i].num && r.den == cases[i].den, "\"%s\": got %lld/%lld", cases[i].s,
                      (long long)r.num, (long long)r.den);
    }
}

/* ---- answers ------------------------------------------------------------------------------------------ */

Test(answer, canonical_forms) {
    struct {
        const char *in, *canon;
        enum answer_kind kind;
    } cases[] = {
        {" 2 ", "2", ANSWER_NUMBER},
        {"x = 2", "2", ANSWER_NUMBER},
        {"y=-3", "-3", ANSWER_NUMBER},
        {"$\\boxed{4}$", "4", ANSWER_NUMBER},
        {"**12**", "12", ANSWER_NUMBER},
        {"\\(7\\)", "7", ANSWER_NUMBER},
        {"\\dfrac{6}{8}", "3/4", ANSWER_NUMBER},
        {"\xE2\x88\x92"
         "5",
         "-5", ANSWER_NUMBER},
        {"\\text{42}.", "42", ANSWER_NUMBER},
        {"1,000", "1000", ANSWER_NUMBER},
        {"12,34", "12,34", ANSWER_TEXT},
        {"Paris ", "paris", ANSWER_TEXT},
        {"New   York", "new york", ANSWER_TEXT},
        {"", "", ANSWER_EMPTY},
        {" . ", "", ANSWER_EMPTY},
        {"5/0", "5/0", ANSWER_INVALID},
        {"-000123456789012345678901.500", "-123456789012345678901.5", ANSWER_BIGNUM},
        {"ab = 2", "ab = 2", ANSWER_TEXT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct answer a;
        cr_assert_eq(answer_parse(cases[i].in, strlen(cases[i].in), &a), STATUS_OK);
        cr_expect_eq(a.kind, cases[i].kind, "\"%s\": kind %d", cases[i].in, a.kind);
        cr_expect_str_eq(a.canon, cases[i].canon, "\"%s\"", cases[i].in);
        answer_free(&a);
    }
    cr_expect(!answer_match("", 0, ""), "empty never matches");
    cr_expect(!answer_match("1/0", 3, "1/0"), "invalid never matches");
    cr_expect(answer_match("4/2", 3, "2"));
    cr_expect(!answer_match("2", 1, "two"));
}

/* ---- generators --------------------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

Test(task, generation_is_deterministic) {
    for (int k = 0; k < 3; k++) {
        struct task_config c;
        task_config_default(&c, (enum task_kind)k);
        int differ = 0;
        for (uint64_t i = 0; i < 50; i++) {
            struct problem a, b, d;
            cr_assert_eq(task_generate(&c, TASK_SPLIT_TRAIN, 5, i, &a), STATUS_OK);
            cr_assert_eq(task_generate(&c, TASK_SPLIT_TRAIN, 5, i, &b), STATUS_OK);
            cr_assert_eq(task_generate(&c, TASK_SPLIT_TRAIN, 6, i, &d), STATUS_OK);
            cr_expect_str_eq(a.prompt, b.prompt);
            cr_expect_str_eq(a.answer, b.answer);
            cr_expect_eq(a.key, b.key);
            differ += strcmp(a.prompt, d.prompt) != 0;
            task_problem_free(&a);
            task_problem_free(&b);
            task_problem_free(&d);
        }
        cr_expect_gt(differ, 40, "%s: another seed should give other problems (%d of 50 differ)",
                     task_kind_name((enum task_kind)k), differ);
    }
}

/* Thousands of train problems (two seeds) and test problems (two other seeds) never share a key, every key
 * sits in the split it was generated for, and the test share of distinct problems is plausible. */
Test(task, train_and_test_are_disjoint) {
    enum { N = 3000 };
    for (int k = 0; k < 5; k++) {
        struct task_config c;
        task_config_default(&c, k == 3 ? TASK_LINEAR : k == 4 ? TASK_PLAIN : (enum task_kind)k);
        if (k == 3) c.linear.two_sided_share = 1, c.linear.max_const = 30; /* the two-sided tier */
        uint64_t *train = malloc(2 * N * sizeof *train), *test = malloc(2 * N * sizeof *test);
        for (int i = 0; i < 2 * N; i++) {
            struct problem p, q;
            cr_assert_eq(task_generate(&c, TASK_SPLIT_TRAIN, (uint64_t)(i % 2), (uint64_t)i, &p), STATUS_OK);
            cr_assert_eq(task_generate(&c, TASK_SPLIT_TEST, (uint64_t)(2 + i % 2), (uint64_t)i, &q), STATUS_OK);
            cr_assert_eq(task_split_of(p.key), TASK_SPLIT_TRAIN);
            cr_assert_eq(task_split_of(q.key), TASK_SPLIT_TEST);
            train[i] = p.key;
            test[i] = q.key;
            task_problem_free(&p);
            task_problem_free(&q);
        }
        qsort(train, 2 * N, sizeof *train, cmp_u64);
        qsort(test, 2 * N, sizeof *test, cmp_u64);
        size_t shared = 0, distinct_test = 0;
        for (size_t i = 0, j = 0; i < 2 * N && j < 2 * N;) {
            if (train[i] == test[j]) {
                shared++;
                i++;
            } else if (train[i] < test[j])
                i++;
            else
                j++;
        }
        for (size_t j = 0; j < 2 * N; j++) distinct_test += j == 0 || test[j] != test[j - 1];
        const char *name = k == 3 ? "two-sided linear" : task_kind_name(c.kind);
        cr_expect_eq(shared, 0, "%s: %zu train problems are also test problems", name, shared);
        cr_expect_gt(distinct_test, 50, "%s: only %zu distinct test problems", name, distinct_test);
        free(train);
        free(test);
    }
}

/* The same equation written differently ("3 + 2x = 7" vs "2x + 3 = 7") has one key. */
Test(task, linear_surface_forms_share_a_key) {
    struct task_config c;
    task_config_default(&c, TASK_LINEAR);
    bool found = false;
    for (uint64_t i = 0; i < 400 && !found; i++) {
        struct problem p;
        cr_assert_eq(task_generate(&c, TASK_SPLIT_TRAIN, 1, i, &p), STATUS_OK);
        if (p.linear.form == TASK_LINEAR_B_PLUS_AX) {
            for (uint64_t j = 0; j < 4000 && !found; j++) {
                struct problem q;
                cr_assert_eq(task_generate(&c, TASK_SPLIT_TRAIN, 2, j, &q), STATUS_OK);
                if (q.linear.form == TASK_LINEAR_AX_PLUS_B && q.linear.a == p.linear.a && q.linear.b == p.linear.b &&
                    q.linear.c == p.linear.c) {
                    cr_expect_eq(q.key, p.key, "%s / %s", p.prompt, q.prompt);
                    found = true;
                }
                task_problem_free(&q);
            }
        }
        task_problem_free(&p);
    }
    cr_expect(found, "no pair of surface forms found to compare");
}

Test(task, answers_verify_and_perturbed_answers_do_not) {
    for (int k = 0; k < 3; k++) {
        struct task_config c;
        task_config_default(&c, (enum task_kind)k);
        for (uint64_t i = 0; i < 300; i++) {
            struct problem p;
            cr_assert_eq(task_generate(&c, i % 2 ? TASK_SPLIT_TEST : TASK_SPLIT_TRAIN, 9, i, &p), STATUS_OK);
            cr_expect(task_check_answer(&p, p.answer, strlen(p.answer)), "%s: gold %s rejected", p.prompt, p.answer);
            char bad[192];
            if (k == TASK_COUNTDOWN) {
                snprintf(bad, sizeof bad, "%s = %lld", p.answer, (long long)p.countdown.target + 1);
                cr_expect(!task_check_answer(&p, bad, strlen(bad)), "%s: accepted %s", p.prompt, bad);
                snprintf(bad, sizeof bad, "%s = %lld", p.answer, (long long)p.countdown.target);
                cr_expect(task_check_answer(&p, bad, strlen(bad)), "%s: rejected %s", p.prompt, bad);
            } else {
                struct answer a;
                cr_assert_eq(answer_parse(p.answer, strlen(p.answer), &a), STATUS_OK);
                struct rat plus;
                cr_assert_eq(rat_add(a.value, rat_int(1), &plus), RAT_OK);
                rat_format(bad, sizeof bad, plus);
                cr_expect(!task_check_answer(&p, bad, strlen(bad)), "%s: accepted %s", p.prompt, bad);
                snprintf(bad, sizeof bad, " x = %s. ", p.answer);
                cr_expect(task_check_answer(&p, bad, strlen(bad)), "%s: rejected '%s'", p.prompt, bad);
                answer_free(&a);
            }
            task_problem_free(&p);
        }
    }
}

Test(task, prompts_have_the_documented_shape) {
    struct task_config c;
    task_config_default(&c, TASK_LINEAR);
    for (uint64_t i = 0; i < 200; i++) {
        struct problem p;
        cr_assert_eq(task_generate(&c, TASK_SPLIT_TRAIN, 0, i, &p), STATUS_OK);
        cr_expect(strncmp(p.prompt, "Solve: ", 7) == 0, "%s", p.prompt);
        char last = p.prompt[strlen(p.prompt) - 1];
        cr_expect(last >= '0' && last <= '9', "prompt must end with a digit, not punctuation: %s", p.prompt);
        cr_expect(p.linear.a >= 2 && p.linear.a <= 9 && p.linear.b >= 1 && p.linear.b <= 20, "%s", p.prompt);
        cr_expect(rat_is_int(p.linear.x), "default difficulty has integer answers: %s", p.prompt);
        task_problem_free(&p);
    }
    task_config_default(&c, TASK_COUNTDOWN);
    struct problem p;
    cr_assert_eq(task_generate(&c, TASK_SPLIT_TRAIN, 0, 0, &p), STATUS_OK);
    cr_expect(strncmp(p.prompt, "Using the numbers ", 18) == 0, "%s", p.prompt);
    cr_expect(strstr(p.prompt, "exactly once") != NULL, "%s", p.prompt);
    cr_expect(p.countdown.target >= 1 && p.countdown.target <= 50);
    task_problem_free(&p);
}

Test(task, difficulty_settings_take_effect) {
    struct task_config c;
    task_config_default(&c, TASK_LINEAR);
    cJSON *j = cJSON_Parse("{\"max_coef\": 3, \"fraction_share\": 1, \"negative_share\": 0}");
    cr_assert_eq(task_config_set(&c, j, "t"), STATUS_OK, "%s", err_msg());
    cJSON_Delete(j);
    for (uint64_t i = 0; i < 100; i++) {
        struct problem p;
        cr_assert_eq(task_generate(&c, TASK_SPLIT_TRAIN, 0, i, &p), STATUS_OK);
        cr_expect(p.linear.a <= 3 && !rat_is_int(p.linear.x) && p.linear.x.num > 0, "%s -> %s", p.prompt, p.answer);
        cr_expect(strchr(p.answer, '/') != NULL);
        task_problem_free(&p);
    }
    task_config_default(&c, TASK_ARITH);
    j = cJSON_Parse("{\"digits\": 3, \"operands\": 3, \"ops\": \"*\"}");
    cr_assert_eq(task_config_set(&c, j, "t"), STATUS_OK, "%s", err_msg());
    cJSON_Delete(j);
    struct problem p;
    cr_assert_eq(task_generate(&c, TASK_SPLIT_TRAIN, 0, 0, &p), STATUS_OK);
    cr_expect_eq(p.arith.n, 3);
    for (int i = 0; i < 3; i++) cr_expect(p.arith.v[i] >= 100 && p.arith.v[i] <= 999);
    cr_expect_eq(p.arith.value, p.arith.v[0] * p.arith.v[1] * p.arith.v[2]);
    task_problem_free(&p);
    task_config_default(&c, TASK_COUNTDOWN);
    j = cJSON_Parse("{\"numbers\": 4, \"max_number\": 20, \"max_target\": 200}");
    cr_assert_eq(task_config_set(&c, j, "t"), STATUS_OK, "%s", err_msg());
    cJSON_Delete(j);
    cr_assert_eq(task_generate(&c, TASK_SPLIT_TEST, 0, 0, &p), STATUS_OK);
    cr_expect_eq(p.countdown.n, 4);
    cr_expect(task_check_answer(&p, p.answer, strlen(p.answer)));
    task_problem_free(&p);
}

Test(task, difficulty_errors_name_the_key) {
    struct task_config c;
    task_config_default(&c, TASK_LINEAR);
    const char *bad[] = {"{\"max_coeff\": 3}",      "{\"max_coef\": 1}",     "{\"max_coef\": 2.5}",
                         "{\"fraction_share\": 2}", "{\"max_coef\": \"9\"}", "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *j = cJSON_Parse(bad[i]);
        cr_expect_eq(task_config_set(&c, j, "cfg.json"), STATUS_INVALID, "%s accepted", bad[i]);
        cr_expect(strstr(err_msg(), "cfg.json") != NULL, "%s", err_msg());
        cJSON_Delete(j);
    }
    cJSON *j = cJSON_Parse("{\"max_coeff\": 3}");
    task_config_set(&c, j, "cfg.json");
    cr_expect(strstr(err_msg(), "max_coef, max_solution, max_const, negative_share, fraction_share"), "%s", err_msg());
    cJSON_Delete(j);
    task_config_default(&c, TASK_ARITH);
    j = cJSON_Parse("{\"ops\": \"+/\"}");
    cr_expect_eq(task_config_set(&c, j, "t"), STATUS_INVALID);
    cJSON_Delete(j);
}

Test(task, too_small_a_problem_space_is_an_error) {
    /* a = 2, x = 1, b = 1: two distinct equations (2x + 1 = 3, 2x - 1 = 1); whichever split lacks one of them
     * must fail with a message instead of looping forever. */
    struct task_config c;
    task_config_default(&c, TASK_LINEAR);
    cJSON *j = cJSON_Parse("{\"max_coef\": 2, \"max_solution\": 1, \"max_const\": 1, \"negative_share\": 0}");
    cr_assert_eq(task_config_set(&c, j, "t"), STATUS_OK);
    cJSON_Delete(j);
    int failures = 0;
    for (int s = 0; s < 2; s++) {
        struct problem p;
        enum status st = task_generate(&c, (enum task_split)s, 0, 0, &p);
        if (st == STATUS_OK)
            task_problem_free(&p);
        else {
            cr_expect_eq(st, STATUS_INVALID);
            cr_expect(strstr(err_msg(), "too few"), "%s", err_msg());
            failures++;
        }
    }
    cr_expect_eq(failures, 1, "one split must be empty for a two-problem space");
}

Test(task, names_parse) {
    enum task_kind k;
    cr_expect_eq(task_kind_parse("countdown", &k), STATUS_OK);
    cr_expect_eq(k, TASK_COUNTDOWN);
    cr_expect_eq(task_kind_parse("gsm8k", &k), STATUS_INVALID);
    cr_expect(strstr(err_msg(), "linear, arith, countdown, plain, dataset"));
    enum task_split s;
    cr_expect_eq(task_split_parse("test", &s), STATUS_OK);
    cr_expect_eq(s, TASK_SPLIT_TEST);
    cr_expect_eq(task_split_parse("validation", &s), STATUS_INVALID);
}

/* ---- countdown verifier ------------------------------------------------------------------------------- */

Test(countdown, verdicts) {
    const int64_t n357[] = {3, 5, 7}, n422[] = {4, 2, 2}, n836[] = {8, 3, 6}, n337[] = {3, 3, 7};
    const int64_t big[] = {1000000000000LL, 1000000000000LL, 1000000000000LL};
    struct {
        const int64_t *nums;
        int n;
        int64_t target;
        const char *expr;
        enum countdown_verdict want;
    } cases[] = {
        {n357, 3, 22, "3 * 5 + 7", COUNTDOWN_OK},
        {n357, 3, 22, "7 + 5 * 3", COUNTDOWN_OK},
        {n357, 3, 22, "((3 * 5)) + (7)", COUNTDOWN_OK},
        {n357, 3, 22, "3*5+7", COUNTDOWN_OK},
        {n357, 3, 22, "3 \xC3\x97 5 + 7", COUNTDOWN_OK},
        {n357, 3, 22, " 3 * 5 + 7 = 22 ", COUNTDOWN_OK},
        {n357, 3, 22, "3 * 5 + 7 = 23", COUNTDOWN_WRONG_VALUE},
        {n357, 3, 22, "3 * 5 + 7 = 99999999999999999999999", COUNTDOWN_WRONG_VALUE},
        {n357, 3, 22, "3 * 7 + 5", COUNTDOWN_WRONG_VALUE},
        {n357, 3, 22, "3 * 5", COUNTDOWN_UNUSED_NUMBER},
        {n357, 3, 22, "3 * 5 + 7 + 7", COUNTDOWN_REUSED_NUMBER},
        {n357, 3, 22, "3 * 5 + 7 - 0", COUNTDOWN_UNKNOWN_NUMBER},
        {n357, 3, 22, "22", COUNTDOWN_UNKNOWN_NUMBER},
        {n357, 3, 22, "99999999999999999999 + 3 + 5 + 7", COUNTDOWN_UNKNOWN_NUMBER},
        {n357, 3, 4, "-3 + 7 * 5 / 5", COUNTDOWN_SYNTAX},
        {n357, 3, 4, "7 - -3", COUNTDOWN_SYNTAX},
        {n357, 3, 22, "+3 * 5 + 7", COUNTDOWN_SYNTAX},
        {n357, 3, 22, "(3 * 5 + 7", COUNTDOWN_SYNTAX},
        {n357, 3, 22, "3 * 5 + 7)", COUNTDOWN_SYNTAX},
        {n357, 3, 22, "3 5 7", COUNTDOWN_SYNTAX},
        {n357, 3, 22, "3.0 * 5 + 7", COUNTDOWN_SYNTAX},
        {n357, 3, 22, "3 * 5 + 7 =", COUNTDOWN_SYNTAX},
        {n357, 3, 22, "", COUNTDOWN_SYNTAX},
        {n357, 3, 22, "3 ^ 5 + 7", COUNTDOWN_SYNTAX},
        {n422, 3, 4, "4 / (2 - 2)", COUNTDOWN_DIV_ZERO},
        {n836, 3, 16, "8 / 3 * 6", COUNTDOWN_OK},
        {n836, 3, 16, "8 * 6 / 3", COUNTDOWN_OK},
        {n337, 3, 16, "3 * 3 + 7", COUNTDOWN_OK},
        {n337, 3, 28, "3 * 7 + 7", COUNTDOWN_REUSED_NUMBER},
        {big, 3, 1, "1000000000000 * 1000000000000 * 1000000000000", COUNTDOWN_OVERFLOW},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum countdown_verdict v = task_countdown_check(cases[i].nums, cases[i].n, cases[i].target, cases[i].expr,
                                                        strlen(cases[i].expr), NULL, NULL, 0, NULL);
        cr_expect_eq(v, cases[i].want, "\"%s\": %s, expected %s", cases[i].expr, task_countdown_verdict_name(v),
                     task_countdown_verdict_name(cases[i].want));
    }
}

Test(countdown, nesting_and_length_limits) {
    const int64_t nums[] = {3, 5, 7};
    char deep[256] = "", tail[128] = "";
    for (int i = 0; i < 20; i++) strcat(deep, "(");
    strcat(deep, "3");
    for (int i = 0; i < 20; i++) strcat(tail, ")");
    strcat(deep, tail);
    strcat(deep, " * 5 + 7");
    cr_expect_eq(task_countdown_check(nums, 3, 22, deep, strlen(deep), NULL, NULL, 0, NULL), COUNTDOWN_OK);
    char too_deep[256] = "";
    for (int i = 0; i < 40; i++) strcat(too_deep, "(");
    strcat(too_deep, "3");
    for (int i = 0; i < 40; i++) strcat(too_deep, ")");
    strcat(too_deep, " * 5 + 7");
    cr_expect_eq(task_countdown_check(nums, 3, 22, too_deep, strlen(too_deep), NULL, NULL, 0, NULL), COUNTDOWN_SYNTAX);
    char many[512] = "3";
    for (int i = 0; i < 40; i++) strcat(many, " + 3");
    cr_expect_eq(task_countdown_check(nums, 3, 22, many, strlen(many), NULL, NULL, 0, NULL), COUNTDOWN_SYNTAX);
}

Test(countdown, steps_and_value) {
    const int64_t nums[] = {3, 5, 7};
    struct countdown_step st[4];
    int n = 0;
    struct rat v;
    const char *e = "7 + 5 * 3";
    cr_assert_eq(task_countdown_check(nums, 3, 22, e, strlen(e), &v, st, 4, &n), COUNTDOWN_OK);
    cr_assert_eq(n, 2);
    cr_expect(st[0].op == '*' && st[0].lhs.num == 5 && st[0].rhs.num == 3 && st[0].result.num == 15);
    cr_expect(st[1].op == '+' && st[1].lhs.num == 7 && st[1].rhs.num == 15 && st[1].result.num == 22);
    cr_expect(v.num == 22 && v.den == 1);
}

Test(countdown, canonical_answer_for_voting) {
    const int64_t nums[] = {3, 5, 7};
    struct problem p;
    cr_assert_eq(task_problem_countdown(&p, nums, 3, 22, NULL), STATUS_OK);
    cr_expect_str_eq(p.answer, "22");
    cr_expect(strstr(p.prompt, "3, 5, 7, make 22") != NULL, "%s", p.prompt);
    const char *in[] = {"7 + 3 * 5", "3 + 5 + 7", "3 + 5", "3 * 5 + 7 = 23"};
    const char *want[] = {"22", "15", "invalid", "invalid"};
    for (int i = 0; i < 4; i++) {
        char *c;
        cr_assert_eq(task_canonical_answer(&p, in[i], strlen(in[i]), &c), STATUS_OK);
        cr_expect_str_eq(c, want[i], "%s", in[i]);
        free(c);
    }
    task_problem_free(&p);
    cr_assert_eq(task_problem_from_answer(&p, TASK_DATASET, "q", "0.5"), STATUS_OK);
    char *c;
    cr_assert_eq(task_canonical_answer(&p, " 2/4 ", 5, &c), STATUS_OK);
    cr_expect_str_eq(c, "1/2");
    free(c);
    task_problem_free(&p);
}

/* ---- datasets ----------------------------------------------------------------------------------------- */

Test(dataset, gsm8k_answers) {
    char *a = dataset_gsm8k_answer("Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 1,234");
    cr_expect_str_eq(a, "1234");
    free(a);
    a = dataset_gsm8k_answer("first #### 3 then #### 72 ");
    cr_expect_str_eq(a, "72");
    free(a);
    a = dataset_gsm8k_answer("  1,5  ");
    cr_expect_str_eq(a, "1,5", "commas stay outside a #### answer");
    free(a);
}

Test(dataset, loads_a_valid_file) {
    char *path = th_path("tests/fixtures/datasets/valid.jsonl");
    struct dataset ds;
    cr_assert_eq(dataset_load(&ds, path), STATUS_OK, "%s", err_msg());
    cr_assert_eq(ds.n, 6);
    cr_expect_str_eq(ds.items[0].prompt, "What is 2 + 3?");
    cr_expect_str_eq(ds.items[0].answer, "5");
    cr_expect_str_eq(ds.items[1].answer, "72", "GSM8K answer after ####");
    cr_expect_str_eq(ds.items[1].prompt, "Natalia sold clips to 48 of her friends in April, and then she sold half "
                                         "as many clips in May. How many clips did Natalia sell altogether?");
    cr_expect_str_eq(ds.items[2].answer, "0.1", "a number answer keeps its shortest text");
    cr_expect_str_eq(ds.items[3].answer, "Paris");
    cr_expect_eq(ds.items[4].kind, TASK_COUNTDOWN);
    cr_expect_eq(ds.items[4].countdown.target, 24);
    cr_expect_eq(ds.line[5], 9, "blank lines still count: item 5 sits on line %zu", ds.line[5]);
    cr_expect(task_check_answer(&ds.items[1], "72", 2));
    cr_expect(task_check_answer(&ds.items[2], "1/10", 4));
    cr_expect(task_check_answer(&ds.items[3], "paris", 5));
    cr_expect(task_check_answer(&ds.items[4], "(8 - 4) * 6 / 1", 15));
    cr_expect(!task_check_answer(&ds.items[0], "6", 1));
    dataset_free(&ds);
    free(path);
}

Test(dataset, malformed_lines_name_file_and_line) {
    struct {
        const char *text, *want;
    } cases[] = {
        {"{\"prompt\": \"a\", \"answer\": \"1\"}\n\n{\"prompt\": \"b\"}\n", "d.jsonl:3: missing field \"answer\""},
        {"{\"answer\": \"1\"}\n", "d.jsonl:1: missing field \"prompt\""},
        {"{\"prompt\": \"a\", \"answer\": 1}\n{\"prompt\": \"a\", \"answer\": }\n",
         "d.jsonl:2: malformed JSON at column"},
        {"{\"prompt\": \"a\", \"answer\": \"1\"\n", "d.jsonl:1: malformed JSON"},
        {"{\"prompt\": \"a\", \"answer\": \"1\"} x\n", "d.jsonl:1: unexpected text after the JSON object at column 32"},
        {"{\"prompt\": \"a\", \"answer\": \"\xff\"}\n", "d.jsonl:1: invalid UTF-8 at byte 28"},
        {"{\"prompt\": \"a\", \"answer\": true}\n", "d.jsonl:1: field \"answer\" must be a string or a number"},
        {"{\"prompt\": \"\", \"answer\": \"1\"}\n", "d.jsonl:1: field \"prompt\" is empty"},
        {"{\"prompt\": \"a\", \"answer\": \"#### \"}\n", "d.jsonl:1: field \"answer\" is empty"},
        {"[1, 2]\n", "d.jsonl:1: expected a JSON object"},
        {"{\"prompt\": 5, \"answer\": \"1\"}\n", "d.jsonl:1: field \"prompt\" must be a string"},
        {"{\"prompt\": \"a\", \"nums\": [1, -2], \"target\": 3}\n", "d.jsonl:1: field \"numbers\" must hold"},
        {"{\"prompt\": \"a\", \"nums\": [1, 2]}\n", "d.jsonl:1: missing field \"target\""},
        {"\n  \n\t\n", "d.jsonl: no problems"},
        {"", "d.jsonl: no problems"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct dataset ds;
        enum status st = dataset_load_text(&ds, cases[i].text, strlen(cases[i].text), "d.jsonl");
        cr_expect_eq(st, STATUS_FORMAT, "case %zu loaded", i);
        cr_expect(strstr(err_msg(), cases[i].want) != NULL, "case %zu: got \"%s\", want \"%s\"", i, err_msg(),
                  cases[i].want);
        cr_expect_eq(ds.n, 0);
        cr_expect_null(ds.items);
    }
}

Test(dataset, huge_lines_and_crlf) {
    size_t big = 2u << 20;
    char *text = malloc(big + 256);
    size_t n = (size_t)sprintf(text, "{\"prompt\": \"a\", \"answer\": \"1\"}\r\n{\"prompt\": \"");
    memset(text + n, 'q', big);
    n += big;
    n += (size_t)sprintf(text + n, "\", \"answer\": 42}\r\n");
    struct dataset ds;
    cr_assert_eq(dataset_load_text(&ds, text, n, "big.jsonl"), STATUS_OK, "%s", err_msg());
    cr_assert_eq(ds.n, 2);
    cr_expect_eq(strlen(ds.items[1].prompt), big);
    cr_expect_str_eq(ds.items[1].answer, "42");
    dataset_free(&ds);
    free(text);
}

Test(dataset, missing_file_is_an_io_error) {
    struct dataset ds;
    cr_expect_eq(dataset_load(&ds, "/nonexistent/data.jsonl"), STATUS_IO);
    cr_expect(strstr(err_msg(), "/nonexistent/data.jsonl") != NULL, "%s", err_msg());
}

/* Two-sided equations: the answer solves the equation as written, the prompt has x on both sides, a
 * default world has none. (That worlds without the share draw the problems they always drew is held by the
 * shipped tokenizer's byte-for-byte rebuild from the default corpus and by the GRPO golden trajectory.) */
Test(task, two_sided_linear_problems) {
    struct task_config c, plain;
    task_config_default(&c, TASK_LINEAR);
    plain = c;
    c.linear.two_sided_share = 1;
    c.linear.max_const = 30;
    for (uint64_t i = 0; i < 500; i++) {
        struct problem p;
        cr_assert_eq(task_generate(&c, TASK_SPLIT_TRAIN, 7, i, &p), STATUS_OK);
        long long a, b, e = 1, cc;
        char sign;
        int n = sscanf(p.prompt, "Solve: %lldx %c %lld = %lldx + %lld", &a, &sign, &b, &e, &cc);
        if (n != 5) n = sscanf(p.prompt, "Solve: %lldx %c %lld = x + %lld", &a, &sign, &b, &cc) + 1;
        cr_assert_eq(n, 5, "%s", p.prompt);
        long long x = strtoll(p.answer, NULL, 10);
        cr_expect(a - e >= 2 && e >= 1 && cc >= 1, "%s", p.prompt);
        cr_expect_eq(a * x + (sign == '-' ? -b : b), e * x + cc, "%s: x = %lld does not solve it", p.prompt, x);
        cr_expect(task_check_answer(&p, p.answer, strlen(p.answer)));
        task_problem_free(&p);
    }
    for (uint64_t i = 0; i < 50; i++) {
        struct problem p;
        cr_assert_eq(task_generate(&plain, TASK_SPLIT_TEST, 3, i, &p), STATUS_OK);
        cr_expect(strchr(strchr(p.prompt, '=') + 1, 'x') == NULL, "one-sided by default: %s", p.prompt);
        task_problem_free(&p);
    }
}

/* Plain questions: the answer is what the question asks, the one-sentence reply states it, and a wrong word
 * or number is refused. */
Test(task, plain_questions) {
    struct task_config c;
    task_config_default(&c, TASK_PLAIN);
    int forms[TASK_PLAIN_FORM_COUNT] = {0};
    for (uint64_t i = 0; i < 300; i++) {
        struct problem p;
        cr_assert_eq(task_generate(&c, TASK_SPLIT_TRAIN, 1, i, &p), STATUS_OK);
        forms[p.plain.form]++;
        long long a, b, cc;
        char reply[128];
        task_plain_reply(&p, reply, sizeof reply);
        if (sscanf(p.prompt, "Which is larger: %lld or %lld", &a, &b) == 2) {
            cr_expect_eq(strtoll(p.answer, NULL, 10), a > b ? a : b, "%s", p.prompt);
            cr_expect(!task_check_answer(&p, "1000", 4));
        } else if (sscanf(p.prompt, "Is %lld even or odd", &a) == 1) {
            cr_expect_str_eq(p.answer, a % 2 ? "odd" : "even");
            cr_expect(task_check_answer(&p, a % 2 ? " ODD " : "Even", 4));
            cr_expect(!task_check_answer(&p, a % 2 ? "even" : "odd", a % 2 ? 4 : 3));
        } else {
            cr_assert_eq(sscanf(p.prompt, "What is the coefficient of x in %lldx + %lld = %lld", &a, &b, &cc), 3, "%s",
                         p.prompt);
            cr_expect_eq(strtoll(p.answer, NULL, 10), a);
            cr_expect_eq((cc - b) % a, 0, "%s has an integer solution", p.prompt);
        }
        cr_expect(strstr(reply, p.answer) != NULL, "%s: %s", p.prompt, reply);
        cr_expect(task_check_answer(&p, p.answer, strlen(p.answer)));
        task_problem_free(&p);
    }
    for (int f = 0; f < TASK_PLAIN_FORM_COUNT; f++) cr_expect_gt(forms[f], 50, "form %d: %d", f, forms[f]);
}
