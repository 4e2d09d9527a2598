/* Fuzz target: what a chat-completions server answers outside a stream — a whole chat.completion (a server that
 * ignored stream: true), a single chunk, or an error body ({"error": {...}}, {"error": "..."}, {"message": ...},
 * or not JSON at all) — through oai_parse_response, oai_parse_chunk and oai_error_message. The error message
 * must fit its buffer and be NUL-terminated for every cap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fuzz_util.h"
#include "repl/oai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *json = (const char *)data;
    struct oai_delta d;
    oai_delta_init(&d);
    (void)oai_parse_response(json, size, &d);
    oai_delta_free(&d);
    oai_delta_init(&d);
    (void)oai_parse_chunk(json, size, &d);
    oai_delta_free(&d);
    static const size_t caps[] = {1, 2, 7, 64, 256};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        char *msg = malloc(caps[i]);
        if (!msg) abort();
        oai_error_message(json, size, msg, caps[i]);
        if (strnlen(msg, caps[i]) >= caps[i]) abort();
        free(msg);
    }
    return 0;
}
