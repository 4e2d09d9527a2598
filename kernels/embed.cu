/* embed: one block per token row; the backward adds with atomics (the CPU adds rows in order, so results
 * agree to rounding, not bit for bit). */
#include "embed.h"

#include "common.cuh"

static __global__ void embed_fwd_kernel(float *out, const int32_t *tokens, const float *wte, int C) {
    const float *src = wte + (size_t)tokens[blockIdx.x] * C;
    float *dst = out + (size_t)blockIdx.x * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) dst[c] = src[c];
}

static __global__ void embed_bwd_kernel(float *dwte, const int32_t *tokens, const float *dout, int C) {
    float *dst = dwte + (size_t)tokens[blockIdx.x] * C;
    const float *src = dout + (size_t)blockIdx.x * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) atomicAdd(dst + c, src[c]);
}

static unsigned row_threads(int C) {
    return C >= 256 ? 256u : C >= 128 ? 128u : 64u;
}

extern "C" cudaError_t embed_forward(float *out, const int32_t *tokens, const float *wte, int N, int C,
                                     cudaStream_t stream) {
    if (N <= 0 || C <= 0) return cudaSuccess;
    embed_fwd_kernel<<<N, row_threads(C), 0, stream>>>(out, tokens, wte, C);
    return cudaGetLastError();
}

extern "C" cudaError_t embed_backward(float *dwte, const int32_t *tokens, const float *dout, int N, int C,
                                      cudaStream_t stream) {
    if (N <= 0 || C <= 0) return cudaSuccess;
    embed_bwd_kernel<<<N, row_threads(C), 0, stream>>>(dwte, tokens, dout, C);
    return cudaGetLastError();
}
