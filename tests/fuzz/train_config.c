/* Fuzz target: a training configuration file (configs/NAME.json) read by config_load: every key checked against
 * the key table (type, stage), unknown keys with their "did you mean", defaults filled in. An accepted config
 * is printed both ways (--print-config), which walks every resolved key. */
#include <stdint.h>
#include <stdio.h>

#include "engine/run/config.h"
#include "lib/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path("train.json");
    fuzz_write(path, data, size);
    struct config c;
    if (config_load(&c, path, NULL, 0) != STATUS_OK) return 0;
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        config_print(&c, null, true);
        config_print(&c, null, false);
        fclose(null);
    }
    config_free(&c);
    return 0;
}
