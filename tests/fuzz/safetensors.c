/* Fuzz target: one safetensors file (header length, JSON header, dtypes, shapes, offsets, metadata), opened the
 * way a checkpoint's weights are: st_file_open on a path. When a file is accepted, every tensor is looked up by
 * name and every float tensor converted, so a header that passes validation but describes bytes it does not
 * have would be caught by ASan reading past the map. */
#include <stdint.h>
#include <stdlib.h>

#include "engine/model/safetensors.h"
#include "lib/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path("model.safetensors");
    fuzz_write(path, data, size);
    struct st_file f;
    if (st_file_open(&f, path) != STATUS_OK) return 0;
    for (size_t i = 0; i < f.n_tensors; i++) {
        const struct st_tensor *t = &f.tensors[i];
        if (st_file_find(&f, t->name) != t) abort(); /* names are unique, so lookup finds this very tensor */
        if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16) continue;
        if (t->numel > (1u << 20)) continue;
        float *dst = malloc((t->numel ? t->numel : 1) * sizeof *dst);
        if (!dst) continue;
        if (st_tensor_to_f32(t, dst, t->numel) != STATUS_OK) abort(); /* a validated float tensor converts */
        free(dst);
    }
    st_file_free(&f);
    return 0;
}
