/* samples: implementation. The arena is sized from the input (sanitised text is at most 4x its input, see
 * sanitize.c: the longest stand-in, "<U+0085>", is 8 bytes for 2 input bytes), so filling it cannot fail. */
#include "samples.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "text/sanitize.h"

struct arena {
    char *p;
    size_t n, cap;
};

static const char *put_text(struct arena *a, const char *s, unsigned flags, size_t *len, size_t *cut) {
    size_t in = s ? strlen(s) : 0;
    size_t take = in > SAMPLES_TEXT_MAX ? SAMPLES_TEXT_MAX : in;
    char *dst = a->p + a->n;
    size_t consumed = 0;
    size_t n = san_text(s ? s : "", take, flags, dst, a->cap - a->n, &consumed);
    a->n += n + 1;
    if (len) *len = n;
    if (cut) *cut = in - consumed;
    return dst;
}

static size_t str_budget(const cJSON *v) {
    if (!cJSON_IsString(v)) return 1;
    size_t n = strlen(v->valuestring);
    if (n > SAMPLES_TEXT_MAX) n = SAMPLES_TEXT_MAX;
    return 4 * n + 16;
}

static double num_or_nan(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

static const char *str_or_empty(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static bool header_ok(const cJSON *j, int64_t *step, int64_t *group) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "step");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "completions");
    if (!cJSON_IsObject(j) || !cJSON_IsNumber(s) || !isfinite(s->valuedouble) ||
        s->valuedouble != floor(s->valuedouble) || s->valuedouble < 0 || s->valuedouble > 9e15 || !cJSON_IsArray(c))
        return false;
    *step = (int64_t)s->valuedouble;
    double g = num_or_nan(j, "group");
    *group = isfinite(g) && fabs(g) < 9e15 ? (int64_t)g : 0;
    return true;
}

bool samples_peek(const char *line, size_t len, int64_t *step, int64_t *group) {
    cJSON *j = cJSON_ParseWithLength(line, len);
    if (!j) return false;
    bool ok = header_ok(j, step, group);
    cJSON_Delete(j);
    return ok;
}

bool samples_parse(const char *line, size_t len, unsigned flags, struct sample_group *out) {
    memset(out, 0, sizeof *out);
    cJSON *j = cJSON_ParseWithLength(line, len);
    if (!j) return false;
    if (!header_ok(j, &out->step, &out->group)) {
        cJSON_Delete(j);
        return false;
    }
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "completions");
    size_t total = (size_t)cJSON_GetArraySize(arr);
    size_t n = total > SAMPLES_MAX_COMPLETIONS ? SAMPLES_MAX_COMPLETIONS : total;

    /* Size the arena: the completion records, then every string at its worst-case sanitised size. */
    size_t need = n * sizeof(struct sample_completion) + 16;
    need += str_budget(cJSON_GetObjectItemCaseSensitive(j, "task"));
    need += str_budget(cJSON_GetObjectItemCaseSensitive(j, "prompt"));
    need += str_budget(cJSON_GetObjectItemCaseSensitive(j, "answer"));
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, arr) {
        if (i++ == n) break;
        need += str_budget(cJSON_GetObjectItemCaseSensitive(it, "text"));
    }
    struct arena a = {malloc(need), 0, need};
    if (!a.p) {
        cJSON_Delete(j);
        return false;
    }
    out->arena = a.p;
    out->c = (struct sample_completion *)a.p;
    a.n = n * sizeof(struct sample_completion);
    out->n = n;
    out->n_total = total;
    out->task = put_text(&a, str_or_empty(j, "task"), flags, NULL, NULL);
    out->prompt = put_text(&a, str_or_empty(j, "prompt"), flags | SAN_KEEP_NEWLINES, NULL, NULL);
    out->answer = put_text(&a, str_or_empty(j, "answer"), flags, NULL, NULL);

    bool all_equal = true;
    double first = NAN;
    i = 0;
    cJSON_ArrayForEach(it, arr) {
        if (i == n) break;
        struct sample_completion *c = &out->c[i++];
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "text");
        c->text = put_text(&a, cJSON_IsString(t) ? t->valuestring : "", flags | SAN_KEEP_NEWLINES, &c->text_len,
                           &c->text_cut);
        c->reward = num_or_nan(it, "reward");
        c->advantage = num_or_nan(it, "advantage");
        double l = num_or_nan(it, "length");
        c->length = isfinite(l) && l >= 0 && l < 1e15 ? (int64_t)l : -1;
        c->clipped = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "clipped"));
        double acc = num_or_nan(cJSON_GetObjectItemCaseSensitive(it, "rewards"), "accuracy");
        const cJSON *corr = cJSON_GetObjectItemCaseSensitive(it, "correct");
        c->correct = isfinite(acc) ? (acc > 0 ? 1 : 0) : cJSON_IsBool(corr) ? cJSON_IsTrue(corr) : -1;
        if (i == 1)
            first = c->reward;
        else if (!(c->reward == first))
            all_equal = false;
    }
    out->zero_std = n > 0 && all_equal && isfinite(first);
    cJSON_Delete(j);
    return true;
}

void samples_free(struct sample_group *g) {
    free(g->arena);
    memset(g, 0, sizeof *g);
}
