/* jsonl: append-only JSON-lines files (metrics.jsonl, samples.jsonl, events.jsonl). Each record is one
 * write() of a whole line to an O_APPEND descriptor, so readers tailing the file see complete lines or
 * nothing, and earlier lines are never touched. On resume, records past the checkpoint's step are dropped
 * by rewriting the file atomically, so a resumed run's files read as if it had never stopped. */
#ifndef R1LAB_JSONL_H
#define R1LAB_JSONL_H

#include <stdint.h>

#include <cJSON.h>

#include "engine/util/status.h"

struct jsonl {
    int fd;
    char path[4096];
};

enum status jsonl_open(struct jsonl *j, const char *path); /* creates the file if needed */
void jsonl_close(struct jsonl *j);                         /* accepts a zeroed struct (fd 0 is never ours) */
/* Appends obj as one line (non-finite numbers become null). */
enum status jsonl_append(struct jsonl *j, const cJSON *obj);
/* Keeps only the complete lines whose "step" is <= step (lines without a step are kept); atomic. */
enum status jsonl_truncate_after_step(const char *path, int64_t step);

#endif
