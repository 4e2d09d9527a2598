/* config: load, override, validate, fill defaults, parse into struct config_values. The resolved object lists
 * the stage's keys in table order, so --print-config and a run's config.json read the same way every time. */
#include "engine/run/config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/editdist.h"
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

static enum status unknown_key(const char *name, const char *where) {
    const char *names[128];
    size_t n = 0;
    for (size_t i = 0; i < config_n_keys && n < sizeof names / sizeof names[0]; i++) names[n++] = config_keys[i].name;
    const char *best = editdist_closest(name, names, n, 4);
    enum status st = err_set(STATUS_INVALID, "%s: unknown key \"%s\"", where, name);
    if (best) err_hint("did you mean \"%s\"? (r1lab train --print-config lists every key)", best);
    else err_hint("r1lab train CONFIG --print-config lists every key");
    return st;
}

/* "the override KEY=VALUE" for messages about an override itself. */
static void override_where(char *out, size_t cap, const char *kv) { snprintf(out, cap, "the override %s", kv); }

/* Applies one override. "a.b.c=v" walks (creating, or replacing a null with) nested objects under the
 * top-level key a and sets field c of the innermost. */
static enum status apply_override(cJSON *root, const char *kv) {
    char where[600];
    override_where(where, sizeof where, kv);
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
    cJSON *parent = root;
    char *part = key, *dot;
    bool top = true;
    while ((dot = strchr(part, '.')) != NULL) {
        *dot = '\0';
        if (!*part || !dot[1]) {
            cJSON_Delete(value);
            return err_set(STATUS_INVALID, "%s: a key path has an empty part", where);
        }
        if (top && !find_key(part)) {
            cJSON_Delete(value);
            return unknown_key(part, where);
        }
        cJSON *child = cJSON_GetObjectItemCaseSensitive(parent, part);
        if (!child || cJSON_IsNull(child)) {
            cJSON_DeleteItemFromObjectCaseSensitive(parent, part);
            child = cJSON_AddObjectToObject(parent, part);
        } else if (!cJSON_IsObject(child)) {
            cJSON_Delete(value);
            return err_set(STATUS_INVALID, "%s: \"%s\" is not an object", where, part);
        }
        parent = child;
        part = dot + 1;
        top = false;
    }
    if (cJSON_GetObjectItemCaseSensitive(parent, part)) cJSON_ReplaceItemInObjectCaseSensitive(parent, part, value);
    else cJSON_AddItemToObject(parent, part, value);
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

/* The top-level key an override sets ("world" for world.tasks.linear=2); false when kv is not key=value. */
static bool override_key(const char *kv, char *out, size_t cap) {
    size_t n = strcspn(kv, "=.");
    if (kv[n] == '\0' || n == 0 || n >= cap) return false;
    memcpy(out, kv, n);
    out[n] = '\0';
    return true;
}

const char *config_where(const struct config *c, const char *key) {
    for (int i = c->n_overrides - 1; i >= 0; i--) {
        char k[256];
        if (override_key(c->overrides[i], k, sizeof k) && strcmp(k, key) == 0) return c->where[i];
    }
    return c->source;
}

static void number_text(double v, char *out, size_t cap) { snprintf(out, cap, "%.10g", v); }

void config_key_allowed(const struct config_key *k, char *out, size_t cap) {
    const struct config_range *r = &k->range;
    char lo[32], hi[32];
    number_text(r->lo, lo, sizeof lo);
    number_text(r->hi, hi, sizeof hi);
    if (k->choices) {
        size_t n = (size_t)snprintf(out, cap, "one of ");
        for (const char *p = k->choices; *p && n < cap; p++) {
            if (*p == '|') n += (size_t)snprintf(out + n, cap - n, ", ");
            else out[n++] = *p;
        }
        if (n < cap) out[n] = '\0';
        else if (cap) out[cap - 1] = '\0';
    } else if (r->has_lo && r->has_hi) {
        snprintf(out, cap, "in %c%s, %s%c", r->lo_open ? '(' : '[', lo, hi, r->hi_open ? ')' : ']');
    } else if (r->has_lo) {
        snprintf(out, cap, "%s %s", r->lo_open ? ">" : ">=", lo);
    } else if (r->has_hi) {
        snprintf(out, cap, "%s %s", r->hi_open ? "<" : "<=", hi);
    } else if (cap) {
        out[0] = '\0';
    }
}

static bool in_range(const struct config_range *r, double v) {
    if (r->has_lo && (r->lo_open ? !(v > r->lo) : !(v >= r->lo))) return false;
    if (r->has_hi && (r->hi_open ? !(v < r->hi) : !(v <= r->hi))) return false;
    return true;
}

static bool is_choice(const char *choices, const char *v) {
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        size_t len = strcspn(p, "|");
        if (len == n && strncmp(p, v, n) == 0) return true;
        p += len + (p[len] == '|');
    }
    return false;
}

/* Checks one resolved value against the key's range or choices. */
static enum status check_allowed(const struct config *c, const struct config_key *k, const cJSON *v) {
    if (cJSON_IsNull(v)) return STATUS_OK;
    char allowed[256], text[96];
    config_key_allowed(k, allowed, sizeof allowed);
    const char *where = config_where(c, k->name);
    if ((k->type == CONFIG_INT || k->type == CONFIG_NUMBER) && !in_range(&k->range, v->valuedouble)) {
        number_text(v->valuedouble, text, sizeof text);
        enum status st = err_set(STATUS_INVALID, "%s: \"%s\" is %s, which is out of range: allowed %s", where, k->name,
                                 text, allowed);
        if (k->why) err_hint("%s", k->why);
        else err_hint("the default is %s; r1lab-config(5) describes every key", k->def);
        return st;
    }
    if (k->type == CONFIG_STRING && k->choices && !is_choice(k->choices, v->valuestring)) {
        const char *names[16];
        char buf[256];
        size_t n = 0;
        snprintf(buf, sizeof buf, "%s", k->choices);
        for (char *save = NULL, *tok = strtok_r(buf, "|", &save); tok && n < 16; tok = strtok_r(NULL, "|", &save))
            names[n++] = tok;
        const char *best = editdist_closest(v->valuestring, names, n, 4);
        enum status st = err_set(STATUS_INVALID, "%s: \"%s\" is \"%s\", which is not %s", where, k->name,
                                 v->valuestring, allowed);
        if (best) err_hint("did you mean \"%s\"?", best);
        return st;
    }
    return STATUS_OK;
}

/* Stores a resolved value in its typed field. */
static void store_value(struct config_values *vals, const struct config_key *k, const cJSON *v) {
    char *field = (char *)vals + k->offset;
    bool null = cJSON_IsNull(v);
    switch (k->type) {
    case CONFIG_INT: *(int64_t *)(void *)field = null ? 0 : (int64_t)v->valuedouble; break;
    case CONFIG_NUMBER: *(double *)(void *)field = null ? NAN : v->valuedouble; break;
    case CONFIG_BOOL: *(bool *)(void *)field = cJSON_IsTrue(v); break;
    case CONFIG_STRING: *(const char **)(void *)field = null ? NULL : v->valuestring; break;
    case CONFIG_OBJECT:
    case CONFIG_ARRAY:
    case CONFIG_ANY: *(const cJSON **)(void *)field = null ? NULL : v; break;
    }
}

static enum status keep_overrides(struct config *c, char *const *overrides, int n) {
    if (n == 0) return STATUS_OK;
    c->overrides = calloc((size_t)n, sizeof *c->overrides);
    c->where = calloc((size_t)n, sizeof *c->where);
    if (!c->overrides || !c->where) return err_set(STATUS_NOMEM, "cannot keep the overrides");
    for (int i = 0; i < n; i++) {
        size_t len = strlen(overrides[i]) + 32;
        c->overrides[i] = strdup(overrides[i]);
        c->where[i] = malloc(len);
        if (!c->overrides[i] || !c->where[i]) return err_set(STATUS_NOMEM, "cannot keep the overrides");
        override_where(c->where[i], len, overrides[i]);
        c->n_overrides = i + 1;
    }
    return STATUS_OK;
}

enum status config_resolve(struct config *c, cJSON *root, const char *where, char *const *overrides, int n) {
    memset(c, 0, sizeof *c);
    snprintf(c->source, sizeof c->source, "%s", where);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return err_set(STATUS_FORMAT, "%s: a configuration must be a JSON object", where);
    }
    enum status st = keep_overrides(c, overrides, n);
    for (int i = 0; i < n && st == STATUS_OK; i++) st = apply_override(root, overrides[i]);
    const char *stage = NULL;
    if (st == STATUS_OK) st = json_get_string(root, "stage", true, NULL, &stage, config_where(c, "stage"));
    if (st == STATUS_OK) {
        if (strcmp(stage, "pretrain") == 0) c->stage = STAGE_PRETRAIN;
        else if (strcmp(stage, "sft") == 0) c->stage = STAGE_SFT;
        else if (strcmp(stage, "grpo") == 0) c->stage = STAGE_GRPO;
        else st = err_set(STATUS_INVALID, "%s: stage \"%s\" is not one of pretrain, sft, grpo", config_where(c, "stage"),
                          stage);
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
        const char *from = config_where(c, item->string);
        if (!k) {
            st = unknown_key(item->string, from);
        } else if (!type_ok(item, k)) {
            st = err_set(STATUS_INVALID, "%s: \"%s\" must be %s%s", from, k->name, type_name(k->type),
                         cJSON_IsNull(item) ? " (it has a default and cannot be null)" : "");
        } else if (!(k->stages & c->stage)) {
            log_warn("%s: \"%s\" is not used by stage %s", from, k->name, config_stage_name(c->stage));
        }
    }
    cJSON *resolved = NULL, *others = NULL;
    if (st == STATUS_OK) {
        resolved = cJSON_CreateObject();
        others = cJSON_CreateObject();
        for (size_t i = 0; i < config_n_keys; i++) {
            const struct config_key *k = &config_keys[i];
            bool used = k->stages & c->stage;
            const cJSON *v = used ? cJSON_GetObjectItemCaseSensitive(root, k->name) : NULL;
            cJSON *copy = v ? cJSON_Duplicate(v, true) : cJSON_Parse(k->def);
            ASSERTF(copy, "bad default for config key %s", k->name);
            cJSON_AddItemToObject(used ? resolved : others, k->name, copy);
            if (st == STATUS_OK && used) st = check_allowed(c, k, copy);
            store_value(&c->v, k, copy);
        }
        if (st == STATUS_OK && c->v.run.max_steps < 1) { /* null: the range check passed it by */
            st = err_set(STATUS_INVALID, "%s: \"max_steps\" must be set to a positive integer", config_where(c, "max_steps"));
            err_hint("add \"max_steps\": N to the config or max_steps=N on the command line");
        }
    }
    cJSON_Delete(root);
    if (st != STATUS_OK) {
        cJSON_Delete(resolved);
        cJSON_Delete(others);
        config_free(c);
        return st;
    }
    c->root = resolved;
    c->others = others;
    return STATUS_OK;
}

enum status config_load(struct config *c, const char *path, char *const *overrides, int n_overrides) {
    cJSON *root;
    TRY(json_parse_file(path, CONFIG_MAX_BYTES, &root));
    return config_resolve(c, root, path, overrides, n_overrides);
}

void config_free(struct config *c) {
    cJSON_Delete(c->root);
    cJSON_Delete(c->others);
    for (int i = 0; i < c->n_overrides; i++) {
        free(c->overrides[i]);
        free(c->where[i]);
    }
    free(c->overrides);
    free(c->where);
    memset(c, 0, sizeof *c);
}

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
