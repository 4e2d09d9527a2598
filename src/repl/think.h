/* think: splits streamed reply text into its parts — text inside <think>…</think>, text inside
 * <answer>…</answer>, and the rest — as it arrives, so the REPL can dim the reasoning and make the answer
 * stand out while tokens stream.
 *
 * Tags may arrive split across pieces ("<thi" + "nk>"): bytes that could still become a tag are held back
 * until the next piece decides (at most the length of the longest tag). The output is a pure function of
 * the concatenated input, however it was split. Answer tags inside a think block are think text; a nested
 * <think> is think text. Tags themselves are reported with tag = true (their kind is the block they open or
 * close). Does no I/O and no allocation. */
#ifndef R1LAB_THINK_H
#define R1LAB_THINK_H

#include <stdbool.h>
#include <stddef.h>

enum seg_kind { SEG_TEXT, SEG_THINK, SEG_ANSWER };

typedef void (*think_seg_fn)(void *user, enum seg_kind kind, bool tag, const char *s, size_t n);

struct think_splitter {
    think_seg_fn fn;
    void *user;
    bool in_think, in_answer;
    char held[16]; /* a possible tag prefix, starting with '<' */
    size_t n_held;
};

void think_init(struct think_splitter *t, think_seg_fn fn, void *user);
void think_feed(struct think_splitter *t, const char *s, size_t n);
/* Emits held bytes as text (the end of the reply). The state (inside think or not) is kept. */
void think_flush(struct think_splitter *t);
/* The kind ordinary text would have now. */
enum seg_kind think_kind(const struct think_splitter *t);

#endif
