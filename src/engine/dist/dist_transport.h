/* dist_transport: the one host collective dist.c needs from the transport beyond dist.h's (dist_mpi.c with MPI,
 * dist_single.c without). Private to the dist layer. */
#ifndef R1LAB_DIST_TRANSPORT_H
#define R1LAB_DIST_TRANSPORT_H

#include <stddef.h>

#include "engine/dist/dist.h"

/* The largest device communicator id the backend may hand out (NCCL's is 128 bytes). */
#define DIST_COMM_ID_MAX 256

/* In-place sum of n floats of host memory over every rank. */
enum status dist_transport_sum_floats(struct dist *d, float *x, size_t n, const char *what);

#endif
