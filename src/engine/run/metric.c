/* metric: the table. Names follow TRL's GRPOTrainer where one exists. A new key is added here first: the
 * writers, the dashboard, docs/run-format.md and the tests all read this table, and tests/test_metric_table.c
 * fails until the page lists it and a real run writes it (or the entry says when it does not). */
#include "engine/run/metric.h"

#include <stdio.h>
#include <string.h>

#include "engine/util/status.h"

#define TRAINER METRIC_BY_TRAINER
#define LM METRIC_BY_LM
#define GRPO METRIC_BY_GRPO
#define EVAL METRIC_BY_EVAL
#define REJ METRIC_BY_REJECTION
#define SOMETIMES METRIC_SOMETIMES
#define PATTERN METRIC_PATTERN

/* The five self-check and language shares are left out of a record when they would be a share of nothing
 * (reward_tally_to_json): no completion of the step reflected, every one did, or none reflected twice. */
#define NO_REFLECTING "some completion reflected"
#define SOME_PLAIN "some completion did not reflect"
#define CHANGE_KNOWN "some reflecting completion stated an answer before its check"

static const struct metric_info table[METRIC_COUNT] = {
    [METRIC_STEP] = {"step", "step", TRAINER | REJ, 0, NULL, "the step number, 1-based (0: the evaluation of the starting model; rejection sampling: the batch)"},
    [METRIC_TIME] = {"time", "Unix seconds", TRAINER | REJ, 0, NULL, "wall-clock time the record was written"},
    [METRIC_STAGE] = {"stage", "", TRAINER | REJ, 0, NULL, "\"pretrain\", \"sft\", \"grpo\" or \"rejection\""},
    [METRIC_EPOCH] = {"epoch", "epochs", LM, 0, NULL, "fractional pass over the data"},
    [METRIC_LOSS] = {"loss", "", LM | GRPO, 0, NULL,
                     "the optimised loss (next-token stages: mean negative log-likelihood per scored token; GRPO: the "
                     "surrogate of equation 1 with the KL term, as minimised)"},
    [METRIC_LOSS_LAST_ITERATION] = {"loss/last_iteration", "", GRPO, SOMETIMES, "num_iterations > 1",
                                    "the surrogate loss on the last pass over the step's rollouts (below `loss` when "
                                    "the updates moved the policy toward the advantages)"},
    [METRIC_GRAD_NORM] = {"grad_norm", "", LM | GRPO, 0, NULL, "global L2 norm of the gradient before clipping"},
    [METRIC_LEARNING_RATE] = {"learning_rate", "", LM | GRPO, 0, NULL, "learning rate used for this step"},
    [METRIC_SKIPPED_STEPS] = {"skipped_steps", "steps", TRAINER, 0, NULL,
                              "cumulative count of steps skipped for non-finite gradients"},
    [METRIC_REWARD] = {"reward", "reward", GRPO | REJ, 0, NULL, "mean total reward over the step's completions (rejection sampling: the share kept)"},
    [METRIC_REWARD_STD] = {"reward_std", "reward", GRPO, 0, NULL, "mean over groups of the within-group std of the reward"},
    [METRIC_REWARD_FUNC_MEAN] = {"rewards/<name>/mean", "reward", GRPO | REJ, PATTERN, NULL,
                                 "mean of one reward function (`accuracy`, `format`, `language`, `length`) over the "
                                 "step's completions (rejection sampling: accuracy, format in its style, language "
                                 "share)"},
    [METRIC_REWARD_FUNC_STD] = {"rewards/<name>/std", "reward", GRPO, PATTERN, NULL,
                                "std of one reward function over the step's completions"},
    [METRIC_FRAC_REWARD_ZERO_STD] = {"frac_reward_zero_std", "share", GRPO, 0, NULL,
                                     "share of groups whose rewards are all equal (they contribute no gradient)"},
    [METRIC_COMPLETIONS_MEAN_LENGTH] = {"completions/mean_length", "tokens", GRPO | REJ, 0, NULL, "mean completion length"},
    [METRIC_COMPLETIONS_MIN_LENGTH] = {"completions/min_length", "tokens", GRPO | REJ, 0, NULL, "shortest completion"},
    [METRIC_COMPLETIONS_MAX_LENGTH] = {"completions/max_length", "tokens", GRPO | REJ, 0, NULL, "longest completion"},
    [METRIC_COMPLETIONS_CLIPPED_RATIO] = {"completions/clipped_ratio", "share", GRPO | REJ, 0, NULL,
                                          "share of completions that hit `max_completion_length`"},
    [METRIC_ACCURACY] = {"accuracy", "share", GRPO, 0, NULL, "share of the step's completions whose answer is correct"},
    [METRIC_FORMAT_RATE] = {"format_rate", "share", GRPO, 0, NULL,
                            "share of the step's completions in the strict Table 1 format"},
    [METRIC_KL] = {"kl", "nats", GRPO, SOMETIMES, "beta > 0 and some sequence was trained",
                   "mean per-token k3 estimate of KL(π_θ ‖ π_ref)"},
    [METRIC_ENTROPY] = {"entropy", "nats", GRPO, SOMETIMES, "some sequence was trained",
                        "mean per-token entropy of the policy on its completions"},
    [METRIC_CLIP_RATIO_LOW] = {"clip_ratio/low_mean", "share", GRPO, 0, NULL, "share of tokens whose ratio was clipped below"},
    [METRIC_CLIP_RATIO_HIGH] = {"clip_ratio/high_mean", "share", GRPO, 0, NULL, "share of tokens whose ratio was clipped above"},
    [METRIC_CLIP_RATIO_REGION] = {"clip_ratio/region_mean", "share", GRPO, 0, NULL,
                                  "share of tokens whose ratio was clipped on either side"},
    [METRIC_REFLECTION_RATE_WORDS] = {"reflection_rate", "share", GRPO | REJ, 0, NULL,
                                      "the share `reflection/rate` holds, under the name earlier runs used"},
    [METRIC_REFLECTION_RATE] = {"reflection/rate", "share", GRPO, 0, NULL,
                                "share of completions with a verification or redo step (a reflection word in the "
                                "CoT: \"wait\", \"check\", \"verify\", ...)"},
    [METRIC_REFLECTION_ACCURACY_WITH] = {"reflection/accuracy_with", "share", GRPO, SOMETIMES, NO_REFLECTING,
                                         "accuracy of the completions with a verification or redo step"},
    [METRIC_REFLECTION_ACCURACY_WITHOUT] = {"reflection/accuracy_without", "share", GRPO, SOMETIMES, SOME_PLAIN,
                                            "accuracy of the completions without one"},
    [METRIC_REFLECTION_ANSWER_CHANGED] = {"reflection/answer_changed", "share", GRPO, SOMETIMES, CHANGE_KNOWN,
                                          "share of reflecting completions whose final answer differs from the answer "
                                          "before the check (countdown: the value after the last \"=\" before it)"},
    [METRIC_LANGUAGE_MIXED_RATE] = {"language/mixed_rate", "share", GRPO, 0, NULL,
                                    "share of completions whose CoT contains off-language words"},
    [METRIC_NUM_TOKENS] = {"num_tokens", "tokens", LM | GRPO, 0, NULL, "tokens processed in the step"},
    [METRIC_TRAINED_SEQUENCES] = {"trained_sequences", "sequences", GRPO, 0, NULL,
                                  "completions that took part in the update (zero-advantage ones are skipped when "
                                  "beta = 0)"},
    [METRIC_TOKENS_PER_SECOND_ROLLOUT] = {"tokens_per_second/rollout", "tokens/s", GRPO | REJ, 0, NULL,
                                          "throughput of generation"},
    [METRIC_TOKENS_PER_SECOND_TRAIN] = {"tokens_per_second/train", "tokens/s", LM | GRPO, 0, NULL,
                                        "throughput of the optimisation passes"},
    [METRIC_DIST_WORLD_SIZE] = {"dist/world_size", "ranks", TRAINER, SOMETIMES, "running data-parallel (mpirun -np N)",
                                "processes the step was split over"},
    [METRIC_DIST_RANK_TOKENS_PER_SECOND] = {"dist/rank<name>/tokens_per_second", "tokens/s", GRPO, PATTERN | SOMETIMES,
                                            "running data-parallel (mpirun -np N)",
                                            "one rank's generation throughput (`dist/rank0/...`, `dist/rank1/...`): a "
                                            "slow rank holds every other one up at the gradient all-reduce"},
    [METRIC_TIME_STEP] = {"time/step", "seconds", TRAINER | REJ, 0, NULL, "seconds spent in the step"},
    [METRIC_TIME_ROLLOUT] = {"time/rollout", "seconds", GRPO | REJ, 0, NULL, "seconds spent generating"},
    [METRIC_TIME_SCORE] = {"time/score", "seconds", GRPO, 0, NULL,
                           "seconds spent on rewards, advantages and the reference / old-policy scoring passes"},
    [METRIC_TIME_TRAIN] = {"time/train", "seconds", GRPO, 0, NULL, "seconds spent in the optimisation passes"},
    [METRIC_TIME_EVAL] = {"time/eval", "seconds", EVAL, 0, NULL, "seconds spent in the held-out evaluation"},
    [METRIC_MEMORY_HOST] = {"memory/host_bytes", "bytes", TRAINER, 0, NULL, "resident memory (RSS) of the process"},
    [METRIC_MEMORY_DEVICE] = {"memory/device_bytes", "bytes", TRAINER, SOMETIMES, "on a GPU",
                              "device memory r1lab holds (buffers, scratch, bf16 weight copies)"},
    [METRIC_MEMORY_DEVICE_PEAK] = {"memory/device_peak_bytes", "bytes", TRAINER, SOMETIMES, "on a GPU",
                                   "the most device memory r1lab has held so far"},
    [METRIC_MEMORY_DEVICE_TOTAL] = {"memory/device_total_bytes", "bytes", TRAINER, SOMETIMES, "on a GPU",
                                    "the device's capacity"},
    [METRIC_EVAL_PASS1] = {"eval/pass@1", "share", EVAL, 0, NULL, "mean correctness over k samples per held-out problem"},
    [METRIC_EVAL_CONS] = {"eval/cons@k", "share", EVAL, 0, NULL,
                          "share of problems whose majority answer over k samples is correct"},
    [METRIC_EVAL_PASSK] = {"eval/pass@k", "share", EVAL, 0, NULL, "share of problems with at least one correct sample"},
    [METRIC_EVAL_FORMAT] = {"eval/format", "share", EVAL, 0, NULL, "share of samples in the strict Table 1 format"},
    [METRIC_EVAL_FORMAT_R1] = {"eval/format_r1", "share", EVAL, 0, NULL,
                               "share of samples in R1's format: reasoning, then a summary with the answer"},
    [METRIC_EVAL_LANGUAGE] = {"eval/language", "share", EVAL, 0, NULL,
                              "language consistency: mean share of English words in the samples' CoT"},
    [METRIC_EVAL_READABILITY] = {"eval/readability", "score", EVAL, 0, NULL,
                                 "mean readability of the samples' final summaries: helpfulness scaled by the share spelled (readability.h)"},
    [METRIC_EVAL_MEAN_LENGTH] = {"eval/mean_length", "tokens", EVAL, 0, NULL, "mean sample length"},
    [METRIC_EVAL_REFLECTION_RATE_WORDS] = {"eval/reflection_rate", "share", EVAL, 0, NULL,
                                           "the share `eval/reflection/rate` holds, under the name earlier runs used"},
    [METRIC_EVAL_REFLECTION_RATE] = {"eval/reflection/rate", "share", EVAL, 0, NULL,
                                     "share of samples with a verification or redo step"},
    [METRIC_EVAL_REFLECTION_ACCURACY_WITH] = {"eval/reflection/accuracy_with", "share", EVAL, SOMETIMES, NO_REFLECTING,
                                              "accuracy of the samples with a verification or redo step"},
    [METRIC_EVAL_REFLECTION_ACCURACY_WITHOUT] = {"eval/reflection/accuracy_without", "share", EVAL, SOMETIMES,
                                                 SOME_PLAIN, "accuracy of the samples without one"},
    [METRIC_EVAL_REFLECTION_ANSWER_CHANGED] = {"eval/reflection/answer_changed", "share", EVAL, SOMETIMES,
                                               CHANGE_KNOWN,
                                               "share of reflecting samples whose final answer differs from the "
                                               "answer before the check (countdown: the value after the last \"=\" "
                                               "before it)"},
    [METRIC_EVAL_LANGUAGE_MIXED_RATE] = {"eval/language/mixed_rate", "share", EVAL, 0, NULL,
                                         "share of samples whose CoT contains off-language words"},
    [METRIC_EVAL_K] = {"eval/k", "samples", EVAL, 0, NULL, "samples per problem"},
    [METRIC_EVAL_PROBLEMS] = {"eval/problems", "problems", EVAL, 0, NULL, "held-out problems evaluated"},
    [METRIC_REJECTION_PROMPTS] = {"rejection/prompts", "problems", REJ, 0, NULL, "problems sampled so far"},
    [METRIC_REJECTION_SAMPLES] = {"rejection/samples", "completions", REJ, 0, NULL, "completions sampled so far"},
    [METRIC_REJECTION_KEPT] = {"rejection/kept", "completions", REJ, 0, NULL, "completions kept so far"},
    [METRIC_REJECTION_KEPT_RATE] = {"rejection/kept_rate", "share", REJ, 0, NULL, "share of the completions so far that were kept"},
    [METRIC_REJECTION_DROPPED] = {"rejection/dropped/<name>", "completions", REJ, PATTERN, NULL,
                                  "completions dropped so far for one reason (`truncated`, `wrong`, `format`, "
                                  "`language`, `duplicate`, `over_limit`)"},
};

const struct metric_info *metric_info(enum metric_id id) {
    ASSERTF((unsigned)id < METRIC_COUNT && table[id].name, "metric id %d has no table entry", (int)id);
    return &table[id];
}

const char *metric_name(enum metric_id id) { return metric_info(id)->name; }

void metric_writers_text(unsigned writers, char *out, size_t cap) {
    static const char *const names[] = {"trainer", "pretrain, sft", "grpo", "grpo eval", "rejection_sample"};
    size_t n = 0;
    if (cap) out[0] = '\0';
    for (unsigned b = 0; b < sizeof names / sizeof names[0]; b++) {
        if (!(writers & (1u << b))) continue;
        int w = snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? ", " : "", names[b]);
        if (w > 0) n += (size_t)w;
    }
}

/* Does key match the pattern entry's name, "<name>" standing for one path part? */
static bool pattern_match(const char *pattern, const char *key) {
    const char *hole = strstr(pattern, "<name>");
    size_t pre = (size_t)(hole - pattern), post = strlen(hole + 6), kl = strlen(key);
    if (kl <= pre + post || strncmp(key, pattern, pre) != 0 || strcmp(key + kl - post, hole + 6) != 0) return false;
    for (size_t i = pre; i < kl - post; i++)
        if (key[i] == '/') return false;
    return true;
}

int metric_lookup(const char *key) {
    for (int i = 0; i < METRIC_COUNT; i++) {
        const struct metric_info *m = &table[i];
        if (m->flags & METRIC_PATTERN ? pattern_match(m->name, key) : strcmp(m->name, key) == 0) return i;
    }
    return -1;
}

void metric_put(cJSON *rec, enum metric_id id, double v) {
    const struct metric_info *m = metric_info(id);
    ASSERTF(!(m->flags & METRIC_PATTERN), "metric %s needs a name (metric_put_named)", m->name);
    cJSON_AddNumberToObject(rec, m->name, v);
}

void metric_put_named(cJSON *rec, enum metric_id id, const char *name, double v) {
    const struct metric_info *m = metric_info(id);
    const char *hole = strstr(m->name, "<name>");
    ASSERTF(hole, "metric %s has no <name> part", m->name);
    char key[128];
    snprintf(key, sizeof key, "%.*s%s%s", (int)(hole - m->name), m->name, name, hole + 6);
    cJSON_AddNumberToObject(rec, key, v);
}

void metric_put_bare(cJSON *rec, enum metric_id id, double v) {
    const struct metric_info *m = metric_info(id);
    ASSERTF(strncmp(m->name, "eval/", 5) == 0, "metric %s is not an eval/ key", m->name);
    cJSON_AddNumberToObject(rec, m->name + 5, v);
}
