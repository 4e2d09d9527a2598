/* corpus: the synthetic text that turns a randomly initialised tiny Llama-style model into the world's "base
 * model", and the cold-start SFT data of the R1 pipeline. Every document is a pure function of (config,
 * index): a data loader streams documents without storing them and resumes from an index.
 *
 * Pretraining documents. Problems come from the TRAIN split only (task.h), so held-out evaluation never
 * sees a problem the base model was trained on. A document is the problem rendered in the prompt template
 * (r1-zero by default) followed by a completion " <think> … </think> <answer> … </answer>", of mixed
 * quality, or a plain-text document. Default mix and what each teaches:
 *   clean       28%  correct short steps, exact format
 *   slip        22%  the same steps with one arithmetic slip, hence a wrong answer, exact format
 *   reflect      5%  a self-check after the solution ("wait , let me check : 2 * 2 + 3 = 7 . yes ."); in
 *                    half of them the check catches a slip and the steps are redone — always correct
 *   mixed_lang   8%  correct, with Chinese words in the CoT ("减去 3 : 2x = 7 - 3 = 4 . 除以 2 : …")
 *   no_think     7%  an empty <think> or one that only restates the problem; the answer is a guess, right
 *                    about a third of the time
 *   bad_format  22%  a correct solution with broken format: </think> missing, the answer outside the tags,
 *                    text after </answer>, </answer> missing, \boxed{} instead of tags, or the conversation
 *                    continuing with a new "User:" turn
 *   plain        8%  two to four problems with their answers stated plainly, no template (a base model reads
 *                    the web, not only chat transcripts)
 *   verify       0%  (off by default) two to four verification exercises, no template: a claimed solution,
 *                    right or off by a little, substituted into the equation and judged ("Check x = 9 in
 *                    3x - 1 = x + 15 : left 3 * 9 - 1 = 27 - 1 = 26 , right 9 + 15 = 24 , not equal ."). The
 *                    skill a self-check needs, learned apart from the habit of checking, which stays rare.
 *   search       0%  (off by default; countdown) tries, each worked out and compared with the target; after a
 *                    miss the writer usually gives up and answers the miss, sometimes says "wait , let me try
 *                    again" and goes on until a try hits ("search" settings below). A searcher that has begun
 *                    rarely stops, so a retry pays: this is the habit the search tier's R1-Zero run selects.
 * Tasks: linear 60%, arith 25%, countdown 15%, at the task.h default difficulties.
 *
 * Why these numbers. The target is a 1–5M-parameter model pretrained for 10–20 CPU-minutes: about 1–2M
 * tokens, some 10k documents of ~120 tokens of which ~75 are the constant template. Such a model learns
 * the template and the shape of a solution quickly; what limits it is arithmetic. So the default problems
 * need only small-number facts: linear a <= 9, |x| <= 12, b <= 20 (two steps: c - b, then a division with a
 * one-digit divisor), arith two 2-digit operands, countdown three numbers up to 9 and targets up to 50.
 * Each step is written the same way every time with spaces between numbers and operators
 * ("2x + 3 = 7 . subtract 3 : 2x = 7 - 3 = 4 . divide by 2 : x = 4 / 2 = 2 .") so digits and operators
 * tokenise consistently. If the model imitated the corpus perfectly its answers would be right about 64% of
 * the time (clean, reflect, mixed, the extractable bad formats, lucky guesses) and strictly formatted about
 * 73% of the time (tests/test_corpus.c measures both); its own arithmetic and copying errors bring that to
 * roughly 20–40% pass@1 and 50–70% format — real but
 * imperfect ability, and reward variance within a group of G samples. The deficits are behaviours that RL can
 * unlearn quickly: slips and guesses (about 30 points of accuracy), broken formats, skipped thinking.
 * Reflection is rare (5%) but always pays off, so GRPO has something to amplify (reflection_rate rises), and
 * thinking pays off against no_think, so response length grows. The mixed-language share gives R1's
 * language-consistency reward something to fix.
 *
 * Cold-start documents (R1 stage 1): clean, single-language, readable CoT in full sentences with a
 * verification, then a summary, as prompt / completion pairs:
 *     " <think> We need to solve 2x + 3 = 7 . First , subtract 3 from both sides : 2x = 7 - 3 = 4 . …
 *       Let me verify : 2 * 2 + 3 = 7 . This is correct . </think> Subtracting 3 and dividing by 2 gives
 *       x = 2 . <answer> 2 </answer>"
 * This is R1's "<reasoning_process> <summary>" pattern with the answer in tags at the end of the summary:
 * it scores 1 with the "r1" format style (reward.h), 0 with the strict r1-zero style. Cold-start problems use
 * a different problem stream than the pretraining documents (same train split). */
#ifndef R1LAB_CORPUS_H
#define R1LAB_CORPUS_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "engine/tokenizer/template.h"
#include "engine/util/status.h"
#include "engine/world/task.h"

enum corpus_quality {
    CORPUS_CLEAN,
    CORPUS_SLIP,
    CORPUS_REFLECT,
    CORPUS_MIXED_LANG,
    CORPUS_NO_THINK,
    CORPUS_BAD_FORMAT,
    CORPUS_PLAIN,
    CORPUS_VERIFY, /* plain verification exercises ("Check x = 9 in …"); weight 0 unless set */
    CORPUS_SEARCH, /* countdown tries checked against the target, given up or retried; weight 0 unless set */
    CORPUS_QUALITY_COUNT
};

/* nonreasoning: R1's non-reasoning SFT data — plain questions (task.h) answered without a chain of thought,
 * " <think> </think> 12 is larger than 7 . <answer> 12 </answer>", whatever the task weights say. */
enum corpus_kind { CORPUS_PRETRAIN, CORPUS_COLDSTART, CORPUS_NONREASONING };

#define CORPUS_TASKS 4 /* linear, arith, countdown, plain: the built-in kinds, indexed by enum task_kind */

/* How a search document proceeds. Every try hits with probability first_right (the try after max_failures misses
 * always does); after the first miss the writer gives up with probability give_up_first, after a later miss with
 * give_up_later. The defaults (0.4, 0.75, 0.15, 5) make the first retry rare and a begun search mostly succeed. */
struct corpus_search {
    double first_right, give_up_first, give_up_later;
    int max_failures;
};

struct corpus_config {
    uint64_t seed;
    enum template_kind template;
    double task_weight[CORPUS_TASKS];
    struct task_config task[CORPUS_TASKS];
    double quality_weight[CORPUS_QUALITY_COUNT]; /* pretraining only; need not sum to 1 */
    double reflect_zh;    /* share of reflect documents whose self-check is written in Chinese (default 0) */
    bool coldstart_terse; /* "coldstart": "terse": cold-start CoT in the pretraining notation, English only,
                           * always checked, then the summary; default "readable" (full sentences) */
    /* "worked_failed_tries": false: countdown worked solutions (clean, slip, mixed, bad format) go straight to
     * the solution instead of showing zero to two missed tries first (default true). The search tier turns
     * it off so that carrying on after a miss is learned from search documents alone. */
    bool no_worked_failed_tries;
    struct corpus_search search; /* "search": {...}: the search documents */
};

struct corpus_doc {
    enum corpus_kind kind;
    enum corpus_quality quality; /* CORPUS_CLEAN for cold-start documents */
    enum task_kind task;
    char *text;       /* the whole document: prompt + completion, or the plain text */
    char *prompt;     /* the rendered prompt; NULL for plain documents */
    char *completion; /* what follows the prompt; NULL for plain documents */
    char *question;   /* the (first) problem's question, no template */
    char *answer;     /* its gold answer */
    /* What the document is by construction (tests check these against reward.h): */
    bool correct;    /* the completion's final answer is right */
    bool format_ok;  /* strict r1-zero format (cold start: "r1" format) */
    bool reflection; /* the CoT holds a reflection word */
    bool mixed_lang; /* the CoT holds Chinese words (mixed_lang documents; reflect ones with reflect_zh) */
};

const char *corpus_quality_name(enum corpus_quality q);
const char *corpus_kind_name(enum corpus_kind k);
enum status corpus_kind_parse(const char *name, enum corpus_kind *out);

void corpus_config_default(struct corpus_config *c);
/* Overrides from JSON: {"seed": 1, "template": "r1-zero", "tasks": {"linear": 1, "arith": 0},
 * "quality": {"slip": 0.1, ...}, "task_params": {"linear": {"max_coef": 5}}, "reflect_zh": 0.5,
 * "coldstart": "terse", "worked_failed_tries": false,
 * "search": {"first_right": 0.4, "give_up_first": 0.75, "give_up_later": 0.15, "max_failures": 5}}; unknown
 * keys are errors. */
enum status corpus_config_set(struct corpus_config *c, const cJSON *obj, const char *where);

/* Document `index` (any uint64). Fails only for lack of memory or impossible task settings. */
enum status corpus_pretrain_doc(const struct corpus_config *c, uint64_t index, struct corpus_doc *out);
enum status corpus_coldstart_doc(const struct corpus_config *c, uint64_t index, struct corpus_doc *out);
enum status corpus_nonreasoning_doc(const struct corpus_config *c, uint64_t index, struct corpus_doc *out);
enum status corpus_doc(const struct corpus_config *c, enum corpus_kind kind, uint64_t index, struct corpus_doc *out);
void corpus_doc_free(struct corpus_doc *d); /* accepts a zeroed struct */

/* The JSONL line of a document (no newline), malloc'd: pretraining {"text", "task", "quality"}, cold start
 * {"prompt", "completion", "question", "answer", "task"}. */
enum status corpus_doc_json(const struct corpus_doc *d, char **out);
/* Writes documents [start, start + n) as JSONL to path, atomically (temporary file, fsync, rename). */
enum status corpus_write(const struct corpus_config *c, enum corpus_kind kind, uint64_t start, uint64_t n,
                         const char *path);

#endif
