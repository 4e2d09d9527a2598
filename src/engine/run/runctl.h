/* runctl: the live files of a run directory that a trainer and its dashboards share (docs/run-format.md).
 *
 * Trainer side: status.json (rewritten atomically: temporary name, then rename), events.jsonl (one whole line
 * per write(2) with O_APPEND) and control.jsonl (requests appended by dashboards). runctl_open() remembers
 * where control.jsonl ends, so requests left by earlier sessions are ignored; runctl_poll() then returns new
 * requests in the order they were appended. Polling is cheap enough to call between micro-steps: one stat()
 * when nothing was appended, a pread() of the new bytes otherwise. Nothing here blocks on a reader or takes a
 * lock, so a dashboard attached to the run cannot slow the trainer.
 *
 * Client side (dashboards, scripts): runctl_send() appends one request; runctl_status_parse() / _read() read
 * status.json.
 *
 * Does not: print (warnings about malformed requests go to log_warn), create the run directory, or write
 * metrics/samples (the metrics writer does). A struct runctl belongs to one thread (the trainer's);
 * runctl_send() may be called from any thread or process. */
#ifndef R1LAB_RUNCTL_H
#define R1LAB_RUNCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/util/log.h"
#include "engine/util/status.h"

/* Requests a client can send; the names are the "cmd" strings of control.jsonl. */
enum runctl_cmd {
    RUNCTL_CMD_NONE = 0, /* nothing pending */
    RUNCTL_CMD_PAUSE,    /* stop taking steps until resume (state "paused") */
    RUNCTL_CMD_RESUME,   /* continue after a pause */
    RUNCTL_CMD_SAVE,     /* write a checkpoint now */
    RUNCTL_CMD_EVAL,     /* run the held-out evaluation now */
    RUNCTL_CMD_STOP,     /* save a checkpoint and finish (state "stopped") */
    RUNCTL_CMD_COUNT,
};

/* The "state" field of status.json. */
enum runctl_state {
    RUNCTL_STATE_UNKNOWN = 0, /* no status.json, or a state this build does not know */
    RUNCTL_STATE_STARTING,
    RUNCTL_STATE_RUNNING,
    RUNCTL_STATE_PAUSED,
    RUNCTL_STATE_SAVING,
    RUNCTL_STATE_EVALUATING,
    RUNCTL_STATE_FINISHED,
    RUNCTL_STATE_STOPPED,
    RUNCTL_STATE_FAILED,
    RUNCTL_STATE_COUNT,
};

/* status.json as a struct. Strings are truncated to fit (a NUL always ends them). */
struct runctl_status {
    enum runctl_state state;
    int64_t pid;       /* the trainer's process id (0 = not known) */
    int64_t step;      /* last completed optimiser step */
    int64_t max_steps; /* 0 = not known */
    char stage[16];    /* "pretrain", "sft", "grpo" */
    double started;    /* Unix seconds */
    double updated;    /* Unix seconds of this write */
    char device[128];  /* "CPU (OpenBLAS, 2 threads)", "NVIDIA H100 80GB HBM3" */
    char message[256]; /* why it failed, or a short note; "" when none */
};

#define RUNCTL_QUEUE 32       /* requests buffered between two runctl_poll() calls */
#define RUNCTL_HEARTBEAT 10.0 /* seconds: runctl_poll() rewrites an unchanged status.json this often */
#define RUNCTL_MAX_LINE 512   /* longer control lines are skipped: a request is a few dozen bytes */

struct runctl {
    char *dir;
    char *control_path; /* DIR/control.jsonl */
    char *status_path;  /* DIR/status.json */
    char *status_tmp;   /* DIR/status.json.tmp-PID */
    char *events_path;  /* DIR/events.jsonl */
    /* control.jsonl reading position: bytes of it already consumed, and which file that was. */
    off_t control_off;
    dev_t control_dev;
    ino_t control_ino;
    bool control_seen;
    char line[RUNCTL_MAX_LINE]; /* an incomplete last line, until its newline arrives */
    size_t line_len;
    bool line_skip; /* the current line overflowed `line`: drop bytes up to its newline */
    enum runctl_cmd queue[RUNCTL_QUEUE];
    size_t q_head, q_len;
    double opened;             /* Unix seconds of runctl_open: the default for status.started */
    struct runctl_status last; /* the last status written, for the heartbeat */
    double last_write;         /* when (Unix seconds); 0 = never */
    double heartbeat;          /* seconds between heartbeat rewrites (RUNCTL_HEARTBEAT after runctl_open) */
};

/* Opens the live files of an existing run directory. Requests already in control.jsonl are skipped. */
enum status runctl_open(struct runctl *rc, const char *run_dir);
void runctl_close(struct runctl *rc); /* accepts a zeroed struct */

/* The next request appended since the last call, or RUNCTL_CMD_NONE. Malformed lines and unknown commands are
 * skipped with a log_warn. Call between micro-steps; it never blocks. It also keeps status.json fresh: when the
 * last status was written more than rc->heartbeat seconds ago it is rewritten with a new "updated" time, so a
 * reader can tell a long step or a pause from a trainer that died (it shows a run as stale after a minute). */
enum runctl_cmd runctl_poll(struct runctl *rc);

/* Rewrites status.json atomically (temporary file + rename: a reader sees the old or the new file, never a
 * mix). Not fsynced: status is rewritten every step, and after a crash either version is fine. Fields left 0
 * are filled in: pid = getpid(), updated = now, started = the time of runctl_open. */
enum status runctl_write_status(struct runctl *rc, const struct runctl_status *st);

/* Appends {"time": T, "level": L, "msg": M} to events.jsonl in a single write (the message is truncated to
 * 1 KiB). */
enum status runctl_event(struct runctl *rc, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Trainer: says in events.jsonl that a request was taken ("request: save"), before acting on it. A dashboard that
 * sent the request learns from this line that it was handled, even when its effect (a "saving" state, say) was
 * too short to be seen in status.json. */
enum status runctl_ack(struct runctl *rc, enum runctl_cmd cmd);
/* Client: the request an event message acknowledges, or RUNCTL_CMD_NONE when it is no acknowledgement. */
enum runctl_cmd runctl_ack_parse(const char *msg);

/* A log sink (log.h) that appends every message to events.jsonl instead of a terminal; user is the trainer's
 * struct runctl. Install it with log_set_sink() before the trainer thread starts when the dashboard owns the
 * terminal: the dashboard shows the newest event in its health strip. Safe from any thread (one write(2) per
 * message, no shared state beyond the paths). */
void runctl_log_sink(enum log_level level, const char *msg, void *user);

/* Client: appends {"time": T, "cmd": NAME} to RUN_DIR/control.jsonl in one O_APPEND write. */
enum status runctl_send(const char *run_dir, enum runctl_cmd cmd);

/* Parses status.json text; unknown keys are ignored, missing ones left zero. `where` names it in errors. */
enum status runctl_status_parse(const char *text, size_t len, const char *where, struct runctl_status *out);
enum status runctl_status_read(const char *run_dir, struct runctl_status *out);
/* Serialises st as one JSON object (no newline) into out; returns the length needed, like snprintf. */
size_t runctl_status_format(const struct runctl_status *st, char *out, size_t cap);

const char *runctl_cmd_name(enum runctl_cmd cmd);
enum runctl_cmd runctl_cmd_parse(const char *name); /* RUNCTL_CMD_NONE when unknown */
const char *runctl_state_name(enum runctl_state state);
enum runctl_state runctl_state_parse(const char *name); /* RUNCTL_STATE_UNKNOWN when unknown */
/* True for starting, running, paused, saving, evaluating: a trainer is (or should be) working on the run. */
bool runctl_state_active(enum runctl_state state);

/* Wall-clock time in Unix seconds. */
double runctl_now(void);

#endif
