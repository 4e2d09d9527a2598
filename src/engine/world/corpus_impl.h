/* corpus_impl: the worked-solution writers (corpus_cot.c) as corpus.c uses them. Not public.
 *
 * A writer appends CoT text to a strbuf. Words that carry meaning ("subtract", "divide by", "try", "yes" …)
 * go through corpus_word so that a mixed-language document can write any of them in Chinese with
 * probability `zh`. All numbers are written with spaces around operators. */
#ifndef R1LAB_CORPUS_IMPL_H
#define R1LAB_CORPUS_IMPL_H

#include "engine/util/rng.h"
#include "engine/util/strbuf.h"
#include "engine/world/corpus.h"

enum corpus_word {
    WORD_SUBTRACT,
    WORD_ADD,
    WORD_DIVIDE,
    WORD_SO,
    WORD_TRY,
    WORD_YES,
    WORD_NO,
    WORD_NOT_EQUAL,
    WORD_WAIT_CHECK, /* the opening of a self-check */
    WORD_LEFT,
    WORD_RIGHT,
    WORD_LEFT_LARGER,  /* "left is larger , so x is smaller" */
    WORD_LEFT_SMALLER, /* "left is smaller , so x is larger" */
    WORD_NOT,          /* "not 24": a try's result against the target */
    WORD_WAIT_RETRY,   /* "wait , let me try again": a search going on after a miss */
    WORD_COUNT
};

struct cot_writer {
    struct strbuf *sb;
    struct rng *r;
    double zh;            /* probability of writing a word in Chinese */
    bool force_zh;        /* write the next word in Chinese whatever zh says (then cleared) */
    bool wrote_zh;        /* a Chinese word was written */
    bool no_failed_tries; /* countdown worked solutions skip the missed tries (corpus worked_failed_tries) */
};

/* The claimed final answer of a worked solution (what goes inside <answer>). */
struct cot_claim {
    char text[128];
    bool correct;
};

void corpus_word(struct cot_writer *w, enum corpus_word word);

/* The problem restated at the start of the CoT ("2x + 3 = 7 ."). Arith and countdown solutions restate as they
 * go, so for them this writes something ("47 * 23 .", "make 22 .") only when `always` is set. */
void cot_restate(struct cot_writer *w, const struct problem *p, bool always);
/* The solution steps. slip: one arithmetic slip (the claim is then wrong). */
void cot_steps(struct cot_writer *w, const struct problem *p, bool slip, struct cot_claim *claim);
/* "wait , let me check : … . yes ." or "… , not 7 ." for the claim; returns whether the check passed. */
bool cot_check(struct cot_writer *w, const struct problem *p, const struct cot_claim *claim);
/* Two-sided problems, after a check of claim that failed: which way x must move, then tries one step at a time,
 * each checked by substitution ("left is larger , so x is smaller . try x = 7 : left … , right … . yes ."),
 * until the right value; the claim becomes it. The search uses only the forward arithmetic of the check,
 * so it finds the answer even when the division that produced the claim keeps going wrong. */
void cot_search(struct cot_writer *w, const struct problem *p, struct cot_claim *claim);
/* A countdown search (corpus.h, quality search): tries compared with the target, given up or retried as s says;
 * the retry words and all after them in Chinese when zh_retry. Returns whether it retried (the CoT then holds a
 * reflection). Other tasks get the worked solution. */
bool cot_search_tries(struct cot_writer *w, const struct problem *p, const struct corpus_search *s, bool zh_retry,
                      struct cot_claim *claim);
/* A wrong but plausible final answer (for no_think guesses). */
void cot_guess(struct rng *r, const struct problem *p, struct cot_claim *claim);
/* Cold start: the readable CoT (without tags) and the one-sentence summary. */
void cot_readable(struct strbuf *sb, struct rng *r, const struct problem *p);
void cot_summary(struct strbuf *sb, const struct problem *p);
void cot_summary_terse(struct strbuf *sb, const struct problem *p); /* in the words of the terse reasoning */
/* Plain text: the problem with its answer stated plainly, one of a few phrasings. */
void cot_plain(struct strbuf *sb, struct rng *r, const struct problem *p);
/* Plain text: a claimed solution, right or off by one or two, checked by substitution (linear problems;
 * other kinds get cot_plain). */
void cot_verify_exercise(struct strbuf *sb, struct rng *r, const struct problem *p);

#endif
