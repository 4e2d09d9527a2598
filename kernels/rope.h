/* rope: rotate-half rotary embeddings in place on the q and k heads of packed qkv rows. Host launcher only. */
#ifndef R1LAB_KERNELS_ROPE_H
#define R1LAB_KERNELS_ROPE_H

#include <cuda_runtime_api.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* qkv (N, (NH+2*NKV)*HS) in place; pos (N, device); cos_t/sin_t (max_pos, HS/2); inverse = transpose */
cudaError_t rope_apply(float *qkv, const int32_t *pos, const float *cos_t, const float *sin_t, int N, int NH, int NKV,
                       int HS, bool inverse, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
