/* checkpoint_clean: what a killed trainer leaves behind, and removing checkpoints without ever showing a half-removed
 * one under its real name.
 *
 * Every file r1lab writes into a run directory is built under a temporary name, NAME.tmp-PID (fs_write_atomic,
 * st_write, the `latest` link, status.json), and a checkpoint directory as step-N.tmp-PID, renamed into place when
 * whole; a replaced checkpoint waits as step-N.old-PID, a pruned one is renamed step-N.del-PID before its files go.
 * A SIGKILL at any moment can leave such names behind. No reader ever picks them (checkpoints are found by their
 * exact names and through `latest`), but they hold whole checkpoints' worth of disk, so the trainer sweeps them
 * when it opens a run: each one whose PID is no longer running is removed — except a step-N.old-PID whose step-N
 * is missing, which is a whole checkpoint moved aside by a save that was killed before the new one took its place,
 * and is put back.
 *
 * Does not: touch names without a temporary suffix, or temporaries of a process that is still alive (another
 * writer is a user error the trainer reports elsewhere; this sweep must not make it worse). */
#include "engine/run/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "engine/util/fsutil.h"

/* The kinds of temporary suffix, ".tmp-PID", ".old-PID" and ".del-PID". */
enum ckpt_temp { CKPT_TEMP_NONE, CKPT_TEMP_TMP, CKPT_TEMP_OLD, CKPT_TEMP_DEL };

/* Recognises NAME.KIND-PID; *base_len is the length of NAME. */
static enum ckpt_temp temp_kind(const char *name, size_t *base_len, long *pid) {
    static const char *const kinds[] = {".tmp-", ".old-", ".del-"};
    for (int k = 0; k < 3; k++) {
        const char *at = strstr(name, kinds[k]);
        while (at) {
            const char *digits = at + 5, *p = digits;
            while (*p >= '0' && *p <= '9') p++;
            if (p != digits && *p == '\0' && p - digits < 12) {
                *base_len = (size_t)(at - name);
                *pid = strtol(digits, NULL, 10);
                return (enum ckpt_temp)(k + 1);
            }
            at = strstr(at + 1, kinds[k]);
        }
    }
    return CKPT_TEMP_NONE;
}

static bool pid_alive(long pid) {
    if (pid <= 0) return false;
    if (pid == (long)getpid()) return true;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Sweeps one directory; returns the first failure but goes on with the other entries. */
static enum status sweep(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? STATUS_OK : err_set_errno(STATUS_IO, "%s: cannot list", dir);
    enum status first = STATUS_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t base_len;
        long pid;
        enum ckpt_temp kind = temp_kind(e->d_name, &base_len, &pid);
        if (kind == CKPT_TEMP_NONE || pid_alive(pid)) continue;
        char path[PATH_MAX], final[PATH_MAX];
        if (fs_join(path, sizeof path, dir, e->d_name) != STATUS_OK) continue;
        enum status st = STATUS_OK;
        bool fits = snprintf(final, sizeof final, "%s/%.*s", dir, (int)base_len, e->d_name) < (int)sizeof final;
        if (kind == CKPT_TEMP_OLD && fits && !fs_exists(final)) {
            if (rename(path, final) != 0) st = err_set_errno(STATUS_IO, "%s: cannot restore as %s", path, final);
        } else {
            st = fs_remove_tree(path);
        }
        if (st != STATUS_OK && first == STATUS_OK) first = st;
    }
    closedir(d);
    if (first != STATUS_OK) return first;
    return fs_fsync_path(dir);
}

enum status checkpoint_clean_stale(const char *run_dir) {
    char ckpts[PATH_MAX];
    TRY(fs_join(ckpts, sizeof ckpts, run_dir, "checkpoints"));
    enum status st = sweep(ckpts);
    enum status st2 = sweep(run_dir);
    return st != STATUS_OK ? st : st2;
}

enum status checkpoint_remove(const char *dir) {
    char del[PATH_MAX];
    if (snprintf(del, sizeof del, "%s.del-%ld", dir, (long)getpid()) >= (int)sizeof del)
        return err_set(STATUS_INVALID, "%s: path too long", dir);
    if (rename(dir, del) != 0) {
        if (errno == ENOENT) return STATUS_OK;
        return err_set_errno(STATUS_IO, "%s: cannot move aside to remove it", dir);
    }
    return fs_remove_tree(del);
}
