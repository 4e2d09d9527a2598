/* sample: one token per row of logits on the device — greedy, or temperature then top-k then top-p, drawing
 * with a given uniform per row. Host launcher only. */
#ifndef R1LAB_KERNELS_SAMPLE_H
#define R1LAB_KERNELS_SAMPLE_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* tokens (S, device) from logits (S, V, device; overwritten with the unnormalised probabilities when
 * temperature > 0); u (S, device) uniforms in [0, 1). temperature <= 0: argmax (lowest id on ties). top_p in
 * (0, 1] (1 = off), top_k >= 0 (0 = off). A row with a NaN or +inf, or with every logit -inf, gets token -1. */
cudaError_t sample_tokens(int32_t *tokens, float *logits, const double *u, int S, int V, float temperature,
                          float top_p, int top_k, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
