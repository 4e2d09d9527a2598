/* textout: writing model-produced text to a terminal without letting it drive the terminal. Decoded text
 * can hold any character, including ESC sequences that recolour, move the cursor or retitle the window;
 * on a terminal those are shown as visible escapes instead. Piped output stays byte-exact (callers decide:
 * the rule everywhere is "neutralise on a TTY unless --raw"). */
#ifndef R1LAB_TEXTOUT_H
#define R1LAB_TEXTOUT_H

#include <stddef.h>
#include <stdio.h>

/* Writes s[0..len) (valid UTF-8) to out with C0 controls other than newline and tab shown as \xHH, DEL as
 * \x7f, and C1 controls and bidirectional overrides shown as \uHHHH. Returns bytes written, or -1 on error. */
long textout_write_safe(FILE *out, const char *s, size_t len);

#endif
