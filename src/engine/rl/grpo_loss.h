/* grpo_loss: the arithmetic of GRPO (seeds, equations 1-3), separate from models and data so it can be
 * checked against a PyTorch implementation on fixed inputs.
 *
 * Advantages (eq. 3): A_i = (r_i - mean(group)) / (std(group) + 1e-4) with the unbiased std (as TRL), or
 * r_i - mean with scale "none" (Dr. GRPO). A group whose rewards are all equal (and any group of one) gets
 * A = 0 exactly and is counted: it contributes no gradient. A NaN or infinite reward is an error.
 *
 * Per token t of completion i (eq. 1 and 2):
 *   r = exp(logp - old_logp)
 *   l = -min(r A_i, clip(r, 1 - epsilon, 1 + epsilon_high) A_i) + beta (exp(ref - logp) - (ref - logp) - 1)
 * aggregated over the tokens with mask 1 by loss_type:
 *   grpo     mean over each sequence's tokens, then mean over the batch's sequences (the paper)
 *   dapo     sum over all tokens / number of tokens in the batch
 *   dr_grpo  sum over all tokens / (sequences in the batch * max_completion_length)
 * The gradient w.r.t. logp follows autograd's conventions: the min picks the unclipped branch on ties, and
 * a clipped branch carries no gradient. "Batch" means the whole optimisation batch, so micro-batches
 * add up to the same loss and gradient as one big batch. */
#ifndef R1LAB_GRPO_LOSS_H
#define R1LAB_GRPO_LOSS_H

#include <stdbool.h>

#include "engine/util/status.h"

enum grpo_loss_type { GRPO_LOSS_GRPO, GRPO_LOSS_DAPO, GRPO_LOSS_DR_GRPO };
enum status grpo_loss_type_parse(const char *name, enum grpo_loss_type *out);
const char *grpo_loss_type_name(enum grpo_loss_type t);

struct grpo_loss_config {
    enum grpo_loss_type type;
    float epsilon, epsilon_high; /* clip range [1 - epsilon, 1 + epsilon_high] */
    float beta;                  /* KL weight; 0 = no reference term */
    int max_completion_length;   /* dr_grpo's constant */
};

/* The mean (into *mean) and the unbiased std of one group of G rewards (0 when G < 2), in double precision: what
 * the advantages divide by and what the reward_std metric averages. */
double grpo_group_std(const float *r, int G, double *mean);

/* Advantages for P groups of G rewards (P*G values, group-major). Returns the number of zero-std groups. */
enum status grpo_advantages(const float *rewards, int P, int G, bool scale_by_std, float *adv, int *zero_std_groups);

/* Token arrays for some sequences of the batch: sequence i owns tokens [tok_start[i], tok_start[i+1]). */
struct grpo_loss_input {
    int n_seqs;
    const int *tok_start;  /* (n_seqs + 1) */
    const float *logp;     /* (n_tokens) current policy */
    const float *old_logp; /* (n_tokens) the policy that sampled */
    const float *ref_logp; /* (n_tokens) reference policy; may be NULL when beta = 0 */
    const float *mask;     /* (n_tokens) 1 = in the loss, 0 = not (e.g. truncated completions) */
    const float *adv;      /* (n_seqs) */
    int batch_seqs;        /* sequences in the whole batch */
    double batch_tokens;   /* masked tokens in the whole batch */
};

/* Running sums over micro-batches; the _sum fields are over masked tokens. */
struct grpo_loss_stats {
    double loss;        /* this input's share of the batch loss */
    double tokens;      /* masked tokens seen */
    double kl_sum;      /* sum of the k3 estimates (when ref_logp is given) */
    double clip_low;    /* tokens with r < 1 - epsilon and A < 0 */
    double clip_high;   /* tokens with r > 1 + epsilon_high and A > 0 */
    double ratio_sum;
};

/* Adds this input's loss to stats and writes dL/dlogp for its tokens into dlogp (n_tokens). */
void grpo_loss(const struct grpo_loss_config *c, const struct grpo_loss_input *in, float *dlogp,
               struct grpo_loss_stats *stats);

#endif
