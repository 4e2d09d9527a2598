/* sse: an incremental parser of Server-Sent Events (the WHATWG "text/event-stream" format), as OpenAI-style
 * streaming APIs send them: "data: {...}\n\n" events, ending with "data: [DONE]".
 *
 * Feed it bytes in pieces of any size — split anywhere, even inside a "\r\n" or a UTF-8 character — and it
 * calls back once per complete event with the event's type and its data (multiple data lines joined with
 * '\n'). Lines end with "\n", "\r\n" or "\r"; a leading BOM is skipped; ':' lines are comments; "id" and
 * "retry" fields are ignored; an event without data is not dispatched. The result is a pure function of the
 * byte sequence, not of how it was split (tests check every split offset).
 *
 * Memory is bounded: a line or an event longer than max_event bytes is an error (STATUS_FORMAT), so a server
 * cannot make the client buffer without end. Does no I/O. */
#ifndef R1LAB_SSE_H
#define R1LAB_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/util/status.h"
#include "engine/util/strbuf.h"

/* One event: type ("message" unless an "event:" field said otherwise) and data (NUL-terminated, len bytes).
 * A non-OK return stops parsing and is returned from sse_feed. */
typedef enum status (*sse_event_fn)(void *user, const char *type, const char *data, size_t len);

struct sse_parser {
    sse_event_fn on_event;
    void *user;
    size_t max_event;
    struct strbuf line; /* the current line, without its terminator */
    struct strbuf data; /* data lines of the current event, each followed by '\n' */
    char type[64];      /* the "event:" field of the current event, "" = message */
    bool has_data;      /* a data field was seen in the current event */
    bool after_cr;      /* the last byte was '\r': a following '\n' belongs to it */
    bool started;       /* past the optional BOM */
    unsigned char bom[3];
    size_t n_bom;
    size_t events; /* events dispatched so far */
};

void sse_init(struct sse_parser *p, size_t max_event, sse_event_fn on_event, void *user);
enum status sse_feed(struct sse_parser *p, const char *buf, size_t n);
/* True when bytes of an unfinished event are pending (at the end of a stream: it was cut off). */
bool sse_pending(const struct sse_parser *p);
void sse_free(struct sse_parser *p); /* accepts a zeroed struct */

#endif
