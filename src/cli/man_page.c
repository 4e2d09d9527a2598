/* man_page: implementation. The viewer runs as a child (posix_spawnp) so that a missing program can be told apart
 * from a viewer that ran and failed: the first is a reason to try the next one, the second is the answer. */
#include "cli/man_page.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/util/fsutil.h"

#ifndef R1LAB_MAN_DIR
#define R1LAB_MAN_DIR "/usr/local/share/man"
#endif

extern char **environ;

/* Runs argv; returns its exit code, or -1 when the program cannot be run (not installed). */
static int run_viewer(char *const argv[]) {
    pid_t pid;
    fflush(stdout);
    fflush(stderr);
    if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0) return -1;
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR) return -1;
    /* an older C library reports a failed exec as the child's status 127 */
    if (WIFEXITED(ws)) return WEXITSTATUS(ws) == 127 ? -1 : WEXITSTATUS(ws) == 0 ? EXIT_OK : EXIT_FAILURE_;
    return EXIT_FAILURE_;
}

/* The page's file: R1LAB_HOME when set (and nowhere else, as for models/base), else beside the binary (a source
 * tree: ./r1lab and man/ share a directory), else the source tree the binary was built in (a build in a
 * directory of its own, build/san/r1lab), else the installed manual. */
static bool find_page(const char *file, int section, char *out, size_t cap) {
    const char *home = getenv("R1LAB_HOME");
    if (home && *home) return snprintf(out, cap, "%s/man/%s", home, file) < (int)cap && fs_exists(out);
    char exe[PATH_MAX], dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        fs_dirname(dir, sizeof dir, exe);
        if (snprintf(out, cap, "%s/man/%s", dir, file) < (int)cap && fs_exists(out)) return true;
    }
#ifdef R1LAB_SOURCE_MAN_DIR
    if (snprintf(out, cap, "%s/%s", R1LAB_SOURCE_MAN_DIR, file) < (int)cap && fs_exists(out)) return true;
#endif
    return snprintf(out, cap, "%s/man%d/%s", R1LAB_MAN_DIR, section, file) < (int)cap && fs_exists(out);
}

int man_page_show(const char *name, int section) {
    char file[128], path[PATH_MAX], sec[8];
    snprintf(file, sizeof file, "%s.%d", name, section);
    snprintf(sec, sizeof sec, "%d", section);
    int rc;
    if (find_page(file, section, path, sizeof path)) {
        char *man_argv[] = {"man", "-l", path, NULL};
        if ((rc = run_viewer(man_argv)) >= 0) return rc;
        char *mandoc_argv[] = {"mandoc", path, NULL};
        if ((rc = run_viewer(mandoc_argv)) >= 0) return rc;
        enum status st = err_set(STATUS_IO, "%s(%d) is %s, but neither man nor mandoc is installed to show it", name,
                                 section, path);
        err_hint("install man-db or mandoc, or read the file with: nroff -man %s | less", path);
        return cli_report(st);
    }
    char *man_argv[] = {"man", sec, (char *)name, NULL};
    if ((rc = run_viewer(man_argv)) == EXIT_OK) return rc;
    enum status st = err_set(STATUS_IO, "the manual page %s(%d) was not found", name, section);
    err_hint("make install puts it in %s/man%d; in the source tree it is man/%s", R1LAB_MAN_DIR, section, file);
    return cli_report(st);
}
