/* reduce: block reductions through CUB; the column sums go in row slabs with one atomic add per column and
 * slab (order of the adds varies between runs: rounding-level differences only). */
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

static __global__ void colsum_kernel(float *dst, const float *src, int N, int OC, int slab) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= OC) return;
    int r0 = blockIdx.y * slab, r1 = min(r0 + slab, N);
    float s = 0.0f;
    for (int i = r0; i < r1; i++) s += src[(size_t)i * OC + c];
    atomicAdd(dst + c, s);
}

extern "C" cudaError_t reduce_colsum_add(float *dst, const float *src, int N, int OC, cudaStream_t stream) {
    if (N <= 0 || OC <= 0) return cudaSuccess;
    int slab = N / 65535 + 64;
    dim3 grid(ceil_div_u(OC, 128), ceil_div_u(N, slab));
    colsum_kernel<<<grid, 128, 0, stream>>>(dst, src, N, OC, slab);
    return cudaGetLastError();
}
