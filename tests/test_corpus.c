/* Tests for corpus.h: determinism per (seed, index), the configured mix of tasks and qualities, and —
 * the strongest check — that what each document claims to be by construction (correct answer, exact format,
 * reflection, language) is what the independent reward functions of reward.h measure on its completion. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/rl/readability.h"
#include "engine/rl/reward.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "engine/world/corpus.h"
#include "engine/world/task.h"
#include "harness.h"

static struct problem gold_problem(const struct corpus_doc *d) {
    struct problem p;
    if (d->task == TASK_COUNTDOWN) {
        /* Rebuild the numbers and the target from the question text. */
        int64_t nums[TASK_MAX_NUMBERS];
        int n = 0;
        const char *s = d->question + strlen("Using the numbers ");
        char *end;
        while (n < TASK_MAX_NUMBERS) {
            nums[n++] = strtoll(s, &end, 10);
            if (strncmp(end, ", make ", 7) == 0) break;
            s = end + 2;
        }
        int64_t target = strtoll(end + 7, NULL, 10);
        cr_assert_eq(task_problem_countdown(&p, nums, n, target, d->question), STATUS_OK);
    } else {
        cr_assert_eq(task_problem_from_answer(&p, d->task, d->question, d->answer), STATUS_OK);
    }
    return p;
}

Test(corpus, documents_are_pure_functions_of_seed_and_index) {
    struct corpus_config c;
    corpus_config_default(&c);
    struct corpus_config c2 = c;
    c2.seed = 1;
    int differ = 0;
    for (uint64_t i = 0; i < 40; i++) {
        struct corpus_doc a, b, other;
        cr_assert_eq(corpus_pretrain_doc(&c, i, &a), STATUS_OK, "%s", err_msg());
        cr_assert_eq(corpus_pretrain_doc(&c, i, &b), STATUS_OK);
        cr_assert_eq(corpus_pretrain_doc(&c2, i, &other), STATUS_OK);
        cr_expect_str_eq(a.text, b.text);
        cr_expect_eq(a.quality, b.quality);
        differ += strcmp(a.text, other.text) != 0;
        corpus_doc_free(&a);
        corpus_doc_free(&b);
        corpus_doc_free(&other);
    }
    cr_expect_gt(differ, 35, "another seed should give other documents (%d of 40 differ)", differ);
    /* Out of order and far away indices work alone. */
    struct corpus_doc far;
    cr_expect_eq(corpus_pretrain_doc(&c, UINT64_MAX - 3, &far), STATUS_OK);
    corpus_doc_free(&far);
}

Test(corpus, mix_matches_the_configuration) {
    struct corpus_config c;
    corpus_config_default(&c);
    enum { N = 6000 };
    int quality[CORPUS_QUALITY_COUNT] = {0}, task[CORPUS_TASKS] = {0};
    double qsum = 0, tsum = 0;
    for (int q = 0; q < CORPUS_QUALITY_COUNT; q++) qsum += c.quality_weight[q];
    for (int t = 0; t < CORPUS_TASKS; t++) tsum += c.task_weight[t];
    for (uint64_t i = 0; i < N; i++) {
        struct corpus_doc d;
        cr_assert_eq(corpus_pretrain_doc(&c, i, &d), STATUS_OK, "%s", err_msg());
        quality[d.quality]++;
        task[d.task]++;
        corpus_doc_free(&d);
    }
    for (int q = 0; q < CORPUS_QUALITY_COUNT; q++) {
        double got = (double)quality[q] / N, want = c.quality_weight[q] / qsum;
        cr_expect(fabs(got - want) < 0.02, "%s: %.3f, configured %.3f", corpus_quality_name((enum corpus_quality)q),
                  got, want);
    }
    for (int t = 0; t < CORPUS_TASKS; t++) {
        double got = (double)task[t] / N, want = c.task_weight[t] / tsum;
        cr_expect(fabs(got - want) < 0.02, "%s: %.3f, configured %.3f", task_kind_name((enum task_kind)t), got, want);
    }
}

/* Every templated document: correct / format_ok / reflection as built == as measured by reward.h; the language
 * share is 1 except in mixed-language documents, where it is below 1. Also prints the corpus-level rates that
 * corpus.h quotes. */
/* Builds N documents of c and checks each against the reward functions; returns the measured shares. */
static void check_documents(const struct corpus_config *c, int N, double *acc, double *fmt, double *refl) {
    int templated = 0, correct = 0, formatted = 0, reflecting = 0, mismatches = 0;
    for (uint64_t i = 0; i < (uint64_t)N; i++) {
        struct corpus_doc d;
        cr_assert_eq(corpus_pretrain_doc(c, i, &d), STATUS_OK, "%s", err_msg());
        if (d.quality == CORPUS_PLAIN) {
            cr_expect_null(d.completion);
            cr_expect(strstr(d.text, "<think>") == NULL, "plain documents have no tags: %s", d.text);
            corpus_doc_free(&d);
            continue;
        }
        templated++;
        cr_assert_not_null(d.completion);
        cr_expect(strncmp(d.completion, " <think>", 8) == 0, "%s", d.completion);
        size_t plen = strlen(d.prompt);
        cr_expect(strncmp(d.text, d.prompt, plen) == 0 && strcmp(d.text + plen, d.completion) == 0);
        struct problem p = gold_problem(&d);
        struct reward_result r;
        struct reward_spec spec;
        reward_spec_default(&spec);
        size_t n = strlen(d.completion);
        reward_score(&spec, &p, d.completion, n, 0, 0, &r);
        double lang = reward_language(d.completion, n, REWARD_LANG_EN);
        bool lang_ok = d.mixed_lang ? lang < 1.0 : lang == 1.0;
        if (d.quality == CORPUS_MIXED_LANG) lang_ok &= d.mixed_lang;
        if (r.correct != d.correct || r.format_ok != d.format_ok || r.reflection != d.reflection || !lang_ok) {
            if (mismatches++ < 5)
                fprintf(stderr,
                        "  doc %llu (%s): built correct=%d format=%d reflection=%d, measured %d %d %d, "
                        "language %.2f\n    %s\n",
                        (unsigned long long)i, corpus_quality_name(d.quality), d.correct, d.format_ok, d.reflection,
                        r.correct, r.format_ok, r.reflection, lang, d.completion);
        }
        correct += r.correct;
        formatted += r.format_ok;
        reflecting += r.reflection;
        task_problem_free(&p);
        corpus_doc_free(&d);
    }
    cr_expect_eq(mismatches, 0, "%d documents are not what they claim (first ones above)", mismatches);
    *acc = (double)correct / templated, *fmt = (double)formatted / templated, *refl = (double)reflecting / templated;
    fprintf(stderr, "  corpus: %d templated documents, %.1f%% correct, %.1f%% strictly formatted, %.1f%% reflect\n",
            templated, 100 * *acc, 100 * *fmt, 100 * *refl);
}

Test(corpus, documents_are_what_they_claim) {
    struct corpus_config c;
    corpus_config_default(&c);
    double acc, fmt, refl;
    check_documents(&c, 3000, &acc, &fmt, &refl);
    /* The ranges corpus.h argues for: a perfect imitator would be right ~60% and formatted ~74% of the time. */
    cr_expect(acc > 0.55 && acc < 0.68, "share correct %.3f", acc);
    cr_expect(fmt > 0.68 && fmt < 0.80, "share formatted %.3f", fmt);
}

/* The two-sided tier with Chinese self-checks: checks that catch a slip redo the steps and check again, and
 * every document is still what it claims. */
Test(corpus, two_sided_documents_are_what_they_claim) {
    struct corpus_config c;
    corpus_config_default(&c);
    cJSON *w = cJSON_Parse("{\"tasks\": {\"linear\": 1, \"arith\": 0, \"countdown\": 0}, \"reflect_zh\": 0.5,"
                           " \"task_params\": {\"linear\": {\"two_sided_share\": 1, \"max_const\": 30}},"
                           " \"quality\": {\"reflect\": 1, \"slip\": 1, \"clean\": 1, \"mixed_lang\": 0.3}}");
    cr_assert_eq(corpus_config_set(&c, w, "test"), STATUS_OK, "%s", err_msg());
    cJSON_Delete(w);
    double acc, fmt, refl;
    check_documents(&c, 2000, &acc, &fmt, &refl);
    cr_expect(refl > 0.25 && refl < 0.40, "reflect is a third of the mix: %.3f", refl);
    int redone = 0, zh = 0, reflect = 0;
    for (uint64_t i = 0; i < 400; i++) {
        struct corpus_doc d;
        cr_assert_eq(corpus_pretrain_doc(&c, i, &d), STATUS_OK);
        cr_expect(strstr(d.question, "x + ") && strchr(strchr(d.question, '=') + 1, 'x'), "%s", d.question);
        if (d.quality == CORPUS_REFLECT) {
            reflect++;
            cr_expect(d.correct, "a reflect document ends right: %s", d.completion);
            bool failed =
                strstr(d.completion, "not equal") || strstr(d.completion, "\xe4\xb8\x8d\xe7\x9b\xb8\xe7\xad\x89");
            if (failed) {
                redone++;
                /* A caught slip is followed by checked tries towards the answer, the last one agreeing. */
                const char *tries = strstr(d.completion, "try x = ");
                if (!tries) tries = strstr(d.completion, "\xe8\xaf\x95\xe8\xaf\x95 x = ");
                cr_expect(tries != NULL, "a caught slip is searched from: %s", d.completion);
                const char *end = strstr(d.completion, "</think>");
                cr_expect(end && (strstr(end - 8, "yes . ") || strstr(end - 8, "\xe5\xaf\xb9 . ")), "%s", d.completion);
            }
            zh += d.mixed_lang;
        }
        corpus_doc_free(&d);
    }
    cr_expect(redone > reflect / 4 && redone < reflect * 3 / 4, "about half the checks catch a slip: %d of %d", redone,
              reflect);
    cr_expect(zh > reflect / 4 && zh < reflect * 3 / 4, "reflect_zh 0.5: %d of %d in Chinese", zh, reflect);
}

Test(corpus, problems_come_from_the_train_split_only) {
    struct corpus_config c;
    corpus_config_default(&c);
    /* Collect the test-split linear questions, then look for them in the corpus. */
    enum { T = 3000, N = 3000 };
    char **test = malloc(T * sizeof *test);
    for (int i = 0; i < T; i++) {
        struct problem p;
        cr_assert_eq(task_generate(&c.task[TASK_LINEAR], TASK_SPLIT_TEST, (uint64_t)i % 7, (uint64_t)i, &p), STATUS_OK);
        test[i] = strdup(p.prompt);
        task_problem_free(&p);
    }
    int found = 0, linear = 0;
    for (uint64_t i = 0; i < N; i++) {
        struct corpus_doc d;
        cr_assert_eq(corpus_pretrain_doc(&c, i, &d), STATUS_OK);
        if (d.task == TASK_LINEAR) {
            linear++;
            for (int k = 0; k < T; k++)
                if (strcmp(d.question, test[k]) == 0) found++;
        }
        corpus_doc_free(&d);
    }
    cr_expect_gt(linear, 1000);
    cr_expect_eq(found, 0, "%d corpus questions are test problems", found);
    for (int i = 0; i < T; i++) free(test[i]);
    free(test);
}

Test(corpus, cold_start_is_clean_readable_and_r1_formatted) {
    struct corpus_config c;
    corpus_config_default(&c);
    for (uint64_t i = 0; i < 500; i++) {
        struct corpus_doc d;
        cr_assert_eq(corpus_coldstart_doc(&c, i, &d), STATUS_OK, "%s", err_msg());
        struct problem p = gold_problem(&d);
        size_t n = strlen(d.completion);
        cr_expect_eq(reward_accuracy(&p, d.completion, n), 1.0, "%s", d.completion);
        cr_expect_eq(reward_format(d.completion, n, REWARD_FORMAT_R1, false), 1.0, "%s", d.completion);
        cr_expect_eq(reward_format(d.completion, n, REWARD_FORMAT_R1_ZERO, false), 0.0, "summary outside the tags");
        cr_expect_eq(reward_language(d.completion, n, REWARD_LANG_EN), 1.0, "%s", d.completion);
        cr_expect(reward_has_reflection(d.completion, n), "cold start verifies: %s", d.completion);
        for (const unsigned char *s = (const unsigned char *)d.completion; *s; s++) cr_assert_lt(*s, 0x80);
        task_problem_free(&p);
        corpus_doc_free(&d);
    }
}

Test(corpus, config_overrides) {
    struct corpus_config c;
    corpus_config_default(&c);
    const char *json = "{\"seed\": 3, \"template\": \"chatml\", \"tasks\": {\"arith\": 0, \"countdown\": 0},"
                       " \"quality\": {\"clean\": 1, \"slip\": 0, \"reflect\": 0, \"mixed_lang\": 0, \"no_think\": 0,"
                       " \"bad_format\": 0, \"plain\": 0}, \"task_params\": {\"linear\": {\"max_coef\": 3}}}";
    cJSON *j = cJSON_Parse(json);
    cr_assert_eq(corpus_config_set(&c, j, "corpus.json"), STATUS_OK, "%s", err_msg());
    cJSON_Delete(j);
    for (uint64_t i = 0; i < 50; i++) {
        struct corpus_doc d;
        cr_assert_eq(corpus_pretrain_doc(&c, i, &d), STATUS_OK);
        cr_expect_eq(d.task, TASK_LINEAR);
        cr_expect_eq(d.quality, CORPUS_CLEAN);
        cr_expect(strncmp(d.text, "<|im_start|>user\nSolve: ", 24) == 0, "%s", d.text);
        corpus_doc_free(&d);
    }
    const char *bad[] = {"{\"sed\": 1}",
                         "{\"tasks\": {\"linear\": -1}}",
                         "{\"quality\": {\"great\": 1}}",
                         "{\"template\": \"qwen\"}",
                         "{\"task_params\": {\"linear\": {\"max_coef\": 0}}}",
                         "{\"tasks\": {\"linear\": 0, \"arith\": 0, \"countdown\": 0}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = cJSON_Parse(bad[i]);
        struct corpus_config before = c;
        cr_expect_eq(corpus_config_set(&c, j, "corpus.json"), STATUS_INVALID, "%s accepted", bad[i]);
        cr_expect(strstr(err_msg(), "corpus.json"), "%s", err_msg());
        cr_expect(memcmp(&before, &c, sizeof c) == 0, "a failed update must leave the config alone");
        cJSON_Delete(j);
    }
}

Test(corpus, write_is_resumable_jsonl) {
    struct corpus_config c;
    corpus_config_default(&c);
    char *dir = th_tmpdir("corpus");
    char all[512], tail[512];
    snprintf(all, sizeof all, "%s/all.jsonl", dir);
    snprintf(tail, sizeof tail, "%s/tail.jsonl", dir);
    cr_assert_eq(corpus_write(&c, CORPUS_PRETRAIN, 0, 20, all), STATUS_OK, "%s", err_msg());
    cr_assert_eq(corpus_write(&c, CORPUS_PRETRAIN, 12, 8, tail), STATUS_OK, "%s", err_msg());
    char *a, *t;
    size_t an, tn;
    cr_assert_eq(fs_read_file(all, 1 << 24, &a, &an), STATUS_OK);
    cr_assert_eq(fs_read_file(tail, 1 << 24, &t, &tn), STATUS_OK);
    /* The last 8 lines of the first file are the second file. */
    int nl = 0;
    size_t k = an;
    while (k > 0 && nl <= 8) nl += a[--k] == '\n';
    cr_expect_str_eq(a + k + 1, t);
    int lines = 0;
    for (char *line = strtok(a, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        cJSON *j;
        cr_assert_eq(json_parse_text(line, strlen(line), "all.jsonl", &j), STATUS_OK, "%s", err_msg());
        const char *text;
        cr_expect_eq(json_get_string(j, "text", true, NULL, &text, "all.jsonl"), STATUS_OK);
        cJSON_Delete(j);
    }
    cr_expect_eq(lines, 20);
    free(a);
    free(t);
    cr_assert_eq(corpus_write(&c, CORPUS_COLDSTART, 0, 3, all), STATUS_OK);
    cr_assert_eq(fs_read_file(all, 1 << 24, &a, &an), STATUS_OK);
    cr_expect(strstr(a, "\"prompt\": ") && strstr(a, "\"completion\": \" <think> We need to"), "%s", a);
    free(a);
    char bad[600];
    snprintf(bad, sizeof bad, "%s/missing/dir/x.jsonl", dir);
    cr_expect_eq(corpus_write(&c, CORPUS_PRETRAIN, 0, 1, bad), STATUS_IO);
    cr_expect(strstr(err_msg(), "missing/dir"), "%s", err_msg());
    fs_remove_tree(dir);
    free(dir);
}

/* Verification exercises: every verdict is the truth about the claimed x, and about half the claims are wrong
 * (otherwise "yes" could be learned without computing anything). */
Test(corpus, verification_exercises_judge_their_claims_truly) {
    struct corpus_config c;
    corpus_config_default(&c);
    cJSON *w = cJSON_Parse(
        "{\"tasks\": {\"linear\": 1, \"arith\": 0, \"countdown\": 0}, \"quality\": {\"verify\": 1, \"clean\": 0,"
        " \"slip\": 0, \"reflect\": 0, \"mixed_lang\": 0, \"no_think\": 0, \"bad_format\": 0, \"plain\": 0},"
        " \"task_params\": {\"linear\": {\"two_sided_share\": 0.75}}}");
    cr_assert_eq(corpus_config_set(&c, w, "test"), STATUS_OK, "%s", err_msg());
    cJSON_Delete(w);
    int claims = 0, right = 0, two_sided = 0;
    for (uint64_t i = 0; i < 300; i++) {
        struct corpus_doc d;
        cr_assert_eq(corpus_pretrain_doc(&c, i, &d), STATUS_OK);
        cr_expect_eq(d.quality, CORPUS_VERIFY);
        cr_expect_null(d.prompt, "exercises are plain text");
        for (char *line = d.text; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl) *nl = '\0';
            long long x, a, b, e = 0, cc;
            char sign;
            int n = sscanf(line, "Check x = %lld in %lldx %c %lld = %lldx + %lld", &x, &a, &sign, &b, &e, &cc);
            if (n != 6 && sscanf(line, "Check x = %lld in %lldx %c %lld = x + %lld", &x, &a, &sign, &b, &cc) == 5)
                e = 1, n = 6;
            if (n == 6) {
                bool solves = a * x + (sign == '-' ? -b : b) == e * x + cc;
                cr_expect(solves ? strstr(line, " . yes .") != NULL : strstr(line, " , not equal .") != NULL, "%s",
                          line);
                claims++, right += solves, two_sided++;
            } else {
                cr_expect(strncmp(line, "Check x = ", 10) == 0, "%s", line);
                claims++;
                right += strstr(line, " . yes .") != NULL;
            }
            line = nl ? nl + 1 : NULL;
        }
        corpus_doc_free(&d);
    }
    cr_expect_gt(two_sided, claims / 2, "%d of %d", two_sided, claims);
    cr_expect(right > claims * 35 / 100 && right < claims * 65 / 100, "%d of %d claims are right", right, claims);
}

/* The terse cold start (world.coldstart "terse"): English only, a check in every document, a third of them
 * catching a slip and searching to the answer, then a summary with the answer in R1's format. */
Test(corpus, terse_cold_start_checks_every_answer_in_one_language) {
    struct corpus_config c;
    corpus_config_default(&c);
    cJSON *w = cJSON_Parse(
        "{\"tasks\": {\"linear\": 1, \"arith\": 0, \"countdown\": 0}, \"coldstart\": \"terse\","
        " \"reflect_zh\": 1, \"template\": \"r1\", \"task_params\": {\"linear\": {\"two_sided_share\": 1}}}");
    cr_assert_eq(corpus_config_set(&c, w, "test"), STATUS_OK, "%s", err_msg());
    cJSON_Delete(w);
    int searched = 0, n = 300;
    for (uint64_t i = 0; i < (uint64_t)n; i++) {
        struct corpus_doc d;
        cr_assert_eq(corpus_coldstart_doc(&c, i, &d), STATUS_OK);
        size_t len = strlen(d.completion);
        struct problem p = gold_problem(&d);
        cr_expect_eq(reward_accuracy(&p, d.completion, len), 1.0, "%s", d.completion);
        cr_expect_eq(reward_format(d.completion, len, REWARD_FORMAT_R1, false), 1.0, "%s", d.completion);
        cr_expect_eq(reward_language(d.completion, len, REWARD_LANG_EN), 1.0, "reflect_zh does not reach cold start");
        cr_expect(reward_has_reflection(d.completion, len), "%s", d.completion);
        cr_expect_eq(reward_helpfulness(d.completion, len, REWARD_LANG_EN), 1.0, "%s", d.completion);
        cr_expect_eq(readability_score(d.completion, len, REWARD_LANG_EN), 1.0,
                     "the summary is in the reasoning's "
                     "words: %s",
                     d.completion);
        cr_expect(strstr(d.completion, "divide by") != NULL, "%s", d.completion);
        cr_expect(strncmp(d.prompt, "<\xEF\xBD\x9C", 4) == 0, "rendered in R1's template: %s", d.prompt);
        searched += strstr(d.completion, "try x = ") != NULL;
        task_problem_free(&p);
        corpus_doc_free(&d);
    }
    cr_expect(searched > n / 5 && searched < n / 2, "a third search after a caught slip: %d of %d", searched, n);
}

/* The search tier (configs/base-search.json's world): every try's arithmetic is genuine and its verdict ("yes",
 * "not 24") is the truth about it; a search that goes on after a miss says so with a reflection word; the writer
 * gives up after the first miss as often as configured and rarely once a search has begun; worked solutions go
 * straight to the solution; and every document is still what it claims to the reward functions. */
static void search_tier(struct corpus_config *c) {
    corpus_config_default(c);
    cJSON *w = cJSON_Parse(
        "{\"tasks\": {\"linear\": 0, \"arith\": 0, \"countdown\": 1}, \"quality\": {\"clean\": 0.28, \"slip\": 0.06,"
        " \"reflect\": 0, \"mixed_lang\": 0.05, \"no_think\": 0.06, \"bad_format\": 0.05, \"plain\": 0.03,"
        " \"search\": 0.47}, \"reflect_zh\": 0.5, \"worked_failed_tries\": false, \"search\": {\"first_right\": 0.4,"
        " \"give_up_first\": 0.75, \"give_up_later\": 0.15, \"max_failures\": 5}}");
    cr_assert_eq(corpus_config_set(c, w, "test"), STATUS_OK, "%s", err_msg());
    cJSON_Delete(w);
}

/* The tries of a countdown CoT, in order: whether each one's arithmetic is right, whether it hit the target,
 * and whether its verdict said so. Returns the number of tries (at most max). */
struct cd_seen {
    bool arithmetic_ok, hit, said_hit, said_miss;
};

static int countdown_tries(const char *cot, int64_t target, struct cd_seen *out, int max) {
    int n = 0;
    for (const char *s = cot; n < max;) {
        const char *en = strstr(s, "try "), *zh = strstr(s, "\xe8\xaf\x95\xe8\xaf\x95 "); /* 试试 */
        while (en && !(en[4] >= '0' && en[4] <= '9')) en = strstr(en + 4, "try ");        /* not "try again" */
        const char *at = !en ? zh : !zh ? en : en < zh ? en : zh;
        if (!at) break;
        at += at == en ? 4 : 7;
        long long a, b, r1, a2, c, r2;
        char o1, o2;
        int used = 0;
        if (sscanf(at, "%lld %c %lld = %lld , %lld %c %lld = %lld%n", &a, &o1, &b, &r1, &a2, &o2, &c, &r2, &used) != 8)
            break;
        long long t1 = o1 == '+' ? a + b : o1 == '-' ? a - b : o1 == '*' ? a * b : b ? a / b : -1;
        /* A try goes left to right; a solution's second step may take the first result on either side. */
        long long t2 = o2 == '+' ? a2 + c : o2 == '-' ? a2 - c : o2 == '*' ? a2 * c : c ? a2 / c : -1;
        const char *v = at + used;
        char miss_en[64], miss_zh[64];
        snprintf(miss_en, sizeof miss_en, " , not %lld .", (long long)target);
        snprintf(miss_zh, sizeof miss_zh, " , \xe4\xb8\x8d\xe6\x98\xaf %lld .", (long long)target); /* 不是 */
        out[n] = (struct cd_seen){
            .arithmetic_ok = t1 == r1 && (a2 == r1 || c == r1) && t2 == r2 && (o1 != '/' || a % b == 0) &&
                             (o2 != '/' || a2 % c == 0),
            .hit = r2 == target,
            .said_hit = strncmp(v, " . yes .", 8) == 0 || strncmp(v, " . \xe5\xaf\xb9 .", 7) == 0, /* 对 */
            .said_miss = strncmp(v, miss_en, strlen(miss_en)) == 0 || strncmp(v, miss_zh, strlen(miss_zh)) == 0};
        n++;
        s = v;
    }
    return n;
}

Test(corpus, search_documents_try_check_and_give_up_as_configured) {
    struct corpus_config c;
    search_tier(&c);
    double acc, fmt, refl;
    check_documents(&c, 3000, &acc, &fmt, &refl);
    int search = 0, first_miss = 0, retried_first = 0, later_miss = 0, gave_up_later = 0, retry_zh = 0, worked = 0;
    for (uint64_t i = 0; i < 4000; i++) {
        struct corpus_doc d;
        cr_assert_eq(corpus_pretrain_doc(&c, i, &d), STATUS_OK, "%s", err_msg());
        if (d.quality != CORPUS_SEARCH && d.quality != CORPUS_CLEAN) {
            corpus_doc_free(&d);
            continue;
        }
        struct problem p = gold_problem(&d);
        struct cd_seen t[32];
        int n = countdown_tries(d.completion, p.countdown.target, t, 32);
        cr_assert(n >= 1, "no try in %s", d.completion);
        for (int k = 0; k < n; k++) {
            cr_expect(t[k].arithmetic_ok, "try %d: wrong arithmetic in %s", k + 1, d.completion);
            cr_expect(t[k].hit ? t[k].said_hit : t[k].said_miss, "try %d: the verdict is not the truth in %s", k + 1,
                      d.completion);
        }
        if (d.quality == CORPUS_CLEAN) {
            cr_expect(n == 1 && t[0].hit, "worked solutions go straight to the solution: %s", d.completion);
            worked++;
        } else {
            search++;
            bool retry = strstr(d.completion, "wait , let me try again") ||
                         strstr(d.completion, "\xe7\xad\x89\xe7\xad\x89 , \xe8\xae\xa9\xe6\x88\x91"); /* 等等 , 让我 */
            cr_expect_eq(d.reflection, retry, "%s", d.completion);
            cr_expect_eq(d.reflection, n > 1, "a search retries exactly when it tries again: %s", d.completion);
            cr_expect_eq(d.correct, t[n - 1].hit, "the answer is the last try: %s", d.completion);
            cr_expect(n <= 6, "at most max_failures misses, then the hit: %s", d.completion);
            if (!t[0].hit) first_miss++, retried_first += n > 1;
            for (int k = 1; k < n; k++)
                if (!t[k].hit) later_miss++, gave_up_later += k == n - 1;
            retry_zh += retry && d.mixed_lang;
        }
        task_problem_free(&p);
        corpus_doc_free(&d);
    }
    double r1 = (double)retried_first / first_miss, g2 = (double)gave_up_later / later_miss;
    fprintf(stderr, "  search: %d documents, retry after a first miss %.3f, give up after a later one %.3f\n", search,
            r1, g2);
    cr_expect(worked > 800 && search > 1500, "%d worked, %d search", worked, search);
    cr_expect(fabs(r1 - 0.25) < 0.04, "retry after the first miss: %.3f (1 - give_up_first = 0.25)", r1);
    cr_expect(fabs(g2 - 0.15) < 0.06, "give up after a later miss: %.3f (give_up_later = 0.15)", g2);
    cr_expect(retry_zh > 0, "reflect_zh writes some retries in Chinese");
}

Test(corpus, search_settings_are_checked) {
    const char *bad[] = {"{\"search\": 1}",
                         "{\"search\": {\"first_right\": 1.5}}",
                         "{\"search\": {\"give_up\": 0.5}}",
                         "{\"search\": {\"max_failures\": 2.5}}",
                         "{\"search\": {\"max_failures\": 21}}",
                         "{\"worked_failed_tries\": 0}"};
    const char *named[] = {"\"search\"",          "search.first_right",  "give_up",
                           "search.max_failures", "search.max_failures", "worked_failed_tries"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct corpus_config c, before;
        corpus_config_default(&c);
        before = c;
        cJSON *j = cJSON_Parse(bad[i]);
        cr_expect_eq(corpus_config_set(&c, j, "world.json"), STATUS_INVALID, "%s accepted", bad[i]);
        cr_expect(strstr(err_msg(), "world.json") && strstr(err_msg(), named[i]), "%s: %s", bad[i], err_msg());
        cr_expect(memcmp(&before, &c, sizeof c) == 0, "a failed update must leave the config alone");
        cJSON_Delete(j);
    }
}
