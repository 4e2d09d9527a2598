/* reduce: block reductions through CUB; column sums in row slabs, each slab's sums stored, then the slabs summed
 * in order by a second kernel. */
#include "reduce.h"

#include <cub/block/block_reduce.cuh>

#include "common.cuh"

#define SSQ_THREADS 256

extern "C" int reduce_sum_squares_blocks(size_t n) {
    size_t b = (n + SSQ_THREADS * 16 - 1) / (SSQ_THREADS * 16);
    if (b < 1) b = 1;
    if (b > 1024) b = 1024;
    return (int)b;
}

static __global__ void __launch_bounds__(SSQ_THREADS) ssq_kernel(double *partial, const float *x, size_t n) {
    typedef cub::BlockReduce<double, SSQ_THREADS> reduce_t;
    __shared__ typename reduce_t::TempStorage tmp;
    double s = 0.0;
    for (size_t i = blockIdx.x * (size_t)SSQ_THREADS + threadIdx.x; i < n; i += (size_t)gridDim.x * SSQ_THREADS) {
        double v = (double)x[i];
        s += v * v;
    }
    double total = reduce_t(tmp).Sum(s);
    if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

extern "C" cudaError_t reduce_sum_squares(double *partial, const float *x, size_t n, cudaStream_t stream) {
    ssq_kernel<<<reduce_sum_squares_blocks(n), SSQ_THREADS, 0, stream>>>(partial, x, n);
    return cudaGetLastError();
}

extern "C" int reduce_colsum_slab_rows(int N) {
    return N / 65535 + 64;
}

extern "C" size_t reduce_colsum_scratch_floats(int N, int OC) {
    if (N <= 0 || OC <= 0) return 0;
    int slab = reduce_colsum_slab_rows(N);
    return (size_t)((N + slab - 1) / slab) * (size_t)OC;
}

static __global__ void colsum_kernel(float *partial, const float *src, int N, int OC, int slab) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= OC) return;
    int r0 = blockIdx.y * slab, r1 = min(r0 + slab, N);
    float s = 0.0f;
    for (int i = r0; i < r1; i++) s += src[(size_t)i * OC + c];
    partial[(size_t)blockIdx.y * OC + c] = s;
}

static __global__ void slabs_add_kernel(float *dst, const float *partial, int slabs, int C) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float s = 0.0f;
    for (int k = 0; k < slabs; k++) s += partial[(size_t)k * C + c];
    dst[c] += s;
}

extern "C" cudaError_t reduce_slabs_add(float *dst, const float *partial, int slabs, int C, cudaStream_t stream) {
    if (slabs <= 0 || C <= 0) return cudaSuccess;
    slabs_add_kernel<<<ceil_div_u(C, 256), 256, 0, stream>>>(dst, partial, slabs, C);
    return cudaGetLastError();
}

extern "C" cudaError_t reduce_colsum_add(float *dst, float *partial, const float *src, int N, int OC,
                                         cudaStream_t stream) {
    if (N <= 0 || OC <= 0) return cudaSuccess;
    int slab = reduce_colsum_slab_rows(N), slabs = (N + slab - 1) / slab;
    colsum_kernel<<<dim3(ceil_div_u(OC, 128), slabs), 128, 0, stream>>>(partial, src, N, OC, slab);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    return reduce_slabs_add(dst, partial, slabs, OC, stream);
}
