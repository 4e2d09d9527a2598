/* Fuzz target: model.safetensors.index.json, the map of a sharded checkpoint (tensor name -> shard file),
 * opened through st_set_open on a directory that also holds two valid shards (written once, at start-up, with
 * st_write), so inputs that name real shards reach the cross-checks between the index and the shards. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model/safetensors.h"
#include "lib/fuzz_util.h"

static void write_shard(const char *name, const char *t1, const char *t2) {
    static const float values[6] = {1, 2, 3, 4, 5, 6};
    struct st_write_entry e[2] = {
        {.name = t1, .dtype = ST_F32, .src = ST_F32, .ndim = 2, .shape = {2, 2}, .data = values},
        {.name = t2, .dtype = ST_BF16, .src = ST_F32, .ndim = 1, .shape = {2}, .data = values + 4},
    };
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    if (st_write(path, e, 2, NULL) != STATUS_OK) abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    write_shard("model-00001-of-00002.safetensors", "model.embed_tokens.weight", "model.norm.weight");
    write_shard("model-00002-of-00002.safetensors", "lm_head.weight", "model.layers.0.input_layernorm.weight");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_write(fuzz_path("model.safetensors.index.json"), data, size);
    struct st_set s;
    if (st_set_open(&s, fuzz_dir(), "model") != STATUS_OK) return 0;
    for (size_t i = 0; i < s.n_tensors; i++)
        if (st_set_find(&s, s.by_name[i]->name) != s.by_name[i]) abort();
    st_set_free(&s);
    return 0;
}
