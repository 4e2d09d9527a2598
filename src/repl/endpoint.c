/* endpoint: what both implementations share — spec parsing, defaults, results. */
#include "endpoint.h"

#include <stdlib.h>
#include <string.h>

void gen_params_default(struct gen_params *p) {
    *p = (struct gen_params){.temperature = 0.6, .top_p = 0.95, .top_k = 0, .max_tokens = 1024, .seed = 0};
}

void gen_result_init(struct gen_result *r) {
    memset(r, 0, sizeof *r);
    r->prompt_tokens = -1;
}

void gen_result_clear(struct gen_result *r) {
    strbuf_clear(&r->text);
    strbuf_clear(&r->reasoning);
    struct strbuf t = r->text, rs = r->reasoning;
    gen_result_init(r);
    r->text = t;
    r->reasoning = rs;
}

void gen_result_free(struct gen_result *r) {
    strbuf_free(&r->text);
    strbuf_free(&r->reasoning);
    gen_result_init(r);
}

char *gen_result_full_text(const struct gen_result *r) {
    struct strbuf sb = {0};
    if (r->reasoning.len) {
        strbuf_puts(&sb, "<think>");
        strbuf_append(&sb, r->reasoning.data, r->reasoning.len);
        strbuf_puts(&sb, "</think>");
        if (r->text.len && r->text.data[0] != '\n' && r->text.data[0] != ' ') strbuf_putc(&sb, '\n');
    }
    if (r->text.len) strbuf_append(&sb, r->text.data, r->text.len);
    return strbuf_detach(&sb);
}

void endpoint_config_default(struct endpoint_config *c) {
    *c = (struct endpoint_config){
        .device = "auto", .connect_timeout_s = 10, .stall_timeout_s = 60, .max_response = 16u << 20};
}

bool endpoint_spec_is_remote(const char *spec) {
    return strncmp(spec, "http://", 7) == 0 || strncmp(spec, "https://", 8) == 0 || strncmp(spec, "remote:", 7) == 0;
}

enum status endpoint_open(const char *spec, const struct endpoint_config *cfg, struct endpoint **out) {
    *out = NULL;
    if (!endpoint_spec_is_remote(spec)) return endpoint_local_open(spec, cfg, out);
    char base[2048];
    const char *model = cfg->model;
    if (strncmp(spec, "remote:", 7) == 0) {
        const char *env = getenv("OPENAI_BASE_URL");
        if (!env || !*env) {
            enum status st = err_set(STATUS_INVALID, "%s: OPENAI_BASE_URL is not set", spec);
            err_hint("export OPENAI_BASE_URL=http://host:port/v1, or give the URL itself");
            return st;
        }
        if (spec[7]) model = spec + 7;
        if (strlen(env) >= sizeof base) return err_set(STATUS_INVALID, "OPENAI_BASE_URL is too long");
        strcpy(base, env);
    } else {
        if (strlen(spec) >= sizeof base) return err_set(STATUS_INVALID, "the URL is too long");
        strcpy(base, spec);
        char *hash = strchr(base, '#');
        if (hash) {
            *hash = '\0';
            if (hash[1]) model = spec + (hash + 1 - base);
        }
    }
    if (!model || !*model) {
        enum status st = err_set(STATUS_INVALID, "%s: no model name for the remote server", spec);
        err_hint("name it with --model NAME or as URL#NAME");
        return st;
    }
    return endpoint_remote_open(base, model, spec, cfg, out);
}

void endpoint_close(struct endpoint *ep) {
    if (ep) ep->ops->close(ep);
}
