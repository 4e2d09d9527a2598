/* run_source: implementation. Files are polled in priority order (metrics, then samples, then events) out of
 * one byte budget, so charts fill first when attaching to a long run. */
#include "run_source.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "engine/util/fsutil.h"
#include "text/sanitize.h"

#define STALE_SECONDS 60.0 /* a trainer rewrites status.json at least this often while it works */

static void reset_metrics(struct run_source *rs) {
    memset(&rs->names, 0, sizeof rs->names);
    memset(&rs->last, 0, sizeof rs->last);
    rs->have_last = false;
    rs->n_records = rs->bad_metrics = 0;
    rs->first_step = 0;
    for (int m = 0; m < M_COUNT; m++) series_init(&rs->m[m]);
    for (int i = 0; i < METRICS_MAX_REWARDS; i++) series_init(&rs->rw[i]);
    rs->ring_n = rs->ring_head = 0;
    rs->last_eval_step = -1;
}

static void reset_samples(struct run_source *rs) {
    rs->n_idx = 0;
    rs->bad_samples = rs->idx_thinned = 0;
    for (int i = 0; i < RS_CACHE; i++) {
        if (rs->cache[i].ok) samples_free(&rs->cache[i].g);
        rs->cache[i].off = -1;
        rs->cache[i].ok = false;
        rs->cache[i].used = 0;
    }
}

enum status run_source_open(struct run_source **out, const char *dir, unsigned san_flags) {
    *out = NULL;
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        err_set_errno(STATUS_IO, "%s: cannot open run directory", dir);
        err_hint("give the directory a run writes to (output_dir), e.g. runs/zero");
        return STATUS_IO;
    }
    if (!S_ISDIR(sb.st_mode)) return err_set(STATUS_IO, "%s: not a directory (expected a run directory)", dir);
    struct run_source *rs = calloc(1, sizeof *rs);
    if (!rs) return err_set(STATUS_NOMEM, "run_source: out of memory");
    rs->dir = strdup(dir);
    rs->san_flags = san_flags;
    rs->chunk = malloc(RS_CHUNK);
    char *mp = fs_join_alloc(dir, "metrics.jsonl"), *sp = fs_join_alloc(dir, "samples.jsonl"),
         *ep = fs_join_alloc(dir, "events.jsonl");
    if (!rs->dir || !rs->chunk || !mp || !sp || !ep) {
        free(mp);
        free(sp);
        free(ep);
        run_source_free(rs);
        return err_set(STATUS_NOMEM, "run_source: out of memory");
    }
    lr_init(&rs->metrics_lr, mp, RS_MAX_LINE);
    lr_init(&rs->samples_lr, sp, RS_MAX_LINE);
    lr_init(&rs->events_lr, ep, 64 * 1024);
    free(mp);
    free(sp);
    free(ep);
    reset_metrics(rs);
    reset_samples(rs);
    *out = rs;
    return STATUS_OK;
}

void run_source_free(struct run_source *rs) {
    if (!rs) return;
    reset_samples(rs);
    lr_free(&rs->metrics_lr);
    lr_free(&rs->samples_lr);
    lr_free(&rs->events_lr);
    free(rs->idx);
    free(rs->line_buf);
    free(rs->chunk);
    free(rs->dir);
    free(rs);
}

/* ---- metrics ---- */

static void on_metrics_line(void *user, const char *line, size_t len, off_t off) {
    struct run_source *rs = user;
    struct metrics_rec r;
    if (!metrics_parse(line, len, &rs->names, &r)) {
        rs->bad_metrics++;
        return;
    }
    double x = (double)r.step;
    for (int m = 0; m < M_COUNT; m++)
        if (metrics_has(&r, (enum metric)m)) series_push(&rs->m[m], x, (float)r.value[m]);
    for (int i = 0; i < rs->names.n; i++)
        if (r.reward_valid & (1u << i)) series_push(&rs->rw[i], x, (float)r.reward[i]);
    if (metrics_has(&r, M_EVAL_PASS1)) rs->last_eval_step = r.step;
    if (rs->n_records == 0) rs->first_step = r.step;
    rs->n_records++;
    if (r.time > 0) {
        int at = (rs->ring_head + rs->ring_n) % RS_TIME_RING;
        if (rs->ring_n == RS_TIME_RING) {
            rs->ring_head = (rs->ring_head + 1) % RS_TIME_RING;
            at = (rs->ring_head + rs->ring_n - 1) % RS_TIME_RING;
        } else {
            rs->ring_n++;
        }
        rs->ring_step[at] = r.step;
        rs->ring_time[at] = r.time;
    }
    rs->last = r;
    rs->have_last = true;
    if (rs->on_record) rs->on_record(rs->hook_user, &rs->last);
    (void)off;
}

double run_source_step_rate(const struct run_source *rs) {
    if (rs->ring_n < 2) return 0;
    int a = rs->ring_head, b = (rs->ring_head + rs->ring_n - 1) % RS_TIME_RING;
    double dt = rs->ring_time[b] - rs->ring_time[a];
    double ds = (double)(rs->ring_step[b] - rs->ring_step[a]);
    return dt > 0 && ds > 0 ? ds / dt : 0;
}

int64_t run_source_max_steps(const struct run_source *rs) {
    if (rs->have_status && rs->status.max_steps > 0) return rs->status.max_steps;
    return rs->cfg_max_steps;
}

double run_source_eta(const struct run_source *rs) {
    int64_t max = run_source_max_steps(rs);
    double rate = run_source_step_rate(rs);
    if (max <= 0 || !rs->have_last) return -1;
    if (rs->last.step >= max) return 0;
    if (rate <= 0) return -1;
    return (double)(max - rs->last.step) / rate;
}

double run_source_loaded(const struct run_source *rs) {
    const struct linereader *lr = &rs->metrics_lr;
    if (lr->size <= 0 || lr->pos >= lr->size) return 1.0;
    return (double)lr->pos / (double)lr->size;
}

/* ---- samples ---- */

static void index_thin(struct run_source *rs) {
    /* Keep the newer half whole; of the older half keep every other entry. */
    size_t half = rs->n_idx / 2, w = 0;
    for (size_t i = 0; i < half; i += 2) rs->idx[w++] = rs->idx[i];
    rs->idx_thinned += half - w;
    memmove(rs->idx + w, rs->idx + half, (rs->n_idx - half) * sizeof *rs->idx);
    rs->n_idx = w + (rs->n_idx - half);
}

static void on_samples_line(void *user, const char *line, size_t len, off_t off) {
    struct run_source *rs = user;
    int64_t step, group;
    if (!samples_peek(line, len, &step, &group)) {
        rs->bad_samples++;
        return;
    }
    if (rs->n_idx == RS_INDEX_MAX) index_thin(rs);
    if (rs->n_idx == rs->cap_idx) {
        size_t cap = rs->cap_idx ? rs->cap_idx * 2 : 1024;
        if (cap > RS_INDEX_MAX) cap = RS_INDEX_MAX;
        struct rs_group_ref *p = realloc(rs->idx, cap * sizeof *p);
        if (!p) {
            rs->bad_samples++;
            return;
        }
        rs->idx = p;
        rs->cap_idx = cap;
    }
    rs->idx[rs->n_idx++] = (struct rs_group_ref){step, group, off, (uint32_t)len};
}

const struct sample_group *run_source_group(struct run_source *rs, size_t i) {
    if (i >= rs->n_idx) return NULL;
    const struct rs_group_ref *ref = &rs->idx[i];
    rs->cache_tick++;
    int victim = 0;
    for (int k = 0; k < RS_CACHE; k++) {
        if (rs->cache[k].off == ref->off) {
            rs->cache[k].used = rs->cache_tick;
            return rs->cache[k].ok ? &rs->cache[k].g : NULL;
        }
        if (rs->cache[k].used < rs->cache[victim].used) victim = k;
    }
    if (rs->cache[victim].ok) samples_free(&rs->cache[victim].g);
    rs->cache[victim].off = ref->off;
    rs->cache[victim].used = rs->cache_tick;
    rs->cache[victim].ok = false;
    if (ref->len + 1 > rs->line_cap) {
        char *p = realloc(rs->line_buf, ref->len + 1);
        if (!p) return NULL;
        rs->line_buf = p;
        rs->line_cap = ref->len + 1;
    }
    if (!lr_pread(&rs->samples_lr, ref->off, rs->line_buf, ref->len)) return NULL;
    rs->cache[victim].ok = samples_parse(rs->line_buf, ref->len, rs->san_flags, &rs->cache[victim].g);
    return rs->cache[victim].ok ? &rs->cache[victim].g : NULL;
}

size_t run_source_step_begin(const struct run_source *rs, int64_t step) {
    size_t lo = 0, hi = rs->n_idx;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (rs->idx[mid].step < step)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t run_source_step_count(const struct run_source *rs, int64_t step) {
    size_t b = run_source_step_begin(rs, step), e = b;
    while (e < rs->n_idx && rs->idx[e].step == step) e++;
    return e - b;
}

/* ---- events ---- */

static void on_events_line(void *user, const char *line, size_t len, off_t off) {
    struct run_source *rs = user;
    (void)off;
    cJSON *j = cJSON_ParseWithLength(line, len);
    const cJSON *msg = j ? cJSON_GetObjectItemCaseSensitive(j, "msg") : NULL;
    if (!cJSON_IsString(msg)) {
        rs->bad_events++;
        cJSON_Delete(j);
        return;
    }
    int at;
    if (rs->ev_n == RS_EVENTS) {
        at = rs->ev_head;
        rs->ev_head = (rs->ev_head + 1) % RS_EVENTS;
    } else {
        at = (rs->ev_head + rs->ev_n++) % RS_EVENTS;
    }
    struct rs_event *e = &rs->ev[at];
    e->seq = ++rs->ev_seq;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "time");
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(j, "level");
    e->time = cJSON_IsNumber(t) ? t->valuedouble : 0;
    e->level = LOG_INFO;
    if (cJSON_IsString(lv)) {
        if (strcmp(lv->valuestring, "warning") == 0) e->level = LOG_WARN;
        if (strcmp(lv->valuestring, "error") == 0) e->level = LOG_ERROR;
    }
    san_text(msg->valuestring, strlen(msg->valuestring), rs->san_flags, e->msg, sizeof e->msg, NULL);
    cJSON_Delete(j);
    if (rs->on_event) rs->on_event(rs->hook_user, e);
}

const struct rs_event *run_source_last_event(const struct run_source *rs) {
    if (rs->ev_n == 0) return NULL;
    return &rs->ev[(rs->ev_head + rs->ev_n - 1) % RS_EVENTS];
}

bool run_source_acked(const struct run_source *rs, uint64_t after, enum runctl_cmd cmd) {
    for (int k = rs->ev_n - 1; k >= 0; k--) {
        const struct rs_event *e = &rs->ev[(rs->ev_head + k) % RS_EVENTS];
        if (e->seq <= after) break;
        if (runctl_ack_parse(e->msg) == cmd) return true;
    }
    return false;
}

/* ---- status, config, checkpoints ---- */

static bool poll_status(struct run_source *rs) {
    char *path = fs_join_alloc(rs->dir, "status.json");
    if (!path) return false;
    struct stat sb;
    bool changed = false;
    if (stat(path, &sb) != 0) {
        if (rs->have_status) {
            rs->have_status = false;
            memset(&rs->status, 0, sizeof rs->status);
            changed = true;
        }
    } else if (!rs->have_status || sb.st_ino != rs->status_ino || sb.st_dev != rs->status_dev ||
               sb.st_size != rs->status_size || sb.st_mtim.tv_sec != rs->status_mtime.tv_sec ||
               sb.st_mtim.tv_nsec != rs->status_mtime.tv_nsec) {
        char *text;
        size_t len;
        struct runctl_status st;
        if (fs_read_file(path, 64 * 1024, &text, &len) == STATUS_OK) {
            if (runctl_status_parse(text, len, path, &st) == STATUS_OK) {
                char clean[sizeof st.device];
                san_text(st.device, strlen(st.device), rs->san_flags, clean, sizeof clean, NULL);
                memcpy(st.device, clean, sizeof clean);
                char msg[sizeof st.message];
                san_text(st.message, strlen(st.message), rs->san_flags, msg, sizeof msg, NULL);
                memcpy(st.message, msg, sizeof msg);
                san_text(st.stage, strlen(st.stage), rs->san_flags, clean, sizeof st.stage, NULL);
                memcpy(st.stage, clean, sizeof st.stage);
                rs->status = st;
                rs->have_status = true;
                changed = true;
            } else {
                rs->status_errors++;
            }
            free(text);
            err_clear();
        }
        rs->status_dev = sb.st_dev;
        rs->status_ino = sb.st_ino;
        rs->status_size = sb.st_size;
        rs->status_mtime = sb.st_mtim;
    }
    free(path);
    return changed;
}

/* A count from a copied or hand-edited config.json: a number no int64 holds (1e3080 reads as infinity) is
 * absent, as converting it would be undefined behaviour. */
static int64_t as_count(const cJSON *v) {
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9e18 ? (int64_t)v->valuedouble : 0;
}

/* An integer setting at the top level of config.json or one object down (stage sections). */
static int64_t config_int(const cJSON *j, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (cJSON_IsNumber(v)) return as_count(v);
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        if (!cJSON_IsObject(it)) continue;
        v = cJSON_GetObjectItemCaseSensitive(it, key);
        if (cJSON_IsNumber(v)) return as_count(v);
    }
    return 0;
}

static void poll_config(struct run_source *rs) {
    if (rs->have_config) return;
    char *path = fs_join_alloc(rs->dir, "config.json");
    char *text = NULL;
    size_t len;
    if (path && fs_read_file(path, 4u << 20, &text, &len) == STATUS_OK) {
        cJSON *j = cJSON_ParseWithLength(text, len);
        if (j) {
            rs->cfg_max_steps = config_int(j, "max_steps");
            rs->cfg_max_completion_length = config_int(j, "max_completion_length");
            rs->cfg_num_generations = config_int(j, "num_generations");
            rs->have_config = true;
            cJSON_Delete(j);
        }
    }
    err_clear();
    free(text);
    free(path);
}

static void poll_latest(struct run_source *rs) {
    char *path = fs_join_alloc(rs->dir, "latest");
    char target[PATH_MAX];
    ssize_t n = path ? readlink(path, target, sizeof target - 1) : -1;
    free(path);
    if (n <= 0) {
        rs->latest_ckpt[0] = '\0';
        return;
    }
    target[n] = '\0';
    const char *base = strrchr(target, '/');
    base = base ? base + 1 : target;
    san_text(base, strlen(base), rs->san_flags | SAN_ASCII, rs->latest_ckpt, sizeof rs->latest_ckpt, NULL);
}

/* ---- polling ---- */

static size_t poll_file(struct run_source *rs, struct linereader *lr, size_t budget, lr_line_fn fn, unsigned bit,
                        unsigned *changes) {
    bool reset;
    size_t got = lr_poll(lr, rs->chunk, RS_CHUNK, budget, fn, rs, &reset);
    if (reset) {
        if (lr == &rs->metrics_lr) reset_metrics(rs);
        if (lr == &rs->samples_lr) reset_samples(rs);
        if (lr == &rs->events_lr) rs->ev_n = rs->ev_head = 0;
        *changes |= RS_CHANGED_RESET | bit;
        got = lr_poll(lr, rs->chunk, RS_CHUNK, budget, fn, rs, &reset);
    }
    if (got > 0) *changes |= bit;
    return got;
}

unsigned run_source_poll(struct run_source *rs, size_t budget) {
    if (budget == 0) budget = RS_POLL_BUDGET;
    unsigned changes = 0;
    if (poll_status(rs)) {
        changes |= RS_CHANGED_STATUS;
        poll_latest(rs);
    }
    poll_config(rs);
    size_t used = poll_file(rs, &rs->metrics_lr, budget, on_metrics_line, RS_CHANGED_METRICS, &changes);
    if (used < budget)
        used += poll_file(rs, &rs->samples_lr, budget - used, on_samples_line, RS_CHANGED_SAMPLES, &changes);
    uint64_t before = rs->events_lr.lines;
    if (used < budget) poll_file(rs, &rs->events_lr, budget - used, on_events_line, RS_CHANGED_EVENTS, &changes);
    if (rs->events_lr.lines != before) poll_latest(rs); /* a checkpoint is usually announced by an event */
    if (lr_backlog(&rs->metrics_lr) || lr_backlog(&rs->samples_lr) || lr_backlog(&rs->events_lr)) changes |= RS_BACKLOG;
    return changes;
}

enum rs_liveness run_source_liveness(const struct run_source *rs, double now) {
    if (!rs->have_status) return RS_NO_STATUS;
    if (!runctl_state_active(rs->status.state)) return RS_ENDED;
    if (now - rs->status.updated < STALE_SECONDS) return RS_LIVE;
    if (rs->status.pid > 0 && rs->status.pid < INT_MAX) {
        if (kill((pid_t)rs->status.pid, 0) == 0 || errno == EPERM) return RS_LIVE;
    }
    return RS_STALE;
}
