/* fake_openai: a small OpenAI-compatible chat-completions server for the tests, run in a child process on
 * 127.0.0.1 with an ephemeral port. It serves a bounded number of requests and stops by itself (or when
 * fake_stop kills it). Each mode makes it misbehave in one way, so the client's handling of every failure can
 * be checked without a network or Python.
 *
 * Every request is appended to log_path (request line, headers, body, then a line "----"), so a test can
 * check what r1lab sent (stream: true, the model, the Authorization header). */
#ifndef R1LAB_TEST_FAKE_OPENAI_H
#define R1LAB_TEST_FAKE_OPENAI_H

#include <stdbool.h>
#include <sys/types.h>

enum fake_mode {
    FAKE_NORMAL,        /* "Hello from fake: <last user message>", chunked SSE, usage, [DONE] */
    FAKE_REASONING,     /* reasoning_content chunks, then content */
    FAKE_REASONING_ALT, /* the same in "reasoning" fields (OpenRouter / Ollama) */
    FAKE_INLINE_THINK,  /* <think> tags inside content, split across chunks */
    FAKE_BYTEWISE,      /* the normal reply with CRLF lines and comments, written one byte at a time */
    FAKE_SLOW,          /* one chunk, then silence for 30 s */
    FAKE_TRICKLE,       /* "tick N " every 50 ms, 400 times (for Ctrl-C) */
    FAKE_DROP,          /* chunked: two chunks, then the connection closes mid-body */
    FAKE_NO_DONE,       /* not chunked: two chunks, then close, without finish_reason or [DONE] */
    FAKE_401,
    FAKE_429, /* with Retry-After: 7 */
    FAKE_500,
    FAKE_MALFORMED,       /* a good chunk, then "data: {not json" */
    FAKE_MIDSTREAM_ERROR, /* a good chunk, then data: {"error": {...}} */
    FAKE_HUGE,            /* an endless stream of big chunks */
    FAKE_JSON,            /* a whole (non-streamed) chat.completion */
    FAKE_ESCAPES,         /* content with ESC sequences, OSC and BEL */
    FAKE_REDIRECT_SAME,   /* 307 to the same origin (then normal) */
    FAKE_REDIRECT_OTHER,  /* 307 to another host */
    FAKE_SPLIT_UTF8,      /* content whose multi-byte characters straddle chunk boundaries in the byte stream */
    FAKE_HTML,            /* 200 with an HTML page (a captive portal, a wrong URL) */
    FAKE_SCRIPTED,        /* the reply is written in the prompt: "NAME=R0 || R1 ;; NAME2=R0" gives the model
                           * NAME the reply R[seed % count] (the request's "model" and "seed"), streamed as
                           * content; a model the prompt does not name gets "(no script for NAME)" */
};

struct fake_server {
    pid_t pid;
    int port;
    char url[128]; /* http://127.0.0.1:PORT/v1 */
};

/* Starts the server; it serves up to max_requests requests. log_path may be NULL. */
bool fake_start(struct fake_server *s, enum fake_mode mode, int max_requests, const char *log_path);
void fake_stop(struct fake_server *s);

#endif
