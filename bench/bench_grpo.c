/* bench_grpo: one GRPO step of r1lab on the workloads of ../shared/bench/torch_grpo_ref.py, so the two can be
 * compared line by line. For each size: random-init Qwen2-architecture policy and reference, P*G sampled
 * completions of exactly Lc tokens (temperature 1, KV cache, prefix shared by the G samples of a prompt),
 * old-policy and reference log-probs, then the clipped surrogate + k3 KL (beta 0.04) backward in micro-batches
 * of B/8 sequences, gradient clipping at 1.0 and one AdamW step. One warm-up step, then a timed one.
 * Prints rollout tok/s (new tokens / generation time), train tok/s (B*(Lp+Lc) / scoring+training time) and
 * the step time, in the reference's format (plus peak device memory on a GPU), then the step split into rollout
 * (prefill, decode), scoring (old-policy and reference log-probs) and training (loss pass and AdamW).
 * Usage: bench_grpo [--threads N] [--device cpu|cuda|cuda:N] [tiny|small|q05b ...]
 *        bench_grpo --probe [--device ...]   opens the backend, moves a buffer through it and says what it found
 *                                            (exit 0), or why it cannot (exit 1): the GPU check's first step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/backend/backend.h"
#include "engine/model/model.h"
#include "engine/model/optim.h"
#include "engine/model/rollout.h"
#include "engine/rl/grpo_loss.h"
#include "engine/util/log.h"
#include "engine/util/rng.h"

struct shape {
    const char *name;
    int hidden, layers, heads, kv_heads, inter, vocab, P, G, Lp, Lc;
    bool tied;
};

static const struct shape shapes[] = {
    {"tiny", 128, 4, 4, 4, 384, 64, 16, 8, 32, 96, true},
    {"small", 512, 8, 8, 8, 1536, 4096, 16, 8, 64, 192, true},
    {"q05b", 896, 24, 14, 2, 4864, 151936, 32, 8, 128, 384, false},
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define CHECK(x)                                                                                               \
    do {                                                                                                       \
        enum status st_ = (x);                                                                                 \
        if (st_ != STATUS_OK) {                                                                                \
            fprintf(stderr, "bench_grpo: %s: %s%s%s\n", #x, err_msg(), err_hint_text()[0] ? "\nhint: " : "",     \
                    err_hint_text());                                                                          \
            exit(1);                                                                                           \
        }                                                                                                      \
    } while (0)

static void run(const struct shape *s, struct backend *be) {
    struct model_config cfg = {
        .arch = MODEL_ARCH_QWEN2, .vocab_size = s->vocab, .hidden_size = s->hidden, .num_layers = s->layers,
        .num_heads = s->heads, .num_kv_heads = s->kv_heads, .head_dim = s->hidden / s->heads,
        .intermediate_size = s->inter, .max_position_embeddings = s->Lp + s->Lc + 8, .rms_norm_eps = 1e-6f,
        .rope_theta = 10000.0, .tie_word_embeddings = s->tied, .qkv_bias = true, .bos_token_id = -1, .n_eos = 0,
    };
    struct model pol, ref;
    CHECK(model_init(&pol, &cfg, be));
    CHECK(model_init_random(&pol, 0, 0.02f));
    CHECK(model_init(&ref, &cfg, be));
    be->ops->copy(be, ref.params, pol.params, pol.n_params * sizeof(float));
    struct optim_config oc = optim_config_default();
    oc.learning_rate = 1e-6f;
    oc.schedule = LR_CONSTANT;
    struct optimizer opt;
    CHECK(optim_init(&opt, &pol, &oc));
    int B = s->P * s->G, L = s->Lp + s->Lc, mb = B / 8 > 0 ? B / 8 : 1;
    struct rollout r;
    CHECK(rollout_init(&r, &pol, NULL, B, L));
    CHECK(model_reserve(&pol, mb * L, L, true));
    CHECK(model_reserve(&ref, mb * L, L, false));
    int32_t *prompt_store = malloc(sizeof(int32_t) * (size_t)s->P * s->Lp);
    const int32_t **prompts = malloc(sizeof *prompts * (size_t)s->P);
    int *lens = malloc(sizeof(int) * (size_t)s->P);
    struct rng g;
    rng_seed(&g, 0);
    for (int i = 0; i < s->P * s->Lp; i++) prompt_store[i] = 3 + (int32_t)rng_below(&g, (uint64_t)s->vocab - 3);
    for (int p = 0; p < s->P; p++) prompts[p] = prompt_store + (size_t)p * s->Lp, lens[p] = s->Lp;
    size_t T = (size_t)B * s->Lc;
    float *old = malloc(sizeof(float) * T), *refl = malloc(sizeof(float) * T), *logp = malloc(sizeof(float) * T);
    float *dlogp = malloc(sizeof(float) * T), *mask = malloc(sizeof(float) * T);
    float *rows = malloc(sizeof(float) * (size_t)mb * L), *drows = malloc(sizeof(float) * (size_t)mb * L);
    float rewards[4096], adv[4096];
    int *tok_start = malloc(sizeof(int) * (size_t)(B + 1));
    for (int i = 0; i <= B; i++) tok_start[i] = i * s->Lc;
    for (size_t i = 0; i < T; i++) mask[i] = 1.0f;
    struct batch_builder bb;
    CHECK(batch_builder_init(&bb, mb * L, mb));
    int32_t *seq = malloc(sizeof(int32_t) * (size_t)L);
    struct grpo_loss_config lc = {.type = GRPO_LOSS_GRPO, .epsilon = 0.2f, .epsilon_high = 0.2f, .beta = 0.04f,
                                  .max_completion_length = s->Lc};
    double gen_s = 0, score_s = 0, train_s = 0;
    struct rollout_stats rs = {0};
    for (int it = 0; it < 2; it++) {
        struct rollout_options ro = {.sampling = {1.0f, 1.0f, 0}, .max_new_tokens = s->Lc, .seed = (uint64_t)it};
        double t0 = now();
        CHECK(rollout_run(&r, prompts, lens, s->P, s->G, &ro, NULL, NULL, NULL, &rs));
        double t1 = now();
        for (int i = 0; i < B; i++) rewards[i] = (float)(r.seqs[i].ids[0] % 2); /* the reference's stand-in */
        CHECK(grpo_advantages(rewards, s->P, s->G, true, adv, NULL));
        /* old-policy and reference log-probs, then the loss passes, in micro-batches of mb sequences */
        double t_score = 0;
        for (int pass = 0; pass < 3; pass++) {
            if (pass == 2) {
                CHECK(be->ops->check(be));
                t_score = now();
            }
            for (int b0 = 0; b0 < B; b0 += mb) {
                batch_builder_clear(&bb);
                for (int k = 0; k < mb; k++) {
                    int i = b0 + k;
                    memcpy(seq, prompts[i / s->G], sizeof(int32_t) * s->Lp);
                    memcpy(seq + s->Lp, r.seqs[i].ids, sizeof(int32_t) * s->Lc);
                    CHECK(batch_builder_add(&bb, seq, L, s->Lp));
                }
                struct batch b = batch_builder_view(&bb);
                struct model *m = pass == 1 ? &ref : &pol;
                CHECK(model_forward(m, &b, rows, NULL));
                float *dst = pass == 0 ? old : pass == 1 ? refl : logp;
                for (int k = 0; k < mb; k++)
                    memcpy(dst + (size_t)(b0 + k) * s->Lc, rows + b.seq_start[k] + s->Lp - 1, sizeof(float) * s->Lc);
                if (pass < 2) continue;
                struct grpo_loss_stats ls = {0};
                struct grpo_loss_input in = {.n_seqs = mb, .tok_start = tok_start, .logp = logp + (size_t)b0 * s->Lc,
                                             .old_logp = old + (size_t)b0 * s->Lc, .ref_logp = refl + (size_t)b0 * s->Lc,
                                             .mask = mask, .adv = adv + b0, .batch_seqs = B, .batch_tokens = (double)T};
                grpo_loss(&lc, &in, dlogp, &ls);
                memset(drows, 0, sizeof(float) * (size_t)b.N);
                for (int k = 0; k < mb; k++)
                    memcpy(drows + b.seq_start[k] + s->Lp - 1, dlogp + (size_t)k * s->Lc, sizeof(float) * s->Lc);
                CHECK(model_backward(&pol, &b, drows));
            }
        }
        struct optim_result res;
        CHECK(optim_step(&opt, &res));
        CHECK(be->ops->check(be));
        double t2 = now();
        gen_s = t1 - t0;
        score_s = t_score - t1;
        train_s = t2 - t1;
    }
    double tok = (double)B * s->Lc;
    struct backend_memory mem;
    be->ops->memory(be, &mem);
    char mem_text[64] = "";
    if (mem.valid) snprintf(mem_text, sizeof mem_text, " | device memory peak %.2f GiB", (double)mem.peak / (1 << 30));
    printf("%-6s dev=%s params=%.2fM B=%d Lp=%d Lc=%d | rollout %10.0f tok/s (%.2fs) | train %10.0f tok/s (%.2fs) | "
           "step %.2fs%s\n", s->name, be->kind == BACKEND_CPU ? "cpu" : "cuda", (double)pol.n_params / 1e6, B, s->Lp,
           s->Lc, tok / gen_s, gen_s, (double)B * L / train_s, train_s, gen_s + train_s, mem_text);
    printf("%-6s   rollout: prefill %.3fs, decode %.3fs (%.2f ms per step of up to %d sequences)\n", s->name,
           rs.prefill_s, rs.decode_s, 1e3 * rs.decode_s / (s->Lc - 1), B);
    printf("%-6s   train: scoring %.3fs (old-policy and reference log-probs), policy forward + backward + AdamW %.3fs\n",
           s->name, score_s, train_s - score_s);
    fflush(stdout);
    free(prompt_store), free(prompts), free(lens), free(old), free(refl), free(logp), free(dlogp), free(mask);
    free(rows), free(drows), free(tok_start), free(seq);
    batch_builder_free(&bb);
    rollout_free(&r);
    optim_free(&opt);
    model_free(&ref);
    model_free(&pol);
}

static void log_to_stderr(enum log_level level, const char *msg, void *user) {
    (void)user;
    fprintf(stderr, "bench_grpo: %s: %s\n", log_level_name(level), msg);
}

/* Opens the backend and sends 4 MiB through upload, copy, download: enough to show that the library loads, the
 * device opens and its kernels and copies run. */
static int probe(const char *device, int threads) {
    struct backend *be;
    if (backend_open(&be, device, threads) != STATUS_OK) {
        printf("probe: %s does not open: %s\n", device, err_msg());
        if (err_hint_text()[0]) printf("probe: hint: %s\n", err_hint_text());
        return 1;
    }
    enum { N = 1 << 20 };
    float *h = malloc(sizeof(float) * N), *a = NULL, *b = NULL;
    for (int i = 0; i < N; i++) h[i] = (float)i;
    enum status st = be->ops->alloc(be, sizeof(float) * N, (void **)&a);
    if (st == STATUS_OK) st = be->ops->alloc(be, sizeof(float) * N, (void **)&b);
    if (st == STATUS_OK) {
        be->ops->upload(be, a, h, sizeof(float) * N);
        be->ops->scale(be, a, N, 2.0f);
        be->ops->copy(be, b, a, sizeof(float) * N);
        memset(h, 0, sizeof(float) * N);
        be->ops->download(be, h, b, sizeof(float) * N);
        st = be->ops->check(be);
    }
    int bad = 0;
    for (int i = 0; i < N && st == STATUS_OK; i++) bad += h[i] != 2.0f * (float)i;
    if (a) be->ops->free(be, a);
    if (b) be->ops->free(be, b);
    free(h);
    if (st != STATUS_OK || bad) {
        printf("probe: %s opened (%s) but a round trip failed: %s\n", be->name, backend_cuda_library(),
               st != STATUS_OK ? err_msg() : "wrong values came back");
        backend_close(be);
        return 1;
    }
    printf("probe: ok: %s%s%s\n", be->name, backend_cuda_library()[0] ? ", library " : "", backend_cuda_library());
    backend_close(be);
    return 0;
}

int main(int argc, char **argv) {
    log_set_sink(log_to_stderr, NULL);
    log_set_level(LOG_DEBUG);
    int threads = 0, first = 1;
    bool want_probe = false;
    const char *device = "cpu";
    while (first < argc && strncmp(argv[first], "--", 2) == 0) {
        if (strcmp(argv[first], "--threads") == 0 && first + 1 < argc) threads = atoi(argv[++first]);
        else if (strcmp(argv[first], "--device") == 0 && first + 1 < argc) device = argv[++first];
        else if (strcmp(argv[first], "--probe") == 0) want_probe = true;
        first++;
    }
    if (want_probe) return probe(device, threads);
    struct backend *be;
    CHECK(backend_open(&be, device, threads));
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        bool want = first == argc;
        for (int a = first; a < argc; a++) want |= strcmp(argv[a], shapes[i].name) == 0;
        if (want) run(&shapes[i], be);
    }
    backend_close(be);
    return 0;
}
