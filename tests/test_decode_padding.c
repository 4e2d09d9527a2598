/* Padding rows of a decode step, checked on the CPU backend: a backend that rounds repeat sections up
 * (repeat_rows_quantum, the CUDA backend's 8) gets model_decode_sample steps with dummy rows (no slot); the tokens
 * drawn must be those of the unpadded step and the KV cache left behind the same up to GEMM rounding. Also the
 * backend contract itself (kv_store stores nothing for a row with a negative slot, attention_decode writes zeros
 * for it), and a step that the backend could not record (repeat_end returns false) being run again. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/backend.h"
#include "engine/model/model.h"
#include "harness.h"

Test(decode_padding, padded_steps_draw_the_same_tokens_and_leave_the_same_cache) {
    struct backend *plain, *padded;
    cr_assert_eq(backend_cpu_open(&plain, 1), STATUS_OK);
    cr_assert_eq(backend_cpu_open(&padded, 1), STATUS_OK);
    padded->repeat_rows_quantum = 8;
    char *dir = th_path("tests/fixtures/models/qwen2_tiny");
    struct model ma, mb;
    cr_assert_eq(model_load(&ma, dir, plain), STATUS_OK, "%s", err_msg());
    cr_assert_eq(model_load(&mb, dir, padded), STATUS_OK, "%s", err_msg());
    enum { S = 5, T = 24 };
    struct kv_cache ka, kb;
    cr_assert_eq(kv_cache_init(&ka, &ma, S, T), STATUS_OK);
    cr_assert_eq(kv_cache_init(&kb, &mb, S, T), STATUS_OK);
    cr_expect_eq(ka.rows, S);
    cr_expect_eq(kb.rows, 8, "decode scratch rounded up to the quantum");
    const struct sampler_params ps[] = {{0.0f, 1.0f, 0}, {0.9f, 0.95f, 0}, {1.0f, 1.0f, 7}};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        int32_t tokens[S] = {5, 17, 40, 3, 9}, slots[S] = {4, 0, 2, 1, 3}, pos[S] = {0, 0, 0, 0, 0};
        for (int step = 0; step < 8; step++) {
            int n = S - step / 3; /* the batch shrinks as sequences finish: 5, 5, 5, 4, 4, 4, 3, 3 */
            double u[S];
            for (int s = 0; s < n; s++) u[s] = (step * S + s + 0.5) / (8.0 * S);
            int32_t na[S], nb[S];
            cr_assert_eq(model_decode_sample(&ma, &ka, n, tokens, slots, pos, &ps[k], u, na), STATUS_OK, "%s",
                         err_msg());
            cr_assert_eq(model_decode_sample(&mb, &kb, n, tokens, slots, pos, &ps[k], u, nb), STATUS_OK, "%s",
                         err_msg());
            for (int s = 0; s < n; s++) {
                cr_expect_eq(nb[s], na[s], "params %zu step %d row %d: %d padded, %d plain", k, step, s, nb[s], na[s]);
                tokens[s] = na[s];
                pos[s]++;
            }
        }
        size_t kv_floats = (size_t)ma.cfg.num_layers * S * T * ma.cfg.num_kv_heads * ma.cfg.head_dim;
        /* GEMMs over 8 rows instead of 5 may round differently (BLAS picks its kernels by size), so the cache
         * agrees to rounding; a padding row writing into a real slot would be off by far more. */
        cr_expect(th_allclose("keys", kb.k, ka.k, kv_floats, 1e-5), "keys of the real slots only");
        cr_expect(th_allclose("values", kb.v, ka.v, kv_floats, 1e-5), "values of the real slots only");
    }
    kv_cache_free(&ka, &ma);
    kv_cache_free(&kb, &mb);
    model_free(&ma);
    model_free(&mb);
    backend_close(plain);
    backend_close(padded);
    free(dir);
}

Test(decode_padding, a_row_without_a_slot_stores_nothing_and_attends_to_nothing) {
    struct backend *be;
    cr_assert_eq(backend_cpu_open(&be, 1), STATUS_OK);
    enum { NH = 4, NKV = 2, HS = 8, T = 6, SLOTS = 2, N = 3 };
    size_t row = (NH + 2 * NKV) * HS, kvw = NKV * HS, cache = (size_t)SLOTS * T * kvw;
    float qkv[N * (NH + 2 * NKV) * HS], kc[SLOTS * T * NKV * HS], vc[SLOTS * T * NKV * HS], out[N * NH * HS];
    for (size_t i = 0; i < N * row; i++) qkv[i] = (float)(i % 13) - 6.0f;
    memset(kc, 0, sizeof kc);
    memset(vc, 0, sizeof vc);
    int32_t slots[N] = {1, -1, 0}, pos[N] = {0, 0, 0};
    be->ops->kv_store(be, kc, vc, qkv, slots, pos, N, NH, NKV, HS, T);
    /* slot 0 position 0 holds row 2, slot 1 position 0 row 0; nothing else was written */
    cr_expect(memcmp(kc, qkv + 2 * row + NH * HS, kvw * sizeof(float)) == 0);
    cr_expect(memcmp(kc + T * kvw, qkv + NH * HS, kvw * sizeof(float)) == 0);
    size_t nonzero = 0;
    for (size_t i = 0; i < cache; i++)
        if (i % (T * kvw) >= kvw) nonzero += kc[i] != 0.0f || vc[i] != 0.0f;
    cr_expect_eq(nonzero, 0, "the padding row stored nothing");
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) out[i] = 1e30f;
    be->ops->attention_decode(be, out, qkv, kc, vc, slots, pos, N, NH, NKV, HS, T);
    for (int h = 0; h < NH * HS; h++) cr_expect_eq(out[NH * HS + h], 0.0f, "the padding row's output is zero");
    /* a real row attending over its one position returns that position's value */
    for (int h = 0; h < NH; h++)
        for (int d = 0; d < HS; d++)
            cr_expect_float_eq(out[h * HS + d], qkv[(NH + NKV + h / (NH / NKV)) * HS + d], 1e-6);
    backend_close(be);
}

/* A backend that cannot record a repeat section (a CUDA graph capture that fails) says so from repeat_end, and
 * model_decode_sample then issues the step again outside a section: the same tokens, one extra pass. Simulated on
 * the CPU with an ops table whose repeat_end always fails. */
static int samples_issued;
static const struct backend_ops *cpu_ops_table;
static bool failing_repeat_end(struct backend *be) {
    (void)be;
    return false;
}
static void counting_sample(struct backend *be, int32_t *tokens, float *logits, const double *u, int S, int V,
                            const struct sampler_params *p) {
    samples_issued++;
    cpu_ops_table->sample(be, tokens, logits, u, S, V, p);
}

Test(decode_padding, a_step_the_backend_could_not_record_runs_again) {
    struct backend *plain, *failing;
    cr_assert_eq(backend_cpu_open(&plain, 1), STATUS_OK);
    cr_assert_eq(backend_cpu_open(&failing, 1), STATUS_OK);
    cpu_ops_table = failing->ops;
    struct backend_ops ops = *failing->ops;
    ops.repeat_end = failing_repeat_end;
    ops.sample = counting_sample;
    failing->ops = &ops;
    char *dir = th_path("tests/fixtures/models/qwen2_tiny");
    struct model ma, mb;
    cr_assert_eq(model_load(&ma, dir, plain), STATUS_OK, "%s", err_msg());
    cr_assert_eq(model_load(&mb, dir, failing), STATUS_OK, "%s", err_msg());
    enum { S = 3 };
    struct kv_cache ka, kb;
    cr_assert_eq(kv_cache_init(&ka, &ma, S, 16), STATUS_OK);
    cr_assert_eq(kv_cache_init(&kb, &mb, S, 16), STATUS_OK);
    int32_t tokens[S] = {4, 8, 15}, slots[S] = {0, 1, 2}, pos[S] = {0, 0, 0};
    struct sampler_params sp = {1.0f, 1.0f, 0};
    for (int step = 0; step < 4; step++) {
        double u[S] = {0.2 + 0.1 * step, 0.5, 0.9 - 0.1 * step};
        int32_t na[S], nb[S];
        cr_assert_eq(model_decode_sample(&ma, &ka, S, tokens, slots, pos, &sp, u, na), STATUS_OK, "%s", err_msg());
        cr_assert_eq(model_decode_sample(&mb, &kb, S, tokens, slots, pos, &sp, u, nb), STATUS_OK, "%s", err_msg());
        for (int s = 0; s < S; s++) {
            cr_expect_eq(nb[s], na[s], "step %d row %d", step, s);
            tokens[s] = na[s];
            pos[s]++;
        }
    }
    cr_expect_eq(samples_issued, 8, "each of the 4 steps issued twice (%d samples)", samples_issued);
    failing->ops = cpu_ops_table;
    kv_cache_free(&ka, &ma);
    kv_cache_free(&kb, &mb);
    model_free(&ma);
    model_free(&mb);
    backend_close(plain);
    backend_close(failing);
    free(dir);
}
