/* dist_single: the group of one, for builds without MPI. A launched run is refused rather than run N times over
 * the same run directory. */
#include "engine/dist/dist.h"

#include <string.h>

#include "engine/dist/dist_transport.h"

bool dist_built_with_mpi(void) { return false; }

enum status dist_init(struct dist *d, double timeout_s) {
    memset(d, 0, sizeof *d);
    d->size = 1;
    d->timeout_s = timeout_s;
    if (dist_launched()) {
        enum status st = err_set(STATUS_UNSUPPORTED, "started by an MPI launcher, but this r1lab was built without MPI");
        err_hint("install libopenmpi-dev and openmpi-bin and rebuild (make); `r1lab --version` says whether MPI is in");
        return st;
    }
    return STATUS_OK;
}

void dist_finalize(struct dist *d, bool failed) { (void)d, (void)failed; }

enum status dist_sum(struct dist *d, double *x, int n, const char *what) { return STATUS_OK; }
enum status dist_max(struct dist *d, double *x, int n, const char *what) { return STATUS_OK; }
enum status dist_min(struct dist *d, double *x, int n, const char *what) { return STATUS_OK; }
enum status dist_broadcast(struct dist *d, void *buf, size_t bytes, int root, const char *what) { return STATUS_OK; }
enum status dist_agree(struct dist *d, bool ok, const char *what) { return ok ? STATUS_OK : STATUS_PEER; }
enum status dist_transport_sum_floats(struct dist *d, float *x, size_t n, const char *what) { return STATUS_OK; }
