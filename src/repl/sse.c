/* sse: the event-stream state machine. Bytes accumulate into a line; each complete line is interpreted as a
 * field; a blank line dispatches the event. */
#include "sse.h"

#include <string.h>

void sse_init(struct sse_parser *p, size_t max_event, sse_event_fn on_event, void *user) {
    memset(p, 0, sizeof *p);
    p->on_event = on_event;
    p->user = user;
    p->max_event = max_event;
}

void sse_free(struct sse_parser *p) {
    strbuf_free(&p->line);
    strbuf_free(&p->data);
    memset(p, 0, sizeof *p);
}

bool sse_pending(const struct sse_parser *p) {
    return p->line.len > 0 || p->has_data || p->n_bom > 0;
}

static enum status dispatch(struct sse_parser *p) {
    enum status st = STATUS_OK;
    if (p->has_data) {
        size_t len = p->data.len;
        if (len && p->data.data[len - 1] == '\n') len--; /* the last data line's separator */
        TRY(strbuf_status(&p->data));
        p->data.data[len] = '\0';
        p->events++;
        st = p->on_event(p->user, p->type[0] ? p->type : "message", p->data.data, len);
    }
    strbuf_clear(&p->data);
    p->has_data = false;
    p->type[0] = '\0';
    return st;
}

/* Interprets one complete line. */
static enum status process_line(struct sse_parser *p) {
    const char *s = p->line.data ? p->line.data : "";
    size_t n = p->line.len;
    if (n == 0) return dispatch(p);
    if (s[0] == ':') return STATUS_OK; /* comment (often a keep-alive) */
    const char *colon = memchr(s, ':', n);
    size_t name_len = colon ? (size_t)(colon - s) : n;
    const char *value = colon ? colon + 1 : s + n;
    size_t value_len = colon ? n - name_len - 1 : 0;
    if (value_len && value[0] == ' ') value++, value_len--;
    if (name_len == 4 && memcmp(s, "data", 4) == 0) {
        if (p->data.len + value_len + 1 > p->max_event)
            return err_set(STATUS_FORMAT, "an event is longer than %zu bytes", p->max_event);
        strbuf_append(&p->data, value, value_len);
        strbuf_putc(&p->data, '\n');
        p->has_data = true;
        return strbuf_status(&p->data);
    }
    if (name_len == 5 && memcmp(s, "event", 5) == 0) {
        size_t k = value_len < sizeof p->type - 1 ? value_len : sizeof p->type - 1;
        memcpy(p->type, value, k);
        p->type[k] = '\0';
    }
    return STATUS_OK; /* id, retry and unknown fields are ignored */
}

static enum status end_line(struct sse_parser *p) {
    enum status st = process_line(p);
    strbuf_clear(&p->line);
    return st;
}

enum status sse_feed(struct sse_parser *p, const char *buf, size_t n) {
    size_t i = 0;
    /* An optional UTF-8 BOM before the first byte of the stream; it may itself arrive split. */
    static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};
    while (!p->started && i < n) {
        unsigned char c = (unsigned char)buf[i];
        if (c == BOM[p->n_bom]) {
            p->bom[p->n_bom++] = c;
            i++;
            if (p->n_bom == 3) p->started = true, p->n_bom = 0;
            continue;
        }
        /* Not a BOM after all: the bytes held so far are ordinary text. */
        p->started = true;
        strbuf_append(&p->line, (const char *)p->bom, p->n_bom);
        p->n_bom = 0;
    }
    while (i < n) {
        char c = buf[i];
        if (p->after_cr) {
            p->after_cr = false;
            if (c == '\n') {
                i++;
                continue;
            }
        }
        /* Copy the run of ordinary bytes up to the next line end in one append. */
        size_t j = i;
        while (j < n && buf[j] != '\n' && buf[j] != '\r') j++;
        if (j > i) {
            if (p->line.len + (j - i) > p->max_event)
                return err_set(STATUS_FORMAT, "a line of the event stream is longer than %zu bytes", p->max_event);
            strbuf_append(&p->line, buf + i, j - i);
            TRY(strbuf_status(&p->line));
        }
        if (j == n) break;
        p->after_cr = buf[j] == '\r';
        i = j + 1;
        TRY(end_line(p));
    }
    return STATUS_OK;
}
