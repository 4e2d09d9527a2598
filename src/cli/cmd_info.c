/* r1lab info: what a checkpoint is — architecture, sizes, parameter count, on-disk dtype and files,
 * tokenizer size and, for training checkpoints, the trainer state. Reads config.json, the safetensors
 * headers and tokenizer.json; does not load the weights into a model. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "engine/model/model_config.h"
#include "engine/model/safetensors.h"
#include "engine/run/checkpoint.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"

enum { OPT_JSON = 256 };
static const struct cli_option options[] = {
    {"json", OPT_JSON, NULL, "print one JSON object instead of a table"},
};
static const struct cli_spec spec = {
    .name = "info",
    .synopsis = "CKPT [--json]",
    .summary = "Show the architecture, size, on-disk dtype and tokenizer of a checkpoint.",
    .details = "CKPT is a checkpoint directory (Hugging Face layout), RUN_DIR@STEP or RUN_DIR@latest.",
    .options = options,
    .n_options = sizeof options / sizeof options[0],
};

struct disk_summary {
    size_t files, tensors, bytes;
    char dtypes[64]; /* "F32", "BF16", "BF16+F32" */
};

static void summarise(const struct st_set *set, struct disk_summary *d) {
    memset(d, 0, sizeof *d);
    d->files = set->n_files;
    bool seen[ST_DTYPE_COUNT] = {0};
    for (size_t f = 0; f < set->n_files; f++) {
        d->bytes += set->files[f].map.size;
        d->tensors += set->files[f].n_tensors;
        for (size_t t = 0; t < set->files[f].n_tensors; t++) seen[set->files[f].tensors[t].dtype] = true;
    }
    for (int i = 0; i < ST_DTYPE_COUNT; i++)
        if (seen[i]) {
            size_t n = strlen(d->dtypes);
            snprintf(d->dtypes + n, sizeof d->dtypes - n, "%s%s", n ? "+" : "", st_dtype_name((enum st_dtype)i));
        }
}

int cmd_info(int argc, char **argv) {
    struct cli_parser p;
    cli_parser_init(&p, &spec);
    bool json = false;
    int c;
    while ((c = cli_next(&p, argc, argv)) != -1) {
        if (c == CLI_KEY_HELP) return cli_print_help(stdout, &spec), EXIT_OK;
        if (c == OPT_JSON) json = true;
        else return EXIT_USAGE;
    }
    if (optind + 1 != argc) return cli_usage_error(&spec, "expected one checkpoint");
    cli_install_log(0);
    char dir[PATH_MAX];
    struct model_config cfg;
    struct st_set set = {0};
    struct tokenizer *tok = NULL;
    cJSON *state = NULL;
    enum status st = checkpoint_resolve(argv[optind], dir, sizeof dir);
    if (st == STATUS_OK) st = model_config_load(&cfg, dir);
    if (st == STATUS_OK) st = st_set_open(&set, dir, "model");
    if (st == STATUS_OK) st = tokenizer_load(&tok, dir);
    if (st != STATUS_OK) {
        st_set_free(&set);
        tokenizer_free(tok);
        return cli_report(st);
    }
    char state_path[PATH_MAX];
    if (fs_join(state_path, sizeof state_path, dir, "trainer_state.json") == STATUS_OK && fs_exists(state_path) &&
        checkpoint_load_state(dir, &state) != STATUS_OK)
        state = NULL; /* informational only: a damaged trainer state does not stop `info` */
    struct disk_summary d;
    summarise(&set, &d);
    int64_t params = model_config_param_count(&cfg);
    size_t n_special = 0;
    for (size_t i = 0; i < tokenizer_vocab_size(tok); i++) n_special += tokenizer_is_special(tok, (int32_t)i);
    const cJSON *step = state ? cJSON_GetObjectItemCaseSensitive(state, "step") : NULL;
    const cJSON *stage = state ? cJSON_GetObjectItemCaseSensitive(state, "stage") : NULL;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "checkpoint", dir);
        cJSON_AddItemToObject(o, "config", model_config_to_json(&cfg));
        cJSON_AddNumberToObject(o, "parameters", (double)params);
        cJSON_AddStringToObject(o, "dtype", d.dtypes);
        cJSON_AddNumberToObject(o, "files", (double)d.files);
        cJSON_AddNumberToObject(o, "bytes", (double)d.bytes);
        cJSON_AddNumberToObject(o, "tokenizer_size", (double)tokenizer_vocab_size(tok));
        cJSON_AddNumberToObject(o, "special_tokens", (double)n_special);
        if (cJSON_IsNumber(step)) cJSON_AddNumberToObject(o, "step", step->valuedouble);
        if (cJSON_IsString(stage)) cJSON_AddStringToObject(o, "stage", stage->valuestring);
        char *text = cJSON_PrintUnformatted(o);
        printf("%s\n", text);
        cJSON_free(text);
        cJSON_Delete(o);
    } else {
        const char *rope = cfg.rope_type == ROPE_DEFAULT ? "none" : cfg.rope_type == ROPE_LINEAR ? "linear" : "llama3";
        printf("checkpoint    %s\n", dir);
        printf("architecture  %s (%s)\n", model_arch_name(cfg.arch),
               cfg.arch == MODEL_ARCH_QWEN2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
        printf("parameters    %.2fM\n", (double)params / 1e6);
        printf("layers        %d x hidden %d, %d heads (%d kv) of %d, mlp %d\n", cfg.num_layers, cfg.hidden_size,
               cfg.num_heads, cfg.num_kv_heads, cfg.head_dim, cfg.intermediate_size);
        printf("vocabulary    %d (tokenizer: %zu tokens, %zu special)\n", cfg.vocab_size, tokenizer_vocab_size(tok),
               n_special);
        printf("context       %d positions, rope_theta %g, scaling %s\n", cfg.max_position_embeddings, cfg.rope_theta,
               rope);
        printf("embeddings    %s\n", cfg.tie_word_embeddings ? "tied" : "untied");
        printf("biases        %s\n", cfg.qkv_bias ? (cfg.o_bias ? "q/k/v/o" : "q/k/v") : "none");
        printf("on disk       %s, %zu tensors in %zu file%s, %.1f MB\n", d.dtypes, d.tensors, d.files,
               d.files == 1 ? "" : "s", (double)d.bytes / 1e6);
        if (cJSON_IsNumber(step))
            printf("trainer       step %.0f%s%s\n", step->valuedouble, cJSON_IsString(stage) ? ", stage " : "",
                   cJSON_IsString(stage) ? stage->valuestring : "");
    }
    cJSON_Delete(state);
    st_set_free(&set);
    tokenizer_free(tok);
    return EXIT_OK;
}
