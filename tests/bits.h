/* Bit patterns of floats and of their 16-bit formats, for the tests of the conversions (test_half.c) and of
 * safetensors values (test_safetensors.c). NaN tests look at the bits: NaN payloads are compared by NaN-ness. */
#ifndef R1LAB_TESTS_BITS_H
#define R1LAB_TESTS_BITS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline bool is_nan32(uint32_t u) {
    return (u & 0x7FFFFFFFu) > 0x7F800000u;
}
static inline bool is_nan16(uint16_t h) {
    return (h & 0x7FFFu) > 0x7C00u;
}
static inline bool is_nan_bf16(uint16_t h) {
    return (h & 0x7FFFu) > 0x7F80u;
}

#endif
