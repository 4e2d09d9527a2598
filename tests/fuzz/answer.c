/* Fuzz target: everything that reads a model's completion — the final answer (last <answer>…</answer>, else the
 * last balanced \boxed{}), the CoT span, the format, language, helpfulness, readability and length rewards,
 * reflection counting, answer canonicalisation (answer.c: wrappers, \frac, thousands separators, big numbers,
 * fractions), the Countdown expression checker, and the REPL's streaming <think>/<answer> splitter. The completion
 * is checked against gold answers of every kind (integer, fraction, big number, text, Countdown).
 *
 * Checks beyond "no crash": spans lie inside the text; rewards are finite and in their documented ranges; a
 * canonical number re-parses to itself; the think splitter's output is the same however the text is cut; the
 * reflection finder finds the same spans as the quadratic one it replaced (kept here as the reference). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/rl/readability.h"
#include "engine/rl/reward.h"
#include "engine/util/strbuf.h"
#include "engine/world/answer.h"
#include "engine/world/dataset.h"
#include "lib/fuzz_util.h"
#include "repl/think.h"

static struct dataset golds;
static struct reward_spec spec;

static const char GOLDS[] = "{\"prompt\": \"p\", \"answer\": \"2\"}\n"
                            "{\"prompt\": \"p\", \"answer\": \"-7/3\"}\n"
                            "{\"prompt\": \"p\", \"answer\": 0.5}\n"
                            "{\"prompt\": \"p\", \"answer\": \"123456789012345678901234567890\"}\n"
                            "{\"prompt\": \"p\", \"answer\": \"Paris\"}\n"
                            "{\"prompt\": \"p\", \"answer\": \"#### 1,234\"}\n"
                            "{\"prompt\": \"p\", \"numbers\": [3, 7, 25, 50], \"target\": 96}\n";
static const char SPEC[] = "[\"accuracy\", {\"name\": \"format\", \"soft\": true}, {\"name\": \"language\"},"
                           " {\"name\": \"length\", \"mode\": \"cosine\", \"max_tokens\": 64}]";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    if (dataset_load_text(&golds, GOLDS, sizeof GOLDS - 1, "golds") != STATUS_OK ||
        reward_spec_parse_text(&spec, SPEC, "spec") != STATUS_OK) {
        fprintf(stderr, "%s\n", err_msg());
        abort();
    }
    return 0;
}

static void check_span(const struct reward_span *s, size_t len) {
    if (s->off > len || s->len > len - s->off) abort();
}

static void check_unit(double x) {
    if (!(x >= 0.0 && x <= 1.0)) abort();
}

/* The reflection finder as it was before it was made linear (it rescanned the text from its start for every
 * match, and searched each Chinese word to the end): the new one must find exactly the same spans. */
static const char *const REF_WORDS[] = {
    "wait",      "check",        "checks",  "checked",  "checking",  "verify",     "verifies",    "verified",
    "verifying", "verification", "recheck", "rechecks", "rechecked", "rechecking", "doublecheck", NULL};
static const char *const REF_ZH[] = {"\xe7\xad\x89\xe7\xad\x89", "\xe7\xad\x89\xe4\xb8\x80\xe4\xb8\x8b",
                                     "\xe6\xa3\x80\xe6\x9f\xa5", "\xe9\xaa\x8c\xe8\xaf\x81", NULL};

static bool ref_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ref_word(const char *w, size_t n) {
    for (size_t i = 0; REF_WORDS[i]; i++)
        if (strlen(REF_WORDS[i]) == n && memcmp(w, REF_WORDS[i], n) == 0) return true;
    if (n >= 3 && w[0] == 'h') {
        for (size_t i = 1; i < n; i++)
            if (w[i] != 'm') return false;
        return true;
    }
    return false;
}

static bool ref_english(const char *s, size_t n, size_t from, struct reward_span *out) {
    char prev2[8] = "", prev1[8] = "";
    size_t prev2_start = 0, prev1_start = 0, i = 0;
    while (i < n) {
        if (!ref_letter(s[i])) {
            i++;
            continue;
        }
        char w[16];
        size_t k = 0, start = i;
        for (; i < n && ref_letter(s[i]); i++)
            if (k < sizeof w) w[k++] = (char)(s[i] | 0x20);
        size_t len = i - start;
        if (len > sizeof w) len = sizeof w + 1;
        bool phrase = strcmp(prev2, "let") == 0 && strcmp(prev1, "me") == 0 && len >= 2 && len <= sizeof w &&
                      w[0] == 'r' && w[1] == 'e';
        size_t span_start = phrase ? prev2_start : start;
        if ((phrase || (len <= sizeof w && ref_word(w, len))) && span_start >= from) {
            *out = (struct reward_span){span_start, i - span_start};
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
    }
    return false;
}

static bool ref_next(const char *s, size_t n, size_t *pos, struct reward_span *out) {
    if (*pos >= n) return false;
    struct reward_span best = {0}, cand;
    bool found = ref_english(s, n, *pos, &best);
    for (size_t z = 0; REF_ZH[z]; z++) {
        size_t k = strlen(REF_ZH[z]);
        const char *p = memmem(s + *pos, n - *pos, REF_ZH[z], k);
        if (!p) continue;
        cand = (struct reward_span){(size_t)(p - s), k};
        if (!found || cand.off < best.off) best = cand, found = true;
    }
    if (!found) return false;
    *out = best;
    *pos = best.off + best.len;
    return true;
}

static void check_reflections(const char *s, size_t n) {
    size_t pa = 0, pb = 0;
    struct reward_span a, b;
    for (;;) {
        bool fa = reward_next_reflection(s, n, &pa, &a), fb = ref_next(s, n, &pb, &b);
        if (fa != fb || (fa && (a.off != b.off || a.len != b.len))) {
            fprintf(stderr, "reflection: new %d (%zu+%zu), reference %d (%zu+%zu)\n", fa, fa ? a.off : 0,
                    fa ? a.len : 0, fb, fb ? b.off : 0, fb ? b.len : 0);
            abort();
        }
        if (!fa) return;
    }
}

/* The splitter's output as two parallel strings: the bytes, and for each byte a letter naming its kind and whether
 * it is part of a tag. How the output was cut into callbacks may differ between runs; what each byte is may not. */
struct segs {
    struct strbuf bytes, kinds;
};

static void collect(void *user, enum seg_kind kind, bool tag, const char *s, size_t n) {
    struct segs *g = user;
    char code[64];
    memset(code, 'a' + 2 * (int)kind + (tag ? 1 : 0), sizeof code);
    strbuf_append(&g->bytes, s, n);
    for (size_t i = 0; i < n; i += sizeof code)
        strbuf_append(&g->kinds, code, n - i < sizeof code ? n - i : sizeof code);
}

static bool same_split(const char *s, size_t n, const uint8_t *cuts) {
    struct segs g[2];
    memset(g, 0, sizeof g);
    for (int run = 0; run < 2; run++) {
        struct think_splitter t;
        think_init(&t, collect, &g[run]);
        for (size_t off = 0, k = 0; off < n; k++) {
            size_t step = run ? (size_t)(cuts[k % 4] % 5) + 1 : n;
            if (step > n - off) step = n - off;
            think_feed(&t, s + off, step);
            off += step;
        }
        think_flush(&t);
    }
    bool same = g[0].bytes.len == n && g[1].bytes.len == n && g[0].kinds.len == g[1].kinds.len &&
                (n == 0 || (memcmp(g[0].bytes.data, s, n) == 0 && memcmp(g[1].bytes.data, s, n) == 0 &&
                            memcmp(g[0].kinds.data, g[1].kinds.data, n) == 0));
    if (!same && n > 0)
        fprintf(stderr, "think splitter: whole %.*s\npieces %.*s\n", (int)g[0].kinds.len,
                g[0].kinds.data ? g[0].kinds.data : "", (int)g[1].kinds.len, g[1].kinds.data ? g[1].kinds.data : "");
    for (int run = 0; run < 2; run++) {
        strbuf_free(&g[run].bytes);
        strbuf_free(&g[run].kinds);
    }
    return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = fuzz_memdup(data, size);
    struct reward_span sp;
    if (reward_find_answer(text, size, &sp)) check_span(&sp, size);
    if (reward_find_think(text, size, &sp)) check_span(&sp, size);
    for (int style = 0; style < 2; style++)
        for (int soft = 0; soft < 2; soft++) check_unit(reward_format(text, size, style, soft));
    check_unit(reward_language(text, size, REWARD_LANG_EN));
    check_unit(reward_language(text, size, REWARD_LANG_ZH));
    check_unit(reward_helpfulness(text, size, REWARD_LANG_EN));
    check_unit(readability_score(text, size, REWARD_LANG_EN));
    check_unit(readability_spelled_share(text, size));
    if (reward_count_reflections(text, size) < 0) abort();
    if (size <= 2048) check_reflections(text, size); /* the reference is quadratic: keep it to small inputs */
    /* The whole score once (format, language and reflection do not depend on the gold answer), accuracy against
     * every gold answer. */
    struct reward_result r;
    reward_score(&spec, &golds.items[size % golds.n], text, size, (int)(size % 80), 64, &r);
    if (!isfinite(r.total) || (r.value[0] != 0.0 && r.value[0] != 1.0)) abort();
    if (r.has_answer) check_span(&r.answer, size);
    for (size_t i = 0; i < golds.n; i++) {
        double a = reward_accuracy(&golds.items[i], text, size);
        if (a != 0.0 && a != 1.0) abort();
    }

    struct answer a;
    if (answer_parse(text, size, &a) != STATUS_OK) abort();
    if (a.kind == ANSWER_NUMBER || a.kind == ANSWER_BIGNUM) {
        struct answer b;
        if (answer_parse(a.canon, strlen(a.canon), &b) != STATUS_OK) abort();
        if (b.kind != a.kind || strcmp(a.canon, b.canon) != 0 || !answer_equal(&a, &b)) {
            fprintf(stderr, "canonical form \"%s\" re-parses as \"%s\"\n", a.canon, b.canon);
            abort();
        }
        answer_free(&b);
    }
    answer_free(&a);

    uint8_t cuts[4] = {0};
    for (size_t i = 0; i < 4 && i < size; i++) cuts[i] = data[i];
    if (!same_split(text, size, cuts)) abort();
    free((char *)text);
    return 0;
}
