/* Tests for template.h. The r1-zero text is compared byte for byte with tests/fixtures/templates/r1-zero.txt,
 * which is line 50 of shared/seeds/000_a48fed7fee871503.txt (Table 1 of the DeepSeek-R1 paper) copied
 * verbatim, with the literal word "prompt" where the question goes. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer/template.h"
#include "engine/util/fsutil.h"
#include "harness.h"

static char *render(enum template_kind k, const char *system, const struct chat_turn *t, size_t n, bool gen) {
    char *out = NULL;
    cr_assert_eq(template_render(k, system, t, n, gen, &out), STATUS_OK, "%s", err_msg());
    return out;
}

Test(template, r1_zero_is_table_1_verbatim) {
    char *path = th_path("tests/fixtures/templates/r1-zero.txt");
    char *want;
    size_t len;
    cr_assert_eq(fs_read_file(path, 4096, &want, &len), STATUS_OK, "%s", err_msg());
    char *got = NULL;
    cr_assert_eq(template_render_prompt(TEMPLATE_R1_ZERO, "prompt", &got), STATUS_OK);
    cr_expect_eq(strlen(got), len, "length %zu vs %zu", strlen(got), len);
    cr_expect_str_eq(got, want);
    free(got);
    /* The '.' after the prompt belongs to the template. */
    cr_assert_eq(template_render_prompt(TEMPLATE_R1_ZERO, "Solve: 2x + 3 = 7", &got), STATUS_OK);
    const char *tail = " User: Solve: 2x + 3 = 7. Assistant:";
    cr_expect_str_eq(got + strlen(got) - strlen(tail), tail);
    cr_expect(strncmp(got, TEMPLATE_R1_ZERO_PREAMBLE, strlen(TEMPLATE_R1_ZERO_PREAMBLE)) == 0);
    free(got);
    free(want);
    free(path);
}

Test(template, r1_zero_multi_turn_and_system) {
    struct chat_turn t[] = {
        {CHAT_USER, "q1"}, {CHAT_ASSISTANT, " <think> a </think> <answer> 1 </answer> "}, {CHAT_USER, "q2"}};
    char *got = render(TEMPLATE_R1_ZERO, "Be brief.", t, 3, true);
    cr_expect_str_eq(got,
                     "Be brief. User: q1. Assistant: <think> a </think> <answer> 1 </answer> User: q2. Assistant:");
    free(got);
}

Test(template, chatml) {
    struct chat_turn t[] = {{CHAT_USER, "Hi"}, {CHAT_ASSISTANT, "Hello"}, {CHAT_USER, "2+2?"}};
    char *got = render(TEMPLATE_CHATML, "You are helpful.", t, 3, true);
    cr_expect_str_eq(got, "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                          "<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
                          "<|im_start|>assistant\n");
    free(got);
    got = render(TEMPLATE_CHATML, NULL, t, 1, false);
    cr_expect_str_eq(got, "<|im_start|>user\nHi<|im_end|>\n");
    free(got);
    cr_expect_str_eq(template_stop_text(TEMPLATE_CHATML), "<|im_end|>");
}

Test(template, llama3) {
    struct chat_turn t[] = {{CHAT_USER, "  Hi \n"}};
    char *got = render(TEMPLATE_LLAMA3, "Sys", t, 1, true);
    cr_expect_str_eq(got, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nSys<|eot_id|>"
                          "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                          "<|start_header_id|>assistant<|end_header_id|>\n\n");
    free(got);
    cr_expect_str_eq(template_stop_text(TEMPLATE_LLAMA3), "<|eot_id|>");
}

Test(template, r1_chat_drops_old_reasoning) {
    struct chat_turn t[] = {
        {CHAT_USER, "q1"}, {CHAT_ASSISTANT, "<think>\nlong\n</think>\n\nThe answer is 1."}, {CHAT_USER, "q2"}};
    char *got = render(TEMPLATE_R1, NULL, t, 3, true);
    cr_expect_str_eq(got, "<｜begin▁of▁sentence｜><｜User｜>q1<｜Assistant｜>The answer is 1.<｜end▁of▁sentence｜>"
                          "<｜User｜>q2<｜Assistant｜>");
    free(got);
    cr_expect_str_eq(template_stop_text(TEMPLATE_R1), "<｜end▁of▁sentence｜>");
}

Test(template, raw_and_names) {
    char *got = NULL;
    cr_assert_eq(template_render_prompt(TEMPLATE_RAW, "just this", &got), STATUS_OK);
    cr_expect_str_eq(got, "just this");
    free(got);
    struct chat_turn t[] = {{CHAT_USER, "a"}, {CHAT_ASSISTANT, "b"}};
    got = render(TEMPLATE_RAW, "s", t, 2, true);
    cr_expect_str_eq(got, "s\na\nb");
    free(got);
    got = render(TEMPLATE_RAW, NULL, NULL, 0, false);
    cr_expect_str_eq(got, "");
    free(got);
    cr_expect_null(template_stop_text(TEMPLATE_R1_ZERO));
    for (int k = 0; k < TEMPLATE_COUNT; k++) {
        enum template_kind back;
        cr_expect_eq(template_parse(template_name((enum template_kind)k), &back), STATUS_OK);
        cr_expect_eq(back, k);
    }
    enum template_kind k;
    cr_expect_eq(template_parse("qwen", &k), STATUS_INVALID);
    cr_expect(strstr(err_msg(), "r1-zero, r1, chatml, llama3, raw"), "%s", err_msg());
}
