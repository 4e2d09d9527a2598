/* task_plain: trivial queries that need no reasoning — R1's "non-reasoning data", which its recipe answers
 * plainly, without a chain of thought, and scores for helpfulness rather than for reasoning. Three forms:
 *   larger       "Which is larger: 12 or 7"                         answer "12"
 *   parity       "Is 14 even or odd"                                answer "even"
 *   coefficient  "What is the coefficient of x in 3x + 5 = 11"      answer "3"
 * Numbers are fixed small ranges (there are no difficulty settings: the point is that no step is needed).
 * The key is the form and its numbers; "12 or 7" and "7 or 12" are different problems. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/world/task_impl.h"

bool task_plain_draw(const struct task_config *c, struct rng *r, struct problem *p, char key[TASK_KEY_MAX]) {
    (void)c;
    enum task_plain_form form = (enum task_plain_form)rng_below(r, TASK_PLAIN_FORM_COUNT);
    int64_t a = 0, b = 0, cc = 0;
    switch (form) {
    case TASK_PLAIN_LARGER:
        a = rng_range(r, 1, 99);
        b = rng_range(r, 1, 99);
        if (a == b) return false;
        break;
    case TASK_PLAIN_PARITY:
        a = rng_range(r, 1, 199);
        break;
    default:
        a = rng_range(r, 2, 9);
        b = rng_range(r, 1, 20);
        cc = a * rng_range(r, 1, 12) + b;
        break;
    }
    p->plain.form = form;
    p->plain.a = a;
    p->plain.b = b;
    p->plain.c = cc;
    snprintf(key, TASK_KEY_MAX, "plain:%d:%lld:%lld:%lld", (int)form, (long long)a, (long long)b, (long long)cc);
    return true;
}

enum status task_plain_render(struct problem *p) {
    long long a = p->plain.a, b = p->plain.b, c = p->plain.c;
    char prompt[128], answer[32];
    switch (p->plain.form) {
    case TASK_PLAIN_LARGER:
        snprintf(prompt, sizeof prompt, "Which is larger: %lld or %lld", a, b);
        snprintf(answer, sizeof answer, "%lld", a > b ? a : b);
        break;
    case TASK_PLAIN_PARITY:
        snprintf(prompt, sizeof prompt, "Is %lld even or odd", a);
        snprintf(answer, sizeof answer, "%s", a % 2 ? "odd" : "even");
        break;
    default:
        snprintf(prompt, sizeof prompt, "What is the coefficient of x in %lldx + %lld = %lld", a, b, c);
        snprintf(answer, sizeof answer, "%lld", a);
        break;
    }
    p->prompt = strdup(prompt);
    p->answer = strdup(answer);
    if (!p->prompt || !p->answer) return err_set(STATUS_NOMEM, "out of memory making a plain problem");
    return STATUS_OK;
}

void task_plain_reply(const struct problem *p, char *out, size_t cap) {
    long long a = p->plain.a, b = p->plain.b;
    switch (p->plain.form) {
    case TASK_PLAIN_LARGER:
        snprintf(out, cap, "%lld is larger than %lld .", a > b ? a : b, a > b ? b : a);
        break;
    case TASK_PLAIN_PARITY:
        snprintf(out, cap, "%lld is %s .", a, a % 2 ? "odd" : "even");
        break;
    default:
        snprintf(out, cap, "The coefficient of x is %lld .", a);
        break;
    }
}
