/* utf8: the few UTF-8 operations r1lab needs everywhere (validation, decoding one code point, finding
 * where a complete character ends, copying text as valid UTF-8). Strict: overlong forms, surrogates and values
 * above U+10FFFF are invalid, as in RFC 3629. */
#ifndef R1LAB_UTF8_H
#define R1LAB_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes the code point at s (n bytes available). Returns its length in bytes (1..4) and stores it in
 * *cp, or returns 0 when the bytes are not valid UTF-8 (or truncated). */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Encodes cp into out (at least 4 bytes); returns the length, 0 for an invalid code point. */
size_t utf8_encode(uint32_t cp, char *out);
/* True when all n bytes are valid UTF-8. On failure *bad_offset (if given) is the first bad byte. */
bool utf8_valid(const char *s, size_t n, size_t *bad_offset);
/* Length of the longest prefix of s[0..n) that ends on a character boundary, assuming the bytes so far are
 * a valid prefix of UTF-8: a streaming decoder emits this much and keeps the rest for later. */
size_t utf8_complete_prefix(const char *s, size_t n);
/* Copies the NUL-terminated src into dst (cap > 0 bytes, NUL included) as valid UTF-8: cut on a character boundary
 * where it does not fit, each byte that is not part of a valid character written as '?'. For text that goes into a
 * JSON file its readers check (a message quoting a file name that is not UTF-8, a name cut to its field). Returns
 * the length written. */
size_t utf8_copy_valid(char *dst, size_t cap, const char *src);

#endif
