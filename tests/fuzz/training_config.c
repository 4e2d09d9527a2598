/* Fuzz target: a checkpoint's training_config.json — the run's resolved configuration that chat, compare and
 * eval read to talk to the model the way it was trained (origin.c: stage, template, world task, limits) — read
 * by origin_load from a checkpoint directory, then the template choice against the built-in world's
 * tokenizer. The reason line must stay NUL-terminated in its buffer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/run/origin.h"
#include "engine/tokenizer/tokenizer.h"
#include "lib/fuzz_util.h"

static struct tokenizer *tok;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    if (tokenizer_load(&tok, FUZZ_ROOT "/models/world/tokenizer.json") != STATUS_OK) {
        fprintf(stderr, "%s\n", err_msg());
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_write(fuzz_path(ORIGIN_FILE), data, size);
    struct origin o;
    if (origin_load(fuzz_dir(), &o) != STATUS_OK) return 0;
    char why[64];
    memset(why, 'x', sizeof why);
    (void)origin_pick_template(&o, tok, why, sizeof why);
    if (strnlen(why, sizeof why) >= sizeof why) abort();
    if (strnlen(o.why, sizeof o.why) >= sizeof o.why || strnlen(o.task, sizeof o.task) >= sizeof o.task ||
        strnlen(o.stage, sizeof o.stage) >= sizeof o.stage)
        abort();
    origin_free(&o);
    return 0;
}
