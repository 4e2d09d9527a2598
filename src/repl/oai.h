/* oai: the OpenAI chat-completions wire format, as pure functions over text — building the request body and
 * reading streamed chunks, whole (non-streamed) responses and error bodies. No I/O: endpoint_remote.c moves
 * the bytes, this module gives them meaning.
 *
 * Reasoning text is taken from `reasoning_content` (DeepSeek, vLLM, llama.cpp) or `reasoning` (OpenRouter,
 * Ollama); whatever a server puts inline as <think> tags in `content` stays in the content (the REPL's think
 * splitter handles it). */
#ifndef R1LAB_OAI_H
#define R1LAB_OAI_H

#include <stdbool.h>
#include <stdint.h>

#include "endpoint.h"
#include "engine/util/strbuf.h"

/* The JSON body of POST /v1/chat/completions with stream: true. top_k and seed are sent only when set
 * (top_k > 0; seed always, as OpenAI accepts it): strict servers reject unknown fields. */
enum status oai_request_body(const struct chat *chat, const char *model, const struct gen_params *p,
                             struct strbuf *out);

/* What one streamed chunk (or a whole response) carried. The strings are appended to, so a caller may pass
 * the same struct for every chunk of a reply. */
struct oai_delta {
    struct strbuf content, reasoning;
    char finish[24];       /* finish_reason when one was given ("stop", "length"), else "" */
    int64_t prompt_tokens; /* from "usage", -1 when absent */
    int64_t completion_tokens;
};
void oai_delta_init(struct oai_delta *d);
void oai_delta_free(struct oai_delta *d);

/* Parses the data of one SSE event (a chat.completion.chunk). Malformed JSON, or an "error" object the server
 * sent inside the stream, is an error whose message says so (the caller adds the URL). Chunks without
 * choices (usage-only, keep-alives) are fine. */
enum status oai_parse_chunk(const char *json, size_t len, struct oai_delta *d);
/* Parses a non-streamed chat.completion (a server that ignored stream: true). */
enum status oai_parse_response(const char *json, size_t len, struct oai_delta *d);
/* The human-readable message in an error body ({"error": {"message": ...}} or {"error": "..."} or
 * {"message": ...}), sanitised and cut to max bytes; the start of the raw body when it is not JSON; "" when
 * the body is empty. */
void oai_error_message(const char *body, size_t len, char *out, size_t max);

#endif
