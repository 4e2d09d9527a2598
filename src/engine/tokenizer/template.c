/* template: implementation. Each format is a few appends; the r1-zero text is stored once, verbatim. */
#include "engine/tokenizer/template.h"

#include <string.h>

#include "engine/util/strbuf.h"

const char TEMPLATE_R1_ZERO_PREAMBLE[] =
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The "
    "assistant first thinks about the reasoning process in the mind and then provides the user with the answer. "
    "The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, "
    "respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>.";

static const char *const NAMES[TEMPLATE_COUNT] = {"r1-zero", "r1", "chatml", "llama3", "raw"};

#define R1_BOS                                                                                                         \
    "<\xEF\xBD\x9C"                                                                                                    \
    "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"
#define R1_EOS                                                                                                         \
    "<\xEF\xBD\x9C"                                                                                                    \
    "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"
#define R1_USER "<\xEF\xBD\x9CUser\xEF\xBD\x9C>"
#define R1_ASSISTANT                                                                                                   \
    "<\xEF\xBD\x9C"                                                                                                    \
    "Assistant\xEF\xBD\x9C>"

const char *template_name(enum template_kind kind) {
    ASSERT(kind >= 0 && kind < TEMPLATE_COUNT);
    return NAMES[kind];
}

enum status template_parse(const char *name, enum template_kind *out) {
    for (int k = 0; k < TEMPLATE_COUNT; k++)
        if (strcmp(name, NAMES[k]) == 0) {
            *out = (enum template_kind)k;
            return STATUS_OK;
        }
    return err_set(STATUS_INVALID, "unknown template \"%s\" (valid: r1-zero, r1, chatml, llama3, raw)", name);
}

const char *template_stop_text(enum template_kind kind) {
    switch (kind) {
    case TEMPLATE_R1:
        return R1_EOS;
    case TEMPLATE_CHATML:
        return "<|im_end|>";
    case TEMPLATE_LLAMA3:
        return "<|eot_id|>";
    default:
        return NULL;
    }
}

static bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void put_trimmed(struct strbuf *sb, const char *s) {
    size_t n = strlen(s);
    while (n && is_ws(*s)) {
        s++;
        n--;
    }
    while (n && is_ws(s[n - 1])) n--;
    strbuf_append(sb, s, n);
}

static void render_r1_zero(struct strbuf *sb, const char *system, const struct chat_turn *t, size_t n, bool gen) {
    strbuf_puts(sb, system ? system : TEMPLATE_R1_ZERO_PREAMBLE);
    for (size_t i = 0; i < n; i++) {
        if (t[i].role == CHAT_USER) {
            strbuf_puts(sb, " User: ");
            strbuf_puts(sb, t[i].content);
            strbuf_putc(sb, '.');
        } else {
            strbuf_puts(sb, " Assistant: ");
            put_trimmed(sb, t[i].content);
        }
    }
    if (gen) strbuf_puts(sb, " Assistant:");
}

static void render_r1(struct strbuf *sb, const char *system, const struct chat_turn *t, size_t n, bool gen) {
    strbuf_puts(sb, R1_BOS);
    if (system) strbuf_puts(sb, system);
    for (size_t i = 0; i < n; i++) {
        if (t[i].role == CHAT_USER) {
            strbuf_puts(sb, R1_USER);
            strbuf_puts(sb, t[i].content);
        } else {
            const char *c = t[i].content, *end = strstr(c, "</think>");
            strbuf_puts(sb, R1_ASSISTANT);
            put_trimmed(sb, end ? end + 8 : c);
            strbuf_puts(sb, R1_EOS);
        }
    }
    if (gen) strbuf_puts(sb, R1_ASSISTANT);
}

static void render_chatml(struct strbuf *sb, const char *system, const struct chat_turn *t, size_t n, bool gen) {
    if (system) strbuf_printf(sb, "<|im_start|>system\n%s<|im_end|>\n", system);
    for (size_t i = 0; i < n; i++)
        strbuf_printf(sb, "<|im_start|>%s\n%s<|im_end|>\n", t[i].role == CHAT_USER ? "user" : "assistant",
                      t[i].content);
    if (gen) strbuf_puts(sb, "<|im_start|>assistant\n");
}

static void llama3_turn(struct strbuf *sb, const char *role, const char *content) {
    strbuf_printf(sb, "<|start_header_id|>%s<|end_header_id|>\n\n", role);
    put_trimmed(sb, content);
    strbuf_puts(sb, "<|eot_id|>");
}

static void render_llama3(struct strbuf *sb, const char *system, const struct chat_turn *t, size_t n, bool gen) {
    strbuf_puts(sb, "<|begin_of_text|>");
    if (system) llama3_turn(sb, "system", system);
    for (size_t i = 0; i < n; i++) llama3_turn(sb, t[i].role == CHAT_USER ? "user" : "assistant", t[i].content);
    if (gen) strbuf_puts(sb, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

static void render_raw(struct strbuf *sb, const char *system, const struct chat_turn *t, size_t n) {
    if (system) strbuf_puts(sb, system);
    for (size_t i = 0; i < n; i++) {
        if (i || system) strbuf_putc(sb, '\n');
        strbuf_puts(sb, t[i].content);
    }
}

enum status template_render(enum template_kind kind, const char *system, const struct chat_turn *turns, size_t n_turns,
                            bool add_generation_prompt, char **out) {
    *out = NULL;
    struct strbuf sb = {0};
    switch (kind) {
    case TEMPLATE_R1_ZERO:
        render_r1_zero(&sb, system, turns, n_turns, add_generation_prompt);
        break;
    case TEMPLATE_R1:
        render_r1(&sb, system, turns, n_turns, add_generation_prompt);
        break;
    case TEMPLATE_CHATML:
        render_chatml(&sb, system, turns, n_turns, add_generation_prompt);
        break;
    case TEMPLATE_LLAMA3:
        render_llama3(&sb, system, turns, n_turns, add_generation_prompt);
        break;
    case TEMPLATE_RAW:
        render_raw(&sb, system, turns, n_turns);
        break;
    default:
        ASSERTF(0, "template_render: bad kind %d", (int)kind);
    }
    enum status st = strbuf_status(&sb);
    if (st != STATUS_OK) {
        strbuf_free(&sb);
        return st;
    }
    *out = strbuf_detach(&sb);
    return STATUS_OK;
}

enum status template_render_prompt(enum template_kind kind, const char *prompt, char **out) {
    struct chat_turn t = {CHAT_USER, prompt};
    return template_render(kind, NULL, &t, 1, true, out);
}
