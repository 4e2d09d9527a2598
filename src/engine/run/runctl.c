/* runctl: implementation. control.jsonl is tracked by (device, inode, offset): a replaced or truncated file is
 * read again from its start, an unchanged one costs one stat(). Lines are parsed only once complete. */
#include "engine/run/runctl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "engine/util/utf8.h"

static const char *const cmd_names[RUNCTL_CMD_COUNT] = {
    [RUNCTL_CMD_NONE] = "none", [RUNCTL_CMD_PAUSE] = "pause", [RUNCTL_CMD_RESUME] = "resume",
    [RUNCTL_CMD_SAVE] = "save", [RUNCTL_CMD_EVAL] = "eval",   [RUNCTL_CMD_STOP] = "stop",
};

static const char *const state_names[RUNCTL_STATE_COUNT] = {
    [RUNCTL_STATE_UNKNOWN] = "unknown",   [RUNCTL_STATE_STARTING] = "starting",
    [RUNCTL_STATE_RUNNING] = "running",   [RUNCTL_STATE_PAUSED] = "paused",
    [RUNCTL_STATE_SAVING] = "saving",     [RUNCTL_STATE_EVALUATING] = "evaluating",
    [RUNCTL_STATE_FINISHED] = "finished", [RUNCTL_STATE_STOPPED] = "stopped",
    [RUNCTL_STATE_FAILED] = "failed",
};

const char *runctl_cmd_name(enum runctl_cmd cmd) {
    return (unsigned)cmd < RUNCTL_CMD_COUNT ? cmd_names[cmd] : "?";
}

enum runctl_cmd runctl_cmd_parse(const char *name) {
    for (int i = 1; i < RUNCTL_CMD_COUNT; i++)
        if (strcmp(name, cmd_names[i]) == 0) return (enum runctl_cmd)i;
    return RUNCTL_CMD_NONE;
}

const char *runctl_state_name(enum runctl_state state) {
    return (unsigned)state < RUNCTL_STATE_COUNT ? state_names[state] : "unknown";
}

enum runctl_state runctl_state_parse(const char *name) {
    for (int i = 1; i < RUNCTL_STATE_COUNT; i++)
        if (strcmp(name, state_names[i]) == 0) return (enum runctl_state)i;
    return RUNCTL_STATE_UNKNOWN;
}

bool runctl_state_active(enum runctl_state s) {
    return s == RUNCTL_STATE_STARTING || s == RUNCTL_STATE_RUNNING || s == RUNCTL_STATE_PAUSED ||
           s == RUNCTL_STATE_SAVING || s == RUNCTL_STATE_EVALUATING;
}

double runctl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum status runctl_open(struct runctl *rc, const char *run_dir) {
    memset(rc, 0, sizeof *rc);
    struct stat sb;
    if (stat(run_dir, &sb) != 0) return err_set_errno(STATUS_IO, "%s: cannot open run directory", run_dir);
    if (!S_ISDIR(sb.st_mode)) return err_set(STATUS_IO, "%s: not a directory", run_dir);
    char tmpname[64];
    snprintf(tmpname, sizeof tmpname, "status.json.tmp-%ld", (long)getpid());
    rc->dir = strdup(run_dir);
    rc->control_path = fs_join_alloc(run_dir, "control.jsonl");
    rc->status_path = fs_join_alloc(run_dir, "status.json");
    rc->status_tmp = fs_join_alloc(run_dir, tmpname);
    rc->events_path = fs_join_alloc(run_dir, "events.jsonl");
    if (!rc->dir || !rc->control_path || !rc->status_path || !rc->status_tmp || !rc->events_path) {
        runctl_close(rc);
        return err_set(STATUS_NOMEM, "runctl: out of memory");
    }
    rc->opened = runctl_now();
    rc->heartbeat = RUNCTL_HEARTBEAT;
    /* Requests written before this session are history, not instructions: start at the current end. */
    if (stat(rc->control_path, &sb) == 0) {
        rc->control_seen = true;
        rc->control_dev = sb.st_dev;
        rc->control_ino = sb.st_ino;
        rc->control_off = sb.st_size;
    }
    return STATUS_OK;
}

void runctl_close(struct runctl *rc) {
    free(rc->dir);
    free(rc->control_path);
    free(rc->status_path);
    free(rc->status_tmp);
    free(rc->events_path);
    memset(rc, 0, sizeof *rc);
}

static void queue_push(struct runctl *rc, enum runctl_cmd cmd) {
    if (rc->q_len == RUNCTL_QUEUE) {
        log_warn("%s: more than %d requests pending; dropping '%s'", rc->control_path, RUNCTL_QUEUE,
                 runctl_cmd_name(cmd));
        return;
    }
    rc->queue[(rc->q_head + rc->q_len) % RUNCTL_QUEUE] = cmd;
    rc->q_len++;
}

static void handle_line(struct runctl *rc, const char *line, size_t len) {
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ')) len--;
    if (len == 0) return;
    cJSON *j;
    if (json_parse_text(line, len, rc->control_path, &j) != STATUS_OK) {
        log_warn("%s", err_msg());
        return;
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "cmd");
    enum runctl_cmd cmd = cJSON_IsString(c) ? runctl_cmd_parse(c->valuestring) : RUNCTL_CMD_NONE;
    if (cmd == RUNCTL_CMD_NONE)
        log_warn("%s: ignoring a request without a known \"cmd\" (pause, resume, save, eval, stop)", rc->control_path);
    else
        queue_push(rc, cmd);
    cJSON_Delete(j);
}

/* Splits new bytes into lines; an incomplete tail waits in rc->line. */
static void feed(struct runctl *rc, const char *buf, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char ch = buf[i];
        if (ch == '\n') {
            if (rc->line_skip)
                log_warn("%s: skipping a line longer than %d bytes", rc->control_path, RUNCTL_MAX_LINE);
            else
                handle_line(rc, rc->line, rc->line_len);
            rc->line_len = 0;
            rc->line_skip = false;
        } else if (!rc->line_skip) {
            if (rc->line_len + 1 >= RUNCTL_MAX_LINE)
                rc->line_skip = true;
            else
                rc->line[rc->line_len++] = ch;
        }
    }
}

static void read_control(struct runctl *rc) {
    struct stat sb;
    if (stat(rc->control_path, &sb) != 0) return; /* no client has written yet */
    if (!rc->control_seen || sb.st_dev != rc->control_dev || sb.st_ino != rc->control_ino ||
        sb.st_size < rc->control_off) {
        /* A file created (or replaced, or truncated) after we opened: all of it is new. */
        rc->control_seen = true;
        rc->control_dev = sb.st_dev;
        rc->control_ino = sb.st_ino;
        rc->control_off = 0;
        rc->line_len = 0;
        rc->line_skip = false;
    }
    if (sb.st_size == rc->control_off) return;
    int fd = open(rc->control_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char buf[4096];
    while (rc->control_off < sb.st_size) {
        size_t want = (size_t)(sb.st_size - rc->control_off);
        if (want > sizeof buf) want = sizeof buf;
        ssize_t r = pread(fd, buf, want, rc->control_off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        feed(rc, buf, (size_t)r);
        rc->control_off += r;
    }
    close(fd);
}

enum runctl_cmd runctl_poll(struct runctl *rc) {
    if (rc->last_write > 0 && runctl_now() - rc->last_write > rc->heartbeat) {
        struct runctl_status st = rc->last;
        st.updated = 0;
        runctl_write_status(rc, &st); /* best effort: a failed heartbeat only makes the run look stale */
    }
    if (rc->q_len == 0) read_control(rc);
    if (rc->q_len == 0) return RUNCTL_CMD_NONE;
    enum runctl_cmd cmd = rc->queue[rc->q_head];
    rc->q_head = (rc->q_head + 1) % RUNCTL_QUEUE;
    rc->q_len--;
    return cmd;
}

/* A finite number field, or 0. */
static double num_field(const cJSON *j, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : 0.0;
}

/* An integer field; a value no int64 holds (1e300) reads as absent, like a non-number: converting it would be
 * undefined behaviour. */
static int64_t int_field(const cJSON *j, const char *key) {
    double x = num_field(j, key);
    return fabs(x) < 9.0e18 ? (int64_t)x : 0;
}

/* A string field copied into a fixed buffer, or "". Truncated on a character boundary: the text is valid UTF-8
 * (json_parse_text checks) and must stay so, or the status.json written back from it would not parse. */
static void str_field(const cJSON *j, const char *key, char *dst, size_t cap) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    const char *s = cJSON_IsString(v) ? v->valuestring : "";
    size_t n = strnlen(s, cap - 1);
    if (s[n] != '\0') n = utf8_complete_prefix(s, n);
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* The longest a field's JSON literal can be: every byte a control character written as \u00XX, plus quotes. */
#define JSON_LITERAL_MAX(field) (6 * sizeof(field) + 3)

size_t runctl_status_format(const struct runctl_status *st, char *out, size_t cap) {
    char stage[JSON_LITERAL_MAX(st->stage)], device[JSON_LITERAL_MAX(st->device)],
        message[JSON_LITERAL_MAX(st->message)];
    json_escape(stage, sizeof stage, st->stage);
    json_escape(device, sizeof device, st->device);
    json_escape(message, sizeof message, st->message);
    int n = snprintf(out, cap,
                     "{\"state\": \"%s\", \"pid\": %lld, \"step\": %lld, \"max_steps\": %lld, \"stage\": %s, "
                     "\"started\": %.3f, \"updated\": %.3f, \"device\": %s, \"message\": %s}",
                     runctl_state_name(st->state), (long long)st->pid, (long long)st->step, (long long)st->max_steps,
                     stage, st->started, st->updated, device, message);
    return n < 0 ? 0 : (size_t)n;
}

static enum status write_all(int fd, const char *buf, size_t n, const char *path) {
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return err_set_errno(STATUS_IO, "%s: write failed", path);
        buf += w;
        n -= (size_t)w;
    }
    return STATUS_OK;
}

/* Makes a string field valid UTF-8 in place: a caller's snprintf may have cut a character in half, and a message
 * can quote a file name that is not UTF-8 at all. Each bad byte becomes '?'; readers refuse invalid JSON text. */
static void make_utf8(char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode(s + i, n - i, &cp);
        if (k == 0) {
            s[i++] = '?';
        } else {
            i += k;
        }
    }
}

enum status runctl_write_status(struct runctl *rc, const struct runctl_status *st_in) {
    struct runctl_status st = *st_in;
    make_utf8(st.stage);
    make_utf8(st.device);
    make_utf8(st.message);
    if (st.pid == 0) st.pid = (int64_t)getpid();
    if (st.updated == 0) st.updated = runctl_now();
    if (st.started == 0) st.started = rc->opened;
    /* Sized from the text itself: a message of control characters escapes to six times its length. */
    size_t n = runctl_status_format(&st, NULL, 0);
    char *buf = malloc(n + 2);
    if (!buf) return err_set(STATUS_NOMEM, "%s: out of memory", rc->status_tmp);
    runctl_status_format(&st, buf, n + 1);
    buf[n++] = '\n';
    int fd = open(rc->status_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(buf);
        return err_set_errno(STATUS_IO, "%s: cannot create", rc->status_tmp);
    }
    enum status s = write_all(fd, buf, n, rc->status_tmp);
    free(buf);
    if (close(fd) != 0 && s == STATUS_OK) s = err_set_errno(STATUS_IO, "%s: close failed", rc->status_tmp);
    if (s == STATUS_OK && rename(rc->status_tmp, rc->status_path) != 0)
        s = err_set_errno(STATUS_IO, "%s: cannot rename to status.json", rc->status_tmp);
    if (s != STATUS_OK) {
        unlink(rc->status_tmp);
        return s;
    }
    rc->last = st;
    rc->last_write = st.updated;
    return STATUS_OK;
}

/* Appends one line with a single write(2): O_APPEND makes concurrent appenders land whole lines. */
static enum status append_line(const char *path, const char *line, size_t n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return err_set_errno(STATUS_IO, "%s: cannot open for appending", path);
    enum status s = STATUS_OK;
    ssize_t w;
    do {
        w = write(fd, line, n);
    } while (w < 0 && errno == EINTR);
    if (w < 0)
        s = err_set_errno(STATUS_IO, "%s: write failed", path);
    else if ((size_t)w != n)
        s = err_set(STATUS_IO, "%s: short write (%zd of %zu bytes)", path, w, n);
    close(fd);
    return s;
}

enum status runctl_event(struct runctl *rc, enum log_level level, const char *fmt, ...) {
    char msg[1024], esc[6 * 1024 + 8], line[sizeof esc + 96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_escape(esc, sizeof esc, msg);
    int n = snprintf(line, sizeof line, "{\"time\": %.3f, \"level\": \"%s\", \"msg\": %s}\n", runctl_now(),
                     log_level_name(level), esc);
    if (n < 0 || (size_t)n >= sizeof line) return err_set(STATUS_INVALID, "runctl_event: message too long");
    return append_line(rc->events_path, line, (size_t)n);
}

#define ACK_PREFIX "request: "

enum status runctl_ack(struct runctl *rc, enum runctl_cmd cmd) {
    return runctl_event(rc, LOG_INFO, ACK_PREFIX "%s", runctl_cmd_name(cmd));
}

enum runctl_cmd runctl_ack_parse(const char *msg) {
    size_t n = strlen(ACK_PREFIX);
    return strncmp(msg, ACK_PREFIX, n) == 0 ? runctl_cmd_parse(msg + n) : RUNCTL_CMD_NONE;
}

void runctl_log_sink(enum log_level level, const char *msg, void *user) {
    struct runctl *rc = user;
    if (rc && rc->events_path) runctl_event(rc, level, "%s", msg);
}

enum status runctl_send(const char *run_dir, enum runctl_cmd cmd) {
    if (cmd <= RUNCTL_CMD_NONE || cmd >= RUNCTL_CMD_COUNT)
        return err_set(STATUS_INVALID, "runctl_send: bad command %d", (int)cmd);
    struct stat sb;
    if (stat(run_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return err_set(STATUS_IO, "%s: not a run directory", run_dir);
    char *path = fs_join_alloc(run_dir, "control.jsonl");
    if (!path) return err_set(STATUS_NOMEM, "runctl_send: out of memory");
    char line[128];
    int n = snprintf(line, sizeof line, "{\"time\": %.3f, \"cmd\": \"%s\"}\n", runctl_now(), runctl_cmd_name(cmd));
    enum status s = append_line(path, line, (size_t)n);
    free(path);
    return s;
}

enum status runctl_status_parse(const char *text, size_t len, const char *where, struct runctl_status *out) {
    memset(out, 0, sizeof *out);
    cJSON *j;
    TRY(json_parse_text(text, len, where, &j));
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return err_set(STATUS_FORMAT, "%s: expected a JSON object", where);
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "state");
    if (cJSON_IsString(v)) out->state = runctl_state_parse(v->valuestring);
    out->pid = int_field(j, "pid");
    out->step = int_field(j, "step");
    out->max_steps = int_field(j, "max_steps");
    out->started = num_field(j, "started");
    out->updated = num_field(j, "updated");
    str_field(j, "stage", out->stage, sizeof out->stage);
    str_field(j, "device", out->device, sizeof out->device);
    str_field(j, "message", out->message, sizeof out->message);
    cJSON_Delete(j);
    return STATUS_OK;
}

enum status runctl_status_read(const char *run_dir, struct runctl_status *out) {
    memset(out, 0, sizeof *out);
    char *path = fs_join_alloc(run_dir, "status.json");
    if (!path) return err_set(STATUS_NOMEM, "runctl: out of memory");
    char *text;
    size_t len;
    enum status s = fs_read_file(path, 64 * 1024, &text, &len);
    if (s == STATUS_OK) {
        s = runctl_status_parse(text, len, path, out);
        free(text);
    }
    free(path);
    return s;
}
