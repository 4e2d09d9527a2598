/* repl_text: the one door model text goes through on its way to a terminal, and the display widths the
 * side-by-side layout measures with.
 *
 * repl_text_sanitize is the only function in src/repl that turns model (or server) text into text that is
 * safe to print: control characters, escape sequences and bidi overrides become visible escapes, so a reply
 * cannot recolour, move the cursor or retitle the window. Newlines and tabs survive. Every view (the chat
 * stream, the columns, /diff, /show, plain mode, error messages quoting a server) prints through it, so
 * switching to the dashboard's san_text later is a one-line change here.
 *
 * Sanitised text never contains C0 controls other than '\n' and '\t', so the renderers use the bytes
 * REPL_STYLE_* below as zero-width style markers inside sanitised text. */
#ifndef R1LAB_REPL_TEXT_H
#define R1LAB_REPL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/util/strbuf.h"

/* Style markers (bytes that sanitised text never contains). */
enum repl_style {
    REPL_STYLE_PLAIN = 0x01, /* the reply text */
    REPL_STYLE_DIM = 0x02,   /* <think> text and tags */
    REPL_STYLE_BOLD = 0x03,  /* the answer inside <answer> tags, headers */
    REPL_STYLE_DEL = 0x04,   /* /diff: words only in A */
    REPL_STYLE_INS = 0x05,   /* /diff: words only in B */
};
static inline bool repl_is_style(unsigned char c) {
    return c >= REPL_STYLE_PLAIN && c <= REPL_STYLE_INS;
}

/* Appends the terminal-safe form of s[0..n) to out. Total: invalid UTF-8 is shown as \xHH. */
void repl_text_sanitize(const char *s, size_t n, struct strbuf *out);
/* Sanitises s[0..n) and writes it to f. */
void repl_out_model_text(FILE *f, const char *s, size_t n);

/* Columns a code point occupies on the terminal (0 for combining marks, 2 for wide characters). */
int repl_cp_width(uint32_t cp);
/* Columns of sanitised text (style markers count 0). */
int repl_text_width(const char *s, size_t n);

/* Writes sanitised, marked text to f: markers become SGR sequences when `color`, else are dropped. */
void repl_write_styled(FILE *f, const char *s, size_t n, bool color);
/* The SGR sequence of a style ("\033[0;2m" ...). */
const char *repl_style_sgr(enum repl_style st);

#endif
