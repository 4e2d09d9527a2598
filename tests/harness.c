/* harness: implementation. Child processes are run with fork/exec and pipes; output is collected in full
 * (tests produce little) with poll so neither pipe can fill and block the child. */
#include "harness.h"

#include "engine/util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *th_path(const char *rel) {
    const char *root = getenv("R1LAB_ROOT");
    if (!root || !*root) root = ".";
    size_t n = strlen(root) + strlen(rel) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", root, rel);
    return p;
}

const char *th_bin(void) {
    const char *b = getenv("R1LAB_BIN");
    return (b && *b) ? b : "./r1lab";
}

struct buf {
    char *p;
    size_t n, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static struct th_run run_argv(const char *input, char *const *argv) {
    struct th_run r = {0};
    int out_pipe[2], err_pipe[2], in_pipe[2];
    if (pipe(out_pipe) || pipe(err_pipe) || pipe(in_pipe)) abort();
    pid_t pid = fork();
    if (pid < 0) abort();
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        /* Close every pipe end but the three just installed: a daemon the command starts (a tmux server)
         * would otherwise inherit a write end and keep the parent waiting for EOF forever. */
        int ends[] = {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]};
        for (int i = 0; i < 6; i++)
            if (ends[i] > 2) close(ends[i]);
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    /* Inputs are small (well under a pipe's buffer), so writing first cannot deadlock. */
    if (input) {
        size_t len = strlen(input), off = 0;
        while (off < len) {
            ssize_t w = write(in_pipe[1], input + off, len - off);
            if (w <= 0) break;
            off += (size_t)w;
        }
    }
    close(in_pipe[1]);
    struct buf out = {0}, err = {0};
    buf_add(&out, "", 0);
    buf_add(&err, "", 0);
    struct pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char chunk[65536];
            ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            } else {
                buf_add(i == 0 ? &out : &err, chunk, (size_t)n);
            }
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) {
        r.exit_code = WEXITSTATUS(status);
    } else {
        r.exit_code = -1;
        r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    r.out = out.p;
    r.err = err.p;
    return r;
}

struct th_run th_r1lab(const char *input, const char *const *args) {
    size_t n = 0;
    while (args[n]) n++;
    char **argv = calloc(n + 2, sizeof *argv);
    argv[0] = (char *)th_bin();
    for (size_t i = 0; i < n; i++) argv[i + 1] = (char *)args[i];
    struct th_run r = run_argv(input, argv);
    free(argv);
    return r;
}

struct th_run th_sh(const char *cmdline) {
    char *argv[] = {"sh", "-c", (char *)cmdline, NULL};
    return run_argv(NULL, argv);
}

void th_run_free(struct th_run *r) {
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

char *th_tmpdir(const char *tag) {
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    size_t n = strlen(base) + strlen(tag) + 32;
    char *p = malloc(n);
    snprintf(p, n, "%s/r1lab-%s-XXXXXX", base, tag);
    if (!mkdtemp(p)) abort();
    return p;
}

bool th_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

bool th_allclose(const char *name, const float *got, const float *want, size_t n, double rtol) {
    double scale = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs((double)want[i]));
    double atol = rtol * scale;
    double worst = -1;
    size_t at = 0;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (!(d <= atol + rtol * fabs((double)want[i]))) ok = false; /* also catches NaN */
        if (!(d <= worst)) {
            worst = d;
            at = i;
        }
    }
    fprintf(stderr, "  %-40s n=%-8zu max abs diff %.3g (rel to max %.3g) at [%zu] %s\n", name, n, worst,
            scale > 0 ? worst / scale : worst, at, ok ? "ok" : "FAIL");
    return ok;
}

double th_wait_limit(double seconds) {
    const char *s = getenv("R1LAB_TEST_SLACK");
    double slack = s && *s ? atof(s) : 4.0;
    return seconds * (slack > 0 ? slack : 4.0);
}

double th_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

bool th_same_file_bytes(const char *a, const char *b) {
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    bool read = fs_read_file(a, (size_t)1 << 30, &x, &nx) == STATUS_OK && fs_read_file(b, (size_t)1 << 30, &y, &ny) == STATUS_OK;
    if (!read) fprintf(stderr, "th_same_file_bytes: cannot read %s or %s\n", a, b);
    bool same = read && nx == ny && memcmp(x, y, nx) == 0;
    free(x);
    free(y);
    return same;
}

cJSON *th_jsonl(const char *dir, const char *file) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *text;
    size_t len;
    if (fs_read_file(path, 1 << 24, &text, &len) != STATUS_OK) {
        fprintf(stderr, "th_jsonl: %s\n", err_msg());
        return NULL;
    }
    cJSON *arr = cJSON_CreateArray();
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        cJSON_AddItemToArray(arr, cJSON_Parse(line));
    free(text);
    return arr;
}
