/* Fuzz target: a user's problem file (JSONL: prompt or question, answer as string or number, GSM8K "####"
 * answers, Countdown numbers/nums + target), read with dataset_load from a path. Every accepted problem's gold
 * answer must be accepted by its own verifier, and the GSM8K extractor runs on the raw input too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/world/dataset.h"
#include "engine/world/task.h"
#include "lib/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path("data.jsonl");
    fuzz_write(path, data, size);
    struct dataset ds;
    if (dataset_load(&ds, path) == STATUS_OK) {
        for (size_t i = 0; i < ds.n; i++) {
            const struct problem *p = &ds.items[i];
            (void)task_check_answer(p, p->answer, strlen(p->answer));
        }
        dataset_free(&ds);
    }
    char *s = fuzz_strdup(data, size);
    free(dataset_gsm8k_answer(s));
    free(s);
    return 0;
}
