/* keys: the table and its lookups. Labels use arrows only as display text; help lines stay within 60 columns so
 * the overlay fits an 80-column terminal. */
#include "keys.h"

#include "tui_curses.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define CTRL(c) ((c)&0x1f)

const struct key_binding keys_table[] = {
    {{'?', KEY_F(1)}, ACT_HELP, "?", "show / hide this help"},
    {{'q', 'Q'}, ACT_QUIT, "q", "quit (a live run: detach, or stop training)"},
    {{CTRL('c')}, ACT_INTERRUPT, "Ctrl-C", "save and stop (asks first; again: stop now)"},
    {{'p', ' '}, ACT_PAUSE, "p, space", "pause / resume training"},
    {{'s'}, ACT_SAVE, "s", "save a checkpoint now"},
    {{'e'}, ACT_EVAL, "e", "run an evaluation now"},
    {{'\t'}, ACT_FOCUS_NEXT, "Tab", "focus the next panel"},
    {{KEY_BTAB}, ACT_FOCUS_PREV, "Shift-Tab", "focus the previous panel"},
    {{'1', '2', '3', '4'}, ACT_FOCUS_PANEL, "1-4", "focus reward, length, advantages, traces"},
    {{'z'}, ACT_ZOOM, "z", "zoom the focused panel to the whole body"},
    {{KEY_LEFT}, ACT_GROUP_PREV, "←", "previous sample group (then earlier steps)"},
    {{KEY_RIGHT}, ACT_GROUP_NEXT, "→", "next sample group (then later steps)"},
    {{KEY_PPAGE, '['}, ACT_STEP_PREV, "PgUp, [", "previous logged step"},
    {{KEY_NPAGE, ']'}, ACT_STEP_NEXT, "PgDn, ]", "next logged step"},
    {{KEY_HOME, 'g'}, ACT_FIRST, "Home, g", "first logged step"},
    {{KEY_END, 'G'}, ACT_LATEST, "End, G", "latest step (follow new steps)"},
    {{KEY_UP, 'k'}, ACT_SCROLL_UP, "↑, k", "scroll the traces up"},
    {{KEY_DOWN, 'j'}, ACT_SCROLL_DOWN, "↓, j", "scroll the traces down"},
    {{'/'}, ACT_SEARCH, "/", "search the traces (Enter: go, Esc: cancel)"},
    {{'n'}, ACT_SEARCH_NEXT, "n", "next search match"},
    {{'N'}, ACT_SEARCH_PREV, "N", "previous search match"},
    {{'+', '='}, ACT_SMOOTH_MORE, "+", "more smoothing (EMA weight up)"},
    {{'-', '_'}, ACT_SMOOTH_LESS, "-", "less smoothing (EMA weight down)"},
    {{'l'}, ACT_LOG, "l", "log scale for the focused chart"},
    {{'b'}, ACT_GRAPH, "b", "cycle plot symbols: braille, block, ASCII"},
    {{'t'}, ACT_THEME, "t", "cycle theme"},
    {{'c'}, ACT_STAGE_NEXT, "c", "a pipeline: show the next stage"},
    {{'C'}, ACT_STAGE_PREV, "C", "a pipeline: show the previous stage"},
    {{CTRL('l')}, ACT_REDRAW, "Ctrl-L", "redraw the screen"},
    {{27}, ACT_CLOSE, "Esc", "close the overlay or prompt"},
    {{KEY_MOUSE}, ACT_MOUSE, "wheel", "scroll traces or steps; click focuses (--no-mouse: off)"},
};
const size_t keys_table_len = sizeof keys_table / sizeof keys_table[0];

static const char *const action_names[ACT_COUNT] = {
    [ACT_NONE] = "none",
    [ACT_QUIT] = "quit",
    [ACT_INTERRUPT] = "interrupt",
    [ACT_PAUSE] = "pause",
    [ACT_SAVE] = "save",
    [ACT_EVAL] = "eval",
    [ACT_FOCUS_NEXT] = "focus-next",
    [ACT_FOCUS_PREV] = "focus-prev",
    [ACT_FOCUS_PANEL] = "focus-panel",
    [ACT_ZOOM] = "zoom",
    [ACT_GROUP_PREV] = "group-prev",
    [ACT_GROUP_NEXT] = "group-next",
    [ACT_STEP_PREV] = "step-prev",
    [ACT_STEP_NEXT] = "step-next",
    [ACT_FIRST] = "first",
    [ACT_LATEST] = "latest",
    [ACT_SCROLL_UP] = "scroll-up",
    [ACT_SCROLL_DOWN] = "scroll-down",
    [ACT_SEARCH] = "search",
    [ACT_SEARCH_NEXT] = "search-next",
    [ACT_SEARCH_PREV] = "search-prev",
    [ACT_SMOOTH_MORE] = "smooth-more",
    [ACT_SMOOTH_LESS] = "smooth-less",
    [ACT_LOG] = "log-scale",
    [ACT_GRAPH] = "graph-symbols",
    [ACT_THEME] = "theme",
    [ACT_REDRAW] = "redraw",
    [ACT_CLOSE] = "close",
    [ACT_HELP] = "help",
    [ACT_MOUSE] = "mouse",
    [ACT_STAGE_NEXT] = "stage-next",
    [ACT_STAGE_PREV] = "stage-prev",
};

enum action keys_lookup(int key) {
    if (key == 0) return ACT_NONE;
    for (size_t i = 0; i < keys_table_len; i++)
        for (int k = 0; k < KEYS_PER_BINDING && keys_table[i].keys[k]; k++)
            if (keys_table[i].keys[k] == key) return keys_table[i].action;
    return ACT_NONE;
}

const char *keys_action_name(enum action a) {
    return (unsigned)a < ACT_COUNT && action_names[a] ? action_names[a] : "?";
}

/* The label with arrows spelt out, for terminals without UTF-8. */
static void ascii_label(const char *label, char *out, size_t cap) {
    static const struct {
        const char *arrow, *word;
    } words[] = {{"←", "Left"}, {"→", "Right"}, {"↑", "Up"}, {"↓", "Down"}};
    size_t o = 0;
    while (*label && o + 1 < cap) {
        bool done = false;
        for (size_t w = 0; w < sizeof words / sizeof words[0] && !done; w++) {
            size_t al = strlen(words[w].arrow), wl = strlen(words[w].word);
            if (strncmp(label, words[w].arrow, al) == 0 && o + wl < cap) {
                memcpy(out + o, words[w].word, wl);
                o += wl;
                label += al;
                done = true;
            }
        }
        if (!done) out[o++] = *label++;
    }
    out[o] = '\0';
}

size_t keys_label(size_t i, bool ascii, char *out, size_t cap) {
    if (cap == 0) return 0;
    out[0] = '\0';
    if (i >= keys_table_len) return 0;
    if (ascii)
        ascii_label(keys_table[i].label, out, cap);
    else
        snprintf(out, cap, "%s", keys_table[i].label);
    return strlen(out);
}

size_t keys_help_line(size_t i, int label_w, bool ascii, char *out, size_t cap) {
    if (i >= keys_table_len) {
        if (cap) out[0] = '\0';
        return 0;
    }
    const struct key_binding *b = &keys_table[i];
    char label[64];
    keys_label(i, ascii, label, sizeof label);
    /* Pad by display columns, not bytes: labels may hold arrows (3 bytes, 1 column each). */
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)label; *p; p++)
        if ((*p & 0xC0) != 0x80) cols++;
    int pad = label_w > cols ? label_w - cols : 1;
    int n = snprintf(out, cap, "%s%*s%s", label, pad, "", b->help);
    return n < 0 ? 0 : (size_t)n;
}
