/* arith: elementwise add and scale over flat fp32 buffers. Host launchers only. */
#ifndef R1LAB_KERNELS_ARITH_H
#define R1LAB_KERNELS_ARITH_H

#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out (n) = a + b; out may alias a or b */
cudaError_t arith_add(float *out, const float *a, const float *b, size_t n, cudaStream_t stream);
/* x (n) *= s */
cudaError_t arith_scale(float *x, size_t n, float s, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
