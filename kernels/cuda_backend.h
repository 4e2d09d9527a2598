/* cuda_backend: the CUDA backend's shared state, between cuda_backend.c (lifetime, errors, memory, staging of
 * host arrays, bf16 weight copies, scratch, repeat sections as CUDA graphs) and cuda_ops.c (the ops table).
 * Internal to libr1lab-cuda.so: nothing outside kernels/ includes it, and the library exports only
 * R1LAB_CUDA_ENTRY.
 *
 * Invariants.
 * - One stream per backend; every op enqueues on it, so ops are ordered and scratch can be reused op to op.
 * - The first failure since the last ->check is kept (status, message, hint) and handed to the engine by
 *   ->check; later failures are dropped. Nothing here exits or prints.
 * - A buffer from ->alloc that has been passed as a weight carries a bf16 copy of all of it (its shadow) and a
 *   dirty range of elements whose shadow is stale; writes through upload/copy/zero/scale widen the range, the
 *   next GEMM that reads the buffer refreshes it, AdamW writes master and shadow together.
 * - Host arrays are staged through a pinned ring and a device ring of the same size; a region is reused only
 *   after a stream synchronisation. Inside a repeat section they go to a separate step region whose offsets
 *   repeat identically every time, which is what lets a captured graph re-read them.
 * - Fusions (off with R1LAB_CUDA_FUSE=0 or R1LAB_CUDA_SYNC=1, so that every op runs alone and an error names it):
 *   an add, a RoPE or a run of device copies is deferred until the next op arrives. A residual add followed by
 *   the RMSNorm of its sum runs as one kernel, a RoPE followed by the KV store of the same rows runs as one
 *   kernel, and consecutive independent copies run as one batch (copy_plan.h); anything else first runs what is
 *   deferred. Every op but those consumers runs the deferred work on entry (cu_enter), as does a ring wrap, so
 *   it is enqueued before anything that could depend on it or reuse what it reads.
 * - A producer whose output is the next GEMM's input (RMSNorm, SwiGLU, decode attention) also writes it rounded
 *   to bf16 into the GEMM operand scratch and offers it (the hand-off); it is valid for the very next op only. */
#ifndef R1LAB_CUDA_BACKEND_H
#define R1LAB_CUDA_BACKEND_H

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "copy_plan.h"
#include "engine/backend/backend.h"

enum cu_scratch {
    CU_SCR_A,          /* bf16 GEMM operand (inputs) */
    CU_SCR_B,          /* bf16 GEMM operand (output gradients) */
    CU_SCR_LM_LOGITS,  /* (R, V) fp32 logits of an output-layer chunk */
    CU_SCR_LM_DLOGITS, /* (R, V) bf16 dlogits */
    CU_SCR_LM_H,       /* (R, C) gathered hidden rows */
    CU_SCR_LM_DH,      /* (R, C) fp32 gradient of the gathered rows */
    CU_SCR_ATTN,       /* (N, NH) attention row dots */
    CU_SCR_DECODE,     /* split-K partials of attention_decode */
    CU_SCR_REDUCE,     /* sum-of-squares partials */
    CU_SCR_SAMPLE,     /* (S) sampled tokens */
    CU_SCR_COLSUM,     /* (slabs, C) column-sum partials (bias and norm-weight gradients) */
    CU_SCR_COPY,       /* a copy whose source and destination overlap goes through here */
    CU_SCR_EMBED,      /* the embedding backward's grouping of rows by token */
    CU_SCR_COUNT
};

struct cu_alloc {
    char *base;
    size_t bytes;
    uint16_t *shadow;          /* (bytes / 4) bf16, or NULL until first used as a weight */
    size_t dirty_lo, dirty_hi; /* stale shadow elements [lo, hi); lo >= hi when clean */
};

enum cu_repeat_mode {
    CU_REP_NONE,    /* outside a repeat section */
    CU_REP_EAGER,   /* inside one that runs op by op (first sighting of its key, or graphs off) */
    CU_REP_CAPTURE, /* recording a CUDA graph */
    CU_REP_REPLAY,  /* ops only stage their host arrays; the graph runs at repeat_end */
};

#define CU_BLAS_WS_BYTES ((size_t)32 << 20) /* cuBLAS / cuBLASLt workspace, shared on the one stream */
#define CU_MAX_GRAPHS 128 /* decode steps of every batch size from 1 to 128 stay captured */
#define CU_SEEN_KEYS 64
#define CU_MAX_PENDING 32
#define CU_STAGE_HITS 8

struct cu_graph {
    uint64_t key, gen, last_use;
    cudaGraphExec_t exec;
    uint64_t *trace; /* every op's arguments as captured, compared on replay */
    size_t n_trace;
};

struct cu_pending { /* a host copy to do once the stream has reached this point */
    void *dst;
    const void *src;
    size_t bytes;
    bool tokens; /* sampled tokens: a negative one marks a row without a distribution (NaN / inf logits) */
};

enum cu_defer_kind { CU_DEFER_NONE, CU_DEFER_ADD, CU_DEFER_ROPE, CU_DEFER_COPIES };

struct cu_deferred { /* an op that waits for the next one (see Fusions above) */
    enum cu_defer_kind kind;
    float *out; /* add: out (n) = a + b */
    const float *a, *b;
    size_t n;
    float *qkv; /* rope: its arguments, pos already on the device */
    const int32_t *dpos;
    const float *cos_t, *sin_t;
    int N, NH, NKV, HS;
    bool inverse;
};

struct cu_handoff { /* a bf16 copy of an op's output, for the next op's GEMM */
    const float *src;
    size_t n;
    const uint16_t *bf16;
};

#define CU_LT_PLANS 48

struct cu_lt_plan { /* a cuBLASLt GEMM with the bias in its epilogue, for one shape */
    int m, n, k;
    bool ok; /* false: no algorithm for this shape, use the plain GEMM */
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t a, b, c;
    cublasLtMatmulAlgo_t algo;
};

struct cu_comm;

struct cu_stage_hit { /* a recently staged host array, reused when its contents did not change */
    const void *host;
    size_t bytes;
    const void *pin;
    void *dev;
};

struct cuda_be {
    struct backend be; /* what the engine holds; be.impl points back here */
    const struct backend_host *host;
    int device, sm_count;
    size_t total_mem;
    pthread_t thread; /* thread that last made the device current */
    bool thread_set;
    cudaStream_t stream;
    cublasHandle_t blas;
    void *blas_ws;

    /* settings from the environment, read at open */
    bool fp32_matmul;      /* R1LAB_CUDA_MATMUL=fp32: fp32 GEMMs on the master weights (for parity tests) */
    bool sync_each_op;     /* R1LAB_CUDA_SYNC=1: synchronise after every op, naming the op that failed */
    bool graphs_enabled;   /* R1LAB_CUDA_GRAPHS (default 1) */
    size_t lm_chunk_bytes; /* R1LAB_CUDA_LM_CHUNK_MB: logits budget of one output-layer chunk */
    bool fuse;             /* R1LAB_CUDA_FUSE (default 1, off with R1LAB_CUDA_SYNC): fusions and hand-offs */

    struct cu_deferred deferred;
    struct copy_plan *copies; /* the pending copy batch (CU_DEFER_COPIES) */
    struct cu_handoff handoff, handoff_next;
    cublasLtHandle_t lt; /* NULL when cuBLASLt did not initialise: biases then go the plain way */
    struct cu_lt_plan lt_plans[CU_LT_PLANS];
    int n_lt_plans;

    /* first error since the last check */
    enum status err;
    char err_msg[768];
    char err_hint[320];

    /* allocations from ->alloc, sorted by base */
    struct cu_alloc *allocs;
    size_t n_allocs, cap_allocs;
    size_t bytes_alloc, bytes_internal, bytes_peak;

    void *scratch[CU_SCR_COUNT];
    size_t scratch_cap[CU_SCR_COUNT];
    uint64_t scratch_gen; /* bumped when any scratch buffer moves: graphs captured before are stale */
    void **graveyard;     /* device buffers to free at the next synchronisation */
    size_t n_grave, cap_grave;

    char *ring_host, *ring_dev; /* staging ring: pinned host, device */
    size_t ring_cap, ring_pos;
    struct cu_stage_hit hits[CU_STAGE_HITS];
    int next_hit;

    char *step_host, *step_dev; /* staging for repeat sections */
    size_t step_cap, step_pos;
    struct cu_stage_hit step_hits[CU_STAGE_HITS];
    int n_step_hits;

    struct cu_pending pending[CU_MAX_PENDING];
    int n_pending;
    int rep_pending_mark; /* n_pending when the repeat section began: a failed capture drops what it added */

    int32_t *host_i32; /* host scratch for row and tile lists */
    size_t host_i32_cap;

    enum cu_repeat_mode rep;
    uint64_t rep_key;
    struct cu_graph *rep_graph;
    size_t rep_cursor;
    bool rep_tainted, rep_diverged;
    bool rep_capture_failed; /* a call of the section broke its capture (the step is then rerun without graphs) */
    uint64_t *trace; /* capture in progress */
    size_t n_trace, cap_trace;
    struct cu_graph graphs[CU_MAX_GRAPHS];
    int n_graphs;
    uint64_t use_clock;
    uint64_t seen[CU_SEEN_KEYS];
    int seen_next;
    bool inflight; /* a replayed graph may still read the step region */
    long graphs_captured, graphs_replayed;

    struct cu_comm *comm; /* the NCCL communicator of a data-parallel run (cuda_comm.c); NULL until comm_init */
};

static inline struct cuda_be *cu_of(struct backend *be) {
    return (struct cuda_be *)be->impl;
}

/* Records the first failure (message formatted from fmt); later ones are dropped. */
void cu_fail(struct cuda_be *cb, enum status st, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records a failed CUDA / cuBLAS call; returns whether it succeeded. */
bool cu_ok_at(struct cuda_be *cb, cudaError_t e, const char *what, const char *file, int line);
bool cu_blas_ok_at(struct cuda_be *cb, cublasStatus_t s, const char *what, const char *file, int line);
#define CU_OK(cb, call, what) cu_ok_at((cb), (call), (what), __FILE__, __LINE__)
#define CU_BLAS_OK(cb, call, what) cu_blas_ok_at((cb), (call), (what), __FILE__, __LINE__)

/* Every op starts with one of these. cu_enter makes the backend's device current in the calling thread (cheap
 * when it already is) and runs any deferred op; cu_enter_fusing leaves the deferred op to the caller, which must
 * take it (a fusion) or run it (cu_flush_deferred) before enqueuing anything. Both pass the hand-off on. */
void cu_enter(struct cuda_be *cb);
void cu_enter_fusing(struct cuda_be *cb);
/* Enqueues the deferred op, if any. */
void cu_flush_deferred(struct cuda_be *cb);
/* The producer side of the hand-off: bf16 (n) is src (n) rounded, for the next op. */
void cu_handoff_offer(struct cuda_be *cb, const float *src, size_t n, const uint16_t *bf16);
/* The consumer side: the bf16 copy of src (n) when the previous op offered exactly that, else NULL. */
const uint16_t *cu_handoff_take(struct cuda_be *cb, const float *src, size_t n);
/* Records a kernel launcher's result; with R1LAB_CUDA_SYNC also synchronises so the error names its op. */
void cu_launched(struct cuda_be *cb, cudaError_t e, const char *op);
/* Waits for the stream, then does the pending host copies and frees the graveyard. */
void cu_sync(struct cuda_be *cb);
/* False (and an error recorded) inside a repeat section: for ops that must synchronise or whose launch shape
 * depends on host array contents. */
bool cu_outside_repeat(struct cuda_be *cb, const char *op);

/* Device copy of a host array, valid for work enqueued from now on; NULL after a failure. */
const void *cu_stage(struct cuda_be *cb, const void *host, size_t bytes);
/* Enqueues a device -> host copy into dst that completes by the next synchronisation (->check). tokens: dst is
 * int32 sampled tokens, and a negative one is reported as a row without a distribution. */
void cu_download_async(struct cuda_be *cb, void *dst, const void *dev, size_t bytes, bool tokens);
/* A scratch buffer of at least bytes; NULL after a failure. */
void *cu_scratch(struct cuda_be *cb, enum cu_scratch slot, size_t bytes);
/* Host int32 scratch of n elements; NULL after a failure. */
int32_t *cu_host_ints(struct cuda_be *cb, size_t n);

/* bf16 copy of the n weights at w (refreshing stale parts first); NULL after a failure. */
const uint16_t *cu_weight_bf16(struct cuda_be *cb, const float *w, size_t n);
/* The shadow of p's range when its buffer has one (AdamW writes it), else NULL. */
uint16_t *cu_shadow_of(struct cuda_be *cb, const float *p);
/* Marks [p, p + bytes) written outside the kernels that maintain shadows. */
void cu_note_write(struct cuda_be *cb, const void *p, size_t bytes);

/* Graph bookkeeping, called by every op with its arguments (pointers and sizes as integers) after staging its
 * host arrays: returns true when the op must not enqueue work (replay: the graph does it). */
bool cu_trace(struct cuda_be *cb, uint32_t op, size_t n, const uint64_t *args);
#define CU_ARG(p) ((uint64_t)(uintptr_t)(p))

/* The ops table (cuda_ops.c) and the memory / lifetime ops it references (cuda_backend.c). */
extern const struct backend_ops cuda_ops_table;
void cu_close(struct backend *be);
void cu_memory(struct backend *be, struct backend_memory *out);
void cu_repeat_begin(struct backend *be, uint64_t key);
bool cu_repeat_end(struct backend *be);
enum status cu_alloc(struct backend *be, size_t bytes, void **out);
void cu_free(struct backend *be, void *p);
void cu_upload(struct backend *be, void *dst, const void *src, size_t bytes);
void cu_download(struct backend *be, void *dst, const void *src, size_t bytes);
void cu_copy(struct backend *be, void *dst, const void *src, size_t bytes);
void cu_zero(struct backend *be, void *p, size_t bytes);
enum status cu_check(struct backend *be);

#endif
