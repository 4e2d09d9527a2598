/* metrics: implementation. Parsing goes through cJSON directly (not json_parse_text): a line of arbitrary bytes
 * must be tolerated, not rejected for its encoding, since only its numbers are used. */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "engine/run/metric.h"
#include "text/sanitize.h"

/* The dashboard's slots and the metrics.jsonl keys they hold: names come from the engine's table. */
static const enum metric_id ids[M_COUNT] = {
    [M_EPOCH] = METRIC_EPOCH,
    [M_LOSS] = METRIC_LOSS,
    [M_GRAD_NORM] = METRIC_GRAD_NORM,
    [M_LR] = METRIC_LEARNING_RATE,
    [M_SKIPPED] = METRIC_SKIPPED_STEPS,
    [M_REWARD] = METRIC_REWARD,
    [M_REWARD_STD] = METRIC_REWARD_STD,
    [M_FRAC_ZERO_STD] = METRIC_FRAC_REWARD_ZERO_STD,
    [M_LEN_MEAN] = METRIC_COMPLETIONS_MEAN_LENGTH,
    [M_LEN_MIN] = METRIC_COMPLETIONS_MIN_LENGTH,
    [M_LEN_MAX] = METRIC_COMPLETIONS_MAX_LENGTH,
    [M_CLIPPED] = METRIC_COMPLETIONS_CLIPPED_RATIO,
    [M_KL] = METRIC_KL,
    [M_ENTROPY] = METRIC_ENTROPY,
    [M_CLIP_LOW] = METRIC_CLIP_RATIO_LOW,
    [M_CLIP_HIGH] = METRIC_CLIP_RATIO_HIGH,
    [M_CLIP_REGION] = METRIC_CLIP_RATIO_REGION,
    [M_REFLECTION] = METRIC_REFLECTION_RATE_WORDS,
    [M_TPS_ROLLOUT] = METRIC_TOKENS_PER_SECOND_ROLLOUT,
    [M_TPS_TRAIN] = METRIC_TOKENS_PER_SECOND_TRAIN,
    [M_TIME_STEP] = METRIC_TIME_STEP,
    [M_TIME_ROLLOUT] = METRIC_TIME_ROLLOUT,
    [M_TIME_SCORE] = METRIC_TIME_SCORE,
    [M_TIME_TRAIN] = METRIC_TIME_TRAIN,
    [M_MEM_HOST] = METRIC_MEMORY_HOST,
    [M_MEM_DEVICE] = METRIC_MEMORY_DEVICE,
    [M_EVAL_PASS1] = METRIC_EVAL_PASS1,
    [M_EVAL_CONS] = METRIC_EVAL_CONS,
    [M_EVAL_PASSK] = METRIC_EVAL_PASSK,
    [M_EVAL_FORMAT] = METRIC_EVAL_FORMAT,
    [M_EVAL_LEN] = METRIC_EVAL_MEAN_LENGTH,
    [M_EVAL_K] = METRIC_EVAL_K,
    [M_REFL_ACC_WITH] = METRIC_REFLECTION_ACCURACY_WITH,
    [M_REFL_ACC_WITHOUT] = METRIC_REFLECTION_ACCURACY_WITHOUT,
    [M_LANG_MIXED] = METRIC_LANGUAGE_MIXED_RATE,
    [M_WORLD_SIZE] = METRIC_DIST_WORLD_SIZE,
    [M_RANK_TPS_MIN] = METRIC_DIST_RANK_TOKENS_PER_SECOND, /* derived: see metrics.h */
    [M_RANK_TPS_MAX] = METRIC_DIST_RANK_TOKENS_PER_SECOND,
};

/* Slots below this one are keys of their own; the others are derived from pattern keys. */
#define M_KEYED M_RANK_TPS_MIN
_Static_assert(M_COUNT <= 64, "metrics_rec.valid has 64 bits");

const char *metrics_key(enum metric m) {
    return (unsigned)m < M_COUNT ? metric_name(ids[m]) : "?";
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
        step->valuedouble != floor(step->valuedouble) || step->valuedouble < 0 || step->valuedouble > 9e15)
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
        } else if (strncmp(k, "dist/rank", 9) == 0) {
            /* dist/rank<N>/tokens_per_second: the range over the ranks */
            size_t kl = strlen(k);
            static const char tail[] = "/tokens_per_second";
            if (kl > 9 + sizeof tail - 1 && strcmp(k + kl - (sizeof tail - 1), tail) == 0 && value_of(it, &v) &&
                !isnan(v)) {
                bool had = metrics_has(out, M_RANK_TPS_MIN);
                out->value[M_RANK_TPS_MIN] = had && out->value[M_RANK_TPS_MIN] < v ? out->value[M_RANK_TPS_MIN] : v;
                out->value[M_RANK_TPS_MAX] = had && out->value[M_RANK_TPS_MAX] > v ? out->value[M_RANK_TPS_MAX] : v;
                out->valid |= (uint64_t)1 << M_RANK_TPS_MIN | (uint64_t)1 << M_RANK_TPS_MAX;
            }
        } else {
            for (int m = 0; m < M_KEYED; m++) {
                if (strcmp(k, metric_name(ids[m])) != 0) continue;
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
