/* Model numerics against PyTorch / transformers (fixtures from tests/ref/make_model_fixtures.py):
 * per-token log-probs, logits, entropy and loss within 1e-4 relative, every parameter's gradient within
 * 1e-3 relative, greedy decoding token-exact, KV-cached decoding equal to the full forward, BF16 and
 * sharded checkpoints, and finite-difference checks of the gradients that do not rely on PyTorch at all. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/backend.h"
#include "engine/backend/sampler.h"
#include "engine/model/model.h"
#include "engine/model/safetensors.h"
#include "harness.h"

struct fixture {
    struct backend *be;
    struct model m;
    struct st_file ref;
    int32_t *ids, *lens;
    int n_ids, n_seqs;
    struct batch_builder bb;
};

static const struct st_tensor *ref_tensor(struct fixture *f, const char *name) {
    const struct st_tensor *t = st_file_find(&f->ref, name);
    cr_assert(t != NULL, "reference tensor %s missing", name);
    return t;
}

static float *ref_f32(struct fixture *f, const char *name, size_t *n) {
    const struct st_tensor *t = ref_tensor(f, name);
    float *out = malloc(t->numel * sizeof(float));
    cr_assert_eq(st_tensor_to_f32(t, out, t->numel), STATUS_OK, "%s", err_msg());
    if (n) *n = t->numel;
    return out;
}

static int32_t *ref_i32(struct fixture *f, const char *name, int *n) {
    const struct st_tensor *t = ref_tensor(f, name);
    cr_assert_eq(t->dtype, ST_I32);
    int32_t *out = malloc(t->nbytes);
    memcpy(out, t->data, t->nbytes);
    *n = (int)t->numel;
    return out;
}

static void fixture_open(struct fixture *f, const char *model_name, bool train) {
    memset(f, 0, sizeof *f);
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/models/%s", model_name);
    char *dir = th_path(rel);
    snprintf(rel, sizeof rel, "tests/fixtures/models/%s.ref.safetensors", model_name);
    char *refpath = th_path(rel);
    cr_assert_eq(backend_cpu_open(&f->be, 1), STATUS_OK);
    cr_assert_eq(model_load(&f->m, dir, f->be), STATUS_OK, "load %s: %s", dir, err_msg());
    cr_assert_eq(st_file_open(&f->ref, refpath), STATUS_OK, "%s", err_msg());
    f->ids = ref_i32(f, "input_ids", &f->n_ids);
    f->lens = ref_i32(f, "seq_lens", &f->n_seqs);
    cr_assert_eq(batch_builder_init(&f->bb, f->n_ids, f->n_seqs), STATUS_OK);
    int off = 0;
    for (int s = 0; s < f->n_seqs; s++) {
        cr_assert_eq(batch_builder_add(&f->bb, f->ids + off, f->lens[s], 1), STATUS_OK);
        off += f->lens[s];
    }
    cr_assert_eq(model_reserve(&f->m, f->n_ids, 128, train), STATUS_OK, "%s", err_msg());
    free(dir);
    free(refpath);
}

static void fixture_close(struct fixture *f) {
    batch_builder_free(&f->bb);
    free(f->ids);
    free(f->lens);
    st_file_free(&f->ref);
    model_free(&f->m);
    backend_close(f->be);
}

/* Gathers the scored rows (every position but each sequence's last) from a per-row array. */
static float *scored_rows(struct fixture *f, const float *rows, int *n_out) {
    float *out = malloc(sizeof(float) * f->n_ids);
    int n = 0, off = 0;
    for (int s = 0; s < f->n_seqs; s++) {
        for (int t = 0; t + 1 < f->lens[s]; t++) out[n++] = rows[off + t];
        off += f->lens[s];
    }
    *n_out = n;
    return out;
}

static void check_forward(const char *name, double rtol) {
    struct fixture f;
    fixture_open(&f, name, false);
    struct batch b = batch_builder_view(&f.bb);
    float *logp = malloc(sizeof(float) * b.N), *ent = malloc(sizeof(float) * b.N);
    cr_assert_eq(model_forward(&f.m, &b, logp, ent), STATUS_OK, "%s", err_msg());
    int n;
    float *got_lp = scored_rows(&f, logp, &n);
    float *got_ent = scored_rows(&f, ent, &n);
    size_t n_ref;
    float *want_lp = ref_f32(&f, "logprobs", &n_ref);
    cr_assert_eq((size_t)n, n_ref);
    float *want_ent_all = ref_f32(&f, "entropy", NULL);
    float *want_ent = scored_rows(&f, want_ent_all, &n);
    cr_expect(th_allclose("logprobs", got_lp, want_lp, n_ref, rtol));
    cr_expect(th_allclose("entropy", got_ent, want_ent, n_ref, rtol));
    double nll = 0;
    for (int i = 0; i < n; i++) nll -= got_lp[i];
    float loss = (float)(nll / n), *want_loss = ref_f32(&f, "loss", NULL);
    cr_expect(th_allclose("loss", &loss, want_loss, 1, rtol));

    int V = f.m.cfg.vocab_size;
    int32_t *rows = malloc(sizeof(int32_t) * b.N);
    for (int i = 0; i < b.N; i++) rows[i] = i;
    float *logits = malloc(sizeof(float) * (size_t)b.N * V);
    cr_assert_eq(model_logits_rows(&f.m, rows, b.N, logits), STATUS_OK);
    float *want_logits = ref_f32(&f, "logits", NULL);
    cr_expect(th_allclose("logits", logits, want_logits, (size_t)b.N * V, rtol));
    free(logp), free(ent), free(got_lp), free(got_ent), free(want_lp), free(want_ent_all), free(want_ent);
    free(want_loss), free(rows), free(logits), free(want_logits);
    fixture_close(&f);
}

Test(model_vs_torch, qwen2_forward) { check_forward("qwen2_tiny", 1e-4); }
Test(model_vs_torch, llama_sharded_tied_llama3_rope_forward) { check_forward("llama_tiny", 1e-4); }
Test(model_vs_torch, qwen2_bf16_checkpoint_forward) { check_forward("qwen2_tiny_bf16", 1e-4); }

/* Loss = mean next-token NLL over all scored rows; dL/dlogp = -1/count. */
static void backward_mean_nll(struct fixture *f, struct batch *b) {
    float *logp = malloc(sizeof(float) * b->N), *dlogp = malloc(sizeof(float) * b->N);
    cr_assert_eq(model_forward(&f->m, b, logp, NULL), STATUS_OK, "%s", err_msg());
    int count = 0;
    for (int i = 0; i < b->N; i++) count += b->targets[i] >= 0;
    for (int i = 0; i < b->N; i++) dlogp[i] = b->targets[i] >= 0 ? -1.0f / count : 0.0f;
    cr_assert_eq(model_alloc_grads(&f->m), STATUS_OK);
    model_zero_grads(&f->m);
    cr_assert_eq(model_backward(&f->m, b, dlogp), STATUS_OK, "%s", err_msg());
    free(logp);
    free(dlogp);
}

static void check_gradients(const char *name) {
    struct fixture f;
    fixture_open(&f, name, true);
    struct batch b = batch_builder_view(&f.bb);
    backward_mean_nll(&f, &b);
    int checked = 0;
    bool all_ok = true;
    for (size_t i = 0; i < f.ref.n_tensors; i++) {
        const struct st_tensor *t = &f.ref.tensors[i];
        if (strncmp(t->name, "grad.", 5) != 0) continue;
        const struct param_tensor *p = model_find_tensor(&f.m, t->name + 5);
        cr_assert(p != NULL, "no parameter %s", t->name + 5);
        float *want = malloc(t->numel * sizeof(float));
        cr_assert_eq(st_tensor_to_f32(t, want, t->numel), STATUS_OK);
        cr_assert_eq(t->numel, p->numel);
        all_ok &= th_allclose(t->name, f.m.grads + p->offset, want, p->numel, 1e-3);
        free(want);
        checked++;
    }
    cr_expect(all_ok, "some gradients differ from PyTorch (see the table above)");
    cr_expect_eq((size_t)checked, f.m.n_tensors - (f.m.cfg.tie_word_embeddings ? 0 : 0), "every parameter checked");
    fixture_close(&f);
}

Test(model_vs_torch, qwen2_gradients) { check_gradients("qwen2_tiny"); }
Test(model_vs_torch, llama_gradients) { check_gradients("llama_tiny"); }

static void check_greedy(const char *name) {
    struct fixture f;
    fixture_open(&f, name, false);
    int np, ng;
    int32_t *prompt = ref_i32(&f, "greedy_prompt", &np);
    int32_t *want = ref_i32(&f, "greedy_ids", &ng);
    int V = f.m.cfg.vocab_size;
    struct kv_cache kv;
    cr_assert_eq(kv_cache_init(&kv, &f.m, 1, np + ng), STATUS_OK);
    struct batch_builder bb;
    cr_assert_eq(batch_builder_init(&bb, np, 1), STATUS_OK);
    cr_assert_eq(batch_builder_add(&bb, prompt, np, np), STATUS_OK);
    struct batch b = batch_builder_view(&bb);
    float *logits = malloc(sizeof(float) * V);
    int32_t slot = 0;
    cr_assert_eq(model_prefill(&f.m, &kv, &b, &slot, logits), STATUS_OK, "%s", err_msg());
    int mismatches = 0;
    for (int i = 0; i < ng; i++) {
        int32_t tok = sampler_argmax(logits, V), pos = np + i;
        if (tok != want[i]) mismatches++;
        cr_expect_eq(tok, want[i], "greedy token %d: got %d, transformers %d", i, tok, want[i]);
        tok = want[i]; /* keep following the reference so one slip does not cascade */
        cr_assert_eq(model_decode_step(&f.m, &kv, 1, &tok, &slot, &pos, logits), STATUS_OK);
    }
    fprintf(stderr, "  %s greedy: %d/%d tokens equal to transformers\n", name, ng - mismatches, ng);
    free(logits), free(prompt), free(want);
    batch_builder_free(&bb);
    kv_cache_free(&kv, &f.m);
    fixture_close(&f);
}

Test(model_vs_torch, qwen2_greedy) { check_greedy("qwen2_tiny"); }
Test(model_vs_torch, llama_greedy) { check_greedy("llama_tiny"); }

/* Every sequence of the fixture batch: prefill a prefix into its own slot, decode the rest one token per
 * step with all sequences in the same decode batch (different positions per slot), and compare each step's
 * logits with the full forward's. Also shares a prefix between two slots with kv_cache_copy_slot. */
Test(model_kv_cache, decode_equals_full_forward) {
    struct fixture f;
    fixture_open(&f, "qwen2_tiny", false);
    struct batch full = batch_builder_view(&f.bb);
    int V = f.m.cfg.vocab_size, S = f.n_seqs + 1;
    cr_assert_eq(model_forward(&f.m, &full, NULL, NULL), STATUS_OK);
    int32_t *rows = malloc(sizeof(int32_t) * full.N);
    for (int i = 0; i < full.N; i++) rows[i] = i;
    float *want = malloc(sizeof(float) * (size_t)full.N * V);
    cr_assert_eq(model_logits_rows(&f.m, rows, full.N, want), STATUS_OK);

    struct kv_cache kv;
    cr_assert_eq(kv_cache_init(&kv, &f.m, S, 32), STATUS_OK);
    int prefix = 3; /* every fixture sequence is longer than this */
    struct batch_builder pb;
    cr_assert_eq(batch_builder_init(&pb, prefix * f.n_seqs, f.n_seqs), STATUS_OK);
    int32_t slots[8];
    for (int s = 0; s < f.n_seqs; s++) {
        cr_assert_eq(batch_builder_add(&pb, f.ids + full.seq_start[s], prefix, prefix), STATUS_OK);
        slots[s] = s;
    }
    struct batch pbv = batch_builder_view(&pb);
    float *logits = malloc(sizeof(float) * (size_t)S * V);
    cr_assert_eq(model_prefill(&f.m, &kv, &pbv, slots, logits), STATUS_OK, "%s", err_msg());
    bool ok = true;
    for (int s = 0; s < f.n_seqs; s++)
        ok &= th_allclose("prefill last logits", logits + (size_t)s * V,
                          want + (size_t)(full.seq_start[s] + prefix - 1) * V, V, 1e-4);
    /* An extra slot shares sequence 0's prefix. */
    kv_cache_copy_slot(&kv, &f.m, 0, f.n_seqs, prefix);
    int32_t tok[8], pos[8], act_slots[8];
    for (int step = prefix;; step++) {
        int n = 0;
        for (int s = 0; s <= f.n_seqs; s++) {
            int seq = s == f.n_seqs ? 0 : s;
            if (step >= f.lens[seq]) continue;
            tok[n] = f.ids[full.seq_start[seq] + step];
            pos[n] = step;
            act_slots[n] = s;
            n++;
        }
        if (n == 0) break;
        cr_assert_eq(model_decode_step(&f.m, &kv, n, tok, act_slots, pos, logits), STATUS_OK, "%s", err_msg());
        for (int i = 0; i < n; i++) {
            int seq = act_slots[i] == f.n_seqs ? 0 : act_slots[i];
            ok &= th_allclose("decode logits", logits + (size_t)i * V,
                              want + (size_t)(full.seq_start[seq] + pos[i]) * V, V, 1e-4);
        }
    }
    cr_expect(ok, "KV-cached decoding differs from the full forward");
    free(rows), free(want), free(logits);
    batch_builder_free(&pb);
    kv_cache_free(&kv, &f.m);
    fixture_close(&f);
}

/* Central differences on the loss for the largest-gradient entry of every tensor and a fixed pseudo-random
 * one: an independent check of the backward pass that does not rely on the PyTorch fixture. */
Test(model_gradcheck, finite_differences) {
    struct fixture f;
    fixture_open(&f, "qwen2_tiny", true);
    struct batch b = batch_builder_view(&f.bb);
    backward_mean_nll(&f, &b);
    size_t n = f.m.n_params;
    float *analytic = malloc(n * sizeof(float));
    memcpy(analytic, f.m.grads, n * sizeof(float));
    float *logp = malloc(sizeof(float) * b.N);
    int count = 0;
    for (int i = 0; i < b.N; i++) count += b.targets[i] >= 0;
    int failures = 0, checks = 0;
    uint64_t lcg = 12345;
    for (size_t ti = 0; ti < f.m.n_tensors; ti++) {
        const struct param_tensor *p = &f.m.tensors[ti];
        size_t best = 0;
        for (size_t k = 1; k < p->numel; k++)
            if (fabsf(analytic[p->offset + k]) > fabsf(analytic[p->offset + best])) best = k;
        lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t picks[2] = {best, (size_t)(lcg >> 33) % p->numel};
        for (int pi = 0; pi < 2; pi++) {
            float *w = f.m.params + p->offset + picks[pi];
            float orig = *w, eps = 1e-2f;
            double loss[2];
            for (int sgn = 0; sgn < 2; sgn++) {
                *w = orig + (sgn ? -eps : eps);
                cr_assert_eq(model_forward(&f.m, &b, logp, NULL), STATUS_OK);
                double nll = 0;
                for (int i = 0; i < b.N; i++) nll -= b.targets[i] >= 0 ? logp[i] : 0.0;
                loss[sgn] = nll / count;
            }
            *w = orig;
            double fd = (loss[0] - loss[1]) / (2 * eps), an = analytic[p->offset + picks[pi]];
            /* fp32 forward passes: allow 2% relative plus an absolute floor from rounding in the loss. */
            bool ok = fabs(fd - an) <= 2e-2 * fabs(an) + 2e-4;
            if (!ok) {
                failures++;
                fprintf(stderr, "  FD mismatch %s[%zu]: analytic %.6g finite-difference %.6g\n", p->name, picks[pi],
                        an, fd);
            }
            checks++;
        }
    }
    fprintf(stderr, "  finite differences: %d/%d entries agree\n", checks - failures, checks);
    cr_expect_eq(failures, 0);
    free(analytic), free(logp);
    fixture_close(&f);
}
