/* convert: fp32 -> bf16 (vectorised when both sides are aligned), row gathers into bf16, bias broadcast. */
#include "convert.h"

#include "common.cuh"

static __global__ void to_bf16_vec_kernel(__nv_bfloat162 *out, const float4 *in, size_t n4) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n4; i += (size_t)gridDim.x * blockDim.x) {
        float4 v = in[i];
        out[2 * i] = __floats2bfloat162_rn(v.x, v.y);
        out[2 * i + 1] = __floats2bfloat162_rn(v.z, v.w);
    }
}

static __global__ void to_bf16_kernel(__nv_bfloat16 *out, const float *in, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = __float2bfloat16_rn(in[i]);
}

extern "C" cudaError_t convert_to_bf16(uint16_t *out, const float *in, size_t n, cudaStream_t stream) {
    if (n == 0) return cudaSuccess;
    if (n % 4 == 0 && aligned16(in) && ((uintptr_t)out & 7u) == 0) {
        size_t n4 = n / 4;
        to_bf16_vec_kernel<<<grid_for(n4, 256), 256, 0, stream>>>((__nv_bfloat162 *)out, (const float4 *)in, n4);
    } else {
        to_bf16_kernel<<<grid_for(n, 256), 256, 0, stream>>>((__nv_bfloat16 *)out, in, n);
    }
    return cudaGetLastError();
}

/* One block per gathered row. */
static __global__ void gather_bf16_kernel(__nv_bfloat16 *out, const float *in, const int32_t *rows, int C) {
    const float *src = in + (size_t)rows[blockIdx.x] * C;
    __nv_bfloat16 *dst = out + (size_t)blockIdx.x * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) dst[c] = __float2bfloat16_rn(src[c]);
}

extern "C" cudaError_t convert_gather_bf16(uint16_t *out, const float *in, const int32_t *rows, int R, int C,
                                           cudaStream_t stream) {
    if (R <= 0 || C <= 0) return cudaSuccess;
    gather_bf16_kernel<<<R, 256, 0, stream>>>((__nv_bfloat16 *)out, in, rows, C);
    return cudaGetLastError();
}

static __global__ void broadcast_kernel(float *out, const float *bias, size_t n, int OC) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = bias[i % (size_t)OC];
}

extern "C" cudaError_t convert_broadcast_bias(float *out, const float *bias, int N, int OC, cudaStream_t stream) {
    size_t n = (size_t)N * OC;
    if (n == 0) return cudaSuccess;
    broadcast_kernel<<<grid_for(n, 256), 256, 0, stream>>>(out, bias, n, OC);
    return cudaGetLastError();
}

static __global__ void gather_f32_kernel(float *out, const float *in, const int32_t *rows, int C) {
    const float *src = in + (size_t)rows[blockIdx.x] * C;
    float *dst = out + (size_t)blockIdx.x * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) dst[c] = src[c];
}

extern "C" cudaError_t convert_gather_f32(float *out, const float *in, const int32_t *rows, int R, int C,
                                          cudaStream_t stream) {
    if (R <= 0 || C <= 0) return cudaSuccess;
    gather_f32_kernel<<<R, 256, 0, stream>>>(out, in, rows, C);
    return cudaGetLastError();
}

extern "C" cudaError_t convert_probe(void) {
    cudaFuncAttributes attr;
    return cudaFuncGetAttributes(&attr, to_bf16_kernel);
}
