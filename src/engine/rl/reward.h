/* reward: the rule-based rewards of DeepSeek-R1-Zero and R1, computed from a problem and the text of one
 * completion (what the model wrote after the prompt). No model code: a reward is a pure function of text.
 *
 * accuracy   1 when the final answer is correct, else 0. The final answer is the content of the LAST
 *            complete <answer>…</answer> pair (a pair is an <answer> followed by a </answer> with no other
 *            <answer> between them, so with nested tags the innermost, last one counts; an <answer> never
 *            closed does not count); when there is none, the content of the last \boxed{…} whose braces
 *            balance. No answer at all, or an empty one, is wrong. The extracted text goes to the task's
 *            verifier (task_check_answer), which normalises "x = 2", "+2", "2.0", "1/2" … (answer.h).
 * format     1 when the completion follows the Table 1 template exactly (style "r1-zero"):
 *                <think> reasoning </think> <answer> answer </answer>
 *            optional whitespace before, between and after; each of the four tags exactly once; reasoning
 *            and answer non-empty (not just whitespace); nothing but whitespace after </answer>. Else 0.
 *            Style "r1" (R1's cold-start pattern "<think> reasoning </think> summary"): <think> first,
 *            each think tag exactly once, non-empty reasoning, then a non-empty summary that contains the
 *            final answer (an <answer> pair at most once, then only whitespace; or a \boxed{}).
 *            "soft": true gives partial credit instead of 0/1, a quarter for each of: (a) the think pair is
 *            right, (b) the answer pair (r1: the summary) is right, (c) they are in order with only whitespace
 *            between (r1: the summary holds an answer), (d) the whole completion is strict.
 * language   R1's language-consistency reward: the share of target-language words in the CoT (the text
 *            after the first <think> up to the next </think>, or to the end if it is never closed). "en":
 *            words are runs of two or more Latin letters; "zh": every CJK ideograph is a word. Both count
 *            the other language's words and runs of other letters (Cyrillic, kana …) against the share.
 *            Single Latin letters are math variables ("2x = 4"), not words, and digits and symbols are
 *            nothing. A CoT with no words scores 1 (nothing off-language); a completion without <think> 0.
 *            Plain questions (task.h: non-reasoning data) are answered without a CoT: for them the "r1" style
 *            asks for an empty think ("<think> </think> 12 is larger than 7 . <answer> 12 </answer>") instead.
 * helpfulness R1's rule-based stand-in for a preference score, on the final summary only (the text after
 *            </think>), as the paper judges helpfulness: the mean of four checks — (a) there is a summary
 *            that says something in words besides the answer tags, (b) it is all in the target language
 *            ("target", default "en"), (c) it is concise (at most 40 words: it does not replay the CoT), (d) it
 *            ends with the answer in one <answer> pair, after a sentence that ends with '.', '!' or '?'.
 *            R1-Zero's bare "</think> <answer> 5 </answer>" scores 0.5; a cold-start summary 1.
 * length     "overlong" (default, DAPO's soft overlong punishment, in [-1, 0]): 0 up to max_tokens -
 *            buffer_tokens, then falling linearly to -1 at max_tokens. "cosine" (Yeo et al. 2025, "Demystifying
 *            Long Chain-of-Thought Reasoning"): a cosine schedule over the length t in [0, max_tokens] from
 *            correct_short (t = 0) to correct_long (t = max) for correct answers and from wrong_short to
 *            wrong_long for wrong ones, and `exceed` for a completion that reached max_tokens (truncated).
 *            The token count is an input: the trainer knows it, this module does not tokenise. max_tokens 0
 *            in the spec means "the trainer's max_completion_length".
 *
 * Reflection (not a reward; the reflection_rate metric): the CoT contains a reflection word — "wait",
 * "check", "verify" (and their -s/-ed/-ing forms, "verification"), "recheck", "double-check", "hmm" (any
 * number of m's from two up), "let me re…" — as whole words, case-insensitive; or 等等, 等一下, 检查, 验证.
 * Per completion the trainer also logs whether the first check changed the answer and whether the CoT mixes
 * languages (reward_reflection_changed, reward_mixed_language).
 *
 * Composition: a reward_spec is parsed from a JSON array such as
 *     [{"name": "accuracy", "weight": 1.0}, {"name": "format", "weight": 0.5, "style": "r1-zero"}]
 * (a bare string "accuracy" means weight 1). The total is the weighted sum of the terms. Names are unique and
 * stable: they become the metric keys rewards/<name>/mean. */
#ifndef R1LAB_REWARD_H
#define R1LAB_REWARD_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "engine/util/status.h"
#include "engine/world/task.h"

enum reward_kind {
    REWARD_ACCURACY,
    REWARD_FORMAT,
    REWARD_LANGUAGE,
    REWARD_LENGTH,
    REWARD_HELPFULNESS,
    REWARD_KIND_COUNT
};
enum reward_format_style { REWARD_FORMAT_R1_ZERO, REWARD_FORMAT_R1 };
enum reward_lang { REWARD_LANG_EN, REWARD_LANG_ZH };
enum reward_length_mode { REWARD_LENGTH_OVERLONG, REWARD_LENGTH_COSINE };

#define REWARD_MAX_TERMS REWARD_KIND_COUNT /* names are unique, so one term per kind at most */

struct reward_term {
    enum reward_kind kind;
    double weight;                  /* "weight", default 1 */
    enum reward_format_style style; /* format: "style", "r1-zero" (default) or "r1" */
    bool soft;                      /* format: "soft", default false */
    enum reward_lang lang;          /* language: "target", "en" (default) or "zh" */
    enum reward_length_mode mode;   /* length: "mode", "overlong" (default) or "cosine" */
    int max_tokens;                 /* length: "max_tokens", default 0 = the trainer's limit */
    int buffer_tokens;              /* length, overlong: "buffer_tokens", default 0 = max_tokens / 4 */
    double correct_short, correct_long, wrong_short, wrong_long, exceed; /* cosine: 2, 1, -10, 0, -10 */
};

struct reward_spec {
    struct reward_term terms[REWARD_MAX_TERMS];
    size_t n;
};

/* "accuracy", "format", "language", "length": the term's name and metric key. */
const char *reward_kind_name(enum reward_kind kind);
/* R1-Zero's pair: accuracy (weight 1) and format (weight 1, strict r1-zero). */
void reward_spec_default(struct reward_spec *spec);
/* Parses a JSON array of terms. Errors (STATUS_INVALID) name `where` and the entry: an unknown name lists the
 * valid ones, an unknown option lists that reward's options, a duplicate name, a non-finite weight, an empty
 * array. */
enum status reward_spec_parse(struct reward_spec *spec, const cJSON *array, const char *where);
enum status reward_spec_parse_text(struct reward_spec *spec, const char *json, const char *where);
/* The spec as a JSON array with every option spelled out (for the resolved config.json). */
cJSON *reward_spec_to_json(const struct reward_spec *spec);

/* A span of the completion text. */
struct reward_span {
    size_t off, len;
};
/* The final answer's span (see accuracy above); false when there is none. */
bool reward_find_answer(const char *text, size_t len, struct reward_span *out);
/* The CoT's span (see language above); false without <think>. */
bool reward_find_think(const char *text, size_t len, struct reward_span *out);

double reward_accuracy(const struct problem *p, const char *text, size_t len);
double reward_format(const char *text, size_t len, enum reward_format_style style, bool soft);
/* The "r1" format for a plain question: an empty think, then the summary (with or without the strictness of
 * reward_format's r1 style otherwise). */
double reward_format_plain(const char *text, size_t len, bool soft);
double reward_helpfulness(const char *text, size_t len, enum reward_lang lang);
/* Of a completion (its CoT); reward_language_share measures any text. */
double reward_language(const char *text, size_t len, enum reward_lang lang);
double reward_language_share(const char *s, size_t n, enum reward_lang lang);
/* The length term for a completion of n_tokens; max_tokens is the trainer's limit (used when the term's
 * own max_tokens is 0; with both 0 the value is 0). */
double reward_length(const struct reward_term *t, int n_tokens, int max_tokens, bool correct);
/* Reflection words in any text / in a completion's CoT. */
int reward_count_reflections(const char *s, size_t n);
/* The next reflection (a word or phrase of the list above, English or Chinese) starting at or after *pos;
 * *pos moves past it. What reflection_rate counts and what the dashboard highlights. */
bool reward_next_reflection(const char *s, size_t n, size_t *pos, struct reward_span *out);
bool reward_has_reflection(const char *text, size_t len);
/* Whether the CoT's first self-check changed the answer: the last number written before the first reflection
 * word (the claim being checked: "x = 55 / 5 = 12 . wait , let me check …") against the final answer, by
 * canonical form. Countdown's answers are expressions: there the claim is the number after the last "="
 * before the reflection ("10 * 3 = 30 , not 24 . wait") and it is compared with the answer expression's
 * value. 1 changed, 0 the same, -1 not measurable (no reflection, no claim before it, no final answer, or a
 * countdown answer with no value). */
int reward_reflection_changed(const struct problem *p, const char *text, size_t len);
/* The CoT holds words of a language other than lang (R1-Zero's language mixing); false without <think>. */
bool reward_mixed_language(const char *text, size_t len, enum reward_lang lang);

struct reward_result {
    double total;                   /* sum of weight * value */
    double value[REWARD_MAX_TERMS]; /* per term of the spec, in spec order, unweighted */
    bool correct;                   /* the accuracy verdict, computed whatever the spec (for pass@1) */
    bool format_ok;                 /* strict r1-zero format, whatever the spec (for eval/format) */
    bool format_r1;                 /* R1's format (plain questions: with an empty think), for eval/format_r1 */
    bool reflection;                /* reward_has_reflection (for reflection_rate) */
    signed char answer_changed;     /* reward_reflection_changed (for reflection/answer_changed) */
    bool mixed_language;            /* reward_mixed_language against English (for language/mixed_rate) */
    bool has_answer;                /* an answer was extracted; `answer` is its span */
    struct reward_span answer;
};
/* Scores one completion. n_tokens: its length in tokens; max_tokens: the generation limit. */
void reward_score(const struct reward_spec *spec, const struct problem *p, const char *text, size_t len, int n_tokens,
                  int max_tokens, struct reward_result *out);

/* What the completions of a step (or an evaluation) did with their self-checks and languages, added up one
 * completion at a time. */
struct reward_tally {
    int n, reflecting, reflecting_correct, plain_correct, changed_known, changed, mixed;
};
void reward_tally_add(struct reward_tally *t, const struct reward_result *r);
/* A tally as REWARD_TALLY_FIELDS numbers and back, to be summed over the ranks of a data-parallel run. */
#define REWARD_TALLY_FIELDS 7
void reward_tally_pack(const struct reward_tally *t, double *v);
struct reward_tally reward_tally_unpack(const double *v);
/* Where a tally goes: a training step's record, an evaluation's record (the eval/ keys), r1lab eval --json. */
enum reward_tally_dest { REWARD_TALLY_STEP, REWARD_TALLY_EVAL, REWARD_TALLY_EVAL_BARE };
/* Adds reflection/rate, reflection/accuracy_with, reflection/accuracy_without, reflection/answer_changed and
 * language/mixed_rate (src/engine/run/metric.h; their eval/ forms for an evaluation) to obj; a share of nothing
 * (no reflecting completion, say) is left out, which readers show as "not available". */
void reward_tally_to_json(const struct reward_tally *t, cJSON *obj, enum reward_tally_dest dest);

#endif
