/* rmsnorm: RMSNorm forward (alone, or fused with the residual add before it) and backward, the arithmetic of
 * backend_cpu.c. Host launchers only. The forward can also write its output rounded to bf16, the operand of the
 * GEMM that always follows a norm. The weight gradient is reduced in row slabs and then over the slabs in a
 * fixed order: no atomics, so it is the same on every run. */
#ifndef R1LAB_KERNELS_RMSNORM_H
#define R1LAB_KERNELS_RMSNORM_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out (N,C) = inp / rms(inp) * w; rstd (N); outb (N,C, bf16, may be NULL) = out rounded */
cudaError_t rmsnorm_forward(float *out, uint16_t *outb, float *rstd, const float *inp, const float *w, int N, int C,
                            float eps, cudaStream_t stream);
/* x (N,C) = a + b (x may alias a or b), then rmsnorm_forward of x: add then norm in one pass */
cudaError_t rmsnorm_forward_add(float *out, uint16_t *outb, float *rstd, float *x, const float *a, const float *b,
                                const float *w, int N, int C, float eps, cudaStream_t stream);
/* Floats of scratch rmsnorm_backward needs for N rows of C. */
size_t rmsnorm_backward_scratch_floats(int N, int C);
/* dinp (N,C) +=, dw (C) +=; partial is scratch of rmsnorm_backward_scratch_floats(N, C) floats */
cudaError_t rmsnorm_backward(float *dinp, float *dw, float *partial, const float *dout, const float *inp,
                             const float *w, const float *rstd, int N, int C, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
