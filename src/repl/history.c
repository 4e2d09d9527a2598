/* history: the history file, encoded one entry per line, fed to readline's in-memory history. */
#include "history.h"

#include <errno.h>
#include <fcntl.h>
#include <readline/history.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/util/fsutil.h"
#include "engine/util/strbuf.h"

enum status history_path(char *out, size_t cap, bool *enabled) {
    const char *env = getenv("R1LAB_HISTORY");
    int n;
    *enabled = true;
    out[0] = '\0';
    if (env) {
        if (!*env) {
            *enabled = false;
            return STATUS_OK;
        }
        n = snprintf(out, cap, "%s", env);
    } else {
        const char *state = getenv("XDG_STATE_HOME");
        const char *home = getenv("HOME");
        if (state && state[0] == '/')
            n = snprintf(out, cap, "%s/r1lab/history", state);
        else if (home && *home)
            n = snprintf(out, cap, "%s/.local/state/r1lab/history", home);
        else {
            *enabled = false;
            return STATUS_OK;
        }
    }
    if (n < 0 || (size_t)n >= cap) return err_set(STATUS_INVALID, "the history file path is too long");
    return STATUS_OK;
}

static void encode(const char *s, struct strbuf *out) {
    for (; *s; s++) {
        if (*s == '\\')
            strbuf_puts(out, "\\\\");
        else if (*s == '\n')
            strbuf_puts(out, "\\n");
        else if (*s == '\r')
            strbuf_puts(out, "\\r");
        else
            strbuf_putc(out, *s);
    }
}

static void decode_into(const char *s, size_t n, struct strbuf *out) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[++i];
            strbuf_putc(out, c == 'n' ? '\n' : c == 'r' ? '\r' : c);
        } else {
            strbuf_putc(out, s[i]);
        }
    }
}

enum status history_open(struct history *h) {
    memset(h, 0, sizeof *h);
    TRY(history_path(h->path, sizeof h->path, &h->enabled));
    if (!h->enabled) return STATUS_OK;
    char dir[PATH_MAX];
    fs_dirname(dir, sizeof dir, h->path);
    if (!fs_is_dir(dir)) {
        enum status st = fs_mkdir_p(dir);
        if (st != STATUS_OK) {
            h->enabled = false;
            return st;
        }
        chmod(dir, 0700);
    }
    if (!fs_exists(h->path)) return STATUS_OK;
    char *text = NULL;
    size_t len = 0;
    enum status st = fs_read_file(h->path, 64u << 20, &text, &len);
    if (st != STATUS_OK) {
        h->enabled = false;
        return st;
    }
    struct strbuf e = {0};
    for (char *line = text; line < text + len;) {
        char *end = memchr(line, '\n', (size_t)(text + len - line));
        size_t n = end ? (size_t)(end - line) : (size_t)(text + len - line);
        if (n) {
            strbuf_clear(&e);
            decode_into(line, n, &e);
            if (e.data) add_history(e.data);
        }
        line += n + 1;
    }
    if (e.data) h->last = strdup(e.data);
    strbuf_free(&e);
    free(text);
    return STATUS_OK;
}

void history_add(struct history *h, const char *entry) {
    if (!entry[0] || entry[0] == ' ') return;
    if (h->last && strcmp(h->last, entry) == 0) return;
    add_history(entry);
    free(h->last);
    h->last = strdup(entry);
    if (!h->enabled) return;
    struct strbuf line = {0};
    encode(entry, &line);
    strbuf_putc(&line, '\n');
    int fd = open(h->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0 && line.data) {
        ssize_t w = write(fd, line.data, line.len); /* one write: concurrent sessions interleave whole lines */
        (void)w;
    }
    if (fd >= 0) close(fd);
    strbuf_free(&line);
}

void history_close(struct history *h) {
    if (h->enabled && fs_exists(h->path)) {
        char *text = NULL;
        size_t len = 0;
        if (fs_read_file(h->path, 64u << 20, &text, &len) == STATUS_OK) {
            size_t lines = 0;
            for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
            if (lines > 2 * HISTORY_KEEP) {
                size_t skip = lines - HISTORY_KEEP, i = 0;
                for (; i < len && skip; i++) skip -= text[i] == '\n';
                fs_write_atomic(h->path, text + i, len - i);
                chmod(h->path, 0600);
            }
        }
        free(text);
        err_clear();
    }
    free(h->last);
    h->last = NULL;
}
