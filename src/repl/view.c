/* view: stylers, the streaming single-column view and the two-column view. */
#include "view.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static const char *const THINK_NAMES[] = {"show", "hide", "collapse"};

const char *think_mode_name(enum think_mode m) {
    return THINK_NAMES[m];
}

bool think_mode_parse(const char *s, enum think_mode *out) {
    for (int i = 0; i < 3; i++)
        if (strcmp(s, THINK_NAMES[i]) == 0) {
            *out = (enum think_mode)i;
            return true;
        }
    return false;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- styler ---- */

static void mark(struct styler *s, unsigned char style) {
    if (s->style == style) return;
    strbuf_putc(s->out, (char)style);
    s->style = style;
}

static void put(struct styler *s, const char *t, size_t n) {
    if (n == 0) return;
    repl_text_sanitize(t, n, s->out);
    s->last_newline = t[n - 1] == '\n';
}

static size_t count_chars(const char *t, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)t[i] & 0xC0) != 0x80;
    return c;
}

/* After a collapsed think the reply goes on on its own line, unless it starts with a blank anyway: the
 * "[think: N chars]" stands for text the reader does not see, and must not run into the words after it. */
static void separate(struct styler *s, const char *t, size_t n) {
    if (!s->sep_pending || n == 0) return;
    s->sep_pending = false;
    if (t[0] != ' ' && t[0] != '\n' && t[0] != '\t' && t[0] != '\r') {
        mark(s, REPL_STYLE_PLAIN);
        put(s, "\n", 1);
    }
}

static void put_collapsed(struct styler *s, bool unfinished) {
    char line[64];
    snprintf(line, sizeof line, "[think: %zu chars%s]", s->think_chars, unfinished ? ", unfinished" : "");
    separate(s, line, strlen(line));
    mark(s, REPL_STYLE_DIM);
    put(s, line, strlen(line));
    s->sep_pending = true;
}

static void think_open(struct styler *s) {
    s->think_open = true;
    s->think_chars = 0;
}

static void think_close(struct styler *s, bool unfinished) {
    s->think_open = false;
    if (s->mode == THINK_COLLAPSE) put_collapsed(s, unfinished);
}

static void on_seg(void *user, enum seg_kind kind, bool tag, const char *t, size_t n) {
    struct styler *s = user;
    switch (kind) {
    case SEG_THINK: {
        bool opening = tag && n == 7 && memcmp(t, "<think>", 7) == 0;
        bool closing = tag && !opening;
        if (opening) think_open(s);
        if (!tag) s->think_chars += count_chars(t, n);
        if (s->mode == THINK_SHOW) {
            mark(s, REPL_STYLE_DIM);
            put(s, t, n);
        }
        if (closing) think_close(s, false);
        break;
    }
    case SEG_ANSWER:
        separate(s, t, n);
        mark(s, tag ? REPL_STYLE_DIM : REPL_STYLE_BOLD);
        put(s, t, n);
        break;
    default:
        separate(s, t, n);
        mark(s, REPL_STYLE_PLAIN);
        put(s, t, n);
        break;
    }
}

void styler_init(struct styler *s, enum think_mode mode) {
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->last_newline = true;
    think_init(&s->split, on_seg, s);
}

static void close_reasoning(struct styler *s) {
    if (!s->reasoning_open) return;
    s->reasoning_open = false;
    if (s->mode == THINK_SHOW) {
        mark(s, REPL_STYLE_DIM);
        put(s, "</think>", 8);
    }
    think_close(s, false);
}

static void styler_whole(struct styler *s, enum piece_kind kind, const char *text, size_t n);

/* Length of the UTF-8 character a lead byte starts (1 for anything that is not a lead byte). */
static size_t utf8_len(unsigned char c) {
    return c >= 0xF0 && c < 0xF8 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

void styler_piece(struct styler *s, enum piece_kind kind, const char *text, size_t n, struct strbuf *out) {
    s->out = out;
    /* Pieces normally end on character boundaries; when one does not, the partial character waits for the
     * rest so that it is neither shown as broken bytes nor counted twice. */
    if (s->n_hold && kind != s->hold_kind) {
        styler_whole(s, s->hold_kind, s->hold, s->n_hold);
        s->n_hold = 0;
    }
    while (s->n_hold && n) {
        size_t need = utf8_len((unsigned char)s->hold[0]);
        if (((unsigned char)*text & 0xC0) != 0x80) need = s->n_hold; /* not a continuation: give up on it */
        if (s->n_hold < need) {
            s->hold[s->n_hold++] = *text++;
            n--;
        }
        if (s->n_hold >= need) {
            styler_whole(s, kind, s->hold, s->n_hold);
            s->n_hold = 0;
        }
    }
    size_t whole = n;
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned char c = (unsigned char)text[n - back];
        if ((c & 0xC0) == 0x80) continue;
        if (utf8_len(c) > back) whole = n - back;
        break;
    }
    if (whole < n) {
        memcpy(s->hold, text + whole, n - whole);
        s->n_hold = n - whole;
        s->hold_kind = kind;
    }
    if (whole) styler_whole(s, kind, text, whole);
}

static void styler_whole(struct styler *s, enum piece_kind kind, const char *text, size_t n) {
    if (kind == PIECE_REASONING) {
        if (!s->reasoning_open) {
            s->reasoning_open = true;
            think_open(s);
            if (s->mode == THINK_SHOW) {
                mark(s, REPL_STYLE_DIM);
                put(s, "<think>", 7);
            }
        }
        s->think_chars += count_chars(text, n);
        if (s->mode == THINK_SHOW) {
            mark(s, REPL_STYLE_DIM);
            put(s, text, n);
        }
        return;
    }
    close_reasoning(s);
    think_feed(&s->split, text, n);
}

void styler_finish(struct styler *s, struct strbuf *out) {
    s->out = out;
    if (s->n_hold) styler_whole(s, s->hold_kind, s->hold, s->n_hold);
    s->n_hold = 0;
    think_flush(&s->split);
    if (s->reasoning_open)
        close_reasoning(s);
    else if (s->think_open)
        think_close(s, true);
}

void view_format_stats(const struct gen_result *r, struct strbuf *out) {
    double decode = r->total_s - r->ttft_s;
    double rate = r->new_tokens > 1 && decode > 0 ? (double)(r->new_tokens - 1) / decode
                  : r->total_s > 0                ? (double)r->new_tokens / r->total_s
                                                  : 0;
    strbuf_printf(out, "%s%lld token%s · %.1f tok/s · first token %.2f s · %s", r->new_tokens_exact ? "" : "~",
                  (long long)r->new_tokens, r->new_tokens == 1 ? "" : "s", rate, r->ttft_s,
                  finish_reason_name(r->finish));
}

/* ---- stream view ---- */

void stream_view_begin(struct stream_view *v, FILE *out, bool color, enum think_mode mode) {
    memset(v, 0, sizeof *v);
    v->out = out;
    v->color = color;
    styler_init(&v->st, mode);
}

static void erase_counter(struct stream_view *v) {
    if (!v->counter_shown) return;
    fputs("\0338\033[K", v->out);
    v->counter_shown = false;
}

void stream_view_piece(struct stream_view *v, enum piece_kind kind, const char *s, size_t n) {
    strbuf_clear(&v->buf);
    styler_piece(&v->st, kind, s, n, &v->buf);
    if (v->buf.len || !v->st.think_open) erase_counter(v);
    if (v->buf.len) repl_write_styled(v->out, v->buf.data, v->buf.len, v->color);
    v->wrote |= v->buf.len > 0;
    if (v->color && v->st.mode == THINK_COLLAPSE && v->st.think_open) {
        double t = now_s();
        if (!v->counter_shown || t - v->counter_t > 0.1) {
            fputs(v->counter_shown ? "\0338\033[K" : "\0337", v->out);
            fprintf(v->out, "%s[thinking\xE2\x80\xA6 %zu chars]%s", repl_style_sgr(REPL_STYLE_DIM), v->st.think_chars,
                    v->st.style ? repl_style_sgr((enum repl_style)v->st.style) : "\033[0m");
            v->counter_shown = true;
            v->counter_t = t;
        }
    }
    fflush(v->out);
}

void stream_view_end(struct stream_view *v) {
    strbuf_clear(&v->buf);
    styler_finish(&v->st, &v->buf);
    erase_counter(v);
    if (v->buf.len) repl_write_styled(v->out, v->buf.data, v->buf.len, v->color);
    v->wrote |= v->buf.len > 0;
    if (v->color) fputs("\033[0m", v->out);
    /* Every reply ends with exactly one line break, an empty reply too (plain mode stays line-aligned). */
    if (!v->st.last_newline || !v->wrote) fputc('\n', v->out);
    fflush(v->out);
}

void stream_view_free(struct stream_view *v) {
    strbuf_free(&v->buf);
}

/* ---- columns ---- */

static void col_push(struct view_col *c, size_t off, size_t len, int cols) {
    if (c->n_lines == c->cap_lines) {
        size_t cap = c->cap_lines ? c->cap_lines * 2 : 64;
        struct col_line *p = realloc(c->lines, cap * sizeof *p);
        if (!p) return; /* out of memory: the line is lost, the view stays consistent */
        c->lines = p;
        c->cap_lines = cap;
    }
    c->lines[c->n_lines++] = (struct col_line){off, len, cols, c->style};
}

static void col_advance_style(struct view_col *c, size_t from, size_t to) {
    for (size_t i = from; i < to; i++)
        if (repl_is_style((unsigned char)c->text.data[i])) c->style = (unsigned char)c->text.data[i];
}

/* Moves every line that can no longer change into c->lines; with `final`, the last one too. */
static void col_wrap(struct view_col *c, bool final) {
    while (c->text.data) {
        const char *s = c->text.data + c->line_start;
        size_t n = c->text.len - c->line_start, len, next;
        int cols;
        bool complete = layout_wrap_line(s, n, c->width, &len, &next, &cols);
        if (!complete) {
            if (final && n > 0) {
                if (cols > 0) col_push(c, c->line_start, len, cols);
                col_advance_style(c, c->line_start, c->text.len);
                c->line_start = c->text.len;
            }
            return;
        }
        col_push(c, c->line_start, len, cols);
        col_advance_style(c, c->line_start, c->line_start + next);
        c->line_start += next;
    }
}

static void col_append(struct view_col *c, const struct strbuf *styled) {
    for (size_t i = 0; i < styled->len; i++) strbuf_putc(&c->text, styled->data[i] == '\t' ? ' ' : styled->data[i]);
}

static const char *sep(const struct cols_view *v) {
    return v->ascii ? " | " : " \xE2\x94\x82 ";
}

static void pad(FILE *f, int n) {
    for (int i = 0; i < n; i++) fputc(' ', f);
}

static void print_cell(struct cols_view *v, const struct view_col *c, const struct col_line *line, bool fill) {
    int used = 0;
    if (line) {
        if (v->color) fputs(repl_style_sgr((enum repl_style)(line->style ? line->style : REPL_STYLE_PLAIN)), v->out);
        repl_write_styled(v->out, c->text.data + line->off, line->len, v->color);
        if (v->color) fputs("\033[0m", v->out);
        used = line->cols;
    }
    if (fill) pad(v->out, c->width - used);
}

/* The line of side c shown in row r: a final line, the unfinished last line (partial), or none. */
static bool row_line(const struct view_col *c, size_t r, bool partial, struct col_line *out) {
    if (r < c->n_lines) {
        *out = c->lines[r];
        return true;
    }
    if (!partial || r != c->n_lines || c->done || !c->text.data) return false;
    size_t len, next;
    int cols;
    layout_wrap_line(c->text.data + c->line_start, c->text.len - c->line_start, c->width, &len, &next, &cols);
    *out = (struct col_line){c->line_start, len, cols, c->style};
    return cols > 0;
}

static void print_row(struct cols_view *v, size_t r, bool partial) {
    struct col_line a, b;
    bool ha = row_line(&v->c[0], r, partial, &a), hb = row_line(&v->c[1], r, partial, &b);
    print_cell(v, &v->c[0], ha ? &a : NULL, true);
    if (v->color)
        fprintf(v->out, "%s%s\033[0m", repl_style_sgr(REPL_STYLE_DIM), sep(v));
    else
        fputs(sep(v), v->out);
    print_cell(v, &v->c[1], hb ? &b : NULL, false);
}

static void cols_flush(struct cols_view *v) {
    if (!v->lc.side_by_side) return;
    const struct view_col *a = &v->c[0], *b = &v->c[1];
    size_t limit;
    if (a->done && b->done)
        limit = a->n_lines > b->n_lines ? a->n_lines : b->n_lines;
    else if (a->done)
        limit = b->n_lines;
    else if (b->done)
        limit = a->n_lines;
    else
        limit = a->n_lines < b->n_lines ? a->n_lines : b->n_lines;
    if (v->rows < limit && v->live_shown) {
        fputs("\r\033[K", v->out);
        v->live_shown = false;
    }
    for (; v->rows < limit; v->rows++) {
        print_row(v, v->rows, false);
        fputc('\n', v->out);
    }
    if (v->live && !(a->done && b->done)) {
        fputs("\r\033[K", v->out);
        print_row(v, v->rows, true);
        v->live_shown = true;
    }
    fflush(v->out);
}

static void print_name(struct cols_view *v, const char *name, int width, bool fill) {
    struct strbuf sb = {0};
    repl_text_sanitize(name, strlen(name), &sb);
    size_t len = sb.len, next;
    int cols = 0;
    if (sb.data) layout_wrap_line(sb.data, sb.len, width, &len, &next, &cols);
    if (v->color) fputs(repl_style_sgr(REPL_STYLE_BOLD), v->out);
    if (len) fwrite(sb.data, 1, len, v->out);
    if (v->color) fputs("\033[0m", v->out);
    if (fill) pad(v->out, width - cols);
    strbuf_free(&sb);
}

static void rule(struct cols_view *v, int n) {
    for (int i = 0; i < n; i++) fputs(v->ascii ? "-" : "\xE2\x94\x80", v->out);
}

void cols_view_begin(struct cols_view *v, FILE *out, int cols, bool color, bool live, bool ascii, enum think_mode mode,
                     const char *name_a, const char *name_b) {
    memset(v, 0, sizeof *v);
    v->out = out;
    v->color = color;
    v->live = live;
    v->ascii = ascii;
    v->lc = layout_columns(cols);
    snprintf(v->names[0], sizeof v->names[0], "%s", name_a);
    snprintf(v->names[1], sizeof v->names[1], "%s", name_b);
    for (int s = 0; s < 2; s++) {
        styler_init(&v->c[s].st, mode);
        v->c[s].width = v->lc.side_by_side ? (s == 0 ? v->lc.left : v->lc.right) : v->lc.total;
    }
    if (!v->lc.side_by_side) return;
    print_name(v, name_a, v->lc.left, true);
    fputs(sep(v), out);
    print_name(v, name_b, v->lc.right, false);
    fputc('\n', out);
    if (v->color) fputs(repl_style_sgr(REPL_STYLE_DIM), out);
    rule(v, v->lc.left + 1);
    fputs(ascii ? "+" : "\xE2\x94\xBC", out);
    rule(v, v->lc.right + 1);
    if (v->color) fputs("\033[0m", out);
    fputc('\n', out);
    fflush(out);
}

void cols_view_piece(struct cols_view *v, int side, enum piece_kind kind, const char *s, size_t n) {
    struct view_col *c = &v->c[side];
    strbuf_clear(&v->scratch);
    styler_piece(&c->st, kind, s, n, &v->scratch);
    col_append(c, &v->scratch);
    col_wrap(c, false);
    cols_flush(v);
}

void cols_view_side_done(struct cols_view *v, int side, const char *footer) {
    struct view_col *c = &v->c[side];
    struct strbuf styled = {0};
    styler_finish(&c->st, &styled);
    col_append(c, &styled);
    if (footer && *footer) {
        if (!c->st.last_newline) strbuf_putc(&c->text, '\n');
        strbuf_putc(&c->text, (char)REPL_STYLE_DIM);
        struct strbuf f = {0};
        repl_text_sanitize(footer, strlen(footer), &f);
        col_append(c, &f);
        strbuf_free(&f);
    }
    strbuf_free(&styled);
    col_wrap(c, true);
    c->done = true;
    cols_flush(v);
}

void cols_view_end(struct cols_view *v) {
    for (int s = 0; s < 2; s++)
        if (!v->c[s].done) cols_view_side_done(v, s, NULL);
    if (v->live_shown) {
        fputs("\r\033[K", v->out);
        v->live_shown = false;
    }
    if (!v->lc.side_by_side) { /* stacked: each reply under its name */
        for (int s = 0; s < 2; s++) {
            struct view_col *c = &v->c[s];
            if (v->color) fputs(repl_style_sgr(REPL_STYLE_BOLD), v->out);
            fputs(v->ascii ? "-- " : "\xE2\x94\x80\xE2\x94\x80 ", v->out);
            repl_out_model_text(v->out, v->names[s], strlen(v->names[s]));
            if (v->color) fputs("\033[0m", v->out);
            fputc('\n', v->out);
            for (size_t r = 0; r < c->n_lines; r++) {
                print_cell(v, c, &c->lines[r], false);
                fputc('\n', v->out);
            }
        }
    }
    fflush(v->out);
}

void cols_view_free(struct cols_view *v) {
    for (int s = 0; s < 2; s++) {
        strbuf_free(&v->c[s].text);
        free(v->c[s].lines);
    }
    strbuf_free(&v->scratch);
    memset(v, 0, sizeof *v);
}

void view_print_pair(FILE *out, int cols, bool color, bool ascii, enum think_mode mode, const char *name_a,
                     const char *text_a, const char *foot_a, const char *name_b, const char *text_b,
                     const char *foot_b) {
    struct cols_view v;
    cols_view_begin(&v, out, cols, color, false, ascii, mode, name_a, name_b);
    cols_view_piece(&v, 0, PIECE_TEXT, text_a, strlen(text_a));
    cols_view_side_done(&v, 0, foot_a);
    cols_view_piece(&v, 1, PIECE_TEXT, text_b, strlen(text_b));
    cols_view_side_done(&v, 1, foot_b);
    cols_view_end(&v);
    cols_view_free(&v);
}

int view_terminal_cols(FILE *f) {
    struct winsize ws;
    if (isatty(fileno(f)) && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *env = getenv("COLUMNS");
    if (env) {
        int c = atoi(env);
        if (c > 0 && c < 10000) return c;
    }
    return 100;
}
