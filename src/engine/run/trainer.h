/* trainer: what every training stage shares — the run directory (resolved config, metrics.jsonl,
 * samples.jsonl, status.json, events.jsonl, checkpoints, latest), building or loading the model and
 * tokenizer, the optimiser, exact resume, pause/save/eval/stop requests from the control channel, and
 * stopping cleanly when interrupted. A stage plugs in through struct stage_ops and only implements its checks,
 * one optimisation step and its own resume state; the trainer names no stage.
 *
 * Invariants: a checkpoint named step-N holds the model, optimiser, RNG and data position as they were
 * after N complete steps, whatever the moment the run was interrupted; metrics.jsonl holds exactly one line
 * per completed step, also across resumes. Lifecycle events (requests, stop, failure, finish) go to
 * events.jsonl; everything else it has to say goes through the log sink, which `r1lab train` points at
 * events.jsonl too, so a dashboard or the plain follower shows one stream. The trainer runs on the calling thread; another thread (a
 * dashboard, a signal handler) may only set *interrupt or send control requests.
 *
 * Data-parallel runs (mpirun -np N r1lab train): `dist` is the group; every rank runs the trainer. */
#ifndef R1LAB_TRAINER_H
#define R1LAB_TRAINER_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "engine/backend/backend.h"
#include "engine/dist/dist.h"
#include "engine/model/model.h"
#include "engine/model/optim.h"
#include "engine/run/config.h"
#include "engine/run/runctl.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/jsonl.h"
#include "engine/util/rng.h"
#include "engine/util/status.h"

struct trainer;

/* What a stage tells the trainer before anything is built. */
struct stage_plan {
    int64_t updates_per_step; /* optimiser updates per step (GRPO: num_iterations); the schedule counts updates */
    int64_t eval_steps;       /* evaluate every N steps and at the end (0: never) */
    bool data_parallel;       /* the stage splits its steps over the ranks of a data-parallel run */
};

/* A training stage. The trainer knows stages only through this table; src/engine/stages picks the table for a
 * config's "stage". */
struct stage_ops {
    const char *name;
    /* Checks what the key table cannot (the dataset, the world settings, relations between keys), before any
     * work: messages name the file or override a value came from (config_where). Fills *plan. */
    enum status (*check)(const struct config *c, struct stage_plan *plan);
    /* Prepares the stage (data, buffers) after the model, tokenizer and optimiser exist. */
    enum status (*init)(struct trainer *t);
    /* One optimiser step. Adds its metrics to `metrics`. May return STATUS_ABORTED before it changed the model
     * (checked with trainer_interrupted), in which case the step does not count. */
    enum status (*step)(struct trainer *t, cJSON *metrics);
    /* Stage state for trainer_state.json ("data" position, ...), and restoring it on resume. */
    enum status (*save_state)(struct trainer *t, cJSON *state);
    enum status (*load_state)(struct trainer *t, const cJSON *state);
    /* Held-out evaluation adding the eval/... metrics; NULL when the stage has none. */
    enum status (*evaluate)(struct trainer *t, cJSON *metrics);
    void (*free)(struct trainer *t);
};

/* Called after every completed step with its metrics (the headless log line, tests). */
typedef void (*trainer_step_fn)(void *user, const struct trainer *t, const cJSON *metrics);

struct trainer {
    const struct config *cfg; /* borrowed */
    char run_dir[PATH_MAX];
    char tokenizer_src[PATH_MAX]; /* directory or file the tokenizer came from (copied into checkpoints) */
    struct backend *be;
    struct model model;
    struct tokenizer *tok;
    struct optimizer opt;
    struct rng rng; /* the stage's random stream (sampling); saved with every checkpoint */
    int64_t step, max_steps;
    const struct stage_ops *ops;
    struct stage_plan plan;
    void *stage;
    struct jsonl metrics, samples;
    struct runctl ctl;
    bool ctl_open;
    atomic_int *interrupt; /* optional: set from outside to stop (saving first) */
    bool paused;
    double started;
    int64_t last_saved;
    trainer_step_fn on_step;
    void *on_step_user;
    cJSON *boundary_state; /* stage state at the start of the current step (what an interrupted step saves) */
    /* The data-parallel group (borrowed; `solo`, a group of one, when trainer_open was given none). Rank 0 alone
     * writes the run directory and reads the control channel; every rank holds the same model, optimiser, RNG and
     * data position, and they agree at each step boundary whether to go on, evaluate or stop. */
    struct dist *dist;
    struct dist solo;
    bool group_stop; /* a data-parallel run: the stop the ranks agreed on at the last boundary */
};

/* Sets up the run of stage `ops`: checks the stage's settings, resolves output_dir (default runs/<name>),
 * refuses to overwrite an existing run unless resuming or overwrite_output_dir, builds or loads the model and
 * tokenizer, the optimiser, and restores a checkpoint when resume_from_checkpoint says so. `name` is the config
 * file's base name. */
enum status trainer_open(struct trainer *t, const struct config *cfg, const struct stage_ops *ops, const char *name,
                         atomic_int *interrupt, struct dist *dist);
/* Runs until max_steps, a stop request or an interrupt (then STATUS_ABORTED after saving). */
enum status trainer_run(struct trainer *t);
void trainer_close(struct trainer *t);

/* True when the run should stop as soon as possible (interrupt flag set). In a data-parallel run only what the
 * ranks agreed on at the last step boundary counts, so that no rank leaves a step the others finish. */
bool trainer_interrupted(const struct trainer *t);
/* Whether this process writes the run directory (rank 0, or the only process). */
bool trainer_writes(const struct trainer *t);
/* Writes checkpoints/step-N for the current step and points latest at it. */
enum status trainer_save(struct trainer *t);

#endif
