/* model: a Llama / Qwen2-family decoder on top of a backend.
 *
 * Parameters live in one backend allocation, carved into tensors that carry their Hugging Face names, so
 * loading, saving and the optimiser all walk the same table. Per layer, q/k/v weights are stored back to
 * back (one GEMM computes all three) and so are gate/up; the HF names map to sub-ranges of those blocks.
 * Gradients use the identical layout in a second allocation.
 *
 * The forward pass takes a packed batch (sequences concatenated, no padding) and produces the
 * log-probability of each row's target token without ever materialising (N, V) logits. With activations
 * reserved for training it keeps what the backward pass needs; backward then accumulates into the
 * gradients given dL/dlogp per row — the one interface both next-token training and GRPO need.
 * Generation uses a KV cache with one slot per sequence: prefill a packed batch into slots, copy a prompt's
 * slot to share its prefix, then decode one token per active slot per step.
 *
 * Not thread-safe: one caller at a time per model (and per backend). */
#ifndef R1LAB_MODEL_H
#define R1LAB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/backend/backend.h"
#include "engine/backend/sampler.h"
#include "engine/model/model_config.h"
#include "engine/model/safetensors.h"
#include "engine/util/status.h"

struct param_tensor {
    char name[96];    /* Hugging Face name, e.g. "model.layers.0.self_attn.q_proj.weight" */
    int ndim;         /* 1 or 2 */
    int64_t shape[2]; /* (out, in) for weights */
    size_t offset;    /* in floats from the start of the parameter block */
    size_t numel;
    bool decay;       /* weight decay applies (matrices; not norms, biases) */
};

/* Pointers into a parameter-shaped block (parameters or gradients) for one layer. */
struct layer_ptrs {
    float *ln1;  /* (C) */
    float *wqkv; /* (QKV, C): q (NH*HS rows), k (NKV*HS), v (NKV*HS) */
    float *bqkv; /* (QKV) or NULL */
    float *wo;   /* (C, NH*HS) */
    float *bo;   /* (C) or NULL */
    float *ln2;  /* (C) */
    float *wgu;  /* (2I, C): gate rows then up rows */
    float *wd;   /* (C, I) */
};

/* Float offsets of one layer's tensors in the parameter block; SIZE_MAX for an absent bias. */
struct layer_offsets {
    size_t ln1, wqkv, bqkv, wo, bo, ln2, wgu, wd;
};

/* Activation storage; layer-indexed buffers hold L copies for training, one (reused) for inference. */
struct model_acts {
    int cap_tokens;
    bool train;
    float *x;      /* (L+1, N, C) residual stream entering each layer; [L] = after the last (train) */
    float *rstd1;  /* (L, N) */
    float *ln1;    /* (L, N, C) */
    float *qkv;    /* (L, N, QKV) after RoPE */
    float *att;    /* (L, N, NH*HS) */
    float *lse;    /* (L, N, NH) attention log-sum-exp */
    float *xmid;   /* (L, N, C) residual after attention */
    float *rstd2;  /* (L, N) */
    float *ln2;    /* (L, N, C) */
    float *gu;     /* (L, N, 2I) */
    float *hsw;    /* (L, N, I) SwiGLU output */
    float *rstdf;  /* (N) */
    float *lnf;    /* (N, C) final normed hidden state */
    float *lm_lse; /* (N) */
    float *logp;   /* (N) */
    float *ent;    /* (N) */
    float *dlogp;  /* (N) */
    float *tmp;    /* (N, C) projection outputs */
    /* backward only */
    float *dx;   /* (N, C) */
    float *dln;  /* (N, C) */
    float *dqkv; /* (N, QKV) */
    float *datt; /* (N, NH*HS) */
    float *dgu;  /* (N, 2I) */
    float *dh;   /* (N, I) */
    void *block; /* the single allocation all of the above point into */
};

struct model {
    struct model_config cfg;
    struct backend *be; /* borrowed */
    struct param_tensor *tensors;
    size_t n_tensors;
    size_t n_params;
    float *params; /* (n_params) backend memory */
    float *grads;  /* (n_params) backend memory; NULL until model_alloc_grads */
    size_t off_embed, off_norm, off_lm_head; /* float offsets; lm_head == embed when tied */
    struct layer_offsets *off_layer;         /* (L) float offsets of each layer's tensors */
    float *rope_cos, *rope_sin;              /* (rope_len, HS/2) backend memory */
    int rope_len;
    struct model_acts acts;
};

/* A packed batch: B sequences concatenated into N rows. All arrays are host memory. */
struct batch {
    int B, N;
    const int32_t *tokens;    /* (N) */
    const int32_t *pos;       /* (N) position within its sequence */
    const int32_t *seq_start; /* (B+1) first row of each sequence; seq_start[B] = N */
    const int32_t *targets;   /* (N) token whose log-prob row i scores, -1 for none; NULL = none at all */
};

/* Builds packed batches; owns its arrays. */
struct batch_builder {
    int32_t *tokens, *pos, *targets, *seq_start;
    int B, N, cap_tokens, cap_seqs;
};
enum status batch_builder_init(struct batch_builder *bb, int cap_tokens, int cap_seqs);
void batch_builder_free(struct batch_builder *bb);
void batch_builder_clear(struct batch_builder *bb);
/* Appends a sequence of n ids. Rows i >= score_from-1 (and < n-1) get target ids[i+1]: score_from = 1 scores
 * every next token, score_from = prompt length scores only the completion, score_from >= n scores nothing. */
enum status batch_builder_add(struct batch_builder *bb, const int32_t *ids, int n, int score_from);
struct batch batch_builder_view(const struct batch_builder *bb);

/* Allocates zeroed parameters for cfg on be. */
enum status model_init(struct model *m, const struct model_config *cfg, struct backend *be);
/* Loads config.json and weights (single or sharded safetensors; F32/F16/BF16) from a checkpoint directory.
 * Every expected tensor must be present with the right shape; unexpected tensors are an error too
 * (except rotary inv_freq buffers and a tied model's lm_head copy). */
enum status model_load(struct model *m, const char *dir, struct backend *be);
void model_free(struct model *m); /* accepts a zeroed struct */

/* Random initialisation: N(0, std) for matrices and embeddings, 1 for norms, 0 for biases; a pure function of
 * (config, seed), so a run started from model_init can rebuild its initial weights (the GRPO reference). */
enum status model_init_random(struct model *m, uint64_t seed, float std);
/* Copies weights in from an open safetensors set (shapes checked against the config). */
enum status model_load_weights(struct model *m, const struct st_set *set);
/* Writes the weights to a safetensors file as dtype (ST_F32 or ST_BF16). */
enum status model_save_weights(const struct model *m, const char *path, enum st_dtype dtype);

const struct param_tensor *model_find_tensor(const struct model *m, const char *name);
struct layer_ptrs model_layer_ptrs(const struct model *m, float *block, int layer);

enum status model_alloc_grads(struct model *m);
void model_zero_grads(struct model *m);

/* Reserves activations for batches of up to max_tokens rows (and RoPE tables for positions < max_len).
 * train = keep what backward needs. Called again with larger sizes it grows; otherwise it is free. */
enum status model_reserve(struct model *m, int max_tokens, int max_len, bool train);

/* Forward pass. logp (N, host, may be NULL) gets each row's target log-prob (0 where target < 0); entropy
 * (N, host, may be NULL) the entropy of each scored row's next-token distribution. */
enum status model_forward(struct model *m, const struct batch *b, float *logp, float *entropy);
/* Backward pass after a training forward of the same batch: grads += d(sum_i dlogp[i] * logp[i]). */
enum status model_backward(struct model *m, const struct batch *b, const float *dlogp);
/* Logits (n_rows, V, host) of the given rows of the last forward. */
enum status model_logits_rows(struct model *m, const int32_t *rows, int n_rows, float *logits);

/* KV cache with S slots of T positions, plus the decode-step activations for S rows. */
struct kv_cache {
    int n_slots; /* S */
    int max_len; /* T */
    float *k, *v; /* (L, S, T, NKV*HS) */
    /* decode-step scratch, rows = backend_repeat_rows(S) >= S rows (a decode step may add padding rows) */
    int rows;
    float *x, *ln, *qkv, *att, *tmp, *gu, *h, *rstd, *logits; /* (rows, ...) */
    int32_t *pad_i32; /* host (4, rows): a padded step's tokens, slots, positions and sampled tokens */
    double *pad_u;    /* host (rows): its uniforms */
    void *k_block, *scratch_block;
};
enum status kv_cache_init(struct kv_cache *kv, struct model *m, int n_slots, int max_len);
void kv_cache_free(struct kv_cache *kv, struct model *m);
/* Copies positions [0, len) of slot src to slot dst in every layer (prefix sharing). */
void kv_cache_copy_slot(struct kv_cache *kv, struct model *m, int src, int dst, int len);

/* Runs a packed batch of prompts, storing their keys/values in slots[b] (positions from b's pos), and
 * writes the logits of each sequence's last row to last_logits (B, V, host). Uses inference activations. */
enum status model_prefill(struct model *m, struct kv_cache *kv, const struct batch *b, const int32_t *slots,
                          float *last_logits);
/* The same prefill, then the first token of G samples per prompt drawn on the backend (->sample): next (B*G,
 * host), sample b*G+g from prompt b's last logits with uniform u[b*G+g]. Needs B*G <= kv->n_slots (the logits
 * rows of the decode scratch are reused). For backends with sample_on_device: no logits cross the bus. */
enum status model_prefill_sample(struct model *m, struct kv_cache *kv, const struct batch *b, const int32_t *slots,
                                 int G, const struct sampler_params *sp, const double *u, int32_t *next);
/* One decode step for S sequences: token tokens[s] at position pos[s] of slot slots[s]; logits (S, V, host). */
enum status model_decode_step(struct model *m, struct kv_cache *kv, int S, const int32_t *tokens,
                              const int32_t *slots, const int32_t *pos, float *logits);
/* The same step, then one token per sequence sampled on the backend (->sample): next (S, host) drawn with the
 * uniforms u (S, host, as sampler_sample_u takes them). The logits never leave the device. The step is a
 * repeat section of the backend interface, so the CUDA backend replays it as a CUDA graph. */
enum status model_decode_sample(struct model *m, struct kv_cache *kv, int S, const int32_t *tokens,
                                const int32_t *slots, const int32_t *pos, const struct sampler_params *sp,
                                const double *u, int32_t *next);

#endif
