/* common.cuh: device helpers shared by the kernels (included by .cu files only). Warp reductions, bf16
 * conversion, launch-size arithmetic. Every launcher in kernels/ returns cudaGetLastError() after its launches,
 * so the backend can record the first failure; launchers return early (cudaSuccess) for empty work, because a
 * zero-sized grid is itself a launch error. */
#ifndef R1LAB_KERNELS_COMMON_CUH
#define R1LAB_KERNELS_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#define FULL_MASK 0xffffffffu

static __device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

static __device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
    return v;
}

static inline unsigned ceil_div_u(size_t a, size_t b) {
    return (unsigned)((a + b - 1) / b);
}

/* Blocks for a grid-stride loop over n items: enough to fill the device several times, never more than needed. */
static inline unsigned grid_for(size_t n, unsigned threads) {
    size_t blocks = (n + threads - 1) / threads;
    if (blocks > 8192) blocks = 8192;
    return blocks ? (unsigned)blocks : 1u;
}

static inline bool aligned16(const void *p) {
    return ((uintptr_t)p & 15u) == 0;
}

#endif
