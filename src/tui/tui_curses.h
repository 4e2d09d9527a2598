/* tui_curses: the one place the dashboard includes curses, with the wide-character API switched on (add_wch,
 * get_wch, UTF-8 strings through addnstr). Only src/tui includes this; the engine never does. */
#ifndef R1LAB_TUI_CURSES_H
#define R1LAB_TUI_CURSES_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

#endif
