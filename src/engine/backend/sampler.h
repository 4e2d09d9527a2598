/* sampler: picks the next token from a row of logits — greedy, or temperature / top-k / top-p (nucleus)
 * sampling with the project's seeded RNG, matching the usual definitions (HF generate's warpers applied in
 * the order temperature, top-k, top-p). Works on host memory; one scratch per caller thread.
 *
 * Nucleus sampling without a full sort: tokens with probability below (1 - top_p) / V cannot be in the
 * nucleus (all of them together hold less than 1 - top_p of the mass), so only the rest are sorted. */
#ifndef R1LAB_SAMPLER_H
#define R1LAB_SAMPLER_H

#include <stdint.h>

#include "engine/util/rng.h"
#include "engine/util/status.h"

struct sampler_params {
    float temperature; /* <= 0: greedy (argmax, lowest id on ties) */
    float top_p;       /* in (0, 1]; 1 = off */
    int top_k;         /* 0 = off */
};

struct sampler {
    int V;
    float *probs; /* (V) warped distribution */
    float *kept;  /* (V) scratch: probabilities of the kept candidates */
    int32_t *idx; /* (V) kept candidates, most probable first when top-k / top-p apply */
};

enum status sampler_init(struct sampler *s, int V);
void sampler_free(struct sampler *s); /* accepts a zeroed struct */
/* Checks ranges (temperature >= 0 and finite, 0 < top_p <= 1, top_k >= 0) with a message naming the field. */
enum status sampler_params_check(const struct sampler_params *p);

/* Samples one token from logits (V). Draws one rng_double when temperature > 0, none when greedy. */
int32_t sampler_sample(struct sampler *s, const struct sampler_params *p, const float *logits, struct rng *rng);
/* The same with the uniform draw u in [0, 1) given (ignored when greedy): sampler_sample(.., rng) equals
 * sampler_sample_u(.., rng_double(rng)). Backends that sample elsewhere take u from the same stream. */
int32_t sampler_sample_u(struct sampler *s, const struct sampler_params *p, const float *logits, double u);
/* The greedy choice: the index of the largest of x[0..n), the lowest on ties. */
int32_t sampler_argmax(const float *x, int n);
/* The distribution sampler_sample draws from, written into out (V): for tests and diagnostics. */
void sampler_distribution(struct sampler *s, const struct sampler_params *p, const float *logits, float *out);

#endif
