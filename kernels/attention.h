/* attention: causal grouped-query attention over packed variable-length sequences, fp32, flash style (no
 * T x T matrix in memory): the forward writes out and the log-sum-exp, the backward recomputes probabilities
 * from it. Host launchers only.
 *
 * Work is cut into tiles of ATTENTION_TILE_ROWS rows of one sequence; the caller passes the tile list that
 * attention_tiles (attention_plan.h) builds, copied to device memory (16-byte aligned). */
#ifndef R1LAB_KERNELS_ATTENTION_H
#define R1LAB_KERNELS_ATTENTION_H

#include <cuda_runtime_api.h>
#include <stdbool.h>
#include <stdint.h>

#include "attention_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out (N, NH*HS), lse (N, NH) from qkv (N, (NH+2*NKV)*HS) */
cudaError_t attention_forward(float *out, float *lse, const float *qkv, const int32_t *tiles, int n_tiles, int NH,
                              int NKV, int HS, cudaStream_t stream);
/* dqkv (N, (NH+2*NKV)*HS) = gradient (overwritten); rowdot (N*NH floats) is scratch */
cudaError_t attention_backward(float *dqkv, float *rowdot, const float *dout, const float *out, const float *qkv,
                               const float *lse, const int32_t *tiles, int n_tiles, int N, int NH, int NKV, int HS,
                               cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
