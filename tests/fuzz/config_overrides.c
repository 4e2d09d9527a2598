/* Fuzz target: command-line overrides (key=value, a.b=value, values parsed as JSON or taken as strings) applied
 * to a valid configuration, as `r1lab train CONFIG key=value ...` does. Each line of the input is one override
 * (at most 16); the base config is written once at start-up. */
#include <stdint.h>
#include <stdlib.h>

#include "engine/run/config.h"
#include "lib/fuzz_util.h"

#define MAX_OVERRIDES 16

static const char BASE[] =
    "{\"stage\": \"grpo\", \"dataset\": \"world:linear\", \"world\": {\"tasks\": {\"linear\": 0.8, \"arith\": 0.2}},"
    " \"template\": \"r1-zero\", \"reward_funcs\": [\"accuracy\", \"format\"], \"num_generations\": 4,"
    " \"max_steps\": 10, \"save_steps\": 5, \"seed\": 1}";
static char base_path[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    snprintf(base_path, sizeof base_path, "%s", fuzz_path("base.json"));
    fuzz_write(base_path, BASE, sizeof BASE - 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct fuzz_part parts[MAX_OVERRIDES];
    size_t n = fuzz_split(data, size, "\n", parts, MAX_OVERRIDES);
    char *ov[MAX_OVERRIDES];
    for (size_t i = 0; i < n; i++) ov[i] = fuzz_strdup(parts[i].p, parts[i].n);
    struct config c;
    if (config_load(&c, base_path, ov, (int)n) == STATUS_OK) config_free(&c);
    for (size_t i = 0; i < n; i++) free(ov[i]);
    return 0;
}
