/* answer: turning a final-answer string into a canonical form, so that "2", "+2", "002", "2.0", "x = 2",
 * "$2$", "\boxed{2}" and "2." all compare equal, as do "1/2", "0.5", "\frac{1}{2}" and "2/4".
 *
 * What it does, in order: trims whitespace; peels whole-string wrappers ($…$, \(…\), \[…\], \boxed{…},
 * \text{…}, \mathrm{…}, **…**); drops trailing periods; drops a leading single-letter variable and '='
 * ("x = 2", "y=-3"); rewrites \frac{a}{b}, \dfrac, \tfrac as a/b and U+2212 MINUS SIGN as '-'; removes
 * spaces next to a sign, '/', or '.' (so "- 3" and "1 / 2" are numbers, but "2 3" is not); removes
 * thousands separators when they are well placed ("1,234,567"). If the rest is a number (rational.h's
 * rat_parse syntax) its canonical form is the reduced fraction ("7/3", "-3", "1/2").
 *
 * What it deliberately does not do: words and units are not stripped ("2 apples", "the answer is 2" are
 * text, and text never equals a number); decimals are exact, so 0.333 is not 1/3; no exponents, no
 * percent signs, no expressions ("4/2" is a fraction and equals 2, but "1+1" is text).
 *
 * Numbers too large for int64 (a model can write 40 digits) are still well-formed numbers: they get a
 * canonical digit string (sign, digits without leading zeros, fraction digits without trailing zeros) and
 * compare by that string, so no input can overflow, and "000123456789012345678901234567890" still equals
 * "123456789012345678901234567890". Everything else is text, compared case-insensitively with whitespace
 * runs collapsed. */
#ifndef R1LAB_ANSWER_H
#define R1LAB_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/util/rational.h"
#include "engine/util/status.h"

enum answer_kind {
    ANSWER_EMPTY,   /* nothing left after cleaning: never matches anything */
    ANSWER_NUMBER,  /* fits a struct rat; canonical text from rat_format */
    ANSWER_BIGNUM,  /* a well-formed number outside int64: canonical digit string */
    ANSWER_INVALID, /* a number-shaped string that is not a number: "1/0" — never matches */
    ANSWER_TEXT,    /* anything else: lowercased, whitespace collapsed */
};

struct answer {
    enum answer_kind kind;
    struct rat value; /* valid when kind == ANSWER_NUMBER */
    char *canon;      /* malloc'd canonical text ("" for EMPTY) */
};

/* Canonicalises s[0..len). Only fails for lack of memory. Free with answer_free. */
enum status answer_parse(const char *s, size_t len, struct answer *out);
void answer_free(struct answer *a); /* accepts a zeroed struct */
/* Equal kinds and equal canonical text; EMPTY and INVALID never match. */
bool answer_equal(const struct answer *a, const struct answer *b);
/* Convenience: parses both and compares (false on allocation failure). */
bool answer_match(const char *candidate, size_t len, const char *gold);

#endif
