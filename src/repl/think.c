/* think: the tag splitter, a byte-level state machine with a small hold-back buffer. */
#include "think.h"

#include <string.h>

static const char *const TAGS[4] = {"<think>", "</think>", "<answer>", "</answer>"};

void think_init(struct think_splitter *t, think_seg_fn fn, void *user) {
    memset(t, 0, sizeof *t);
    t->fn = fn;
    t->user = user;
}

enum seg_kind think_kind(const struct think_splitter *t) {
    return t->in_think ? SEG_THINK : t->in_answer ? SEG_ANSWER : SEG_TEXT;
}

static void text(struct think_splitter *t, const char *s, size_t n) {
    if (n) t->fn(t->user, think_kind(t), false, s, n);
}

/* Which tag held[0..n) is exactly (0..3), -1 when it is a proper prefix of one, -2 when of none. */
static int match(const char *s, size_t n) {
    bool prefix = false;
    for (int k = 0; k < 4; k++) {
        size_t len = strlen(TAGS[k]);
        if (n == len && memcmp(s, TAGS[k], n) == 0) return k;
        if (n < len && memcmp(s, TAGS[k], n) == 0) prefix = true;
    }
    return prefix ? -1 : -2;
}

static void on_tag(struct think_splitter *t, int k) {
    const char *s = TAGS[k];
    size_t n = strlen(s);
    if (t->in_think) {
        if (k == 1) { /* </think> */
            t->fn(t->user, SEG_THINK, true, s, n);
            t->in_think = false;
        } else {
            text(t, s, n); /* other tags inside the reasoning are reasoning */
        }
        return;
    }
    switch (k) {
    case 0:
        t->in_think = true;
        t->fn(t->user, SEG_THINK, true, s, n);
        break;
    case 2:
        t->in_answer = true;
        t->fn(t->user, SEG_ANSWER, true, s, n);
        break;
    case 3:
        if (t->in_answer) {
            t->fn(t->user, SEG_ANSWER, true, s, n);
            t->in_answer = false;
        } else {
            text(t, s, n);
        }
        break;
    default: /* a stray </think> outside a think block */
        text(t, s, n);
        break;
    }
}

void think_feed(struct think_splitter *t, const char *s, size_t n) {
    size_t run = 0; /* start of the pending ordinary text in s */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (t->n_held == 0) {
            if (c != '<') continue;
            text(t, s + run, i - run);
            t->held[t->n_held++] = c;
            run = i + 1;
            continue;
        }
        t->held[t->n_held++] = c;
        int m = match(t->held, t->n_held);
        if (m >= 0) {
            t->n_held = 0;
            on_tag(t, m);
            run = i + 1;
        } else if (m == -2) {
            /* Not a tag: the first held byte is text; the rest may start a tag ("<<think>"), so feed it again. */
            char rest[16];
            size_t k = t->n_held - 1;
            memcpy(rest, t->held + 1, k);
            t->n_held = 0;
            text(t, "<", 1);
            run = i + 1;
            think_feed(t, rest, k);
        } else {
            run = i + 1;
        }
    }
    if (t->n_held == 0) text(t, s + run, n - run);
}

void think_flush(struct think_splitter *t) {
    size_t k = t->n_held;
    t->n_held = 0;
    text(t, t->held, k);
}
