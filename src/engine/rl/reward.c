/* reward: the individual reward functions and the scoring of one completion. The spec (which terms, which
 * weights) is parsed in reward_spec.c. Everything here works on byte spans of the completion: tags are ASCII,
 * so byte search is exact, and no input can make a function read outside [text, text + len). */
#include "engine/rl/reward.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "engine/run/metric.h"
#include "engine/util/strbuf.h"
#include "engine/util/utf8.h"

static bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool only_ws(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!is_ws(s[i])) return false;
    return true;
}

/* Offset of the first `tag` at or after `from`, or len. */
static size_t find_tag(const char *text, size_t len, size_t from, const char *tag) {
    size_t k = strlen(tag);
    if (from > len) return len;
    const char *p = memmem(text + from, len - from, tag, k);
    return p ? (size_t)(p - text) : len;
}

static int count_tag(const char *text, size_t len, const char *tag) {
    int n = 0;
    size_t k = strlen(tag);
    for (size_t at = find_tag(text, len, 0, tag); at < len; at = find_tag(text, len, at + k, tag)) n++;
    return n;
}

/* ---- extraction -------------------------------------------------------------------------------------- */

/* The last \boxed{ whose braces balance. Only the last BOXED_TRIES occurrences are examined, each with one
 * forward scan, so a completion full of unclosed \boxed{ costs linear time, not quadratic. */
#define BOXED_TRIES 64
static bool find_boxed(const char *text, size_t len, struct reward_span *out) {
    static const char BOX[] = "\\boxed{";
    const size_t k = sizeof BOX - 1;
    size_t at[BOXED_TRIES];
    size_t n = 0; /* occurrences seen; the last BOXED_TRIES are in the ring at[] */
    for (size_t p = find_tag(text, len, 0, BOX); p < len; p = find_tag(text, len, p + 1, BOX))
        at[n++ % BOXED_TRIES] = p;
    for (size_t i = n; i > 0 && n - i < BOXED_TRIES; i--) {
        size_t start = at[(i - 1) % BOXED_TRIES] + k, j = start;
        int depth = 1;
        for (; j < len && depth > 0; j++) {
            if (text[j] == '{')
                depth++;
            else if (text[j] == '}')
                depth--;
        }
        if (depth == 0) { /* j is one past the closing brace */
            *out = (struct reward_span){start, j - 1 - start};
            return true;
        }
    }
    return false;
}

bool reward_find_answer(const char *text, size_t len, struct reward_span *out) {
    static const char OPEN[] = "<answer>", CLOSE[] = "</answer>";
    bool found = false, open = false;
    size_t content = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '<') continue;
        if (len - i >= sizeof OPEN - 1 && memcmp(text + i, OPEN, sizeof OPEN - 1) == 0) {
            open = true; /* a later <answer> replaces an unclosed earlier one: innermost wins */
            content = i + sizeof OPEN - 1;
        } else if (open && len - i >= sizeof CLOSE - 1 && memcmp(text + i, CLOSE, sizeof CLOSE - 1) == 0) {
            *out = (struct reward_span){content, i - content};
            found = true;
            open = false;
        }
    }
    if (found) return true;
    return find_boxed(text, len, out);
}

bool reward_find_think(const char *text, size_t len, struct reward_span *out) {
    size_t open = find_tag(text, len, 0, "<think>");
    if (open == len) return false;
    size_t start = open + 7, end = find_tag(text, len, start, "</think>");
    *out = (struct reward_span){start, end - start};
    return true;
}

/* ---- accuracy and format ----------------------------------------------------------------------------- */

double reward_accuracy(const struct problem *p, const char *text, size_t len) {
    struct reward_span a;
    if (!reward_find_answer(text, len, &a)) return 0.0;
    return task_check_answer(p, text + a.off, a.len) ? 1.0 : 0.0;
}

/* The four checks of the format reward; strict = d. */
struct format_checks {
    bool a, b, c, d;
};

static struct format_checks format_r1_zero(const char *t, size_t len) {
    struct format_checks f = {0};
    size_t ts = find_tag(t, len, 0, "<think>"), te = find_tag(t, len, 0, "</think>");
    size_t as = find_tag(t, len, 0, "<answer>"), ae = find_tag(t, len, 0, "</answer>");
    f.a = count_tag(t, len, "<think>") == 1 && count_tag(t, len, "</think>") == 1 && ts < te &&
          !only_ws(t + ts + 7, te - ts - 7);
    f.b = count_tag(t, len, "<answer>") == 1 && count_tag(t, len, "</answer>") == 1 && as < ae &&
          !only_ws(t + as + 8, ae - as - 8);
    f.c = f.a && f.b && te + 8 <= as && only_ws(t + te + 8, as - te - 8);
    f.d = f.c && only_ws(t, ts) && only_ws(t + ae + 9, len - ae - 9);
    return f;
}

static struct format_checks format_r1(const char *t, size_t len) {
    struct format_checks f = {0};
    size_t ts = find_tag(t, len, 0, "<think>"), te = find_tag(t, len, 0, "</think>");
    f.a = count_tag(t, len, "<think>") == 1 && count_tag(t, len, "</think>") == 1 && ts < te && only_ws(t, ts) &&
          !only_ws(t + ts + 7, te - ts - 7);
    if (!f.a) return f;
    const char *s = t + te + 8;
    size_t n = len - te - 8;
    f.b = !only_ws(s, n);
    int as = count_tag(s, n, "<answer>"), ae = count_tag(s, n, "</answer>");
    struct reward_span span;
    f.c = f.b && as <= 1 && ae <= 1 && reward_find_answer(s, n, &span) && !only_ws(s + span.off, span.len);
    bool tail_ok = true;
    if (ae == 1) {
        size_t end = find_tag(s, n, 0, "</answer>") + 9;
        tail_ok = as == 1 && only_ws(s + end, n - end);
    }
    /* The summary must say something besides the answer itself. */
    size_t first_tag = as == 1 ? find_tag(s, n, 0, "<answer>") : n;
    bool has_summary = as == 1 ? !only_ws(s, first_tag) : true;
    f.d = f.c && tail_ok && has_summary;
    return f;
}

/* format_r1 with the think required to be empty. */
static struct format_checks format_plain(const char *t, size_t len) {
    size_t ts = find_tag(t, len, 0, "<think>"), te = find_tag(t, len, 0, "</think>");
    bool empty = count_tag(t, len, "<think>") == 1 && count_tag(t, len, "</think>") == 1 && ts < te && only_ws(t, ts) &&
                 only_ws(t + ts + 7, te - ts - 7);
    if (!empty) return (struct format_checks){0};
    /* Judge the rest as format_r1 would, with a placeholder reasoning. */
    struct strbuf sb = {0};
    strbuf_puts(&sb, "<think> . </think>");
    strbuf_append(&sb, t + te + 8, len - te - 8);
    struct format_checks f = sb.data ? format_r1(sb.data, sb.len) : (struct format_checks){0};
    strbuf_free(&sb);
    return f;
}

double reward_format_plain(const char *text, size_t len, bool soft) {
    struct format_checks f = format_plain(text, len);
    if (!soft) return f.d ? 1.0 : 0.0;
    return 0.25 * (f.a + f.b + f.c + f.d);
}

double reward_format(const char *text, size_t len, enum reward_format_style style, bool soft) {
    struct format_checks f = style == REWARD_FORMAT_R1 ? format_r1(text, len) : format_r1_zero(text, len);
    if (!soft) return f.d ? 1.0 : 0.0;
    return 0.25 * (f.a + f.b + f.c + f.d);
}

/* ---- language consistency ---------------------------------------------------------------------------- */

static bool is_latin_letter(uint32_t cp) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) || (cp >= 0x1E00 && cp <= 0x1EFF);
}

static bool is_cjk(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0x20000 && cp <= 0x2FA1F);
}

static bool is_letter(uint32_t cp) {
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT ||
           c == UTF8PROC_CATEGORY_LM || c == UTF8PROC_CATEGORY_LO;
}

double reward_language_share(const char *s, size_t n, enum reward_lang lang) {
    /* Classes: runs of Latin letters and runs of other letters are words (two letters or more); each CJK
     * ideograph is a word of its own; anything else separates words. */
    enum cls { SEP, LATIN, OTHER, CJK };
    size_t latin = 0, cjk = 0, other = 0, run_len = 0;
    enum cls run = SEP;
    for (size_t i = 0; i <= n;) {
        uint32_t cp = ' ';
        size_t k = 1;
        if (i < n) {
            k = utf8_decode(s + i, n - i, &cp);
            if (k == 0) { /* an invalid byte separates */
                k = 1;
                cp = ' ';
            }
        }
        enum cls c = is_latin_letter(cp) ? LATIN : is_cjk(cp) ? CJK : is_letter(cp) ? OTHER : SEP;
        if (c != run || c == CJK) {
            if (run_len >= 2 && run == LATIN) latin++;
            if (run_len >= 2 && run == OTHER) other++;
            run_len = 0;
            run = c;
        }
        if (c == CJK)
            cjk++;
        else if (c != SEP)
            run_len++;
        i += k;
    }
    size_t total = latin + cjk + other;
    if (total == 0) return 1.0;
    return (double)(lang == REWARD_LANG_ZH ? cjk : latin) / (double)total;
}

double reward_language(const char *text, size_t len, enum reward_lang lang) {
    struct reward_span t;
    if (!reward_find_think(text, len, &t)) return 0.0;
    return reward_language_share(text + t.off, t.len, lang);
}

/* ---- length ------------------------------------------------------------------------------------------ */

double reward_length(const struct reward_term *t, int n_tokens, int max_tokens, bool correct) {
    int max = t->max_tokens > 0 ? t->max_tokens : max_tokens;
    if (max <= 0) return 0.0;
    if (t->mode == REWARD_LENGTH_COSINE) {
        if (n_tokens >= max) return t->exceed;
        double r0 = correct ? t->correct_short : t->wrong_short, rl = correct ? t->correct_long : t->wrong_long;
        double x = n_tokens < 0 ? 0.0 : (double)n_tokens / max;
        return rl + 0.5 * (r0 - rl) * (1.0 + cos(M_PI * x));
    }
    int buffer = t->buffer_tokens > 0 ? t->buffer_tokens : max / 4;
    if (buffer < 1) buffer = 1;
    if (buffer > max) buffer = max;
    int free_len = max - buffer;
    if (n_tokens <= free_len) return 0.0;
    if (n_tokens >= max) return -1.0;
    return (double)(free_len - n_tokens) / buffer;
}

/* ---- reflection -------------------------------------------------------------------------------------- */

static const char *const REFLECTION_WORDS[] = {
    "wait",      "check",        "checks",  "checked",  "checking",  "verify",     "verifies",    "verified",
    "verifying", "verification", "recheck", "rechecks", "rechecked", "rechecking", "doublecheck", NULL,
};
static const char *const REFLECTION_ZH[] = {"等等", "等一下", "检查", "验证", NULL};

static bool word_is(const char *w, size_t n, const char *lit) {
    return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

static bool is_reflection_word(const char *w, size_t n) {
    for (size_t i = 0; REFLECTION_WORDS[i]; i++)
        if (word_is(w, n, REFLECTION_WORDS[i])) return true;
    if (n >= 3 && w[0] == 'h') { /* hmm, hmmm, ... */
        for (size_t i = 1; i < n; i++)
            if (w[i] != 'm') return false;
        return true;
    }
    return false;
}

static bool is_ascii_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The first English reflection starting at or after `from`: a reflection word, or "let me re..." (the span
 * covers the phrase). Words are runs of ASCII letters compared in lower case. The scan starts at `from`: a
 * phrase that begins before it is never reported, and one that begins after it needs no earlier words (a word
 * that `from` cuts is skipped, it begins before `from`). It stops once no match can begin at or before
 * `limit`, the offset of a match the caller found already: each call then costs the distance to the next
 * match, not the length of the text, and counting k reflections is linear rather than k times the text. */
static bool next_english(const char *s, size_t n, size_t from, size_t limit, struct reward_span *out) {
    char prev2[8] = "", prev1[8] = "";
    size_t prev2_start = SIZE_MAX, prev1_start = SIZE_MAX, i = from; /* SIZE_MAX: no such word */
    while (i > 0 && i < n && is_ascii_letter(s[i - 1]) && is_ascii_letter(s[i])) i++;
    while (i < n) {
        if (!is_ascii_letter(s[i])) {
            /* Past `limit` with no word pending that a phrase could start from: nothing can beat the caller's
             * match (without this, a text of Chinese reflections only is scanned to its end for each one). */
            if (i > limit && prev1_start > limit && prev2_start > limit) return false;
            i++;
            continue;
        }
        char w[16];
        size_t k = 0, start = i;
        for (; i < n && is_ascii_letter(s[i]); i++)
            if (k < sizeof w) w[k++] = (char)(s[i] | 0x20);
        size_t len = i - start;
        if (len > sizeof w) len = sizeof w + 1; /* too long to be any of the words */
        bool phrase = strcmp(prev2, "let") == 0 && strcmp(prev1, "me") == 0 && len >= 2 && len <= sizeof w &&
                      w[0] == 'r' && w[1] == 'e';
        size_t span_start = phrase ? prev2_start : start;
        if ((phrase || (len <= sizeof w && is_reflection_word(w, len))) && span_start >= from) {
            out->off = span_start;
            out->len = i - span_start;
            return true;
        }
        memcpy(prev2, prev1, sizeof prev2);
        prev2_start = prev1_start;
        if (len < sizeof prev1) {
            memcpy(prev1, w, len);
            prev1[len] = '\0';
        } else {
            prev1[0] = '\0';
        }
        prev1_start = start;
        /* Every later match starts at prev2 (a phrase) or after: none can beat the caller's any more. */
        if (start > limit && (prev2_start == SIZE_MAX || prev2_start > limit)) return false;
    }
    return false;
}

/* The first Chinese reflection word starting in [from, limit): one pass over the bytes, so that a text full of
 * one of the words does not make every other word's search run to its end. */
static bool next_chinese(const char *s, size_t n, size_t from, size_t limit, struct reward_span *out) {
    for (size_t i = from; i < limit && i < n; i++) {
        if ((unsigned char)s[i] < 0x80) continue;
        for (size_t z = 0; REFLECTION_ZH[z]; z++) {
            size_t k = strlen(REFLECTION_ZH[z]);
            if (k <= n - i && memcmp(s + i, REFLECTION_ZH[z], k) == 0) {
                *out = (struct reward_span){i, k};
                return true;
            }
        }
    }
    return false;
}

bool reward_next_reflection(const char *s, size_t n, size_t *pos, struct reward_span *out) {
    if (*pos >= n) return false;
    struct reward_span zh, en;
    bool have_zh = next_chinese(s, n, *pos, n, &zh);
    bool have_en = next_english(s, n, *pos, have_zh ? zh.off : n, &en);
    if (!have_zh && !have_en) return false;
    *out = have_en && (!have_zh || en.off < zh.off) ? en : zh;
    *pos = out->off + out->len;
    return true;
}

int reward_count_reflections(const char *s, size_t n) {
    int count = 0;
    size_t pos = 0;
    struct reward_span sp;
    while (reward_next_reflection(s, n, &pos, &sp)) count++;
    return count;
}

bool reward_has_reflection(const char *text, size_t len) {
    struct reward_span t, first;
    size_t pos = 0;
    if (!reward_find_think(text, len, &t)) return false;
    return reward_next_reflection(text + t.off, t.len, &pos, &first); /* the first one is enough */
}

/* The last number ("12", "-3", "7/3") that ends at or before s + end, or false. */
static bool last_number_before(const char *s, size_t end, struct reward_span *out) {
    size_t i = end;
    while (i > 0) {
        if (!isdigit((unsigned char)s[i - 1])) {
            i--;
            continue;
        }
        size_t stop = i;
        while (i > 0 && (isdigit((unsigned char)s[i - 1]) || s[i - 1] == '/')) i--;
        while (i < stop && s[i] == '/') i++; /* a stray leading slash is no part of the number */
        if (i > 0 && s[i - 1] == '-' && (i == 1 || s[i - 2] == ' ')) i--;
        out->off = i;
        out->len = stop - i;
        return true;
    }
    return false;
}

/* Countdown's claims are expressions, written as steps ("try 4 + 6 = 10 , 10 * 3 = 30 , not 24 . wait"):
 * the claim checked is the value after the last "=" before the first reflection, and the final answer is
 * the value of the answer's expression. Values, not expressions, are compared: the CoT never writes the
 * tried expression whole, so a retry that reaches the same value another way counts as unchanged. */
static int countdown_changed(const struct problem *p, const char *cot, size_t reflection_off, const char *answer,
                             size_t answer_len) {
    size_t eq = reflection_off;
    while (eq > 0 && cot[eq - 1] != '=') eq--;
    if (eq == 0) return -1;
    size_t start = eq;
    while (start < reflection_off && cot[start] == ' ') start++;
    size_t stop = start;
    while (stop < reflection_off && (isdigit((unsigned char)cot[stop]) || (cot[stop] && strchr("-/.", cot[stop]))))
        stop++;
    while (stop > start && cot[stop - 1] == '.') stop--; /* a sentence's full stop, not a decimal point */
    struct rat claim, final;
    bool syntax_ok = true;
    if (stop == start || rat_parse(cot + start, stop - start, &claim, &syntax_ok) != RAT_OK) return -1;
    enum countdown_verdict v = task_countdown_check(p->countdown.numbers, p->countdown.n, p->countdown.target, answer,
                                                    answer_len, &final, NULL, 0, NULL);
    if (v != COUNTDOWN_OK && v != COUNTDOWN_WRONG_VALUE) return -1; /* no value to compare */
    return !rat_eq(claim, final);
}

int reward_reflection_changed(const struct problem *p, const char *text, size_t len) {
    struct reward_span think, first, before, answer;
    if (!reward_find_think(text, len, &think)) return -1;
    size_t pos = 0;
    if (!reward_next_reflection(text + think.off, think.len, &pos, &first)) return -1;
    if (!reward_find_answer(text, len, &answer)) return -1;
    if (p->kind == TASK_COUNTDOWN)
        return countdown_changed(p, text + think.off, first.off, text + answer.off, answer.len);
    if (!last_number_before(text + think.off, first.off, &before)) return -1;
    char *a = NULL, *b = NULL;
    int changed = -1;
    if (task_canonical_answer(p, text + think.off + before.off, before.len, &a) == STATUS_OK &&
        task_canonical_answer(p, text + answer.off, answer.len, &b) == STATUS_OK)
        changed = strcmp(a, b) != 0;
    free(a);
    free(b);
    return changed;
}

bool reward_mixed_language(const char *text, size_t len, enum reward_lang lang) {
    struct reward_span t;
    if (!reward_find_think(text, len, &t)) return false;
    return reward_language_share(text + t.off, t.len, lang) < 1.0;
}

/* ---- scoring ----------------------------------------------------------------------------------------- */

void reward_score(const struct reward_spec *spec, const struct problem *p, const char *text, size_t len, int n_tokens,
                  int max_tokens, struct reward_result *out) {
    memset(out, 0, sizeof *out);
    out->has_answer = reward_find_answer(text, len, &out->answer);
    out->correct = out->has_answer && task_check_answer(p, text + out->answer.off, out->answer.len);
    out->format_ok = reward_format(text, len, REWARD_FORMAT_R1_ZERO, false) == 1.0;
    out->format_r1 = (p->kind == TASK_PLAIN ? reward_format_plain(text, len, false)
                                            : reward_format(text, len, REWARD_FORMAT_R1, false)) == 1.0;
    out->reflection = reward_has_reflection(text, len);
    out->answer_changed = (signed char)(out->reflection ? reward_reflection_changed(p, text, len) : -1);
    out->mixed_language = reward_mixed_language(text, len, REWARD_LANG_EN);
    for (size_t i = 0; i < spec->n; i++) {
        const struct reward_term *t = &spec->terms[i];
        double v = 0;
        switch (t->kind) {
        case REWARD_ACCURACY:
            v = out->correct ? 1.0 : 0.0;
            break;
        case REWARD_FORMAT:
            v = p->kind == TASK_PLAIN && t->style == REWARD_FORMAT_R1 ? reward_format_plain(text, len, t->soft)
                                                                      : reward_format(text, len, t->style, t->soft);
            break;
        case REWARD_HELPFULNESS:
            v = reward_helpfulness(text, len, t->lang);
            break;
        case REWARD_LANGUAGE:
            v = reward_language(text, len, t->lang);
            break;
        case REWARD_LENGTH:
            v = reward_length(t, n_tokens, max_tokens, out->correct);
            break;
        case REWARD_KIND_COUNT:
            ASSERT(0);
        }
        out->value[i] = v;
        out->total += t->weight * v;
    }
}

/* ---- helpfulness ------------------------------------------------------------------------------------- */

static size_t count_words(const char *s, size_t n) {
    size_t words = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t')) i++;
        if (i < n) words++;
        while (i < n && !(s[i] == ' ' || s[i] == '\n' || s[i] == '\t')) i++;
    }
    return words;
}

static bool has_letters(const char *s, size_t n) {
    for (size_t i = 0; i + 1 < n; i++)
        if (isalpha((unsigned char)s[i]) && isalpha((unsigned char)s[i + 1])) return true;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0xE4 && (unsigned char)s[i] <= 0xE9) return true; /* a CJK ideograph */
    return false;
}

double reward_helpfulness(const char *text, size_t len, enum reward_lang lang) {
    size_t te = find_tag(text, len, 0, "</think>");
    if (te == len) return 0.0; /* no summary without a closed think */
    const char *s = text + te + 8;
    size_t n = len - te - 8;
    size_t as = find_tag(s, n, 0, "<answer>");
    size_t prose = as; /* the summary's words before the answer tags */
    while (prose > 0 && (s[prose - 1] == ' ' || s[prose - 1] == '\n')) prose--;
    bool said = has_letters(s, prose);
    bool one_language = reward_language_share(s, n, lang) == 1.0;
    bool concise = count_words(s, n) <= 40;
    bool ends = false;
    if (as < n && count_tag(s, n, "<answer>") == 1 && count_tag(s, n, "</answer>") == 1) {
        size_t ae = find_tag(s, n, 0, "</answer>");
        ends = ae > as && only_ws(s + ae + 9, n - ae - 9) && prose > 0 && strchr(".!?", s[prose - 1]) != NULL;
    }
    return 0.25 * (said + one_language + concise + ends);
}

/* ---- tallies ----------------------------------------------------------------------------------------- */

void reward_tally_pack(const struct reward_tally *t, double *v) {
    const int f[REWARD_TALLY_FIELDS] = {t->n, t->reflecting, t->reflecting_correct, t->plain_correct,
                                        t->changed_known, t->changed, t->mixed};
    for (int i = 0; i < REWARD_TALLY_FIELDS; i++) v[i] = f[i];
}

struct reward_tally reward_tally_unpack(const double *v) {
    return (struct reward_tally){(int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)v[4], (int)v[5], (int)v[6]};
}

void reward_tally_add(struct reward_tally *t, const struct reward_result *r) {
    t->n++;
    if (r->reflection) {
        t->reflecting++;
        t->reflecting_correct += r->correct;
        if (r->answer_changed >= 0) {
            t->changed_known++;
            t->changed += r->answer_changed;
        }
    } else {
        t->plain_correct += r->correct;
    }
    t->mixed += r->mixed_language;
}

static void add_share(cJSON *obj, enum reward_tally_dest dest, enum metric_id step_id, enum metric_id eval_id, int num,
                      int den) {
    if (den <= 0) return;
    double v = (double)num / den;
    if (dest == REWARD_TALLY_STEP) metric_put(obj, step_id, v);
    else if (dest == REWARD_TALLY_EVAL) metric_put(obj, eval_id, v);
    else metric_put_bare(obj, eval_id, v);
}

void reward_tally_to_json(const struct reward_tally *t, cJSON *obj, enum reward_tally_dest dest) {
    add_share(obj, dest, METRIC_REFLECTION_RATE, METRIC_EVAL_REFLECTION_RATE, t->reflecting, t->n);
    add_share(obj, dest, METRIC_REFLECTION_ACCURACY_WITH, METRIC_EVAL_REFLECTION_ACCURACY_WITH, t->reflecting_correct,
              t->reflecting);
    add_share(obj, dest, METRIC_REFLECTION_ACCURACY_WITHOUT, METRIC_EVAL_REFLECTION_ACCURACY_WITHOUT, t->plain_correct,
              t->n - t->reflecting);
    add_share(obj, dest, METRIC_REFLECTION_ANSWER_CHANGED, METRIC_EVAL_REFLECTION_ANSWER_CHANGED, t->changed,
              t->changed_known);
    add_share(obj, dest, METRIC_LANGUAGE_MIXED_RATE, METRIC_EVAL_LANGUAGE_MIXED_RATE, t->mixed, t->n);
}
