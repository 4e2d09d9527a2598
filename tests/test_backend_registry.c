/* The backend registry without a GPU: --device auto falls back to the CPU with exactly one info line that says
 * why; an explicit cuda device without the library (or with a broken one) is a clear error, not a crash;
 * malformed device names are usage errors. Also the interface pieces the CUDA backend added, checked on the CPU:
 * ->sample against sampler.c, and model_decode_sample (a repeat section plus ->sample) against
 * model_decode_step plus the host sampler. Each criterion test runs in its own process, so setting
 * R1LAB_CUDA_LIB here affects only that test. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/backend.h"
#include "engine/backend/sampler.h"
#include "engine/model/model.h"
#include "engine/util/log.h"
#include "engine/util/rng.h"
#include "harness.h"

static char log_text[4096];
static int log_lines;

static void capture(enum log_level level, const char *msg, void *user) {
    (void)user;
    if (level != LOG_INFO) return;
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "%s\n", msg);
    log_lines++;
}

static void capture_logs(void) {
    log_text[0] = '\0';
    log_lines = 0;
    log_set_sink(capture, NULL);
    log_set_level(LOG_DEBUG);
}

Test(backend_registry, cpu_by_name) {
    struct backend *be;
    cr_assert_eq(backend_open(&be, "cpu", 1), STATUS_OK, "%s", err_msg());
    cr_expect_eq(be->kind, BACKEND_CPU);
    cr_expect(!be->sample_on_device);
    struct backend_memory mem;
    be->ops->memory(be, &mem);
    cr_expect(!mem.valid, "the CPU reports no device memory");
    backend_close(be);
}

Test(backend_registry, auto_without_library_uses_cpu_with_one_line) {
    setenv("R1LAB_CUDA_LIB", "/nonexistent/r1lab-lib-dir", 1);
    capture_logs();
    struct backend *be;
    cr_assert_eq(backend_open(&be, "auto", 1), STATUS_OK, "%s", err_msg());
    cr_expect_eq(be->kind, BACKEND_CPU);
    cr_expect_eq(log_lines, 1, "one info line, got %d: %s", log_lines, log_text);
    cr_expect(strstr(log_text, "libr1lab-cuda.so not found") != NULL, "says what is missing: %s", log_text);
    cr_expect(strstr(log_text, "/nonexistent/r1lab-lib-dir") != NULL, "says where it looked: %s", log_text);
    cr_expect(strstr(log_text, "using the CPU") != NULL, "says what it does instead: %s", log_text);
    backend_close(be);
}

/* Every start of a CPU-only build says it uses the CPU: in a few words, not the search path (which
 * --device cuda and R1LAB_CUDA_LIB still name). */
Test(backend_registry, auto_on_a_cpu_only_build_is_one_short_line) {
    unsetenv("R1LAB_CUDA_LIB");
    capture_logs();
    struct backend *be;
    cr_assert_eq(backend_open(&be, "auto", 1), STATUS_OK, "%s", err_msg());
    if (be->kind != BACKEND_CPU || !strstr(log_text, "not found")) {
        cr_log_info("a CUDA library was found here (%s): nothing to check", log_text);
        backend_close(be);
        return;
    }
    cr_expect_eq(log_lines, 1, "%s", log_text);
    cr_expect_leq(strlen(log_text), 80, "fits a line of an 80-column terminal: %s", log_text);
    cr_expect(strstr(log_text, "CPU") != NULL && strstr(log_text, "libr1lab-cuda.so") != NULL, "%s", log_text);
    cr_expect(strstr(log_text, "looked in") == NULL, "%s", log_text);
    backend_close(be);
}

Test(backend_registry, cuda_without_library_is_a_clear_error) {
    setenv("R1LAB_CUDA_LIB", "/nonexistent/r1lab-lib-dir", 1);
    struct backend *be = (struct backend *)1;
    enum status st = backend_open(&be, "cuda", 1);
    cr_expect_eq(st, STATUS_UNSUPPORTED);
    cr_expect_null(be);
    cr_expect(strstr(err_msg(), "libr1lab-cuda.so not found") != NULL, "message: %s", err_msg());
    cr_expect(err_hint_text()[0] != '\0', "with a hint");
}

Test(backend_registry, a_file_that_is_not_the_library_is_a_clear_error) {
    char *dir = th_tmpdir("fake-cuda");
    char path[4200];
    snprintf(path, sizeof path, "%s/libr1lab-cuda.so", dir);
    cr_assert(th_write_file(path, "not an ELF file\n", 16));
    setenv("R1LAB_CUDA_LIB", path, 1);
    struct backend *be;
    cr_expect_eq(backend_open(&be, "cuda:0", 1), STATUS_UNSUPPORTED);
    cr_expect(strstr(err_msg(), "cannot load") != NULL, "message: %s", err_msg());
    capture_logs();
    cr_assert_eq(backend_open(&be, "auto", 1), STATUS_OK);
    cr_expect_eq(be->kind, BACKEND_CPU);
    cr_expect_eq(log_lines, 1, "%s", log_text);
    backend_close(be);
    free(dir);
}

Test(backend_registry, malformed_device_names) {
    const char *bad[] = {"cuda:", "cuda:x", "cuda:-1", "gpu", "CPU", "cuda0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct backend *be;
        cr_expect_eq(backend_open(&be, bad[i], 1), STATUS_INVALID, "\"%s\" should be rejected (%s)", bad[i], err_msg());
        cr_expect(strstr(err_msg(), bad[i]) != NULL, "the message names \"%s\": %s", bad[i], err_msg());
    }
}

/* With the library this build made (if any), on a machine without a usable GPU: "cuda" fails naming the cause
 * and "auto" still gives a working backend with one line. With a GPU, both give the CUDA backend. */
Test(backend_registry, built_library_on_this_machine) {
    unsetenv("R1LAB_CUDA_LIB");
    capture_logs();
    struct backend *be;
    enum status st = backend_open(&be, "cuda", 1);
    if (st == STATUS_OK) {
        cr_expect_eq(be->kind, BACKEND_CUDA);
        cr_expect(be->sample_on_device);
        fprintf(stderr, "  CUDA backend: %s (%s)\n", be->name, backend_cuda_library());
        backend_close(be);
    } else {
        fprintf(stderr, "  no CUDA backend here: %s\n", err_msg());
        cr_expect(err_msg()[0] != '\0', "the failure names its cause");
    }
    log_text[0] = '\0';
    log_lines = 0;
    cr_assert_eq(backend_open(&be, "auto", 1), STATUS_OK, "%s", err_msg());
    cr_expect_eq(log_lines, 1, "%s", log_text);
    backend_close(be);
}

/* ->sample on the CPU is sampler.c with the uniform given: the same tokens as sampler_sample with a stream that
 * yields that uniform. */
Test(backend_ops, cpu_sample_is_the_host_sampler) {
    struct backend *be;
    cr_assert_eq(backend_cpu_open(&be, 1), STATUS_OK);
    enum { S = 16, V = 300 };
    float *logits = malloc(sizeof(float) * S * V), *copy = malloc(sizeof(float) * S * V);
    struct rng r;
    rng_seed(&r, 5);
    for (int i = 0; i < S * V; i++) logits[i] = 3.0f * (float)rng_normal(&r);
    struct sampler smp;
    cr_assert_eq(sampler_init(&smp, V), STATUS_OK);
    struct sampler_params ps[] = {
        {0.0f, 1.0f, 0}, {1.0f, 1.0f, 0}, {0.7f, 0.9f, 0}, {1.3f, 1.0f, 20}, {1.0f, 0.8f, 40}};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        double u[S];
        int32_t got[S], want[S];
        struct rng a, b;
        rng_seed(&a, 100 + k);
        b = a;
        for (int s = 0; s < S; s++) u[s] = ps[k].temperature > 0 ? rng_double(&a) : 0.0;
        for (int s = 0; s < S; s++) want[s] = sampler_sample(&smp, &ps[k], logits + (size_t)s * V, &b);
        memcpy(copy, logits, sizeof(float) * S * V);
        be->ops->sample(be, got, copy, u, S, V, &ps[k]);
        cr_assert_eq(be->ops->check(be), STATUS_OK);
        for (int s = 0; s < S; s++) cr_expect_eq(got[s], want[s], "params %zu row %d: %d vs %d", k, s, got[s], want[s]);
    }
    sampler_free(&smp);
    free(logits);
    free(copy);
    backend_close(be);
}

/* model_decode_sample on the CPU (repeat section no-ops, ->sample on the host) picks what model_decode_step plus
 * sampler_sample_u picks. */
Test(backend_ops, decode_sample_equals_decode_step_then_sampler) {
    struct backend *be;
    cr_assert_eq(backend_cpu_open(&be, 1), STATUS_OK);
    char *dir = th_path("tests/fixtures/models/qwen2_tiny");
    struct model m;
    cr_assert_eq(model_load(&m, dir, be), STATUS_OK, "%s", err_msg());
    enum { S = 3 };
    struct kv_cache kv;
    cr_assert_eq(kv_cache_init(&kv, &m, S, 32), STATUS_OK);
    int V = m.cfg.vocab_size;
    int32_t tokens[S] = {5, 17, 40}, slots[S] = {2, 0, 1}, pos[S] = {0, 0, 0}, next[S];
    float *logits = malloc(sizeof(float) * S * V);
    struct sampler smp;
    cr_assert_eq(sampler_init(&smp, V), STATUS_OK);
    struct sampler_params sp = {0.9f, 0.95f, 0};
    for (int step = 0; step < 6; step++) {
        double u[S];
        for (int s = 0; s < S; s++) u[s] = (step * S + s + 0.5) / (6.0 * S);
        /* the same step twice: once to look at the logits, once sampled on the backend */
        cr_assert_eq(model_decode_step(&m, &kv, S, tokens, slots, pos, logits), STATUS_OK, "%s", err_msg());
        cr_assert_eq(model_decode_sample(&m, &kv, S, tokens, slots, pos, &sp, u, next), STATUS_OK, "%s", err_msg());
        for (int s = 0; s < S; s++) {
            int32_t want = sampler_sample_u(&smp, &sp, logits + (size_t)s * V, u[s]);
            cr_expect_eq(next[s], want, "step %d row %d", step, s);
            tokens[s] = next[s];
            pos[s]++;
        }
    }
    sampler_free(&smp);
    free(logits);
    kv_cache_free(&kv, &m);
    model_free(&m);
    backend_close(be);
    free(dir);
}

/* model_prefill_sample on the CPU: sample b*G+g is sampler_sample_u over prompt b's last logits with u[b*G+g]. */
Test(backend_ops, prefill_sample_equals_prefill_then_sampler) {
    struct backend *be;
    cr_assert_eq(backend_cpu_open(&be, 1), STATUS_OK);
    char *dir = th_path("tests/fixtures/models/qwen2_tiny");
    struct model m;
    cr_assert_eq(model_load(&m, dir, be), STATUS_OK, "%s", err_msg());
    enum { P = 3, G = 4 };
    struct kv_cache kv;
    cr_assert_eq(kv_cache_init(&kv, &m, P * G, 32), STATUS_OK);
    int V = m.cfg.vocab_size;
    int32_t prompts[P][5] = {{1, 2, 3, 4, 5}, {9, 8, 7, 0, 0}, {30, 31, 0, 0, 0}};
    int lens[P] = {5, 3, 2};
    struct batch_builder bb;
    cr_assert_eq(batch_builder_init(&bb, 10, P), STATUS_OK);
    int32_t slots[P];
    for (int p = 0; p < P; p++) {
        cr_assert_eq(batch_builder_add(&bb, prompts[p], lens[p], lens[p]), STATUS_OK);
        slots[p] = p * G;
    }
    struct batch b = batch_builder_view(&bb);
    float *logits = malloc(sizeof(float) * P * V);
    cr_assert_eq(model_prefill(&m, &kv, &b, slots, logits), STATUS_OK, "%s", err_msg());
    struct sampler smp;
    cr_assert_eq(sampler_init(&smp, V), STATUS_OK);
    const struct sampler_params ps[] = {{0.0f, 1.0f, 0}, {1.0f, 1.0f, 0}, {0.8f, 0.9f, 10}};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        double u[P * G];
        int32_t next[P * G];
        for (int s = 0; s < P * G; s++) u[s] = (s + 0.37) / (P * G);
        cr_assert_eq(model_prefill_sample(&m, &kv, &b, slots, G, &ps[k], u, next), STATUS_OK, "%s", err_msg());
        for (int s = 0; s < P * G; s++) {
            int32_t want = sampler_sample_u(&smp, &ps[k], logits + (size_t)(s / G) * V, u[s]);
            cr_expect_eq(next[s], want, "params %zu sample %d: %d vs %d", k, s, next[s], want);
        }
    }
    sampler_free(&smp);
    free(logits);
    batch_builder_free(&bb);
    kv_cache_free(&kv, &m);
    model_free(&m);
    backend_close(be);
    free(dir);
}
