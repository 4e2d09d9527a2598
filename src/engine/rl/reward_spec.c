/* reward_spec: which reward terms a run uses, with weights and options, from and to JSON. Validation is
 * strict — an unknown reward or option is an error listing what is valid — because a typo in a reward
 * config silently trains the wrong objective. */
#include <math.h>
#include <string.h>

#include "engine/rl/reward.h"

static const char *const KIND_NAMES[REWARD_KIND_COUNT] = {"accuracy", "format", "language", "length", "helpfulness"};
/* The options each reward takes besides "name" and "weight". */
static const char *const KIND_OPTIONS[REWARD_KIND_COUNT] = {
    "", "style, soft", "target",
    "mode, max_tokens, buffer_tokens, correct_short, correct_long, wrong_short, wrong_long, exceed", "target"};

const char *reward_kind_name(enum reward_kind kind) {
    ASSERT(kind >= 0 && kind < REWARD_KIND_COUNT);
    return KIND_NAMES[kind];
}

static void term_default(struct reward_term *t, enum reward_kind kind) {
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->weight = 1.0;
    t->style = REWARD_FORMAT_R1_ZERO;
    t->lang = REWARD_LANG_EN;
    t->mode = REWARD_LENGTH_OVERLONG;
    t->correct_short = 2.0;
    t->correct_long = 1.0;
    t->wrong_short = -10.0;
    t->wrong_long = 0.0;
    t->exceed = -10.0;
}

void reward_spec_default(struct reward_spec *spec) {
    memset(spec, 0, sizeof *spec);
    term_default(&spec->terms[0], REWARD_ACCURACY);
    term_default(&spec->terms[1], REWARD_FORMAT);
    spec->n = 2;
}

static enum status bad_option(const char *where, size_t i, enum reward_kind kind, const char *key) {
    enum status st = err_set(STATUS_INVALID, "%s: reward %zu (\"%s\"): unknown option \"%s\" (valid: name, weight%s%s)",
                             where, i, KIND_NAMES[kind], key, KIND_OPTIONS[kind][0] ? ", " : "", KIND_OPTIONS[kind]);
    return st;
}

static enum status get_number(const cJSON *v, const char *where, size_t i, const char *key, double *out) {
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return err_set(STATUS_INVALID, "%s: reward %zu: \"%s\" must be a finite number", where, i, key);
    *out = v->valuedouble;
    return STATUS_OK;
}

static enum status get_tokens(const cJSON *v, const char *where, size_t i, const char *key, int *out) {
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 1e9)
        return err_set(STATUS_INVALID, "%s: reward %zu: \"%s\" must be a non-negative integer", where, i, key);
    *out = (int)v->valuedouble;
    return STATUS_OK;
}

/* Parses the string option `key` into one of `names` (NULL-terminated); the index goes to *out. */
static enum status get_choice(const cJSON *v, const char *where, size_t i, const char *key, const char *const *names,
                              int *out) {
    if (cJSON_IsString(v))
        for (int k = 0; names[k]; k++)
            if (strcmp(v->valuestring, names[k]) == 0) {
                *out = k;
                return STATUS_OK;
            }
    char valid[128] = "";
    for (int k = 0; names[k]; k++) {
        size_t n = strlen(valid);
        snprintf(valid + n, sizeof valid - n, "%s\"%s\"", k ? ", " : "", names[k]);
    }
    return err_set(STATUS_INVALID, "%s: reward %zu: \"%s\" must be one of %s", where, i, key, valid);
}

static enum status parse_option(struct reward_term *t, const cJSON *v, const char *where, size_t i) {
    static const char *const STYLES[] = {"r1-zero", "r1", NULL}, *const LANGS[] = {"en", "zh", NULL},
                             *const MODES[] = {"overlong", "cosine", NULL};
    const char *key = v->string;
    int choice;
    if (strcmp(key, "weight") == 0) {
        TRY(get_number(v, where, i, key, &t->weight));
    } else if (t->kind == REWARD_FORMAT && strcmp(key, "style") == 0) {
        TRY(get_choice(v, where, i, key, STYLES, &choice));
        t->style = (enum reward_format_style)choice;
    } else if (t->kind == REWARD_FORMAT && strcmp(key, "soft") == 0) {
        if (!cJSON_IsBool(v))
            return err_set(STATUS_INVALID, "%s: reward %zu: \"soft\" must be true or false", where, i);
        t->soft = cJSON_IsTrue(v);
    } else if ((t->kind == REWARD_LANGUAGE || t->kind == REWARD_HELPFULNESS) && strcmp(key, "target") == 0) {
        TRY(get_choice(v, where, i, key, LANGS, &choice));
        t->lang = (enum reward_lang)choice;
    } else if (t->kind == REWARD_LENGTH && strcmp(key, "mode") == 0) {
        TRY(get_choice(v, where, i, key, MODES, &choice));
        t->mode = (enum reward_length_mode)choice;
    } else if (t->kind == REWARD_LENGTH && strcmp(key, "max_tokens") == 0) {
        TRY(get_tokens(v, where, i, key, &t->max_tokens));
    } else if (t->kind == REWARD_LENGTH && strcmp(key, "buffer_tokens") == 0) {
        TRY(get_tokens(v, where, i, key, &t->buffer_tokens));
    } else if (t->kind == REWARD_LENGTH && strcmp(key, "correct_short") == 0) {
        TRY(get_number(v, where, i, key, &t->correct_short));
    } else if (t->kind == REWARD_LENGTH && strcmp(key, "correct_long") == 0) {
        TRY(get_number(v, where, i, key, &t->correct_long));
    } else if (t->kind == REWARD_LENGTH && strcmp(key, "wrong_short") == 0) {
        TRY(get_number(v, where, i, key, &t->wrong_short));
    } else if (t->kind == REWARD_LENGTH && strcmp(key, "wrong_long") == 0) {
        TRY(get_number(v, where, i, key, &t->wrong_long));
    } else if (t->kind == REWARD_LENGTH && strcmp(key, "exceed") == 0) {
        TRY(get_number(v, where, i, key, &t->exceed));
    } else {
        return bad_option(where, i, t->kind, key);
    }
    return STATUS_OK;
}

static enum status parse_term(struct reward_term *t, const cJSON *item, const char *where, size_t i) {
    const char *name = NULL;
    if (cJSON_IsString(item))
        name = item->valuestring;
    else if (cJSON_IsObject(item)) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(item, "name");
        if (!cJSON_IsString(n))
            return err_set(STATUS_INVALID, "%s: reward %zu: missing string field \"name\"", where, i);
        name = n->valuestring;
    } else {
        return err_set(STATUS_INVALID, "%s: reward %zu must be an object like {\"name\": \"accuracy\", \"weight\": 1}",
                       where, i);
    }
    int kind = -1;
    for (int k = 0; k < REWARD_KIND_COUNT; k++)
        if (strcmp(name, KIND_NAMES[k]) == 0) kind = k;
    if (kind < 0)
        return err_set(STATUS_INVALID,
                       "%s: reward %zu: unknown reward \"%s\" (valid: accuracy, format, language, length, helpfulness)",
                       where, i, name);
    term_default(t, (enum reward_kind)kind);
    if (cJSON_IsObject(item))
        for (const cJSON *v = item->child; v; v = v->next)
            if (strcmp(v->string, "name") != 0) TRY(parse_option(t, v, where, i));
    return STATUS_OK;
}

enum status reward_spec_parse(struct reward_spec *spec, const cJSON *array, const char *where) {
    struct reward_spec tmp = {0};
    if (!cJSON_IsArray(array))
        return err_set(STATUS_INVALID,
                       "%s: rewards must be a JSON array like [{\"name\": \"accuracy\", \"weight\": 1}]", where);
    size_t i = 0;
    for (const cJSON *item = array->child; item; item = item->next, i++) {
        if (tmp.n == REWARD_MAX_TERMS)
            return err_set(STATUS_INVALID, "%s: more than %d rewards", where, REWARD_MAX_TERMS);
        TRY(parse_term(&tmp.terms[tmp.n], item, where, i));
        for (size_t k = 0; k < tmp.n; k++)
            if (tmp.terms[k].kind == tmp.terms[tmp.n].kind)
                return err_set(STATUS_INVALID,
                               "%s: reward %zu: \"%s\" appears twice (names are metric keys and must "
                               "be unique)",
                               where, i, KIND_NAMES[tmp.terms[k].kind]);
        tmp.n++;
    }
    if (tmp.n == 0) return err_set(STATUS_INVALID, "%s: the reward list is empty", where);
    *spec = tmp;
    return STATUS_OK;
}

enum status reward_spec_parse_text(struct reward_spec *spec, const char *json, const char *where) {
    cJSON *root = cJSON_Parse(json);
    if (!root) return err_set(STATUS_INVALID, "%s: rewards are not valid JSON", where);
    enum status st = reward_spec_parse(spec, root, where);
    cJSON_Delete(root);
    return st;
}

cJSON *reward_spec_to_json(const struct reward_spec *spec) {
    static const char *const STYLES[] = {"r1-zero", "r1"}, *const LANGS[] = {"en", "zh"},
                             *const MODES[] = {"overlong", "cosine"};
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < spec->n; i++) {
        const struct reward_term *t = &spec->terms[i];
        cJSON *o = cJSON_CreateObject();
        if (!o) {
            cJSON_Delete(arr);
            return NULL;
        }
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "name", KIND_NAMES[t->kind]);
        cJSON_AddNumberToObject(o, "weight", t->weight);
        if (t->kind == REWARD_FORMAT) {
            cJSON_AddStringToObject(o, "style", STYLES[t->style]);
            cJSON_AddBoolToObject(o, "soft", t->soft);
        } else if (t->kind == REWARD_LANGUAGE || t->kind == REWARD_HELPFULNESS) {
            cJSON_AddStringToObject(o, "target", LANGS[t->lang]);
        } else if (t->kind == REWARD_LENGTH) {
            cJSON_AddStringToObject(o, "mode", MODES[t->mode]);
            cJSON_AddNumberToObject(o, "max_tokens", t->max_tokens);
            if (t->mode == REWARD_LENGTH_OVERLONG) {
                cJSON_AddNumberToObject(o, "buffer_tokens", t->buffer_tokens);
            } else {
                cJSON_AddNumberToObject(o, "correct_short", t->correct_short);
                cJSON_AddNumberToObject(o, "correct_long", t->correct_long);
                cJSON_AddNumberToObject(o, "wrong_short", t->wrong_short);
                cJSON_AddNumberToObject(o, "wrong_long", t->wrong_long);
                cJSON_AddNumberToObject(o, "exceed", t->exceed);
            }
        }
    }
    return arr;
}
