/* decode_plan: see decode_plan.h. */
#include "decode_plan.h"

int decode_plan_heads_per_block(int group) {
    for (int h = group < DECODE_MAX_HEADS ? group : DECODE_MAX_HEADS; h > 1; h--)
        if (group % h == 0) return h;
    return 1;
}

int decode_plan_splits(int S, int NH, int NKV, int T, int sm_count) {
    if (S < 1 || NKV < 1 || NH < NKV || T < 1) return 1;
    long blocks = (long)S * NKV * (NH / NKV / decode_plan_heads_per_block(NH / NKV));
    long want = 2L * (sm_count > 0 ? sm_count : 1);
    long splits = (want + blocks - 1) / blocks;
    long max_splits = (T + DECODE_MIN_SPLIT_LEN - 1) / DECODE_MIN_SPLIT_LEN;
    if (splits > max_splits) splits = max_splits;
    return splits < 1 ? 1 : (int)splits;
}

int decode_plan_chunk(int T, int splits) {
    return splits > 0 ? (T + splits - 1) / splits : T;
}

size_t decode_plan_scratch_floats(int S, int NH, int HS, int splits) {
    return splits <= 1 ? 0 : (size_t)S * NH * splits * (size_t)(HS + 2);
}
