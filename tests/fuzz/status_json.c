/* Fuzz target: a run's status.json (state, pid, step, stage, device, message), read by runctl_status_parse as
 * a dashboard does. An accepted status is written back with runctl_status_format and must parse to the same
 * fields (the trainer and its readers share this one contract). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/run/runctl.h"
#include "lib/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_strdup(data, size);
    struct runctl_status a, b;
    if (runctl_status_parse(text, size, "status.json", &a) == STATUS_OK) {
        size_t need = runctl_status_format(&a, NULL, 0);
        char *out = malloc(need + 1);
        if (!out) abort();
        if (runctl_status_format(&a, out, need + 1) != need) abort();
        if (runctl_status_parse(out, need, "formatted", &b) != STATUS_OK) abort();
        if (a.state != b.state || a.pid != b.pid || a.step != b.step || a.max_steps != b.max_steps ||
            strcmp(a.stage, b.stage) != 0 || strcmp(a.device, b.device) != 0 || strcmp(a.message, b.message) != 0)
            abort();
        free(out);
    }
    free(text);
    return 0;
}
