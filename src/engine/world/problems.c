/* problems: built-in generators and user files behind one interface. */
#include "engine/world/problems.h"

#include <stdlib.h>
#include <string.h>

#include "engine/util/rng.h"

enum status problem_source_check_spec(const char *spec, const char *where) {
    if (strncmp(spec, "world:", 6) != 0) return STATUS_OK;
    const char *kind = spec + 6;
    enum task_kind k;
    if (strcmp(kind, "mix") == 0 || (task_kind_parse(kind, &k) == STATUS_OK && k != TASK_DATASET)) return STATUS_OK;
    enum status st = err_set(STATUS_INVALID, "%s: \"%s\" is not a built-in task (valid: world:linear, world:arith, "
                             "world:countdown, world:mix)", where, spec);
    err_hint("or a .jsonl file of prompt/answer records");
    return st;
}

enum status problem_source_open(struct problem_source *s, const char *spec, const cJSON *world, uint64_t seed,
                                enum task_split split) {
    memset(s, 0, sizeof *s);
    s->seed = seed;
    s->split = split;
    snprintf(s->name, sizeof s->name, "%s", spec);
    corpus_config_default(&s->world);
    if (world) TRY(corpus_config_set(&s->world, world, "world"));
    TRY(problem_source_check_spec(spec, "dataset"));
    if (strncmp(spec, "world:", 6) == 0) {
        s->builtin = true;
        const char *kind = spec + 6;
        if (strcmp(kind, "mix") == 0) {
            s->mix = true;
            double total = 0;
            for (int k = 0; k < CORPUS_TASKS; k++) total += s->world.task_weight[k];
            if (!(total > 0)) return err_set(STATUS_INVALID, "world:mix needs a positive weight for some task");
            return STATUS_OK;
        }
        TRY(task_kind_parse(kind, &s->kind)); /* a built-in kind: problem_source_check_spec said so */
        return STATUS_OK;
    }
    TRY(dataset_load(&s->ds, spec));
    s->order = malloc(sizeof *s->order * (s->ds.n ? s->ds.n : 1));
    if (!s->order) {
        problem_source_free(s);
        return err_set(STATUS_NOMEM, "cannot allocate the problem order");
    }
    return problem_source_seek(s, 0, 0);
}

void problem_source_free(struct problem_source *s) {
    dataset_free(&s->ds);
    free(s->order);
    memset(s, 0, sizeof *s);
}

size_t problem_source_size(const struct problem_source *s) { return s->builtin ? 0 : s->ds.n; }

static enum status copy_problem(const struct problem *src, struct problem *out) {
    if (src->kind == TASK_COUNTDOWN)
        return task_problem_countdown(out, src->countdown.numbers, src->countdown.n, src->countdown.target,
                                      src->prompt);
    return task_problem_from_answer(out, src->kind, src->prompt, src->answer);
}

static enum status builtin_get(struct problem_source *s, uint64_t i, struct problem *out) {
    enum task_kind kind = s->kind;
    if (s->mix) {
        /* The kind of problem i is drawn from the world's task weights, from its own stream. */
        struct rng r;
        rng_seed_stream(&r, s->seed, 0x6d6978ULL ^ (i * 0x9E3779B97F4A7C15ULL)); /* "mix" */
        kind = (enum task_kind)rng_choose_weighted(&r, s->world.task_weight, CORPUS_TASKS);
    }
    return task_generate(&s->world.task[kind], s->split, s->seed, i, out);
}

enum status problem_source_get(struct problem_source *s, uint64_t i, struct problem *out) {
    if (s->builtin) return builtin_get(s, i, out);
    if (i >= s->ds.n) return err_set(STATUS_INVALID, "%s: problem %llu of %zu", s->name, (unsigned long long)i, s->ds.n);
    return copy_problem(&s->ds.items[i], out);
}

enum status problem_source_seek(struct problem_source *s, int64_t epoch, int64_t index) {
    if (epoch < 0 || index < 0) return err_set(STATUS_FORMAT, "negative problem position");
    s->epoch = epoch;
    s->index = index;
    if (s->builtin) return STATUS_OK;
    if ((size_t)index > s->ds.n) return err_set(STATUS_FORMAT, "problem position %lld is past the %zu problems of %s",
                                               (long long)index, s->ds.n, s->name);
    struct rng r;
    rng_seed_stream(&r, s->seed, 0x70726f62ULL + (uint64_t)epoch); /* "prob" + epoch */
    for (size_t i = 0; i < s->ds.n; i++) s->order[i] = (uint32_t)i;
    rng_shuffle(&r, s->order, s->ds.n, sizeof *s->order);
    return STATUS_OK;
}

enum status problem_source_next(struct problem_source *s, struct problem *out) {
    if (s->builtin) return builtin_get(s, (uint64_t)s->index++, out);
    if ((size_t)s->index == s->ds.n) TRY(problem_source_seek(s, s->epoch + 1, 0));
    return copy_problem(&s->ds.items[s->order[s->index++]], out);
}
