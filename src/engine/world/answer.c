/* answer: implementation. Every rewrite step only shortens the text, so the work happens in place on one
 * malloc'd copy. */
#include "engine/world/answer.h"

#include <stdlib.h>
#include <string.h>

struct text {
    char *p;
    size_t n;
};

static bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
static bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_glue(char c) {
    return c == '+' || c == '-' || c == '/' || c == '.';
}

static void trim(struct text *t) {
    while (t->n && is_ws(t->p[0])) {
        t->p++;
        t->n--;
    }
    while (t->n && is_ws(t->p[t->n - 1])) t->n--;
}

static bool starts_with(const struct text *t, const char *pre) {
    size_t k = strlen(pre);
    return t->n >= k && memcmp(t->p, pre, k) == 0;
}

static bool ends_with(const struct text *t, const char *suf) {
    size_t k = strlen(suf);
    return t->n >= k && memcmp(t->p + t->n - k, suf, k) == 0;
}

/* Position of the '}' matching the '{' at open, or (size_t)-1. */
static size_t match_brace(const char *p, size_t n, size_t open) {
    int depth = 0;
    for (size_t i = open; i < n; i++) {
        if (p[i] == '{')
            depth++;
        else if (p[i] == '}' && --depth == 0)
            return i;
    }
    return (size_t)-1;
}

/* Removes `pre` … `suf` when they wrap the whole text. */
static bool peel(struct text *t, const char *pre, const char *suf) {
    size_t a = strlen(pre), b = strlen(suf);
    if (t->n < a + b || !starts_with(t, pre) || !ends_with(t, suf)) return false;
    t->p += a;
    t->n -= a + b;
    return true;
}

/* Removes \cmd{…} when the braces enclose the whole rest of the text. */
static bool peel_command(struct text *t, const char *cmd) {
    size_t k = strlen(cmd);
    if (!starts_with(t, cmd) || t->n <= k || t->p[k] != '{') return false;
    if (match_brace(t->p, t->n, k) != t->n - 1) return false;
    t->p += k + 1;
    t->n -= k + 2;
    return true;
}

static void peel_all(struct text *t) {
    static const char *commands[] = {"\\boxed", "\\text", "\\textbf", "\\mathrm", "\\mathbf", "\\fbox"};
    bool changed = true;
    /* A bounded number of rounds: each may scan the text, and real answers need two or three. */
    for (int round = 0; changed && round < 32; round++) {
        trim(t);
        changed = peel(t, "$$", "$$") || peel(t, "$", "$") || peel(t, "\\(", "\\)") || peel(t, "\\[", "\\]") ||
                  peel(t, "**", "**");
        for (size_t i = 0; !changed && i < sizeof commands / sizeof commands[0]; i++)
            changed = peel_command(t, commands[i]);
        while (t->n && t->p[t->n - 1] == '.') {
            t->n--;
            changed = true;
        }
        /* "x = 2", "y=-3": a single letter, then '='. "ab = 2" stays text. */
        if (t->n >= 2 && is_alpha(t->p[0]) && !is_alpha(t->p[1])) {
            size_t i = 1;
            while (i < t->n && is_ws(t->p[i])) i++;
            if (i < t->n && t->p[i] == '=') {
                t->p += i + 1;
                t->n -= i + 1;
                changed = true;
            }
        }
    }
}

/* U+2212 MINUS SIGN (E2 88 92) to '-', in place. */
static void ascii_minus(struct text *t) {
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (i + 2 < t->n && (unsigned char)t->p[i] == 0xE2 && (unsigned char)t->p[i + 1] == 0x88 &&
            (unsigned char)t->p[i + 2] == 0x92) {
            t->p[w++] = '-';
            i += 2;
        } else {
            t->p[w++] = t->p[i];
        }
    }
    t->n = w;
}

/* [sign]\frac{A}{B} covering the whole text becomes [sign]A/B. */
static void latex_frac(struct text *t) {
    size_t s = (t->n && (t->p[0] == '-' || t->p[0] == '+')) ? 1 : 0;
    static const char *cmds[] = {"\\frac", "\\dfrac", "\\tfrac"};
    for (size_t c = 0; c < 3; c++) {
        size_t k = strlen(cmds[c]);
        if (t->n < s + k + 4 || memcmp(t->p + s, cmds[c], k) != 0 || t->p[s + k] != '{') continue;
        size_t a_open = s + k, a_close = match_brace(t->p, t->n, a_open);
        if (a_close == (size_t)-1 || a_close + 1 >= t->n || t->p[a_close + 1] != '{') return;
        size_t b_open = a_close + 1, b_close = match_brace(t->p, t->n, b_open);
        if (b_close != t->n - 1) return;
        size_t w = s;
        for (size_t i = a_open + 1; i < a_close; i++) t->p[w++] = t->p[i];
        t->p[w++] = '/';
        for (size_t i = b_open + 1; i < b_close; i++) t->p[w++] = t->p[i];
        t->n = w;
        return;
    }
}

/* Copies t into out (capacity >= t->n + 1) without the whitespace that touches a sign, '/' or '.', so
 * "- 3", "1 / 2" become numbers while "2 3" keeps its space and stays text. */
static size_t squeeze_spaces(const struct text *t, char *out) {
    size_t w = 0;
    for (size_t i = 0; i < t->n;) {
        if (!is_ws(t->p[i])) {
            out[w++] = t->p[i++];
            continue;
        }
        size_t j = i;
        while (j < t->n && is_ws(t->p[j])) j++;
        /* Leading and trailing whitespace goes too (the text is trimmed already, but be safe). */
        bool inner = w > 0 && j < t->n;
        if (inner && !is_glue(out[w - 1]) && !is_glue(t->p[j])) out[w++] = ' ';
        i = j;
    }
    out[w] = '\0';
    return w;
}

/* "1,234,567.5" to "1234567.5" when every group after the first has exactly three digits. */
static size_t drop_thousands(char *s, size_t n) {
    size_t i = (n && (s[0] == '+' || s[0] == '-')) ? 1 : 0, lead = 0;
    while (i + lead < n && is_digit(s[i + lead])) lead++;
    if (lead == 0 || lead > 3 || i + lead >= n || s[i + lead] != ',') return n;
    size_t k = i + lead;
    while (k < n && s[k] == ',') {
        for (size_t d = 1; d <= 3; d++)
            if (k + d >= n || !is_digit(s[k + d])) return n;
        k += 4;
    }
    if (k < n && s[k] != '.') return n;
    size_t w = 0;
    for (size_t r = 0; r < n; r++)
        if (s[r] != ',') s[w++] = s[r];
    s[w] = '\0';
    return w;
}

/* Canonical text of a well-formed number too large for int64 (see the header). */
static char *bignum_canon(const char *s, size_t n) {
    char *out = malloc(n + 2);
    if (!out) return NULL;
    size_t w = 0, i = 0;
    if (s[0] == '+' || s[0] == '-') {
        if (s[0] == '-') out[w++] = '-';
        i = 1;
    }
    const char *slash = memchr(s, '/', n);
    if (slash) {
        size_t sl = (size_t)(slash - s);
        while (i + 1 < sl && s[i] == '0') i++;
        while (i < sl) out[w++] = s[i++];
        out[w++] = '/';
        i = sl + 1;
        while (i + 1 < n && s[i] == '0') i++;
        while (i < n) out[w++] = s[i++];
    } else {
        const char *dot = memchr(s, '.', n);
        size_t int_end = dot ? (size_t)(dot - s) : n;
        while (i < int_end && s[i] == '0') i++;
        if (i == int_end) out[w++] = '0';
        while (i < int_end) out[w++] = s[i++];
        if (dot) {
            size_t fe = n;
            while (fe > int_end + 1 && s[fe - 1] == '0') fe--;
            if (fe > int_end + 1) {
                out[w++] = '.';
                for (size_t k = int_end + 1; k < fe; k++) out[w++] = s[k];
            }
        }
    }
    out[w] = '\0';
    return out;
}

static char *text_canon(const struct text *t) {
    char *out = malloc(t->n + 1);
    if (!out) return NULL;
    size_t w = 0;
    bool space = false;
    for (size_t i = 0; i < t->n; i++) {
        char c = t->p[i];
        if (is_ws(c)) {
            space = w > 0;
            continue;
        }
        if (space) out[w++] = ' ';
        space = false;
        out[w++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[w] = '\0';
    return out;
}

enum status answer_parse(const char *s, size_t len, struct answer *out) {
    *out = (struct answer){0};
    char *copy = malloc(len + 1), *num = malloc(len + 1);
    if (!copy || !num) {
        free(copy);
        free(num);
        return err_set(STATUS_NOMEM, "out of memory parsing an answer of %zu bytes", len);
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
    struct text t = {copy, len};
    ascii_minus(&t);
    peel_all(&t);
    latex_frac(&t);
    size_t n = drop_thousands(num, squeeze_spaces(&t, num));
    struct rat v;
    bool syntax_ok;
    enum rat_result r = n ? rat_parse(num, n, &v, &syntax_ok) : RAT_OK;
    if (t.n == 0) {
        out->kind = ANSWER_EMPTY;
        out->canon = strdup("");
    } else if (n && syntax_ok && r == RAT_OK) {
        out->kind = ANSWER_NUMBER;
        out->value = v;
        out->canon = malloc(RAT_STRLEN);
        if (out->canon) rat_format(out->canon, RAT_STRLEN, v);
    } else if (n && syntax_ok && r == RAT_OVERFLOW) {
        out->kind = ANSWER_BIGNUM;
        out->canon = bignum_canon(num, n);
    } else if (n && syntax_ok) {
        out->kind = ANSWER_INVALID;
        out->canon = strdup(num);
    } else {
        out->kind = ANSWER_TEXT;
        out->canon = text_canon(&t);
    }
    free(copy);
    free(num);
    if (!out->canon) return err_set(STATUS_NOMEM, "out of memory parsing an answer of %zu bytes", len);
    return STATUS_OK;
}

void answer_free(struct answer *a) {
    free(a->canon);
    *a = (struct answer){0};
}

bool answer_equal(const struct answer *a, const struct answer *b) {
    if (a->kind != b->kind || a->kind == ANSWER_EMPTY || a->kind == ANSWER_INVALID) return false;
    if (a->kind == ANSWER_NUMBER) return rat_eq(a->value, b->value);
    return strcmp(a->canon, b->canon) == 0;
}

bool answer_match(const char *candidate, size_t len, const char *gold) {
    struct answer a, b;
    if (answer_parse(candidate, len, &a) != STATUS_OK) return false;
    if (answer_parse(gold, strlen(gold), &b) != STATUS_OK) {
        answer_free(&a);
        return false;
    }
    bool eq = answer_equal(&a, &b);
    answer_free(&a);
    answer_free(&b);
    return eq;
}
