/* template: prompt templates — how a conversation (an optional system text and user / assistant turns)
 * becomes the text a model continues. Used by the trainer (one user turn: the problem) and by the REPL.
 *
 *   r1-zero  Table 1 of the DeepSeek-R1 paper, verbatim:
 *            "A conversation between User and Assistant. … <think> reasoning process here </think> <answer>
 *            answer here </answer>. User: {prompt}. Assistant:"
 *            The '.' after {prompt} is part of the template, so it follows the prompt whatever its last
 *            character (the built-in tasks' prompts end without punctuation for that reason). A system text,
 *            when given, replaces the preamble (everything before " User:"). Further turns continue the same
 *            way: " Assistant: {reply} User: {prompt}. Assistant:". The model's completion starts right after
 *            "Assistant:", normally with " <think>".
 *   r1       DeepSeek-R1's chat format: "<｜begin▁of▁sentence｜>{system}<｜User｜>{prompt}<｜Assistant｜>"; an
 *            earlier assistant turn is followed by "<｜end▁of▁sentence｜>" and, as in DeepSeek's own template,
 *            loses its "<think>…</think>" part (only the summary stays in the history). The generation prompt
 *            does not force "<think>\n" (the model writes its own <think>).
 *   chatml   Qwen: "<|im_start|>system\n{system}<|im_end|>\n" (only when a system text is given — Qwen2.5's
 *            own template would insert its default system prompt; pass it explicitly to get it), then
 *            "<|im_start|>user\n{prompt}<|im_end|>\n", generation prompt "<|im_start|>assistant\n".
 *   llama3   "<|begin_of_text|>", then per turn "<|start_header_id|>{role}<|end_header_id|>\n\n{content}
 *            <|eot_id|>" with the content trimmed as Meta's template does, generation prompt
 *            "<|start_header_id|>assistant<|end_header_id|>\n\n". No "Cutting Knowledge Date" system block.
 *   raw      the prompt as is; a system text and further turns are joined with "\n".
 *
 * Rendering only builds text: special-token strings like <|im_start|> are left for the tokenizer to
 * recognise as added tokens. */
#ifndef R1LAB_TEMPLATE_H
#define R1LAB_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/util/status.h"

enum template_kind { TEMPLATE_R1_ZERO, TEMPLATE_R1, TEMPLATE_CHATML, TEMPLATE_LLAMA3, TEMPLATE_RAW, TEMPLATE_COUNT };
enum chat_role { CHAT_USER, CHAT_ASSISTANT };

struct chat_turn {
    enum chat_role role;
    const char *content;
};

/* The R1-Zero preamble: Table 1 up to and including "</answer>." (no trailing space). */
extern const char TEMPLATE_R1_ZERO_PREAMBLE[];

/* "r1-zero", "r1", "chatml", "llama3", "raw" (indexable 0 .. TEMPLATE_COUNT-1). */
const char *template_name(enum template_kind kind);
/* An unknown name is STATUS_INVALID listing the valid ones. */
enum status template_parse(const char *name, enum template_kind *out);

/* Renders a conversation into *out (malloc'd). system may be NULL. add_generation_prompt appends what
 * makes the model answer as the assistant. */
enum status template_render(enum template_kind kind, const char *system, const struct chat_turn *turns, size_t n_turns,
                            bool add_generation_prompt, char **out);
/* One user turn plus the generation prompt: what the trainer feeds for a problem. */
enum status template_render_prompt(enum template_kind kind, const char *prompt, char **out);
/* The text that ends an assistant turn in this format ("<|im_end|>", "<|eot_id|>", "<｜end▁of▁sentence｜>"),
 * or NULL for r1-zero and raw, which end with the tokenizer's end-of-sequence token. */
const char *template_stop_text(enum template_kind kind);

#endif
