/* model_config: the architecture of a Llama / Qwen2-family decoder, read from and written to a Hugging Face
 * config.json (HF field names). Validates everything the model code relies on (positive sizes, heads that
 * divide, silu activation) and refuses features r1lab does not implement (sliding window, MLP bias, unknown
 * RoPE scaling) with STATUS_UNSUPPORTED naming the field. */
#ifndef R1LAB_MODEL_CONFIG_H
#define R1LAB_MODEL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "engine/util/status.h"

enum model_arch { MODEL_ARCH_LLAMA, MODEL_ARCH_QWEN2 };
enum rope_type { ROPE_DEFAULT, ROPE_LINEAR, ROPE_LLAMA3 };

#define MODEL_MAX_EOS 8

struct model_config {
    enum model_arch arch;
    int32_t vocab_size;        /* V */
    int32_t hidden_size;       /* C */
    int32_t num_layers;        /* L */
    int32_t num_heads;         /* NH */
    int32_t num_kv_heads;      /* NKV, divides NH */
    int32_t head_dim;          /* HS (config "head_dim", default C / NH) */
    int32_t intermediate_size; /* I */
    int32_t max_position_embeddings;
    float rms_norm_eps;
    double rope_theta;
    enum rope_type rope_type;
    double rope_factor;           /* linear and llama3 scaling */
    double rope_low_freq_factor;  /* llama3 */
    double rope_high_freq_factor; /* llama3 */
    int32_t rope_original_max_pos; /* llama3 */
    bool tie_word_embeddings;
    bool qkv_bias; /* Qwen2: always; Llama: attention_bias */
    bool o_bias;   /* Llama attention_bias also biases o_proj */
    int32_t bos_token_id; /* -1 when absent */
    int32_t eos_token_ids[MODEL_MAX_EOS];
    int32_t n_eos;
    char torch_dtype[16]; /* as found ("bfloat16", "float32"), informational */
};

/* Reads DIR/config.json or a config.json path. */
enum status model_config_load(struct model_config *cfg, const char *path);
/* From a parsed object; `where` names it in messages. */
enum status model_config_from_json(struct model_config *cfg, const cJSON *obj, const char *where);
/* A new cJSON object in HF layout (caller deletes), loadable by transformers. */
cJSON *model_config_to_json(const struct model_config *cfg);

/* Derived sizes. */
static inline int32_t model_config_qkv_dim(const struct model_config *c) {
    return (c->num_heads + 2 * c->num_kv_heads) * c->head_dim;
}
int64_t model_config_param_count(const struct model_config *cfg);
const char *model_arch_name(enum model_arch a); /* "llama", "qwen2" */
bool model_config_is_eos(const struct model_config *cfg, int32_t id);

#endif
