/* GRPO arithmetic against the PyTorch reference (tests/ref/make_grpo_fixtures.py): advantages of eq. 3,
 * loss and d loss / d logp of eq. 1-2 for every loss_type, epsilon_high != epsilon, beta 0 and > 0, masked
 * tokens; the same result when the batch is split into micro-batches; and the edge cases of advantages. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/rl/grpo_loss.h"
#include "engine/util/json.h"
#include "harness.h"

struct flat {
    int B, n;
    int tok_start[64];
    float logp[512], old[512], ref[512], mask[512];
};

static void flatten(const cJSON *rows, float *out, int *tok_start, int *n) {
    int k = 0, i = 0;
    const cJSON *row, *v;
    cJSON_ArrayForEach(row, rows) {
        if (tok_start) tok_start[i] = k;
        cJSON_ArrayForEach(v, row) out[k++] = (float)v->valuedouble;
        i++;
    }
    if (tok_start) tok_start[i] = k;
    if (n) *n = k;
}

static cJSON *load_cases(struct flat *f) {
    char *path = th_path("tests/fixtures/grpo/loss_cases.json");
    cJSON *root;
    cr_assert_eq(json_parse_file(path, 1 << 20, &root), STATUS_OK, "%s", err_msg());
    free(path);
    f->B = cJSON_GetArraySize(cJSON_GetObjectItem(root, "lens"));
    flatten(cJSON_GetObjectItem(root, "logp"), f->logp, f->tok_start, &f->n);
    flatten(cJSON_GetObjectItem(root, "old_logp"), f->old, NULL, NULL);
    flatten(cJSON_GetObjectItem(root, "ref_logp"), f->ref, NULL, NULL);
    flatten(cJSON_GetObjectItem(root, "mask"), f->mask, NULL, NULL);
    return root;
}

static void config_of(const cJSON *c, struct grpo_loss_config *cfg) {
    cr_assert_eq(grpo_loss_type_parse(cJSON_GetObjectItem(c, "loss_type")->valuestring, &cfg->type), STATUS_OK);
    cfg->epsilon = (float)cJSON_GetObjectItem(c, "epsilon")->valuedouble;
    cfg->epsilon_high = (float)cJSON_GetObjectItem(c, "epsilon_high")->valuedouble;
    cfg->beta = (float)cJSON_GetObjectItem(c, "beta")->valuedouble;
    cfg->max_completion_length = cJSON_GetObjectItem(c, "max_completion_length")->valueint;
}

Test(grpo_vs_torch, advantages) {
    struct flat f;
    cJSON *root = load_cases(&f);
    int P = cJSON_GetObjectItem(root, "P")->valueint, G = cJSON_GetObjectItem(root, "G")->valueint;
    float rewards[64], adv[64], want[64];
    int k = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(root, "rewards")) rewards[k++] = (float)v->valuedouble;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases")) {
        bool scale = strcmp(cJSON_GetObjectItem(c, "scale_rewards")->valuestring, "group") == 0;
        int zero = -1;
        cr_assert_eq(grpo_advantages(rewards, P, G, scale, adv, &zero), STATUS_OK);
        k = 0;
        cJSON_ArrayForEach(v, cJSON_GetObjectItem(c, "advantages")) want[k++] = (float)v->valuedouble;
        cr_expect(th_allclose(scale ? "advantages (group)" : "advantages (none)", adv, want, (size_t)(P * G), 1e-6));
        cr_expect_eq(zero, 1, "one all-equal group");
    }
    cJSON_Delete(root);
}

static void run_case(const struct flat *f, const cJSON *c, int split, float *dlogp, struct grpo_loss_stats *st) {
    struct grpo_loss_config cfg;
    config_of(c, &cfg);
    float adv[64];
    int k = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(c, "advantages")) adv[k++] = (float)v->valuedouble;
    double masked = 0;
    for (int t = 0; t < f->n; t++) masked += f->mask[t];
    memset(st, 0, sizeof *st);
    /* Feed the batch in micro-batches of `split` sequences; the sums must not depend on the split. */
    for (int s0 = 0; s0 < f->B; s0 += split) {
        int ns = s0 + split <= f->B ? split : f->B - s0;
        int starts[64];
        for (int i = 0; i <= ns; i++) starts[i] = f->tok_start[s0 + i] - f->tok_start[s0];
        int off = f->tok_start[s0];
        struct grpo_loss_input in = {
            .n_seqs = ns, .tok_start = starts, .logp = f->logp + off, .old_logp = f->old + off,
            .ref_logp = f->ref + off, .mask = f->mask + off, .adv = adv + s0, .batch_seqs = f->B,
            .batch_tokens = masked,
        };
        grpo_loss(&cfg, &in, dlogp + off, st);
    }
}

Test(grpo_vs_torch, loss_and_gradient_every_type) {
    struct flat f;
    cJSON *root = load_cases(&f);
    const cJSON *c;
    int n_cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases")) {
        char name[128];
        snprintf(name, sizeof name, "%s/%s eps_high=%.2f beta=%.2f", cJSON_GetObjectItem(c, "scale_rewards")->valuestring,
                 cJSON_GetObjectItem(c, "loss_type")->valuestring, cJSON_GetObjectItem(c, "epsilon_high")->valuedouble,
                 cJSON_GetObjectItem(c, "beta")->valuedouble);
        float want_g[512], got_g[512], got_split[512];
        flatten(cJSON_GetObjectItem(c, "dlogp"), want_g, NULL, NULL);
        struct grpo_loss_stats st, st2;
        run_case(&f, c, f.B, got_g, &st);
        run_case(&f, c, 3, got_split, &st2);
        float got_loss = (float)st.loss, want_loss = (float)cJSON_GetObjectItem(c, "loss")->valuedouble;
        cr_expect(th_allclose(name, &got_loss, &want_loss, 1, 1e-5), "loss %s", name);
        cr_expect(th_allclose("  dlogp", got_g, want_g, (size_t)f.n, 1e-5), "gradient %s", name);
        cr_expect(fabs(st2.loss - st.loss) <= 1e-9 * fabs(st.loss) + 1e-12, "micro-batching changed the loss");
        cr_expect_eq(memcmp(got_g, got_split, sizeof(float) * (size_t)f.n), 0, "micro-batching changed the gradient");
        n_cases++;
    }
    cr_expect_eq(n_cases, 24);
    cJSON_Delete(root);
}

Test(grpo_advantages, edge_cases) {
    float adv[8];
    int zero;
    float one[1] = {3.0f};
    cr_expect_eq(grpo_advantages(one, 1, 1, true, adv, &zero), STATUS_OK, "G = 1 is allowed");
    cr_expect_eq(adv[0], 0.0f);
    cr_expect_eq(zero, 1, "a group of one has no spread");
    float same[4] = {0.1f, 0.1f, 0.1f, 0.1f};
    cr_expect_eq(grpo_advantages(same, 1, 4, true, adv, &zero), STATUS_OK);
    for (int i = 0; i < 4; i++) cr_expect_eq(adv[i], 0.0f, "all-equal group gives exactly 0");
    float bad[4] = {1.0f, NAN, 0.0f, 1.0f};
    cr_expect_eq(grpo_advantages(bad, 1, 4, true, adv, &zero), STATUS_INVALID);
    cr_expect(strstr(err_msg(), "completion 1") != NULL, "names the completion: %s", err_msg());
    float inf[2] = {INFINITY, 0.0f};
    cr_expect_eq(grpo_advantages(inf, 1, 2, false, adv, &zero), STATUS_INVALID);
    float two[2] = {1.0f, 0.0f};
    cr_expect_eq(grpo_advantages(two, 1, 2, false, adv, &zero), STATUS_OK);
    cr_expect_float_eq(adv[0], 0.5f, 1e-7);
    cr_expect_float_eq(adv[1], -0.5f, 1e-7);
    cr_expect_eq(zero, 0);
}
