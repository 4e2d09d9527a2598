/* backend: choosing a backend by name. This is the one place that knows which backends exist.
 *
 * The CUDA backend lives in a shared library, libr1lab-cuda.so, loaded here with dlopen the first time a CUDA
 * device is asked for, so that the r1lab binary itself links neither libcudart nor cuBLAS and starts on any
 * machine. The library exports one function (R1LAB_CUDA_ENTRY) that fills a struct backend with its own ops
 * table; it reports errors and log lines through the struct backend_host passed to it, because the engine's
 * message buffer is thread-local storage of the executable that a library cannot name without -rdynamic.
 * The library stays loaded until exit: unloading a CUDA runtime that registered kernels and exit handlers is
 * a known way to crash at exit, and there is nothing to gain.
 *
 * Search order for the library: $R1LAB_CUDA_LIB (a file, or a directory holding it), the directory of the
 * executable, ../lib/r1lab beside it (the install layout), R1LAB_LIB_DIR (the install lib directory, compiled
 * in) and R1LAB_BUILD_LIB_DIR (the build directory this binary was built in, compiled in, so that ./r1lab,
 * the tests and the benchmarks find it without installing). */
#include "engine/backend/backend.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/util/fsutil.h"
#include "engine/util/log.h"

#ifndef R1LAB_LIB_DIR
#define R1LAB_LIB_DIR "/usr/local/lib/r1lab"
#endif
#ifndef R1LAB_BUILD_LIB_DIR
#define R1LAB_BUILD_LIB_DIR ""
#endif

static enum status host_error(enum status st, const char *msg, const char *hint) {
    err_set(st, "%s", msg);
    if (hint && hint[0]) err_hint("%s", hint);
    return st;
}

static void host_log(int level, const char *msg) { log_msg((enum log_level)level, "%s", msg); }

static const struct backend_host host_api = {.abi = R1LAB_BACKEND_ABI, .error = host_error, .log = host_log};

/* The loaded library: opened once per process. */
static struct {
    bool tried;
    void *handle;
    backend_cuda_open_fn open;
    char path[PATH_MAX];
    char why[1024]; /* why it could not be loaded */
    bool missing;   /* ... because no candidate file exists (a CPU-only build or install) */
} cuda_lib;

const char *backend_cuda_library(void) { return cuda_lib.handle ? cuda_lib.path : ""; }

static bool file_exists(const char *path) { return access(path, R_OK) == 0; }

/* Writes dir/R1LAB_CUDA_LIBNAME into out; false when it does not fit. */
static bool lib_in_dir(char *out, size_t cap, const char *dir) {
    if (fs_join(out, cap, dir, R1LAB_CUDA_LIBNAME) == STATUS_OK) return true;
    err_clear(); /* a directory too long to hold the library is simply not a candidate */
    return false;
}

/* Candidate paths in search order; returns how many. */
static int candidates(char paths[][PATH_MAX], int cap) {
    int n = 0;
    const char *env = getenv("R1LAB_CUDA_LIB");
    if (env && env[0] && n < cap) {
        size_t len = strlen(env);
        bool is_file = len >= 3 && strcmp(env + len - 3, ".so") == 0;
        if (is_file) snprintf(paths[n++], PATH_MAX, "%s", env);
        else if (lib_in_dir(paths[n], PATH_MAX, env)) n++;
        return n; /* an explicit choice is the only one tried */
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            if (n < cap && lib_in_dir(paths[n], PATH_MAX, exe)) n++;
            char up[PATH_MAX];
            if (snprintf(up, sizeof up, "%s/../lib/r1lab", exe) < (int)sizeof up && n < cap &&
                lib_in_dir(paths[n], PATH_MAX, up))
                n++;
        }
    }
    if (R1LAB_LIB_DIR[0] && n < cap && lib_in_dir(paths[n], PATH_MAX, R1LAB_LIB_DIR)) n++;
    if (R1LAB_BUILD_LIB_DIR[0] && n < cap && lib_in_dir(paths[n], PATH_MAX, R1LAB_BUILD_LIB_DIR)) n++;
    return n;
}

/* Loads the library once; on failure cuda_lib.why says why. */
static bool load_cuda_lib(void) {
    if (cuda_lib.tried) return cuda_lib.handle != NULL;
    cuda_lib.tried = true;
    char paths[6][PATH_MAX];
    int n = candidates(paths, 6);
    const char *found = NULL;
    for (int i = 0; i < n && !found; i++)
        if (file_exists(paths[i])) found = paths[i];
    if (!found) {
        cuda_lib.missing = true;
        /* Name the directories looked in, so that a misplaced library is easy to spot. */
        size_t used =
            (size_t)snprintf(cuda_lib.why, sizeof cuda_lib.why, "%s not found (looked in", R1LAB_CUDA_LIBNAME);
        for (int i = 0; i < n && used < sizeof cuda_lib.why; i++) {
            char *slash = strrchr(paths[i], '/');
            if (slash) *slash = '\0';
            used += (size_t)snprintf(cuda_lib.why + used, sizeof cuda_lib.why - used, "%s %s", i ? "," : "", paths[i]);
        }
        if (used < sizeof cuda_lib.why) snprintf(cuda_lib.why + used, sizeof cuda_lib.why - used, ")");
        return false;
    }
    dlerror();
    void *h = dlopen(found, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(cuda_lib.why, sizeof cuda_lib.why, "cannot load %s: %s", found, e ? e : "unknown dlopen error");
        return false;
    }
    void *sym = dlsym(h, R1LAB_CUDA_ENTRY);
    if (!sym) {
        snprintf(cuda_lib.why, sizeof cuda_lib.why, "%s does not export %s (not an r1lab CUDA library?)", found,
                 R1LAB_CUDA_ENTRY);
        dlclose(h);
        return false;
    }
    cuda_lib.handle = h;
    /* POSIX allows converting dlsym's object pointer to a function pointer; go through memcpy to say so. */
    memcpy(&cuda_lib.open, &sym, sizeof sym);
    snprintf(cuda_lib.path, sizeof cuda_lib.path, "%s", found);
    return true;
}

/* Parses "cuda" / "cuda:N" into a device index; -1 when malformed. */
static int cuda_index(const char *device) {
    if (device[4] == '\0') return 0;
    const char *p = device + 5;
    if (!*p) return -1;
    int v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > 1000) return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

static enum status open_cuda(struct backend **out, int index) {
    if (!load_cuda_lib()) {
        enum status st = err_set(STATUS_UNSUPPORTED, "CUDA backend unavailable: %s", cuda_lib.why);
        err_hint("build it where nvcc is installed (make prints whether it builds the CUDA backend), set "
                 "R1LAB_CUDA_LIB to the library, or use --device cpu");
        return st;
    }
    err_clear();
    enum status st = cuda_lib.open(&host_api, out, index);
    if (st != STATUS_OK && !err_msg()[0]) err_set(st, "CUDA backend: device %d could not be opened", index);
    return st;
}

enum status backend_check_name(const char *device) {
    if (!device || strcmp(device, "auto") == 0 || strcmp(device, "cpu") == 0) return STATUS_OK;
    if (strncmp(device, "cuda", 4) == 0 && (device[4] == '\0' || device[4] == ':')) {
        if (cuda_index(device) >= 0) return STATUS_OK;
        enum status st = err_set(STATUS_INVALID, "device \"%s\": expected cuda or cuda:N", device);
        err_hint("N is the 0-based CUDA device index, as nvidia-smi lists them");
        return st;
    }
    enum status st = err_set(STATUS_INVALID, "unknown device \"%s\"", device);
    err_hint("use auto, cpu, cuda or cuda:N");
    return st;
}

enum status backend_open(struct backend **out, const char *device, int threads) {
    *out = NULL;
    TRY(backend_check_name(device));
    if (!device || strcmp(device, "auto") == 0) {
        if (open_cuda(out, 0) == STATUS_OK) {
            log_info("device auto: using %s", (*out)->name);
            return STATUS_OK;
        }
        /* A CPU-only build has no library anywhere: a few words, at every start, are enough. The directories
         * searched matter to whoever asked for CUDA — with R1LAB_CUDA_LIB here, or --device cuda, whose error
         * names them. A library that is there but fails (no driver, no device) is news: its message in full. */
        const char *env = getenv("R1LAB_CUDA_LIB");
        if (cuda_lib.missing && !(env && env[0]))
            log_info("device auto: the CPU (no CUDA backend: %s not found)", R1LAB_CUDA_LIBNAME);
        else
            log_info("device auto: %s; using the CPU", err_msg());
        err_clear();
        return backend_cpu_open(out, threads);
    }
    if (strcmp(device, "cpu") == 0) return backend_cpu_open(out, threads);
    return open_cuda(out, cuda_index(device)); /* cuda or cuda:N, checked above */
}

void backend_close(struct backend *be) {
    if (be) be->ops->close(be);
}
