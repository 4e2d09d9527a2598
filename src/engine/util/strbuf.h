/* strbuf: a growable NUL-terminated byte string for building text (prompts, documents, JSON lines).
 *
 * Appending never fails silently: an allocation failure sets the buffer's `oom` flag and later appends
 * become no-ops, so a builder can append freely and check once at the end (strbuf_status). The text is
 * always NUL-terminated when `len > 0` or after any append; a zeroed struct is a valid empty buffer. */
#ifndef R1LAB_STRBUF_H
#define R1LAB_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/util/status.h"

struct strbuf {
    char *data; /* NUL-terminated once anything was appended; NULL for a fresh buffer */
    size_t len; /* bytes, without the NUL */
    size_t cap; /* bytes allocated */
    bool oom;   /* an append failed; the contents are truncated */
};

void strbuf_append(struct strbuf *sb, const char *s, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes, escapes, control characters as \u00XX). */
void strbuf_put_json_string(struct strbuf *sb, const char *s);
void strbuf_clear(struct strbuf *sb); /* keeps the allocation */
/* STATUS_NOMEM (with a message) when an append failed, else STATUS_OK. */
enum status strbuf_status(const struct strbuf *sb);
/* Hands the text to the caller (malloc'd, NUL-terminated, "" for an empty buffer; NULL after an allocation
 * failure) and resets the buffer. */
char *strbuf_detach(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);

#endif
