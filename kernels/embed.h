/* embed: token embedding lookup and its gradient. Host launchers only; index arrays are device memory here
 * (the backend stages the host arrays first). */
#ifndef R1LAB_KERNELS_EMBED_H
#define R1LAB_KERNELS_EMBED_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#include "embed_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out (N,C) = wte[tokens] */
cudaError_t embed_forward(float *out, const int32_t *tokens, const float *wte, int N, int C, cudaStream_t stream);
/* dwte (V,C) += scatter of dout (N,C), grouped by embed_plan_build: for each of the U distinct tokens uniq[u], its
 * rows rows[start[u] .. start[u+1]) added in that order (no atomics: the same bits on every run, and the CPU's
 * order of additions). */
cudaError_t embed_backward(float *dwte, const int32_t *uniq, const int32_t *start, const int32_t *rows, int U,
                           const float *dout, int C, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
