/* cuda_comm: the CUDA backend's device communicator for data-parallel training — the comm_make_id / comm_init /
 * comm_sum slots of backend.h on NCCL, which is loaded with dlopen the first time a communicator is asked for, so
 * that libr1lab-cuda.so never links it and opens on machines without it.
 *
 * Built only where nccl.h is found at compile time (CU_COMM_NCCL); without it the three slots stay NULL and the
 * engine sums gradients through a host copy over MPI instead. Internal to libr1lab-cuda.so. */
#ifndef R1LAB_CUDA_COMM_H
#define R1LAB_CUDA_COMM_H

#include <stddef.h>

#include "engine/backend/backend.h"

#if !defined(R1LAB_NO_NCCL) && defined(__has_include)
#if __has_include(<nccl.h>)
#define CU_COMM_NCCL 1
#endif
#endif
#ifndef CU_COMM_NCCL
#define CU_COMM_NCCL 0
#endif

struct cuda_be;

#if CU_COMM_NCCL
/* rank 0: a new NCCL unique id (128 bytes) into id (cap bytes). Loads libnccl.so.2 if needed. */
enum status cu_comm_make_id(struct backend *be, void *id, size_t cap, size_t *bytes);
/* Joins the communicator of nranks ranks named by id as rank `rank`, on the backend's device; gives up with
 * STATUS_PEER when the others have not all joined after timeout_s. Replaces a communicator made before. */
enum status cu_comm_init(struct backend *be, const void *id, size_t bytes, int nranks, int rank, double timeout_s);
/* x (n, device) = its sum over the ranks, on the backend's stream after the work already enqueued; returns once it
 * is done, or with STATUS_PEER after timeout_s (the communicator is then aborted and gone). */
enum status cu_comm_sum(struct backend *be, float *x, size_t n, double timeout_s);
#endif

/* Releases the communicator, if any (close, after the stream has drained): finalised when healthy, within a
 * bounded wait, else aborted. */
void cu_comm_free(struct cuda_be *cb);

#endif
