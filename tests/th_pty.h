/* th_pty: running the r1lab binary on a pseudo-terminal, so tests see what a person at a terminal sees —
 * readline's prompt and editing, colours, Ctrl-C turning into SIGINT, Ctrl-D into end of input. */
#ifndef R1LAB_TEST_PTY_H
#define R1LAB_TEST_PTY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct th_pty {
    pid_t pid;
    int fd;    /* the master side */
    char *out; /* everything the program wrote, NUL-terminated */
    size_t n, cap;
    size_t cursor; /* th_pty_expect searches from here */
    int exit_code; /* after th_pty_wait: the exit status, or -1 (signal) */
};

/* Starts r1lab with args (NULL-terminated) on a new pty of cols x rows; env: extra "K=V" strings or NULL.
 * The child gets TERM=xterm and no NO_COLOR, COLUMNS, LINES or R1LAB_HISTORY unless env sets them. */
bool th_pty_spawn(struct th_pty *p, const char *const *args, const char *const *env, int cols, int rows);
/* Reads output until needle appears after the cursor (then moves the cursor past it) or timeout_s passes. */
bool th_pty_expect(struct th_pty *p, const char *needle, double timeout_s);
void th_pty_send(struct th_pty *p, const char *s);
/* Waits for the program to exit (reading its output); false on timeout (then it is killed). */
bool th_pty_wait(struct th_pty *p, double timeout_s);
void th_pty_free(struct th_pty *p);

#endif
