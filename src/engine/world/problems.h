/* problems: where GRPO and evaluation get their problems — the built-in world (world:linear, world:arith,
 * world:countdown, or world:mix drawing kinds by the world's task weights) from a given split, or a user's
 * JSONL file of prompt/answer records. Built-in problem i is a pure function of (world, split, seed, i);
 * a file is visited in a fresh seeded order each epoch. The position is two integers, saved with every
 * checkpoint so a resumed run sees the same problems. */
#ifndef R1LAB_PROBLEMS_H
#define R1LAB_PROBLEMS_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "engine/util/status.h"
#include "engine/world/corpus.h"
#include "engine/world/dataset.h"
#include "engine/world/task.h"

struct problem_source {
    bool builtin;
    bool mix;              /* world:mix */
    enum task_kind kind;   /* world:KIND */
    enum task_split split;
    struct corpus_config world;
    struct dataset ds;
    uint32_t *order;       /* (ds.n) this epoch's permutation */
    uint64_t seed;
    int64_t epoch, index;  /* position of the next problem (built-in: epoch stays 0) */
    char name[256];
};

/* Whether spec names a problem source ("world:" and a built-in task or mix, or anything else as a file, which
 * opening checks); the message starts with where. */
enum status problem_source_check_spec(const char *spec, const char *where);
/* spec: "world:linear|arith|countdown|mix" or a .jsonl path; world: the config's "world" object or NULL. */
enum status problem_source_open(struct problem_source *s, const char *spec, const cJSON *world, uint64_t seed,
                                enum task_split split);
void problem_source_free(struct problem_source *s);
/* Problem i in a fixed order (evaluation). For files, i < size. */
enum status problem_source_get(struct problem_source *s, uint64_t i, struct problem *out);
/* The next problem of the training stream (advances the position). */
enum status problem_source_next(struct problem_source *s, struct problem *out);
enum status problem_source_seek(struct problem_source *s, int64_t epoch, int64_t index);
/* Number of distinct problems (files) or 0 for the unbounded built-in stream. */
size_t problem_source_size(const struct problem_source *s);

#endif
