/* backend: choosing a backend by name. This is the one place that knows which backends exist; the CUDA
 * backend registers here when it is built. */
#include "backend.h"

#include <string.h>

#include "log.h"

enum status backend_open(struct backend **out, const char *device, int threads) {
    *out = NULL;
    if (!device || strcmp(device, "auto") == 0) {
        log_info("device auto: this build has no CUDA backend; using the CPU");
        return backend_cpu_open(out, threads);
    }
    if (strcmp(device, "cpu") == 0) return backend_cpu_open(out, threads);
    if (strncmp(device, "cuda", 4) == 0 && (device[4] == '\0' || device[4] == ':')) {
        enum status st = err_set(STATUS_UNSUPPORTED, "device \"%s\": this build of r1lab has no CUDA backend", device);
        err_hint("rebuild where nvcc is installed (make CUDA=1), or use --device cpu");
        return st;
    }
    enum status st = err_set(STATUS_INVALID, "unknown device \"%s\"", device);
    err_hint("use auto, cpu, cuda or cuda:N");
    return st;
}
