/* th_pty: posix_openpt + fork; the child becomes a session leader with the pty as its controlling
 * terminal, so the line discipline delivers ^C as SIGINT to it. */
#include "th_pty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

bool th_pty_spawn(struct th_pty *p, const char *const *args, const char *const *env, int cols, int rows) {
    memset(p, 0, sizeof *p);
    p->fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (p->fd < 0 || grantpt(p->fd) || unlockpt(p->fd)) return false;
    const char *slave = ptsname(p->fd);
    if (!slave) return false;
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    fflush(NULL);
    p->pid = fork();
    if (p->pid < 0) return false;
    if (p->pid == 0) {
        setsid();
        int s = open(slave, O_RDWR);
        if (s < 0) _exit(126);
        ioctl(s, TIOCSCTTY, 0);
        ioctl(s, TIOCSWINSZ, &ws);
        dup2(s, 0);
        dup2(s, 1);
        dup2(s, 2);
        if (s > 2) close(s);
        close(p->fd);
        setenv("TERM", "xterm", 1);
        unsetenv("NO_COLOR");
        unsetenv("COLUMNS");
        unsetenv("LINES");
        unsetenv("R1LAB_HISTORY"); /* tests say where history goes */
        /* A UTF-8 terminal unless a test says otherwise: what the screen shows (box drawing or ASCII) follows the
         * locale, and a fresh machine or a CI job has none set. C.UTF-8 is built into glibc. */
        setenv("LC_ALL", "C.UTF-8", 1);
        for (size_t i = 0; env && env[i]; i++) putenv((char *)env[i]);
        signal(SIGINT, SIG_DFL);
        size_t n = 0;
        while (args[n]) n++;
        char **argv = calloc(n + 2, sizeof *argv);
        argv[0] = (char *)th_bin();
        for (size_t i = 0; i < n; i++) argv[i + 1] = (char *)args[i];
        execv(argv[0], argv);
        _exit(127);
    }
    p->cap = 1 << 16;
    p->out = malloc(p->cap);
    p->out[0] = '\0';
    return true;
}

/* Reads what is available within timeout_ms; false at end of output. */
static bool pump(struct th_pty *p, int timeout_ms) {
    struct pollfd pf = {p->fd, POLLIN, 0};
    int r = poll(&pf, 1, timeout_ms);
    if (r <= 0) return true;
    char buf[4096];
    ssize_t n = read(p->fd, buf, sizeof buf);
    if (n <= 0) return false; /* EIO: the child closed the terminal */
    if (p->n + (size_t)n + 1 > p->cap) {
        p->cap = (p->n + (size_t)n + 1) * 2;
        p->out = realloc(p->out, p->cap);
    }
    memcpy(p->out + p->n, buf, (size_t)n);
    p->n += (size_t)n;
    p->out[p->n] = '\0';
    return true;
}

bool th_pty_expect(struct th_pty *p, const char *needle, double timeout_s) {
    double end = now_s() + timeout_s;
    for (;;) {
        const char *hit = memmem(p->out + p->cursor, p->n - p->cursor, needle, strlen(needle));
        if (hit) {
            p->cursor = (size_t)(hit - p->out) + strlen(needle);
            return true;
        }
        if (now_s() > end) return false;
        if (!pump(p, 50)) {
            hit = memmem(p->out + p->cursor, p->n - p->cursor, needle, strlen(needle));
            if (hit) p->cursor = (size_t)(hit - p->out) + strlen(needle);
            return hit != NULL;
        }
    }
}

void th_pty_send(struct th_pty *p, const char *s) {
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(p->fd, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

bool th_pty_wait(struct th_pty *p, double timeout_s) {
    double end = now_s() + timeout_s;
    for (;;) {
        int status;
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) {
            while (pump(p, 10) && now_s() < end) {
                struct pollfd pf = {p->fd, POLLIN, 0};
                if (poll(&pf, 1, 0) <= 0) break;
            }
            p->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            p->pid = 0;
            return true;
        }
        if (now_s() > end) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, NULL, 0);
            p->pid = 0;
            p->exit_code = -1;
            return false;
        }
        pump(p, 20);
    }
}

void th_pty_free(struct th_pty *p) {
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
    }
    if (p->fd >= 0) close(p->fd);
    free(p->out);
    memset(p, 0, sizeof *p);
    p->fd = -1;
}
