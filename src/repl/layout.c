/* layout: column widths and greedy word wrapping by display width. */
#include "layout.h"

#include "engine/util/utf8.h"
#include "repl_text.h"

struct layout_cols layout_columns(int cols) {
    struct layout_cols c = {0};
    int usable = cols - 1;
    if (usable < 2 * LAYOUT_MIN_COL + LAYOUT_GAP) {
        c.left = c.right = usable < 2 ? 2 : usable;
        c.total = c.left;
        return c;
    }
    c.side_by_side = true;
    c.left = (usable - LAYOUT_GAP) / 2;
    c.right = usable - LAYOUT_GAP - c.left;
    c.total = c.left + LAYOUT_GAP + c.right;
    return c;
}

/* Skips the spaces (and style markers among them) from j, plus one '\n' right after them: a break eats both. */
static size_t skip_break(const char *s, size_t n, size_t j) {
    while (j < n && (s[j] == ' ' || repl_is_style((unsigned char)s[j]))) j++;
    if (j < n && s[j] == '\n') j++;
    return j;
}

bool layout_wrap_line(const char *s, size_t n, int width, size_t *len, size_t *next, int *cols) {
    int col = 0;
    size_t brk = 0; /* start of the last run of spaces after some content: where the line may end */
    int brk_cols = 0;
    bool have_brk = false, prev_space = false;
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            *len = i, *next = i + 1, *cols = col;
            return true;
        }
        if (repl_is_style(c)) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = utf8_decode(s + i, n - i, &cp);
        if (k == 0) k = 1, cp = 0xFFFD;
        int w = repl_cp_width(cp);
        if (c == ' ') {
            if (!prev_space && col > 0) brk = i, brk_cols = col, have_brk = true;
            prev_space = true;
            if (col + w > width) { /* the line is full at this space: break at its run */
                size_t j = skip_break(s, n, i);
                *len = have_brk ? brk : i, *cols = have_brk ? brk_cols : col;
                *next = j;
                /* Spaces up to the end of the text: more may follow, so the line is not final yet. */
                return j < n || (j > i && s[j - 1] == '\n');
            }
        } else {
            prev_space = false;
            if (col + w > width) {
                if (have_brk) { /* end before the last space run; the next line starts with this word */
                    *len = brk, *cols = brk_cols;
                    *next = skip_break(s, n, brk);
                    return true;
                }
                if (col > 0) { /* a word longer than the line: cut it here */
                    *len = i, *next = i, *cols = col;
                    return true;
                }
                /* One character wider than the whole line goes alone. */
            }
        }
        col += w;
        i += k;
    }
    *len = n, *next = n, *cols = col;
    return false;
}

size_t layout_wrap(const char *s, size_t n, int width, size_t *off, size_t *lens, size_t max) {
    size_t count = 0, pos = 0;
    for (;;) {
        size_t len, next;
        int cols;
        bool complete = layout_wrap_line(s + pos, n - pos, width, &len, &next, &cols);
        if (count < max) {
            off[count] = pos;
            lens[count] = len;
        }
        count++;
        if (!complete) break;
        pos += next;
    }
    return count;
}
