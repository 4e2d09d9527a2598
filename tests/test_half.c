/* Tests for half.h: bf16 / f16 <-> fp32 conversions, checked exhaustively (every 16-bit pattern) and on a
 * sample of over four million fp32 patterns (ties included) against oracles written independently here in exact
 * double arithmetic, and against the compiler's _Float16 conversion where it has one. torch's bits are checked
 * separately, through st_write, in test_safetensors.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bits.h"
#include "engine/util/half.h"

/* Oracle: the f16 value of a 16-bit pattern by its definition, in double. */
static double f16_value(uint16_t h) {
    int e = (h >> 10) & 0x1F, m = h & 0x3FF;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, e - 25);
    return (h & 0x8000) ? -v : v;
}

Test(half, f16_to_f32_exhaustive) {
    size_t bad = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        float got = f16_to_f32((uint16_t)h);
        double want = f16_value((uint16_t)h);
        bool same_sign = !signbit(got) == !signbit(want);
        bool ok = isnan(want) ? isnan(got) && same_sign && ((bits_of(got) >> 13) & 0x3FFu) == ((h & 0x3FFu) | 0x200u)
                              : (double)got == want && same_sign;
        if (!ok && bad++ < 5) fprintf(stderr, "f16 %04x -> %08x, want %.9g\n", h, bits_of(got), want);
    }
    cr_expect_eq(bad, 0);
}

Test(half, bf16_and_f16_roundtrip_every_pattern) {
    size_t bad = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        uint16_t b = f32_to_bf16(bf16_to_f32((uint16_t)h)), f = f32_to_f16(f16_to_f32((uint16_t)h));
        /* NaN comes back a NaN of the same sign with the quiet bit set and the payload otherwise kept. */
        uint16_t want_b = is_nan_bf16((uint16_t)h) ? (uint16_t)(h | 0x40u) : (uint16_t)h;
        uint16_t want_f = is_nan16((uint16_t)h) ? (uint16_t)(h | 0x200u) : (uint16_t)h;
        if (b != want_b && bad++ < 5) fprintf(stderr, "bf16 %04x -> %04x\n", h, b);
        if (f != want_f && bad++ < 5) fprintf(stderr, "f16 %04x -> %04x\n", h, f);
    }
    cr_expect_eq(bad, 0);
}

/* Oracle: round-to-nearest-even of x to bf16 by comparing the two neighbours in double. */
static uint16_t bf16_oracle(uint32_t u) {
    uint32_t lo = u & 0xFFFF0000u, hi = lo + 0x10000u; /* hi may step into the exponent / to inf: fine */
    double x = float_of(u), dl = fabs(x - (double)float_of(lo)), dh;
    if ((lo & 0x7FFFFFFFu) == 0x7F7F0000u) /* above max: hi is inf; the tie point is max + half an ulp */
        dh = fabs(fabs(x) - ldexp(1.0, 128));
    else
        dh = fabs(x - (double)float_of(hi));
    if (dl < dh || (dl == dh && !((lo >> 16) & 1))) return (uint16_t)(lo >> 16);
    return (uint16_t)(hi >> 16);
}

/* Oracle: round-to-nearest-even of x to f16 in double arithmetic (exact for every fp32). */
static double f16_round_oracle(float f) {
    double x = fabs((double)f);
    if (x >= 65520.0) return copysign(INFINITY, f); /* 65504 + half an ulp (16) */
    int e;
    frexp(x, &e);                        /* x = m * 2^e, m in [0.5, 1) */
    int q = e - 11 < -24 ? -24 : e - 11; /* quantum: 11 significant bits, at least 2^-24 */
    double scaled = ldexp(x, -q);        /* exact: a power-of-two scaling */
    double r = floor(scaled), frac = scaled - r;
    if (frac > 0.5 || (frac == 0.5 && fmod(r, 2.0) == 1.0)) r += 1.0;
    return copysign(ldexp(r, q), f);
}

Test(half, f32_to_16bit_matches_oracles_on_sampled_patterns) {
    size_t bad = 0, n = 0;
    /* A stride prime to 2^32 visits every exponent and many mantissa bit mixes; the low patterns cover ties. */
    for (uint64_t k = 0; k < (1ull << 32); k += 1009, n++) {
        uint32_t u = (uint32_t)k ^ (uint32_t)(k >> 7 << 13); /* vary the low mantissa bits, ties included */
        for (int variant = 0; variant < 3; variant++) {
            if (variant == 1) u = (u & 0xFFFF0000u) | 0x8000u; /* exact bf16 tie */
            if (variant == 2) u = (u & 0xFFFFE000u) | 0x1000u; /* exact f16 tie (for normal f16 range) */
            float f = float_of(u);
            uint16_t b = f32_to_bf16(f), h = f32_to_f16(f);
            if (is_nan32(u)) {
                if ((!is_nan_bf16(b) || !is_nan16(h)) && bad++ < 5) fprintf(stderr, "NaN %08x lost\n", u);
                continue;
            }
            if (b != bf16_oracle(u) && bad++ < 5)
                fprintf(stderr, "bf16(%08x) = %04x, want %04x\n", u, b, bf16_oracle(u));
            double want = f16_round_oracle(f), got = f16_to_f32(h);
            if ((got != want || !signbit(got) != !signbit(want)) && bad++ < 5)
                fprintf(stderr, "f16(%08x = %.9g) = %04x (%.9g), want %.9g\n", u, f, h, got, want);
#ifdef __FLT16_MAX__
            _Float16 c = (_Float16)f; /* the compiler's conversion (F16C or soft-float): a second opinion */
            uint16_t cb;
            memcpy(&cb, &c, 2);
            if (cb != h && bad++ < 5) fprintf(stderr, "f16(%08x) = %04x, _Float16 says %04x\n", u, h, cb);
#endif
        }
    }
    fprintf(stderr, "  half: %zu fp32 patterns x 3 checked against the bf16 / f16 oracles\n", n);
    cr_expect_eq(bad, 0);
}

/* A few cases worked by hand, so that a reader can see what "round to nearest even" means at each edge. */
Test(half, hand_worked_edges) {
    static const struct {
        uint32_t in;
        uint16_t bf16, f16;
    } cases[] = {
        {0x3F800000, 0x3F80, 0x3C00}, /* 1 */
        {0x3F808000, 0x3F80, 0x3C04}, /* 1 + 2^-8: bf16 tie, lsb even: down */
        {0x3F818000, 0x3F82, 0x3C0C}, /* 1 + 3 * 2^-8: bf16 tie, lsb odd: up */
        {0x3F801000, 0x3F80, 0x3C00}, /* 1 + 2^-11: f16 tie, lsb even: down */
        {0x3F803000, 0x3F80, 0x3C02}, /* 1 + 3 * 2^-11: f16 tie, lsb odd: up */
        {0x477FE000, 0x4780, 0x7BFF}, /* 65504, the largest f16 */
        {0x477FEF00, 0x4780, 0x7BFF}, /* 65519: rounds down to 65504 */
        {0x477FF000, 0x4780, 0x7C00}, /* 65520: the tie with infinity goes to infinity (even) */
        {0x7F7FFFFF, 0x7F80, 0x7C00}, /* fp32 max: infinity in both */
        {0x33000000, 0x3300, 0x0000}, /* 2^-25: f16 tie between 0 and the smallest subnormal: 0 */
        {0x33C00000, 0x33C0, 0x0002}, /* 3 * 2^-25: tie between 1 and 2 subnormal steps: 2 */
        {0x33800000, 0x3380, 0x0001}, /* 2^-24: the smallest f16 subnormal */
        {0x387FE000, 0x3880, 0x0400}, /* 1023.5 * 2^-24, just under 2^-14: tie, up to the smallest f16 normal */
        {0x00008000, 0x0000, 0x0000}, /* fp32 subnormal, bf16 tie with zero: 0 */
        {0x00018000, 0x0002, 0x0000}, /* bf16 tie, lsb odd: up */
        {0x80000000, 0x8000, 0x8000}, /* -0 keeps its sign */
        {0xFF800000, 0xFF80, 0xFC00}, /* -inf */
        {0x7F800001, 0x7FC0, 0x7E00}, /* signalling NaN: quiet, not infinity */
        {0xFFC12345, 0xFFC1, 0xFE09}, /* negative NaN with payload: sign and high payload bits kept */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float f = float_of(cases[i].in);
        cr_expect_eq(f32_to_bf16(f), cases[i].bf16, "bf16(%08x) = %04x, want %04x", cases[i].in, f32_to_bf16(f),
                     cases[i].bf16);
        cr_expect_eq(f32_to_f16(f), cases[i].f16, "f16(%08x) = %04x, want %04x", cases[i].in, f32_to_f16(f),
                     cases[i].f16);
    }
}
