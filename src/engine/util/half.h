/* half: bf16 and IEEE f16 <-> fp32 conversions, round to nearest even. Header-only so the hot loops that use
 * them inline and vectorise (no loops or calls inside the scalar conversions).
 *
 * NaN: every NaN stays a NaN of the same sign and becomes quiet; the payload keeps its high bits, as the x86
 * conversion instructions (F16C vcvtph2ps / vcvtps2ph, AVX512-BF16) do. PyTorch is not a reference for NaN
 * bits: its scalar and vectorised paths disagree (bf16 NaN comes out as 0x7FC0 or 0xFFFF), so tests compare
 * NaN-ness only. Every other value, subnormals and infinities included, converts exactly as PyTorch does. */
#ifndef R1LAB_HALF_H
#define R1LAB_HALF_H

#include <stdint.h>
#include <string.h>

/* The float whose bits are u (memcpy: no aliasing; used to take |f| without libm's fabsf). */
static inline float half_f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16; /* bf16 is the top half of an fp32: exact, NaN bits kept as they are */
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    /* NaN: truncating could clear every payload bit left and turn it into an infinity; set the quiet bit. */
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u);
    /* Round to nearest even by adding just under half an ulp, plus one when the kept lsb is odd. Cannot
     * overflow 32 bits (the largest non-NaN pattern is -inf, 0xFF800000); a carry into the exponent is the
     * correct result, up to and including infinity. */
    uint32_t rounding = 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)((u + rounding) >> 16);
}

static inline float f16_to_f32(uint16_t h) {
    /* All three cases are computed and one is selected, so that a loop over this vectorises. */
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t em = h & 0x7FFFu;                           /* exponent and mantissa */
    uint32_t normal = (em << 13) + ((127u - 15u) << 23); /* rebias the exponent from 15 to 127 */
    /* inf / NaN: the exponent rebiased once more lands on all ones; a NaN also gets the quiet bit. */
    uint32_t infnan = (normal + ((127u - 15u) << 23)) | (em > 0x7C00u ? 0x00400000u : 0u);
    float sub = (float)em * 0x1p-24f; /* zero or subnormal: em * 2^-24, exact (at most 10 significant bits) */
    uint32_t subu;
    memcpy(&subu, &sub, 4);
    /* Selected with masks rather than ?: so that GCC (with its default -ftrapping-math) does not move the
     * multiplication into a branch, which would stop the loop from vectorising. */
    uint32_t is_infnan = 0u - (uint32_t)(em >= 0x7C00u), is_normal = 0u - (uint32_t)(em >= 0x0400u && em < 0x7C00u);
    uint32_t u = sign | (infnan & is_infnan) | (normal & is_normal) | (subu & ~(is_infnan | is_normal));
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t f32_to_f16(float f) {
    /* Branch-free like f16_to_f32: three candidates, one selected. */
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t a = u & 0x7FFFFFFFu; /* |f| */
    /* |f| >= 2^-14 (f16 normal range): rebias the exponent from 127 to 15 and round the 13 dropped mantissa
     * bits to nearest even. A carry into the exponent is right, and everything from 65520 up (inf included)
     * ends at or above 0x7C00, which is clamped to inf. Below 2^-14 this wraps around and is not selected. */
    uint32_t normal = (a - ((127u - 15u) << 23) + 0xFFFu + ((a >> 13) & 1u)) >> 13;
    normal = normal < 0x7C00u ? normal : 0x7C00u;
    /* |f| < 2^-14 (f16 subnormal or zero): adding 0.5 puts |f| in units of 2^-24 (the ulp of 0.5, and the
     * f16 subnormal step) into the low mantissa bits, rounded to nearest even by the FPU. The result can
     * reach 0x400, the smallest normal, which is the correct encoding. */
    float s = half_f32_from_bits(a) + 0.5f;
    uint32_t sub;
    memcpy(&sub, &s, 4);
    sub -= 0x3F000000u;                            /* the bits of 0.5f */
    uint32_t nan = 0x7E00u | ((a >> 13) & 0x3FFu); /* quiet, high payload bits kept */
    uint32_t is_nan = 0u - (uint32_t)(a > 0x7F800000u),
             is_normal = 0u - (uint32_t)(a >= 0x38800000u && a <= 0x7F800000u);
    uint32_t h = (nan & is_nan) | (normal & is_normal) | (sub & ~(is_nan | is_normal)); /* masks: see f16_to_f32 */
    return (uint16_t)(sign | h);
}

#endif
