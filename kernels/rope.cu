/* rope: one thread per (row, q-or-k head, rotation pair). */
#include "rope.h"

#include "common.cuh"

static __global__ void rope_kernel(float *qkv, const int32_t *pos, const float *cos_t, const float *sin_t, int N,
                                   int NH, int NKV, int HS, float sign) {
    int half = HS / 2, heads = NH + NKV; /* q heads then k heads are adjacent in a qkv row */
    size_t total = (size_t)N * heads * half, row = (size_t)(NH + 2 * NKV) * HS;
    for (size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        int d = (int)(idx % half);
        size_t rest = idx / half;
        int h = (int)(rest % heads), i = (int)(rest / heads);
        float *x = qkv + (size_t)i * row + (size_t)h * HS;
        size_t t = (size_t)pos[i] * half + d;
        float c = cos_t[t], sn = sign * sin_t[t], x1 = x[d], x2 = x[d + half];
        x[d] = x1 * c - x2 * sn;
        x[d + half] = x2 * c + x1 * sn;
    }
}

extern "C" cudaError_t rope_apply(float *qkv, const int32_t *pos, const float *cos_t, const float *sin_t, int N, int NH,
                                  int NKV, int HS, bool inverse, cudaStream_t stream) {
    size_t total = (size_t)N * (NH + NKV) * (HS / 2);
    if (total == 0) return cudaSuccess;
    rope_kernel<<<grid_for(total, 256), 256, 0, stream>>>(qkv, pos, cos_t, sin_t, N, NH, NKV, HS,
                                                          inverse ? -1.0f : 1.0f);
    return cudaGetLastError();
}
