/* Tests for rng.h: known-answer vectors from the reference implementations (splitmix64.c and
 * xoshiro256starstar.c by Blackman & Vigna; the same vectors are used by rand_xoshiro and other ports),
 * statistical sanity with fixed seeds and generous bounds, and exact state save / restore. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "engine/util/rng.h"

Test(rng, splitmix64_reference_vectors) {
    uint64_t s = 0;
    cr_expect_eq(rng_splitmix64(&s), 0xe220a8397b1dcdafULL);
    cr_expect_eq(rng_splitmix64(&s), 0x6e789e6aa1b965f4ULL);
    cr_expect_eq(rng_splitmix64(&s), 0x06c45d188009454fULL);
    cr_expect_eq(rng_splitmix64(&s), 0xf88bb8a8724c81ecULL);
    s = 1234567;
    const uint64_t want[] = {6457827717110365317ULL, 3203168211198807973ULL, 9817491932198370423ULL,
                             4593380528125082431ULL, 16408922859458223821ULL};
    for (int i = 0; i < 5; i++) cr_expect_eq(rng_splitmix64(&s), want[i], "splitmix64(1234567) output %d", i);
}

Test(rng, xoshiro256starstar_reference_vector) {
    struct rng r = {{1, 2, 3, 4}};
    const uint64_t want[] = {11520ULL,
                             0ULL,
                             1509978240ULL,
                             1215971899390074240ULL,
                             1216172134540287360ULL,
                             607988272756665600ULL,
                             16172922978634559625ULL,
                             8476171486693032832ULL,
                             10595114339597558777ULL,
                             2904607092377533576ULL};
    for (int i = 0; i < 10; i++) cr_expect_eq(rng_next(&r), want[i], "output %d", i);
}

Test(rng, seeding_through_splitmix64_matches_other_ports) {
    /* xoshiro256** seeded with four splitmix64 outputs of 42, as recommended by the authors. */
    struct rng r;
    rng_seed(&r, 42);
    cr_expect_eq(rng_next(&r), 1546998764402558742ULL);
    cr_expect_eq(rng_next(&r), 6990951692964543102ULL);
    cr_expect_eq(rng_next(&r), 12544586762248559009ULL);
    cr_expect_eq(rng_next(&r), 17057574109182124193ULL);
}

Test(rng, below_is_uniform_chi_square) {
    struct rng r;
    rng_seed(&r, 7);
    enum { K = 10, N = 200000 };
    long counts[K] = {0};
    for (int i = 0; i < N; i++) {
        uint64_t v = rng_below(&r, K);
        cr_assert_lt(v, K);
        counts[v]++;
    }
    double chi2 = 0, e = (double)N / K;
    for (int k = 0; k < K; k++) chi2 += (counts[k] - e) * (counts[k] - e) / e;
    /* 9 degrees of freedom: p = 0.001 at 27.9. */
    cr_expect_lt(chi2, 30.0, "chi-square %g", chi2);
}

Test(rng, below_has_no_modulo_bias) {
    /* With n = 3 * 2^62, x % n would put half of all draws below 2^62 instead of a third. */
    struct rng r;
    rng_seed(&r, 11);
    const uint64_t n = 3ULL << 62;
    int low = 0, N = 60000;
    for (int i = 0; i < N; i++) {
        uint64_t v = rng_below(&r, n);
        cr_assert_lt(v, n);
        low += v < (1ULL << 62);
    }
    cr_expect(fabs((double)low / N - 1.0 / 3) < 0.01, "share below 2^62: %g", (double)low / N);
}

Test(rng, range_bounds_inclusive) {
    struct rng r;
    rng_seed(&r, 3);
    bool seen_lo = false, seen_hi = false;
    for (int i = 0; i < 2000; i++) {
        int64_t v = rng_range(&r, -3, 3);
        cr_assert(v >= -3 && v <= 3);
        seen_lo |= v == -3;
        seen_hi |= v == 3;
    }
    cr_expect(seen_lo && seen_hi);
    cr_expect_eq(rng_range(&r, 5, 5), 5);
    int64_t v = rng_range(&r, INT64_MIN, INT64_MAX); /* the whole range must not trip anything */
    (void)v;
}

Test(rng, doubles_floats_and_normals) {
    struct rng r;
    rng_seed(&r, 5);
    double sum = 0, sum_n = 0, sum_n2 = 0;
    enum { N = 200000 };
    for (int i = 0; i < N; i++) {
        double d = rng_double(&r);
        float f = rng_float(&r);
        cr_assert(d >= 0 && d < 1);
        cr_assert(f >= 0 && f < 1);
        sum += d;
        double z = rng_normal(&r);
        cr_assert(isfinite(z));
        sum_n += z;
        sum_n2 += z * z;
    }
    cr_expect(fabs(sum / N - 0.5) < 0.005, "mean of doubles %g", sum / N);
    double mean = sum_n / N, var = sum_n2 / N - mean * mean;
    cr_expect(fabs(mean) < 0.01, "normal mean %g", mean);
    cr_expect(fabs(var - 1) < 0.02, "normal variance %g", var);
}

Test(rng, shuffle_is_a_uniform_permutation) {
    struct rng r;
    rng_seed(&r, 9);
    int counts[6] = {0};
    for (int t = 0; t < 60000; t++) {
        int a[3] = {0, 1, 2};
        rng_shuffle(&r, a, 3, sizeof a[0]);
        cr_assert(a[0] + a[1] + a[2] == 3 && a[0] != a[1] && a[1] != a[2] && a[0] != a[2]);
        counts[a[0] * 2 + (a[1] > a[2])]++;
    }
    double chi2 = 0;
    for (int k = 0; k < 6; k++) chi2 += (counts[k] - 10000.0) * (counts[k] - 10000.0) / 10000.0;
    cr_expect_lt(chi2, 25.0, "chi-square over the 6 orders %g", chi2); /* 5 dof: p = 0.001 at 20.5 */
}

Test(rng, weighted_choice_follows_weights) {
    struct rng r;
    rng_seed(&r, 13);
    const double w[4] = {0.5, 0.0, 0.3, 0.2};
    int counts[4] = {0};
    for (int i = 0; i < 100000; i++) counts[rng_choose_weighted(&r, w, 4)]++;
    cr_expect_eq(counts[1], 0);
    cr_expect(fabs(counts[0] / 1e5 - 0.5) < 0.01 && fabs(counts[2] / 1e5 - 0.3) < 0.01 &&
              fabs(counts[3] / 1e5 - 0.2) < 0.01);
}

Test(rng, state_save_restore_reproduces_the_stream) {
    struct rng r, back;
    rng_seed(&r, 2024);
    for (int i = 0; i < 17; i++) rng_next(&r);
    char s[RNG_STATE_STRLEN];
    rng_state_format(&r, s);
    cr_expect_eq(strlen(s), RNG_STATE_STRLEN - 1);
    cr_assert_eq(rng_state_parse(&back, s), STATUS_OK, "%s", err_msg());
    for (int i = 0; i < 100; i++) cr_expect_eq(rng_next(&back), rng_next(&r));
    /* A plain struct copy is a save too. */
    struct rng copy = r;
    cr_expect_eq(rng_normal(&copy), rng_normal(&r));
}

Test(rng, state_parse_rejects_garbage) {
    struct rng r;
    cr_expect_eq(rng_state_parse(&r, "pcg64:0000"), STATUS_FORMAT);
    cr_expect_eq(rng_state_parse(&r, "xoshiro256**:1234"), STATUS_FORMAT);
    char s[RNG_STATE_STRLEN];
    struct rng ok = {{1, 2, 3, 4}};
    rng_state_format(&ok, s);
    s[20] = 'g';
    cr_expect_eq(rng_state_parse(&r, s), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "'g'"));
    struct rng zero = {{0, 0, 0, 0}};
    zero.s[0] = 0;
    char z[RNG_STATE_STRLEN];
    rng_state_format(&zero, z);
    cr_expect_eq(rng_state_parse(&r, z), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "all zero"));
}

Test(rng, streams_and_hashes_are_distinct_and_stable) {
    struct rng a, b, c;
    rng_seed_stream(&a, 1, 0);
    rng_seed_stream(&b, 1, 1);
    rng_seed_stream(&c, 1, 0);
    uint64_t x = rng_next(&a);
    cr_expect_neq(x, rng_next(&b));
    cr_expect_eq(x, rng_next(&c));
    /* The split of the built-in tasks depends on this hash, so it is pinned: FNV-1a 64 ("a" is
     * 0xaf63dc4c8601ec8c in the FNV reference tables) followed by splitmix64's finaliser (mix64(0) is
     * splitmix64's first output from 0). */
    cr_expect_eq(rng_mix64(0), 0xe220a8397b1dcdafULL);
    cr_expect_eq(rng_hash_bytes("a", 1), rng_mix64(0xaf63dc4c8601ec8cULL));
    cr_expect_eq(rng_hash_bytes("", 0), rng_mix64(0xcbf29ce484222325ULL));
    cr_expect_neq(rng_hash_bytes("a", 1), rng_hash_bytes("b", 1));
}
