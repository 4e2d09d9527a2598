/* attention_decode: a block per (slot, kv head, split of the cache length) serves every query head of the kv
 * head's group (up to DEC_MAXG at a time), so each cached key and value is read once per group, not once per
 * query head. Its DEC_WARPS warps take positions round-robin; a warp holds one position's key and value across
 * its lanes (lane d, d+32, ...), reduces each head's dot product with shuffles and keeps an online softmax per
 * head. The warps then merge in shared memory and write (max, sum, weighted values) for their split; a second
 * kernel merges the splits. Empty splits (beyond the slot's length) write max = -inf and are skipped. */
#include "attention_decode.h"

#include "common.cuh"

#define DEC_WARPS 4
#define DEC_MAXG 8 /* query heads per kv head served by one block */

static __global__ void kv_store_kernel(float *kc, float *vc, const float *qkv, const int32_t *slots, const int32_t *pos,
                                       int N, int NH, int NKV, int HS, int T) {
    size_t kvw = (size_t)NKV * HS, row = (size_t)(NH + 2 * NKV) * HS, total = (size_t)N * 2 * kvw;
    for (size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        size_t i = idx / (2 * kvw), e = idx % (2 * kvw);
        float v = qkv[i * row + (size_t)NH * HS + e]; /* k then v follow the q heads in a qkv row */
        size_t at = ((size_t)slots[i] * T + (size_t)pos[i]) * kvw;
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

static __host__ __device__ int head_chunks(int NH, int NKV) {
    return (NH / NKV + DEC_MAXG - 1) / DEC_MAXG;
}

extern "C" int attention_decode_splits(int S, int NH, int NKV, int T, int sm_count) {
    int base = S * NKV * head_chunks(NH, NKV);
    int want = 2 * (sm_count > 0 ? sm_count : 1);
    int splits = (want + base - 1) / base;
    int max_splits = (T + 63) / 64; /* at least 64 positions per split */
    if (splits > max_splits) splits = max_splits;
    return splits < 1 ? 1 : splits;
}

extern "C" size_t attention_decode_scratch_floats(int S, int NH, int HS, int splits) {
    return (size_t)S * NH * splits * (size_t)(HS + 2);
}

/* po (S*NH, splits, HS) weighted value sums; pml (S*NH, splits, 2) max and sum of each split */
template <int DPL>
static __global__ void __launch_bounds__(DEC_WARPS * 32)
    decode_partial_kernel(float *po, float *pml, const float *qkv, const float *kc, const float *vc,
                          const int32_t *slots, const int32_t *pos, int NH, int NKV, int HS, int T, int chunk,
                          int splits) {
    const int hchunks = head_chunks(NH, NKV);
    const int bx = blockIdx.x, hc = bx % hchunks, kh = (bx / hchunks) % NKV, s = bx / (hchunks * NKV);
    const int split = blockIdx.y;
    const int group = NH / NKV, g0 = hc * DEC_MAXG, ng = min(DEC_MAXG, group - g0);
    const int len = pos[s] + 1, slot = slots[s];
    const int j0 = split * chunk, j1 = min(j0 + chunk, len);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const size_t kvw = (size_t)NKV * HS, row = (size_t)(NH + 2 * NKV) * HS;
    const float *kb = kc + (size_t)slot * T * kvw + (size_t)kh * HS;
    const float *vb = vc + (size_t)slot * T * kvw + (size_t)kh * HS;
    const float scale = 1.0f / sqrtf((float)HS);
    float q[DEC_MAXG][DPL], o[DEC_MAXG][DPL], m[DEC_MAXG], l[DEC_MAXG];
#pragma unroll
    for (int g = 0; g < DEC_MAXG; g++) {
        const float *qr = qkv + (size_t)s * row + (size_t)(kh * group + g0 + g) * HS;
#pragma unroll
        for (int t = 0; t < DPL; t++) {
            int d = lane + 32 * t;
            q[g][t] = (g < ng && d < HS) ? qr[d] : 0.0f;
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
#pragma unroll
        for (int g = 0; g < DEC_MAXG; g++) {
            if (g < ng) { /* uniform across the warp */
                float a = 0.0f;
#pragma unroll
                for (int t = 0; t < DPL; t++) a += q[g][t] * k[t];
                a = scale * warp_sum(a);
                float mn = fmaxf(m[g], a), corr = expf(m[g] - mn), p = expf(a - mn);
                l[g] = l[g] * corr + p;
#pragma unroll
                for (int t = 0; t < DPL; t++) o[g][t] = o[g][t] * corr + p * v[t];
                m[g] = mn;
            }
        }
    }
    __shared__ float sm_m[DEC_WARPS][DEC_MAXG], sm_l[DEC_WARPS][DEC_MAXG];
    __shared__ float sm_o[DEC_WARPS][DEC_MAXG][DPL * 32];
#pragma unroll
    for (int g = 0; g < DEC_MAXG; g++) {
        if (lane == 0) {
            sm_m[warp][g] = m[g];
            sm_l[warp][g] = l[g];
        }
#pragma unroll
        for (int t = 0; t < DPL; t++) sm_o[warp][g][lane + 32 * t] = o[g][t];
    }
    __syncthreads();
    for (int e = threadIdx.x; e < ng * HS; e += blockDim.x) {
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
        size_t idx = ((size_t)s * NH + (size_t)(kh * group + g0 + g)) * splits + split;
        po[idx * HS + d] = O;
        if (d == 0) {
            pml[idx * 2] = M;
            pml[idx * 2 + 1] = L;
        }
    }
}

/* out (S*NH, HS): merge of the splits; one block per (slot, head). */
static __global__ void decode_combine_kernel(float *out, const float *po, const float *pml, int HS, int splits) {
    size_t sh = blockIdx.x;
    const float *ml = pml + sh * splits * 2;
    float M = -INFINITY;
    for (int k = 0; k < splits; k++) M = fmaxf(M, ml[2 * k]);
    float L = 0.0f;
    for (int k = 0; k < splits; k++)
        if (ml[2 * k] != -INFINITY) L += ml[2 * k + 1] * expf(ml[2 * k] - M);
    float inv = 1.0f / L; /* position 0 is always visible, so L > 0 */
    for (int d = threadIdx.x; d < HS; d += blockDim.x) {
        float O = 0.0f;
        for (int k = 0; k < splits; k++)
            if (ml[2 * k] != -INFINITY) O += po[(sh * splits + k) * HS + d] * expf(ml[2 * k] - M);
        out[sh * HS + d] = O * inv;
    }
}

extern "C" cudaError_t attention_decode(float *out, float *scratch, int splits, const float *qkv, const float *kcache,
                                        const float *vcache, const int32_t *slots, const int32_t *pos, int S, int NH,
                                        int NKV, int HS, int T, cudaStream_t stream) {
    if (S <= 0) return cudaSuccess;
    if (HS > 128 || splits < 1) return cudaErrorInvalidValue;
    float *po = scratch, *pml = scratch + (size_t)S * NH * splits * HS;
    int chunk = (T + splits - 1) / splits;
    dim3 grid(S * NKV * head_chunks(NH, NKV), splits);
    int dpl = (HS + 31) / 32;
    if (dpl <= 1)
        decode_partial_kernel<1><<<grid, DEC_WARPS * 32, 0, stream>>>(po, pml, qkv, kcache, vcache, slots, pos, NH, NKV,
                                                                      HS, T, chunk, splits);
    else if (dpl <= 2)
        decode_partial_kernel<2><<<grid, DEC_WARPS * 32, 0, stream>>>(po, pml, qkv, kcache, vcache, slots, pos, NH, NKV,
                                                                      HS, T, chunk, splits);
    else
        decode_partial_kernel<4><<<grid, DEC_WARPS * 32, 0, stream>>>(po, pml, qkv, kcache, vcache, slots, pos, NH, NKV,
                                                                      HS, T, chunk, splits);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    unsigned combine_threads = HS < 128 ? 64u : 128u;
    decode_combine_kernel<<<S * NH, combine_threads, 0, stream>>>(out, po, pml, HS, splits);
    return cudaGetLastError();
}
