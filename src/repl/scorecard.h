/* scorecard: what `r1lab compare` and chat's /report measure — the scores of one reply, a model's summary over
 * many replies (with its table and JSON), and the choice of the prompts where two models differ most. Pure
 * functions of text and numbers: no model, no endpoint, no terminal state (the table goes to a FILE).
 *
 * A reply's scores (reward.h computes each):
 *   correct      the final answer (the last <answer>…</answer>, else \boxed{}) checked by the prompt's task;
 *                unknown (-1) for a prompt without an answer.
 *   format       which of the two output formats the reply follows, if any (see below).
 *   readability  reward_helpfulness: R1's rule-based score of the final summary (the text after </think>),
 *                0..1 — a summary in words, in one language, concise, ending with the answer. R1-Zero's bare
 *                "</think> <answer> 5 </answer>" scores 0.5, a cold-start summary 1.
 *   language     reward_language: the share of English words in the CoT (of the whole reply when it has no
 *                <think>); mixed: the CoT holds words of another language (reward_mixed_language).
 *   think_share  characters of the CoT over characters of the reply; reflection: a reflection word in the CoT.
 *
 * Format, fairly across training formats. A reply is well formatted when it follows EITHER
 *   r1-zero   the strict Table 1 format "<think> reasoning </think> <answer> answer </answer>", or
 *   r1        R1's "<think> reasoning </think> summary" with the answer in the summary; for a plain question
 *             (task "plain", R1's non-reasoning data) the plain variant instead: an empty think, then the
 *             summary (reward_format_plain) — the pattern the trainer rewards there.
 * The two are disjoint (an r1 summary must say something besides the answer tags), so every reply is r1-zero,
 * r1 or neither, whatever template or training produced it: a model trained to R1-Zero's format is not marked
 * down for not writing R1's, nor the other way round. The summary says which of the two a model wrote most;
 * what separates them for a reader is the readability column.
 *
 * Summary of a model: pass@1 is the paper's — per prompt with a known answer, the mean correctness over its
 * samples, then the mean over those prompts (with the same number of samples everywhere this is correct
 * replies / answered replies). Every other column is a mean over all replies (errors included: a failed
 * generation is a reply with no answer and no format).
 *
 * Examples: of the prompts where the two models differ, the most telling ones — first where one is right and
 * the other wrong (by the gap in mean correctness), then where one mixes languages and the other never does
 * (by the gap in the share of mixing replies), then by the gap in mean readability; ties go to the earlier
 * prompt. A prompt is chosen at most once, for the first of these reasons that applies. */
#ifndef R1LAB_SCORECARD_H
#define R1LAB_SCORECARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cJSON.h>

#include "engine/util/strbuf.h"
#include "engine/world/task.h"

enum scorecard_format { SCORECARD_FORMAT_NONE, SCORECARD_FORMAT_R1_ZERO, SCORECARD_FORMAT_R1 };
/* "-", "r1-zero", "r1" */
const char *scorecard_format_name(enum scorecard_format f);

/* The scores of one reply. */
struct scorecard_reply {
    int correct; /* 1, 0, or -1 when the answer is unknown */
    enum scorecard_format format;
    bool format_ok; /* format != SCORECARD_FORMAT_NONE */
    bool reflection, mixed;
    double think_share, language, readability;
    int64_t tokens;
};
/* full: the reply with its reasoning inline ("<think>…</think> …"); p: the prompt's problem, NULL when its answer
 * is unknown; plain: the prompt is a plain question (task "plain"). */
void scorecard_score(const struct problem *p, bool plain, const char *full, int64_t tokens,
                     struct scorecard_reply *out);

/* A model's replies added up, one prompt at a time. Zero it to start. */
struct scorecard_sum {
    size_t prompts, replies, answered, correct, errors;
    size_t format_r1_zero, format_r1, mixed, reflection;
    double readability, language, think_share, tokens; /* sums over replies */
    double pass1;                                      /* sum over answered prompts of their mean correctness */
    size_t pass1_prompts;
};
/* Adds the k replies (samples) of one model to one prompt; error[i]: reply i failed (NULL: none did). */
void scorecard_sum_add(struct scorecard_sum *s, const struct scorecard_reply *r, const bool *error, size_t k);

/* The summary as shown: shares in [0, 1], means. */
struct scorecard_row {
    size_t prompts, replies, answered, correct, errors;
    bool has_pass1; /* some prompt had a known answer */
    double pass1;
    double format, format_r1_zero, format_r1;
    const char *format_mostly; /* "r1-zero", "r1", "both" (as often), or NULL when no reply is well formatted */
    double readability, language, mixed, tokens, think_share, reflection;
};
void scorecard_row_of(const struct scorecard_sum *s, struct scorecard_row *out);
/* The table of two models (names as given; sanitised here), then a short legend. samples: per prompt. */
void scorecard_print_table(FILE *out, const char *const names[2], const struct scorecard_row rows[2], size_t samples,
                           bool color);
/* Adds the row's fields to a JSON object: prompts, replies, answered, correct, pass@1 (and its older name
 * accuracy; null without answers), format, format_r1_zero, format_r1, format_mostly, readability, language,
 * mixed_language, mean_tokens, think_share, reflection_rate, errors. */
void scorecard_row_json(const struct scorecard_row *r, cJSON *obj);

/* How two models did on one prompt, for choosing examples. */
struct scorecard_prompt {
    int n[2];              /* replies */
    int answered[2];       /* replies with a known answer (n or 0) */
    int correct[2];        /* correct replies */
    int mixed[2];          /* replies mixing languages */
    double readability[2]; /* mean */
};
void scorecard_prompt_of(const struct scorecard_reply *const r[2], const size_t k[2], struct scorecard_prompt *out);

enum scorecard_reason { SCORECARD_REASON_CORRECTNESS, SCORECARD_REASON_LANGUAGE, SCORECARD_REASON_READABILITY };
const char *scorecard_reason_name(enum scorecard_reason r); /* "correctness", "language", "readability" */

struct scorecard_example {
    size_t index; /* into the prompts */
    enum scorecard_reason reason;
    double gap; /* how far apart the two models are on that measure */
};
/* Chooses up to max examples among n prompts (see the top of this file); returns how many, best first. */
size_t scorecard_choose(const struct scorecard_prompt *p, size_t n, size_t max, struct scorecard_example *out);
/* One line saying why the example was chosen, e.g. "base is right, r1 is wrong" (names as given). */
void scorecard_example_reason(const struct scorecard_example *e, const struct scorecard_prompt *p,
                              const char *const names[2], struct strbuf *out);

#endif
