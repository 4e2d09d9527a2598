/* worddiff: LCS over words, then a walk that prints common, deleted and inserted runs. */
#include "worddiff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "repl_text.h"

struct word {
    const char *s;
    size_t n;
    bool nl_before; /* a line break preceded it (kept in the output for B's and common words) */
};

static size_t split_words(const char *s, size_t n, struct word *w, size_t max, bool *truncated) {
    size_t count = 0, i = 0;
    bool nl = false;
    while (i < n) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
            if (s[i] == '\n') nl = true;
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && !(s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')) j++;
        if (count == max) {
            *truncated = true;
            break;
        }
        bool after_nl = nl && count > 0; /* read count before the store below increments it */
        w[count++] = (struct word){s + i, j - i, after_nl};
        nl = false;
        i = j;
    }
    return count;
}

static bool same(const struct word *x, const struct word *y) {
    return x->n == y->n && memcmp(x->s, y->s, x->n) == 0;
}

static void put_word(struct strbuf *out, const struct word *w, bool *first) {
    if (!*first) strbuf_putc(out, w->nl_before ? '\n' : ' ');
    strbuf_append(out, w->s, w->n);
    *first = false;
}

/* A run of changed words of one kind: "[-a b-]" / "{+a b+}". */
static void put_run(struct strbuf *out, const struct word *w, size_t from, size_t to, bool ins, bool marked,
                    bool *first) {
    if (from == to) return;
    if (!*first) strbuf_putc(out, ' ');
    if (marked) strbuf_putc(out, (char)(ins ? REPL_STYLE_INS : REPL_STYLE_DEL));
    strbuf_puts(out, ins ? "{+" : "[-");
    for (size_t i = from; i < to; i++) {
        if (i > from) strbuf_putc(out, ' ');
        strbuf_append(out, w[i].s, w[i].n);
    }
    strbuf_puts(out, ins ? "+}" : "-]");
    if (marked) strbuf_putc(out, (char)REPL_STYLE_PLAIN);
    *first = false;
}

enum status worddiff(const char *a, size_t na, const char *b, size_t nb, bool marked, struct strbuf *out,
                     struct worddiff_stats *stats) {
    struct worddiff_stats st = {0};
    struct word *wa = malloc(sizeof *wa * WORDDIFF_MAX_WORDS), *wb = malloc(sizeof *wb * WORDDIFF_MAX_WORDS);
    size_t n = 0, m = 0;
    uint16_t *L = NULL; /* (n+1, m+1) LCS lengths of suffixes */
    if (wa && wb) {
        n = split_words(a, na, wa, WORDDIFF_MAX_WORDS, &st.truncated);
        m = split_words(b, nb, wb, WORDDIFF_MAX_WORDS, &st.truncated);
        L = calloc((n + 1) * (m + 1), sizeof *L);
    }
    if (!L) {
        free(wa);
        free(wb);
        return err_set(STATUS_NOMEM, "out of memory for the word diff");
    }
    for (size_t i = n; i-- > 0;)
        for (size_t j = m; j-- > 0;) {
            size_t k = i * (m + 1) + j;
            if (same(&wa[i], &wb[j]))
                L[k] = (uint16_t)(L[(i + 1) * (m + 1) + j + 1] + 1);
            else {
                uint16_t down = L[(i + 1) * (m + 1) + j], right = L[i * (m + 1) + j + 1];
                L[k] = down >= right ? down : right;
            }
        }
    size_t i = 0, j = 0;
    bool first = true;
    while (i < n || j < m) {
        if (i < n && j < m && same(&wa[i], &wb[j])) {
            put_word(out, &wb[j], &first);
            st.common++;
            i++, j++;
            continue;
        }
        /* Between two common words the deleted words of A and the inserted words of B are each contiguous:
         * step along the LCS table until the next match, then print both runs. */
        size_t i0 = i, j0 = j;
        while ((i < n || j < m) && !(i < n && j < m && same(&wa[i], &wb[j]))) {
            if (j >= m || (i < n && L[(i + 1) * (m + 1) + j] >= L[i * (m + 1) + j + 1]))
                i++;
            else
                j++;
        }
        st.only_a += i - i0;
        st.only_b += j - j0;
        put_run(out, wa, i0, i, false, marked, &first);
        put_run(out, wb, j0, j, true, marked, &first);
    }
    if (st.truncated) strbuf_printf(out, "\n[diff cut after %d words]", WORDDIFF_MAX_WORDS);
    free(L);
    free(wa);
    free(wb);
    if (stats) *stats = st;
    return strbuf_status(out);
}
