/* sample: one block per row.
 *
 * Pass 1 finds the argmax (lowest id on ties, sampler.c's argmax) and whether the row holds a NaN or +inf, or
 * only -inf: such a row has no distribution, and its token is written as -1 for the backend to report (a
 * diverged model must stop the run, not emit token -1 or a made-up token). Greedy rows stop there.
 * Pass 2 computes e_v = exp((z_v - max) / temperature) once, in place over the logits (the op clobbers them).
 * Top-k and top-p then search a threshold on e (sample_plan.h: 15 thresholds per sweep, 8 sweeps), top-k on
 * counts, top-p on masses, and the draw walks the kept set {e_v >= tau} by token id: each thread sums a
 * contiguous chunk, a block scan gives each chunk's start, and the thread whose chunk holds u * mass finds the
 * token. Ties at the threshold are all kept (sampler.c keeps the lowest ids among ties for top-k), so only exact
 * ties can differ from sampler.c; with top-k and top-p off the token for a given u is sampler.c's up to rounding
 * at chunk boundaries. Every sum is per thread then combined in a fixed order: the same row and u give the same
 * token on every run. */
#include "sample.h"

#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <limits.h>

#include "common.cuh"
#include "sample_plan.h"

#define SAMPLE_THREADS 512
#define SAMPLE_WARPS (SAMPLE_THREADS / 32)
#define K SAMPLE_MAX_THRESHOLDS

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

template <typename T> static __device__ __forceinline__ T warp_sum_t(T v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

/* x[j] = the block-wide sum of x[j] for j < K, combined warp by warp in a fixed order. */
template <typename T> static __device__ __forceinline__ void block_sum_k(T (&x)[K], T *part, T *tot) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
    for (int j = 0; j < K; j++) x[j] = warp_sum_t(x[j]);
    if (lane == 0)
#pragma unroll
        for (int j = 0; j < K; j++) part[warp * K + j] = x[j];
    __syncthreads();
    if (threadIdx.x < K) {
        T s = 0;
        for (int w = 0; w < SAMPLE_WARPS; w++) s += part[w * K + threadIdx.x];
        tot[threadIdx.x] = s;
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < K; j++) x[j] = tot[j];
}

static __device__ __forceinline__ int next_thresholds(uint32_t lo, uint32_t hi, uint32_t (&t)[K]) {
    int n = sample_plan_thresholds(lo, hi, t);
#pragma unroll
    for (int j = 0; j < K; j++)
        if (j >= n) t[j] = 0xffffffffu; /* above every e: counts and masses 0 */
    return n;
}

static __global__ void __launch_bounds__(SAMPLE_THREADS)
    sample_kernel(int32_t *out, float *logits, const double *u, int V, float temperature, float top_p, int top_k) {
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
    __shared__ int s_pick;
    __shared__ double s_partd[SAMPLE_WARPS * K], s_totd[K];
    __shared__ int s_parti[SAMPLE_WARPS * K], s_toti[K];
    const int tid = threadIdx.x;
    float *z = logits + (size_t)blockIdx.x * V;

    argmax_pair best = {-INFINITY, INT_MAX};
    int bad = 0;
    for (int v = tid; v < V; v += SAMPLE_THREADS) {
        float x = z[v];
        bad |= !(x < INFINITY); /* NaN or +inf */
        if (x > best.v || best.i == INT_MAX) best = {x, v};
    }
    best = reduce_am(tmp.am).Reduce(best, argmax_op());
    if (tid == 0) s_best = best;
    bad = __syncthreads_or(bad); /* also publishes s_best */
    best = s_best;
    if (bad || best.v == -INFINITY) {
        if (tid == 0) out[blockIdx.x] = -1;
        return;
    }
    if (temperature <= 0.0f) {
        if (tid == 0) out[blockIdx.x] = best.i;
        return;
    }
    const float mx = best.v;
    float total = 0.0f;
    for (int v = tid; v < V; v += SAMPLE_THREADS) {
        float e = expf((z[v] - mx) / temperature);
        z[v] = e;
        total += e;
    }
    double kept = reduce_d(tmp.d).Sum((double)total); /* mass of everything; of the top-k set below */
    if (tid == 0) s_d = kept;
    __syncthreads(); /* also orders the in-place writes of e before other threads read them */
    kept = s_d;

    uint32_t tau = 0; /* the kept set is {e >= tau}; 0 keeps everything */
    const bool use_k = top_k > 0 && top_k < V, use_p = top_p < 1.0f;
    if (use_k) {
        uint32_t lo = 0u, hi = SAMPLE_ONE_PLUS; /* count(e >= lo) >= k > count(e >= hi) */
        while (hi - lo > 1u) {
            uint32_t t[K];
            int n = next_thresholds(lo, hi, t);
            int c[K];
#pragma unroll
            for (int j = 0; j < K; j++) c[j] = 0;
            for (int v = tid; v < V; v += SAMPLE_THREADS) {
                uint32_t b = __float_as_uint(z[v]);
#pragma unroll
                for (int j = 0; j < K; j++) c[j] += b >= t[j];
            }
            block_sum_k(c, s_parti, s_toti);
            bool ok[K];
#pragma unroll
            for (int j = 0; j < K; j++) ok[j] = c[j] >= top_k;
            sample_plan_narrow(&lo, &hi, t, n, ok);
        }
        tau = lo;
        float s = 0.0f;
        for (int v = tid; v < V; v += SAMPLE_THREADS) {
            float e = z[v];
            s += __float_as_uint(e) >= tau ? e : 0.0f;
        }
        kept = reduce_d(tmp.d).Sum((double)s);
        if (tid == 0) s_d = kept;
        __syncthreads();
        kept = s_d;
    }
    if (use_p) {
        const double target = (double)top_p * kept;
        uint32_t lo = tau, hi = SAMPLE_ONE_PLUS; /* mass(e >= lo) >= target > mass(e >= hi) */
        while (hi - lo > 1u) {
            uint32_t t[K];
            int n = next_thresholds(lo, hi, t);
            float m[K];
#pragma unroll
            for (int j = 0; j < K; j++) m[j] = 0.0f;
            for (int v = tid; v < V; v += SAMPLE_THREADS) {
                float e = z[v];
                uint32_t b = __float_as_uint(e);
#pragma unroll
                for (int j = 0; j < K; j++) m[j] += b >= t[j] ? e : 0.0f;
            }
            double md[K];
#pragma unroll
            for (int j = 0; j < K; j++) md[j] = (double)m[j];
            block_sum_k(md, s_partd, s_totd);
            bool ok[K];
#pragma unroll
            for (int j = 0; j < K; j++) ok[j] = md[j] >= target;
            sample_plan_narrow(&lo, &hi, t, n, ok);
        }
        tau = lo;
    }

    /* Draw: walk the kept set in id order. Thread t owns ids [c0, c1). */
    const int chunk = (V + SAMPLE_THREADS - 1) / SAMPLE_THREADS;
    const int c0 = min(tid * chunk, V), c1 = min(c0 + chunk, V);
    double part = 0.0;
    int last_kept = -1;
    for (int v = c0; v < c1; v++) {
        float e = z[v];
        if (__float_as_uint(e) >= tau) {
            part += (double)e;
            last_kept = v;
        }
    }
    double mass = reduce_d(tmp.d).Sum(part);
    if (tid == 0) s_d = mass;
    __syncthreads();
    mass = s_d;
    const double target = u[blockIdx.x] * mass;
    double before;
    scan_d(tmp.sc).ExclusiveSum(part, before);
    if (tid == 0) s_pick = INT_MAX;
    __syncthreads();
    if (part > 0.0 && target >= before && target < before + part) {
        double acc = before;
        for (int v = c0; v < c1; v++) {
            float e = z[v];
            if (__float_as_uint(e) < tau) continue;
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
}

extern "C" cudaError_t sample_tokens(int32_t *tokens, float *logits, const double *u, int S, int V, float temperature,
                                     float top_p, int top_k, cudaStream_t stream) {
    if (S <= 0 || V <= 0) return cudaSuccess;
    sample_kernel<<<S, SAMPLE_THREADS, 0, stream>>>(tokens, logits, u, V, temperature, top_p, top_k);
    return cudaGetLastError();
}
