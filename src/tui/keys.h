/* keys: the dashboard's one key table. Each row binds up to four keys to an action and carries the label and
 * help text shown by the `?` overlay, so dispatch and documentation cannot drift apart (a test checks that
 * every action has a row and that every row's keys dispatch to it). The same rows are listed in r1lab-dash(1)
 * and in the KEYS section of r1lab-train(1). Key codes are curses' (KEY_LEFT ...) or characters. */
#ifndef R1LAB_TUI_KEYS_H
#define R1LAB_TUI_KEYS_H

#include <stdbool.h>
#include <stddef.h>

enum action {
    ACT_NONE,
    ACT_QUIT,
    ACT_INTERRUPT, /* Ctrl-C when it arrives as a key rather than a signal */
    ACT_PAUSE,
    ACT_SAVE,
    ACT_EVAL,
    ACT_FOCUS_NEXT,
    ACT_FOCUS_PREV,
    ACT_FOCUS_PANEL, /* digits: the panel is key - '1' */
    ACT_ZOOM,
    ACT_GROUP_PREV,
    ACT_GROUP_NEXT,
    ACT_STEP_PREV,
    ACT_STEP_NEXT,
    ACT_FIRST,
    ACT_LATEST,
    ACT_SCROLL_UP,
    ACT_SCROLL_DOWN,
    ACT_SEARCH,
    ACT_SEARCH_NEXT,
    ACT_SEARCH_PREV,
    ACT_SMOOTH_MORE,
    ACT_SMOOTH_LESS,
    ACT_LOG,
    ACT_GRAPH,
    ACT_THEME,
    ACT_REDRAW,
    ACT_CLOSE,
    ACT_HELP,
    ACT_MOUSE,
    ACT_STAGE_NEXT, /* a pipeline: show the next / previous stage */
    ACT_STAGE_PREV,
    ACT_COUNT,
};

#define KEYS_PER_BINDING 4

struct key_binding {
    int keys[KEYS_PER_BINDING]; /* 0 ends the list early */
    enum action action;
    const char *label; /* how the help overlay names the keys: "←/h" */
    const char *help;  /* one line */
};

extern const struct key_binding keys_table[];
extern const size_t keys_table_len;

/* The action bound to a key code, or ACT_NONE. */
enum action keys_lookup(int key);
/* "quit" ... : a stable name per action (for tests and messages). */
const char *keys_action_name(enum action a);
/* The label of row i, arrows spelt out ("Left") when ascii; returns its length. */
size_t keys_label(size_t i, bool ascii, char *out, size_t cap);
/* Line i of the help overlay ("q          quit ..."), label padded to `label_w` columns, arrows spelt out
 * ("Left") when ascii; returns its length. */
size_t keys_help_line(size_t i, int label_w, bool ascii, char *out, size_t cap);

#endif
