/* Fuzz target: a samples.jsonl line (a logged GRPO group: prompt, completions, rewards, advantages) through
 * samples_parse, for UTF-8 and ASCII terminals, and samples_peek. Every string the parser hands out must be
 * inside its arena and NUL-terminated, and the peek must agree with the parse about step and group. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fuzz_util.h"
#include "text/sanitize.h"
#include "tui/samples.h"

static void check_str(const char *s, size_t len) {
    if (!s || strlen(s) != len) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *line = fuzz_memdup(data, size); /* not NUL-terminated, as run_source passes lines */
    int64_t pstep = 0, pgroup = 0;
    bool peek = samples_peek(line, size, &pstep, &pgroup);
    for (int ascii = 0; ascii < 2; ascii++) {
        struct sample_group g;
        bool ok = samples_parse(line, size, ascii ? SAN_ASCII : 0, &g);
        if (ok != peek) abort();
        if (!ok) continue;
        if (g.step != pstep || g.group != pgroup || g.n > g.n_total || g.n > SAMPLES_MAX_COMPLETIONS) abort();
        if (!g.task || !g.prompt || !g.answer) abort();
        (void)(strlen(g.task) + strlen(g.prompt) + strlen(g.answer)); /* ASan: each ends inside its arena */
        for (size_t i = 0; i < g.n; i++) {
            check_str(g.c[i].text, g.c[i].text_len);
            if (ascii)
                for (size_t k = 0; k < g.c[i].text_len; k++)
                    if ((unsigned char)g.c[i].text[k] >= 0x80) abort();
        }
        samples_free(&g);
    }
    free(line);
    return 0;
}
