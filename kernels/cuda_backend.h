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
 *   repeat identically every time, which is what lets a captured graph re-read them. */
#ifndef R1LAB_CUDA_BACKEND_H
#define R1LAB_CUDA_BACKEND_H

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

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
};

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

    int32_t *host_i32; /* host scratch for row and tile lists */
    size_t host_i32_cap;

    enum cu_repeat_mode rep;
    uint64_t rep_key;
    struct cu_graph *rep_graph;
    size_t rep_cursor;
    bool rep_tainted, rep_diverged;
    uint64_t *trace; /* capture in progress */
    size_t n_trace, cap_trace;
    struct cu_graph graphs[CU_MAX_GRAPHS];
    int n_graphs;
    uint64_t use_clock;
    uint64_t seen[CU_SEEN_KEYS];
    int seen_next;
    bool inflight; /* a replayed graph may still read the step region */
    long graphs_captured, graphs_replayed;
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

/* Makes the backend's device current in the calling thread (cheap when it already is). */
void cu_enter(struct cuda_be *cb);
/* Records a kernel launcher's result; with R1LAB_CUDA_SYNC also synchronises so the error names its op. */
void cu_launched(struct cuda_be *cb, cudaError_t e, const char *op);
/* Waits for the stream, then does the pending host copies and frees the graveyard. */
void cu_sync(struct cuda_be *cb);
/* False (and an error recorded) inside a repeat section: for ops that must synchronise or whose launch shape
 * depends on host array contents. */
bool cu_outside_repeat(struct cuda_be *cb, const char *op);

/* Device copy of a host array, valid for work enqueued from now on; NULL after a failure. */
const void *cu_stage(struct cuda_be *cb, const void *host, size_t bytes);
/* Enqueues a device -> host copy into dst that completes by the next synchronisation (->check). */
void cu_download_async(struct cuda_be *cb, void *dst, const void *dev, size_t bytes);
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
void cu_repeat_end(struct backend *be);
enum status cu_alloc(struct backend *be, size_t bytes, void **out);
void cu_free(struct backend *be, void *p);
void cu_upload(struct backend *be, void *dst, const void *src, size_t bytes);
void cu_download(struct backend *be, void *dst, const void *src, size_t bytes);
void cu_copy(struct backend *be, void *dst, const void *src, size_t bytes);
void cu_zero(struct backend *be, void *p, size_t bytes);
enum status cu_check(struct backend *be);

#endif
