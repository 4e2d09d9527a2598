/* arith: grid-stride loops, 16-byte accesses when every pointer is aligned and n is a multiple of 4. Each
 * element is read before it is written by the same thread, so out may alias an input. */
#include "arith.h"

#include "common.cuh"

static __global__ void add_vec_kernel(float4 *out, const float4 *a, const float4 *b, size_t n4) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n4; i += (size_t)gridDim.x * blockDim.x) {
        float4 x = a[i], y = b[i];
        out[i] = make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w);
    }
}

static __global__ void add_kernel(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = a[i] + b[i];
}

static __global__ void scale_kernel(float *x, size_t n, float s) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        x[i] *= s;
}

extern "C" cudaError_t arith_add(float *out, const float *a, const float *b, size_t n, cudaStream_t stream) {
    if (n == 0) return cudaSuccess;
    if (n % 4 == 0 && aligned16(out) && aligned16(a) && aligned16(b))
        add_vec_kernel<<<grid_for(n / 4, 256), 256, 0, stream>>>((float4 *)out, (const float4 *)a, (const float4 *)b,
                                                                 n / 4);
    else
        add_kernel<<<grid_for(n, 256), 256, 0, stream>>>(out, a, b, n);
    return cudaGetLastError();
}

extern "C" cudaError_t arith_scale(float *x, size_t n, float s, cudaStream_t stream) {
    if (n == 0) return cudaSuccess;
    scale_kernel<<<grid_for(n, 256), 256, 0, stream>>>(x, n, s);
    return cudaGetLastError();
}
