/* lm_data: file and built-in datasets to token sequences, then seeded epoch permutations. */
#include "engine/lm/lm_data.h"

#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "engine/util/rng.h"
#include "engine/world/corpus.h"

#define DATA_MAX_BYTES ((size_t)4 << 30)

struct growing {
    int32_t *ids;
    size_t n, cap;
};

static enum status grow_push(struct growing *g, const int32_t *ids, size_t n) {
    if (n == 0) return STATUS_OK; /* an empty document: ids and the store may both still be NULL */
    if (g->n + n > g->cap) {
        size_t cap = g->cap ? g->cap : 1 << 16;
        while (cap < g->n + n) cap *= 2;
        int32_t *p = realloc(g->ids, cap * sizeof *p);
        if (!p) return err_set(STATUS_NOMEM, "cannot hold %zu tokens of training data", g->n + n);
        g->ids = p;
        g->cap = cap;
    }
    memcpy(g->ids + g->n, ids, n * sizeof *ids);
    g->n += n;
    return STATUS_OK;
}

/* Examples are recorded as offsets while the store grows, and turned into pointers at the end. */
struct ex_list {
    size_t *start;
    int *n, *score_from;
    size_t count, cap;
};

static enum status ex_push(struct ex_list *l, size_t start, int n, int score_from) {
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        size_t *s = realloc(l->start, cap * sizeof *s);
        if (s) l->start = s;
        int *nn = realloc(l->n, cap * sizeof *nn);
        if (nn) l->n = nn;
        int *sf = realloc(l->score_from, cap * sizeof *sf);
        if (sf) l->score_from = sf;
        if (!s || !nn || !sf) return err_set(STATUS_NOMEM, "cannot hold the example list");
        l->cap = cap;
    }
    l->start[l->count] = start;
    l->n[l->count] = n;
    l->score_from[l->count] = score_from;
    l->count++;
    return STATUS_OK;
}

static void ex_free(struct ex_list *l) {
    free(l->start);
    free(l->n);
    free(l->score_from);
}

/* pretrain: cut the EOS-joined stream into max_len sequences (the tail shorter than 2 tokens is dropped). */
static enum status chunk_stream(struct ex_list *l, size_t total, int max_len) {
    for (size_t off = 0; off + 1 < total; off += (size_t)max_len) {
        size_t n = total - off < (size_t)max_len ? total - off : (size_t)max_len;
        if (n < 2) break;
        TRY(ex_push(l, off, (int)n, 1));
    }
    return STATUS_OK;
}

static enum status encode_append(const struct tokenizer *tok, const char *text, struct growing *g,
                                 struct token_buf *tmp) {
    tmp->n = 0;
    TRY(tokenizer_encode(tok, text, strlen(text), false, tmp));
    return grow_push(g, tmp->ids, tmp->n);
}

static enum status load_jsonl(const char *path, bool sft, const struct tokenizer *tok, int32_t eos, int max_len,
                              struct growing *g, struct ex_list *l) {
    char *text;
    size_t len;
    TRY(fs_read_file(path, DATA_MAX_BYTES, &text, &len));
    struct token_buf tmp = {0};
    enum status st = STATUS_OK;
    size_t lineno = 0, docs = 0;
    char *line = text;
    while (st == STATUS_OK && line < text + len) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
        lineno++;
        char where[4200];
        snprintf(where, sizeof where, "%s:%zu", path, lineno);
        size_t k = 0;
        while (k < n && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) k++;
        if (k < n) {
            cJSON *rec;
            st = json_parse_text(line, n, where, &rec);
            if (st == STATUS_OK && !cJSON_IsObject(rec)) st = err_set(STATUS_FORMAT, "%s: expected a JSON object", where);
            if (st == STATUS_OK && !sft) {
                const char *doc;
                st = json_get_string(rec, "text", true, NULL, &doc, where);
                if (st == STATUS_OK) st = encode_append(tok, doc, g, &tmp);
                if (st == STATUS_OK) st = grow_push(g, &eos, 1);
            } else if (st == STATUS_OK) {
                const char *prompt, *completion;
                st = json_get_string(rec, "prompt", true, NULL, &prompt, where);
                if (st == STATUS_OK) st = json_get_string(rec, "completion", true, NULL, &completion, where);
                size_t start = g->n;
                if (st == STATUS_OK) st = encode_append(tok, prompt, g, &tmp);
                size_t plen = g->n - start;
                if (st == STATUS_OK) st = encode_append(tok, completion, g, &tmp);
                if (st == STATUS_OK) st = grow_push(g, &eos, 1);
                if (st == STATUS_OK && plen == 0) st = err_set(STATUS_FORMAT, "%s: \"prompt\" is empty", where);
                if (st == STATUS_OK) {
                    size_t total = g->n - start;
                    int n_ex = total > (size_t)max_len ? max_len : (int)total;
                    if ((int)plen >= n_ex) {
                        st = err_set(STATUS_FORMAT, "%s: the prompt alone has %zu tokens, max_seq_length is %d", where,
                                     plen, max_len);
                        err_hint("raise max_seq_length or shorten the prompt");
                    } else {
                        st = ex_push(l, start, n_ex, (int)plen);
                    }
                }
            }
            cJSON_Delete(rec);
            docs++;
        }
        line = nl ? nl + 1 : text + len;
    }
    token_buf_free(&tmp);
    free(text);
    if (st == STATUS_OK && docs == 0) st = err_set(STATUS_FORMAT, "%s: no records", path);
    return st;
}

static enum status load_text(const char *path, const struct tokenizer *tok, int32_t eos, struct growing *g) {
    char *text;
    size_t len;
    TRY(fs_read_file(path, DATA_MAX_BYTES, &text, &len));
    struct token_buf tmp = {0};
    enum status st = encode_append(tok, text, g, &tmp);
    if (st == STATUS_OK) st = grow_push(g, &eos, 1);
    if (st != STATUS_OK) err_prefix("%s: ", path);
    token_buf_free(&tmp);
    free(text);
    return st;
}

/* The world settings of the config (defaults when it has none); messages name where "world" came from. */
static enum status world_settings(const struct config *cfg, struct corpus_config *cc) {
    corpus_config_default(cc);
    if (!cfg->v.run.world) return STATUS_OK;
    char where[4200];
    snprintf(where, sizeof where, "%s: world", config_where(cfg, "world"));
    return corpus_config_set(cc, cfg->v.run.world, where);
}

/* world:corpus / world:coldstart: documents generated from (world, seed, index), as r1lab world corpus writes. */
static enum status lm_data_world(const struct config *cfg, bool sft, const struct tokenizer *tok, int32_t eos,
                                 int max_len, struct growing *g, struct ex_list *l) {
    const char *which = cfg->v.run.dataset + 6; /* lm_data_check: world:corpus, coldstart or nonreasoning */
    enum corpus_kind kind = strcmp(which, "corpus") == 0      ? CORPUS_PRETRAIN
                            : strcmp(which, "coldstart") == 0 ? CORPUS_COLDSTART
                                                              : CORPUS_NONREASONING;
    int64_t n = cfg->v.lm.dataset_size;
    struct corpus_config cc;
    TRY(world_settings(cfg, &cc));
    cc.seed = (uint64_t)cfg->v.run.seed;
    struct token_buf tmp = {0};
    enum status st = STATUS_OK;
    for (int64_t i = 0; i < n && st == STATUS_OK; i++) {
        struct corpus_doc doc = {0};
        st = corpus_doc(&cc, kind, (uint64_t)i, &doc);
        if (st == STATUS_OK && !sft) {
            st = encode_append(tok, doc.text, g, &tmp);
            if (st == STATUS_OK) st = grow_push(g, &eos, 1);
        } else if (st == STATUS_OK) {
            size_t start = g->n;
            st = encode_append(tok, doc.prompt, g, &tmp);
            size_t plen = g->n - start;
            if (st == STATUS_OK) st = encode_append(tok, doc.completion, g, &tmp);
            if (st == STATUS_OK) st = grow_push(g, &eos, 1);
            size_t total = g->n - start;
            if (st == STATUS_OK && (int)plen < max_len)
                st = ex_push(l, start, total > (size_t)max_len ? max_len : (int)total, (int)plen);
        }
        corpus_doc_free(&doc);
    }
    token_buf_free(&tmp);
    return st;
}

static bool has_suffix(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

enum status lm_data_check(const struct config *cfg) {
    const char *src = cfg->v.run.dataset, *where = config_where(cfg, "dataset");
    bool sft = cfg->stage == STAGE_SFT;
    if (!src) {
        enum status st = err_set(STATUS_INVALID, "%s: \"dataset\" is not set", where);
        err_hint("a .txt or .jsonl file, or world:corpus / world:coldstart");
        return st;
    }
    if (strncmp(src, "world:", 6) == 0) {
        const char *which = src + 6;
        if (strcmp(which, "corpus") != 0 && strcmp(which, "coldstart") != 0 && strcmp(which, "nonreasoning") != 0) {
            enum status st = err_set(STATUS_INVALID, "%s: dataset \"%s\" is not a built-in dataset of stage %s", where,
                                     src, config_stage_name(cfg->stage));
            err_hint("%s", sft ? "world:coldstart, world:nonreasoning, or a .jsonl file of prompt/completion records"
                               : "world:corpus, world:coldstart, world:nonreasoning, or a .txt / .jsonl file");
            return st;
        }
        if (sft && strcmp(which, "corpus") == 0)
            return err_set(STATUS_INVALID, "%s: an sft stage needs prompt/completion pairs: use world:coldstart or "
                           "world:nonreasoning", where);
        struct corpus_config cc;
        return world_settings(cfg, &cc);
    }
    if (sft && !has_suffix(src, ".jsonl"))
        return err_set(STATUS_INVALID, "%s: an sft dataset must be a .jsonl file of prompt/completion records", src);
    return STATUS_OK;
}

enum status lm_data_load(struct lm_data *d, const struct config *cfg, const struct tokenizer *tok, int32_t eos) {
    memset(d, 0, sizeof *d);
    TRY(lm_data_check(cfg));
    const char *src = cfg->v.run.dataset;
    bool sft = cfg->stage == STAGE_SFT;
    int max_len = (int)cfg->v.lm.max_seq_length;
    struct growing g = {0};
    struct ex_list l = {0};
    enum status st;
    if (strncmp(src, "world:", 6) == 0) st = lm_data_world(cfg, sft, tok, eos, max_len, &g, &l);
    else if (has_suffix(src, ".jsonl")) st = load_jsonl(src, sft, tok, eos, max_len, &g, &l);
    else st = load_text(src, tok, eos, &g);
    if (st == STATUS_OK && !sft) st = chunk_stream(&l, g.n, max_len);
    if (st == STATUS_OK && l.count == 0) st = err_set(STATUS_FORMAT, "%s: no training sequences", src);
    if (st == STATUS_OK) {
        d->ex = calloc(l.count, sizeof *d->ex);
        d->order = calloc(l.count, sizeof *d->order);
        if (!d->ex || !d->order) st = err_set(STATUS_NOMEM, "cannot hold %zu examples", l.count);
    }
    if (st != STATUS_OK) {
        free(g.ids);
        ex_free(&l);
        lm_data_free(d);
        return st;
    }
    d->store = g.ids;
    d->n_ex = l.count;
    for (size_t i = 0; i < l.count; i++) {
        d->ex[i] = (struct lm_example){.ids = g.ids + l.start[i], .n = l.n[i], .score_from = l.score_from[i]};
        d->n_tokens += (size_t)l.n[i];
        d->n_scored += (size_t)(l.n[i] - (l.score_from[i] > 1 ? l.score_from[i] : 1));
    }
    ex_free(&l);
    d->seed = (uint64_t)cfg->v.run.seed;
    return lm_data_seek(d, 0, 0);
}

void lm_data_free(struct lm_data *d) {
    free(d->ex);
    free(d->store);
    free(d->order);
    memset(d, 0, sizeof *d);
}

enum status lm_data_seek(struct lm_data *d, int64_t epoch, int64_t index) {
    if (epoch < 0 || index < 0 || (size_t)index > d->n_ex)
        return err_set(STATUS_FORMAT, "data position (epoch %lld, index %lld) is outside the dataset of %zu examples",
                       (long long)epoch, (long long)index, d->n_ex);
    struct rng r;
    rng_seed_stream(&r, d->seed, 0x64617461ULL + (uint64_t)epoch); /* "data" + epoch */
    for (size_t i = 0; i < d->n_ex; i++) d->order[i] = (uint32_t)i;
    rng_shuffle(&r, d->order, d->n_ex, sizeof *d->order);
    d->epoch = epoch;
    d->index = index;
    return STATUS_OK;
}

enum status lm_data_next(struct lm_data *d, int n, struct batch_builder *bb) {
    for (int k = 0; k < n; k++) {
        if ((size_t)d->index == d->n_ex) TRY(lm_data_seek(d, d->epoch + 1, 0));
        const struct lm_example *e = &d->ex[d->order[d->index++]];
        TRY(batch_builder_add(bb, e->ids, e->n, e->score_from));
    }
    return STATUS_OK;
}

double lm_data_epoch(const struct lm_data *d) {
    return (double)d->epoch + (d->n_ex ? (double)d->index / (double)d->n_ex : 0.0);
}
