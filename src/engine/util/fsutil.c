/* fsutil: POSIX implementations. Durable writes follow the usual recipe (write to a temporary file in the
 * same directory, fsync it, rename it over the target, fsync the directory) so that readers see either the
 * old or the new file, never a torn one. */
#include "engine/util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens path for reading and stats it; refuses directories. */
static enum status open_file(const char *path, int *fd_out, struct stat *sb) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err_set_errno(STATUS_IO, "%s: cannot open", path);
    if (fstat(fd, sb) != 0) {
        enum status st = err_set_errno(STATUS_IO, "%s: cannot stat", path);
        close(fd);
        return st;
    }
    if (S_ISDIR(sb->st_mode)) {
        close(fd);
        return err_set(STATUS_IO, "%s: is a directory, expected a file", path);
    }
    *fd_out = fd;
    return STATUS_OK;
}

enum status fs_read_file(const char *path, size_t max_bytes, char **out, size_t *len) {
    *out = NULL;
    if (len) *len = 0;
    int fd = -1;
    struct stat sb;
    TRY(open_file(path, &fd, &sb));
    if ((uint64_t)sb.st_size > max_bytes) {
        close(fd);
        return err_set(STATUS_FORMAT, "%s: file is %lld bytes, more than the %zu allowed", path,
                       (long long)sb.st_size, max_bytes);
    }
    size_t n = (size_t)sb.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        return err_set(STATUS_NOMEM, "%s: cannot allocate %zu bytes", path, n + 1);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            enum status st = err_set_errno(STATUS_IO, "%s: read failed", path);
            free(buf);
            close(fd);
            return st;
        }
        if (r == 0) break; /* file shrank while reading: take what is there */
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    if (len) *len = got;
    return STATUS_OK;
}

enum status fs_map_file(const char *path, struct fs_map *map) {
    map->data = NULL;
    map->size = 0;
    int fd = -1;
    struct stat sb;
    TRY(open_file(path, &fd, &sb));
    if (sb.st_size == 0) {
        close(fd);
        return STATUS_OK;
    }
    void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return err_set_errno(STATUS_IO, "%s: cannot map", path);
    map->data = p;
    map->size = (size_t)sb.st_size;
    return STATUS_OK;
}

void fs_unmap(struct fs_map *map) {
    if (map->data) munmap(map->data, map->size);
    map->data = NULL;
    map->size = 0;
}

enum status fs_fsync_path(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err_set_errno(STATUS_IO, "%s: cannot open for fsync", path);
    int rc = fsync(fd);
    /* Some filesystems refuse fsync on directories (EINVAL); durability is best effort there. */
    if (rc != 0 && errno != EINVAL && errno != EROFS) {
        enum status st = err_set_errno(STATUS_IO, "%s: fsync failed", path);
        close(fd);
        return st;
    }
    close(fd);
    return STATUS_OK;
}

static enum status write_all(int fd, const void *data, size_t len, const char *path) {
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return err_set_errno(STATUS_IO, "%s: write failed", path);
        p += w;
        len -= (size_t)w;
    }
    return STATUS_OK;
}

enum status fs_write_atomic(const char *path, const void *data, size_t len) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return err_set(STATUS_INVALID, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return err_set_errno(STATUS_IO, "%s: cannot create", tmp);
    enum status st = write_all(fd, data, len, tmp);
    if (st == STATUS_OK && fsync(fd) != 0) st = err_set_errno(STATUS_IO, "%s: fsync failed", tmp);
    if (close(fd) != 0 && st == STATUS_OK) st = err_set_errno(STATUS_IO, "%s: close failed", tmp);
    if (st == STATUS_OK && rename(tmp, path) != 0) st = err_set_errno(STATUS_IO, "%s: cannot rename to %s", tmp, path);
    if (st != STATUS_OK) {
        unlink(tmp);
        return st;
    }
    char dir[PATH_MAX];
    fs_dirname(dir, sizeof dir, path);
    return fs_fsync_path(dir);
}

enum status fs_mkdir_p(const char *path) {
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0) return err_set(STATUS_INVALID, "empty directory path");
    if (n >= sizeof buf) return err_set(STATUS_INVALID, "%s: path too long", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return err_set_errno(STATUS_IO, "%s: cannot create directory", buf);
        buf[i] = saved;
    }
    if (!fs_is_dir(path)) return err_set(STATUS_IO, "%s: exists and is not a directory", path);
    return STATUS_OK;
}

enum status fs_remove_tree(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT) return STATUS_OK;
        return err_set_errno(STATUS_IO, "%s: cannot stat", path);
    }
    if (!S_ISDIR(sb.st_mode)) {
        if (unlink(path) != 0) return err_set_errno(STATUS_IO, "%s: cannot remove", path);
        return STATUS_OK;
    }
    DIR *d = opendir(path);
    if (!d) return err_set_errno(STATUS_IO, "%s: cannot open directory", path);
    struct dirent *e;
    enum status st = STATUS_OK;
    while (st == STATUS_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char child[PATH_MAX];
        st = fs_join(child, sizeof child, path, e->d_name);
        if (st == STATUS_OK) st = fs_remove_tree(child);
    }
    closedir(d);
    if (st != STATUS_OK) return st;
    if (rmdir(path) != 0) return err_set_errno(STATUS_IO, "%s: cannot remove directory", path);
    return STATUS_OK;
}

enum status fs_copy_file(const char *src, const char *dst) {
    struct fs_map m;
    TRY(fs_map_file(src, &m));
    int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fs_unmap(&m);
        return err_set_errno(STATUS_IO, "%s: cannot create", dst);
    }
    enum status st = write_all(fd, m.data, m.size, dst);
    if (st == STATUS_OK && fsync(fd) != 0) st = err_set_errno(STATUS_IO, "%s: fsync failed", dst);
    if (close(fd) != 0 && st == STATUS_OK) st = err_set_errno(STATUS_IO, "%s: close failed", dst);
    fs_unmap(&m);
    return st;
}

bool fs_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

bool fs_is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

enum status fs_join(char *out, size_t cap, const char *a, const char *b) {
    size_t la = strlen(a);
    const char *sep = (la > 0 && a[la - 1] == '/') ? "" : "/";
    int n = snprintf(out, cap, "%s%s%s", a, sep, b);
    if (n < 0 || (size_t)n >= cap) return err_set(STATUS_INVALID, "%s/%s: path too long", a, b);
    return STATUS_OK;
}

char *fs_join_alloc(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p && fs_join(p, n, a, b) != STATUS_OK) ASSERTF(0, "fs_join_alloc: %zu bytes are not enough", n);
    return p;
}

void fs_dirname(char *out, size_t cap, const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(out, cap, ".");
        return;
    }
    size_t n = (size_t)(slash - path);
    if (n == 0) n = 1; /* "/file" -> "/" */
    if (n >= cap) n = cap - 1;
    memcpy(out, path, n);
    out[n] = '\0';
}
