/* readability: how readable the final summary of a completion is (the text after </think>), the measure that eval,
 * compare and chat's /report show for R1's "readability" (the paper's reason for the cold start). It is the
 * helpfulness reward's four checks (reward.h: a summary in words, in one language, concise, ending with the
 * answer) scaled by the share of the summary's words that are spelled: a word is spelled when it is a word the
 * completion already used before the summary (its prompt or reasoning) or one of a few hundred common English
 * words. Numbers, symbols and math terms ("5x", "x") are not words; a token that mixes digits and letters
 * ("37o"), holds U+FFFD or is not UTF-8 is a misspelt word. A small model that learned the summary's shape but not
 * its words ("Mvoo x to the left , subtracto 13") therefore scores well below one that writes it ("Moving 2x to
 * the left , subtracting 13 ..."); R1-Zero's bare "</think> <answer> 5 </answer>" scores 0.5, as for helpfulness.
 *
 * Training is not affected: the helpfulness reward is unchanged (a run's rewards stay as its config defines them);
 * this is the stricter yardstick the models are compared with. */
#ifndef R1LAB_READABILITY_H
#define R1LAB_READABILITY_H

#include <stddef.h>

#include "engine/rl/reward.h"

/* In [0, 1]; 0 without a closed </think>. */
double readability_score(const char *text, size_t len, enum reward_lang lang);
/* The share of the summary's words that are spelled (1 when it has none); what readability_score scales by. */
double readability_spelled_share(const char *text, size_t len);

#endif
