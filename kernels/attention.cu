/* attention: fp32 flash-style kernels on CUDA cores.
 *
 * Geometry. The head size HS is padded to HSP in {16, 32, 64, 128} (padding dims hold zeros). A row of the
 * tile (a query in the forward) is owned by TPR = HSP / DPT consecutive threads of a warp, each holding DPT <= 32
 * of its dims in registers; a dot product is DPT multiply-adds per thread plus log2(TPR) shuffles. A block owns
 * BQ = 64 rows and walks the other side (keys in the forward) in shared-memory tiles of BK rows. In shared
 * memory a tile is stored as TPR planes (one per dim slice), each padded by 4 floats, so the TPR threads of a
 * row, which read the same row in different planes at the same time, hit different banks; the other threads of
 * the warp read the same addresses (broadcast).
 *
 * Kernels. Forward: one block per (query tile, head), online softmax, writes out and lse. Backward: rowdot
 * D = rowsum(dO * O); one block per (key tile, kv head) accumulates dK and dV over every query head of the group
 * and every later query (no atomics: deterministic); one block per (query tile, head) accumulates dQ. Both
 * recompute p = exp(scale * q.k - lse). Causality: a query sees keys at positions <= its own. */
#include "attention.h"

#include "common.cuh"

template <int HSP> struct geom {
    static constexpr int DPT = HSP < 32 ? HSP : 32; /* dims per thread */
    static constexpr int TPR = HSP / DPT;           /* threads per row */
    static constexpr int BQ = ATTENTION_TILE_ROWS;  /* rows owned by a block */
    static constexpr int BK = 32;                   /* rows per shared-memory tile */
    static constexpr int THREADS = BQ * TPR;
    static constexpr int PLANE = BK * DPT + 4; /* floats per plane, padded */
    static constexpr int TILE = TPR * PLANE;
};

/* Loads rows [0, n_rows) of a (rows, HS) slice with row stride `stride` into a tile; rows beyond n_rows and dims
 * beyond HS are zero. */
template <int HSP>
static __device__ __forceinline__ void load_tile(float *tile, const float *src, size_t stride, int n_rows, int HS) {
    typedef geom<HSP> G;
    for (int e = threadIdx.x; e < G::BK * HSP; e += G::THREADS) {
        int r = e / HSP, d = e % HSP;
        float v = (r < n_rows && d < HS) ? src[(size_t)r * stride + d] : 0.0f;
        tile[(d / G::DPT) * G::PLANE + r * G::DPT + d % G::DPT] = v;
    }
}

template <int DPT> static __device__ __forceinline__ float dot_row(const float (&a)[DPT], const float *row) {
    const float4 *r4 = reinterpret_cast<const float4 *>(row);
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < DPT / 4; k++) {
        float4 b = r4[k];
        s += a[4 * k] * b.x + a[4 * k + 1] * b.y + a[4 * k + 2] * b.z + a[4 * k + 3] * b.w;
    }
    return s;
}

/* acc += c * row */
template <int DPT> static __device__ __forceinline__ void axpy_row(float (&acc)[DPT], float c, const float *row) {
    const float4 *r4 = reinterpret_cast<const float4 *>(row);
#pragma unroll
    for (int k = 0; k < DPT / 4; k++) {
        float4 b = r4[k];
        acc[4 * k] += c * b.x;
        acc[4 * k + 1] += c * b.y;
        acc[4 * k + 2] += c * b.z;
        acc[4 * k + 3] += c * b.w;
    }
}

/* Sum over the TPR threads of a row (all threads of the warp must call it). */
template <int TPR> static __device__ __forceinline__ float row_sum(float s) {
#pragma unroll
    for (int o = 1; o < TPR; o <<= 1) s += __shfl_xor_sync(FULL_MASK, s, o);
    return s;
}

/* Loads DPT dims of one row (part `part` of it) into registers, zero beyond HS or when !valid. */
template <int DPT>
static __device__ __forceinline__ void load_row(float (&x)[DPT], const float *row, int part, int HS, bool valid,
                                                float mul) {
#pragma unroll
    for (int d = 0; d < DPT; d++) {
        int dd = part * DPT + d;
        x[d] = (valid && dd < HS) ? row[dd] * mul : 0.0f;
    }
}

template <int DPT>
static __device__ __forceinline__ void store_row(float *row, const float (&x)[DPT], int part, int HS, float mul) {
#pragma unroll
    for (int d = 0; d < DPT; d++) {
        int dd = part * DPT + d;
        if (dd < HS) row[dd] = x[d] * mul;
    }
}

template <int HSP>
static __global__ void __launch_bounds__(geom<HSP>::THREADS)
    attn_fwd_kernel(float *out, float *lse, const float *qkv, const int4 *tiles, int NH, int NKV, int HS, float scale) {
    typedef geom<HSP> G;
    __shared__ __align__(16) float ks[G::TILE];
    __shared__ __align__(16) float vs[G::TILE];
    const int4 t = tiles[blockIdx.x];
    const int s0 = t.x, T = t.y, q0 = t.z;
    const int h = blockIdx.y, kh = h / (NH / NKV);
    const int r = threadIdx.x / G::TPR, part = threadIdx.x % G::TPR;
    const int i = q0 + r;
    const bool valid = i < T;
    const size_t row = (size_t)(NH + 2 * NKV) * HS;
    float q[G::DPT], o[G::DPT];
    load_row<G::DPT>(q, qkv + (size_t)(s0 + (valid ? i : 0)) * row + (size_t)h * HS, part, HS, valid, scale);
#pragma unroll
    for (int d = 0; d < G::DPT; d++) o[d] = 0.0f;
    float m = -INFINITY, l = 0.0f;
    const int last = min(q0 + G::BQ, T) - 1; /* the block's last query sees keys up to here */
    const float *kb = qkv + (size_t)s0 * row + (size_t)(NH + kh) * HS;
    const float *vb = kb + (size_t)NKV * HS;
    for (int k0 = 0; k0 <= last; k0 += G::BK) {
        __syncthreads();
        load_tile<HSP>(ks, kb + (size_t)k0 * row, row, T - k0, HS);
        load_tile<HSP>(vs, vb + (size_t)k0 * row, row, T - k0, HS);
        __syncthreads();
        float s[G::BK];
        float mt = -INFINITY;
#pragma unroll
        for (int j = 0; j < G::BK; j++) {
            float a = row_sum<G::TPR>(dot_row<G::DPT>(q, ks + part * G::PLANE + j * G::DPT));
            s[j] = (valid && k0 + j <= i) ? a : -INFINITY;
            mt = fmaxf(mt, s[j]);
        }
        float mn = fmaxf(m, mt);
        if (mn != -INFINITY) {
            float corr = expf(m - mn); /* 0 on the first visible tile, where m = -inf */
            l *= corr;
#pragma unroll
            for (int d = 0; d < G::DPT; d++) o[d] *= corr;
#pragma unroll
            for (int j = 0; j < G::BK; j++) {
                float p = expf(s[j] - mn);
                l += p;
                axpy_row<G::DPT>(o, p, vs + part * G::PLANE + j * G::DPT);
            }
            m = mn;
        }
    }
    if (valid) {
        store_row<G::DPT>(out + (size_t)(s0 + i) * NH * HS + (size_t)h * HS, o, part, HS, 1.0f / l);
        if (part == 0) lse[(size_t)(s0 + i) * NH + h] = m + logf(l);
    }
}

/* D (N*NH) = rowsum(dout * out) per (row, head); one warp each. */
static __global__ void attn_rowdot_kernel(float *D, const float *dout, const float *out, size_t rows, int HS) {
    size_t w = (blockIdx.x * (size_t)blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (w >= rows) return;
    const float *a = dout + w * HS, *b = out + w * HS;
    float s = 0.0f;
    for (int d = lane; d < HS; d += 32) s += a[d] * b[d];
    s = warp_sum(s);
    if (lane == 0) D[w] = s;
}

template <int HSP>
static __global__ void __launch_bounds__(geom<HSP>::THREADS)
    attn_bwd_dkv_kernel(float *dqkv, const float *dout, const float *qkv, const float *lse, const float *D,
                        const int4 *tiles, int NH, int NKV, int HS, float scale) {
    typedef geom<HSP> G;
    __shared__ __align__(16) float qs[G::TILE];
    __shared__ __align__(16) float gs[G::TILE]; /* dout rows */
    __shared__ float ls[G::BK], Ds[G::BK];
    const int4 t = tiles[blockIdx.x];
    const int s0 = t.x, T = t.y, k0 = t.z;
    const int kh = blockIdx.y, group = NH / NKV;
    const int r = threadIdx.x / G::TPR, part = threadIdx.x % G::TPR;
    const int j = k0 + r;
    const bool valid = j < T;
    const size_t row = (size_t)(NH + 2 * NKV) * HS, orow = (size_t)NH * HS;
    const float *kr = qkv + (size_t)(s0 + (valid ? j : 0)) * row + (size_t)(NH + kh) * HS;
    float k[G::DPT], v[G::DPT], dk[G::DPT], dv[G::DPT];
    load_row<G::DPT>(k, kr, part, HS, valid, 1.0f);
    load_row<G::DPT>(v, kr + (size_t)NKV * HS, part, HS, valid, 1.0f);
#pragma unroll
    for (int d = 0; d < G::DPT; d++) dk[d] = dv[d] = 0.0f;
    for (int g = 0; g < group; g++) {
        const int h = kh * group + g;
        const float *qb = qkv + (size_t)s0 * row + (size_t)h * HS;
        const float *ob = dout + (size_t)s0 * orow + (size_t)h * HS;
        for (int i0 = k0; i0 < T; i0 += G::BK) { /* only queries at or after the tile's first key see it */
            __syncthreads();
            load_tile<HSP>(qs, qb + (size_t)i0 * row, row, T - i0, HS);
            load_tile<HSP>(gs, ob + (size_t)i0 * orow, orow, T - i0, HS);
            if (threadIdx.x < G::BK) {
                int ii = i0 + threadIdx.x;
                bool in = ii < T;
                ls[threadIdx.x] = in ? lse[(size_t)(s0 + ii) * NH + h] : 0.0f;
                Ds[threadIdx.x] = in ? D[(size_t)(s0 + ii) * NH + h] : 0.0f;
            }
            __syncthreads();
#pragma unroll 4
            for (int e = 0; e < G::BK; e++) {
                const int ii = i0 + e;
                const float *qrow = qs + part * G::PLANE + e * G::DPT, *grow = gs + part * G::PLANE + e * G::DPT;
                float sdot = row_sum<G::TPR>(dot_row<G::DPT>(k, qrow));
                float pdot = row_sum<G::TPR>(dot_row<G::DPT>(v, grow));
                bool vis = valid && ii < T && j <= ii;
                float p = vis ? expf(sdot * scale - ls[e]) : 0.0f;
                float c = scale * p * (pdot - Ds[e]);
                axpy_row<G::DPT>(dv, p, grow);
                axpy_row<G::DPT>(dk, c, qrow);
            }
        }
    }
    if (valid) {
        float *dkr = dqkv + (size_t)(s0 + j) * row + (size_t)(NH + kh) * HS;
        store_row<G::DPT>(dkr, dk, part, HS, 1.0f);
        store_row<G::DPT>(dkr + (size_t)NKV * HS, dv, part, HS, 1.0f);
    }
}

template <int HSP>
static __global__ void __launch_bounds__(geom<HSP>::THREADS)
    attn_bwd_dq_kernel(float *dqkv, const float *dout, const float *qkv, const float *lse, const float *D,
                       const int4 *tiles, int NH, int NKV, int HS, float scale) {
    typedef geom<HSP> G;
    __shared__ __align__(16) float ks[G::TILE];
    __shared__ __align__(16) float vs[G::TILE];
    const int4 t = tiles[blockIdx.x];
    const int s0 = t.x, T = t.y, q0 = t.z;
    const int h = blockIdx.y, kh = h / (NH / NKV);
    const int r = threadIdx.x / G::TPR, part = threadIdx.x % G::TPR;
    const int i = q0 + r;
    const bool valid = i < T;
    const size_t row = (size_t)(NH + 2 * NKV) * HS, orow = (size_t)NH * HS;
    const size_t ri = (size_t)(s0 + (valid ? i : 0));
    float q[G::DPT], g[G::DPT], dq[G::DPT];
    load_row<G::DPT>(q, qkv + ri * row + (size_t)h * HS, part, HS, valid, 1.0f);
    load_row<G::DPT>(g, dout + ri * orow + (size_t)h * HS, part, HS, valid, 1.0f);
#pragma unroll
    for (int d = 0; d < G::DPT; d++) dq[d] = 0.0f;
    const float li = valid ? lse[ri * NH + h] : 0.0f, Di = valid ? D[ri * NH + h] : 0.0f;
    const int last = min(q0 + G::BQ, T) - 1;
    const float *kb = qkv + (size_t)s0 * row + (size_t)(NH + kh) * HS;
    const float *vb = kb + (size_t)NKV * HS;
    for (int k0 = 0; k0 <= last; k0 += G::BK) {
        __syncthreads();
        load_tile<HSP>(ks, kb + (size_t)k0 * row, row, T - k0, HS);
        load_tile<HSP>(vs, vb + (size_t)k0 * row, row, T - k0, HS);
        __syncthreads();
#pragma unroll 4
        for (int j = 0; j < G::BK; j++) {
            const float *krow = ks + part * G::PLANE + j * G::DPT, *vrow = vs + part * G::PLANE + j * G::DPT;
            float sdot = row_sum<G::TPR>(dot_row<G::DPT>(q, krow));
            float pdot = row_sum<G::TPR>(dot_row<G::DPT>(g, vrow));
            bool vis = valid && k0 + j <= i;
            float p = vis ? expf(sdot * scale - li) : 0.0f;
            axpy_row<G::DPT>(dq, scale * p * (pdot - Di), krow);
        }
    }
    if (valid) store_row<G::DPT>(dqkv + ri * row + (size_t)h * HS, dq, part, HS, 1.0f);
}

template <int HSP>
static cudaError_t launch_fwd(float *out, float *lse, const float *qkv, const int4 *tiles, int n_tiles, int NH, int NKV,
                              int HS, cudaStream_t stream) {
    dim3 grid(n_tiles, NH);
    attn_fwd_kernel<HSP>
        <<<grid, geom<HSP>::THREADS, 0, stream>>>(out, lse, qkv, tiles, NH, NKV, HS, 1.0f / sqrtf((float)HS));
    return cudaGetLastError();
}

template <int HSP>
static cudaError_t launch_bwd(float *dqkv, const float *D, const float *dout, const float *qkv, const float *lse,
                              const int4 *tiles, int n_tiles, int NH, int NKV, int HS, cudaStream_t stream) {
    float scale = 1.0f / sqrtf((float)HS);
    attn_bwd_dkv_kernel<HSP>
        <<<dim3(n_tiles, NKV), geom<HSP>::THREADS, 0, stream>>>(dqkv, dout, qkv, lse, D, tiles, NH, NKV, HS, scale);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    attn_bwd_dq_kernel<HSP>
        <<<dim3(n_tiles, NH), geom<HSP>::THREADS, 0, stream>>>(dqkv, dout, qkv, lse, D, tiles, NH, NKV, HS, scale);
    return cudaGetLastError();
}

extern "C" cudaError_t attention_forward(float *out, float *lse, const float *qkv, const int32_t *tiles, int n_tiles,
                                         int NH, int NKV, int HS, cudaStream_t stream) {
    if (n_tiles <= 0) return cudaSuccess;
    const int4 *t4 = reinterpret_cast<const int4 *>(tiles);
    switch (attention_padded_head_size(HS)) {
    case 16:
        return launch_fwd<16>(out, lse, qkv, t4, n_tiles, NH, NKV, HS, stream);
    case 32:
        return launch_fwd<32>(out, lse, qkv, t4, n_tiles, NH, NKV, HS, stream);
    case 64:
        return launch_fwd<64>(out, lse, qkv, t4, n_tiles, NH, NKV, HS, stream);
    case 128:
        return launch_fwd<128>(out, lse, qkv, t4, n_tiles, NH, NKV, HS, stream);
    default:
        return cudaErrorInvalidValue;
    }
}

extern "C" cudaError_t attention_backward(float *dqkv, float *rowdot, const float *dout, const float *out,
                                          const float *qkv, const float *lse, const int32_t *tiles, int n_tiles, int N,
                                          int NH, int NKV, int HS, cudaStream_t stream) {
    if (n_tiles <= 0 || N <= 0) return cudaSuccess;
    size_t rows = (size_t)N * NH;
    attn_rowdot_kernel<<<ceil_div_u(rows * 32, 256), 256, 0, stream>>>(rowdot, dout, out, rows, HS);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    const int4 *t4 = reinterpret_cast<const int4 *>(tiles);
    switch (attention_padded_head_size(HS)) {
    case 16:
        return launch_bwd<16>(dqkv, rowdot, dout, qkv, lse, t4, n_tiles, NH, NKV, HS, stream);
    case 32:
        return launch_bwd<32>(dqkv, rowdot, dout, qkv, lse, t4, n_tiles, NH, NKV, HS, stream);
    case 64:
        return launch_bwd<64>(dqkv, rowdot, dout, qkv, lse, t4, n_tiles, NH, NKV, HS, stream);
    case 128:
        return launch_bwd<128>(dqkv, rowdot, dout, qkv, lse, t4, n_tiles, NH, NKV, HS, stream);
    default:
        return cudaErrorInvalidValue;
    }
}
