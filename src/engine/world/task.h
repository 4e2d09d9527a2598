/* task: the built-in world of verifiable problems — seeded generators with a fixed held-out split, and the
 * verifiers that decide whether a final answer is right. No model code: a problem is text plus a checker.
 *
 * Kinds
 *   linear     "Solve: 2x + 3 = 7"           three forms: a*x + b = c, a*x - b = c, b + a*x = c (a >= 2, b >= 1);
 *                                            integer solutions, optionally negative or fractional ("7/3");
 *                                            optionally x on both sides: "Solve: 5x + 3 = 2x + 18" (three steps).
 *   arith      "Compute: 47 * 23"            2..4 operands of a fixed number of digits with + - *, usual
 *                                            precedence; the answer is an integer.
 *   countdown  "Using the numbers 3, 5, 7, make 22. Use + - * / and each number exactly once"
 *                                            the answer is an expression (see task_countdown_check).
 *   plain      "Which is larger: 12 or 7"     trivial queries that need no reasoning (which is larger, even or odd,
 *                                            the coefficient of x): R1's non-reasoning data, answered plainly
 *                                            without a CoT. Answers are a number or a word ("even").
 *   dataset    user problems (dataset.h) with a gold answer string; also what task_problem_from_answer makes.
 * The prompt is the question only (no template) and never ends in punctuation, because the R1-Zero
 * template appends '.' right after it ("User: {prompt}. Assistant:").
 *
 * Held-out split. Problem `index` of (config, split, seed) is a pure function of those values. Whether a
 * problem belongs to "train" or "test" is decided by a hash of its canonical key (linear: a, signed b, c;
 * two-sided: a, e, signed b, c; arith: the expression with the two operands of a lone + or * sorted; countdown: the
 * sorted numbers and the target) — not by the seed, the index or the difficulty. The generator draws candidates from a
 * stream seeded by (kind, split, seed, index) until one falls in the requested split. So train and test never share a
 * problem, for any seeds and any difficulty settings; about TASK_TEST_PERMILLE / 1000 of every problem space
 * is held out. Problems may repeat within a split (small difficulty settings have few distinct problems).
 *
 * Verification. Numeric kinds compare the candidate with the gold answer through answer.h (exact rationals;
 * "x = 2", "2.0", "+2", "002", "4/2" all equal 2). Countdown parses the candidate as an expression, see
 * task_countdown_check. The candidate is the already-extracted final answer (reward.h extracts it). */
#ifndef R1LAB_TASK_H
#define R1LAB_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "engine/util/rational.h"
#include "engine/util/status.h"

enum task_kind { TASK_LINEAR, TASK_ARITH, TASK_COUNTDOWN, TASK_PLAIN, TASK_DATASET, TASK_KIND_COUNT };
enum task_split { TASK_SPLIT_TRAIN, TASK_SPLIT_TEST };

#define TASK_TEST_PERMILLE 100 /* share of each problem space held out for "test", in 1/1000 */
#define TASK_MAX_OPERANDS 4    /* arith */
#define TASK_MAX_NUMBERS 6     /* countdown */

/* The two-sided forms have x on both sides: a*x + b = e*x + c and a*x - b = e*x + c, with a - e >= 2, so
 * that moving e*x over leaves a one-sided problem (a - e)*x +- b = c with the same two further steps. */
enum task_linear_form {
    TASK_LINEAR_AX_PLUS_B,
    TASK_LINEAR_AX_MINUS_B,
    TASK_LINEAR_B_PLUS_AX,
    TASK_LINEAR_TWO_SIDED_PLUS,
    TASK_LINEAR_TWO_SIDED_MINUS,
};

enum task_plain_form { TASK_PLAIN_LARGER, TASK_PLAIN_PARITY, TASK_PLAIN_COEFFICIENT, TASK_PLAIN_FORM_COUNT };

/* Difficulty knobs. task_config_default gives the defaults below; the reasons for them are in corpus.h. */
struct task_config {
    enum task_kind kind;
    struct {
        int max_coef;           /* a in [2, max_coef]                         default 9  (2..1000) */
        int max_solution;       /* |x| in [1, max_solution] for integer x     default 12 (1..100000) */
        int max_const;          /* b in [1, max_const]                        default 20 (1..100000) */
        double negative_share;  /* share of problems with x < 0               default 0.15 */
        double fraction_share;  /* share with a non-integer x ("7/3")         default 0 */
        double two_sided_share; /* share with x on both sides ("5x + 3 = 2x + 18") default 0; their
                                 * right-side coefficient e is in [1, a - 2], a in [3, max_coef] */
    } linear;
    struct {
        int digits;   /* digits of every operand (1 digit: 2..9)  default 2 (1..6) */
        int operands; /* operands per expression                  default 2 (2..4) */
        char ops[4];  /* allowed operators, a subset of "+-*"     default "+-*" */
    } arith;
    struct {
        int numbers;    /* given numbers                       default 3 (2..6) */
        int max_number; /* each given number in [1, max]      default 9 (2..1000) */
        int max_target; /* target in [1, max_target]          default 50 (1..1000000) */
    } countdown;
};

struct problem {
    enum task_kind kind;
    char *prompt; /* the question, no template (malloc'd) */
    char *answer; /* canonical gold answer (malloc'd): "2", "-7/3", "1081"; countdown: one solution */
    uint64_t key; /* hash of the canonical key; decides the split; equal problems have equal keys */
    union {       /* structured form, valid for the built-in kinds (zero for dataset) */
        struct {
            int64_t a, b, c; /* a, b > 0; the equation depends on form */
            int64_t e;       /* two-sided forms: the right side's coefficient (1 <= e <= a - 2); else 0 */
            enum task_linear_form form;
            struct rat x; /* the solution */
        } linear;
        struct {
            enum task_plain_form form;
            int64_t a, b, c; /* larger: a vs b; parity: a; coefficient: a x + b = c */
        } plain;
        struct {
            int n;                          /* operands */
            int64_t v[TASK_MAX_OPERANDS];   /* operands, left to right */
            char op[TASK_MAX_OPERANDS - 1]; /* op[i] sits between v[i] and v[i+1] */
            int64_t value;                  /* the result */
        } arith;
        struct {
            int n; /* given numbers, in prompt order */
            int64_t numbers[TASK_MAX_NUMBERS];
            int64_t target;
        } countdown;
    };
};

const char *task_kind_name(enum task_kind kind);
/* "linear", "arith", "countdown", "plain", "dataset"; an unknown name is STATUS_INVALID listing the valid ones. */
enum status task_kind_parse(const char *name, enum task_kind *out);
const char *task_split_name(enum task_split split);
enum status task_split_parse(const char *name, enum task_split *out);

void task_config_default(struct task_config *c, enum task_kind kind);
/* Applies difficulty overrides from a JSON object ({"max_coef": 20, "fraction_share": 0.2}) for c->kind.
 * Unknown keys, wrong types and out-of-range values are STATUS_INVALID naming `where` and the key and
 * listing the valid keys. */
enum status task_config_set(struct task_config *c, const cJSON *params, const char *where);

/* Problem `index` of the split. Fails only for lack of memory, or with STATUS_INVALID when the settings
 * leave no problem in the requested split (a problem space of a handful of problems). c->kind must be a
 * built-in kind. Free with task_problem_free. */
enum status task_generate(const struct task_config *c, enum task_split split, uint64_t seed, uint64_t index,
                          struct problem *out);
/* The split a canonical key belongs to (what task_generate honours). */
enum task_split task_split_of(uint64_t key);

/* A problem of kind `kind` from a question and a gold answer only (user datasets, `r1lab world check`).
 * Verification is answer equality; the structured fields stay zero. Countdown needs
 * task_problem_countdown instead. */
enum status task_problem_from_answer(struct problem *out, enum task_kind kind, const char *prompt, const char *answer);
/* A Countdown problem from its numbers (n in 1..TASK_MAX_NUMBERS, each >= 0) and target. prompt NULL gives
 * the standard wording. The gold `answer` is the target's decimal text (no solution is searched for). */
enum status task_problem_countdown(struct problem *out, const int64_t *numbers, int n, int64_t target,
                                   const char *prompt);
void task_problem_free(struct problem *p); /* accepts a zeroed struct */

/* "x" for coefficient 1, else "5x": how a linear term is written in prompts and worked solutions. */
void task_linear_term(char *out, size_t cap, int64_t coef);
/* A plain problem's answer as one plain sentence ("12 is larger than 7 ."). */
void task_plain_reply(const struct problem *p, char *out, size_t cap);
/* Linear problems with x on both sides. */
bool task_linear_two_sided(const struct problem *p);

/* Is the extracted candidate answer correct for p? */
bool task_check_answer(const struct problem *p, const char *candidate, size_t len);
/* The candidate's canonical form, for majority voting (cons@k) and logs: numeric kinds give answer.h's
 * canonical text ("1/2" for "0.5"); countdown gives the expression's value when the expression obeys the
 * rules ("22"), else "invalid". Two candidates vote together iff their canonical forms are equal; a form is
 * correct iff task_check_answer says so. *out is malloc'd. */
enum status task_canonical_answer(const struct problem *p, const char *candidate, size_t len, char **out);

/* Countdown. The candidate must be an arithmetic expression over non-negative integer literals with binary
 * + - * / (also U+00D7 and U+00F7) and parentheses, optionally followed by "= N" where N must be the
 * target. Rules, as in the TinyZero Countdown setup: every given number is used exactly once (a number
 * given twice may be used twice) and no other literal appears; no unary minus or plus ("-3 + 5" is a
 * syntax error: the given numbers are the only operands); evaluation is exact with rationals, so
 * non-integer intermediates are fine ("8 / 3 * 6" = 16) and dividing by zero is wrong; the value must
 * equal the target exactly. At most TASK_COUNTDOWN_MAX_LITERALS literals and 32 nested parentheses. */
#define TASK_COUNTDOWN_MAX_LITERALS 16
enum countdown_verdict {
    COUNTDOWN_OK,
    COUNTDOWN_SYNTAX,         /* not an expression of the allowed form */
    COUNTDOWN_UNKNOWN_NUMBER, /* a literal that is not among the given numbers */
    COUNTDOWN_REUSED_NUMBER,  /* a given number used more often than given */
    COUNTDOWN_UNUSED_NUMBER,  /* a given number not used */
    COUNTDOWN_DIV_ZERO,
    COUNTDOWN_OVERFLOW,    /* an intermediate outside int64 rationals */
    COUNTDOWN_WRONG_VALUE, /* well-formed, but the value (or the "= N") is not the target */
};
struct countdown_step {
    struct rat lhs, rhs, result;
    char op; /* '+', '-', '*', '/' */
};
/* Checks expr[0..len) against numbers/target. When steps is given, the evaluation's binary operations are
 * stored in evaluation order (post-order; at most max_steps, *n_steps says how many) — the corpus writes
 * its worked solutions from them. *value (may be NULL) gets the expression's value when it has one. */
enum countdown_verdict task_countdown_check(const int64_t *numbers, int n, int64_t target, const char *expr, size_t len,
                                            struct rat *value, struct countdown_step *steps, int max_steps,
                                            int *n_steps);
const char *task_countdown_verdict_name(enum countdown_verdict v);

/* Arith: the evaluation in order (all '*' left to right first, then '+' and '-' left to right), one step per
 * operator; returns the number of steps (p->arith.n - 1). For worked solutions. */
struct arith_step {
    int64_t lhs, rhs, result;
    char op;
};
int task_arith_steps(const struct problem *p, struct arith_step *steps);

#endif
