/* termcaps: what the terminal can do, decided from the environment alone (pure; no curses, tested directly).
 * Plain line output when stdout or stdin is not a terminal or TERM is unset or "dumb"; colour depth from
 * --color, NO_COLOR (https://no-color.org: any non-empty value), COLORTERM (truecolor / 24bit) and the number of
 * colours terminfo reports; plot symbols from the locale's charset and TERM (the Linux console's font has no
 * braille). */
#ifndef R1LAB_TUI_TERMCAPS_H
#define R1LAB_TUI_TERMCAPS_H

#include <stdbool.h>

#include "plot.h"
#include "tui.h"

enum color_depth { DEPTH_MONO, DEPTH_16, DEPTH_256, DEPTH_TRUE };

struct term_env {
    const char *term;      /* $TERM */
    const char *colorterm; /* $COLORTERM */
    const char *no_color;  /* $NO_COLOR */
    bool stdin_tty, stdout_tty;
    bool utf8; /* the locale's charset is UTF-8 */
};

/* Reads the process environment (after setlocale). */
void termcaps_from_env(struct term_env *e);
bool termcaps_plain(const struct term_env *e);
/* curses_colors: COLORS after start_color (0 when has_colors() is false). */
enum color_depth termcaps_depth(enum tui_color opt, const struct term_env *e, int curses_colors);
/* True when COLORTERM asks for 24-bit colour. */
bool termcaps_wants_truecolor(const struct term_env *e);
enum plot_mode termcaps_plot_mode(enum tui_graph opt, const struct term_env *e);
const char *termcaps_depth_name(enum color_depth d);

#endif
