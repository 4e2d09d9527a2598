/* CUDA backend parity: every op on random inputs against the CPU backend, the fused op sequences with fusions on
 * and off, the whole model against the CPU engine and the PyTorch fixtures, greedy decoding token for token,
 * rollouts with and without CUDA graphs, memory errors, non-finite logits, a two-step GRPO run, and the NCCL
 * communicator of data-parallel runs with one rank (and one that never gets its second rank). Without a
 * usable CUDA device (no library, no driver, no GPU) every test skips with the reason ("no CUDA device: ...");
 * with R1LAB_REQUIRE_CUDA=1 (bench/gpu_check.sh sets it) every test fails instead, so that a GPU check cannot
 * come out green when nothing ran on the GPU.
 *
 * Tolerances, as relative L2 errors ||gpu - cpu|| / ||cpu|| (METHOD.md), per op:
 * - fp32 kernels (embedding, norms, RoPE, attention, SwiGLU, softmax statistics, AdamW): 1e-5 .. 1e-4, the
 *   differences being summation order and expf;
 * - GEMMs with bf16 operands and fp32 accumulation (the default): 1.5e-2 per op (bf16 keeps 8 bits, so each
 *   operand is off by up to 2^-9 and a dot product by about 3e-3 typically); whole-model log-probs 3e-2,
 *   gradients 6e-2;
 * - the same GEMMs in fp32 (R1LAB_CUDA_MATMUL=fp32, set by the *_fp32 tests): 1e-5 per op, and the whole model
 *   within the CPU test's own tolerances (1e-4 log-probs, 2e-3 gradients).
 * Each test prints one line per compared tensor. Outputs the op overwrites are poisoned with NaN on the device
 * first, so an element left unwritten fails. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/backend/backend.h"
#include "engine/backend/sampler.h"
#include "engine/model/model.h"
#include "engine/model/rollout.h"
#include "engine/model/safetensors.h"
#include "engine/util/rng.h"
#include "harness.h"

/* ---------------------------------------------------------------------------------------------------- */
/* Backends and twin buffers                                                                             */

struct pair {
    struct backend *c, *g;
};

/* The CUDA backend, or the end of the test: a skip, or a failure with R1LAB_REQUIRE_CUDA=1. */
static struct backend *cuda_or_skip(void) {
    struct backend *g = NULL;
    if (backend_open(&g, "cuda", 0) == STATUS_OK) return g;
    const char *req = getenv("R1LAB_REQUIRE_CUDA");
    if (req && strcmp(req, "1") == 0)
        cr_assert_fail("R1LAB_REQUIRE_CUDA=1 but the CUDA backend does not open: %s (hint: %s)", err_msg(),
                       err_hint_text());
    cr_skip_test("no CUDA device: %s", err_msg());
    return NULL;
}

static void pair_open(struct pair *p) {
    memset(p, 0, sizeof *p);
    p->g = cuda_or_skip();
    cr_assert_eq(backend_cpu_open(&p->c, 1), STATUS_OK);
    fprintf(stderr, "  device: %s\n", p->g->name);
}

static void pair_close(struct pair *p) {
    backend_close(p->g);
    backend_close(p->c);
}

static bool fp32_gemms(void) {
    const char *m = getenv("R1LAB_CUDA_MATMUL");
    return m && strcmp(m, "fp32") == 0;
}

static double gemm_tol(void) {
    return fp32_gemms() ? 1e-5 : 1.5e-2;
}

/* The same buffer on both backends. */
struct twin {
    float *c, *g;
    size_t n;
};

static struct twin twin_alloc(struct pair *p, size_t n) {
    struct twin t = {.n = n};
    cr_assert_eq(p->c->ops->alloc(p->c, n * sizeof(float), (void **)&t.c), STATUS_OK);
    cr_assert_eq(p->g->ops->alloc(p->g, n * sizeof(float), (void **)&t.g), STATUS_OK, "%s", err_msg());
    return t;
}

static void twin_set(struct pair *p, struct twin *t, const float *host) {
    memcpy(t->c, host, t->n * sizeof(float));
    p->g->ops->upload(p->g, t->g, host, t->n * sizeof(float));
}

static void fill_normal(float *x, size_t n, float scale, uint64_t seed) {
    struct rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) x[i] = scale * (float)rng_normal(&r);
}

static struct twin twin_rand(struct pair *p, size_t n, float scale, uint64_t seed) {
    struct twin t = twin_alloc(p, n);
    float *h = malloc(n * sizeof(float));
    fill_normal(h, n, scale, seed);
    twin_set(p, &t, h);
    free(h);
    return t;
}

/* Device side NaN, CPU side zero: for outputs the op must overwrite. */
static void twin_poison(struct pair *p, struct twin *t) {
    float *h = malloc(t->n * sizeof(float));
    for (size_t i = 0; i < t->n; i++) h[i] = NAN;
    p->g->ops->upload(p->g, t->g, h, t->n * sizeof(float));
    memset(t->c, 0, t->n * sizeof(float));
    free(h);
}

static struct twin twin_poisoned(struct pair *p, size_t n) {
    struct twin t = twin_alloc(p, n);
    twin_poison(p, &t);
    return t;
}

static void twin_free(struct pair *p, struct twin *t) {
    p->c->ops->free(p->c, t->c);
    p->g->ops->free(p->g, t->g);
}

/* ||got - want|| / ||want|| (absolute when want is all zero); infinity when got has a NaN. */
static double rel_err(const float *got, const float *want, size_t n, double *max_abs) {
    double num = 0, den = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)want[i];
        if (isnan(d)) return INFINITY;
        num += d * d;
        den += (double)want[i] * want[i];
        if (fabs(d) > mx) mx = fabs(d);
    }
    if (max_abs) *max_abs = mx;
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static bool report(const char *name, const float *got, const float *want, size_t n, double tol) {
    double mx = 0, r = rel_err(got, want, n, &mx);
    bool ok = r <= tol;
    fprintf(stderr, "  %-44s n=%-8zu rel %.2e (tol %.0e) max abs %.3g %s\n", name, n, r, tol, mx, ok ? "ok" : "FAIL");
    cr_expect(ok, "%s: relative error %.3g exceeds %.3g", name, r, tol);
    return ok;
}

static float *twin_device(struct pair *p, const struct twin *t) {
    float *h = malloc(t->n * sizeof(float));
    p->g->ops->download(p->g, h, t->g, t->n * sizeof(float));
    cr_assert_eq(p->g->ops->check(p->g), STATUS_OK, "%s", err_msg());
    return h;
}

static bool twin_expect(struct pair *p, const char *name, const struct twin *t, double tol) {
    cr_assert_eq(p->c->ops->check(p->c), STATUS_OK);
    float *h = twin_device(p, t);
    bool ok = report(name, h, t->c, t->n, tol);
    free(h);
    return ok;
}

static int32_t *rand_ints(size_t n, int lo, int hi, uint64_t seed) {
    int32_t *x = malloc(n * sizeof *x);
    struct rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) x[i] = lo + (int32_t)rng_below(&r, (uint64_t)(hi - lo));
    return x;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Ops                                                                                                   */

Test(cuda_ops, memory_round_trip) {
    struct pair p;
    pair_open(&p);
    struct backend *g = p.g;
    size_t n = 3 * 1000 * 1000 + 7; /* above the staged-upload size */
    float *h = malloc(n * sizeof(float)), *back = malloc(n * sizeof(float));
    fill_normal(h, n, 1.0f, 1);
    float *a, *b;
    cr_assert_eq(g->ops->alloc(g, n * sizeof(float), (void **)&a), STATUS_OK);
    cr_assert_eq(g->ops->alloc(g, n * sizeof(float), (void **)&b), STATUS_OK);
    g->ops->download(g, back, b, n * sizeof(float));
    size_t nonzero = 0;
    for (size_t i = 0; i < n; i++) nonzero += back[i] != 0.0f;
    cr_expect_eq(nonzero, 0, "alloc returns zeroed memory");
    g->ops->upload(g, a, h, n * sizeof(float));
    g->ops->copy(g, b, a, n * sizeof(float));
    g->ops->zero(g, b, 100 * sizeof(float));
    g->ops->upload(g, b + 200, h, 50 * sizeof(float)); /* a small, staged upload */
    g->ops->download(g, back, b, n * sizeof(float));
    cr_assert_eq(g->ops->check(g), STATUS_OK, "%s", err_msg());
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        float want = i < 100 ? 0.0f : (i >= 200 && i < 250) ? h[i - 200] : h[i];
        ok &= back[i] == want;
    }
    cr_expect(ok, "upload / copy / zero / download round trip");
    struct backend_memory mem;
    g->ops->memory(g, &mem);
    cr_expect(mem.valid && mem.total > 0 && mem.in_use >= 2 * n * sizeof(float) && mem.peak >= mem.in_use);
    fprintf(stderr, "  memory: %.2f GiB total, %.2f free, %.3f in use, %.3f peak\n", mem.total / 1073741824.0,
            mem.free / 1073741824.0, mem.in_use / 1073741824.0, mem.peak / 1073741824.0);
    g->ops->free(g, a);
    g->ops->free(g, b);
    free(h);
    free(back);
    pair_close(&p);
}

Test(cuda_ops, embedding) {
    struct pair p;
    pair_open(&p);
    int V = 50, C = 96, N = 77;
    int32_t *tok = rand_ints((size_t)N, 0, V, 2); /* 77 rows over 50 ids: repeats, so the backward adds up */
    struct twin wte = twin_rand(&p, (size_t)V * C, 1.0f, 3), out = twin_poisoned(&p, (size_t)N * C);
    p.c->ops->embed_fwd(p.c, out.c, tok, wte.c, N, C);
    p.g->ops->embed_fwd(p.g, out.g, tok, wte.g, N, C);
    twin_expect(&p, "embed_fwd out", &out, 0.0);
    struct twin dwte = twin_rand(&p, (size_t)V * C, 1.0f, 4), dout = twin_rand(&p, (size_t)N * C, 1.0f, 5);
    p.c->ops->embed_bwd(p.c, dwte.c, tok, dout.c, N, C);
    p.g->ops->embed_bwd(p.g, dwte.g, tok, dout.g, N, C);
    twin_expect(&p, "embed_bwd dwte (+=)", &dwte, 1e-6);
    twin_free(&p, &wte), twin_free(&p, &out), twin_free(&p, &dwte), twin_free(&p, &dout);
    free(tok);
    pair_close(&p);
}

Test(cuda_ops, rmsnorm) {
    struct pair p;
    pair_open(&p);
    int N = 67, C = 200;
    struct twin inp = twin_rand(&p, (size_t)N * C, 2.0f, 6), w = twin_rand(&p, (size_t)C, 0.3f, 7);
    struct twin out = twin_poisoned(&p, (size_t)N * C), rstd = twin_poisoned(&p, (size_t)N);
    p.c->ops->rmsnorm_fwd(p.c, out.c, rstd.c, inp.c, w.c, N, C, 1e-6f);
    p.g->ops->rmsnorm_fwd(p.g, out.g, rstd.g, inp.g, w.g, N, C, 1e-6f);
    twin_expect(&p, "rmsnorm_fwd out", &out, 1e-6);
    twin_expect(&p, "rmsnorm_fwd rstd", &rstd, 1e-6);
    struct twin dout = twin_rand(&p, (size_t)N * C, 1.0f, 8), dinp = twin_rand(&p, (size_t)N * C, 1.0f, 9);
    struct twin dw = twin_rand(&p, (size_t)C, 1.0f, 10);
    p.c->ops->rmsnorm_bwd(p.c, dinp.c, dw.c, dout.c, inp.c, w.c, rstd.c, N, C);
    p.g->ops->rmsnorm_bwd(p.g, dinp.g, dw.g, dout.g, inp.g, w.g, rstd.g, N, C);
    twin_expect(&p, "rmsnorm_bwd dinp (+=)", &dinp, 1e-5);
    twin_expect(&p, "rmsnorm_bwd dw (+=)", &dw, 1e-5);
    twin_free(&p, &inp), twin_free(&p, &w), twin_free(&p, &out), twin_free(&p, &rstd);
    twin_free(&p, &dout), twin_free(&p, &dinp), twin_free(&p, &dw);
    pair_close(&p);
}

static void check_matmul(void) {
    struct pair p;
    pair_open(&p);
    int N = 70, C = 96, OC = 130;
    double tol = gemm_tol();
    struct twin inp = twin_rand(&p, (size_t)N * C, 1.0f, 11), w = twin_rand(&p, (size_t)OC * C, 0.1f, 12);
    struct twin bias = twin_rand(&p, (size_t)OC, 1.0f, 13), out = twin_poisoned(&p, (size_t)N * OC);
    p.c->ops->matmul_fwd(p.c, out.c, inp.c, w.c, NULL, N, C, OC);
    p.g->ops->matmul_fwd(p.g, out.g, inp.g, w.g, NULL, N, C, OC);
    twin_expect(&p, "matmul_fwd", &out, tol);
    twin_poison(&p, &out);
    p.c->ops->matmul_fwd(p.c, out.c, inp.c, w.c, bias.c, N, C, OC);
    p.g->ops->matmul_fwd(p.g, out.g, inp.g, w.g, bias.g, N, C, OC);
    twin_expect(&p, "matmul_fwd with bias", &out, tol);
    struct twin dout = twin_rand(&p, (size_t)N * OC, 1.0f, 14), dinp = twin_rand(&p, (size_t)N * C, 0.1f, 15);
    struct twin dw = twin_rand(&p, (size_t)OC * C, 1.0f, 16), db = twin_rand(&p, (size_t)OC, 1.0f, 17);
    p.c->ops->matmul_bwd(p.c, dinp.c, dw.c, db.c, dout.c, inp.c, w.c, N, C, OC, true);
    p.g->ops->matmul_bwd(p.g, dinp.g, dw.g, db.g, dout.g, inp.g, w.g, N, C, OC, true);
    twin_expect(&p, "matmul_bwd dinp (+=)", &dinp, tol);
    twin_expect(&p, "matmul_bwd dw (+=)", &dw, tol);
    twin_expect(&p, "matmul_bwd dbias (+=)", &db, 1e-5);
    twin_poison(&p, &dinp);
    p.c->ops->matmul_bwd(p.c, dinp.c, NULL, NULL, dout.c, inp.c, w.c, N, C, OC, false);
    p.g->ops->matmul_bwd(p.g, dinp.g, NULL, NULL, dout.g, inp.g, w.g, N, C, OC, false);
    twin_expect(&p, "matmul_bwd dinp (=), no dw", &dinp, tol);
    p.c->ops->matmul_bwd(p.c, NULL, dw.c, NULL, dout.c, inp.c, w.c, N, C, OC, false);
    p.g->ops->matmul_bwd(p.g, NULL, dw.g, NULL, dout.g, inp.g, w.g, N, C, OC, false);
    twin_expect(&p, "matmul_bwd dw only", &dw, tol);
    twin_free(&p, &inp), twin_free(&p, &w), twin_free(&p, &bias), twin_free(&p, &out);
    twin_free(&p, &dout), twin_free(&p, &dinp), twin_free(&p, &dw), twin_free(&p, &db);
    pair_close(&p);
}

Test(cuda_ops, matmul_bf16) {
    check_matmul();
}
Test(cuda_ops, matmul_fp32) {
    setenv("R1LAB_CUDA_MATMUL", "fp32", 1);
    check_matmul();
}

/* The bf16 copy of a weight buffer must follow every way the engine changes weights. */
Test(cuda_ops, weights_follow_writes) {
    struct pair p;
    pair_open(&p);
    int N = 16, C = 64, OC = 48;
    size_t nw = (size_t)OC * C;
    double tol = gemm_tol();
    struct twin inp = twin_rand(&p, (size_t)N * C, 1.0f, 20), w = twin_rand(&p, nw, 0.1f, 21);
    struct twin out = twin_poisoned(&p, (size_t)N * OC), other = twin_rand(&p, nw, 0.1f, 22);
#define MATMUL_AND_CHECK(what)                                                                                         \
    do {                                                                                                               \
        p.c->ops->matmul_fwd(p.c, out.c, inp.c, w.c, NULL, N, C, OC);                                                  \
        p.g->ops->matmul_fwd(p.g, out.g, inp.g, w.g, NULL, N, C, OC);                                                  \
        twin_expect(&p, what, &out, tol);                                                                              \
    } while (0)
    MATMUL_AND_CHECK("first use");
    float *h = malloc(nw * sizeof(float));
    fill_normal(h, nw, 0.1f, 23);
    twin_set(&p, &w, h);
    MATMUL_AND_CHECK("after upload of all weights");
    fill_normal(h, 100, 1.0f, 24);
    memcpy(w.c + 500, h, 100 * sizeof(float));
    p.g->ops->upload(p.g, w.g + 500, h, 100 * sizeof(float));
    MATMUL_AND_CHECK("after upload of a slice");
    p.c->ops->copy(p.c, w.c + 64, other.c, 640 * sizeof(float));
    p.g->ops->copy(p.g, w.g + 64, other.g, 640 * sizeof(float));
    MATMUL_AND_CHECK("after copy into a slice");
    p.c->ops->zero(p.c, w.c, 7 * 64 * sizeof(float));
    p.g->ops->zero(p.g, w.g, 7 * 64 * sizeof(float));
    MATMUL_AND_CHECK("after zero of a slice");
    p.c->ops->scale(p.c, w.c + 1000, 800, -3.0f);
    p.g->ops->scale(p.g, w.g + 1000, 800, -3.0f);
    MATMUL_AND_CHECK("after scale of a slice");
    struct twin gr = twin_rand(&p, nw, 1.0f, 25), m = twin_rand(&p, nw, 0.0f, 0), v = twin_rand(&p, nw, 0.0f, 0);
    struct adamw_params hp = {.lr = 0.05f,
                              .beta1 = 0.9f,
                              .beta2 = 0.999f,
                              .eps = 1e-8f,
                              .weight_decay = 0.1f,
                              .bias_correction1 = 0.1f,
                              .bias_correction2 = 0.001f};
    p.c->ops->adamw(p.c, w.c + 128, gr.c, m.c, v.c, nw - 128, &hp);
    p.g->ops->adamw(p.g, w.g + 128, gr.g, m.g, v.g, nw - 128, &hp);
    MATMUL_AND_CHECK("after adamw on a slice");
    twin_expect(&p, "weights after adamw", &w, 1e-6);
#undef MATMUL_AND_CHECK
    free(h);
    twin_free(&p, &inp), twin_free(&p, &w), twin_free(&p, &out), twin_free(&p, &other);
    twin_free(&p, &gr), twin_free(&p, &m), twin_free(&p, &v);
    pair_close(&p);
}

Test(cuda_ops, rope) {
    struct pair p;
    pair_open(&p);
    int N = 40, NH = 4, NKV = 2, HS = 16, maxpos = 64, half = HS / 2;
    size_t row = (size_t)(NH + 2 * NKV) * HS;
    float *cs = malloc(sizeof(float) * maxpos * half), *sn = malloc(sizeof(float) * maxpos * half);
    for (int q = 0; q < maxpos; q++)
        for (int i = 0; i < half; i++) {
            float a = (float)q / powf(10000.0f, (float)(2 * i) / HS);
            cs[q * half + i] = cosf(a);
            sn[q * half + i] = sinf(a);
        }
    struct twin tc = twin_alloc(&p, (size_t)maxpos * half), ts = twin_alloc(&p, (size_t)maxpos * half);
    twin_set(&p, &tc, cs);
    twin_set(&p, &ts, sn);
    int32_t *pos = rand_ints((size_t)N, 0, maxpos, 30);
    struct twin qkv = twin_rand(&p, (size_t)N * row, 1.0f, 31);
    float *orig = malloc(sizeof(float) * N * row);
    memcpy(orig, qkv.c, sizeof(float) * N * row);
    p.c->ops->rope(p.c, qkv.c, pos, tc.c, ts.c, N, NH, NKV, HS, false);
    p.g->ops->rope(p.g, qkv.g, pos, tc.g, ts.g, N, NH, NKV, HS, false);
    twin_expect(&p, "rope", &qkv, 1e-6);
    p.c->ops->rope(p.c, qkv.c, pos, tc.c, ts.c, N, NH, NKV, HS, true);
    p.g->ops->rope(p.g, qkv.g, pos, tc.g, ts.g, N, NH, NKV, HS, true);
    twin_expect(&p, "rope inverse", &qkv, 1e-6);
    float *back = twin_device(&p, &qkv);
    report("rope inverse(rope(x)) = x", back, orig, (size_t)N * row, 1e-6);
    free(back), free(orig), free(cs), free(sn), free(pos);
    twin_free(&p, &tc), twin_free(&p, &ts), twin_free(&p, &qkv);
    pair_close(&p);
}

struct attn_case {
    int HS, NH, NKV, B;
    int lens[8];
};

Test(cuda_ops, attention) {
    struct pair p;
    pair_open(&p);
    const struct attn_case cases[] = {
        {16, 4, 1, 5, {1, 5, 64, 65, 130}}, /* GQA 4:1, tile edges */
        {12, 4, 2, 3, {7, 33, 100}},        /* the fixture models' odd head size */
        {64, 14, 2, 4, {1, 63, 64, 200}},   /* Qwen2.5-0.5B heads */
        {128, 4, 4, 2, {50, 129}},          /* 1.5B-style head size, no GQA */
        {32, 8, 8, 1, {300}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const struct attn_case *a = &cases[k];
        int32_t seq_start[9] = {0};
        for (int b = 0; b < a->B; b++) seq_start[b + 1] = seq_start[b] + a->lens[b];
        int N = seq_start[a->B];
        size_t row = (size_t)(a->NH + 2 * a->NKV) * a->HS, orow = (size_t)a->NH * a->HS;
        struct twin qkv = twin_rand(&p, (size_t)N * row, 1.0f, 40 + k), out = twin_poisoned(&p, (size_t)N * orow);
        struct twin lse = twin_poisoned(&p, (size_t)N * a->NH);
        p.c->ops->attention_fwd(p.c, out.c, lse.c, qkv.c, seq_start, a->B, N, a->NH, a->NKV, a->HS);
        p.g->ops->attention_fwd(p.g, out.g, lse.g, qkv.g, seq_start, a->B, N, a->NH, a->NKV, a->HS);
        char name[96];
        snprintf(name, sizeof name, "attention_fwd out HS=%d %d/%d", a->HS, a->NH, a->NKV);
        twin_expect(&p, name, &out, 2e-5);
        snprintf(name, sizeof name, "attention_fwd lse HS=%d %d/%d", a->HS, a->NH, a->NKV);
        twin_expect(&p, name, &lse, 2e-5);
        struct twin dout = twin_rand(&p, (size_t)N * orow, 1.0f, 50 + k), dqkv = twin_poisoned(&p, (size_t)N * row);
        p.c->ops->attention_bwd(p.c, dqkv.c, dout.c, out.c, qkv.c, lse.c, seq_start, a->B, N, a->NH, a->NKV, a->HS);
        p.g->ops->attention_bwd(p.g, dqkv.g, dout.g, out.g, qkv.g, lse.g, seq_start, a->B, N, a->NH, a->NKV, a->HS);
        snprintf(name, sizeof name, "attention_bwd dqkv HS=%d %d/%d", a->HS, a->NH, a->NKV);
        twin_expect(&p, name, &dqkv, 1e-4);
        twin_free(&p, &qkv), twin_free(&p, &out), twin_free(&p, &lse), twin_free(&p, &dout), twin_free(&p, &dqkv);
    }
    pair_close(&p);
}

Test(cuda_ops, swiglu_and_add) {
    struct pair p;
    pair_open(&p);
    int N = 33, I = 150;
    struct twin gu = twin_rand(&p, (size_t)N * 2 * I, 2.0f, 60), h = twin_poisoned(&p, (size_t)N * I);
    p.c->ops->swiglu_fwd(p.c, h.c, gu.c, N, I);
    p.g->ops->swiglu_fwd(p.g, h.g, gu.g, N, I);
    twin_expect(&p, "swiglu_fwd", &h, 1e-6);
    struct twin dh = twin_rand(&p, (size_t)N * I, 1.0f, 61), dgu = twin_poisoned(&p, (size_t)N * 2 * I);
    p.c->ops->swiglu_bwd(p.c, dgu.c, dh.c, gu.c, N, I);
    p.g->ops->swiglu_bwd(p.g, dgu.g, dh.g, gu.g, N, I);
    twin_expect(&p, "swiglu_bwd", &dgu, 1e-6);
    /* add, out aliasing a; an odd length and an offset pointer take the scalar path */
    p.c->ops->add(p.c, h.c, h.c, dh.c, (size_t)N * I);
    p.g->ops->add(p.g, h.g, h.g, dh.g, (size_t)N * I);
    twin_expect(&p, "add (out = a)", &h, 0.0);
    p.c->ops->add(p.c, h.c + 1, dh.c + 1, h.c + 1, (size_t)N * I - 3);
    p.g->ops->add(p.g, h.g + 1, dh.g + 1, h.g + 1, (size_t)N * I - 3);
    twin_expect(&p, "add (unaligned, out = b)", &h, 0.0);
    twin_free(&p, &gu), twin_free(&p, &h), twin_free(&p, &dh), twin_free(&p, &dgu);
    pair_close(&p);
}

static void check_lmhead(void) {
    setenv("R1LAB_CUDA_LM_CHUNK_MB", "1", 1); /* about 170 rows per chunk at V = 1000: several chunks */
    struct pair p;
    pair_open(&p);
    int V = 1000, C = 64, N = 300;
    double tol = fp32_gemms() ? 1e-5 : 1e-2;
    int32_t *targets = rand_ints((size_t)N, 0, V, 70);
    for (int i = 0; i < N; i += 5) targets[i] = -1; /* unscored rows */
    struct twin h = twin_rand(&p, (size_t)N * C, 1.0f, 71), w = twin_rand(&p, (size_t)V * C, 0.25f, 72);
    struct twin logp = twin_poisoned(&p, (size_t)N), lse = twin_poisoned(&p, (size_t)N);
    struct twin ent = twin_poisoned(&p, (size_t)N);
    p.c->ops->lmhead_fwd(p.c, logp.c, lse.c, ent.c, h.c, w.c, targets, N, C, V);
    p.g->ops->lmhead_fwd(p.g, logp.g, lse.g, ent.g, h.g, w.g, targets, N, C, V);
    twin_expect(&p, "lmhead_fwd logp", &logp, tol);
    twin_expect(&p, "lmhead_fwd lse", &lse, tol);
    twin_expect(&p, "lmhead_fwd entropy", &ent, tol);
    struct twin dlogp = twin_rand(&p, (size_t)N, 1.0f, 73), dh = twin_rand(&p, (size_t)N * C, 1.0f, 74);
    struct twin dw = twin_rand(&p, (size_t)V * C, 1.0f, 75);
    p.c->ops->lmhead_bwd(p.c, dh.c, dw.c, h.c, w.c, targets, lse.c, dlogp.c, N, C, V);
    p.g->ops->lmhead_bwd(p.g, dh.g, dw.g, h.g, w.g, targets, lse.g, dlogp.g, N, C, V);
    twin_expect(&p, "lmhead_bwd dh (+=)", &dh, fp32_gemms() ? 1e-5 : 2e-2);
    twin_expect(&p, "lmhead_bwd dw (+=)", &dw, fp32_gemms() ? 1e-5 : 2e-2);
    /* entropy may be NULL */
    p.c->ops->lmhead_fwd(p.c, logp.c, lse.c, NULL, h.c, w.c, targets, N, C, V);
    p.g->ops->lmhead_fwd(p.g, logp.g, lse.g, NULL, h.g, w.g, targets, N, C, V);
    twin_expect(&p, "lmhead_fwd logp, no entropy", &logp, tol);
    free(targets);
    twin_free(&p, &h), twin_free(&p, &w), twin_free(&p, &logp), twin_free(&p, &lse), twin_free(&p, &ent);
    twin_free(&p, &dlogp), twin_free(&p, &dh), twin_free(&p, &dw);
    pair_close(&p);
}

Test(cuda_ops, lmhead_bf16) {
    check_lmhead();
}
Test(cuda_ops, lmhead_fp32) {
    setenv("R1LAB_CUDA_MATMUL", "fp32", 1);
    check_lmhead();
}

Test(cuda_ops, kv_cache_and_decode) {
    struct pair p;
    pair_open(&p);
    /* group sizes 7 (Qwen2.5-0.5B), 4, 2, 1 and 12 (two blocks of 6 heads); the last case has enough rows that
     * one split fills the device (the partial kernel then writes the output itself, no combine kernel) */
    const struct attn_case cases[] = {{64, 14, 2, 0, {0}}, {16, 4, 1, 0, {0}}, {12, 4, 2, 0, {0}},
                                      {128, 8, 8, 0, {0}}, {32, 12, 1, 0, {0}}, {64, 14, 2, 1, {0}}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        bool many = cases[k].B == 1;
        int HS = cases[k].HS, NH = cases[k].NH, NKV = cases[k].NKV, T = 300, S_all = many ? 400 : 8;
        int S = many ? 390 : 6;
        size_t row = (size_t)(NH + 2 * NKV) * HS, kvw = (size_t)NKV * HS;
        /* empty splits, split edges, a full cache, and a padding row (no slot: stores nothing, attends to nothing) */
        int32_t *slots = malloc(sizeof(int32_t) * S), *pos = malloc(sizeof(int32_t) * S);
        const int32_t s6[6] = {6, 0, 3, -1, 7, 2}, p6[6] = {0, 1, 63, 5, 64, 299};
        for (int i = 0; i < S; i++) {
            slots[i] = many ? (i == 17 ? -1 : i) : s6[i];
            pos[i] = many ? (i * 37) % T : p6[i];
        }
        struct twin kc = twin_rand(&p, (size_t)S_all * T * kvw, 1.0f, 80 + k);
        struct twin vc = twin_rand(&p, (size_t)S_all * T * kvw, 1.0f, 90 + k);
        struct twin qkv = twin_rand(&p, (size_t)S * row, 1.0f, 100 + k);
        struct twin out = twin_poisoned(&p, (size_t)S * NH * HS);
        p.c->ops->kv_store(p.c, kc.c, vc.c, qkv.c, slots, pos, S, NH, NKV, HS, T);
        p.g->ops->kv_store(p.g, kc.g, vc.g, qkv.g, slots, pos, S, NH, NKV, HS, T);
        char name[96];
        snprintf(name, sizeof name, "kv_store k HS=%d %d/%d", HS, NH, NKV);
        twin_expect(&p, name, &kc, 0.0);
        snprintf(name, sizeof name, "kv_store v HS=%d %d/%d", HS, NH, NKV);
        twin_expect(&p, name, &vc, 0.0);
        p.c->ops->attention_decode(p.c, out.c, qkv.c, kc.c, vc.c, slots, pos, S, NH, NKV, HS, T);
        p.g->ops->attention_decode(p.g, out.g, qkv.g, kc.g, vc.g, slots, pos, S, NH, NKV, HS, T);
        snprintf(name, sizeof name, "attention_decode HS=%d %d/%d", HS, NH, NKV);
        twin_expect(&p, name, &out, 2e-5);
        twin_free(&p, &kc), twin_free(&p, &vc), twin_free(&p, &qkv), twin_free(&p, &out);
        free(slots), free(pos);
    }
    pair_close(&p);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Fused sequences: what the model issues in a decode step and a forward, with fusions on (the default) and off */

static void rope_tables(struct pair *p, struct twin *tc, struct twin *ts, int maxpos, int HS) {
    int half = HS / 2;
    float *cs = malloc(sizeof(float) * maxpos * half), *sn = malloc(sizeof(float) * maxpos * half);
    for (int q = 0; q < maxpos; q++)
        for (int i = 0; i < half; i++) {
            float a = (float)q / powf(10000.0f, (float)(2 * i) / HS);
            cs[q * half + i] = cosf(a);
            sn[q * half + i] = sinf(a);
        }
    *tc = twin_alloc(p, (size_t)maxpos * half);
    *ts = twin_alloc(p, (size_t)maxpos * half);
    twin_set(p, tc, cs);
    twin_set(p, ts, sn);
    free(cs), free(sn);
}

/* One decoder layer of a decode step, op by op as decode_body issues them, on both backends. */
static void check_fused_layer(void) {
    struct pair p;
    pair_open(&p);
    enum { S = 37, C = 128, NH = 4, NKV = 2, HS = 32, I = 192, T = 40, SLOTS = 48 };
    int QKV = (NH + 2 * NKV) * HS;
    double tol = gemm_tol();
    struct twin x = twin_rand(&p, (size_t)S * C, 1.0f, 300), tmp = twin_rand(&p, (size_t)S * C, 1.0f, 301);
    struct twin ln = twin_poisoned(&p, (size_t)S * C), rstd = twin_poisoned(&p, S);
    struct twin w1 = twin_rand(&p, C, 0.5f, 302), wqkv = twin_rand(&p, (size_t)QKV * C, 0.1f, 303);
    struct twin bqkv = twin_rand(&p, QKV, 1.0f, 304), qkv = twin_poisoned(&p, (size_t)S * QKV);
    struct twin kc = twin_rand(&p, (size_t)SLOTS * T * NKV * HS, 1.0f, 305);
    struct twin vc = twin_rand(&p, (size_t)SLOTS * T * NKV * HS, 1.0f, 306);
    struct twin att = twin_poisoned(&p, (size_t)S * NH * HS), wo = twin_rand(&p, (size_t)C * NH * HS, 0.1f, 307);
    struct twin wgu = twin_rand(&p, (size_t)2 * I * C, 0.1f, 308), gu = twin_poisoned(&p, (size_t)S * 2 * I);
    struct twin h = twin_poisoned(&p, (size_t)S * I), wd = twin_rand(&p, (size_t)C * I, 0.1f, 309);
    struct twin tc, ts;
    rope_tables(&p, &tc, &ts, T, HS);
    int32_t slots[S], pos[S];
    for (int i = 0; i < S; i++) slots[i] = i == 5 ? -1 : (i * 7) % SLOTS, pos[i] = (i * 11) % T;
    struct backend *bs[2] = {p.c, p.g};
    for (int k = 0; k < 2; k++) {
        struct backend *be = bs[k];
        bool g = k == 1;
#define B(t) (g ? (t).g : (t).c)
        /* x += tmp; ln = rmsnorm(x): the add is deferred and fused into the norm, which hands ln to the GEMM */
        be->ops->add(be, B(x), B(x), B(tmp), (size_t)S * C);
        be->ops->rmsnorm_fwd(be, B(ln), B(rstd), B(x), B(w1), S, C, 1e-6f);
        be->ops->matmul_fwd(be, B(qkv), B(ln), B(wqkv), B(bqkv), S, C, QKV); /* bias in cuBLASLt's epilogue */
        be->ops->rope(be, B(qkv), pos, B(tc), B(ts), S, NH, NKV, HS, false); /* deferred, fused into the store */
        be->ops->kv_store(be, B(kc), B(vc), B(qkv), slots, pos, S, NH, NKV, HS, T);
        be->ops->attention_decode(be, B(att), B(qkv), B(kc), B(vc), slots, pos, S, NH, NKV, HS, T);
        be->ops->matmul_fwd(be, B(tmp), B(att), B(wo), NULL, S, NH * HS, C); /* att handed off in bf16 */
        be->ops->add(be, B(x), B(x), B(tmp), (size_t)S * C);
        be->ops->rmsnorm_fwd(be, B(ln), B(rstd), B(x), B(w1), S, C, 1e-6f);
        be->ops->matmul_fwd(be, B(gu), B(ln), B(wgu), NULL, S, C, 2 * I);
        be->ops->swiglu_fwd(be, B(h), B(gu), S, I);
        be->ops->matmul_fwd(be, B(tmp), B(h), B(wd), NULL, S, I, C); /* h handed off in bf16 */
        be->ops->add(be, B(x), B(x), B(tmp), (size_t)S * C);        /* deferred, then flushed by the check */
#undef B
    }
    twin_expect(&p, "layer: residual x", &x, tol);
    twin_expect(&p, "layer: ln (add + rmsnorm)", &ln, tol);
    twin_expect(&p, "layer: qkv (bias epilogue, rope)", &qkv, tol);
    twin_expect(&p, "layer: k cache (rope + kv_store)", &kc, tol);
    twin_expect(&p, "layer: v cache", &vc, tol);
    twin_expect(&p, "layer: decode attention", &att, tol);
    twin_expect(&p, "layer: swiglu", &h, tol);
    twin_free(&p, &x), twin_free(&p, &tmp), twin_free(&p, &ln), twin_free(&p, &rstd), twin_free(&p, &w1);
    twin_free(&p, &wqkv), twin_free(&p, &bqkv), twin_free(&p, &qkv), twin_free(&p, &kc), twin_free(&p, &vc);
    twin_free(&p, &att), twin_free(&p, &wo), twin_free(&p, &wgu), twin_free(&p, &gu), twin_free(&p, &h);
    twin_free(&p, &wd), twin_free(&p, &tc), twin_free(&p, &ts);
    pair_close(&p);
}

Test(cuda_ops, fused_layer) {
    check_fused_layer();
}
Test(cuda_ops, fused_layer_fusions_off) {
    setenv("R1LAB_CUDA_FUSE", "0", 1);
    check_fused_layer();
}
Test(cuda_ops, fused_layer_fp32) {
    setenv("R1LAB_CUDA_MATMUL", "fp32", 1);
    check_fused_layer();
}

/* A deferred add or rope whose consumer is not the one it fuses with still runs, in order. */
Test(cuda_ops, deferred_ops_run_before_anything_else) {
    struct pair p;
    pair_open(&p);
    enum { N = 20, C = 64, NH = 2, NKV = 1, HS = 16 };
    int row = (NH + 2 * NKV) * HS;
    struct twin a = twin_rand(&p, (size_t)N * C, 1.0f, 320), b = twin_rand(&p, (size_t)N * C, 1.0f, 321);
    struct twin c = twin_poisoned(&p, (size_t)N * C);
    p.c->ops->add(p.c, a.c, a.c, b.c, (size_t)N * C);
    p.g->ops->add(p.g, a.g, a.g, b.g, (size_t)N * C);
    p.c->ops->copy(p.c, c.c, a.c, sizeof(float) * N * C); /* reads the sum */
    p.g->ops->copy(p.g, c.g, a.g, sizeof(float) * N * C);
    twin_expect(&p, "add then copy", &c, 0.0);
    struct twin tc, ts;
    rope_tables(&p, &tc, &ts, 32, HS);
    int32_t pos[N], seq_start[3] = {0, 7, N};
    for (int i = 0; i < N; i++) pos[i] = i < 7 ? i : i - 7;
    struct twin qkv = twin_rand(&p, (size_t)N * row, 1.0f, 322), out = twin_poisoned(&p, (size_t)N * NH * HS);
    struct twin lse = twin_poisoned(&p, (size_t)N * NH);
    for (int k = 0; k < 2; k++) {
        struct backend *be = k ? p.g : p.c;
        be->ops->rope(be, k ? qkv.g : qkv.c, pos, k ? tc.g : tc.c, k ? ts.g : ts.c, N, NH, NKV, HS, false);
        be->ops->attention_fwd(be, k ? out.g : out.c, k ? lse.g : lse.c, k ? qkv.g : qkv.c, seq_start, 2, N, NH, NKV,
                               HS);
    }
    twin_expect(&p, "rope then attention_fwd", &out, 2e-5);
    twin_free(&p, &a), twin_free(&p, &b), twin_free(&p, &c), twin_free(&p, &tc), twin_free(&p, &ts);
    twin_free(&p, &qkv), twin_free(&p, &out), twin_free(&p, &lse);
    pair_close(&p);
}

/* Device copies are batched (kernels/copy_plan.h): the rollout's KV prefix copies, the spreading of prompt logits
 * (whose copies depend on each other) and copies that overlap themselves give what memmove gives on the CPU. */
Test(cuda_ops, batched_copies_equal_memmove) {
    struct pair p;
    pair_open(&p);
    enum { SLOT = 640, SLOTS = 32, G = 4, V = 1000 };
    struct twin kv = twin_rand(&p, (size_t)SLOTS * SLOT, 1.0f, 330), lg = twin_rand(&p, (size_t)SLOTS * V, 1.0f, 331);
    for (int k = 0; k < 2; k++) {
        struct backend *be = k ? p.g : p.c;
        float *kvp = k ? kv.g : kv.c, *lgp = k ? lg.g : lg.c;
        for (int pr = 0; pr < SLOTS / G; pr++)
            for (int g = 1; g < G; g++)
                be->ops->copy(be, kvp + (size_t)(pr * G + g) * SLOT, kvp + (size_t)pr * G * SLOT,
                              sizeof(float) * (100 + 17 * pr));
        for (int pr = SLOTS / G - 1; pr >= 0; pr--)
            for (int g = G - 1; g >= 0; g--)
                if (pr * G + g != pr)
                    be->ops->copy(be, lgp + (size_t)(pr * G + g) * V, lgp + (size_t)pr * V, sizeof(float) * V);
        be->ops->copy(be, kvp + 3, kvp, sizeof(float) * 500);       /* overlaps itself */
        be->ops->copy(be, (char *)kvp + 1, (char *)kvp + 7000, 333); /* unaligned */
    }
    twin_expect(&p, "KV prefix copies", &kv, 0.0);
    twin_expect(&p, "logits spreading", &lg, 0.0);
    twin_free(&p, &kv), twin_free(&p, &lg);
    pair_close(&p);
}

/* A row of logits with a NaN or an infinity, or all -inf, is a clear error, not token -1. */
Test(cuda_ops, sample_rejects_non_finite_rows) {
    struct pair p;
    pair_open(&p);
    enum { S = 4, V = 3000 };
    float *logits = malloc(sizeof(float) * S * V), *dl;
    fill_normal(logits, (size_t)S * V, 1.0f, 340);
    cr_assert_eq(p.g->ops->alloc(p.g, sizeof(float) * S * V, (void **)&dl), STATUS_OK);
    const struct sampler_params ps[] = {{0.0f, 1.0f, 0}, {1.0f, 1.0f, 0}, {1.0f, 0.9f, 20}};
    for (int bad = 0; bad < 3; bad++)
        for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
            float *z = logits + (size_t)2 * V; /* row 2 */
            fill_normal(z, V, 1.0f, 341);
            if (bad == 0) z[V / 2] = NAN;
            if (bad == 1) z[7] = INFINITY;
            if (bad == 2)
                for (int v = 0; v < V; v++) z[v] = -INFINITY;
            p.g->ops->upload(p.g, dl, logits, sizeof(float) * S * V);
            double u[S] = {0.1, 0.5, 0.7, 0.9};
            int32_t tok[S];
            enum status st = (p.g->ops->sample(p.g, tok, dl, u, S, V, &ps[k]), p.g->ops->check(p.g));
            cr_expect_eq(st, STATUS_INVALID, "case %d params %zu: %s", bad, k, err_msg());
            cr_expect(strstr(err_msg(), "row 2") != NULL, "names the row: %s", err_msg());
            if (bad == 0 && k == 0) fprintf(stderr, "  error: %s\n  hint: %s\n", err_msg(), err_hint_text());
            fill_normal(z, V, 1.0f, 341);
            p.g->ops->upload(p.g, dl, logits, sizeof(float) * S * V);
            st = (p.g->ops->sample(p.g, tok, dl, u, S, V, &ps[k]), p.g->ops->check(p.g));
            cr_expect_eq(st, STATUS_OK, "the backend samples again after the error: %s", err_msg());
        }
    p.g->ops->free(p.g, dl);
    free(logits);
    pair_close(&p);
}

Test(cuda_ops, optimiser_and_reductions) {
    struct pair p;
    pair_open(&p);
    size_t n = 100003;
    struct twin w = twin_rand(&p, n, 1.0f, 110), g = twin_rand(&p, n, 1.0f, 111);
    struct twin m = twin_rand(&p, n, 0.0f, 0), v = twin_rand(&p, n, 0.0f, 0);
    for (int step = 1; step <= 3; step++) {
        struct adamw_params hp = {.lr = 1e-3f,
                                  .beta1 = 0.9f,
                                  .beta2 = 0.999f,
                                  .eps = 1e-8f,
                                  .weight_decay = 0.1f,
                                  .bias_correction1 = 1.0f - powf(0.9f, (float)step),
                                  .bias_correction2 = 1.0f - powf(0.999f, (float)step)};
        p.c->ops->adamw(p.c, w.c, g.c, m.c, v.c, n, &hp);
        p.g->ops->adamw(p.g, w.g, g.g, m.g, v.g, n, &hp);
    }
    twin_expect(&p, "adamw params", &w, 1e-6);
    twin_expect(&p, "adamw m", &m, 1e-6);
    twin_expect(&p, "adamw v", &v, 1e-6);
    double sc = p.c->ops->sum_squares(p.c, g.c, n), sg = p.g->ops->sum_squares(p.g, g.g, n);
    cr_assert_eq(p.g->ops->check(p.g), STATUS_OK, "%s", err_msg());
    fprintf(stderr, "  sum_squares cpu %.12g cuda %.12g rel %.2e\n", sc, sg, fabs(sg - sc) / sc);
    cr_expect(fabs(sg - sc) <= 1e-10 * sc, "sum_squares");
    p.c->ops->scale(p.c, g.c, n, 0.37f);
    p.g->ops->scale(p.g, g.g, n, 0.37f);
    twin_expect(&p, "scale", &g, 0.0);
    twin_free(&p, &w), twin_free(&p, &g), twin_free(&p, &m), twin_free(&p, &v);
    pair_close(&p);
}

/* The token the CUDA sampler must draw for uniform u: the id-order walk over sampler.c's distribution. */
static int32_t id_order_pick(const float *dist, int V, double u) {
    double acc = 0;
    int32_t last = -1;
    for (int v = 0; v < V; v++) {
        if (dist[v] <= 0.0f) continue;
        acc += dist[v];
        last = v;
        if (u < acc) return v;
    }
    return last;
}

Test(cuda_ops, sample) {
    struct pair p;
    pair_open(&p);
    enum { S = 64, V = 5000 };
    float *logits = malloc(sizeof(float) * S * V), *dist = malloc(sizeof(float) * V);
    fill_normal(logits, (size_t)S * V, 3.0f, 120);
    float *dl;
    cr_assert_eq(p.g->ops->alloc(p.g, sizeof(float) * S * V, (void **)&dl), STATUS_OK);
    struct sampler smp;
    cr_assert_eq(sampler_init(&smp, V), STATUS_OK);
    const struct sampler_params ps[] = {{0.0f, 1.0f, 0}, {0.8f, 1.0f, 0},  {1.0f, 1.0f, 0},
                                        {1.0f, 0.9f, 0}, {1.0f, 1.0f, 50}, {0.7f, 0.8f, 100},
                                        {1.5f, 0.5f, 0}, {1.0f, 1.0f, 1},  {2.0f, 0.99f, 3000}};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        double u[S];
        struct rng r;
        rng_seed(&r, 200 + k);
        for (int s = 0; s < S; s++) u[s] = rng_double(&r);
        p.g->ops->upload(p.g, dl, logits, sizeof(float) * S * V);
        int32_t got[S];
        p.g->ops->sample(p.g, got, dl, u, S, V, &ps[k]);
        cr_assert_eq(p.g->ops->check(p.g), STATUS_OK, "%s", err_msg());
        int impossible = 0, differ = 0;
        for (int s = 0; s < S; s++) {
            const float *z = logits + (size_t)s * V;
            sampler_distribution(&smp, &ps[k], z, dist);
            int32_t want = id_order_pick(dist, V, u[s]);
            if (got[s] < 0 || got[s] >= V || dist[got[s]] <= 0.0f)
                impossible++;
            else if (got[s] != want)
                differ++;
        }
        fprintf(stderr, "  sample T=%.2f top_p=%.2f top_k=%d: %d/%d as expected, %d differ, %d outside the kept set\n",
                ps[k].temperature, ps[k].top_p, ps[k].top_k, S - impossible - differ, S, differ, impossible);
        cr_expect_eq(impossible, 0, "a token outside sampler.c's kept set");
        /* A different token for the same u only at a rounding boundary: allow one in 64 per setting. */
        cr_expect(differ <= 1, "%d tokens differ from the id-order walk", differ);
    }
    sampler_free(&smp);
    p.g->ops->free(p.g, dl);
    free(logits), free(dist);
    pair_close(&p);
}

/* ---------------------------------------------------------------------------------------------------- */
/* The whole model                                                                                       */

struct mfix {
    struct pair p;
    struct model mc, mg;
    struct st_file ref;
    int32_t *ids, *lens;
    int n_ids, n_seqs;
    struct batch_builder bb;
};

static int32_t *ref_i32(struct st_file *f, const char *name, int *n) {
    const struct st_tensor *t = st_file_find(f, name);
    cr_assert(t && t->dtype == ST_I32, "reference tensor %s", name);
    int32_t *out = malloc(t->nbytes);
    memcpy(out, t->data, t->nbytes);
    *n = (int)t->numel;
    return out;
}

static float *ref_f32(struct st_file *f, const char *name, size_t *n) {
    const struct st_tensor *t = st_file_find(f, name);
    cr_assert(t != NULL, "reference tensor %s", name);
    float *out = malloc(t->numel * sizeof(float));
    cr_assert_eq(st_tensor_to_f32(t, out, t->numel), STATUS_OK);
    if (n) *n = t->numel;
    return out;
}

static void mfix_open(struct mfix *f, const char *name, bool train) {
    memset(f, 0, sizeof *f);
    pair_open(&f->p);
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/models/%s", name);
    char *dir = th_path(rel);
    snprintf(rel, sizeof rel, "tests/fixtures/models/%s.ref.safetensors", name);
    char *refpath = th_path(rel);
    cr_assert_eq(model_load(&f->mc, dir, f->p.c), STATUS_OK, "%s", err_msg());
    cr_assert_eq(model_load(&f->mg, dir, f->p.g), STATUS_OK, "%s", err_msg());
    cr_assert_eq(st_file_open(&f->ref, refpath), STATUS_OK, "%s", err_msg());
    f->ids = ref_i32(&f->ref, "input_ids", &f->n_ids);
    f->lens = ref_i32(&f->ref, "seq_lens", &f->n_seqs);
    cr_assert_eq(batch_builder_init(&f->bb, f->n_ids, f->n_seqs), STATUS_OK);
    for (int s = 0, off = 0; s < f->n_seqs; off += f->lens[s], s++)
        cr_assert_eq(batch_builder_add(&f->bb, f->ids + off, f->lens[s], 1), STATUS_OK);
    cr_assert_eq(model_reserve(&f->mc, f->n_ids, 128, train), STATUS_OK);
    cr_assert_eq(model_reserve(&f->mg, f->n_ids, 128, train), STATUS_OK, "%s", err_msg());
    free(dir);
    free(refpath);
}

static void mfix_close(struct mfix *f) {
    batch_builder_free(&f->bb);
    free(f->ids);
    free(f->lens);
    st_file_free(&f->ref);
    model_free(&f->mc);
    model_free(&f->mg);
    pair_close(&f->p);
}

/* Scored rows of a per-row array, in fixture order (every position but each sequence's last). */
static float *scored(const struct mfix *f, const float *rows, int *n_out) {
    float *out = malloc(sizeof(float) * f->n_ids);
    int n = 0, off = 0;
    for (int s = 0; s < f->n_seqs; off += f->lens[s], s++)
        for (int t = 0; t + 1 < f->lens[s]; t++) out[n++] = rows[off + t];
    *n_out = n;
    return out;
}

static void check_model_forward(const char *name) {
    struct mfix f;
    mfix_open(&f, name, false);
    double tol = fp32_gemms() ? 1e-4 : 3e-2;
    struct batch b = batch_builder_view(&f.bb);
    float *lc = malloc(sizeof(float) * b.N), *ec = malloc(sizeof(float) * b.N);
    float *lg = malloc(sizeof(float) * b.N), *eg = malloc(sizeof(float) * b.N);
    cr_assert_eq(model_forward(&f.mc, &b, lc, ec), STATUS_OK);
    cr_assert_eq(model_forward(&f.mg, &b, lg, eg), STATUS_OK, "%s", err_msg());
    char what[128];
    snprintf(what, sizeof what, "%s logp vs CPU", name);
    report(what, lg, lc, (size_t)b.N, tol);
    snprintf(what, sizeof what, "%s entropy vs CPU", name);
    report(what, eg, ec, (size_t)b.N, tol);
    int n;
    float *got = scored(&f, lg, &n), *gote = scored(&f, eg, &n);
    size_t nref;
    float *want = ref_f32(&f.ref, "logprobs", &nref), *want_ent_all = ref_f32(&f.ref, "entropy", NULL);
    float *want_ent = scored(&f, want_ent_all, &n);
    cr_assert_eq((size_t)n, nref);
    snprintf(what, sizeof what, "%s logp vs PyTorch", name);
    report(what, got, want, nref, tol);
    snprintf(what, sizeof what, "%s entropy vs PyTorch", name);
    report(what, gote, want_ent, nref, tol);
    free(lc), free(ec), free(lg), free(eg), free(got), free(gote), free(want), free(want_ent_all), free(want_ent);
    mfix_close(&f);
}

Test(cuda_model, forward_bf16) {
    check_model_forward("qwen2_tiny");
    check_model_forward("llama_tiny");
    check_model_forward("qwen2_tiny_bf16");
}

Test(cuda_model, forward_fp32) {
    setenv("R1LAB_CUDA_MATMUL", "fp32", 1);
    check_model_forward("qwen2_tiny");
    check_model_forward("llama_tiny");
}

/* Mean next-token NLL backward on one model. */
static void nll_backward(struct model *m, struct batch *b) {
    float *logp = malloc(sizeof(float) * b->N), *dlogp = malloc(sizeof(float) * b->N);
    cr_assert_eq(model_forward(m, b, logp, NULL), STATUS_OK, "%s", err_msg());
    int count = 0;
    for (int i = 0; i < b->N; i++) count += b->targets[i] >= 0;
    for (int i = 0; i < b->N; i++) dlogp[i] = b->targets[i] >= 0 ? -1.0f / count : 0.0f;
    cr_assert_eq(model_alloc_grads(m), STATUS_OK);
    model_zero_grads(m);
    cr_assert_eq(model_backward(m, b, dlogp), STATUS_OK, "%s", err_msg());
    free(logp);
    free(dlogp);
}

static void check_model_gradients(const char *name) {
    struct mfix f;
    mfix_open(&f, name, true);
    double tol = fp32_gemms() ? 2e-3 : 6e-2;
    struct batch b = batch_builder_view(&f.bb);
    nll_backward(&f.mc, &b);
    nll_backward(&f.mg, &b);
    float *g = malloc(sizeof(float) * f.mg.n_params);
    f.p.g->ops->download(f.p.g, g, f.mg.grads, sizeof(float) * f.mg.n_params);
    cr_assert_eq(f.p.g->ops->check(f.p.g), STATUS_OK, "%s", err_msg());
    int bad = 0;
    for (size_t i = 0; i < f.mg.n_tensors; i++) {
        const struct param_tensor *t = &f.mg.tensors[i];
        char what[160];
        snprintf(what, sizeof what, "grad %s vs CPU", t->name);
        bad += !report(what, g + t->offset, f.mc.grads + t->offset, t->numel, tol);
        char key[128];
        snprintf(key, sizeof key, "grad.%s", t->name);
        float *want = ref_f32(&f.ref, key, NULL);
        snprintf(what, sizeof what, "grad %s vs PyTorch", t->name);
        bad += !report(what, g + t->offset, want, t->numel, tol);
        free(want);
    }
    fprintf(stderr, "  %s: %d gradient comparisons over tolerance\n", name, bad);
    free(g);
    mfix_close(&f);
}

Test(cuda_model, gradients_bf16) {
    check_model_gradients("qwen2_tiny");
    check_model_gradients("llama_tiny");
}

Test(cuda_model, gradients_fp32) {
    setenv("R1LAB_CUDA_MATMUL", "fp32", 1);
    check_model_gradients("qwen2_tiny");
    check_model_gradients("llama_tiny");
}

/* Training on the GPU repeats bit for bit: no reduction of the forward or backward depends on timing (the
 * embedding, norm-weight and bias gradients are summed in a fixed order, not with atomics), so a resumed run
 * computes what an uninterrupted one did. */
Test(cuda_model, gradients_repeat_bit_for_bit) {
    struct mfix f;
    mfix_open(&f, "qwen2_tiny", true);
    struct batch b = batch_builder_view(&f.bb);
    size_t n = f.mg.n_params;
    float *g1 = malloc(sizeof(float) * n), *g2 = malloc(sizeof(float) * n);
    for (int run = 0; run < 2; run++) {
        cr_assert_eq(model_alloc_grads(&f.mg), STATUS_OK);
        model_zero_grads(&f.mg);
        nll_backward(&f.mg, &b);
        f.p.g->ops->download(f.p.g, run ? g2 : g1, f.mg.grads, sizeof(float) * n);
        cr_assert_eq(f.p.g->ops->check(f.p.g), STATUS_OK, "%s", err_msg());
    }
    size_t differ = 0;
    for (size_t i = 0; i < n; i++) differ += memcmp(&g1[i], &g2[i], sizeof(float)) != 0;
    fprintf(stderr, "  gradients of two identical backward passes: %zu of %zu differ\n", differ, n);
    cr_expect_eq(differ, 0, "GPU gradients are not reproducible");
    free(g1), free(g2);
    mfix_close(&f);
}

/* Greedy decoding on the GPU: prefill + decode steps with host argmax, and the device-sampling decode step (a
 * repeat section: captured as a CUDA graph from its second use), both equal to transformers' greedy ids, which
 * the CPU engine reproduces exactly (test_model.c). */
static void check_greedy(const char *name) {
    struct mfix f;
    mfix_open(&f, name, false);
    int np, ng;
    int32_t *prompt = ref_i32(&f.ref, "greedy_prompt", &np), *want = ref_i32(&f.ref, "greedy_ids", &ng);
    int V = f.mg.cfg.vocab_size;
    struct kv_cache kv;
    cr_assert_eq(kv_cache_init(&kv, &f.mg, 2, np + ng + 1), STATUS_OK, "%s", err_msg());
    struct batch_builder bb;
    cr_assert_eq(batch_builder_init(&bb, 2 * np, 2), STATUS_OK);
    cr_assert_eq(batch_builder_add(&bb, prompt, np, np), STATUS_OK);
    cr_assert_eq(batch_builder_add(&bb, prompt, np, np), STATUS_OK);
    struct batch b = batch_builder_view(&bb);
    float *logits = malloc(sizeof(float) * 2 * V);
    int32_t slots[2] = {0, 1};
    cr_assert_eq(model_prefill(&f.mg, &kv, &b, slots, logits), STATUS_OK, "%s", err_msg());
    /* slot 0: host argmax over downloaded logits; slot 1: model_decode_sample, greedy, on the device */
    int32_t tok0 = sampler_argmax(logits, V), tok1 = sampler_argmax(logits + V, V);
    int miss0 = 0, miss1 = 0;
    struct sampler_params greedy = {0.0f, 1.0f, 0};
    /* the first token drawn on the device by model_prefill_sample (it rewrites the same keys and values) */
    int32_t first[2];
    double u0[2] = {0.0, 0.0};
    cr_assert_eq(model_prefill_sample(&f.mg, &kv, &b, slots, 1, &greedy, u0, first), STATUS_OK, "%s", err_msg());
    cr_expect(first[0] == tok0 && first[1] == tok1, "prefill_sample greedy %d %d, host argmax %d %d", first[0],
              first[1], tok0, tok1);
    for (int i = 0; i < ng; i++) {
        miss0 += tok0 != want[i];
        miss1 += tok1 != want[i];
        int32_t t0 = want[i], t1 = want[i], pos = np + i, next; /* follow the reference: no cascades */
        double u = 0.0;
        cr_assert_eq(model_decode_step(&f.mg, &kv, 1, &t0, &slots[0], &pos, logits), STATUS_OK, "%s", err_msg());
        tok0 = sampler_argmax(logits, V);
        cr_assert_eq(model_decode_sample(&f.mg, &kv, 1, &t1, &slots[1], &pos, &greedy, &u, &next), STATUS_OK, "%s",
                     err_msg());
        tok1 = next;
    }
    fprintf(stderr, "  %s greedy on the GPU: %d/%d tokens equal (host argmax), %d/%d (device sampling)\n", name,
            ng - miss0, ng, ng - miss1, ng);
    cr_expect_eq(miss0, 0, "%s: greedy tokens differ from transformers / the CPU", name);
    cr_expect_eq(miss1, 0, "%s: device-sampled greedy tokens differ", name);
    free(logits), free(prompt), free(want);
    batch_builder_free(&bb);
    kv_cache_free(&kv, &f.mg);
    mfix_close(&f);
}

Test(cuda_model, greedy_bf16) {
    check_greedy("qwen2_tiny");
    check_greedy("llama_tiny");
}

Test(cuda_model, greedy_fp32) {
    setenv("R1LAB_CUDA_MATMUL", "fp32", 1);
    check_greedy("qwen2_tiny");
    check_greedy("llama_tiny");
}

/* KV-cached decoding on the GPU equals the GPU's own full forward (prefix prefill, then all sequences decoded
 * together at different positions, one extra slot sharing a prefix). */
Test(cuda_model, decode_equals_full_forward) {
    struct mfix f;
    mfix_open(&f, "qwen2_tiny", false);
    struct model *m = &f.mg;
    double tol = fp32_gemms() ? 1e-4 : 1e-2;
    struct batch full = batch_builder_view(&f.bb);
    int V = m->cfg.vocab_size, S = f.n_seqs + 1;
    cr_assert_eq(model_forward(m, &full, NULL, NULL), STATUS_OK, "%s", err_msg());
    int32_t *rows = malloc(sizeof(int32_t) * full.N);
    for (int i = 0; i < full.N; i++) rows[i] = i;
    float *want = malloc(sizeof(float) * (size_t)full.N * V);
    cr_assert_eq(model_logits_rows(m, rows, full.N, want), STATUS_OK, "%s", err_msg());
    struct kv_cache kv;
    cr_assert_eq(kv_cache_init(&kv, m, S, 32), STATUS_OK);
    int prefix = 3;
    struct batch_builder pb;
    cr_assert_eq(batch_builder_init(&pb, prefix * f.n_seqs, f.n_seqs), STATUS_OK);
    int32_t slots[8];
    for (int s = 0; s < f.n_seqs; s++) {
        cr_assert_eq(batch_builder_add(&pb, f.ids + full.seq_start[s], prefix, prefix), STATUS_OK);
        slots[s] = s;
    }
    struct batch pbv = batch_builder_view(&pb);
    float *logits = malloc(sizeof(float) * (size_t)S * V);
    cr_assert_eq(model_prefill(m, &kv, &pbv, slots, logits), STATUS_OK, "%s", err_msg());
    bool ok = true;
    for (int s = 0; s < f.n_seqs; s++)
        ok &= report("prefill last logits", logits + (size_t)s * V, want + (size_t)(full.seq_start[s] + prefix - 1) * V,
                     V, tol);
    kv_cache_copy_slot(&kv, m, 0, f.n_seqs, prefix);
    int32_t tok[8], pos[8], act[8];
    for (int step = prefix;; step++) {
        int n = 0;
        for (int s = 0; s <= f.n_seqs; s++) {
            int seq = s == f.n_seqs ? 0 : s;
            if (step >= f.lens[seq]) continue;
            tok[n] = f.ids[full.seq_start[seq] + step], pos[n] = step, act[n] = s;
            n++;
        }
        if (n == 0) break;
        cr_assert_eq(model_decode_step(m, &kv, n, tok, act, pos, logits), STATUS_OK, "%s", err_msg());
        for (int i = 0; i < n; i++) {
            int seq = act[i] == f.n_seqs ? 0 : act[i];
            double mx, r = rel_err(logits + (size_t)i * V, want + (size_t)(full.seq_start[seq] + pos[i]) * V, V, &mx);
            if (r > tol) {
                ok = false;
                fprintf(stderr, "  decode step %d slot %d: rel %.2e FAIL\n", step, act[i], r);
            }
        }
    }
    cr_expect(ok, "KV-cached decoding differs from the full forward on the GPU");
    free(rows), free(want), free(logits);
    batch_builder_free(&pb);
    kv_cache_free(&kv, m);
    mfix_close(&f);
}

/* Rollouts: three runs with the same seed give the same tokens (the first decodes op by op, the second captures
 * each step shape as a CUDA graph, the third replays), and so does a backend with graphs off. In fp32 mode they
 * also equal the CPU's rollout, which samples on the host from the same per-sequence streams. */
static void rollout_tokens(struct backend *be, int32_t *out, int P, int G, int max_new) {
    char *dir = th_path("tests/fixtures/models/qwen2_tiny");
    struct model m;
    cr_assert_eq(model_load(&m, dir, be), STATUS_OK, "%s", err_msg());
    struct rollout r;
    cr_assert_eq(rollout_init(&r, &m, NULL, P * G, 64), STATUS_OK, "%s", err_msg());
    int32_t prompts_store[2][6] = {{1, 2, 3, 4, 5, 6}, {7, 8, 9}};
    const int32_t *prompts[2] = {prompts_store[0], prompts_store[1]};
    int lens[2] = {6, 3};
    struct rollout_options ro = {.sampling = {1.0f, 1.0f, 0}, .max_new_tokens = max_new, .seed = 9};
    for (int run = 0; run < 3; run++) {
        cr_assert_eq(rollout_run(&r, prompts, lens, P, G, &ro, NULL, NULL, NULL, NULL), STATUS_OK, "%s", err_msg());
        for (int s = 0; s < P * G; s++)
            for (int t = 0; t < max_new; t++) {
                int32_t id = t < r.seqs[s].n ? r.seqs[s].ids[t] : -1;
                if (run == 0)
                    out[s * max_new + t] = id;
                else
                    cr_expect_eq(id, out[s * max_new + t], "run %d seq %d token %d differs from run 1", run, s, t);
            }
    }
    rollout_free(&r);
    model_free(&m);
    free(dir);
}

static void check_rollouts(void) {
    enum { P = 2, G = 4, NEW = 24 };
    struct pair p;
    pair_open(&p);
    int32_t with_graphs[P * G * NEW], without[P * G * NEW], cpu[P * G * NEW];
    rollout_tokens(p.g, with_graphs, P, G, NEW);
    setenv("R1LAB_CUDA_GRAPHS", "0", 1);
    struct backend *eager;
    cr_assert_eq(backend_open(&eager, "cuda", 0), STATUS_OK, "%s", err_msg());
    rollout_tokens(eager, without, P, G, NEW);
    backend_close(eager);
    int differ = 0;
    for (int i = 0; i < P * G * NEW; i++) differ += with_graphs[i] != without[i];
    fprintf(stderr, "  rollout with graphs vs without: %d of %d tokens differ\n", differ, P * G * NEW);
    cr_expect_eq(differ, 0, "CUDA graphs change the sampled tokens");
    if (fp32_gemms()) {
        rollout_tokens(p.c, cpu, P, G, NEW);
        differ = 0;
        for (int i = 0; i < P * G * NEW; i++) differ += with_graphs[i] != cpu[i];
        fprintf(stderr, "  rollout GPU (fp32 GEMMs) vs CPU: %d of %d tokens differ\n", differ, P * G * NEW);
        cr_expect_eq(differ, 0, "GPU and CPU rollouts differ with fp32 GEMMs");
    }
    pair_close(&p);
}

Test(cuda_model, rollouts_bf16) {
    check_rollouts();
}
Test(cuda_model, rollouts_fp32) {
    setenv("R1LAB_CUDA_MATMUL", "fp32", 1);
    check_rollouts();
}

/* A config that does not fit is a clear error that says what would fit, and the backend keeps working. */
Test(cuda_model, out_of_memory_is_a_clear_error) {
    struct mfix f;
    mfix_open(&f, "qwen2_tiny", true);
    struct model *m = &f.mg;
    enum status st = model_reserve(m, 1 << 28, 128, true);
    cr_expect_eq(st, STATUS_NOMEM, "%s", err_msg());
    fprintf(stderr, "  error: %s\n  hint: %s\n", err_msg(), err_hint_text());
    cr_expect(strstr(err_msg(), "activations for") != NULL, "%s", err_msg());
    cr_expect(strstr(err_hint_text(), "tokens fit") != NULL, "%s", err_hint_text());
    struct kv_cache kv;
    st = kv_cache_init(&kv, m, 1 << 20, 4096);
    cr_expect_eq(st, STATUS_NOMEM, "%s", err_msg());
    fprintf(stderr, "  error: %s\n  hint: %s\n", err_msg(), err_hint_text());
    cr_expect(strstr(err_hint_text(), "sequences of") != NULL, "%s", err_hint_text());
    cr_assert_eq(model_reserve(m, f.n_ids, 128, true), STATUS_OK, "%s", err_msg());
    struct batch b = batch_builder_view(&f.bb);
    cr_expect_eq(model_forward(m, &b, NULL, NULL), STATUS_OK, "the backend works after a failed allocation: %s",
                 err_msg());
    mfix_close(&f);
}

/* ---------------------------------------------------------------------------------------------------- */
/* A short GRPO run end to end                                                                           */

Test(cuda_grpo, two_steps_on_the_fixture_model, .timeout = 600) {
    backend_close(cuda_or_skip());
    char *dir = th_tmpdir("cuda-grpo"), *model = th_path("tests/fixtures/models/qwen2_tiny");
    char cfg[4200], text[4096], out_arg[4300];
    snprintf(cfg, sizeof cfg, "%s/grpo.json", dir);
    snprintf(text, sizeof text,
             "{\"stage\": \"grpo\", \"model_name_or_path\": \"%s\", \"dataset\": \"world:linear\",\n"
             " \"template\": \"r1-zero\", \"reward_funcs\": [\"accuracy\", \"format\"], \"prompts_per_step\": 4,\n"
             " \"num_generations\": 4, \"max_prompt_length\": 256, \"max_completion_length\": 24,\n"
             " \"per_device_train_batch_size\": 8, \"beta\": 0.04, \"num_iterations\": 2, \"learning_rate\": 0.0005,\n"
             " \"max_steps\": 2, \"eval_steps\": 2, \"eval_problems\": 4, \"eval_k\": 2, \"save_steps\": 100,\n"
             " \"seed\": 3, \"device\": \"cuda\"}\n",
             model);
    cr_assert(th_write_file(cfg, text, strlen(text)));
    snprintf(out_arg, sizeof out_arg, "output_dir=%s/run", dir);
    const char *args[] = {"train", "--headless", cfg, out_arg, NULL};
    struct th_run r = th_r1lab(NULL, args);
    cr_expect_eq(r.exit_code, 0, "GRPO on the GPU failed:\n%s", r.err);
    char metrics[4300];
    snprintf(metrics, sizeof metrics, "%s/run/metrics.jsonl", dir);
    FILE *fm = fopen(metrics, "r");
    cr_assert(fm != NULL, "no metrics.jsonl");
    char line[16384];
    int steps = 0, with_mem = 0;
    while (fgets(line, sizeof line, fm)) {
        steps += strstr(line, "\"loss\"") != NULL;
        with_mem += strstr(line, "\"memory/device_bytes\"") != NULL;
    }
    fclose(fm);
    cr_expect_eq(steps, 2, "two GRPO steps logged");
    cr_expect_eq(with_mem, 2, "device memory reported every step");
    th_run_free(&r);
    free(model);
    free(dir);
}

/* ---------------------------------------------------------------------------------------------------- */
/* NCCL (kernels/cuda_comm.c) with the one GPU of a check machine                                        */

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The CUDA backend and a fresh communicator id from it, or the end of the test: a skip when the library was built
 * without nccl.h or libnccl.so.2 does not load, a failure instead with R1LAB_REQUIRE_NCCL=1 (bench/gpu_check.sh's
 * nccl phase). */
static struct backend *nccl_or_skip(char *id, size_t cap, size_t *bytes) {
    struct backend *g = cuda_or_skip();
    const char *req = getenv("R1LAB_REQUIRE_NCCL");
    bool required = req && strcmp(req, "1") == 0;
    if (!g->ops->comm_make_id) {
        backend_close(g);
        cr_assert(!required, "R1LAB_REQUIRE_NCCL=1 but the CUDA library was built without nccl.h");
        cr_skip_test("the CUDA library was built without nccl.h (its ranks sum gradients through the host)");
    }
    enum status st = g->ops->comm_make_id(g, id, cap, bytes);
    if (st == STATUS_UNSUPPORTED && !required) {
        backend_close(g);
        cr_skip_test("no NCCL: %s", err_msg());
    }
    cr_assert_eq(st, STATUS_OK, "comm_make_id: %s (hint: %s)", err_msg(), err_hint_text());
    cr_assert(*bytes > 0 && *bytes <= cap, "an id of %zu bytes", *bytes);
    fprintf(stderr, "  device: %s\n", g->name);
    return g;
}

/* A communicator of one rank: its sum is the buffer itself, which must come back bit for bit, after the op that
 * was enqueued before it (a scale by 2, exact in fp32) and without disturbing the ops after it. What this proves is
 * the plumbing a multi-GPU run needs: libnccl.so.2 found and loaded, the non-blocking set-up polled to its end, the
 * all-reduce enqueued on the backend's stream and waited for, the communicator reused and freed at close. */
Test(nccl, one_rank_sum_leaves_the_buffer_as_it_was, .timeout = 120) {
    char id[256];
    size_t bytes = 0;
    struct backend *g = nccl_or_skip(id, sizeof id, &bytes);
    size_t n = ((size_t)3 << 20) + 7; /* 12 MiB and an odd tail */
    float *x = NULL;
    cr_assert_eq(g->ops->alloc(g, n * sizeof(float), (void **)&x), STATUS_OK, "%s", err_msg());
    cr_expect_eq(g->ops->comm_sum(g, x, n, 5), STATUS_INVALID, "a sum before comm_init is an error, not a crash");
    double t0 = mono_s();
    cr_assert_eq(g->ops->comm_init(g, id, bytes, 1, 0, 30), STATUS_OK, "comm_init: %s (hint: %s)", err_msg(),
                 err_hint_text());
    double t_init = mono_s() - t0;
    float *h = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
    fill_normal(h, n, 1.0f, 71);
    g->ops->upload(g, x, h, n * sizeof(float));
    g->ops->scale(g, x, n, 2.0f); /* enqueued, not waited for: the sum must come after it */
    t0 = mono_s();
    cr_assert_eq(g->ops->comm_sum(g, x, n, 30), STATUS_OK, "comm_sum: %s", err_msg());
    double t_sum = mono_s() - t0;
    cr_assert_eq(g->ops->comm_sum(g, x, 0, 30), STATUS_OK, "an empty sum: %s", err_msg());
    cr_assert_eq(g->ops->comm_sum(g, x, 1000, 30), STATUS_OK, "a second sum on the same communicator: %s", err_msg());
    g->ops->download(g, got, x, n * sizeof(float));
    cr_assert_eq(g->ops->check(g), STATUS_OK, "%s", err_msg());
    size_t bad = 0, first = n;
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &(float){2.0f * h[i]}, sizeof(float)) != 0 && bad++ == 0) first = i;
    fprintf(stderr, "  nccl: one rank: set up in %.3f s, all-reduce of %zu floats in %.2f ms, %zu elements differ\n",
            t_init, n, 1e3 * t_sum, bad);
    cr_expect_eq(bad, 0, "%zu of %zu elements changed, the first at %zu: %g instead of %g", bad, n, first,
                 first < n ? got[first] : 0.0, first < n ? 2.0 * h[first] : 0.0);
    free(h);
    free(got);
    g->ops->free(g, x);
    backend_close(g); /* with the communicator still up: close finalises and frees it */
}

/* A communicator of two ranks whose second never comes: the set-up gives up after its timeout with STATUS_PEER
 * and a message naming what waited, instead of hanging; the backend then works on and joins a new communicator. */
Test(nccl, a_rank_that_never_comes_times_out, .timeout = 120) {
    char id[256];
    size_t bytes = 0;
    struct backend *g = nccl_or_skip(id, sizeof id, &bytes);
    double t0 = mono_s();
    enum status st = g->ops->comm_init(g, id, bytes, 2, 0, 3.0);
    double waited = mono_s() - t0;
    fprintf(stderr, "  nccl: rank 0 of 2 alone: status %d after %.2f s: %s\n", (int)st, waited, err_msg());
    cr_assert_eq(st, STATUS_PEER, "comm_init without its peer: %s", err_msg());
    cr_expect(strstr(err_msg(), "no answer from the other ranks for 3 s") != NULL, "message: %s", err_msg());
    cr_expect(waited >= 2.9 && waited < 30, "gave up after %.2f s (timeout 3 s)", waited);
    float *x = NULL;
    cr_assert_eq(g->ops->alloc(g, 4096 * sizeof(float), (void **)&x), STATUS_OK, "%s", err_msg());
    cr_expect_eq(g->ops->comm_sum(g, x, 4096, 5), STATUS_INVALID, "no communicator after the abort");
    cr_assert_eq(g->ops->comm_make_id(g, id, sizeof id, &bytes), STATUS_OK, "%s", err_msg());
    cr_assert_eq(g->ops->comm_init(g, id, bytes, 1, 0, 30), STATUS_OK, "a new communicator: %s", err_msg());
    g->ops->zero(g, x, 4096 * sizeof(float));
    cr_assert_eq(g->ops->comm_sum(g, x, 4096, 30), STATUS_OK, "%s", err_msg());
    float back[4096];
    g->ops->download(g, back, x, sizeof back);
    cr_assert_eq(g->ops->check(g), STATUS_OK, "%s", err_msg());
    for (int i = 0; i < 4096; i++) cr_assert_eq(back[i], 0.0f, "element %d", i);
    g->ops->free(g, x);
    backend_close(g);
}
