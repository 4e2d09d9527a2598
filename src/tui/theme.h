/* theme: colour roles, theme files, and mapping colours to what the terminal can show.
 *
 * Draw code names colours by role (COLOR_ROLE_REWARD_TOTAL, COLOR_ROLE_THINK ...), never by value. A theme gives
 * each role a colour as "#rrggbb" or "" (the terminal's default), plus three gradients given by _start/_mid/_end
 * keys. Theme files (r1lab-theme(5)) hold lines `theme[key]="#rrggbb"` (the btop form; `key = "#rrggbb"` also
 * works) and # comments; a key a file leaves out keeps the default theme's colour, an unknown key is warned
 * about and ignored, a malformed line is an error naming file:line. "default" and "mono" are compiled in, so the
 * dashboard never depends on an installed file.
 *
 * Search order for --theme NAME: $XDG_CONFIG_HOME/r1lab/themes/NAME.theme (~/.config when unset), then
 * R1LAB_SHARE_DIR/themes, then ./themes, then the built-ins. A value containing '/' or ending in ".theme" is a path.
 * A theme whose every role is "" is monochrome: the dashboard then relies on bold/dim/reverse/underline alone.
 *
 * Colour depth: 24-bit values are shown as they are on truecolor terminals, else mapped to the nearest entry of
 * the xterm 256-colour cube/grey ramp, or of the 16 ANSI colours. No curses here. */
#ifndef R1LAB_TUI_THEME_H
#define R1LAB_TUI_THEME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/util/status.h"

#ifndef R1LAB_SHARE_DIR
#define R1LAB_SHARE_DIR "/usr/local/share/r1lab"
#endif

enum color_role {
    COLOR_ROLE_MAIN,         /* ordinary text */
    COLOR_ROLE_TITLE,        /* panel titles */
    COLOR_ROLE_HI,           /* key names in hints and help */
    COLOR_ROLE_INACTIVE,     /* axis labels, units, n/a */
    COLOR_ROLE_BORDER,       /* panel borders */
    COLOR_ROLE_BORDER_FOCUS, /* the focused panel's border */
    COLOR_ROLE_SELECTED,     /* selected marker, step cursor label */
    COLOR_ROLE_REWARD_TOTAL,
    COLOR_ROLE_REWARD_ACCURACY,
    COLOR_ROLE_REWARD_FORMAT,
    COLOR_ROLE_REWARD_LANGUAGE,
    COLOR_ROLE_REWARD_OTHER,
    COLOR_ROLE_EVAL,
    COLOR_ROLE_LENGTH,
    COLOR_ROLE_LENGTH_BAND,
    COLOR_ROLE_LENGTH_CAP,
    COLOR_ROLE_CURSOR,
    COLOR_ROLE_PROMPT,
    COLOR_ROLE_THINK,
    COLOR_ROLE_ANSWER,
    COLOR_ROLE_TAG,
    COLOR_ROLE_REFLECT,
    COLOR_ROLE_MATCH,
    COLOR_ROLE_CORRECT,
    COLOR_ROLE_WRONG,
    COLOR_ROLE_OK,
    COLOR_ROLE_WARN,
    COLOR_ROLE_ALARM,
    COLOR_ROLE_COUNT,
};

enum color_gradient {
    COLOR_GRAD_SPARK,    /* health sparklines, low -> high */
    COLOR_GRAD_ADV,      /* advantage bars, negative -> zero -> positive */
    COLOR_GRAD_PROGRESS, /* progress bar, start -> end */
    COLOR_GRAD_COUNT,
};
#define COLOR_GRAD_STEPS 8 /* distinct colours a gradient is drawn with */

#define COLOR_DEFAULT (-1) /* "": the terminal's own colour */

struct theme {
    char name[64];
    int32_t bg;                        /* main_bg: 0xRRGGBB or COLOR_DEFAULT */
    int32_t fg[COLOR_ROLE_COUNT];      /* 0xRRGGBB or COLOR_DEFAULT */
    int32_t grad[COLOR_GRAD_COUNT][3]; /* start, mid (COLOR_DEFAULT: none), end */
};

/* The documented keys of a theme file, in file order; `comment` is the one-line description each theme file
 * repeats above the key (and r1lab-theme(5) lists). */
enum theme_key_kind { THEME_KEY_BG, THEME_KEY_ROLE, THEME_KEY_GRAD };
struct theme_key {
    const char *key;
    enum theme_key_kind kind;
    int index; /* role or gradient */
    int part;  /* gradient point: 0 start, 1 mid, 2 end */
    const char *comment;
};
extern const struct theme_key theme_keys[];
extern const size_t theme_keys_len;

/* The built-in themes ("default", "mono"); false for another name. */
bool theme_builtin(const char *name, struct theme *out);
/* Parses theme text over a copy of the default theme. Unknown keys append "where:line: ..." lines to warn
 * (NUL-terminated, truncated to cap). Malformed lines and bad colours fail with STATUS_FORMAT. */
enum status theme_parse(const char *text, size_t len, const char *where, struct theme *out, char *warn, size_t cap);
/* Loads a theme by NAME (search path above) or PATH. */
enum status theme_load(const char *spec, struct theme *out, char *warn, size_t cap);
/* Names of the themes that --theme NAME would find (built-ins included), "default" first, no duplicates. Returns
 * how many were written (at most max). */
size_t theme_list(char (*names)[64], size_t max);
/* True when every role and gradient point is COLOR_DEFAULT. */
bool theme_is_mono(const struct theme *t);
/* Colour of step i (0..COLOR_GRAD_STEPS-1) of a gradient, interpolated through mid when set. */
int32_t theme_gradient(const struct theme *t, enum color_gradient g, int i);

/* Nearest xterm 256-colour index (16..255: cube and grey ramp) / ANSI 16-colour index to 0xRRGGBB. */
int color_to_256(int32_t rgb);
int color_to_16(int32_t rgb);
/* Parses "#rrggbb" (or "" / "default" -> COLOR_DEFAULT); false when malformed. */
bool color_parse(const char *s, int32_t *out);

#endif
