/* linereader: implementation. The file descriptor stays open between polls; stat() of the path detects a
 * replacement (rename over it, as a new run in the same directory would do). */
#include "linereader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void lr_init(struct linereader *lr, const char *path, size_t max_line) {
    memset(lr, 0, sizeof *lr);
    lr->path = strdup(path);
    lr->fd = -1;
    lr->max_line = max_line;
}

static void lr_close(struct linereader *lr) {
    if (lr->fd >= 0) close(lr->fd);
    lr->fd = -1;
    lr->pos = lr->size = lr->line_off = 0;
    lr->plen = 0;
    lr->skipping = false;
}

void lr_free(struct linereader *lr) {
    if (lr->path) lr_close(lr);
    free(lr->path);
    free(lr->partial);
    memset(lr, 0, sizeof *lr);
    lr->fd = -1;
}

bool lr_backlog(const struct linereader *lr) {
    return lr->fd >= 0 && lr->size > lr->pos;
}

static void append_partial(struct linereader *lr, const char *s, size_t n) {
    if (lr->skipping) return;
    if (lr->plen + n > lr->max_line) {
        lr->skipping = true;
        lr->plen = 0;
        return;
    }
    if (lr->plen + n > lr->pcap) {
        size_t cap = lr->pcap ? lr->pcap : 4096;
        while (cap < lr->plen + n) cap *= 2;
        if (cap > lr->max_line) cap = lr->max_line;
        char *p = realloc(lr->partial, cap);
        if (!p) { /* treat as too long: dropping a line beats crashing the dashboard */
            lr->skipping = true;
            lr->plen = 0;
            return;
        }
        lr->partial = p;
        lr->pcap = cap;
    }
    memcpy(lr->partial + lr->plen, s, n);
    lr->plen += n;
}

static void deliver(struct linereader *lr, const char *s, size_t n, off_t off, lr_line_fn fn, void *user) {
    if (n > 0 && s[n - 1] == '\r') n--;
    lr->lines++;
    fn(user, s, n, off);
}

/* Splits chunk[0..n) (read at file offset base) into lines. */
static void split(struct linereader *lr, const char *chunk, size_t n, off_t base, lr_line_fn fn, void *user) {
    size_t start = 0;
    while (start < n) {
        const char *nl = memchr(chunk + start, '\n', n - start);
        if (!nl) {
            if (lr->plen == 0 && !lr->skipping) lr->line_off = base + (off_t)start;
            append_partial(lr, chunk + start, n - start);
            return;
        }
        size_t end = (size_t)(nl - chunk);
        if (lr->skipping) {
            lr->too_long++;
            lr->skipping = false;
        } else if (lr->plen > 0) {
            append_partial(lr, chunk + start, end - start);
            if (lr->skipping) {
                lr->too_long++;
                lr->skipping = false;
            } else {
                deliver(lr, lr->partial, lr->plen, lr->line_off, fn, user);
            }
        } else if (end - start > lr->max_line) {
            lr->too_long++;
        } else {
            deliver(lr, chunk + start, end - start, base + (off_t)start, fn, user);
        }
        lr->plen = 0;
        start = end + 1;
    }
}

size_t lr_poll(struct linereader *lr, char *chunk, size_t chunk_cap, size_t budget, lr_line_fn fn, void *user,
               bool *reset) {
    *reset = false;
    struct stat sb;
    if (stat(lr->path, &sb) != 0) {
        if (lr->fd >= 0) { /* the file went away: whatever was derived from it is gone too */
            lr_close(lr);
            *reset = true;
        }
        return 0;
    }
    if (lr->fd >= 0 && (sb.st_dev != lr->dev || sb.st_ino != lr->ino || sb.st_size < lr->pos)) {
        lr_close(lr);
        *reset = true;
        return 0;
    }
    if (lr->fd < 0) {
        lr->fd = open(lr->path, O_RDONLY | O_CLOEXEC);
        if (lr->fd < 0) return 0;
        struct stat fb;
        if (fstat(lr->fd, &fb) != 0) {
            lr_close(lr);
            return 0;
        }
        lr->dev = fb.st_dev;
        lr->ino = fb.st_ino;
        sb = fb;
    }
    lr->size = sb.st_size;
    size_t total = 0;
    while (lr->pos < lr->size && total < budget) {
        size_t want = (size_t)(lr->size - lr->pos);
        if (want > chunk_cap) want = chunk_cap;
        if (want > budget - total) want = budget - total;
        ssize_t r = pread(lr->fd, chunk, want, lr->pos);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        off_t base = lr->pos;
        lr->pos += r;
        total += (size_t)r;
        split(lr, chunk, (size_t)r, base, fn, user);
    }
    return total;
}

bool lr_pread(const struct linereader *lr, off_t off, char *buf, size_t len) {
    if (lr->fd < 0) return false;
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(lr->fd, buf + got, len - got, off + (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += (size_t)r;
    }
    return true;
}
