/* textout: control characters in model text become visible escapes on a terminal. */
#include "textout.h"

#include <stdint.h>

#include "utf8.h"

/* Characters that can change what a terminal shows beyond printing themselves. */
static int textout_is_control(uint32_t cp) {
    if (cp == '\n' || cp == '\t') return 0;
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) return 1;
    /* Bidirectional embeddings, overrides and isolates reorder the text that follows them. */
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

long textout_write_safe(FILE *out, const char *s, size_t len) {
    long written = 0;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        int r;
        if (n == 0) { /* not expected (callers pass valid UTF-8); show the byte rather than pass it through */
            r = fprintf(out, "\\x%02x", (unsigned char)s[i]);
            n = 1;
        } else if (!textout_is_control(cp)) {
            r = fwrite(s + i, 1, n, out) == n ? (int)n : -1;
        } else if (cp < 0x80) {
            r = fprintf(out, "\\x%02x", (unsigned)cp);
        } else {
            r = fprintf(out, "\\u%04x", (unsigned)cp);
        }
        if (r < 0) return -1;
        written += r;
        i += n;
    }
    return written;
}
