/* reduce: the reductions the backend needs besides the fused ones: sum of squares (for the gradient norm) and
 * column sums (bias gradients). Host launchers only. */
#ifndef R1LAB_KERNELS_REDUCE_H
#define R1LAB_KERNELS_REDUCE_H

#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Number of partial sums reduce_sum_squares writes for n elements (at least 1, at most 1024). */
int reduce_sum_squares_blocks(size_t n);
/* partial (blocks) = sums of x[i]^2 in double over a fixed partition of x (n), so the host's ordered sum of the
 * partials is deterministic. */
cudaError_t reduce_sum_squares(double *partial, const float *x, size_t n, cudaStream_t stream);
/* dst (OC) += column sums of src (N, OC) */
cudaError_t reduce_colsum_add(float *dst, const float *src, int N, int OC, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
