/* Fuzz target: a checkpoint's config.json (architecture, sizes, RoPE scaling, bias flags, bos/eos ids; the same
 * fields a generation_config.json carries), read from a file by model_config_load as when a checkpoint is
 * opened. An accepted config must survive the round trip through the config.json r1lab writes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "engine/model/model_config.h"
#include "lib/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path("config.json");
    fuzz_write(path, data, size);
    struct model_config c;
    if (model_config_load(&c, path) != STATUS_OK) return 0;
    (void)model_config_param_count(&c);
    cJSON *j = model_config_to_json(&c);
    if (!j) abort();
    struct model_config back;
    if (model_config_from_json(&back, j, "round trip") != STATUS_OK) {
        fprintf(stderr, "round trip refused: %s\n", err_msg());
        abort();
    }
    if (back.vocab_size != c.vocab_size || back.hidden_size != c.hidden_size || back.num_layers != c.num_layers ||
        back.num_heads != c.num_heads || back.num_kv_heads != c.num_kv_heads || back.head_dim != c.head_dim ||
        back.n_eos != c.n_eos || back.arch != c.arch || back.rope_type != c.rope_type)
        abort();
    cJSON_Delete(j);
    return 0;
}
