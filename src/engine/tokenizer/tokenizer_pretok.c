/* tokenizer_pretok: pre-tokenizers — cutting normalised text into the pieces that BPE merges within.
 *
 * Supported: Split (a regex or a literal string, with every SplitDelimiterBehavior and invert), Digits,
 * ByteLevel (optional prefix space, optional GPT-2 regex), and Sequences of them, ByteLevel last. Pieces
 * stay raw bytes; mapping bytes to GPT-2's printable stand-ins is left to the BPE step, which needs only a
 * byte -> id table for it.
 *
 * tokenizers runs these regexes with Oniguruma (Ruby syntax); r1lab runs them with PCRE2 after a small
 * translation of the places where the two disagree: \s is exactly White_Space, \h / \H mean hex digits, ^
 * and $ match at line ends, and the inline flag m means "dot matches newline". Matches are iterated the way
 * the onig crate's find_iter does (an empty match right after a match is skipped once). Nested character
 * classes and && intersections have no PCRE2 equivalent and are refused at load time. */
#include "engine/tokenizer/tokenizer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/json.h"
#include "engine/util/utf8.h"

/* Oniguruma's \s: the Unicode White_Space property, spelled out. PCRE2's own \s differs at the edges (it
 * includes U+180E MONGOLIAN VOWEL SEPARATOR, which is no longer White_Space). */
#define WHITE_SPACE                                                                                                    \
    "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

static const char GPT2_PATTERN[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/* ---- loading ------------------------------------------------------------------------------------------ */

struct pretok_pattern {
    struct tok_str out;
    size_t *src_off; /* (out.n + 1) pattern offset each output byte came from, for error messages */
    size_t cap_off;
};

static enum status pattern_emit(struct pretok_pattern *p, const char *s, size_t n, size_t src) {
    void *q = p->src_off;
    enum status st = tok_grow(&q, &p->cap_off, p->out.n + n + 1, sizeof *p->src_off);
    p->src_off = q;
    if (st != STATUS_OK) return st;
    for (size_t i = 0; i < n; i++) p->src_off[p->out.n + i] = src;
    p->src_off[p->out.n + n] = src + 1;
    return tok_str_append(&p->out, s, n);
}

/* Rewrites an Oniguruma pattern into the PCRE2 pattern that matches the same strings (see the top). */
static enum status pattern_translate(const char *src, size_t len, struct pretok_pattern *p, const char *file,
                                     const char *field) {
    bool in_class = false;
    size_t class_body = 0; /* offset of the first character inside the current class */
    size_t i = 0;
    while (i < len) {
        char c = src[i];
        if (c == '\\' && i + 1 < len) {
            char d = src[i + 1];
            const char *rep = NULL;
            if (d == 's')
                rep = in_class ? WHITE_SPACE : "[" WHITE_SPACE "]";
            else if (d == 'S' && !in_class)
                rep = "[^" WHITE_SPACE "]";
            else if (d == 'h')
                rep = in_class ? "0-9a-fA-F" : "[0-9a-fA-F]";
            else if (d == 'H' && !in_class)
                rep = "[^0-9a-fA-F]";
            if (rep) {
                TRY(pattern_emit(p, rep, strlen(rep), i));
                i += 2;
                continue;
            }
            if (d == 'Q') { /* quoted literal text: copied verbatim up to \E */
                const char *e = strstr(src + i + 2, "\\E");
                size_t n = e ? (size_t)(e - src) + 2 - i : len - i;
                TRY(pattern_emit(p, src + i, n, i));
                i += n;
                continue;
            }
            size_t n = 2;
            while (i + n < len && ((unsigned char)src[i + n] & 0xC0) == 0x80) n++; /* a multi-byte escaped char */
            TRY(pattern_emit(p, src + i, n, i));
            i += n;
            continue;
        }
        if (in_class) {
            if (c == '[' && i + 1 < len && src[i + 1] == ':') {
                const char *e = strstr(src + i, ":]");
                size_t n = e ? (size_t)(e - src) + 2 - i : 1;
                TRY(pattern_emit(p, src + i, n, i));
                i += n;
                continue;
            }
            if (c == '[' || (c == '&' && i + 1 < len && src[i + 1] == '&'))
                return tok_fail(STATUS_UNSUPPORTED, file,
                                "%s: nested character classes and && (offset %zu) are not supported", field, i);
            if (c == ']' && i != class_body) in_class = false;
        } else if (c == '[') {
            in_class = true;
            class_body = i + 1;
            if (i + 1 < len && src[i + 1] == '^') {
                TRY(pattern_emit(p, "[^", 2, i));
                i += 2;
                class_body = i;
                continue;
            }
        } else if (c == '(' && i + 1 < len && src[i + 1] == '?') {
            size_t j = i + 2;
            while (j < len && src[j] && strchr("imx-", src[j])) j++;
            if (j > i + 2 && j < len && (src[j] == ')' || src[j] == ':')) {
                TRY(pattern_emit(p, "(?", 2, i));
                for (size_t k = i + 2; k <= j; k++) TRY(pattern_emit(p, src[k] == 'm' ? "s" : &src[k], 1, k));
                i = j + 1;
                continue;
            }
        }
        TRY(pattern_emit(p, &c, 1, i));
        i++;
    }
    return STATUS_OK;
}

/* A literal string as a pattern: every ASCII punctuation or control character escaped. */
static enum status pattern_escape(const char *s, struct pretok_pattern *p) {
    for (size_t i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        char buf[16];
        if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            buf[0] = (char)c;
            buf[1] = '\0';
        } else if (c > 0x20 && c < 0x7F) {
            snprintf(buf, sizeof buf, "\\%c", c);
        } else {
            snprintf(buf, sizeof buf, "\\x{%x}", c);
        }
        TRY(pattern_emit(p, buf, strlen(buf), i));
    }
    return STATUS_OK;
}

static enum status pattern_compile(const char *pattern, bool literal, pcre2_code **out, const char *file,
                                   const char *field) {
    struct pretok_pattern p = {0};
    enum status st =
        literal ? pattern_escape(pattern, &p) : pattern_translate(pattern, strlen(pattern), &p, file, field);
    if (st == STATUS_OK) st = tok_str_append(&p.out, "", 0); /* a valid (possibly empty) NUL-terminated string */
    if (st != STATUS_OK) goto done;
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    if (!cc) {
        st = err_set(STATUS_NOMEM, "tokenizer: out of memory compiling a regex");
        goto done;
    }
    pcre2_set_newline(cc, PCRE2_NEWLINE_LF); /* Oniguruma's only line terminator */
    int code;
    PCRE2_SIZE at;
    *out = pcre2_compile((PCRE2_SPTR)p.out.p, p.out.n,
                         PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE | PCRE2_NEVER_BACKSLASH_C, &code, &at, cc);
    pcre2_compile_context_free(cc);
    if (!*out) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        size_t src = at <= p.out.n ? p.src_off[at] : strlen(pattern);
        st = tok_fail(STATUS_FORMAT, file, "%s: regex does not compile: %s at offset %zu of \"%.200s\"", field,
                      (const char *)msg, src, pattern);
        goto done;
    }
    /* JIT is an optimisation only: without it (no JIT support, or no executable memory) matching still works. */
    (void)pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);
done:
    tok_str_free(&p.out);
    free(p.src_off);
    return st;
}

static enum status pretok_behavior(const cJSON *node, const char *file, const char *field,
                                   enum tok_split_behavior *out) {
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(node, "behavior");
    if (!cJSON_IsString(b)) return tok_fail(STATUS_FORMAT, file, "%s.behavior: missing or not a string", field);
    static const struct {
        const char *name;
        enum tok_split_behavior value;
    } names[] = {{"Isolated", TOK_SPLIT_ISOLATED},
                 {"Removed", TOK_SPLIT_REMOVED},
                 {"MergedWithPrevious", TOK_SPLIT_MERGED_WITH_PREVIOUS},
                 {"MergedWithNext", TOK_SPLIT_MERGED_WITH_NEXT},
                 {"Contiguous", TOK_SPLIT_CONTIGUOUS}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(b->valuestring, names[i].name) == 0) {
            *out = names[i].value;
            return STATUS_OK;
        }
    return tok_fail(
        STATUS_FORMAT, file,
        "%s.behavior \"%s\" is not one of Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous", field,
        b->valuestring);
}

static enum status pretok_parse_split(struct tok_pre_step *s, const cJSON *node, const char *file, const char *field,
                                      const char *where) {
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(node, "pattern");
    const cJSON *re = pat ? cJSON_GetObjectItemCaseSensitive(pat, "Regex") : NULL;
    const cJSON *str = pat ? cJSON_GetObjectItemCaseSensitive(pat, "String") : NULL;
    char sub[300];
    if (cJSON_IsString(re)) {
        snprintf(sub, sizeof sub, "%s.pattern.Regex", field);
        TRY(pattern_compile(re->valuestring, false, &s->re, file, sub));
    } else if (cJSON_IsString(str)) {
        snprintf(sub, sizeof sub, "%s.pattern.String", field);
        TRY(pattern_compile(str->valuestring, true, &s->re, file, sub));
    } else {
        return tok_fail(STATUS_FORMAT, file, "%s.pattern: expected {\"Regex\": \"...\"} or {\"String\": \"...\"}",
                        field);
    }
    TRY(pretok_behavior(node, file, field, &s->behavior));
    return json_get_bool(node, "invert", false, false, &s->invert, where);
}

static enum status pretok_parse_one(struct tok_pretok *p, const cJSON *node, const char *file, const char *field) {
    if (!cJSON_IsObject(node)) return tok_fail(STATUS_FORMAT, file, "%s: must be an object", field);
    char where[512];
    snprintf(where, sizeof where, "%s: %s", file, field);
    const char *type;
    TRY(json_get_string(node, "type", true, NULL, &type, where));
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(node, "pretokenizers");
        if (!cJSON_IsArray(list)) return tok_fail(STATUS_FORMAT, file, "%s.pretokenizers: must be an array", field);
        int i = 0;
        for (const cJSON *c = list->child; c; c = c->next, i++) {
            char sub[300];
            snprintf(sub, sizeof sub, "%s.pretokenizers[%d]", field, i);
            TRY(pretok_parse_one(p, c, file, sub));
        }
        return STATUS_OK;
    }
    if (p->n == TOK_MAX_PRE)
        return tok_fail(STATUS_UNSUPPORTED, file, "%s: more than %d pre-tokenizers", field, TOK_MAX_PRE);
    if (p->n > 0 && p->steps[p->n - 1].kind == TOK_PRE_BYTELEVEL)
        return tok_fail(STATUS_UNSUPPORTED, file,
                        "%s: a pre-tokenizer after ByteLevel is not supported (ByteLevel must come last)", field);
    struct tok_pre_step *s = &p->steps[p->n];
    memset(s, 0, sizeof *s);
    if (strcmp(type, "Split") == 0) {
        s->kind = TOK_PRE_SPLIT;
        p->n++; /* counted before parsing so that tok_pretok_free releases a half-built step */
        return pretok_parse_split(s, node, file, field, where);
    }
    if (strcmp(type, "Digits") == 0) {
        s->kind = TOK_PRE_DIGITS;
        p->n++;
        return json_get_bool(node, "individual_digits", false, false, &s->individual_digits, where);
    }
    if (strcmp(type, "ByteLevel") == 0) {
        s->kind = TOK_PRE_BYTELEVEL;
        p->n++;
        bool use_regex;
        TRY(json_get_bool(node, "add_prefix_space", false, true, &s->add_prefix_space, where));
        TRY(json_get_bool(node, "use_regex", false, true, &use_regex, where));
        if (use_regex) TRY(pattern_compile(GPT2_PATTERN, false, &s->re, file, field));
        return STATUS_OK;
    }
    return tok_fail(STATUS_UNSUPPORTED, file,
                    "%s.type \"%s\" is not supported (r1lab reads ByteLevel, Split, Digits and Sequence)", field, type);
}

enum status tok_pretok_parse(struct tok_pretok *p, const cJSON *node, const char *file) {
    memset(p, 0, sizeof *p);
    if (!node || cJSON_IsNull(node))
        return tok_fail(STATUS_UNSUPPORTED, file,
                        "pre_tokenizer: missing; r1lab reads byte-level BPE, which needs a ByteLevel pre-tokenizer");
    TRY(pretok_parse_one(p, node, file, "pre_tokenizer"));
    if (p->n == 0 || p->steps[p->n - 1].kind != TOK_PRE_BYTELEVEL)
        return tok_fail(
            STATUS_UNSUPPORTED, file,
            "pre_tokenizer: no ByteLevel pre-tokenizer; r1lab reads byte-level BPE (GPT-2, Qwen2, Llama-3 style)");
    return STATUS_OK;
}

void tok_pretok_free(struct tok_pretok *p) {
    for (size_t i = 0; i < p->n; i++) pcre2_code_free(p->steps[i].re);
    memset(p, 0, sizeof *p);
}

/* ---- running ------------------------------------------------------------------------------------------ */

static enum status pretok_push_match(struct tok_scratch *sc, size_t start, size_t end, bool is_match) {
    void *p = sc->matches;
    enum status st = tok_grow(&p, &sc->cap_matches, sc->n_matches + 1, sizeof *sc->matches);
    sc->matches = p;
    if (st != STATUS_OK) return st;
    sc->matches[sc->n_matches++] = (struct tok_match){(uint32_t)start, (uint32_t)end, is_match};
    return STATUS_OK;
}

static enum status pretok_jit_stack(struct tok_scratch *sc) {
    /* The default JIT stack (32 KiB) can be too small for long runs (e.g. thousands of spaces); give the
     * matcher a larger one, once per call. */
    sc->jit_stack = pcre2_jit_stack_create(64 * 1024, 64 * 1024 * 1024, NULL);
    sc->mctx = pcre2_match_context_create(NULL);
    if (!sc->jit_stack || !sc->mctx) return err_set(STATUS_NOMEM, "tokenizer: cannot allocate a regex stack");
    pcre2_jit_stack_assign(sc->mctx, NULL, sc->jit_stack);
    return STATUS_OK;
}

/* Pattern::find_matches for a regex: the matches and the gaps between them, covering s[0..len). */
static enum status pretok_find_regex(const pcre2_code *re, const char *s, size_t len, struct tok_scratch *sc) {
    sc->n_matches = 0;
    if (len == 0) return pretok_push_match(sc, 0, 0, false);
    if (!sc->md && !(sc->md = pcre2_match_data_create(1, NULL)))
        return err_set(STATUS_NOMEM, "tokenizer: cannot allocate regex match data");
    size_t last_end = 0, prev = 0;
    bool skip_next_empty = false;
    while (last_end <= len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)s, len, last_end, PCRE2_NO_UTF_CHECK, sc->md, sc->mctx);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !sc->jit_stack) {
            TRY(pretok_jit_stack(sc));
            continue;
        }
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return err_set(STATUS_INVALID, "tokenizer: pre-tokenizer regex failed on a %zu-byte piece: %s", len,
                           (const char *)msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
        size_t start = ov[0], end = ov[1];
        if (end < start) end = start; /* \K tricks; not in any real tokenizer */
        last_end = end;
        if (start == end) {
            uint32_t cp;
            size_t n = last_end < len ? utf8_decode(s + last_end, len - last_end, &cp) : 0;
            last_end += n ? n : 1;
            if (skip_next_empty) {
                skip_next_empty = false;
                continue;
            }
        } else {
            skip_next_empty = true;
        }
        if (start > prev) TRY(pretok_push_match(sc, prev, start, false));
        TRY(pretok_push_match(sc, start, end, true));
        prev = end;
    }
    if (prev < len) TRY(pretok_push_match(sc, prev, len, false));
    return STATUS_OK;
}

/* Pattern::find_matches for a character predicate (char::is_numeric): every numeric character is a match. */
static enum status pretok_find_digits(const char *s, size_t len, struct tok_scratch *sc) {
    sc->n_matches = 0;
    if (len == 0) return pretok_push_match(sc, 0, 0, false);
    size_t last = 0, i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        ASSERT(n > 0);
        if (tok_uc_is_numeric(cp)) {
            if (last < i) TRY(pretok_push_match(sc, last, i, false));
            TRY(pretok_push_match(sc, i, i + n, true));
            last = i + n;
        }
        i += n;
    }
    if (last < len) TRY(pretok_push_match(sc, last, len, false));
    return STATUS_OK;
}

static enum status pretok_push_split(struct tok_scratch *sc, struct tok_match m) {
    void *p = sc->splits;
    enum status st = tok_grow(&p, &sc->cap_splits, sc->n_splits + 1, sizeof *sc->splits);
    sc->splits = p;
    if (st != STATUS_OK) return st;
    sc->splits[sc->n_splits++] = m;
    return STATUS_OK;
}

/* NormalizedString::split: turns matches into splits; in the result is_match means "remove this split". */
static enum status pretok_apply_behavior(enum tok_split_behavior b, struct tok_scratch *sc) {
    sc->n_splits = 0;
    bool prev_match = false;
    if (b == TOK_SPLIT_MERGED_WITH_NEXT) {
        for (size_t k = sc->n_matches; k-- > 0;) {
            struct tok_match m = sc->matches[k];
            if (m.is_match && !prev_match && sc->n_splits > 0)
                sc->splits[sc->n_splits - 1].start = m.start;
            else
                TRY(pretok_push_split(sc, (struct tok_match){m.start, m.end, false}));
            prev_match = m.is_match;
        }
        for (size_t i = 0, j = sc->n_splits; i + 1 < j; i++, j--) {
            struct tok_match t = sc->splits[i];
            sc->splits[i] = sc->splits[j - 1];
            sc->splits[j - 1] = t;
        }
        return STATUS_OK;
    }
    for (size_t k = 0; k < sc->n_matches; k++) {
        struct tok_match m = sc->matches[k];
        bool extend = false;
        if (b == TOK_SPLIT_CONTIGUOUS)
            extend = m.is_match == prev_match && sc->n_splits > 0;
        else if (b == TOK_SPLIT_MERGED_WITH_PREVIOUS)
            extend = m.is_match && !prev_match && sc->n_splits > 0;
        if (extend)
            sc->splits[sc->n_splits - 1].end = m.end;
        else
            TRY(pretok_push_split(sc, (struct tok_match){m.start, m.end, b == TOK_SPLIT_REMOVED && m.is_match}));
        prev_match = m.is_match;
    }
    return STATUS_OK;
}

/* Appends the kept, non-empty splits (relative to base) as pieces. */
static enum status pretok_emit_splits(struct tok_scratch *sc, uint32_t base) {
    for (size_t k = 0; k < sc->n_splits; k++) {
        struct tok_match m = sc->splits[k];
        if (m.is_match || m.end == m.start) continue;
        TRY(tok_spans_push(&sc->pieces2, base + m.start, m.end - m.start, -1));
    }
    return STATUS_OK;
}

static enum status pretok_step(const struct tok_pre_step *s, struct tok_span piece, struct tok_scratch *sc) {
    switch (s->kind) {
    case TOK_PRE_SPLIT:
        TRY(pretok_find_regex(s->re, sc->work.p + piece.off, piece.len, sc));
        if (s->invert)
            for (size_t k = 0; k < sc->n_matches; k++) sc->matches[k].is_match = !sc->matches[k].is_match;
        TRY(pretok_apply_behavior(s->behavior, sc));
        return pretok_emit_splits(sc, piece.off);
    case TOK_PRE_DIGITS:
        TRY(pretok_find_digits(sc->work.p + piece.off, piece.len, sc));
        TRY(pretok_apply_behavior(s->individual_digits ? TOK_SPLIT_ISOLATED : TOK_SPLIT_CONTIGUOUS, sc));
        return pretok_emit_splits(sc, piece.off);
    case TOK_PRE_BYTELEVEL:
        if (s->add_prefix_space && sc->work.p[piece.off] != ' ') {
            /* The piece gains a leading space: copy it to the end of the work buffer behind one. */
            TRY(tok_str_reserve(&sc->work, piece.len + 1));
            uint32_t off = (uint32_t)sc->work.n;
            sc->work.p[sc->work.n++] = ' ';
            memmove(sc->work.p + sc->work.n, sc->work.p + piece.off, piece.len);
            sc->work.n += piece.len;
            sc->work.p[sc->work.n] = '\0';
            piece = (struct tok_span){off, piece.len + 1, -1};
        }
        if (!s->re) return tok_spans_push(&sc->pieces2, piece.off, piece.len, -1);
        TRY(pretok_find_regex(s->re, sc->work.p + piece.off, piece.len, sc));
        TRY(pretok_apply_behavior(TOK_SPLIT_ISOLATED, sc));
        return pretok_emit_splits(sc, piece.off);
    }
    return STATUS_OK;
}

enum status tok_pretok_run(const struct tok_pretok *p, const char *text, size_t len, struct tok_scratch *sc) {
    sc->work.n = 0;
    sc->pieces.n = 0;
    TRY(tok_str_append(&sc->work, text, len));
    if (len == 0) return STATUS_OK;
    if (len > UINT32_MAX / 2) return err_set(STATUS_INVALID, "tokenizer: text of %zu bytes is too long", len);
    TRY(tok_spans_push(&sc->pieces, 0, (uint32_t)len, -1));
    for (size_t i = 0; i < p->n; i++) {
        sc->pieces2.n = 0;
        for (size_t k = 0; k < sc->pieces.n; k++) TRY(pretok_step(&p->steps[i], sc->pieces.v[k], sc));
        struct tok_spans t = sc->pieces;
        sc->pieces = sc->pieces2;
        sc->pieces2 = t;
    }
    return STATUS_OK;
}
