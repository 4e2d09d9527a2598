/* fake_openai: the test server. One process, one connection at a time, everything written with plain
 * write(2) so byte boundaries are under the test's control. */
#include "fake_openai.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static bool send_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0) return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

static bool send_str(int fd, const char *s) {
    return send_all(fd, s, strlen(s));
}

/* A chunk of a chunked body. */
static bool send_chunk(int fd, const char *s) {
    char head[32];
    snprintf(head, sizeof head, "%zx\r\n", strlen(s));
    return send_str(fd, head) && send_str(fd, s) && send_str(fd, "\r\n");
}

/* "data: {chunk with delta field=value}\n\n" */
static char *delta_event(const char *field, const char *value, const char *finish) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", "chatcmpl-fake");
    cJSON_AddStringToObject(o, "object", "chat.completion.chunk");
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "index", 0);
    cJSON *d = cJSON_AddObjectToObject(c, "delta");
    if (field) cJSON_AddStringToObject(d, field, value);
    if (finish)
        cJSON_AddStringToObject(c, "finish_reason", finish);
    else
        cJSON_AddNullToObject(c, "finish_reason");
    cJSON_AddItemToArray(choices, c);
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    size_t n = strlen(json) + 16;
    char *ev = malloc(n);
    snprintf(ev, n, "data: %s\n\n", json);
    free(json);
    return ev;
}

static const char USAGE_EVENT[] = "data: {\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
                                  "\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":5,\"total_tokens\":12}}\n\n";

struct request {
    char head[8192];
    char *body;
    size_t body_len;
};

static bool read_request(int fd, struct request *rq) {
    size_t n = 0;
    char *end = NULL;
    while (!end) {
        if (n + 1 >= sizeof rq->head) return false;
        ssize_t r = recv(fd, rq->head + n, sizeof rq->head - 1 - n, 0);
        if (r <= 0) return false;
        n += (size_t)r;
        rq->head[n] = '\0';
        end = strstr(rq->head, "\r\n\r\n");
    }
    size_t head_len = (size_t)(end - rq->head) + 4;
    size_t clen = 0;
    const char *cl = strcasestr(rq->head, "\r\ncontent-length:");
    if (cl) clen = strtoul(cl + 17, NULL, 10);
    if (strcasestr(rq->head, "\r\nexpect: 100-continue")) send_str(fd, "HTTP/1.1 100 Continue\r\n\r\n");
    rq->body = malloc(clen + 1);
    size_t have = n - head_len;
    if (have > clen) have = clen;
    memcpy(rq->body, rq->head + head_len, have);
    while (have < clen) {
        ssize_t r = recv(fd, rq->body + have, clen - have, 0);
        if (r <= 0) break;
        have += (size_t)r;
    }
    rq->body[have] = '\0';
    rq->body_len = have;
    rq->head[head_len] = '\0';
    return true;
}

static void log_request(const char *path, const struct request *rq) {
    if (!path) return;
    FILE *f = fopen(path, "a");
    if (!f) return;
    fprintf(f, "%s%s\n----\n", rq->head, rq->body);
    fclose(f);
}

/* The last user message of the request, for the echo. */
static char *last_user(const struct request *rq) {
    cJSON *o = cJSON_Parse(rq->body);
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(o, "messages"), *m;
    const char *last = "";
    cJSON_ArrayForEach(m, msgs) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (cJSON_IsString(role) && strcmp(role->valuestring, "user") == 0 && cJSON_IsString(content))
            last = content->valuestring;
    }
    char *s = strdup(last);
    cJSON_Delete(o);
    return s;
}

static const char SSE_HEAD_CHUNKED[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
static const char SSE_HEAD_CLOSE[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";

static void send_events_chunked(int fd, const char *const *fields, const char *const *values, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char *ev = delta_event(fields[i], values[i], NULL);
        send_chunk(fd, ev);
        free(ev);
    }
    char *fin = delta_event(NULL, NULL, "stop");
    send_chunk(fd, fin);
    free(fin);
    send_chunk(fd, USAGE_EVENT);
    send_chunk(fd, "data: [DONE]\n\n");
    send_str(fd, "0\r\n\r\n");
}

static void json_response(int fd, const char *status, const char *extra_headers, const char *body) {
    char head[512];
    snprintf(head, sizeof head,
             "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s"
             "Connection: close\r\n\r\n",
             status, strlen(body), extra_headers);
    send_str(fd, head);
    send_str(fd, body);
}

/* FAKE_SCRIPTED: the reply the prompt scripts for the request's model and seed (malloc'd). */
static char *scripted_reply(const struct request *rq, const char *prompt) {
    cJSON *o = cJSON_Parse(rq->body);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(o, "model");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(o, "seed");
    char name[128];
    snprintf(name, sizeof name, "%s", cJSON_IsString(model) ? model->valuestring : "");
    unsigned long long sv = cJSON_IsNumber(seed) ? (unsigned long long)seed->valuedouble : 0;
    cJSON_Delete(o);
    size_t nl = strlen(name);
    for (const char *sec = prompt; sec && *sec;) {
        while (*sec == ' ') sec++;
        const char *end = strstr(sec, " ;; ");
        size_t len = end ? (size_t)(end - sec) : strlen(sec);
        if (len > nl && strncmp(sec, name, nl) == 0 && sec[nl] == '=') {
            const char *alts = sec + nl + 1, *alts_end = sec + len;
            size_t count = 1;
            for (const char *q = alts; (q = strstr(q, " || ")) && q < alts_end; q += 4) count++;
            size_t want = (size_t)(sv % count);
            const char *a = alts;
            for (size_t i = 0; i < want; i++) a = strstr(a, " || ") + 4;
            const char *b = strstr(a, " || ");
            if (!b || b > alts_end) b = alts_end;
            return strndup(a, (size_t)(b - a));
        }
        sec = end ? end + 4 : NULL;
    }
    char *s = malloc(nl + 32);
    sprintf(s, "(no script for %s)", name);
    return s;
}

static void serve(int fd, enum fake_mode mode, int port, int request_no, const struct request *rq) {
    char *user = last_user(rq);
    char echo[4096];
    snprintf(echo, sizeof echo, "%s", user);
    free(user);
    switch (mode) {
    case FAKE_NORMAL: {
        const char *f[] = {"content", "content", "content", "content", "content"};
        const char *v[] = {"Hello", " from", " fake", ": ", echo};
        send_str(fd, SSE_HEAD_CHUNKED);
        send_events_chunked(fd, f, v, 5);
        break;
    }
    case FAKE_REASONING:
    case FAKE_REASONING_ALT: {
        const char *rf = mode == FAKE_REASONING ? "reasoning_content" : "reasoning";
        const char *f[] = {"role", rf, rf, rf, "content", "content"};
        const char *v[] = {"assistant",  "Let me",     " think. Wait,",
                           " check it.", "The answer", " is <answer>4</answer>"};
        send_str(fd, SSE_HEAD_CHUNKED);
        send_events_chunked(fd, f, v, 6);
        break;
    }
    case FAKE_INLINE_THINK: {
        const char *f[] = {"content", "content", "content", "content", "content"};
        const char *v[] = {"<thi", "nk>reason", "ing here</th", "ink>\n\nFinal: ", "<answer>4</answer>"};
        send_str(fd, SSE_HEAD_CHUNKED);
        send_events_chunked(fd, f, v, 5);
        break;
    }
    case FAKE_SCRIPTED: {
        char *reply = scripted_reply(rq, echo);
        const char *f[] = {"content"};
        const char *v[] = {reply};
        send_str(fd, SSE_HEAD_CHUNKED);
        send_events_chunked(fd, f, v, 1);
        free(reply);
        break;
    }
    case FAKE_ESCAPES: {
        const char *f[] = {"content", "content"};
        const char *v[] = {"red\x1b[31mALERT\x1b[0m", " title\x1b]0;pwned\x07 bell\x07 done"};
        send_str(fd, SSE_HEAD_CHUNKED);
        send_events_chunked(fd, f, v, 2);
        break;
    }
    case FAKE_SPLIT_UTF8: {
        /* Three-byte and four-byte characters; written byte by byte so chunks cut through them. */
        char *ev = delta_event("content", "caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80!", NULL);
        send_str(fd, SSE_HEAD_CLOSE);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        for (const char *p = ev; *p; p++) {
            send_all(fd, p, 1);
            sleep_ms(1);
        }
        free(ev);
        send_str(fd, "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
        break;
    }
    case FAKE_BYTEWISE: {
        struct {
            char *buf;
            size_t n;
        } all = {NULL, 0};
        FILE *m = open_memstream(&all.buf, &all.n);
        fputs(": keep-alive comment\r\n\r\n", m);
        const char *v[] = {"Hello", " from", " fake", ": ", echo};
        for (int i = 0; i < 5; i++) {
            char *ev = delta_event("content", v[i], NULL);
            ev[strlen(ev) - 2] = '\0'; /* turn the "\n\n" into "\r\n\r\n" */
            fprintf(m, "%s\r\n\r\n", ev);
            free(ev);
        }
        fputs("data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\r\n\r\ndata: [DONE]\r\n\r\n", m);
        fclose(m);
        send_str(fd, SSE_HEAD_CLOSE);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        for (size_t i = 0; i < all.n; i++) {
            send_all(fd, all.buf + i, 1);
            if (i % 7 == 0) sleep_ms(1);
        }
        free(all.buf);
        break;
    }
    case FAKE_SLOW: {
        send_str(fd, SSE_HEAD_CHUNKED);
        char *ev = delta_event("content", "first words", NULL);
        send_chunk(fd, ev);
        free(ev);
        sleep_ms(30000);
        break;
    }
    case FAKE_TRICKLE: {
        send_str(fd, SSE_HEAD_CHUNKED);
        for (int i = 0; i < 400; i++) {
            char word[32];
            snprintf(word, sizeof word, "tick %d ", i);
            char *ev = delta_event("content", word, NULL);
            bool ok = send_chunk(fd, ev);
            free(ev);
            if (!ok) return;
            sleep_ms(50);
        }
        char *fin = delta_event(NULL, NULL, "stop");
        send_chunk(fd, fin);
        free(fin);
        send_chunk(fd, "data: [DONE]\n\n");
        send_str(fd, "0\r\n\r\n");
        break;
    }
    case FAKE_DROP: {
        send_str(fd, SSE_HEAD_CHUNKED);
        char *ev = delta_event("content", "partial ", NULL);
        send_chunk(fd, ev);
        send_chunk(fd, ev);
        free(ev);
        send_str(fd, "40\r\ndata: {\"choices\"");
        break; /* the connection closes inside a chunk */
    }
    case FAKE_NO_DONE: {
        send_str(fd, SSE_HEAD_CLOSE);
        char *ev = delta_event("content", "half a reply", NULL);
        send_str(fd, ev);
        free(ev);
        send_str(fd, "data: {\"choices\":[{\"delta\":{\"content\":\" and\"}}]}\n");
        break;
    }
    case FAKE_401:
        json_response(fd, "401 Unauthorized", "",
                      "{\"error\":{\"message\":\"Incorrect API key provided\",\"type\":\"invalid_request_error\"}}");
        break;
    case FAKE_429:
        json_response(fd, "429 Too Many Requests", "Retry-After: 7\r\n",
                      "{\"error\":{\"message\":\"Rate limit reached for requests\",\"type\":\"requests\"}}");
        break;
    case FAKE_500:
        json_response(fd, "500 Internal Server Error", "", "{\"error\":{\"message\":\"internal boom\"}}");
        break;
    case FAKE_MALFORMED: {
        send_str(fd, SSE_HEAD_CHUNKED);
        char *ev = delta_event("content", "fine so far", NULL);
        send_chunk(fd, ev);
        free(ev);
        send_chunk(fd, "data: {not json at all\n\n");
        send_chunk(fd, "data: [DONE]\n\n");
        send_str(fd, "0\r\n\r\n");
        break;
    }
    case FAKE_MIDSTREAM_ERROR: {
        send_str(fd, SSE_HEAD_CHUNKED);
        char *ev = delta_event("content", "starting", NULL);
        send_chunk(fd, ev);
        free(ev);
        send_chunk(fd, "data: {\"error\":{\"message\":\"model overloaded\",\"code\":503}}\n\n");
        send_str(fd, "0\r\n\r\n");
        break;
    }
    case FAKE_HUGE: {
        send_str(fd, SSE_HEAD_CHUNKED);
        char big[2048];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        char *ev = delta_event("content", big, NULL);
        for (int i = 0; i < 100000; i++)
            if (!send_chunk(fd, ev)) break;
        free(ev);
        break;
    }
    case FAKE_JSON:
        json_response(fd, "200 OK", "",
                      "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                      "\"assistant\",\"content\":\"whole reply\",\"reasoning_content\":\"thought first\"},"
                      "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}");
        break;
    case FAKE_HTML:
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 26\r\nConnection: close\r\n\r\n"
                     "<html>please log in</html>");
        break;
    case FAKE_REDIRECT_SAME:
    case FAKE_REDIRECT_OTHER:
        if (request_no == 0) {
            char head[512];
            if (mode == FAKE_REDIRECT_SAME)
                snprintf(head, sizeof head,
                         "HTTP/1.1 307 Temporary Redirect\r\nLocation: /v2/chat/completions\r\n"
                         "Content-Length: 0\r\nConnection: close\r\n\r\n");
            else
                snprintf(head, sizeof head,
                         "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.2:%d/v1/"
                         "chat/completions\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                         port);
            send_str(fd, head);
        } else {
            serve(fd, FAKE_NORMAL, port, request_no, rq);
        }
        break;
    }
}

static void server_main(int lfd, enum fake_mode mode, int max_requests, const char *log_path, int port) {
    alarm(60); /* never outlive a test by much */
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < max_requests; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) {
                i--;
                continue;
            }
            break;
        }
        struct request rq = {0};
        if (read_request(fd, &rq)) {
            log_request(log_path, &rq);
            serve(fd, mode, port, i, &rq);
        }
        free(rq.body);
        shutdown(fd, SHUT_WR);
        close(fd);
    }
    _exit(0);
}

bool fake_start(struct fake_server *s, enum fake_mode mode, int max_requests, const char *log_path) {
    memset(s, 0, sizeof *s);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 8) || getsockname(lfd, (struct sockaddr *)&a, &len)) {
        close(lfd);
        return false;
    }
    s->port = ntohs(a.sin_port);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/v1", s->port);
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0) {
        close(lfd);
        return false;
    }
    if (s->pid == 0) server_main(lfd, mode, max_requests, log_path, s->port);
    close(lfd);
    return true;
}

void fake_stop(struct fake_server *s) {
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}
