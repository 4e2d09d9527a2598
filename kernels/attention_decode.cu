/* attention_decode: a block per (slot, kv head, group of H query heads, split of the cache length) serves H query
 * heads of the kv head's group at once (H a template parameter dividing the group, decode_plan.h), so each cached
 * key and value is read once per H heads and the H dot-product reductions run side by side. Its DEC_WARPS warps
 * take positions round-robin; a warp holds one position's key and value across its lanes (lane d, d+32, ...) and
 * keeps an online softmax per head. The warps then merge in shared memory. With one split the block writes the
 * normalised output itself; with more it writes (max, sum, weighted values) for its split and a second kernel
 * merges the splits. Empty splits (beyond the slot's length) write max = -inf and are skipped. */
#include "attention_decode.h"

#include "common.cuh"

#define DEC_WARPS 4

/* --- KV store (optionally with RoPE) --- */

static __global__ void kv_store_kernel(float *kc, float *vc, const float *qkv, const int32_t *slots, const int32_t *pos,
                                       int N, int NH, int NKV, int HS, int T) {
    size_t kvw = (size_t)NKV * HS, row = (size_t)(NH + 2 * NKV) * HS, total = (size_t)N * 2 * kvw;
    for (size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        size_t i = idx / (2 * kvw), e = idx % (2 * kvw);
        int slot = slots[i];
        if (slot < 0) continue; /* padding row */
        float v = qkv[i * row + (size_t)NH * HS + e]; /* k then v follow the q heads in a qkv row */
        size_t at = ((size_t)slot * T + (size_t)pos[i]) * kvw;
        if (e < kvw)
            kc[at + e] = v;
        else
            vc[at + e - kvw] = v;
    }
}

extern "C" cudaError_t attention_kv_store(float *kcache, float *vcache, const float *qkv, const int32_t *slots,
                                          const int32_t *pos, int N, int NH, int NKV, int HS, int T,
                                          cudaStream_t stream) {
    size_t total = (size_t)N * 2 * NKV * HS;
    if (total == 0) return cudaSuccess;
    kv_store_kernel<<<grid_for(total, 256), 256, 0, stream>>>(kcache, vcache, qkv, slots, pos, N, NH, NKV, HS, T);
    return cudaGetLastError();
}

/* One thread per (row, head of q, k or v, rotation pair): q and k pairs rotate in place (rope.cu's arithmetic),
 * k pairs are also stored rotated, v pairs copied. */
static __global__ void rope_kv_store_kernel(float *qkv, float *kc, float *vc, const int32_t *slots, const int32_t *pos,
                                            const float *cos_t, const float *sin_t, int N, int NH, int NKV, int HS,
                                            int T, float sign) {
    int half = HS / 2, heads = NH + 2 * NKV;
    size_t total = (size_t)N * heads * half, row = (size_t)heads * HS, kvw = (size_t)NKV * HS;
    for (size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        int d = (int)(idx % half);
        size_t rest = idx / half;
        int h = (int)(rest % heads), i = (int)(rest / heads);
        float *x = qkv + (size_t)i * row + (size_t)h * HS;
        float x1 = x[d], x2 = x[d + half];
        if (h < NH + NKV) {
            size_t t = (size_t)pos[i] * half + d;
            float c = cos_t[t], sn = sign * sin_t[t];
            float y1 = x1 * c - x2 * sn, y2 = x2 * c + x1 * sn;
            x[d] = y1;
            x[d + half] = y2;
            x1 = y1;
            x2 = y2;
        }
        int slot = slots[i];
        if (h < NH || slot < 0) continue;
        size_t at = ((size_t)slot * T + (size_t)pos[i]) * kvw;
        float *dst = h < NH + NKV ? kc + at + (size_t)(h - NH) * HS : vc + at + (size_t)(h - NH - NKV) * HS;
        dst[d] = x1;
        dst[d + half] = x2;
    }
}

extern "C" cudaError_t attention_rope_kv_store(float *qkv, float *kcache, float *vcache, const int32_t *slots,
                                               const int32_t *pos, const float *cos_t, const float *sin_t, int N,
                                               int NH, int NKV, int HS, int T, bool inverse, cudaStream_t stream) {
    size_t total = (size_t)N * (NH + 2 * NKV) * (HS / 2);
    if (total == 0) return cudaSuccess;
    rope_kv_store_kernel<<<grid_for(total, 256), 256, 0, stream>>>(qkv, kcache, vcache, slots, pos, cos_t, sin_t, N,
                                                                   NH, NKV, HS, T, inverse ? -1.0f : 1.0f);
    return cudaGetLastError();
}

/* --- decode attention --- */

/* With one split (po == NULL): out (S*NH, HS) and outb. Otherwise po (S*NH, splits, HS) weighted value sums and
 * pml (S*NH, splits, 2) max and sum of each split. Grid: (S * NKV * group / H, splits). */
template <int DPL, int H>
static __global__ void __launch_bounds__(DEC_WARPS * 32)
    decode_partial_kernel(float *out, __nv_bfloat16 *outb, float *po, float *pml, const float *qkv, const float *kc,
                          const float *vc, const int32_t *slots, const int32_t *pos, int NH, int NKV, int HS, int T,
                          int chunk, int splits) {
    const int group = NH / NKV, hchunks = group / H;
    const int bx = blockIdx.x, hc = bx % hchunks, kh = (bx / hchunks) % NKV, s = bx / (hchunks * NKV);
    const int split = blockIdx.y, h0 = kh * group + hc * H;
    const int slot = slots[s];
    const int len = slot < 0 ? 0 : pos[s] + 1; /* a padding row attends over nothing */
    const int j0 = split * chunk, j1 = min(j0 + chunk, len);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const size_t kvw = (size_t)NKV * HS, row = (size_t)(NH + 2 * NKV) * HS;
    const size_t base = (size_t)(slot < 0 ? 0 : slot) * T * kvw + (size_t)kh * HS;
    const float *kb = kc + base, *vb = vc + base;
    const float scale = 1.0f / sqrtf((float)HS);
    float q[H][DPL], o[H][DPL], m[H], l[H];
#pragma unroll
    for (int g = 0; g < H; g++) {
        const float *qr = qkv + (size_t)s * row + (size_t)(h0 + g) * HS;
#pragma unroll
        for (int t = 0; t < DPL; t++) {
            int d = lane + 32 * t;
            q[g][t] = d < HS ? qr[d] : 0.0f;
            o[g][t] = 0.0f;
        }
        m[g] = -INFINITY;
        l[g] = 0.0f;
    }
    /* Software pipelining: the next position's key and value are loaded before this one is used. */
    float kn[DPL], vn[DPL];
#pragma unroll
    for (int t = 0; t < DPL; t++) {
        int d = lane + 32 * t, j = j0 + warp;
        kn[t] = (j < j1 && d < HS) ? kb[(size_t)j * kvw + d] : 0.0f;
        vn[t] = (j < j1 && d < HS) ? vb[(size_t)j * kvw + d] : 0.0f;
    }
    for (int j = j0 + warp; j < j1; j += DEC_WARPS) {
        float k[DPL], v[DPL];
        const int jn = j + DEC_WARPS;
#pragma unroll
        for (int t = 0; t < DPL; t++) {
            int d = lane + 32 * t;
            k[t] = kn[t];
            v[t] = vn[t];
            kn[t] = (jn < j1 && d < HS) ? kb[(size_t)jn * kvw + d] : 0.0f;
            vn[t] = (jn < j1 && d < HS) ? vb[(size_t)jn * kvw + d] : 0.0f;
        }
        float a[H];
#pragma unroll
        for (int g = 0; g < H; g++) {
            a[g] = 0.0f;
#pragma unroll
            for (int t = 0; t < DPL; t++) a[g] += q[g][t] * k[t];
        }
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) /* the H reductions interleaved */
#pragma unroll
            for (int g = 0; g < H; g++) a[g] += __shfl_xor_sync(FULL_MASK, a[g], off);
#pragma unroll
        for (int g = 0; g < H; g++) {
            a[g] *= scale;
            float mn = fmaxf(m[g], a[g]), corr = expf(m[g] - mn), p = expf(a[g] - mn);
            l[g] = l[g] * corr + p;
#pragma unroll
            for (int t = 0; t < DPL; t++) o[g][t] = o[g][t] * corr + p * v[t];
            m[g] = mn;
        }
    }
    __shared__ float sm_m[DEC_WARPS][H], sm_l[DEC_WARPS][H];
    __shared__ float sm_o[DEC_WARPS][H][DPL * 32];
#pragma unroll
    for (int g = 0; g < H; g++) {
        if (lane == 0) {
            sm_m[warp][g] = m[g];
            sm_l[warp][g] = l[g];
        }
#pragma unroll
        for (int t = 0; t < DPL; t++) sm_o[warp][g][lane + 32 * t] = o[g][t];
    }
    __syncthreads();
    for (int e = threadIdx.x; e < H * HS; e += blockDim.x) {
        int g = e / HS, d = e % HS;
        float M = -INFINITY;
        for (int w = 0; w < DEC_WARPS; w++) M = fmaxf(M, sm_m[w][g]);
        float L = 0.0f, O = 0.0f;
        for (int w = 0; w < DEC_WARPS; w++) {
            float mw = sm_m[w][g];
            if (mw == -INFINITY) continue; /* that warp saw no position */
            float c = expf(mw - M);
            L += sm_l[w][g] * c;
            O += sm_o[w][g][d] * c;
        }
        size_t sh = (size_t)s * NH + (size_t)(h0 + g);
        if (!po) { /* one split: the whole answer (zero for a padding row) */
            float r = L > 0.0f ? O / L : 0.0f;
            out[sh * HS + d] = r;
            if (outb) outb[sh * HS + d] = __float2bfloat16_rn(r);
            continue;
        }
        size_t idx = sh * splits + split;
        po[idx * HS + d] = O;
        if (d == 0) {
            pml[idx * 2] = M;
            pml[idx * 2 + 1] = L;
        }
    }
}

/* out (S*NH, HS) and outb: merge of the splits; one block per (slot, head). */
static __global__ void decode_combine_kernel(float *out, __nv_bfloat16 *outb, const float *po, const float *pml, int HS,
                                             int splits) {
    size_t sh = blockIdx.x;
    const float *ml = pml + sh * splits * 2;
    float M = -INFINITY;
    for (int k = 0; k < splits; k++) M = fmaxf(M, ml[2 * k]);
    float L = 0.0f;
    for (int k = 0; k < splits; k++)
        if (ml[2 * k] != -INFINITY) L += ml[2 * k + 1] * expf(ml[2 * k] - M);
    float inv = L > 0.0f ? 1.0f / L : 0.0f; /* L = 0 only for a padding row (position 0 is always visible) */
    for (int d = threadIdx.x; d < HS; d += blockDim.x) {
        float O = 0.0f;
        for (int k = 0; k < splits; k++)
            if (ml[2 * k] != -INFINITY) O += po[(sh * splits + k) * HS + d] * expf(ml[2 * k] - M);
        out[sh * HS + d] = O * inv;
        if (outb) outb[sh * HS + d] = __float2bfloat16_rn(O * inv);
    }
}

template <int DPL, int H>
static void launch_partial(dim3 grid, cudaStream_t stream, float *out, __nv_bfloat16 *outb, float *po, float *pml,
                           const float *qkv, const float *kc, const float *vc, const int32_t *slots,
                           const int32_t *pos, int NH, int NKV, int HS, int T, int chunk, int splits) {
    decode_partial_kernel<DPL, H>
        <<<grid, DEC_WARPS * 32, 0, stream>>>(out, outb, po, pml, qkv, kc, vc, slots, pos, NH, NKV, HS, T, chunk, splits);
}

template <int DPL>
static bool launch_for_heads(int H, dim3 grid, cudaStream_t stream, float *out, __nv_bfloat16 *outb, float *po,
                             float *pml, const float *qkv, const float *kc, const float *vc, const int32_t *slots,
                             const int32_t *pos, int NH, int NKV, int HS, int T, int chunk, int splits) {
#define DEC_CASE(h)                                                                                                    \
    case h:                                                                                                            \
        launch_partial<DPL, h>(grid, stream, out, outb, po, pml, qkv, kc, vc, slots, pos, NH, NKV, HS, T, chunk,       \
                               splits);                                                                                \
        return true
    switch (H) {
        DEC_CASE(1);
        DEC_CASE(2);
        DEC_CASE(3);
        DEC_CASE(4);
        DEC_CASE(5);
        DEC_CASE(6);
        DEC_CASE(7);
        DEC_CASE(8);
    default:
        return false;
    }
#undef DEC_CASE
}

extern "C" cudaError_t attention_decode(float *out, uint16_t *outb, float *scratch, int splits, const float *qkv,
                                        const float *kcache, const float *vcache, const int32_t *slots,
                                        const int32_t *pos, int S, int NH, int NKV, int HS, int T,
                                        cudaStream_t stream) {
    if (S <= 0) return cudaSuccess;
    if (HS > 128 || splits < 1 || NKV < 1 || NH % NKV != 0 || (splits > 1 && !scratch)) return cudaErrorInvalidValue;
    const int group = NH / NKV, H = decode_plan_heads_per_block(group), chunk = decode_plan_chunk(T, splits);
    __nv_bfloat16 *ob = reinterpret_cast<__nv_bfloat16 *>(outb);
    float *po = splits > 1 ? scratch : NULL, *pml = splits > 1 ? scratch + (size_t)S * NH * splits * HS : NULL;
    dim3 grid(S * NKV * (group / H), splits);
    int dpl = (HS + 31) / 32;
    bool ok = dpl <= 1   ? launch_for_heads<1>(H, grid, stream, out, ob, po, pml, qkv, kcache, vcache, slots, pos, NH,
                                               NKV, HS, T, chunk, splits)
              : dpl <= 2 ? launch_for_heads<2>(H, grid, stream, out, ob, po, pml, qkv, kcache, vcache, slots, pos, NH,
                                               NKV, HS, T, chunk, splits)
                         : launch_for_heads<4>(H, grid, stream, out, ob, po, pml, qkv, kcache, vcache, slots, pos, NH,
                                               NKV, HS, T, chunk, splits);
    if (!ok) return cudaErrorInvalidValue;
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess || splits == 1) return e;
    unsigned combine_threads = HS < 128 ? 64u : 128u;
    decode_combine_kernel<<<S * NH, combine_threads, 0, stream>>>(out, ob, po, pml, HS, splits);
    return cudaGetLastError();
}
