/* grpo_loss: advantages and the clipped surrogate with k3 KL, in double precision per token. */
#include "engine/rl/grpo_loss.h"

#include <math.h>
#include <string.h>

static const char *const loss_names[] = {"grpo", "dapo", "dr_grpo"};

enum status grpo_loss_type_parse(const char *name, enum grpo_loss_type *out) {
    for (int i = 0; i < 3; i++)
        if (strcmp(name, loss_names[i]) == 0) {
            *out = (enum grpo_loss_type)i;
            return STATUS_OK;
        }
    return err_set(STATUS_INVALID, "unknown loss_type \"%s\" (grpo, dapo, dr_grpo)", name);
}

const char *grpo_loss_type_name(enum grpo_loss_type t) { return loss_names[t]; }

double grpo_group_std(const float *r, int G, double *mean) {
    double m = 0, var = 0;
    for (int g = 0; g < G; g++) m += r[g];
    m /= G;
    for (int g = 0; g < G; g++) var += (r[g] - m) * (r[g] - m);
    *mean = m;
    return G > 1 ? sqrt(var / (G - 1)) : 0.0; /* unbiased, as torch.std and TRL */
}

enum status grpo_advantages(const float *rewards, int P, int G, bool scale_by_std, float *adv, int *zero_std_groups) {
    int zero = 0;
    for (int i = 0; i < P * G; i++)
        if (!isfinite(rewards[i]))
            return err_set(STATUS_INVALID, "reward of completion %d is %g; rewards must be finite numbers", i,
                           (double)rewards[i]);
    for (int p = 0; p < P; p++) {
        const float *r = rewards + (size_t)p * G;
        float *a = adv + (size_t)p * G;
        bool all_equal = true;
        for (int g = 1; g < G; g++) all_equal &= r[g] == r[0];
        if (G < 2 || all_equal) {
            for (int g = 0; g < G; g++) a[g] = 0.0f;
            zero++;
            continue;
        }
        double mean, std = grpo_group_std(r, G, &mean);
        for (int g = 0; g < G; g++) a[g] = (float)(scale_by_std ? (r[g] - mean) / (std + 1e-4) : r[g] - mean);
    }
    if (zero_std_groups) *zero_std_groups = zero;
    return STATUS_OK;
}

void grpo_loss(const struct grpo_loss_config *c, const struct grpo_loss_input *in, float *dlogp,
               struct grpo_loss_stats *stats) {
    double lo = 1.0 - c->epsilon, hi = 1.0 + c->epsilon_high;
    for (int i = 0; i < in->n_seqs; i++) {
        int t0 = in->tok_start[i], t1 = in->tok_start[i + 1];
        double n_i = 0;
        for (int t = t0; t < t1; t++) n_i += in->mask[t];
        /* Weight of one token's loss in the batch loss. */
        double w;
        switch (c->type) {
        case GRPO_LOSS_GRPO: w = 1.0 / ((n_i > 1 ? n_i : 1.0) * in->batch_seqs); break;
        case GRPO_LOSS_DAPO: w = 1.0 / (in->batch_tokens > 1 ? in->batch_tokens : 1.0); break;
        default: w = 1.0 / ((double)in->batch_seqs * c->max_completion_length); break;
        }
        double A = in->adv[i];
        for (int t = t0; t < t1; t++) {
            double m = in->mask[t];
            if (m == 0) {
                dlogp[t] = 0.0f;
                continue;
            }
            double lp = in->logp[t], r = exp(lp - in->old_logp[t]);
            double rc = r < lo ? lo : r > hi ? hi : r;
            double unclipped = r * A, clipped = rc * A;
            double surrogate = unclipped <= clipped ? unclipped : clipped;
            /* d(-min)/dlogp: the unclipped branch (chosen on ties) has d(rA)/dlogp = rA; a chosen clipped branch
             * is constant outside [lo, hi]. */
            double g = unclipped <= clipped ? -r * A : (r >= lo && r <= hi ? -r * A : 0.0);
            double l = -surrogate;
            if (c->beta != 0 && in->ref_logp) {
                double d = in->ref_logp[t] - lp;
                double kl = exp(d) - d - 1.0;
                l += c->beta * kl;
                g += c->beta * (1.0 - exp(d));
                stats->kl_sum += kl;
            }
            dlogp[t] = (float)(w * m * g);
            stats->loss += w * m * l;
            stats->tokens += m;
            stats->ratio_sum += r;
            stats->clip_low += (r < lo && A < 0);
            stats->clip_high += (r > hi && A > 0);
        }
    }
}
