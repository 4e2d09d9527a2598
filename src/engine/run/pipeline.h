/* pipeline: a recipe of stages run one after another — R1-Zero, R1's four stages, distillation — described in
 * one JSON config, each stage writing its own run directory under the pipeline's directory. This module owns the
 * recipe's file contract: reading the config (defaults merged, "@NAME" references resolved, distill stages
 * expanded), the resolved config (PIPE/pipeline_config.json), the state file (PIPE/pipeline.json) and the rule
 * that decides what a re-run redoes. It runs nothing: the front end runs each stage (a trainer for train stages,
 * rl/rejection for rejection_sample stages) and records the outcome here.
 *
 * The config (r1lab-pipeline(1)):
 *     {"output_dir": "runs/r1",                                  default runs/<config file name>
 *      "defaults": {"seed": 1, "threads": 2},                    merged under every stage (see below)
 *      "stages": [
 *        {"name": "cold_start", "kind": "train", "config": "configs/cold.json" | {...}, "overrides": {...}},
 *        {"name": "rejection", "kind": "rejection_sample", "model": "@rl", "dataset": "world:linear", ...},
 *        {"name": "student", "kind": "distill", "teacher": "@rl", "student": "configs/s.json" | {...},
 *         "overrides": {...}, "sample": {...rejection_sample keys...}}]}
 * A train stage's configuration is its "config" (a file, relative to the current directory like every path in a
 * config, or an inline object), with the "defaults" keys it lacks added, then "overrides" replacing keys; the
 * pipeline then sets output_dir to the stage's directory and decides resume_from_checkpoint and
 * overwrite_output_dir itself (values given for those three keys are dropped). A rejection_sample stage is its
 * own object minus "name" and "kind"; of the defaults it takes only the keys every stage shares (seed, device,
 * threads, world). A distill stage NAME becomes two stages: "NAME-sample" (rejection_sample of "teacher" with
 * the "sample" keys) and "NAME" (the student config as an sft stage trained on that stage's output).
 *
 * References: any string value "@NAME" inside a stage stands for the output of the earlier stage NAME — a train
 * stage's latest checkpoint ("PIPE/2-rl@latest"), a rejection_sample stage's data set ("PIPE/3-rej/dataset.jsonl").
 * "@@..." is a literal string starting with "@". Stage directories are PIPE/<index>-<name>, index from 1.
 *
 * Resume: the resolved config is stored on the first run; a re-run with a different one is refused (stages
 * appended at the end are accepted). A finished stage is never redone; any other stage is run again: a train
 * stage continues from its latest checkpoint (resume_from_checkpoint=true, which the trainer makes exact), or
 * starts afresh when it has none; a rejection_sample stage always starts afresh (it is deterministic). One process
 * at a time runs a pipeline: pipeline_begin takes an flock on PIPE/pipeline.lock, which the kernel releases when
 * the process dies however it dies, so a killed run never blocks the next. */
#ifndef R1LAB_PIPELINE_H
#define R1LAB_PIPELINE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "engine/run/config.h"
#include "engine/util/status.h"

#define PIPELINE_MAX_STAGES 64
#define PIPELINE_NAME_MAX 48 /* bytes of a stage name, NUL included */
#define PIPELINE_STATE_FILE "pipeline.json"
#define PIPELINE_CONFIG_FILE "pipeline_config.json"
#define PIPELINE_LOCK_FILE "pipeline.lock"
#define PIPELINE_DATASET_FILE "dataset.jsonl" /* a rejection_sample stage's output, in its directory */

enum pipeline_kind { PIPELINE_KIND_TRAIN, PIPELINE_KIND_REJECTION, PIPELINE_KIND_COUNT };

enum pipeline_state {
    PIPELINE_PENDING,  /* not started yet */
    PIPELINE_RUNNING,  /* started; if no process runs the pipeline, it was killed */
    PIPELINE_FINISHED, /* done: never redone */
    PIPELINE_FAILED,   /* ended with an error (message says which) */
    PIPELINE_STOPPED,  /* interrupted or stopped by request; a re-run continues it */
    PIPELINE_STATE_COUNT,
};

struct pipeline_stage {
    char name[PIPELINE_NAME_MAX];
    enum pipeline_kind kind;
    char dir_name[PIPELINE_NAME_MAX + 8]; /* "2-rl" */
    char dir[PATH_MAX];                   /* PIPE/2-rl */
    char output[PATH_MAX];                /* what "@name" stands for */
    const cJSON *config;                  /* the stage's configuration (points into pipeline.resolved) */
};

struct pipeline {
    char dir[PATH_MAX];
    char source[PATH_MAX]; /* the config it came from, for messages */
    struct pipeline_stage *stages; /* (n) */
    size_t n;
    cJSON *resolved; /* what pipeline_config.json holds */
};

const char *pipeline_kind_name(enum pipeline_kind k); /* "train", "rejection_sample" */
const char *pipeline_state_name(enum pipeline_state s);
enum pipeline_state pipeline_state_parse(const char *name); /* PIPELINE_STATE_COUNT when unknown */

/* Reads the config at path. Overrides: "output_dir=DIR", "defaults.KEY=VALUE" or "STAGE.KEY=VALUE" (added to
 * that stage's overrides; for a rejection_sample stage, to the stage itself); values are JSON, else strings. */
enum status pipeline_load(struct pipeline *p, const char *path, char *const *overrides, int n_overrides);
/* Same from an in-memory object (takes ownership of root). default_name names the default output_dir
 * (runs/<default_name>); where names the config in messages. */
enum status pipeline_resolve(struct pipeline *p, cJSON *root, const char *where, const char *default_name,
                             char *const *overrides, int n_overrides);
void pipeline_free(struct pipeline *p); /* accepts a zeroed struct */

/* The training configuration of train stage i, resolved and validated (config.h), with resume_from_checkpoint
 * and overwrite_output_dir as given. */
enum status pipeline_train_config(const struct pipeline *p, size_t i, bool resume, bool overwrite, struct config *out);
/* How a re-run starts train stage i: from its latest checkpoint (*resume), afresh over files of an attempt that
 * saved none (*overwrite), or in an empty directory (both false). */
enum status pipeline_train_start(const struct pipeline *p, size_t i, bool *resume, bool *overwrite);

/* PIPE/pipeline.json as a struct. Times are Unix seconds, 0 = not yet. */
struct pipeline_stage_status {
    char name[PIPELINE_NAME_MAX];
    char kind[24];        /* "train", "rejection_sample" */
    char detail[16];      /* train: the config's stage ("sft", "grpo"); else "" */
    char dir[PIPELINE_NAME_MAX + 8]; /* relative to PIPE */
    enum pipeline_state state;
    double started, ended;
    char message[256]; /* why it failed or stopped; "" when none */
};

struct pipeline_status {
    enum pipeline_state state; /* running while a process works on it; else how the last run ended */
    int64_t pid;               /* the process that ran it last */
    double started, updated;
    size_t n;
    struct pipeline_stage_status *stages; /* (n) */
};

enum status pipeline_status_parse(const char *text, size_t len, const char *where, struct pipeline_status *out);
enum status pipeline_status_read(const char *pipe_dir, struct pipeline_status *out);
/* Writes PIPE/pipeline.json durably (temporary name, fsync, rename): a reader sees the old or the new file. */
enum status pipeline_status_write(const char *pipe_dir, const struct pipeline_status *st);
void pipeline_status_free(struct pipeline_status *s); /* accepts a zeroed struct */
/* Sets stage i's state (and its start or end time) and the pipeline's updated time. */
void pipeline_status_mark(struct pipeline_status *s, size_t i, enum pipeline_state state, const char *message);
/* The stage being run (state running), else -1. */
int pipeline_status_running(const struct pipeline_status *s);
/* Whether dir holds a pipeline (a pipeline.json). */
bool pipeline_is_dir(const char *dir);

/* The index of the stage called name, or p->n with an error that names the closest stage. */
size_t pipeline_stage_index(const struct pipeline *p, const char *name);
/* Starts a run of p: takes the lock (*lock_fd; refused while another process holds it), compares the config with
 * the stored one (refused when a stage before redo_from changed), moves the directories of the stages from
 * redo_from on to DIR.before-redo (redo_from = p->n: none; they run again, from the start, with their config as it
 * now is), creates the directories, writes pipeline_config.json, and fills *st from pipeline.json (new and redone
 * stages pending; a stage left "running" by a killed run reads as stopped), with the pipeline marked running by
 * this process and written. */
enum status pipeline_begin(const struct pipeline *p, size_t redo_from, struct pipeline_status *st, int *lock_fd);
/* Ends the run: records the pipeline's final state, writes pipeline.json, releases the lock. */
enum status pipeline_end(const struct pipeline *p, struct pipeline_status *st, enum pipeline_state final, int lock_fd);

#endif
