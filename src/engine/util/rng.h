/* rng: the project's pseudo-random numbers — xoshiro256** (Blackman & Vigna, 2018) seeded through
 * splitmix64, as the authors recommend.
 *
 * Why this generator: 256 bits of state in four uint64_t words (a trainer saves and restores it exactly in
 * trainer_state.json through rng_state_format / rng_state_parse), a period of 2^256 - 1, excellent
 * statistical quality, and about one nanosecond per draw. It is not cryptographic.
 *
 * Invariants: the state is never all zero (the one fixed point of the recurrence); rng_seed guarantees it
 * and rng_state_parse refuses it. Every derived draw consumes a documented number of 64-bit outputs so
 * that two programs using the same calls see the same stream: rng_below, rng_range use one or more
 * (rejection, rarely more than one), rng_double / rng_float one, rng_normal two, rng_shuffle n - 1 calls
 * of rng_below. The functions are pure over the struct: no globals, safe to use one struct per thread. */
#ifndef R1LAB_RNG_H
#define R1LAB_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/util/status.h"

struct rng {
    uint64_t s[4]; /* xoshiro256** state; never all zero */
};

/* One step of splitmix64: advances *state by the golden-ratio increment and returns the mixed value.
 * Exposed because it is also the project's 64-bit hash finaliser (rng_mix64). */
uint64_t rng_splitmix64(uint64_t *state);
/* Stateless 64-bit mixer (splitmix64's output function): a good hash of a 64-bit key. */
uint64_t rng_mix64(uint64_t x);
/* 64-bit FNV-1a over bytes, then rng_mix64: a stable hash of a string for split decisions and seeding.
 * Stable across platforms and releases (the held-out split of the built-in tasks depends on it). */
uint64_t rng_hash_bytes(const void *data, size_t n);

/* Seeds the state from one 64-bit seed with four splitmix64 draws. */
void rng_seed(struct rng *r, uint64_t seed);
/* Seeds an independent stream for (seed, stream): e.g. one per worker thread or per problem index.
 * Different streams are decorrelated by hashing, not by jumping; fine for our uses. */
void rng_seed_stream(struct rng *r, uint64_t seed, uint64_t stream);

/* Next raw 64-bit output. */
uint64_t rng_next(struct rng *r);
/* Uniform integer in [0, n) without modulo bias (Lemire's multiply-shift with rejection). n > 0. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Uniform integer in [lo, hi] (inclusive, lo <= hi); the whole int64 range is allowed. */
int64_t rng_range(struct rng *r, int64_t lo, int64_t hi);
/* Uniform double in [0, 1) with 53 random bits; float in [0, 1) with 24. */
double rng_double(struct rng *r);
float rng_float(struct rng *r);
/* True with probability p (p <= 0 never, p >= 1 always; still consumes one draw). */
bool rng_bernoulli(struct rng *r, double p);
/* Standard normal N(0, 1) by Box-Muller, using two draws and returning one value: no cached spare, so the
 * whole generator state stays the four words above. */
double rng_normal(struct rng *r);
/* Fisher-Yates shuffle of n elements of `size` bytes each (size <= 256). */
void rng_shuffle(struct rng *r, void *base, size_t n, size_t size);
/* Picks an index in [0, n) with probability weights[i] / sum(weights). Weights must be >= 0 with a
 * positive sum (asserted). */
size_t rng_choose_weighted(struct rng *r, const double *weights, size_t n);

/* Serialised state: "xoshiro256**:" then four 16-digit lowercase hex words, e.g. for trainer_state.json. */
#define RNG_STATE_STRLEN (13 + 4 * 16 + 1)
void rng_state_format(const struct rng *r, char out[RNG_STATE_STRLEN]);
/* Parses what rng_state_format wrote; STATUS_FORMAT with a message for anything else (wrong prefix,
 * length, non-hex digit, all-zero state). */
enum status rng_state_parse(struct rng *r, const char *text);

#endif
