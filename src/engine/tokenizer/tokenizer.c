/* tokenizer: loading a Hugging Face tokenizer.json and the encode pipeline; the stages live in the
 * tokenizer_*.c files (see tokenizer_internal.h for the map).
 *
 * Encoding mirrors Tokenizer::encode in tokenizers: added tokens with normalized=false are cut out of the raw
 * text; each remaining span is normalised, then added tokens with normalized=true are cut out of that; each
 * remaining span is pre-tokenized and every piece goes through BPE; with add_special_tokens the
 * post-processor's template ids are put around the result. Unsupported components are refused at load time,
 * naming the JSON field, so a tokenizer that loads encodes exactly as tokenizers would. */
#include "engine/tokenizer/tokenizer_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "engine/util/utf8.h"

#define TOKENIZER_MAX_FILE ((size_t)1 << 30) /* real tokenizer.json files are 2-20 MB */

enum status token_buf_push(struct token_buf *b, int32_t id) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        int32_t *p = realloc(b->ids, cap * sizeof *p);
        if (!p) return err_set(STATUS_NOMEM, "tokenizer: cannot grow an id buffer to %zu ids", cap);
        b->ids = p;
        b->cap = cap;
    }
    b->ids[b->n++] = id;
    return STATUS_OK;
}

void token_buf_free(struct token_buf *b) {
    free(b->ids);
    b->ids = NULL;
    b->n = b->cap = 0;
}

/* ---- post-processor ----------------------------------------------------------------------------------- */

static enum status post_append(int32_t **v, size_t *n, const int32_t *ids, size_t k, bool in_front) {
    if (k == 0) return STATUS_OK;
    int32_t *p = realloc(*v, (*n + k + 1) * sizeof *p);
    if (!p) return err_set(STATUS_NOMEM, "tokenizer: out of memory reading the post-processor");
    if (in_front) {
        memmove(p + k, p, *n * sizeof *p);
        memcpy(p, ids, k * sizeof *p);
    } else {
        memcpy(p + *n, ids, k * sizeof *p);
    }
    *v = p;
    *n += k;
    return STATUS_OK;
}

/* The ids of special_tokens[name] of a TemplateProcessing. */
static enum status post_special_ids(const cJSON *specials, const char *name, const char *file, const char *field,
                                    int32_t *ids, size_t cap, size_t *n) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(specials, name);
    const cJSON *list = t ? cJSON_GetObjectItemCaseSensitive(t, "ids") : NULL;
    if (!cJSON_IsArray(list))
        return tok_fail(STATUS_FORMAT, file, "%s.special_tokens: \"%s\" is used in the template but has no \"ids\"",
                        field, name);
    *n = 0;
    for (const cJSON *e = list->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > INT32_MAX - 1 ||
            e->valuedouble != (double)(int32_t)e->valuedouble)
            return tok_fail(STATUS_FORMAT, file, "%s.special_tokens[\"%s\"].ids: must be token ids", field, name);
        if (*n == cap)
            return tok_fail(STATUS_UNSUPPORTED, file, "%s.special_tokens[\"%s\"]: too many ids", field, name);
        ids[(*n)++] = (int32_t)e->valuedouble;
    }
    return STATUS_OK;
}

/* TemplateProcessing: the "single" template split around its one $A. */
static enum status post_parse_template(struct tok_post *p, const cJSON *node, const char *file, const char *field) {
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(node, "single");
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(node, "special_tokens");
    if (!cJSON_IsArray(single)) return tok_fail(STATUS_FORMAT, file, "%s.single: must be an array", field);
    if (!cJSON_IsObject(specials)) return tok_fail(STATUS_FORMAT, file, "%s.special_tokens: must be an object", field);
    int32_t *pre = NULL, *post = NULL;
    size_t n_pre = 0, n_post = 0;
    int seen_a = 0, index = 0;
    enum status st = STATUS_OK;
    for (const cJSON *piece = single->child; piece && st == STATUS_OK; piece = piece->next, index++) {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(piece, "Sequence");
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(piece, "SpecialToken");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(seq ? seq : sp, "id");
        if ((!seq && !sp) || !cJSON_IsString(id)) {
            st = tok_fail(STATUS_FORMAT, file,
                          "%s.single[%d]: expected {\"Sequence\": {...}} or {\"SpecialToken\": {...}}", field, index);
        } else if (seq) {
            if (strcmp(id->valuestring, "A") != 0 || seen_a++)
                st = tok_fail(STATUS_UNSUPPORTED, file,
                              "%s.single[%d]: the single template must contain $A exactly once (found $%s)", field,
                              index, id->valuestring);
        } else {
            int32_t ids[64];
            size_t n = 0;
            st = post_special_ids(specials, id->valuestring, file, field, ids, 64, &n);
            if (st == STATUS_OK)
                st = seen_a ? post_append(&post, &n_post, ids, n, false) : post_append(&pre, &n_pre, ids, n, false);
        }
    }
    if (st == STATUS_OK && !seen_a)
        st = tok_fail(STATUS_UNSUPPORTED, file, "%s.single: the single template has no $A", field);
    /* Processors of a Sequence wrap one another: this template goes outside what came before. */
    if (st == STATUS_OK) st = post_append(&p->prefix, &p->n_prefix, pre, n_pre, true);
    if (st == STATUS_OK) st = post_append(&p->suffix, &p->n_suffix, post, n_post, false);
    free(pre);
    free(post);
    return st;
}

static enum status post_parse(struct tok_post *p, const cJSON *node, const char *file, const char *field) {
    if (!node || cJSON_IsNull(node)) return STATUS_OK;
    if (!cJSON_IsObject(node)) return tok_fail(STATUS_FORMAT, file, "%s: must be an object or null", field);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(node, "type");
    if (!cJSON_IsString(type)) return tok_fail(STATUS_FORMAT, file, "%s.type: missing or not a string", field);
    if (strcmp(type->valuestring, "ByteLevel") == 0) return STATUS_OK; /* only trims offsets */
    if (strcmp(type->valuestring, "TemplateProcessing") == 0) return post_parse_template(p, node, file, field);
    if (strcmp(type->valuestring, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(node, "processors");
        if (!cJSON_IsArray(list)) return tok_fail(STATUS_FORMAT, file, "%s.processors: must be an array", field);
        int i = 0;
        for (const cJSON *c = list->child; c; c = c->next, i++) {
            char sub[300];
            snprintf(sub, sizeof sub, "%s.processors[%d]", field, i);
            if (cJSON_IsNull(c)) return tok_fail(STATUS_FORMAT, file, "%s: must be an object", sub);
            TRY(post_parse(p, c, file, sub));
        }
        return STATUS_OK;
    }
    return tok_fail(STATUS_UNSUPPORTED, file,
                    "%s.type \"%s\" is not supported (r1lab reads ByteLevel, TemplateProcessing and Sequence)", field,
                    type->valuestring);
}

static enum status post_check_ids(const struct tok_post *p, const struct tokenizer *tok) {
    for (size_t i = 0; i < p->n_prefix + p->n_suffix; i++) {
        int32_t id = i < p->n_prefix ? p->prefix[i] : p->suffix[i - p->n_prefix];
        if (id >= tok->n_ids || !tok->id_str[id])
            return tok_fail(STATUS_FORMAT, tok->path, "post_processor: template id %d is not in the vocabulary", id);
    }
    return STATUS_OK;
}

/* ---- loading ------------------------------------------------------------------------------------------ */

static enum status tokenizer_check_top(const cJSON *root, const char *file) {
    if (!cJSON_IsObject(root)) return tok_fail(STATUS_FORMAT, file, "the top level must be a JSON object");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (version && !(cJSON_IsString(version) && strcmp(version->valuestring, "1.0") == 0))
        return tok_fail(STATUS_UNSUPPORTED, file, "version: only \"1.0\" is supported");
    static const char *const must_be_null[] = {"truncation", "padding"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, must_be_null[i]);
        if (v && !cJSON_IsNull(v))
            return tok_fail(STATUS_UNSUPPORTED, file,
                            "%s: only null is supported (r1lab truncates and pads itself, not through the tokenizer)",
                            must_be_null[i]);
    }
    return STATUS_OK;
}

static enum status tokenizer_parse(struct tokenizer *tok, const cJSON *root) {
    const char *file = tok->path;
    TRY(tokenizer_check_top(root, file));
    TRY(tok_bpe_parse(&tok->bpe, cJSON_GetObjectItemCaseSensitive(root, "model"), file));
    TRY(tok_norm_parse(&tok->norm, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), file, "normalizer"));
    TRY(tok_pretok_parse(&tok->pre, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), file));
    TRY(tok_added_parse(&tok->added, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), &tok->bpe, &tok->norm,
                        file));
    TRY(post_parse(&tok->post, cJSON_GetObjectItemCaseSensitive(root, "post_processor"), file, "post_processor"));
    TRY(tok_decoder_parse(cJSON_GetObjectItemCaseSensitive(root, "decoder"), file));

    tok->n_ids = tok->bpe.n_ids;
    for (size_t i = 0; i < tok->added.n; i++)
        if (tok->added.tokens[i].id >= tok->n_ids) tok->n_ids = tok->added.tokens[i].id + 1;
    /* As for the vocabulary (tokenizer_bpe.c): tables are indexed by id, so a stray huge id is refused. */
    if (tok->n_ids > tok->bpe.n_ids && (int64_t)tok->n_ids >= 2 * ((int64_t)tok->bpe.n_ids + (int64_t)tok->added.n) + 1024)
        return err_set(STATUS_FORMAT, "%s: added_tokens: an id of %d is far beyond the vocabulary's %d ids", file,
                       tok->n_ids - 1, tok->bpe.n_ids);
    tok->id_str = calloc((size_t)tok->n_ids, sizeof *tok->id_str);
    if (!tok->id_str) return err_set(STATUS_NOMEM, "%s: out of memory", file);
    for (int32_t id = 0; id < tok->bpe.n_ids; id++) tok->id_str[id] = tok_bpe_str(&tok->bpe, id);
    for (size_t i = 0; i < tok->added.n; i++) tok->id_str[tok->added.tokens[i].id] = tok->added.tokens[i].content;
    TRY(post_check_ids(&tok->post, tok));
    return tok_decoder_build(&tok->dec, &tok->bpe, &tok->added, tok->n_ids);
}

enum status tokenizer_load(struct tokenizer **out, const char *path) {
    *out = NULL;
    char file[PATH_MAX];
    if (fs_is_dir(path)) {
        TRY(fs_join(file, sizeof file, path, "tokenizer.json"));
        if (!fs_exists(file)) {
            err_set(STATUS_IO, "%s: no tokenizer.json in this directory", path);
            err_hint("pass a checkpoint directory that holds a tokenizer.json, or the file itself");
            return STATUS_IO;
        }
    } else {
        if (strlen(path) >= sizeof file) return err_set(STATUS_INVALID, "%s: path too long", path);
        strcpy(file, path);
    }
    cJSON *root;
    TRY(json_parse_file(file, TOKENIZER_MAX_FILE, &root));
    struct tokenizer *tok = calloc(1, sizeof *tok);
    if (tok) tok->path = strdup(file);
    if (!tok || !tok->path) {
        free(tok);
        cJSON_Delete(root);
        return err_set(STATUS_NOMEM, "%s: out of memory", file);
    }
    enum status st = tokenizer_parse(tok, root);
    cJSON_Delete(root);
    if (st != STATUS_OK) {
        tokenizer_free(tok);
        return st;
    }
    *out = tok;
    return STATUS_OK;
}

void tokenizer_free(struct tokenizer *tok) {
    if (!tok) return;
    tok_pretok_free(&tok->pre);
    tok_bpe_free(&tok->bpe);
    tok_added_free(&tok->added);
    tok_decoder_free(&tok->dec);
    free(tok->post.prefix);
    free(tok->post.suffix);
    free(tok->id_str);
    free(tok->path);
    free(tok);
}

/* ---- encoding ----------------------------------------------------------------------------------------- */

/* Pre-tokenizes and BPE-encodes one span of normalised text that holds no added token. */
/* Where pre-tokenized pieces go: BPE into ids (encoding), or a callback with the raw bytes (BPE training). */
struct piece_sink {
    tokenizer_piece_fn fn;
    void *user;
};

static enum status encode_plain(const struct tokenizer *tok, const char *s, size_t len, struct tok_scratch *sc,
                                struct token_buf *out, const struct piece_sink *sink) {
    TRY(tok_pretok_run(&tok->pre, s, len, sc));
    for (size_t i = 0; i < sc->pieces.n; i++) {
        const char *piece = sc->work.p + sc->pieces.v[i].off;
        if (sink) TRY(sink->fn(sink->user, piece, sc->pieces.v[i].len));
        else TRY(tok_bpe_encode(&tok->bpe, piece, sc->pieces.v[i].len, sc, out));
    }
    return STATUS_OK;
}

/* One span of raw text left by the first added-token pass: normalise it, then cut out normalised tokens. */
static enum status encode_span(const struct tokenizer *tok, const char *s, size_t len, struct tok_scratch *sc,
                               struct token_buf *out, const struct piece_sink *sink) {
    const char *text = s;
    if (tok->norm.n > 0) {
        TRY(tok_norm_apply(&tok->norm, s, len, &sc->norm));
        text = sc->norm.p;
        len = sc->norm.n;
    }
    sc->added2.n = 0;
    TRY(tok_added_split(&tok->added, &tok->added.norm, text, len, &sc->added2));
    for (size_t i = 0; i < sc->added2.n; i++) {
        struct tok_span sp = sc->added2.v[i];
        if (sp.token < 0)
            TRY(encode_plain(tok, text + sp.off, sp.len, sc, out, sink));
        else if (!sink)
            TRY(token_buf_push(out, tok->added.tokens[sp.token].id));
    }
    return STATUS_OK;
}

static enum status encode_text(const struct tokenizer *tok, const char *text, size_t len, bool add_special_tokens,
                               struct tok_scratch *sc, struct token_buf *out, const struct piece_sink *sink) {
    if (add_special_tokens)
        for (size_t i = 0; i < tok->post.n_prefix; i++) TRY(token_buf_push(out, tok->post.prefix[i]));
    TRY(tok_added_split(&tok->added, &tok->added.raw, text, len, &sc->added1));
    for (size_t i = 0; i < sc->added1.n; i++) {
        struct tok_span sp = sc->added1.v[i];
        if (sp.token < 0)
            TRY(encode_span(tok, text + sp.off, sp.len, sc, out, sink));
        else if (!sink)
            TRY(token_buf_push(out, tok->added.tokens[sp.token].id));
    }
    if (add_special_tokens)
        for (size_t i = 0; i < tok->post.n_suffix; i++) TRY(token_buf_push(out, tok->post.suffix[i]));
    return STATUS_OK;
}

enum status tokenizer_encode(const struct tokenizer *tok, const char *text, size_t len, bool add_special_tokens,
                             struct token_buf *out) {
    size_t bad;
    if (!utf8_valid(text, len, &bad))
        return err_set(STATUS_INVALID, "text to tokenize is not valid UTF-8 (byte %zu)", bad);
    if (len > UINT32_MAX / 2) return err_set(STATUS_INVALID, "text of %zu bytes is too long to tokenize at once", len);
    size_t n0 = out->n;
    struct tok_scratch sc = {0};
    enum status st = encode_text(tok, text, len, add_special_tokens, &sc, out, NULL);
    tok_scratch_free(&sc);
    if (st != STATUS_OK) out->n = n0; /* nothing half-appended */
    return st;
}

enum status tokenizer_pretokenize(const struct tokenizer *tok, const char *text, size_t len, tokenizer_piece_fn fn,
                                  void *user) {
    size_t bad;
    if (!utf8_valid(text, len, &bad))
        return err_set(STATUS_INVALID, "text to tokenize is not valid UTF-8 (byte %zu)", bad);
    if (len > UINT32_MAX / 2) return err_set(STATUS_INVALID, "text of %zu bytes is too long to tokenize at once", len);
    struct tok_scratch sc = {0};
    struct piece_sink sink = {fn, user};
    enum status st = encode_text(tok, text, len, false, &sc, NULL, &sink);
    tok_scratch_free(&sc);
    return st;
}

size_t tokenizer_byte_standin(uint8_t byte, char out[4]) { return utf8_encode(tok_byte_char(byte), out); }

/* ---- lookups ------------------------------------------------------------------------------------------ */

size_t tokenizer_vocab_size(const struct tokenizer *tok) {
    return (size_t)tok->n_ids;
}

int32_t tokenizer_token_id(const struct tokenizer *tok, const char *token) {
    size_t len = strlen(token);
    int32_t id = tok_strmap_get(&tok->added.by_content, token, len);
    return id >= 0 ? id : tok_strmap_get(&tok->bpe.vocab, token, len);
}

const char *tokenizer_token_str(const struct tokenizer *tok, int32_t id) {
    return id >= 0 && id < tok->n_ids ? tok->id_str[id] : NULL;
}

bool tokenizer_is_special(const struct tokenizer *tok, int32_t id) {
    return id >= 0 && id < tok->n_ids && (tok->dec.flags[id] & TOK_ID_SPECIAL);
}

const char *tokenizer_path(const struct tokenizer *tok) {
    return tok->path;
}
