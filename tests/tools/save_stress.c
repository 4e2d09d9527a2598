/* save_stress: kills `r1lab train` with SIGKILL while it writes checkpoints, over and over, and checks after every
 * kill that the run is still whole — the crash-safety claim of checkpoint.h and trainer.h, under fire.
 *
 *   save-stress [--kills N] [--steps M] [--seed S] [--dir DIR] [--max-seconds T] [--keep] [--verbose]
 *
 * N defaults to $R1LAB_STRESS_KILLS, else 1000; the binary under test is $R1LAB_BIN (else ./r1lab) and the fixtures
 * are under $R1LAB_ROOT (else .). It trains the tiny Qwen2 fixture (pretraining, M steps, a checkpoint after every
 * step, the two newest kept) and:
 *   1. runs it once uninterrupted, keeping every checkpoint: the reference;
 *   2. starts the run, and once it has a checkpoint, aims a SIGKILL at a save: three kills in four at a random
 *      moment up to the time a save takes (measured on the reference, from status.json saying "saving" to `latest`
 *      moving), one in eight the instant the new checkpoint directory gets its name (so `latest` still names the
 *      one before), one in eight at a random moment of the training loop (metrics appends, status rewrites);
 *   3. after each kill: `latest` must resolve to a step-N directory that loads (model, tokenizer, optimizer state,
 *      trainer state naming step N) and whose weights and optimizer state are byte for byte the reference's step N;
 *      every other step-N directory must be the same; nothing with a temporary name may be left by an earlier,
 *      dead process (the trainer sweeps them when it starts);
 *   4. resumes with resume_from_checkpoint=true; a resume counts once its process reports "running" (it loaded the
 *      checkpoint and took a step); the next kill is aimed at it;
 *   5. a run that reaches the last step must have logged exactly the reference's metrics, bit for bit (every
 *      number but times and rates), one line per step. Then a new run starts, until N kills have been made.
 * It prints where the kills landed, then exactly one line
 *   "N kills, N resumes, U unreadable checkpoints, X metric mismatches"
 * and exits 0 only when U and X are 0, every kill was followed by a good resume and no stale temporary was found. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "engine/backend/backend.h"
#include "engine/model/model.h"
#include "engine/model/safetensors.h"
#include "engine/run/checkpoint.h"
#include "engine/run/runctl.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"

#define MAX_STEPS 64

struct ref_step {
    char *model, *optim; /* the reference checkpoint's model.safetensors / optimizer.safetensors */
    size_t n_model, n_optim;
    cJSON *metrics; /* its metrics.jsonl line */
};

struct stress {
    const char *bin;
    char root[PATH_MAX];
    char dir[PATH_MAX], cfg[PATH_MAX + 16], ref_dir[PATH_MAX + 16], run[PATH_MAX + 16], log[PATH_MAX + 16];
    int steps;
    long target; /* kills to make */
    uint64_t rng;
    bool verbose;
    struct ref_step ref[MAX_STEPS + 1];
    double period;    /* seconds from one "saving" to the next in the reference run */
    double save_time; /* seconds from "saving" to `latest` moved: writing one checkpoint */
    double deadline;  /* now_s() after which it gives up (--max-seconds), 0 = none */
    struct backend *be;
    /* counts */
    long kills, resumes, unreadable, mismatches, stale, failed_resumes, runs_completed;
    long in_write, before_latest, after_latest, in_loop;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t next_rand(struct stress *s) { /* xorshift64*: the kills are reproducible from --seed */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 0x2545F4914F6CDD1DULL;
}

static double uniform(struct stress *s) {
    return (double)(next_rand(s) >> 11) / 9007199254740992.0;
}

static void sleep_s(double t) {
    if (t <= 0) return;
    struct timespec ts = {(time_t)t, (long)((t - floor(t)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void fail(struct stress *s, long *counter, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct stress *s, long *counter, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "save-stress: kill %ld: ", s->kills);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    (*counter)++;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "save-stress: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---- the trainer as a child process --------------------------------------------------------------------------- */

/* Every wait is bounded by --max-seconds: a trainer that hangs fails the run instead of hanging it. */
static void check_deadline(const struct stress *s, pid_t child) {
    if (s->deadline <= 0 || now_s() < s->deadline) return;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    die("gave up after --max-seconds with %ld kills made (a trainer that hangs?); files kept in %s", s->kills, s->dir);
}

static pid_t spawn(struct stress *s, const char *out_dir, bool resume, int keep) {
    char out_arg[PATH_MAX + 32], keep_arg[32];
    snprintf(out_arg, sizeof out_arg, "output_dir=%s", out_dir);
    snprintf(keep_arg, sizeof keep_arg, "save_total_limit=%d", keep);
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null = open("/dev/null", O_RDONLY);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
        if (null >= 0) dup2(null, 0);
        const char *argv[] = {
            s->bin, "train", "--headless", s->cfg, out_arg, keep_arg, resume ? "resume_from_checkpoint=true" : NULL,
            NULL};
        execv(s->bin, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static char *read_log(const struct stress *s) {
    char *text = NULL;
    size_t len;
    if (fs_read_file(s->log, 1u << 20, &text, &len) != STATUS_OK) return strdup("(no output)");
    return text;
}

/* What the child's status.json says now (state UNKNOWN when it is not its own or unreadable). */
static struct runctl_status child_status(const struct stress *s, pid_t pid) {
    struct runctl_status st;
    if (runctl_status_read(s->run, &st) != STATUS_OK || st.pid != (int64_t)pid) {
        memset(&st, 0, sizeof st);
        err_clear();
    }
    return st;
}

static int64_t latest_step(const char *run) {
    char dir[PATH_MAX];
    int64_t step = -1;
    if (checkpoint_find_latest(run, dir, sizeof dir, &step) != STATUS_OK) {
        err_clear();
        return -2; /* a link that does not resolve */
    }
    return step;
}

/* ---- the reference -------------------------------------------------------------------------------------------- */

static bool read_whole(const char *path, char **out, size_t *len) {
    if (fs_read_file(path, 64u << 20, out, len) == STATUS_OK) return true;
    err_clear();
    return false;
}

/* metrics.jsonl as one parsed object per step (index = step); false on a malformed or repeated line. */
static bool read_metrics(const char *run, cJSON **by_step, int max, int *count, char *why, size_t cap) {
    char path[PATH_MAX + 16], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/metrics.jsonl", run);
    *count = 0;
    if (!read_whole(path, &text, &len)) return snprintf(why, cap, "no metrics.jsonl"), false;
    bool ok = true;
    for (char *line = text; ok && *line;) {
        char *nl = strchr(line, '\n');
        if (!nl) {
            snprintf(why, cap, "a last line without its newline");
            ok = false;
            break;
        }
        cJSON *j = cJSON_ParseWithLength(line, (size_t)(nl - line));
        const cJSON *st = j ? cJSON_GetObjectItemCaseSensitive(j, "step") : NULL;
        int step = cJSON_IsNumber(st) ? (int)st->valuedouble : -1;
        if (step < 1 || step > max || by_step[step]) {
            snprintf(why, cap, "line %d: %s", *count + 1, step < 1 || step > max ? "bad step" : "step repeated");
            cJSON_Delete(j);
            ok = false;
            break;
        }
        by_step[step] = j;
        (*count)++;
        line = nl + 1;
    }
    free(text);
    return ok;
}

/* Numbers that describe the computation (loss, grad_norm, learning_rate, epoch, tokens ...), not the clock. */
static bool compared_key(const char *k) {
    return !strstr(k, "time") && !strstr(k, "per_second") && !strstr(k, "memory");
}

static bool same_metrics(const cJSON *want, const cJSON *got, char *why, size_t cap) {
    const cJSON *w;
    cJSON_ArrayForEach(w, want) {
        if (!cJSON_IsNumber(w) || !compared_key(w->string)) continue;
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(got, w->string);
        if (!cJSON_IsNumber(g) || memcmp(&g->valuedouble, &w->valuedouble, sizeof(double)) != 0) {
            snprintf(why, cap, "%s: %.17g, the uninterrupted run has %.17g", w->string,
                     cJSON_IsNumber(g) ? g->valuedouble : NAN, w->valuedouble);
            return false;
        }
    }
    return true;
}

static void make_reference(struct stress *s) {
    double t0 = now_s();
    int fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0) die("inotify: %s", strerror(errno));
    fs_mkdir_p(s->ref_dir);
    inotify_add_watch(fd, s->ref_dir, IN_MOVED_TO);
    pid_t pid = spawn(s, s->ref_dir, false, 0);
    /* Time the saves: the moments status.json says "saving". */
    double first = -1, last = -1, save_sum = 0;
    int n_saves = 0, n_latest = 0, status;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) > 0) {
            char buf[4096];
            ssize_t n = read(fd, buf, sizeof buf);
            bool saw = false;
            for (ssize_t off = 0; off < n;) {
                const struct inotify_event *e = (const void *)(buf + off);
                if (e->len && strcmp(e->name, "status.json") == 0) saw = true;
                if (e->len && strcmp(e->name, "latest") == 0 && last > 0 && n_latest < n_saves) {
                    save_sum += now_s() - last;
                    n_latest++;
                }
                off += (ssize_t)(sizeof *e + e->len);
            }
            struct runctl_status st;
            if (saw && runctl_status_read(s->ref_dir, &st) == STATUS_OK && st.state == RUNCTL_STATE_SAVING) {
                double t = now_s();
                if (first < 0) first = t;
                last = t;
                n_saves++;
            }
            err_clear();
        }
        if (waitpid(pid, &status, WNOHANG) == pid) break;
        check_deadline(s, pid);
    }
    close(fd);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *log = read_log(s);
        die("the uninterrupted run failed:\n%s", log);
    }
    s->period = n_saves > 1 ? (last - first) / (n_saves - 1) : (now_s() - t0) / s->steps;
    if (s->period < 1e-3) s->period = 1e-3;
    s->save_time = n_latest > 0 ? save_sum / n_latest : s->period / 2;
    if (s->save_time < 5e-4) s->save_time = 5e-4;
    char why[256];
    cJSON *by_step[MAX_STEPS + 1] = {0};
    int count;
    if (!read_metrics(s->ref_dir, by_step, s->steps, &count, why, sizeof why) || count != s->steps)
        die("the uninterrupted run's metrics.jsonl: %s (%d lines for %d steps)", why, count, s->steps);
    for (int k = 1; k <= s->steps; k++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/checkpoints/step-%06d/model.safetensors", s->ref_dir, k);
        if (!read_whole(path, &s->ref[k].model, &s->ref[k].n_model)) die("%s: missing in the reference run", path);
        snprintf(path, sizeof path, "%s/checkpoints/step-%06d/optimizer.safetensors", s->ref_dir, k);
        if (!read_whole(path, &s->ref[k].optim, &s->ref[k].n_optim)) die("%s: missing in the reference run", path);
        s->ref[k].metrics = by_step[k];
    }
    if (s->verbose)
        fprintf(stderr,
                "save-stress: reference: %d steps in %.2f s, %d saves of %.1f ms each, %.1f ms from one to the next\n",
                s->steps, now_s() - t0, n_saves, 1e3 * s->save_time, 1e3 * s->period);
}

/* ---- checks after a kill -------------------------------------------------------------------------------------- */

static bool same_bytes(const char *path, const char *want, size_t n) {
    char *got;
    size_t len;
    if (!read_whole(path, &got, &len)) return false;
    bool same = len == n && memcmp(got, want, n) == 0;
    free(got);
    return same;
}

/* A checkpoint directory under its final name: it loads and holds the reference's step. */
static bool check_checkpoint(struct stress *s, const char *dir, int64_t step, char *why, size_t cap) {
    if (step < 1 || step > s->steps) return snprintf(why, cap, "step %lld is outside the run", (long long)step), false;
    struct model m;
    if (model_load(&m, dir, s->be) != STATUS_OK) return snprintf(why, cap, "model: %s", err_msg()), false;
    model_free(&m);
    struct tokenizer *tok;
    if (tokenizer_load(&tok, dir) != STATUS_OK) return snprintf(why, cap, "tokenizer: %s", err_msg()), false;
    tokenizer_free(tok);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/optimizer.safetensors", dir);
    struct st_file f;
    if (st_file_open(&f, path) != STATUS_OK) return snprintf(why, cap, "optimizer: %s", err_msg()), false;
    st_file_free(&f);
    cJSON *state;
    if (checkpoint_load_state(dir, &state) != STATUS_OK)
        return snprintf(why, cap, "trainer state: %s", err_msg()), false;
    int64_t st_step = -1;
    json_get_int(state, "step", true, 0, 0, INT64_MAX, &st_step, "trainer_state.json");
    cJSON_Delete(state);
    if (st_step != step) return snprintf(why, cap, "trainer_state.json says step %lld", (long long)st_step), false;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!same_bytes(path, s->ref[step].model, s->ref[step].n_model))
        return snprintf(why, cap, "model.safetensors differs from the uninterrupted run's step %lld", (long long)step),
               false;
    snprintf(path, sizeof path, "%s/optimizer.safetensors", dir);
    if (!same_bytes(path, s->ref[step].optim, s->ref[step].n_optim))
        return snprintf(why, cap, "optimizer.safetensors differs from the uninterrupted run's step %lld",
                        (long long)step),
               false;
    return true;
}

/* NAME.tmp-PID, NAME.old-PID or NAME.del-PID: the PID, else -1. */
static long temp_pid(const char *name) {
    static const char *const kinds[] = {".tmp-", ".old-", ".del-"};
    for (int k = 0; k < 3; k++) {
        const char *at = strstr(name, kinds[k]);
        if (at) return strtol(at + 5, NULL, 10);
    }
    return -1;
}

/* Every entry of dir: final checkpoints checked in full (when `checkpoints`), temporaries only from `killed`. */
static void check_entries(struct stress *s, const char *dir, bool checkpoints, pid_t killed) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        long pid = temp_pid(e->d_name);
        if (pid >= 0) {
            if (pid != (long)killed) fail(s, &s->stale, "%s/%s: left by an earlier process, not swept", dir, e->d_name);
            continue;
        }
        long long step;
        char tail;
        if (!checkpoints || sscanf(e->d_name, "step-%lld%c", &step, &tail) != 1) continue;
        char path[PATH_MAX + 300], why[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (!check_checkpoint(s, path, step, why, sizeof why))
            fail(s, &s->unreadable, "%s (not latest): %s", path, why);
    }
    closedir(d);
}

static void check_after_kill(struct stress *s, pid_t killed) {
    char dir[PATH_MAX], why[512];
    int64_t step = -1;
    if (checkpoint_find_latest(s->run, dir, sizeof dir, &step) != STATUS_OK || step < 1) {
        fail(s, &s->unreadable, "latest: %s", step < 1 ? "no checkpoint" : err_msg());
        err_clear();
    } else if (strstr(dir, ".tmp-") || strstr(dir, ".old-") || strstr(dir, ".del-")) {
        fail(s, &s->unreadable, "latest points at a temporary directory %s", dir);
    } else if (!check_checkpoint(s, dir, step, why, sizeof why)) {
        fail(s, &s->unreadable, "latest (%s): %s", dir, why);
    }
    char ckpts[PATH_MAX + 32];
    snprintf(ckpts, sizeof ckpts, "%s/checkpoints", s->run);
    check_entries(s, ckpts, true, killed);
    check_entries(s, s->run, false, killed);
}

/* How a kill is aimed. */
enum aim {
    AIM_SAVE,   /* a random moment of a save: after "saving", within the time a save takes */
    AIM_RENAME, /* at once when the checkpoint directory gets its name, before `latest` follows */
    AIM_LOOP,   /* a random moment of the training loop (two save-and-step periods after "running") */
};

/* Where a kill landed, from what it left: a step-S.tmp-PID directory (it was writing the checkpoint), step-S
 * without `latest` moved to it yet, or both done (it was in the run directory's fsync that makes `latest` durable,
 * pruning, or the next step). */
static void classify(struct stress *s, pid_t killed, int64_t saving_step, enum aim aim) {
    if (aim == AIM_LOOP) {
        s->in_loop++;
        return;
    }
    char tmp[PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%s/checkpoints/step-%06lld.tmp-%ld", s->run, (long long)saving_step, (long)killed);
    if (fs_exists(tmp))
        s->in_write++;
    else if (latest_step(s->run) < saving_step)
        s->before_latest++;
    else
        s->after_latest++;
}

/* ---- the loop ------------------------------------------------------------------------------------------------- */

/* Runs one trainer process until it finishes or is killed. Returns true when it was killed. */
static bool run_one(struct stress *s, bool resume, bool *finished) {
    *finished = false;
    int fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0 || inotify_add_watch(fd, s->run, IN_MOVED_TO) < 0) die("inotify on %s: %s", s->run, strerror(errno));
    int ckpt_wd = -1; /* the checkpoints directory, watched once it exists */
    char ckpts[PATH_MAX + 32];
    snprintf(ckpts, sizeof ckpts, "%s/checkpoints", s->run);
    pid_t pid = spawn(s, s->run, resume, 2);
    bool running = false, want_kill = s->kills < s->target;
    double r = uniform(s);
    enum aim aim = r < 0.75 ? AIM_SAVE : r < 0.875 ? AIM_RENAME : AIM_LOOP;
    double kill_at = -1;
    int64_t saving_step = -1;
    int status = 0;
    bool exited = false;
    for (;;) {
        int timeout = 20;
        if (kill_at > 0) {
            double left = kill_at - now_s();
            if (left <= 0.002) {
                sleep_s(left);
                break;
            }
            timeout = (int)(left * 1e3) - 1;
        }
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, timeout) > 0) {
            char buf[8192];
            ssize_t n = read(fd, buf, sizeof buf);
            bool saw_status = false, saw_rename = false;
            for (ssize_t off = 0; off < n;) {
                const struct inotify_event *e = (const void *)(buf + off);
                long long step;
                char tail;
                if (e->len && e->wd != ckpt_wd && strcmp(e->name, "status.json") == 0) saw_status = true;
                if (e->len && e->wd == ckpt_wd && sscanf(e->name, "step-%lld%c", &step, &tail) == 1) saw_rename = true;
                off += (ssize_t)(sizeof *e + e->len);
            }
            if (ckpt_wd < 0 && fs_is_dir(ckpts)) ckpt_wd = inotify_add_watch(fd, ckpts, IN_MOVED_TO);
            bool armed = want_kill && running && kill_at < 0 && latest_step(s->run) >= 1;
            if (saw_status && kill_at < 0) {
                struct runctl_status st = child_status(s, pid);
                if (st.state == RUNCTL_STATE_RUNNING || st.state == RUNCTL_STATE_SAVING) {
                    if (!running && resume) s->resumes++; /* it loaded the checkpoint and is training */
                    running = true;
                }
                armed = want_kill && running && latest_step(s->run) >= 1;
                if (st.state == RUNCTL_STATE_SAVING) saving_step = st.step;
                if (armed && aim == AIM_LOOP && st.state == RUNCTL_STATE_RUNNING)
                    kill_at = now_s() + 2 * s->period * uniform(s);
                else if (armed && aim == AIM_SAVE && st.state == RUNCTL_STATE_SAVING)
                    kill_at = now_s() + s->save_time * uniform(s);
            }
            if (saw_rename && armed && aim == AIM_RENAME && saving_step >= 1) kill_at = now_s();
        }
        if (waitpid(pid, &status, WNOHANG) == pid) {
            exited = true;
            break;
        }
        check_deadline(s, pid);
    }
    close(fd);
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
            s->kills++;
            classify(s, pid, saving_step, aim);
            check_after_kill(s, pid);
            return true;
        }
        exited = true; /* it finished just before the signal */
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *log = read_log(s);
        fail(s, &s->failed_resumes, "the %s exited with status %d:\n%s", resume ? "resumed run" : "run",
             WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), log);
        free(log);
        return false;
    }
    if (resume && !running) s->resumes++; /* it finished its last steps between two looks at status.json */
    *finished = true;
    return false;
}

static void check_finished_run(struct stress *s) {
    cJSON *by_step[MAX_STEPS + 1] = {0};
    int count;
    char why[512];
    if (!read_metrics(s->run, by_step, s->steps, &count, why, sizeof why) || count != s->steps) {
        fail(s, &s->mismatches, "metrics.jsonl of the resumed run: %s (%d lines for %d steps)",
             count == s->steps ? why : "wrong line count", count, s->steps);
    } else {
        for (int k = 1; k <= s->steps; k++)
            if (!same_metrics(s->ref[k].metrics, by_step[k], why, sizeof why))
                fail(s, &s->mismatches, "metrics.jsonl step %d: %s", k, why);
    }
    for (int k = 0; k <= s->steps; k++) cJSON_Delete(by_step[k]);
    s->runs_completed++;
}

static void usage(void) {
    fprintf(stderr, "usage: save-stress [--kills N] [--steps M] [--seed S] [--dir DIR] [--max-seconds T] [--keep] "
                    "[--verbose]\n");
    exit(2);
}

int main(int argc, char **argv) {
    struct stress s;
    memset(&s, 0, sizeof s);
    const char *env = getenv("R1LAB_STRESS_KILLS");
    long target = env && *env ? strtol(env, NULL, 10) : 1000;
    s.steps = 8;
    s.rng = 0x5eed;
    bool keep = false;
    const char *dir = NULL;
    static const struct option opts[] = {{"kills", required_argument, 0, 'k'},
                                         {"steps", required_argument, 0, 'm'},
                                         {"seed", required_argument, 0, 's'},
                                         {"dir", required_argument, 0, 'd'},
                                         {"keep", no_argument, 0, 'K'},
                                         {"verbose", no_argument, 0, 'v'},
                                         {"max-seconds", required_argument, 0, 'T'},
                                         {0, 0, 0, 0}};
    int c;
    double max_seconds = 0;
    while ((c = getopt_long(argc, argv, "k:m:s:d:T:Kv", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            target = strtol(optarg, NULL, 10);
            break;
        case 'm':
            s.steps = (int)strtol(optarg, NULL, 10);
            break;
        case 's':
            s.rng = strtoull(optarg, NULL, 10) * 2 + 1;
            break;
        case 'd':
            dir = optarg;
            break;
        case 'K':
            keep = true;
            break;
        case 'v':
            s.verbose = true;
            break;
        case 'T':
            max_seconds = strtod(optarg, NULL);
            break;
        default:
            usage();
        }
    }
    if (optind != argc || target < 1 || s.steps < 2 || s.steps > MAX_STEPS) usage();
    s.bin = getenv("R1LAB_BIN") && *getenv("R1LAB_BIN") ? getenv("R1LAB_BIN") : "./r1lab";
    const char *root = getenv("R1LAB_ROOT");
    if (!realpath(root && *root ? root : ".", s.root)) die("R1LAB_ROOT: %s", strerror(errno));
    if (dir) {
        snprintf(s.dir, sizeof s.dir, "%s", dir);
        if (fs_mkdir_p(s.dir) != STATUS_OK) die("%s", err_msg());
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(s.dir, sizeof s.dir, "%s/r1lab-save-stress-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(s.dir)) die("%s: %s", s.dir, strerror(errno));
    }
    snprintf(s.cfg, sizeof s.cfg, "%s/tiny.json", s.dir);
    snprintf(s.ref_dir, sizeof s.ref_dir, "%s/ref", s.dir);
    snprintf(s.run, sizeof s.run, "%s/run", s.dir);
    snprintf(s.log, sizeof s.log, "%s/train.log", s.dir);
    char text[PATH_MAX + 1024];
    snprintf(text, sizeof text,
             "{\"stage\": \"pretrain\", \"model_name_or_path\": \"%s/tests/fixtures/models/qwen2_tiny\",\n"
             " \"dataset\": \"world:corpus\", \"dataset_size\": 300, \"max_seq_length\": 48,\n"
             " \"per_device_train_batch_size\": 4, \"gradient_accumulation_steps\": 2, \"learning_rate\": 0.003,\n"
             " \"lr_scheduler_type\": \"cosine\", \"warmup_steps\": 3, \"max_steps\": %d, \"save_steps\": 1,\n"
             " \"seed\": 7, \"threads\": 1}\n",
             s.root, s.steps);
    if (fs_write_atomic(s.cfg, text, strlen(text)) != STATUS_OK) die("%s", err_msg());
    if (backend_cpu_open(&s.be, 1) != STATUS_OK) die("%s", err_msg());
    if (max_seconds > 0) s.deadline = now_s() + max_seconds;
    signal(SIGPIPE, SIG_IGN);

    make_reference(&s);
    double t0 = now_s();
    s.target = target;
    while (s.kills < target && s.failed_resumes == 0) {
        fs_remove_tree(s.run);
        if (fs_mkdir_p(s.run) != STATUS_OK) die("%s", err_msg());
        bool finished = false, resume = false;
        /* One run: killed and resumed until it reaches its last step (the last kill's resume always does). */
        while (run_one(&s, resume, &finished)) resume = true;
        if (finished) check_finished_run(&s);
        if (s.verbose)
            fprintf(stderr, "save-stress: %ld kills, %ld runs completed, %.1f s\n", s.kills, s.runs_completed,
                    now_s() - t0);
    }
    printf("kills while writing a checkpoint: %ld; after its rename, before `latest` moved: %ld; after `latest` "
           "moved (its fsync, pruning): %ld; at a random moment of the training loop: %ld\n",
           s.in_write, s.before_latest, s.after_latest, s.in_loop);
    printf("%ld runs completed, %ld stale temporaries, %ld failed resumes, %.1f s\n", s.runs_completed, s.stale,
           s.failed_resumes, now_s() - t0);
    printf("%ld kills, %ld resumes, %ld unreadable checkpoints, %ld metric mismatches\n", s.kills, s.resumes,
           s.unreadable, s.mismatches);
    backend_close(s.be);
    for (int k = 0; k <= s.steps; k++) {
        free(s.ref[k].model);
        free(s.ref[k].optim);
        cJSON_Delete(s.ref[k].metrics);
    }
    bool ok = s.unreadable == 0 && s.mismatches == 0 && s.stale == 0 && s.failed_resumes == 0 && s.resumes == s.kills;
    if (!keep && ok && !dir)
        fs_remove_tree(s.dir);
    else if (!ok)
        fprintf(stderr, "save-stress: files kept in %s\n", s.dir);
    return ok ? 0 : 1;
}
