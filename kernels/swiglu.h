/* swiglu: SiLU-gated linear unit over gate/up halves of one (N, 2I) buffer. Host launchers only. */
#ifndef R1LAB_KERNELS_SWIGLU_H
#define R1LAB_KERNELS_SWIGLU_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* h (N,I) = silu(gu[:, :I]) * gu[:, I:]; hb (N,I, bf16, may be NULL) = h rounded */
cudaError_t swiglu_forward(float *h, uint16_t *hb, const float *gu, int N, int I, cudaStream_t stream);
/* dgu (N,2I) = gradient given dh (N,I) (overwrites) */
cudaError_t swiglu_backward(float *dgu, const float *dh, const float *gu, int N, int I, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
