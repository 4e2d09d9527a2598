/* lmhead: one block per chunk row. Per-thread partial sums in fp32 (a few hundred terms each), combined in
 * double across the block, and the final log / division in double, as the CPU does its whole sum in double. */
#include "lmhead.h"

#include <cub/block/block_reduce.cuh>

#include "common.cuh"

#define LM_THREADS 512

struct fmax_op {
    __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

static __global__ void __launch_bounds__(LM_THREADS)
    lm_stats_kernel(float *logp, float *lse, float *entropy, const float *logits, const int32_t *rows,
                    const int32_t *targets, int V) {
    typedef cub::BlockReduce<float, LM_THREADS> reduce_f;
    typedef cub::BlockReduce<double, LM_THREADS> reduce_d;
    __shared__ union {
        typename reduce_f::TempStorage f;
        typename reduce_d::TempStorage d;
    } tmp;
    __shared__ float s_mx;
    __shared__ double s_sum;
    const float *z = logits + (size_t)blockIdx.x * V;
    float mx = -INFINITY;
    for (int v = threadIdx.x; v < V; v += LM_THREADS) mx = fmaxf(mx, z[v]);
    mx = reduce_f(tmp.f).Reduce(mx, fmax_op());
    if (threadIdx.x == 0) s_mx = mx;
    __syncthreads();
    mx = s_mx;
    float sum = 0.0f, zsum = 0.0f;
    for (int v = threadIdx.x; v < V; v += LM_THREADS) {
        float d = z[v] - mx, e = expf(d);
        sum += e;
        zsum += e * d;
    }
    double dsum = reduce_d(tmp.d).Sum((double)sum);
    if (threadIdx.x == 0) s_sum = dsum;
    __syncthreads();
    double dzsum = reduce_d(tmp.d).Sum((double)zsum);
    if (threadIdx.x == 0) {
        dsum = s_sum;
        int i = rows[blockIdx.x];
        double l = (double)mx + log(dsum);
        lse[i] = (float)l;
        logp[i] = (float)((double)z[targets[i]] - l);
        if (entropy) entropy[i] = (float)(log(dsum) - dzsum / dsum);
    }
}

extern "C" cudaError_t lmhead_row_stats(float *logp, float *lse, float *entropy, const float *logits,
                                        const int32_t *rows, const int32_t *targets, int R, int V,
                                        cudaStream_t stream) {
    if (R <= 0 || V <= 0) return cudaSuccess;
    lm_stats_kernel<<<R, LM_THREADS, 0, stream>>>(logp, lse, entropy, logits, rows, targets, V);
    return cudaGetLastError();
}

static __device__ __forceinline__ void store_val(float *p, float v) {
    *p = v;
}
static __device__ __forceinline__ void store_val(__nv_bfloat16 *p, float v) {
    *p = __float2bfloat16_rn(v);
}

template <typename T>
static __global__ void lm_dlogits_kernel(T *dz, const float *logits, const int32_t *rows, const int32_t *targets,
                                         const float *lse, const float *dlogp, int V) {
    int i = rows[blockIdx.x], t = targets[i];
    float g = dlogp[i], l = lse[i];
    const float *z = logits + (size_t)blockIdx.x * V;
    T *out = dz + (size_t)blockIdx.x * V;
    for (int v = threadIdx.x; v < V; v += blockDim.x) {
        float d = -g * expf(z[v] - l);
        if (v == t) d += g;
        store_val(out + v, d);
    }
}

extern "C" cudaError_t lmhead_dlogits(void *dlogits, bool bf16, const float *logits, const int32_t *rows,
                                      const int32_t *targets, const float *lse, const float *dlogp, int R, int V,
                                      cudaStream_t stream) {
    if (R <= 0 || V <= 0) return cudaSuccess;
    if (bf16)
        lm_dlogits_kernel<__nv_bfloat16>
            <<<R, 256, 0, stream>>>((__nv_bfloat16 *)dlogits, logits, rows, targets, lse, dlogp, V);
    else
        lm_dlogits_kernel<float><<<R, 256, 0, stream>>>((float *)dlogits, logits, rows, targets, lse, dlogp, V);
    return cudaGetLastError();
}

static __global__ void scatter_add_kernel(float *dst, const float *src, const int32_t *rows, int C) {
    float *d = dst + (size_t)rows[blockIdx.x] * C;
    const float *s = src + (size_t)blockIdx.x * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) d[c] += s[c];
}

extern "C" cudaError_t lmhead_scatter_add(float *dst, const float *src, const int32_t *rows, int R, int C,
                                          cudaStream_t stream) {
    if (R <= 0 || C <= 0) return cudaSuccess;
    scatter_add_kernel<<<R, 256, 0, stream>>>(dst, src, rows, C);
    return cudaGetLastError();
}
