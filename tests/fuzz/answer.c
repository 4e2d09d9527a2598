/* Fuzz target: everything that reads a model's completion — the final answer (last <answer>…</answer>, else the
 * last balanced \boxed{}), the CoT span, the format, language and length rewards, reflection counting, answer
 * canonicalisation (answer.c: wrappers, \frac, thousands separators, big numbers, fractions), the Countdown
 * expression checker, and the REPL's streaming <think>/<answer> splitter. The completion is checked against
 * gold answers of every kind (integer, fraction, big number, text, Countdown).
 *
 * Checks beyond "no crash": spans lie inside the text; rewards are finite and in their documented ranges; a
 * canonical number re-parses to itself; the think splitter's output is the same however the text is cut. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "dataset.h"
#include "lib/fuzz_util.h"
#include "repl/think.h"
#include "reward.h"
#include "strbuf.h"

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

/* The splitter's output as two parallel strings: the bytes, and for each byte a letter naming its kind and whether
 * it is part of a tag. How the output was cut into callbacks may differ between runs; what each byte is may not. */
struct segs {
    struct strbuf bytes, kinds;
};

static void collect(void *user, enum seg_kind kind, bool tag, const char *s, size_t n) {
    struct segs *g = user;
    strbuf_append(&g->bytes, s, n);
    for (size_t i = 0; i < n; i++) strbuf_putc(&g->kinds, (char)('a' + 2 * (int)kind + (tag ? 1 : 0)));
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
    if (reward_count_reflections(text, size) < 0) abort();
    for (size_t i = 0; i < golds.n; i++) {
        double a = reward_accuracy(&golds.items[i], text, size);
        if (a != 0.0 && a != 1.0) abort();
        struct reward_result r;
        reward_score(&spec, &golds.items[i], text, size, (int)(size % 80), 64, &r);
        if (!isfinite(r.total)) abort();
        check_span(&r.answer, size);
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
