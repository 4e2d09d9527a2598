/* tokenizer_unicode: the Unicode side of the tokenizer — the normalizers tokenizer.json may name (NFC, NFD,
 * NFKC, NFKD, Lowercase, and Sequences of them) implemented with utf8proc, and the character classes that the
 * Rust code of tokenizers uses (char::is_whitespace, char::is_numeric, the regex crate's \w).
 *
 * Differences left alone: utf8proc and Rust's unicode tables may be of different Unicode versions, so
 * characters assigned in the newest version can normalise differently; \w approximates the Alphabetic
 * property by general categories plus the symbol letters (circled and squared Latin) that are Alphabetic. */
#include "engine/tokenizer/tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "engine/util/json.h"
#include "engine/util/utf8.h"

bool tok_uc_is_white_space(uint32_t cp) {
    if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
    if (cp < 0x85) return false;
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool tok_uc_is_numeric(uint32_t cp) {
    if (cp < 0x80) return cp >= '0' && cp <= '9';
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

bool tok_uc_is_word(uint32_t cp) {
    if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_';
    if (cp == 0x200C || cp == 0x200D) return true; /* Join_Control */
    /* So characters with Other_Alphabetic: circled letters, and the parenthesised/squared/negative Latin
     * capitals of the Enclosed Alphanumeric Supplement. */
    if ((cp >= 0x24B6 && cp <= 0x24E9) || (cp >= 0x1F130 && cp <= 0x1F149) || (cp >= 0x1F150 && cp <= 0x1F169) ||
        (cp >= 0x1F170 && cp <= 0x1F189))
        return true;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_PC:
        return true;
    default:
        return false;
    }
}

enum status tok_norm_parse(struct tok_norm *n, const cJSON *node, const char *file, const char *field) {
    if (!node || cJSON_IsNull(node)) return STATUS_OK;
    if (!cJSON_IsObject(node)) return tok_fail(STATUS_FORMAT, file, "%s: must be an object or null", field);
    const char *type;
    char where[512];
    snprintf(where, sizeof where, "%s: %s", file, field);
    TRY(json_get_string(node, "type", true, NULL, &type, where));
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(node, "normalizers");
        if (!cJSON_IsArray(list)) return tok_fail(STATUS_FORMAT, file, "%s.normalizers: must be an array", field);
        int i = 0;
        for (const cJSON *c = list->child; c; c = c->next, i++) {
            char sub[256];
            snprintf(sub, sizeof sub, "%s.normalizers[%d]", field, i);
            if (cJSON_IsNull(c)) return tok_fail(STATUS_FORMAT, file, "%s: must be an object", sub);
            TRY(tok_norm_parse(n, c, file, sub));
        }
        return STATUS_OK;
    }
    enum tok_norm_kind kind;
    if (strcmp(type, "NFC") == 0)
        kind = TOK_NORM_NFC;
    else if (strcmp(type, "NFD") == 0)
        kind = TOK_NORM_NFD;
    else if (strcmp(type, "NFKC") == 0)
        kind = TOK_NORM_NFKC;
    else if (strcmp(type, "NFKD") == 0)
        kind = TOK_NORM_NFKD;
    else if (strcmp(type, "Lowercase") == 0)
        kind = TOK_NORM_LOWERCASE;
    else
        return tok_fail(STATUS_UNSUPPORTED, file,
                        "%s.type \"%s\" is not supported (r1lab reads NFC, NFD, NFKC, NFKD, Lowercase and Sequence)",
                        field, type);
    if (n->n == TOK_MAX_NORM)
        return tok_fail(STATUS_UNSUPPORTED, file, "%s: more than %d normalizers", field, TOK_MAX_NORM);
    n->steps[n->n++] = kind;
    return STATUS_OK;
}

static bool norm_is_ascii(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80) return false;
    return true;
}

/* Rust's char::to_lowercase: the simple mapping, except U+0130 (the only unconditional multi-character
 * lowercase mapping in SpecialCasing), which becomes "i" + COMBINING DOT ABOVE. */
static enum status norm_lowercase(const char *s, size_t len, struct tok_str *out) {
    out->n = 0;
    TRY(tok_str_reserve(out, len + 8));
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            char lc = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            TRY(tok_str_append(out, &lc, 1));
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        ASSERT(n > 0); /* the text was validated */
        i += n;
        if (cp == 0x130) {
            TRY(tok_str_append(out, "i\xCC\x87", 3));
            continue;
        }
        char enc[4];
        size_t m = utf8_encode((uint32_t)utf8proc_tolower((utf8proc_int32_t)cp), enc);
        TRY(tok_str_append(out, enc, m));
    }
    return STATUS_OK;
}

static enum status norm_unicode(enum tok_norm_kind kind, const char *s, size_t len, struct tok_str *out) {
    utf8proc_option_t opt = UTF8PROC_STABLE;
    switch (kind) {
    case TOK_NORM_NFC:
        opt |= UTF8PROC_COMPOSE;
        break;
    case TOK_NORM_NFD:
        opt |= UTF8PROC_DECOMPOSE;
        break;
    case TOK_NORM_NFKC:
        opt |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
        break;
    case TOK_NORM_NFKD:
        opt |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
        break;
    case TOK_NORM_LOWERCASE:
        ASSERT(0);
    }
    utf8proc_uint8_t *res = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &res, opt);
    if (n < 0) return err_set(STATUS_INVALID, "tokenizer: normalisation failed: %s", utf8proc_errmsg(n));
    out->n = 0;
    enum status st = tok_str_append(out, res, (size_t)n);
    free(res);
    return st;
}

enum status tok_norm_apply(const struct tok_norm *n, const char *s, size_t len, struct tok_str *out) {
    /* Two buffers ping-pong through the steps; the result is copied into out at the end. */
    struct tok_str a = {0}, b = {0};
    enum status st = tok_str_append(&a, s, len);
    bool ascii = norm_is_ascii(s, len);
    for (size_t i = 0; i < n->n && st == STATUS_OK; i++) {
        if (n->steps[i] == TOK_NORM_LOWERCASE) {
            st = norm_lowercase(a.p, a.n, &b);
        } else if (ascii) {
            continue; /* every normalisation form leaves ASCII unchanged */
        } else {
            st = norm_unicode(n->steps[i], a.p, a.n, &b);
        }
        struct tok_str t = a;
        a = b;
        b = t;
        if (st == STATUS_OK) ascii = norm_is_ascii(a.p, a.n);
    }
    if (st == STATUS_OK) {
        out->n = 0;
        st = tok_str_append(out, a.p, a.n);
    }
    tok_str_free(&a);
    tok_str_free(&b);
    return st;
}
