/* layout: the geometry of the side-by-side view as pure functions — how wide each column is for a terminal
 * of a given width, and where text wraps in a column of a given display width.
 *
 * Text here is sanitised text (repl_text.h) that may carry zero-width style markers. Wrapping is greedy by
 * words: a line breaks at the last space that keeps it within the width (the spaces at the break are
 * dropped), a word longer than the width is cut between characters, '\n' always breaks (and indentation
 * after it is kept). Widths are display columns (wide characters count 2, combining marks 0); a character
 * is never split. Every line is at most `width` columns, for any width >= 2.
 *
 * Greedy wrapping is prefix-stable: once text continues past a line's end, that line never changes. So a
 * streaming view wraps only from the start of its last line and prints every other line for good. */
#ifndef R1LAB_LAYOUT_H
#define R1LAB_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#define LAYOUT_GAP 3      /* " | " between the columns */
#define LAYOUT_MIN_COL 12 /* narrower than this, the view stacks the replies instead */

struct layout_cols {
    bool side_by_side; /* false: the terminal is too narrow; replies are shown one after the other */
    int left, right;   /* column widths */
    int total;         /* left + LAYOUT_GAP + right, <= the terminal width - 1 */
};
/* Columns for a terminal `cols` wide. The last terminal column stays unused (writing it makes some terminals
 * wrap early). */
struct layout_cols layout_columns(int cols);

/* One line of s[0..n) at most `width` columns wide. *len: the line's bytes (trailing break spaces excluded);
 * *next: where the following line starts; *cols: the line's display width. Returns true when the line is
 * complete — ended by '\n' or by text that did not fit — and false when the text ran out first (the line may
 * still grow). At the end of the text, *next = n. */
bool layout_wrap_line(const char *s, size_t n, int width, size_t *len, size_t *next, int *cols);

/* Wraps all of s into lines (offsets and lengths written to off/lens, up to max lines); returns the number of
 * lines, counting any beyond max. The last line may be empty. */
size_t layout_wrap(const char *s, size_t n, int width, size_t *off, size_t *lens, size_t max);

#endif
