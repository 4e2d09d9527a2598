/* dist: what the group does the same way with or without MPI — sharing out work, finding a launcher, and routing
 * the gradient sum to the device communicator, to MPI on host memory, or through a host copy. */
#include "engine/dist/dist.h"

#include <stdlib.h>
#include <string.h>

#include "engine/dist/dist_transport.h"
#include "engine/util/log.h"

bool dist_launched(void) {
    /* Open MPI's mpirun, and PMI / PMIx launchers (srun, hydra). */
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return true;
    return false;
}

void dist_share(int n, int rank, int size, int *first, int *count) {
    int base = n / size, extra = n % size;
    *count = base + (rank < extra);
    *first = rank * base + (rank < extra ? rank : extra);
}

enum status dist_attach_backend(struct dist *d, struct backend *be) {
    d->device_comm = false;
    if (d->size == 1 || !be->ops->comm_init) return STATUS_OK;
    char id[DIST_COMM_ID_MAX];
    size_t bytes = 0;
    enum status st = STATUS_OK;
    if (d->rank == 0) st = be->ops->comm_make_id(be, id, sizeof id, &bytes);
    /* Every rank learns whether rank 0 could make an id before anyone waits for one. */
    TRY(dist_agree(d, st == STATUS_OK, "setting up the device communicator"));
    double b = (double)bytes;
    TRY(dist_broadcast(d, &b, sizeof b, 0, "the device communicator's id size"));
    bytes = (size_t)b;
    if (bytes == 0 || bytes > sizeof id)
        return err_set(STATUS_PEER, "rank 0 sent a device communicator id of %zu bytes", bytes);
    TRY(dist_broadcast(d, id, bytes, 0, "the device communicator's id"));
    st = be->ops->comm_init(be, id, bytes, d->size, d->rank, d->timeout_s);
    TRY(dist_agree(d, st == STATUS_OK, "joining the device communicator"));
    d->device_comm = true;
    log_info("rank %d/%d: gradients are summed on the device (%s)", d->rank, d->size, be->name);
    return STATUS_OK;
}

enum status dist_sum_grads(struct dist *d, struct backend *be, float *x, size_t n, const char *what) {
    if (d->size == 1) return STATUS_OK;
    if (d->device_comm) {
        enum status st = be->ops->comm_sum(be, x, n, d->timeout_s);
        if (st != STATUS_OK) {
            d->broken = true;
            err_prefix("rank %d: %s: ", d->rank, what);
        }
        return st;
    }
    if (be->kind == BACKEND_CPU) return dist_transport_sum_floats(d, x, n, what);
    /* A device without a communicator: through the host. */
    float *host = malloc(n * sizeof *host);
    if (!host) return err_set(STATUS_NOMEM, "%s: cannot allocate a host copy of %zu floats", what, n);
    be->ops->download(be, host, x, n * sizeof *host);
    enum status st = be->ops->check(be);
    if (st == STATUS_OK) st = dist_transport_sum_floats(d, host, n, what);
    if (st == STATUS_OK) {
        be->ops->upload(be, x, host, n * sizeof *host);
        st = be->ops->check(be);
    }
    free(host);
    return st;
}

/* Lengths first (a sum of one-hot rows), then each rank's text broadcast from it: every rank receives every text,
 * which for a few kilobytes a step costs less than a gather's extra code. */
enum status dist_gather_text(struct dist *d, const char *mine, char ***texts, const char *what) {
    *texts = NULL;
    int n = d->size;
    double *len = calloc((size_t)n, sizeof *len);
    char **out = calloc((size_t)n, sizeof *out);
    enum status st = len && out ? STATUS_OK : err_set(STATUS_NOMEM, "%s: cannot allocate %d ranks' texts", what, n);
    if (st == STATUS_OK) {
        len[d->rank] = (double)strlen(mine);
        st = dist_sum(d, len, n, what);
    }
    for (int r = 0; r < n && st == STATUS_OK; r++) {
        size_t bytes = (size_t)len[r];
        out[r] = malloc(bytes + 1);
        if (!out[r]) {
            st = err_set(STATUS_NOMEM, "%s: cannot allocate %zu bytes", what, bytes + 1);
            break;
        }
        if (r == d->rank) memcpy(out[r], mine, bytes);
        out[r][bytes] = '\0';
        if (n > 1) st = dist_broadcast(d, out[r], bytes, r, what);
    }
    free(len);
    if (st == STATUS_OK && d->rank == 0) {
        *texts = out;
        return STATUS_OK;
    }
    if (out)
        for (int r = 0; r < n; r++) free(out[r]);
    free(out);
    return st;
}
