/* draw_traces: the sampled-completion panel. Shows one logged group: its prompt, then each of the G completions
 * with a ✓/✗ mark, reward, advantage and length, the text wrapped to the panel with <think> dimmed, <answer>
 * highlighted, reflection words ("wait", "check", ...) and search matches marked. The text was sanitised when
 * it was read (samples.h), so whatever a model wrote is inert here; styles are computed per byte into scratch
 * buffers allocated at start, and wrapping is by display width, wide characters included. */
#include "ui.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/rl/reward.h"
#include "fmt.h"
#include "text/sanitize.h"

/* Per-byte styles of a completion's text. */
static void style_text(const struct tui *t, const char *s, size_t n, uint8_t *st) {
    static const struct {
        const char *tag;
        int state; /* 0 outside, 1 think, 2 answer */
    } tags[] = {{"<think>", 1}, {"</think>", 0}, {"<answer>", 2}, {"</answer>", 0}};
    int state = 0;
    size_t i = 0;
    while (i < n) {
        if (s[i] == '<') {
            bool hit = false;
            for (size_t k = 0; k < 4 && !hit; k++) {
                size_t tl = strlen(tags[k].tag);
                if (i + tl <= n && strncasecmp(s + i, tags[k].tag, tl) == 0) {
                    memset(st + i, COLOR_ROLE_TAG, tl);
                    state = tags[k].state;
                    i += tl;
                    hit = true;
                }
            }
            if (hit) continue;
        }
        st[i++] = state == 1 ? COLOR_ROLE_THINK : state == 2 ? COLOR_ROLE_ANSWER : COLOR_ROLE_MAIN;
    }
    /* Reflections as the reward module counts them for reflection_rate, so what is highlighted is what is counted. */
    size_t pos = 0;
    struct reward_span sp;
    while (reward_next_reflection(s, n, &pos, &sp))
        if (st[sp.off] != COLOR_ROLE_TAG) memset(st + sp.off, COLOR_ROLE_REFLECT, sp.len);
    if (t->view.search[0]) {
        size_t ql = strlen(t->view.search);
        long at = 0;
        while ((at = viewstate_find(s, n, t->view.search, (size_t)at)) >= 0) {
            memset(st + at, COLOR_ROLE_MATCH, ql);
            at += (long)ql;
        }
    }
}

/* ---- building lines ---- */

struct builder {
    struct tui *t;
    size_t n;
    int width;
};

static bool push_line(struct builder *b, const char *text, size_t len, const uint8_t *styles, uint8_t role,
                      int indent) {
    if (b->n >= UI_TRACE_MAX_LINES) return false;
    b->t->lines[b->n++] = (struct trace_line){text, (uint32_t)len, styles, role, (uint8_t)indent, 0};
    return true;
}

/* Appends text in one role to the frame buffer (for composed lines); returns its start. */
static size_t fb_add(struct tui *t, const char *s, size_t n, uint8_t role) {
    size_t at = t->fbuf_used;
    if (at + n > UI_FBUF) n = UI_FBUF - at;
    memcpy(t->fbuf + at, s, n);
    memset(t->fsty + at, role, n);
    t->fbuf_used += n;
    return at;
}

/* Wraps text[0..n) (styles per byte, or one role) into lines of at most b->width - indent columns, breaking at
 * the last space when a line overflows and at '\n'. */
static void wrap(struct builder *b, const char *text, size_t n, const uint8_t *styles, uint8_t role, int indent) {
    int avail = b->width - indent;
    if (avail < 4) avail = 4;
    size_t start = 0;
    while (start <= n) {
        size_t i = start, last_space = (size_t)-1;
        int w = 0;
        bool hard = false;
        while (i < n) {
            if (text[i] == '\n') {
                hard = true;
                break;
            }
            size_t k;
            int cw = san_char_width(text + i, n - i, &k);
            if (w + cw > avail) break;
            if (text[i] == ' ') last_space = i;
            w += cw;
            i += k;
        }
        size_t end = i;
        size_t next = i;
        if (hard) {
            next = i + 1;
        } else if (i < n) {
            if (last_space != (size_t)-1 && last_space > start) {
                end = last_space;
                next = last_space + 1;
            }
        } else {
            next = n + 1;
        }
        if (!push_line(b, text + start, end - start, styles ? styles + start : NULL, role, indent)) return;
        if (hard && next == n) { /* a trailing newline ends the text without an empty line */
            break;
        }
        start = next;
    }
}

size_t traces_layout(struct tui *t, const struct sample_group *g, int w) {
    struct builder b = {t, 0, w};
    t->fbuf_used = 0;
    char tmp[256], a[32], c[32];
    /* header: step, group, task, expected answer */
    size_t at = t->fbuf_used;
    snprintf(tmp, sizeof tmp, "step %lld  group %lld", (long long)g->step, (long long)g->group);
    fb_add(t, tmp, strlen(tmp), COLOR_ROLE_TITLE);
    if (g->task[0]) {
        fb_add(t, "  ", 2, COLOR_ROLE_INACTIVE);
        fb_add(t, g->task, strlen(g->task), COLOR_ROLE_INACTIVE);
    }
    if (g->answer[0]) {
        fb_add(t, "  answer ", 9, COLOR_ROLE_INACTIVE);
        fb_add(t, g->answer, strlen(g->answer), COLOR_ROLE_ANSWER);
    }
    if (g->zero_std) fb_add(t, "  zero-std", 10, COLOR_ROLE_WARN);
    wrap(&b, t->fbuf + at, t->fbuf_used - at, t->fsty + at, 0, 0);
    /* prompt */
    at = fb_add(t, "Q: ", 3, COLOR_ROLE_HI);
    size_t pl = strlen(g->prompt);
    fb_add(t, g->prompt, pl, COLOR_ROLE_PROMPT);
    if (t->view.search[0]) { /* mark matches in the prompt too */
        size_t ql = strlen(t->view.search);
        long m = 0;
        while ((m = viewstate_find(t->fbuf + at, t->fbuf_used - at, t->view.search, (size_t)m)) >= 0) {
            memset(t->fsty + at + m, COLOR_ROLE_MATCH, ql);
            m += (long)ql;
        }
    }
    wrap(&b, t->fbuf + at, t->fbuf_used - at, t->fsty + at, 0, 0);
    for (size_t i = 0; i < g->n; i++) {
        const struct sample_completion *cp = &g->c[i];
        push_line(&b, "", 0, NULL, COLOR_ROLE_MAIN, 0);
        at = t->fbuf_used;
        snprintf(tmp, sizeof tmp, "#%zu ", i + 1);
        fb_add(t, tmp, strlen(tmp), COLOR_ROLE_TITLE);
        if (cp->correct == 1)
            fb_add(t, t->ascii ? "ok" : "✓", t->ascii ? 2 : 3, COLOR_ROLE_CORRECT);
        else if (cp->correct == 0)
            fb_add(t, t->ascii ? "x" : "✗", t->ascii ? 1 : 3, COLOR_ROLE_WRONG);
        else
            fb_add(t, "?", 1, COLOR_ROLE_INACTIVE);
        fb_add(t, "  reward ", 9, COLOR_ROLE_INACTIVE);
        if (isfinite(cp->reward))
            fmt_value(cp->reward, a, sizeof a);
        else
            snprintf(a, sizeof a, "n/a");
        fb_add(t, a, strlen(a), COLOR_ROLE_MAIN);
        fb_add(t, "  adv ", 6, COLOR_ROLE_INACTIVE);
        if (isfinite(cp->advantage))
            snprintf(c, sizeof c, "%+.3f", cp->advantage);
        else
            snprintf(c, sizeof c, "n/a");
        fb_add(t, c, strlen(c),
               cp->advantage > 0   ? COLOR_ROLE_CORRECT
               : cp->advantage < 0 ? COLOR_ROLE_WRONG
                                   : COLOR_ROLE_MAIN);
        if (cp->length >= 0) {
            snprintf(tmp, sizeof tmp, "  len %lld", (long long)cp->length);
            fb_add(t, tmp, strlen(tmp), COLOR_ROLE_INACTIVE);
        }
        if (cp->clipped) fb_add(t, "  clipped", 9, COLOR_ROLE_LENGTH_CAP);
        /* What the reflection and language metrics count, per completion. */
        if (reward_has_reflection(cp->text, cp->text_len)) fb_add(t, "  checks", 8, COLOR_ROLE_REFLECT);
        if (reward_mixed_language(cp->text, cp->text_len, REWARD_LANG_EN))
            fb_add(t, "  mixed", 7, COLOR_ROLE_REWARD_LANGUAGE);
        wrap(&b, t->fbuf + at, t->fbuf_used - at, t->fsty + at, 0, 0);
        uint8_t *st = t->styles + i * UI_STYLE_BYTES;
        size_t tl = cp->text_len < UI_STYLE_BYTES ? cp->text_len : UI_STYLE_BYTES;
        style_text(t, cp->text, tl, st);
        wrap(&b, cp->text, tl, st, 0, 2);
        if (cp->text_cut) {
            at = t->fbuf_used;
            snprintf(tmp, sizeof tmp, "[... %zu more bytes not shown]", cp->text_cut);
            fb_add(t, tmp, strlen(tmp), COLOR_ROLE_INACTIVE);
            wrap(&b, t->fbuf + at, t->fbuf_used - at, t->fsty + at, 0, 2);
        }
    }
    if (g->n_total > g->n) {
        at = t->fbuf_used;
        snprintf(tmp, sizeof tmp, "[%zu more completions not shown]", g->n_total - g->n);
        fb_add(t, tmp, strlen(tmp), COLOR_ROLE_INACTIVE);
        wrap(&b, t->fbuf + at, t->fbuf_used - at, t->fsty + at, 0, 0);
    }
    return b.n;
}

/* ---- drawing ---- */

static void draw_line(struct tui *t, int y, int x, int w, const struct trace_line *l) {
    x += l->indent;
    w -= l->indent;
    if (!l->styles) {
        ui_putn(t, y, x, w, (enum color_role)l->role, 0, l->text, l->len);
        return;
    }
    size_t i = 0;
    int used = 0;
    while (i < l->len && used < w) {
        size_t j = i + 1;
        while (j < l->len && l->styles[j] == l->styles[i]) j++;
        /* never split a character between two runs */
        while (j < l->len && ((unsigned char)l->text[j] & 0xC0) == 0x80) j++;
        used += ui_putn(t, y, x + used, w - used, (enum color_role)l->styles[i], 0, l->text + i, j - i);
        i = j;
    }
}

void draw_traces(struct tui *t, const struct rect *r) {
    struct run_source *rs = t->src;
    ui_box(t, r, t->view.focus == PANEL_TRACES);
    int ix = r->x + 1, iy = r->y + 1, iw = r->w - 2, ih = r->h - 2;
    char title[160];
    size_t sel = viewstate_selected(&t->view, t->src);
    bool have = sel < rs->n_idx;
    if (have) {
        int64_t step = rs->idx[sel].step;
        size_t b = run_source_step_begin(rs, step), cnt = run_source_step_count(rs, step);
        snprintf(title, sizeof title, "step %lld  group %zu/%zu%s%s ", (long long)step, sel - b + 1, cnt,
                 t->view.follow ? "  (following)" : "", t->view.search[0] ? "  /" : "");
    } else {
        title[0] = '\0';
    }
    bool focused = t->view.focus == PANEL_TRACES;
    int x = r->x + 2;
    x += ui_put(t, r->y, x, r->w - 4, focused ? COLOR_ROLE_BORDER_FOCUS : COLOR_ROLE_TITLE, A_BOLD, " 4 Traces ");
    x += ui_put(t, r->y, x, r->x + r->w - 2 - x, COLOR_ROLE_INACTIVE, 0, title);
    if (t->view.search[0]) ui_put(t, r->y, x - 1, r->x + r->w - 2 - x, COLOR_ROLE_MATCH, 0, t->view.search);
    if (!have) {
        ui_put(t, iy + ih / 2, ix + 1, iw - 2, COLOR_ROLE_INACTIVE, 0, "no samples logged yet");
        return;
    }
    const struct sample_group *g = run_source_group(rs, sel);
    if (!g) {
        ui_put(t, iy + ih / 2, ix + 1, iw - 2, COLOR_ROLE_WARN, 0, "this group's line can no longer be read");
        return;
    }
    size_t n = traces_layout(t, g, iw - 1);
    if (t->view.scroll_to_match) {
        t->view.scroll_to_match = false;
        for (size_t i = 0; i < n; i++) {
            const struct trace_line *l = &t->lines[i];
            if (l->styles && memchr(l->styles, COLOR_ROLE_MATCH, l->len)) {
                t->view.trace_scroll = (int)i > 2 ? (int)i - 2 : 0;
                break;
            }
        }
    }
    int max_scroll = (int)n - ih;
    if (max_scroll < 0) max_scroll = 0;
    if (t->view.trace_scroll > max_scroll) t->view.trace_scroll = max_scroll;
    if (t->view.trace_scroll < 0) t->view.trace_scroll = 0;
    for (int row = 0; row < ih && (size_t)(t->view.trace_scroll + row) < n; row++)
        draw_line(t, iy + row, ix, iw - 1, &t->lines[t->view.trace_scroll + row]);
    if (t->view.trace_scroll > 0) ui_put(t, iy, ix + iw - 1, 1, COLOR_ROLE_HI, 0, t->ascii ? "^" : "↑");
    if (t->view.trace_scroll < max_scroll) ui_put(t, iy + ih - 1, ix + iw - 1, 1, COLOR_ROLE_HI, 0, t->ascii ? "v" : "↓");
}
