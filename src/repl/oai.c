/* oai: request bodies and response chunks of the OpenAI chat-completions API, via cJSON. */
#include "oai.h"

#include <cJSON.h>
#include <math.h>
#include <string.h>

#include "repl_text.h"

static void put_message(struct strbuf *sb, const char *role, const char *content, bool *first) {
    strbuf_puts(sb, *first ? "{\"role\": " : ", {\"role\": ");
    strbuf_put_json_string(sb, role);
    strbuf_puts(sb, ", \"content\": ");
    strbuf_put_json_string(sb, content ? content : "");
    strbuf_putc(sb, '}');
    *first = false;
}

enum status oai_request_body(const struct chat *chat, const char *model, const struct gen_params *p,
                             struct strbuf *out) {
    strbuf_puts(out, "{\"model\": ");
    strbuf_put_json_string(out, model);
    strbuf_puts(out, ", \"messages\": [");
    bool first = true;
    if (chat->system && chat->system[0]) put_message(out, "system", chat->system, &first);
    for (size_t i = 0; i < chat->n_turns; i++)
        put_message(out, chat->turns[i].role == CHAT_USER ? "user" : "assistant", chat->turns[i].content, &first);
    strbuf_printf(out, "], \"stream\": true, \"stream_options\": {\"include_usage\": true}, \"temperature\": %.9g",
                  p->temperature);
    if (p->top_p < 1) strbuf_printf(out, ", \"top_p\": %.9g", p->top_p);
    if (p->top_k > 0) strbuf_printf(out, ", \"top_k\": %d", p->top_k);
    strbuf_printf(out, ", \"max_tokens\": %d, \"seed\": %llu}", p->max_tokens, (unsigned long long)p->seed);
    return strbuf_status(out);
}

void oai_delta_init(struct oai_delta *d) {
    memset(d, 0, sizeof *d);
    d->prompt_tokens = d->completion_tokens = -1;
}

void oai_delta_free(struct oai_delta *d) {
    strbuf_free(&d->content);
    strbuf_free(&d->reasoning);
    oai_delta_init(d);
}

/* A server-supplied string, made safe for an error message. */
static void put_safe(char *out, size_t max, const char *s, size_t n) {
    struct strbuf sb = {0};
    repl_text_sanitize(s, n, &sb);
    size_t k = sb.len < max - 1 ? sb.len : max - 1;
    /* Cut on a character boundary. */
    while (k > 0 && k < sb.len && ((unsigned char)sb.data[k] & 0xC0) == 0x80) k--;
    if (k) memcpy(out, sb.data, k);
    out[k] = '\0';
    for (size_t i = 0; i < k; i++)
        if (out[i] == '\n' || out[i] == '\t') out[i] = ' ';
    strbuf_free(&sb);
}

static const char *error_text(const cJSON *root) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsString(e)) return e->valuestring;
    if (cJSON_IsObject(e)) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
        if (cJSON_IsString(m)) return m->valuestring;
        return "(no message)";
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "message");
    if (cJSON_IsString(m)) return m->valuestring;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "detail"); /* FastAPI-based servers */
    if (cJSON_IsString(d)) return d->valuestring;
    return NULL;
}

void oai_error_message(const char *body, size_t len, char *out, size_t max) {
    if (max == 0) return;
    out[0] = '\0';
    while (len && (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' ')) len--;
    if (len == 0) return;
    cJSON *root = cJSON_ParseWithLength(body, len);
    const char *msg = root ? error_text(root) : NULL;
    if (msg)
        put_safe(out, max, msg, strlen(msg));
    else
        put_safe(out, max, body, len);
    cJSON_Delete(root);
}

static void put_usage(const cJSON *root, struct oai_delta *d) {
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "usage");
    if (!cJSON_IsObject(u)) return;
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(u, "completion_tokens");
    /* A count no int64 holds (1e300, or 1e3089, which parses as inf) is no count: converting it is undefined. */
    if (cJSON_IsNumber(pt) && pt->valuedouble >= 0 && pt->valuedouble < 9e15)
        d->prompt_tokens = (int64_t)pt->valuedouble;
    if (cJSON_IsNumber(ct) && ct->valuedouble >= 0 && ct->valuedouble < 9e15)
        d->completion_tokens = (int64_t)ct->valuedouble;
}

static void put_text(struct strbuf *sb, const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsString(v) && v->valuestring) strbuf_puts(sb, v->valuestring);
}

/* Reads choices[0].<field> (delta for chunks, message for whole responses). */
static enum status read_choice(const cJSON *root, const char *field, struct oai_delta *d) {
    const char *err = error_text(root);
    if (err && cJSON_GetObjectItemCaseSensitive(root, "error")) {
        char msg[256];
        put_safe(msg, sizeof msg, err, strlen(err));
        return err_set(STATUS_IO, "the server reported an error: %s", msg);
    }
    put_usage(root, d);
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    if (!choices || cJSON_IsNull(choices)) return STATUS_OK;
    if (!cJSON_IsArray(choices)) return err_set(STATUS_FORMAT, "\"choices\" is not an array");
    const cJSON *c0 = cJSON_GetArrayItem(choices, 0);
    if (!c0) return STATUS_OK;
    if (!cJSON_IsObject(c0)) return err_set(STATUS_FORMAT, "choices[0] is not an object");
    const cJSON *delta = cJSON_GetObjectItemCaseSensitive(c0, field);
    if (cJSON_IsObject(delta)) {
        put_text(&d->reasoning, delta, "reasoning_content");
        put_text(&d->reasoning, delta, "reasoning");
        put_text(&d->content, delta, "content");
    } else if (delta && !cJSON_IsNull(delta)) {
        return err_set(STATUS_FORMAT, "choices[0].%s is not an object", field);
    }
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(c0, "finish_reason");
    if (cJSON_IsString(fr) && fr->valuestring) {
        strncpy(d->finish, fr->valuestring, sizeof d->finish - 1);
        d->finish[sizeof d->finish - 1] = '\0';
    }
    return (strbuf_status(&d->content) || strbuf_status(&d->reasoning)) ? STATUS_NOMEM : STATUS_OK;
}

static enum status parse_with(const char *json, size_t len, const char *field, struct oai_delta *d) {
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        char shown[96];
        put_safe(shown, sizeof shown, json, len < 80 ? len : 80);
        return err_set(STATUS_FORMAT, "malformed JSON: %s%s", shown, len > 80 ? "..." : "");
    }
    enum status st = read_choice(root, field, d);
    cJSON_Delete(root);
    return st;
}

enum status oai_parse_chunk(const char *json, size_t len, struct oai_delta *d) {
    return parse_with(json, len, "delta", d);
}

enum status oai_parse_response(const char *json, size_t len, struct oai_delta *d) {
    return parse_with(json, len, "message", d);
}
