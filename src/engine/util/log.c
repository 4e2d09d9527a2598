/* log: formats into a stack buffer and forwards to the installed sink. The sink pointer is written once at
 * start-up by the front end, before worker threads exist, so it is read without locking. */
#include "engine/util/log.h"

#include <stdarg.h>
#include <stdio.h>

static log_sink_fn sink_fn;
static void *sink_user;
static enum log_level min_level = LOG_INFO;

void log_set_sink(log_sink_fn sink, void *user) {
    sink_fn = sink;
    sink_user = user;
}

void log_set_level(enum log_level level) { min_level = level; }

void log_msg(enum log_level level, const char *fmt, ...) {
    if (!sink_fn || level < min_level) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sink_fn(level, buf, sink_user);
}

const char *log_level_name(enum log_level level) {
    switch (level) {
    case LOG_DEBUG: return "debug";
    case LOG_INFO: return "info";
    case LOG_WARN: return "warning";
    case LOG_ERROR: return "error";
    }
    return "?";
}
