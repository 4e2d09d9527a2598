/* tokenizer_map: the tokenizer's containers — an open-addressing string -> id map (vocabulary, added token
 * contents), an (id, id) -> merge map (BPE merges), growable byte and span buffers, and the error helper
 * that prefixes the file name.
 *
 * Both maps use linear probing at most half full; they are built once at load time and only read during
 * encoding, so lookups need no locking. Keys of the string map are not copied: they point into an arena
 * that outlives the map. */
#include "engine/tokenizer/tokenizer_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: short keys (tokens are a few bytes), so a byte-at-a-time hash is as fast as anything fancier. */
static uint64_t map_hash_bytes(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static size_t map_capacity_for(size_t expected) {
    size_t cap = 16;
    while (cap < expected * 2 + 2) cap *= 2;
    return cap;
}

enum status tok_strmap_init(struct tok_strmap *m, size_t expected) {
    m->n = 0;
    m->cap = map_capacity_for(expected);
    m->slots = calloc(m->cap, sizeof *m->slots);
    if (!m->slots) return err_set(STATUS_NOMEM, "tokenizer: cannot allocate a map of %zu entries", m->cap);
    return STATUS_OK;
}

void tok_strmap_free(struct tok_strmap *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static struct tok_strmap_slot *strmap_find(const struct tok_strmap *m, const char *key, size_t len) {
    size_t mask = m->cap - 1;
    for (size_t i = map_hash_bytes(key, len) & mask;; i = (i + 1) & mask) {
        struct tok_strmap_slot *s = &m->slots[i];
        if (!s->key || (s->len == len && memcmp(s->key, key, len) == 0)) return s;
    }
}

static enum status strmap_grow(struct tok_strmap *m) {
    struct tok_strmap bigger;
    TRY(tok_strmap_init(&bigger, m->cap)); /* room for twice the current capacity */
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key) continue;
        *strmap_find(&bigger, m->slots[i].key, m->slots[i].len) = m->slots[i];
        bigger.n++;
    }
    free(m->slots);
    *m = bigger;
    return STATUS_OK;
}

enum status tok_strmap_put(struct tok_strmap *m, const char *key, size_t len, int32_t id, int32_t *existing) {
    ASSERT(len <= UINT32_MAX);
    if ((m->n + 1) * 2 > m->cap) TRY(strmap_grow(m));
    struct tok_strmap_slot *s = strmap_find(m, key, len);
    if (s->key) {
        *existing = s->id;
        return STATUS_OK;
    }
    *existing = -1;
    *s = (struct tok_strmap_slot){key, (uint32_t)len, id};
    m->n++;
    return STATUS_OK;
}

enum status tok_strmap_set(struct tok_strmap *m, const char *key, size_t len, int32_t id) {
    int32_t old;
    TRY(tok_strmap_put(m, key, len, id, &old));
    if (old >= 0) strmap_find(m, key, len)->id = id;
    return STATUS_OK;
}

int32_t tok_strmap_get(const struct tok_strmap *m, const char *key, size_t len) {
    if (!m->slots) return -1;
    const struct tok_strmap_slot *s = strmap_find(m, key, len);
    return s->key ? s->id : -1;
}

enum status tok_pairmap_init(struct tok_pairmap *m, size_t expected) {
    m->n = 0;
    m->cap = map_capacity_for(expected);
    unsigned log2 = 0;
    while (((size_t)1 << log2) < m->cap) log2++;
    m->shift = 64 - log2;
    m->slots = malloc(m->cap * sizeof *m->slots);
    if (!m->slots) return err_set(STATUS_NOMEM, "tokenizer: cannot allocate a merge map of %zu entries", m->cap);
    for (size_t i = 0; i < m->cap; i++) m->slots[i].key = TOK_PAIR_EMPTY;
    return STATUS_OK;
}

void tok_pairmap_free(struct tok_pairmap *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static size_t pairmap_index(const struct tok_pairmap *m, uint64_t key) {
    size_t mask = m->cap - 1;
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ULL) >> m->shift);
    while (m->slots[i].key != TOK_PAIR_EMPTY && m->slots[i].key != key) i = (i + 1) & mask;
    return i;
}

void tok_pairmap_set(struct tok_pairmap *m, int32_t left, int32_t right, uint32_t rank, int32_t merged) {
    /* Sized up front by the caller for the number of merges; ids are non-negative so no key equals EMPTY. */
    ASSERT(left >= 0 && right >= 0 && (m->n + 1) * 2 <= m->cap);
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    struct tok_pair_slot *s = &m->slots[pairmap_index(m, key)];
    if (s->key == TOK_PAIR_EMPTY) m->n++;
    *s = (struct tok_pair_slot){key, rank, merged};
}

const struct tok_pair_slot *tok_pairmap_get(const struct tok_pairmap *m, int32_t left, int32_t right) {
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    const struct tok_pair_slot *s = &m->slots[pairmap_index(m, key)];
    return s->key == key ? s : NULL;
}

enum status tok_grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return STATUS_OK;
    size_t n = *cap ? *cap : 16;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q) return err_set(STATUS_NOMEM, "tokenizer: cannot allocate %zu bytes", n * elem);
    *p = q;
    *cap = n;
    return STATUS_OK;
}

enum status tok_str_reserve(struct tok_str *s, size_t extra) {
    void *p = s->p;
    enum status st = tok_grow(&p, &s->cap, s->n + extra + 1, 1); /* +1: room for a terminating NUL */
    s->p = p;
    return st;
}

enum status tok_str_append(struct tok_str *s, const void *data, size_t len) {
    TRY(tok_str_reserve(s, len));
    if (len) memcpy(s->p + s->n, data, len);
    s->n += len;
    s->p[s->n] = '\0';
    return STATUS_OK;
}

void tok_str_free(struct tok_str *s) {
    free(s->p);
    memset(s, 0, sizeof *s);
}

enum status tok_spans_push(struct tok_spans *s, uint32_t off, uint32_t len, int32_t token) {
    void *p = s->v;
    enum status st = tok_grow(&p, &s->cap, s->n + 1, sizeof *s->v);
    s->v = p;
    if (st != STATUS_OK) return st;
    s->v[s->n++] = (struct tok_span){off, len, token};
    return STATUS_OK;
}

enum status tok_fail(enum status st, const char *file, const char *fmt, ...) {
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(st, "%s: %s", file, msg);
}

void tok_scratch_free(struct tok_scratch *sc) {
    free(sc->added1.v);
    free(sc->added2.v);
    tok_str_free(&sc->norm);
    tok_str_free(&sc->work);
    free(sc->pieces.v);
    free(sc->pieces2.v);
    free(sc->matches);
    free(sc->splits);
    tok_str_free(&sc->standin);
    free(sc->sym);
    free(sc->heap);
    pcre2_match_data_free(sc->md);
    pcre2_match_context_free(sc->mctx);
    pcre2_jit_stack_free(sc->jit_stack);
    memset(sc, 0, sizeof *sc);
}
