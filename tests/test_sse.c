/* Tests for the SSE parser and the OpenAI chunk reader: the events of a stream are the same however the
 * bytes are split (every split offset into two and three pieces, and byte by byte), line endings, comments,
 * BOM, multi-line data, the size cap; chunk parsing of content / reasoning_content / reasoning, usage, errors
 * and malformed JSON; request bodies. */
#include <criterion/criterion.h>
#include <string.h>

#include "repl/oai.h"
#include "repl/sse.h"

struct collected {
    struct strbuf s; /* "type|data\n" per event */
};

static enum status collect(void *user, const char *type, const char *data, size_t len) {
    struct collected *c = user;
    strbuf_puts(&c->s, type);
    strbuf_putc(&c->s, '|');
    strbuf_append(&c->s, data, len);
    strbuf_puts(&c->s, "\n");
    return STATUS_OK;
}

/* Feeds text in pieces cut at the given offsets and returns the events. */
static char *parse_split(const char *text, size_t n, const size_t *cuts, size_t n_cuts, bool *pending) {
    struct collected c = {{0}};
    struct sse_parser p;
    sse_init(&p, 1 << 16, collect, &c);
    size_t from = 0;
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t to = i < n_cuts ? cuts[i] : n;
        cr_assert_eq(sse_feed(&p, text + from, to - from), STATUS_OK, "%s", err_msg());
        from = to;
    }
    if (pending) *pending = sse_pending(&p);
    sse_free(&p);
    char *s = strbuf_detach(&c.s);
    return s ? s : strdup("");
}

static const char STREAM[] = "\xEF\xBB\xBF: comment line\r\n"
                             "data: {\"a\":1}\r\n\r\n"
                             "event: ping\ndata:no-space\n\n"
                             "data: line one\rdata: line two\r\r"
                             "id: 7\nretry: 100\nunknown: x\ndata\n\n"
                             "data: caf\xc3\xa9 \xf0\x9f\x98\x80\n\n"
                             ": keep-alive\n\n"
                             "data: [DONE]\n\n";
static const char WANT[] = "message|{\"a\":1}\n"
                           "ping|no-space\n"
                           "message|line one\nline two\n"
                           "message|\n"
                           "message|caf\xc3\xa9 \xf0\x9f\x98\x80\n"
                           "message|[DONE]\n";

Test(sse, whole_stream) {
    bool pending;
    char *got = parse_split(STREAM, sizeof STREAM - 1, NULL, 0, &pending);
    cr_expect_str_eq(got, WANT);
    cr_expect(!pending);
    free(got);
}

Test(sse, every_split_offset_gives_the_same_events) {
    size_t n = sizeof STREAM - 1;
    for (size_t i = 0; i <= n; i++) {
        size_t cuts[1] = {i};
        char *got = parse_split(STREAM, n, cuts, 1, NULL);
        cr_assert_str_eq(got, WANT, "split at %zu", i);
        free(got);
    }
    /* Three pieces: every pair of offsets (a stride keeps it quick but covers every offset as both cuts). */
    for (size_t i = 0; i <= n; i++)
        for (size_t j = i; j <= n; j += 3) {
            size_t cuts[2] = {i, j};
            char *got = parse_split(STREAM, n, cuts, 2, NULL);
            cr_assert_str_eq(got, WANT, "split at %zu and %zu", i, j);
            free(got);
        }
    /* One byte at a time. */
    size_t *all = malloc(n * sizeof *all);
    for (size_t i = 0; i < n; i++) all[i] = i + 1;
    char *got = parse_split(STREAM, n, all, n - 1, NULL);
    cr_expect_str_eq(got, WANT);
    free(got);
    free(all);
}

Test(sse, a_cut_off_event_is_pending_not_dispatched) {
    const char text[] = "data: one\n\ndata: two\n";
    bool pending;
    char *got = parse_split(text, sizeof text - 1, NULL, 0, &pending);
    cr_expect_str_eq(got, "message|one\n");
    cr_expect(pending);
    free(got);
    got = parse_split("data: x", 7, NULL, 0, &pending);
    cr_expect_str_eq(got, "");
    cr_expect(pending);
    free(got);
}

Test(sse, lines_and_events_are_capped) {
    struct collected c = {{0}};
    struct sse_parser p;
    sse_init(&p, 64, collect, &c);
    char big[200];
    memset(big, 'x', sizeof big);
    cr_expect_eq(sse_feed(&p, "data: ", 6), STATUS_OK);
    cr_expect_eq(sse_feed(&p, big, sizeof big), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "64 bytes") != NULL, "%s", err_msg());
    sse_free(&p);
    /* Many short data lines adding up past the cap. */
    sse_init(&p, 64, collect, &c);
    enum status st = STATUS_OK;
    for (int i = 0; i < 20 && st == STATUS_OK; i++) st = sse_feed(&p, "data: 0123456789\n", 17);
    cr_expect_eq(st, STATUS_FORMAT);
    sse_free(&p);
    strbuf_free(&c.s);
}

static enum status stop_at_second(void *user, const char *type, const char *data, size_t len) {
    (void)type, (void)data, (void)len;
    int *count = user;
    return ++*count == 2 ? err_set(STATUS_IO, "stop") : STATUS_OK;
}

Test(sse, a_callback_error_stops_the_feed) {
    int count = 0;
    struct sse_parser p;
    sse_init(&p, 1024, stop_at_second, &count);
    cr_expect_eq(sse_feed(&p, "data: a\n\ndata: b\n\ndata: c\n\n", 27), STATUS_IO);
    cr_expect_eq(count, 2);
    sse_free(&p);
}

Test(oai, chunks_content_reasoning_usage) {
    struct oai_delta d;
    oai_delta_init(&d);
    const char *c1 =
        "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}";
    cr_assert_eq(oai_parse_chunk(c1, strlen(c1), &d), STATUS_OK);
    const char *c2 = "{\"choices\":[{\"delta\":{\"reasoning_content\":\"hmm\",\"content\":null}}]}";
    cr_assert_eq(oai_parse_chunk(c2, strlen(c2), &d), STATUS_OK);
    const char *c3 = "{\"choices\":[{\"delta\":{\"reasoning\":\" ok\"}}]}";
    cr_assert_eq(oai_parse_chunk(c3, strlen(c3), &d), STATUS_OK);
    const char *c4 = "{\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"length\"}]}";
    cr_assert_eq(oai_parse_chunk(c4, strlen(c4), &d), STATUS_OK);
    const char *c5 = "{\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4}}";
    cr_assert_eq(oai_parse_chunk(c5, strlen(c5), &d), STATUS_OK);
    cr_expect_str_eq(d.content.data, "Hello");
    cr_expect_str_eq(d.reasoning.data, "hmm ok");
    cr_expect_str_eq(d.finish, "length");
    cr_expect_eq(d.prompt_tokens, 9);
    cr_expect_eq(d.completion_tokens, 4);
    oai_delta_free(&d);
}

Test(oai, malformed_and_error_chunks) {
    struct oai_delta d;
    oai_delta_init(&d);
    cr_expect_eq(oai_parse_chunk("{not json", 9, &d), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "malformed JSON") != NULL, "%s", err_msg());
    cr_expect_eq(oai_parse_chunk("[1,2]", 5, &d), STATUS_FORMAT);
    const char *e = "{\"error\":{\"message\":\"overloaded \\u001b[31m\",\"code\":503}}";
    cr_expect_eq(oai_parse_chunk(e, strlen(e), &d), STATUS_IO);
    cr_expect(strstr(err_msg(), "overloaded") != NULL, "%s", err_msg());
    cr_expect(strchr(err_msg(), '\x1b') == NULL, "the server's text is sanitised: %s", err_msg());
    const char *bad = "{\"choices\":{\"delta\":1}}";
    cr_expect_eq(oai_parse_chunk(bad, strlen(bad), &d), STATUS_FORMAT);
    oai_delta_free(&d);
}

Test(oai, whole_response_and_error_bodies) {
    struct oai_delta d;
    oai_delta_init(&d);
    const char *r =
        "{\"choices\":[{\"message\":{\"content\":\"hi\",\"reasoning_content\":\"r\"},\"finish_reason\":\"stop\"}]}";
    cr_assert_eq(oai_parse_response(r, strlen(r), &d), STATUS_OK);
    cr_expect_str_eq(d.content.data, "hi");
    cr_expect_str_eq(d.reasoning.data, "r");
    cr_expect_str_eq(d.finish, "stop");
    oai_delta_free(&d);
    char msg[64];
    const char *b1 = "{\"error\":{\"message\":\"Incorrect API key\"}}";
    oai_error_message(b1, strlen(b1), msg, sizeof msg);
    cr_expect_str_eq(msg, "Incorrect API key");
    oai_error_message("{\"error\":\"plain\"}", 17, msg, sizeof msg);
    cr_expect_str_eq(msg, "plain");
    oai_error_message("<html>Bad Gateway</html>\n", 25, msg, sizeof msg);
    cr_expect_str_eq(msg, "<html>Bad Gateway</html>");
    oai_error_message("", 0, msg, sizeof msg);
    cr_expect_str_eq(msg, "");
    char small[8];
    const char *b2 = "{\"message\":\"\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\"}";
    oai_error_message(b2, strlen(b2), small, sizeof small);
    cr_expect_str_eq(small, "\xe4\xbd\xa0\xe5\xa5\xbd", "cut on a character boundary");
}

Test(oai, request_body) {
    struct chat_turn turns[3] = {{CHAT_USER, "hi \"there\""}, {CHAT_ASSISTANT, "hello"}, {CHAT_USER, "2+2?\n"}};
    struct chat chat = {.system = "be brief", .turns = turns, .n_turns = 3};
    struct gen_params p;
    gen_params_default(&p);
    p.temperature = 0;
    p.top_k = 5;
    p.seed = 42;
    struct strbuf sb = {0};
    cr_assert_eq(oai_request_body(&chat, "my-model", &p, &sb), STATUS_OK);
    cJSON *o = cJSON_Parse(sb.data);
    cr_assert(o, "valid JSON: %s", sb.data);
    cr_expect_str_eq(cJSON_GetObjectItem(o, "model")->valuestring, "my-model");
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(o, "stream")));
    cJSON *msgs = cJSON_GetObjectItem(o, "messages");
    cr_expect_eq(cJSON_GetArraySize(msgs), 4);
    cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "role")->valuestring, "system");
    cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 1), "content")->valuestring, "hi \"there\"");
    cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 2), "role")->valuestring, "assistant");
    cr_expect_eq(cJSON_GetObjectItem(o, "temperature")->valuedouble, 0);
    cr_expect_eq(cJSON_GetObjectItem(o, "top_k")->valueint, 5);
    cr_expect_eq(cJSON_GetObjectItem(o, "seed")->valueint, 42);
    cr_expect_eq(cJSON_GetObjectItem(o, "max_tokens")->valueint, 1024);
    cJSON_Delete(o);
    strbuf_free(&sb);
}
