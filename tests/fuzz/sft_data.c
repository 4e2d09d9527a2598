/* Fuzz target: next-token training data in JSONL — SFT records {"prompt": ..., "completion": ...} and pretraining
 * documents {"text": ...} — read by lm_data_load from the dataset path of a config and tokenized with the
 * built-in world's tokenizer. The first byte picks the stage; the rest is the file. An accepted dataset is
 * walked once through lm_data_seek's bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cJSON.h>

#include "engine/lm/lm_data.h"
#include "engine/run/config.h"
#include "engine/tokenizer/tokenizer.h"
#include "lib/fuzz_util.h"

static struct config cfg[2]; /* sft, pretrain */
static struct tokenizer *tok;

static void make_config(struct config *c, const char *stage, const char *path) {
    char text[8400];
    snprintf(text, sizeof text, "{\"stage\": \"%s\", \"dataset\": \"%s\", \"max_seq_length\": 32, \"max_steps\": 1}",
             stage, path);
    cJSON *root = cJSON_Parse(text);
    if (!root || config_resolve(c, root, "fuzz config", NULL, 0) != STATUS_OK) {
        fprintf(stderr, "%s\n", err_msg());
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    char path[4200];
    snprintf(path, sizeof path, "%s", fuzz_path("data.jsonl"));
    make_config(&cfg[0], "sft", path);
    make_config(&cfg[1], "pretrain", path);
    if (tokenizer_load(&tok, FUZZ_ROOT "/models/world/tokenizer.json") != STATUS_OK) {
        fprintf(stderr, "%s\n", err_msg());
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const struct config *c = &cfg[data[0] & 1];
    fuzz_write(c->v.run.dataset, data + 1, size - 1);
    struct lm_data d;
    if (lm_data_load(&d, c, tok, 1) != STATUS_OK) return 0;
    if (lm_data_seek(&d, 1, (int64_t)d.n_ex - 1) != STATUS_OK) abort(); /* the last example of epoch 1 exists */
    if (lm_data_seek(&d, 0, (int64_t)d.n_ex + 1) == STATUS_OK) abort(); /* one past the end does not */
    lm_data_free(&d);
    return 0;
}
