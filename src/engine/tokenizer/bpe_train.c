/* bpe_train: distinct pieces with counts, then greedy merges over them. */
#include "engine/tokenizer/bpe_train.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "engine/tokenizer/tokenizer.h"
#include "engine/util/fsutil.h"
#include "engine/util/rng.h"

#define QWEN2_PATTERN                                                                                          \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"      \
    "\\s+(?!\\S)|\\s+"

struct word {
    int32_t *sym; /* symbol ids */
    int n;
    int64_t count;
};

struct bpe_trainer {
    struct bpe_train_options opt;
    struct tokenizer *skeleton;
    cJSON *skeleton_json;
    /* distinct pieces: open addressing on the raw bytes */
    struct word *words;
    char **keys;
    size_t *key_len;
    size_t n_words, cap;
    /* vocabulary: ids 0..255 are bytes, then one per merge */
    char **tok_str; /* byte-level spelling of each id */
    int32_t *merge_left, *merge_right; /* (n_merges) the pairs, in rank order */
    int n_tokens, n_merges;
};

/* The skeleton: byte vocabulary, no merges, the added tokens, Qwen2-style pre-tokenization. */
static cJSON *skeleton(const struct bpe_train_options *o, int first_added_id) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddNullToObject(root, "truncation");
    cJSON_AddNullToObject(root, "padding");
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    for (size_t i = 0; i < o->n_added; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "id", first_added_id + (int)i);
        cJSON_AddStringToObject(a, "content", o->added[i].content);
        cJSON_AddBoolToObject(a, "single_word", false);
        cJSON_AddBoolToObject(a, "lstrip", false);
        cJSON_AddBoolToObject(a, "rstrip", false);
        cJSON_AddBoolToObject(a, "normalized", false);
        cJSON_AddBoolToObject(a, "special", o->added[i].special);
        cJSON_AddItemToArray(added, a);
    }
    cJSON_AddNullToObject(root, "normalizer");
    cJSON *pre = cJSON_AddObjectToObject(root, "pre_tokenizer");
    cJSON_AddStringToObject(pre, "type", "Sequence");
    cJSON *seq = cJSON_AddArrayToObject(pre, "pretokenizers");
    cJSON *split = cJSON_CreateObject();
    cJSON_AddStringToObject(split, "type", "Split");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(split, "pattern"), "Regex", o->pattern ? o->pattern : QWEN2_PATTERN);
    cJSON_AddStringToObject(split, "behavior", "Isolated");
    cJSON_AddBoolToObject(split, "invert", false);
    cJSON_AddItemToArray(seq, split);
    cJSON *bl = cJSON_CreateObject();
    cJSON_AddStringToObject(bl, "type", "ByteLevel");
    cJSON_AddBoolToObject(bl, "add_prefix_space", false);
    cJSON_AddBoolToObject(bl, "trim_offsets", false);
    cJSON_AddBoolToObject(bl, "use_regex", false);
    cJSON_AddItemToArray(seq, bl);
    cJSON_AddNullToObject(root, "post_processor");
    cJSON *dec = cJSON_AddObjectToObject(root, "decoder");
    cJSON_AddStringToObject(dec, "type", "ByteLevel");
    cJSON_AddBoolToObject(dec, "add_prefix_space", true);
    cJSON_AddBoolToObject(dec, "trim_offsets", true);
    cJSON_AddBoolToObject(dec, "use_regex", true);
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddNullToObject(model, "dropout");
    cJSON_AddNullToObject(model, "unk_token");
    cJSON_AddNullToObject(model, "continuing_subword_prefix");
    cJSON_AddNullToObject(model, "end_of_word_suffix");
    cJSON_AddBoolToObject(model, "fuse_unk", false);
    cJSON_AddBoolToObject(model, "byte_fallback", false);
    cJSON_AddBoolToObject(model, "ignore_merges", false);
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    for (int b = 0; b < 256; b++) {
        char s[5] = {0};
        tokenizer_byte_standin((uint8_t)b, s);
        cJSON_AddNumberToObject(vocab, s, b);
    }
    cJSON_AddArrayToObject(model, "merges");
    return root;
}

enum status bpe_trainer_init(struct bpe_trainer **out, const struct bpe_train_options *opt) {
    *out = NULL;
    if (opt->vocab_size < 256 + (int)opt->n_added)
        return err_set(STATUS_INVALID, "a byte-level vocabulary needs at least %zu tokens (256 bytes + added)",
                       256 + opt->n_added);
    struct bpe_trainer *t = calloc(1, sizeof *t);
    if (!t) return err_set(STATUS_NOMEM, "cannot allocate the BPE trainer");
    t->opt = *opt;
    t->skeleton_json = skeleton(opt, 256);
    /* Load the skeleton through the tokenizer module: it is the one that splits text for encoding. */
    char dir[] = "/tmp/r1lab-bpe-XXXXXX";
    enum status st = mkdtemp(dir) ? STATUS_OK : err_set_errno(STATUS_IO, "cannot create a temporary directory");
    char path[256];
    if (st == STATUS_OK) {
        snprintf(path, sizeof path, "%s/tokenizer.json", dir);
        char *text = cJSON_Print(t->skeleton_json);
        st = fs_write_atomic(path, text, strlen(text));
        cJSON_free(text);
        if (st == STATUS_OK) st = tokenizer_load(&t->skeleton, path);
        fs_remove_tree(dir);
    }
    t->cap = 1 << 12;
    t->words = calloc(t->cap, sizeof *t->words);
    t->keys = calloc(t->cap, sizeof *t->keys);
    t->key_len = calloc(t->cap, sizeof *t->key_len);
    if (st == STATUS_OK && (!t->words || !t->keys || !t->key_len)) st = err_set(STATUS_NOMEM, "BPE trainer tables");
    if (st != STATUS_OK) {
        bpe_trainer_free(t);
        return st;
    }
    *out = t;
    return STATUS_OK;
}

void bpe_trainer_free(struct bpe_trainer *t) {
    if (!t) return;
    for (size_t i = 0; i < t->cap; i++) {
        free(t->keys[i]);
        if (t->words) free(t->words[i].sym);
    }
    for (int i = 0; i < t->n_tokens; i++) free(t->tok_str[i]);
    free(t->tok_str), free(t->merge_left), free(t->merge_right);
    free(t->words), free(t->keys), free(t->key_len);
    tokenizer_free(t->skeleton);
    cJSON_Delete(t->skeleton_json);
    free(t);
}

static enum status grow(struct bpe_trainer *t) {
    size_t cap = t->cap * 2;
    struct word *w = calloc(cap, sizeof *w);
    char **k = calloc(cap, sizeof *k);
    size_t *kl = calloc(cap, sizeof *kl);
    if (!w || !k || !kl) {
        free(w), free(k), free(kl);
        return err_set(STATUS_NOMEM, "BPE trainer tables");
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i]) continue;
        size_t h = rng_hash_bytes(t->keys[i], t->key_len[i]) & (cap - 1);
        while (k[h]) h = (h + 1) & (cap - 1);
        k[h] = t->keys[i], kl[h] = t->key_len[i], w[h] = t->words[i];
    }
    free(t->words), free(t->keys), free(t->key_len);
    t->words = w, t->keys = k, t->key_len = kl, t->cap = cap;
    return STATUS_OK;
}

static enum status count_piece(void *user, const char *bytes, size_t len) {
    struct bpe_trainer *t = user;
    if (len == 0) return STATUS_OK;
    if (2 * (t->n_words + 1) > t->cap) TRY(grow(t));
    size_t h = rng_hash_bytes(bytes, len) & (t->cap - 1);
    while (t->keys[h]) {
        if (t->key_len[h] == len && memcmp(t->keys[h], bytes, len) == 0) {
            t->words[h].count++;
            return STATUS_OK;
        }
        h = (h + 1) & (t->cap - 1);
    }
    t->keys[h] = malloc(len);
    t->words[h].sym = malloc(len * sizeof(int32_t));
    if (!t->keys[h] || !t->words[h].sym) return err_set(STATUS_NOMEM, "BPE trainer pieces");
    memcpy(t->keys[h], bytes, len);
    t->key_len[h] = len;
    for (size_t i = 0; i < len; i++) t->words[h].sym[i] = (uint8_t)bytes[i];
    t->words[h].n = (int)len;
    t->words[h].count = 1;
    t->n_words++;
    return STATUS_OK;
}

enum status bpe_trainer_add(struct bpe_trainer *t, const char *text, size_t len) {
    return tokenizer_pretokenize(t->skeleton, text, len, count_piece, t);
}

/* Pair counts for one round: a hash from (left, right) to a count. */
struct pair_slot {
    int32_t l, r;
    int64_t count;
};

static enum status best_pair(const struct bpe_trainer *t, int32_t *bl, int32_t *br, int64_t *bc) {
    size_t cap = 1 << 16;
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->keys[i]) n += (size_t)(t->words[i].n > 1 ? t->words[i].n - 1 : 0);
    while (cap < 2 * n + 16) cap *= 2;
    struct pair_slot *slots = calloc(cap, sizeof *slots);
    if (!slots) return err_set(STATUS_NOMEM, "BPE pair counts");
    for (size_t i = 0; i < cap; i++) slots[i].l = -1;
    *bc = 0;
    *bl = *br = -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i]) continue;
        const struct word *w = &t->words[i];
        for (int k = 0; k + 1 < w->n; k++) {
            int32_t l = w->sym[k], r = w->sym[k + 1];
            size_t h = (size_t)rng_mix64(((uint64_t)(uint32_t)l << 32) | (uint32_t)r) & (cap - 1);
            while (slots[h].l >= 0 && (slots[h].l != l || slots[h].r != r)) h = (h + 1) & (cap - 1);
            slots[h].l = l, slots[h].r = r;
            slots[h].count += w->count;
            int64_t c = slots[h].count;
            if (c > *bc || (c == *bc && (l < *bl || (l == *bl && r < *br)))) *bc = c, *bl = l, *br = r;
        }
    }
    free(slots);
    return STATUS_OK;
}

enum status bpe_trainer_finish(struct bpe_trainer *t, char **json) {
    *json = NULL;
    int max_tokens = t->opt.vocab_size - (int)t->opt.n_added;
    t->tok_str = calloc((size_t)max_tokens, sizeof *t->tok_str);
    t->merge_left = calloc((size_t)max_tokens * 2, sizeof(int32_t));
    t->merge_right = calloc((size_t)max_tokens * 2, sizeof(int32_t));
    if (!t->tok_str || !t->merge_left || !t->merge_right) return err_set(STATUS_NOMEM, "BPE vocabulary");
    for (int b = 0; b < 256; b++) {
        t->tok_str[b] = calloc(1, 5);
        if (!t->tok_str[b]) return err_set(STATUS_NOMEM, "BPE vocabulary");
        tokenizer_byte_standin((uint8_t)b, t->tok_str[b]);
    }
    t->n_tokens = 256;
    int min_freq = t->opt.min_frequency > 0 ? t->opt.min_frequency : 2;
    while (t->n_tokens < max_tokens && t->n_merges < 2 * max_tokens) {
        int32_t l = -1, r = -1;
        int64_t count = 0;
        TRY(best_pair(t, &l, &r, &count));
        if (l < 0 || count < min_freq) break;
        size_t ll = strlen(t->tok_str[l]), rl = strlen(t->tok_str[r]);
        char *merged = malloc(ll + rl + 1);
        if (!merged) return err_set(STATUS_NOMEM, "BPE vocabulary");
        memcpy(merged, t->tok_str[l], ll);
        memcpy(merged + ll, t->tok_str[r], rl + 1);
        /* Two pairs can spell the same string ("ab"+"c", "a"+"bc"): they share one id, as in a BPE vocab. */
        int32_t id = -1;
        for (int k = 256; k < t->n_tokens && id < 0; k++)
            if (strcmp(t->tok_str[k], merged) == 0) id = k;
        if (id < 0) {
            id = t->n_tokens++;
            t->tok_str[id] = merged;
        } else {
            free(merged);
        }
        t->merge_left[t->n_merges] = l;
        t->merge_right[t->n_merges] = r;
        t->n_merges++;
        for (size_t i = 0; i < t->cap; i++) { /* apply the merge to every piece, left to right */
            if (!t->keys[i]) continue;
            struct word *w = &t->words[i];
            int o = 0;
            for (int k = 0; k < w->n; k++) {
                if (k + 1 < w->n && w->sym[k] == l && w->sym[k + 1] == r) {
                    w->sym[o++] = id;
                    k++;
                } else {
                    w->sym[o++] = w->sym[k];
                }
            }
            w->n = o;
        }
    }
    /* The final file: learned vocabulary and merges, added tokens numbered after them. */
    cJSON *root = skeleton(&t->opt, t->n_tokens);
    cJSON *model = cJSON_GetObjectItem(root, "model");
    cJSON *vocab = cJSON_GetObjectItem(model, "vocab"), *merges = cJSON_GetObjectItem(model, "merges");
    for (int id = 256; id < t->n_tokens; id++) cJSON_AddNumberToObject(vocab, t->tok_str[id], id);
    for (int k = 0; k < t->n_merges; k++) {
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(t->tok_str[t->merge_left[k]]));
        cJSON_AddItemToArray(pair, cJSON_CreateString(t->tok_str[t->merge_right[k]]));
        cJSON_AddItemToArray(merges, pair);
    }
    *json = cJSON_Print(root);
    cJSON_Delete(root);
    return *json ? STATUS_OK : err_set(STATUS_NOMEM, "cannot format tokenizer.json");
}
