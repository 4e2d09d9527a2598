/* tokenizer_added: added tokens (special tokens like <|im_start|>, and extra tokens like <think>) — reading
 * them from tokenizer.json, giving them ids, and finding them in text.
 *
 * Follows tokenizers' AddedVocabulary: ids are assigned as add_tokens assigns them when a tokenizer.json is
 * deserialised (the id written in the file is only checked, with a warning, as tokenizers does); tokens with
 * normalized=false are searched for in the raw text, tokens with normalized=true in the normalised text, by
 * their normalised spelling; matching is leftmost-longest and non-overlapping (tokenizers uses a daachorse
 * Aho-Corasick automaton; a byte trie walked from each position gives the same matches for the few hundred
 * tokens a tokenizer has); single_word, lstrip and rstrip are applied to each match exactly as in
 * AddedVocabulary::find_matches, including its quirks (a match skipped by single_word still consumes its
 * text). */
#include "engine/tokenizer/tokenizer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/json.h"
#include "engine/util/log.h"
#include "engine/util/utf8.h"

static enum status trie_add_node(struct tok_trie *t, uint8_t byte, int32_t *index) {
    void *p = t->nodes;
    enum status st = tok_grow(&p, &t->cap, t->n + 1, sizeof *t->nodes);
    t->nodes = p;
    if (st != STATUS_OK) return st;
    t->nodes[t->n] = (struct tok_trie_node){-1, -1, -1, byte};
    *index = (int32_t)t->n++;
    return STATUS_OK;
}

static enum status trie_init(struct tok_trie *t) {
    memset(t, 0, sizeof *t);
    for (int i = 0; i < 256; i++) t->first[i] = -1;
    int32_t root;
    return trie_add_node(t, 0, &root);
}

static void trie_free(struct tok_trie *t) {
    free(t->nodes);
    memset(t, 0, sizeof *t);
}

static int32_t trie_child(const struct tok_trie *t, int32_t node, uint8_t byte) {
    for (int32_t c = t->nodes[node].child; c >= 0; c = t->nodes[c].sibling)
        if (t->nodes[c].byte == byte) return c;
    return -1;
}

/* Adds s as the pattern of token `token`. *dup receives the token already owning the same pattern, or -1. */
static enum status trie_insert(struct tok_trie *t, const char *s, size_t len, int32_t token, int32_t *dup) {
    ASSERT(len > 0);
    uint8_t b0 = (uint8_t)s[0];
    int32_t node = t->first[b0];
    if (node < 0) {
        TRY(trie_add_node(t, b0, &node));
        t->nodes[node].sibling = t->nodes[0].child;
        t->nodes[0].child = node;
        t->first[b0] = node;
    }
    for (size_t i = 1; i < len; i++) {
        uint8_t b = (uint8_t)s[i];
        int32_t next = trie_child(t, node, b);
        if (next < 0) {
            TRY(trie_add_node(t, b, &next));
            t->nodes[next].sibling = t->nodes[node].child;
            t->nodes[node].child = next;
        }
        node = next;
    }
    *dup = t->nodes[node].token;
    if (*dup < 0) t->nodes[node].token = token;
    return STATUS_OK;
}

/* The leftmost match at or after `from`, longest among those starting there. Returns false when none. */
static bool trie_find(const struct tok_trie *t, const char *s, size_t len, size_t from, size_t *start, size_t *end,
                      int32_t *token) {
    for (size_t i = from; i < len; i++) {
        int32_t node = t->first[(uint8_t)s[i]];
        if (node < 0) continue;
        int32_t best = t->nodes[node].token;
        size_t best_end = i + 1;
        for (size_t j = i + 1; j < len; j++) {
            node = trie_child(t, node, (uint8_t)s[j]);
            if (node < 0) break;
            if (t->nodes[node].token >= 0) {
                best = t->nodes[node].token;
                best_end = j + 1;
            }
        }
        if (best >= 0) {
            *start = i;
            *end = best_end;
            *token = best;
            return true;
        }
    }
    return false;
}

static bool added_same_props(const struct tok_added_token *a, const struct tok_added_token *b) {
    return a->content_len == b->content_len && memcmp(a->content, b->content, a->content_len) == 0 &&
           a->special == b->special && a->single_word == b->single_word && a->lstrip == b->lstrip &&
           a->rstrip == b->rstrip && a->normalized == b->normalized;
}

/* Records s as owned by a (freed in tok_added_free); frees it and fails when that is impossible. */
static enum status added_own(struct tok_added *a, char *s, size_t *cap) {
    void *p = a->strings;
    enum status st = s ? tok_grow(&p, cap, a->n_strings + 1, sizeof *a->strings)
                       : err_set(STATUS_NOMEM, "tokenizer: out of memory for added tokens");
    a->strings = p;
    if (st != STATUS_OK) {
        free(s);
        return st;
    }
    a->strings[a->n_strings++] = s;
    return STATUS_OK;
}

struct added_build {
    struct tok_added *a;
    size_t cap_strings;
    int32_t *slot_of_id; /* (n_slot_ids) id -> index in a->tokens, -1 */
    size_t n_slot_ids;
    int32_t next_id;
};

/* Reads one element of added_tokens into *t (content owned by a, match = content for now). */
static enum status added_read(struct added_build *b, const cJSON *item, const char *file, int index,
                              struct tok_added_token *t, int64_t *file_id) {
    char where[512];
    snprintf(where, sizeof where, "%s: added_tokens[%d]", file, index);
    if (!cJSON_IsObject(item)) return err_set(STATUS_FORMAT, "%s: must be an object", where);
    const char *content;
    TRY(json_get_int(item, "id", true, 0, 0, INT32_MAX - 1, file_id, where));
    TRY(json_get_string(item, "content", true, NULL, &content, where));
    TRY(json_get_bool(item, "single_word", false, false, &t->single_word, where));
    TRY(json_get_bool(item, "lstrip", false, false, &t->lstrip, where));
    TRY(json_get_bool(item, "rstrip", false, false, &t->rstrip, where));
    TRY(json_get_bool(item, "normalized", false, true, &t->normalized, where));
    TRY(json_get_bool(item, "special", false, false, &t->special, where));
    TRY(added_own(b->a, strdup(content), &b->cap_strings));
    t->content = t->match = b->a->strings[b->a->n_strings - 1];
    t->content_len = t->match_len = (uint32_t)strlen(content);
    t->id = -1;
    return STATUS_OK;
}

/* One step of AddedVocabulary::add_tokens. */
static enum status added_add(struct added_build *b, struct tok_added_token *t, const struct tok_bpe *bpe,
                             const struct tok_norm *norm, const char *file, int index, int64_t file_id) {
    struct tok_added *a = b->a;
    if (t->content_len == 0) return STATUS_OK; /* tokenizers ignores empty tokens */
    int32_t id = tok_strmap_get(&a->by_content, t->content, t->content_len);
    if (id >= 0 && added_same_props(&a->tokens[b->slot_of_id[id]], t)) return STATUS_OK;
    if (id < 0) id = tok_strmap_get(&bpe->vocab, t->content, t->content_len);
    if (id < 0) {
        if (b->next_id == INT32_MAX) return tok_fail(STATUS_FORMAT, file, "added_tokens[%d]: too many ids", index);
        id = b->next_id++;
    }
    if (id != file_id)
        log_warn("%s: added_tokens[%d] \"%s\" has id %lld in the file, but tokenizers gives it id %d; using %d", file,
                 index, t->content, (long long)file_id, id, id);
    t->id = id;
    if (t->normalized && norm->n > 0) {
        struct tok_str s = {0};
        enum status st = tok_norm_apply(norm, t->content, t->content_len, &s);
        if (st != STATUS_OK) {
            tok_str_free(&s);
            return st;
        }
        if (s.n != t->content_len || memcmp(s.p, t->content, s.n) != 0) {
            TRY(added_own(a, s.p, &b->cap_strings));
            t->match = s.p;
            t->match_len = (uint32_t)s.n;
        } else {
            tok_str_free(&s);
        }
    }
    TRY(tok_strmap_set(&a->by_content, t->content, t->content_len, id));
    if (t->special) TRY(tok_strmap_set(&a->special_set, t->content, t->content_len, id));
    ASSERT((size_t)id < b->n_slot_ids);
    if (b->slot_of_id[id] >= 0) {
        a->tokens[b->slot_of_id[id]] = *t; /* same id again: the newer token replaces the older one */
    } else {
        b->slot_of_id[id] = (int32_t)a->n;
        a->tokens[a->n++] = *t;
    }
    return STATUS_OK;
}

static enum status added_build_tries(struct tok_added *a, const char *file) {
    TRY(trie_init(&a->raw));
    TRY(trie_init(&a->norm));
    for (size_t i = 0; i < a->n; i++) {
        struct tok_added_token *t = &a->tokens[i];
        if (t->match_len == 0)
            return tok_fail(STATUS_FORMAT, file, "added_tokens: \"%s\" normalises to the empty string", t->content);
        int32_t dup;
        TRY(trie_insert(t->normalized ? &a->norm : &a->raw, t->match, t->match_len, (int32_t)i, &dup));
        if (dup >= 0)
            return tok_fail(STATUS_FORMAT, file, "added_tokens: \"%s\" and \"%s\" match the same text",
                            a->tokens[dup].content, t->content);
    }
    return STATUS_OK;
}

enum status tok_added_parse(struct tok_added *a, const cJSON *node, const struct tok_bpe *bpe,
                            const struct tok_norm *norm, const char *file) {
    memset(a, 0, sizeof *a);
    size_t count = 0;
    if (node && !cJSON_IsNull(node)) {
        if (!cJSON_IsArray(node)) return tok_fail(STATUS_FORMAT, file, "added_tokens: must be an array");
        count = (size_t)cJSON_GetArraySize(node);
    }
    TRY(tok_strmap_init(&a->by_content, count));
    TRY(tok_strmap_init(&a->special_set, count));
    a->tokens = calloc(count ? count : 1, sizeof *a->tokens);
    struct added_build b = {a, 0, NULL, 0, (int32_t)bpe->n_entries};
    /* Ids are either vocabulary ids (< n_ids) or new ones counted up from the vocabulary size. */
    b.n_slot_ids = (size_t)bpe->n_ids + bpe->n_entries + count + 1;
    b.slot_of_id = malloc(b.n_slot_ids * sizeof *b.slot_of_id);
    if (!a->tokens || !b.slot_of_id) {
        free(b.slot_of_id);
        return err_set(STATUS_NOMEM, "%s: added_tokens: out of memory", file);
    }
    for (size_t i = 0; i < b.n_slot_ids; i++) b.slot_of_id[i] = -1;
    enum status st = STATUS_OK;
    int index = 0;
    for (const cJSON *item = node ? node->child : NULL; item && st == STATUS_OK; item = item->next, index++) {
        struct tok_added_token t = {0};
        int64_t file_id;
        st = added_read(&b, item, file, index, &t, &file_id);
        if (st == STATUS_OK) st = added_add(&b, &t, bpe, norm, file, index, file_id);
    }
    free(b.slot_of_id);
    if (st == STATUS_OK) st = added_build_tries(a, file);
    return st;
}

void tok_added_free(struct tok_added *a) {
    for (size_t i = 0; i < a->n_strings; i++) free(a->strings[i]);
    free(a->strings);
    free(a->tokens);
    tok_strmap_free(&a->by_content);
    tok_strmap_free(&a->special_set);
    trie_free(&a->raw);
    trie_free(&a->norm);
    memset(a, 0, sizeof *a);
}

/* The code point that ends just before s[end] (end > 0). */
static uint32_t added_last_char(const char *s, size_t end) {
    size_t i = end - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    uint32_t cp = 0;
    utf8_decode(s + i, end - i, &cp);
    return cp;
}

/* Start of the run of whitespace that ends at s[end] (what the regex \s*$ finds in s[0..end)). */
static size_t added_space_run_start(const char *s, size_t end) {
    while (end > 0) {
        size_t i = end - 1;
        while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
        uint32_t cp = 0;
        utf8_decode(s + i, end - i, &cp);
        if (!tok_uc_is_white_space(cp)) break;
        end = i;
    }
    return end;
}

/* Length of the run of whitespace starting at s[0] (what ^\s* matches). */
static size_t added_space_run_len(const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0 || !tok_uc_is_white_space(cp)) break;
        i += n;
    }
    return i;
}

enum status tok_added_split(const struct tok_added *a, const struct tok_trie *trie, const char *s, size_t len,
                            struct tok_spans *out) {
    if (len == 0) return STATUS_OK; /* an empty split is dropped by the caller anyway */
    if (!trie->nodes || trie->nodes[0].child < 0) return tok_spans_push(out, 0, (uint32_t)len, -1);
    size_t start_offset = 0, from = 0, start, stop;
    int32_t token;
    while (from < len && trie_find(trie, s, len, from, &start, &stop, &token)) {
        from = stop; /* the automaton resumes after the match itself, whatever lstrip/rstrip do below */
        const struct tok_added_token *t = &a->tokens[token];
        if (t->single_word) {
            bool word_before = start > 0 && tok_uc_is_word(added_last_char(s, start));
            uint32_t next = 0;
            bool word_after = stop < len && utf8_decode(s + stop, len - stop, &next) > 0 && tok_uc_is_word(next);
            if (word_before || word_after) continue;
        }
        if (t->lstrip) {
            size_t new_start = added_space_run_start(s, start);
            start = new_start > start_offset ? new_start : start_offset;
        }
        if (t->rstrip) stop += added_space_run_len(s + stop, len - stop);
        if (start_offset < start)
            TRY(tok_spans_push(out, (uint32_t)start_offset, (uint32_t)(start - start_offset), -1));
        TRY(tok_spans_push(out, (uint32_t)start, (uint32_t)(stop - start), token));
        start_offset = stop;
    }
    if (start_offset < len) TRY(tok_spans_push(out, (uint32_t)start_offset, (uint32_t)(len - start_offset), -1));
    return STATUS_OK;
}
