/* harness: helpers shared by the criterion tests — where the fixtures are, running the r1lab binary and
 * capturing what it prints, scratch directories, and comparing float arrays with a stated tolerance while
 * printing the worst difference (so a failure says how far off, not just "not equal"). */
#ifndef R1LAB_TEST_HARNESS_H
#define R1LAB_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

/* Path of a file under the repository (R1LAB_ROOT, else the current directory). Static buffer per call
 * site is not needed: the result is malloc'd and owned by the caller. */
char *th_path(const char *rel);
/* The binary under test (R1LAB_BIN, else ./r1lab). */
const char *th_bin(void);

struct th_run {
    int exit_code; /* -1 when killed by a signal; then `signal` is set */
    int signal;
    char *out;     /* captured stdout, NUL-terminated */
    char *err;     /* captured stderr */
};
/* Runs r1lab with the given arguments (NULL-terminated), stdin from /dev/null or from `input` when given. */
struct th_run th_r1lab(const char *input, const char *const *args);
/* Runs a shell command line (sh -c). */
struct th_run th_sh(const char *cmdline);
void th_run_free(struct th_run *r);

/* Creates a fresh directory under $TMPDIR (caller frees the string and may remove the tree). */
char *th_tmpdir(const char *tag);
/* Writes bytes to a file; returns false on failure. */
bool th_write_file(const char *path, const void *data, size_t len);

/* Compares got to want: passes when |got-want| <= atol + rtol*|want| for every element, with
 * atol = rtol * max|want| (so tiny entries of a tensor are judged on the tensor's scale). Prints
 * "name: max abs diff X (rel Y) at [i]" and returns whether it passed. */
bool th_allclose(const char *name, const float *got, const float *want, size_t n, double rtol);

/* How long a test may wait for something it polls for, in seconds: `seconds` times R1LAB_TEST_SLACK (default 4).
 * Criterion runs tests in parallel and the sanitizers slow everything, so a wait that takes one second on an idle
 * machine can take several; polls return as soon as the condition holds, so the slack costs nothing when green. */
double th_wait_limit(double seconds);
/* Whether the two files hold the same bytes (false, with a line on stderr, when either cannot be read). */
bool th_same_file_bytes(const char *a, const char *b);

/* The records of DIR/FILE (a .jsonl file), one array item per line, or NULL (with a line on stderr) when the file
 * cannot be read. */
cJSON *th_jsonl(const char *dir, const char *file);

/* Seconds on a monotonic clock, for polling loops. */
double th_now(void);

#endif
