/* copy: a batch of independent device-to-device copies in one launch (the batch is built by copy_plan.h). Host
 * launcher only. */
#ifndef R1LAB_KERNELS_COPY_H
#define R1LAB_KERNELS_COPY_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#include "copy_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Performs the n copies of descs (device memory, n entries), none of which touches another's destination;
 * max_bytes is the largest copy (it sizes the launch). */
cudaError_t copy_batch(const struct copy_desc *descs, int n, uint64_t max_bytes, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
