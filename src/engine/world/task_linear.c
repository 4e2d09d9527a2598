/* task_linear: "Solve: 2x + 3 = 7". Three surface forms of one equation family, a*x + b = c, a*x - b = c and
 * b + a*x = c, with a >= 2 and b >= 1 so that every problem takes exactly two steps (move b, divide by a).
 * The canonical key is (a, signed b, c): "2x + 3 = 7" and "3 + 2x = 7" are the same problem and always land
 * in the same split; "2x - 3 = 7" is a different one.
 *
 * Two-sided problems ("5x + 3 = 2x + 18", a share two_sided_share of them) take a third step first: moving
 * e*x over leaves (a - e)*x + b = c. Their key is (a, e, signed b, c), so they never collide with the
 * one-sided problem they reduce to, and they have a held-out split of their own. The draw consumes no random
 * numbers for them unless two_sided_share > 0, so worlds without them are the problems they always were. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/world/task_impl.h"

bool task_linear_draw(const struct task_config *c, struct rng *r, struct problem *p, char key[TASK_KEY_MAX]) {
    bool two_sided = c->linear.two_sided_share > 0 && rng_bernoulli(r, c->linear.two_sided_share);
    if (two_sided && c->linear.max_coef < 3) return false;
    int64_t a = rng_range(r, two_sided ? 3 : 2, c->linear.max_coef);
    int64_t e = two_sided ? rng_range(r, 1, a - 2) : 0;
    enum task_linear_form form =
        two_sided ? (rng_bernoulli(r, 0.5) ? TASK_LINEAR_TWO_SIDED_PLUS : TASK_LINEAR_TWO_SIDED_MINUS)
                  : (enum task_linear_form)rng_below(r, 3);
    int64_t b = rng_range(r, 1, c->linear.max_const);
    bool negative = rng_bernoulli(r, c->linear.negative_share);
    bool fraction = rng_bernoulli(r, c->linear.fraction_share);
    int64_t net = a - e; /* the coefficient once e*x has moved over (a when one-sided) */
    /* net*x, the value after moving b: an integer multiple of net, or for a fractional x any integer that
     * net does not divide. */
    int64_t ax;
    if (fraction) {
        int64_t span = net * (int64_t)c->linear.max_solution;
        do ax = rng_range(r, 1, span);
        while (ax % net == 0);
    } else {
        ax = net * rng_range(r, 1, c->linear.max_solution);
    }
    if (negative) ax = -ax;
    bool minus = form == TASK_LINEAR_AX_MINUS_B || form == TASK_LINEAR_TWO_SIDED_MINUS;
    int64_t signed_b = minus ? -b : b;
    p->linear.a = a;
    p->linear.b = b;
    p->linear.c = ax + signed_b;
    p->linear.e = e;
    p->linear.form = form;
    /* The right side "e*x + c" is written with a positive constant. */
    if (two_sided && p->linear.c < 1) return false;
    if (rat_make(ax, net, &p->linear.x) != RAT_OK) return false;
    if (two_sided)
        snprintf(key, TASK_KEY_MAX, "linear2:%lld:%lld:%lld:%lld", (long long)a, (long long)e, (long long)signed_b,
                 (long long)p->linear.c);
    else
        snprintf(key, TASK_KEY_MAX, "linear:%lld:%lld:%lld", (long long)a, (long long)signed_b, (long long)p->linear.c);
    return true;
}

void task_linear_term(char *out, size_t cap, int64_t coef) {
    if (coef == 1)
        snprintf(out, cap, "x");
    else
        snprintf(out, cap, "%lldx", (long long)coef);
}

bool task_linear_two_sided(const struct problem *p) {
    return p->kind == TASK_LINEAR &&
           (p->linear.form == TASK_LINEAR_TWO_SIDED_PLUS || p->linear.form == TASK_LINEAR_TWO_SIDED_MINUS);
}

enum status task_linear_render(struct problem *p) {
    long long a = p->linear.a, b = p->linear.b, c = p->linear.c;
    char prompt[128], answer[RAT_STRLEN], ex[32];
    task_linear_term(ex, sizeof ex, p->linear.e);
    switch (p->linear.form) {
    case TASK_LINEAR_AX_PLUS_B:
        snprintf(prompt, sizeof prompt, "Solve: %lldx + %lld = %lld", a, b, c);
        break;
    case TASK_LINEAR_AX_MINUS_B:
        snprintf(prompt, sizeof prompt, "Solve: %lldx - %lld = %lld", a, b, c);
        break;
    case TASK_LINEAR_B_PLUS_AX:
        snprintf(prompt, sizeof prompt, "Solve: %lld + %lldx = %lld", b, a, c);
        break;
    case TASK_LINEAR_TWO_SIDED_PLUS:
        snprintf(prompt, sizeof prompt, "Solve: %lldx + %lld = %s + %lld", a, b, ex, c);
        break;
    case TASK_LINEAR_TWO_SIDED_MINUS:
        snprintf(prompt, sizeof prompt, "Solve: %lldx - %lld = %s + %lld", a, b, ex, c);
        break;
    }
    rat_format(answer, sizeof answer, p->linear.x);
    p->prompt = strdup(prompt);
    p->answer = strdup(answer);
    if (!p->prompt || !p->answer) return err_set(STATUS_NOMEM, "out of memory making a linear problem");
    return STATUS_OK;
}
