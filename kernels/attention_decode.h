/* attention_decode: the KV cache side of attention — storing each new row's keys and values into its cache
 * slot (optionally applying RoPE to the row in the same pass), and one query per slot attending over that
 * slot's cache. Host launchers only; slots and pos are device memory here. Caches are (S_total, T, NKV*HS)
 * per layer, fp32. A row whose slot is negative is padding (a dummy row that rounds a decode batch up to its
 * graph size): nothing is stored for it and its attention output is zero. Launch geometry: decode_plan.h. */
#ifndef R1LAB_KERNELS_ATTENTION_DECODE_H
#define R1LAB_KERNELS_ATTENTION_DECODE_H

#include <cuda_runtime_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* kcache/vcache[slots[i], pos[i]] = k, v parts of qkv row i (N rows) */
cudaError_t attention_kv_store(float *kcache, float *vcache, const float *qkv, const int32_t *slots, const int32_t *pos,
                               int N, int NH, int NKV, int HS, int T, cudaStream_t stream);
/* rope_apply on the q and k heads of qkv (in place) followed by attention_kv_store, in one pass: rope's pos
 * and kv_store's pos are the same array. cos_t/sin_t (max_pos, HS/2); inverse applies the transpose. */
cudaError_t attention_rope_kv_store(float *qkv, float *kcache, float *vcache, const int32_t *slots, const int32_t *pos,
                                    const float *cos_t, const float *sin_t, int N, int NH, int NKV, int HS, int T,
                                    bool inverse, cudaStream_t stream);

/* out (S, NH*HS) = attention of the q heads of qkv row s over positions 0..pos[s] of cache slot slots[s];
 * outb (S, NH*HS, bf16, may be NULL) the same rounded to bf16 for the next GEMM. scratch holds
 * decode_plan_scratch_floats(S, NH, HS, splits) floats (none with one split). */
cudaError_t attention_decode(float *out, uint16_t *outb, float *scratch, int splits, const float *qkv,
                             const float *kcache, const float *vcache, const int32_t *slots, const int32_t *pos, int S,
                             int NH, int NKV, int HS, int T, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
