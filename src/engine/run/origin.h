/* origin: what a checkpoint was trained with — the prompt template and the built-in world settings — so
 * that chat, compare and eval talk to a model the way it learned, without the user repeating the run's
 * settings. The trainer writes the run's resolved configuration into every checkpoint as
 * training_config.json (checkpoint.h); for checkpoints written before that, the run directory's config.json
 * (RUN/checkpoints/step-N/../../config.json) stands in. A foreign checkpoint (from the Hub) has neither:
 * then origin says so and the caller falls back to what it can detect.
 *
 * The template a stage trained with: GRPO renders every prompt with its "template" key; pretraining and SFT
 * on the built-in world (world:corpus, world:coldstart) render documents with the world's "template"
 * (r1-zero unless set). A pretraining or SFT run on the user's own files has no template of its own. */
#ifndef R1LAB_ORIGIN_H
#define R1LAB_ORIGIN_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "engine/tokenizer/template.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/status.h"

/* The file name inside a checkpoint directory. */
#define ORIGIN_FILE "training_config.json"

struct origin {
    bool known;            /* a training configuration was found */
    char source[PATH_MAX]; /* the file it was read from */
    char stage[16];        /* "pretrain", "sft", "grpo" */
    bool has_template;     /* the stage rendered its prompts with tmpl */
    enum template_kind tmpl;
    char why[160];      /* one line for the user: where tmpl came from */
    char task[32];      /* GRPO on the built-in world: its task ("linear", "mix", ...); else "" */
    int max_completion; /* GRPO: max_completion_length; else 0 */
    int64_t seed;       /* the run's seed; -1 when unknown */
    cJSON *config;      /* the whole resolved configuration (owned) */
    const cJSON *world; /* its "world" object, or NULL (points into config) */
};

/* Reads the training configuration of the checkpoint directory dir (already resolved). A checkpoint
 * without one is not an error: known stays false. A configuration that exists but cannot be read is. */
enum status origin_load(const char *dir, struct origin *o);
/* The template to talk to the checkpoint in: the one it trained with, else the one its tokenizer suggests
 * (origin_detect_template). why receives a line saying which and why. */
enum template_kind origin_pick_template(const struct origin *o, const struct tokenizer *tok, char *why, size_t cap);
/* For checkpoints r1lab did not train: ChatML, Llama-3 or R1 markers in the vocabulary, else r1-zero when
 * <think> and <answer> are tokens, else raw. (The world tokenizer holds R1's markers as well as <think> and
 * <answer>, which is why a checkpoint's own training config comes first.) */
enum template_kind origin_detect_template(const struct tokenizer *tok);
void origin_free(struct origin *o); /* accepts a zeroed struct */

#endif
