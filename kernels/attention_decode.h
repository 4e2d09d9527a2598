/* attention_decode: the KV cache side of attention — storing each new row's keys and values into its cache
 * slot, and one query per slot attending over that slot's cache (split over the cache length so that a few
 * long sequences still fill the device). Host launchers only; slots and pos are device memory here.
 * Caches are (S_total, T, NKV*HS) per layer, fp32. */
#ifndef R1LAB_KERNELS_ATTENTION_DECODE_H
#define R1LAB_KERNELS_ATTENTION_DECODE_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* kcache/vcache[slots[i], pos[i]] = k, v parts of qkv row i (N rows) */
cudaError_t attention_kv_store(float *kcache, float *vcache, const float *qkv, const int32_t *slots, const int32_t *pos,
                               int N, int NH, int NKV, int HS, int T, cudaStream_t stream);

/* Split count for a decode launch and the scratch it needs (floats). Depends only on shapes and the cache
 * length T, never on positions, so a captured launch stays valid for every step. */
int attention_decode_splits(int S, int NH, int NKV, int T, int sm_count);
size_t attention_decode_scratch_floats(int S, int NH, int HS, int splits);
/* out (S, NH*HS) = attention of the q heads of qkv row s over positions 0..pos[s] of cache slot slots[s] */
cudaError_t attention_decode(float *out, float *scratch, int splits, const float *qkv, const float *kcache,
                             const float *vcache, const int32_t *slots, const int32_t *pos, int S, int NH, int NKV,
                             int HS, int T, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
