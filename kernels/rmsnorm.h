/* rmsnorm: RMSNorm forward and backward, the arithmetic of backend_cpu.c. Host launchers only. */
#ifndef R1LAB_KERNELS_RMSNORM_H
#define R1LAB_KERNELS_RMSNORM_H

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out (N,C) = inp / rms(inp) * w; rstd (N) */
cudaError_t rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, int N, int C, float eps,
                            cudaStream_t stream);
/* dinp (N,C) +=, dw (C) += */
cudaError_t rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w,
                             const float *rstd, int N, int C, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
