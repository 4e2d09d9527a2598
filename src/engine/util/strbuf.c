/* strbuf: implementation. Capacity doubles, so n appends cost O(total length). */
#include "engine/util/strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct strbuf *sb, size_t extra) {
    if (sb->oom) return false;
    if (extra > SIZE_MAX / 2 - sb->len) {
        sb->oom = true;
        return false;
    }
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap) return true;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need) cap *= 2;
    char *p = realloc(sb->data, cap);
    if (!p) {
        sb->oom = true;
        return false;
    }
    sb->data = p;
    sb->cap = cap;
    return true;
}

void strbuf_append(struct strbuf *sb, const char *s, size_t n) {
    if (!reserve(sb, n)) return;
    if (n) memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void strbuf_puts(struct strbuf *sb, const char *s) {
    strbuf_append(sb, s, strlen(s));
}

void strbuf_putc(struct strbuf *sb, char c) {
    strbuf_append(sb, &c, 1);
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(sb, (size_t)n)) {
        if (n < 0) sb->oom = true;
        va_end(ap2);
        return;
    }
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    sb->len += (size_t)n;
}

void strbuf_put_json_string(struct strbuf *sb, const char *s) {
    strbuf_putc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        switch (c) {
        case '"':
            strbuf_puts(sb, "\\\"");
            break;
        case '\\':
            strbuf_puts(sb, "\\\\");
            break;
        case '\n':
            strbuf_puts(sb, "\\n");
            break;
        case '\r':
            strbuf_puts(sb, "\\r");
            break;
        case '\t':
            strbuf_puts(sb, "\\t");
            break;
        default:
            if (c < 0x20 || c == 0x7F)
                strbuf_printf(sb, "\\u%04x", c);
            else
                strbuf_putc(sb, (char)c);
        }
    }
    strbuf_putc(sb, '"');
}

void strbuf_clear(struct strbuf *sb) {
    sb->len = 0;
    if (sb->data) sb->data[0] = '\0';
}

enum status strbuf_status(const struct strbuf *sb) {
    if (sb->oom) return err_set(STATUS_NOMEM, "out of memory building a string of %zu bytes", sb->len);
    return STATUS_OK;
}

char *strbuf_detach(struct strbuf *sb) {
    char *p = NULL;
    if (!sb->oom)
        p = sb->data ? sb->data : strdup("");
    else
        free(sb->data);
    *sb = (struct strbuf){0};
    return p;
}

void strbuf_free(struct strbuf *sb) {
    free(sb->data);
    *sb = (struct strbuf){0};
}
