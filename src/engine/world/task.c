/* task: names, difficulty settings, the split rule and the generation loop, problem lifetime and answer
 * checking. The per-kind drawing and wording live in task_linear.c, task_arith.c and task_countdown.c. */
#include "engine/world/task.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/rng.h"
#include "engine/util/strbuf.h"
#include "engine/world/answer.h"
#include "engine/world/task_impl.h"

static const char *const KIND_NAMES[TASK_KIND_COUNT] = {"linear", "arith", "countdown", "plain", "dataset"};

const char *task_kind_name(enum task_kind kind) {
    ASSERT(kind >= 0 && kind < TASK_KIND_COUNT);
    return KIND_NAMES[kind];
}

enum status task_kind_parse(const char *name, enum task_kind *out) {
    for (int k = 0; k < TASK_KIND_COUNT; k++)
        if (strcmp(name, KIND_NAMES[k]) == 0) {
            *out = (enum task_kind)k;
            return STATUS_OK;
        }
    return err_set(STATUS_INVALID, "unknown task \"%s\" (valid: linear, arith, countdown, plain, dataset)", name);
}

const char *task_split_name(enum task_split split) {
    return split == TASK_SPLIT_TEST ? "test" : "train";
}

enum status task_split_parse(const char *name, enum task_split *out) {
    if (strcmp(name, "train") == 0)
        *out = TASK_SPLIT_TRAIN;
    else if (strcmp(name, "test") == 0)
        *out = TASK_SPLIT_TEST;
    else
        return err_set(STATUS_INVALID, "unknown split \"%s\" (valid: train, test)", name);
    return STATUS_OK;
}

void task_config_default(struct task_config *c, enum task_kind kind) {
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->linear.max_coef = 9;
    c->linear.max_solution = 12;
    c->linear.max_const = 20;
    c->linear.negative_share = 0.15;
    c->linear.fraction_share = 0.0;
    c->linear.two_sided_share = 0.0;
    c->arith.digits = 2;
    c->arith.operands = 2;
    memcpy(c->arith.ops, "+-*", 4);
    c->countdown.numbers = 3;
    c->countdown.max_number = 9;
    c->countdown.max_target = 50;
}

/* One settable difficulty field: its JSON key, where it lives, and its range. */
enum param_type { PARAM_INT, PARAM_SHARE, PARAM_OPS };
struct param {
    enum task_kind kind;
    const char *key;
    enum param_type type;
    size_t offset;
    int min, max;
};
static const struct param PARAMS[] = {
    {TASK_LINEAR, "max_coef", PARAM_INT, offsetof(struct task_config, linear.max_coef), 2, 1000},
    {TASK_LINEAR, "max_solution", PARAM_INT, offsetof(struct task_config, linear.max_solution), 1, 100000},
    {TASK_LINEAR, "max_const", PARAM_INT, offsetof(struct task_config, linear.max_const), 1, 100000},
    {TASK_LINEAR, "negative_share", PARAM_SHARE, offsetof(struct task_config, linear.negative_share), 0, 1},
    {TASK_LINEAR, "fraction_share", PARAM_SHARE, offsetof(struct task_config, linear.fraction_share), 0, 1},
    {TASK_LINEAR, "two_sided_share", PARAM_SHARE, offsetof(struct task_config, linear.two_sided_share), 0, 1},
    {TASK_ARITH, "digits", PARAM_INT, offsetof(struct task_config, arith.digits), 1, 6},
    {TASK_ARITH, "operands", PARAM_INT, offsetof(struct task_config, arith.operands), 2, TASK_MAX_OPERANDS},
    {TASK_ARITH, "ops", PARAM_OPS, offsetof(struct task_config, arith.ops), 0, 0},
    {TASK_COUNTDOWN, "numbers", PARAM_INT, offsetof(struct task_config, countdown.numbers), 2, TASK_MAX_NUMBERS},
    {TASK_COUNTDOWN, "max_number", PARAM_INT, offsetof(struct task_config, countdown.max_number), 2, 1000},
    {TASK_COUNTDOWN, "max_target", PARAM_INT, offsetof(struct task_config, countdown.max_target), 1, 1000000},
};
#define N_PARAMS (sizeof PARAMS / sizeof PARAMS[0])

static void list_keys(enum task_kind kind, char *out, size_t cap) {
    out[0] = '\0';
    for (size_t i = 0; i < N_PARAMS; i++) {
        if (PARAMS[i].kind != kind) continue;
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s", n ? ", " : "", PARAMS[i].key);
    }
    if (!out[0]) snprintf(out, cap, "none");
}

static enum status set_param(struct task_config *c, const struct param *p, const cJSON *v, const char *where) {
    char *field = (char *)c + p->offset;
    if (p->type == PARAM_INT) {
        double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        if (!cJSON_IsNumber(v) || d != floor(d) || d < p->min || d > p->max)
            return err_set(STATUS_INVALID, "%s: \"%s\" must be an integer in [%d, %d]", where, p->key, p->min, p->max);
        *(int *)field = (int)d;
    } else if (p->type == PARAM_SHARE) {
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1))
            return err_set(STATUS_INVALID, "%s: \"%s\" must be a number in [0, 1]", where, p->key);
        *(double *)field = v->valuedouble;
    } else {
        const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
        bool ok = s && s[0] && strlen(s) <= 3;
        for (size_t i = 0; ok && s[i]; i++) ok = strchr("+-*", s[i]) && !strchr(s + i + 1, s[i]);
        if (!ok)
            return err_set(STATUS_INVALID, "%s: \"%s\" must be a non-empty string of distinct operators from \"+-*\"",
                           where, p->key);
        memset(field, 0, 4);
        memcpy(field, s, strlen(s));
    }
    return STATUS_OK;
}

enum status task_config_set(struct task_config *c, const cJSON *params, const char *where) {
    if (!params || cJSON_IsNull(params)) return STATUS_OK;
    if (!cJSON_IsObject(params)) return err_set(STATUS_INVALID, "%s: task parameters must be a JSON object", where);
    for (const cJSON *item = params->child; item; item = item->next) {
        const struct param *found = NULL;
        for (size_t i = 0; i < N_PARAMS && !found; i++)
            if (PARAMS[i].kind == c->kind && strcmp(PARAMS[i].key, item->string) == 0) found = &PARAMS[i];
        if (!found) {
            char keys[256];
            list_keys(c->kind, keys, sizeof keys);
            return err_set(STATUS_INVALID, "%s: unknown %s parameter \"%s\" (valid: %s)", where,
                           task_kind_name(c->kind), item->string, keys);
        }
        TRY(set_param(c, found, item, where));
    }
    return STATUS_OK;
}

enum task_split task_split_of(uint64_t key) {
    return key % 1000 < TASK_TEST_PERMILLE ? TASK_SPLIT_TEST : TASK_SPLIT_TRAIN;
}

/* Enough for any setting that has at least a few hundred distinct problems: a test problem takes about
 * 1000 / TASK_TEST_PERMILLE = 10 draws on average. */
#define MAX_DRAWS 20000

enum status task_generate(const struct task_config *c, enum task_split split, uint64_t seed, uint64_t index,
                          struct problem *out) {
    ASSERT(c->kind == TASK_LINEAR || c->kind == TASK_ARITH || c->kind == TASK_COUNTDOWN || c->kind == TASK_PLAIN);
    memset(out, 0, sizeof *out);
    /* The stream depends on (kind, split, seed, index) only; the retries continue the same stream. */
    struct rng r;
    uint64_t stream_seed = rng_mix64(seed) ^ rng_mix64(0x7461736b00000000ULL + (uint64_t)c->kind * 16 + split);
    rng_seed_stream(&r, stream_seed, index);
    char key[TASK_KEY_MAX];
    for (int draw = 0; draw < MAX_DRAWS; draw++) {
        struct problem p = {.kind = c->kind};
        bool ok = c->kind == TASK_LINEAR  ? task_linear_draw(c, &r, &p, key)
                  : c->kind == TASK_ARITH ? task_arith_draw(c, &r, &p, key)
                  : c->kind == TASK_PLAIN ? task_plain_draw(c, &r, &p, key)
                                          : task_countdown_draw(c, &r, &p, key);
        if (ok) p.key = rng_hash_bytes(key, strlen(key));
        if (!ok || task_split_of(p.key) != split) {
            task_problem_free(&p);
            continue;
        }
        enum status st = c->kind == TASK_LINEAR  ? task_linear_render(&p)
                         : c->kind == TASK_ARITH ? task_arith_render(&p)
                         : c->kind == TASK_PLAIN ? task_plain_render(&p)
                                                 : task_countdown_render(&p);
        if (st != STATUS_OK) {
            task_problem_free(&p);
            return st;
        }
        *out = p;
        return STATUS_OK;
    }
    return err_set(STATUS_INVALID,
                   "%s: no %s problem found in %d draws; the difficulty settings allow too few "
                   "distinct problems",
                   task_kind_name(c->kind), task_split_name(split), MAX_DRAWS);
}

static enum status dup_field(char **dst, const char *src) {
    *dst = strdup(src);
    return *dst ? STATUS_OK : err_set(STATUS_NOMEM, "out of memory copying a problem");
}

enum status task_problem_from_answer(struct problem *out, enum task_kind kind, const char *prompt, const char *answer) {
    ASSERT(kind != TASK_COUNTDOWN);
    memset(out, 0, sizeof *out);
    out->kind = kind;
    enum status st = dup_field(&out->prompt, prompt);
    if (st == STATUS_OK) st = dup_field(&out->answer, answer);
    if (st != STATUS_OK) {
        task_problem_free(out);
        return st;
    }
    struct strbuf key = {0};
    strbuf_printf(&key, "%s:%s\n%s", task_kind_name(kind), prompt, answer);
    out->key = key.data ? rng_hash_bytes(key.data, key.len) : 0;
    strbuf_free(&key);
    return STATUS_OK;
}

enum status task_problem_countdown(struct problem *out, const int64_t *numbers, int n, int64_t target,
                                   const char *prompt) {
    memset(out, 0, sizeof *out);
    if (n < 1 || n > TASK_MAX_NUMBERS)
        return err_set(STATUS_INVALID, "countdown: %d numbers given, expected 1 to %d", n, TASK_MAX_NUMBERS);
    for (int i = 0; i < n; i++)
        if (numbers[i] < 0) return err_set(STATUS_INVALID, "countdown: number %lld is negative", (long long)numbers[i]);
    out->kind = TASK_COUNTDOWN;
    out->countdown.n = n;
    memcpy(out->countdown.numbers, numbers, (size_t)n * sizeof *numbers);
    out->countdown.target = target;
    char key[TASK_KEY_MAX];
    task_countdown_key(numbers, n, target, key);
    out->key = rng_hash_bytes(key, strlen(key));
    out->prompt = prompt ? strdup(prompt) : task_countdown_prompt(numbers, n, target);
    char t[32];
    snprintf(t, sizeof t, "%lld", (long long)target);
    out->answer = strdup(t);
    if (!out->prompt || !out->answer) {
        task_problem_free(out);
        return err_set(STATUS_NOMEM, "out of memory making a countdown problem");
    }
    return STATUS_OK;
}

void task_problem_free(struct problem *p) {
    free(p->prompt);
    free(p->answer);
    memset(p, 0, sizeof *p);
}

bool task_check_answer(const struct problem *p, const char *candidate, size_t len) {
    if (p->kind == TASK_COUNTDOWN)
        return task_countdown_check(p->countdown.numbers, p->countdown.n, p->countdown.target, candidate, len, NULL,
                                    NULL, 0, NULL) == COUNTDOWN_OK;
    return answer_match(candidate, len, p->answer);
}

enum status task_canonical_answer(const struct problem *p, const char *candidate, size_t len, char **out) {
    *out = NULL;
    if (p->kind == TASK_COUNTDOWN) {
        struct rat v;
        enum countdown_verdict cv = task_countdown_check(p->countdown.numbers, p->countdown.n, p->countdown.target,
                                                         candidate, len, &v, NULL, 0, NULL);
        char buf[RAT_STRLEN];
        /* A wrong value votes under its value; a value equal to the target can only be wrong here through a
         * bad "= N" suffix, and must not vote with the correct answers. */
        bool votes = cv == COUNTDOWN_OK || (cv == COUNTDOWN_WRONG_VALUE && !rat_eq(v, rat_int(p->countdown.target)));
        if (votes)
            rat_format(buf, sizeof buf, v);
        else
            snprintf(buf, sizeof buf, "invalid");
        *out = strdup(buf);
    } else {
        struct answer a;
        TRY(answer_parse(candidate, len, &a));
        *out = a.canon;
        a.canon = NULL;
        answer_free(&a);
    }
    return *out ? STATUS_OK : err_set(STATUS_NOMEM, "out of memory canonicalising an answer");
}
