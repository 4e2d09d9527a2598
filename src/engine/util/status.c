/* status: the thread-local error message behind enum status. Messages are truncated at a fixed size
 * rather than allocated, so reporting an out-of-memory error cannot itself fail. */
#include "engine/util/status.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#define ERR_CAP 2048

static _Thread_local char err_buf[ERR_CAP];
static _Thread_local char hint_buf[ERR_CAP];

enum status err_set(enum status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);
    hint_buf[0] = '\0';
    return st;
}

enum status err_set_errno(enum status st, const char *fmt, ...) {
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);
    size_t n = strlen(err_buf);
    snprintf(err_buf + n, sizeof err_buf - n, ": %s", strerror(saved));
    hint_buf[0] = '\0';
    return st;
}

void err_prefix(const char *fmt, ...) {
    char pre[ERR_CAP], old[ERR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err_buf, sizeof old);
    size_t n = strlen(pre);
    if (n >= sizeof err_buf) n = sizeof err_buf - 1;
    memcpy(err_buf, pre, n);
    size_t rest = strlen(old);
    if (rest > sizeof err_buf - 1 - n) rest = sizeof err_buf - 1 - n;
    memcpy(err_buf + n, old, rest);
    err_buf[n + rest] = '\0';
}

void err_hint(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(hint_buf, sizeof hint_buf, fmt, ap);
    va_end(ap);
}

const char *err_msg(void) { return err_buf; }
const char *err_hint_text(void) { return hint_buf; }

void err_clear(void) {
    err_buf[0] = '\0';
    hint_buf[0] = '\0';
}

const char *status_name(enum status st) {
    switch (st) {
    case STATUS_OK: return "ok";
    case STATUS_IO: return "i/o error";
    case STATUS_FORMAT: return "format error";
    case STATUS_INVALID: return "invalid value";
    case STATUS_UNSUPPORTED: return "unsupported";
    case STATUS_NOMEM: return "out of memory";
    case STATUS_DEVICE: return "device error";
    case STATUS_ABORTED: return "aborted";
    case STATUS_PEER: return "lost a peer process";
    }
    return "unknown status";
}

void assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "r1lab: internal error: %s:%d: assertion failed: %s\n", file, line, expr);
    fflush(stderr);
    abort();
}
