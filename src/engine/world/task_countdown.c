/* task_countdown: the Countdown numbers game as in TinyZero's RL setup — reach the target with + - * / and
 * parentheses, every given number used exactly once.
 *
 * Generation combines the numbers like a player would: pick two values from the pool, an operator, put
 * the result back, until one value (the target) is left. Only "clean" steps are drawn — subtraction with a
 * positive result, exact division by a number other than 1 — so every generated solution has small
 * non-negative integer intermediates a tiny model can follow; the verifier is more permissive (any exact
 * rational evaluation). The target must land in [1, max_target], otherwise the draw is retried.
 *
 * The verifier parses the candidate into a small tree (no recursion deeper than the 32 allowed nested
 * parentheses, at most TASK_COUNTDOWN_MAX_LITERALS literals), checks the literals against the given
 * numbers as a multiset, then evaluates with struct rat. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/strbuf.h"
#include "engine/world/task_impl.h"

#define MAX_NODES (2 * TASK_COUNTDOWN_MAX_LITERALS)
#define MAX_DEPTH 32

/* ---- verifier ---------------------------------------------------------------------------------------- */

enum tok { TOK_END, TOK_NUM, TOK_OP, TOK_LP, TOK_RP, TOK_EQ, TOK_BAD };

struct node {
    bool leaf;
    char op;
    int left, right;
    int64_t value; /* leaf */
    bool huge;     /* leaf literal beyond int64 */
};

struct parser {
    const char *s;
    size_t n, pos;
    enum tok tok; /* current token */
    char op;
    int64_t num;
    bool num_huge;
    struct node nodes[MAX_NODES];
    int n_nodes, n_literals, depth;
    bool error;
};

static void next_token(struct parser *p) {
    while (p->pos < p->n &&
           (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
    if (p->pos >= p->n) {
        p->tok = TOK_END;
        return;
    }
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c >= '0' && c <= '9') {
        int64_t v = 0;
        bool huge = false;
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
            if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, p->s[p->pos] - '0', &v)) huge = true;
            p->pos++;
        }
        p->tok = TOK_NUM;
        p->num = v;
        p->num_huge = huge;
        return;
    }
    p->pos++;
    switch (c) {
    case '+':
    case '-':
    case '*':
    case '/':
        p->tok = TOK_OP;
        p->op = (char)c;
        return;
    case '(':
        p->tok = TOK_LP;
        return;
    case ')':
        p->tok = TOK_RP;
        return;
    case '=':
        p->tok = TOK_EQ;
        return;
    case 0xC3: /* U+00D7 MULTIPLICATION SIGN, U+00F7 DIVISION SIGN */
        if (p->pos < p->n && ((unsigned char)p->s[p->pos] == 0x97 || (unsigned char)p->s[p->pos] == 0xB7)) {
            p->op = (unsigned char)p->s[p->pos] == 0x97 ? '*' : '/';
            p->pos++;
            p->tok = TOK_OP;
            return;
        }
    }
    p->tok = TOK_BAD;
}

static int new_node(struct parser *p, struct node nd) {
    if (p->n_nodes >= MAX_NODES) {
        p->error = true;
        return -1;
    }
    p->nodes[p->n_nodes] = nd;
    return p->n_nodes++;
}

static int parse_expr(struct parser *p);

static int parse_factor(struct parser *p) {
    if (p->error) return -1;
    if (p->tok == TOK_NUM) {
        if (++p->n_literals > TASK_COUNTDOWN_MAX_LITERALS) {
            p->error = true;
            return -1;
        }
        int id = new_node(p, (struct node){.leaf = true, .value = p->num, .huge = p->num_huge});
        next_token(p);
        return id;
    }
    if (p->tok == TOK_LP) {
        if (++p->depth > MAX_DEPTH) {
            p->error = true;
            return -1;
        }
        next_token(p);
        int id = parse_expr(p);
        if (p->error || p->tok != TOK_RP) {
            p->error = true;
            return -1;
        }
        p->depth--;
        next_token(p);
        return id;
    }
    p->error = true; /* includes a unary sign: there is no rule for it */
    return -1;
}

static int parse_term(struct parser *p) {
    int left = parse_factor(p);
    while (!p->error && p->tok == TOK_OP && (p->op == '*' || p->op == '/')) {
        char op = p->op;
        next_token(p);
        int right = parse_factor(p);
        left = new_node(p, (struct node){.op = op, .left = left, .right = right});
    }
    return left;
}

static int parse_expr(struct parser *p) {
    int left = parse_term(p);
    while (!p->error && p->tok == TOK_OP && (p->op == '+' || p->op == '-')) {
        char op = p->op;
        next_token(p);
        int right = parse_term(p);
        left = new_node(p, (struct node){.op = op, .left = left, .right = right});
    }
    return left;
}

struct eval {
    struct countdown_step *steps;
    int max_steps, n_steps;
};

static enum countdown_verdict eval_node(const struct parser *p, int id, struct eval *e, struct rat *out) {
    const struct node *nd = &p->nodes[id];
    if (nd->leaf) {
        *out = rat_int(nd->value);
        return COUNTDOWN_OK;
    }
    struct rat a, b;
    enum countdown_verdict v = eval_node(p, nd->left, e, &a);
    if (v != COUNTDOWN_OK) return v;
    if ((v = eval_node(p, nd->right, e, &b)) != COUNTDOWN_OK) return v;
    enum rat_result r = rat_apply(nd->op, a, b, out);
    if (r == RAT_DIV_ZERO) return COUNTDOWN_DIV_ZERO;
    if (r == RAT_OVERFLOW) return COUNTDOWN_OVERFLOW;
    if (e->steps && e->n_steps < e->max_steps) e->steps[e->n_steps++] = (struct countdown_step){a, b, *out, nd->op};
    return COUNTDOWN_OK;
}

enum countdown_verdict task_countdown_check(const int64_t *numbers, int n, int64_t target, const char *expr, size_t len,
                                            struct rat *value, struct countdown_step *steps, int max_steps,
                                            int *n_steps) {
    if (n_steps) *n_steps = 0;
    ASSERT(n >= 0 && n <= TASK_MAX_NUMBERS);
    struct parser parser = {0}, *p = &parser; /* about 1.5 KB */
    p->s = expr;
    p->n = len;
    next_token(p);
    int root = parse_expr(p);
    bool has_rhs = false;
    int64_t rhs = 0;
    bool rhs_huge = false;
    if (!p->error && p->tok == TOK_EQ) {
        next_token(p);
        if (p->tok != TOK_NUM) p->error = true;
        has_rhs = true;
        rhs = p->num;
        rhs_huge = p->num_huge;
        next_token(p);
    }
    enum countdown_verdict v = COUNTDOWN_OK;
    if (p->error || p->tok != TOK_END || root < 0) v = COUNTDOWN_SYNTAX;
    /* Literals against the given numbers, as a multiset. */
    bool used[TASK_MAX_NUMBERS] = {0};
    for (int i = 0; v == COUNTDOWN_OK && i < p->n_nodes; i++) {
        const struct node *nd = &p->nodes[i];
        if (!nd->leaf) continue;
        int free_match = -1;
        bool any_match = false;
        for (int k = 0; k < n && !nd->huge; k++) {
            if (numbers[k] != nd->value) continue;
            any_match = true;
            if (!used[k]) {
                free_match = k;
                break;
            }
        }
        if (free_match >= 0)
            used[free_match] = true;
        else
            v = any_match ? COUNTDOWN_REUSED_NUMBER : COUNTDOWN_UNKNOWN_NUMBER;
    }
    for (int k = 0; v == COUNTDOWN_OK && k < n; k++)
        if (!used[k]) v = COUNTDOWN_UNUSED_NUMBER;
    struct rat val = {0, 1};
    if (v == COUNTDOWN_OK) {
        struct eval e = {steps, max_steps, 0};
        v = eval_node(p, root, &e, &val);
        if (n_steps) *n_steps = e.n_steps;
        if (value && v == COUNTDOWN_OK) *value = val;
    }
    if (v == COUNTDOWN_OK && (!rat_eq(val, rat_int(target)) || (has_rhs && (rhs_huge || rhs != target))))
        v = COUNTDOWN_WRONG_VALUE;
    return v;
}

const char *task_countdown_verdict_name(enum countdown_verdict v) {
    switch (v) {
    case COUNTDOWN_OK:
        return "ok";
    case COUNTDOWN_SYNTAX:
        return "syntax";
    case COUNTDOWN_UNKNOWN_NUMBER:
        return "unknown_number";
    case COUNTDOWN_REUSED_NUMBER:
        return "reused_number";
    case COUNTDOWN_UNUSED_NUMBER:
        return "unused_number";
    case COUNTDOWN_DIV_ZERO:
        return "division_by_zero";
    case COUNTDOWN_OVERFLOW:
        return "overflow";
    case COUNTDOWN_WRONG_VALUE:
        return "wrong_value";
    }
    return "?";
}

/* ---- generator --------------------------------------------------------------------------------------- */

enum { PREC_ADD = 1, PREC_MUL = 2, PREC_ATOM = 3 };

struct item {
    int64_t value;
    int prec;
    char expr[TASK_KEY_MAX];
};

static int prec_of(char op) {
    return op == '+' || op == '-' ? PREC_ADD : PREC_MUL;
}

/* "L op R" with the parentheses precedence requires: the left side when it binds looser; the right side
 * also when it binds equally and op is not associative (a - (b + c), a / (b * c)). */
static bool combine_expr(const struct item *a, char op, const struct item *b, struct item *out) {
    int p = prec_of(op);
    bool pl = a->prec < p, pr = b->prec < p || (b->prec == p && (op == '-' || op == '/'));
    int n = snprintf(out->expr, sizeof out->expr, "%s%s%s %c %s%s%s", pl ? "(" : "", a->expr, pl ? ")" : "", op,
                     pr ? "(" : "", b->expr, pr ? ")" : "");
    out->prec = p;
    return n > 0 && (size_t)n < sizeof out->expr; /* cannot fail for <= 6 numbers of <= 4 digits */
}

void task_countdown_key(const int64_t *numbers, int n, int64_t target, char key[TASK_KEY_MAX]) {
    int64_t s[TASK_MAX_NUMBERS];
    memcpy(s, numbers, (size_t)n * sizeof *s);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && s[j - 1] > s[j]; j--) {
            int64_t t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    int k = snprintf(key, TASK_KEY_MAX, "countdown:");
    for (int i = 0; i < n; i++) k += snprintf(key + k, TASK_KEY_MAX - (size_t)k, "%lld,", (long long)s[i]);
    snprintf(key + k, TASK_KEY_MAX - (size_t)k, "=%lld", (long long)target);
}

char *task_countdown_prompt(const int64_t *numbers, int n, int64_t target) {
    struct strbuf sb = {0};
    strbuf_puts(&sb, "Using the numbers ");
    for (int i = 0; i < n; i++) strbuf_printf(&sb, "%s%lld", i ? ", " : "", (long long)numbers[i]);
    strbuf_printf(&sb, ", make %lld. Use + - * / and each number exactly once", (long long)target);
    return strbuf_detach(&sb);
}

bool task_countdown_draw(const struct task_config *c, struct rng *r, struct problem *p, char key[TASK_KEY_MAX]) {
    int n = c->countdown.numbers;
    struct item pool[TASK_MAX_NUMBERS];
    p->countdown.n = n;
    for (int i = 0; i < n; i++) {
        int64_t v = rng_range(r, 1, c->countdown.max_number);
        p->countdown.numbers[i] = v;
        pool[i] = (struct item){.value = v, .prec = PREC_ATOM};
        snprintf(pool[i].expr, sizeof pool[i].expr, "%lld", (long long)v);
    }
    for (int count = n; count > 1; count--) {
        int i = (int)rng_below(r, (uint64_t)count), j = (int)rng_below(r, (uint64_t)count - 1);
        if (j >= i) j++;
        char op = "+-*/"[rng_below(r, 4)];
        const struct item *a = &pool[i], *b = &pool[j];
        if ((op == '-' || op == '/') && a->value < b->value) {
            const struct item *t = a;
            a = b;
            b = t;
        }
        int64_t v = 0;
        if (op == '+' && __builtin_add_overflow(a->value, b->value, &v)) return false;
        if (op == '*' && __builtin_mul_overflow(a->value, b->value, &v)) return false;
        if (op == '-') {
            if (a->value == b->value) return false; /* a zero intermediate makes the rest trivial */
            v = a->value - b->value;
        }
        if (op == '/') {
            if (b->value <= 1 || a->value % b->value != 0) return false;
            v = a->value / b->value;
        }
        struct item res = {.value = v};
        if (!combine_expr(a, op, b, &res)) return false;
        /* Replace i and j by the result: the result goes to the lower slot, the last item to the other. */
        int lo = i < j ? i : j, hi = i < j ? j : i;
        pool[lo] = res;
        pool[hi] = pool[count - 1];
    }
    int64_t target = pool[0].value;
    if (target < 1 || target > c->countdown.max_target) return false;
    p->countdown.target = target;
    task_countdown_key(p->countdown.numbers, n, target, key);
    /* The solution exists only now; keep it (task.c frees it if the draw is rejected for its split). */
    p->answer = strdup(pool[0].expr);
    return p->answer != NULL;
}

enum status task_countdown_render(struct problem *p) {
    p->prompt = task_countdown_prompt(p->countdown.numbers, p->countdown.n, p->countdown.target);
    if (!p->prompt || !p->answer) return err_set(STATUS_NOMEM, "out of memory making a countdown problem");
    return STATUS_OK;
}
