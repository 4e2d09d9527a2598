/* sample_plan: the threshold search of the device sampler (kernels/sample.cu), as functions that compile both
 * for the device and for the host, so that tests/test_cuda_plan.c runs the same search on the CPU against
 * sampler.c's kept sets.
 *
 * With e_v = exp((z_v - max) / temperature) in [0, 1], top-k and top-p keep {v : e_v >= tau} for the largest tau
 * (a float bit pattern: for non-negative floats the order of the patterns is the order of the values) at which a
 * monotone test still holds: "at least k values at or above tau" (top-k), "the mass at or above tau reaches
 * top_p of the top-k mass" (top-p). The search keeps lo (test true) < hi (test false) and each pass evaluates
 * up to SAMPLE_SEARCH_WAYS - 1 thresholds between them in one sweep over the row, so a float's 2^30 patterns take
 * 8 sweeps instead of bisection's 30. */
#ifndef R1LAB_KERNELS_SAMPLE_PLAN_H
#define R1LAB_KERNELS_SAMPLE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __CUDACC__
#define SAMPLE_PLAN_FN static __host__ __device__ __forceinline__
#else
#define SAMPLE_PLAN_FN static inline
#endif

#define SAMPLE_SEARCH_WAYS 16
#define SAMPLE_MAX_THRESHOLDS (SAMPLE_SEARCH_WAYS - 1)
#define SAMPLE_ONE_PLUS 0x3f800001u /* the bit pattern just above 1.0f: no e_v reaches it */

/* Thresholds strictly between lo and hi (lo + 1 < hi), ascending, into t; returns how many (at most
 * SAMPLE_MAX_THRESHOLDS; every pattern between them once the gap is that small). */
SAMPLE_PLAN_FN int sample_plan_thresholds(uint32_t lo, uint32_t hi, uint32_t *t) {
    uint32_t span = hi - lo;
    int n = 0;
    if (span <= SAMPLE_SEARCH_WAYS) {
        for (uint32_t x = lo + 1; x < hi; x++) t[n++] = x;
        return n;
    }
    for (int j = 1; j < SAMPLE_SEARCH_WAYS; j++)
        t[n++] = lo + (uint32_t)((uint64_t)span * (uint64_t)j / SAMPLE_SEARCH_WAYS);
    return n;
}

/* Narrows [lo, hi) given the test at each threshold (ok[j], true up to some j, then false). */
SAMPLE_PLAN_FN void sample_plan_narrow(uint32_t *lo, uint32_t *hi, const uint32_t *t, int n, const bool *ok) {
    uint32_t l = *lo, h = *hi;
    for (int j = 0; j < n; j++) {
        if (ok[j]) {
            l = t[j];
        } else {
            h = t[j];
            break;
        }
    }
    *lo = l;
    *hi = h;
}

#endif
