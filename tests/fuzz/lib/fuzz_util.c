/* fuzz_util: scratch files and input helpers for the harnesses (see fuzz_util.h). */
#include "fuzz_util.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/util/fsutil.h"
#include "engine/util/log.h"

static char g_dir[PATH_MAX];
static char g_path[PATH_MAX];

static void fuzz_cleanup(void) {
    if (g_dir[0]) fs_remove_tree(g_dir);
}

const char *fuzz_dir(void) {
    if (g_dir[0]) return g_dir;
    const char *base = getenv("FUZZ_TMPDIR");
    struct stat sb;
    if (!base || !*base)
        base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                                                                                                  : getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    snprintf(g_dir, sizeof g_dir, "%s/r1lab-fuzz-XXXXXX", base);
    if (!mkdtemp(g_dir)) {
        perror(g_dir);
        abort();
    }
    atexit(fuzz_cleanup);
    return g_dir;
}

const char *fuzz_path(const char *name) {
    snprintf(g_path, sizeof g_path, "%s/%s", fuzz_dir(), name);
    return g_path;
}

void fuzz_write(const char *path, const void *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        abort();
    }
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w <= 0) {
            perror(path);
            abort();
        }
        p += w;
        len -= (size_t)w;
    }
    close(fd);
}

char *fuzz_strdup(const uint8_t *data, size_t len) {
    char *s = malloc(len + 1);
    if (!s) abort();
    if (len) memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

char *fuzz_memdup(const uint8_t *data, size_t len) {
    char *s = malloc(len ? len : 1);
    if (!s) abort();
    if (len) memcpy(s, data, len);
    return s;
}

static void fuzz_drop_log(enum log_level level, const char *msg, void *user) {
    (void)level;
    (void)msg;
    (void)user;
}

void fuzz_quiet(void) {
    log_set_sink(fuzz_drop_log, NULL);
}

size_t fuzz_split(const uint8_t *data, size_t len, const char *sep, struct fuzz_part *parts, size_t max) {
    size_t k = strlen(sep), n = 0, start = 0;
    if (max == 0) return 0;
    for (size_t i = 0; k > 0 && i + k <= len && n + 1 < max;) {
        if (memcmp(data + i, sep, k) == 0) {
            parts[n++] = (struct fuzz_part){data + start, i - start};
            i += k;
            start = i;
        } else {
            i++;
        }
    }
    parts[n++] = (struct fuzz_part){data + start, len - start};
    return n;
}
