/* tokenizer_bpe: the BPE model of tokenizer.json — vocabulary, merges, and the merge loop — plus GPT-2's
 * byte <-> printable character table that byte-level BPE spells its tokens with.
 *
 * A piece arrives as raw bytes. Its initial symbols are the vocabulary ids of each byte's stand-in
 * character (byte_id), so no byte-level string is built except for the ignore_merges lookup. Merging follows
 * tokenizers' Word::merge_all exactly: a min-heap of candidate merges ordered by (rank, position), stale
 * entries recognised by re-checking the pair, symbols kept in a linked list so a merge is O(log n), not a
 * string rebuild. Bytes whose stand-in is missing from the vocabulary become unk_token when there is one
 * and are dropped otherwise, as tokenizers does. Only deterministic BPE is read: dropout null (or 0),
 * byte_fallback false, no continuing_subword_prefix / end_of_word_suffix. */
#include "engine/tokenizer/tokenizer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/json.h"
#include "engine/util/utf8.h"

/* bytes_to_unicode from GPT-2's encoder.py: printable Latin-1 bytes stand for themselves, the other 68
 * bytes take the code points from U+0100 upwards in byte order. */
uint32_t tok_byte_char(uint8_t byte) {
    if ((byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE) return byte;
    uint32_t n = 0; /* how many non-printable bytes come before this one */
    for (unsigned b = 0; b < byte; b++)
        if (!((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE)) n++;
    return 0x100 + n;
}

int tok_char_byte(uint32_t cp) {
    if (cp < 0x100) return tok_byte_char((uint8_t)cp) == cp ? (int)cp : -1;
    if (cp >= 0x100 + 68) return -1;
    for (unsigned b = 0; b < 256; b++) /* load time only: no table needed */
        if (tok_byte_char((uint8_t)b) == cp) return (int)b;
    return -1;
}

const char *tok_bpe_str(const struct tok_bpe *b, int32_t id) {
    if (id < 0 || id >= b->n_ids || b->str_off[id] == UINT32_MAX) return NULL;
    return b->arena + b->str_off[id];
}

static enum status bpe_parse_options(struct tok_bpe *b, const cJSON *node, const char *file, const char *where) {
    const char *type;
    TRY(json_get_string(node, "type", false, "BPE", &type, where));
    if (strcmp(type, "BPE") != 0)
        return tok_fail(STATUS_UNSUPPORTED, file, "model.type \"%s\" is not supported (r1lab reads byte-level BPE)",
                        type);
    double dropout;
    TRY(json_get_double(node, "dropout", false, 0.0, &dropout, where));
    if (dropout != 0.0)
        return tok_fail(STATUS_UNSUPPORTED, file, "model.dropout %g is not supported (only null: deterministic BPE)",
                        dropout);
    bool byte_fallback;
    TRY(json_get_bool(node, "byte_fallback", false, false, &byte_fallback, where));
    if (byte_fallback)
        return tok_fail(STATUS_UNSUPPORTED, file,
                        "model.byte_fallback true is not supported (r1lab reads byte-level BPE)");
    const char *affix;
    TRY(json_get_string(node, "continuing_subword_prefix", false, "", &affix, where));
    if (affix[0])
        return tok_fail(STATUS_UNSUPPORTED, file, "model.continuing_subword_prefix \"%s\" is not supported", affix);
    TRY(json_get_string(node, "end_of_word_suffix", false, "", &affix, where));
    if (affix[0]) return tok_fail(STATUS_UNSUPPORTED, file, "model.end_of_word_suffix \"%s\" is not supported", affix);
    TRY(json_get_bool(node, "ignore_merges", false, false, &b->ignore_merges, where));
    TRY(json_get_bool(node, "fuse_unk", false, false, &b->fuse_unk, where));
    return STATUS_OK;
}

static enum status bpe_parse_vocab(struct tok_bpe *b, const cJSON *vocab, const char *file) {
    if (!vocab) return tok_fail(STATUS_FORMAT, file, "model.vocab: missing");
    if (!cJSON_IsObject(vocab)) return tok_fail(STATUS_FORMAT, file, "model.vocab: must be an object {token: id}");
    size_t bytes = 0, n = 0;
    int64_t max_id = -1;
    for (const cJSON *e = vocab->child; e; e = e->next, n++) {
        double d = e->valuedouble;
        if (!cJSON_IsNumber(e) || !(d >= 0 && d <= INT32_MAX - 1) || d != (double)(int32_t)d)
            return tok_fail(STATUS_FORMAT, file, "model.vocab[\"%.100s\"]: the id must be an integer in [0, %d]",
                            e->string, INT32_MAX - 1);
        if ((int64_t)d > max_id) max_id = (int64_t)d;
        bytes += strlen(e->string) + 1;
    }
    if (n == 0) return tok_fail(STATUS_FORMAT, file, "model.vocab: empty");
    if (bytes >= UINT32_MAX) return tok_fail(STATUS_FORMAT, file, "model.vocab: too large");
    /* The id table is indexed by id: a vocabulary's ids are 0..n-1 with few holes, so one stray huge id is a broken
     * file, not a reason to allocate gigabytes. */
    if (max_id >= 2 * (int64_t)n + 1024)
        return tok_fail(STATUS_FORMAT, file, "model.vocab: ids run up to %lld for %zu tokens (ids are 0..n-1 with few gaps)",
                        (long long)max_id, n);
    b->n_ids = (int32_t)(max_id + 1);
    b->n_entries = n;
    b->arena = malloc(bytes);
    b->str_off = malloc((size_t)b->n_ids * sizeof *b->str_off);
    if (!b->arena || !b->str_off) return err_set(STATUS_NOMEM, "%s: model.vocab: out of memory", file);
    memset(b->str_off, 0xFF, (size_t)b->n_ids * sizeof *b->str_off);
    TRY(tok_strmap_init(&b->vocab, n));
    size_t at = 0;
    for (const cJSON *e = vocab->child; e; e = e->next) {
        int32_t id = (int32_t)e->valuedouble;
        size_t len = strlen(e->string);
        if (b->str_off[id] != UINT32_MAX)
            return tok_fail(STATUS_FORMAT, file, "model.vocab: id %d is given to both \"%.100s\" and \"%.100s\"", id,
                            b->arena + b->str_off[id], e->string);
        memcpy(b->arena + at, e->string, len + 1);
        int32_t old;
        TRY(tok_strmap_put(&b->vocab, b->arena + at, len, id, &old));
        if (old >= 0) return tok_fail(STATUS_FORMAT, file, "model.vocab: \"%.100s\" appears twice", e->string);
        b->str_off[id] = (uint32_t)at;
        at += len + 1;
    }
    return STATUS_OK;
}

/* The two halves of merges[index], either "a b" (the legacy spelling) or ["a", "b"]. *skip is set for the
 * "#version" header line that legacy merges files may carry. */
static enum status bpe_merge_parts(const cJSON *m, const char *file, int index, char *buf, size_t cap,
                                   const char **left, const char **right, bool *skip) {
    *skip = false;
    if (cJSON_IsString(m)) {
        const char *s = m->valuestring;
        if (strncmp(s, "#version", 8) == 0) {
            *skip = true;
            return STATUS_OK;
        }
        const char *sp = strchr(s, ' ');
        size_t len = strlen(s);
        if (!sp || strchr(sp + 1, ' ') || len + 1 > cap)
            return tok_fail(STATUS_FORMAT, file, "model.merges[%d]: \"%.100s\" is not of the form \"left right\"",
                            index, s);
        memcpy(buf, s, len + 1);
        buf[sp - s] = '\0';
        *left = buf;
        *right = buf + (sp - s) + 1;
        return STATUS_OK;
    }
    if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) && cJSON_IsString(m->child->next)) {
        *left = m->child->valuestring;
        *right = m->child->next->valuestring;
        return STATUS_OK;
    }
    return tok_fail(STATUS_FORMAT, file, "model.merges[%d]: expected \"left right\" or [\"left\", \"right\"]", index);
}

static enum status bpe_parse_merges(struct tok_bpe *b, const cJSON *merges, const char *file) {
    if (!merges) return tok_fail(STATUS_FORMAT, file, "model.merges: missing");
    if (!cJSON_IsArray(merges)) return tok_fail(STATUS_FORMAT, file, "model.merges: must be an array");
    TRY(tok_pairmap_init(&b->merges, (size_t)cJSON_GetArraySize(merges)));
    struct tok_str joined = {0};
    char buf[1024];
    uint32_t rank = 0;
    int index = 0;
    enum status st = STATUS_OK;
    for (const cJSON *m = merges->child; m && st == STATUS_OK; m = m->next, index++) {
        const char *left = NULL, *right = NULL;
        bool skip;
        st = bpe_merge_parts(m, file, index, buf, sizeof buf, &left, &right, &skip);
        if (st != STATUS_OK || skip) continue;
        int32_t a = tok_strmap_get(&b->vocab, left, strlen(left));
        int32_t c = tok_strmap_get(&b->vocab, right, strlen(right));
        joined.n = 0;
        st = tok_str_append(&joined, left, strlen(left));
        if (st == STATUS_OK) st = tok_str_append(&joined, right, strlen(right));
        if (st != STATUS_OK) break;
        int32_t merged = tok_strmap_get(&b->vocab, joined.p, joined.n);
        const char *missing = a < 0 ? left : c < 0 ? right : merged < 0 ? joined.p : NULL;
        if (missing) {
            st = tok_fail(STATUS_FORMAT, file, "model.merges[%d]: \"%.100s\" is not in model.vocab", index, missing);
            break;
        }
        tok_pairmap_set(&b->merges, a, c, rank++, merged);
    }
    tok_str_free(&joined);
    return st;
}

enum status tok_bpe_parse(struct tok_bpe *b, const cJSON *node, const char *file) {
    memset(b, 0, sizeof *b);
    b->unk_id = -1;
    if (!node || cJSON_IsNull(node)) return tok_fail(STATUS_FORMAT, file, "model: missing");
    if (!cJSON_IsObject(node)) return tok_fail(STATUS_FORMAT, file, "model: must be an object");
    char where[512];
    snprintf(where, sizeof where, "%s: model", file);
    TRY(bpe_parse_options(b, node, file, where));
    TRY(bpe_parse_vocab(b, cJSON_GetObjectItemCaseSensitive(node, "vocab"), file));
    TRY(bpe_parse_merges(b, cJSON_GetObjectItemCaseSensitive(node, "merges"), file));
    const char *unk;
    TRY(json_get_string(node, "unk_token", false, NULL, &unk, where));
    if (unk) {
        b->unk_id = tok_strmap_get(&b->vocab, unk, strlen(unk));
        if (b->unk_id < 0)
            return tok_fail(STATUS_FORMAT, file, "model.unk_token \"%.100s\" is not in model.vocab", unk);
    }
    for (unsigned byte = 0; byte < 256; byte++) {
        b->standin_len[byte] = (uint8_t)utf8_encode(tok_byte_char((uint8_t)byte), b->standin[byte]);
        b->byte_id[byte] = tok_strmap_get(&b->vocab, b->standin[byte], b->standin_len[byte]);
    }
    return STATUS_OK;
}

void tok_bpe_free(struct tok_bpe *b) {
    free(b->arena);
    free(b->str_off);
    tok_strmap_free(&b->vocab);
    tok_pairmap_free(&b->merges);
    memset(b, 0, sizeof *b);
}

/* ---- encoding ----------------------------------------------------------------------------------------- */

static bool heap_less(struct tok_bpe_merge a, struct tok_bpe_merge b) {
    return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos);
}

static void heap_push(struct tok_bpe_merge *h, size_t *n, struct tok_bpe_merge m) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_less(m, h[parent])) break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = m;
}

static struct tok_bpe_merge heap_pop(struct tok_bpe_merge *h, size_t *n) {
    struct tok_bpe_merge top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && heap_less(h[c + 1], h[c])) c++;
        if (!heap_less(h[c], last)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

static enum status bpe_push_symbol(struct tok_scratch *sc, size_t *n, int32_t id, uint32_t len) {
    void *p = sc->sym;
    enum status st = tok_grow(&p, &sc->cap_sym, *n + 1, sizeof *sc->sym);
    sc->sym = p;
    if (st != STATUS_OK) return st;
    sc->sym[*n] = (struct tok_bpe_symbol){id, (int32_t)*n - 1, (int32_t)*n + 1, len};
    (*n)++;
    return STATUS_OK;
}

/* The initial symbols: one per byte (its stand-in character), unknown bytes as unk_token or dropped. */
static enum status bpe_symbols(const struct tok_bpe *b, const uint8_t *s, size_t len, struct tok_scratch *sc,
                               size_t *n_sym) {
    size_t n = 0;
    int32_t unk_len = 0; /* pending unk symbol, kept back so that consecutive ones can be fused */
    for (size_t i = 0; i < len; i++) {
        int32_t id = b->byte_id[s[i]];
        if (id >= 0) {
            if (unk_len) TRY(bpe_push_symbol(sc, &n, b->unk_id, (uint32_t)unk_len));
            unk_len = 0;
            TRY(bpe_push_symbol(sc, &n, id, 1));
        } else if (b->unk_id >= 0) {
            if (unk_len && !b->fuse_unk) {
                TRY(bpe_push_symbol(sc, &n, b->unk_id, (uint32_t)unk_len));
                unk_len = 0;
            }
            unk_len++;
        }
    }
    if (unk_len) TRY(bpe_push_symbol(sc, &n, b->unk_id, (uint32_t)unk_len));
    if (n > 0) sc->sym[n - 1].next = -1;
    *n_sym = n;
    return STATUS_OK;
}

enum status tok_bpe_encode(const struct tok_bpe *b, const char *piece, size_t len, struct tok_scratch *sc,
                           struct token_buf *out) {
    const uint8_t *s = (const uint8_t *)piece;
    if (len == 0) return STATUS_OK;
    if (b->ignore_merges) {
        /* A piece that is itself a vocabulary entry is emitted whole (tokenizers' ignore_merges). */
        sc->standin.n = 0;
        TRY(tok_str_reserve(&sc->standin, 2 * len));
        char *w = sc->standin.p;
        for (size_t i = 0; i < len; i++) {
            w[0] = b->standin[s[i]][0];
            w[1] = b->standin[s[i]][1];
            w += b->standin_len[s[i]];
        }
        sc->standin.n = (size_t)(w - sc->standin.p);
        int32_t id = tok_strmap_get(&b->vocab, sc->standin.p, sc->standin.n);
        if (id >= 0) return token_buf_push(out, id);
    }
    if (len == 1 && b->byte_id[s[0]] >= 0) return token_buf_push(out, b->byte_id[s[0]]);
    size_t n;
    TRY(bpe_symbols(b, s, len, sc, &n));
    if (n == 0) return STATUS_OK;
    void *p = sc->heap;
    /* Each merge pushes at most two entries, and there are at most n-1 merges. */
    TRY(tok_grow(&p, &sc->cap_heap, 3 * n, sizeof *sc->heap));
    sc->heap = p;
    struct tok_bpe_symbol *sym = sc->sym;
    size_t nh = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        const struct tok_pair_slot *m = tok_pairmap_get(&b->merges, sym[i].id, sym[i + 1].id);
        if (m) heap_push(sc->heap, &nh, (struct tok_bpe_merge){m->rank, (uint32_t)i, m->merged});
    }
    while (nh > 0) {
        struct tok_bpe_merge top = heap_pop(sc->heap, &nh);
        struct tok_bpe_symbol *cur = &sym[top.pos];
        if (cur->len == 0 || cur->next < 0) continue;
        struct tok_bpe_symbol right = sym[cur->next];
        const struct tok_pair_slot *m = tok_pairmap_get(&b->merges, cur->id, right.id);
        if (!m || m->merged != top.merged) continue; /* a stale entry: the pair changed since it was queued */
        sym[cur->next].len = 0;
        cur->id = top.merged;
        cur->len += right.len;
        cur->next = right.next;
        if (right.next >= 0) sym[right.next].prev = (int32_t)top.pos;
        if (cur->prev >= 0) {
            m = tok_pairmap_get(&b->merges, sym[cur->prev].id, cur->id);
            if (m) heap_push(sc->heap, &nh, (struct tok_bpe_merge){m->rank, (uint32_t)cur->prev, m->merged});
        }
        if (cur->next >= 0) {
            m = tok_pairmap_get(&b->merges, cur->id, sym[cur->next].id);
            if (m) heap_push(sc->heap, &nh, (struct tok_bpe_merge){m->rank, top.pos, m->merged});
        }
    }
    for (size_t i = 0; i < n; i++)
        if (sym[i].len) TRY(token_buf_push(out, sym[i].id));
    return STATUS_OK;
}
