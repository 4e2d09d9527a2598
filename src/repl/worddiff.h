/* worddiff: a word-level diff of two texts (the two answers of a side-by-side comparison), in the style of
 * `git diff --word-diff=plain`: words only in A as "[-…-]", words only in B as "{+…+}", common words as they
 * are. Words are runs of non-whitespace; the output separates them with single spaces and keeps line breaks
 * of B. The diff is a longest common subsequence over words (dynamic programming, O(|A|·|B|) time), so
 * inputs beyond WORDDIFF_MAX_WORDS words are diffed on their first WORDDIFF_MAX_WORDS words and the rest is
 * reported as cut. */
#ifndef R1LAB_WORDDIFF_H
#define R1LAB_WORDDIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/util/status.h"
#include "engine/util/strbuf.h"

#define WORDDIFF_MAX_WORDS 2000

struct worddiff_stats {
    size_t common, only_a, only_b; /* words */
    bool truncated;
};

/* Appends the diff to out. With `marked`, changed words are wrapped in REPL_STYLE_DEL / REPL_STYLE_INS markers
 * (and the brackets are kept, so the diff reads the same without colour). The texts are used as given: the
 * caller sanitises them first. */
enum status worddiff(const char *a, size_t na, const char *b, size_t nb, bool marked, struct strbuf *out,
                     struct worddiff_stats *stats);

#endif
