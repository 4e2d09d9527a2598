/* backend: the compute interface the model is written against. One table of function pointers per
 * implementation (CPU: fp32 + OpenBLAS + OpenMP; CUDA: kernels/), so model code never mentions a device.
 *
 * Conventions for every op:
 * - Buffers are backend memory (from ->alloc); on the CPU that is ordinary host memory. Tensors are dense,
 *   row-major fp32; shapes are given in the comment of each slot with the dimension names of style.md
 *   (N tokens in a packed batch, B sequences, C channels, OC output channels, V vocabulary, NH / NKV heads,
 *   HS head size, I intermediate size, S decode slots, T cache length).
 * - "+=" in a comment means the op accumulates into that buffer (gradients); otherwise it overwrites.
 * - Packed batches: B sequences of different lengths are concatenated into N rows; seq_start (B+1, host)
 *   gives each sequence's first row, positions restart at 0 for each sequence. No padding, so no masks.
 * - Ops do not return a status: an implementation that can fail (a CUDA launch) records the first error,
 *   and ->check returns and clears it. Model code calls ->check at the end of each forward/backward.
 * - Integer index arrays (tokens, targets, positions, slots) are host memory; the CUDA backend stages them.
 * - Weights are fp32 here. A backend may keep a lower-precision copy of any buffer passed as a weight (w) for
 *   its GEMMs (the CUDA backend keeps bf16); it refreshes that copy after writes through upload, copy, zero,
 *   scale and adamw, which are the only ways model code changes weights. Kernel outputs never land in weights.
 * - Repeat sections (repeat_begin .. repeat_end) bracket a sequence of ops that recurs with the same shapes,
 *   pointers and scalar arguments, only the contents of host index arrays changing (one decode step). The CUDA
 *   backend records it as a CUDA graph and replays it. Inside a section no op may synchronise (download,
 *   check, sum_squares, alloc, free) or choose its launch shape from host array contents (attention_fwd/bwd,
 *   lmhead_fwd/bwd), and host outputs (sample) are valid only after the next ->check. A backend that records a
 *   section may fail to (a CUDA graph capture can fail); repeat_end then returns false, nothing of the section
 *   has run and no error is recorded, and the caller issues the same ops again outside a section.
 * - Padding rows: a decode row whose slot is negative is a dummy (kv_store stores nothing for it,
 *   attention_decode writes zeros). Callers use them to round a repeat section's row count up to
 *   backend_repeat_rows, so that a shrinking batch meets few distinct section shapes. */
#ifndef R1LAB_BACKEND_H
#define R1LAB_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/backend/sampler.h"
#include "engine/util/status.h"

/* Bumped whenever struct backend, struct backend_ops or struct backend_host change: a CUDA library built
 * against another layout is refused at load time instead of crashing. */
#define R1LAB_BACKEND_ABI 4

enum backend_kind { BACKEND_CPU, BACKEND_CUDA };

struct backend;

/* AdamW hyper-parameters for one update of one tensor. */
struct adamw_params {
    float lr, beta1, beta2, eps, weight_decay;
    float bias_correction1; /* 1 - beta1^t */
    float bias_correction2; /* 1 - beta2^t */
};

/* Device memory as the backend sees it (valid = false on the CPU, where the OS accounts for memory). */
struct backend_memory {
    bool valid;
    size_t total;  /* bytes on the device */
    size_t free;   /* bytes free on the device right now (all processes) */
    size_t in_use; /* bytes this backend holds: allocations plus its own scratch and weight copies */
    size_t peak;   /* highest in_use so far */
};

struct backend_ops {
    /* --- lifetime --- */
    void (*close)(struct backend *be); /* frees the backend itself (buffers from ->alloc must be freed first) */
    void (*memory)(struct backend *be, struct backend_memory *out);
    /* Brackets one repeatable sequence of ops (see the conventions above); key names the sequence's shape.
     * repeat_end returns false when the section's ops did not run and must be issued again outside a section. */
    void (*repeat_begin)(struct backend *be, uint64_t key);
    bool (*repeat_end)(struct backend *be);

    /* --- memory --- */
    enum status (*alloc)(struct backend *be, size_t bytes, void **out); /* zero-filled */
    void (*free)(struct backend *be, void *p);
    void (*upload)(struct backend *be, void *dst, const void *src, size_t bytes);   /* host -> backend */
    void (*download)(struct backend *be, void *dst, const void *src, size_t bytes); /* backend -> host */
    void (*copy)(struct backend *be, void *dst, const void *src, size_t bytes);     /* backend -> backend */
    void (*zero)(struct backend *be, void *p, size_t bytes);
    enum status (*check)(struct backend *be); /* waits for queued work; returns and clears the first error */

    /* --- transformer ops --- */
    /* out (N,C) = wte[tokens] */
    void (*embed_fwd)(struct backend *be, float *out, const int32_t *tokens, const float *wte, int N, int C);
    /* dwte (V,C) += scatter of dout (N,C) by tokens */
    void (*embed_bwd)(struct backend *be, float *dwte, const int32_t *tokens, const float *dout, int N, int C);
    /* out (N,C) = inp / rms(inp) * w; rstd (N) saved for backward */
    void (*rmsnorm_fwd)(struct backend *be, float *out, float *rstd, const float *inp, const float *w, int N, int C,
                        float eps);
    /* dinp (N,C) +=, dw (C) += */
    void (*rmsnorm_bwd)(struct backend *be, float *dinp, float *dw, const float *dout, const float *inp,
                        const float *w, const float *rstd, int N, int C);
    /* out (N,OC) = inp (N,C) @ w (OC,C)^T + bias (OC, may be NULL) */
    void (*matmul_fwd)(struct backend *be, float *out, const float *inp, const float *w, const float *bias, int N,
                       int C, int OC);
    /* dinp (N,C) = or += dout @ w (accumulate_dinp); dw (OC,C) += dout^T @ inp; dbias (OC) += colsum(dout)
     * (dbias may be NULL; dinp may be NULL when not needed) */
    void (*matmul_bwd)(struct backend *be, float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                       const float *w, int N, int C, int OC, bool accumulate_dinp);
    /* In place on the q and k parts of qkv (N, (NH+2*NKV)*HS): rotate-half RoPE at positions pos (N).
     * cos/sin tables are (max_pos, HS/2). inverse=true applies the transpose (for the backward pass). */
    void (*rope)(struct backend *be, float *qkv, const int32_t *pos, const float *cos_t, const float *sin_t, int N,
                 int NH, int NKV, int HS, bool inverse);
    /* Causal attention per sequence on packed qkv (N, (NH+2*NKV)*HS) -> out (N, NH*HS);
     * lse (N, NH) = log-sum-exp of each row of scaled scores, saved for backward. */
    void (*attention_fwd)(struct backend *be, float *out, float *lse, const float *qkv, const int32_t *seq_start,
                          int B, int N, int NH, int NKV, int HS);
    /* dqkv (N, (NH+2*NKV)*HS) = gradient w.r.t. qkv given dout (N, NH*HS); recomputes probabilities from lse. */
    void (*attention_bwd)(struct backend *be, float *dqkv, const float *dout, const float *out, const float *qkv,
                          const float *lse, const int32_t *seq_start, int B, int N, int NH, int NKV, int HS);
    /* h (N,I) = silu(gu[:, :I]) * gu[:, I:] for gu (N, 2I) */
    void (*swiglu_fwd)(struct backend *be, float *h, const float *gu, int N, int I);
    /* dgu (N,2I) = gradient given dh (N,I) */
    void (*swiglu_bwd)(struct backend *be, float *dgu, const float *dh, const float *gu, int N, int I);
    /* out (n) = a + b (out may alias a) */
    void (*add)(struct backend *be, float *out, const float *a, const float *b, size_t n);

    /* Output layer fused with log-softmax, computed in row chunks so that (N,V) logits are never stored.
     * For each row i with targets[i] >= 0: logits = h_i @ w^T (w is (V,C)); lse[i]; logp[i] = logits[t] - lse;
     * entropy[i] (may be NULL) = -sum p log p. Rows with targets[i] < 0 get logp = lse = entropy = 0.
     * logp, lse, entropy are backend memory of N floats. */
    void (*lmhead_fwd)(struct backend *be, float *logp, float *lse, float *entropy, const float *h, const float *w,
                       const int32_t *targets, int N, int C, int V);
    /* Given dlogp (N, backend memory; dL/dlogp[i]), recomputes each chunk's logits and accumulates
     * dh (N,C) += and dw (V,C) +=. Rows with targets < 0 contribute nothing. */
    void (*lmhead_bwd)(struct backend *be, float *dh, float *dw, const float *h, const float *w,
                       const int32_t *targets, const float *lse, const float *dlogp, int N, int C, int V);

    /* --- KV cache: the model passes one layer's k and v caches, each (S, T, NKV*HS) --- */
    /* For each row i of qkv (N, (NH+2*NKV)*HS): copy its k and v parts into slot slots[i] at position pos[i]
     * (nothing for a padding row, slots[i] < 0). */
    void (*kv_store)(struct backend *be, float *kcache, float *vcache, const float *qkv, const int32_t *slots,
                     const int32_t *pos, int N, int NH, int NKV, int HS, int T);
    /* One query row per slot: out (S, NH*HS) = attention of q (rows of qkv (S, ...)) over cache positions
     * 0..pos[s] of slot slots[s] (the current token's k/v already stored); zeros for a padding row (slots[s] < 0). */
    void (*attention_decode)(struct backend *be, float *out, const float *qkv, const float *kcache,
                             const float *vcache, const int32_t *slots, const int32_t *pos, int S, int NH, int NKV,
                             int HS, int T);

    /* --- optimiser --- */
    /* AdamW on n parameters (decoupled weight decay, bias correction) */
    void (*adamw)(struct backend *be, float *param, const float *grad, float *m, float *v, size_t n,
                  const struct adamw_params *hp);
    /* Sum of squares of x (n) in double; NaN/Inf propagate, so a non-finite result flags a bad gradient. */
    double (*sum_squares)(struct backend *be, const float *x, size_t n);
    /* x (n) *= s */
    void (*scale)(struct backend *be, float *x, size_t n, float s);

    /* --- sampling --- */
    /* tokens (S, host) = one draw per row of logits (S, V; clobbered, used as scratch) from the distribution
     * sampler.c defines for p (temperature, then top-k, then top-p), using the uniform u[s] in [0, 1) (S, host;
     * ignored when greedy). The CPU walks the kept set as sampler.c does (by descending probability when top-k or
     * top-p apply); the CUDA backend walks it by token id: the same distribution, so for a given u the two may
     * pick different tokens only when top-k / top-p are on. tokens is written by the time ->check returns. */
    void (*sample)(struct backend *be, int32_t *tokens, float *logits, const double *u, int S, int V,
                   const struct sampler_params *p);
    /* --- data parallel: a device communicator (NCCL); all three NULL when the backend has none (the CPU) --- */
    /* Unlike the ops above these can fail on their own (a peer gone, a library missing), so they return a status.
     * comm_make_id (rank 0) writes a new communicator id of *bytes <= cap bytes; every rank then passes it to
     * comm_init. comm_sum sums x (n, backend memory) over the ranks in place and waits for it, giving up with
     * STATUS_PEER after timeout_s. */
    enum status (*comm_make_id)(struct backend *be, void *id, size_t cap, size_t *bytes);
    enum status (*comm_init)(struct backend *be, const void *id, size_t bytes, int nranks, int rank, double timeout_s);
    enum status (*comm_sum)(struct backend *be, float *x, size_t n, double timeout_s);
};

struct backend {
    const struct backend_ops *ops;
    enum backend_kind kind;
    char name[96]; /* for logs and the dashboard: "CPU (OpenBLAS, 2 threads)" */
    int threads;
    bool sample_on_device; /* the rollout should sample with ->sample instead of downloading logits */
    int repeat_rows_quantum; /* repeat sections round their rows up (backend_repeat_rows); <= 1: no rounding */
    void *impl;            /* implementation state */
};

/* The rows a repeat section of S rows should run with on this backend (S plus padding rows): S rounded up to a
 * multiple of the quantum q up to 8q rows, of 2q above, so that a batch shrinking from 256 rows meets 20 shapes
 * (q = 8) instead of 256. */
static inline int backend_repeat_rows(const struct backend *be, int S) {
    int q = be->repeat_rows_quantum;
    if (q <= 1 || S <= 0) return S;
    int step = S <= 8 * q ? q : 2 * q;
    return (S + step - 1) / step * step;
}

/* What the engine lends a backend loaded from a shared library, which cannot reach the engine's own
 * thread-local error message or log sink directly: it reports through these. */
struct backend_host {
    int abi;                                                            /* R1LAB_BACKEND_ABI of the caller */
    enum status (*error)(enum status st, const char *msg, const char *hint); /* sets err_msg / err_hint */
    void (*log)(int level, const char *msg);                            /* enum log_level, one line */
};

/* The one symbol libr1lab-cuda.so exports: opens CUDA device `device` (0-based). */
#define R1LAB_CUDA_ENTRY "r1lab_cuda_backend_open"
#define R1LAB_CUDA_LIBNAME "libr1lab-cuda.so"
typedef enum status (*backend_cuda_open_fn)(const struct backend_host *host, struct backend **out, int device);

/* Opens a backend by name: "cpu", "cuda", "cuda:N", "auto" (CUDA when a device is usable, else the CPU
 * with one info line saying why). threads <= 0 means all cores (CPU). The CUDA backend is a shared library
 * (libr1lab-cuda.so) loaded on demand, searched in $R1LAB_CUDA_LIB (a file or a directory), next to the
 * executable, in ../lib/r1lab beside it, in the install lib directory and in the build directory. */
enum status backend_open(struct backend **out, const char *device, int threads);
/* Whether device is a name backend_open knows (auto, cpu, cuda, cuda:N), without opening anything. */
enum status backend_check_name(const char *device);
void backend_close(struct backend *be); /* accepts NULL */
/* Where the CUDA library was found (or "" when it was not loaded); for diagnostics. */
const char *backend_cuda_library(void);

/* The CPU backend directly (always available). */
enum status backend_cpu_open(struct backend **out, int threads);

#endif
