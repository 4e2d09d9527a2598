/* cuda_comm: NCCL behind the CUDA backend's comm_* slots (cuda_comm.h): a communicator id made on rank 0, the
 * communicator of the run's ranks (one GPU each: the device this backend was opened on), and the in-place fp32
 * sum of the gradient over them. It does not choose devices, exchange the id (the engine does that over MPI) or
 * average (the engine scales afterwards).
 *
 * Loading. libnccl.so.2 is opened once per process, RTLD_LOCAL, and never closed (NCCL keeps threads running),
 * the first time a communicator is asked for: from $R1LAB_NCCL_LIB alone when it is set (the file, or a directory
 * holding it), else through the dynamic linker's own search (LD_LIBRARY_PATH, this library's run path, which is
 * the lib64 of the toolkit it was built with, ld.so.cache), then the directory of the CUDA runtime this library
 * runs with, $CUDA_HOME/lib64, $CUDA_PATH/lib64 and /usr/local/cuda/lib64. Only the calls below are looked up;
 * NCCL 2.14 or newer is needed (non-blocking communicators). Where it cannot be loaded every comm_* call fails
 * with STATUS_UNSUPPORTED naming libnccl.so.2 and how to get it; the rest of the backend is unaffected.
 *
 * Never hanging. The communicator is non-blocking (ncclConfig_t.blocking = 0): ncclCommInitRankConfig and
 * ncclAllReduce return at once, and the calls here poll ncclCommGetAsyncError (and, for the all-reduce,
 * cudaStreamQuery on the backend's stream) until the work is done, an error shows or the caller's timeout has
 * passed. On a timeout or an NCCL error the communicator is aborted (ncclCommAbort also ends NCCL kernels that
 * wait on the device for a peer) and dropped, and the call returns STATUS_PEER (STATUS_DEVICE / STATUS_INVALID for
 * local failures) with a message naming the operation. Nothing is retried: the engine marks the group broken.
 *
 * Ordering. The all-reduce is enqueued on the backend's one stream, after the backward that wrote the gradient
 * and before whatever reads it, and never inside a repeat section (it is not captured into graphs). Gradients
 * carry no bf16 shadow, but the buffer is marked written anyway (cu_note_write), so the shadow rule holds for
 * whatever buffer is summed. */
#include "cuda_comm.h"

#include "cuda_backend.h"

#if CU_COMM_NCCL

#include <dlfcn.h>
#include <limits.h>
#include <nccl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/util/log.h"

#define NCCL_LIBNAME "libnccl.so.2"
#define FINALIZE_WAIT_S 30.0 /* the most a close waits for a healthy communicator to wind down before aborting it */
#define POLL_MAX_NS 200000L  /* polls start at 10 us and back off to this */

struct cu_comm {
    ncclComm_t comm;
    int nranks, rank;
    double timeout_s;
};

static const char *const install_hint =
    "install NCCL 2.14 or newer (NVIDIA's libnccl2 package, Debian non-free's libnccl2, or pip's nvidia-nccl-cu12) "
    "and make libnccl.so.2 findable (LD_LIBRARY_PATH, or R1LAB_NCCL_LIB=/path/to/libnccl.so.2)";
static const char *const peer_hint = "a rank died, hangs or was stopped, or cannot reach this one; ddp_timeout sets "
                                     "how long a rank waits, NCCL_DEBUG=INFO shows what NCCL saw";

/* The loaded library: filled once per process by nccl_load. */
static struct {
    pthread_once_t once;
    bool ok;
    char path[PATH_MAX];
    char version[24]; /* "2.28.9" */
    char why[1024];   /* why it cannot be used */
    __typeof__(ncclGetUniqueId) *get_unique_id;
    __typeof__(ncclCommInitRankConfig) *comm_init_rank_config;
    __typeof__(ncclAllReduce) *all_reduce;
    __typeof__(ncclCommGetAsyncError) *comm_get_async_error;
    __typeof__(ncclCommFinalize) *comm_finalize;
    __typeof__(ncclCommDestroy) *comm_destroy;
    __typeof__(ncclCommAbort) *comm_abort;
    __typeof__(ncclGetErrorString) *get_error_string;
    __typeof__(ncclGetLastError) *get_last_error; /* optional (2.13) */
    __typeof__(ncclGetVersion) *get_version;      /* optional */
} nccl = {.once = PTHREAD_ONCE_INIT};

/* Appends "sep s" to list (cap bytes), dropping what does not fit. */
static void list_add(char *list, size_t cap, const char *s) {
    size_t len = strlen(list);
    if (len + 3 < cap) snprintf(list + len, cap - len, "%s%s", len ? ", " : "", s);
}

/* dlopen of dir/libnccl.so.2 (dir NULL: the bare name, the dynamic linker's search); records what was tried. */
static void *open_in(const char *dir, char *tried, size_t tried_cap, char *last, size_t last_cap) {
    char path[PATH_MAX];
    if (dir) {
        if (snprintf(path, sizeof path, "%s/%s", dir, NCCL_LIBNAME) >= (int)sizeof path) return NULL;
        list_add(tried, tried_cap, dir);
    } else {
        snprintf(path, sizeof path, "%s", NCCL_LIBNAME);
        list_add(tried, tried_cap, "the library path");
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(last, last_cap, "%s", e ? e : "unknown dlopen error");
    }
    return h;
}

static void *open_library(char *tried, size_t tried_cap, char *last, size_t last_cap) {
    const char *env = getenv("R1LAB_NCCL_LIB");
    if (env && env[0]) { /* an explicit choice is the only one tried */
        struct stat sb;
        if (stat(env, &sb) == 0 && S_ISDIR(sb.st_mode)) return open_in(env, tried, tried_cap, last, last_cap);
        list_add(tried, tried_cap, env);
        void *h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char *e = dlerror();
            snprintf(last, last_cap, "%s", e ? e : "unknown dlopen error");
        }
        return h;
    }
    void *h = open_in(NULL, tried, tried_cap, last, last_cap);
    if (h) return h;
    char dirs[4][PATH_MAX];
    int n = 0;
    Dl_info info;
    if (dladdr((void *)cudaGetErrorString, &info) && info.dli_fname) { /* the CUDA runtime in use */
        snprintf(dirs[n], PATH_MAX, "%s", info.dli_fname);
        char *slash = strrchr(dirs[n], '/');
        if (slash) {
            *slash = '\0';
            n++;
        }
    }
    static const char *const vars[] = {"CUDA_HOME", "CUDA_PATH"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && v[0] && snprintf(dirs[n], PATH_MAX, "%s/lib64", v) < PATH_MAX) n++;
    }
    snprintf(dirs[n++], PATH_MAX, "/usr/local/cuda/lib64");
    for (int i = 0; i < n && !h; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++) seen = seen || strcmp(dirs[i], dirs[j]) == 0;
        if (!seen) h = open_in(dirs[i], tried, tried_cap, last, last_cap);
    }
    return h;
}

static void nccl_load(void) {
    char tried[512] = "", last[400] = "";
    void *h = open_library(tried, sizeof tried, last, sizeof last);
    if (!h) {
        snprintf(nccl.why, sizeof nccl.why,
                 "NCCL: cannot load %s, which summing gradients over CUDA ranks needs (looked in: %s): %s",
                 NCCL_LIBNAME, tried, last);
        return;
    }
    const char *missing = NULL;
#define NCCL_SYM(field, name)                                                                                          \
    do {                                                                                                               \
        nccl.field = (__typeof__(nccl.field))dlsym(h, name);                                                           \
        if (!nccl.field && !missing) missing = name;                                                                   \
    } while (0)
    NCCL_SYM(get_unique_id, "ncclGetUniqueId");
    NCCL_SYM(comm_init_rank_config, "ncclCommInitRankConfig");
    NCCL_SYM(all_reduce, "ncclAllReduce");
    NCCL_SYM(comm_get_async_error, "ncclCommGetAsyncError");
    NCCL_SYM(comm_finalize, "ncclCommFinalize");
    NCCL_SYM(comm_destroy, "ncclCommDestroy");
    NCCL_SYM(comm_abort, "ncclCommAbort");
    NCCL_SYM(get_error_string, "ncclGetErrorString");
#undef NCCL_SYM
    nccl.get_last_error = (__typeof__(nccl.get_last_error))dlsym(h, "ncclGetLastError");
    nccl.get_version = (__typeof__(nccl.get_version))dlsym(h, "ncclGetVersion");
    Dl_info info;
    void *any = nccl.all_reduce ? (void *)nccl.all_reduce : (void *)nccl.get_unique_id;
    snprintf(nccl.path, sizeof nccl.path, "%s", any && dladdr(any, &info) && info.dli_fname ? info.dli_fname : tried);
    int v = 0;
    if (nccl.get_version && nccl.get_version(&v) == ncclSuccess && v > 0) {
        /* NCCL_VERSION(): X*1000 + Y*100 + Z up to 2.8, X*10000 + Y*100 + Z from 2.9 on */
        if (v >= 10000)
            snprintf(nccl.version, sizeof nccl.version, "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
        else
            snprintf(nccl.version, sizeof nccl.version, "%d.%d.%d", v / 1000, v / 100 % 10, v % 100);
    } else {
        snprintf(nccl.version, sizeof nccl.version, "(version unknown)");
    }
    if (missing) {
        snprintf(nccl.why, sizeof nccl.why,
                 "NCCL: %.800s is NCCL %s, which lacks %s (non-blocking communicators need 2.14 or newer)", nccl.path,
                 nccl.version, missing);
        return; /* the handle stays open: unloading NCCL is not worth the risk */
    }
    nccl.ok = true;
}

/* Hands an error to the engine (like ->check does) and returns its status. */
static enum status comm_error(struct cuda_be *cb, enum status st, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum status comm_error(struct cuda_be *cb, enum status st, const char *hint, const char *fmt, ...) {
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cb->host->error(st, msg, hint ? hint : "");
}

static enum status need_nccl(struct cuda_be *cb) {
    pthread_once(&nccl.once, nccl_load);
    return nccl.ok ? STATUS_OK : comm_error(cb, STATUS_UNSUPPORTED, install_hint, "%s", nccl.why);
}

/* An NCCL failure of `what`, as a status and a message with NCCL's own words (read before comm is aborted). */
static enum status nccl_failed(struct cuda_be *cb, ncclComm_t comm, ncclResult_t r, const char *what) {
    /* A remote or system (socket) error is almost always a peer gone; invalid usage, two ranks on one GPU. */
    enum status st = r == ncclRemoteError || r == ncclSystemError        ? STATUS_PEER
                     : r == ncclInvalidArgument || r == ncclInvalidUsage ? STATUS_INVALID
                                                                         : STATUS_DEVICE;
    const char *last = nccl.get_last_error ? nccl.get_last_error(comm) : NULL;
    const char *hint = st == STATUS_PEER      ? peer_hint
                       : st == STATUS_INVALID ? "each rank needs a GPU of its own (cuda:<local rank>); NCCL_DEBUG=INFO "
                                                "shows what NCCL saw"
                                              : "NCCL_DEBUG=INFO shows what NCCL saw";
    return comm_error(cb, st, hint, "NCCL %s %s: %s%s%s", nccl.version, what, nccl.get_error_string(r),
                      last && last[0] ? ": " : "", last && last[0] ? last : "");
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

enum wait_result { WAIT_DONE, WAIT_TIMEOUT, WAIT_NCCL, WAIT_CUDA };

/* Polls until comm has nothing in progress and (on_stream) stream has drained, until an NCCL or CUDA error shows
 * (*nr / *ce), or until the deadline (CLOCK_MONOTONIC seconds). */
static enum wait_result wait_for(ncclComm_t comm, bool on_stream, cudaStream_t stream, double deadline,
                                 ncclResult_t *nr, cudaError_t *ce) {
    long ns = 10000;
    for (;;) {
        ncclResult_t a = ncclInProgress;
        ncclResult_t r = nccl.comm_get_async_error(comm, &a);
        if (r != ncclSuccess) a = r;
        if (a != ncclSuccess && a != ncclInProgress) {
            *nr = a;
            return WAIT_NCCL;
        }
        bool done = a == ncclSuccess;
        if (on_stream) {
            cudaError_t q = cudaStreamQuery(stream);
            if (q != cudaSuccess && q != cudaErrorNotReady) {
                *ce = q;
                return WAIT_CUDA;
            }
            /* Until NCCL says the enqueue is done, an idle stream proves nothing. */
            done = done && q == cudaSuccess;
        }
        if (done) return WAIT_DONE;
        if (now_s() >= deadline) return WAIT_TIMEOUT;
        struct timespec ts = {0, ns};
        nanosleep(&ts, NULL);
        if (ns < POLL_MAX_NS) ns *= 2;
    }
}

/* Drops the communicator without talking to the other ranks (after a failure, or when they are gone). */
static void comm_abort(struct cuda_be *cb) {
    struct cu_comm *c = cb->comm;
    if (!c) return;
    cb->comm = NULL;
    if (c->comm) nccl.comm_abort(c->comm);
    free(c);
}

/* Waits for what was just enqueued on the communicator (and, on_stream, the backend's stream) until deadline. On
 * anything but success the communicator is aborted and the error names `what`: no answer in timeout_s is a lost
 * peer; a failed stream (this op or work before it) is the device's error, since NCCL's state on it is unknown. */
static enum status settle(struct cuda_be *cb, bool on_stream, double deadline, double timeout_s, const char *what) {
    struct cu_comm *c = cb->comm;
    ncclResult_t nr = ncclSuccess;
    cudaError_t ce = cudaSuccess;
    enum wait_result w = wait_for(c->comm, on_stream, on_stream ? cb->stream : NULL, deadline, &nr, &ce);
    if (w == WAIT_DONE) return STATUS_OK;
    enum status st;
    if (w == WAIT_TIMEOUT) {
        comm_abort(cb);
        return comm_error(cb, STATUS_PEER, peer_hint, "NCCL %s: no answer from the other ranks for %g s", what,
                          timeout_s);
    }
    if (w == WAIT_CUDA && on_stream) {
        CU_OK(cb, ce, "NCCL all-reduce (or an op before it)");
        comm_abort(cb);
        return cu_check(&cb->be);
    }
    st = nccl_failed(cb, c->comm, nr, what);
    comm_abort(cb);
    return st;
}

enum status cu_comm_make_id(struct backend *be, void *id, size_t cap, size_t *bytes) {
    struct cuda_be *cb = cu_of(be);
    *bytes = 0;
    enum status st = need_nccl(cb);
    if (st != STATUS_OK) return st;
    if (cap < sizeof(ncclUniqueId))
        return comm_error(cb, STATUS_INVALID, "internal error in the engine's use of the backend",
                          "NCCL: a communicator id takes %zu bytes, the caller has room for %zu", sizeof(ncclUniqueId),
                          cap);
    cu_enter(cb);
    ncclUniqueId uid;
    ncclResult_t r = nccl.get_unique_id(&uid);
    if (r != ncclSuccess) return nccl_failed(cb, NULL, r, "making a communicator id (ncclGetUniqueId)");
    memcpy(id, &uid, sizeof uid);
    *bytes = sizeof uid;
    return STATUS_OK;
}

enum status cu_comm_init(struct backend *be, const void *id, size_t bytes, int nranks, int rank, double timeout_s) {
    struct cuda_be *cb = cu_of(be);
    enum status st = need_nccl(cb);
    if (st != STATUS_OK) return st;
    const char *internal = "internal error in the engine's use of the backend";
    if (bytes != sizeof(ncclUniqueId))
        return comm_error(cb, STATUS_INVALID, internal, "NCCL: a communicator id takes %zu bytes, got one of %zu",
                          sizeof(ncclUniqueId), bytes);
    if (nranks < 1 || rank < 0 || rank >= nranks || !(timeout_s > 0))
        return comm_error(cb, STATUS_INVALID, internal,
                          "NCCL: no communicator of %d ranks has a rank %d (timeout %g s)", nranks, rank, timeout_s);
    cu_enter(cb);                                  /* the device current in this thread is the one NCCL takes */
    if (cb->err != STATUS_OK) return cu_check(be); /* an earlier failure first */
    cu_comm_free(cb);
    struct cu_comm *c = calloc(1, sizeof *c);
    if (!c) return comm_error(cb, STATUS_NOMEM, NULL, "NCCL: cannot allocate the communicator's state");
    *c = (struct cu_comm){.nranks = nranks, .rank = rank, .timeout_s = timeout_s};
    cb->comm = c;
    char what[96];
    snprintf(what, sizeof what, "setting up the communicator of %d rank%s (rank %d, CUDA device %d)", nranks,
             nranks == 1 ? "" : "s", rank, cb->device);
    ncclUniqueId uid;
    memcpy(&uid, id, sizeof uid);
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    double t0 = now_s();
    ncclResult_t r = nccl.comm_init_rank_config(&c->comm, nranks, uid, rank, &config);
    if (r != ncclSuccess && r != ncclInProgress) {
        st = nccl_failed(cb, c->comm, r, what);
        comm_abort(cb);
        return st;
    }
    TRY(settle(cb, false, t0 + timeout_s, timeout_s, what));
    char msg[PATH_MAX + 160];
    snprintf(msg, sizeof msg, "NCCL %s (%s): rank %d of %d on CUDA device %d, set up in %.2f s", nccl.version,
             nccl.path, rank, nranks, cb->device, now_s() - t0);
    cb->host->log(rank == 0 ? LOG_INFO : LOG_DEBUG, msg);
    return STATUS_OK;
}

enum status cu_comm_sum(struct backend *be, float *x, size_t n, double timeout_s) {
    struct cuda_be *cb = cu_of(be);
    struct cu_comm *c = cb->comm;
    if (!c)
        return comm_error(cb, STATUS_INVALID, "internal error in the engine's use of the backend",
                          "NCCL all-reduce of %zu floats: no communicator (comm_init was not called, failed, or a "
                          "collective before this one failed)",
                          n);
    if (!(timeout_s > 0))
        return comm_error(cb, STATUS_INVALID, "internal error in the engine's use of the backend",
                          "NCCL all-reduce of %zu floats: timeout %g s", n, timeout_s);
    cu_enter(cb);
    if (!cu_outside_repeat(cb, "NCCL all-reduce")) return cu_check(be);
    if (cb->err != STATUS_OK) return cu_check(be); /* what went wrong before the sum is the error to report */
    if (n == 0) return STATUS_OK;
    cu_note_write(cb, x, n * sizeof(float));
    char what[64];
    snprintf(what, sizeof what, "all-reduce of %zu floats", n);
    double t0 = now_s();
    ncclResult_t r = nccl.all_reduce(x, x, n, ncclFloat32, ncclSum, c->comm, cb->stream);
    if (r != ncclSuccess && r != ncclInProgress) {
        enum status st = nccl_failed(cb, c->comm, r, what);
        comm_abort(cb);
        return st;
    }
    TRY(settle(cb, true, t0 + timeout_s, timeout_s, what));
    return cu_check(be); /* the stream is idle: this only does the pending host copies and reports */
}

void cu_comm_free(struct cuda_be *cb) {
    struct cu_comm *c = cb->comm;
    if (!c) return;
    double wait = c->timeout_s < FINALIZE_WAIT_S ? c->timeout_s : FINALIZE_WAIT_S;
    ncclResult_t r = nccl.comm_finalize(c->comm), nr = ncclSuccess;
    cudaError_t ce = cudaSuccess;
    if ((r == ncclSuccess || r == ncclInProgress) &&
        wait_for(c->comm, false, NULL, now_s() + wait, &nr, &ce) == WAIT_DONE) {
        nccl.comm_destroy(c->comm); /* finalised: this only frees local resources */
        cb->comm = NULL;
        free(c);
        return;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "NCCL: the communicator did not wind down within %g s; aborting it", wait);
    cb->host->log(LOG_DEBUG, msg);
    comm_abort(cb);
}

#else /* built without nccl.h: the comm_* slots are NULL (cuda_ops.c), so there is never a communicator */

void cu_comm_free(struct cuda_be *cb) {
    (void)cb;
}

#endif
