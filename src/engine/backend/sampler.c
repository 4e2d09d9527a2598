/* sampler: temperature, top-k, top-p over one logits row. */
#include "engine/backend/sampler.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum status sampler_init(struct sampler *s, int V) {
    memset(s, 0, sizeof *s);
    s->probs = malloc(sizeof(float) * (size_t)V);
    s->kept = malloc(sizeof(float) * (size_t)V);
    s->idx = malloc(sizeof(int32_t) * (size_t)V);
    if (!s->probs || !s->kept || !s->idx) {
        sampler_free(s);
        return err_set(STATUS_NOMEM, "cannot allocate a sampler for %d tokens", V);
    }
    s->V = V;
    return STATUS_OK;
}

void sampler_free(struct sampler *s) {
    free(s->probs);
    free(s->kept);
    free(s->idx);
    memset(s, 0, sizeof *s);
}

enum status sampler_params_check(const struct sampler_params *p) {
    if (!(p->temperature >= 0) || !isfinite(p->temperature))
        return err_set(STATUS_INVALID, "temperature must be a finite number >= 0 (got %g)", p->temperature);
    if (!(p->top_p > 0 && p->top_p <= 1)) return err_set(STATUS_INVALID, "top_p must be in (0, 1] (got %g)", p->top_p);
    if (p->top_k < 0) return err_set(STATUS_INVALID, "top_k must be >= 0 (got %d)", p->top_k);
    return STATUS_OK;
}

int32_t sampler_argmax(const float *x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static int cmp_desc(const void *a, const void *b, void *ctx) {
    const float *probs = ctx;
    int32_t ia = *(const int32_t *)a, ib = *(const int32_t *)b;
    if (probs[ia] != probs[ib]) return probs[ia] < probs[ib] ? 1 : -1;
    return ia < ib ? -1 : ia > ib; /* ties: lower id first, so results are reproducible */
}

/* Fills s->probs with the warped distribution (zero outside the kept set, renormalised) and returns the
 * number of kept candidates s->idx[0..n): all V in id order when neither top-k nor top-p applies, else
 * the kept set in descending probability. */
static int warp(struct sampler *s, const struct sampler_params *p, const float *logits) {
    int V = s->V;
    float mx = logits[sampler_argmax(logits, V)];
    double sum = 0;
    for (int v = 0; v < V; v++) {
        float e = expf((logits[v] - mx) / p->temperature);
        s->probs[v] = e;
        sum += e;
    }
    float inv = (float)(1.0 / sum);
    for (int v = 0; v < V; v++) s->probs[v] *= inv;
    bool use_k = p->top_k > 0 && p->top_k < V, use_p = p->top_p < 1.0f;
    if (!use_k && !use_p) {
        for (int v = 0; v < V; v++) s->idx[v] = v;
        return V;
    }
    /* With top-p alone, only tokens at or above (1 - top_p) / V can be in the nucleus. */
    float floor_p = (use_p && !use_k) ? (1.0f - p->top_p) / (float)V : 0.0f;
    int n = 0;
    for (int v = 0; v < V; v++)
        if (s->probs[v] >= floor_p) s->idx[n++] = v;
    qsort_r(s->idx, (size_t)n, sizeof(int32_t), cmp_desc, s->probs);
    if (use_k && n > p->top_k) n = p->top_k;
    /* Top-p works on the distribution as top-k left it: renormalised over the k kept tokens, or the full
     * distribution (mass 1) without top-k — not over the pruned candidate list, which is only a shortcut. */
    double kept = 0;
    if (use_k) {
        for (int i = 0; i < n; i++) kept += s->probs[s->idx[i]];
    } else {
        kept = 1.0;
    }
    if (use_p) {
        /* The smallest prefix whose mass (renormalised after top-k) reaches top_p, the crossing token
         * included — HF's TopPLogitsWarper keeps the same set. */
        double mass = 0;
        for (int i = 0; i < n; i++) {
            mass += s->probs[s->idx[i]] / kept;
            if (mass >= p->top_p) {
                n = i + 1;
                break;
            }
        }
        kept = 0;
        for (int i = 0; i < n; i++) kept += s->probs[s->idx[i]];
    }
    for (int i = 0; i < n; i++) s->kept[i] = (float)(s->probs[s->idx[i]] / kept);
    memset(s->probs, 0, sizeof(float) * (size_t)V);
    for (int i = 0; i < n; i++) s->probs[s->idx[i]] = s->kept[i];
    return n;
}

int32_t sampler_sample(struct sampler *s, const struct sampler_params *p, const float *logits, struct rng *rng) {
    if (p->temperature <= 0) return sampler_argmax(logits, s->V);
    return sampler_sample_u(s, p, logits, rng_double(rng));
}

int32_t sampler_sample_u(struct sampler *s, const struct sampler_params *p, const float *logits, double u) {
    if (p->temperature <= 0) return sampler_argmax(logits, s->V);
    int n = warp(s, p, logits);
    double acc = 0;
    for (int i = 0; i < n; i++) {
        acc += s->probs[s->idx[i]];
        if (u < acc) return s->idx[i];
    }
    return s->idx[n - 1]; /* rounding left u just above the total: the last kept token */
}

void sampler_distribution(struct sampler *s, const struct sampler_params *p, const float *logits, float *out) {
    if (p->temperature <= 0) {
        memset(out, 0, sizeof(float) * (size_t)s->V);
        out[sampler_argmax(logits, s->V)] = 1.0f;
        return;
    }
    warp(s, p, logits);
    memcpy(out, s->probs, sizeof(float) * (size_t)s->V);
}
