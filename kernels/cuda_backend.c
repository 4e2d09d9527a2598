/* cuda_backend: the CUDA backend's lifetime and plumbing — the library entry point, error recording, device
 * memory with bf16 weight shadows, staging of host index arrays, scratch, and repeat sections recorded as CUDA
 * graphs. The ops themselves are in cuda_ops.c. Built into libr1lab-cuda.so (see backend.c for how it is
 * found and loaded); never prints, never exits.
 *
 * Repeat sections. The engine brackets one decode step with repeat_begin(key) / repeat_end. The first time a
 * key is seen the step runs op by op. The second time it is captured (cudaStreamBeginCapture, relaxed mode)
 * into a graph, which is then launched. From then on the ops of a step with that key only copy their host
 * arrays into the step staging region (at the same offsets as during capture) and check that their arguments
 * equal the captured ones; repeat_end launches the graph. A graph is dropped when a buffer it uses is freed
 * or a scratch buffer it uses moves (scratch_gen), and recaptured the next time. If a replayed step's
 * arguments ever differ from the capture (which model code rules out: same key, same shapes and buffers), the
 * step fails with an internal error and graphs are switched off rather than computing something else. */
#include "cuda_backend.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith.h"
#include "attention_decode.h"
#include "convert.h"
#include "copy.h"
#include "cuda_comm.h"
#include "engine/util/log.h"
#include "rope.h"

#define RING_BYTES ((size_t)8 << 20)
#define STEP_BYTES ((size_t)1 << 20)
#define UPLOAD_STAGED_MAX ((size_t)1 << 20) /* larger uploads go straight from pageable memory */

static size_t align256(size_t n) {
    return (n + 255) & ~(size_t)255;
}
static double mib(size_t b) {
    return (double)b / (1 << 20);
}
static double gib(size_t b) {
    return (double)b / (1 << 30);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Errors                                                                                                */

void cu_fail(struct cuda_be *cb, enum status st, const char *hint, const char *fmt, ...) {
    if (cb->err != STATUS_OK) return;
    cb->err = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cb->err_msg, sizeof cb->err_msg, fmt, ap);
    va_end(ap);
    snprintf(cb->err_hint, sizeof cb->err_hint, "%s", hint ? hint : "");
}

/* Errors that mean a graph capture broke (an API call the capture does not allow), not that the work is wrong:
 * the step is then run again without graphs instead of failing. */
static bool capture_error(cudaError_t e) {
    return e == cudaErrorStreamCaptureUnsupported || e == cudaErrorStreamCaptureInvalidated ||
           e == cudaErrorStreamCaptureMerge || e == cudaErrorStreamCaptureUnmatched ||
           e == cudaErrorStreamCaptureUnjoined || e == cudaErrorStreamCaptureIsolation ||
           e == cudaErrorStreamCaptureImplicit || e == cudaErrorCapturedEvent ||
           e == cudaErrorStreamCaptureWrongThread;
}

bool cu_ok_at(struct cuda_be *cb, cudaError_t e, const char *what, const char *file, int line) {
    if (e == cudaSuccess) return true;
    cudaGetLastError(); /* clear a non-sticky error so that later calls report their own */
    if (cb->rep == CU_REP_CAPTURE && capture_error(e)) {
        cb->rep_capture_failed = true;
        return false;
    }
    enum status st = e == cudaErrorMemoryAllocation ? STATUS_NOMEM : STATUS_DEVICE;
    cu_fail(cb, st,
            cb->sync_each_op ? "compute-sanitizer r1lab ... locates bad memory accesses"
                             : "rerun with R1LAB_CUDA_SYNC=1 to name the failing op, or under compute-sanitizer",
            "CUDA: %s: %s (%s) [%s:%d]", what, cudaGetErrorString(e), cudaGetErrorName(e), file, line);
    return false;
}

bool cu_blas_ok_at(struct cuda_be *cb, cublasStatus_t s, const char *what, const char *file, int line) {
    if (s == CUBLAS_STATUS_SUCCESS) return true;
    cu_fail(cb, s == CUBLAS_STATUS_ALLOC_FAILED ? STATUS_NOMEM : STATUS_DEVICE, NULL, "cuBLAS: %s: %s [%s:%d]", what,
            cublasGetStatusString(s), file, line);
    return false;
}

void cu_enter_fusing(struct cuda_be *cb) {
    cb->handoff = cb->handoff_next;
    cb->handoff_next = (struct cu_handoff){0};
    pthread_t self = pthread_self();
    if (cb->thread_set && pthread_equal(self, cb->thread)) return;
    CU_OK(cb, cudaSetDevice(cb->device), "cudaSetDevice");
    cb->thread = self;
    cb->thread_set = true;
}

void cu_enter(struct cuda_be *cb) {
    cu_enter_fusing(cb);
    cu_flush_deferred(cb);
}

void cu_handoff_offer(struct cuda_be *cb, const float *src, size_t n, const uint16_t *bf16) {
    cb->handoff_next = (struct cu_handoff){.src = src, .n = n, .bf16 = bf16};
}

const uint16_t *cu_handoff_take(struct cuda_be *cb, const float *src, size_t n) {
    if (!cb->handoff.bf16 || cb->handoff.src != src || cb->handoff.n != n) return NULL;
    const uint16_t *b = cb->handoff.bf16;
    cb->handoff = (struct cu_handoff){0};
    return b;
}

void cu_launched(struct cuda_be *cb, cudaError_t e, const char *op) {
    if (!CU_OK(cb, e, op)) return;
    if (cb->sync_each_op && cb->rep != CU_REP_CAPTURE && cb->rep != CU_REP_REPLAY)
        CU_OK(cb, cudaStreamSynchronize(cb->stream), op);
}

bool cu_outside_repeat(struct cuda_be *cb, const char *op) {
    if (cb->rep != CU_REP_CAPTURE && cb->rep != CU_REP_REPLAY) return true;
    cu_fail(cb, STATUS_INVALID, "internal error in the engine's use of repeat sections",
            "CUDA backend: %s cannot run inside a repeat section (it synchronises or depends on host data)", op);
    return false;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Synchronisation, pending host copies, deferred frees                                                  */

static void flush_pending(struct cuda_be *cb) {
    for (int i = 0; i < cb->n_pending; i++) {
        const struct cu_pending *p = &cb->pending[i];
        memcpy(p->dst, p->src, p->bytes);
        if (!p->tokens) continue;
        const int32_t *t = p->dst;
        for (size_t r = 0; r < p->bytes / sizeof(int32_t); r++)
            if (t[r] < 0) {
                cu_fail(cb, STATUS_INVALID,
                        "the model has diverged: lower learning_rate (or max_grad_norm), or resume from an earlier "
                        "checkpoint",
                        "CUDA sampler: row %zu of the logits has no distribution (a NaN or an infinity in it, or "
                        "every logit -inf)",
                        r);
                break;
            }
    }
    cb->n_pending = 0;
}

static void free_graveyard(struct cuda_be *cb) {
    for (size_t i = 0; i < cb->n_grave; i++) cudaFree(cb->graveyard[i]);
    cb->n_grave = 0;
}

void cu_sync(struct cuda_be *cb) {
    CU_OK(cb, cudaStreamSynchronize(cb->stream), "synchronize (an earlier asynchronous launch failed)");
    flush_pending(cb);
    free_graveyard(cb);
    cb->inflight = false;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Allocation table and weight shadows                                                                   */

static struct cu_alloc *find_alloc(struct cuda_be *cb, const void *p) {
    const char *c = p;
    size_t lo = 0, hi = cb->n_allocs;
    while (lo < hi) { /* last allocation with base <= p */
        size_t mid = (lo + hi) / 2;
        if (cb->allocs[mid].base <= c)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) return NULL;
    struct cu_alloc *a = &cb->allocs[lo - 1];
    return c < a->base + a->bytes ? a : NULL;
}

static void count_internal(struct cuda_be *cb, size_t add) {
    cb->bytes_internal += add;
    size_t in_use = cb->bytes_alloc + cb->bytes_internal;
    if (in_use > cb->bytes_peak) cb->bytes_peak = in_use;
}

static void nomem(struct cuda_be *cb, size_t bytes, const char *what) {
    size_t fr = 0, tot = 0;
    cudaMemGetInfo(&fr, &tot);
    cudaGetLastError();
    cu_fail(cb, STATUS_NOMEM, "lower per_device_train_batch_size, or generate fewer sequences at once",
            "CUDA: cannot allocate %.1f MiB for %s (%.1f MiB free of %.1f GiB; r1lab holds %.2f GiB)", mib(bytes), what,
            mib(fr), gib(tot), gib(cb->bytes_alloc + cb->bytes_internal));
}

static void refresh_shadow(struct cuda_be *cb, struct cu_alloc *a) {
    if (a->dirty_lo >= a->dirty_hi) return;
    if (cb->rep == CU_REP_CAPTURE) cb->rep_tainted = true; /* the conversion would be baked into the graph */
    cu_launched(cb,
                convert_to_bf16(a->shadow + a->dirty_lo, (const float *)a->base + a->dirty_lo,
                                a->dirty_hi - a->dirty_lo, cb->stream),
                "refresh bf16 weights");
    a->dirty_lo = a->dirty_hi = 0;
}

const uint16_t *cu_weight_bf16(struct cuda_be *cb, const float *w, size_t n) {
    struct cu_alloc *a = find_alloc(cb, w);
    if (!a || (const char *)(w + n) > a->base + a->bytes) {
        cu_fail(cb, STATUS_INVALID, "internal error",
                "CUDA backend: weight %p (%zu floats) is not inside one buffer from ->alloc", (const void *)w, n);
        return NULL;
    }
    if (!a->shadow) {
        size_t elems = a->bytes / sizeof(float);
        if (cb->rep == CU_REP_CAPTURE) cb->rep_tainted = true;
        void *p = NULL;
        cudaError_t e = cudaMalloc(&p, elems * sizeof(uint16_t));
        if (e != cudaSuccess) {
            nomem(cb, elems * sizeof(uint16_t), "the bf16 copy of the weights");
            return NULL;
        }
        a->shadow = p;
        count_internal(cb, elems * sizeof(uint16_t));
        a->dirty_lo = 0;
        a->dirty_hi = elems;
    }
    refresh_shadow(cb, a);
    return a->shadow + ((const char *)w - a->base) / sizeof(float);
}

uint16_t *cu_shadow_of(struct cuda_be *cb, const float *p) {
    struct cu_alloc *a = find_alloc(cb, p);
    if (!a || !a->shadow) return NULL;
    return a->shadow + ((const char *)p - a->base) / sizeof(float);
}

void cu_note_write(struct cuda_be *cb, const void *p, size_t bytes) {
    struct cu_alloc *a = find_alloc(cb, p);
    if (!a || !a->shadow || bytes == 0) return;
    size_t lo = (size_t)((const char *)p - a->base) / sizeof(float);
    size_t hi = ((size_t)((const char *)p - a->base) + bytes + sizeof(float) - 1) / sizeof(float);
    if (hi > a->bytes / sizeof(float)) hi = a->bytes / sizeof(float);
    if (a->dirty_lo >= a->dirty_hi) {
        a->dirty_lo = lo;
        a->dirty_hi = hi;
    } else {
        if (lo < a->dirty_lo) a->dirty_lo = lo;
        if (hi > a->dirty_hi) a->dirty_hi = hi;
    }
}

/* ---------------------------------------------------------------------------------------------------- */
/* Graphs                                                                                                */

static void graph_drop(struct cuda_be *cb, int i) {
    struct cu_graph *g = &cb->graphs[i];
    cudaGraphExecDestroy(g->exec); /* freed once any launch in flight completes */
    free(g->trace);
    cb->graphs[i] = cb->graphs[--cb->n_graphs];
}

static void graphs_drop_all(struct cuda_be *cb) {
    while (cb->n_graphs > 0) graph_drop(cb, cb->n_graphs - 1);
}

/* Drops every graph whose arguments point into [p, p + bytes). */
static void graphs_drop_using(struct cuda_be *cb, const void *p, size_t bytes) {
    uint64_t lo = CU_ARG(p), hi = lo + bytes;
    for (int i = cb->n_graphs - 1; i >= 0; i--) {
        const struct cu_graph *g = &cb->graphs[i];
        for (size_t k = 0; k < g->n_trace; k++)
            if (g->trace[k] >= lo && g->trace[k] < hi) {
                graph_drop(cb, i);
                break;
            }
    }
}

static bool trace_append(struct cuda_be *cb, uint64_t v) {
    if (cb->n_trace == cb->cap_trace) {
        size_t cap = cb->cap_trace ? cb->cap_trace * 2 : 4096;
        uint64_t *t = realloc(cb->trace, cap * sizeof *t);
        if (!t) {
            cb->rep_tainted = true; /* keep running; this capture just is not kept */
            return false;
        }
        cb->trace = t;
        cb->cap_trace = cap;
    }
    cb->trace[cb->n_trace++] = v;
    return true;
}

static void diverged(struct cuda_be *cb, uint32_t op) {
    if (!cb->rep_diverged)
        cu_fail(cb, STATUS_DEVICE, "set R1LAB_CUDA_GRAPHS=0 to run without CUDA graphs, and report this",
                "CUDA graph replay: op %u of a repeat section differs from the captured one (internal error)", op);
    cb->rep_diverged = true;
}

bool cu_trace(struct cuda_be *cb, uint32_t op, size_t n, const uint64_t *args) {
    uint64_t head = (uint64_t)op << 32 | (uint64_t)n;
    if (cb->rep == CU_REP_CAPTURE) {
        if (trace_append(cb, head))
            for (size_t i = 0; i < n; i++)
                if (!trace_append(cb, args[i])) break;
        return false;
    }
    if (cb->rep != CU_REP_REPLAY) return false;
    if (cb->rep_diverged) return true;
    const struct cu_graph *g = cb->rep_graph;
    if (cb->rep_cursor + 1 + n > g->n_trace || g->trace[cb->rep_cursor] != head ||
        memcmp(g->trace + cb->rep_cursor + 1, args, n * sizeof *args) != 0) {
        diverged(cb, op);
        return true;
    }
    cb->rep_cursor += 1 + n;
    return true;
}

static bool seen_before(struct cuda_be *cb, uint64_t key) {
    for (int i = 0; i < CU_SEEN_KEYS; i++)
        if (cb->seen[i] == key && key != 0) return true;
    cb->seen[cb->seen_next] = key;
    cb->seen_next = (cb->seen_next + 1) % CU_SEEN_KEYS;
    return false;
}

static void flush_all_shadows(struct cuda_be *cb) {
    for (size_t i = 0; i < cb->n_allocs; i++)
        if (cb->allocs[i].shadow) refresh_shadow(cb, &cb->allocs[i]);
}

void cu_repeat_begin(struct backend *be, uint64_t key) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    if (cb->rep != CU_REP_NONE) {
        cu_fail(cb, STATUS_INVALID, "internal error", "CUDA backend: nested repeat sections");
        return;
    }
    cb->rep = CU_REP_EAGER;
    if (!cb->graphs_enabled || cb->err != STATUS_OK) return;
    if (cb->inflight) cu_sync(cb); /* the last replay may still be reading the step region */
    flush_all_shadows(cb);         /* so that no weight conversion lands inside a graph */
    cb->step_pos = 0;
    cb->n_step_hits = 0;
    cb->rep_key = key;
    cb->rep_tainted = cb->rep_diverged = false;
    cb->rep_pending_mark = cb->n_pending;
    cb->rep_capture_failed = false;
    for (int i = 0; i < cb->n_graphs; i++) {
        if (cb->graphs[i].key != key) continue;
        if (cb->graphs[i].gen != cb->scratch_gen) { /* a scratch buffer it uses has moved */
            graph_drop(cb, i);
            break;
        }
        cb->rep = CU_REP_REPLAY;
        cb->rep_graph = &cb->graphs[i];
        cb->rep_cursor = 0;
        cb->graphs[i].last_use = ++cb->use_clock;
        return;
    }
    if (!seen_before(cb, key)) return; /* a step shape that may never recur: not worth a capture yet */
    cb->n_trace = 0;
    cudaError_t e = cudaStreamBeginCapture(cb->stream, cudaStreamCaptureModeRelaxed);
    if (e != cudaSuccess) {
        cudaGetLastError();
        cb->graphs_enabled = false;
        char msg[256];
        snprintf(msg, sizeof msg, "CUDA graphs unavailable (%s); decoding without them", cudaGetErrorString(e));
        cb->host->log(LOG_WARN, msg);
        return;
    }
    cb->rep = CU_REP_CAPTURE;
}

static void keep_graph(struct cuda_be *cb, cudaGraphExec_t exec) {
    if (cb->n_graphs == CU_MAX_GRAPHS) { /* evict the least recently used */
        int lru = 0;
        for (int i = 1; i < cb->n_graphs; i++)
            if (cb->graphs[i].last_use < cb->graphs[lru].last_use) lru = i;
        graph_drop(cb, lru);
    }
    uint64_t *trace = malloc(cb->n_trace * sizeof *trace + 1);
    if (!trace) {
        cudaGraphExecDestroy(exec);
        return;
    }
    memcpy(trace, cb->trace, cb->n_trace * sizeof *trace);
    cb->graphs[cb->n_graphs++] = (struct cu_graph){.key = cb->rep_key,
                                                   .gen = cb->scratch_gen,
                                                   .last_use = ++cb->use_clock,
                                                   .exec = exec,
                                                   .trace = trace,
                                                   .n_trace = cb->n_trace};
}

bool cu_repeat_end(struct backend *be) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb); /* deferred work of the section belongs to it (and to its graph) */
    enum cu_repeat_mode mode = cb->rep;
    cb->rep = CU_REP_NONE;
    if (mode == CU_REP_CAPTURE) {
        cudaGraph_t graph = NULL;
        cudaError_t e = cudaStreamEndCapture(cb->stream, &graph);
        cudaGraphExec_t exec = NULL;
        if (e == cudaSuccess && cb->err == STATUS_OK) e = cudaGraphInstantiate(&exec, graph, 0);
        if (e == cudaSuccess && cb->err == STATUS_OK) e = cudaGraphLaunch(exec, cb->stream);
        if (graph) cudaGraphDestroy(graph);
        if (exec && (e != cudaSuccess || cb->err != STATUS_OK)) cudaGraphExecDestroy(exec);
        if (cb->err != STATUS_OK) { /* an op of the section failed: that error is the step's */
            cudaGetLastError();
            cb->graphs_enabled = false;
            return true;
        }
        if (e == cudaSuccess && cb->rep_capture_failed) e = cudaErrorStreamCaptureInvalidated;
        if (e != cudaSuccess) {
            /* The capture failed, so nothing of the step ran: drop the host copies it queued, decode without
             * graphs from now on, and have the caller run the step again op by op (weight shadows are then
             * converted again, since a conversion captured into the lost graph never ran). */
            cudaGetLastError();
            cb->n_pending = cb->rep_pending_mark;
            /* A shadow refreshed (or created) during the capture was marked current by work that never ran. */
            for (size_t i = 0; i < cb->n_allocs; i++)
                if (cb->allocs[i].shadow) {
                    cb->allocs[i].dirty_lo = 0;
                    cb->allocs[i].dirty_hi = cb->allocs[i].bytes / sizeof(float);
                }
            cb->graphs_enabled = false;
            graphs_drop_all(cb);
            char msg[256];
            snprintf(msg, sizeof msg, "CUDA graph capture of a decode step failed (%s); decoding without graphs",
                     cudaGetErrorString(e));
            cb->host->log(LOG_WARN, msg);
            return false;
        }
        cb->graphs_captured++;
        cb->inflight = true;
        if (cb->rep_tainted) { /* it may use buffers that were replaced during the capture: run once only */
            cu_sync(cb);
            cudaGraphExecDestroy(exec);
        } else {
            keep_graph(cb, exec);
        }
    } else if (mode == CU_REP_REPLAY) {
        if (cb->rep_diverged) {
            graphs_drop_all(cb);
            cb->graphs_enabled = false;
            return true;
        }
        if (cb->rep_cursor != cb->rep_graph->n_trace) {
            diverged(cb, 0);
            graphs_drop_all(cb);
            cb->graphs_enabled = false;
            return true;
        }
        if (CU_OK(cb, cudaGraphLaunch(cb->rep_graph->exec, cb->stream), "CUDA graph launch")) {
            cb->graphs_replayed++;
            cb->inflight = true;
        }
    }
    return true;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Staging, scratch                                                                                      */

/* Grows the ring to hold at least `need` bytes (synchronising first). */
static bool ring_grow(struct cuda_be *cb, size_t need) {
    cu_sync(cb);
    size_t cap = cb->ring_cap;
    while (cap < need) cap *= 2;
    char *h = NULL, *d = NULL;
    if (cudaMallocHost((void **)&h, cap) != cudaSuccess || cudaMalloc((void **)&d, cap) != cudaSuccess) {
        cudaGetLastError();
        if (h) cudaFreeHost(h);
        nomem(cb, cap, "staging buffers");
        return false;
    }
    cudaFreeHost(cb->ring_host);
    cudaFree(cb->ring_dev);
    count_internal(cb, 2 * (cap - cb->ring_cap)); /* host and device halves */
    cb->ring_host = h;
    cb->ring_dev = d;
    cb->ring_cap = cap;
    cb->ring_pos = 0;
    memset(cb->hits, 0, sizeof cb->hits);
    return true;
}

/* Offset of `bytes` of ring space, usable once everything staged before has been consumed; SIZE_MAX on failure. */
static size_t ring_take(struct cuda_be *cb, size_t bytes) {
    size_t need = align256(bytes ? bytes : 1);
    /* Deferred work may read staged arrays: enqueue it before the ring is reused (it clears itself first, so
     * staging done by the flush cannot recurse into this). */
    if (cb->deferred.kind != CU_DEFER_NONE && (need > cb->ring_cap || cb->ring_pos + need > cb->ring_cap))
        cu_flush_deferred(cb);
    if (need > cb->ring_cap && !ring_grow(cb, need)) return SIZE_MAX;
    if (cb->ring_pos + need > cb->ring_cap) {
        cu_sync(cb); /* everything that read the ring has finished */
        cb->ring_pos = 0;
        memset(cb->hits, 0, sizeof cb->hits);
    }
    size_t off = cb->ring_pos;
    cb->ring_pos += need;
    return off;
}

/* Step region space for a repeat section: the same offsets every time the same ops run. */
static size_t step_take(struct cuda_be *cb, size_t bytes) {
    size_t need = align256(bytes ? bytes : 1);
    if (cb->step_pos + need > cb->step_cap) {
        cu_fail(cb, STATUS_INVALID, "internal error", "CUDA backend: a repeat section stages more than %zu bytes",
                cb->step_cap);
        return SIZE_MAX;
    }
    size_t off = cb->step_pos;
    cb->step_pos += need;
    return off;
}

enum { OP_STAGE = 1000, OP_DOWNLOAD = 1001 };

static const void *step_stage(struct cuda_be *cb, const void *host, size_t bytes) {
    for (int i = 0; i < cb->n_step_hits; i++) /* the same array again within one step: contents unchanged */
        if (cb->step_hits[i].host == host && cb->step_hits[i].bytes == bytes) {
            uint64_t a[] = {bytes, (uint64_t)i};
            cu_trace(cb, OP_STAGE, 2, a);
            return cb->step_hits[i].dev;
        }
    size_t off = step_take(cb, bytes);
    if (off == SIZE_MAX) return NULL;
    uint64_t a[] = {bytes, 1000000 + off};
    cu_trace(cb, OP_STAGE, 2, a);
    memcpy(cb->step_host + off, host, bytes);
    if (cb->rep == CU_REP_CAPTURE)
        CU_OK(cb, cudaMemcpyAsync(cb->step_dev + off, cb->step_host + off, bytes, cudaMemcpyHostToDevice, cb->stream),
              "stage host array");
    if (cb->n_step_hits < CU_STAGE_HITS)
        cb->step_hits[cb->n_step_hits++] =
            (struct cu_stage_hit){.host = host, .bytes = bytes, .pin = cb->step_host + off, .dev = cb->step_dev + off};
    return cb->step_dev + off;
}

const void *cu_stage(struct cuda_be *cb, const void *host, size_t bytes) {
    if (cb->rep == CU_REP_CAPTURE || cb->rep == CU_REP_REPLAY) return step_stage(cb, host, bytes);
    if (bytes == 0) return cb->ring_dev;
    for (int i = 0; i < CU_STAGE_HITS; i++) { /* unchanged since it was last staged: reuse the device copy */
        const struct cu_stage_hit *h = &cb->hits[i];
        if (h->host == host && h->bytes == bytes && memcmp(h->pin, host, bytes) == 0) return h->dev;
    }
    size_t off = ring_take(cb, bytes);
    if (off == SIZE_MAX) return NULL;
    memcpy(cb->ring_host + off, host, bytes);
    if (!CU_OK(cb, cudaMemcpyAsync(cb->ring_dev + off, cb->ring_host + off, bytes, cudaMemcpyHostToDevice, cb->stream),
               "stage host array"))
        return NULL;
    cb->hits[cb->next_hit] =
        (struct cu_stage_hit){.host = host, .bytes = bytes, .pin = cb->ring_host + off, .dev = cb->ring_dev + off};
    cb->next_hit = (cb->next_hit + 1) % CU_STAGE_HITS;
    return cb->ring_dev + off;
}

void cu_download_async(struct cuda_be *cb, void *dst, const void *dev, size_t bytes, bool tokens) {
    if (bytes == 0) return;
    if (cb->n_pending == CU_MAX_PENDING) {
        if (!cu_outside_repeat(cb, "a download queue overflow")) return;
        cu_sync(cb);
    }
    char *pin;
    if (cb->rep == CU_REP_CAPTURE || cb->rep == CU_REP_REPLAY) {
        size_t off = step_take(cb, bytes);
        if (off == SIZE_MAX) return;
        uint64_t a[] = {bytes, off};
        cu_trace(cb, OP_DOWNLOAD, 2, a);
        pin = cb->step_host + off;
        if (cb->rep == CU_REP_CAPTURE)
            CU_OK(cb, cudaMemcpyAsync(pin, dev, bytes, cudaMemcpyDeviceToHost, cb->stream), "download");
    } else {
        size_t off = ring_take(cb, bytes);
        if (off == SIZE_MAX) return;
        pin = cb->ring_host + off;
        CU_OK(cb, cudaMemcpyAsync(pin, dev, bytes, cudaMemcpyDeviceToHost, cb->stream), "download");
    }
    cb->pending[cb->n_pending++] = (struct cu_pending){.dst = dst, .src = pin, .bytes = bytes, .tokens = tokens};
}

/* ---------------------------------------------------------------------------------------------------- */
/* Deferred ops (fusions; see cuda_backend.h)                                                            */

void cu_flush_deferred(struct cuda_be *cb) {
    struct cu_deferred d = cb->deferred;
    if (d.kind == CU_DEFER_NONE) return;
    cb->deferred.kind = CU_DEFER_NONE;
    switch (d.kind) {
    case CU_DEFER_ADD:
        cu_launched(cb, arith_add(d.out, d.a, d.b, d.n, cb->stream), "add");
        break;
    case CU_DEFER_ROPE:
        cu_launched(cb, rope_apply(d.qkv, d.dpos, d.cos_t, d.sin_t, d.N, d.NH, d.NKV, d.HS, d.inverse, cb->stream),
                    "rope");
        break;
    case CU_DEFER_COPIES: {
        struct copy_plan *p = cb->copies;
        const struct copy_desc *dd = cu_stage(cb, p->d, sizeof *p->d * (size_t)p->n);
        if (dd) cu_launched(cb, copy_batch(dd, p->n, p->max_bytes, cb->stream), "copy (a batch of copies)");
        copy_plan_clear(p);
        break;
    }
    case CU_DEFER_NONE:
        break;
    }
}

/* Defers freeing p to the next synchronisation. */
static bool graveyard_push(struct cuda_be *cb, void *p) {
    if (cb->n_grave == cb->cap_grave) {
        size_t cap = cb->cap_grave ? cb->cap_grave * 2 : 16;
        void **g = realloc(cb->graveyard, cap * sizeof *g);
        if (!g) {
            cu_fail(cb, STATUS_NOMEM, NULL, "CUDA backend: cannot grow the list of buffers to free");
            return false;
        }
        cb->graveyard = g;
        cb->cap_grave = cap;
    }
    cb->graveyard[cb->n_grave++] = p;
    return true;
}

void *cu_scratch(struct cuda_be *cb, enum cu_scratch slot, size_t bytes) {
    if (cb->scratch[slot] && cb->scratch_cap[slot] >= bytes) return cb->scratch[slot];
    size_t cap = cb->scratch_cap[slot] * 3 / 2;
    if (cap < bytes) cap = bytes;
    cap = (cap + ((size_t)1 << 20) - 1) & ~(((size_t)1 << 20) - 1);
    if (cb->scratch[slot]) {
        if (cb->rep == CU_REP_NONE || cb->rep == CU_REP_EAGER) {
            cu_sync(cb);
            cudaFree(cb->scratch[slot]);
        } else if (!graveyard_push(cb, cb->scratch[slot])) { /* captured work still refers to it */
            return NULL;
        }
        cb->bytes_internal -= cb->scratch_cap[slot];
        cb->scratch[slot] = NULL;
        cb->scratch_cap[slot] = 0;
    }
    if (cb->rep == CU_REP_CAPTURE) cb->rep_tainted = true;
    void *p = NULL;
    if (cudaMalloc(&p, cap) != cudaSuccess) {
        cudaGetLastError();
        nomem(cb, cap, "scratch");
        return NULL;
    }
    cb->scratch[slot] = p;
    cb->scratch_cap[slot] = cap;
    cb->scratch_gen++;
    count_internal(cb, cap);
    return p;
}

int32_t *cu_host_ints(struct cuda_be *cb, size_t n) {
    if (cb->host_i32_cap >= n) return cb->host_i32;
    int32_t *p = realloc(cb->host_i32, n * sizeof *p);
    if (!p) {
        cu_fail(cb, STATUS_NOMEM, NULL, "CUDA backend: cannot allocate %zu bytes of host scratch", n * sizeof *p);
        return NULL;
    }
    cb->host_i32 = p;
    cb->host_i32_cap = n;
    return p;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Memory ops                                                                                            */

enum status cu_alloc(struct backend *be, size_t bytes, void **out) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    *out = NULL;
    if (cb->rep == CU_REP_CAPTURE || cb->rep == CU_REP_REPLAY)
        return cb->host->error(STATUS_INVALID, "CUDA backend: alloc inside a repeat section (internal error)", "");
    if (cb->n_allocs == cb->cap_allocs) {
        size_t cap = cb->cap_allocs ? cb->cap_allocs * 2 : 64;
        struct cu_alloc *t = realloc(cb->allocs, cap * sizeof *t);
        if (!t) return cb->host->error(STATUS_NOMEM, "CUDA backend: cannot grow the allocation table", "");
        cb->allocs = t;
        cb->cap_allocs = cap;
    }
    size_t rounded = align256(bytes ? bytes : 1);
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, rounded);
    if (e != cudaSuccess) {
        cudaGetLastError();
        size_t fr = 0, tot = 0;
        cudaMemGetInfo(&fr, &tot);
        char msg[400];
        snprintf(msg, sizeof msg,
                 "CUDA: cannot allocate %.1f MiB on %s (%.1f MiB free of %.1f GiB; r1lab holds %.2f GiB)", mib(rounded),
                 cb->be.name, mib(fr), gib(tot), gib(cb->bytes_alloc + cb->bytes_internal));
        return cb->host->error(e == cudaErrorMemoryAllocation ? STATUS_NOMEM : STATUS_DEVICE, msg, "");
    }
    if (!CU_OK(cb, cudaMemsetAsync(p, 0, rounded, cb->stream), "zero new buffer")) {
        cudaFree(p);
        return cu_check(be);
    }
    /* insert sorted by base */
    size_t at = cb->n_allocs;
    while (at > 0 && cb->allocs[at - 1].base > (char *)p) at--;
    memmove(&cb->allocs[at + 1], &cb->allocs[at], (cb->n_allocs - at) * sizeof *cb->allocs);
    cb->allocs[at] = (struct cu_alloc){.base = p, .bytes = rounded};
    cb->n_allocs++;
    cb->bytes_alloc += rounded;
    count_internal(cb, 0);
    *out = p;
    return STATUS_OK;
}

void cu_free(struct backend *be, void *p) {
    struct cuda_be *cb = cu_of(be);
    if (!p) return;
    cu_enter(cb);
    if (!cu_outside_repeat(cb, "free")) return;
    struct cu_alloc *a = find_alloc(cb, p);
    if (!a || a->base != (char *)p) {
        cu_fail(cb, STATUS_INVALID, "internal error", "CUDA backend: free of %p, which ->alloc did not return", p);
        return;
    }
    graphs_drop_using(cb, a->base, a->bytes);
    cu_sync(cb); /* queued work may still use it */
    cudaFree(a->base);
    if (a->shadow) {
        cudaFree(a->shadow);
        cb->bytes_internal -= a->bytes / 2;
    }
    cb->bytes_alloc -= a->bytes;
    size_t at = (size_t)(a - cb->allocs);
    memmove(&cb->allocs[at], &cb->allocs[at + 1], (cb->n_allocs - at - 1) * sizeof *cb->allocs);
    cb->n_allocs--;
}

void cu_upload(struct backend *be, void *dst, const void *src, size_t bytes) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    if (bytes == 0 || !cu_outside_repeat(cb, "upload")) return;
    cu_note_write(cb, dst, bytes);
    if (bytes <= UPLOAD_STAGED_MAX) { /* through pinned memory: asynchronous, and src is free on return */
        size_t off = ring_take(cb, bytes);
        if (off == SIZE_MAX) return;
        memcpy(cb->ring_host + off, src, bytes);
        CU_OK(cb, cudaMemcpyAsync(dst, cb->ring_host + off, bytes, cudaMemcpyHostToDevice, cb->stream), "upload");
        return;
    }
    if (CU_OK(cb, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, cb->stream), "upload")) cu_sync(cb);
}

void cu_download(struct backend *be, void *dst, const void *src, size_t bytes) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    if (bytes == 0 || !cu_outside_repeat(cb, "download")) return;
    CU_OK(cb, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cb->stream), "download");
    cu_sync(cb);
}

#define COPY_BATCH_MAX_BYTES ((size_t)4 << 20) /* larger copies go to the copy engine one by one */

void cu_copy(struct backend *be, void *dst, const void *src, size_t bytes) {
    struct cuda_be *cb = cu_of(be);
    cu_enter_fusing(cb);
    if (cb->deferred.kind != CU_DEFER_COPIES) cu_flush_deferred(cb);
    if (bytes == 0) return;
    uint64_t a[] = {CU_ARG(dst), CU_ARG(src), bytes};
    if (cu_trace(cb, 1, 3, a)) return;
    cu_note_write(cb, dst, bytes);
    uint64_t d = CU_ARG(dst), s = CU_ARG(src);
    if (copy_plan_overlap(d, bytes, s, bytes)) { /* memmove, as on the CPU: through scratch */
        cu_flush_deferred(cb);
        void *tmp = cu_scratch(cb, CU_SCR_COPY, bytes);
        if (tmp && CU_OK(cb, cudaMemcpyAsync(tmp, src, bytes, cudaMemcpyDeviceToDevice, cb->stream), "copy"))
            CU_OK(cb, cudaMemcpyAsync(dst, tmp, bytes, cudaMemcpyDeviceToDevice, cb->stream), "copy");
        return;
    }
    if (cb->fuse && cb->copies && bytes < COPY_BATCH_MAX_BYTES && (cb->rep == CU_REP_NONE || cb->rep == CU_REP_EAGER)) {
        if (!copy_plan_fits(cb->copies, d, s, bytes)) cu_flush_deferred(cb); /* it depends on the batch */
        copy_plan_add(cb->copies, d, s, bytes);
        cb->deferred.kind = CU_DEFER_COPIES;
        return;
    }
    cu_flush_deferred(cb);
    CU_OK(cb, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, cb->stream), "copy");
}

void cu_zero(struct backend *be, void *p, size_t bytes) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    if (bytes == 0) return;
    uint64_t a[] = {CU_ARG(p), bytes};
    if (cu_trace(cb, 2, 2, a)) return;
    cu_note_write(cb, p, bytes);
    CU_OK(cb, cudaMemsetAsync(p, 0, bytes, cb->stream), "zero");
}

enum status cu_check(struct backend *be) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    if (cu_outside_repeat(cb, "check")) {
        cu_sync(cb);
        CU_OK(cb, cudaGetLastError(), "after synchronize");
    }
    enum status st = cb->err;
    if (st != STATUS_OK) {
        cb->host->error(st, cb->err_msg, cb->err_hint);
        cb->err = STATUS_OK;
        cb->err_msg[0] = cb->err_hint[0] = '\0';
    }
    return st;
}

void cu_memory(struct backend *be, struct backend_memory *out) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    size_t fr = 0, tot = 0;
    if (cudaMemGetInfo(&fr, &tot) != cudaSuccess) {
        cudaGetLastError();
        tot = cb->total_mem;
    }
    *out = (struct backend_memory){.valid = true,
                                   .total = tot,
                                   .free = fr,
                                   .in_use = cb->bytes_alloc + cb->bytes_internal,
                                   .peak = cb->bytes_peak};
}

/* ---------------------------------------------------------------------------------------------------- */
/* Lifetime                                                                                              */

void cu_close(struct backend *be) {
    struct cuda_be *cb = cu_of(be);
    cu_enter(cb);
    cudaStreamSynchronize(cb->stream);
    if (cb->graphs_captured > 0 || cb->bytes_peak > 0) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "CUDA backend: %ld decode-step graphs captured, %ld replays; peak device memory %.2f GiB",
                 cb->graphs_captured, cb->graphs_replayed, gib(cb->bytes_peak));
        cb->host->log(LOG_DEBUG, msg);
    }
    cu_comm_free(cb); /* the stream has drained: nothing of NCCL's is left on it */
    graphs_drop_all(cb);
    free_graveyard(cb);
    for (int i = 0; i < cb->n_lt_plans; i++) {
        struct cu_lt_plan *p = &cb->lt_plans[i];
        if (p->op) cublasLtMatmulDescDestroy(p->op);
        if (p->a) cublasLtMatrixLayoutDestroy(p->a);
        if (p->b) cublasLtMatrixLayoutDestroy(p->b);
        if (p->c) cublasLtMatrixLayoutDestroy(p->c);
    }
    if (cb->lt) cublasLtDestroy(cb->lt);
    for (size_t i = 0; i < cb->n_allocs; i++) { /* buffers the engine did not free */
        cudaFree(cb->allocs[i].base);
        if (cb->allocs[i].shadow) cudaFree(cb->allocs[i].shadow);
    }
    for (int i = 0; i < CU_SCR_COUNT; i++)
        if (cb->scratch[i]) cudaFree(cb->scratch[i]);
    if (cb->ring_host) cudaFreeHost(cb->ring_host);
    if (cb->ring_dev) cudaFree(cb->ring_dev);
    if (cb->step_host) cudaFreeHost(cb->step_host);
    if (cb->step_dev) cudaFree(cb->step_dev);
    if (cb->blas) cublasDestroy(cb->blas);
    if (cb->blas_ws) cudaFree(cb->blas_ws);
    if (cb->stream) cudaStreamDestroy(cb->stream);
    free(cb->allocs);
    free(cb->graveyard);
    free(cb->trace);
    free(cb->host_i32);
    free(cb->copies);
    free(cb);
}

static bool env_flag(const char *name, bool dflt) {
    const char *v = getenv(name);
    if (!v || !v[0]) return dflt;
    return !(strcmp(v, "0") == 0 || strcmp(v, "no") == 0 || strcmp(v, "off") == 0 || strcmp(v, "false") == 0);
}

/* Opens device `device`; on failure everything made so far is released and the message names the cause. */
static enum status open_device(const struct backend_host *host, struct cuda_be *cb, int device) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
        cudaGetLastError();
        return host->error(STATUS_DEVICE, "no CUDA device", "nvidia-smi lists the devices the driver sees");
    }
    if (e == cudaErrorInsufficientDriver) {
        cudaGetLastError();
        int rt = 0;
        cudaRuntimeGetVersion(&rt);
        char msg[256];
        snprintf(msg, sizeof msg, "no CUDA driver: libcuda.so.1 is missing or older than this CUDA runtime (%d.%d)",
                 rt / 1000, rt % 1000 / 10);
        return host->error(STATUS_DEVICE, msg, "install the NVIDIA driver, or use --device cpu");
    }
    if (e != cudaSuccess) {
        cudaGetLastError();
        char msg[256];
        snprintf(msg, sizeof msg, "CUDA runtime cannot list devices: %s (%s)", cudaGetErrorString(e),
                 cudaGetErrorName(e));
        return host->error(STATUS_DEVICE, msg, "");
    }
    if (device < 0 || device >= count) {
        char msg[128];
        snprintf(msg, sizeof msg, "CUDA device %d does not exist (this machine has %d)", device, count);
        return host->error(STATUS_INVALID, msg, "use cuda:0 .. cuda:N-1");
    }
    struct cudaDeviceProp prop;
    if ((e = cudaSetDevice(device)) != cudaSuccess || (e = cudaGetDeviceProperties(&prop, device)) != cudaSuccess) {
        cudaGetLastError();
        char msg[512];
        snprintf(msg, sizeof msg, "CUDA device %d: %s", device, cudaGetErrorString(e));
        return host->error(STATUS_DEVICE, msg, "");
    }
    if ((e = convert_probe()) != cudaSuccess) {
        cudaGetLastError();
        char msg[512];
        snprintf(msg, sizeof msg, "%s has no kernels for %s (compute capability %d.%d): %s", R1LAB_CUDA_LIBNAME,
                 prop.name, prop.major, prop.minor, cudaGetErrorString(e));
        char hint[160];
        snprintf(hint, sizeof hint, "rebuild with make CUDA_ARCH=\"-gencode arch=compute_%d%d,code=sm_%d%d\"",
                 prop.major, prop.minor, prop.major, prop.minor);
        return host->error(STATUS_UNSUPPORTED, msg, hint);
    }
    if (prop.major < 8)
        return host->error(STATUS_UNSUPPORTED, "the CUDA backend needs compute capability 8.0 or newer (bf16)", "");
    cb->device = device;
    cb->sm_count = prop.multiProcessorCount;
    cb->total_mem = prop.totalGlobalMem;
    cb->thread = pthread_self();
    cb->thread_set = true;
    const char *what = "creating the stream";
    if ((e = cudaStreamCreateWithFlags(&cb->stream, cudaStreamNonBlocking)) != cudaSuccess) goto cuda_fail;
    what = "allocating staging buffers";
    cb->ring_cap = RING_BYTES;
    cb->step_cap = STEP_BYTES;
    if ((e = cudaMallocHost((void **)&cb->ring_host, cb->ring_cap)) != cudaSuccess) goto cuda_fail;
    if ((e = cudaMalloc((void **)&cb->ring_dev, cb->ring_cap)) != cudaSuccess) goto cuda_fail;
    if ((e = cudaMallocHost((void **)&cb->step_host, cb->step_cap)) != cudaSuccess) goto cuda_fail;
    if ((e = cudaMalloc((void **)&cb->step_dev, cb->step_cap)) != cudaSuccess) goto cuda_fail;
    if ((e = cudaMalloc(&cb->blas_ws, CU_BLAS_WS_BYTES)) != cudaSuccess) goto cuda_fail;
    count_internal(cb, 2 * cb->ring_cap + 2 * cb->step_cap + CU_BLAS_WS_BYTES);
    cublasStatus_t bs = cublasCreate(&cb->blas);
    if (bs == CUBLAS_STATUS_SUCCESS) bs = cublasSetStream(cb->blas, cb->stream);
    /* An explicit workspace: cuBLAS then never allocates by itself, which graph capture requires. */
    if (bs == CUBLAS_STATUS_SUCCESS) bs = cublasSetWorkspace(cb->blas, cb->blas_ws, CU_BLAS_WS_BYTES);
    if (bs != CUBLAS_STATUS_SUCCESS) {
        char msg[200];
        snprintf(msg, sizeof msg, "cuBLAS initialisation failed: %s", cublasGetStatusString(bs));
        return host->error(STATUS_DEVICE, msg, "");
    }
    const char *mm = getenv("R1LAB_CUDA_MATMUL");
    cb->fp32_matmul = mm && strcmp(mm, "fp32") == 0;
    cb->sync_each_op = env_flag("R1LAB_CUDA_SYNC", false);
    cb->graphs_enabled = env_flag("R1LAB_CUDA_GRAPHS", true);
    cb->fuse = env_flag("R1LAB_CUDA_FUSE", true) && !cb->sync_each_op;
    cb->copies = calloc(1, sizeof *cb->copies); /* without it copies simply run one by one */
    cb->be.repeat_rows_quantum = 8; /* also without graphs: the same shapes, so the same rounding either way */
    if (cublasLtCreate(&cb->lt) != CUBLAS_STATUS_SUCCESS) cb->lt = NULL; /* biases then go the plain way */
    const char *chunk = getenv("R1LAB_CUDA_LM_CHUNK_MB");
    long mb = chunk ? strtol(chunk, NULL, 10) : 0;
    cb->lm_chunk_bytes = (size_t)(mb > 0 ? mb : 512) << 20;
    char name[400];
    snprintf(name, sizeof name, "CUDA %d: %s (%.0f GiB, sm_%d%d, %s GEMMs%s%s)", device, prop.name,
             gib(prop.totalGlobalMem), prop.major, prop.minor, cb->fp32_matmul ? "fp32" : "bf16",
             cb->graphs_enabled ? ", graphs" : "", cb->fuse ? ", fused" : "");
    size_t len = strlen(name) < sizeof cb->be.name - 1 ? strlen(name) : sizeof cb->be.name - 1;
    memcpy(cb->be.name, name, len);
    cb->be.name[len] = '\0';
    return STATUS_OK;
cuda_fail:;
    cudaGetLastError();
    char msg[512];
    snprintf(msg, sizeof msg, "CUDA device %d (%s): %s: %s", device, prop.name, what, cudaGetErrorString(e));
    return host->error(e == cudaErrorMemoryAllocation ? STATUS_NOMEM : STATUS_DEVICE, msg, "");
}

__attribute__((visibility("default"))) enum status r1lab_cuda_backend_open(const struct backend_host *host,
                                                                           struct backend **out, int device) {
    *out = NULL;
    if (!host) return STATUS_UNSUPPORTED;
    if (host->abi != R1LAB_BACKEND_ABI) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s was built for backend interface %d, this r1lab uses %d", R1LAB_CUDA_LIBNAME,
                 R1LAB_BACKEND_ABI, host->abi);
        return host->error(STATUS_UNSUPPORTED, msg, "rebuild r1lab and the library together (make)");
    }
    struct cuda_be *cb = calloc(1, sizeof *cb);
    if (!cb) return host->error(STATUS_NOMEM, "cannot allocate the CUDA backend", "");
    cb->host = host;
    cb->be.ops = &cuda_ops_table;
    cb->be.kind = BACKEND_CUDA;
    cb->be.threads = 1;
    cb->be.sample_on_device = true;
    cb->be.impl = cb;
    enum status st = open_device(host, cb, device);
    if (st != STATUS_OK) {
        if (cb->stream)
            cu_close(&cb->be);
        else
            free(cb);
        return st;
    }
    *out = &cb->be;
    return STATUS_OK;
}
