/* editdist: the Levenshtein distance between two short strings, for every "did you mean" hint (config keys
 * and values, REPL commands and settings). Strings longer than EDITDIST_MAX bytes count as far apart, so the
 * work is bounded and needs no allocation. */
#ifndef R1LAB_EDITDIST_H
#define R1LAB_EDITDIST_H

#include <stddef.h>

#define EDITDIST_MAX 64
#define EDITDIST_FAR 99 /* what a string over EDITDIST_MAX bytes is from anything */

/* Insertions, deletions and substitutions of single bytes that turn a into b. */
size_t editdist(const char *a, const char *b);

/* The candidate nearest to word with a distance below `below`; NULL when none is that near. */
const char *editdist_closest(const char *word, const char *const *candidates, size_t n, size_t below);

#endif
