/* model: parameter layout, loading/saving, and the forward/backward/decode passes expressed as backend ops.
 * Shapes use the names of style.md: N rows of a packed batch, C = hidden, QKV = (NH + 2 NKV) HS, I =
 * intermediate, V = vocabulary, L = layers, S = decode slots, T = cache length. */
#include "engine/model/model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "engine/util/log.h"
#include "engine/util/rng.h"

#define ALIGN_FLOATS 16 /* tensor groups start on 64-byte boundaries */

static size_t align_up(size_t x) { return (x + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS; }

/* ---------------------------------------------------------------------------------------------------- */
/* Parameter layout                                                                                      */

struct layout_builder {
    struct param_tensor *t;
    size_t n, cap, offset;
};

/* Adds a tensor at the current offset and returns that offset through *at (may be NULL). */
static enum status layout_add(struct layout_builder *lb, const char *name, int64_t d0, int64_t d1, bool decay,
                              size_t *at) {
    if (lb->n == lb->cap) {
        size_t cap = lb->cap ? lb->cap * 2 : 64;
        struct param_tensor *t = realloc(lb->t, cap * sizeof *t);
        if (!t) return err_set(STATUS_NOMEM, "cannot allocate the parameter table");
        lb->t = t;
        lb->cap = cap;
    }
    struct param_tensor *p = &lb->t[lb->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = d1 > 0 ? 2 : 1;
    p->shape[0] = d0;
    p->shape[1] = d1 > 0 ? d1 : 0;
    p->numel = (size_t)d0 * (size_t)(d1 > 0 ? d1 : 1);
    p->offset = lb->offset;
    p->decay = decay;
    if (at) *at = lb->offset;
    lb->offset += p->numel;
    return STATUS_OK;
}

static void layout_align(struct layout_builder *lb) { lb->offset = align_up(lb->offset); }

static enum status build_layout(struct model *m) {
    const struct model_config *c = &m->cfg;
    int64_t C = c->hidden_size, I = c->intermediate_size, HS = c->head_dim;
    int64_t q = (int64_t)c->num_heads * HS, kv = (int64_t)c->num_kv_heads * HS;
    struct layout_builder lb = {0};
    char name[96];
    enum status st = STATUS_OK;
#define ADD(nm, d0, d1, decay, at)                                                                             \
    do {                                                                                                       \
        if (st == STATUS_OK) st = layout_add(&lb, nm, d0, d1, decay, at);                                      \
    } while (0)
    m->off_layer = calloc((size_t)c->num_layers, sizeof *m->off_layer);
    if (!m->off_layer) return err_set(STATUS_NOMEM, "cannot allocate the parameter table");
    ADD("model.embed_tokens.weight", c->vocab_size, C, true, &m->off_embed);
    for (int l = 0; l < c->num_layers; l++) {
        struct layer_offsets *o = &m->off_layer[l];
        o->bqkv = o->bo = SIZE_MAX;
#define LNAME(suffix) (snprintf(name, sizeof name, "model.layers.%d.%s", l, suffix), name)
        layout_align(&lb);
        ADD(LNAME("input_layernorm.weight"), C, 0, false, &o->ln1);
        layout_align(&lb); /* q, k, v back to back: one GEMM computes all three */
        ADD(LNAME("self_attn.q_proj.weight"), q, C, true, &o->wqkv);
        ADD(LNAME("self_attn.k_proj.weight"), kv, C, true, NULL);
        ADD(LNAME("self_attn.v_proj.weight"), kv, C, true, NULL);
        if (c->qkv_bias) {
            layout_align(&lb);
            ADD(LNAME("self_attn.q_proj.bias"), q, 0, false, &o->bqkv);
            ADD(LNAME("self_attn.k_proj.bias"), kv, 0, false, NULL);
            ADD(LNAME("self_attn.v_proj.bias"), kv, 0, false, NULL);
        }
        layout_align(&lb);
        ADD(LNAME("self_attn.o_proj.weight"), C, q, true, &o->wo);
        if (c->o_bias) {
            layout_align(&lb);
            ADD(LNAME("self_attn.o_proj.bias"), C, 0, false, &o->bo);
        }
        layout_align(&lb);
        ADD(LNAME("post_attention_layernorm.weight"), C, 0, false, &o->ln2);
        layout_align(&lb); /* gate and up back to back: one GEMM */
        ADD(LNAME("mlp.gate_proj.weight"), I, C, true, &o->wgu);
        ADD(LNAME("mlp.up_proj.weight"), I, C, true, NULL);
        layout_align(&lb);
        ADD(LNAME("mlp.down_proj.weight"), C, I, true, &o->wd);
#undef LNAME
    }
    layout_align(&lb);
    ADD("model.norm.weight", C, 0, false, &m->off_norm);
    if (c->tie_word_embeddings) {
        m->off_lm_head = m->off_embed;
    } else {
        layout_align(&lb);
        ADD("lm_head.weight", c->vocab_size, C, true, &m->off_lm_head);
    }
#undef ADD
    if (st != STATUS_OK) {
        free(lb.t);
        return st;
    }
    m->tensors = lb.t;
    m->n_tensors = lb.n;
    m->n_params = align_up(lb.offset);
    return STATUS_OK;
}

const struct param_tensor *model_find_tensor(const struct model *m, const char *name) {
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
    return NULL;
}

struct layer_ptrs model_layer_ptrs(const struct model *m, float *block, int l) {
    const struct layer_offsets *o = &m->off_layer[l];
    return (struct layer_ptrs){
        .ln1 = block + o->ln1,
        .wqkv = block + o->wqkv,
        .bqkv = o->bqkv == SIZE_MAX ? NULL : block + o->bqkv,
        .wo = block + o->wo,
        .bo = o->bo == SIZE_MAX ? NULL : block + o->bo,
        .ln2 = block + o->ln2,
        .wgu = block + o->wgu,
        .wd = block + o->wd,
    };
}

/* ---------------------------------------------------------------------------------------------------- */
/* Lifetime                                                                                              */

enum status model_init(struct model *m, const struct model_config *cfg, struct backend *be) {
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    m->be = be;
    enum status st = build_layout(m);
    if (st == STATUS_OK) st = be->ops->alloc(be, m->n_params * sizeof(float), (void **)&m->params);
    if (st != STATUS_OK) {
        err_prefix("model with %.1fM parameters: ", (double)model_config_param_count(cfg) / 1e6);
        struct backend_memory mem;
        be->ops->memory(be, &mem);
        if (mem.valid)
            err_hint("%.2f GiB free; training needs about 4 x 4 bytes per parameter (fp32 weights, gradients and "
                     "two AdamW moments) plus the bf16 copy, a reference model as much again without the optimiser",
                     (double)mem.free / (1 << 30));
        model_free(m);
    }
    return st;
}

static void free_acts(struct model *m) {
    if (m->acts.block) m->be->ops->free(m->be, m->acts.block);
    memset(&m->acts, 0, sizeof m->acts);
}

void model_free(struct model *m) {
    if (m->be) {
        if (m->params) m->be->ops->free(m->be, m->params);
        if (m->grads) m->be->ops->free(m->be, m->grads);
        if (m->rope_cos) m->be->ops->free(m->be, m->rope_cos);
        if (m->rope_sin) m->be->ops->free(m->be, m->rope_sin);
        free_acts(m);
    }
    free(m->tensors);
    free(m->off_layer);
    memset(m, 0, sizeof *m);
}

enum status model_alloc_grads(struct model *m) {
    if (m->grads) return STATUS_OK;
    return m->be->ops->alloc(m->be, m->n_params * sizeof(float), (void **)&m->grads);
}

void model_zero_grads(struct model *m) {
    if (m->grads) m->be->ops->zero(m->be, m->grads, m->n_params * sizeof(float));
}

/* ---------------------------------------------------------------------------------------------------- */
/* Loading and saving                                                                                    */

enum status model_load_weights(struct model *m, const struct st_set *set) {
    const struct model_config *c = &m->cfg;
    size_t max_numel = 0;
    for (size_t i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].numel > max_numel) max_numel = m->tensors[i].numel;
    float *staging = malloc(max_numel * sizeof(float));
    if (!staging) return err_set(STATUS_NOMEM, "cannot allocate %zu bytes to stage weights", max_numel * 4);
    enum status st = STATUS_OK;
    for (size_t i = 0; i < m->n_tensors && st == STATUS_OK; i++) {
        const struct param_tensor *p = &m->tensors[i];
        const struct st_tensor *t = st_set_find(set, p->name);
        if (!t) {
            st = err_set(STATUS_FORMAT, "tensor \"%s\" is missing from the checkpoint", p->name);
            err_hint("the config.json does not match these weights (layers, bias, tie_word_embeddings?)");
            break;
        }
        bool shape_ok = t->ndim == p->ndim && t->shape[0] == p->shape[0] && (p->ndim == 1 || t->shape[1] == p->shape[1]);
        if (!shape_ok) {
            char got[64] = "", *g = got;
            for (int d = 0; d < t->ndim && g < got + sizeof got - 24; d++)
                g += snprintf(g, 24, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
            st = err_set(STATUS_FORMAT, "%s: tensor \"%s\" has shape [%s] but config.json implies [%lld%s%lld]",
                         t->path, p->name, got, (long long)p->shape[0], p->ndim == 2 ? ", " : "",
                         p->ndim == 2 ? (long long)p->shape[1] : 0LL);
            if (p->ndim == 1) err_set(STATUS_FORMAT, "%s: tensor \"%s\" has shape [%s] but config.json implies [%lld]",
                                      t->path, p->name, got, (long long)p->shape[0]);
            break;
        }
        st = st_tensor_to_f32(t, staging, p->numel);
        if (st == STATUS_OK) m->be->ops->upload(m->be, m->params + p->offset, staging, p->numel * sizeof(float));
    }
    free(staging);
    if (st != STATUS_OK) return st;
    /* Anything else in the file means the config describes a different model than the weights. */
    for (size_t i = 0; i < set->n_tensors; i++) {
        const char *name = set->by_name[i]->name;
        if (model_find_tensor(m, name)) continue;
        if (strstr(name, "rotary_emb.inv_freq")) continue;                           /* old HF buffers */
        if (c->tie_word_embeddings && strcmp(name, "lm_head.weight") == 0) continue; /* tied copy */
        enum status bad = err_set(STATUS_FORMAT, "%s: unexpected tensor \"%s\" (not part of a %s model with this config)",
                                  set->by_name[i]->path, name, model_arch_name(c->arch));
        err_hint("check num_hidden_layers, attention_bias and tie_word_embeddings in config.json");
        return bad;
    }
    return m->be->ops->check(m->be);
}

enum status model_load(struct model *m, const char *dir, struct backend *be) {
    memset(m, 0, sizeof *m);
    if (!fs_is_dir(dir)) {
        enum status st = err_set(STATUS_IO, "%s: not a checkpoint directory", dir);
        err_hint("a checkpoint is a directory with config.json and model.safetensors");
        return st;
    }
    struct model_config cfg;
    TRY(model_config_load(&cfg, dir));
    TRY(model_init(m, &cfg, be));
    struct st_set set;
    enum status st = st_set_open(&set, dir, "model");
    if (st == STATUS_OK) {
        st = model_load_weights(m, &set);
        st_set_free(&set);
        if (st != STATUS_OK && !strstr(err_msg(), dir)) err_prefix("%s: ", dir);
    }
    if (st != STATUS_OK) model_free(m);
    return st;
}

enum status model_init_random(struct model *m, uint64_t seed, float std) {
    float *host = calloc(m->n_params, sizeof(float));
    if (!host) return err_set(STATUS_NOMEM, "cannot stage the initial weights");
    struct rng r;
    rng_seed_stream(&r, seed, 0x696e6974ULL); /* "init" */
    for (size_t i = 0; i < m->n_tensors; i++) {
        const struct param_tensor *p = &m->tensors[i];
        float *w = host + p->offset;
        bool norm = strstr(p->name, "norm") != NULL, bias = strstr(p->name, ".bias") != NULL;
        for (size_t k = 0; k < p->numel; k++) w[k] = norm ? 1.0f : bias ? 0.0f : std * (float)rng_normal(&r);
    }
    m->be->ops->upload(m->be, m->params, host, m->n_params * sizeof(float));
    free(host);
    return m->be->ops->check(m->be);
}

enum status model_save_weights(const struct model *m, const char *path, enum st_dtype dtype) {
    ASSERT(dtype == ST_F32 || dtype == ST_BF16 || dtype == ST_F16);
    float *host = malloc(m->n_params * sizeof(float));
    struct st_write_entry *e = calloc(m->n_tensors, sizeof *e);
    if (!host || !e) {
        free(host);
        free(e);
        return err_set(STATUS_NOMEM, "cannot allocate %zu bytes to save weights", m->n_params * 4);
    }
    m->be->ops->download(m->be, host, m->params, m->n_params * sizeof(float));
    enum status st = m->be->ops->check(m->be);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const struct param_tensor *p = &m->tensors[i];
        e[i] = (struct st_write_entry){.name = p->name, .dtype = dtype, .src = ST_F32, .ndim = p->ndim,
                                       .data = host + p->offset};
        e[i].shape[0] = p->shape[0];
        e[i].shape[1] = p->shape[1];
    }
    cJSON *meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "format", "pt");
    if (st == STATUS_OK) st = st_write(path, e, m->n_tensors, meta);
    cJSON_Delete(meta);
    free(e);
    free(host);
    return st;
}

/* ---------------------------------------------------------------------------------------------------- */
/* RoPE tables and activations                                                                           */

/* Inverse frequencies in float32 exactly as transformers computes them (default, linear, llama3). */
static void rope_inv_freq(const struct model_config *c, float *inv, int half) {
    for (int i = 0; i < half; i++) {
        float e = (float)(2 * i) / (float)c->head_dim;
        inv[i] = 1.0f / powf((float)c->rope_theta, e);
    }
    if (c->rope_type == ROPE_LINEAR) {
        for (int i = 0; i < half; i++) inv[i] /= (float)c->rope_factor;
    } else if (c->rope_type == ROPE_LLAMA3) {
        float factor = (float)c->rope_factor, lo = (float)c->rope_low_freq_factor;
        float hi = (float)c->rope_high_freq_factor, old = (float)c->rope_original_max_pos;
        float lo_wavelen = old / lo, hi_wavelen = old / hi;
        for (int i = 0; i < half; i++) {
            float wavelen = 2.0f * (float)M_PI / inv[i];
            if (wavelen < hi_wavelen) continue; /* high frequency: unchanged */
            if (wavelen > lo_wavelen) {
                inv[i] /= factor;
            } else {
                float smooth = (old / wavelen - lo) / (hi - lo);
                inv[i] = (1.0f - smooth) * inv[i] / factor + smooth * inv[i];
            }
        }
    }
}

static enum status ensure_rope(struct model *m, int len) {
    if (len <= m->rope_len) return STATUS_OK;
    struct backend *be = m->be;
    int half = m->cfg.head_dim / 2;
    size_t n = (size_t)len * half;
    float *inv = malloc(sizeof(float) * half), *cs = malloc(sizeof(float) * n), *sn = malloc(sizeof(float) * n);
    enum status st = (inv && cs && sn) ? STATUS_OK : err_set(STATUS_NOMEM, "cannot allocate RoPE tables");
    if (st == STATUS_OK) {
        rope_inv_freq(&m->cfg, inv, half);
        for (int p = 0; p < len; p++)
            for (int i = 0; i < half; i++) {
                float a = (float)p * inv[i];
                cs[(size_t)p * half + i] = cosf(a);
                sn[(size_t)p * half + i] = sinf(a);
            }
        float *dc = NULL, *ds = NULL;
        st = be->ops->alloc(be, n * sizeof(float), (void **)&dc);
        if (st == STATUS_OK) st = be->ops->alloc(be, n * sizeof(float), (void **)&ds);
        if (st == STATUS_OK) {
            be->ops->upload(be, dc, cs, n * sizeof(float));
            be->ops->upload(be, ds, sn, n * sizeof(float));
            if (m->rope_cos) be->ops->free(be, m->rope_cos);
            if (m->rope_sin) be->ops->free(be, m->rope_sin);
            m->rope_cos = dc;
            m->rope_sin = ds;
            m->rope_len = len;
        } else {
            if (dc) be->ops->free(be, dc);
        }
    }
    free(inv);
    free(cs);
    free(sn);
    return st;
}

enum status model_reserve(struct model *m, int max_tokens, int max_len, bool train) {
    TRY(ensure_rope(m, max_len > 0 ? max_len : 1));
    if (max_tokens <= m->acts.cap_tokens && (!train || m->acts.train)) return STATUS_OK;
    if (m->acts.cap_tokens > max_tokens) max_tokens = m->acts.cap_tokens;
    train = train || m->acts.train;
    const struct model_config *c = &m->cfg;
    size_t N = (size_t)max_tokens, C = (size_t)c->hidden_size, Ls = train ? (size_t)c->num_layers : 1;
    size_t QKV = (size_t)model_config_qkv_dim(c), A = (size_t)c->num_heads * c->head_dim;
    size_t I = (size_t)c->intermediate_size, NH = (size_t)c->num_heads;
    /* Sizes in floats, in the order of struct model_acts; each rounded for alignment. */
    size_t sizes[] = {
        (Ls + 1) * N * C, Ls * N, Ls * N * C, Ls * N * QKV, Ls * N * A, Ls * N * NH, Ls * N * C, Ls * N,
        Ls * N * C, Ls * N * 2 * I, Ls * N * I, N, N * C, N, N, N, N, N * C,
        /* backward */
        train ? N * C : 0, train ? N * C : 0, train ? N * QKV : 0, train ? N * A : 0, train ? N * 2 * I : 0,
        train ? N * I : 0,
    };
    enum { N_BUF = sizeof sizes / sizeof sizes[0] };
    size_t total = 0;
    for (int i = 0; i < N_BUF; i++) total += align_up(sizes[i]);
    free_acts(m);
    void *block;
    enum status st = m->be->ops->alloc(m->be, total * sizeof(float), &block);
    if (st != STATUS_OK) {
        err_prefix("activations for %d tokens%s: ", max_tokens, train ? " (training)" : "");
        struct backend_memory mem;
        m->be->ops->memory(m->be, &mem);
        size_t per_token = total * sizeof(float) / (size_t)max_tokens;
        if (mem.valid && per_token > 0)
            err_hint("about %zu tokens fit in the %.2f GiB free (%.1f KiB per token): lower "
                     "per_device_train_batch_size so that it times the sequence length stays below that",
                     mem.free / per_token, (double)mem.free / (1 << 30), (double)per_token / 1024);
        else
            err_hint("use a smaller micro-batch (fewer tokens per forward pass)");
        return st;
    }
    float **dst[N_BUF] = {&m->acts.x,    &m->acts.rstd1, &m->acts.ln1,   &m->acts.qkv,   &m->acts.att,
                          &m->acts.lse,  &m->acts.xmid,  &m->acts.rstd2, &m->acts.ln2,   &m->acts.gu,
                          &m->acts.hsw,  &m->acts.rstdf, &m->acts.lnf,   &m->acts.lm_lse, &m->acts.logp,
                          &m->acts.ent,  &m->acts.dlogp, &m->acts.tmp,   &m->acts.dx,    &m->acts.dln,
                          &m->acts.dqkv, &m->acts.datt,  &m->acts.dgu,   &m->acts.dh};
    float *p = block;
    for (int i = 0; i < N_BUF; i++) {
        *dst[i] = sizes[i] ? p : NULL;
        p += align_up(sizes[i]);
    }
    m->acts.block = block;
    m->acts.cap_tokens = max_tokens;
    m->acts.train = train;
    return STATUS_OK;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Forward and backward                                                                                  */

/* Per-layer activation pointers; for inference every layer shares slot 0 and the residual is updated in
 * place (x, xmid and x[l+1] are one buffer), which the ops allow (add may alias its first input). */
struct layer_acts {
    float *x_in, *x_mid, *x_out, *rstd1, *ln1, *qkv, *att, *lse, *rstd2, *ln2, *gu, *hsw;
};

static struct layer_acts layer_acts(const struct model *m, int l, int N) {
    const struct model_config *c = &m->cfg;
    const struct model_acts *a = &m->acts;
    size_t C = (size_t)c->hidden_size, QKV = (size_t)model_config_qkv_dim(c);
    size_t A = (size_t)c->num_heads * c->head_dim, I = (size_t)c->intermediate_size, n = (size_t)N;
    size_t k = a->train ? (size_t)l : 0;
    size_t cap = (size_t)a->cap_tokens; /* layer stride: buffers are sized for the capacity */
    struct layer_acts la = {
        .x_in = a->x + k * cap * C,
        .x_mid = a->train ? a->xmid + k * cap * C : a->x,
        .x_out = a->train ? a->x + (k + 1) * cap * C : a->x,
        .rstd1 = a->rstd1 + k * cap,
        .ln1 = a->ln1 + k * cap * C,
        .qkv = a->qkv + k * cap * QKV,
        .att = a->att + k * cap * A,
        .lse = a->lse + k * cap * (size_t)c->num_heads,
        .rstd2 = a->rstd2 + k * cap,
        .ln2 = a->ln2 + k * cap * C,
        .gu = a->gu + k * cap * 2 * I,
        .hsw = a->hsw + k * cap * I,
    };
    (void)n;
    return la;
}

static float *final_hidden(const struct model *m) {
    size_t C = (size_t)m->cfg.hidden_size, cap = (size_t)m->acts.cap_tokens;
    return m->acts.train ? m->acts.x + (size_t)m->cfg.num_layers * cap * C : m->acts.x;
}

static enum status check_batch(const struct model *m, const struct batch *b) {
    if (b->B <= 0 || b->N <= 0 || b->seq_start[0] != 0 || b->seq_start[b->B] != b->N)
        return err_set(STATUS_INVALID, "malformed batch (B=%d, N=%d)", b->B, b->N);
    for (int i = 0; i < b->N; i++) {
        if (b->tokens[i] < 0 || b->tokens[i] >= m->cfg.vocab_size)
            return err_set(STATUS_INVALID, "token id %d at row %d is outside the vocabulary (%d)", b->tokens[i], i,
                           m->cfg.vocab_size);
        if (b->targets && b->targets[i] >= m->cfg.vocab_size)
            return err_set(STATUS_INVALID, "target id %d at row %d is outside the vocabulary (%d)", b->targets[i], i,
                           m->cfg.vocab_size);
        if (b->pos[i] < 0) return err_set(STATUS_INVALID, "negative position at row %d", i);
    }
    return STATUS_OK;
}

static int max_position(const struct batch *b) {
    int mx = 0;
    for (int i = 0; i < b->N; i++) mx = b->pos[i] > mx ? b->pos[i] : mx;
    return mx + 1;
}

/* The transformer body over a packed batch: embeddings through the final norm into acts.lnf. When kv is
 * given, each layer's keys and values are also stored in the cache slots of their sequences. */
static void forward_body(struct model *m, const struct batch *b, struct kv_cache *kv, const int32_t *row_slots) {
    struct backend *be = m->be;
    const struct backend_ops *op = be->ops;
    const struct model_config *c = &m->cfg;
    int N = b->N, C = c->hidden_size, NH = c->num_heads, NKV = c->num_kv_heads, HS = c->head_dim;
    int QKV = model_config_qkv_dim(c), I = c->intermediate_size;
    op->embed_fwd(be, m->acts.x, b->tokens, m->params + m->off_embed, N, C);
    for (int l = 0; l < c->num_layers; l++) {
        struct layer_ptrs w = model_layer_ptrs(m, m->params, l);
        struct layer_acts a = layer_acts(m, l, N);
        op->rmsnorm_fwd(be, a.ln1, a.rstd1, a.x_in, w.ln1, N, C, c->rms_norm_eps);
        op->matmul_fwd(be, a.qkv, a.ln1, w.wqkv, w.bqkv, N, C, QKV);
        op->rope(be, a.qkv, b->pos, m->rope_cos, m->rope_sin, N, NH, NKV, HS, false);
        if (kv) {
            size_t layer = (size_t)kv->n_slots * kv->max_len * NKV * HS;
            op->kv_store(be, kv->k + l * layer, kv->v + l * layer, a.qkv, row_slots, b->pos, N, NH, NKV, HS,
                         kv->max_len);
        }
        op->attention_fwd(be, a.att, a.lse, a.qkv, b->seq_start, b->B, N, NH, NKV, HS);
        op->matmul_fwd(be, m->acts.tmp, a.att, w.wo, w.bo, N, NH * HS, C);
        op->add(be, a.x_mid, a.x_in, m->acts.tmp, (size_t)N * C);
        op->rmsnorm_fwd(be, a.ln2, a.rstd2, a.x_mid, w.ln2, N, C, c->rms_norm_eps);
        op->matmul_fwd(be, a.gu, a.ln2, w.wgu, NULL, N, C, 2 * I);
        op->swiglu_fwd(be, a.hsw, a.gu, N, I);
        op->matmul_fwd(be, m->acts.tmp, a.hsw, w.wd, NULL, N, I, C);
        op->add(be, a.x_out, a.x_mid, m->acts.tmp, (size_t)N * C);
    }
    op->rmsnorm_fwd(be, m->acts.lnf, m->acts.rstdf, final_hidden(m), m->params + m->off_norm, N, C, c->rms_norm_eps);
}

enum status model_forward(struct model *m, const struct batch *b, float *logp, float *entropy) {
    TRY(check_batch(m, b));
    TRY(model_reserve(m, b->N, max_position(b), m->acts.train));
    forward_body(m, b, NULL, NULL);
    struct backend *be = m->be;
    if (b->targets) {
        be->ops->lmhead_fwd(be, m->acts.logp, m->acts.lm_lse, entropy ? m->acts.ent : NULL, m->acts.lnf,
                            m->params + m->off_lm_head, b->targets, b->N, m->cfg.hidden_size, m->cfg.vocab_size);
        if (logp) be->ops->download(be, logp, m->acts.logp, sizeof(float) * b->N);
        if (entropy) be->ops->download(be, entropy, m->acts.ent, sizeof(float) * b->N);
    } else {
        if (logp) memset(logp, 0, sizeof(float) * b->N);
        if (entropy) memset(entropy, 0, sizeof(float) * b->N);
    }
    return be->ops->check(be);
}

enum status model_backward(struct model *m, const struct batch *b, const float *dlogp) {
    ASSERTF(m->acts.train, "model_backward needs activations reserved with train=true");
    ASSERT(b->N <= m->acts.cap_tokens && b->targets);
    TRY(model_alloc_grads(m));
    struct backend *be = m->be;
    const struct backend_ops *op = be->ops;
    const struct model_config *c = &m->cfg;
    int N = b->N, C = c->hidden_size, NH = c->num_heads, NKV = c->num_kv_heads, HS = c->head_dim;
    int QKV = model_config_qkv_dim(c), I = c->intermediate_size;
    struct model_acts *A = &m->acts;
    float *G = m->grads;

    op->upload(be, A->dlogp, dlogp, sizeof(float) * N);
    op->zero(be, A->dln, sizeof(float) * (size_t)N * C);
    op->lmhead_bwd(be, A->dln, G + m->off_lm_head, A->lnf, m->params + m->off_lm_head, b->targets, A->lm_lse,
                   A->dlogp, N, C, c->vocab_size);
    op->zero(be, A->dx, sizeof(float) * (size_t)N * C);
    op->rmsnorm_bwd(be, A->dx, G + m->off_norm, A->dln, final_hidden(m), m->params + m->off_norm, A->rstdf, N, C);
    for (int l = c->num_layers - 1; l >= 0; l--) {
        struct layer_ptrs w = model_layer_ptrs(m, m->params, l);
        struct layer_ptrs g = model_layer_ptrs(m, G, l);
        struct layer_acts a = layer_acts(m, l, N);
        /* MLP block: x_out = x_mid + down(swiglu(gate_up(rmsnorm(x_mid)))); dx holds d x_out */
        op->matmul_bwd(be, A->dh, g.wd, NULL, A->dx, a.hsw, w.wd, N, I, C, false);
        op->swiglu_bwd(be, A->dgu, A->dh, a.gu, N, I);
        op->matmul_bwd(be, A->dln, g.wgu, NULL, A->dgu, a.ln2, w.wgu, N, C, 2 * I, false);
        op->rmsnorm_bwd(be, A->dx, g.ln2, A->dln, a.x_mid, w.ln2, a.rstd2, N, C); /* dx is now d x_mid */
        /* Attention block: x_mid = x_in + o_proj(attention(rope(qkv(rmsnorm(x_in))))) */
        op->matmul_bwd(be, A->datt, g.wo, g.bo, A->dx, a.att, w.wo, N, NH * HS, C, false);
        op->attention_bwd(be, A->dqkv, A->datt, a.att, a.qkv, a.lse, b->seq_start, b->B, N, NH, NKV, HS);
        op->rope(be, A->dqkv, b->pos, m->rope_cos, m->rope_sin, N, NH, NKV, HS, true);
        op->matmul_bwd(be, A->dln, g.wqkv, g.bqkv, A->dqkv, a.ln1, w.wqkv, N, C, QKV, false);
        op->rmsnorm_bwd(be, A->dx, g.ln1, A->dln, a.x_in, w.ln1, a.rstd1, N, C); /* dx is now d x_in */
    }
    op->embed_bwd(be, G + m->off_embed, b->tokens, A->dx, N, C);
    return op->check(be);
}

enum status model_logits_rows(struct model *m, const int32_t *rows, int n_rows, float *logits) {
    struct backend *be = m->be;
    int C = m->cfg.hidden_size, V = m->cfg.vocab_size;
    float *hrow = NULL, *out = NULL;
    enum status st = be->ops->alloc(be, sizeof(float) * (size_t)C, (void **)&hrow);
    if (st == STATUS_OK) st = be->ops->alloc(be, sizeof(float) * (size_t)V, (void **)&out);
    for (int r = 0; r < n_rows && st == STATUS_OK; r++) {
        ASSERT(rows[r] >= 0 && rows[r] < m->acts.cap_tokens);
        be->ops->copy(be, hrow, m->acts.lnf + (size_t)rows[r] * C, sizeof(float) * C);
        be->ops->matmul_fwd(be, out, hrow, m->params + m->off_lm_head, NULL, 1, C, V);
        be->ops->download(be, logits + (size_t)r * V, out, sizeof(float) * V);
        st = be->ops->check(be);
    }
    if (hrow) be->ops->free(be, hrow);
    if (out) be->ops->free(be, out);
    return st;
}

/* ---------------------------------------------------------------------------------------------------- */
/* KV cache and decoding                                                                                 */

enum status kv_cache_init(struct kv_cache *kv, struct model *m, int n_slots, int max_len) {
    memset(kv, 0, sizeof *kv);
    const struct model_config *c = &m->cfg;
    struct backend *be = m->be;
    size_t S = (size_t)n_slots, kvw = (size_t)c->num_kv_heads * c->head_dim;
    size_t per = (size_t)c->num_layers * S * (size_t)max_len * kvw;
    enum status st = be->ops->alloc(be, 2 * per * sizeof(float), &kv->k_block);
    if (st != STATUS_OK) {
        err_prefix("KV cache for %d sequences of %d tokens: ", n_slots, max_len);
        struct backend_memory mem;
        be->ops->memory(be, &mem);
        size_t per_seq = 2 * per * sizeof(float) / (size_t)n_slots;
        if (mem.valid && per_seq > 0)
            err_hint("%zu sequences of %d tokens fit in the %.2f GiB free: lower prompts_per_step x num_generations "
                     "to that, or shorten max_completion_length",
                     mem.free / per_seq, max_len, (double)mem.free / (1 << 30));
        else
            err_hint("generate fewer sequences at once or shorten max_completion_length");
        return st;
    }
    kv->k = kv->k_block;
    kv->v = kv->k + per;
    size_t C = (size_t)c->hidden_size, QKV = (size_t)model_config_qkv_dim(c);
    size_t A = (size_t)c->num_heads * c->head_dim, I = (size_t)c->intermediate_size, V = (size_t)c->vocab_size;
    size_t R = (size_t)backend_repeat_rows(be, n_slots);
    kv->rows = (int)R;
    kv->pad_i32 = malloc(4 * R * sizeof(int32_t));
    kv->pad_u = malloc(R * sizeof(double));
    if (!kv->pad_i32 || !kv->pad_u) {
        kv_cache_free(kv, m);
        return err_set(STATUS_NOMEM, "cannot allocate decode indices for %zu rows", R);
    }
    size_t sizes[] = {R * C, R * C, R * QKV, R * A, R * C, R * 2 * I, R * I, R, R * V};
    float **dst[] = {&kv->x, &kv->ln, &kv->qkv, &kv->att, &kv->tmp, &kv->gu, &kv->h, &kv->rstd, &kv->logits};
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) total += align_up(sizes[i]);
    st = be->ops->alloc(be, total * sizeof(float), &kv->scratch_block);
    if (st != STATUS_OK) {
        kv_cache_free(kv, m);
        return st;
    }
    float *p = kv->scratch_block;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *dst[i] = p;
        p += align_up(sizes[i]);
    }
    kv->n_slots = n_slots;
    kv->max_len = max_len;
    return ensure_rope(m, max_len);
}

void kv_cache_free(struct kv_cache *kv, struct model *m) {
    if (kv->k_block) m->be->ops->free(m->be, kv->k_block);
    if (kv->scratch_block) m->be->ops->free(m->be, kv->scratch_block);
    free(kv->pad_i32);
    free(kv->pad_u);
    memset(kv, 0, sizeof *kv);
}

void kv_cache_copy_slot(struct kv_cache *kv, struct model *m, int src, int dst, int len) {
    ASSERT(src >= 0 && src < kv->n_slots && dst >= 0 && dst < kv->n_slots && len <= kv->max_len);
    size_t kvw = (size_t)m->cfg.num_kv_heads * m->cfg.head_dim;
    size_t slot = (size_t)kv->max_len * kvw, layer = (size_t)kv->n_slots * slot;
    for (int l = 0; l < m->cfg.num_layers; l++) {
        m->be->ops->copy(m->be, kv->k + l * layer + dst * slot, kv->k + l * layer + src * slot, len * kvw * sizeof(float));
        m->be->ops->copy(m->be, kv->v + l * layer + dst * slot, kv->v + l * layer + src * slot, len * kvw * sizeof(float));
    }
}

/* Runs a packed batch of prompts through the body, storing keys and values in the slots; acts.lnf then holds
 * the final hidden state of every row. */
static enum status prefill_body(struct model *m, struct kv_cache *kv, const struct batch *b, const int32_t *slots) {
    TRY(check_batch(m, b));
    int maxpos = max_position(b);
    if (maxpos > kv->max_len)
        return err_set(STATUS_INVALID, "prompt of %d tokens does not fit the KV cache (%d positions)", maxpos,
                       kv->max_len);
    TRY(model_reserve(m, b->N, maxpos, m->acts.train));
    int32_t *row_slots = malloc(sizeof(int32_t) * b->N);
    if (!row_slots) return err_set(STATUS_NOMEM, "cannot allocate prefill indices");
    for (int s = 0; s < b->B; s++) {
        ASSERT(slots[s] >= 0 && slots[s] < kv->n_slots);
        for (int i = b->seq_start[s]; i < b->seq_start[s + 1]; i++) row_slots[i] = slots[s];
    }
    forward_body(m, b, kv, row_slots);
    free(row_slots);
    return STATUS_OK;
}

enum status model_prefill(struct model *m, struct kv_cache *kv, const struct batch *b, const int32_t *slots,
                          float *last_logits) {
    TRY(prefill_body(m, kv, b, slots));
    int32_t *last_rows = malloc(sizeof(int32_t) * b->B);
    if (!last_rows) return err_set(STATUS_NOMEM, "cannot allocate prefill indices");
    for (int s = 0; s < b->B; s++) last_rows[s] = b->seq_start[s + 1] - 1;
    enum status st = model_logits_rows(m, last_rows, b->B, last_logits);
    free(last_rows);
    return st;
}

enum status model_prefill_sample(struct model *m, struct kv_cache *kv, const struct batch *b, const int32_t *slots,
                                 int G, const struct sampler_params *sp, const double *u, int32_t *next) {
    ASSERT(G >= 1 && b->B * G <= kv->n_slots);
    TRY(prefill_body(m, kv, b, slots));
    struct backend *be = m->be;
    const struct backend_ops *op = be->ops;
    size_t C = (size_t)m->cfg.hidden_size, V = (size_t)m->cfg.vocab_size;
    /* The prompts' last hidden states into rows 0..B-1 of the decode scratch, their logits into kv->logits. */
    for (int s = 0; s < b->B; s++)
        op->copy(be, kv->ln + s * C, m->acts.lnf + (size_t)(b->seq_start[s + 1] - 1) * C, C * sizeof(float));
    op->matmul_fwd(be, kv->logits, kv->ln, m->params + m->off_lm_head, NULL, b->B, (int)C, (int)V);
    /* Row p to rows p*G .. p*G+G-1, highest first: a destination at or above p*G >= p only overwrites rows of
     * prompts already spread out. */
    for (int p = b->B - 1; p >= 0; p--)
        for (int g = G - 1; g >= 0; g--) {
            size_t dst = (size_t)p * G + g;
            if (dst != (size_t)p) op->copy(be, kv->logits + dst * V, kv->logits + (size_t)p * V, V * sizeof(float));
        }
    op->sample(be, next, kv->logits, u, b->B * G, (int)V, sp);
    return op->check(be);
}

static enum status check_decode(const struct model *m, const struct kv_cache *kv, int S, const int32_t *tokens,
                                const int32_t *pos) {
    ASSERT(S > 0 && S <= kv->n_slots);
    int V = m->cfg.vocab_size, T = kv->max_len;
    for (int s = 0; s < S; s++) {
        if (tokens[s] < 0 || tokens[s] >= V)
            return err_set(STATUS_INVALID, "token id %d is outside the vocabulary (%d)", tokens[s], V);
        if (pos[s] < 0 || pos[s] >= T)
            return err_set(STATUS_INVALID, "position %d does not fit the KV cache (%d positions)", pos[s], T);
    }
    return STATUS_OK;
}

/* The decode step up to the logits, which it leaves in kv->logits (S, V, backend memory). */
static void decode_body(struct model *m, struct kv_cache *kv, int S, const int32_t *tokens, const int32_t *slots,
                        const int32_t *pos) {
    struct backend *be = m->be;
    const struct backend_ops *op = be->ops;
    const struct model_config *c = &m->cfg;
    int C = c->hidden_size, NH = c->num_heads, NKV = c->num_kv_heads, HS = c->head_dim;
    int QKV = model_config_qkv_dim(c), I = c->intermediate_size, V = c->vocab_size, T = kv->max_len;
    size_t layer = (size_t)kv->n_slots * T * NKV * HS;
    op->embed_fwd(be, kv->x, tokens, m->params + m->off_embed, S, C);
    for (int l = 0; l < c->num_layers; l++) {
        struct layer_ptrs w = model_layer_ptrs(m, m->params, l);
        op->rmsnorm_fwd(be, kv->ln, kv->rstd, kv->x, w.ln1, S, C, c->rms_norm_eps);
        op->matmul_fwd(be, kv->qkv, kv->ln, w.wqkv, w.bqkv, S, C, QKV);
        op->rope(be, kv->qkv, pos, m->rope_cos, m->rope_sin, S, NH, NKV, HS, false);
        op->kv_store(be, kv->k + l * layer, kv->v + l * layer, kv->qkv, slots, pos, S, NH, NKV, HS, T);
        op->attention_decode(be, kv->att, kv->qkv, kv->k + l * layer, kv->v + l * layer, slots, pos, S, NH, NKV, HS,
                             T);
        op->matmul_fwd(be, kv->tmp, kv->att, w.wo, w.bo, S, NH * HS, C);
        op->add(be, kv->x, kv->x, kv->tmp, (size_t)S * C);
        op->rmsnorm_fwd(be, kv->ln, kv->rstd, kv->x, w.ln2, S, C, c->rms_norm_eps);
        op->matmul_fwd(be, kv->gu, kv->ln, w.wgu, NULL, S, C, 2 * I);
        op->swiglu_fwd(be, kv->h, kv->gu, S, I);
        op->matmul_fwd(be, kv->tmp, kv->h, w.wd, NULL, S, I, C);
        op->add(be, kv->x, kv->x, kv->tmp, (size_t)S * C);
    }
    op->rmsnorm_fwd(be, kv->ln, kv->rstd, kv->x, m->params + m->off_norm, S, C, c->rms_norm_eps);
    op->matmul_fwd(be, kv->logits, kv->ln, m->params + m->off_lm_head, NULL, S, C, V);
}

enum status model_decode_step(struct model *m, struct kv_cache *kv, int S, const int32_t *tokens,
                              const int32_t *slots, const int32_t *pos, float *logits) {
    TRY(check_decode(m, kv, S, tokens, pos));
    decode_body(m, kv, S, tokens, slots, pos);
    struct backend *be = m->be;
    be->ops->download(be, logits, kv->logits, sizeof(float) * (size_t)S * m->cfg.vocab_size);
    return be->ops->check(be);
}

enum status model_decode_sample(struct model *m, struct kv_cache *kv, int S, const int32_t *tokens,
                                const int32_t *slots, const int32_t *pos, const struct sampler_params *sp,
                                const double *u, int32_t *next) {
    TRY(check_decode(m, kv, S, tokens, pos));
    struct backend *be = m->be;
    /* Rounded up with padding rows (token 0, position 0, no slot), so that a batch shrinking as its sequences
     * finish meets few step shapes and the backend can replay a recorded step. */
    int R = backend_repeat_rows(be, S);
    if (R > kv->rows) R = kv->rows;
    int32_t *out = next;
    if (R > S) {
        int32_t *t = kv->pad_i32, *sl = t + R, *p = sl + R;
        for (int i = 0; i < R; i++) {
            t[i] = i < S ? tokens[i] : 0;
            sl[i] = i < S ? slots[i] : -1;
            p[i] = i < S ? pos[i] : 0;
            kv->pad_u[i] = i < S ? u[i] : 0.0;
        }
        tokens = t, slots = sl, pos = p, u = kv->pad_u, out = p + R;
    }
    /* Everything that fixes the step's shape and arguments: the batch size, the buffers, the sampling. */
    uint32_t tbits, pbits;
    memcpy(&tbits, &sp->temperature, sizeof tbits);
    memcpy(&pbits, &sp->top_p, sizeof pbits);
    uint64_t parts[] = {(uint64_t)R, (uint64_t)(uintptr_t)kv->k, (uint64_t)(uintptr_t)m->params,
                        (uint64_t)tbits << 32 | pbits, (uint64_t)(uint32_t)sp->top_k};
    uint64_t key = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) key = rng_mix64(key ^ parts[i]);
    be->ops->repeat_begin(be, key);
    decode_body(m, kv, R, tokens, slots, pos);
    be->ops->sample(be, out, kv->logits, u, R, m->cfg.vocab_size, sp);
    if (!be->ops->repeat_end(be)) { /* the backend could not record the step: nothing ran, so run it plainly */
        decode_body(m, kv, R, tokens, slots, pos);
        be->ops->sample(be, out, kv->logits, u, R, m->cfg.vocab_size, sp);
    }
    enum status st = be->ops->check(be);
    if (out != next && st == STATUS_OK) memcpy(next, out, sizeof(int32_t) * (size_t)S);
    return st;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Batch builder                                                                                         */

enum status batch_builder_init(struct batch_builder *bb, int cap_tokens, int cap_seqs) {
    memset(bb, 0, sizeof *bb);
    bb->tokens = malloc(sizeof(int32_t) * (size_t)cap_tokens);
    bb->pos = malloc(sizeof(int32_t) * (size_t)cap_tokens);
    bb->targets = malloc(sizeof(int32_t) * (size_t)cap_tokens);
    bb->seq_start = malloc(sizeof(int32_t) * (size_t)(cap_seqs + 1));
    if (!bb->tokens || !bb->pos || !bb->targets || !bb->seq_start) {
        batch_builder_free(bb);
        return err_set(STATUS_NOMEM, "cannot allocate a batch of %d tokens", cap_tokens);
    }
    bb->cap_tokens = cap_tokens;
    bb->cap_seqs = cap_seqs;
    bb->seq_start[0] = 0;
    return STATUS_OK;
}

void batch_builder_free(struct batch_builder *bb) {
    free(bb->tokens);
    free(bb->pos);
    free(bb->targets);
    free(bb->seq_start);
    memset(bb, 0, sizeof *bb);
}

void batch_builder_clear(struct batch_builder *bb) {
    bb->B = bb->N = 0;
    bb->seq_start[0] = 0;
}

enum status batch_builder_add(struct batch_builder *bb, const int32_t *ids, int n, int score_from) {
    if (n <= 0) return err_set(STATUS_INVALID, "empty sequence");
    if (bb->N + n > bb->cap_tokens || bb->B + 1 > bb->cap_seqs)
        return err_set(STATUS_INVALID, "batch is full (%d tokens, %d sequences)", bb->cap_tokens, bb->cap_seqs);
    for (int i = 0; i < n; i++) {
        bb->tokens[bb->N + i] = ids[i];
        bb->pos[bb->N + i] = i;
        bb->targets[bb->N + i] = (i + 1 < n && i + 1 >= score_from) ? ids[i + 1] : -1;
    }
    bb->N += n;
    bb->B += 1;
    bb->seq_start[bb->B] = bb->N;
    return STATUS_OK;
}

struct batch batch_builder_view(const struct batch_builder *bb) {
    return (struct batch){.B = bb->B, .N = bb->N, .tokens = bb->tokens, .pos = bb->pos,
                          .seq_start = bb->seq_start, .targets = bb->targets};
}
