/* transcript: /save writes the conversation as Markdown — a header with the models and settings, then each
 * prompt and reply. Text is put in fenced blocks (a fence longer than any backtick run inside), so Markdown
 * never reinterprets it, and is sanitised like every other view, so `cat` on the file cannot drive a
 * terminal. Reasoning goes into a collapsed <details> block. Blind comparisons not yet voted on keep the
 * models' names hidden. */
#include "repl_impl.h"

#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "think.h"

static void fenced(struct strbuf *out, const char *s, size_t n) {
    size_t run = 0, longest = 0;
    for (size_t i = 0; i < n; i++) {
        run = s[i] == '`' ? run + 1 : 0;
        if (run > longest) longest = run;
    }
    size_t fence = longest >= 3 ? longest + 1 : 3;
    for (size_t i = 0; i < fence; i++) strbuf_putc(out, '`');
    strbuf_puts(out, "text\n");
    repl_text_sanitize(s, n, out);
    if (n == 0 || s[n - 1] != '\n') strbuf_putc(out, '\n');
    for (size_t i = 0; i < fence; i++) strbuf_putc(out, '`');
    strbuf_puts(out, "\n\n");
}

struct split_ctx {
    struct strbuf think, rest;
};

static void split_seg(void *user, enum seg_kind kind, bool tag, const char *s, size_t n) {
    struct split_ctx *c = user;
    if (kind == SEG_THINK) {
        if (!tag) strbuf_append(&c->think, s, n);
    } else {
        strbuf_append(&c->rest, s, n);
    }
}

static void trim(const char **s, size_t *n) {
    while (*n && ((*s)[0] == ' ' || (*s)[0] == '\n')) (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\n')) (*n)--;
}

static void put_reply(struct strbuf *out, const struct gen_result *res) {
    char *full = gen_result_full_text(res);
    struct split_ctx c = {{0}, {0}};
    struct think_splitter t;
    think_init(&t, split_seg, &c);
    if (full) think_feed(&t, full, strlen(full));
    think_flush(&t);
    const char *s = c.think.data ? c.think.data : "";
    size_t n = c.think.len;
    trim(&s, &n);
    if (n) {
        strbuf_printf(out, "<details><summary>think (%zu bytes)</summary>\n\n", n);
        fenced(out, s, n);
        strbuf_puts(out, "</details>\n\n");
    }
    s = c.rest.data ? c.rest.data : "";
    n = c.rest.len;
    trim(&s, &n);
    fenced(out, s, n);
    struct strbuf stats = {0};
    view_format_stats(res, &stats);
    strbuf_printf(out, "*%s*\n\n", stats.data ? stats.data : "");
    strbuf_free(&stats);
    strbuf_free(&c.think);
    strbuf_free(&c.rest);
    free(full);
}

static void put_name(struct strbuf *out, const char *name) {
    repl_text_sanitize(name, strlen(name), out);
}

void transcript_markdown(const struct repl *r, struct strbuf *out) {
    strbuf_puts(out, "# r1lab chat\n\n");
    for (int m = 0; m < 2; m++) {
        const struct endpoint *ep = r->ep[m];
        if (!ep) continue;
        strbuf_puts(out, m == 0 ? "- model: " : "- compared with: ");
        if (r->blind)
            strbuf_puts(out, "(hidden: blind comparison)");
        else
            put_name(out, ep->spec);
        if (!ep->remote) strbuf_printf(out, " (template %s)", template_name(ep->tmpl));
        strbuf_putc(out, '\n');
    }
    strbuf_printf(out, "- temperature %g, top_p %g, top_k %d, max_tokens %d, seed %llu\n", r->params.temperature,
                  r->params.top_p, r->params.top_k, r->params.max_tokens, (unsigned long long)r->params.seed);
    if (r->system) {
        strbuf_puts(out, "- system:\n\n");
        fenced(out, r->system, strlen(r->system));
    }
    strbuf_putc(out, '\n');
    for (size_t i = 0; i < r->n_ex; i++) {
        const struct exchange *e = &r->ex[i];
        strbuf_printf(out, "## %zu. User\n\n", i + 1);
        fenced(out, e->prompt, strlen(e->prompt));
        bool pair = e->has[0] && e->has[1];
        for (int c = 0; c < 2; c++) {
            int m = c == 0 ? e->left : 1 - e->left;
            if (!e->has[m]) continue;
            if (pair) {
                strbuf_printf(out, "### %c: ", c == 0 ? 'A' : 'B');
                put_name(out, repl_shown_name(r, e, c));
                strbuf_puts(out, "\n\n");
            } else {
                strbuf_printf(out, "## %zu. ", i + 1);
                put_name(out, e->names[m]);
                strbuf_puts(out, "\n\n");
            }
            put_reply(out, &e->res[m]);
        }
    }
}

enum status transcript_save(const struct repl *r, const char *path) {
    struct strbuf sb = {0};
    transcript_markdown(r, &sb);
    enum status st = strbuf_status(&sb);
    if (st == STATUS_OK) st = fs_write_atomic(path, sb.data, sb.len);
    strbuf_free(&sb);
    return st;
}
