/* backend_cpu: the reference backend. fp32 throughout, GEMMs through OpenBLAS (cblas_sgemm), everything
 * else as OpenMP loops over rows. Deterministic for a fixed thread count: every reduction is either within
 * one thread or combined in a fixed order, so a resumed run reproduces an uninterrupted one.
 *
 * Not thread-safe: one caller thread at a time (the per-op scratch buffers are shared). Scratch grows to
 * the largest size requested and is then reused, so steady-state steps do not allocate. */
#include "engine/backend/backend.h"
#include "engine/backend/vexp.h"

#include <cblas.h>
#include <math.h>
#undef I /* cblas.h pulls in <complex.h>; I is our name for the MLP's intermediate size */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum scratch_slot { SCRATCH_ATTN, SCRATCH_LM_H, SCRATCH_LM_LOGITS, SCRATCH_LM_ROWS, SCRATCH_LM_DH, SCRATCH_NORM,
                    SCRATCH_COUNT };

struct cpu_impl {
    void *scratch[SCRATCH_COUNT];
    size_t scratch_cap[SCRATCH_COUNT];
    size_t lm_chunk_bytes; /* budget for one chunk of (rows, V) logits */
    struct sampler sampler; /* for ->sample; sized on first use */
};

void openblas_set_num_threads(int n); /* OpenBLAS extension, declared here to avoid its config header */

static void *scratch(struct backend *be, enum scratch_slot slot, size_t bytes) {
    struct cpu_impl *im = be->impl;
    if (im->scratch_cap[slot] < bytes) {
        free(im->scratch[slot]);
        im->scratch[slot] = malloc(bytes);
        ASSERTF(im->scratch[slot] != NULL, "cpu backend: cannot allocate %zu bytes of scratch", bytes);
        im->scratch_cap[slot] = bytes;
    }
    return im->scratch[slot];
}

/* --- memory --- */

static enum status cpu_alloc(struct backend *be, size_t bytes, void **out) {
    (void)be;
    /* 64-byte alignment keeps rows friendly to AVX loads and BLAS packing. */
    size_t rounded = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p) return err_set(STATUS_NOMEM, "cannot allocate %.1f MiB of host memory", (double)bytes / (1 << 20));
    memset(p, 0, rounded);
    *out = p;
    return STATUS_OK;
}

static void cpu_free(struct backend *be, void *p) { (void)be, free(p); }
static void cpu_copy(struct backend *be, void *dst, const void *src, size_t n) { (void)be, memmove(dst, src, n); }
static void cpu_zero(struct backend *be, void *p, size_t n) { (void)be, memset(p, 0, n); }
static enum status cpu_check(struct backend *be) { return (void)be, STATUS_OK; }

/* --- embedding --- */

static void cpu_embed_fwd(struct backend *be, float *out, const int32_t *tokens, const float *wte, int N, int C) {
    (void)be;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) memcpy(out + (size_t)i * C, wte + (size_t)tokens[i] * C, sizeof(float) * C);
}

static void cpu_embed_bwd(struct backend *be, float *dwte, const int32_t *tokens, const float *dout, int N, int C) {
    (void)be;
    /* Split by channel so two rows with the same token never race, and rows are added in order. */
#pragma omp parallel
    {
        int nt = omp_get_num_threads(), t = omp_get_thread_num();
        int c0 = (int)((int64_t)C * t / nt), c1 = (int)((int64_t)C * (t + 1) / nt);
        for (int i = 0; i < N; i++) {
            float *d = dwte + (size_t)tokens[i] * C;
            const float *g = dout + (size_t)i * C;
            for (int c = c0; c < c1; c++) d[c] += g[c];
        }
    }
}

/* --- RMSNorm --- */

static void cpu_rmsnorm_fwd(struct backend *be, float *out, float *rstd, const float *inp, const float *w, int N,
                            int C, float eps) {
    (void)be;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        const float *x = inp + (size_t)i * C;
        float *o = out + (size_t)i * C;
        float ss = 0.0f;
        for (int c = 0; c < C; c++) ss += x[c] * x[c];
        float r = 1.0f / sqrtf(ss / C + eps);
        for (int c = 0; c < C; c++) o[c] = w[c] * (x[c] * r);
        rstd[i] = r;
    }
}

static void cpu_rmsnorm_bwd(struct backend *be, float *dinp, float *dw, const float *dout, const float *inp,
                            const float *w, const float *rstd, int N, int C) {
    int threads = omp_get_max_threads();
    float *partial = scratch(be, SCRATCH_NORM, sizeof(float) * (size_t)threads * C);
    memset(partial, 0, sizeof(float) * (size_t)threads * C);
#pragma omp parallel
    {
        float *dwp = partial + (size_t)omp_get_thread_num() * C;
#pragma omp for schedule(static)
        for (int i = 0; i < N; i++) {
            const float *x = inp + (size_t)i * C, *g = dout + (size_t)i * C;
            float *dx = dinp + (size_t)i * C;
            float r = rstd[i];
            float dot = 0.0f; /* sum_c g_c w_c x_c */
            for (int c = 0; c < C; c++) dot += g[c] * w[c] * x[c];
            float k = dot * r * r * r / C;
            for (int c = 0; c < C; c++) {
                dx[c] += g[c] * w[c] * r - k * x[c];
                dwp[c] += g[c] * x[c] * r;
            }
        }
    }
    /* Fixed-order reduction of the per-thread partial sums keeps results reproducible. */
    for (int t = 0; t < threads; t++)
        for (int c = 0; c < C; c++) dw[c] += partial[(size_t)t * C + c];
}

/* --- matmul --- */

static void cpu_matmul_fwd(struct backend *be, float *out, const float *inp, const float *w, const float *bias,
                           int N, int C, int OC) {
    (void)be;
    float beta = 0.0f;
    if (bias) {
#pragma omp parallel for schedule(static)
        for (int i = 0; i < N; i++) memcpy(out + (size_t)i * OC, bias, sizeof(float) * OC);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, w, C, beta, out, OC);
}

static void cpu_matmul_bwd(struct backend *be, float *dinp, float *dw, float *dbias, const float *dout,
                           const float *inp, const float *w, int N, int C, int OC, bool accumulate_dinp) {
    (void)be;
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, w, C,
                    accumulate_dinp ? 1.0f : 0.0f, dinp, C);
    if (dw) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dw, C);
    if (dbias) {
#pragma omp parallel for schedule(static)
        for (int o = 0; o < OC; o++) {
            float s = 0.0f;
            for (int i = 0; i < N; i++) s += dout[(size_t)i * OC + o];
            dbias[o] += s;
        }
    }
}

/* --- RoPE (rotate-half layout, as in HF Llama / Qwen2) --- */

static void cpu_rope(struct backend *be, float *qkv, const int32_t *pos, const float *cos_t, const float *sin_t,
                     int N, int NH, int NKV, int HS, bool inverse) {
    (void)be;
    int half = HS / 2, heads = NH + NKV; /* q heads then k heads are adjacent in a qkv row */
    size_t row = (size_t)(NH + 2 * NKV) * HS;
    float sign = inverse ? -1.0f : 1.0f;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        const float *c = cos_t + (size_t)pos[i] * half, *s = sin_t + (size_t)pos[i] * half;
        for (int h = 0; h < heads; h++) {
            float *x = qkv + (size_t)i * row + (size_t)h * HS;
            for (int d = 0; d < half; d++) {
                float x1 = x[d], x2 = x[d + half], sn = sign * s[d];
                x[d] = x1 * c[d] - x2 * sn;
                x[d + half] = x2 * c[d] + x1 * sn;
            }
        }
    }
}

/* --- attention --- */

static inline float dotf(const float *a, const float *b, int n) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static int max_seq_len(const int32_t *seq_start, int B) {
    int m = 0;
    for (int b = 0; b < B; b++)
        if (seq_start[b + 1] - seq_start[b] > m) m = seq_start[b + 1] - seq_start[b];
    return m;
}

/* Per (sequence, head) the attention is a handful of GEMMs on T x T blocks held in per-thread scratch: BLAS
 * does the arithmetic and OpenMP spreads the (sequence, head) pairs over the cores (OpenBLAS runs single-
 * threaded inside a parallel region). The causal half above the diagonal is computed and then masked:
 * cheaper than a hand-written triangular kernel at the sizes the CPU backend runs. */

/* P (T x T) = softmax(scale * Q K^T) with the causal mask; lse[t * lse_stride] = log-sum-exp of row t. */
static void attn_probs(float *P, const float *q, const float *k, size_t row, int T, int HS, float scale) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, HS, scale, q, (int)row, k, (int)row, 0.0f, P, T);
}

static void cpu_attention_fwd(struct backend *be, float *out, float *lse, const float *qkv, const int32_t *seq_start,
                              int B, int N, int NH, int NKV, int HS) {
    (void)N;
    int Tmax = max_seq_len(seq_start, B);
    int threads = omp_get_max_threads();
    size_t block = (size_t)Tmax * Tmax;
    float *scratch_all = scratch(be, SCRATCH_ATTN, sizeof(float) * (size_t)threads * block);
    size_t row = (size_t)(NH + 2 * NKV) * HS, orow = (size_t)NH * HS;
    int group = NH / NKV;
    float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            float *P = scratch_all + (size_t)omp_get_thread_num() * block;
            int s0 = seq_start[b], T = seq_start[b + 1] - s0, kh = h / group;
            const float *q = qkv + (size_t)s0 * row + (size_t)h * HS;
            const float *k = qkv + (size_t)s0 * row + (size_t)(NH + kh) * HS;
            const float *v = qkv + (size_t)s0 * row + (size_t)(NH + NKV + kh) * HS;
            attn_probs(P, q, k, row, T, HS, scale);
            for (int t = 0; t < T; t++) {
                float *p = P + (size_t)t * T, mx = -INFINITY, sum = 0.0f;
                for (int j = 0; j <= t; j++) mx = p[j] > mx ? p[j] : mx;
#pragma omp simd reduction(+ : sum)
                for (int j = 0; j <= t; j++) {
                    p[j] = vexp_f32(p[j] - mx);
                    sum += p[j];
                }
                float inv = 1.0f / sum;
                for (int j = 0; j <= t; j++) p[j] *= inv;
                for (int j = t + 1; j < T; j++) p[j] = 0.0f;
                lse[(size_t)(s0 + t) * NH + h] = mx + logf(sum);
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, HS, T, 1.0f, P, T, v, (int)row, 0.0f,
                        out + (size_t)s0 * orow + (size_t)h * HS, (int)orow);
        }
    }
}

static void cpu_attention_bwd(struct backend *be, float *dqkv, const float *dout, const float *out, const float *qkv,
                              const float *lse, const int32_t *seq_start, int B, int N, int NH, int NKV, int HS) {
    (void)N;
    int Tmax = max_seq_len(seq_start, B);
    int threads = omp_get_max_threads();
    size_t block = (size_t)Tmax * Tmax;
    float *scratch_all = scratch(be, SCRATCH_ATTN, sizeof(float) * (size_t)threads * 2 * block);
    size_t row = (size_t)(NH + 2 * NKV) * HS, orow = (size_t)NH * HS;
    int group = NH / NKV;
    float scale = 1.0f / sqrtf((float)HS);
    /* One task per (sequence, kv head): the q heads sharing a kv head all add into the same dk/dv rows, so
     * they run in the same task, race-free and in a fixed order. */
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
    for (int b = 0; b < B; b++) {
        for (int kh = 0; kh < NKV; kh++) {
            float *P = scratch_all + (size_t)omp_get_thread_num() * 2 * block, *dP = P + block;
            int s0 = seq_start[b], T = seq_start[b + 1] - s0;
            const float *k = qkv + (size_t)s0 * row + (size_t)(NH + kh) * HS;
            const float *v = qkv + (size_t)s0 * row + (size_t)(NH + NKV + kh) * HS;
            float *dk = dqkv + (size_t)s0 * row + (size_t)(NH + kh) * HS;
            float *dv = dqkv + (size_t)s0 * row + (size_t)(NH + NKV + kh) * HS;
            for (int t = 0; t < T; t++) {
                memset(dk + (size_t)t * row, 0, sizeof(float) * HS);
                memset(dv + (size_t)t * row, 0, sizeof(float) * HS);
            }
            for (int h = kh * group; h < (kh + 1) * group; h++) {
                const float *q = qkv + (size_t)s0 * row + (size_t)h * HS;
                const float *go = dout + (size_t)s0 * orow + (size_t)h * HS;
                const float *o = out + (size_t)s0 * orow + (size_t)h * HS;
                float *dq = dqkv + (size_t)s0 * row + (size_t)h * HS;
                attn_probs(P, q, k, row, T, HS, scale);
                for (int t = 0; t < T; t++) { /* recompute probabilities from the saved log-sum-exp */
                    float *p = P + (size_t)t * T, l = lse[(size_t)(s0 + t) * NH + h];
#pragma omp simd
                    for (int j = 0; j <= t; j++) p[j] = vexp_f32(p[j] - l);
                    for (int j = t + 1; j < T; j++) p[j] = 0.0f;
                }
                /* dV += P^T dO;  dP = dO V^T */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, HS, T, 1.0f, P, T, go, (int)orow, 1.0f, dv,
                            (int)row);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, HS, 1.0f, go, (int)orow, v, (int)row, 0.0f,
                            dP, T);
                /* dS = P * (dP - rowsum(dO * O)), written over dP */
                for (int t = 0; t < T; t++) {
                    float D = dotf(go + (size_t)t * orow, o + (size_t)t * orow, HS);
                    float *ds = dP + (size_t)t * T;
                    const float *p = P + (size_t)t * T;
#pragma omp simd
                    for (int j = 0; j < T; j++) ds[j] = p[j] * (ds[j] - D);
                }
                /* dQ = scale dS K;  dK += scale dS^T Q */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, HS, T, scale, dP, T, k, (int)row, 0.0f, dq,
                            (int)row);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, HS, T, scale, dP, T, q, (int)row, 1.0f, dk,
                            (int)row);
            }
        }
    }
}

/* --- SwiGLU --- */

static void cpu_swiglu_fwd(struct backend *be, float *h, const float *gu, int N, int I) {
    (void)be;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        const float *g = gu + (size_t)i * 2 * I, *u = g + I;
        float *o = h + (size_t)i * I;
#pragma omp simd
        for (int c = 0; c < I; c++) o[c] = g[c] / (1.0f + vexp_f32(-g[c])) * u[c];
    }
}

static void cpu_swiglu_bwd(struct backend *be, float *dgu, const float *dh, const float *gu, int N, int I) {
    (void)be;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        const float *g = gu + (size_t)i * 2 * I, *u = g + I, *d = dh + (size_t)i * I;
        float *dg = dgu + (size_t)i * 2 * I, *du = dg + I;
#pragma omp simd
        for (int c = 0; c < I; c++) {
            float sig = 1.0f / (1.0f + vexp_f32(-g[c]));
            float silu = g[c] * sig;
            dg[c] = d[c] * u[c] * sig * (1.0f + g[c] * (1.0f - sig));
            du[c] = d[c] * silu;
        }
    }
}

static void cpu_add(struct backend *be, float *out, const float *a, const float *b, size_t n) {
    (void)be;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/* --- fused output layer --- */

/* Rows per chunk so that one chunk of logits stays within the budget (at least 16, at most N). */
static int lm_chunk_rows(struct backend *be, int V, int n) {
    struct cpu_impl *im = be->impl;
    size_t rows = im->lm_chunk_bytes / ((size_t)V * sizeof(float));
    if (rows < 16) rows = 16;
    if (rows > (size_t)n) rows = (size_t)n;
    return rows > 0 ? (int)rows : 1;
}

/* Gathers up to `cap` rows with targets >= 0 starting at *next; returns how many. */
static int lm_gather(const int32_t *targets, int N, int *next, int cap, int *rows) {
    int n = 0;
    while (*next < N && n < cap) {
        if (targets[*next] >= 0) rows[n++] = *next;
        (*next)++;
    }
    return n;
}

static void lm_logits(struct backend *be, float *logits, float *hc, const float *h, const float *w, const int *rows,
                      int R, int C, int V) {
    (void)be;
#pragma omp parallel for schedule(static)
    for (int r = 0; r < R; r++) memcpy(hc + (size_t)r * C, h + (size_t)rows[r] * C, sizeof(float) * C);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, V, C, 1.0f, hc, C, w, C, 0.0f, logits, V);
}

static void cpu_lmhead_fwd(struct backend *be, float *logp, float *lse, float *entropy, const float *h, const float *w,
                           const int32_t *targets, int N, int C, int V) {
    memset(logp, 0, sizeof(float) * N);
    memset(lse, 0, sizeof(float) * N);
    if (entropy) memset(entropy, 0, sizeof(float) * N);
    int R = lm_chunk_rows(be, V, N);
    float *logits = scratch(be, SCRATCH_LM_LOGITS, sizeof(float) * (size_t)R * V);
    float *hc = scratch(be, SCRATCH_LM_H, sizeof(float) * (size_t)R * C);
    int *rows = scratch(be, SCRATCH_LM_ROWS, sizeof(int) * (size_t)R);
    int next = 0, n;
    while ((n = lm_gather(targets, N, &next, R, rows)) > 0) {
        lm_logits(be, logits, hc, h, w, rows, n, C, V);
#pragma omp parallel for schedule(static)
        for (int r = 0; r < n; r++) {
            const float *z = logits + (size_t)r * V;
            float mx = -INFINITY;
            for (int v = 0; v < V; v++) mx = z[v] > mx ? z[v] : mx;
            double sum = 0.0, zsum = 0.0; /* double: V can be 150k terms */
            for (int v = 0; v < V; v++) {
                double e = exp((double)(z[v] - mx));
                sum += e;
                zsum += e * (double)(z[v] - mx);
            }
            double l = (double)mx + log(sum);
            int i = rows[r];
            lse[i] = (float)l;
            logp[i] = (float)((double)z[targets[i]] - l);
            if (entropy) entropy[i] = (float)(log(sum) - zsum / sum);
        }
    }
}

static void cpu_lmhead_bwd(struct backend *be, float *dh, float *dw, const float *h, const float *w,
                           const int32_t *targets, const float *lse, const float *dlogp, int N, int C, int V) {
    int R = lm_chunk_rows(be, V, N);
    float *logits = scratch(be, SCRATCH_LM_LOGITS, sizeof(float) * (size_t)R * V);
    float *hc = scratch(be, SCRATCH_LM_H, sizeof(float) * (size_t)R * C);
    float *dhc = scratch(be, SCRATCH_LM_DH, sizeof(float) * (size_t)R * C);
    int *rows = scratch(be, SCRATCH_LM_ROWS, sizeof(int) * (size_t)R);
    int next = 0, n;
    while ((n = lm_gather(targets, N, &next, R, rows)) > 0) {
        lm_logits(be, logits, hc, h, w, rows, n, C, V);
        /* dlogits = dlogp * (onehot(target) - softmax), in place over the logits */
#pragma omp parallel for schedule(static)
        for (int r = 0; r < n; r++) {
            float *z = logits + (size_t)r * V;
            int i = rows[r];
            float g = dlogp[i], l = lse[i];
            for (int v = 0; v < V; v++) z[v] = -g * expf(z[v] - l);
            z[targets[i]] += g;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, C, V, 1.0f, logits, V, w, C, 0.0f, dhc, C);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, V, C, n, 1.0f, logits, V, hc, C, 1.0f, dw, C);
#pragma omp parallel for schedule(static)
        for (int r = 0; r < n; r++) {
            float *d = dh + (size_t)rows[r] * C;
            const float *s = dhc + (size_t)r * C;
            for (int c = 0; c < C; c++) d[c] += s[c];
        }
    }
}

/* --- KV cache --- */

static void cpu_kv_store(struct backend *be, float *kcache, float *vcache, const float *qkv, const int32_t *slots,
                         const int32_t *pos, int N, int NH, int NKV, int HS, int T) {
    (void)be;
    size_t row = (size_t)(NH + 2 * NKV) * HS, kv = (size_t)NKV * HS;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        if (slots[i] < 0) continue; /* padding row */
        size_t at = ((size_t)slots[i] * T + (size_t)pos[i]) * kv;
        const float *src = qkv + (size_t)i * row + (size_t)NH * HS;
        memcpy(kcache + at, src, sizeof(float) * kv);
        memcpy(vcache + at, src + kv, sizeof(float) * kv);
    }
}

static void cpu_attention_decode(struct backend *be, float *out, const float *qkv, const float *kcache,
                                 const float *vcache, const int32_t *slots, const int32_t *pos, int S, int NH, int NKV,
                                 int HS, int T) {
    int threads = omp_get_max_threads();
    float *sc_all = scratch(be, SCRATCH_ATTN, sizeof(float) * (size_t)threads * (T + 1));
    size_t row = (size_t)(NH + 2 * NKV) * HS, kv = (size_t)NKV * HS;
    int group = NH / NKV;
    float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel for collapse(2) schedule(static)
    for (int s = 0; s < S; s++) {
        for (int h = 0; h < NH; h++) {
            float *sc = sc_all + (size_t)omp_get_thread_num() * (T + 1);
            float *o = out + (size_t)s * NH * HS + (size_t)h * HS;
            if (slots[s] < 0) { /* padding row */
                memset(o, 0, sizeof(float) * HS);
                continue;
            }
            const float *q = qkv + (size_t)s * row + (size_t)h * HS;
            size_t base = (size_t)slots[s] * T * kv + (size_t)(h / group) * HS;
            int len = pos[s] + 1;
            float mx = -INFINITY;
            for (int j = 0; j < len; j++) {
                sc[j] = scale * dotf(q, kcache + base + (size_t)j * kv, HS);
                if (sc[j] > mx) mx = sc[j];
            }
            float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
            for (int j = 0; j < len; j++) {
                sc[j] = vexp_f32(sc[j] - mx);
                sum += sc[j];
            }
            float inv = 1.0f / sum;
            memset(o, 0, sizeof(float) * HS);
            for (int j = 0; j < len; j++) {
                const float *v = vcache + base + (size_t)j * kv;
                float p = sc[j] * inv;
                for (int d = 0; d < HS; d++) o[d] += p * v[d];
            }
        }
    }
}

/* --- optimiser --- */

static void cpu_adamw(struct backend *be, float *param, const float *grad, float *m, float *v, size_t n,
                      const struct adamw_params *hp) {
    (void)be;
    /* Same arithmetic order as torch.optim.AdamW (foreach=False): decay, moments, then
     * p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps). */
    float decay = 1.0f - hp->lr * hp->weight_decay;
    float step = hp->lr / hp->bias_correction1;
    float bc2_sqrt = sqrtf(hp->bias_correction2);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        float g = grad[i];
        param[i] *= decay;
        m[i] += (g - m[i]) * (1.0f - hp->beta1);
        v[i] = v[i] * hp->beta2 + (1.0f - hp->beta2) * g * g;
        param[i] -= step * m[i] / (sqrtf(v[i]) / bc2_sqrt + hp->eps);
    }
}

static double cpu_sum_squares(struct backend *be, const float *x, size_t n) {
    /* Fixed chunks summed in a fixed order: the result does not depend on the thread count. */
    enum { CHUNK = 1 << 14 };
    size_t chunks = (n + CHUNK - 1) / CHUNK;
    double *part = scratch(be, SCRATCH_NORM, sizeof(double) * (chunks ? chunks : 1));
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < chunks; c++) {
        size_t lo = c * CHUNK, hi = lo + CHUNK < n ? lo + CHUNK : n;
        double s = 0.0;
        for (size_t i = lo; i < hi; i++) s += (double)x[i] * (double)x[i];
        part[c] = s;
    }
    double total = 0.0;
    for (size_t c = 0; c < chunks; c++) total += part[c];
    return total;
}

static void cpu_scale(struct backend *be, float *x, size_t n, float s) {
    (void)be;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) x[i] *= s;
}

/* --- sampling --- */

static void cpu_sample(struct backend *be, int32_t *tokens, float *logits, const double *u, int S, int V,
                       const struct sampler_params *p) {
    struct cpu_impl *im = be->impl;
    if (im->sampler.V != V) {
        sampler_free(&im->sampler);
        ASSERTF(sampler_init(&im->sampler, V) == STATUS_OK, "cpu backend: cannot allocate a sampler for %d tokens", V);
    }
    for (int s = 0; s < S; s++)
        tokens[s] = sampler_sample_u(&im->sampler, p, logits + (size_t)s * V, p->temperature > 0 ? u[s] : 0.0);
}

/* --- lifetime --- */

static void cpu_close(struct backend *be) {
    struct cpu_impl *im = be->impl;
    for (int i = 0; i < SCRATCH_COUNT; i++) free(im->scratch[i]);
    sampler_free(&im->sampler);
    free(im);
    free(be);
}

static void cpu_memory(struct backend *be, struct backend_memory *out) {
    (void)be;
    memset(out, 0, sizeof *out); /* host memory is the OS's business */
}

/* The CPU runs every op as it comes: repeat sections change nothing. */
static void cpu_repeat_begin(struct backend *be, uint64_t key) { (void)be, (void)key; }
static bool cpu_repeat_end(struct backend *be) { return (void)be, true; }

static const struct backend_ops cpu_ops = {
    .close = cpu_close,
    .memory = cpu_memory,
    .repeat_begin = cpu_repeat_begin,
    .repeat_end = cpu_repeat_end,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_copy,
    .download = cpu_copy,
    .copy = cpu_copy,
    .zero = cpu_zero,
    .check = cpu_check,
    .embed_fwd = cpu_embed_fwd,
    .embed_bwd = cpu_embed_bwd,
    .rmsnorm_fwd = cpu_rmsnorm_fwd,
    .rmsnorm_bwd = cpu_rmsnorm_bwd,
    .matmul_fwd = cpu_matmul_fwd,
    .matmul_bwd = cpu_matmul_bwd,
    .rope = cpu_rope,
    .attention_fwd = cpu_attention_fwd,
    .attention_bwd = cpu_attention_bwd,
    .swiglu_fwd = cpu_swiglu_fwd,
    .swiglu_bwd = cpu_swiglu_bwd,
    .add = cpu_add,
    .lmhead_fwd = cpu_lmhead_fwd,
    .lmhead_bwd = cpu_lmhead_bwd,
    .kv_store = cpu_kv_store,
    .attention_decode = cpu_attention_decode,
    .adamw = cpu_adamw,
    .sum_squares = cpu_sum_squares,
    .scale = cpu_scale,
    .sample = cpu_sample,
};

enum status backend_cpu_open(struct backend **out, int threads) {
    *out = NULL;
    struct backend *be = calloc(1, sizeof *be);
    struct cpu_impl *im = calloc(1, sizeof *im);
    if (!be || !im) {
        free(be);
        free(im);
        return err_set(STATUS_NOMEM, "cannot allocate the CPU backend");
    }
    /* Default: what OpenMP would use (OMP_NUM_THREADS if set, else every core). */
    if (threads <= 0) threads = omp_get_max_threads();
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    im->lm_chunk_bytes = (size_t)64 << 20;
    be->ops = &cpu_ops;
    be->kind = BACKEND_CPU;
    be->threads = threads;
    be->impl = im;
    snprintf(be->name, sizeof be->name, "CPU (OpenBLAS, %d thread%s)", threads, threads == 1 ? "" : "s");
    *out = be;
    return STATUS_OK;
}

