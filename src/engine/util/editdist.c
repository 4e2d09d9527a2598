/* editdist: one row of the dynamic-programming table at a time (O(len(b)) memory on the stack). */
#include "engine/util/editdist.h"

#include <string.h>

size_t editdist(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > EDITDIST_MAX || lb > EDITDIST_MAX) return EDITDIST_FAR;
    size_t row[EDITDIST_MAX + 1];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t sub = diag + (a[i - 1] != b[j - 1]);
            size_t best = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            diag = up;
        }
    }
    return row[lb];
}

const char *editdist_closest(const char *word, const char *const *candidates, size_t n, size_t below) {
    const char *best = NULL;
    size_t best_d = below;
    for (size_t i = 0; i < n; i++) {
        size_t d = editdist(word, candidates[i]);
        if (d < best_d) best_d = d, best = candidates[i];
    }
    return best;
}
