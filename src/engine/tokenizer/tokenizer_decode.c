/* tokenizer_decode: ids back to text — the ByteLevel decoder, full and streaming.
 *
 * At load time every id gets its decoded bytes, computed as tokenizers' ByteLevel decoder computes them: a
 * token whose characters are all byte-level stand-ins becomes those bytes, any other token (an added token
 * such as "<|im_start|>" with a character outside the table) keeps its own UTF-8. Decoding is then
 * concatenation, followed by String::from_utf8_lossy's repair: each maximal ill-formed subpart becomes one
 * U+FFFD. Added tokens decode from their normalised spelling, and skip_special drops ids whose string is
 * among the special contents, as Tokenizer::decode does.
 *
 * The streaming decoder holds back the bytes of an unfinished character (at most 3) and resolves them when
 * the next token arrives, so its output, concatenated, equals the full decode and never splits a character. */
#include "engine/tokenizer/tokenizer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/json.h"
#include "engine/util/utf8.h"

enum status tok_decoder_parse(const cJSON *node, const char *file) {
    if (!node || cJSON_IsNull(node))
        return tok_fail(STATUS_UNSUPPORTED, file,
                        "decoder: missing; r1lab decodes byte-level BPE (expected ByteLevel)");
    if (!cJSON_IsObject(node)) return tok_fail(STATUS_FORMAT, file, "decoder: must be an object");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(node, "type");
    if (!cJSON_IsString(type)) return tok_fail(STATUS_FORMAT, file, "decoder.type: missing or not a string");
    if (strcmp(type->valuestring, "ByteLevel") == 0) return STATUS_OK;
    if (strcmp(type->valuestring, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(node, "decoders");
        if (!cJSON_IsArray(list)) return tok_fail(STATUS_FORMAT, file, "decoder.decoders: must be an array");
        if (cJSON_GetArraySize(list) != 1)
            return tok_fail(STATUS_UNSUPPORTED, file,
                            "decoder: a Sequence of %d decoders is not supported (r1lab reads a single ByteLevel)",
                            cJSON_GetArraySize(list));
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(list->child, "type");
        if (cJSON_IsString(t) && strcmp(t->valuestring, "ByteLevel") == 0) return STATUS_OK;
        return tok_fail(STATUS_UNSUPPORTED, file,
                        "decoder.decoders[0].type \"%s\" is not supported (expected ByteLevel)",
                        cJSON_IsString(t) ? t->valuestring : "?");
    }
    return tok_fail(STATUS_UNSUPPORTED, file, "decoder.type \"%s\" is not supported (r1lab decodes byte-level BPE)",
                    type->valuestring);
}

/* Appends the ByteLevel decoding of one token string to out. */
static enum status decode_token_bytes(const char *s, const int *inverse, struct tok_str *out) {
    size_t len = strlen(s), start = out->n;
    TRY(tok_str_reserve(out, len));
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        int byte = n && cp < 0x144 ? inverse[cp] : -1;
        if (byte < 0) { /* not all stand-ins: the token's own UTF-8 bytes */
            out->n = start;
            return tok_str_append(out, s, len);
        }
        out->p[out->n++] = (char)byte;
        i += n;
    }
    return STATUS_OK;
}

enum status tok_decoder_build(struct tok_decoder *d, const struct tok_bpe *bpe, const struct tok_added *added,
                              int32_t n_ids) {
    memset(d, 0, sizeof *d);
    int inverse[0x144];
    for (size_t i = 0; i < sizeof inverse / sizeof inverse[0]; i++) inverse[i] = -1;
    for (unsigned b = 0; b < 256; b++) inverse[tok_byte_char((uint8_t)b)] = (int)b;
    const struct tok_added_token **by_id = calloc((size_t)n_ids, sizeof *by_id);
    d->off = malloc(((size_t)n_ids + 1) * sizeof *d->off);
    d->flags = calloc((size_t)n_ids, 1);
    if (!by_id || !d->off || !d->flags) {
        free(by_id);
        return err_set(STATUS_NOMEM, "tokenizer: out of memory building the decoder");
    }
    for (size_t i = 0; i < added->n; i++) by_id[added->tokens[i].id] = &added->tokens[i];
    struct tok_str bytes = {0};
    enum status st = STATUS_OK;
    for (int32_t id = 0; id < n_ids && st == STATUS_OK; id++) {
        d->off[id] = (uint32_t)bytes.n;
        const struct tok_added_token *t = by_id[id];
        const char *s = t ? t->match : tok_bpe_str(bpe, id);
        if (!s) continue;
        d->flags[id] = TOK_ID_USED;
        if (t && t->special) d->flags[id] |= TOK_ID_SPECIAL;
        if (tok_strmap_get(&added->special_set, s, strlen(s)) >= 0) d->flags[id] |= TOK_ID_SKIPPABLE;
        st = decode_token_bytes(s, inverse, &bytes);
        if (bytes.n - d->off[id] > d->max_bytes) d->max_bytes = bytes.n - d->off[id];
        if (bytes.n > UINT32_MAX) st = err_set(STATUS_FORMAT, "tokenizer: vocabulary too large to decode");
    }
    d->off[n_ids] = (uint32_t)bytes.n;
    d->bytes = bytes.p;
    free(by_id);
    return st;
}

void tok_decoder_free(struct tok_decoder *d) {
    free(d->bytes);
    free(d->off);
    free(d->flags);
    memset(d, 0, sizeof *d);
}

/* ---- lossy UTF-8 -------------------------------------------------------------------------------------- */

enum lossy_kind { LOSSY_CHAR, LOSSY_INVALID, LOSSY_INCOMPLETE };

/* Classifies the bytes at s[0..n): a whole character (returns its length), an ill-formed subpart (returns
 * its length: the longest prefix of a well-formed sequence, at least 1), or a well-formed prefix cut short
 * by the end of the buffer (returns n). Follows Unicode's "maximal subpart" practice, as Rust does. */
static size_t lossy_step(const uint8_t *s, size_t n, enum lossy_kind *kind) {
    uint8_t b = s[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF; /* the valid range of the second byte */
    if (b < 0x80) {
        *kind = LOSSY_CHAR;
        return 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
        need = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 3;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        *kind = LOSSY_INVALID;
        return 1;
    }
    for (size_t i = 1; i < need; i++) {
        if (i >= n) {
            *kind = LOSSY_INCOMPLETE;
            return n;
        }
        bool ok = i == 1 ? (s[i] >= lo && s[i] <= hi) : (s[i] & 0xC0) == 0x80;
        if (!ok) {
            *kind = LOSSY_INVALID;
            return i;
        }
    }
    *kind = LOSSY_CHAR;
    return need;
}

static const char REPLACEMENT[] = "\xEF\xBF\xBD";

/* Repairs s[0..n) into out (which has room for 3n bytes). With hold != NULL a final incomplete character is
 * not replaced but left for later: *hold receives its length. Returns the bytes written. */
static size_t lossy_copy(const uint8_t *s, size_t n, char *out, size_t *hold) {
    size_t w = 0, i = 0;
    if (hold) *hold = 0;
    while (i < n) {
        enum lossy_kind kind;
        size_t k = lossy_step(s + i, n - i, &kind);
        if (kind == LOSSY_INCOMPLETE && hold) {
            *hold = k;
            break;
        }
        if (kind == LOSSY_CHAR) {
            memcpy(out + w, s + i, k);
            w += k;
        } else {
            memcpy(out + w, REPLACEMENT, 3);
            w += 3;
        }
        i += k;
    }
    return w;
}

enum status tokenizer_decode(const struct tokenizer *tok, const int32_t *ids, size_t n, bool skip_special, char **text,
                             size_t *len) {
    *text = NULL;
    *len = 0;
    const struct tok_decoder *d = &tok->dec;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= tok->n_ids || !(d->flags[id] & TOK_ID_USED))
            return err_set(STATUS_INVALID, "token id %d at position %zu is not in the vocabulary of %s (ids 0..%d)", id,
                           i, tok->path, tok->n_ids - 1);
        if (skip_special && (d->flags[id] & TOK_ID_SKIPPABLE)) continue;
        total += d->off[id + 1] - d->off[id];
    }
    uint8_t *raw = malloc(total + 1);
    char *out = malloc(3 * total + 1);
    if (!raw || !out) {
        free(raw);
        free(out);
        return err_set(STATUS_NOMEM, "tokenizer: cannot allocate %zu bytes to decode", 4 * total);
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (skip_special && (d->flags[id] & TOK_ID_SKIPPABLE)) continue;
        memcpy(raw + at, d->bytes + d->off[id], d->off[id + 1] - d->off[id]);
        at += d->off[id + 1] - d->off[id];
    }
    size_t w = lossy_copy(raw, total, out, NULL);
    out[w] = '\0';
    free(raw);
    *text = out;
    *len = w;
    return STATUS_OK;
}

void tokenizer_stream_init(struct tokenizer_stream *s, bool skip_special) {
    memset(s, 0, sizeof *s);
    s->skip_special = skip_special;
}

size_t tokenizer_stream_push(const struct tokenizer *tok, struct tokenizer_stream *s, int32_t id, char *out,
                             size_t cap) {
    const struct tok_decoder *d = &tok->dec;
    ASSERT(cap >= tokenizer_max_token_bytes(tok) + 32);
    out[0] = '\0';
    if (id < 0 || id >= tok->n_ids || !(d->flags[id] & TOK_ID_USED)) return 0;
    if (s->skip_special && (d->flags[id] & TOK_ID_SKIPPABLE)) return 0;
    const uint8_t *b = (const uint8_t *)d->bytes + d->off[id];
    size_t n = d->off[id + 1] - d->off[id], w = 0;
    /* First finish the held-back character one byte at a time: it either completes, stays incomplete, or
     * turns out ill-formed at the new byte (then the held bytes are one U+FFFD and that byte starts afresh). */
    while (s->n_pending > 0 && n > 0) {
        uint8_t probe[8];
        memcpy(probe, s->pending, s->n_pending);
        probe[s->n_pending] = b[0];
        enum lossy_kind kind;
        size_t k = lossy_step(probe, s->n_pending + 1, &kind);
        if (kind == LOSSY_INCOMPLETE) {
            s->pending[s->n_pending++] = (char)b[0];
            b++, n--;
        } else if (kind == LOSSY_CHAR) {
            memcpy(out + w, probe, k);
            w += k;
            s->n_pending = 0;
            b++, n--;
        } else {
            memcpy(out + w, REPLACEMENT, 3);
            w += 3;
            s->n_pending = 0;
        }
    }
    size_t hold;
    w += lossy_copy(b, n, out + w, &hold);
    if (hold) {
        memcpy(s->pending + s->n_pending, b + n - hold, hold);
        s->n_pending += hold;
    }
    out[w] = '\0';
    return w;
}

size_t tokenizer_stream_flush(struct tokenizer_stream *s, char *out, size_t cap) {
    ASSERT(cap >= 4);
    size_t w = 0;
    if (s->n_pending) { /* a well-formed prefix that never completed: one maximal subpart */
        memcpy(out, REPLACEMENT, 3);
        w = 3;
    }
    s->n_pending = 0;
    out[w] = '\0';
    return w;
}

size_t tokenizer_max_token_bytes(const struct tokenizer *tok) {
    /* Every byte of a token may come out as a 3-byte U+FFFD. */
    return 3 * tok->dec.max_bytes;
}
