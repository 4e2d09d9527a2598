/* task_linear: "Solve: 2x + 3 = 7". Three surface forms of one equation family, a*x + b = c, a*x - b = c and
 * b + a*x = c, with a >= 2 and b >= 1 so that every problem takes exactly two steps (move b, divide by a).
 * The canonical key is (a, signed b, c): "2x + 3 = 7" and "3 + 2x = 7" are the same problem and always land
 * in the same split; "2x - 3 = 7" is a different one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/world/task_impl.h"

bool task_linear_draw(const struct task_config *c, struct rng *r, struct problem *p, char key[TASK_KEY_MAX]) {
    int64_t a = rng_range(r, 2, c->linear.max_coef);
    enum task_linear_form form = (enum task_linear_form)rng_below(r, 3);
    int64_t b = rng_range(r, 1, c->linear.max_const);
    bool negative = rng_bernoulli(r, c->linear.negative_share);
    bool fraction = rng_bernoulli(r, c->linear.fraction_share);
    /* a*x, the value after moving b: an integer multiple of a, or for a fractional x any integer that a
     * does not divide. */
    int64_t ax;
    if (fraction) {
        int64_t span = a * (int64_t)c->linear.max_solution;
        do ax = rng_range(r, 1, span);
        while (ax % a == 0);
    } else {
        ax = a * rng_range(r, 1, c->linear.max_solution);
    }
    if (negative) ax = -ax;
    int64_t signed_b = form == TASK_LINEAR_AX_MINUS_B ? -b : b;
    p->linear.a = a;
    p->linear.b = b;
    p->linear.c = ax + signed_b;
    p->linear.form = form;
    if (rat_make(ax, a, &p->linear.x) != RAT_OK) return false;
    snprintf(key, TASK_KEY_MAX, "linear:%lld:%lld:%lld", (long long)a, (long long)signed_b, (long long)p->linear.c);
    return true;
}

enum status task_linear_render(struct problem *p) {
    long long a = p->linear.a, b = p->linear.b, c = p->linear.c;
    char prompt[128], answer[RAT_STRLEN];
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
    }
    rat_format(answer, sizeof answer, p->linear.x);
    p->prompt = strdup(prompt);
    p->answer = strdup(answer);
    if (!p->prompt || !p->answer) return err_set(STATUS_NOMEM, "out of memory making a linear problem");
    return STATUS_OK;
}
