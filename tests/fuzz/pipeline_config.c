/* Fuzz target: a pipeline recipe (r1lab-pipeline(1): output_dir, defaults, stages of kind train, rejection_sample
 * and distill, "@NAME" references to earlier stages) read by pipeline_load from a path, with command-line overrides
 * (output_dir=DIR, defaults.KEY=VALUE, STAGE.KEY=VALUE), as `r1lab pipeline CONFIG key=value ...` does; then each
 * train stage's configuration resolved and validated the way the runner does before it starts the stage. The input
 * is the recipe, then, after a line "--", one override per line (at most 8). Checked: stage names and directories
 * NUL-terminated, directories inside the pipeline's, every stage's configuration an object. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/run/config.h"
#include "engine/run/pipeline.h"
#include "lib/fuzz_util.h"

#define MAX_OVERRIDES 8

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct fuzz_part halves[2], parts[MAX_OVERRIDES];
    size_t nh = fuzz_split(data, size, "\n--\n", halves, 2), n = 0;
    if (nh == 2) n = fuzz_split(halves[1].p, halves[1].n, "\n", parts, MAX_OVERRIDES);
    char *ov[MAX_OVERRIDES];
    for (size_t i = 0; i < n; i++) ov[i] = fuzz_strdup(parts[i].p, parts[i].n);
    const char *path = fuzz_path("recipe.json");
    fuzz_write(path, halves[0].p, halves[0].n);

    struct pipeline p;
    if (pipeline_load(&p, path, ov, (int)n) == STATUS_OK) {
        if (p.n == 0 || !memchr(p.dir, '\0', sizeof p.dir)) abort();
        size_t dl = strlen(p.dir);
        const char *sep = dl > 0 && p.dir[dl - 1] == '/' ? "" : "/";
        for (size_t i = 0; i < p.n; i++) {
            const struct pipeline_stage *s = &p.stages[i];
            if (!memchr(s->name, '\0', sizeof s->name) || !memchr(s->dir_name, '\0', sizeof s->dir_name) ||
                !memchr(s->dir, '\0', sizeof s->dir) || !memchr(s->output, '\0', sizeof s->output) || !s->name[0])
                abort();
            /* PIPE/<index>-<name>: one plain component below the pipeline's directory */
            char want[sizeof s->dir + 8];
            snprintf(want, sizeof want, "%s%s%s", p.dir, sep, s->dir_name);
            if (strcmp(s->dir, want) != 0 || strchr(s->dir_name, '/') || strncmp(s->output, s->dir, strlen(s->dir)))
                abort();
            if (!cJSON_IsObject(s->config)) abort();
            if (s->kind == PIPELINE_KIND_TRAIN) {
                struct config c;
                if (pipeline_train_config(&p, i, i & 1, false, &c) == STATUS_OK) config_free(&c);
            }
        }
        pipeline_free(&p);
    }
    for (size_t i = 0; i < n; i++) free(ov[i]);
    return 0;
}
