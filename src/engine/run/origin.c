/* origin: reads back the training configuration a checkpoint carries (origin.h). Only the keys needed to
 * talk to the model are interpreted here; the rest stays available in o->config. */
#include "engine/run/origin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "engine/util/json.h"

/* Checkpoints written before training_config.json existed: RUN/checkpoints/step-N has RUN/config.json. */
static bool run_config_of(const char *dir, char *out, size_t cap) {
    char real[PATH_MAX];
    if (!realpath(dir, real)) return false;
    char parent[PATH_MAX], run[PATH_MAX];
    fs_dirname(parent, sizeof parent, real);
    const char *base = strrchr(parent, '/');
    if (!base || strcmp(base + 1, "checkpoints") != 0) return false;
    fs_dirname(run, sizeof run, parent);
    if (fs_join(out, cap, run, "config.json") != STATUS_OK) return false;
    return fs_exists(out);
}

static enum status read_template(struct origin *o) {
    const char *stage = o->stage, *name = NULL, *dataset = NULL;
    TRY(json_get_string(o->config, "dataset", false, NULL, &dataset, o->source));
    if (strcmp(stage, "grpo") == 0) {
        TRY(json_get_string(o->config, "template", false, "r1-zero", &name, o->source));
        snprintf(o->why, sizeof o->why, "from its training config: the GRPO stage's template");
    } else if (dataset && (strcmp(dataset, "world:corpus") == 0 || strcmp(dataset, "world:coldstart") == 0)) {
        if (o->world) TRY(json_get_string(o->world, "template", false, NULL, &name, o->source));
        if (!name) name = "r1-zero"; /* the corpus's own default (corpus.h) */
        snprintf(o->why, sizeof o->why, "from its training config: %s documents are in this template", dataset);
    } else {
        return STATUS_OK; /* trained on the user's own text: no template of its own */
    }
    enum status st = template_parse(name, &o->tmpl);
    if (st != STATUS_OK) {
        err_prefix("%s: \"template\": ", o->source);
        return st;
    }
    o->has_template = true;
    return STATUS_OK;
}

/* What an evaluation needs to see the problems the run's own evaluations saw. */
static enum status read_eval_settings(struct origin *o) {
    int64_t seed, max_completion;
    TRY(json_get_int(o->config, "seed", false, -1, -1, INT64_MAX, &seed, o->source));
    o->seed = seed;
    if (strcmp(o->stage, "grpo") != 0) return STATUS_OK;
    TRY(json_get_int(o->config, "max_completion_length", false, 0, 0, 1 << 20, &max_completion, o->source));
    o->max_completion = (int)max_completion;
    const char *dataset = NULL;
    TRY(json_get_string(o->config, "dataset", false, NULL, &dataset, o->source));
    if (dataset && strncmp(dataset, "world:", 6) == 0) snprintf(o->task, sizeof o->task, "%s", dataset + 6);
    return STATUS_OK;
}

enum status origin_load(const char *dir, struct origin *o) {
    memset(o, 0, sizeof *o);
    o->seed = -1;
    TRY(fs_join(o->source, sizeof o->source, dir, ORIGIN_FILE));
    if (!fs_exists(o->source) && !run_config_of(dir, o->source, sizeof o->source)) {
        o->source[0] = '\0';
        return STATUS_OK;
    }
    TRY(json_parse_file(o->source, 1 << 22, &o->config));
    enum status st = STATUS_OK;
    if (!cJSON_IsObject(o->config)) {
        st = err_set(STATUS_FORMAT, "%s: a training configuration must be a JSON object", o->source);
        goto fail;
    }
    const char *stage = NULL;
    if ((st = json_get_string(o->config, "stage", true, NULL, &stage, o->source)) != STATUS_OK) goto fail;
    snprintf(o->stage, sizeof o->stage, "%s", stage);
    const cJSON *world = cJSON_GetObjectItemCaseSensitive(o->config, "world");
    if (world && !cJSON_IsNull(world)) {
        if (!cJSON_IsObject(world)) {
            st = err_set(STATUS_FORMAT, "%s: \"world\" must be an object", o->source);
            goto fail;
        }
        o->world = world;
    }
    if ((st = read_template(o)) != STATUS_OK || (st = read_eval_settings(o)) != STATUS_OK) goto fail;
    o->known = true;
    return STATUS_OK;
fail:
    origin_free(o);
    return st;
}

enum template_kind origin_detect_template(const struct tokenizer *tok) {
    if (tokenizer_token_id(tok, "<|im_start|>") >= 0) return TEMPLATE_CHATML;
    if (tokenizer_token_id(tok, "<|start_header_id|>") >= 0) return TEMPLATE_LLAMA3;
    if (tokenizer_token_id(tok, "<\xEF\xBD\x9CUser\xEF\xBD\x9C>") >= 0) return TEMPLATE_R1;
    if (tokenizer_token_id(tok, "<think>") >= 0 && tokenizer_token_id(tok, "<answer>") >= 0) return TEMPLATE_R1_ZERO;
    return TEMPLATE_RAW;
}

enum template_kind origin_pick_template(const struct origin *o, const struct tokenizer *tok, char *why, size_t cap) {
    if (o->has_template) {
        snprintf(why, cap, "%s", o->why);
        return o->tmpl;
    }
    snprintf(why, cap, "%s",
             o->known ? "detected from the tokenizer: its training config names no template"
                      : "detected from the tokenizer: no training config");
    return origin_detect_template(tok);
}

void origin_free(struct origin *o) {
    cJSON_Delete(o->config);
    memset(o, 0, sizeof *o);
}
