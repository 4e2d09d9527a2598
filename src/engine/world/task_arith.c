/* task_arith: "Compute: 47 * 23", "Compute: 12 + 7 * 3". Every operand has exactly `digits` digits (one
 * digit means 2..9: multiplying by 1 or 0 teaches nothing); operators come from the configured subset of
 * + - *; the usual precedence holds and the answer is an integer (possibly negative). Draws whose value
 * would overflow int64 are retried. The key is the expression text, with the operands of a lone + or *
 * sorted so that "23 * 47" and "47 * 23" share a split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/world/task_impl.h"

int task_arith_steps(const struct problem *p, struct arith_step *steps) {
    int n = p->arith.n, ns = 0;
    int64_t v[TASK_MAX_OPERANDS];
    char op[TASK_MAX_OPERANDS];
    memcpy(v, p->arith.v, sizeof v);
    memcpy(op, p->arith.op, sizeof p->arith.op);
    /* Products first, leftmost first: fold v[i] * v[i+1] into v[i] and close the gap. */
    for (int i = 0; i < n - 1;) {
        if (op[i] != '*') {
            i++;
            continue;
        }
        int64_t res;
        ASSERT(!__builtin_mul_overflow(v[i], v[i + 1], &res)); /* draw guarantees it fits */
        steps[ns++] = (struct arith_step){v[i], v[i + 1], res, '*'};
        v[i] = res;
        for (int k = i + 1; k < n - 1; k++) v[k] = v[k + 1];
        for (int k = i; k < n - 2; k++) op[k] = op[k + 1];
        n--;
    }
    for (int i = 1; i < n; i++) {
        int64_t res;
        char o = op[i - 1];
        bool of = o == '+' ? __builtin_add_overflow(v[0], v[i], &res) : __builtin_sub_overflow(v[0], v[i], &res);
        ASSERT(!of);
        steps[ns++] = (struct arith_step){v[0], v[i], res, o};
        v[0] = res;
    }
    return ns;
}

/* Evaluates with overflow checks (task_arith_steps asserts; this decides whether a draw is usable). */
static bool eval_checked(const int64_t v0[TASK_MAX_OPERANDS], const char op0[TASK_MAX_OPERANDS - 1], int n,
                         int64_t *out) {
    ASSERT(n >= 2 && n <= TASK_MAX_OPERANDS);
    int64_t v[TASK_MAX_OPERANDS];
    char op[TASK_MAX_OPERANDS];
    memcpy(v, v0, sizeof v);
    memcpy(op, op0, TASK_MAX_OPERANDS - 1);
    for (int i = 0; i < n - 1;) {
        if (op[i] != '*') {
            i++;
            continue;
        }
        if (__builtin_mul_overflow(v[i], v[i + 1], &v[i])) return false;
        for (int k = i + 1; k < n - 1; k++) v[k] = v[k + 1];
        for (int k = i; k < n - 2; k++) op[k] = op[k + 1];
        n--;
    }
    for (int i = 1; i < n; i++)
        if (op[i - 1] == '+' ? __builtin_add_overflow(v[0], v[i], &v[0]) : __builtin_sub_overflow(v[0], v[i], &v[0]))
            return false;
    *out = v[0];
    return true;
}

static void format_expr(const int64_t *v, const char *op, int n, char *out, size_t cap) {
    size_t k = (size_t)snprintf(out, cap, "%lld", (long long)v[0]);
    for (int i = 1; i < n && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, " %c %lld", op[i - 1], (long long)v[i]);
}

bool task_arith_draw(const struct task_config *c, struct rng *r, struct problem *p, char key[TASK_KEY_MAX]) {
    int d = c->arith.digits, n = c->arith.operands;
    int64_t lo = 1, hi;
    for (int i = 1; i < d; i++) lo *= 10;
    hi = lo * 10 - 1;
    if (d == 1) lo = 2;
    size_t n_ops = strlen(c->arith.ops);
    ASSERT(n_ops > 0);
    p->arith.n = n;
    for (int i = 0; i < n; i++) p->arith.v[i] = rng_range(r, lo, hi);
    for (int i = 0; i < n - 1; i++) p->arith.op[i] = c->arith.ops[rng_below(r, n_ops)];
    if (!eval_checked(p->arith.v, p->arith.op, n, &p->arith.value)) return false;
    int64_t kv[TASK_MAX_OPERANDS];
    memcpy(kv, p->arith.v, sizeof kv);
    if (n == 2 && (p->arith.op[0] == '+' || p->arith.op[0] == '*') && kv[0] > kv[1]) {
        int64_t t = kv[0];
        kv[0] = kv[1];
        kv[1] = t;
    }
    int k = snprintf(key, TASK_KEY_MAX, "arith:");
    format_expr(kv, p->arith.op, n, key + k, TASK_KEY_MAX - (size_t)k);
    return true;
}

enum status task_arith_render(struct problem *p) {
    char expr[128], prompt[160], answer[32];
    format_expr(p->arith.v, p->arith.op, p->arith.n, expr, sizeof expr);
    snprintf(prompt, sizeof prompt, "Compute: %s", expr);
    snprintf(answer, sizeof answer, "%lld", (long long)p->arith.value);
    p->prompt = strdup(prompt);
    p->answer = strdup(answer);
    if (!p->prompt || !p->answer) return err_set(STATUS_NOMEM, "out of memory making an arith problem");
    return STATUS_OK;
}
