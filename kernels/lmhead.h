/* lmhead: the row-wise parts of the fused output layer; the backend runs the chunked GEMMs around them.
 * Host launchers only. A chunk holds R gathered rows: rows (R, device) gives each chunk row's row in the
 * packed batch, targets (N, device) the target token of every batch row. */
#ifndef R1LAB_KERNELS_LMHEAD_H
#define R1LAB_KERNELS_LMHEAD_H

#include <cuda_runtime_api.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* For each chunk row r with batch row i = rows[r]: lse[i], logp[i] = logits[r][targets[i]] - lse[i] and, when
 * entropy is not NULL, entropy[i], from logits (R, V). */
cudaError_t lmhead_row_stats(float *logp, float *lse, float *entropy, const float *logits, const int32_t *rows,
                             const int32_t *targets, int R, int V, cudaStream_t stream);
/* dlogits (R, V) = dlogp[i] * (onehot(targets[i]) - softmax(logits[r])) using the saved lse; written as bf16
 * (uint16_t) when bf16 is true, else as fp32 (dlogits may then alias logits). */
cudaError_t lmhead_dlogits(void *dlogits, bool bf16, const float *logits, const int32_t *rows, const int32_t *targets,
                           const float *lse, const float *dlogp, int R, int V, cudaStream_t stream);
/* dst[rows[r]] (C) += src[r] (C) for r < R; rows distinct */
cudaError_t lmhead_scatter_add(float *dst, const float *src, const int32_t *rows, int R, int C, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
