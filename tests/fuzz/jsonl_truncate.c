/* Fuzz target: metrics.jsonl / samples.jsonl as the trainer reads them when it resumes (jsonl.c): every complete
 * line whose "step" is past the checkpoint's is dropped, lines without a step kept, and the file rewritten
 * atomically. The first 8 input bytes are the checkpoint step; the rest is the file. Afterwards the file holds
 * only complete lines and no more bytes than before. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/util/fsutil.h"
#include "engine/util/jsonl.h"
#include "lib/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 8) return 0;
    int64_t step;
    memcpy(&step, data, sizeof step);
    const char *path = fuzz_path("metrics.jsonl");
    fuzz_write(path, data + 8, size - 8);
    if (jsonl_truncate_after_step(path, step) != STATUS_OK) return 0;
    char *text;
    size_t len;
    if (fs_read_file(path, 1u << 30, &text, &len) != STATUS_OK) abort();
    if (len > size - 8 || (len > 0 && text[len - 1] != '\n')) abort();
    free(text);
    return 0;
}
