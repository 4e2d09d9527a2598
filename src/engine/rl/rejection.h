/* rejection: R1's rejection sampling (stage 3 of the recipe, and the data of distillation). From a checkpoint,
 * sample several completions for each of a set of training prompts, keep only the good ones, and write them as
 * an SFT data set of prompt/completion pairs — plus extra SFT sources (a file, or documents of the world corpus,
 * where the paper adds its non-reasoning data).
 *
 * The filter judges one prompt's completions at a time and gives each one verdict, the first that applies:
 *   truncated   it reached max_completion_length without ending (EOS or a stop string)
 *   wrong       its final answer is not correct (reward.h's accuracy)
 *   format      not well formatted in format_style: "r1" (<think> reasoning </think> summary with the answer)
 *               or "r1-zero" (the strict Table 1 format)
 *   language    its CoT is not single-language: reward_language's share of target-language words is below
 *               min_language (default 1.0: not one word of another language)
 *   duplicate   the same text as a completion of this prompt already kept
 *   over_limit  keep_per_prompt completions of this prompt are already kept
 *   kept        none of the above
 * Besides that one verdict, every content check a completion fails (truncated, wrong, format, language) is
 * counted too ("failed"), so a summary can say both why completions were dropped and how often each check
 * failed. Verdicts add up: kept + every dropped reason = samples.
 *
 * The stage runs in a run directory like a training stage, so the dashboard and `r1lab dash` show it: a "step"
 * is a batch of batch_prompts prompts; status.json, events.jsonl, metrics.jsonl (the batch's kept share as
 * "reward", correct / format / language shares as rewards/<name>/mean, lengths, and the cumulative counts as
 * rejection/kept, rejection/dropped/<reason>) and samples.jsonl (a few groups per batch, "reward" 1 for kept)
 * are written as it goes. At the end it writes, each atomically: dataset.jsonl — one
 * {"prompt", "completion", "question", "answer", "task"} line per kept completion (prompts in order, then the
 * extra sources; what an sft stage reads) — and summary.json with the counts. Everything written except the
 * times is a function of the configuration: the same stage run again writes the same bytes. Interrupted, it
 * writes neither and starts over next time. */
#ifndef R1LAB_REJECTION_H
#define R1LAB_REJECTION_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "engine/rl/reward.h"
#include "engine/run/config.h"
#include "engine/tokenizer/template.h"
#include "engine/util/status.h"
#include "engine/util/strbuf.h"
#include "engine/world/task.h"

enum rejection_reason {
    REJECTION_KEPT,
    REJECTION_TRUNCATED,
    REJECTION_WRONG,
    REJECTION_FORMAT,
    REJECTION_LANGUAGE,
    REJECTION_DUPLICATE,
    REJECTION_OVER_LIMIT,
    REJECTION_REASON_COUNT,
};
/* "kept", "truncated", "wrong", "format", "language", "duplicate", "over_limit" */
const char *rejection_reason_name(enum rejection_reason r);

struct rejection_filter {
    enum reward_format_style style;
    enum reward_lang lang;
    double min_language;
    int keep_per_prompt; /* 0 = no limit */
};

/* One completion to judge. */
struct rejection_candidate {
    const char *text;
    size_t len;
    bool truncated;
};

struct rejection_verdict {
    enum rejection_reason reason;
    unsigned failed; /* bit (1 << reason) for every content check that failed */
    double accuracy, format, language;
};

/* Judges the n completions of problem p, in order (see above). */
void rejection_filter_group(const struct rejection_filter *f, const struct problem *p,
                            const struct rejection_candidate *c, int n, struct rejection_verdict *out);

struct rejection_counts {
    int64_t prompts, samples, kept, prompts_with_kept;
    int64_t dropped[REJECTION_REASON_COUNT]; /* by verdict; [REJECTION_KEPT] stays 0 */
    int64_t failed[REJECTION_REASON_COUNT];  /* by check, non-exclusive */
    int64_t extra_records, records;          /* lines from the extra sources; lines written in all */
    bool stopped_by_request;                 /* ended by a "stop" request rather than an interrupt */
};
void rejection_counts_add(struct rejection_counts *c, const struct rejection_verdict *v, int n);
/* {"prompts", "samples", "kept", "prompts_with_kept", "dropped": {...}, "failed": {...}, ...} into obj. */
void rejection_counts_to_json(const struct rejection_counts *c, cJSON *obj);

/* The keys of a rejection_sample stage (r1lab-pipeline(1) documents each; tests hold the page to this table).
 * The stages field of each entry is unused. */
extern const struct config_key rejection_keys[];
extern const size_t rejection_n_keys;

#define REJECTION_MAX_STOP 4
#define REJECTION_MAX_EXTRA 16

struct rejection_extra {
    char path[PATH_MAX]; /* a .jsonl of prompt/completion, or "" */
    char world[32];      /* a corpus kind (corpus_kind_parse), or "" */
    int64_t n;           /* records at most (file: 0 = all) */
    int64_t seed;        /* world documents' seed; -1 = the stage's */
};

struct rejection_config {
    cJSON *root; /* the configuration as given, every key present (defaults filled in); owned */
    char source[PATH_MAX];
    const char *model, *dataset, *device; /* dataset NULL: the checkpoint's task, else world:mix */
    const cJSON *world;                   /* NULL: the checkpoint's */
    int64_t prompts;                      /* -1: 256 (world), the whole file */
    int samples_per_prompt, top_k, max_completion, max_prompt, keep_per_prompt, batch_prompts, log_completions;
    int threads;
    double temperature, top_p;
    bool has_template;
    enum template_kind tmpl;
    const char *stop[REJECTION_MAX_STOP + 1];
    bool rewrite_r1; /* "rewrite": "r1" */
    struct rejection_filter filter;
    struct rejection_extra extra[REJECTION_MAX_EXTRA];
    int n_extra;
    int64_t seed;
};

/* Checks obj (a stage's keys) against the table: unknown keys with a "did you mean", types, ranges, names of
 * styles, languages, templates and corpus kinds. Touches no file; the model need not exist yet. */
enum status rejection_config_parse(struct rejection_config *c, const cJSON *obj, const char *where);

/* A kept completion in R1's format, appended to out: " <think> REASONING </think> SUMMARY <answer> A </answer>",
 * the reasoning taken from text, the summary and answer from the problem's gold answer ("so x = 7 ." for an
 * equation, "The answer is 7 ." otherwise). How the paper builds cold-start data from R1-Zero's outputs, its
 * human post-processing done by rule: sample R1-Zero with format_style "r1-zero" and rewrite "r1". Refuses a text
 * without a <think> span or an answer (the filter keeps none such). */
enum status rejection_rewrite_r1(const struct problem *p, const char *text, size_t len, struct strbuf *out);
void rejection_config_free(struct rejection_config *c); /* accepts a zeroed struct */

/* Runs the stage in dir (which must exist; earlier outputs in it are replaced). Polls *interrupt (may be NULL)
 * and dir's control channel (stop, pause, resume); then returns STATUS_ABORTED without writing the data set. */
enum status rejection_run(const struct rejection_config *c, const char *dir, atomic_int *interrupt,
                          struct rejection_counts *out);

#endif
