/* model_config: HF config.json <-> struct model_config. Field names and defaults follow transformers'
 * LlamaConfig and Qwen2Config; "rope_parameters" (transformers 5) and top-level "rope_theta" /
 * "rope_scaling" (earlier versions) are both read. */
#include "engine/model/model_config.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "engine/util/json.h"

#define CONFIG_MAX_BYTES (16u << 20)

const char *model_arch_name(enum model_arch a) { return a == MODEL_ARCH_QWEN2 ? "qwen2" : "llama"; }

static enum status parse_arch(struct model_config *cfg, const cJSON *obj, const char *where) {
    const char *model_type = NULL;
    TRY(json_get_string(obj, "model_type", false, NULL, &model_type, where));
    const char *arch = NULL;
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(obj, "architectures");
    if (cJSON_IsArray(archs) && cJSON_GetArraySize(archs) > 0 && cJSON_IsString(cJSON_GetArrayItem(archs, 0)))
        arch = cJSON_GetArrayItem(archs, 0)->valuestring;
    if ((model_type && strcmp(model_type, "qwen2") == 0) || (arch && strcmp(arch, "Qwen2ForCausalLM") == 0)) {
        cfg->arch = MODEL_ARCH_QWEN2;
    } else if ((model_type && strcmp(model_type, "llama") == 0) || (arch && strcmp(arch, "LlamaForCausalLM") == 0)) {
        cfg->arch = MODEL_ARCH_LLAMA;
    } else {
        enum status st = err_set(STATUS_UNSUPPORTED, "%s: model_type \"%s\" (architectures[0] \"%s\") is not supported",
                                 where, model_type ? model_type : "(none)", arch ? arch : "(none)");
        err_hint("r1lab runs the Llama and Qwen2 families (model_type \"llama\" or \"qwen2\")");
        return st;
    }
    return STATUS_OK;
}

static enum status parse_rope(struct model_config *cfg, const cJSON *obj, const char *where) {
    /* transformers 5 nests theta and scaling in rope_parameters; older files have them top level. */
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(obj, "rope_parameters");
    const cJSON *scaling = cJSON_GetObjectItemCaseSensitive(obj, "rope_scaling");
    double theta = 10000.0;
    TRY(json_get_double(obj, "rope_theta", false, 10000.0, &theta, where));
    const cJSON *spec = NULL;
    if (cJSON_IsObject(params)) {
        TRY(json_get_double(params, "rope_theta", false, theta, &theta, where));
        spec = params;
    } else if (params && !cJSON_IsNull(params)) {
        return err_set(STATUS_FORMAT, "%s: field \"rope_parameters\" must be an object", where);
    }
    if (cJSON_IsObject(scaling)) spec = scaling;
    else if (scaling && !cJSON_IsNull(scaling))
        return err_set(STATUS_FORMAT, "%s: field \"rope_scaling\" must be an object or null", where);
    if (!(theta > 0)) return err_set(STATUS_FORMAT, "%s: rope_theta must be positive", where);
    cfg->rope_theta = theta;
    cfg->rope_type = ROPE_DEFAULT;
    cfg->rope_factor = 1.0;
    if (!spec) return STATUS_OK;
    const char *type = NULL;
    TRY(json_get_string(spec, "rope_type", false, NULL, &type, where));
    if (!type) TRY(json_get_string(spec, "type", false, "default", &type, where));
    if (strcmp(type, "default") == 0) return STATUS_OK;
    TRY(json_get_double(spec, "factor", true, 1.0, &cfg->rope_factor, where));
    if (!(cfg->rope_factor > 0)) return err_set(STATUS_FORMAT, "%s: rope scaling factor must be positive", where);
    if (strcmp(type, "linear") == 0) {
        cfg->rope_type = ROPE_LINEAR;
    } else if (strcmp(type, "llama3") == 0) {
        cfg->rope_type = ROPE_LLAMA3;
        int64_t orig;
        TRY(json_get_double(spec, "low_freq_factor", true, 1.0, &cfg->rope_low_freq_factor, where));
        TRY(json_get_double(spec, "high_freq_factor", true, 4.0, &cfg->rope_high_freq_factor, where));
        TRY(json_get_int(spec, "original_max_position_embeddings", true, 8192, 1, INT32_MAX, &orig, where));
        cfg->rope_original_max_pos = (int32_t)orig;
        if (!(cfg->rope_high_freq_factor > cfg->rope_low_freq_factor))
            return err_set(STATUS_FORMAT, "%s: llama3 rope scaling needs high_freq_factor > low_freq_factor", where);
    } else {
        return err_set(STATUS_UNSUPPORTED, "%s: rope scaling type \"%s\" is not supported (default, linear, llama3)",
                       where, type);
    }
    return STATUS_OK;
}

static enum status parse_token_ids(struct model_config *cfg, const cJSON *obj, const char *where) {
    int64_t bos;
    TRY(json_get_int(obj, "bos_token_id", false, -1, -1, INT32_MAX, &bos, where));
    cfg->bos_token_id = (int32_t)bos;
    cfg->n_eos = 0;
    const cJSON *eos = cJSON_GetObjectItemCaseSensitive(obj, "eos_token_id");
    if (!eos || cJSON_IsNull(eos)) return STATUS_OK;
    if (cJSON_IsNumber(eos)) {
        int64_t id;
        TRY(json_get_int(obj, "eos_token_id", true, 0, 0, INT32_MAX, &id, where));
        cfg->eos_token_ids[cfg->n_eos++] = (int32_t)id;
        return STATUS_OK;
    }
    if (!cJSON_IsArray(eos)) return err_set(STATUS_FORMAT, "%s: eos_token_id must be an integer or a list", where);
    const cJSON *e;
    cJSON_ArrayForEach(e, eos) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > INT32_MAX || e->valuedouble != (int32_t)e->valuedouble)
            return err_set(STATUS_FORMAT, "%s: eos_token_id entries must be non-negative integers", where);
        if (cfg->n_eos == MODEL_MAX_EOS)
            return err_set(STATUS_UNSUPPORTED, "%s: more than %d eos_token_id entries", where, MODEL_MAX_EOS);
        cfg->eos_token_ids[cfg->n_eos++] = (int32_t)e->valuedouble;
    }
    return STATUS_OK;
}

enum status model_config_from_json(struct model_config *cfg, const cJSON *obj, const char *where) {
    memset(cfg, 0, sizeof *cfg);
    if (!cJSON_IsObject(obj)) return err_set(STATUS_FORMAT, "%s: expected a JSON object", where);
    TRY(parse_arch(cfg, obj, where));
    int64_t v;
    TRY(json_get_int(obj, "vocab_size", true, 0, 1, 1 << 24, &v, where));
    cfg->vocab_size = (int32_t)v;
    TRY(json_get_int(obj, "hidden_size", true, 0, 1, 1 << 16, &v, where));
    cfg->hidden_size = (int32_t)v;
    TRY(json_get_int(obj, "num_hidden_layers", true, 0, 1, 1024, &v, where));
    cfg->num_layers = (int32_t)v;
    TRY(json_get_int(obj, "num_attention_heads", true, 0, 1, 1024, &v, where));
    cfg->num_heads = (int32_t)v;
    TRY(json_get_int(obj, "num_key_value_heads", false, cfg->num_heads, 1, 1024, &v, where));
    cfg->num_kv_heads = (int32_t)v;
    TRY(json_get_int(obj, "intermediate_size", true, 0, 1, 1 << 20, &v, where));
    cfg->intermediate_size = (int32_t)v;
    TRY(json_get_int(obj, "max_position_embeddings", false, 2048, 1, 1 << 24, &v, where));
    cfg->max_position_embeddings = (int32_t)v;
    if (cfg->num_heads % cfg->num_kv_heads != 0)
        return err_set(STATUS_FORMAT, "%s: num_attention_heads (%d) is not a multiple of num_key_value_heads (%d)",
                       where, cfg->num_heads, cfg->num_kv_heads);
    int64_t default_hd = cfg->hidden_size % cfg->num_heads == 0 ? cfg->hidden_size / cfg->num_heads : 0;
    TRY(json_get_int(obj, "head_dim", false, default_hd, 0, 1 << 12, &v, where));
    if (v <= 0) return err_set(STATUS_FORMAT, "%s: hidden_size is not a multiple of num_attention_heads and no head_dim is given", where);
    if (v % 2 != 0) return err_set(STATUS_FORMAT, "%s: head_dim %lld must be even for rotary embeddings", where, (long long)v);
    cfg->head_dim = (int32_t)v;
    double eps;
    TRY(json_get_double(obj, "rms_norm_eps", false, 1e-6, &eps, where));
    /* The model computes in float32: a value that rounds to 0 there (1e-46) or does not fit (1e300, undefined to
     * convert) is as wrong as a negative one. */
    if (!(eps > 0) || eps > FLT_MAX || (float)eps == 0.0f)
        return err_set(STATUS_FORMAT, "%s: rms_norm_eps must be positive (and a float32: %g is not)", where, eps);
    cfg->rms_norm_eps = (float)eps;
    TRY(parse_rope(cfg, obj, where));
    TRY(json_get_bool(obj, "tie_word_embeddings", false, false,
                      &cfg->tie_word_embeddings, where));
    const char *act;
    TRY(json_get_string(obj, "hidden_act", false, "silu", &act, where));
    if (strcmp(act, "silu") != 0 && strcmp(act, "swish") != 0)
        return err_set(STATUS_UNSUPPORTED, "%s: hidden_act \"%s\" is not supported (silu)", where, act);
    if (cfg->arch == MODEL_ARCH_QWEN2) {
        bool sliding;
        TRY(json_get_bool(obj, "use_sliding_window", false, false, &sliding, where));
        if (sliding) return err_set(STATUS_UNSUPPORTED, "%s: use_sliding_window=true is not supported", where);
        cfg->qkv_bias = true;
        cfg->o_bias = false;
    } else {
        bool attention_bias, mlp_bias;
        TRY(json_get_bool(obj, "attention_bias", false, false, &attention_bias, where));
        TRY(json_get_bool(obj, "mlp_bias", false, false, &mlp_bias, where));
        if (mlp_bias) return err_set(STATUS_UNSUPPORTED, "%s: mlp_bias=true is not supported", where);
        cfg->qkv_bias = cfg->o_bias = attention_bias;
    }
    TRY(parse_token_ids(cfg, obj, where));
    const char *dtype;
    TRY(json_get_string(obj, "torch_dtype", false, NULL, &dtype, where));
    if (!dtype) TRY(json_get_string(obj, "dtype", false, "float32", &dtype, where));
    snprintf(cfg->torch_dtype, sizeof cfg->torch_dtype, "%s", dtype);
    return STATUS_OK;
}

enum status model_config_load(struct model_config *cfg, const char *path) {
    char file[4096];
    if (fs_is_dir(path)) TRY(fs_join(file, sizeof file, path, "config.json"));
    else snprintf(file, sizeof file, "%s", path);
    cJSON *root;
    TRY(json_parse_file(file, CONFIG_MAX_BYTES, &root));
    enum status st = model_config_from_json(cfg, root, file);
    cJSON_Delete(root);
    return st;
}

cJSON *model_config_to_json(const struct model_config *c) {
    cJSON *o = cJSON_CreateObject();
    bool qwen = c->arch == MODEL_ARCH_QWEN2;
    cJSON *archs = cJSON_AddArrayToObject(o, "architectures");
    cJSON_AddItemToArray(archs, cJSON_CreateString(qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"));
    cJSON_AddStringToObject(o, "model_type", model_arch_name(c->arch));
    cJSON_AddNumberToObject(o, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(o, "hidden_size", c->hidden_size);
    cJSON_AddNumberToObject(o, "num_hidden_layers", c->num_layers);
    cJSON_AddNumberToObject(o, "num_attention_heads", c->num_heads);
    cJSON_AddNumberToObject(o, "num_key_value_heads", c->num_kv_heads);
    cJSON_AddNumberToObject(o, "head_dim", c->head_dim);
    cJSON_AddNumberToObject(o, "intermediate_size", c->intermediate_size);
    cJSON_AddNumberToObject(o, "max_position_embeddings", c->max_position_embeddings);
    /* rms_norm_eps is a float: write the shortest decimal that reads back as it (1e-05, not 9.99999974737875e-06). */
    char eps[32];
    snprintf(eps, sizeof eps, "%.9g", (double)c->rms_norm_eps);
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(eps, sizeof eps, "%.*g", prec, (double)c->rms_norm_eps);
        if ((float)strtod(eps, NULL) == c->rms_norm_eps) break;
    }
    cJSON_AddNumberToObject(o, "rms_norm_eps", strtod(eps, NULL));
    cJSON_AddNumberToObject(o, "rope_theta", c->rope_theta);
    if (c->rope_type == ROPE_DEFAULT) {
        cJSON_AddNullToObject(o, "rope_scaling");
    } else {
        cJSON *s = cJSON_AddObjectToObject(o, "rope_scaling");
        cJSON_AddStringToObject(s, "rope_type", c->rope_type == ROPE_LINEAR ? "linear" : "llama3");
        cJSON_AddNumberToObject(s, "factor", c->rope_factor);
        if (c->rope_type == ROPE_LLAMA3) {
            cJSON_AddNumberToObject(s, "low_freq_factor", c->rope_low_freq_factor);
            cJSON_AddNumberToObject(s, "high_freq_factor", c->rope_high_freq_factor);
            cJSON_AddNumberToObject(s, "original_max_position_embeddings", c->rope_original_max_pos);
        }
    }
    cJSON_AddBoolToObject(o, "tie_word_embeddings", c->tie_word_embeddings);
    cJSON_AddStringToObject(o, "hidden_act", "silu");
    if (!qwen) {
        cJSON_AddBoolToObject(o, "attention_bias", c->qkv_bias);
        cJSON_AddBoolToObject(o, "mlp_bias", false);
    } else {
        cJSON_AddBoolToObject(o, "use_sliding_window", false);
    }
    if (c->bos_token_id >= 0) cJSON_AddNumberToObject(o, "bos_token_id", c->bos_token_id);
    if (c->n_eos == 1) {
        cJSON_AddNumberToObject(o, "eos_token_id", c->eos_token_ids[0]);
    } else if (c->n_eos > 1) {
        cJSON *e = cJSON_AddArrayToObject(o, "eos_token_id");
        for (int i = 0; i < c->n_eos; i++) cJSON_AddItemToArray(e, cJSON_CreateNumber(c->eos_token_ids[i]));
    }
    cJSON_AddStringToObject(o, "torch_dtype", c->torch_dtype[0] ? c->torch_dtype : "float32");
    cJSON_AddBoolToObject(o, "use_cache", true);
    return o;
}

int64_t model_config_param_count(const struct model_config *c) {
    int64_t C = c->hidden_size, V = c->vocab_size, I = c->intermediate_size, HS = c->head_dim;
    int64_t q = (int64_t)c->num_heads * HS, kv = (int64_t)c->num_kv_heads * HS;
    int64_t layer = C                         /* input_layernorm */
                    + (q + 2 * kv) * C        /* q, k, v */
                    + (c->qkv_bias ? q + 2 * kv : 0) + q * C + (c->o_bias ? C : 0) + C /* post_attention_layernorm */
                    + 3 * I * C;              /* gate, up, down */
    return V * C + (int64_t)c->num_layers * layer + C + (c->tie_word_embeddings ? 0 : V * C);
}

bool model_config_is_eos(const struct model_config *cfg, int32_t id) {
    for (int i = 0; i < cfg->n_eos; i++)
        if (cfg->eos_token_ids[i] == id) return true;
    return false;
}
