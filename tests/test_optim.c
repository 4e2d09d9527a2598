/* The optimiser against PyTorch (tests/ref/make_optim_fixtures.py): torch.optim.AdamW with HF's weight-decay
 * grouping, clip_grad_norm_ and transformers' schedules, over six steps, through the model's parameter table.
 * Plus the non-finite guard: a NaN gradient leaves every parameter and moment untouched and is counted. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/backend.h"
#include "engine/model/model.h"
#include "engine/model/optim.h"
#include "engine/util/json.h"
#include "harness.h"

static void tiny_model(struct backend **be, struct model *m, int C, int I, int V) {
    struct model_config cfg = {.arch = MODEL_ARCH_QWEN2, .vocab_size = V, .hidden_size = C, .num_layers = 1,
                               .num_heads = 1, .num_kv_heads = 1, .head_dim = C, .intermediate_size = I,
                               .max_position_embeddings = 16, .rms_norm_eps = 1e-6f, .rope_theta = 1e4,
                               .qkv_bias = true, .bos_token_id = -1};
    cr_assert_eq(backend_cpu_open(be, 1), STATUS_OK);
    cr_assert_eq(model_init(m, &cfg, *be), STATUS_OK, "%s", err_msg());
    cr_assert_eq(model_alloc_grads(m), STATUS_OK);
}

static void load_block(struct model *m, float *block, const cJSON *tensors) {
    const cJSON *t;
    cJSON_ArrayForEach(t, tensors) {
        const struct param_tensor *p = model_find_tensor(m, t->string);
        cr_assert(p != NULL, "no tensor %s", t->string);
        cr_assert_eq((size_t)cJSON_GetArraySize(t), p->numel, "%s size", t->string);
        size_t k = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, t) block[p->offset + k++] = (float)v->valuedouble;
    }
}

Test(optim_vs_torch, adamw_clip_and_schedules) {
    char *path = th_path("tests/fixtures/optim/adamw.json");
    cJSON *root;
    cr_assert_eq(json_parse_file(path, 4 << 20, &root), STATUS_OK, "%s", err_msg());
    free(path);
    int C = cJSON_GetObjectItem(root, "hidden")->valueint, I = cJSON_GetObjectItem(root, "intermediate")->valueint;
    int V = cJSON_GetObjectItem(root, "vocab")->valueint;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases")) {
        struct backend *be;
        struct model m;
        tiny_model(&be, &m, C, I, V);
        load_block(&m, m.params, cJSON_GetObjectItem(c, "init"));
        int steps = cJSON_GetObjectItem(c, "steps")->valueint;
        struct optim_config oc = {
            .learning_rate = (float)cJSON_GetObjectItem(root, "lr")->valuedouble,
            .beta1 = (float)cJSON_GetObjectItem(root, "beta1")->valuedouble,
            .beta2 = (float)cJSON_GetObjectItem(root, "beta2")->valuedouble,
            .eps = (float)cJSON_GetObjectItem(root, "eps")->valuedouble,
            .weight_decay = (float)cJSON_GetObjectItem(c, "weight_decay")->valuedouble,
            .max_grad_norm = (float)cJSON_GetObjectItem(c, "clip")->valuedouble,
            .warmup_steps = cJSON_GetObjectItem(c, "warmup")->valueint,
            .total_steps = steps,
        };
        const char *sched = cJSON_GetObjectItem(c, "schedule")->valuestring;
        cr_assert_eq(lr_schedule_parse(sched, &oc.schedule), STATUS_OK);
        struct optimizer o;
        cr_assert_eq(optim_init(&o, &m, &oc), STATUS_OK);
        float *want = calloc(m.n_params, sizeof(float));
        bool ok = true;
        for (int s = 0; s < steps; s++) {
            load_block(&m, m.grads, cJSON_GetArrayItem(cJSON_GetObjectItem(c, "grads"), s));
            struct optim_result r;
            cr_assert_eq(optim_step(&o, &r), STATUS_OK);
            float lr = r.lr, want_lr = (float)cJSON_GetArrayItem(cJSON_GetObjectItem(c, "lr"), s)->valuedouble;
            float gn = (float)r.grad_norm, want_gn = (float)cJSON_GetArrayItem(cJSON_GetObjectItem(c, "grad_norm"), s)->valuedouble;
            char name[256];
            snprintf(name, sizeof name, "%s step %d lr", sched, s + 1);
            ok &= th_allclose(name, &lr, &want_lr, 1, 1e-6);
            snprintf(name, sizeof name, "%s step %d grad_norm", sched, s + 1);
            ok &= th_allclose(name, &gn, &want_gn, 1, 1e-6);
            memcpy(want, m.params, m.n_params * sizeof(float));
            load_block(&m, want, cJSON_GetArrayItem(cJSON_GetObjectItem(c, "after"), s));
            for (size_t t = 0; t < m.n_tensors; t++) {
                const struct param_tensor *p = &m.tensors[t];
                snprintf(name, sizeof name, "%s step %d %s", sched, s + 1, p->name + (strncmp(p->name, "model.", 6) ? 0 : 6));
                if (!th_allclose(name, m.params + p->offset, want + p->offset, p->numel, 2e-5)) ok = false;
            }
        }
        cr_expect(ok, "schedule %s differs from PyTorch", sched);
        free(want);
        optim_free(&o);
        model_free(&m);
        backend_close(be);
    }
    cJSON_Delete(root);
}

Test(optim, non_finite_gradient_skips_the_step) {
    struct backend *be;
    struct model m;
    tiny_model(&be, &m, 4, 6, 5);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] = 0.01f * (float)(i % 17);
    struct optim_config oc = optim_config_default();
    oc.schedule = LR_CONSTANT;
    struct optimizer o;
    cr_assert_eq(optim_init(&o, &m, &oc), STATUS_OK);
    float *before = malloc(m.n_params * sizeof(float));
    memcpy(before, m.params, m.n_params * sizeof(float));
    for (size_t i = 0; i < m.n_params; i++) m.grads[i] = 0.5f;
    m.grads[3] = NAN;
    struct optim_result r;
    cr_assert_eq(optim_step(&o, &r), STATUS_OK);
    cr_expect(r.skipped);
    cr_expect(isnan(r.grad_norm));
    cr_expect_eq(o.skipped, 1);
    cr_expect_eq(o.adam_step, 0, "no update counted");
    cr_expect_eq(memcmp(before, m.params, m.n_params * sizeof(float)), 0, "parameters untouched");
    for (size_t i = 0; i < m.n_params; i++) cr_assert_eq(m.grads[i], 0.0f, "gradients cleared");
    for (size_t i = 0; i < m.n_params; i++) m.grads[i] = INFINITY * (i == 7 ? 1 : 0) + 0.1f;
    cr_assert_eq(optim_step(&o, &r), STATUS_OK);
    cr_expect(r.skipped, "an infinite gradient is skipped too");
    for (size_t i = 0; i < m.n_params; i++) m.grads[i] = 0.1f;
    cr_assert_eq(optim_step(&o, &r), STATUS_OK);
    cr_expect(!r.skipped);
    cr_expect_eq(o.adam_step, 1);
    cr_expect_neq(memcmp(before, m.params, m.n_params * sizeof(float)), 0, "a finite step updates");
    free(before);
    optim_free(&o);
    model_free(&m);
    backend_close(be);
}
