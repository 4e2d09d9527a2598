/* pipeline: reading a recipe, its stored copy and its state file (see pipeline.h). The config is turned into
 * one resolved object first — every stage's final configuration, references replaced, directories named — and
 * everything else (validation, the changed-config check, the state file, a stage's trainer config) works from
 * that object, so what is compared on a re-run is exactly what would be run. */
#include "engine/run/pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "engine/run/checkpoint.h"
#include "engine/util/editdist.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "engine/util/log.h"
#include "engine/util/utf8.h"

#define PIPELINE_MAX_BYTES (16u << 20)
#define STATUS_MAX_BYTES (4u << 20)

static const char *const kind_names[PIPELINE_KIND_COUNT] = {"train", "rejection_sample"};
static const char *const state_names[PIPELINE_STATE_COUNT] = {"pending", "running", "finished", "failed",
                                                              "stopped"};
/* The defaults every stage takes, whatever its kind. */
static const char *const shared_keys[] = {"seed", "device", "threads", "world"};
/* Keys of a train stage's config that the pipeline decides. */
static const char *const pipeline_owned_keys[] = {"output_dir", "resume_from_checkpoint", "overwrite_output_dir"};

const char *pipeline_kind_name(enum pipeline_kind k) {
    return (unsigned)k < PIPELINE_KIND_COUNT ? kind_names[k] : "?";
}

const char *pipeline_state_name(enum pipeline_state s) {
    return (unsigned)s < PIPELINE_STATE_COUNT ? state_names[s] : "?";
}

enum pipeline_state pipeline_state_parse(const char *name) {
    for (int i = 0; i < PIPELINE_STATE_COUNT; i++)
        if (strcmp(name, state_names[i]) == 0) return (enum pipeline_state)i;
    return PIPELINE_STATE_COUNT;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Small JSON helpers                                                                                    */

static cJSON *get(const cJSON *o, const char *key) { return cJSON_GetObjectItemCaseSensitive(o, key); }

static void set_item(cJSON *o, const char *key, cJSON *v) {
    if (get(o, key)) cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
    else cJSON_AddItemToObject(o, key, v);
}

/* A value given on the command line: JSON when the whole text is JSON, else a string (as config.c does). */
static cJSON *parse_value(const char *text) {
    cJSON *v = cJSON_ParseWithOpts(text, NULL, true);
    return v ? v : cJSON_CreateString(text);
}

static bool in_list(const char *key, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, list[i]) == 0) return true;
    return false;
}

/* Refuses keys of obj outside `allowed`, naming them and the valid ones. */
static enum status check_keys(const cJSON *obj, const char *const *allowed, size_t n, const char *where) {
    for (const cJSON *it = obj->child; it; it = it->next) {
        if (in_list(it->string, allowed, n)) continue;
        char valid[256] = "";
        for (size_t i = 0; i < n; i++) {
            size_t l = strlen(valid);
            snprintf(valid + l, sizeof valid - l, "%s%s", i ? ", " : "", allowed[i]);
        }
        return err_set(STATUS_INVALID, "%s: unknown key \"%s\" (valid: %s)", where, it->string, valid);
    }
    return STATUS_OK;
}

/* The first place where a and b differ, as a path ("stages[1].config.learning_rate: 0.001 became 0.002"). */
static bool first_difference(const cJSON *a, const cJSON *b, char *path, size_t cap) {
    if (cJSON_Compare(a, b, true)) return false;
    size_t len = strlen(path);
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        for (const cJSON *x = a->child; x; x = x->next) {
            const cJSON *y = get(b, x->string);
            snprintf(path + len, cap - len, "%s%s", len ? "." : "", x->string);
            if (!y) {
                size_t l = strlen(path);
                snprintf(path + l, cap - l, " was removed");
                return true;
            }
            if (first_difference(x, y, path, cap)) return true;
            path[len] = '\0';
        }
        for (const cJSON *y = b->child; y; y = y->next)
            if (!get(a, y->string)) {
                snprintf(path + len, cap - len, "%s%s was added", len ? "." : "", y->string);
                return true;
            }
    } else if (cJSON_IsArray(a) && cJSON_IsArray(b) && cJSON_GetArraySize(a) == cJSON_GetArraySize(b)) {
        int i = 0;
        for (const cJSON *x = a->child, *y = b->child; x && y; x = x->next, y = y->next, i++) {
            snprintf(path + len, cap - len, "[%d]", i);
            if (first_difference(x, y, path, cap)) return true;
            path[len] = '\0';
        }
    }
    char *va = cJSON_PrintUnformatted(a), *vb = cJSON_PrintUnformatted(b);
    snprintf(path + len, cap - len, ": %.60s became %.60s", va ? va : "?", vb ? vb : "?");
    cJSON_free(va);
    cJSON_free(vb);
    return true;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Command-line overrides                                                                                */

static cJSON *find_raw_stage(cJSON *stages, const char *name) {
    cJSON *s;
    cJSON_ArrayForEach(s, stages) {
        const cJSON *n = get(s, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) return s;
    }
    return NULL;
}

/* The object an override "STAGE.KEY" lands in: a train stage's (or a distill student's) overrides, a
 * rejection_sample stage itself, or a distill stage's "sample" for "NAME-sample.KEY". */
static cJSON *override_target(cJSON *stages, const char *name) {
    cJSON *s = find_raw_stage(stages, name);
    const char *field = "overrides";
    if (!s) {
        size_t n = strlen(name);
        if (n <= 7 || strcmp(name + n - 7, "-sample") != 0) return NULL;
        char base[256];
        snprintf(base, sizeof base, "%.*s", (int)(n - 7), name);
        s = find_raw_stage(stages, base);
        const cJSON *k = s ? get(s, "kind") : NULL;
        if (!cJSON_IsString(k) || strcmp(k->valuestring, "distill") != 0) return NULL;
        field = "sample";
    } else {
        const cJSON *k = get(s, "kind");
        if (cJSON_IsString(k) && strcmp(k->valuestring, "rejection_sample") == 0) return s;
    }
    cJSON *t = get(s, field);
    if (!t || !cJSON_IsObject(t)) {
        cJSON_DeleteItemFromObjectCaseSensitive(s, field);
        t = cJSON_AddObjectToObject(s, field);
    }
    return t;
}

static enum status apply_override(cJSON *root, const char *kv, const char *where) {
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        enum status st = err_set(STATUS_INVALID, "override \"%s\" is not key=value", kv);
        err_hint("output_dir=DIR, defaults.KEY=VALUE or STAGE.KEY=VALUE");
        return st;
    }
    char key[512];
    if ((size_t)(eq - kv) >= sizeof key) return err_set(STATUS_INVALID, "override key too long: %.40s...", kv);
    snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
    if (strcmp(key, "output_dir") == 0) {
        set_item(root, "output_dir", cJSON_CreateString(eq + 1));
        return STATUS_OK;
    }
    char *dot = strchr(key, '.');
    if (!dot || dot == key || !dot[1]) {
        enum status st = err_set(STATUS_INVALID, "override \"%s\": a pipeline takes output_dir=, defaults.KEY= or "
                                                 "STAGE.KEY=", kv);
        err_hint("e.g. defaults.threads=2 or rl.max_steps=50");
        return st;
    }
    *dot = '\0';
    cJSON *target;
    if (strcmp(key, "defaults") == 0) {
        target = get(root, "defaults");
        if (!target || !cJSON_IsObject(target)) {
            cJSON_DeleteItemFromObjectCaseSensitive(root, "defaults");
            target = cJSON_AddObjectToObject(root, "defaults");
        }
    } else {
        cJSON *stages = get(root, "stages");
        target = cJSON_IsArray(stages) ? override_target(stages, key) : NULL;
        if (!target) return err_set(STATUS_INVALID, "override \"%s\": %s has no stage \"%s\"", kv, where, key);
    }
    set_item(target, dot + 1, parse_value(eq + 1));
    return STATUS_OK;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Stages                                                                                                */

static enum status check_name(const char *name, const char *where) {
    size_t n = strlen(name);
    bool ok = n > 0 && n < PIPELINE_NAME_MAX - 8 && name[0] != '-' && name[0] != '.';
    for (size_t i = 0; ok && i < n; i++) {
        char c = name[i];
        /* no '.': "STAGE.KEY=VALUE" overrides split at the first one */
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }
    if (ok) return STATUS_OK;
    enum status st = err_set(STATUS_INVALID, "%s: stage name \"%s\" is not usable as a directory name", where, name);
    err_hint("use letters, digits, '_' and '-', at most %d characters, not starting with '-'",
             PIPELINE_NAME_MAX - 9);
    return st;
}

/* A stage's "config" (or a distill stage's "student"): a file name or an inline object; a copy. */
static enum status load_config(const cJSON *v, const char *field, const char *where, cJSON **out) {
    *out = NULL;
    if (cJSON_IsString(v)) {
        cJSON *c;
        TRY(json_parse_file(v->valuestring, PIPELINE_MAX_BYTES, &c));
        if (!cJSON_IsObject(c)) {
            cJSON_Delete(c);
            return err_set(STATUS_FORMAT, "%s: %s: a configuration must be a JSON object", where, v->valuestring);
        }
        *out = c;
    } else if (cJSON_IsObject(v)) {
        *out = cJSON_Duplicate(v, true);
    } else {
        return err_set(STATUS_INVALID, "%s: \"%s\" must be a config file name or an object", where, field);
    }
    return *out ? STATUS_OK : err_set(STATUS_NOMEM, "out of memory");
}

static unsigned stage_bit(const cJSON *cfg) {
    const cJSON *s = get(cfg, "stage");
    if (!cJSON_IsString(s)) return 0;
    if (strcmp(s->valuestring, "pretrain") == 0) return STAGE_PRETRAIN;
    if (strcmp(s->valuestring, "sft") == 0) return STAGE_SFT;
    if (strcmp(s->valuestring, "grpo") == 0) return STAGE_GRPO;
    return 0;
}

/* The defaults a train stage lacks, then its overrides; the keys the pipeline owns are dropped. A default that
 * the stage's kind does not read (eval_steps for an sft stage) is not added; one no stage reads is an error. */
static enum status merge_train(cJSON *cfg, const cJSON *defaults, const cJSON *overrides, const char *where) {
    unsigned bit = stage_bit(cfg);
    for (const cJSON *d = defaults ? defaults->child : NULL; d; d = d->next) {
        const struct config_key *k = NULL;
        for (size_t i = 0; i < config_n_keys && !k; i++)
            if (strcmp(config_keys[i].name, d->string) == 0) k = &config_keys[i];
        if (!k)
            return err_set(STATUS_INVALID, "\"defaults\": unknown key \"%s\" (r1lab train --print-config lists every "
                                           "key)",
                           d->string);
        if (get(cfg, d->string) || (bit && !(k->stages & bit))) continue;
        cJSON_AddItemToObject(cfg, d->string, cJSON_Duplicate(d, true));
    }
    if (overrides && !cJSON_IsObject(overrides)) return err_set(STATUS_INVALID, "%s: \"overrides\" must be an object", where);
    for (const cJSON *o = overrides ? overrides->child : NULL; o; o = o->next)
        set_item(cfg, o->string, cJSON_Duplicate(o, true));
    for (size_t i = 0; i < sizeof pipeline_owned_keys / sizeof pipeline_owned_keys[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, pipeline_owned_keys[i]);
    return STATUS_OK;
}

static void merge_shared(cJSON *cfg, const cJSON *defaults) {
    for (size_t i = 0; i < sizeof shared_keys / sizeof shared_keys[0]; i++) {
        const cJSON *d = defaults ? get(defaults, shared_keys[i]) : NULL;
        if (d && !get(cfg, shared_keys[i])) cJSON_AddItemToObject(cfg, shared_keys[i], cJSON_Duplicate(d, true));
    }
}

/* Appends {"name", "kind", "config"} to out (the expanded stage list). */
static void add_expanded(cJSON *out, const char *name, enum pipeline_kind kind, cJSON *config) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "kind", pipeline_kind_name(kind));
    cJSON_AddItemToObject(e, "config", config);
    cJSON_AddItemToArray(out, e);
}

/* One stage of the config into one or two expanded stages. */
static enum status expand_stage(const cJSON *s, const cJSON *defaults, const char *where, cJSON *out) {
    if (!cJSON_IsObject(s)) return err_set(STATUS_INVALID, "%s: a stage must be a JSON object", where);
    const char *name, *kind;
    TRY(json_get_string(s, "name", true, NULL, &name, where));
    TRY(check_name(name, where));
    TRY(json_get_string(s, "kind", true, NULL, &kind, where));
    char at[PATH_MAX + 128];
    snprintf(at, sizeof at, "%s \"%s\"", where, name);
    cJSON *cfg = NULL;
    enum status st = STATUS_OK;
    if (strcmp(kind, "train") == 0) {
        static const char *const keys[] = {"name", "kind", "config", "overrides", "description"};
        TRY(check_keys(s, keys, sizeof keys / sizeof keys[0], at));
        if (!get(s, "config")) return err_set(STATUS_INVALID, "%s: a train stage needs \"config\"", at);
        TRY(load_config(get(s, "config"), "config", at, &cfg));
        st = merge_train(cfg, defaults, get(s, "overrides"), at);
        if (st == STATUS_OK) add_expanded(out, name, PIPELINE_KIND_TRAIN, cfg);
    } else if (strcmp(kind, "rejection_sample") == 0) {
        cfg = cJSON_Duplicate(s, true);
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "name");
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "kind");
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "description");
        merge_shared(cfg, defaults);
        add_expanded(out, name, PIPELINE_KIND_REJECTION, cfg);
    } else if (strcmp(kind, "distill") == 0) {
        static const char *const keys[] = {"name", "kind", "teacher", "student", "overrides", "sample", "description"};
        TRY(check_keys(s, keys, sizeof keys / sizeof keys[0], at));
        const char *teacher;
        TRY(json_get_string(s, "teacher", true, NULL, &teacher, at));
        if (!get(s, "student")) return err_set(STATUS_INVALID, "%s: a distill stage needs \"student\"", at);
        const cJSON *sample = get(s, "sample");
        if (sample && !cJSON_IsObject(sample)) return err_set(STATUS_INVALID, "%s: \"sample\" must be an object", at);
        if (sample && get(sample, "model"))
            return err_set(STATUS_INVALID, "%s: \"sample\" must not set \"model\": the teacher is sampled", at);
        char sample_name[PIPELINE_NAME_MAX + 16];
        snprintf(sample_name, sizeof sample_name, "%s-sample", name);
        TRY(check_name(sample_name, at));
        TRY(load_config(get(s, "student"), "student", at, &cfg));
        cJSON *scfg = sample ? cJSON_Duplicate(sample, true) : cJSON_CreateObject();
        cJSON_AddStringToObject(scfg, "model", teacher);
        merge_shared(scfg, defaults);
        const cJSON *stage = get(cfg, "stage");
        if (!stage) cJSON_AddStringToObject(cfg, "stage", "sft");
        else if (!cJSON_IsString(stage) || strcmp(stage->valuestring, "sft") != 0)
            st = err_set(STATUS_INVALID, "%s: the student config must be an sft stage (it says \"stage\": %s)", at,
                         cJSON_IsString(stage) ? stage->valuestring : "?");
        if (st == STATUS_OK) st = merge_train(cfg, defaults, get(s, "overrides"), at);
        if (st == STATUS_OK) {
            char ref[PIPELINE_NAME_MAX + 24];
            snprintf(ref, sizeof ref, "@%s", sample_name);
            set_item(cfg, "dataset", cJSON_CreateString(ref));
            add_expanded(out, sample_name, PIPELINE_KIND_REJECTION, scfg);
            add_expanded(out, name, PIPELINE_KIND_TRAIN, cfg);
        } else {
            cJSON_Delete(scfg);
        }
    } else {
        return err_set(STATUS_INVALID, "%s: kind \"%s\" is not one of train, rejection_sample, distill", at, kind);
    }
    if (st != STATUS_OK) cJSON_Delete(cfg);
    return st;
}

/* Replaces "@NAME" strings below v by the outputs of stages[0..before); "@@x" becomes "@x". */
static enum status resolve_refs(cJSON *v, const struct pipeline *p, size_t before, const char *where) {
    for (cJSON *c = v->child; c; c = c->next) {
        if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            TRY(resolve_refs(c, p, before, where));
            continue;
        }
        if (!cJSON_IsString(c) || c->valuestring[0] != '@') continue;
        const char *ref = c->valuestring + 1;
        if (ref[0] == '@') {
            char *lit = strdup(ref);
            if (!lit) return err_set(STATUS_NOMEM, "out of memory");
            cJSON_SetValuestring(c, lit);
            free(lit);
            continue;
        }
        size_t i = 0;
        while (i < p->n && strcmp(p->stages[i].name, ref) != 0) i++;
        if (i >= before) {
            enum status st = i < p->n ? err_set(STATUS_INVALID, "%s: \"@%s\" names %s", where, ref,
                                                i == before ? "this stage itself" : "a later stage")
                                      : err_set(STATUS_INVALID, "%s: \"@%s\" names no stage", where, ref);
            err_hint("\"@NAME\" stands for the output of an earlier stage (write \"@@...\" for a literal '@')");
            return st;
        }
        cJSON_SetValuestring(c, p->stages[i].output);
    }
    return STATUS_OK;
}

enum status pipeline_resolve(struct pipeline *p, cJSON *root, const char *where, const char *default_name,
                             char *const *overrides, int n_overrides) {
    memset(p, 0, sizeof *p);
    snprintf(p->source, sizeof p->source, "%s", where);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return err_set(STATUS_FORMAT, "%s: a pipeline config must be a JSON object", where);
    }
    static const char *const top_keys[] = {"output_dir", "defaults", "stages", "description"};
    enum status st = check_keys(root, top_keys, sizeof top_keys / sizeof top_keys[0], where);
    for (int i = 0; i < n_overrides && st == STATUS_OK; i++) st = apply_override(root, overrides[i], where);
    const char *out_dir = NULL;
    if (st == STATUS_OK) st = json_get_string(root, "output_dir", false, NULL, &out_dir, where);
    const cJSON *defaults = get(root, "defaults"), *stages = get(root, "stages");
    if (st == STATUS_OK && defaults && !cJSON_IsObject(defaults))
        st = err_set(STATUS_INVALID, "%s: \"defaults\" must be an object", where);
    if (st == STATUS_OK && (!cJSON_IsArray(stages) || cJSON_GetArraySize(stages) == 0))
        st = err_set(STATUS_INVALID, "%s: \"stages\" must be a non-empty list", where);
    if (st == STATUS_OK) {
        if (out_dir) snprintf(p->dir, sizeof p->dir, "%s", out_dir);
        else snprintf(p->dir, sizeof p->dir, "runs/%s", default_name);
        size_t l = strlen(p->dir);
        while (l > 1 && p->dir[l - 1] == '/') p->dir[--l] = '\0';
        if (l == 0) st = err_set(STATUS_INVALID, "%s: \"output_dir\" is empty", where);
    }
    cJSON *expanded = cJSON_CreateArray();
    int idx = 0;
    const cJSON *s;
    if (st == STATUS_OK) {
        cJSON_ArrayForEach(s, stages) {
            char at[PATH_MAX + 32];
            snprintf(at, sizeof at, "%s: stage %d", where, ++idx);
            if ((st = expand_stage(s, defaults, at, expanded)) != STATUS_OK) break;
        }
    }
    size_t n = st == STATUS_OK ? (size_t)cJSON_GetArraySize(expanded) : 0;
    if (st == STATUS_OK && n > PIPELINE_MAX_STAGES)
        st = err_set(STATUS_INVALID, "%s: %zu stages; at most %d", where, n, PIPELINE_MAX_STAGES);
    if (st == STATUS_OK && !(p->stages = calloc(n, sizeof *p->stages))) st = err_set(STATUS_NOMEM, "out of memory");
    /* Names, directories and outputs first: references need all of them. */
    size_t i = 0;
    for (s = st == STATUS_OK ? expanded->child : NULL; s; s = s->next, i++) {
        struct pipeline_stage *ps = &p->stages[i];
        snprintf(ps->name, sizeof ps->name, "%s", get(s, "name")->valuestring);
        ps->kind = strcmp(get(s, "kind")->valuestring, "train") == 0 ? PIPELINE_KIND_TRAIN : PIPELINE_KIND_REJECTION;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->stages[j].name, ps->name) == 0)
                st = err_set(STATUS_INVALID, "%s: two stages are named \"%s\"", where, ps->name);
        snprintf(ps->dir_name, sizeof ps->dir_name, "%zu-%s", i + 1, ps->name);
        if (fs_join(ps->dir, sizeof ps->dir, p->dir, ps->dir_name) != STATUS_OK ||
            snprintf(ps->output, sizeof ps->output, "%s%s", ps->dir,
                     ps->kind == PIPELINE_KIND_TRAIN ? "@latest" : "/" PIPELINE_DATASET_FILE) >= (int)sizeof ps->output)
            st = err_set(STATUS_INVALID, "%s: output_dir is too long", where);
        if (st != STATUS_OK) break;
        p->n = i + 1;
    }
    cJSON *resolved = NULL, *list = NULL;
    if (st == STATUS_OK) {
        resolved = cJSON_CreateObject();
        cJSON_AddStringToObject(resolved, "output_dir", p->dir);
        list = cJSON_AddArrayToObject(resolved, "stages");
    }
    i = 0;
    for (s = st == STATUS_OK ? expanded->child : NULL; s && st == STATUS_OK; s = s->next, i++) {
        struct pipeline_stage *ps = &p->stages[i];
        cJSON *cfg = cJSON_DetachItemFromObjectCaseSensitive((cJSON *)s, "config");
        char at[PATH_MAX + 96];
        snprintf(at, sizeof at, "%s: stage %zu \"%s\"", where, i + 1, ps->name);
        st = resolve_refs(cfg, p, i, at);
        if (ps->kind == PIPELINE_KIND_TRAIN) cJSON_AddStringToObject(cfg, "output_dir", ps->dir);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", ps->name);
        cJSON_AddStringToObject(e, "kind", pipeline_kind_name(ps->kind));
        cJSON_AddStringToObject(e, "dir", ps->dir_name);
        cJSON_AddStringToObject(e, "output", ps->output);
        cJSON_AddItemToObject(e, "config", cfg);
        cJSON_AddItemToArray(list, e);
        ps->config = cfg;
        /* A train stage's config is checked now, so that a mistake in the last stage is not found hours in. */
        if (st == STATUS_OK && ps->kind == PIPELINE_KIND_TRAIN) {
            struct config c;
            st = config_resolve(&c, cJSON_Duplicate(cfg, true), at, NULL, 0);
            if (st == STATUS_OK) config_free(&c);
        }
    }
    cJSON_Delete(expanded);
    cJSON_Delete(root);
    p->resolved = resolved;
    if (st != STATUS_OK) pipeline_free(p);
    return st;
}

enum status pipeline_load(struct pipeline *p, const char *path, char *const *overrides, int n_overrides) {
    memset(p, 0, sizeof *p);
    cJSON *root;
    TRY(json_parse_file(path, PIPELINE_MAX_BYTES, &root));
    char name[256];
    const char *base = strrchr(path, '/');
    snprintf(name, sizeof name, "%s", base ? base + 1 : path);
    char *dot = strrchr(name, '.');
    if (dot && dot != name) *dot = '\0';
    return pipeline_resolve(p, root, path, name, overrides, n_overrides);
}

void pipeline_free(struct pipeline *p) {
    cJSON_Delete(p->resolved);
    free(p->stages);
    memset(p, 0, sizeof *p);
}

enum status pipeline_train_config(const struct pipeline *p, size_t i, bool resume, bool overwrite, struct config *out) {
    ASSERT(i < p->n && p->stages[i].kind == PIPELINE_KIND_TRAIN);
    cJSON *cfg = cJSON_Duplicate(p->stages[i].config, true);
    if (!cfg) return err_set(STATUS_NOMEM, "out of memory");
    if (resume) cJSON_AddTrueToObject(cfg, "resume_from_checkpoint");
    if (overwrite) cJSON_AddTrueToObject(cfg, "overwrite_output_dir");
    char where[PATH_MAX + 96];
    snprintf(where, sizeof where, "%s: stage %zu \"%s\"", p->source, i + 1, p->stages[i].name);
    return config_resolve(out, cfg, where, NULL, 0);
}

enum status pipeline_train_start(const struct pipeline *p, size_t i, bool *resume, bool *overwrite) {
    const char *dir = p->stages[i].dir;
    char ckpt[PATH_MAX], path[PATH_MAX];
    int64_t step = -1;
    *resume = *overwrite = false;
    TRY(checkpoint_find_latest(dir, ckpt, sizeof ckpt, &step));
    if (step >= 0) {
        *resume = true;
        return STATUS_OK;
    }
    /* An attempt that saved no checkpoint: its metrics and samples are dropped and the stage starts over. */
    TRY(fs_join(path, sizeof path, dir, "metrics.jsonl"));
    if (fs_exists(path)) *overwrite = true;
    TRY(fs_join(path, sizeof path, dir, "checkpoints"));
    if (fs_exists(path)) *overwrite = true;
    return STATUS_OK;
}

/* ---------------------------------------------------------------------------------------------------- */
/* pipeline.json                                                                                         */

void pipeline_status_free(struct pipeline_status *s) {
    free(s->stages);
    memset(s, 0, sizeof *s);
}

static double num_field(const cJSON *o, const char *key) {
    const cJSON *v = get(o, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : 0.0;
}

/* A process id; a value no pid_t holds (1e300, 2^62) reads as absent, like a non-number: converting a value past
 * int64 would be undefined behaviour, and one past 2^53 would not be written back as it was read. */
static int64_t pid_field(const cJSON *o, const char *key) {
    double x = num_field(o, key);
    return x >= 0 && x <= INT32_MAX ? (int64_t)x : 0;
}

/* A string field copied into a fixed buffer, or "". Cut on a character boundary: the file was valid UTF-8
 * (json_parse_text checks) and the pipeline.json written back from it must stay so, or no reader would take it. */
static void str_field(const cJSON *o, const char *key, char *dst, size_t cap) {
    const cJSON *v = get(o, key);
    utf8_copy_valid(dst, cap, cJSON_IsString(v) ? v->valuestring : "");
}

/* Adds a string as valid UTF-8 (a message may quote a file name that is not, or have been cut mid-character). */
static void add_text(cJSON *o, const char *key, const char *text) {
    char buf[sizeof(((struct pipeline_stage_status *)0)->message)];
    utf8_copy_valid(buf, sizeof buf, text);
    cJSON_AddStringToObject(o, key, buf);
}

enum status pipeline_status_parse(const char *text, size_t len, const char *where, struct pipeline_status *out) {
    memset(out, 0, sizeof *out);
    cJSON *j;
    TRY(json_parse_text(text, len, where, &j));
    const cJSON *stages = get(j, "stages");
    enum status st = STATUS_OK;
    if (!cJSON_IsObject(j) || !cJSON_IsArray(stages))
        st = err_set(STATUS_FORMAT, "%s: expected an object with a \"stages\" list", where);
    size_t n = st == STATUS_OK ? (size_t)cJSON_GetArraySize(stages) : 0;
    if (st == STATUS_OK && n > PIPELINE_MAX_STAGES) st = err_set(STATUS_FORMAT, "%s: too many stages (%zu)", where, n);
    if (st == STATUS_OK && n && !(out->stages = calloc(n, sizeof *out->stages))) st = err_set(STATUS_NOMEM, "out of memory");
    if (st == STATUS_OK) {
        const cJSON *v = get(j, "state");
        out->state = cJSON_IsString(v) ? pipeline_state_parse(v->valuestring) : PIPELINE_STATE_COUNT;
        if (out->state == PIPELINE_STATE_COUNT) out->state = PIPELINE_PENDING;
        out->pid = pid_field(j, "pid");
        out->started = num_field(j, "started");
        out->updated = num_field(j, "updated");
        const cJSON *s;
        cJSON_ArrayForEach(s, stages) {
            struct pipeline_stage_status *ss = &out->stages[out->n];
            if (!cJSON_IsObject(s)) {
                st = err_set(STATUS_FORMAT, "%s: stages[%zu] is not an object", where, out->n);
                break;
            }
            str_field(s, "name", ss->name, sizeof ss->name);
            str_field(s, "kind", ss->kind, sizeof ss->kind);
            str_field(s, "detail", ss->detail, sizeof ss->detail);
            str_field(s, "dir", ss->dir, sizeof ss->dir);
            str_field(s, "message", ss->message, sizeof ss->message);
            v = get(s, "state");
            ss->state = cJSON_IsString(v) ? pipeline_state_parse(v->valuestring) : PIPELINE_STATE_COUNT;
            if (ss->state == PIPELINE_STATE_COUNT) ss->state = PIPELINE_PENDING;
            ss->started = num_field(s, "started");
            ss->ended = num_field(s, "ended");
            /* The directory is joined to PIPE by readers: nothing that could leave it. */
            if (!ss->name[0] || !ss->dir[0] || strchr(ss->dir, '/') || strcmp(ss->dir, "..") == 0 ||
                strcmp(ss->dir, ".") == 0) {
                st = err_set(STATUS_FORMAT, "%s: stages[%zu] needs a \"name\" and a plain \"dir\"", where, out->n);
                break;
            }
            out->n++;
        }
    }
    cJSON_Delete(j);
    if (st != STATUS_OK) pipeline_status_free(out);
    return st;
}

enum status pipeline_status_read(const char *pipe_dir, struct pipeline_status *out) {
    memset(out, 0, sizeof *out);
    char path[PATH_MAX];
    TRY(fs_join(path, sizeof path, pipe_dir, PIPELINE_STATE_FILE));
    char *text;
    size_t len;
    TRY(fs_read_file(path, STATUS_MAX_BYTES, &text, &len));
    enum status st = pipeline_status_parse(text, len, path, out);
    free(text);
    return st;
}

enum status pipeline_status_write(const char *pipe_dir, const struct pipeline_status *s) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "version", 1);
    cJSON_AddStringToObject(j, "state", pipeline_state_name(s->state));
    cJSON_AddNumberToObject(j, "pid", (double)s->pid);
    cJSON_AddNumberToObject(j, "started", s->started);
    cJSON_AddNumberToObject(j, "updated", s->updated);
    cJSON *arr = cJSON_AddArrayToObject(j, "stages");
    for (size_t i = 0; i < s->n; i++) {
        const struct pipeline_stage_status *ss = &s->stages[i];
        cJSON *o = cJSON_CreateObject();
        add_text(o, "name", ss->name);
        add_text(o, "kind", ss->kind);
        add_text(o, "detail", ss->detail);
        add_text(o, "dir", ss->dir);
        cJSON_AddStringToObject(o, "state", pipeline_state_name(ss->state));
        cJSON_AddNumberToObject(o, "started", ss->started);
        cJSON_AddNumberToObject(o, "ended", ss->ended);
        add_text(o, "message", ss->message);
        cJSON_AddItemToArray(arr, o);
    }
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) return err_set(STATUS_NOMEM, "cannot format %s", PIPELINE_STATE_FILE);
    char path[PATH_MAX];
    enum status st = fs_join(path, sizeof path, pipe_dir, PIPELINE_STATE_FILE);
    if (st == STATUS_OK) {
        size_t n = strlen(text);
        text[n] = '\n'; /* replaces the NUL: the buffer is written by length */
        st = fs_write_atomic(path, text, n + 1);
    }
    cJSON_free(text);
    return st;
}

void pipeline_status_mark(struct pipeline_status *s, size_t i, enum pipeline_state state, const char *message) {
    ASSERT(i < s->n);
    struct pipeline_stage_status *ss = &s->stages[i];
    double t = now_s();
    ss->state = state;
    if (state == PIPELINE_RUNNING) {
        ss->started = t;
        ss->ended = 0;
    } else if (state != PIPELINE_PENDING) {
        ss->ended = t;
    }
    utf8_copy_valid(ss->message, sizeof ss->message, message ? message : "");
    s->updated = t;
}

int pipeline_status_running(const struct pipeline_status *s) {
    for (size_t i = 0; i < s->n; i++)
        if (s->stages[i].state == PIPELINE_RUNNING) return (int)i;
    return -1;
}

bool pipeline_is_dir(const char *dir) {
    char path[PATH_MAX];
    return fs_join(path, sizeof path, dir, PIPELINE_STATE_FILE) == STATUS_OK && fs_exists(path);
}

/* ---------------------------------------------------------------------------------------------------- */
/* A run                                                                                                 */

/* Refuses a config that differs from the stored one in any stage it already had before redo_from (the stages
 * from redo_from on are run again, so theirs may change). */
static enum status check_stored(const struct pipeline *p, const char *path, size_t redo_from) {
    cJSON *old;
    TRY(json_parse_file(path, PIPELINE_MAX_BYTES, &old));
    const cJSON *a = get(old, "stages"), *b = get(p->resolved, "stages");
    enum status st = STATUS_OK;
    char diff[1024] = "";
    if (!cJSON_IsArray(a)) {
        st = err_set(STATUS_FORMAT, "%s: no \"stages\" list", path);
    } else if (cJSON_GetArraySize(a) > cJSON_GetArraySize(b)) {
        st = err_set(STATUS_INVALID, "%s: the pipeline was started with %d stages; the config now has %d", p->dir,
                     cJSON_GetArraySize(a), cJSON_GetArraySize(b));
    } else {
        size_t i = 0;
        for (const cJSON *x = a->child, *y = b->child; x && i < redo_from; x = x->next, y = y->next, i++) {
            if (!first_difference(x, y, diff, sizeof diff)) continue;
            const cJSON *name = get(x, "name");
            st = err_set(STATUS_INVALID, "%s: the pipeline was started with a different configuration: stage %zu "
                                         "\"%s\": %s",
                         p->dir, i + 1, cJSON_IsString(name) ? name->valuestring : "?", diff);
            break;
        }
    }
    cJSON_Delete(old);
    if (st == STATUS_INVALID)
        err_hint("re-run it with the configuration it was started with (%s), run a stage and those after it again "
                 "with --redo STAGE, remove %s to start over, or choose another output_dir=", path, p->dir);
    return st;
}

size_t pipeline_stage_index(const struct pipeline *p, const char *name) {
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->stages[i].name, name) == 0) return i;
    const char *names[PIPELINE_MAX_STAGES];
    size_t n = p->n < PIPELINE_MAX_STAGES ? p->n : PIPELINE_MAX_STAGES;
    for (size_t i = 0; i < n; i++) names[i] = p->stages[i].name;
    const char *close = editdist_closest(name, names, n, 3);
    err_set(STATUS_INVALID, "%s: no stage \"%s\"", p->source, name);
    if (close) err_hint("did you mean \"%s\"?", close);
    else err_hint("its stages are listed by r1lab pipeline %s --print-config", p->source);
    return p->n;
}

/* Moves the run directory of a stage that is run again out of the way (to DIR.before-redo, replacing an earlier
 * one), so the new run starts empty and the old one can still be looked at until the next redo. */
static enum status set_aside(const struct pipeline_stage *ps) {
    if (!fs_exists(ps->dir)) return STATUS_OK;
    char old[PATH_MAX + 16];
    if ((size_t)snprintf(old, sizeof old, "%s.before-redo", ps->dir) >= sizeof old)
        return err_set(STATUS_INVALID, "%s: path too long", ps->dir);
    if (fs_exists(old)) TRY(fs_remove_tree(old));
    if (rename(ps->dir, old) != 0) return err_set_errno(STATUS_IO, "%s: cannot move it to %s", ps->dir, old);
    log_info("stage %s: its earlier run moved to %s", ps->name, old);
    return STATUS_OK;
}

enum status pipeline_begin(const struct pipeline *p, size_t redo_from, struct pipeline_status *st, int *lock_fd) {
    memset(st, 0, sizeof *st);
    *lock_fd = -1;
    TRY(fs_mkdir_p(p->dir));
    char path[PATH_MAX];
    TRY(fs_join(path, sizeof path, p->dir, PIPELINE_LOCK_FILE));
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return err_set_errno(STATUS_IO, "%s: cannot open", path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e != EWOULDBLOCK) return err_set(STATUS_IO, "%s: cannot lock: %s", path, strerror(e));
        struct pipeline_status other;
        long long pid = pipeline_status_read(p->dir, &other) == STATUS_OK ? (long long)other.pid : 0;
        pipeline_status_free(&other);
        enum status s = err_set(STATUS_INVALID, "%s is being run by another process (pid %lld)", p->dir, pid);
        err_hint("watch it with r1lab dash %s, or wait until it ends", p->dir);
        return s;
    }
    enum status s = fs_join(path, sizeof path, p->dir, PIPELINE_CONFIG_FILE);
    if (s == STATUS_OK && fs_exists(path)) s = check_stored(p, path, redo_from);
    for (size_t i = redo_from; i < p->n && s == STATUS_OK; i++) s = set_aside(&p->stages[i]);
    char *text = NULL;
    if (s == STATUS_OK) {
        text = cJSON_Print(p->resolved);
        if (!text) s = err_set(STATUS_NOMEM, "cannot format the pipeline config");
    }
    if (s == STATUS_OK) s = fs_write_atomic(path, text, strlen(text));
    cJSON_free(text);
    for (size_t i = 0; i < p->n && s == STATUS_OK; i++) s = fs_mkdir_p(p->stages[i].dir);
    struct pipeline_status old = {0};
    if (s == STATUS_OK && pipeline_is_dir(p->dir)) s = pipeline_status_read(p->dir, &old);
    if (s == STATUS_OK && !(st->stages = calloc(p->n, sizeof *st->stages))) s = err_set(STATUS_NOMEM, "out of memory");
    for (size_t i = 0; i < p->n && s == STATUS_OK; i++) {
        const struct pipeline_stage *ps = &p->stages[i];
        struct pipeline_stage_status *ss = &st->stages[i];
        if (i < old.n && i < redo_from && strcmp(old.stages[i].name, ps->name) == 0) *ss = old.stages[i];
        else memset(ss, 0, sizeof *ss);
        snprintf(ss->name, sizeof ss->name, "%s", ps->name);
        snprintf(ss->kind, sizeof ss->kind, "%s", pipeline_kind_name(ps->kind));
        snprintf(ss->dir, sizeof ss->dir, "%s", ps->dir_name);
        const cJSON *stage = ps->kind == PIPELINE_KIND_TRAIN ? get(ps->config, "stage") : NULL;
        snprintf(ss->detail, sizeof ss->detail, "%s", cJSON_IsString(stage) ? stage->valuestring : "");
        if (ss->state == PIPELINE_RUNNING) { /* the process that ran it is gone: we hold the lock */
            ss->state = PIPELINE_STOPPED;
            snprintf(ss->message, sizeof ss->message, "the process running it ended");
        }
    }
    pipeline_status_free(&old);
    if (s == STATUS_OK) {
        st->n = p->n;
        st->state = PIPELINE_RUNNING;
        st->pid = (int64_t)getpid();
        st->started = st->updated = now_s();
        s = pipeline_status_write(p->dir, st);
    }
    if (s != STATUS_OK) {
        pipeline_status_free(st);
        close(fd);
        return s;
    }
    *lock_fd = fd;
    return STATUS_OK;
}

enum status pipeline_end(const struct pipeline *p, struct pipeline_status *st, enum pipeline_state final, int lock_fd) {
    st->state = final;
    st->updated = now_s();
    enum status s = pipeline_status_write(p->dir, st);
    if (lock_fd >= 0) close(lock_fd);
    return s;
}
