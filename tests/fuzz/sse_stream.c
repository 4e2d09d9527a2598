/* Fuzz target: a remote server's streamed reply — Server-Sent Events (sse.c) whose data are OpenAI
 * chat.completion.chunk objects (oai.c) — handled the way endpoint_remote.c does: "[DONE]" ends the reply,
 * "event: error" carries an error body, everything else is a chunk whose content, reasoning, finish reason and
 * usage are taken. The stream is fed twice, whole and in pieces cut where the input's own bytes say; sse.h
 * promises the events are a function of the bytes alone, so the two transcripts must be identical. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fuzz_util.h"
#include "repl/oai.h"
#include "repl/sse.h"

#define MAX_EVENT (64u << 10)

struct reply {
    struct strbuf log; /* every event as "type|data\n", then what the chunk parser made of it */
    struct oai_delta delta;
    bool done;
};

static enum status on_event(void *user, const char *type, const char *data, size_t len) {
    struct reply *r = user;
    strbuf_puts(&r->log, type);
    strbuf_putc(&r->log, '|');
    strbuf_append(&r->log, data, len);
    strbuf_putc(&r->log, '\n');
    if (r->done) return STATUS_OK;
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        r->done = true;
        return STATUS_OK;
    }
    if (strcmp(type, "error") == 0) {
        char msg[256];
        oai_error_message(data, len, msg, sizeof msg);
        if (strlen(msg) >= sizeof msg) abort();
        return err_set(STATUS_IO, "the server reported an error: %s", msg);
    }
    TRY(oai_parse_chunk(data, len, &r->delta));
    strbuf_printf(&r->log, "> %s / %s / %s %lld %lld\n", r->delta.content.data ? r->delta.content.data : "",
                  r->delta.reasoning.data ? r->delta.reasoning.data : "", r->delta.finish,
                  (long long)r->delta.prompt_tokens, (long long)r->delta.completion_tokens);
    strbuf_clear(&r->delta.content);
    strbuf_clear(&r->delta.reasoning);
    return STATUS_OK;
}

/* Feeds the stream in pieces: piece k is (cut[k % 8] + 1) bytes long, or all of it when cut is NULL. */
static char *run(const uint8_t *data, size_t size, const uint8_t *cut, enum status *st, bool *pending) {
    struct reply r;
    memset(&r, 0, sizeof r);
    oai_delta_init(&r.delta);
    struct sse_parser p;
    sse_init(&p, MAX_EVENT, on_event, &r);
    *st = STATUS_OK;
    for (size_t off = 0, k = 0; off < size && *st == STATUS_OK; k++) {
        size_t n = cut ? (size_t)cut[k % 8] + 1 : size;
        if (n > size - off) n = size - off;
        *st = sse_feed(&p, (const char *)data + off, n);
        off += n;
    }
    *pending = sse_pending(&p);
    strbuf_printf(&r.log, "status %d\n", (int)*st);
    sse_free(&p);
    oai_delta_free(&r.delta);
    char *s = strbuf_detach(&r.log);
    if (!s) abort();
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t cut[8] = {0};
    for (size_t i = 0; i < 8 && i < size; i++) cut[i] = data[i] & 7; /* pieces of 1 to 8 bytes */
    enum status st_whole, st_split;
    bool pend_whole, pend_split;
    char *whole = run(data, size, NULL, &st_whole, &pend_whole);
    char *split = run(data, size, cut, &st_split, &pend_split);
    if (st_whole != st_split || strcmp(whole, split) != 0 || (st_whole == STATUS_OK && pend_whole != pend_split)) {
        fprintf(stderr, "whole:\n%s\nsplit:\n%s\n", whole, split);
        abort();
    }
    free(whole);
    free(split);
    return 0;
}
