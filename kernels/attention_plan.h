/* attention_plan: the host side of the prefill / training attention kernels — which head sizes they take and
 * the tile list of a packed batch. Plain C (no CUDA headers), so tests/test_cuda_plan.c checks it on the CPU.
 *
 * Work is cut into tiles of ATTENTION_TILE_ROWS rows of one sequence, described by a tile list of n_tiles x 4
 * int32: {first row of the sequence, its length, first row of the tile within the sequence, 0}. */
#ifndef R1LAB_KERNELS_ATTENTION_PLAN_H
#define R1LAB_KERNELS_ATTENTION_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATTENTION_TILE_ROWS 64
#define ATTENTION_MAX_HEAD_SIZE 128

/* Head sizes the kernels handle (even, at most ATTENTION_MAX_HEAD_SIZE). */
bool attention_head_size_supported(int HS);
/* The head size padded to a kernel instantiation (16, 32, 64 or 128); 0 when unsupported. */
int attention_padded_head_size(int HS);
/* Writes the tile list of seq_start (B+1, host) into tiles (host, capacity cap tiles); returns the count, or -1
 * when it does not fit or seq_start is not non-decreasing. At most N / ATTENTION_TILE_ROWS + B tiles. */
int attention_tiles(int32_t *tiles, int cap, const int32_t *seq_start, int B);

#ifdef __cplusplus
}
#endif

#endif
