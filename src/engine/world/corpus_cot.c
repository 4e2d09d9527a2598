/* corpus_cot: worked solutions for the built-in tasks, in the terse pretraining style and in the readable
 * cold-start style, plus their deliberate flaws (slips, guesses) and self-checks. Every number written in a
 * step is computed, never copied from a template, so a "correct" document is correct by construction and a
 * slip changes exactly one result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/world/corpus_impl.h"

static const char *const WORD_EN[WORD_COUNT] = {"subtract",
                                                "add",
                                                "divide by",
                                                "so",
                                                "try",
                                                "yes",
                                                "no",
                                                "not equal",
                                                "wait , let me check",
                                                "left",
                                                "right",
                                                "left is larger , so x is smaller",
                                                "left is smaller , so x is larger",
                                                "not",
                                                "wait , let me try again"};
static const char *const WORD_ZH[WORD_COUNT] = {"减去",
                                                "加上",
                                                "除以",
                                                "所以",
                                                "试试",
                                                "对",
                                                "不对",
                                                "不相等",
                                                "等等 , 让我检查",
                                                "左边",
                                                "右边",
                                                "左边更大 , 所以 x 更小",
                                                "左边更小 , 所以 x 更大",
                                                "不是",
                                                "等等 , 让我再试一次"};

void corpus_word(struct cot_writer *w, enum corpus_word word) {
    bool zh = w->force_zh || (w->zh > 0 && rng_bernoulli(w->r, w->zh));
    w->force_zh = false;
    strbuf_puts(w->sb, zh ? WORD_ZH[word] : WORD_EN[word]);
    w->wrote_zh |= zh;
}

static void put_rat(struct strbuf *sb, struct rat v) {
    char b[RAT_STRLEN];
    rat_format(b, sizeof b, v);
    strbuf_puts(sb, b);
}

static void claim_rat(struct cot_claim *c, struct rat v, struct rat truth) {
    rat_format(c->text, sizeof c->text, v);
    c->correct = rat_eq(v, truth);
}

static void claim_int(struct cot_claim *c, int64_t v, int64_t truth) {
    snprintf(c->text, sizeof c->text, "%lld", (long long)v);
    c->correct = v == truth;
}

/* A non-zero slip: +-1, +-2 or +-10. */
static int64_t slip_delta(struct rng *r) {
    static const int64_t d[] = {1, 2, 10};
    int64_t v = d[rng_below(r, 3)];
    return rng_bernoulli(r, 0.5) ? v : -v;
}

/* ---- linear ------------------------------------------------------------------------------------------ */

static bool linear_minus(const struct problem *p) {
    return p->linear.form == TASK_LINEAR_AX_MINUS_B || p->linear.form == TASK_LINEAR_TWO_SIDED_MINUS;
}

/* a*x (two-sided: (a - e)*x): the right-hand side once b has moved over. */
static int64_t linear_moved(const struct problem *p) {
    return linear_minus(p) ? p->linear.c + p->linear.b : p->linear.c - p->linear.b;
}

/* The coefficient of x once everything but b is on the left: a, or a - e for two-sided problems. */
static int64_t linear_net(const struct problem *p) {
    return p->linear.a - p->linear.e;
}

static void put_term(struct strbuf *sb, int64_t coef) {
    char t[32];
    task_linear_term(t, sizeof t, coef);
    strbuf_puts(sb, t);
}

static void linear_equation(struct strbuf *sb, const struct problem *p) {
    long long a = p->linear.a, b = p->linear.b, c = p->linear.c;
    switch (p->linear.form) {
    case TASK_LINEAR_AX_PLUS_B:
        strbuf_printf(sb, "%lldx + %lld = %lld", a, b, c);
        break;
    case TASK_LINEAR_AX_MINUS_B:
        strbuf_printf(sb, "%lldx - %lld = %lld", a, b, c);
        break;
    case TASK_LINEAR_B_PLUS_AX:
        strbuf_printf(sb, "%lld + %lldx = %lld", b, a, c);
        break;
    case TASK_LINEAR_TWO_SIDED_PLUS:
    case TASK_LINEAR_TWO_SIDED_MINUS:
        strbuf_printf(sb, "%lldx %c %lld = ", a, linear_minus(p) ? '-' : '+', b);
        put_term(sb, p->linear.e);
        strbuf_printf(sb, " + %lld", c);
        break;
    }
}

/* "x = 4 / 2 = 2", "x = 7 / 3", "x = 6 / 4 = 3/2": the division of moved by a, reduced when it reduces. */
static struct rat linear_divide(struct strbuf *sb, int64_t moved, int64_t a) {
    struct rat x;
    ASSERT(rat_make(moved, a, &x) == RAT_OK);
    strbuf_printf(sb, "x = %lld / %lld", (long long)moved, (long long)a);
    if (x.num != moved || x.den != a) {
        strbuf_puts(sb, " = ");
        put_rat(sb, x);
    }
    return x;
}

static void linear_steps(struct cot_writer *w, const struct problem *p, bool slip, struct cot_claim *claim) {
    int64_t a = linear_net(p), m = linear_moved(p);
    bool int_x = rat_is_int(p->linear.x);
    bool slip_move = slip && (!int_x || rng_bernoulli(w->r, 0.5)), slip_div = slip && !slip_move;
    if (slip_move) m += (int_x ? a : 1) * (rng_bernoulli(w->r, 0.5) ? 1 : -1);
    bool minus = linear_minus(p);
    if (task_linear_two_sided(p)) {
        /* First move e*x over: "subtract 2x : 3x + 3 = 18 ." */
        corpus_word(w, WORD_SUBTRACT);
        strbuf_putc(w->sb, ' ');
        put_term(w->sb, p->linear.e);
        strbuf_printf(w->sb, " : %lldx %c %lld = %lld . ", (long long)a, minus ? '-' : '+', (long long)p->linear.b,
                      (long long)p->linear.c);
    }
    corpus_word(w, minus ? WORD_ADD : WORD_SUBTRACT);
    strbuf_printf(w->sb, " %lld : %lldx = %lld %c %lld = %lld . ", (long long)p->linear.b, (long long)a,
                  (long long)p->linear.c, minus ? '+' : '-', (long long)p->linear.b, (long long)m);
    corpus_word(w, WORD_DIVIDE);
    strbuf_printf(w->sb, " %lld : ", (long long)a);
    struct rat x;
    if (slip_div) {
        /* The division itself goes wrong: "x = 4 / 2 = 3". */
        /* Two-sided problems slip by one or two (a search then needs one or two tries). */
        int64_t d = task_linear_two_sided(p) ? rng_range(w->r, 1, 2) : 1;
        x = rat_int(p->linear.x.num + (rng_bernoulli(w->r, 0.5) ? d : -d));
        strbuf_printf(w->sb, "x = %lld / %lld = %lld", (long long)m, (long long)a, (long long)x.num);
    } else {
        x = linear_divide(w->sb, m, a);
    }
    strbuf_puts(w->sb, " . ");
    claim_rat(claim, x, p->linear.x);
}

/* Two-sided problems: both sides evaluated a step at a time, so that each number is easy to get right:
 * "left 3 * 9 - 1 = 27 - 1 = 26 , right 9 + 15 = 24" (a product first, then the constant). w, when given,
 * writes "left" and "right" (in Chinese in a mixed-language check); else they go to sb in English. */
static bool linear_substitute_sides(struct cot_writer *w, struct strbuf *sb, const struct problem *p, long long xv) {
    long long a = p->linear.a, b = p->linear.b, e = p->linear.e, c = p->linear.c;
    bool minus = linear_minus(p);
    long long left = a * xv + (minus ? -b : b), right = e * xv + c;
    if (w)
        corpus_word(w, WORD_LEFT);
    else
        strbuf_puts(sb, "left");
    strbuf_printf(sb, " %lld * %lld %c %lld = %lld %c %lld = %lld , ", a, xv, minus ? '-' : '+', b, a * xv,
                  minus ? '-' : '+', b, left);
    if (w)
        corpus_word(w, WORD_RIGHT);
    else
        strbuf_puts(sb, "right");
    if (e == 1)
        strbuf_printf(sb, " %lld + %lld = %lld", xv, c, right);
    else
        strbuf_printf(sb, " %lld * %lld + %lld = %lld + %lld = %lld", e, xv, c, e * xv, c, right);
    return left == right;
}

/* Substitutes x into the equation's left side: "2 * 3 + 3 = 9"; for a fractional x only a*x: "3 * 8/3 = 8".
 * Two-sided problems evaluate both sides: "5 * 5 + 3 = 28 , 2 * 5 + 18 = 28". Returns whether the sides
 * agree (one-sided: the result is c, or the moved value for fractions). */
static bool linear_substitute(struct strbuf *sb, const struct problem *p, struct rat x) {
    long long a = p->linear.a, b = p->linear.b;
    if (task_linear_two_sided(p) && rat_is_int(x)) return linear_substitute_sides(NULL, sb, p, x.num);
    if (!rat_is_int(x)) {
        struct rat ax;
        a = linear_net(p);
        ASSERT(rat_mul(rat_int(a), x, &ax) == RAT_OK);
        strbuf_printf(sb, "%lld * ", a);
        put_rat(sb, x);
        strbuf_puts(sb, " = ");
        put_rat(sb, ax);
        return rat_eq(ax, rat_int(linear_moved(p)));
    }
    long long xv = x.num, v;
    switch (p->linear.form) {
    case TASK_LINEAR_AX_PLUS_B:
        v = a * xv + b;
        strbuf_printf(sb, "%lld * %lld + %lld = %lld", a, xv, b, v);
        break;
    case TASK_LINEAR_AX_MINUS_B:
        v = a * xv - b;
        strbuf_printf(sb, "%lld * %lld - %lld = %lld", a, xv, b, v);
        break;
    default:
        v = b + a * xv;
        strbuf_printf(sb, "%lld + %lld * %lld = %lld", b, a, xv, v);
        break;
    }
    return v == p->linear.c;
}

/* ---- arith ------------------------------------------------------------------------------------------- */

/* Writes "l * r = l * 20 + l * 3 = 940 + 141" (place-value split of r) when r has two or more non-zero
 * digits, else "l * r"; the caller writes " = result". */
static void arith_product(struct strbuf *sb, int64_t l, int64_t r) {
    int64_t parts[20];
    int np = 0;
    for (int64_t place = 1, rest = r; rest > 0; rest /= 10, place *= 10)
        if (rest % 10) parts[np++] = (rest % 10) * place;
    strbuf_printf(sb, "%lld * %lld", (long long)l, (long long)r);
    if (np < 2) return;
    strbuf_puts(sb, " =");
    for (int i = np - 1; i >= 0; i--)
        strbuf_printf(sb, "%s %lld * %lld", i == np - 1 ? "" : " +", (long long)l, (long long)parts[i]);
    strbuf_puts(sb, " =");
    for (int i = np - 1; i >= 0; i--) strbuf_printf(sb, "%s %lld", i == np - 1 ? "" : " +", (long long)(l * parts[i]));
}

static void arith_steps(struct cot_writer *w, const struct problem *p, bool slip, struct cot_claim *claim) {
    struct arith_step st[TASK_MAX_OPERANDS];
    int n = task_arith_steps(p, st);
    int64_t final = st[n - 1].result;
    if (slip) final += slip_delta(w->r);
    for (int i = 0; i < n; i++) {
        int64_t res = i == n - 1 ? final : st[i].result;
        if (st[i].op == '*')
            arith_product(w->sb, st[i].lhs, st[i].rhs);
        else
            strbuf_printf(w->sb, "%lld %c %lld", (long long)st[i].lhs, st[i].op, (long long)st[i].rhs);
        strbuf_printf(w->sb, " = %lld . ", (long long)res);
    }
    /* A closing word, so that the CoT has a word a mixed-language document can write in Chinese. */
    corpus_word(w, WORD_SO);
    strbuf_printf(w->sb, " %lld . ", (long long) final);
    claim_int(claim, final, p->arith.value);
}

/* The check of a claimed value: the last step done another way ("23 + 47 = 70", or for a difference
 * "claim + r = l"). Writes the computation; returns whether it agrees with the claim. */
static bool arith_verify(struct strbuf *sb, const struct problem *p, int64_t claimed) {
    struct arith_step st[TASK_MAX_OPERANDS];
    int n = task_arith_steps(p, st);
    const struct arith_step *s = &st[n - 1];
    if (s->op == '-') {
        strbuf_printf(sb, "%lld + %lld = %lld", (long long)claimed, (long long)s->rhs, (long long)(claimed + s->rhs));
        return claimed + s->rhs == s->lhs;
    }
    strbuf_printf(sb, "%lld %c %lld = %lld", (long long)s->rhs, s->op, (long long)s->lhs, (long long)s->result);
    return claimed == s->result;
}

/* ---- countdown --------------------------------------------------------------------------------------- */

struct cd_try {
    int n;
    int64_t lhs[TASK_MAX_NUMBERS], rhs[TASK_MAX_NUMBERS], res[TASK_MAX_NUMBERS];
    char op[TASK_MAX_NUMBERS];
    char expr[128];
};

/* A left-to-right attempt over a shuffled order of the numbers with only clean operations (positive
 * differences, exact divisions), whose value is not the target. False when none was found quickly. */
static bool cd_random_try(struct rng *r, const struct problem *p, struct cd_try *t) {
    for (int attempt = 0; attempt < 32; attempt++) {
        int64_t nums[TASK_MAX_NUMBERS];
        int n = p->countdown.n;
        memcpy(nums, p->countdown.numbers, (size_t)n * sizeof *nums);
        rng_shuffle(r, nums, (size_t)n, sizeof *nums);
        int64_t acc = nums[0];
        int prec = 3;
        snprintf(t->expr, sizeof t->expr, "%lld", (long long)acc);
        t->n = 0;
        for (int k = 1; k < n; k++) {
            char valid[4];
            int nv = 0;
            valid[nv++] = '+';
            valid[nv++] = '*';
            if (acc > nums[k]) valid[nv++] = '-';
            if (nums[k] > 1 && acc % nums[k] == 0) valid[nv++] = '/';
            char op = valid[rng_below(r, (uint64_t)nv)];
            int64_t res = op == '+'   ? acc + nums[k]
                          : op == '-' ? acc - nums[k]
                          : op == '*' ? acc * nums[k]
                                      : acc / nums[k];
            int op_prec = op == '+' || op == '-' ? 1 : 2;
            char prev[128];
            snprintf(prev, sizeof prev, "%s", t->expr);
            if (snprintf(t->expr, sizeof t->expr, prec < op_prec ? "(%s) %c %lld" : "%s %c %lld", prev, op,
                         (long long)nums[k]) >= (int)sizeof t->expr)
                return false;
            prec = op_prec;
            t->lhs[t->n] = acc;
            t->rhs[t->n] = nums[k];
            t->op[t->n] = op;
            t->res[t->n++] = res;
            acc = res;
        }
        if (acc != p->countdown.target) return true;
    }
    return false;
}

/* "7 + 5 = 12 , 12 * 3 = 36" with the last result replaced by last_result. */
static void cd_write_try(struct strbuf *sb, const struct cd_try *t, int64_t last_result) {
    for (int i = 0; i < t->n; i++)
        strbuf_printf(sb, "%s%lld %c %lld = %lld", i ? " , " : "", (long long)t->lhs[i], t->op[i], (long long)t->rhs[i],
                      (long long)(i == t->n - 1 ? last_result : t->res[i]));
}

/* The generated solution's steps, from the verifier's evaluation of p->answer. */
static int cd_solution_steps(const struct problem *p, struct countdown_step *st) {
    int n = 0;
    enum countdown_verdict v = task_countdown_check(p->countdown.numbers, p->countdown.n, p->countdown.target,
                                                    p->answer, strlen(p->answer), NULL, st, TASK_MAX_NUMBERS, &n);
    ASSERTF(v == COUNTDOWN_OK, "countdown solution \"%s\" does not verify", p->answer);
    return n;
}

static void cd_write_steps(struct strbuf *sb, const struct countdown_step *st, int n) {
    for (int i = 0; i < n; i++) {
        strbuf_puts(sb, i ? " , " : "");
        put_rat(sb, st[i].lhs);
        strbuf_printf(sb, " %c ", st[i].op);
        put_rat(sb, st[i].rhs);
        strbuf_puts(sb, " = ");
        put_rat(sb, st[i].result);
    }
}

static void countdown_steps(struct cot_writer *w, const struct problem *p, bool slip, struct cot_claim *claim) {
    static const double FAILS[] = {0.4, 0.4, 0.2};
    size_t fails = w->no_failed_tries ? 0 : rng_choose_weighted(w->r, FAILS, 3);
    struct cd_try t;
    for (size_t i = 0; i < fails; i++) {
        if (!cd_random_try(w->r, p, &t)) break;
        corpus_word(w, WORD_TRY);
        strbuf_putc(w->sb, ' ');
        cd_write_try(w->sb, &t, t.res[t.n - 1]);
        strbuf_puts(w->sb, " . ");
        corpus_word(w, WORD_NO);
        strbuf_puts(w->sb, " . ");
    }
    corpus_word(w, WORD_TRY);
    strbuf_putc(w->sb, ' ');
    if (slip && cd_random_try(w->r, p, &t)) {
        /* A wrong attempt whose last result is misread as the target. */
        cd_write_try(w->sb, &t, p->countdown.target);
        snprintf(claim->text, sizeof claim->text, "%s", t.expr);
        claim->correct = false;
    } else {
        struct countdown_step st[TASK_MAX_NUMBERS];
        cd_write_steps(w->sb, st, cd_solution_steps(p, st));
        snprintf(claim->text, sizeof claim->text, "%s", p->answer);
        claim->correct = true;
    }
    strbuf_puts(w->sb, " . ");
    corpus_word(w, WORD_YES);
    strbuf_puts(w->sb, " . ");
}

bool cot_search_tries(struct cot_writer *w, const struct problem *p, const struct corpus_search *s, bool zh_retry,
                      struct cot_claim *claim) {
    if (p->kind != TASK_COUNTDOWN) {
        cot_steps(w, p, false, claim);
        return false;
    }
    bool retried = false;
    for (int failures = 0;; failures++) {
        corpus_word(w, WORD_TRY);
        strbuf_putc(w->sb, ' ');
        struct cd_try t;
        /* A try that misses needs a miss to exist: a problem that every order and operator solves hits. */
        if (failures >= s->max_failures || rng_bernoulli(w->r, s->first_right) || !cd_random_try(w->r, p, &t)) {
            struct countdown_step st[TASK_MAX_NUMBERS];
            cd_write_steps(w->sb, st, cd_solution_steps(p, st));
            strbuf_puts(w->sb, " . ");
            corpus_word(w, WORD_YES);
            strbuf_puts(w->sb, " . ");
            snprintf(claim->text, sizeof claim->text, "%s", p->answer);
            claim->correct = true;
            return retried;
        }
        cd_write_try(w->sb, &t, t.res[t.n - 1]);
        strbuf_puts(w->sb, " , ");
        corpus_word(w, WORD_NOT);
        strbuf_printf(w->sb, " %lld . ", (long long)p->countdown.target);
        if (rng_bernoulli(w->r, failures == 0 ? s->give_up_first : s->give_up_later)) {
            /* Gives up: answers the miss it just worked out. */
            snprintf(claim->text, sizeof claim->text, "%s", t.expr);
            claim->correct = false;
            return retried;
        }
        if (zh_retry) w->zh = 1.0;
        corpus_word(w, WORD_WAIT_RETRY);
        strbuf_puts(w->sb, " : ");
        retried = true;
    }
}

/* ---- plain ------------------------------------------------------------------------------------------- */

/* A wrong answer to a plain question: the smaller number, the other parity, the constant for the coefficient. */
static void plain_wrong(const struct problem *p, struct cot_claim *claim) {
    long long a = p->plain.a, b = p->plain.b;
    if (p->plain.form == TASK_PLAIN_LARGER)
        snprintf(claim->text, sizeof claim->text, "%lld", a < b ? a : b);
    else if (p->plain.form == TASK_PLAIN_PARITY)
        snprintf(claim->text, sizeof claim->text, "%s", a % 2 ? "even" : "odd");
    else
        snprintf(claim->text, sizeof claim->text, "%lld", b);
    claim->correct = false;
}

/* The "reasoning" of a plain question is its one-sentence answer; a slip answers it wrongly. */
static void plain_steps(struct cot_writer *w, const struct problem *p, bool slip, struct cot_claim *claim) {
    char reply[128];
    task_plain_reply(p, reply, sizeof reply);
    if (slip) {
        plain_wrong(p, claim);
        strbuf_printf(w->sb, "the answer is %s . ", claim->text);
        return;
    }
    strbuf_printf(w->sb, "%s ", reply);
    snprintf(claim->text, sizeof claim->text, "%s", p->answer);
    claim->correct = true;
}

/* ---- dispatch ---------------------------------------------------------------------------------------- */

void cot_restate(struct cot_writer *w, const struct problem *p, bool always) {
    if (p->kind == TASK_PLAIN) return; /* the question is its own statement */
    if (p->kind == TASK_LINEAR)
        linear_equation(w->sb, p);
    else if (!always)
        return;
    else if (p->kind == TASK_ARITH)
        strbuf_puts(w->sb, p->prompt + strlen("Compute: "));
    else
        strbuf_printf(w->sb, "make %lld", (long long)p->countdown.target);
    strbuf_puts(w->sb, " . ");
}

void cot_steps(struct cot_writer *w, const struct problem *p, bool slip, struct cot_claim *claim) {
    switch (p->kind) {
    case TASK_LINEAR:
        linear_steps(w, p, slip, claim);
        break;
    case TASK_ARITH:
        arith_steps(w, p, slip, claim);
        break;
    case TASK_COUNTDOWN:
        countdown_steps(w, p, slip, claim);
        break;
    case TASK_PLAIN:
        plain_steps(w, p, slip, claim);
        break;
    default:
        ASSERTF(0, "cot_steps: no worked solutions for %s", task_kind_name(p->kind));
    }
}

bool cot_check(struct cot_writer *w, const struct problem *p, const struct cot_claim *claim) {
    corpus_word(w, WORD_WAIT_CHECK);
    strbuf_puts(w->sb, " : ");
    bool ok;
    long long want; /* what a failed check says the value should have been */
    if (p->kind == TASK_LINEAR) {
        struct rat x;
        bool syntax;
        ASSERT(rat_parse(claim->text, strlen(claim->text), &x, &syntax) == RAT_OK && syntax);
        if (task_linear_two_sided(p) && rat_is_int(x)) {
            ok = linear_substitute_sides(w, w->sb, p, x.num);
            /* Both sides were evaluated: say that they differ rather than name a value. */
            if (ok) {
                strbuf_puts(w->sb, " . ");
                corpus_word(w, WORD_YES);
                strbuf_puts(w->sb, " . ");
            } else {
                strbuf_puts(w->sb, " , ");
                corpus_word(w, WORD_NOT_EQUAL);
                strbuf_puts(w->sb, " . ");
            }
            return ok;
        }
        ok = linear_substitute(w->sb, p, x);
        want = rat_is_int(x) ? p->linear.c : linear_moved(p);
    } else if (p->kind == TASK_PLAIN) {
        char reply[128];
        task_plain_reply(p, reply, sizeof reply);
        ok = claim->correct;
        strbuf_printf(w->sb, "%s %s", reply, ok ? ". yes . " : ", not ");
        if (!ok) strbuf_printf(w->sb, "%s . ", claim->text);
        return ok;
    } else if (p->kind == TASK_ARITH) {
        long long v = strtoll(claim->text, NULL, 10);
        ok = arith_verify(w->sb, p, v);
        /* A difference is checked by adding back ("71 + 23 = 94 , not 93"); a sum or product by redoing it
         * in the other order, which then disagrees with the claim ("23 + 47 = 70 , not 71"). */
        struct arith_step st[TASK_MAX_OPERANDS];
        int n = task_arith_steps(p, st);
        want = st[n - 1].op == '-' ? st[n - 1].lhs : v;
    } else {
        struct rat v = {0, 1};
        task_countdown_check(p->countdown.numbers, p->countdown.n, p->countdown.target, claim->text,
                             strlen(claim->text), &v, NULL, 0, NULL);
        strbuf_printf(w->sb, "%s = ", claim->text);
        put_rat(w->sb, v);
        ok = rat_eq(v, rat_int(p->countdown.target));
        want = p->countdown.target;
    }
    if (ok)
        strbuf_puts(w->sb, " . yes . ");
    else
        strbuf_printf(w->sb, " , not %lld . ", want);
    return ok;
}

void cot_search(struct cot_writer *w, const struct problem *p, struct cot_claim *claim) {
    ASSERT(task_linear_two_sided(p) && rat_is_int(p->linear.x));
    struct rat x;
    bool syntax;
    ASSERT(rat_parse(claim->text, strlen(claim->text), &x, &syntax) == RAT_OK && syntax && rat_is_int(x));
    long long truth = p->linear.x.num, v = x.num;
    /* left - right = (a - e) (x - truth) with a > e: a larger left side means x is too large. */
    corpus_word(w, v > truth ? WORD_LEFT_LARGER : WORD_LEFT_SMALLER);
    strbuf_puts(w->sb, " . ");
    while (v != truth) {
        v += v > truth ? -1 : 1;
        corpus_word(w, WORD_TRY);
        strbuf_printf(w->sb, " x = %lld : ", v);
        bool ok = linear_substitute_sides(w, w->sb, p, v);
        strbuf_puts(w->sb, ok ? " . " : " , ");
        corpus_word(w, ok ? WORD_YES : WORD_NOT_EQUAL);
        strbuf_puts(w->sb, " . ");
    }
    claim_rat(claim, rat_int(v), p->linear.x);
}

void cot_guess(struct rng *r, const struct problem *p, struct cot_claim *claim) {
    if (p->kind == TASK_LINEAR) {
        struct rat g;
        int64_t d = (int64_t)rng_range(r, 1, 3) * (rng_bernoulli(r, 0.5) ? 1 : -1);
        ASSERT(rat_add(p->linear.x, rat_int(d), &g) == RAT_OK);
        claim_rat(claim, g, p->linear.x);
    } else if (p->kind == TASK_ARITH) {
        claim_int(claim, p->arith.value + slip_delta(r), p->arith.value);
    } else if (p->kind == TASK_PLAIN) {
        plain_wrong(p, claim);
    } else {
        struct cd_try t;
        if (cd_random_try(r, p, &t)) {
            snprintf(claim->text, sizeof claim->text, "%s", t.expr);
        } else { /* every order and operator hits the target: say something that breaks the rules */
            snprintf(claim->text, sizeof claim->text, "%lld", (long long)p->countdown.target);
        }
        claim->correct = false;
    }
}

/* ---- cold start: readable solutions ------------------------------------------------------------------ */

void cot_readable(struct strbuf *sb, struct rng *r, const struct problem *p) {
    if (p->kind == TASK_PLAIN) return; /* non-reasoning: answered without a chain of thought */
    if (p->kind == TASK_LINEAR) {
        long long a = linear_net(p), b = p->linear.b, c = p->linear.c, m = linear_moved(p);
        bool minus = linear_minus(p);
        bool two = task_linear_two_sided(p);
        strbuf_puts(sb, "We need to solve ");
        linear_equation(sb, p);
        if (two) {
            strbuf_puts(sb, " . First , subtract ");
            put_term(sb, p->linear.e);
            strbuf_printf(sb, " from both sides : %lldx %c %lld = %lld", a, minus ? '-' : '+', b, c);
        }
        strbuf_printf(sb,
                      " . %s , %s %lld %s both sides : %lldx = %lld %c %lld = %lld . Then divide both sides "
                      "by %lld : ",
                      two ? "Next" : "First", minus ? "add" : "subtract", b, minus ? "to" : "from", a, c,
                      minus ? '+' : '-', b, m, a);
        linear_divide(sb, (int64_t)m, (int64_t)a);
        strbuf_puts(sb, " . Let me verify : ");
        linear_substitute(sb, p, p->linear.x);
        strbuf_puts(sb, " . This is correct .");
    } else if (p->kind == TASK_ARITH) {
        struct arith_step st[TASK_MAX_OPERANDS];
        int n = task_arith_steps(p, st);
        strbuf_puts(sb, "We need to compute ");
        strbuf_puts(sb, p->prompt + strlen("Compute: "));
        strbuf_puts(sb, " .");
        for (int i = 0; i < n; i++) {
            strbuf_puts(sb, n == 1 ? " " : i == 0 ? " First , " : i == n - 1 ? " Finally , " : " Next , ");
            if (st[i].op == '*')
                arith_product(sb, st[i].lhs, st[i].rhs);
            else
                strbuf_printf(sb, "%lld %c %lld", (long long)st[i].lhs, st[i].op, (long long)st[i].rhs);
            strbuf_printf(sb, " = %lld .", (long long)st[i].result);
        }
        strbuf_puts(sb, " Let me verify : ");
        arith_verify(sb, p, p->arith.value);
        strbuf_puts(sb, " . This is correct .");
    } else {
        strbuf_printf(sb, "We need to make %lld from ", (long long)p->countdown.target);
        for (int i = 0; i < p->countdown.n; i++)
            strbuf_printf(sb, "%s%lld",
                          i == 0                    ? ""
                          : i == p->countdown.n - 1 ? " and "
                                                    : " , ",
                          (long long)p->countdown.numbers[i]);
        strbuf_puts(sb, " , using each number once .");
        struct cd_try t;
        if (rng_bernoulli(r, 0.5) && cd_random_try(r, p, &t)) {
            strbuf_puts(sb, " Let me try ");
            cd_write_try(sb, &t, t.res[t.n - 1]);
            strbuf_printf(sb, " . That is not %lld .", (long long)p->countdown.target);
        }
        struct countdown_step st[TASK_MAX_NUMBERS];
        strbuf_puts(sb, " Let me try ");
        cd_write_steps(sb, st, cd_solution_steps(p, st));
        strbuf_printf(sb, " . That works . Let me verify : %s = %lld . This is correct .", p->answer,
                      (long long)p->countdown.target);
    }
}

void cot_summary(struct strbuf *sb, const struct problem *p) {
    if (p->kind == TASK_PLAIN) {
        char reply[128];
        task_plain_reply(p, reply, sizeof reply);
        strbuf_puts(sb, reply);
    } else if (p->kind == TASK_LINEAR && task_linear_two_sided(p)) {
        strbuf_puts(sb, "Moving ");
        put_term(sb, p->linear.e);
        strbuf_printf(sb, " to the left , %s %lld and dividing by %lld gives x = ",
                      linear_minus(p) ? "adding" : "subtracting", (long long)p->linear.b, (long long)linear_net(p));
        put_rat(sb, p->linear.x);
        strbuf_puts(sb, " .");
    } else if (p->kind == TASK_LINEAR) {
        strbuf_printf(sb, "%s %lld and dividing by %lld gives x = ",
                      p->linear.form == TASK_LINEAR_AX_MINUS_B ? "Adding" : "Subtracting", (long long)p->linear.b,
                      (long long)p->linear.a);
        put_rat(sb, p->linear.x);
        strbuf_puts(sb, " .");
    } else if (p->kind == TASK_ARITH) {
        strbuf_printf(sb, "So %s = %lld .", p->prompt + strlen("Compute: "), (long long)p->arith.value);
    } else {
        strbuf_printf(sb, "Using each number once , %s = %lld .", p->answer, (long long)p->countdown.target);
    }
}

/* The terse cold start's summary: the solution's steps again, in the words its reasoning used ("subtract 5x ,
 * subtract 12 , divide by 2 : x = 12 ."), so that a small base model writes a summary it can spell; prose it has
 * never read comes out garbled ("Mvoo x to the left , subtracto 12"). Other tasks keep cot_summary's. */
void cot_summary_terse(struct strbuf *sb, const struct problem *p) {
    if (p->kind != TASK_LINEAR) {
        cot_summary(sb, p);
        return;
    }
    if (task_linear_two_sided(p)) {
        strbuf_puts(sb, "subtract ");
        put_term(sb, p->linear.e);
        strbuf_puts(sb, " , ");
    }
    int64_t a = task_linear_two_sided(p) ? linear_net(p) : p->linear.a;
    strbuf_printf(sb, "%s %lld , divide by %lld : x = ", linear_minus(p) ? "add" : "subtract", (long long)p->linear.b,
                  (long long)a);
    put_rat(sb, p->linear.x);
    strbuf_puts(sb, " .");
}

/* ---- plain text -------------------------------------------------------------------------------------- */

void cot_plain(struct strbuf *sb, struct rng *r, const struct problem *p) {
    switch (rng_below(r, 3)) {
    case 0:
        strbuf_printf(sb, "%s. The answer is %s.", p->prompt, p->answer);
        break;
    case 1:
        strbuf_printf(sb, "Question: %s\nAnswer: %s", p->prompt, p->answer);
        break;
    default:
        if (p->kind == TASK_LINEAR) {
            linear_equation(sb, p);
            strbuf_printf(sb, " , so x = %s .", p->answer);
        } else if (p->kind == TASK_ARITH) {
            strbuf_printf(sb, "%s = %s", p->prompt + strlen("Compute: "), p->answer);
        } else if (p->kind == TASK_PLAIN) {
            char reply[128];
            task_plain_reply(p, reply, sizeof reply);
            strbuf_printf(sb, "%s ? %s", p->prompt, reply);
        } else {
            strbuf_printf(sb, "%s = %lld", p->answer, (long long)p->countdown.target);
        }
    }
}

void cot_verify_exercise(struct strbuf *sb, struct rng *r, const struct problem *p) {
    if (p->kind != TASK_LINEAR || !rat_is_int(p->linear.x)) {
        cot_plain(sb, r, p);
        return;
    }
    /* Half the claims are right, the others off by one or two: the verdict must come from the numbers. */
    long long x = p->linear.x.num;
    if (rng_bernoulli(r, 0.5)) x += (int64_t)rng_range(r, 1, 2) * (rng_bernoulli(r, 0.5) ? 1 : -1);
    strbuf_printf(sb, "Check x = %lld in ", x);
    linear_equation(sb, p);
    strbuf_puts(sb, " : ");
    bool ok;
    if (task_linear_two_sided(p)) {
        ok = linear_substitute_sides(NULL, sb, p, x);
    } else {
        ok = linear_substitute(sb, p, rat_int(x));
        if (!ok) strbuf_printf(sb, " , not %lld", (long long)p->linear.c);
    }
    strbuf_puts(sb, ok ? " . yes ." : task_linear_two_sided(p) ? " , not equal ." : " .");
}
