/* rng: xoshiro256** and the derived distributions. The recurrence and the output function follow the
 * published algorithm exactly; the known-answer vectors in tests/test_rng.c check that. */
#include "engine/util/rng.h"

#include <math.h>
#include <string.h>

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t rng_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t rng_mix64(uint64_t x) {
    uint64_t s = x;
    return rng_splitmix64(&s);
}

uint64_t rng_hash_bytes(const void *data, size_t n) {
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return rng_mix64(h);
}

void rng_seed(struct rng *r, uint64_t seed) {
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++) r->s[i] = rng_splitmix64(&sm);
    /* splitmix64 is a bijection of its counter, so four consecutive outputs cannot all be zero; keep the
     * invariant explicit anyway. */
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1;
}

void rng_seed_stream(struct rng *r, uint64_t seed, uint64_t stream) {
    rng_seed(r, rng_mix64(seed) ^ rng_mix64(stream ^ 0x5851f42d4c957f2dULL));
}

uint64_t rng_next(struct rng *r) {
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t rng_below(struct rng *r, uint64_t n) {
    ASSERT(n > 0);
    /* Lemire (2019): the high word of x * n is uniform in [0, n) once the low word avoids the first
     * (2^64 mod n) values; the threshold is computed only in the rare case that needs it. */
    unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (unsigned __int128)rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

int64_t rng_range(struct rng *r, int64_t lo, int64_t hi) {
    ASSERT(lo <= hi);
    uint64_t span = (uint64_t)hi - (uint64_t)lo; /* wraps correctly for any lo <= hi */
    uint64_t off = span == UINT64_MAX ? rng_next(r) : rng_below(r, span + 1);
    return (int64_t)((uint64_t)lo + off);
}

double rng_double(struct rng *r) {
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

float rng_float(struct rng *r) {
    return (float)(rng_next(r) >> 40) * 0x1.0p-24f;
}

bool rng_bernoulli(struct rng *r, double p) {
    return rng_double(r) < p;
}

double rng_normal(struct rng *r) {
    /* u1 in (0, 1] so that log(u1) is finite. */
    double u1 = 1.0 - rng_double(r);
    double u2 = rng_double(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void rng_shuffle(struct rng *r, void *base, size_t n, size_t size) {
    ASSERT(size <= 256);
    unsigned char tmp[256];
    unsigned char *b = base;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rng_below(r, i);
        if (j == i - 1) continue;
        memcpy(tmp, b + (i - 1) * size, size);
        memcpy(b + (i - 1) * size, b + j * size, size);
        memcpy(b + j * size, tmp, size);
    }
}

size_t rng_choose_weighted(struct rng *r, const double *weights, size_t n) {
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        ASSERT(weights[i] >= 0);
        total += weights[i];
    }
    ASSERT(n > 0 && total > 0);
    double u = rng_double(r) * total;
    size_t last = 0;
    for (size_t i = 0; i < n; i++) {
        if (weights[i] <= 0) continue;
        last = i;
        if (u < weights[i]) return i;
        u -= weights[i];
    }
    return last; /* rounding left u a hair above the last bucket */
}

static const char STATE_PREFIX[] = "xoshiro256**:";

void rng_state_format(const struct rng *r, char out[RNG_STATE_STRLEN]) {
    memcpy(out, STATE_PREFIX, 13);
    static const char hex[] = "0123456789abcdef";
    char *p = out + 13;
    for (int w = 0; w < 4; w++)
        for (int shift = 60; shift >= 0; shift -= 4) *p++ = hex[(r->s[w] >> shift) & 0xF];
    *p = '\0';
}

enum status rng_state_parse(struct rng *r, const char *text) {
    if (strncmp(text, STATE_PREFIX, 13) != 0)
        return err_set(STATUS_FORMAT, "rng state must start with \"%s\"", STATE_PREFIX);
    const char *p = text + 13;
    if (strlen(p) != 64) return err_set(STATUS_FORMAT, "rng state must have 64 hex digits, got %zu", strlen(p));
    struct rng tmp;
    for (int w = 0; w < 4; w++) {
        uint64_t v = 0;
        for (int k = 0; k < 16; k++) {
            char c = *p++;
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0) return err_set(STATUS_FORMAT, "rng state: '%c' is not a hex digit", c);
            v = (v << 4) | (uint64_t)d;
        }
        tmp.s[w] = v;
    }
    if (!(tmp.s[0] | tmp.s[1] | tmp.s[2] | tmp.s[3]))
        return err_set(STATUS_FORMAT, "rng state is all zero (not a valid xoshiro256** state)");
    *r = tmp;
    return STATUS_OK;
}
