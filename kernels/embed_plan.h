/* embed_plan: the host side of the deterministic embedding backward. The rows of a batch are grouped by token
 * (a token's rows in increasing order), so that one device block per distinct token adds that token's rows in a
 * fixed order, as the CPU backend does, instead of racing atomic adds. Plain C; tests/test_cuda_plan.c checks it. */
#ifndef R1LAB_KERNELS_EMBED_PLAN_H
#define R1LAB_KERNELS_EMBED_PLAN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Groups rows 0..N-1 of tokens (N) by token: uniq (U) the distinct tokens ascending, start (U+1) where each
 * token's rows begin in rows (N), which lists them in increasing order. work is scratch of 2N int32 (8-byte
 * aligned). Returns U. */
int embed_plan_build(const int32_t *tokens, int N, int32_t *uniq, int32_t *start, int32_t *rows, int32_t *work);

#ifdef __cplusplus
}
#endif

#endif
