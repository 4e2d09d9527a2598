/* log: the engine's only way to say something. The engine formats a message and hands it to a sink that
 * the front end installs (stderr lines for the CLI, a ring buffer for the dashboard). With no sink
 * installed, messages are dropped: a library must not write to a terminal it does not own. */
#ifndef R1LAB_LOG_H
#define R1LAB_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

typedef void (*log_sink_fn)(enum log_level level, const char *msg, void *user);

void log_set_sink(log_sink_fn sink, void *user);
void log_set_level(enum log_level min_level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *log_level_name(enum log_level level);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
