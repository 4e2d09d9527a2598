/* endpoint_local: a checkpoint on this machine — the conversation is rendered with the prompt template,
 * encoded, and continued by the rollout engine (one prompt, one sample), streaming each token's text.
 *
 * Generation stops at the end-of-sequence token, at the template's end-of-turn text (as a token when the
 * tokenizer has it, else as a string) and, with the r1-zero template, after "</answer>". The model's context
 * (max_position_embeddings) bounds prompt + reply: max_tokens is lowered to fit, and a conversation that no
 * longer fits is an error that suggests /clear. The KV cache is sized to the longest request so far. */
#include "endpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/run/origin.h"
#include "engine/run/session.h"

struct local_ep {
    struct endpoint base;
    struct session s;
    struct rollout r;
    bool have_rollout;
    struct token_buf ids;
};

/* Per-call state handed to the rollout callbacks. */
struct local_call {
    endpoint_piece_fn on_piece;
    endpoint_abort_fn should_abort;
    void *user;
    int32_t stop_id; /* the end-of-turn token, -1 when none */
    bool hit_stop_id, consumer_stop;
    double t0, t_first;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool on_token(void *user, int seq, int32_t id, const char *piece, size_t len) {
    (void)seq;
    struct local_call *c = user;
    if (c->t_first == 0) c->t_first = now_s();
    if (id == c->stop_id) {
        c->hit_stop_id = true;
        return false;
    }
    if (len && c->on_piece && !c->on_piece(c->user, PIECE_TEXT, piece, len)) {
        c->consumer_stop = true;
        return false;
    }
    return true;
}

static bool should_abort(void *user) {
    struct local_call *c = user;
    return c->should_abort && c->should_abort(c->user);
}

static enum status ensure_rollout(struct local_ep *e, int need) {
    if (e->have_rollout && e->r.max_len >= need) return STATUS_OK;
    int ctx = e->s.model.cfg.max_position_embeddings;
    int len = e->have_rollout ? e->r.max_len * 2 : 256;
    if (len < need) len = need;
    if (ctx > 0 && len > ctx) len = ctx;
    if (len < need) len = need;
    rollout_free(&e->r);
    e->have_rollout = false;
    TRY(rollout_init(&e->r, &e->s.model, e->s.tok, 1, len));
    e->have_rollout = true;
    return STATUS_OK;
}

static enum status local_generate(struct endpoint *ep, const struct chat *chat, const struct gen_params *p,
                                  endpoint_piece_fn on_piece, endpoint_abort_fn abort_fn, void *user,
                                  struct gen_result *out) {
    struct local_ep *e = (struct local_ep *)ep;
    gen_result_clear(out);
    struct local_call call = {
        .on_piece = on_piece, .should_abort = abort_fn, .user = user, .stop_id = -1, .t0 = now_s()};
    char *prompt = NULL;
    TRY(template_render(ep->tmpl, chat->system, chat->turns, chat->n_turns, true, &prompt));
    /* Templates that spell out the BOS token themselves must not get a second one from the tokenizer. */
    bool add_special = ep->tmpl != TEMPLATE_LLAMA3 && ep->tmpl != TEMPLATE_R1;
    e->ids.n = 0;
    enum status st = session_encode(&e->s, prompt, add_special, &e->ids);
    free(prompt);
    TRY(st);
    if (e->ids.n == 0) return err_set(STATUS_INVALID, "the prompt is empty");
    int ctx = e->s.model.cfg.max_position_embeddings;
    int n_prompt = (int)e->ids.n, max_new = p->max_tokens;
    if (ctx > 0 && n_prompt >= ctx) {
        st = err_set(STATUS_INVALID, "the conversation is %d tokens long; %s's context is %d tokens", n_prompt,
                     ep->name, ctx);
        err_hint("/clear starts a new conversation");
        return st;
    }
    if (ctx > 0 && n_prompt + max_new > ctx) max_new = ctx - n_prompt;
    TRY(ensure_rollout(e, n_prompt + max_new));

    struct rollout_options ro = {0};
    ro.sampling =
        (struct sampler_params){.temperature = (float)p->temperature, .top_p = (float)p->top_p, .top_k = p->top_k};
    ro.max_new_tokens = max_new;
    ro.seed = p->seed;
    int n_stop = 0;
    const char *stop_text = template_stop_text(ep->tmpl);
    if (stop_text) {
        int32_t id = tokenizer_token_id(e->s.tok, stop_text);
        if (id >= 0 && tokenizer_is_special(e->s.tok, id))
            call.stop_id = id; /* skipped in the decoded text */
        else
            ro.stop[n_stop++] = stop_text;
    }
    if (ep->tmpl == TEMPLATE_R1_ZERO) ro.stop[n_stop++] = "</answer>";

    const int32_t *prompts[1] = {e->ids.ids};
    int lens[1] = {n_prompt};
    struct rollout_stats rs = {0};
    st = rollout_run(&e->r, prompts, lens, 1, 1, &ro, on_token, should_abort, &call, &rs);
    const struct rollout_seq *q = &e->r.seqs[0];
    size_t len = q->text ? q->text_len : 0;
    if (stop_text && len >= strlen(stop_text) &&
        memcmp(q->text + len - strlen(stop_text), stop_text, strlen(stop_text)) == 0)
        len -= strlen(stop_text); /* the end-of-turn marker is not part of the reply */
    if (len) strbuf_append(&out->text, q->text, len);
    out->finish = q->finish;
    if (call.hit_stop_id) out->finish = FINISH_STOP;
    if (st == STATUS_ABORTED || call.consumer_stop) out->finish = FINISH_ABORTED;
    if (call.consumer_stop && st == STATUS_OK) st = err_set(STATUS_ABORTED, "generation stopped");
    out->prompt_tokens = rs.prompt_tokens;
    out->new_tokens = rs.new_tokens;
    out->new_tokens_exact = true;
    double t_end = now_s();
    out->ttft_s = call.t_first > 0 ? call.t_first - call.t0 : t_end - call.t0;
    out->total_s = t_end - call.t0;
    if (st == STATUS_OK) st = strbuf_status(&out->text);
    return st;
}

static void local_describe(const struct endpoint *ep, struct strbuf *out) {
    const struct local_ep *e = (const struct local_ep *)ep;
    const struct model_config *c = &e->s.model.cfg;
    strbuf_printf(out, "checkpoint: %s\n", e->s.dir);
    strbuf_printf(out, "architecture: %s, %d layers, hidden %d, %d heads (%d kv), vocab %d\n", model_arch_name(c->arch),
                  c->num_layers, c->hidden_size, c->num_heads, c->num_kv_heads, c->vocab_size);
    double n = (double)model_config_param_count(c);
    if (n >= 1e9)
        strbuf_printf(out, "parameters: %.2f B\n", n / 1e9);
    else if (n >= 1e6)
        strbuf_printf(out, "parameters: %.2f M\n", n / 1e6);
    else
        strbuf_printf(out, "parameters: %.0f\n", n);
    strbuf_printf(out, "context: %d tokens\n", c->max_position_embeddings);
    strbuf_printf(out, "template: %s%s%s%s\n", template_name(ep->tmpl), *ep->tmpl_why ? " (" : "", ep->tmpl_why,
                  *ep->tmpl_why ? ")" : "");
    strbuf_printf(out, "device: %s\n", e->s.be ? e->s.be->name : "?");
}

static enum status local_set_template(struct endpoint *ep, enum template_kind kind) {
    ep->tmpl = kind;
    ep->tmpl_why[0] = '\0';
    return STATUS_OK;
}

static void local_close(struct endpoint *ep) {
    struct local_ep *e = (struct local_ep *)ep;
    if (e->have_rollout) rollout_free(&e->r);
    token_buf_free(&e->ids);
    session_close(&e->s);
    free(e);
}

static const struct endpoint_ops LOCAL_OPS = {
    .generate = local_generate,
    .describe = local_describe,
    .set_template = local_set_template,
    .close = local_close,
};

/* The template a checkpoint trained with, else one detected from its tokenizer (origin.h). */
static enum status choose_template(struct endpoint *ep, const char *dir, const struct tokenizer *tok) {
    struct origin o;
    TRY(origin_load(dir, &o));
    ep->tmpl = origin_pick_template(&o, tok, ep->tmpl_why, sizeof ep->tmpl_why);
    origin_free(&o);
    return STATUS_OK;
}

/* "runs/zero@400" stays as typed; a directory path shows its last component ("qwen2_tiny"). */
static void short_name(const char *spec, char *out, size_t cap) {
    size_t n = strlen(spec);
    while (n > 1 && spec[n - 1] == '/') n--;
    const char *at = memchr(spec, '@', n);
    size_t from = 0;
    const char *end = at ? at : spec + n;
    for (const char *s = spec; s < end; s++)
        if (*s == '/' && s + 1 < end) from = (size_t)(s + 1 - spec);
    snprintf(out, cap, "%.*s", (int)(n - from), spec + from);
}

enum status endpoint_local_open(const char *spec, const struct endpoint_config *cfg, struct endpoint **out) {
    struct local_ep *e = calloc(1, sizeof *e);
    if (!e) return err_set(STATUS_NOMEM, "out of memory");
    enum status st = session_open(&e->s, spec, cfg->device ? cfg->device : "auto", cfg->threads);
    if (st != STATUS_OK) {
        free(e);
        return st;
    }
    e->base.ops = &LOCAL_OPS;
    snprintf(e->base.spec, sizeof e->base.spec, "%s", spec);
    short_name(spec, e->base.name, sizeof e->base.name);
    if (cfg->tmpl) {
        st = template_parse(cfg->tmpl, &e->base.tmpl);
        if (st != STATUS_OK) {
            local_close(&e->base);
            return st;
        }
    } else {
        st = choose_template(&e->base, e->s.dir, e->s.tok);
        if (st != STATUS_OK) {
            local_close(&e->base);
            return st;
        }
    }
    *out = &e->base;
    return STATUS_OK;
}
