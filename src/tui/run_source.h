/* run_source: the dashboard's data side. Reads a run directory (docs/run-format.md) incrementally and keeps
 * plain, bounded data for the display side: one series per metric, the latest metrics record, the run's
 * status, recent events, and an index of logged sample groups with a small cache of parsed ones.
 *
 * It is the same for a live run in this process, a run written by another process and a finished run: it only
 * reads files. Each poll does a bounded amount of work (a byte budget across the files), so attaching to a run
 * with a 100 MB metrics.jsonl fills the charts over a few frames while keys keep working. Memory is bounded:
 * series merge points beyond SERIES_CAP, the group index thins its older half when full, parsed groups live in
 * a fixed-size cache and are re-read from samples.jsonl on demand. Bad lines are skipped and counted.
 *
 * Not thread-safe: one thread (the UI thread) owns a run_source. Never writes to the run directory. */
#ifndef R1LAB_TUI_RUN_SOURCE_H
#define R1LAB_TUI_RUN_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/run/runctl.h"
#include "engine/util/status.h"
#include "linereader.h"
#include "metrics.h"
#include "samples.h"
#include "series.h"

#define RS_MAX_LINE (8u << 20)    /* longer lines are dropped and counted */
#ifndef RS_CHUNK
#define RS_CHUNK (1u << 20)       /* bytes read per pread (the fuzz build sets a smaller one) */
#endif
#define RS_POLL_BUDGET (4u << 20) /* default bytes per poll */
#define RS_INDEX_MAX (1u << 20)   /* group index entries kept */
#define RS_CACHE 32               /* parsed groups kept */
#define RS_EVENTS 16              /* recent events kept */
#define RS_TIME_RING 64           /* recent (step, time) pairs for the step rate */

/* What a poll changed (bits). */
enum rs_change {
    RS_CHANGED_METRICS = 1u << 0,
    RS_CHANGED_SAMPLES = 1u << 1,
    RS_CHANGED_STATUS = 1u << 2,
    RS_CHANGED_EVENTS = 1u << 3,
    RS_CHANGED_RESET = 1u << 4, /* a file was replaced or truncated: everything derived was dropped */
    RS_BACKLOG = 1u << 5,       /* unread bytes remain: poll again soon */
};

struct rs_group_ref {
    int64_t step;
    int64_t group;
    off_t off;    /* the line's offset in samples.jsonl */
    uint32_t len; /* its length in bytes */
};

struct rs_event {
    uint64_t seq; /* 1 for the first event read, counting up (it survives a reset of the ring) */
    double time;
    enum log_level level;
    char msg[160]; /* sanitised, single line */
};

/* Optional hooks, called during run_source_poll() for every accepted metrics record / event (plain output). */
typedef void (*rs_record_fn)(void *user, const struct metrics_rec *rec);
typedef void (*rs_event_fn)(void *user, const struct rs_event *ev);

struct run_source {
    char *dir;
    rs_record_fn on_record;
    rs_event_fn on_event;
    void *hook_user;
    unsigned san_flags; /* sanitize.h flags for the terminal in use */
    struct linereader metrics_lr, samples_lr, events_lr;
    char *chunk; /* (RS_CHUNK) read buffer */

    /* status.json, re-read when its inode, size or mtime changes */
    struct runctl_status status;
    bool have_status;
    dev_t status_dev;
    ino_t status_ino;
    off_t status_size;
    struct timespec status_mtime;
    uint64_t status_errors; /* unreadable status.json versions seen */

    /* config.json, looked for until found */
    bool have_config;
    int64_t cfg_max_steps;             /* 0 = unknown */
    int64_t cfg_max_completion_length; /* 0 = unknown */
    int64_t cfg_num_generations;       /* 0 = unknown */
    char latest_ckpt[64];              /* target of the `latest` link's last component, "" if none */

    /* metrics */
    struct metrics_names names;
    struct metrics_rec last; /* the newest record */
    bool have_last;
    uint64_t n_records;   /* metrics lines accepted */
    uint64_t bad_metrics; /* metrics lines skipped (not JSON, no step, too long) */
    int64_t first_step;
    struct series m[M_COUNT];
    struct series rw[METRICS_MAX_REWARDS]; /* by names.name[i] */
    int64_t ring_step[RS_TIME_RING];
    double ring_time[RS_TIME_RING];
    int ring_n, ring_head;
    int64_t last_eval_step; /* step of the newest eval/pass@1, -1 when none */

    /* samples */
    struct rs_group_ref *idx; /* (cap_idx) in file order */
    size_t n_idx, cap_idx;
    uint64_t bad_samples;
    uint64_t idx_thinned; /* entries dropped by thinning */
    struct {
        off_t off; /* key: the line's offset; -1 = empty slot */
        uint64_t used;
        bool ok;
        struct sample_group g;
    } cache[RS_CACHE];
    uint64_t cache_tick;
    char *line_buf; /* scratch for re-reading a group line, grown up to RS_MAX_LINE */
    size_t line_cap;

    /* events */
    struct rs_event ev[RS_EVENTS];
    int ev_n, ev_head; /* ring: newest at (ev_head + ev_n - 1) % RS_EVENTS */
    uint64_t ev_seq;   /* events read so far: the seq of the newest */
    uint64_t bad_events;
};

/* Opens dir (which must exist). san_flags: SAN_ASCII for a non-UTF-8 terminal. Nothing is read until a poll. */
enum status run_source_open(struct run_source **out, const char *dir, unsigned san_flags);
void run_source_free(struct run_source *rs); /* accepts NULL */

/* Reads what was appended, at most about `budget` bytes (0 = RS_POLL_BUDGET). Returns rs_change bits. */
unsigned run_source_poll(struct run_source *rs, size_t budget);

/* Fraction of the metrics file read so far (1 when caught up): for a "loading" indicator. */
double run_source_loaded(const struct run_source *rs);

/* Group i of the index (0 <= i < n_idx), parsed and sanitised, from the cache or re-read from disk. NULL when
 * the line can no longer be read or parsed. The pointer stays valid until the next run_source_group or poll. */
const struct sample_group *run_source_group(struct run_source *rs, size_t i);
/* First index entry with step >= `step` (n_idx when none); entries are in file order, normally by step. */
size_t run_source_step_begin(const struct run_source *rs, int64_t step);
/* Number of index entries for exactly `step`, starting at run_source_step_begin(). */
size_t run_source_step_count(const struct run_source *rs, int64_t step);

/* max_steps from status.json, else config.json; 0 when unknown. */
int64_t run_source_max_steps(const struct run_source *rs);
/* Steps per second over the recent records; 0 when unknown. */
double run_source_step_rate(const struct run_source *rs);
/* Seconds to max_steps at the recent rate; negative when unknown. */
double run_source_eta(const struct run_source *rs);

enum rs_liveness {
    RS_NO_STATUS, /* no status.json: a recorded run, or one not started yet */
    RS_LIVE,      /* a trainer is working on it */
    RS_ENDED,     /* finished, stopped or failed */
    RS_STALE,     /* says it is running, but was not updated for a long time and its pid is not alive here */
};
enum rs_liveness run_source_liveness(const struct run_source *rs, double now);

/* The newest event, or NULL. */
const struct rs_event *run_source_last_event(const struct run_source *rs);
/* Whether one of the events read after event number `after` (an ev_seq value) acknowledges request cmd
 * (runctl_ack). Only the RS_EVENTS newest events are kept, so an acknowledgement buried under more is missed. */
bool run_source_acked(const struct run_source *rs, uint64_t after, enum runctl_cmd cmd);

#endif
