/* embed: token embedding lookup and its gradient. Host launchers only; tokens are device memory here (the
 * backend stages the host array first). */
#ifndef R1LAB_KERNELS_EMBED_H
#define R1LAB_KERNELS_EMBED_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out (N,C) = wte[tokens] */
cudaError_t embed_forward(float *out, const int32_t *tokens, const float *wte, int N, int C, cudaStream_t stream);
/* dwte (V,C) += scatter of dout (N,C) by tokens (atomic adds: rows sharing a token add in any order) */
cudaError_t embed_backward(float *dwte, const int32_t *tokens, const float *dout, int N, int C, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
