/* decode_plan: the launch geometry of attention_decode, worked out on the host in plain C so that it can be
 * unit-tested without a device (tests/test_cuda_plan.c) and so that a captured decode step keeps its shape.
 *
 * A block serves H query heads of one kv head of one slot over one split of the cache length. H is a
 * compile-time parameter of the kernel (its per-head reductions then run side by side), so it must divide the
 * group size NH / NKV: it is the largest divisor of the group not above DECODE_MAX_HEADS. Splits depend only on
 * shapes and the cache length T, never on positions, so one launch shape serves every step of a batch size. */
#ifndef R1LAB_KERNELS_DECODE_PLAN_H
#define R1LAB_KERNELS_DECODE_PLAN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DECODE_MAX_HEADS 8      /* query heads one block serves at most */
#define DECODE_MIN_SPLIT_LEN 64 /* cache positions per split at least */

/* Query heads per block for a group of `group` query heads per kv head (group >= 1). */
int decode_plan_heads_per_block(int group);
/* Splits of the cache length for S slots: enough blocks to fill the device twice over, each split at least
 * DECODE_MIN_SPLIT_LEN positions long; 1 when the slots alone fill the device. */
int decode_plan_splits(int S, int NH, int NKV, int T, int sm_count);
/* Cache positions per split. */
int decode_plan_chunk(int T, int splits);
/* Floats of scratch the split partials take (0 with one split: the kernel then writes its output directly). */
size_t decode_plan_scratch_floats(int S, int NH, int HS, int splits);

#ifdef __cplusplus
}
#endif

#endif
