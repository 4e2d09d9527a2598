/* copy_plan: device-to-device copies gathered into one batch that one kernel launch performs (kernels/copy.cu),
 * instead of one cudaMemcpyAsync each: the rollout copies a prompt's KV cache into its G-1 sibling slots layer by
 * layer, about ten thousand small copies per rollout at the q05b shape.
 *
 * A batch runs its copies concurrently, so a copy may join only when it does not touch what the batch writes or
 * write what it reads (a copy that reads a pending copy's destination, or writes a pending copy's source or
 * destination, must wait for the batch); a copy whose own source and destination overlap never joins. Plain C
 * on addresses as integers; tests/test_cuda_plan.c checks it. */
#ifndef R1LAB_KERNELS_COPY_PLAN_H
#define R1LAB_KERNELS_COPY_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define COPY_PLAN_MAX 2048 /* copies per batch; the hazard check is linear in the batch */

struct copy_desc {
    uint64_t dst, src, bytes;
};

struct copy_plan {
    int n;
    uint64_t max_bytes; /* the largest copy, for the launch shape */
    struct copy_desc d[COPY_PLAN_MAX];
};

/* Whether [a, a + an) and [b, b + bn) share a byte. */
bool copy_plan_overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn);
/* Whether the copy may join the batch now (room left, no hazard with a pending copy, no self-overlap). */
bool copy_plan_fits(const struct copy_plan *p, uint64_t dst, uint64_t src, uint64_t bytes);
/* Adds a copy that fits. */
void copy_plan_add(struct copy_plan *p, uint64_t dst, uint64_t src, uint64_t bytes);
void copy_plan_clear(struct copy_plan *p);

#ifdef __cplusplus
}
#endif

#endif
