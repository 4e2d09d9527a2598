/* termcaps: implementation. */
#include "termcaps.h"

#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void termcaps_from_env(struct term_env *e) {
    e->term = getenv("TERM");
    e->colorterm = getenv("COLORTERM");
    e->no_color = getenv("NO_COLOR");
    e->stdin_tty = isatty(STDIN_FILENO);
    e->stdout_tty = isatty(STDOUT_FILENO);
    const char *cs = nl_langinfo(CODESET);
    e->utf8 = cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

bool termcaps_plain(const struct term_env *e) {
    return !e->stdout_tty || !e->stdin_tty || !e->term || !*e->term || strcmp(e->term, "dumb") == 0;
}

bool termcaps_wants_truecolor(const struct term_env *e) {
    return e->colorterm && (strcasecmp(e->colorterm, "truecolor") == 0 || strcasecmp(e->colorterm, "24bit") == 0);
}

enum color_depth termcaps_depth(enum tui_color opt, const struct term_env *e, int curses_colors) {
    if (opt == TUI_COLOR_NEVER) return DEPTH_MONO;
    if (opt == TUI_COLOR_AUTO && e->no_color && *e->no_color) return DEPTH_MONO;
    if (curses_colors < 8) return DEPTH_MONO;
    if (curses_colors >= 0x1000000) return DEPTH_TRUE; /* a direct-colour terminfo entry */
    if (curses_colors >= 256) return DEPTH_256;
    return DEPTH_16;
}

enum plot_mode termcaps_plot_mode(enum tui_graph opt, const struct term_env *e) {
    switch (opt) {
    case TUI_GRAPH_BRAILLE:
        return e->utf8 ? PLOT_BRAILLE : PLOT_ASCII;
    case TUI_GRAPH_BLOCK:
        return e->utf8 ? PLOT_BLOCK : PLOT_ASCII;
    case TUI_GRAPH_ASCII:
        return PLOT_ASCII;
    case TUI_GRAPH_AUTO:
        break;
    }
    if (!e->utf8) return PLOT_ASCII;
    if (e->term && strncmp(e->term, "linux", 5) == 0) return PLOT_BLOCK;
    return PLOT_BRAILLE;
}

const char *termcaps_depth_name(enum color_depth d) {
    switch (d) {
    case DEPTH_MONO:
        return "monochrome";
    case DEPTH_16:
        return "16 colours";
    case DEPTH_256:
        return "256 colours";
    case DEPTH_TRUE:
        return "truecolor";
    }
    return "?";
}
