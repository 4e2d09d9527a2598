/* attention: causal grouped-query attention over packed variable-length sequences, fp32, flash style (no
 * T x T matrix in memory): the forward writes out and the log-sum-exp, the backward recomputes probabilities
 * from it. Host launchers only.
 *
 * Work is cut into tiles of ATTENTION_TILE_ROWS rows of one sequence; the caller describes them in a tile list
 * (n_tiles x 4 int32, device memory, 16-byte aligned): {first row of the sequence, its length, first row of the
 * tile within the sequence, 0}. attention_tiles builds that list on the host from seq_start. */
#ifndef R1LAB_KERNELS_ATTENTION_H
#define R1LAB_KERNELS_ATTENTION_H

#include <cuda_runtime_api.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATTENTION_TILE_ROWS 64
#define ATTENTION_MAX_HEAD_SIZE 128

/* Head sizes the kernels handle (even, at most ATTENTION_MAX_HEAD_SIZE). */
bool attention_head_size_supported(int HS);
/* Writes the tile list of seq_start (B+1, host) into tiles (host, capacity cap tiles); returns the count, or -1
 * when it does not fit. At most N / ATTENTION_TILE_ROWS + B tiles. */
int attention_tiles(int32_t *tiles, int cap, const int32_t *seq_start, int B);

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
