/* jsonl: O_APPEND writes of whole lines; truncation by atomic rewrite. */
#include "engine/util/jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/util/fsutil.h"

enum status jsonl_open(struct jsonl *j, const char *path) {
    memset(j, 0, sizeof *j);
    j->fd = -1;
    snprintf(j->path, sizeof j->path, "%s", path);
    j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (j->fd < 0) return err_set_errno(STATUS_IO, "%s: cannot open for appending", path);
    return STATUS_OK;
}

void jsonl_close(struct jsonl *j) {
    if (j->fd > 0) close(j->fd);
    j->fd = -1;
}

enum status jsonl_append(struct jsonl *j, const cJSON *obj) {
    char *text = cJSON_PrintUnformatted(obj);
    if (!text) return err_set(STATUS_NOMEM, "%s: cannot format a record", j->path);
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (!line) {
        free(text);
        return err_set(STATUS_NOMEM, "%s: cannot format a record", j->path);
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    /* One write per record: with O_APPEND the line lands whole at the end even with other writers. */
    size_t off = 0;
    enum status st = STATUS_OK;
    while (off < n + 1) {
        ssize_t w = write(j->fd, line + off, n + 1 - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            st = err_set_errno(STATUS_IO, "%s: write failed", j->path);
            break;
        }
        off += (size_t)w;
    }
    free(line);
    return st;
}

enum status jsonl_truncate_after_step(const char *path, int64_t step) {
    if (!fs_exists(path)) return STATUS_OK;
    char *text;
    size_t len;
    TRY(fs_read_file(path, (size_t)1 << 34, &text, &len));
    char *out = malloc(len + 1);
    if (!out) {
        free(text);
        return err_set(STATUS_NOMEM, "%s: cannot rewrite", path);
    }
    size_t o = 0;
    char *line = text;
    while (line < text + len) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        if (!nl) break; /* a torn last line (crash mid-write) is dropped */
        size_t n = (size_t)(nl - line);
        cJSON *rec = cJSON_ParseWithLength(line, n);
        const cJSON *s = rec ? cJSON_GetObjectItemCaseSensitive(rec, "step") : NULL;
        bool keep = rec && (!cJSON_IsNumber(s) || s->valuedouble <= (double)step);
        cJSON_Delete(rec);
        if (keep) {
            memcpy(out + o, line, n + 1);
            o += n + 1;
        }
        line = nl + 1;
    }
    enum status st = fs_write_atomic(path, out, o);
    free(out);
    free(text);
    return st;
}
