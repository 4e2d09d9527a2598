/* dist: the processes of a data-parallel run. `mpirun -np N r1lab train CONFIG` starts N copies of r1lab; each is
 * one rank of the group. They exchange what a training step needs (sums of statistics, the gradient, the
 * decisions rank 0 takes for the control channel) through the collectives below, which are MPI on the host and,
 * for gradients in GPU memory, NCCL through the backend (its communicator set up over MPI).
 *
 * Every collective waits at most the group's timeout (ddp_timeout) for the other ranks. A rank that died, hangs
 * or was stopped never makes the others hang: the wait ends with STATUS_PEER and a message naming the operation,
 * the group is then marked broken and dist_finalize ends every rank (MPI_Abort) instead of waiting on it.
 *
 * Without MPI at build time (dist_single.c) or without a launcher (r1lab run directly), the group is one process:
 * every collective returns its input at once, so single-process code needs no special case.
 *
 * The MPI calls are made by one thread at a time (dist_init and dist_finalize on the command's thread, the
 * collectives on the trainer's worker thread, never concurrently). */
#ifndef R1LAB_DIST_H
#define R1LAB_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/backend/backend.h"
#include "engine/util/status.h"

struct dist {
    int rank, size;   /* this process's rank and the number of ranks (1 without a launcher) */
    int local_rank;   /* its place among the ranks on the same machine: which GPU it takes */
    double timeout_s; /* how long a collective waits for the other ranks */
    bool mpi;         /* MPI_Init was called (a launched run) */
    bool broken;      /* a collective failed or timed out: the group cannot be trusted again */
    bool device_comm; /* gradients on the device are summed by the backend (NCCL) */
    char launcher[32]; /* "mpirun" or "" */
};

/* Whether this binary was built with MPI (dist_mpi.c); `r1lab --version` and the tests ask. */
bool dist_built_with_mpi(void);
/* Whether the process was started by an MPI launcher (its environment names a rank), before anything is set up. */
bool dist_launched(void);

/* Joins the group: MPI_Init when launched, a group of one otherwise. timeout_s > 0. */
enum status dist_init(struct dist *d, double timeout_s);
/* Leaves the group (MPI_Finalize). When this rank failed (an error the others may not share: a full disk on rank
 * 0, an allocation) or a collective broke, it ends every rank with MPI_Abort instead, so none waits out its timeout
 * on a rank that is gone. */
void dist_finalize(struct dist *d, bool failed);

/* The share [*first, *first + *count) of n items (prompts of a step) that rank `rank` of `size` takes: as even as
 * possible, the lower ranks taking one more when n does not divide. */
void dist_share(int n, int rank, int size, int *first, int *count);

/* In-place reductions over every rank (what names the operation in a timeout message: "the loss sums of step 3"). */
enum status dist_sum(struct dist *d, double *x, int n, const char *what);
enum status dist_max(struct dist *d, double *x, int n, const char *what);
enum status dist_min(struct dist *d, double *x, int n, const char *what);
/* Rank root's bytes to every rank. */
enum status dist_broadcast(struct dist *d, void *buf, size_t bytes, int root, const char *what);
/* Every rank's NUL-terminated text to rank 0: there *texts is a malloc'd array of size texts (rank order, each
 * malloc'd), elsewhere NULL. For small things (the completions a step logs), not bulk data. */
enum status dist_gather_text(struct dist *d, const char *mine, char ***texts, const char *what);
/* Whether every rank got this far with ok; false (every rank sees the same answer) when some rank did not.
 * A rank that failed reports its own error; the others set an error naming the failed rank. */
enum status dist_agree(struct dist *d, bool ok, const char *what);

/* Sets up the backend's device communicator (NCCL) when the backend has one: rank 0 makes its id, MPI sends it to
 * the others. Without one, dist_sum_grads goes through host memory. */
enum status dist_attach_backend(struct dist *d, struct backend *be);
/* Sums n floats of backend memory x over every rank (the gradient all-reduce): NCCL on the device when attached,
 * MPI on host memory for the CPU backend, otherwise through a host copy. */
enum status dist_sum_grads(struct dist *d, struct backend *be, float *x, size_t n, const char *what);

#endif
