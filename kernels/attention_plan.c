/* attention_plan: see attention_plan.h. */
#include "attention_plan.h"

int attention_padded_head_size(int HS) {
    if (HS <= 0 || HS % 2 != 0) return 0;
    return HS <= 16 ? 16 : HS <= 32 ? 32 : HS <= 64 ? 64 : HS <= ATTENTION_MAX_HEAD_SIZE ? 128 : 0;
}

bool attention_head_size_supported(int HS) {
    return attention_padded_head_size(HS) != 0;
}

int attention_tiles(int32_t *tiles, int cap, const int32_t *seq_start, int B) {
    int n = 0;
    for (int b = 0; b < B; b++) {
        int s0 = seq_start[b], T = seq_start[b + 1] - s0;
        if (T < 0) return -1;
        for (int q0 = 0; q0 < T; q0 += ATTENTION_TILE_ROWS) {
            if (n >= cap) return -1;
            tiles[4 * n] = s0;
            tiles[4 * n + 1] = T;
            tiles[4 * n + 2] = q0;
            tiles[4 * n + 3] = 0;
            n++;
        }
    }
    return n;
}
