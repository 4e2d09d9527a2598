/* evaluate: sample k per problem, score, vote. */
#include "engine/rl/evaluate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/rl/readability.h"
#include "engine/run/metric.h"

/* Majority vote over canonical answers; returns whether the winner is correct (false when no sample had an
 * answer). */
static bool majority_correct(const struct problem *p, const struct rollout_seq *seqs, const struct reward_result *sc,
                             int k) {
    char **canon = calloc((size_t)k, sizeof *canon);
    int *votes = calloc((size_t)k, sizeof *votes);
    bool result = false;
    if (!canon || !votes) goto done;
    for (int i = 0; i < k; i++) {
        if (!sc[i].has_answer) continue;
        const char *a = seqs[i].text + sc[i].answer.off;
        if (task_canonical_answer(p, a, sc[i].answer.len, &canon[i]) != STATUS_OK) canon[i] = NULL;
    }
    int best = -1;
    for (int i = 0; i < k; i++) {
        if (!canon[i] || strcmp(canon[i], "invalid") == 0) continue;
        for (int j = 0; j <= i; j++)
            if (canon[j] && strcmp(canon[i], canon[j]) == 0) {
                votes[j]++;
                break;
            }
    }
    for (int i = 0; i < k; i++)
        if (votes[i] > 0 && (best < 0 || votes[i] > votes[best])) best = i;
    if (best >= 0) result = sc[best].correct;
done:
    if (canon)
        for (int i = 0; i < k; i++) free(canon[i]);
    free(canon);
    free(votes);
    return result;
}

void eval_result_to_json(const struct eval_result *r, cJSON *obj, bool bare) {
    const struct {
        enum metric_id id;
        double value;
    } fields[] = {{METRIC_EVAL_PASS1, r->pass1},
                  {METRIC_EVAL_CONS, r->cons},
                  {METRIC_EVAL_PASSK, r->passk},
                  {METRIC_EVAL_FORMAT, r->format},
                  {METRIC_EVAL_FORMAT_R1, r->format_r1},
                  {METRIC_EVAL_LANGUAGE, r->language},
                  {METRIC_EVAL_READABILITY, r->readability},
                  {METRIC_EVAL_MEAN_LENGTH, r->mean_length},
                  {METRIC_EVAL_REFLECTION_RATE_WORDS, r->reflection},
                  {METRIC_EVAL_K, r->k},
                  {METRIC_EVAL_PROBLEMS, r->n_problems}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        (bare ? metric_put_bare : metric_put)(obj, fields[i].id, fields[i].value);
    reward_tally_to_json(&r->tally, obj, bare ? REWARD_TALLY_EVAL_BARE : REWARD_TALLY_EVAL);
}

/* A problem whose rendered prompt leaves no room for the completion, said in the evaluation's terms: which problem,
 * which template, and that the raw template (the problem with nothing around it) is the shortest prompt there is. */
static enum status check_fits(const struct rollout *r, const struct eval_options *opt, size_t index, int prompt_len) {
    int context = r->model->cfg.max_position_embeddings, want = opt->ro.max_new_tokens;
    if (prompt_len + want <= context) return STATUS_OK;
    const char *tmpl = template_name(opt->tmpl);
    enum status st = err_set(STATUS_INVALID,
                             "problem %zu: its prompt is %d tokens with the %s template; with %d new tokens that "
                             "exceeds the model's context of %d positions",
                             index, prompt_len, tmpl, want, context);
    /* The options as eval(1) spells them and as a training config does (the in-run evaluation shares this). */
    if (prompt_len < context)
        err_hint("ask for at most %d new tokens (--max-tokens; max_completion_length in a config)%s",
                 context - prompt_len, opt->tmpl == TEMPLATE_RAW ? "" : ", or the raw template (--template raw)");
    else if (opt->tmpl != TEMPLATE_RAW)
        err_hint("use the raw template, which adds nothing to the problem (--template raw; template=raw in a config), "
                 "or a model with a longer context");
    else
        err_hint("the problem alone fills the context: use a model with a longer context (max_position_embeddings)");
    return st;
}

enum status evaluate_run(struct rollout *r, const struct tokenizer *tok, struct problem_source *src,
                         const struct eval_options *opt, eval_problem_fn on_problem, void *user,
                         rollout_abort_fn should_abort, struct eval_result *out) {
    memset(out, 0, sizeof *out);
    int k = opt->k, cap = k > 0 ? r->max_seqs / k : 0;
    if (k < 1 || cap < 1) return err_set(STATUS_INVALID, "evaluation needs k >= 1 samples per problem (k=%d)", k);
    int per_batch = opt->batch_seqs > 0 ? opt->batch_seqs / k : cap;
    if (per_batch < 1) return err_set(STATUS_INVALID, "evaluation batches of %d sequences hold no problem's %d samples",
                                      opt->batch_seqs, k);
    int rank = opt->dist ? opt->dist->rank : 0, ranks = opt->dist ? opt->dist->size : 1;
    struct reward_spec spec;
    reward_spec_default(&spec);
    size_t total = (size_t)opt->n_problems;
    struct problem *probs = calloc((size_t)cap, sizeof *probs);
    struct token_buf *ids = calloc((size_t)cap, sizeof *ids);
    const int32_t **prompts = calloc((size_t)cap, sizeof *prompts);
    int *lens = calloc((size_t)cap, sizeof *lens);
    struct reward_result *sc = calloc((size_t)r->max_seqs, sizeof *sc);
    enum status st = (probs && ids && prompts && lens && sc) ? STATUS_OK : err_set(STATUS_NOMEM, "evaluation buffers");
    enum { E_CORRECT, E_CONS, E_PASSK, E_FMT, E_FMT_R1, E_LANG, E_READABLE, E_LEN, E_REFL, E_TALLY,
           E_COUNT = E_TALLY + REWARD_TALLY_FIELDS };
    double sum[E_COUNT] = {0};
    struct reward_tally tally = {0};
    for (size_t start = 0; st == STATUS_OK && start < total; start += (size_t)per_batch) {
        int in_batch = (int)(total - start < (size_t)per_batch ? total - start : (size_t)per_batch);
        int first, count;
        dist_share(in_batch, rank, ranks, &first, &count);
        for (int c0 = first; st == STATUS_OK && c0 < first + count; c0 += cap) {
            int P = first + count - c0 < cap ? first + count - c0 : cap;
            size_t base = start + (size_t)c0;
            for (int p = 0; p < P && st == STATUS_OK; p++) {
                st = problem_source_get(src, base + (size_t)p, &probs[p]);
                char *text = NULL;
                if (st == STATUS_OK) st = template_render_prompt(opt->tmpl, probs[p].prompt, &text);
                ids[p].n = 0;
                if (st == STATUS_OK) st = tokenizer_encode(tok, text, strlen(text), opt->add_special_tokens, &ids[p]);
                free(text);
                prompts[p] = ids[p].ids;
                lens[p] = (int)ids[p].n;
            }
            for (int p = 0; p < P && st == STATUS_OK; p++) st = check_fits(r, opt, base + (size_t)p, lens[p]);
            struct rollout_options ro = opt->ro;
            ro.seed = opt->ro.seed + start; /* streams of the batch's first problem, then by place in the batch */
            ro.first_stream = (uint64_t)c0 * (uint64_t)k;
            if (st == STATUS_OK) st = rollout_run(r, prompts, lens, P, k, &ro, NULL, should_abort, user, NULL);
            for (int p = 0; p < P && st == STATUS_OK; p++) {
                const struct rollout_seq *seqs = &r->seqs[p * k];
                bool any = false;
                for (int i = 0; i < k; i++) {
                    reward_score(&spec, &probs[p], seqs[i].text, seqs[i].text_len, seqs[i].n, opt->ro.max_new_tokens,
                                 &sc[i]);
                    sum[E_CORRECT] += sc[i].correct;
                    sum[E_FMT] += sc[i].format_ok;
                    sum[E_FMT_R1] += sc[i].format_r1;
                    sum[E_LANG] += reward_language(seqs[i].text, seqs[i].text_len, REWARD_LANG_EN);
                    sum[E_READABLE] += readability_score(seqs[i].text, seqs[i].text_len, REWARD_LANG_EN);
                    sum[E_REFL] += sc[i].reflection;
                    reward_tally_add(&tally, &sc[i]);
                    sum[E_LEN] += seqs[i].n;
                    any |= sc[i].correct;
                }
                bool vote = majority_correct(&probs[p], seqs, sc, k);
                sum[E_CONS] += vote;
                sum[E_PASSK] += any;
                if (on_problem) on_problem(user, (int)base + p, &probs[p], seqs, sc, k, vote);
            }
            for (int p = 0; p < P; p++) task_problem_free(&probs[p]);
        }
    }
    if (ids)
        for (int p = 0; p < cap; p++) token_buf_free(&ids[p]);
    free(probs), free(ids), free(prompts), free(lens), free(sc);
    if (st != STATUS_OK) return st;
    if (opt->dist) { /* every rank's share of the problems */
        reward_tally_pack(&tally, sum + E_TALLY);
        TRY(dist_sum(opt->dist, sum, E_COUNT, "the evaluation's sums"));
        tally = reward_tally_unpack(sum + E_TALLY);
    }
    double n = (double)total, samples = n * k;
    *out = (struct eval_result){.n_problems = (int)total,
                                .k = k,
                                .pass1 = sum[E_CORRECT] / samples,
                                .cons = sum[E_CONS] / n,
                                .passk = sum[E_PASSK] / n,
                                .format = sum[E_FMT] / samples,
                                .format_r1 = sum[E_FMT_R1] / samples,
                                .language = sum[E_LANG] / samples,
                                .readability = sum[E_READABLE] / samples,
                                .mean_length = sum[E_LEN] / samples,
                                .reflection = sum[E_REFL] / samples,
                                .tally = tally};
    return STATUS_OK;
}
