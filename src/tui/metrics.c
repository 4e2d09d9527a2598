/* metrics: implementation. Parsing goes through cJSON directly (not json_parse_text): a line of arbitrary bytes
 * must be tolerated, not rejected for its encoding, since only its numbers are used. */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "text/sanitize.h"

static const char *const keys[M_COUNT] = {
    [M_EPOCH] = "epoch",
    [M_LOSS] = "loss",
    [M_GRAD_NORM] = "grad_norm",
    [M_LR] = "learning_rate",
    [M_SKIPPED] = "skipped_steps",
    [M_REWARD] = "reward",
    [M_REWARD_STD] = "reward_std",
    [M_FRAC_ZERO_STD] = "frac_reward_zero_std",
    [M_LEN_MEAN] = "completions/mean_length",
    [M_LEN_MIN] = "completions/min_length",
    [M_LEN_MAX] = "completions/max_length",
    [M_CLIPPED] = "completions/clipped_ratio",
    [M_KL] = "kl",
    [M_ENTROPY] = "entropy",
    [M_CLIP_LOW] = "clip_ratio/low_mean",
    [M_CLIP_HIGH] = "clip_ratio/high_mean",
    [M_CLIP_REGION] = "clip_ratio/region_mean",
    [M_REFLECTION] = "reflection_rate",
    [M_TPS_ROLLOUT] = "tokens_per_second/rollout",
    [M_TPS_TRAIN] = "tokens_per_second/train",
    [M_TIME_STEP] = "time/step",
    [M_TIME_ROLLOUT] = "time/rollout",
    [M_TIME_SCORE] = "time/score",
    [M_TIME_TRAIN] = "time/train",
    [M_MEM_HOST] = "memory/host_bytes",
    [M_MEM_DEVICE] = "memory/device_bytes",
    [M_EVAL_PASS1] = "eval/pass@1",
    [M_EVAL_CONS] = "eval/cons@k",
    [M_EVAL_PASSK] = "eval/pass@k",
    [M_EVAL_FORMAT] = "eval/format",
    [M_EVAL_LEN] = "eval/mean_length",
    [M_EVAL_K] = "eval/k",
};

const char *metrics_key(enum metric m) {
    return (unsigned)m < M_COUNT ? keys[m] : "?";
}

/* A value as a double: numbers as they are; null and strings such as "NaN", "inf" as NaN (present, not finite).
 * Returns false for anything else (objects, arrays, booleans): the key is then treated as absent. */
static bool value_of(const cJSON *v, double *out) {
    if (cJSON_IsNumber(v)) {
        *out = isfinite(v->valuedouble) ? v->valuedouble : NAN;
        return true;
    }
    if (cJSON_IsNull(v) || cJSON_IsString(v)) {
        *out = NAN;
        return true;
    }
    return false;
}

/* The slot of a reward function's name. Names come from the file, so they are stored sanitised (printable
 * ASCII, controls spelt out) and compared in that form. */
static int reward_slot(struct metrics_names *names, const char *name, size_t len) {
    if (len == 0) return -1;
    char clean[METRICS_NAME_MAX];
    san_text(name, len, SAN_ASCII, clean, sizeof clean, NULL);
    for (int i = 0; i < names->n; i++)
        if (strcmp(names->name[i], clean) == 0) return i;
    if (names->n == METRICS_MAX_REWARDS) {
        names->overflow = true;
        return -1;
    }
    memcpy(names->name[names->n], clean, sizeof clean);
    return names->n++;
}

bool metrics_parse(const char *line, size_t len, struct metrics_names *names, struct metrics_rec *out) {
    memset(out, 0, sizeof *out);
    cJSON *j = cJSON_ParseWithLength(line, len);
    if (!j) return false;
    bool ok = false;
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(j, "step");
    if (!cJSON_IsObject(j) || !cJSON_IsNumber(step) || !isfinite(step->valuedouble) ||
        step->valuedouble != floor(step->valuedouble) || fabs(step->valuedouble) > 9e15)
        goto done;
    out->step = (int64_t)step->valuedouble;
    for (int m = 0; m < M_COUNT; m++) out->value[m] = NAN;
    for (int i = 0; i < METRICS_MAX_REWARDS; i++) out->reward[i] = NAN;
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        const char *k = it->string;
        if (!k) continue;
        double v;
        if (strcmp(k, "time") == 0) {
            if (cJSON_IsNumber(it) && isfinite(it->valuedouble)) out->time = it->valuedouble;
        } else if (strcmp(k, "stage") == 0) {
            if (cJSON_IsString(it))
                san_text(it->valuestring, strlen(it->valuestring), SAN_ASCII, out->stage, sizeof out->stage, NULL);
        } else if (strncmp(k, "rewards/", 8) == 0) {
            /* rewards/<name>/mean; the /std companions are not charted. */
            const char *name = k + 8;
            size_t kl = strlen(name);
            if (kl > 5 && strcmp(name + kl - 5, "/mean") == 0 && value_of(it, &v)) {
                int slot = reward_slot(names, name, kl - 5);
                if (slot >= 0) {
                    out->reward[slot] = v;
                    out->reward_valid |= 1u << slot;
                }
            }
        } else {
            for (int m = 0; m < M_COUNT; m++) {
                if (strcmp(k, keys[m]) != 0) continue;
                if (value_of(it, &v)) {
                    out->value[m] = v;
                    out->valid |= (uint64_t)1 << m;
                }
                break;
            }
        }
    }
    ok = true;
done:
    cJSON_Delete(j);
    return ok;
}
