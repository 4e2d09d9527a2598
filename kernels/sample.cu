/* sample: one block per row.
 *
 * With e_v = exp((z_v - max) / temperature) (the unnormalised probabilities sampler.c computes), the kept set
 * of top-k and top-p is {v : e_v >= tau} for a threshold tau found by bisection on the bit pattern of a float
 * in [0, 1] (monotone for non-negative floats): top-k takes the largest tau with at least k values at or above
 * it, top-p then the largest tau whose kept mass still reaches top_p of the top-k mass, which is exactly the
 * crossing token of sampler.c's descending walk. Ties at the threshold are all kept (sampler.c keeps the
 * lowest ids among ties for top-k); only exact ties can differ. The draw walks the kept set by token id: each
 * thread sums a contiguous chunk, a block scan gives each chunk's start, and the thread whose chunk holds
 * u * mass finds the token. So the distribution is sampler.c's, and the token for a given u is the same
 * whenever top-k and top-p are off (up to rounding at chunk boundaries). About 30 block reductions per
 * bisection: cheap next to the decode step when top-k / top-p are on, absent when they are off. */
#include "sample.h"

#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <limits.h>

#include "common.cuh"

#define SAMPLE_THREADS 512
#define ONE_PLUS 0x3f800001u /* bit pattern just above 1.0f: no e_v reaches it */

struct argmax_pair {
    float v;
    int i;
};

struct argmax_op {
    __device__ __forceinline__ argmax_pair operator()(const argmax_pair &a, const argmax_pair &b) const {
        if (a.v > b.v) return a;
        if (b.v > a.v) return b;
        return a.i < b.i ? a : b;
    }
};

struct imax_op {
    __device__ __forceinline__ int operator()(int a, int b) const { return a > b ? a : b; }
};

static __global__ void __launch_bounds__(SAMPLE_THREADS)
    sample_kernel(int32_t *out, const float *logits, const double *u, int V, float temperature, float top_p,
                  int top_k) {
    typedef cub::BlockReduce<argmax_pair, SAMPLE_THREADS> reduce_am;
    typedef cub::BlockReduce<double, SAMPLE_THREADS> reduce_d;
    typedef cub::BlockReduce<int, SAMPLE_THREADS> reduce_i;
    typedef cub::BlockScan<double, SAMPLE_THREADS> scan_d;
    __shared__ union {
        typename reduce_am::TempStorage am;
        typename reduce_d::TempStorage d;
        typename reduce_i::TempStorage i;
        typename scan_d::TempStorage sc;
    } tmp;
    __shared__ argmax_pair s_best;
    __shared__ double s_d;
    __shared__ int s_i, s_pick;
    const int tid = threadIdx.x;
    const float *z = logits + (size_t)blockIdx.x * V;

    /* argmax, lowest id on ties (sampler.c's argmax) */
    argmax_pair best = {-INFINITY, INT_MAX};
    for (int v = tid; v < V; v += SAMPLE_THREADS) {
        float x = z[v];
        if (x > best.v || best.i == INT_MAX) best = {x, v};
    }
    best = reduce_am(tmp.am).Reduce(best, argmax_op());
    if (tid == 0) s_best = best;
    __syncthreads();
    best = s_best;
    if (temperature <= 0.0f) {
        if (tid == 0) out[blockIdx.x] = best.i;
        return;
    }
    const float mx = best.v;
#define E_OF(v) expf((z[(v)] - mx) / temperature)
#define BLOCK_SUM_D(x, res)                                                                                            \
    do {                                                                                                               \
        double r_ = reduce_d(tmp.d).Sum(x);                                                                            \
        if (tid == 0) s_d = r_;                                                                                        \
        __syncthreads();                                                                                               \
        res = s_d;                                                                                                     \
        __syncthreads();                                                                                               \
    } while (0)
#define BLOCK_SUM_I(x, res)                                                                                            \
    do {                                                                                                               \
        int r_ = reduce_i(tmp.i).Sum(x);                                                                               \
        if (tid == 0) s_i = r_;                                                                                        \
        __syncthreads();                                                                                               \
        res = s_i;                                                                                                     \
        __syncthreads();                                                                                               \
    } while (0)

    /* The kept set is {e_v >= tau}; tau = 0 keeps everything. */
    float tau = 0.0f;
    const bool use_k = top_k > 0 && top_k < V, use_p = top_p < 1.0f;
    double kept = 0.0; /* mass of the top-k set (or of everything), for top-p */
    if (use_p && !use_k) {
        float s = 0.0f;
        for (int v = tid; v < V; v += SAMPLE_THREADS) s += E_OF(v);
        BLOCK_SUM_D((double)s, kept);
    }
    if (use_k) {
        unsigned lo = 0u, hi = ONE_PLUS; /* count(e >= lo) >= k, count(e >= hi) < k */
        while (hi - lo > 1u) {
            unsigned mid = lo + (hi - lo) / 2u;
            float t = __uint_as_float(mid);
            int c = 0, count;
            for (int v = tid; v < V; v += SAMPLE_THREADS) c += E_OF(v) >= t;
            BLOCK_SUM_I(c, count);
            if (count >= top_k)
                lo = mid;
            else
                hi = mid;
        }
        tau = __uint_as_float(lo);
        float s = 0.0f;
        for (int v = tid; v < V; v += SAMPLE_THREADS) {
            float e = E_OF(v);
            s += e >= tau ? e : 0.0f;
        }
        BLOCK_SUM_D((double)s, kept);
    }
    if (use_p) {
        const double target = (double)top_p * kept;
        unsigned lo = __float_as_uint(tau), hi = ONE_PLUS; /* mass(e >= lo) >= target > mass(e >= hi) */
        while (hi - lo > 1u) {
            unsigned mid = lo + (hi - lo) / 2u;
            float t = __uint_as_float(mid);
            float s = 0.0f;
            double mass;
            for (int v = tid; v < V; v += SAMPLE_THREADS) {
                float e = E_OF(v);
                s += e >= t ? e : 0.0f;
            }
            BLOCK_SUM_D((double)s, mass);
            if (mass >= target)
                lo = mid;
            else
                hi = mid;
        }
        tau = __uint_as_float(lo);
    }

    /* Draw: walk the kept set in id order. Thread t owns ids [c0, c1). */
    const int chunk = (V + SAMPLE_THREADS - 1) / SAMPLE_THREADS;
    const int c0 = min(tid * chunk, V), c1 = min(c0 + chunk, V);
    double part = 0.0;
    int last_kept = -1;
    for (int v = c0; v < c1; v++) {
        float e = E_OF(v);
        if (e >= tau) {
            part += (double)e;
            last_kept = v;
        }
    }
    double mass;
    BLOCK_SUM_D(part, mass);
    const double target = u[blockIdx.x] * mass;
    double before;
    scan_d(tmp.sc).ExclusiveSum(part, before);
    if (tid == 0) s_pick = INT_MAX;
    __syncthreads();
    if (part > 0.0 && target >= before && target < before + part) {
        double acc = before;
        for (int v = c0; v < c1; v++) {
            float e = E_OF(v);
            if (e < tau) continue;
            acc += (double)e;
            if (target < acc) {
                atomicMin(&s_pick, v);
                break;
            }
        }
    }
    int lastk = reduce_i(tmp.i).Reduce(last_kept, imax_op());
    __syncthreads();
    /* Rounding can leave u * mass just past the last chunk: then the last kept token, as sampler.c does. */
    if (tid == 0) out[blockIdx.x] = s_pick != INT_MAX ? s_pick : lastk;
#undef E_OF
#undef BLOCK_SUM_D
#undef BLOCK_SUM_I
}

extern "C" cudaError_t sample_tokens(int32_t *tokens, const float *logits, const double *u, int S, int V,
                                     float temperature, float top_p, int top_k, cudaStream_t stream) {
    if (S <= 0 || V <= 0) return cudaSuccess;
    sample_kernel<<<S, SAMPLE_THREADS, 0, stream>>>(tokens, logits, u, V, temperature, top_p, top_k);
    return cudaGetLastError();
}
