/* compare: `r1lab compare A B` over a list of prompts — both models answer each prompt with the same
 * sampling settings and seeds, the replies are shown side by side, scored, and summarised per model (the
 * scorecard: pass@1, format, readability, language consistency and mixing, length, think share,
 * reflection), then the prompts where the two differ most are shown again, side by side, with the reason
 * each was chosen. --json prints one JSON document instead; --brief prints only the header, the summary and
 * the examples. --blind hides which model is which and asks for a vote after each prompt (appended to the
 * votes file, see votes.h).
 *
 * Samples: with --samples K each prompt is answered K times by each model, with the seeds seed, seed + 1, …,
 * seed + K - 1 (both models get the same ones). The side-by-side view, the votes and the examples show the
 * first sample; the summary is over all of them (pass@1 is the mean correctness over the samples, as the
 * paper reports it). An interrupted prompt is left out of the summary.
 *
 * Prompts file: JSON lines {"prompt": TEXT, "answer": TEXT|NUMBER} ("question" for "prompt"; "answer"
 * optional; "numbers" + "target" make a Countdown problem, checked by evaluating the expression, and win over
 * "answer"; "task": "plain" marks a plain question, R1's non-reasoning data — so `r1lab world sample --json`
 * output works as is), blank lines skipped; a line that does not start with '{' is a prompt as it is.
 *
 * Scoring is scorecard.h's: a reply is well formatted when it follows either R1-Zero's strict Table 1 format
 * or R1's "<think> … </think> summary with the answer" (for plain questions: an empty think, then the
 * summary), whatever template the model was prompted with, so that models trained to different output formats
 * are compared on the same terms; the summary says which of the two each model wrote most. */
#ifndef R1LAB_COMPARE_H
#define R1LAB_COMPARE_H

#include <stdbool.h>
#include <stdio.h>

#include "endpoint.h"
#include "engine/world/task.h"
#include "view.h"

struct compare_options {
    const char *spec[2];
    struct endpoint_config ecfg;
    struct gen_params params;
    const char *prompts_path; /* NULL or "-": standard input */
    const char *system;
    bool blind, json;
    enum think_mode think;
    const char *votes_path; /* NULL: the default */
    int width;              /* columns of the report; 0 = the terminal's */
    int samples;            /* replies per prompt and model; 0 = 1 */
    int examples;           /* prompts shown again where the models differ, at most (0: none) */
    bool brief;             /* no per-prompt output: header, summary and examples only */
};

/* One prompt of the list. */
struct compare_item {
    char *prompt;
    bool has_answer;
    bool plain;             /* "task": "plain": a question that needs no reasoning */
    struct problem problem; /* valid when has_answer */
    size_t line;
};
/* Reads a prompts list from text (name: for messages). Items are malloc'd; free with compare_items_free. */
enum status compare_items_parse(const char *text, size_t len, const char *name, struct compare_item **items, size_t *n);
void compare_items_free(struct compare_item *items, size_t n);

/* Runs the comparison; returns an exit code (0, 1 when a generation failed, 3 when interrupted). Errors
 * that stop it early are reported on stderr. */
int compare_run(const struct compare_options *o);

#endif
