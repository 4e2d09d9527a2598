/* Fuzz target: a whole run directory as the dashboard follows it (run_source.c): metrics.jsonl, samples.jsonl,
 * events.jsonl, status.json, config.json and the `latest` link, taken from the input's parts (separated by a
 * line "@@"), read in poll budgets of 1000 bytes so lines straddle chunk boundaries, every indexed group re-read from
 * disk, and then metrics.jsonl replaced by a shorter file to take the reset path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/run/runctl.h"
#include "lib/fuzz_util.h"
#include "text/sanitize.h"
#include "tui/run_source.h"

static const char *const FILES[] = {"metrics.jsonl", "samples.jsonl", "events.jsonl", "status.json", "config.json"};
#define N_FILES (sizeof FILES / sizeof FILES[0])

static void drain(struct run_source *rs, size_t budget) {
    for (int i = 0; i < 4096; i++)
        if (!(run_source_poll(rs, budget) & RS_BACKLOG)) return;
}

static void look(struct run_source *rs) {
    for (size_t i = 0; i < rs->n_idx && i < 64; i++) {
        const struct sample_group *g = run_source_group(rs, i);
        if (g && g->n > g->n_total) abort();
    }
    if (rs->n_idx) {
        int64_t step = rs->idx[rs->n_idx - 1].step;
        size_t b = run_source_step_begin(rs, step);
        if (b > rs->n_idx || b + run_source_step_count(rs, step) > rs->n_idx) abort();
    }
    (void)run_source_loaded(rs);
    (void)run_source_max_steps(rs);
    (void)run_source_step_rate(rs);
    (void)run_source_eta(rs);
    (void)run_source_liveness(rs, runctl_now());
    const struct rs_event *ev = run_source_last_event(rs);
    if (ev && strnlen(ev->msg, sizeof ev->msg) >= sizeof ev->msg) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct fuzz_part parts[N_FILES + 1];
    size_t n = fuzz_split(data, size, "\n@@\n", parts, N_FILES + 1);
    for (size_t i = 0; i < N_FILES; i++) {
        const char *path = fuzz_path(FILES[i]);
        if (i < n)
            fuzz_write(path, parts[i].p, parts[i].n);
        else
            unlink(path);
    }
    const char *link = fuzz_path("latest");
    unlink(link);
    if (n > N_FILES && parts[N_FILES].n > 0 && parts[N_FILES].n < 256 &&
        !memchr(parts[N_FILES].p, 0, parts[N_FILES].n)) {
        char *target = fuzz_strdup(parts[N_FILES].p, parts[N_FILES].n);
        if (symlink(target, link) != 0) abort();
        free(target);
    }
    struct run_source *rs;
    if (run_source_open(&rs, fuzz_dir(), (size > 0 && (data[0] & 1)) ? SAN_ASCII : 0u) != STATUS_OK) abort();
    drain(rs, 1000);
    look(rs);
    /* A replaced metrics file: the dashboard must drop what it derived and read the new one. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s", fuzz_path("metrics.jsonl.new"));
    fuzz_write(tmp, n > 2 ? parts[2].p : data, n > 2 ? parts[2].n : 0);
    char dst[4200];
    snprintf(dst, sizeof dst, "%s", fuzz_path("metrics.jsonl"));
    if (rename(tmp, dst) != 0) abort();
    drain(rs, 0);
    look(rs);
    run_source_free(rs);
    return 0;
}
