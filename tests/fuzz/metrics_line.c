/* Fuzz target: metrics.jsonl as the dashboard reads it — each line (up to 16 per input) through metrics_parse,
 * with the reward-name table shared across lines as in a run (names discovered as they appear, at most
 * METRICS_MAX_REWARDS). Checks the record's invariants: validity bits only for known slots, names NUL-terminated
 * printable ASCII. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fuzz_util.h"
#include "tui/metrics.h"

static void check_name(const char *s, size_t cap) {
    size_t n = strnlen(s, cap);
    if (n >= cap) abort();
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct fuzz_part lines[16];
    size_t n = fuzz_split(data, size, "\n", lines, 16);
    struct metrics_names names;
    memset(&names, 0, sizeof names);
    for (size_t i = 0; i < n; i++) {
        struct metrics_rec r;
        char *line = fuzz_memdup(lines[i].p, lines[i].n); /* as the line reader hands them: not NUL-terminated */
        if (metrics_parse(line, lines[i].n, &names, &r)) {
            if (M_COUNT < 64 && (r.valid >> M_COUNT) != 0) abort();
            if (names.n < METRICS_MAX_REWARDS && (r.reward_valid >> names.n) != 0) abort();
            check_name(r.stage, sizeof r.stage);
        }
        free(line);
    }
    if (names.n < 0 || names.n > METRICS_MAX_REWARDS) abort();
    for (int i = 0; i < names.n; i++) check_name(names.name[i], METRICS_NAME_MAX);
    return 0;
}
