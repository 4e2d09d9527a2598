/* config: load, override, validate, fill defaults. The resolved object lists the stage's keys in table
 * order, so --print-config and a run's config.json read the same way every time. */
#include "engine/run/config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/json.h"
#include "engine/util/log.h"

#define CONFIG_MAX_BYTES (16u << 20)

static const char *const stage_names[] = {"pretrain", "sft", "grpo"};

const char *config_stage_name(enum config_stage s) {
    return s == STAGE_PRETRAIN ? stage_names[0] : s == STAGE_SFT ? stage_names[1] : stage_names[2];
}

static const struct config_key *find_key(const char *name) {
    for (size_t i = 0; i < config_n_keys; i++)
        if (strcmp(config_keys[i].name, name) == 0) return &config_keys[i];
    return NULL;
}

static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return 99;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t sub = diag + (a[i - 1] != b[j - 1]);
            size_t best = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            diag = up;
        }
    }
    return row[lb];
}

static enum status unknown_key(const char *name, const char *where) {
    const char *best = NULL;
    size_t best_d = 4;
    for (size_t i = 0; i < config_n_keys; i++) {
        size_t d = edit_distance(name, config_keys[i].name);
        if (d < best_d) best_d = d, best = config_keys[i].name;
    }
    enum status st = err_set(STATUS_INVALID, "%s: unknown key \"%s\"", where, name);
    if (best) err_hint("did you mean \"%s\"? (r1lab train --print-config lists every key)", best);
    else err_hint("r1lab train CONFIG --print-config lists every key");
    return st;
}

static enum status apply_override(cJSON *root, const char *kv, const char *where) {
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        enum status st = err_set(STATUS_INVALID, "override \"%s\" is not key=value", kv);
        err_hint("e.g. learning_rate=1e-4 or output_dir=runs/try2");
        return st;
    }
    char key[256];
    size_t klen = (size_t)(eq - kv);
    if (klen >= sizeof key) return err_set(STATUS_INVALID, "override key too long: %.40s...", kv);
    memcpy(key, kv, klen);
    key[klen] = '\0';
    const char *text = eq + 1;
    /* A value that is JSON as a whole is taken as JSON (numbers, true, null, lists); anything else, including
     * text that merely starts like JSON ("2024-runs", "nullify"), is a string. */
    cJSON *value = cJSON_ParseWithOpts(text, NULL, true);
    if (!value) value = cJSON_CreateString(text);
    char *dot = strchr(key, '.');
    cJSON *parent = root;
    const char *leaf = key;
    if (dot) {
        *dot = '\0';
        leaf = dot + 1;
        if (!find_key(key)) {
            cJSON_Delete(value);
            return unknown_key(key, where);
        }
        parent = cJSON_GetObjectItemCaseSensitive(root, key);
        if (!parent || cJSON_IsNull(parent)) {
            cJSON_DeleteItemFromObjectCaseSensitive(root, key);
            parent = cJSON_AddObjectToObject(root, key);
        } else if (!cJSON_IsObject(parent)) {
            cJSON_Delete(value);
            return err_set(STATUS_INVALID, "override %s: \"%s\" is not an object", kv, key);
        }
    }
    if (cJSON_GetObjectItemCaseSensitive(parent, leaf)) cJSON_ReplaceItemInObjectCaseSensitive(parent, leaf, value);
    else cJSON_AddItemToObject(parent, leaf, value);
    return STATUS_OK;
}

static bool type_ok(const cJSON *v, const struct config_key *k) {
    enum config_type t = k->type;
    if (cJSON_IsNull(v)) return strcmp(k->def, "null") == 0; /* only keys that default to null may be null */
    switch (t) {
    case CONFIG_INT: return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9e15;
    case CONFIG_NUMBER: return cJSON_IsNumber(v) && isfinite(v->valuedouble);
    case CONFIG_BOOL: return cJSON_IsBool(v);
    case CONFIG_STRING: return cJSON_IsString(v);
    case CONFIG_OBJECT: return cJSON_IsObject(v);
    case CONFIG_ARRAY: return cJSON_IsArray(v);
    case CONFIG_ANY: return true;
    }
    return false;
}

static const char *type_name(enum config_type t) {
    static const char *const names[] = {"an integer", "a number", "true or false", "a string", "an object",
                                        "a list", "any value"};
    return names[t];
}

enum status config_resolve(struct config *c, cJSON *root, const char *where, char *const *overrides, int n) {
    memset(c, 0, sizeof *c);
    snprintf(c->source, sizeof c->source, "%s", where);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return err_set(STATUS_FORMAT, "%s: a configuration must be a JSON object", where);
    }
    enum status st = STATUS_OK;
    for (int i = 0; i < n && st == STATUS_OK; i++) st = apply_override(root, overrides[i], where);
    const char *stage = NULL;
    if (st == STATUS_OK) st = json_get_string(root, "stage", true, NULL, &stage, where);
    if (st == STATUS_OK) {
        if (strcmp(stage, "pretrain") == 0) c->stage = STAGE_PRETRAIN;
        else if (strcmp(stage, "sft") == 0) c->stage = STAGE_SFT;
        else if (strcmp(stage, "grpo") == 0) c->stage = STAGE_GRPO;
        else st = err_set(STATUS_INVALID, "%s: stage \"%s\" is not one of pretrain, sft, grpo", where, stage);
    }
    const cJSON *item;
    for (item = root->child; st == STATUS_OK && item; item = item->next)
        for (const cJSON *other = item->next; other; other = other->next)
            if (strcmp(item->string, other->string) == 0) {
                st = err_set(STATUS_INVALID, "%s: key \"%s\" appears twice", where, item->string);
                break;
            }
    for (item = root->child; st == STATUS_OK && item; item = item->next) {
        const struct config_key *k = find_key(item->string);
        if (!k) {
            st = unknown_key(item->string, where);
        } else if (!type_ok(item, k)) {
            st = err_set(STATUS_INVALID, "%s: \"%s\" must be %s%s", where, k->name, type_name(k->type),
                         cJSON_IsNull(item) ? " (it has a default and cannot be null)" : "");
        } else if (!(k->stages & c->stage)) {
            log_warn("%s: \"%s\" is not used by stage %s", where, k->name, config_stage_name(c->stage));
        }
    }
    cJSON *resolved = NULL;
    if (st == STATUS_OK) {
        resolved = cJSON_CreateObject();
        for (size_t i = 0; i < config_n_keys; i++) {
            const struct config_key *k = &config_keys[i];
            if (!(k->stages & c->stage)) continue;
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, k->name);
            cJSON *copy = v ? cJSON_Duplicate(v, true) : cJSON_Parse(k->def);
            ASSERTF(copy, "bad default for config key %s", k->name);
            cJSON_AddItemToObject(resolved, k->name, copy);
        }
        const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(resolved, "save_dtype");
        if (strcmp(dtype->valuestring, "float32") != 0 && strcmp(dtype->valuestring, "bfloat16") != 0)
            st = err_set(STATUS_INVALID, "%s: \"save_dtype\" must be float32 or bfloat16, not \"%s\"", where,
                         dtype->valuestring);
        const cJSON *save = cJSON_GetObjectItemCaseSensitive(resolved, "save_steps");
        if (st == STATUS_OK && save->valuedouble < 0)
            st = err_set(STATUS_INVALID, "%s: \"save_steps\" must be >= 0 (0 = only at the end)", where);
        const cJSON *steps = cJSON_GetObjectItemCaseSensitive(resolved, "max_steps");
        if (st == STATUS_OK && (!cJSON_IsNumber(steps) || steps->valuedouble < 1)) {
            st = err_set(STATUS_INVALID, "%s: \"max_steps\" must be set to a positive integer", where);
            err_hint("add \"max_steps\": N to the config or max_steps=N on the command line");
        }
    }
    cJSON_Delete(root);
    if (st != STATUS_OK) {
        cJSON_Delete(resolved);
        return st;
    }
    c->root = resolved;
    return STATUS_OK;
}

enum status config_load(struct config *c, const char *path, char *const *overrides, int n_overrides) {
    cJSON *root;
    TRY(json_parse_file(path, CONFIG_MAX_BYTES, &root));
    return config_resolve(c, root, path, overrides, n_overrides);
}

void config_free(struct config *c) {
    cJSON_Delete(c->root);
    memset(c, 0, sizeof *c);
}

static const cJSON *get_checked(const struct config *c, const char *key, enum config_type t) {
    const struct config_key *k = find_key(key);
    ASSERTF(k && (k->type == t || t == CONFIG_ANY), "config key %s is not defined as that type", key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->root, key);
    ASSERTF(v, "config key %s is not used by stage %s", key, config_stage_name(c->stage));
    return cJSON_IsNull(v) ? NULL : v;
}

int64_t config_int(const struct config *c, const char *key) {
    const cJSON *v = get_checked(c, key, CONFIG_INT);
    return v ? (int64_t)v->valuedouble : 0;
}

double config_number(const struct config *c, const char *key) {
    const cJSON *v = get_checked(c, key, CONFIG_NUMBER);
    return v ? v->valuedouble : NAN;
}

bool config_bool(const struct config *c, const char *key) {
    const cJSON *v = get_checked(c, key, CONFIG_BOOL);
    return v && cJSON_IsTrue(v);
}

const char *config_string(const struct config *c, const char *key) {
    const cJSON *v = get_checked(c, key, CONFIG_STRING);
    return v ? v->valuestring : NULL;
}

const cJSON *config_get(const struct config *c, const char *key) { return get_checked(c, key, CONFIG_ANY); }

void config_print(const struct config *c, FILE *out, bool with_help) {
    if (!with_help) {
        char *text = cJSON_Print(c->root);
        fprintf(out, "%s\n", text);
        cJSON_free(text);
        return;
    }
    fprintf(out, "{\n");
    for (const cJSON *item = c->root->child; item; item = item->next) {
        const struct config_key *k = find_key(item->string);
        char *v = cJSON_PrintUnformatted(item);
        fprintf(out, "  // %s\n  \"%s\": %s%s\n", k ? k->help : "", item->string, v, item->next ? "," : "");
        cJSON_free(v);
    }
    fprintf(out, "}\n");
}
