/* scorecard: reply scores, model summaries and the choice of examples (see scorecard.h). */
#include "scorecard.h"

#include <math.h>
#include <string.h>

#include "engine/rl/readability.h"
#include "engine/rl/reward.h"
#include "repl_text.h"

const char *scorecard_format_name(enum scorecard_format f) {
    switch (f) {
    case SCORECARD_FORMAT_R1_ZERO: return "r1-zero";
    case SCORECARD_FORMAT_R1: return "r1";
    default: return "-";
    }
}

/* ---- one reply ---- */

void scorecard_score(const struct problem *p, bool plain, const char *full, int64_t tokens,
                     struct scorecard_reply *out) {
    size_t n = strlen(full);
    memset(out, 0, sizeof *out);
    out->correct = p ? reward_accuracy(p, full, n) > 0.5 : -1;
    bool r1_zero = reward_format(full, n, REWARD_FORMAT_R1_ZERO, false) > 0.5;
    bool r1 = (plain ? reward_format_plain(full, n, false) : reward_format(full, n, REWARD_FORMAT_R1, false)) > 0.5;
    out->format = r1_zero ? SCORECARD_FORMAT_R1_ZERO : r1 ? SCORECARD_FORMAT_R1 : SCORECARD_FORMAT_NONE;
    out->format_ok = out->format != SCORECARD_FORMAT_NONE;
    struct reward_span th;
    if (reward_find_think(full, n, &th)) {
        out->think_share = n ? (double)th.len / (double)n : 0;
        out->language = reward_language(full, n, REWARD_LANG_EN);
    } else {
        out->language = reward_language_share(full, n, REWARD_LANG_EN);
    }
    out->mixed = reward_mixed_language(full, n, REWARD_LANG_EN);
    out->readability = readability_score(full, n, REWARD_LANG_EN);
    out->reflection = reward_has_reflection(full, n);
    out->tokens = tokens;
}

/* ---- a model's summary ---- */

void scorecard_sum_add(struct scorecard_sum *s, const struct scorecard_reply *r, const bool *error, size_t k) {
    if (k == 0) return;
    s->prompts++;
    size_t answered = 0, correct = 0;
    for (size_t i = 0; i < k; i++) {
        const struct scorecard_reply *x = &r[i];
        s->replies++;
        if (error && error[i]) s->errors++;
        if (x->correct >= 0) {
            answered++;
            correct += (size_t)x->correct;
        }
        s->format_r1_zero += x->format == SCORECARD_FORMAT_R1_ZERO;
        s->format_r1 += x->format == SCORECARD_FORMAT_R1;
        s->mixed += x->mixed;
        s->reflection += x->reflection;
        s->readability += x->readability;
        s->language += x->language;
        s->think_share += x->think_share;
        s->tokens += (double)x->tokens;
    }
    s->answered += answered;
    s->correct += correct;
    if (answered) {
        s->pass1 += (double)correct / (double)answered;
        s->pass1_prompts++;
    }
}

void scorecard_row_of(const struct scorecard_sum *s, struct scorecard_row *out) {
    memset(out, 0, sizeof *out);
    double n = s->replies ? (double)s->replies : 1;
    out->prompts = s->prompts;
    out->replies = s->replies;
    out->answered = s->answered;
    out->correct = s->correct;
    out->errors = s->errors;
    out->has_pass1 = s->pass1_prompts > 0;
    out->pass1 = out->has_pass1 ? s->pass1 / (double)s->pass1_prompts : 0;
    out->format_r1_zero = (double)s->format_r1_zero / n;
    out->format_r1 = (double)s->format_r1 / n;
    out->format = (double)(s->format_r1_zero + s->format_r1) / n;
    out->format_mostly = s->format_r1_zero > s->format_r1 ? "r1-zero"
                         : s->format_r1 > s->format_r1_zero ? "r1"
                         : s->format_r1 ? "both"
                                        : NULL;
    out->readability = s->readability / n;
    out->language = s->language / n;
    out->mixed = (double)s->mixed / n;
    out->tokens = s->tokens / n;
    out->think_share = s->think_share / n;
    out->reflection = (double)s->reflection / n;
}

/* ---- the table ---- */

#define ROW(label, ...)                                                                                             \
    do {                                                                                                            \
        for (int m = 0; m < 2; m++) snprintf(cells[m], sizeof cells[m], __VA_ARGS__);                               \
        print_row(out, label, cells, w);                                                                            \
    } while (0)

/* One measure: its label, then each model's value in the model's column (no trailing blanks: they would show
 * in pasted docs). */
static void print_row(FILE *out, const char *label, char cells[2][64], int w) {
    fprintf(out, "%-22s  %-*s  %s\n", label, w, cells[0], cells[1]);
}

void scorecard_print_table(FILE *out, const char *const names[2], const struct scorecard_row rows[2], size_t samples,
                           bool color) {
    struct strbuf nm[2] = {{0}, {0}};
    int w = 22; /* the widest cell: "100.0%, mostly r1-zero" */
    for (int m = 0; m < 2; m++) {
        repl_text_sanitize(names[m], strlen(names[m]), &nm[m]);
        int l = nm[m].data ? repl_text_width(nm[m].data, nm[m].len) : 0;
        if (l > w) w = l;
    }
    if (w > 40) w = 40;
    fputc('\n', out);
    if (color) fputs("\033[1m", out);
    fprintf(out, "%-22s", "");
    for (int m = 0; m < 2; m++) {
        const char *s = nm[m].data ? nm[m].data : "";
        int width = repl_text_width(s, strlen(s));
        fputs("  ", out);
        /* cut a long name at a character boundary, pad a short one (display columns, not bytes) */
        if (width > w) {
            size_t i = 0;
            int used = 0;
            while (s[i]) {
                size_t j = i + 1;
                while (s[j] && ((unsigned char)s[j] & 0xC0) == 0x80) j++;
                int cw = repl_text_width(s + i, j - i);
                if (used + cw > w) break;
                used += cw;
                i = j;
            }
            fwrite(s, 1, i, out);
            width = used;
        } else {
            fputs(s, out);
        }
        if (m == 0)
            for (int k = width; k < w; k++) fputc(' ', out);
    }
    if (color) fputs("\033[0m", out);
    fputc('\n', out);
    char cells[2][64];
    const struct scorecard_row *r = rows;
    ROW("prompts", "%zu", r[m].prompts);
    char label[64];
    if (samples > 1)
        snprintf(label, sizeof label, "pass@1 (mean of %zu)", samples);
    else
        snprintf(label, sizeof label, "pass@1");
    for (int m = 0; m < 2; m++) {
        if (r[m].has_pass1)
            snprintf(cells[m], sizeof cells[m], "%.1f%% (%zu/%zu)", 100.0 * r[m].pass1, r[m].correct, r[m].answered);
        else
            snprintf(cells[m], sizeof cells[m], "-");
    }
    print_row(out, label, cells, w);
    for (int m = 0; m < 2; m++) {
        bool both = r[m].format_r1_zero > 0 && r[m].format_r1 > 0;
        if (!r[m].format_mostly)
            snprintf(cells[m], sizeof cells[m], "%.1f%%", 100.0 * r[m].format);
        else if (!both)
            snprintf(cells[m], sizeof cells[m], "%.1f%% %s", 100.0 * r[m].format, r[m].format_mostly);
        else if (strcmp(r[m].format_mostly, "both") == 0)
            snprintf(cells[m], sizeof cells[m], "%.1f%%, r1-zero = r1", 100.0 * r[m].format);
        else
            snprintf(cells[m], sizeof cells[m], "%.1f%%, mostly %s", 100.0 * r[m].format, r[m].format_mostly);
    }
    print_row(out, "format", cells, w);
    ROW("  r1-zero | r1", "%.1f%% | %.1f%%", 100.0 * r[m].format_r1_zero, 100.0 * r[m].format_r1);
    ROW("readability (0-1)", "%.2f", r[m].readability);
    ROW("language consistency", "%.2f", r[m].language);
    ROW("mixing languages", "%.1f%%", 100.0 * r[m].mixed);
    ROW("mean tokens", "%.1f", r[m].tokens);
    ROW("think share", "%.1f%%", 100.0 * r[m].think_share);
    ROW("reflection", "%.1f%%", 100.0 * r[m].reflection);
    ROW("errors", "%zu", r[m].errors);
    if (color) fputs("\033[2m", out);
    fputs("format: the reply follows the r1-zero or the r1 pattern (see r1lab-compare(1));\n"
          "readability: rule-based score of the summary after </think>, 0 to 1;\n"
          "language consistency: the share of English words in the reasoning (1: no mixing).\n",
          out);
    if (color) fputs("\033[0m", out);
    strbuf_free(&nm[0]);
    strbuf_free(&nm[1]);
}

void scorecard_row_json(const struct scorecard_row *r, cJSON *o) {
    cJSON_AddNumberToObject(o, "prompts", (double)r->prompts);
    cJSON_AddNumberToObject(o, "replies", (double)r->replies);
    cJSON_AddNumberToObject(o, "answered", (double)r->answered);
    cJSON_AddNumberToObject(o, "correct", (double)r->correct);
    for (int i = 0; i < 2; i++) {
        const char *key = i ? "accuracy" : "pass@1";
        if (r->has_pass1)
            cJSON_AddNumberToObject(o, key, r->pass1);
        else
            cJSON_AddNullToObject(o, key);
    }
    cJSON_AddNumberToObject(o, "format", r->format);
    cJSON_AddNumberToObject(o, "format_r1_zero", r->format_r1_zero);
    cJSON_AddNumberToObject(o, "format_r1", r->format_r1);
    if (r->format_mostly)
        cJSON_AddStringToObject(o, "format_mostly", r->format_mostly);
    else
        cJSON_AddNullToObject(o, "format_mostly");
    cJSON_AddNumberToObject(o, "readability", r->readability);
    cJSON_AddNumberToObject(o, "language", r->language);
    cJSON_AddNumberToObject(o, "mixed_language", r->mixed);
    cJSON_AddNumberToObject(o, "mean_tokens", r->tokens);
    cJSON_AddNumberToObject(o, "think_share", r->think_share);
    cJSON_AddNumberToObject(o, "reflection_rate", r->reflection);
    cJSON_AddNumberToObject(o, "errors", (double)r->errors);
}

/* ---- examples ---- */

void scorecard_prompt_of(const struct scorecard_reply *const r[2], const size_t k[2], struct scorecard_prompt *out) {
    memset(out, 0, sizeof *out);
    for (int m = 0; m < 2; m++) {
        double read = 0;
        for (size_t i = 0; i < k[m]; i++) {
            const struct scorecard_reply *x = &r[m][i];
            out->n[m]++;
            if (x->correct >= 0) {
                out->answered[m]++;
                out->correct[m] += x->correct;
            }
            out->mixed[m] += x->mixed;
            read += x->readability;
        }
        out->readability[m] = k[m] ? read / (double)k[m] : 0;
    }
}

const char *scorecard_reason_name(enum scorecard_reason r) {
    switch (r) {
    case SCORECARD_REASON_CORRECTNESS: return "correctness";
    case SCORECARD_REASON_LANGUAGE: return "language";
    default: return "readability";
    }
}

static double share(int k, int n) {
    return n ? (double)k / (double)n : 0;
}

/* Whether the two models differ on p, and by what first. */
static bool differ(const struct scorecard_prompt *p, enum scorecard_reason *reason, double *gap) {
    if (p->n[0] == 0 || p->n[1] == 0) return false;
    if (p->answered[0] && p->answered[1]) {
        double d = fabs(share(p->correct[0], p->answered[0]) - share(p->correct[1], p->answered[1]));
        if (d > 0) {
            *reason = SCORECARD_REASON_CORRECTNESS, *gap = d;
            return true;
        }
    }
    if ((p->mixed[0] > 0) != (p->mixed[1] > 0)) {
        *reason = SCORECARD_REASON_LANGUAGE;
        *gap = fabs(share(p->mixed[0], p->n[0]) - share(p->mixed[1], p->n[1]));
        return true;
    }
    double d = fabs(p->readability[0] - p->readability[1]);
    if (d > 1e-9) {
        *reason = SCORECARD_REASON_READABILITY, *gap = d;
        return true;
    }
    return false;
}

/* a comes before b */
static bool before(const struct scorecard_example *a, const struct scorecard_example *b) {
    if (a->reason != b->reason) return a->reason < b->reason;
    if (a->gap != b->gap) return a->gap > b->gap;
    return a->index < b->index;
}

size_t scorecard_choose(const struct scorecard_prompt *p, size_t n, size_t max, struct scorecard_example *out) {
    /* Selection without a work array: each pick is the best candidate that comes after the previous pick (the
     * order is total, so nothing is picked twice). O(n * max), and max is a handful. */
    size_t k = 0;
    for (; k < max; k++) {
        bool found = false;
        struct scorecard_example best = {0};
        for (size_t i = 0; i < n; i++) {
            struct scorecard_example c = {.index = i};
            if (!differ(&p[i], &c.reason, &c.gap)) continue;
            if (k > 0 && !before(&out[k - 1], &c)) continue;
            if (!found || before(&c, &best)) best = c, found = true;
        }
        if (!found) break;
        out[k] = best;
    }
    return k;
}

void scorecard_example_reason(const struct scorecard_example *e, const struct scorecard_prompt *p,
                              const char *const names[2], struct strbuf *out) {
    const struct scorecard_prompt *q = &p[e->index];
    switch (e->reason) {
    case SCORECARD_REASON_CORRECTNESS: {
        int hi = share(q->correct[0], q->answered[0]) >= share(q->correct[1], q->answered[1]) ? 0 : 1, lo = 1 - hi;
        if (q->answered[0] == 1 && q->answered[1] == 1)
            strbuf_printf(out, "%s is right, %s is wrong", names[hi], names[lo]);
        else
            strbuf_printf(out, "%s is right in %d of %d samples, %s in %d of %d", names[hi], q->correct[hi],
                          q->answered[hi], names[lo], q->correct[lo], q->answered[lo]);
        break;
    }
    case SCORECARD_REASON_LANGUAGE: {
        int mix = q->mixed[0] > 0 ? 0 : 1;
        if (q->n[mix] == 1)
            strbuf_printf(out, "%s mixes languages, %s does not", names[mix], names[1 - mix]);
        else
            strbuf_printf(out, "%s mixes languages in %d of %d samples, %s never", names[mix], q->mixed[mix],
                          q->n[mix], names[1 - mix]);
        break;
    }
    default: {
        int hi = q->readability[0] >= q->readability[1] ? 0 : 1;
        strbuf_printf(out, "readability %.2f (%s) against %.2f (%s)", q->readability[hi], names[hi],
                      q->readability[1 - hi], names[1 - hi]);
        break;
    }
    }
}
