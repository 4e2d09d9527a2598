/* history: the REPL's input history, kept across sessions in a file.
 *
 * Where: $R1LAB_HISTORY when set (an empty value turns history off), else $XDG_STATE_HOME/r1lab/history,
 * else ~/.local/state/r1lab/history. The directory is created (0700) and the file is private (0600).
 * One entry per line, a multi-line entry with '\n' written as "\n" and '\' as "\\", so a pasted block comes
 * back as one entry. Each entry is appended as it is entered (a crash loses nothing, two sessions do not
 * overwrite each other); the file is cut to the newest HISTORY_KEEP entries when it has grown to twice that.
 * Lines starting with a space and repeats of the previous entry are not recorded. */
#ifndef R1LAB_HISTORY_H
#define R1LAB_HISTORY_H

#include <limits.h>
#include <stdbool.h>

#include "engine/util/status.h"

#define HISTORY_KEEP 1000

struct history {
    bool enabled;
    char path[PATH_MAX];
    char *last; /* the previous entry (for de-duplication) */
};

/* Resolves the path and loads the file into readline's history. A missing file is fine. */
enum status history_open(struct history *h);
void history_add(struct history *h, const char *entry);
/* Trims the file if it has grown large, and frees memory. */
void history_close(struct history *h);

/* The path history_open would use ("" when disabled). */
enum status history_path(char *out, size_t cap, bool *enabled);

#endif
