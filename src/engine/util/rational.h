/* rational: exact rational arithmetic on int64_t, for answers that are fractions and for evaluating
 * Countdown expressions without rounding.
 *
 * A struct rat is always normalised: den > 0, gcd(|num|, den) == 1, zero is 0/1, and neither part is
 * INT64_MIN (so negation never overflows). Every operation checks for overflow with the compiler's
 * checked-arithmetic builtins and reports it as a failure instead of wrapping: callers treat an
 * overflowing answer as wrong, never as undefined behaviour. Operands are reduced by common factors
 * before multiplying, so results that fit are found even when naive cross-products would not. */
#ifndef R1LAB_RATIONAL_H
#define R1LAB_RATIONAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rat {
    int64_t num;
    int64_t den; /* > 0 */
};

enum rat_result {
    RAT_OK = 0,
    RAT_OVERFLOW, /* the exact result does not fit in int64 */
    RAT_DIV_ZERO, /* division by zero, or a zero denominator */
};

static inline struct rat rat_int(int64_t v) {
    return (struct rat){v, 1};
}
/* num / den, normalised. */
enum rat_result rat_make(int64_t num, int64_t den, struct rat *out);
enum rat_result rat_add(struct rat a, struct rat b, struct rat *out);
enum rat_result rat_sub(struct rat a, struct rat b, struct rat *out);
enum rat_result rat_mul(struct rat a, struct rat b, struct rat *out);
enum rat_result rat_div(struct rat a, struct rat b, struct rat *out);
/* Applies '+', '-', '*' or '/' (asserts on anything else). */
enum rat_result rat_apply(char op, struct rat a, struct rat b, struct rat *out);

bool rat_eq(struct rat a, struct rat b);
/* -1, 0 or 1; exact (compares with 128-bit cross products). */
int rat_cmp(struct rat a, struct rat b);
static inline bool rat_is_int(struct rat a) {
    return a.den == 1;
}

/* Canonical text: "7", "-3", "7/3", "-3/4". Returns the length (like snprintf). */
#define RAT_STRLEN 48 /* enough for any struct rat: two 20-char numbers, '-', '/', NUL */
size_t rat_format(char *out, size_t cap, struct rat a);

/* Parses a plain number: optional sign ('+' or '-'), then an integer ("007"), a decimal ("2.50", ".5",
 * "3.") or a fraction of two unsigned integers ("1/2"); no spaces, no exponent. Leading zeros are fine.
 * Returns RAT_OK, RAT_OVERFLOW when the value is well-formed but does not fit, RAT_DIV_ZERO for "1/0",
 * and sets *syntax_ok = false (returning RAT_OK is then impossible) when s is not a number at all. */
enum rat_result rat_parse(const char *s, size_t len, struct rat *out, bool *syntax_ok);

#endif
