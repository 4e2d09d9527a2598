/* rejection: the filter, its counts and the stage's configuration (rejection.h). The stage itself — sampling,
 * the run directory, the output — is in rejection_run.c. */
#include "engine/rl/rejection.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/editdist.h"
#include "engine/util/json.h"
#include "engine/world/corpus.h"

static const char *const reason_names[REJECTION_REASON_COUNT] = {
    "kept", "truncated", "wrong", "format", "language", "duplicate", "over_limit",
};

const char *rejection_reason_name(enum rejection_reason r) {
    return (unsigned)r < REJECTION_REASON_COUNT ? reason_names[r] : "?";
}

/* ---------------------------------------------------------------------------------------------------- */
/* The filter                                                                                            */

void rejection_filter_group(const struct rejection_filter *f, const struct problem *p,
                            const struct rejection_candidate *c, int n, struct rejection_verdict *out) {
    int kept = 0;
    for (int i = 0; i < n; i++) {
        struct rejection_verdict *v = &out[i];
        memset(v, 0, sizeof *v);
        v->accuracy = reward_accuracy(p, c[i].text, c[i].len);
        v->format = reward_format(c[i].text, c[i].len, f->style, false);
        v->language = reward_language(c[i].text, c[i].len, f->lang);
        if (c[i].truncated) v->failed |= 1u << REJECTION_TRUNCATED;
        if (!(v->accuracy >= 1.0)) v->failed |= 1u << REJECTION_WRONG;
        if (!(v->format >= 1.0)) v->failed |= 1u << REJECTION_FORMAT;
        if (!(v->language >= f->min_language)) v->failed |= 1u << REJECTION_LANGUAGE;
        /* The first failed check in the order of the enum is the verdict. */
        v->reason = REJECTION_KEPT;
        for (int r = REJECTION_TRUNCATED; r <= REJECTION_LANGUAGE && v->reason == REJECTION_KEPT; r++)
            if (v->failed & (1u << r)) v->reason = (enum rejection_reason)r;
        if (v->reason != REJECTION_KEPT) continue;
        for (int j = 0; j < i; j++)
            if (out[j].reason == REJECTION_KEPT && c[j].len == c[i].len && memcmp(c[j].text, c[i].text, c[i].len) == 0) {
                v->reason = REJECTION_DUPLICATE;
                break;
            }
        if (v->reason == REJECTION_KEPT && f->keep_per_prompt > 0 && kept >= f->keep_per_prompt)
            v->reason = REJECTION_OVER_LIMIT;
        if (v->reason == REJECTION_KEPT) kept++;
    }
}

void rejection_counts_add(struct rejection_counts *c, const struct rejection_verdict *v, int n) {
    int kept = 0;
    for (int i = 0; i < n; i++) {
        c->samples++;
        if (v[i].reason == REJECTION_KEPT) kept++;
        else c->dropped[v[i].reason]++;
        for (int r = 0; r < REJECTION_REASON_COUNT; r++)
            if (v[i].failed & (1u << r)) c->failed[r]++;
    }
    c->prompts++;
    c->kept += kept;
    c->prompts_with_kept += kept > 0;
}

void rejection_counts_to_json(const struct rejection_counts *c, cJSON *obj) {
    cJSON_AddNumberToObject(obj, "prompts", (double)c->prompts);
    cJSON_AddNumberToObject(obj, "samples", (double)c->samples);
    cJSON_AddNumberToObject(obj, "kept", (double)c->kept);
    cJSON_AddNumberToObject(obj, "prompts_with_kept", (double)c->prompts_with_kept);
    cJSON *d = cJSON_AddObjectToObject(obj, "dropped"), *f = cJSON_AddObjectToObject(obj, "failed");
    for (int r = REJECTION_TRUNCATED; r < REJECTION_REASON_COUNT; r++) {
        cJSON_AddNumberToObject(d, reason_names[r], (double)c->dropped[r]);
        if (r <= REJECTION_LANGUAGE) cJSON_AddNumberToObject(f, reason_names[r], (double)c->failed[r]);
    }
    cJSON_AddNumberToObject(obj, "extra_records", (double)c->extra_records);
    cJSON_AddNumberToObject(obj, "records", (double)c->records);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Configuration                                                                                         */

const struct config_key rejection_keys[] = {
    {.name = "model", .type = CONFIG_STRING, .def = "null", .help = "checkpoint to sample from: directory, RUN@STEP, RUN@latest or @STAGE (required)"},
    {.name = "dataset", .type = CONFIG_STRING, .def = "null", .help = "problems: world:TASK or a .jsonl of prompt/answer, train split (default: the checkpoint's task, else world:mix)"},
    {.name = "world", .type = CONFIG_OBJECT, .def = "null", .help = "world settings for world: problems and extra corpus documents (default: the checkpoint's)"},
    {.name = "prompts", .type = CONFIG_INT, .def = "null", .help = "problems to sample (default 256; a file: all of it)"},
    {.name = "samples_per_prompt", .type = CONFIG_INT, .def = "4", .help = "completions sampled per problem"},
    {.name = "temperature", .type = CONFIG_NUMBER, .def = "0.6", .help = "sampling temperature"},
    {.name = "top_p", .type = CONFIG_NUMBER, .def = "0.95", .help = "nucleus sampling"},
    {.name = "top_k", .type = CONFIG_INT, .def = "0", .help = "top-k sampling (0 = off)"},
    {.name = "max_completion_length", .type = CONFIG_INT, .def = "null", .help = "new tokens per completion at most (default: the checkpoint's, else 256)"},
    {.name = "max_prompt_length", .type = CONFIG_INT, .def = "256", .help = "prompts longer than this (in tokens) are refused"},
    {.name = "template", .type = CONFIG_STRING, .def = "null", .help = "prompt template (default: the one the checkpoint trained with)"},
    {.name = "stop_strings", .type = CONFIG_ARRAY, .def = "[\"</answer>\"]", .help = "a completion ends after any of these strings"},
    {.name = "format_style", .type = CONFIG_STRING, .def = "\"r1\"", .help = "format a kept completion must have: r1 (think, then a summary) or r1-zero"},
    {.name = "rewrite", .type = CONFIG_STRING, .def = "\"none\"", .help = "none, or r1: a kept completion is rewritten into R1's format (its reasoning, a summary, the answer) with its prompt in R1's template, to build a cold start from R1-Zero's outputs"},
    {.name = "language", .type = CONFIG_STRING, .def = "\"en\"", .help = "target language of the CoT: en or zh"},
    {.name = "min_language", .type = CONFIG_NUMBER, .def = "1.0", .help = "least share of target-language words in a kept completion's CoT"},
    {.name = "keep_per_prompt", .type = CONFIG_INT, .def = "null", .help = "completions kept per problem at most (null = all)"},
    {.name = "extra", .type = CONFIG_ARRAY, .def = "[]", .help = "more SFT data: [{\"dataset\": FILE.jsonl}, {\"world\": KIND, \"n\": N}]"},
    {.name = "batch_prompts", .type = CONFIG_INT, .def = "16", .help = "problems per generation batch (one dashboard step)"},
    {.name = "log_completions", .type = CONFIG_INT, .def = "4", .help = "groups per batch written to samples.jsonl"},
    {.name = "seed", .type = CONFIG_INT, .def = "42", .help = "seed of the problems and the samples"},
    {.name = "device", .type = CONFIG_STRING, .def = "\"auto\"", .help = "auto, cpu, cuda or cuda:N"},
    {.name = "threads", .type = CONFIG_INT, .def = "0", .help = "CPU threads (0 = all cores)"},
};
const size_t rejection_n_keys = sizeof rejection_keys / sizeof rejection_keys[0];

static const struct config_key *find_key(const char *name) {
    for (size_t i = 0; i < rejection_n_keys; i++)
        if (strcmp(rejection_keys[i].name, name) == 0) return &rejection_keys[i];
    return NULL;
}

/* Keys one or two edits away are suggested. */
static bool near(const char *a, const char *b) { return editdist(a, b) <= 2; }

static bool type_ok(const cJSON *v, const struct config_key *k) {
    if (cJSON_IsNull(v)) return strcmp(k->def, "null") == 0;
    switch (k->type) {
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

static const cJSON *val(const struct rejection_config *c, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->root, key);
    ASSERTF(v && find_key(key), "rejection key %s is not in the table", key);
    return cJSON_IsNull(v) ? NULL : v;
}

/* An integer key in [lo, hi], or def when null. */
static enum status int_key(const struct rejection_config *c, const char *key, int64_t lo, int64_t hi, int64_t def,
                           int64_t *out) {
    const cJSON *v = val(c, key);
    *out = v ? (int64_t)v->valuedouble : def;
    if (v && (*out < lo || *out > hi))
        return err_set(STATUS_INVALID, "%s: \"%s\" must be in [%lld, %lld]", c->source, key, (long long)lo,
                       (long long)hi);
    return STATUS_OK;
}

static enum status parse_extra(struct rejection_config *c, const cJSON *arr) {
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, arr) {
        char where[PATH_MAX + 32];
        snprintf(where, sizeof where, "%s: extra[%d]", c->source, i);
        if (i == REJECTION_MAX_EXTRA) return err_set(STATUS_INVALID, "%s: at most %d extra sources", c->source, i);
        if (!cJSON_IsObject(e)) return err_set(STATUS_INVALID, "%s: must be an object", where);
        struct rejection_extra *x = &c->extra[i];
        const char *path = NULL, *world = NULL;
        for (const cJSON *k = e->child; k; k = k->next)
            if (strcmp(k->string, "dataset") != 0 && strcmp(k->string, "world") != 0 && strcmp(k->string, "n") != 0 &&
                strcmp(k->string, "seed") != 0)
                return err_set(STATUS_INVALID, "%s: unknown key \"%s\" (valid: dataset, world, n, seed)", where, k->string);
        TRY(json_get_string(e, "dataset", false, NULL, &path, where));
        TRY(json_get_string(e, "world", false, NULL, &world, where));
        if (!path == !world) {
            enum status st = err_set(STATUS_INVALID, "%s: give exactly one of \"dataset\" and \"world\"", where);
            err_hint("{\"dataset\": \"FILE.jsonl\"} (prompt/completion records) or {\"world\": \"coldstart\", \"n\": 500}");
            return st;
        }
        TRY(json_get_int(e, "n", world != NULL, 0, 1, 100000000, &x->n, where));
        TRY(json_get_int(e, "seed", false, -1, 0, INT64_MAX / 2, &x->seed, where));
        if (path) {
            if (snprintf(x->path, sizeof x->path, "%s", path) >= (int)sizeof x->path)
                return err_set(STATUS_INVALID, "%s: path too long", where);
        } else {
            enum corpus_kind kind;
            if (corpus_kind_parse(world, &kind) != STATUS_OK) {
                err_prefix("%s: ", where);
                return STATUS_INVALID;
            }
            snprintf(x->world, sizeof x->world, "%s", world);
        }
        i++;
    }
    c->n_extra = i;
    return STATUS_OK;
}

static enum status parse_fields(struct rejection_config *c) {
    const cJSON *v;
    c->model = (v = val(c, "model")) ? v->valuestring : NULL;
    if (!c->model || !c->model[0]) {
        enum status st = err_set(STATUS_INVALID, "%s: \"model\" is not set", c->source);
        err_hint("the checkpoint to sample from: a directory, RUN@latest, or \"@STAGE\" for an earlier stage");
        return st;
    }
    c->dataset = (v = val(c, "dataset")) ? v->valuestring : NULL;
    c->device = val(c, "device")->valuestring;
    c->world = val(c, "world");
    if (c->world) {
        struct corpus_config cc;
        corpus_config_default(&cc);
        char where[PATH_MAX + 16];
        snprintf(where, sizeof where, "%s: \"world\"", c->source);
        TRY(corpus_config_set(&cc, c->world, where));
    }
    int64_t x;
    TRY(int_key(c, "prompts", 1, 1 << 24, -1, &c->prompts));
    TRY(int_key(c, "samples_per_prompt", 1, 1024, 0, &x));
    c->samples_per_prompt = (int)x;
    TRY(int_key(c, "top_k", 0, 1 << 20, 0, &x));
    c->top_k = (int)x;
    TRY(int_key(c, "max_completion_length", 1, 1 << 20, 0, &x));
    c->max_completion = (int)x;
    TRY(int_key(c, "max_prompt_length", 1, 1 << 20, 0, &x));
    c->max_prompt = (int)x;
    TRY(int_key(c, "keep_per_prompt", 1, 1 << 20, 0, &x));
    c->keep_per_prompt = (int)x;
    TRY(int_key(c, "batch_prompts", 1, 4096, 0, &x));
    c->batch_prompts = (int)x;
    TRY(int_key(c, "log_completions", 0, 4096, 0, &x));
    c->log_completions = (int)x;
    TRY(int_key(c, "threads", 0, 1024, 0, &x));
    c->threads = (int)x;
    TRY(int_key(c, "seed", 0, INT64_MAX / 2, 0, &c->seed));
    c->temperature = val(c, "temperature")->valuedouble;
    c->top_p = val(c, "top_p")->valuedouble;
    if (!(c->temperature >= 0) || !(c->top_p > 0 && c->top_p <= 1))
        return err_set(STATUS_INVALID, "%s: temperature must be >= 0 and top_p in (0, 1]", c->source);
    if ((v = val(c, "template"))) {
        c->has_template = true;
        if (template_parse(v->valuestring, &c->tmpl) != STATUS_OK) {
            err_prefix("%s: ", c->source);
            return STATUS_INVALID;
        }
    }
    int n_stop = 0;
    cJSON_ArrayForEach(v, val(c, "stop_strings")) {
        if (!cJSON_IsString(v) || n_stop == REJECTION_MAX_STOP)
            return err_set(STATUS_INVALID, "%s: stop_strings must be at most %d strings", c->source, REJECTION_MAX_STOP);
        c->stop[n_stop++] = v->valuestring;
    }
    c->stop[n_stop] = NULL;
    const char *style = val(c, "format_style")->valuestring, *lang = val(c, "language")->valuestring;
    if (strcmp(style, "r1") == 0) c->filter.style = REWARD_FORMAT_R1;
    else if (strcmp(style, "r1-zero") == 0) c->filter.style = REWARD_FORMAT_R1_ZERO;
    else return err_set(STATUS_INVALID, "%s: format_style \"%s\" is not r1 or r1-zero", c->source, style);
    const char *rewrite = val(c, "rewrite")->valuestring;
    if (strcmp(rewrite, "r1") == 0) c->rewrite_r1 = true;
    else if (strcmp(rewrite, "none") != 0)
        return err_set(STATUS_INVALID, "%s: rewrite \"%s\" is not none or r1", c->source, rewrite);
    if (strcmp(lang, "en") == 0) c->filter.lang = REWARD_LANG_EN;
    else if (strcmp(lang, "zh") == 0) c->filter.lang = REWARD_LANG_ZH;
    else return err_set(STATUS_INVALID, "%s: language \"%s\" is not en or zh", c->source, lang);
    c->filter.min_language = val(c, "min_language")->valuedouble;
    if (!(c->filter.min_language >= 0 && c->filter.min_language <= 1))
        return err_set(STATUS_INVALID, "%s: min_language must be in [0, 1]", c->source);
    c->filter.keep_per_prompt = c->keep_per_prompt;
    return parse_extra(c, val(c, "extra"));
}

enum status rejection_config_parse(struct rejection_config *c, const cJSON *obj, const char *where) {
    memset(c, 0, sizeof *c);
    snprintf(c->source, sizeof c->source, "%s", where);
    if (!cJSON_IsObject(obj)) return err_set(STATUS_INVALID, "%s: a rejection_sample stage must be an object", where);
    for (const cJSON *it = obj->child; it; it = it->next) {
        const struct config_key *k = find_key(it->string);
        if (!k) {
            const char *best = NULL;
            for (size_t i = 0; i < rejection_n_keys && !best; i++)
                if (near(it->string, rejection_keys[i].name)) best = rejection_keys[i].name;
            enum status st = err_set(STATUS_INVALID, "%s: unknown key \"%s\"", where, it->string);
            if (best) err_hint("did you mean \"%s\"? (r1lab-pipeline(1) lists the rejection_sample keys)", best);
            else err_hint("r1lab-pipeline(1) lists the rejection_sample keys");
            return st;
        }
        if (!type_ok(it, k)) return err_set(STATUS_INVALID, "%s: \"%s\" has the wrong type", where, it->string);
    }
    c->root = cJSON_CreateObject();
    for (size_t i = 0; i < rejection_n_keys; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, rejection_keys[i].name);
        cJSON *copy = v ? cJSON_Duplicate(v, true) : cJSON_Parse(rejection_keys[i].def);
        ASSERTF(copy, "bad default for rejection key %s", rejection_keys[i].name);
        cJSON_AddItemToObject(c->root, rejection_keys[i].name, copy);
    }
    enum status st = parse_fields(c);
    if (st != STATUS_OK) rejection_config_free(c);
    return st;
}

void rejection_config_free(struct rejection_config *c) {
    cJSON_Delete(c->root);
    memset(c, 0, sizeof *c);
}

enum status rejection_rewrite_r1(const struct problem *p, const char *text, size_t len, struct strbuf *out) {
    struct reward_span th, ans;
    if (!reward_find_think(text, len, &th) || !reward_find_answer(text, len, &ans))
        return err_set(STATUS_FORMAT, "rewrite: the completion has no <think> reasoning or no answer");
    size_t b = th.off, e = th.off + th.len;
    while (b < e && (text[b] == ' ' || text[b] == '\n')) b++;
    while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\n')) e--;
    strbuf_puts(out, " <think> ");
    strbuf_append(out, text + b, e - b);
    strbuf_puts(out, e > b ? " </think> " : "</think> ");
    /* The summary states the answer in words the reasoning and any reader know; the gold answer's own spelling,
     * since the filter kept only correct completions. */
    if (p->kind == TASK_LINEAR) strbuf_printf(out, "so x = %s .", p->answer);
    else strbuf_printf(out, "The answer is %s .", p->answer);
    strbuf_printf(out, " <answer> %s </answer>", p->answer);
    return strbuf_status(out);
}
