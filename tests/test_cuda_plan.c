/* The CUDA backend's host-side planning, checked on the CPU (no device, no CUDA headers): the launch geometry of
 * decode attention, the tile list of packed attention, the batching of device copies and its hazard rule, the
 * grouping of embedding-gradient rows by token, the graph-size rounding of decode batches, and the sampler's
 * threshold search run on the host against sampler.c's kept sets. Each is a piece that a wrong index or an
 * off-by-one would break silently on a GPU; here it is compared with a plain reference. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/attention_plan.h"
#include "../kernels/copy_plan.h"
#include "../kernels/decode_plan.h"
#include "../kernels/embed_plan.h"
#include "../kernels/sample_plan.h"
#include "engine/backend/backend.h"
#include "engine/backend/sampler.h"
#include "engine/util/rng.h"

/* ---------------------------------------------------------------------------------------------------- */
/* Decode attention geometry                                                                             */

Test(cuda_plan, decode_heads_per_block_divides_the_group) {
    for (int group = 1; group <= 64; group++) {
        int h = decode_plan_heads_per_block(group);
        cr_expect(h >= 1 && h <= DECODE_MAX_HEADS && group % h == 0, "group %d: %d heads per block", group, h);
        if (group <= DECODE_MAX_HEADS) cr_expect_eq(h, group, "a group of %d fits one block", group);
        for (int k = h + 1; k <= DECODE_MAX_HEADS; k++)
            cr_expect(group % k != 0, "group %d: %d would divide it and be larger than %d", group, k, h);
    }
    /* Qwen2.5-0.5B (14/2), -1.5B (12/2), -14B (40/8), Llama 70B (64/8) */
    cr_expect_eq(decode_plan_heads_per_block(7), 7);
    cr_expect_eq(decode_plan_heads_per_block(6), 6);
    cr_expect_eq(decode_plan_heads_per_block(5), 5);
    cr_expect_eq(decode_plan_heads_per_block(12), 6);
    cr_expect_eq(decode_plan_heads_per_block(16), 8);
}

Test(cuda_plan, decode_splits_cover_the_cache_and_fill_the_device) {
    const int shapes[][2] = {{14, 2}, {4, 4}, {8, 8}, {32, 8}, {12, 2}, {4, 1}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int NH = shapes[k][0], NKV = shapes[k][1];
        for (int S = 1; S <= 300; S += 7)
            for (int T = 1; T <= 4096; T = T * 3 + 1) {
                int splits = decode_plan_splits(S, NH, NKV, T, 132), chunk = decode_plan_chunk(T, splits);
                cr_assert(splits >= 1, "S=%d T=%d: %d splits", S, T, splits);
                cr_expect((long)splits * chunk >= T, "S=%d T=%d: %d splits of %d miss the end", S, T, splits, chunk);
                cr_expect((long)(splits - 1) * chunk < T, "S=%d T=%d: the last split is empty for every slot", S, T);
                if (splits > 1) {
                    cr_expect(chunk >= DECODE_MIN_SPLIT_LEN / 2, "S=%d T=%d: splits of %d positions", S, T, chunk);
                    cr_expect_gt(decode_plan_scratch_floats(S, NH, 64, splits), 0);
                } else {
                    cr_expect_eq(decode_plan_scratch_floats(S, NH, 64, splits), 0, "one split needs no scratch");
                }
            }
    }
    /* 256 sequences of q05b fill an H100 on their own: one split, no combine kernel */
    cr_expect_eq(decode_plan_splits(256, 14, 2, 512, 132), 1);
    cr_expect_eq(decode_plan_splits(1, 14, 2, 512, 132), 8);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Attention tiles                                                                                       */

Test(cuda_plan, attention_tiles_cover_every_row_once) {
    struct rng r;
    rng_seed(&r, 5);
    for (int trial = 0; trial < 200; trial++) {
        int B = 1 + (int)rng_below(&r, 12);
        int32_t seq_start[13] = {0};
        for (int b = 0; b < B; b++) seq_start[b + 1] = seq_start[b] + 1 + (int)rng_below(&r, 200);
        int N = seq_start[B], cap = N / ATTENTION_TILE_ROWS + B;
        int32_t *tiles = malloc(sizeof(int32_t) * 4 * (size_t)cap);
        int n = attention_tiles(tiles, cap, seq_start, B);
        cr_assert(n > 0 && n <= cap, "B=%d N=%d: %d tiles (cap %d)", B, N, n, cap);
        int *seen = calloc((size_t)N, sizeof(int));
        for (int t = 0; t < n; t++) {
            int s0 = tiles[4 * t], T = tiles[4 * t + 1], q0 = tiles[4 * t + 2];
            cr_assert(q0 >= 0 && q0 < T && q0 % ATTENTION_TILE_ROWS == 0);
            for (int i = q0; i < T && i < q0 + ATTENTION_TILE_ROWS; i++) seen[s0 + i]++;
        }
        for (int i = 0; i < N; i++) cr_expect_eq(seen[i], 1, "row %d in %d tiles", i, seen[i]);
        cr_expect_eq(attention_tiles(tiles, n - 1, seq_start, B), -1, "one tile short of room is refused");
        free(seen);
        free(tiles);
    }
    int32_t bad[3] = {0, 10, 5};
    int32_t tiles[16];
    cr_expect_eq(attention_tiles(tiles, 4, bad, 2), -1, "a decreasing seq_start is refused");
    cr_expect(attention_head_size_supported(64) && attention_head_size_supported(128) &&
              attention_head_size_supported(12) && !attention_head_size_supported(130) &&
              !attention_head_size_supported(63) && !attention_head_size_supported(0));
    cr_expect_eq(attention_padded_head_size(12), 16);
    cr_expect_eq(attention_padded_head_size(96), 128);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Copy batches                                                                                          */

/* Runs the batch on host memory the way a device might: copies in reverse order, each one chunk at a time
 * interleaved with the others, so that any hazard the plan lets through changes the result. */
static void run_batch(unsigned char *mem, const struct copy_plan *p) {
    uint64_t done[COPY_PLAN_MAX] = {0};
    bool more = true;
    while (more) {
        more = false;
        for (int i = p->n - 1; i >= 0; i--) {
            const struct copy_desc *c = &p->d[i];
            if (done[i] >= c->bytes) continue;
            uint64_t k = c->bytes - done[i] < 3 ? c->bytes - done[i] : 3;
            memcpy(mem + c->dst + done[i], mem + c->src + done[i], k);
            done[i] += k;
            more = true;
        }
    }
}

/* Replays a sequence of copies through a plan (flushing when a copy does not fit) and against memmove. */
static void check_sequence(const uint64_t (*copies)[3], int n, size_t mem_bytes, int *launches) {
    unsigned char *a = malloc(mem_bytes), *b = malloc(mem_bytes);
    for (size_t i = 0; i < mem_bytes; i++) a[i] = b[i] = (unsigned char)(i * 131 + 7);
    struct copy_plan *p = calloc(1, sizeof *p);
    *launches = 0;
    for (int i = 0; i < n; i++) {
        uint64_t d = copies[i][0], s = copies[i][1], len = copies[i][2];
        memmove(b + d, b + s, len);
        if (copy_plan_overlap(d, len, s, len)) { /* the backend runs these alone, through scratch */
            run_batch(a, p), *launches += p->n > 0, copy_plan_clear(p);
            memmove(a + d, a + s, len);
            continue;
        }
        if (!copy_plan_fits(p, d, s, len)) run_batch(a, p), *launches += p->n > 0, copy_plan_clear(p);
        cr_assert(copy_plan_fits(p, d, s, len), "a copy that cannot join an empty batch");
        copy_plan_add(p, d, s, len);
    }
    run_batch(a, p), *launches += p->n > 0;
    cr_expect(memcmp(a, b, mem_bytes) == 0, "batched copies differ from copying one after another");
    free(p);
    free(a);
    free(b);
}

Test(cuda_plan, copy_batches_respect_every_hazard) {
    cr_expect(copy_plan_overlap(0, 10, 9, 1) && !copy_plan_overlap(0, 10, 10, 5) && !copy_plan_overlap(0, 0, 0, 4));
    struct copy_plan *p = calloc(1, sizeof *p);
    copy_plan_add(p, 100, 0, 50); /* writes [100, 150), reads [0, 50) */
    cr_expect(copy_plan_fits(p, 200, 0, 50), "two copies of one source");
    cr_expect(!copy_plan_fits(p, 300, 120, 10), "reads what the batch writes");
    cr_expect(!copy_plan_fits(p, 40, 500, 20), "writes what the batch reads");
    cr_expect(!copy_plan_fits(p, 149, 500, 20), "writes what the batch writes");
    cr_expect(!copy_plan_fits(p, 600, 590, 20), "overlaps itself");
    for (int i = 1; i < COPY_PLAN_MAX; i++) copy_plan_add(p, 1000 + 10 * (uint64_t)i, 0, 1);
    cr_expect(!copy_plan_fits(p, 900000, 0, 1), "a full batch");
    free(p);

    /* The rollout's prefix sharing: prompt p's slot p*G to its G-1 siblings, layer by layer, k then v. */
    enum { L = 3, P = 4, G = 4, T = 16, W = 8 };
    static uint64_t seq[2 * L * P * (G - 1)][3];
    int n = 0;
    uint64_t slot = T * W, layer = (uint64_t)P * G * slot, vbase = L * layer;
    for (int pr = 0; pr < P; pr++)
        for (int g = 1; g < G; g++)
            for (int l = 0; l < L; l++)
                for (int kv = 0; kv < 2; kv++) {
                    uint64_t base = kv * vbase + l * layer;
                    seq[n][0] = base + (uint64_t)(pr * G + g) * slot;
                    seq[n][1] = base + (uint64_t)(pr * G) * slot;
                    seq[n][2] = (5 + pr) * W;
                    n++;
                }
    int launches;
    check_sequence((const uint64_t(*)[3])seq, n, 2 * vbase, &launches);
    cr_expect_eq(launches, 1, "the KV prefix copies of a rollout are one batch (%d launches)", launches);

    /* model_prefill_sample's spreading of P rows of logits to P*G rows, highest first: it has real hazards. */
    static uint64_t spread[P * G][3];
    n = 0;
    for (int pr = P - 1; pr >= 0; pr--)
        for (int g = G - 1; g >= 0; g--) {
            uint64_t dst = (uint64_t)pr * G + g;
            if (dst == (uint64_t)pr) continue;
            spread[n][0] = dst * 40, spread[n][1] = (uint64_t)pr * 40, spread[n][2] = 40;
            n++;
        }
    check_sequence((const uint64_t(*)[3])spread, n, P * G * 40, &launches);
    fprintf(stderr, "  logits spreading: %d copies in %d launches\n", n, launches);

    /* random copies in a small arena, with overlaps of every kind */
    struct rng r;
    rng_seed(&r, 9);
    static uint64_t rnd[400][3];
    for (int trial = 0; trial < 50; trial++) {
        for (int i = 0; i < 400; i++) {
            rnd[i][2] = 1 + rng_below(&r, 40);
            rnd[i][0] = rng_below(&r, 1000 - rnd[i][2]);
            rnd[i][1] = rng_below(&r, 1000 - rnd[i][2]);
        }
        check_sequence((const uint64_t(*)[3])rnd, 400, 1000, &launches);
    }
}

/* ---------------------------------------------------------------------------------------------------- */
/* Embedding backward grouping                                                                           */

Test(cuda_plan, embed_rows_grouped_by_token_in_order) {
    struct rng r;
    rng_seed(&r, 3);
    enum { N = 3000, V = 50, C = 5 };
    int32_t tokens[N], uniq[N], start[N + 1], rows[N];
    static int32_t work[2 * N];
    for (int i = 0; i < N; i++) tokens[i] = (int32_t)rng_below(&r, V) * 3000; /* large ids too */
    int U = embed_plan_build(tokens, N, uniq, start, rows, work);
    cr_assert(U > 0 && U <= V);
    cr_expect_eq(start[0], 0);
    cr_expect_eq(start[U], N);
    for (int u = 0; u < U; u++) {
        if (u > 0) cr_expect_gt(uniq[u], uniq[u - 1], "distinct tokens ascending");
        cr_expect_lt(start[u], start[u + 1], "every token has rows");
        for (int k = start[u]; k < start[u + 1]; k++) {
            cr_expect_eq(tokens[rows[k]], uniq[u]);
            if (k > start[u]) cr_expect_gt(rows[k], rows[k - 1], "rows of a token in increasing order");
        }
    }
    /* Adding each token's rows in that order is the CPU backend's order: the same bits. */
    static float dout[N * C], want[V * C], got[V * C];
    for (int i = 0; i < N * C; i++) dout[i] = (float)rng_normal(&r);
    memset(want, 0, sizeof want);
    memset(got, 0, sizeof got);
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++) want[tokens[i] / 3000 * C + c] += dout[i * C + c];
    for (int u = 0; u < U; u++)
        for (int c = 0; c < C; c++) {
            float s = got[uniq[u] / 3000 * C + c];
            for (int k = start[u]; k < start[u + 1]; k++) s += dout[rows[k] * C + c];
            got[uniq[u] / 3000 * C + c] = s;
        }
    cr_expect(memcmp(got, want, sizeof got) == 0, "grouped sums equal the CPU's ordered sums bit for bit");
}

/* ---------------------------------------------------------------------------------------------------- */
/* Graph-size rounding of decode batches                                                                 */

Test(cuda_plan, repeat_rows_round_a_shrinking_batch_to_few_shapes) {
    struct backend be = {.repeat_rows_quantum = 8};
    const int want[][2] = {{1, 8},   {8, 8},   {9, 16},  {63, 64},   {64, 64},
                           {65, 80}, {80, 80}, {81, 96}, {250, 256}, {256, 256}};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        cr_expect_eq(backend_repeat_rows(&be, want[k][0]), want[k][1], "%d rows", want[k][0]);
    int distinct = 0, last = 0;
    for (int S = 1; S <= 256; S++) {
        int R = backend_repeat_rows(&be, S);
        cr_assert(R >= S && R - S < 16);
        if (R != last) distinct++, last = R;
    }
    cr_expect_eq(distinct, 20, "a batch of 256 shrinking to 1 meets %d shapes", distinct);
    be.repeat_rows_quantum = 1;
    for (int S = 1; S <= 300; S++) cr_expect_eq(backend_repeat_rows(&be, S), S);
}

/* ---------------------------------------------------------------------------------------------------- */
/* The sampler's threshold search                                                                        */

Test(cuda_plan, sample_thresholds_split_the_gap) {
    uint32_t t[SAMPLE_MAX_THRESHOLDS];
    const uint32_t gaps[][2] = {{0, SAMPLE_ONE_PLUS}, {5, 7}, {5, 21}, {5, 22}, {100, 117}, {0, 1000000}};
    for (size_t k = 0; k < sizeof gaps / sizeof gaps[0]; k++) {
        uint32_t lo = gaps[k][0], hi = gaps[k][1];
        int n = sample_plan_thresholds(lo, hi, t);
        cr_assert(n >= 1 && n <= SAMPLE_MAX_THRESHOLDS);
        for (int j = 0; j < n; j++) {
            cr_expect(t[j] > lo && t[j] < hi, "gap [%u, %u): threshold %u", lo, hi, t[j]);
            if (j > 0) cr_expect_gt(t[j], t[j - 1]);
        }
        if (hi - lo <= SAMPLE_SEARCH_WAYS) cr_expect_eq(n, (int)(hi - lo - 1), "a small gap is tested whole");
    }
    /* passes over a float's patterns: 8 instead of bisection's 30 */
    uint32_t lo = 0, hi = SAMPLE_ONE_PLUS, target = 0x3e123457u;
    int passes = 0;
    while (hi - lo > 1) {
        int n = sample_plan_thresholds(lo, hi, t);
        bool ok[SAMPLE_MAX_THRESHOLDS];
        for (int j = 0; j < n; j++) ok[j] = t[j] <= target;
        sample_plan_narrow(&lo, &hi, t, n, ok);
        passes++;
    }
    cr_expect_eq(lo, target);
    cr_expect_leq(passes, 8, "%d passes", passes);
}

static uint32_t bits_of(float x) {
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

/* The kernel's search on the host, with exact sums: the kept set is {e >= tau}. */
static uint32_t host_threshold(const float *e, int V, const struct sampler_params *p) {
    uint32_t tau = 0;
    bool use_k = p->top_k > 0 && p->top_k < V, use_p = p->top_p < 1.0f;
    double kept = 0;
    for (int v = 0; v < V; v++) kept += e[v];
    uint32_t t[SAMPLE_MAX_THRESHOLDS];
    bool ok[SAMPLE_MAX_THRESHOLDS];
    if (use_k) {
        uint32_t lo = 0, hi = SAMPLE_ONE_PLUS;
        while (hi - lo > 1) {
            int n = sample_plan_thresholds(lo, hi, t);
            for (int j = 0; j < n; j++) {
                int c = 0;
                for (int v = 0; v < V; v++) c += bits_of(e[v]) >= t[j];
                ok[j] = c >= p->top_k;
            }
            sample_plan_narrow(&lo, &hi, t, n, ok);
        }
        tau = lo;
        kept = 0;
        for (int v = 0; v < V; v++) kept += bits_of(e[v]) >= tau ? e[v] : 0.0;
    }
    if (use_p) {
        double target = (double)p->top_p * kept;
        uint32_t lo = tau, hi = SAMPLE_ONE_PLUS;
        while (hi - lo > 1) {
            int n = sample_plan_thresholds(lo, hi, t);
            for (int j = 0; j < n; j++) {
                double m = 0;
                for (int v = 0; v < V; v++) m += bits_of(e[v]) >= t[j] ? e[v] : 0.0;
                ok[j] = m >= target;
            }
            sample_plan_narrow(&lo, &hi, t, n, ok);
        }
        tau = lo;
    }
    return tau;
}

Test(cuda_plan, sample_search_keeps_what_sampler_c_keeps) {
    enum { V = 3000, ROWS = 40 };
    float *z = malloc(sizeof(float) * V), *e = malloc(sizeof(float) * V), *dist = malloc(sizeof(float) * V);
    struct sampler smp;
    cr_assert_eq(sampler_init(&smp, V), STATUS_OK);
    const struct sampler_params ps[] = {{1.0f, 0.9f, 0}, {1.0f, 1.0f, 50},    {0.7f, 0.8f, 100}, {1.5f, 0.5f, 0},
                                        {1.0f, 1.0f, 1}, {2.0f, 0.99f, 2999}, {0.3f, 0.95f, 5}};
    struct rng r;
    rng_seed(&r, 77);
    int differ = 0, total = 0;
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++)
        for (int row = 0; row < ROWS; row++) {
            for (int v = 0; v < V; v++) z[v] = 3.0f * (float)rng_normal(&r);
            float mx = z[sampler_argmax(z, V)];
            for (int v = 0; v < V; v++) e[v] = expf((z[v] - mx) / ps[k].temperature);
            uint32_t tau = host_threshold(e, V, &ps[k]);
            sampler_distribution(&smp, &ps[k], z, dist);
            int mismatched = 0, kept = 0;
            for (int v = 0; v < V; v++) {
                bool gpu = bits_of(e[v]) >= tau, cpu = dist[v] > 0.0f;
                mismatched += gpu != cpu;
                kept += cpu;
            }
            total++;
            if (mismatched) differ++;
            /* only the crossing token of top-p can fall either way, by rounding */
            cr_expect_leq(mismatched, 1, "params %zu row %d: %d of %d kept tokens differ", k, row, mismatched, kept);
            if (ps[k].top_p >= 1.0f) cr_expect_eq(mismatched, 0, "top-k alone is exact");
        }
    fprintf(stderr, "  sample search: %d of %d rows keep exactly sampler.c's set\n", total - differ, total);
    cr_expect_leq(differ, total / 20);
    sampler_free(&smp);
    free(z), free(e), free(dist);
}
