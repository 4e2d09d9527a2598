/* readability (engine/rl/readability.h) on labelled summaries: what a reader would call readable scores 1, the
 * shape of a summary with misspelt words scores by the share spelled, a bare answer 0.5 as for helpfulness. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/rl/readability.h"

static double score(const char *text) { return readability_score(text, strlen(text), REWARD_LANG_EN); }
static double spelled(const char *text) { return readability_spelled_share(text, strlen(text)); }

#define COT " <think> 2x + 13 = 41 . subtract 13 : 2x = 28 . divide by 2 : x = 14 . </think>"

Test(readability, written_summaries_score_one) {
    cr_expect_float_eq(score(COT " Moving 7x to the left , subtracting 13 and dividing by 2 gives x = 14 . <answer> 14 "
                                 "</answer>"), 1.0, 1e-12);
    cr_expect_float_eq(score(" <think> </think> 97 is larger than 91 . <answer> 97 </answer>"), 1.0, 1e-12);
    /* a word that is not common but was used in the reasoning is spelled */
    cr_expect_float_eq(score(" <think> the discriminant is 4 . </think> The discriminant gives x = 2 . <answer> 2 "
                             "</answer>"), 1.0, 1e-12);
    cr_expect_float_eq(spelled(COT " So (x = 14), thus: x = 14! <answer> 14 </answer>"), 1.0, 1e-12);
}

Test(readability, misspelt_words_lower_the_score_by_their_share) {
    /* from R1's first summaries on the two-sided tier: the shape is learned, the words are not */
    const char *garbled = COT " Mvoo x to the left , subtracto 13 to x = 14 . <answer> 14 </answer>";
    cr_expect_float_eq(spelled(garbled), 4.0 / 6.0, 1e-12, "Mvoo and subtracto of 6 words: %f", spelled(garbled));
    cr_expect_float_eq(score(garbled), 4.0 / 6.0, 1e-12);
    cr_expect_float_eq(spelled(COT " ingddiing x to the left , subtracting 3ng to x = 9 . <answer> 9 </answer>"),
                       5.0 / 7.0, 1e-12, "a word glued to digits is misspelt");
    cr_expect_float_eq(spelled(COT " subtract\xef\xbf\xbd 6 gives x = 1 . <answer> 1 </answer>"), 0.5, 1e-12,
                       "U+FFFD: a broken character");
    cr_expect_float_eq(spelled(COT " subtract\xff 6 gives x = 1 . <answer> 1 </answer>"), 0.5, 1e-12, "not UTF-8");
    cr_expect_lt(score(COT " Mvoo xo teh lfet gvies x = 14 . <answer> 14 </answer>"), 0.2);
}

Test(readability, what_is_not_a_word) {
    /* numbers, symbols, variables and math terms are not judged */
    cr_expect_float_eq(spelled(COT " x = 28 / 2 = 14 , 5x + 3 = 73 . <answer> 14 </answer>"), 1.0, 1e-12);
    /* another script is the language check's concern, not spelling */
    cr_expect_float_eq(spelled(COT " \xe6\x89\x80\xe4\xbb\xa5 x = 14 . <answer> 14 </answer>"), 1.0, 1e-12);
    cr_expect_float_eq(spelled(COT " <answer> 14 </answer>"), 1.0, 1e-12);
}

Test(readability, bare_answers_and_no_summary) {
    cr_expect_float_eq(score(COT " <answer> 14 </answer>"), 0.5, 1e-12, "R1-Zero's format: as for helpfulness");
    cr_expect_float_eq(score(" <think> 2x = 28 . <answer> 14 </answer>"), 0.0, 1e-12, "no closed think");
    cr_expect_float_eq(score(""), 0.0, 1e-12);
}
