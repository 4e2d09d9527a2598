/* tokenizer_internal: the pieces of a loaded tokenizer that the tokenizer_*.c files share. Private to the
 * tokenizer module; nothing outside src/engine/tokenizer/tokenizer*.c includes it.
 *
 * One file per stage, each owning its part of struct tokenizer:
 *   tokenizer.c          loading tokenizer.json, the encode pipeline, the public getters
 *   tokenizer_map.c      string -> id and (id, id) -> merge hash maps, growable buffers
 *   tokenizer_unicode.c  normalizers (utf8proc) and the Unicode character classes HF relies on
 *   tokenizer_added.c    added tokens: id assignment, the leftmost-longest matcher, lstrip/rstrip/single_word
 *   tokenizer_pretok.c   pre-tokenizers: Split (PCRE2, Oniguruma semantics), Digits, ByteLevel
 *   tokenizer_bpe.c      the BPE model: vocabulary, merges, the merge loop, GPT-2's byte <-> char table
 *   tokenizer_decode.c   the ByteLevel decoder, lossy UTF-8, streaming decode
 *
 * Everything built at load time is read-only afterwards; per-call state lives in struct tok_scratch, which
 * is what makes concurrent encode calls safe. Loading functions report errors naming the file and the JSON
 * field ("PATH: model.merges[3]: ..."). */
#ifndef R1LAB_TOKENIZER_INTERNAL_H
#define R1LAB_TOKENIZER_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cJSON.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/tokenizer/tokenizer.h"
#include "engine/util/status.h"

/* ---- tokenizer_map.c: hash maps and buffers ---------------------------------------------------------- */

/* String -> id. Keys point into memory owned by someone else (an arena that outlives the map). */
struct tok_strmap_slot {
    const char *key; /* NULL: empty slot */
    uint32_t len;
    int32_t id;
};
struct tok_strmap {
    struct tok_strmap_slot *slots; /* (cap) */
    size_t cap, n;                 /* cap is a power of two, kept at most half full */
};
enum status tok_strmap_init(struct tok_strmap *m, size_t expected);
void tok_strmap_free(struct tok_strmap *m);
/* Inserts key -> id. When the key is already present, leaves the map unchanged and stores the old id in
 * *existing (else *existing = -1). */
enum status tok_strmap_put(struct tok_strmap *m, const char *key, size_t len, int32_t id, int32_t *existing);
/* Replaces (or inserts) the id of key. */
enum status tok_strmap_set(struct tok_strmap *m, const char *key, size_t len, int32_t id);
int32_t tok_strmap_get(const struct tok_strmap *m, const char *key, size_t len); /* -1 when absent */

/* (left id, right id) -> (merge rank, merged id): the BPE merge table. */
struct tok_pair_slot {
    uint64_t key; /* (uint64_t)left << 32 | right; TOK_PAIR_EMPTY for an empty slot */
    uint32_t rank;
    int32_t merged;
};
#define TOK_PAIR_EMPTY UINT64_MAX
struct tok_pairmap {
    struct tok_pair_slot *slots; /* (cap) */
    size_t cap, n;
    unsigned shift; /* 64 - log2(cap), for multiplicative hashing */
};
enum status tok_pairmap_init(struct tok_pairmap *m, size_t expected);
void tok_pairmap_free(struct tok_pairmap *m);
/* Inserts or overwrites: a later duplicate merge replaces an earlier one, as a Rust HashMap collect does. */
void tok_pairmap_set(struct tok_pairmap *m, int32_t left, int32_t right, uint32_t rank, int32_t merged);
const struct tok_pair_slot *tok_pairmap_get(const struct tok_pairmap *m, int32_t left, int32_t right);

/* A growable byte buffer. */
struct tok_str {
    char *p;
    size_t n, cap;
};
enum status tok_str_reserve(struct tok_str *s, size_t extra);
enum status tok_str_append(struct tok_str *s, const void *data, size_t len);
void tok_str_free(struct tok_str *s);
/* Grows *p (an array of elem-sized items with capacity *cap) to hold at least need items. */
enum status tok_grow(void **p, size_t *cap, size_t need, size_t elem);

/* "PATH: " + the formatted message, as the current error. */
enum status tok_fail(enum status st, const char *file, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- per-call scratch --------------------------------------------------------------------------------- */

/* A piece of text: bytes [off, off+len) of some buffer, plus the added token it is (or -1). */
struct tok_span {
    uint32_t off, len;
    int32_t token; /* index into tok_added.tokens, or -1 for ordinary text */
};
struct tok_spans {
    struct tok_span *v;
    size_t n, cap;
};
enum status tok_spans_push(struct tok_spans *s, uint32_t off, uint32_t len, int32_t token);

/* A regex match or gap inside a piece, before the split behaviour is applied. */
struct tok_match {
    uint32_t start, end;
    bool is_match;
};

struct tok_bpe_symbol {
    int32_t id;
    int32_t prev, next; /* indices in the symbol array, -1 at the ends */
    uint32_t len;       /* bytes covered; 0 marks a symbol merged into its left neighbour */
};
struct tok_bpe_merge {
    uint32_t rank;
    uint32_t pos;
    int32_t merged;
};

struct tok_scratch {
    struct tok_spans added1, added2; /* the two added-token passes */
    struct tok_str norm;             /* normalised text of one pass-1 span */
    struct tok_str work;             /* pre-tokenizer text: pieces point into it */
    struct tok_spans pieces, pieces2;
    struct tok_match *matches;
    size_t n_matches, cap_matches;
    struct tok_match *splits;
    size_t n_splits, cap_splits;
    struct tok_str standin; /* a piece spelled in byte-level characters, for ignore_merges */
    struct tok_bpe_symbol *sym;
    size_t cap_sym;
    struct tok_bpe_merge *heap;
    size_t cap_heap;
    pcre2_match_data *md;
    pcre2_match_context *mctx; /* created with jit_stack when the default JIT stack proved too small */
    pcre2_jit_stack *jit_stack;
};
void tok_scratch_free(struct tok_scratch *sc);

/* ---- tokenizer_unicode.c ------------------------------------------------------------------------------ */

enum tok_norm_kind { TOK_NORM_NFC, TOK_NORM_NFD, TOK_NORM_NFKC, TOK_NORM_NFKD, TOK_NORM_LOWERCASE };
#define TOK_MAX_NORM 16
struct tok_norm {
    enum tok_norm_kind steps[TOK_MAX_NORM];
    size_t n; /* 0: no normalizer */
};
/* node: the "normalizer" value (may be NULL / JSON null). */
enum status tok_norm_parse(struct tok_norm *n, const cJSON *node, const char *file, const char *field);
/* Replaces out's contents with the normalised text. */
enum status tok_norm_apply(const struct tok_norm *n, const char *s, size_t len, struct tok_str *out);

/* Character classes with the meaning the Rust code of tokenizers gives them. */
bool tok_uc_is_white_space(uint32_t cp); /* char::is_whitespace and regex \s: the White_Space property */
bool tok_uc_is_word(uint32_t cp);        /* regex \w (Unicode): Alphabetic, marks, Nd, Pc, joiners */
bool tok_uc_is_numeric(uint32_t cp);     /* char::is_numeric: general category Nd, Nl or No */

/* ---- tokenizer_added.c -------------------------------------------------------------------------------- */

struct tok_added_token {
    char *content; /* as written in tokenizer.json */
    char *match;   /* what is searched for: content, or its normalised form when normalized=true */
    uint32_t content_len, match_len;
    int32_t id;
    bool special, single_word, lstrip, rstrip, normalized;
};
struct tok_trie_node {
    int32_t child;   /* first child, -1 if none */
    int32_t sibling; /* next sibling, -1 if none */
    int32_t token;   /* index of the token ending here, -1 if none */
    uint8_t byte;
};
struct tok_trie {
    struct tok_trie_node *nodes; /* nodes[0] is the root */
    size_t n, cap;
    int32_t first[256]; /* the root's child for each first byte, -1 if none: most positions stop here */
};
struct tok_added {
    struct tok_added_token *tokens; /* one per distinct id */
    size_t n;
    char **strings; /* every content / match string allocated, freed together (map keys point into them) */
    size_t n_strings;
    struct tok_strmap by_content;  /* content -> id, for token_to_id */
    struct tok_strmap special_set; /* contents of the tokens ever marked special (decode skips these) */
    struct tok_trie raw;           /* tokens with normalized=false, matched before normalisation */
    struct tok_trie norm;          /* tokens with normalized=true, matched on normalised text */
};
struct tok_bpe;
/* node: the "added_tokens" array. Ids are assigned the way tokenizers assigns them (vocabulary id when the
 * content is in the vocabulary, else the next free id after it); a differing id in the file gets a warning. */
enum status tok_added_parse(struct tok_added *a, const cJSON *node, const struct tok_bpe *bpe,
                            const struct tok_norm *norm, const char *file);
void tok_added_free(struct tok_added *a);
/* Splits s[0..len) into spans (offsets relative to s) around the tokens of trie, honouring
 * lstrip/rstrip/single_word; appends to out. Follows AddedVocabulary::find_matches. */
enum status tok_added_split(const struct tok_added *a, const struct tok_trie *trie, const char *s, size_t len,
                            struct tok_spans *out);

/* ---- tokenizer_pretok.c ------------------------------------------------------------------------------- */

enum tok_split_behavior {
    TOK_SPLIT_ISOLATED,
    TOK_SPLIT_REMOVED,
    TOK_SPLIT_MERGED_WITH_PREVIOUS,
    TOK_SPLIT_MERGED_WITH_NEXT,
    TOK_SPLIT_CONTIGUOUS,
};
enum tok_pre_kind { TOK_PRE_SPLIT, TOK_PRE_DIGITS, TOK_PRE_BYTELEVEL };
struct tok_pre_step {
    enum tok_pre_kind kind;
    pcre2_code *re; /* Split: the pattern; ByteLevel with use_regex: the GPT-2 pattern */
    enum tok_split_behavior behavior;
    bool invert;            /* Split */
    bool individual_digits; /* Digits */
    bool add_prefix_space;  /* ByteLevel */
};
#define TOK_MAX_PRE 16
struct tok_pretok {
    struct tok_pre_step steps[TOK_MAX_PRE]; /* a Sequence, flattened; ByteLevel is always the last step */
    size_t n;
};
enum status tok_pretok_parse(struct tok_pretok *p, const cJSON *node, const char *file);
void tok_pretok_free(struct tok_pretok *p);
/* Pre-tokenizes text[0..len): the resulting pieces are spans of sc->work (raw bytes, not yet mapped to
 * byte-level characters), in sc->pieces. */
enum status tok_pretok_run(const struct tok_pretok *p, const char *text, size_t len, struct tok_scratch *sc);

/* ---- tokenizer_bpe.c ---------------------------------------------------------------------------------- */

struct tok_bpe {
    char *arena;       /* vocabulary strings, NUL-terminated, back to back */
    uint32_t *str_off; /* (n_ids) offset of each id's string in arena, UINT32_MAX for an unused id */
    int32_t n_ids;     /* largest vocabulary id + 1 */
    size_t n_entries;  /* vocabulary entries (what tokenizers calls the vocab size) */
    struct tok_strmap vocab;
    struct tok_pairmap merges;
    char standin[256][4]; /* each byte's stand-in character, UTF-8 (1 or 2 bytes) */
    uint8_t standin_len[256];
    int32_t byte_id[256]; /* id of each byte's stand-in character, -1 when the vocabulary lacks it */
    bool ignore_merges;
    int32_t unk_id; /* -1: none */
    bool fuse_unk;
};
/* node: the "model" object. */
enum status tok_bpe_parse(struct tok_bpe *b, const cJSON *node, const char *file);
void tok_bpe_free(struct tok_bpe *b);
const char *tok_bpe_str(const struct tok_bpe *b, int32_t id); /* NULL for an unused id */
/* Appends the ids of one pre-tokenized piece (raw bytes). */
enum status tok_bpe_encode(const struct tok_bpe *b, const char *piece, size_t len, struct tok_scratch *sc,
                           struct token_buf *out);
/* GPT-2's bytes_to_unicode: the printable character standing for each byte, and back (-1: not a stand-in). */
uint32_t tok_byte_char(uint8_t byte);
int tok_char_byte(uint32_t cp);

/* ---- tokenizer_decode.c ------------------------------------------------------------------------------- */

struct tok_decoder {
    char *bytes;      /* every id's decoded bytes, back to back */
    uint32_t *off;    /* (n_ids + 1) id i decodes to bytes[off[i] .. off[i+1]) */
    uint8_t *flags;   /* (n_ids) TOK_ID_* */
    size_t max_bytes; /* longest decoded token */
};
enum { TOK_ID_USED = 1, TOK_ID_SPECIAL = 2, TOK_ID_SKIPPABLE = 4 };
/* node: the "decoder" value; checks it is ByteLevel (alone or in a Sequence). */
enum status tok_decoder_parse(const cJSON *node, const char *file);
enum status tok_decoder_build(struct tok_decoder *d, const struct tok_bpe *bpe, const struct tok_added *added,
                              int32_t n_ids);
void tok_decoder_free(struct tok_decoder *d);

/* ---- tokenizer.c -------------------------------------------------------------------------------------- */

struct tok_post {
    int32_t *prefix, *suffix; /* ids placed before / after the sequence when add_special_tokens is true */
    size_t n_prefix, n_suffix;
};

struct tokenizer {
    char *path; /* the tokenizer.json file */
    struct tok_norm norm;
    struct tok_pretok pre;
    struct tok_bpe bpe;
    struct tok_added added;
    struct tok_post post;
    struct tok_decoder dec;
    int32_t n_ids;       /* largest id + 1, added tokens included */
    const char **id_str; /* (n_ids) each id's string: added token content or vocabulary entry; NULL if unused */
};

#endif
