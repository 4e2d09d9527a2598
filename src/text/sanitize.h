/* sanitize: turns untrusted bytes (model completions, prompts, anything read from a run directory) into text
 * that is safe to hand to a terminal, and measures display widths.
 *
 * Neutralised: C0 controls (ESC among them) become their visible Control Pictures (U+2400 + c, "␛"), or caret
 * notation ("^[") in ASCII mode; DEL becomes "␡" / "^?"; C1 controls, bidirectional controls (U+202A–U+202E,
 * U+2066–U+2069, U+200E/F, U+061C), line/paragraph separators, and every other format, private-use, surrogate or
 * unassigned code point become "<U+XXXX>"; invalid UTF-8 becomes U+FFFD ("?" in ASCII mode), one per bad byte.
 * So a completion carrying escape sequences, OSC 52 clipboard writes or a Trojan-Source reordering can only ever
 * appear as inert text. Newlines survive when asked (traces are shown with their line breaks), tabs become
 * spaces. The output is always valid UTF-8 (pure ASCII in ASCII mode) with a known width per character.
 *
 * Widths follow wcwidth(3) when the locale is UTF-8 (curses measures with it too), utf8proc otherwise; a code
 * point the C library calls unprintable is escaped rather than passed on. */
#ifndef R1LAB_TEXT_SANITIZE_H
#define R1LAB_TEXT_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum san_flags {
    SAN_KEEP_NEWLINES = 1u << 0, /* '\n' stays a line break (and "\r\n" becomes "\n"); otherwise it shows as "␤" */
    SAN_ASCII = 1u << 1,         /* the terminal is not UTF-8: emit printable ASCII only */
};

/* Writes the sanitised form of in[0..n) into out (cap bytes, NUL-terminated when cap > 0) and returns its length.
 * Output stops early, on a character boundary, rather than overflow; *consumed (optional) says how many input
 * bytes were used, so n - *consumed bytes were left out. */
size_t san_text(const char *in, size_t n, unsigned flags, char *out, size_t cap, size_t *consumed);

/* Columns one code point of sanitised text occupies (0 for combining marks, 2 for wide characters). */
int san_cp_width(uint32_t cp);
/* Columns of sanitised text s[0..n). */
int san_width(const char *s, size_t n);
/* The display width of the character that starts s (n > 0 bytes) and, in *len, its length in bytes; a byte
 * that does not start valid UTF-8 counts as one column and one byte. */
int san_char_width(const char *s, size_t n, size_t *len);
/* Bytes of the longest prefix of sanitised text s[0..n) that fits in `cols` columns; *used (optional) gets its
 * width. Never splits a character. */
size_t san_fit(const char *s, size_t n, int cols, int *used);

#endif
