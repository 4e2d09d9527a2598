/* endpoint_remote: an OpenAI-compatible server (llama.cpp, vLLM, a hosted API) over libcurl.
 *
 * One POST to {base}/chat/completions with stream: true per reply. The body is parsed as it arrives: an SSE
 * parser (sse.h) cuts events, oai.h reads each chunk, and content / reasoning pieces go to the caller at
 * once. A server that answers with a whole JSON response instead of a stream is understood too.
 *
 * Guards: a connect timeout; a stall timeout (no byte for N seconds ends the request); a cap on the bytes
 * of one response; redirects are followed only to the same scheme, host and port (at most 3), so a server
 * cannot bounce the API key elsewhere; only http and https. Every error names the URL (without any
 * user:password part) and, for HTTP errors, the status and the server's message, with a hint. The API key
 * comes from $OPENAI_API_KEY at request time, goes only into the Authorization header, and is wiped from our
 * buffers after the request; it is never printed or logged. */
#include "endpoint.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/util/log.h"
#include "oai.h"
#include "sse.h"

#define REMOTE_MAX_REDIRECTS 3
#define REMOTE_ERROR_BODY_MAX (64u << 10)

struct remote_ep {
    struct endpoint base;
    char url[2048];   /* the chat/completions URL */
    char shown[2048]; /* the same without user:password, for messages */
    char host[256];
    char model[256];
    CURL *curl;
    double connect_timeout_s, stall_timeout_s;
    size_t max_response;
    bool warned_plain_http;
};

/* State of one request (one hop of a redirect chain). */
struct remote_call {
    struct remote_ep *e;
    const char *url;
    endpoint_piece_fn on_piece;
    endpoint_abort_fn should_abort;
    void *user;
    struct gen_result *out;
    struct sse_parser sse;
    struct oai_delta delta;
    struct strbuf body; /* error bodies and non-streamed responses */
    long code;
    bool checked, is_sse, done;
    bool aborted, stalled, too_large, consumer_stop;
    enum status cb_status;
    size_t received;
    int64_t pieces;
    double t0, t_last, t_first;
    long retry_after;
    char finish[24];
    char ctype[64]; /* the response's Content-Type */
    int64_t prompt_tokens, completion_tokens;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool emit(struct remote_call *c, enum piece_kind kind, const char *s, size_t n) {
    if (n == 0) return true;
    if (c->t_first == 0) c->t_first = now_s();
    c->pieces++;
    strbuf_append(kind == PIECE_TEXT ? &c->out->text : &c->out->reasoning, s, n);
    if (c->on_piece && !c->on_piece(c->user, kind, s, n)) c->consumer_stop = true;
    return !c->consumer_stop;
}

static void take_delta(struct remote_call *c) {
    struct oai_delta *d = &c->delta;
    if (d->reasoning.len) emit(c, PIECE_REASONING, d->reasoning.data, d->reasoning.len);
    if (d->content.len) emit(c, PIECE_TEXT, d->content.data, d->content.len);
    if (d->finish[0]) memcpy(c->finish, d->finish, sizeof c->finish);
    if (d->prompt_tokens >= 0) c->prompt_tokens = d->prompt_tokens;
    if (d->completion_tokens >= 0) c->completion_tokens = d->completion_tokens;
    strbuf_clear(&d->content);
    strbuf_clear(&d->reasoning);
    d->finish[0] = '\0';
    d->prompt_tokens = d->completion_tokens = -1;
}

static enum status on_event(void *user, const char *type, const char *data, size_t len) {
    struct remote_call *c = user;
    if (c->done) return STATUS_OK; /* anything after [DONE] is ignored */
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        c->done = true;
        return STATUS_OK;
    }
    if (strcmp(type, "error") == 0) { /* some servers send "event: error" */
        char msg[256];
        oai_error_message(data, len, msg, sizeof msg);
        return err_set(STATUS_IO, "the server reported an error: %s", msg);
    }
    TRY(oai_parse_chunk(data, len, &c->delta));
    take_delta(c);
    return STATUS_OK;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *user) {
    struct remote_call *c = user;
    size_t n = size * nmemb;
    c->t_last = now_s();
    c->received += n;
    if (c->received > c->e->max_response) {
        c->too_large = true;
        return 0;
    }
    if (c->should_abort && c->should_abort(c->user)) {
        c->aborted = true;
        return 0;
    }
    if (!c->checked) {
        c->checked = true;
        curl_easy_getinfo(c->e->curl, CURLINFO_RESPONSE_CODE, &c->code);
        char *ct = NULL;
        curl_easy_getinfo(c->e->curl, CURLINFO_CONTENT_TYPE, &ct);
        snprintf(c->ctype, sizeof c->ctype, "%s", ct ? ct : "");
        c->is_sse = c->code == 200 && (!ct || strstr(ct, "event-stream") || !strstr(ct, "json"));
    }
    if (!c->is_sse) {
        if (c->code != 200 && c->body.len >= REMOTE_ERROR_BODY_MAX) return n; /* enough for a message */
        strbuf_append(&c->body, ptr, n);
        return c->body.oom ? 0 : n;
    }
    enum status st = sse_feed(&c->sse, ptr, n);
    if (st != STATUS_OK) {
        c->cb_status = st;
        return 0;
    }
    return c->consumer_stop ? 0 : n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *user) {
    struct remote_call *c = user;
    size_t n = size * nitems;
    if (n > 12 && strncasecmp(buf, "retry-after:", 12) == 0) c->retry_after = strtol(buf + 12, NULL, 10);
    return n;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    struct remote_call *c = user;
    if (c->should_abort && c->should_abort(c->user)) {
        c->aborted = true;
        return 1;
    }
    if (now_s() - c->t_last > c->e->stall_timeout_s) {
        c->stalled = true;
        return 1;
    }
    return 0;
}

/* The URL without user:password, for messages. */
static void shown_url(const char *url, char *out, size_t cap) {
    snprintf(out, cap, "%s", url);
    CURLU *h = curl_url();
    char *s = NULL;
    if (h && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_set(h, CURLUPART_USER, NULL, 0);
        curl_url_set(h, CURLUPART_PASSWORD, NULL, 0);
        if (curl_url_get(h, CURLUPART_URL, &s, 0) == CURLUE_OK) snprintf(out, cap, "%s", s);
    }
    curl_free(s);
    curl_url_cleanup(h);
}

/* Scheme, host and port of url (port defaulted), "" parts when it does not parse. */
static void origin_of(CURLU *h, char *out, size_t cap) {
    char *scheme = NULL, *host = NULL, *port = NULL;
    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(h, CURLUPART_HOST, &host, 0);
    curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    snprintf(out, cap, "%s://%s:%s", scheme ? scheme : "", host ? host : "", port ? port : "");
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
}

/* Resolves a redirect target against url; true when it has the same origin (then *next is malloc'd). */
static bool same_origin_redirect(const char *url, const char *location, char **next) {
    *next = NULL;
    CURLU *h = curl_url();
    if (!h) return false;
    char a[1024], b[1024];
    bool ok = curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK;
    if (ok) origin_of(h, a, sizeof a);
    ok = ok && curl_url_set(h, CURLUPART_URL, location, 0) == CURLUE_OK; /* relative to url */
    if (ok) origin_of(h, b, sizeof b);
    ok = ok && strcmp(a, b) == 0;
    char *s = NULL;
    if (ok && curl_url_get(h, CURLUPART_URL, &s, 0) == CURLUE_OK) *next = strdup(s);
    curl_free(s);
    curl_url_cleanup(h);
    return ok && *next;
}

static enum status http_error(struct remote_call *c, const char *shown) {
    char msg[320];
    oai_error_message(c->body.data ? c->body.data : "", c->body.len, msg, sizeof msg);
    const char *sep = msg[0] ? ": " : "";
    long code = c->code;
    enum status st;
    if (code == 401 || code == 403) {
        st = err_set(STATUS_IO, "%s: HTTP %ld %s%s%s", shown, code, code == 401 ? "Unauthorized" : "Forbidden", sep,
                     msg);
        const char *key = getenv("OPENAI_API_KEY");
        err_hint(key && *key ? "the server refused OPENAI_API_KEY; check that it is valid for this server"
                             : "set OPENAI_API_KEY to an API key for this server");
    } else if (code == 429) {
        st = err_set(STATUS_IO, "%s: HTTP 429 Too Many Requests (rate limited)%s%s", shown, sep, msg);
        if (c->retry_after > 0)
            err_hint("wait %ld s (the server's Retry-After) and try again", c->retry_after);
        else
            err_hint("wait a little and try again, or lower the request rate");
    } else if (code >= 500) {
        st = err_set(STATUS_IO, "%s: HTTP %ld server error%s%s", shown, code, sep, msg);
        err_hint("the server failed; try again later or look at the server's log");
    } else if (code == 404) {
        st = err_set(STATUS_IO, "%s: HTTP 404 Not Found%s%s", shown, sep, msg);
        err_hint("check the URL (the API base usually ends in /v1) and the model name");
    } else if (code >= 300 && code < 400) {
        char *loc = NULL;
        curl_easy_getinfo(c->e->curl, CURLINFO_REDIRECT_URL, &loc);
        char where[512];
        shown_url(loc ? loc : "(no Location)", where, sizeof where);
        st = err_set(STATUS_IO, "%s: HTTP %ld redirect to %s refused", shown, code, where);
        err_hint("r1lab follows redirects only within the same scheme, host and port; use the final URL");
    } else {
        st = err_set(STATUS_IO, "%s: HTTP %ld%s%s", shown, code, sep, msg);
        err_hint("the server rejected the request; see its message");
    }
    return st;
}

static enum status curl_failure(struct remote_call *c, CURLcode rc, const char *errbuf, const char *shown) {
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    enum status st;
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        st = err_set(STATUS_IO, "%s: cannot resolve the host (%s)", shown, detail);
        err_hint("check the host name in the URL");
        break;
    case CURLE_COULDNT_CONNECT:
        st = err_set(STATUS_IO, "%s: cannot connect (%s)", shown, detail);
        err_hint("is the server running and listening on that port?");
        break;
    case CURLE_OPERATION_TIMEDOUT:
        st = err_set(STATUS_IO, "%s: connecting timed out after %g s", shown, c->e->connect_timeout_s);
        err_hint("check that the host is reachable, or raise --connect-timeout");
        break;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
        st = err_set(STATUS_IO, "%s: the connection dropped after %zu bytes (%s)", shown, c->received, detail);
        err_hint("the server closed the stream early; look at the server's log, then /regen");
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        st = err_set(STATUS_INVALID, "%s: only http and https are supported (%s)", shown, detail);
        break;
    default:
        st = err_set(STATUS_IO, "%s: %s", shown, detail);
        if (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION)
            err_hint("TLS failed; check the server's certificate and the system's CA store");
        break;
    }
    return st;
}

/* One request to url. Returns STATUS_OK with *redirect set (malloc'd) when the server redirected within its
 * origin. */
static enum status request_once(struct remote_call *c, const char *body, size_t body_len, char **redirect) {
    struct remote_ep *e = c->e;
    CURL *h = e->curl;
    char shown[2048];
    shown_url(c->url, shown, sizeof shown);
    *redirect = NULL;

    char auth[1024] = "";
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Accept: text/event-stream");
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    const char *key = getenv("OPENAI_API_KEY");
    if (key && *key) {
        if (strncmp(c->url, "http://", 7) == 0 && !e->warned_plain_http && strcmp(e->host, "127.0.0.1") != 0 &&
            strcmp(e->host, "localhost") != 0 && strcmp(e->host, "[::1]") != 0) {
            log_warn("sending OPENAI_API_KEY to %s over unencrypted http", e->host);
            e->warned_plain_http = true;
        }
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        headers = curl_slist_append(headers, auth);
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "r1lab/" R1LAB_VERSION);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(e->connect_timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    c->t_last = now_s();
    CURLcode rc = curl_easy_perform(h);
    /* Forget the key: our buffer, curl's copy in the header list, and the handle's reference to the list. */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    for (struct curl_slist *s = headers; s; s = s->next) explicit_bzero(s->data, strlen(s->data));
    explicit_bzero(auth, sizeof auth);
    curl_slist_free_all(headers);
    if (!c->checked) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->code);

    if (c->aborted || c->consumer_stop) return err_set(STATUS_ABORTED, "generation interrupted");
    if (c->too_large) {
        enum status st = err_set(STATUS_IO, "%s: the response exceeds %zu bytes", shown, e->max_response);
        err_hint("raise --max-response, or lower max_tokens (/set max_tokens N)");
        return st;
    }
    if (c->stalled) {
        enum status st = err_set(STATUS_IO, "%s: no data for %g s (the server stalled after %zu bytes)", shown,
                                 e->stall_timeout_s, c->received);
        err_hint("the server may be overloaded; raise --timeout, or try again");
        return st;
    }
    if (c->cb_status != STATUS_OK) {
        err_prefix("%s: ", shown);
        if (!err_hint_text()[0]) err_hint("is this an OpenAI-compatible /v1/chat/completions endpoint?");
        return c->cb_status;
    }
    if (c->code >= 300 && c->code < 400 && rc == CURLE_OK) {
        char *loc = NULL;
        curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
        if (loc && same_origin_redirect(c->url, loc, redirect)) return STATUS_OK;
        return http_error(c, shown);
    }
    if (c->code != 0 && c->code != 200 && (rc == CURLE_OK || c->body.len)) return http_error(c, shown);
    if (rc != CURLE_OK) return curl_failure(c, rc, errbuf, shown);
    if (c->code != 200) return http_error(c, shown);
    if (!c->is_sse) { /* a whole JSON response */
        enum status st = oai_parse_response(c->body.data ? c->body.data : "", c->body.len, &c->delta);
        if (st != STATUS_OK) {
            err_prefix("%s: ", shown);
            err_hint("is this an OpenAI-compatible /v1/chat/completions endpoint?");
            return st;
        }
        take_delta(c);
        c->done = true;
    }
    if (!c->done && c->sse.events == 0 && !strstr(c->ctype, "event-stream")) {
        char ct[80];
        oai_error_message(c->ctype, strlen(c->ctype), ct, sizeof ct);
        enum status st = err_set(STATUS_FORMAT, "%s: the response is not an event stream (Content-Type: %s)", shown,
                                 ct[0] ? ct : "none");
        err_hint("is this an OpenAI-compatible /v1/chat/completions endpoint?");
        return st;
    }
    if (!c->done && (c->finish[0] == '\0' || sse_pending(&c->sse))) {
        enum status st =
            err_set(STATUS_IO, "%s: the stream ended before [DONE] (cut off after %zu bytes)", shown, c->received);
        err_hint("the server closed the connection early; look at the server's log, then /regen");
        return st;
    }
    return STATUS_OK;
}

static enum status remote_generate(struct endpoint *ep, const struct chat *chat, const struct gen_params *p,
                                   endpoint_piece_fn on_piece, endpoint_abort_fn should_abort, void *user,
                                   struct gen_result *out) {
    struct remote_ep *e = (struct remote_ep *)ep;
    gen_result_clear(out);
    struct strbuf body = {0};
    TRY(oai_request_body(chat, e->model, p, &body));
    double t0 = now_s();
    char *url = strdup(e->url);
    enum status st = url ? STATUS_OK : err_set(STATUS_NOMEM, "out of memory");
    struct remote_call c = {.prompt_tokens = -1, .completion_tokens = -1};
    for (int hop = 0; st == STATUS_OK; hop++) {
        c = (struct remote_call){.e = e,
                                 .url = url,
                                 .on_piece = on_piece,
                                 .should_abort = should_abort,
                                 .user = user,
                                 .out = out,
                                 .t0 = t0,
                                 .prompt_tokens = -1,
                                 .completion_tokens = -1};
        sse_init(&c.sse, e->max_response, on_event, &c);
        oai_delta_init(&c.delta);
        char *next = NULL;
        st = request_once(&c, body.data, body.len, &next);
        sse_free(&c.sse);
        oai_delta_free(&c.delta);
        strbuf_free(&c.body);
        if (st != STATUS_OK || !next) break;
        free(url);
        url = next;
        if (hop + 1 >= REMOTE_MAX_REDIRECTS) {
            st = err_set(STATUS_IO, "%s: more than %d redirects", e->shown, REMOTE_MAX_REDIRECTS);
            break;
        }
        gen_result_clear(out);
    }
    free(url);
    strbuf_free(&body);
    double t_end = now_s();
    out->ttft_s = c.t_first > 0 ? c.t_first - t0 : t_end - t0;
    out->total_s = t_end - t0;
    out->prompt_tokens = c.prompt_tokens;
    out->new_tokens_exact = c.completion_tokens >= 0;
    out->new_tokens = c.completion_tokens >= 0 ? c.completion_tokens : c.pieces;
    if (st == STATUS_ABORTED)
        out->finish = FINISH_ABORTED;
    else if (strcmp(c.finish, "length") == 0)
        out->finish = FINISH_LENGTH;
    else
        out->finish = FINISH_STOP;
    return st;
}

static void remote_describe(const struct endpoint *ep, struct strbuf *out) {
    const struct remote_ep *e = (const struct remote_ep *)ep;
    strbuf_printf(out, "server: %s\n", e->shown);
    strbuf_printf(out, "model: %s\n", e->model);
    const char *key = getenv("OPENAI_API_KEY");
    strbuf_printf(out, "api key: %s\n", key && *key ? "from OPENAI_API_KEY" : "none (OPENAI_API_KEY is not set)");
    strbuf_printf(out, "template: the server's\n");
    strbuf_printf(out, "timeouts: connect %g s, stall %g s; response at most %zu bytes\n", e->connect_timeout_s,
                  e->stall_timeout_s, e->max_response);
}

static enum status remote_set_template(struct endpoint *ep, enum template_kind kind) {
    (void)kind;
    return err_set(STATUS_UNSUPPORTED, "%s is a remote model: its server applies the chat template", ep->name);
}

static void remote_close(struct endpoint *ep) {
    struct remote_ep *e = (struct remote_ep *)ep;
    if (e->curl) curl_easy_cleanup(e->curl);
    free(e);
}

static const struct endpoint_ops REMOTE_OPS = {
    .generate = remote_generate,
    .describe = remote_describe,
    .set_template = remote_set_template,
    .close = remote_close,
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) {
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* base (an API base like http://host:8080/v1, a bare host, or a full .../chat/completions URL) to the
 * chat/completions URL; host gets the host[:port] for the display name. */
static enum status build_url(const char *base, char *url, size_t cap, char *host, size_t host_cap) {
    CURLU *h = curl_url();
    if (!h) return err_set(STATUS_NOMEM, "out of memory");
    enum status st = STATUS_OK;
    char *path = NULL, *hostpart = NULL, *port = NULL, *full = NULL;
    CURLUcode uc = curl_url_set(h, CURLUPART_URL, base, 0);
    if (uc != CURLUE_OK) {
        st = err_set(STATUS_INVALID, "\"%s\" is not a valid URL (%s)", base, curl_url_strerror(uc));
        err_hint("write it like http://127.0.0.1:8080/v1");
        goto done;
    }
    curl_url_get(h, CURLUPART_PATH, &path, 0);
    curl_url_get(h, CURLUPART_HOST, &hostpart, 0);
    curl_url_get(h, CURLUPART_PORT, &port, 0);
    snprintf(host, host_cap, "%s%s%s", hostpart ? hostpart : "", port ? ":" : "", port ? port : "");
    {
        char p[1024];
        size_t n = snprintf(p, sizeof p, "%s", path ? path : "/");
        while (n > 0 && p[n - 1] == '/') p[--n] = '\0';
        const char *suffix = "/chat/completions";
        char np[1200];
        if (n >= strlen(suffix) && strcmp(p + n - strlen(suffix), suffix) == 0)
            snprintf(np, sizeof np, "%s", p);
        else if (n == 0)
            snprintf(np, sizeof np, "/v1%s", suffix);
        else
            snprintf(np, sizeof np, "%s%s", p, suffix);
        curl_url_set(h, CURLUPART_PATH, np, 0);
    }
    if (curl_url_get(h, CURLUPART_URL, &full, 0) != CURLUE_OK || strlen(full) >= cap) {
        st = err_set(STATUS_INVALID, "\"%s\": cannot build the request URL", base);
        goto done;
    }
    strcpy(url, full);
done:
    curl_free(path);
    curl_free(hostpart);
    curl_free(port);
    curl_free(full);
    curl_url_cleanup(h);
    return st;
}

enum status endpoint_remote_open(const char *base_url, const char *model, const char *spec,
                                 const struct endpoint_config *cfg, struct endpoint **out) {
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) return err_set(STATUS_IO, "libcurl failed to initialise");
    if (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0) {
        enum status st = err_set(STATUS_INVALID, "\"%s\": only http:// and https:// URLs are supported", base_url);
        return st;
    }
    struct remote_ep *e = calloc(1, sizeof *e);
    if (!e) return err_set(STATUS_NOMEM, "out of memory");
    enum status st = build_url(base_url, e->url, sizeof e->url, e->host, sizeof e->host);
    if (st == STATUS_OK && strlen(model) >= sizeof e->model) st = err_set(STATUS_INVALID, "the model name is too long");
    if (st == STATUS_OK && !(e->curl = curl_easy_init())) st = err_set(STATUS_IO, "libcurl: cannot create a handle");
    if (st != STATUS_OK) {
        free(e);
        return st;
    }
    strcpy(e->model, model);
    shown_url(e->url, e->shown, sizeof e->shown);
    e->connect_timeout_s = cfg->connect_timeout_s > 0 ? cfg->connect_timeout_s : 10;
    e->stall_timeout_s = cfg->stall_timeout_s > 0 ? cfg->stall_timeout_s : 60;
    e->max_response = cfg->max_response ? cfg->max_response : 16u << 20;
    e->base.ops = &REMOTE_OPS;
    e->base.remote = true;
    e->base.tmpl = TEMPLATE_RAW;
    snprintf(e->base.spec, sizeof e->base.spec, "%s", spec);
    snprintf(e->base.name, sizeof e->base.name, "%.63s@%.63s", model, e->host);
    *out = &e->base;
    return STATUS_OK;
}
