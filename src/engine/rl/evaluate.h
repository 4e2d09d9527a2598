/* evaluate: the paper's evaluation on held-out problems. For each problem, k completions are sampled
 * (temperature 0.6, top-p 0.95 by default, as in the DeepSeek-R1 paper); pass@1 is the mean correctness over
 * all k samples of all problems, cons@k the share of problems whose majority answer (by canonical form; ties
 * broken by first appearance) is right, pass@k the share with at least one right sample. Also the format rate
 * (strict Table 1 format), mean completion length and reflection rate. Completions are generated in batches
 * of whole problems through the rollout engine. */
#ifndef R1LAB_EVALUATE_H
#define R1LAB_EVALUATE_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "engine/dist/dist.h"
#include "engine/model/model.h"
#include "engine/model/rollout.h"
#include "engine/rl/reward.h"
#include "engine/tokenizer/template.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/status.h"
#include "engine/world/problems.h"

struct eval_options {
    int n_problems;
    int k;
    struct rollout_options ro; /* sampling, max_new_tokens, stop strings, seed */
    enum template_kind tmpl;
    bool add_special_tokens;
    /* Problems are decoded in batches of batch_seqs / k (0: as many as the rollout holds), and a batch's samples
     * come from random streams of seed + its first problem, so the samples depend on batch_seqs alone. With a
     * data-parallel group each rank decodes its share of every batch (in pieces when its rollout holds fewer) and
     * the result is summed over the ranks: the same numbers as one process with the same batch_seqs. */
    int batch_seqs;
    struct dist *dist; /* NULL: this process alone */
};

struct eval_result {
    int n_problems, k;
    double pass1, cons, passk, format, format_r1, mean_length, reflection;
    double language, readability; /* mean CoT language share (English); mean summary helpfulness */
    struct reward_tally tally; /* self-checks and languages of all samples */
};

/* Adds the result to obj under its eval/ keys (src/engine/run/metric.h: eval/pass@1, eval/cons@k, ...), or with
 * `bare` under the same names without "eval/" (r1lab eval --json). */
void eval_result_to_json(const struct eval_result *r, cJSON *obj, bool bare);

/* Called per problem after it is scored (for --json details); may be NULL. */
typedef void (*eval_problem_fn)(void *user, int index, const struct problem *p, const struct rollout_seq *samples,
                                const struct reward_result *scores, int k, bool cons_correct);

/* Evaluates problems 0..n_problems-1 of src. r must hold at least k sequences of the prompt + max_new tokens. */
enum status evaluate_run(struct rollout *r, const struct tokenizer *tok, struct problem_source *src,
                         const struct eval_options *opt, eval_problem_fn on_problem, void *user,
                         rollout_abort_fn should_abort, struct eval_result *out);

#endif
