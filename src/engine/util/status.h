/* status: how the engine reports failure.
 *
 * Two tiers. ASSERT is for programmer invariants: it prints file:line and aborts. enum status is for
 * expected failures (bad files, I/O, out of memory, a device error, a user abort): a function returns it
 * and leaves a message in a thread-local buffer, which the caller may prefix with context and which
 * main() finally prints. The engine never prints and never exits. */
#ifndef R1LAB_STATUS_H
#define R1LAB_STATUS_H

#include <stdio.h>
#include <stdlib.h>

enum status {
    STATUS_OK = 0,
    STATUS_IO,          /* a file or directory could not be read or written */
    STATUS_FORMAT,      /* a file's contents are malformed */
    STATUS_INVALID,     /* a value given by the user (config, option, argument) is wrong */
    STATUS_UNSUPPORTED, /* well-formed, but a feature r1lab does not implement */
    STATUS_NOMEM,       /* an allocation failed */
    STATUS_DEVICE,      /* the compute device (GPU) failed */
    STATUS_ABORTED,     /* the user asked to stop */
    STATUS_PEER,        /* another process of a data-parallel run failed, died or stopped answering */
};

/* Records a message for the current thread and returns st, so `return err_set(...)` reads naturally.
 * Clears any hint left by an earlier error. */
enum status err_set(enum status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, with strerror(errno) appended (": No such file or directory"). Reads errno before anything else. */
enum status err_set_errno(enum status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Puts context in front of the current message: err_prefix("%s: ", path) turns "bad" into "x.json: bad". */
void err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Attaches a "how to fix it" line to the current message. */
void err_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *err_msg(void);  /* "" when none */
const char *err_hint_text(void); /* "" when none */
void err_clear(void);
const char *status_name(enum status st);

/* Always on, also in release builds: a broken invariant is a bug, and continuing would corrupt results. */
#define ASSERT(cond)                                                                                           \
    do {                                                                                                       \
        if (!(cond)) assert_fail(#cond, __FILE__, __LINE__);                                                   \
    } while (0)
#define ASSERTF(cond, ...)                                                                                     \
    do {                                                                                                       \
        if (!(cond)) {                                                                                         \
            fprintf(stderr, __VA_ARGS__);                                                                      \
            fputc('\n', stderr);                                                                               \
            assert_fail(#cond, __FILE__, __LINE__);                                                            \
        }                                                                                                      \
    } while (0)
_Noreturn void assert_fail(const char *expr, const char *file, int line);

/* Propagates a failing status from an expression. */
#define TRY(expr)                                                                                              \
    do {                                                                                                       \
        enum status try_st_ = (expr);                                                                          \
        if (try_st_ != STATUS_OK) return try_st_;                                                              \
    } while (0)

#endif
