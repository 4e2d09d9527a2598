/* sanitize: implementation. One pass over the input: decode strictly, classify, emit the character itself or
 * its inert stand-in. No allocation. */
#include "text/sanitize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <utf8proc.h>

#include "engine/util/utf8.h"

/* Code points that are dangerous or invisible even though some libraries consider them printable. */
static bool is_bidi_or_separator(uint32_t cp) {
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
           cp == 0x061C || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF;
}

/* True when cp must be shown as <U+XXXX> rather than passed through. */
static bool must_escape(uint32_t cp) {
    if (cp >= 0x80 && cp <= 0x9F) return true; /* C1 controls: CSI (0x9B), OSC (0x9D) ... */
    if (is_bidi_or_separator(cp)) return true;
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
    if (cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CS ||
        cat == UTF8PROC_CATEGORY_CO || cat == UTF8PROC_CATEGORY_CN)
        return true;
    if (MB_CUR_MAX > 1 && wcwidth((wchar_t)cp) < 0) return true; /* the C library (and so curses) cannot show it */
    return false;
}

int san_cp_width(uint32_t cp) {
    if (cp < 0x80) return cp >= 0x20 && cp < 0x7F ? 1 : 0;
    if (MB_CUR_MAX > 1) {
        int w = wcwidth((wchar_t)cp);
        if (w >= 0) return w;
    }
    int w = utf8proc_charwidth((utf8proc_int32_t)cp);
    return w < 0 ? 1 : w;
}

struct out {
    char *p;
    size_t cap, n;
    bool full;
};

/* Appends s[0..k) whole or not at all (one character's worth of output). */
static bool emit(struct out *o, const char *s, size_t k) {
    if (o->full || o->n + k + 1 > o->cap) {
        o->full = true;
        return false;
    }
    memcpy(o->p + o->n, s, k);
    o->n += k;
    return true;
}

static bool emit_cp(struct out *o, uint32_t cp) {
    char b[4];
    size_t k = utf8_encode(cp, b);
    return emit(o, b, k);
}

size_t san_text(const char *in, size_t n, unsigned flags, char *out, size_t cap, size_t *consumed) {
    struct out o = {out, cap, 0, cap == 0};
    bool ascii = flags & SAN_ASCII;
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)in[i];
        size_t used = 1;
        bool ok;
        if (c == '\n') {
            ok = (flags & SAN_KEEP_NEWLINES) ? emit(&o, "\n", 1) : ascii ? emit(&o, "^J", 2) : emit_cp(&o, 0x2424);
        } else if (c == '\r' && (flags & SAN_KEEP_NEWLINES) && i + 1 < n && in[i + 1] == '\n') {
            ok = emit(&o, "\n", 1);
            used = 2;
        } else if (c == '\t') {
            ok = (flags & SAN_KEEP_NEWLINES) ? emit(&o, "    ", 4) : emit(&o, " ", 1);
        } else if (c < 0x20) {
            char caret[2] = {'^', (char)(c + 0x40)};
            ok = ascii ? emit(&o, caret, 2) : emit_cp(&o, 0x2400 + c);
        } else if (c == 0x7F) {
            ok = ascii ? emit(&o, "^?", 2) : emit_cp(&o, 0x2421);
        } else if (c < 0x80) {
            ok = emit(&o, (const char *)&in[i], 1);
        } else {
            uint32_t cp;
            size_t k = utf8_decode(in + i, n - i, &cp);
            if (k == 0) {
                ok = ascii ? emit(&o, "?", 1) : emit_cp(&o, 0xFFFD); /* one replacement per bad byte */
            } else {
                used = k;
                if (must_escape(cp)) {
                    char esc[16];
                    int m = snprintf(esc, sizeof esc, "<U+%04X>", (unsigned)cp);
                    ok = emit(&o, esc, (size_t)m);
                } else if (ascii) {
                    ok = emit(&o, "?", 1);
                } else {
                    ok = emit(&o, in + i, k);
                }
            }
        }
        if (!ok) break;
        i += used;
    }
    if (cap > 0) out[o.n] = '\0';
    if (consumed) *consumed = i;
    return o.n;
}

int san_char_width(const char *s, size_t n, size_t *len) {
    uint32_t cp;
    size_t k = utf8_decode(s, n, &cp);
    *len = k ? k : 1;
    return k ? san_cp_width(cp) : 1;
}

int san_width(const char *s, size_t n) {
    int w = 0;
    for (size_t i = 0, k; i < n; i += k) w += san_char_width(s + i, n - i, &k);
    return w;
}

size_t san_fit(const char *s, size_t n, int cols, int *used) {
    int w = 0;
    size_t i = 0;
    while (i < n) {
        size_t k;
        int cw = san_char_width(s + i, n - i, &k);
        if (w + cw > cols) break;
        w += cw;
        i += k;
    }
    if (used) *used = w;
    return i;
}
