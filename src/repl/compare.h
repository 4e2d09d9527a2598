/* compare: `r1lab compare A B` over a list of prompts — both models answer each prompt with the same
 * sampling settings (and seed), the replies are shown side by side, scored, and summarised per model:
 * accuracy (prompts with a known answer), format adherence, mean length, share of think text, language
 * consistency, reflection rate. --json prints one JSON document instead. --blind hides which model is which
 * and asks for a vote after each prompt (appended to the votes file, see votes.h).
 *
 * Prompts file: JSON lines {"prompt": TEXT, "answer": TEXT|NUMBER} ("question" for "prompt"; "answer"
 * optional; "numbers" + "target" make a Countdown problem, checked by evaluating the expression, and win over
 * "answer" — so `r1lab world sample --json` output works as is), blank lines skipped; a line that does not start
 * with '{' is a prompt as it is. Scoring uses reward.h: the answer is the last <answer>…</answer> (or
 * \boxed{}), format is the strict Table 1 format for models with the r1-zero template and R1's
 * "<think>…</think> summary" format otherwise. */
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
};

/* One prompt of the list. */
struct compare_item {
    char *prompt;
    bool has_answer;
    struct problem problem; /* valid when has_answer */
    size_t line;
};
/* Reads a prompts list from text (name: for messages). Items are malloc'd; free with compare_items_free. */
enum status compare_items_parse(const char *text, size_t len, const char *name, struct compare_item **items, size_t *n);
void compare_items_free(struct compare_item *items, size_t n);

/* Scores of one reply. */
struct reply_score {
    int correct; /* 1, 0, or -1 when the answer is unknown */
    bool format_ok, reflection;
    double think_share, language;
    int64_t tokens;
};
/* full: the reply with reasoning inline (gen_result_full_text). */
void compare_score(const struct compare_item *item, const char *full, const struct gen_result *res,
                   enum template_kind tmpl, bool remote, struct reply_score *out);

/* Runs the comparison; returns an exit code (0, 1 when a generation failed, 3 when interrupted). Errors
 * that stop it early are reported on stderr. */
int compare_run(const struct compare_options *o);

#endif
