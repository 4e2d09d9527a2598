/* embed: one block per token row forward; one block per distinct token backward, adding its rows in order into
 * the running value of the gradient row (the CPU backend's order, so the two agree bit for bit). */
#include "embed.h"

#include "common.cuh"

static __global__ void embed_fwd_kernel(float *out, const int32_t *tokens, const float *wte, int C) {
    const float *src = wte + (size_t)tokens[blockIdx.x] * C;
    float *dst = out + (size_t)blockIdx.x * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) dst[c] = src[c];
}

static __global__ void embed_bwd_kernel(float *dwte, const int32_t *uniq, const int32_t *start, const int32_t *rows,
                                        const float *dout, int C) {
    float *dst = dwte + (size_t)uniq[blockIdx.x] * C;
    const int r0 = start[blockIdx.x], r1 = start[blockIdx.x + 1];
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float s = dst[c];
        for (int r = r0; r < r1; r++) s += dout[(size_t)rows[r] * C + c];
        dst[c] = s;
    }
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

extern "C" cudaError_t embed_backward(float *dwte, const int32_t *uniq, const int32_t *start, const int32_t *rows,
                                      int U, const float *dout, int C, cudaStream_t stream) {
    if (U <= 0 || C <= 0) return cudaSuccess;
    embed_bwd_kernel<<<U, row_threads(C), 0, stream>>>(dwte, uniq, start, rows, dout, C);
    return cudaGetLastError();
}
