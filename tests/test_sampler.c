/* The sampler against transformers' logits warpers (tests/ref/make_sampler_fixtures.py): the distribution it
 * samples from equals Temperature -> TopK -> TopP for 108 cases; empirical frequencies of many draws match that
 * distribution (chi-square at a fixed seed); excluded tokens are never drawn; greedy breaks ties by lowest id. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/sampler.h"
#include "engine/util/json.h"
#include "engine/util/rng.h"
#include "harness.h"

static cJSON *load(void) {
    char *path = th_path("tests/fixtures/sampler/warpers.json");
    cJSON *root;
    cr_assert_eq(json_parse_file(path, 1 << 22, &root), STATUS_OK, "%s", err_msg());
    free(path);
    return root;
}

static int to_floats(const cJSON *arr, float *out) {
    int n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) out[n++] = (float)v->valuedouble;
    return n;
}

Test(sampler_vs_transformers, warped_distributions) {
    cJSON *root = load();
    float logits[3][256], probs[256], got[256];
    int V[3], k = 0;
    const cJSON *set;
    cJSON_ArrayForEach(set, cJSON_GetObjectItem(root, "logits")) V[k] = to_floats(set, logits[k]), k++;
    const cJSON *c;
    int n_cases = 0;
    bool ok = true;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases")) {
        int si = cJSON_GetObjectItem(c, "set")->valueint;
        struct sampler_params p = {(float)cJSON_GetObjectItem(c, "temperature")->valuedouble,
                                   (float)cJSON_GetObjectItem(c, "top_p")->valuedouble,
                                   cJSON_GetObjectItem(c, "top_k")->valueint};
        to_floats(cJSON_GetObjectItem(c, "probs"), probs);
        struct sampler s;
        cr_assert_eq(sampler_init(&s, V[si]), STATUS_OK);
        sampler_distribution(&s, &p, logits[si], got);
        char name[96];
        snprintf(name, sizeof name, "V=%d T=%.1f top_k=%d top_p=%.2f", V[si], p.temperature, p.top_k, p.top_p);
        ok &= th_allclose(name, got, probs, (size_t)V[si], 1e-5);
        for (int v = 0; v < V[si]; v++)
            cr_expect((got[v] == 0) == (probs[v] == 0), "%s: token %d kept by one and not the other", name, v);
        sampler_free(&s);
        n_cases++;
    }
    cr_expect(ok);
    cr_expect_eq(n_cases, 108);
    cJSON_Delete(root);
}

/* Pearson chi-square of counts against probabilities over the tokens with p > 0. */
static double chi_square(const long *counts, const float *p, int V, long n, int *dof) {
    double x2 = 0;
    *dof = -1;
    for (int v = 0; v < V; v++) {
        if (p[v] <= 0) continue;
        double e = p[v] * (double)n;
        x2 += (counts[v] - e) * (counts[v] - e) / e;
        (*dof)++;
    }
    return x2;
}

Test(sampler, empirical_frequencies_match_the_distribution) {
    const float logits[8] = {1.0f, 0.5f, -0.3f, 2.0f, 0.0f, -1.5f, 1.2f, 0.7f};
    const struct sampler_params cases[] = {{1.0f, 1.0f, 0}, {0.6f, 1.0f, 0}, {1.3f, 0.8f, 0}, {1.0f, 1.0f, 3}};
    struct sampler s;
    cr_assert_eq(sampler_init(&s, 8), STATUS_OK);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        float p[8];
        sampler_distribution(&s, &cases[c], logits, p);
        struct rng r;
        rng_seed(&r, 1234 + c);
        long counts[8] = {0}, n = 200000;
        for (long i = 0; i < n; i++) counts[sampler_sample(&s, &cases[c], logits, &r)]++;
        int dof;
        double x2 = chi_square(counts, p, 8, n, &dof);
        /* 0.999 quantile of chi-square for 7 dof is 24.3; a fixed seed makes this deterministic. */
        cr_expect(x2 < 24.3, "case %zu: chi-square %.2f with %d dof", c, x2, dof);
        for (int v = 0; v < 8; v++)
            if (p[v] == 0) cr_expect_eq(counts[v], 0, "case %zu: excluded token %d drawn", c, v);
        double mass = 0;
        for (int v = 0; v < 8; v++) mass += p[v];
        cr_expect(fabs(mass - 1.0) < 1e-5, "case %zu: mass %.7f", c, mass);
    }
    sampler_free(&s);
}

Test(sampler, top_p_keeps_the_smallest_sufficient_set_and_greedy_breaks_ties_low) {
    /* probabilities 0.5, 0.25, 0.15, 0.10 */
    const float logits[4] = {logf(0.5f), logf(0.25f), logf(0.15f), logf(0.10f)};
    struct sampler s;
    cr_assert_eq(sampler_init(&s, 4), STATUS_OK);
    float p[4];
    sampler_distribution(&s, &(struct sampler_params){1.0f, 0.7f, 0}, logits, p);
    cr_expect_float_eq(p[0], 2.0f / 3.0f, 1e-6);
    cr_expect_float_eq(p[1], 1.0f / 3.0f, 1e-6);
    cr_expect_eq(p[2], 0.0f);
    cr_expect_eq(p[3], 0.0f);
    sampler_distribution(&s, &(struct sampler_params){1.0f, 0.5f, 0}, logits, p);
    cr_expect_float_eq(p[0], 1.0f, 1e-6, "the first token alone reaches 0.5");
    const float ties[4] = {0.0f, 3.0f, 3.0f, 1.0f};
    struct rng r;
    rng_seed(&r, 1);
    cr_expect_eq(sampler_sample(&s, &(struct sampler_params){0.0f, 1.0f, 0}, ties, &r), 1);
    cr_expect_eq(sampler_params_check(&(struct sampler_params){-1.0f, 1.0f, 0}), STATUS_INVALID);
    cr_expect_eq(sampler_params_check(&(struct sampler_params){1.0f, 0.0f, 0}), STATUS_INVALID);
    cr_expect_eq(sampler_params_check(&(struct sampler_params){1.0f, 1.5f, 0}), STATUS_INVALID);
    cr_expect_eq(sampler_params_check(&(struct sampler_params){NAN, 1.0f, 0}), STATUS_INVALID);
    sampler_free(&s);
}
