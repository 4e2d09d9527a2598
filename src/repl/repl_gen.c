/* repl_gen: sending a prompt — building each model's conversation from the transcript, streaming the reply
 * into the single-column view or both replies into the columns view, and keeping the results. */
#include "repl_impl.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "duo.h"
#include "engine/util/rng.h"
#include "think.h"

int repl_report(struct repl *r) {
    const char *msg = err_msg(), *hint = err_hint_text();
    fflush(r->out);
    if (r->color)
        fprintf(stderr, "\033[0;31merror:\033[0m %s\n", msg[0] ? msg : "failed");
    else
        fprintf(stderr, "error: %s\n", msg[0] ? msg : "failed");
    if (hint[0]) fprintf(stderr, "  hint: %s\n", hint);
    err_clear();
    r->failures++;
    return 1;
}

void repl_note(struct repl *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (r->color) fputs("\033[2m", r->info);
    vfprintf(r->info, fmt, ap);
    if (r->color) fputs("\033[0m", r->info);
    fputc('\n', r->info);
    fflush(r->info);
    va_end(ap);
}

char *repl_reply_text(const struct exchange *e, int m) {
    return gen_result_full_text(&e->res[m]);
}

static void keep_answer(void *user, enum seg_kind kind, bool tag, const char *s, size_t n) {
    if (kind == SEG_THINK || tag) return;
    strbuf_append(user, s, n);
}

char *repl_answer_only(const char *text) {
    struct strbuf sb = {0};
    struct think_splitter t;
    think_init(&t, keep_answer, &sb);
    think_feed(&t, text, strlen(text));
    think_flush(&t);
    return strbuf_detach(&sb);
}

const char *repl_shown_name(const struct repl *r, const struct exchange *e, int column) {
    int m = column == 0 ? e->left : 1 - e->left;
    if (r->blind && !e->voted) return column == 0 ? "Model A" : "Model B";
    return e->names[m][0] ? e->names[m] : "?";
}

/* The conversation model m sees for exchange i: earlier prompts with its own replies (or the first model's,
 * for exchanges from before it joined), then prompt i. turns is malloc'd (2 * i + 1 entries at most). */
static struct chat_turn *build_turns(const struct repl *r, int m, size_t i, size_t *n_turns) {
    struct chat_turn *t = malloc(sizeof *t * (2 * i + 1));
    size_t n = 0;
    if (!t) return NULL;
    for (size_t k = 0; k < i; k++) {
        const struct exchange *e = &r->ex[k];
        int src = e->has[m] ? m : e->has[0] ? 0 : -1;
        if (src < 0) continue; /* no reply: leave the exchange out rather than send two user turns in a row */
        t[n++] = (struct chat_turn){CHAT_USER, e->prompt};
        t[n++] = (struct chat_turn){CHAT_ASSISTANT, e->res[src].text.data ? e->res[src].text.data : ""};
    }
    t[n++] = (struct chat_turn){CHAT_USER, r->ex[i].prompt};
    *n_turns = n;
    return t;
}

struct single_ctx {
    struct stream_view view;
};

static bool single_piece(void *user, enum piece_kind kind, const char *s, size_t n) {
    struct single_ctx *c = user;
    stream_view_piece(&c->view, kind, s, n);
    return true;
}

static bool stop_requested(void *user) {
    (void)user;
    return repl_stop_flag != 0;
}

static void print_stats(struct repl *r, const struct gen_result *res) {
    struct strbuf sb = {0};
    view_format_stats(res, &sb);
    repl_note(r, "[%s]", sb.data ? sb.data : "");
    strbuf_free(&sb);
}

static int generate_single(struct repl *r, size_t i) {
    struct exchange *e = &r->ex[i];
    size_t n_turns;
    struct chat_turn *turns = build_turns(r, 0, i, &n_turns);
    if (!turns) {
        err_set(STATUS_NOMEM, "out of memory");
        return repl_report(r);
    }
    struct chat chat = {.system = r->system, .turns = turns, .n_turns = n_turns};
    struct gen_params p = r->params;
    p.seed = e->seed;
    struct single_ctx ctx;
    stream_view_begin(&ctx.view, r->out, r->color, r->think);
    repl_stop_flag = 0;
    enum status st = r->ep[0]->ops->generate(r->ep[0], &chat, &p, single_piece, stop_requested, &ctx, &e->res[0]);
    stream_view_end(&ctx.view);
    stream_view_free(&ctx.view);
    free(turns);
    e->has[0] = st == STATUS_OK || e->res[0].text.len || e->res[0].reasoning.len;
    if (st == STATUS_ABORTED) {
        /* What arrived is kept, and gets its stats line like any reply. */
        err_clear();
        struct strbuf sb = {0};
        view_format_stats(&e->res[0], &sb);
        repl_note(r, "[interrupted] %s", sb.data ? sb.data : "");
        strbuf_free(&sb);
        if (!r->interactive) r->failures++;
        return r->interactive ? 0 : 1;
    }
    if (st != STATUS_OK) return repl_report(r);
    print_stats(r, &e->res[0]);
    return 0;
}

struct pair_ctx {
    struct repl *r;
    struct cols_view view;
    int models[2]; /* column -> model */
    struct exchange *e;
    int failed;
};

static void pair_piece(void *user, int column, enum piece_kind kind, const char *s, size_t n) {
    struct pair_ctx *c = user;
    cols_view_piece(&c->view, column, kind, s, n);
}

static void pair_done(void *user, int column, enum status st, const char *err, const char *hint) {
    struct pair_ctx *c = user;
    const struct gen_result *res = &c->e->res[c->models[column]];
    struct strbuf foot = {0};
    if (st == STATUS_OK || st == STATUS_ABORTED) {
        strbuf_puts(&foot, st == STATUS_ABORTED ? "[interrupted] " : "[");
        view_format_stats(res, &foot);
        if (st != STATUS_ABORTED) strbuf_putc(&foot, ']');
    } else {
        strbuf_printf(&foot, "error: %s", err);
        if (hint && *hint) strbuf_printf(&foot, "\nhint: %s", hint);
        c->failed++;
    }
    cols_view_side_done(&c->view, column, foot.data);
    strbuf_free(&foot);
}

static int generate_pair(struct repl *r, size_t i) {
    struct exchange *e = &r->ex[i];
    struct chat_turn *turns[2] = {NULL, NULL};
    struct chat chats[2];
    for (int m = 0; m < 2; m++) {
        size_t n;
        turns[m] = build_turns(r, m, i, &n);
        chats[m] = (struct chat){.system = r->system, .turns = turns[m], .n_turns = n};
    }
    if (!turns[0] || !turns[1]) {
        free(turns[0]);
        free(turns[1]);
        err_set(STATUS_NOMEM, "out of memory");
        return repl_report(r);
    }
    struct gen_params p = r->params;
    p.seed = e->seed;
    struct pair_ctx ctx = {.r = r, .e = e};
    ctx.models[0] = e->left;
    ctx.models[1] = 1 - e->left;
    cols_view_begin(&ctx.view, r->out, view_terminal_cols(r->out), r->color, r->interactive, r->ascii, r->think,
                    repl_shown_name(r, e, 0), repl_shown_name(r, e, 1));
    struct endpoint *eps[2] = {r->ep[ctx.models[0]], r->ep[ctx.models[1]]};
    const struct chat *cp[2] = {&chats[ctx.models[0]], &chats[ctx.models[1]]};
    const struct gen_params *pp[2] = {&p, &p};
    struct gen_result *res[2] = {&e->res[ctx.models[0]], &e->res[ctx.models[1]]};
    enum status st[2];
    char err[2][1024], hint[2][512];
    repl_stop_flag = 0;
    duo_run(eps, cp, pp, res, &repl_stop_flag, pair_piece, pair_done, &ctx, st, err, hint);
    cols_view_end(&ctx.view);
    cols_view_free(&ctx.view);
    free(turns[0]);
    free(turns[1]);
    bool interrupted = false;
    for (int c = 0; c < 2; c++) {
        int m = ctx.models[c];
        e->has[m] = st[c] == STATUS_OK || e->res[m].text.len || e->res[m].reasoning.len;
        interrupted |= st[c] == STATUS_ABORTED;
    }
    if (interrupted) repl_note(r, "[interrupted]");
    if (ctx.failed || (interrupted && !r->interactive)) {
        r->failures++;
        return 1;
    }
    if (r->blind && !e->voted) repl_note(r, "vote with /vote a, /vote b, /vote tie or /vote bad");
    return 0;
}

int repl_generate(struct repl *r, size_t i) {
    struct exchange *e = &r->ex[i];
    for (int m = 0; m < 2; m++) {
        gen_result_clear(&e->res[m]);
        e->has[m] = false;
    }
    e->voted = false;
    e->seed = r->params.seed + r->n_gen++;
    for (int m = 0; m < 2; m++) snprintf(e->names[m], sizeof e->names[m], "%s", r->ep[m] ? r->ep[m]->name : "");
    e->left = 0;
    if (r->ep[1] && r->blind) { /* a fair coin per prompt, reproducible from the seed */
        struct rng g;
        rng_seed_stream(&g, e->seed, 0xB11D);
        e->left = (int)(rng_next(&g) & 1);
    }
    int rc = r->ep[1] ? generate_pair(r, i) : generate_single(r, i);
    /* A prompt that got no reply at all is dropped, so the conversation never has two user turns in a row. */
    if (!e->has[0] && !e->has[1] && i + 1 == r->n_ex) {
        free(e->prompt);
        gen_result_free(&e->res[0]);
        gen_result_free(&e->res[1]);
        r->n_ex--;
    }
    return rc;
}

int repl_submit(struct repl *r, const char *prompt) {
    if (r->n_ex == r->cap_ex) {
        size_t cap = r->cap_ex ? r->cap_ex * 2 : 16;
        struct exchange *p = realloc(r->ex, cap * sizeof *p);
        if (!p) {
            err_set(STATUS_NOMEM, "out of memory");
            return repl_report(r);
        }
        r->ex = p;
        r->cap_ex = cap;
    }
    struct exchange *e = &r->ex[r->n_ex];
    memset(e, 0, sizeof *e);
    gen_result_init(&e->res[0]);
    gen_result_init(&e->res[1]);
    e->prompt = strdup(prompt);
    if (!e->prompt) {
        err_set(STATUS_NOMEM, "out of memory");
        return repl_report(r);
    }
    r->n_ex++;
    return repl_generate(r, r->n_ex - 1);
}

void repl_clear_transcript(struct repl *r) {
    for (size_t i = 0; i < r->n_ex; i++) {
        free(r->ex[i].prompt);
        gen_result_free(&r->ex[i].res[0]);
        gen_result_free(&r->ex[i].res[1]);
    }
    r->n_ex = 0;
}
