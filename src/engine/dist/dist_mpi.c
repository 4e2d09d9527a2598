/* dist_mpi: the group over MPI. Each collective is started nonblocking and then polled against a deadline, so a
 * rank that died, hangs or was stopped (SIGSTOP) turns into an error naming the operation instead of a hang;
 * errors come back as codes (MPI_ERRORS_RETURN), not as MPI's own abort. */
#include "engine/dist/dist.h"

#include <limits.h>
#include <mpi.h>
#include <string.h>
#include <time.h>

#include "engine/dist/dist_transport.h"

static MPI_Comm comm = MPI_COMM_NULL; /* a duplicate of MPI_COMM_WORLD: our collectives never meet anyone else's */

bool dist_built_with_mpi(void) { return true; }

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static enum status mpi_failed(struct dist *d, int rc, const char *what) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "MPI error %d", rc);
    d->broken = true;
    enum status st = err_set(STATUS_PEER, "rank %d: %s failed: %s", d->rank, what, text);
    err_hint("another rank has probably died; its own message, or mpirun's, says why");
    return st;
}

/* Waits for req until the group's deadline. Open MPI progresses nonblocking collectives only inside MPI calls, so
 * the loop keeps testing: spinning first (most collectives finish within microseconds of the last rank arriving),
 * then sleeping 200 us between tests. */
static enum status wait_for(struct dist *d, MPI_Request *req, int rc, const char *what) {
    if (rc != MPI_SUCCESS) return mpi_failed(d, rc, what);
    double deadline = now() + d->timeout_s;
    for (long polls = 0;; polls++) {
        int done = 0;
        rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) return mpi_failed(d, rc, what);
        if (done) return STATUS_OK;
        if (polls < 20000) continue;
        if (now() > deadline) {
            d->broken = true;
            enum status st = err_set(STATUS_PEER, "rank %d: no answer from the other ranks for %g s in %s", d->rank,
                                     d->timeout_s, what);
            err_hint("a rank died, hangs or was stopped; ddp_timeout sets how long a rank waits");
            return st;
        }
        struct timespec ts = {0, 200 * 1000};
        nanosleep(&ts, NULL);
    }
}

enum status dist_init(struct dist *d, double timeout_s) {
    memset(d, 0, sizeof *d);
    d->size = 1;
    d->timeout_s = timeout_s;
    if (!dist_launched()) return STATUS_OK;
    int provided = 0, rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) return err_set(STATUS_PEER, "MPI_Init_thread failed (error %d)", rc);
    d->mpi = true;
    snprintf(d->launcher, sizeof d->launcher, "mpirun");
    if (provided < MPI_THREAD_SERIALIZED) {
        d->broken = true;
        return err_set(STATUS_UNSUPPORTED, "the MPI library offers thread level %d; r1lab needs MPI_THREAD_SERIALIZED "
                       "(its collectives run on the trainer's thread)", provided);
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    rc = MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    if (rc != MPI_SUCCESS) return mpi_failed(d, rc, "duplicating MPI_COMM_WORLD");
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm, &d->rank);
    MPI_Comm_size(comm, &d->size);
    MPI_Comm node;
    rc = MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &node);
    if (rc != MPI_SUCCESS) return mpi_failed(d, rc, "finding the ranks on this machine");
    MPI_Comm_rank(node, &d->local_rank);
    MPI_Comm_free(&node);
    return STATUS_OK;
}

void dist_finalize(struct dist *d, bool failed) {
    if (!d->mpi) return;
    if ((failed || d->broken) && d->size > 1) MPI_Abort(MPI_COMM_WORLD, 1); /* does not return */
    if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
    MPI_Finalize();
    d->mpi = false;
}

static enum status reduce(struct dist *d, void *x, size_t n, MPI_Datatype type, size_t width, MPI_Op op,
                          const char *what) {
    if (d->size == 1) return STATUS_OK;
    if (d->broken) return err_set(STATUS_PEER, "rank %d: %s: the group failed earlier", d->rank, what);
    /* Counts are ints in MPI: large buffers go in pieces. */
    for (size_t off = 0; off < n;) {
        size_t chunk = n - off < (size_t)1 << 30 ? n - off : (size_t)1 << 30;
        MPI_Request req;
        int rc = MPI_Iallreduce(MPI_IN_PLACE, (char *)x + off * width, (int)chunk, type, op, comm, &req);
        TRY(wait_for(d, &req, rc, what));
        off += chunk;
    }
    return STATUS_OK;
}

enum status dist_sum(struct dist *d, double *x, int n, const char *what) {
    return reduce(d, x, (size_t)n, MPI_DOUBLE, sizeof *x, MPI_SUM, what);
}
enum status dist_max(struct dist *d, double *x, int n, const char *what) {
    return reduce(d, x, (size_t)n, MPI_DOUBLE, sizeof *x, MPI_MAX, what);
}
enum status dist_min(struct dist *d, double *x, int n, const char *what) {
    return reduce(d, x, (size_t)n, MPI_DOUBLE, sizeof *x, MPI_MIN, what);
}
enum status dist_transport_sum_floats(struct dist *d, float *x, size_t n, const char *what) {
    return reduce(d, x, n, MPI_FLOAT, sizeof *x, MPI_SUM, what);
}

enum status dist_broadcast(struct dist *d, void *buf, size_t bytes, int root, const char *what) {
    if (d->size == 1) return STATUS_OK;
    if (d->broken) return err_set(STATUS_PEER, "rank %d: %s: the group failed earlier", d->rank, what);
    if (bytes > INT_MAX) return err_set(STATUS_INVALID, "%s: %zu bytes is more than one broadcast sends", what, bytes);
    MPI_Request req;
    int rc = MPI_Ibcast(buf, (int)bytes, MPI_BYTE, root, comm, &req);
    return wait_for(d, &req, rc, what);
}

enum status dist_agree(struct dist *d, bool ok, const char *what) {
    if (d->size == 1) return ok ? STATUS_OK : STATUS_PEER;
    double first_failed = ok ? (double)INT_MAX : (double)d->rank;
    if (ok) {
        TRY(dist_min(d, &first_failed, 1, what));
    } else {
        /* Keep this rank's own message: it says what went wrong. */
        char msg[4096], hint[1024];
        snprintf(msg, sizeof msg, "%s", err_msg());
        snprintf(hint, sizeof hint, "%s", err_hint_text());
        enum status st = dist_min(d, &first_failed, 1, what);
        if (st != STATUS_OK) return st;
        err_set(STATUS_PEER, "%s", msg);
        if (hint[0]) err_hint("%s", hint);
        return STATUS_PEER;
    }
    if (first_failed == (double)INT_MAX) return STATUS_OK;
    return err_set(STATUS_PEER, "rank %d: rank %d failed while %s (its own message says why)", d->rank,
                   (int)first_failed, what);
}
