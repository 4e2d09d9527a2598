/* vexp_f32: e^x for the CPU backend's hot loops (SwiGLU, attention softmax), written so that gcc vectorises it
 * inside `#pragma omp simd` loops. glibc's expf is a scalar call that stops the loops around it from vectorising
 * (its vector variants are only declared under -ffast-math); at the tiny benchmark shape the exponentials were 12%
 * of a GRPO step.
 *
 * Method (Cephes expf): x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial, 2^n built in the exponent
 * bits. Relative error below 2e-7 over the normal range (tests/test_vexp.c checks it against expf). Outside it:
 * x > 88.0 gives +inf (glibc: finite up to 88.72), x < -87.33 gives 0 (glibc: a denormal), NaN gives NaN, so
 * -inf masks and non-finite guards behave as with expf. Rounding to the nearest integer uses the 1.5 * 2^23 trick
 * and the bits are moved with memcpy: no float-to-int conversion, which is undefined for NaN. */
#ifndef R1LAB_VEXP_H
#define R1LAB_VEXP_H

#include <stdint.h>
#include <string.h>

static inline float vexp_f32(float x) {
    const float hi = 88.0f, lo = -87.33654475f;
    const float round_magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer held in the low bits */
    const uint32_t round_magic_bits = 0x4B400000u;
    float xc = x > hi ? hi : x;
    xc = xc < lo ? lo : xc; /* NaN fails both comparisons and stays NaN */
    float t = xc * 1.44269504088896341f + round_magic;
    float n = t - round_magic;
    uint32_t tb;
    memcpy(&tb, &t, sizeof tb);
    uint32_t scale_bits = (tb - round_magic_bits + 127u) << 23; /* 2^n: n in [-126, 127] here */
    float scale;
    memcpy(&scale, &scale_bits, sizeof scale);
    float r = xc - n * 0.693359375f; /* ln2 split in two (Cephes C1, C2) so n * C1 is exact */
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = (p * r * r + r + 1.0f) * scale;
    y = x > hi ? __builtin_inff() : y;
    return x < lo ? 0.0f : y;
}

#endif
