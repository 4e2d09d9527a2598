/* reduce: the reductions the backend needs besides the fused ones: sum of squares (for the gradient norm) and
 * column sums (bias gradients; the norm-weight gradients use the same slabs). Host launchers only. Every
 * reduction runs in a fixed partition combined in a fixed order (no atomics): the same inputs give the same
 * bits on every run. */
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

/* Rows per slab of a column reduction over N rows (the slab count stays within a grid's y limit). */
int reduce_colsum_slab_rows(int N);
/* Floats of scratch a column reduction of (N, OC) needs: one row of sums per slab. */
size_t reduce_colsum_scratch_floats(int N, int OC);
/* dst (OC) += column sums of src (N, OC); partial is scratch of reduce_colsum_scratch_floats(N, OC) floats */
cudaError_t reduce_colsum_add(float *dst, float *partial, const float *src, int N, int OC, cudaStream_t stream);
/* dst (C) += sum over k < slabs of partial[k] (C), k in order */
cudaError_t reduce_slabs_add(float *dst, const float *partial, int slabs, int C, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
