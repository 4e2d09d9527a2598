/* Fuzz target: a pipeline's state file, PIPE/pipeline.json (the pipeline's state and pid, each stage's name, kind,
 * directory, state, times and message), read by pipeline_status_parse as `r1lab pipeline` does on a re-run and as
 * the dashboard does for a pipeline directory. An accepted file is written back with pipeline_status_write and must
 * read back to the same fields: the runner rewrites the file after every stage from what it read. Every stage
 * directory must be a plain name (readers join it to PIPE) and every string NUL-terminated in its buffer. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/run/pipeline.h"
#include "lib/fuzz_util.h"

#define TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

static void check_stage(const struct pipeline_stage_status *s) {
    if (!TERMINATED(s->name) || !TERMINATED(s->kind) || !TERMINATED(s->detail) || !TERMINATED(s->dir) ||
        !TERMINATED(s->message))
        abort();
    if (!s->name[0] || !s->dir[0] || strchr(s->dir, '/') || strcmp(s->dir, ".") == 0 || strcmp(s->dir, "..") == 0)
        abort();
    if ((unsigned)s->state >= PIPELINE_STATE_COUNT) abort();
}

/* cJSON prints a number with 15 significant digits whenever that reads back within DBL_EPSILON of it (relative),
 * so times come back that close, not bit for bit; a Unix time keeps its 10 µs. */
static bool same_time(double a, double b) {
    return fabs(a - b) <= 2 * DBL_EPSILON * fmax(fabs(a), fabs(b));
}

static bool same_stage(const struct pipeline_stage_status *a, const struct pipeline_stage_status *b) {
    return strcmp(a->name, b->name) == 0 && strcmp(a->kind, b->kind) == 0 && strcmp(a->detail, b->detail) == 0 &&
           strcmp(a->dir, b->dir) == 0 && strcmp(a->message, b->message) == 0 && a->state == b->state &&
           same_time(a->started, b->started) && same_time(a->ended, b->ended);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_memdup(data, size);
    struct pipeline_status a, b;
    if (pipeline_status_parse(text, size, "pipeline.json", &a) == STATUS_OK) {
        if (a.n > PIPELINE_MAX_STAGES || (unsigned)a.state >= PIPELINE_STATE_COUNT) abort();
        for (size_t i = 0; i < a.n; i++) check_stage(&a.stages[i]);
        if (pipeline_status_write(fuzz_dir(), &a) != STATUS_OK) {
            fprintf(stderr, "write: %s\n", err_msg());
            abort();
        }
        if (pipeline_status_read(fuzz_dir(), &b) != STATUS_OK) {
            fprintf(stderr, "read back: %s\n", err_msg());
            abort();
        }
        if (a.state != b.state || a.pid != b.pid || !same_time(a.started, b.started) ||
            !same_time(a.updated, b.updated) || a.n != b.n) {
            fprintf(stderr, "read back differently: state %d/%d pid %lld/%lld started %.17g/%.17g updated %.17g/%.17g "
                    "stages %zu/%zu\n", a.state, b.state, (long long)a.pid, (long long)b.pid, a.started, b.started,
                    a.updated, b.updated, a.n, b.n);
            abort();
        }
        for (size_t i = 0; i < a.n; i++) {
            const struct pipeline_stage_status *x = &a.stages[i], *y = &b.stages[i];
            if (!same_stage(x, y)) {
                fprintf(stderr, "stage %zu read back differently: name \"%s\"/\"%s\" kind \"%s\"/\"%s\" detail \"%s\"/\"%s\" "
                        "dir \"%s\"/\"%s\" message \"%s\"/\"%s\" state %d/%d started %.17g/%.17g ended %.17g/%.17g\n", i, x->name,
                        y->name, x->kind, y->kind, x->detail, y->detail, x->dir, y->dir, x->message, y->message, x->state,
                        y->state, x->started, y->started, x->ended, y->ended);
                abort();
            }
        }
        pipeline_status_free(&b);
        pipeline_status_free(&a);
    }
    free(text);
    return 0;
}
