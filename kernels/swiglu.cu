/* swiglu: elementwise, one thread per output element; expf as on the CPU. The forward can also write its output
 * rounded to bf16, the operand of the down projection that follows it. */
#include "swiglu.h"

#include "common.cuh"

static __global__ void swiglu_fwd_kernel(float *h, __nv_bfloat16 *hb, const float *gu, int N, int I) {
    size_t total = (size_t)N * I;
    for (size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        size_t i = idx / I, c = idx % I;
        const float *g = gu + i * 2 * I;
        float x = g[c];
        float y = x / (1.0f + expf(-x)) * g[I + c];
        h[idx] = y;
        if (hb) hb[idx] = __float2bfloat16_rn(y);
    }
}

static __global__ void swiglu_bwd_kernel(float *dgu, const float *dh, const float *gu, int N, int I) {
    size_t total = (size_t)N * I;
    for (size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        size_t i = idx / I, c = idx % I;
        const float *g = gu + i * 2 * I;
        float *dg = dgu + i * 2 * I;
        float x = g[c], u = g[I + c], d = dh[idx];
        float sig = 1.0f / (1.0f + expf(-x));
        dg[c] = d * u * sig * (1.0f + x * (1.0f - sig));
        dg[I + c] = d * (x * sig);
    }
}

extern "C" cudaError_t swiglu_forward(float *h, uint16_t *hb, const float *gu, int N, int I, cudaStream_t stream) {
    size_t total = (size_t)N * I;
    if (total == 0) return cudaSuccess;
    swiglu_fwd_kernel<<<grid_for(total, 256), 256, 0, stream>>>(h, reinterpret_cast<__nv_bfloat16 *>(hb), gu, N, I);
    return cudaGetLastError();
}

extern "C" cudaError_t swiglu_backward(float *dgu, const float *dh, const float *gu, int N, int I,
                                       cudaStream_t stream) {
    size_t total = (size_t)N * I;
    if (total == 0) return cudaSuccess;
    swiglu_bwd_kernel<<<grid_for(total, 256), 256, 0, stream>>>(dgu, dh, gu, N, I);
    return cudaGetLastError();
}
