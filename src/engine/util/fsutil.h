/* fsutil: files and directories the way r1lab needs them — whole-file reads with a size cap, read-only
 * memory maps, and durable writes (temporary name, fsync, rename, fsync of the directory) so that a crash
 * never leaves a half-written file under its final name. All failures return a status with the path in
 * the message. */
#ifndef R1LAB_FSUTIL_H
#define R1LAB_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/util/status.h"

/* Reads a whole file into a NUL-terminated malloc'd buffer (*out, *len without the NUL). Files larger
 * than max_bytes are refused with STATUS_FORMAT, naming the limit. */
enum status fs_read_file(const char *path, size_t max_bytes, char **out, size_t *len);

struct fs_map {
    void *data;  /* read-only view of the file, NULL for an empty file */
    size_t size; /* bytes */
};
enum status fs_map_file(const char *path, struct fs_map *map);
void fs_unmap(struct fs_map *map); /* accepts a zeroed struct */

/* Writes data to path durably: path.tmp-PID, fsync, rename over path, fsync the directory. */
enum status fs_write_atomic(const char *path, const void *data, size_t len);
/* fsyncs an already written file or directory. */
enum status fs_fsync_path(const char *path);
/* Creates a directory and its missing parents (mode 0755). Existing directories are fine. */
enum status fs_mkdir_p(const char *path);
/* Removes a file or a directory tree. A missing path is not an error. */
enum status fs_remove_tree(const char *path);
enum status fs_copy_file(const char *src, const char *dst);

bool fs_exists(const char *path);
bool fs_is_dir(const char *path);
/* Joins a and b with one '/' into out (cap bytes); fails with STATUS_INVALID if it does not fit. */
enum status fs_join(char *out, size_t cap, const char *a, const char *b);
/* The same join into a malloc'd string of the right size (the caller frees it); NULL when out of memory. */
char *fs_join_alloc(const char *a, const char *b);
/* The directory part of path ("." when there is none), written into out. */
void fs_dirname(char *out, size_t cap, const char *path);

#endif
