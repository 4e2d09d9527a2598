/* embed_plan: see embed_plan.h. Sorts (token, row) keys packed into 64 bits: the row order within a token
 * comes out of the sort itself. */
#include "embed_plan.h"

#include <stdlib.h>

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int embed_plan_build(const int32_t *tokens, int N, int32_t *uniq, int32_t *start, int32_t *rows, int32_t *work) {
    uint64_t *keys = (uint64_t *)(void *)work;
    for (int i = 0; i < N; i++) keys[i] = (uint64_t)(uint32_t)tokens[i] << 32 | (uint32_t)i;
    qsort(keys, (size_t)N, sizeof *keys, cmp_u64);
    int U = 0;
    for (int i = 0; i < N; i++) {
        int32_t tok = (int32_t)(keys[i] >> 32);
        if (U == 0 || uniq[U - 1] != tok) {
            uniq[U] = tok;
            start[U] = i;
            U++;
        }
        rows[i] = (int32_t)(keys[i] & 0xffffffffu);
    }
    start[U] = N;
    return U;
}
