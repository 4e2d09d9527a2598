/* cuda_ops: the CUDA backend's ops table — the transformer ops of backend.h on the device, with the semantics
 * of backend_cpu.c (accumulate vs overwrite, rows with targets < 0 skipped, ...).
 *
 * Numerics. Buffers are fp32. GEMMs run in cuBLAS with bf16 operands and fp32 accumulation and output: the
 * weights come from their bf16 shadows (cuda_backend.c), activations and output gradients are rounded to bf16
 * in scratch just before each GEMM. R1LAB_CUDA_MATMUL=fp32 runs every GEMM in fp32 on the fp32 buffers
 * instead (no TF32): slower, but it makes the whole model match the CPU to fp32 rounding, which the parity
 * tests use to tell kernel bugs from bf16 rounding. Everything else (norms, attention, softmax statistics,
 * the optimiser) runs in fp32 kernels, with the reductions that the CPU does in double done in double.
 *
 * Every op: stage its host arrays, hand its arguments to cu_trace (repeat sections: capture or replay), then
 * enqueue. Row-major buffers meet column-major cuBLAS through the usual transposition: a row-major (R, K)
 * buffer is a column-major (K, R) matrix with leading dimension K.
 *
 * Fusions (cuda_backend.h; all off with R1LAB_CUDA_FUSE=0): add and rope are deferred to the next op, which fuses
 * them when it is the RMSNorm of the sum or the KV store of the same rows; RMSNorm, SwiGLU and decode attention
 * hand their output to the next GEMM already in bf16; a GEMM with a bias adds it in cuBLASLt's epilogue. */
#include <string.h>

#include "adamw.h"
#include "arith.h"
#include "attention.h"
#include "attention_decode.h"
#include "convert.h"
#include "cuda_backend.h"
#include "cuda_comm.h"
#include "decode_plan.h"
#include "embed.h"
#include "lmhead.h"
#include "reduce.h"
#include "rmsnorm.h"
#include "rope.h"
#include "sample.h"
#include "swiglu.h"

enum op_id {
    OP_EMBED_FWD = 10,
    OP_EMBED_BWD,
    OP_RMSNORM_FWD,
    OP_RMSNORM_BWD,
    OP_MATMUL_FWD,
    OP_MATMUL_BWD,
    OP_ROPE,
    OP_SWIGLU_FWD,
    OP_SWIGLU_BWD,
    OP_ADD,
    OP_KV_STORE,
    OP_ATTN_DECODE,
    OP_ADAMW,
    OP_SCALE,
    OP_SAMPLE,
};

/* Column-major C (m, n) = op(A) op(B) + beta C, with fp32 output and accumulation; A, B bf16 or fp32. */
static void gemm(struct cuda_be *cb, const char *what, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                 const void *A, int lda, const void *B, int ldb, float beta, float *C, int ldc, bool bf16) {
    const float alpha = 1.0f;
    cudaDataType_t t = bf16 ? CUDA_R_16BF : CUDA_R_32F;
    CU_BLAS_OK(cb,
               cublasGemmEx(cb->blas, ta, tb, m, n, k, &alpha, A, t, lda, B, t, ldb, &beta, C, CUDA_R_32F, ldc,
                            CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
               what);
    if (cb->sync_each_op && cb->rep != CU_REP_CAPTURE) CU_OK(cb, cudaStreamSynchronize(cb->stream), what);
}

/* A GEMM operand from an fp32 buffer: the buffer itself in fp32 mode, else a bf16 copy in scratch slot (the one
 * the previous op handed off, when it did). */
static const void *operand(struct cuda_be *cb, enum cu_scratch slot, const float *x, size_t n) {
    if (cb->fp32_matmul) return x;
    const uint16_t *ready = slot == CU_SCR_A ? cu_handoff_take(cb, x, n) : NULL;
    if (ready) return ready;
    uint16_t *b = cu_scratch(cb, slot, n * sizeof(uint16_t));
    if (!b) return NULL;
    cu_launched(cb, convert_to_bf16(b, x, n, cb->stream), "convert to bf16");
    return b;
}

/* Where a producer writes the bf16 copy of its output (n floats) for the next GEMM; NULL when there is no
 * hand-off (fp32 GEMMs, fusions off, or no scratch). */
static uint16_t *handoff_buffer(struct cuda_be *cb, size_t n) {
    if (cb->fp32_matmul || !cb->fuse) return NULL;
    return cu_scratch(cb, CU_SCR_A, n * sizeof(uint16_t));
}

static size_t align_of(const void *p) {
    uintptr_t a = (uintptr_t)p;
    return a & 15u ? (size_t)(a & (~a + 1)) : 16u;
}

/* The cuBLASLt plan of out^T (m, n) = A^T . B + bias, A (k, m) and B (k, n) bf16, out fp32; NULL when cuBLASLt
 * has no algorithm for the shape (the caller then broadcasts the bias and runs the plain GEMM). */
static struct cu_lt_plan *lt_plan(struct cuda_be *cb, int m, int n, int k) {
    for (int i = 0; i < cb->n_lt_plans; i++) {
        struct cu_lt_plan *p = &cb->lt_plans[i];
        if (p->m == m && p->n == n && p->k == k) return p->ok ? p : NULL;
    }
    if (cb->n_lt_plans == CU_LT_PLANS) return NULL;
    struct cu_lt_plan *p = &cb->lt_plans[cb->n_lt_plans++];
    *p = (struct cu_lt_plan){.m = m, .n = n, .k = k};
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
    cudaDataType_t bias_type = CUDA_R_32F;
    uint32_t align = 16;
    uint64_t ws = CU_BLAS_WS_BYTES;
    cublasLtMatmulPreference_t pref = NULL;
    cublasLtMatmulHeuristicResult_t res;
    int found = 0;
    bool ok = cublasLtMatmulDescCreate(&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F) == CUBLAS_STATUS_SUCCESS &&
              cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta) == 0 &&
              cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb) == 0 &&
              cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi) == 0 &&
              cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type,
                                             sizeof bias_type) == 0 &&
              cublasLtMatrixLayoutCreate(&p->a, CUDA_R_16BF, k, m, k) == 0 &&
              cublasLtMatrixLayoutCreate(&p->b, CUDA_R_16BF, k, n, k) == 0 &&
              cublasLtMatrixLayoutCreate(&p->c, CUDA_R_32F, m, n, m) == 0 &&
              cublasLtMatmulPreferenceCreate(&pref) == 0 &&
              cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws) ==
                  0 &&
              cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align,
                                                   sizeof align) == 0 &&
              cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align,
                                                   sizeof align) == 0 &&
              cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align,
                                                   sizeof align) == 0 &&
              cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align,
                                                   sizeof align) == 0 &&
              cublasLtMatmulAlgoGetHeuristic(cb->lt, p->op, p->a, p->b, p->c, p->c, pref, 1, &res, &found) == 0 &&
              found > 0;
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (ok) p->algo = res.algo;
    p->ok = ok;
    return ok ? p : NULL;
}

/* out (N, OC) = inp @ w^T + bias through cuBLASLt's bias epilogue; false (nothing enqueued) when it does not
 * apply: fp32 GEMMs, fusions off, no cuBLASLt, shapes or addresses not suited to bf16 tensor cores. */
static bool gemm_bias_lt(struct cuda_be *cb, float *out, const void *wb, const void *ib, const float *bias, int N,
                         int C, int OC) {
    if (cb->fp32_matmul || !cb->fuse || !cb->lt || C % 8 != 0 || OC % 8 != 0) return false;
    if (align_of(wb) < 16 || align_of(ib) < 16 || align_of(out) < 16 || align_of(bias) < 16) return false;
    struct cu_lt_plan *p = lt_plan(cb, OC, N, C);
    if (!p) return false;
    const float alpha = 1.0f, beta = 0.0f;
    if (!CU_BLAS_OK(cb, cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias),
                    "matmul_fwd bias"))
        return true;
    CU_BLAS_OK(cb,
               cublasLtMatmul(cb->lt, p->op, &alpha, wb, p->a, ib, p->b, &beta, out, p->c, out, p->c, &p->algo,
                              cb->blas_ws, CU_BLAS_WS_BYTES, cb->stream),
               "matmul_fwd (cuBLASLt, bias epilogue)");
    if (cb->sync_each_op && cb->rep != CU_REP_CAPTURE) CU_OK(cb, cudaStreamSynchronize(cb->stream), "matmul_fwd");
    return true;
}

/* The weights w (n floats) as a GEMM operand. */
static const void *weights(struct cuda_be *cb, const float *w, size_t n) {
    return cb->fp32_matmul ? (const void *)w : (const void *)cu_weight_bf16(cb, w, n);
}

/* --- embedding --- */

static void op_embed_fwd(struct backend *be, float *out, const int32_t *tokens, const float *wte, int N, int C) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    const int32_t *dt = cu_stage(cb, tokens, sizeof(int32_t) * (size_t)N);
    uint64_t a[] = {CU_ARG(out), CU_ARG(wte), (uint64_t)N, (uint64_t)C};
    if (cu_trace(cb, OP_EMBED_FWD, 4, a) || !dt) return;
    cu_launched(cb, embed_forward(out, dt, wte, N, C, cb->stream), "embed_fwd");
}

static void op_embed_bwd(struct backend *be, float *dwte, const int32_t *tokens, const float *dout, int N, int C) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    if (!cu_outside_repeat(cb, "embed_bwd") || N <= 0) return; /* its launch shape depends on the tokens */
    /* rows grouped by token on the host: uniq (U), start (U+1), rows (N), then the sort's 2N of work */
    int32_t *h = cu_host_ints(cb, 5 * (size_t)N + 2);
    if (!h) return;
    int32_t *work = h, *uniq = h + 2 * (size_t)N, *rows = uniq + N, *start = rows + N;
    int U = embed_plan_build(tokens, N, uniq, start, rows, work);
    int32_t *packed = work; /* uniq, start, rows back to back, staged at once */
    memmove(packed, uniq, sizeof(int32_t) * (size_t)U);
    memmove(packed + U, start, sizeof(int32_t) * (size_t)(U + 1));
    memmove(packed + 2 * U + 1, rows, sizeof(int32_t) * (size_t)N);
    const int32_t *d = cu_stage(cb, packed, sizeof(int32_t) * ((size_t)2 * U + 1 + N));
    if (!d) return;
    cu_launched(cb, embed_backward(dwte, d, d + U, d + 2 * U + 1, U, dout, C, cb->stream), "embed_bwd");
}

/* --- RMSNorm --- */

static void op_rmsnorm_fwd(struct backend *be, float *out, float *rstd, const float *inp, const float *w, int N, int C,
                           float eps) {
    struct cuda_be *cb = cu_of(be);
    cu_enter_fusing(cb);
    uint32_t eb;
    memcpy(&eb, &eps, sizeof eb);
    uint64_t a[] = {CU_ARG(out), CU_ARG(rstd), CU_ARG(inp), CU_ARG(w), (uint64_t)N, (uint64_t)C, eb};
    if (cu_trace(cb, OP_RMSNORM_FWD, 7, a)) return;
    const struct cu_deferred *d = &cb->deferred;
    bool fuse = d->kind == CU_DEFER_ADD && d->out == inp && d->n == (size_t)N * C;
    if (!fuse) cu_flush_deferred(cb);
    uint16_t *ob = handoff_buffer(cb, (size_t)N * C);
    if (fuse) { /* the residual add that produced inp, in the same pass */
        struct cu_deferred add = *d;
        cb->deferred.kind = CU_DEFER_NONE;
        cu_launched(cb, rmsnorm_forward_add(out, ob, rstd, add.out, add.a, add.b, w, N, C, eps, cb->stream),
                    "add + rmsnorm_fwd");
    } else {
        cu_launched(cb, rmsnorm_forward(out, ob, rstd, inp, w, N, C, eps, cb->stream), "rmsnorm_fwd");
    }
    if (ob) cu_handoff_offer(cb, out, (size_t)N * C, ob);
}

static void op_rmsnorm_bwd(struct backend *be, float *dinp, float *dw, const float *dout, const float *inp,
                           const float *w, const float *rstd, int N, int C) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    uint64_t a[] = {CU_ARG(dinp), CU_ARG(dw),   CU_ARG(dout), CU_ARG(inp),
                    CU_ARG(w),    CU_ARG(rstd), (uint64_t)N,  (uint64_t)C};
    if (cu_trace(cb, OP_RMSNORM_BWD, 8, a) || N <= 0 || C <= 0) return;
    float *partial = cu_scratch(cb, CU_SCR_COLSUM, sizeof(float) * rmsnorm_backward_scratch_floats(N, C));
    if (!partial) return;
    cu_launched(cb, rmsnorm_backward(dinp, dw, partial, dout, inp, w, rstd, N, C, cb->stream), "rmsnorm_bwd");
}

/* --- matmul --- */

static void op_matmul_fwd(struct backend *be, float *out, const float *inp, const float *w, const float *bias, int N,
                          int C, int OC) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    uint64_t a[] = {CU_ARG(out), CU_ARG(inp), CU_ARG(w), CU_ARG(bias), (uint64_t)N, (uint64_t)C, (uint64_t)OC};
    if (cu_trace(cb, OP_MATMUL_FWD, 7, a) || N <= 0 || OC <= 0) return;
    const void *wb = weights(cb, w, (size_t)OC * C), *ib = operand(cb, CU_SCR_A, inp, (size_t)N * C);
    if (!wb || !ib) return;
    if (bias && gemm_bias_lt(cb, out, wb, ib, bias, N, C, OC)) return;
    float beta = 0.0f;
    if (bias) {
        cu_launched(cb, convert_broadcast_bias(out, bias, N, OC, cb->stream), "matmul_fwd bias");
        beta = 1.0f;
    }
    /* out^T (OC, N) = W (OC, C) . inp^T (C, N) */
    gemm(cb, "matmul_fwd", CUBLAS_OP_T, CUBLAS_OP_N, OC, N, C, wb, C, ib, C, beta, out, OC, !cb->fp32_matmul);
}

static void op_matmul_bwd(struct backend *be, float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                          const float *w, int N, int C, int OC, bool accumulate_dinp) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    uint64_t a[] = {CU_ARG(dinp), CU_ARG(dw),  CU_ARG(dbias), CU_ARG(dout), CU_ARG(inp),
                    CU_ARG(w),    (uint64_t)N, (uint64_t)C,   (uint64_t)OC, (uint64_t)accumulate_dinp};
    if (cu_trace(cb, OP_MATMUL_BWD, 10, a) || N <= 0) return;
    const void *gb = operand(cb, CU_SCR_B, dout, (size_t)N * OC);
    if (!gb) return;
    if (dinp) { /* dinp^T (C, N) = W^T (C, OC) . dout^T (OC, N) */
        const void *wb = weights(cb, w, (size_t)OC * C);
        if (!wb) return;
        gemm(cb, "matmul_bwd dinp", CUBLAS_OP_N, CUBLAS_OP_N, C, N, OC, wb, C, gb, OC, accumulate_dinp ? 1.0f : 0.0f,
             dinp, C, !cb->fp32_matmul);
    }
    if (dw) { /* dw^T (C, OC) += inp^T (C, N) . dout (N, OC) */
        const void *ib = operand(cb, CU_SCR_A, inp, (size_t)N * C);
        if (!ib) return;
        gemm(cb, "matmul_bwd dw", CUBLAS_OP_N, CUBLAS_OP_T, C, OC, N, ib, C, gb, OC, 1.0f, dw, C, !cb->fp32_matmul);
    }
    if (dbias) {
        float *partial = cu_scratch(cb, CU_SCR_COLSUM, sizeof(float) * reduce_colsum_scratch_floats(N, OC));
        if (partial) cu_launched(cb, reduce_colsum_add(dbias, partial, dout, N, OC, cb->stream), "matmul_bwd dbias");
    }
}

/* --- RoPE, SwiGLU, add --- */

static void op_rope(struct backend *be, float *qkv, const int32_t *pos, const float *cos_t, const float *sin_t, int N,
                    int NH, int NKV, int HS, bool inverse) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    const int32_t *dp = cu_stage(cb, pos, sizeof(int32_t) * (size_t)N);
    uint64_t a[] = {CU_ARG(qkv),  CU_ARG(cos_t), CU_ARG(sin_t), (uint64_t)N,
                    (uint64_t)NH, (uint64_t)NKV, (uint64_t)HS,  (uint64_t)inverse};
    if (cu_trace(cb, OP_ROPE, 8, a) || !dp) return;
    if (cb->fuse) { /* a KV store of the same rows may follow: see op_kv_store */
        cb->deferred = (struct cu_deferred){.kind = CU_DEFER_ROPE, .qkv = qkv, .dpos = dp, .cos_t = cos_t,
                                            .sin_t = sin_t, .N = N, .NH = NH, .NKV = NKV, .HS = HS,
                                            .inverse = inverse};
        return;
    }
    cu_launched(cb, rope_apply(qkv, dp, cos_t, sin_t, N, NH, NKV, HS, inverse, cb->stream), "rope");
}

static void op_swiglu_fwd(struct backend *be, float *h, const float *gu, int N, int I) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    uint64_t a[] = {CU_ARG(h), CU_ARG(gu), (uint64_t)N, (uint64_t)I};
    if (cu_trace(cb, OP_SWIGLU_FWD, 4, a)) return;
    uint16_t *hb = handoff_buffer(cb, (size_t)N * I);
    cu_launched(cb, swiglu_forward(h, hb, gu, N, I, cb->stream), "swiglu_fwd");
    if (hb) cu_handoff_offer(cb, h, (size_t)N * I, hb);
}

static void op_swiglu_bwd(struct backend *be, float *dgu, const float *dh, const float *gu, int N, int I) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    uint64_t a[] = {CU_ARG(dgu), CU_ARG(dh), CU_ARG(gu), (uint64_t)N, (uint64_t)I};
    if (cu_trace(cb, OP_SWIGLU_BWD, 5, a)) return;
    cu_launched(cb, swiglu_backward(dgu, dh, gu, N, I, cb->stream), "swiglu_bwd");
}

static void op_add(struct backend *be, float *out, const float *x, const float *y, size_t n) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    uint64_t a[] = {CU_ARG(out), CU_ARG(x), CU_ARG(y), (uint64_t)n};
    if (cu_trace(cb, OP_ADD, 4, a)) return;
    if (cb->fuse) { /* the RMSNorm of the sum may follow: see op_rmsnorm_fwd */
        cb->deferred = (struct cu_deferred){.kind = CU_DEFER_ADD, .out = out, .a = x, .b = y, .n = n};
        return;
    }
    cu_launched(cb, arith_add(out, x, y, n, cb->stream), "add");
}

/* --- attention --- */

static bool head_size_ok(struct cuda_be *cb, int HS, int NH, int NKV) {
    if (attention_head_size_supported(HS) && NKV > 0 && NH % NKV == 0) return true;
    cu_fail(cb, STATUS_UNSUPPORTED, "use --device cpu for this model",
            "CUDA attention kernels support head_dim up to %d (even) with num_attention_heads a multiple of "
            "num_key_value_heads; this model has head_dim %d, %d / %d heads",
            ATTENTION_MAX_HEAD_SIZE, HS, NH, NKV);
    return false;
}

/* Stages the tile list of a packed batch; returns its device copy and count through *n. */
static const int32_t *stage_tiles(struct cuda_be *cb, const int32_t *seq_start, int B, int N, int *n) {
    int cap = N / ATTENTION_TILE_ROWS + B + 1;
    int32_t *t = cu_host_ints(cb, (size_t)cap * 4);
    if (!t) return NULL;
    *n = attention_tiles(t, cap, seq_start, B);
    if (*n < 0) {
        cu_fail(cb, STATUS_INVALID, "internal error", "CUDA attention: malformed seq_start");
        return NULL;
    }
    return cu_stage(cb, t, sizeof(int32_t) * 4 * (size_t)(*n > 0 ? *n : 1));
}

static void op_attention_fwd(struct backend *be, float *out, float *lse, const float *qkv, const int32_t *seq_start,
                             int B, int N, int NH, int NKV, int HS) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    if (!cu_outside_repeat(cb, "attention_fwd") || !head_size_ok(cb, HS, NH, NKV)) return;
    int n_tiles = 0;
    const int32_t *tiles = stage_tiles(cb, seq_start, B, N, &n_tiles);
    if (!tiles) return;
    cu_launched(cb, attention_forward(out, lse, qkv, tiles, n_tiles, NH, NKV, HS, cb->stream), "attention_fwd");
}

static void op_attention_bwd(struct backend *be, float *dqkv, const float *dout, const float *out, const float *qkv,
                             const float *lse, const int32_t *seq_start, int B, int N, int NH, int NKV, int HS) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    if (!cu_outside_repeat(cb, "attention_bwd") || !head_size_ok(cb, HS, NH, NKV)) return;
    int n_tiles = 0;
    const int32_t *tiles = stage_tiles(cb, seq_start, B, N, &n_tiles);
    float *rowdot = cu_scratch(cb, CU_SCR_ATTN, sizeof(float) * (size_t)N * NH);
    if (!tiles || !rowdot) return;
    cu_launched(cb, attention_backward(dqkv, rowdot, dout, out, qkv, lse, tiles, n_tiles, N, NH, NKV, HS, cb->stream),
                "attention_bwd");
}

/* --- fused output layer --- */

/* Rows per chunk so that one chunk's fp32 logits and bf16 dlogits stay within the budget. */
static int lm_chunk_rows(struct cuda_be *cb, int V, int n) {
    size_t per_row = (size_t)V * (sizeof(float) + sizeof(uint16_t));
    size_t rows = cb->lm_chunk_bytes / per_row;
    if (rows < 16) rows = 16;
    if (rows > (size_t)n) rows = (size_t)n;
    return rows > 0 ? (int)rows : 1;
}

/* The scored rows of a batch (targets >= 0), in order, in host scratch; their count through *n. */
static int32_t *scored_rows(struct cuda_be *cb, const int32_t *targets, int N, int *n) {
    int32_t *rows = cu_host_ints(cb, (size_t)N + 1);
    *n = 0;
    if (!rows) return NULL;
    for (int i = 0; i < N; i++)
        if (targets[i] >= 0) rows[(*n)++] = i;
    return rows;
}

/* Logits (R, V) fp32 of the gathered rows into scratch; the gathered rows themselves (R, C, GEMM operand)
 * through *hc. */
static float *lm_logits(struct cuda_be *cb, const float *h, const float *w, const int32_t *drows, int R, int C, int V,
                        const void **hc) {
    float *logits = cu_scratch(cb, CU_SCR_LM_LOGITS, sizeof(float) * (size_t)R * V);
    const void *wb = weights(cb, w, (size_t)V * C);
    void *g = cu_scratch(cb, CU_SCR_LM_H, (size_t)R * C * (cb->fp32_matmul ? sizeof(float) : sizeof(uint16_t)));
    if (!logits || !wb || !g) return NULL;
    if (cb->fp32_matmul)
        cu_launched(cb, convert_gather_f32(g, h, drows, R, C, cb->stream), "lmhead gather");
    else
        cu_launched(cb, convert_gather_bf16(g, h, drows, R, C, cb->stream), "lmhead gather");
    /* logits^T (V, R) = W (V, C) . hc^T (C, R) */
    gemm(cb, "lmhead logits", CUBLAS_OP_T, CUBLAS_OP_N, V, R, C, wb, C, g, C, 0.0f, logits, V, !cb->fp32_matmul);
    *hc = g;
    return logits;
}

static void op_lmhead_fwd(struct backend *be, float *logp, float *lse, float *entropy, const float *h, const float *w,
                          const int32_t *targets, int N, int C, int V) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    if (!cu_outside_repeat(cb, "lmhead_fwd") || N <= 0) return;
    CU_OK(cb, cudaMemsetAsync(logp, 0, sizeof(float) * (size_t)N, cb->stream), "lmhead_fwd");
    CU_OK(cb, cudaMemsetAsync(lse, 0, sizeof(float) * (size_t)N, cb->stream), "lmhead_fwd");
    if (entropy) CU_OK(cb, cudaMemsetAsync(entropy, 0, sizeof(float) * (size_t)N, cb->stream), "lmhead_fwd");
    int n;
    const int32_t *rows = scored_rows(cb, targets, N, &n);
    const int32_t *dtargets = cu_stage(cb, targets, sizeof(int32_t) * (size_t)N);
    if (!rows || !dtargets || n == 0) return;
    int R = lm_chunk_rows(cb, V, n);
    for (int k = 0; k < n; k += R) {
        int nr = n - k < R ? n - k : R;
        const int32_t *drows = cu_stage(cb, rows + k, sizeof(int32_t) * (size_t)nr);
        const void *hc;
        float *logits = drows ? lm_logits(cb, h, w, drows, nr, C, V, &hc) : NULL;
        if (!logits) return;
        cu_launched(cb, lmhead_row_stats(logp, lse, entropy, logits, drows, dtargets, nr, V, cb->stream),
                    "lmhead_fwd stats");
    }
}

static void op_lmhead_bwd(struct backend *be, float *dh, float *dw, const float *h, const float *w,
                          const int32_t *targets, const float *lse, const float *dlogp, int N, int C, int V) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    if (!cu_outside_repeat(cb, "lmhead_bwd") || N <= 0) return;
    int n;
    const int32_t *rows = scored_rows(cb, targets, N, &n);
    const int32_t *dtargets = cu_stage(cb, targets, sizeof(int32_t) * (size_t)N);
    if (!rows || !dtargets || n == 0) return;
    int R = lm_chunk_rows(cb, V, n);
    bool bf16 = !cb->fp32_matmul;
    const void *wb = weights(cb, w, (size_t)V * C);
    float *dhc = cu_scratch(cb, CU_SCR_LM_DH, sizeof(float) * (size_t)R * C);
    void *dl = bf16 ? cu_scratch(cb, CU_SCR_LM_DLOGITS, sizeof(uint16_t) * (size_t)R * V) : NULL;
    if (!wb || !dhc || (bf16 && !dl)) return;
    for (int k = 0; k < n; k += R) {
        int nr = n - k < R ? n - k : R;
        const int32_t *drows = cu_stage(cb, rows + k, sizeof(int32_t) * (size_t)nr);
        const void *hc;
        float *logits = drows ? lm_logits(cb, h, w, drows, nr, C, V, &hc) : NULL;
        if (!logits) return;
        void *d = bf16 ? dl : (void *)logits; /* fp32 mode: dlogits over the logits in place */
        cu_launched(cb, lmhead_dlogits(d, bf16, logits, drows, dtargets, lse, dlogp, nr, V, cb->stream),
                    "lmhead_bwd dlogits");
        /* dhc^T (C, R) = W^T (C, V) . dlogits^T (V, R) */
        gemm(cb, "lmhead_bwd dh", CUBLAS_OP_N, CUBLAS_OP_N, C, nr, V, wb, C, d, V, 0.0f, dhc, C, bf16);
        /* dw^T (C, V) += hc^T (C, R) . dlogits (R, V) */
        gemm(cb, "lmhead_bwd dw", CUBLAS_OP_N, CUBLAS_OP_T, C, V, nr, hc, C, d, V, 1.0f, dw, C, bf16);
        cu_launched(cb, lmhead_scatter_add(dh, dhc, drows, nr, C, cb->stream), "lmhead_bwd scatter");
    }
}

/* --- KV cache --- */

static void op_kv_store(struct backend *be, float *kcache, float *vcache, const float *qkv, const int32_t *slots,
                        const int32_t *pos, int N, int NH, int NKV, int HS, int T) {
    struct cuda_be *cb = cu_of(be);
    cu_enter_fusing(cb);
    /* Staging may wrap the ring, which runs a deferred RoPE first: then there is nothing left to fuse. */
    const int32_t *ds = cu_stage(cb, slots, sizeof(int32_t) * (size_t)N);
    const int32_t *dp = cu_stage(cb, pos, sizeof(int32_t) * (size_t)N);
    uint64_t a[] = {CU_ARG(kcache), CU_ARG(vcache), CU_ARG(qkv),  (uint64_t)N,
                    (uint64_t)NH,   (uint64_t)NKV,  (uint64_t)HS, (uint64_t)T};
    if (cu_trace(cb, OP_KV_STORE, 8, a)) return;
    const struct cu_deferred *d = &cb->deferred;
    /* The same staged positions (a staged array is reused only when its contents are unchanged). */
    bool fuse = d->kind == CU_DEFER_ROPE && d->qkv == qkv && d->dpos == dp && d->N == N && d->NH == NH &&
                d->NKV == NKV && d->HS == HS;
    if (!fuse) cu_flush_deferred(cb);
    if (!ds || !dp) return;
    if (fuse) {
        struct cu_deferred r = *d;
        cb->deferred.kind = CU_DEFER_NONE;
        cu_launched(cb,
                    attention_rope_kv_store(r.qkv, kcache, vcache, ds, dp, r.cos_t, r.sin_t, N, NH, NKV, HS, T,
                                            r.inverse, cb->stream),
                    "rope + kv_store");
        return;
    }
    cu_launched(cb, attention_kv_store(kcache, vcache, qkv, ds, dp, N, NH, NKV, HS, T, cb->stream), "kv_store");
}

static void op_attention_decode(struct backend *be, float *out, const float *qkv, const float *kcache,
                                const float *vcache, const int32_t *slots, const int32_t *pos, int S, int NH, int NKV,
                                int HS, int T) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    const int32_t *ds = cu_stage(cb, slots, sizeof(int32_t) * (size_t)S);
    const int32_t *dp = cu_stage(cb, pos, sizeof(int32_t) * (size_t)S);
    uint64_t a[] = {CU_ARG(out),  CU_ARG(qkv),   CU_ARG(kcache), CU_ARG(vcache), (uint64_t)S,
                    (uint64_t)NH, (uint64_t)NKV, (uint64_t)HS,   (uint64_t)T};
    if (cu_trace(cb, OP_ATTN_DECODE, 9, a) || !ds || !dp || !head_size_ok(cb, HS, NH, NKV)) return;
    int splits = decode_plan_splits(S, NH, NKV, T, cb->sm_count);
    size_t sf = decode_plan_scratch_floats(S, NH, HS, splits);
    float *scratch = sf ? cu_scratch(cb, CU_SCR_DECODE, sizeof(float) * sf) : NULL;
    if (sf && !scratch) return;
    uint16_t *ob = handoff_buffer(cb, (size_t)S * NH * HS);
    cu_launched(cb,
                attention_decode(out, ob, scratch, splits, qkv, kcache, vcache, ds, dp, S, NH, NKV, HS, T, cb->stream),
                "attention_decode");
    if (ob) cu_handoff_offer(cb, out, (size_t)S * NH * HS, ob);
}

/* --- optimiser --- */

static void op_adamw(struct backend *be, float *param, const float *grad, float *m, float *v, size_t n,
                     const struct adamw_params *hp) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    uint64_t a[] = {CU_ARG(param), CU_ARG(grad), CU_ARG(m), CU_ARG(v), (uint64_t)n};
    if (cu_trace(cb, OP_ADAMW, 5, a)) return;
    /* Master and bf16 shadow in one pass; a buffer never used as a weight has no shadow to keep. */
    cu_launched(cb,
                adamw_update(param, cu_shadow_of(cb, param), grad, m, v, n, hp->lr, hp->beta1, hp->beta2, hp->eps,
                             hp->weight_decay, hp->bias_correction1, hp->bias_correction2, cb->stream),
                "adamw");
}

static double op_sum_squares(struct backend *be, const float *x, size_t n) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    if (!cu_outside_repeat(cb, "sum_squares") || n == 0) return 0.0;
    int blocks = reduce_sum_squares_blocks(n);
    double *partial = cu_scratch(cb, CU_SCR_REDUCE, sizeof(double) * (size_t)blocks);
    double host[1024];
    if (!partial) return NAN;
    cu_launched(cb, reduce_sum_squares(partial, x, n, cb->stream), "sum_squares");
    CU_OK(cb, cudaMemcpyAsync(host, partial, sizeof(double) * (size_t)blocks, cudaMemcpyDeviceToHost, cb->stream),
          "sum_squares");
    cu_sync(cb);
    if (cb->err != STATUS_OK) return NAN; /* ->check reports why */
    double total = 0.0;
    for (int i = 0; i < blocks; i++) total += host[i]; /* fixed order: reproducible */
    return total;
}

static void op_scale(struct backend *be, float *x, size_t n, float s) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    uint32_t sb;
    memcpy(&sb, &s, sizeof sb);
    uint64_t a[] = {CU_ARG(x), (uint64_t)n, sb};
    if (cu_trace(cb, OP_SCALE, 3, a)) return;
    cu_note_write(cb, x, n * sizeof(float));
    cu_launched(cb, arith_scale(x, n, s, cb->stream), "scale");
}

/* --- sampling --- */

static void op_sample(struct backend *be, int32_t *tokens, float *logits, const double *u, int S, int V,
                      const struct sampler_params *p) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    const double *du = cu_stage(cb, u, sizeof(double) * (size_t)S);
    uint32_t tb, pb;
    memcpy(&tb, &p->temperature, sizeof tb);
    memcpy(&pb, &p->top_p, sizeof pb);
    uint64_t a[] = {CU_ARG(logits), (uint64_t)S, (uint64_t)V, tb, pb, (uint64_t)(uint32_t)p->top_k};
    bool replay = cu_trace(cb, OP_SAMPLE, 6, a);
    int32_t *dt = replay ? NULL : cu_scratch(cb, CU_SCR_SAMPLE, sizeof(int32_t) * (size_t)S);
    if (!replay) {
        if (!du || !dt) return;
        cu_launched(cb, sample_tokens(dt, logits, du, S, V, p->temperature, p->top_p, p->top_k, cb->stream), "sample");
    }
    /* The copy back is recorded in the graph; on replay only its host side (the pending copy) is set up. */
    cu_download_async(cb, tokens, replay ? NULL : dt, sizeof(int32_t) * (size_t)S, true);
}

const struct backend_ops cuda_ops_table = {
    .close = cu_close,
    .memory = cu_memory,
    .repeat_begin = cu_repeat_begin,
    .repeat_end = cu_repeat_end,
    .alloc = cu_alloc,
    .free = cu_free,
    .upload = cu_upload,
    .download = cu_download,
    .copy = cu_copy,
    .zero = cu_zero,
    .check = cu_check,
    .embed_fwd = op_embed_fwd,
    .embed_bwd = op_embed_bwd,
    .rmsnorm_fwd = op_rmsnorm_fwd,
    .rmsnorm_bwd = op_rmsnorm_bwd,
    .matmul_fwd = op_matmul_fwd,
    .matmul_bwd = op_matmul_bwd,
    .rope = op_rope,
    .attention_fwd = op_attention_fwd,
    .attention_bwd = op_attention_bwd,
    .swiglu_fwd = op_swiglu_fwd,
    .swiglu_bwd = op_swiglu_bwd,
    .add = op_add,
    .lmhead_fwd = op_lmhead_fwd,
    .lmhead_bwd = op_lmhead_bwd,
    .kv_store = op_kv_store,
    .attention_decode = op_attention_decode,
    .adamw = op_adamw,
    .sum_squares = op_sum_squares,
    .scale = op_scale,
    .sample = op_sample,
#if CU_COMM_NCCL /* without nccl.h the engine sums gradients through the host instead */
    .comm_make_id = cu_comm_make_id,
    .comm_init = cu_comm_init,
    .comm_sum = cu_comm_sum,
#endif
};
