/* Tests of the interactive REPL on a pseudo-terminal: the prompt, streaming with colours, Ctrl-C on an empty
 * line / on typed text / during a generation, Ctrl-D, tab completion, """ blocks, the history file, side by
 * side on a terminal, escape sequences from a server, SIGTERM — and that the terminal's modes are restored
 * after every one of them. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

#include "engine/util/fsutil.h"
#include "fake_openai.h"
#include "harness.h"
#include "th_pty.h"

static void expect_restored(struct th_pty *p) {
    struct termios t;
    cr_assert_eq(tcgetattr(p->fd, &t), 0);
    cr_expect(t.c_lflag & ICANON, "canonical mode restored");
    cr_expect(t.c_lflag & ECHO, "echo restored");
    cr_expect(t.c_lflag & ISIG, "signals restored");
}

#define EXPECT(p, s, t) cr_assert(th_pty_expect((p), (s), (t)), "expected '%s'; output so far:\n%s", (s), (p)->out)

/* `r1lab chat URL#MODEL` on a pty, against a fresh fake server in `mode`, with history off. */
static void chat_with_fake(struct fake_server *srv, struct th_pty *p, enum fake_mode mode, const char *model) {
    cr_assert(fake_start(srv, mode, 2, NULL));
    char spec[200];
    snprintf(spec, sizeof spec, "%s#%s", srv->url, model);
    cr_assert(
        th_pty_spawn(p, (const char *[]){"chat", spec, NULL}, (const char *[]){"R1LAB_HISTORY=", NULL}, 100, 30));
}

Test(repl_pty, prompt_keys_history_and_restore, .timeout = 60) {
    char *dir = th_tmpdir("pty");
    char hist_env[600], hist[560];
    snprintf(hist, sizeof hist, "%s/state/history", dir);
    snprintf(hist_env, sizeof hist_env, "R1LAB_HISTORY=%s", hist);
    char *m = th_path("tests/fixtures/models/qwen2_tiny");
    struct th_pty p;
    cr_assert(th_pty_spawn(&p, (const char *[]){"chat", m, "--template", "raw", "-n", "12", "-t", "0", NULL},
                           (const char *[]){hist_env, "OMP_NUM_THREADS=1", NULL}, 100, 30));
    EXPECT(&p, "r1lab chat", 10);
    EXPECT(&p, ">>>", 10);
    th_pty_send(&p, "hello\r");
    EXPECT(&p, "tok/s", 10);
    EXPECT(&p, ">>>", 5);
    th_pty_send(&p, "/show\r");
    EXPECT(&p, "template: raw", 5);
    EXPECT(&p, ">>>", 5);
    th_pty_send(&p, "\x03"); /* Ctrl-C on an empty line */
    EXPECT(&p, "to leave, press Ctrl-D or type /quit", 5);
    EXPECT(&p, ">>>", 5);
    th_pty_send(&p, "typed but dropped");
    EXPECT(&p, "dropped", 5); /* echoed: readline has it (a ^C in the same write would flush the tty's queue) */
    size_t after_text = p.cursor;
    th_pty_send(&p, "\x03");
    EXPECT(&p, "^C", 5);
    /* right after the dropped text, on its line: not after a carriage return, where it overwrote the prompt */
    cr_expect_eq(p.cursor - 2, after_text, "^C written at the end of the typed text: %s", p.out + after_text - 7);
    EXPECT(&p, ">>>", 5);
    th_pty_send(&p, "/he\t\r"); /* completes to /help */
    EXPECT(&p, "commands:", 5);
    EXPECT(&p, ">>>", 5);
    th_pty_send(&p, "\"\"\"\r");
    EXPECT(&p, "...", 5);
    th_pty_send(&p, "multi\rline\"\"\"\r");
    EXPECT(&p, "tok/s", 10);
    EXPECT(&p, ">>>", 5);
    th_pty_send(&p, "\x04"); /* Ctrl-D */
    cr_assert(th_pty_wait(&p, 10), "exits on Ctrl-D");
    cr_expect_eq(p.exit_code, 0);
    expect_restored(&p);
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(hist, 1 << 20, &text, &len), STATUS_OK, "history written to %s", hist);
    cr_expect(strstr(text, "hello\n/show\n/help\n\"\"\"\\nmulti\\nline\\n\"\"\"\n") != NULL, "%s", text);
    cr_expect(strstr(text, "dropped") == NULL, "an interrupted line is not history");
    free(text);
    th_pty_free(&p);

    /* The next session finds the history: Up recalls the last entry. */
    cr_assert(th_pty_spawn(&p, (const char *[]){"chat", m, "--template", "raw", "-n", "4", NULL},
                           (const char *[]){hist_env, "OMP_NUM_THREADS=1", NULL}, 100, 30));
    EXPECT(&p, ">>>", 10);
    th_pty_send(&p, "\x1b[A\x1b[A"); /* Up twice: "/help" */
    th_pty_send(&p, "\r");
    EXPECT(&p, "commands:", 5);
    EXPECT(&p, ">>>", 10); /* type only at the prompt, as a person would */
    th_pty_send(&p, "/quit\r");
    cr_assert(th_pty_wait(&p, 10));
    cr_expect_eq(p.exit_code, 0);
    expect_restored(&p);
    th_pty_free(&p);
    free(m);
    fs_remove_tree(dir);
    free(dir);
}

Test(repl_pty, ctrl_c_stops_a_generation_and_keeps_the_repl, .timeout = 60) {
    struct fake_server srv;
    struct th_pty p;
    chat_with_fake(&srv, &p, FAKE_TRICKLE, "slow");
    EXPECT(&p, ">>>", 10);
    th_pty_send(&p, "go\r");
    EXPECT(&p, "tick 3 ", 10);
    th_pty_send(&p, "\x03");
    /* what arrived is kept and gets its stats line, as every reply does */
    EXPECT(&p, "[interrupted] ", 5);
    EXPECT(&p, " tok/s \xc2\xb7 first token ", 5);
    EXPECT(&p, "aborted", 5);
    EXPECT(&p, ">>>", 5);
    cr_expect(strstr(p.out, "tick 399") == NULL, "stopped early");
    cr_expect(strstr(p.out, "to leave") == NULL, "the Ctrl-C was used up by the generation");
    th_pty_send(&p, "/show\r");
    EXPECT(&p, "conversation: 1 prompt", 5);
    EXPECT(&p, "history: off", 5); /* R1LAB_HISTORY= turns it off */
    EXPECT(&p, ">>>", 10); /* type only at the prompt, as a person would */
    th_pty_send(&p, "/quit\r");
    cr_assert(th_pty_wait(&p, 10));
    cr_expect_eq(p.exit_code, 0);
    expect_restored(&p);
    th_pty_free(&p);
    fake_stop(&srv);
}

Test(repl_pty, colours_think_and_escapes_on_a_terminal, .timeout = 60) {
    struct fake_server srv;
    struct th_pty p;
    chat_with_fake(&srv, &p, FAKE_REASONING, "r");
    EXPECT(&p, ">>>", 10);
    th_pty_send(&p, "q\r");
    EXPECT(&p, "\033[0;2m<think>Let me", 10);
    EXPECT(&p, "\033[0;1m4", 5); /* the answer stands out */
    EXPECT(&p, "tok/s", 5);
    EXPECT(&p, ">>>", 10); /* type only at the prompt, as a person would */
    th_pty_send(&p, "/quit\r");
    cr_assert(th_pty_wait(&p, 10));
    th_pty_free(&p);
    fake_stop(&srv);

    chat_with_fake(&srv, &p, FAKE_ESCAPES, "e");
    EXPECT(&p, ">>>", 10);
    th_pty_send(&p, "q\r");
    EXPECT(&p, "tok/s", 10);
    cr_expect(strstr(p.out, "\xe2\x90\x9b]0;pwned\xe2\x90\x87") != NULL, "shown as text: %s", p.out);
    cr_expect(strstr(p.out, "\x1b]0;pwned") == NULL, "never sent raw");
    cr_expect(strstr(p.out, "\x1b[31mALERT") == NULL, "never sent raw");
    EXPECT(&p, ">>>", 10); /* type only at the prompt, as a person would */
    th_pty_send(&p, "\x04");
    cr_assert(th_pty_wait(&p, 10));
    expect_restored(&p);
    th_pty_free(&p);
    fake_stop(&srv);
}

Test(repl_pty, side_by_side_on_a_terminal, .timeout = 60) {
    char *a = th_path("tests/fixtures/models/qwen2_tiny"), *b = th_path("tests/fixtures/models/llama_tiny");
    struct th_pty p;
    cr_assert(th_pty_spawn(&p, (const char *[]){"chat", a, "--compare", b, "--template", "raw", "-n", "24", NULL},
                           (const char *[]){"R1LAB_HISTORY=", "OMP_NUM_THREADS=1", NULL}, 90, 30));
    EXPECT(&p, ">>>", 10);
    th_pty_send(&p, "Hello\r");
    EXPECT(&p, "qwen2_tiny", 10);
    EXPECT(&p, " \xe2\x94\x82 ", 5); /* the column separator */
    EXPECT(&p, "tok/s", 10);
    EXPECT(&p, "tok/s", 10);
    EXPECT(&p, ">>>", 10);
    th_pty_send(&p, "/diff\r");
    EXPECT(&p, "words in common", 5);
    EXPECT(&p, ">>>", 10); /* type only at the prompt, as a person would */
    th_pty_send(&p, "/quit\r");
    cr_assert(th_pty_wait(&p, 10));
    cr_expect_eq(p.exit_code, 0);
    expect_restored(&p);
    th_pty_free(&p);
    free(a);
    free(b);
}

Test(repl_pty, sigterm_restores_the_terminal, .timeout = 60) {
    char *m = th_path("tests/fixtures/models/qwen2_tiny");
    struct th_pty p;
    cr_assert(th_pty_spawn(&p, (const char *[]){"chat", m, "--template", "raw", NULL},
                           (const char *[]){"R1LAB_HISTORY=", NULL}, 80, 24));
    EXPECT(&p, ">>>", 10);
    th_pty_send(&p, "half typed");
    EXPECT(&p, "half typed", 5);
    kill(p.pid, SIGTERM);
    cr_assert(th_pty_wait(&p, 10));
    cr_expect_eq(p.exit_code, 3);
    expect_restored(&p);
    th_pty_free(&p);
    free(m);
}

Test(repl_pty, bracketed_paste_is_one_prompt, .timeout = 60) {
    char *dir = th_tmpdir("paste");
    char log[512];
    snprintf(log, sizeof log, "%s/requests.log", dir);
    struct fake_server srv;
    cr_assert(fake_start(&srv, FAKE_NORMAL, 2, log));
    char spec[200];
    snprintf(spec, sizeof spec, "%s#m", srv.url);
    struct th_pty p;
    char state[600];
    snprintf(state, sizeof state, "XDG_STATE_HOME=%s/state", dir);
    cr_assert(th_pty_spawn(&p, (const char *[]){"chat", spec, NULL}, (const char *[]){state, NULL}, 100, 30));
    EXPECT(&p, ">>>", 10);
    th_pty_send(&p, "\x1b[200~pasted line one\rpasted line two\x1b[201~");
    EXPECT(&p, "line two", 5);
    th_pty_send(&p, "\r");
    EXPECT(&p, "tok/s", 10);
    EXPECT(&p, ">>>", 5);
    th_pty_send(&p, "/quit\r");
    cr_assert(th_pty_wait(&p, 10));
    th_pty_free(&p);
    fake_stop(&srv);
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(log, 1 << 20, &text, &len), STATUS_OK);
    cr_expect(strstr(text, "\"content\": \"pasted line one\\npasted line two\"") != NULL, "one user message: %s", text);
    free(text);
    char hist[600];
    snprintf(hist, sizeof hist, "%s/state/r1lab/history", dir);
    cr_assert_eq(fs_read_file(hist, 1 << 20, &text, &len), STATUS_OK, "history under $XDG_STATE_HOME/r1lab");
    cr_expect_str_eq(text, "pasted line one\\npasted line two\n/quit\n");
    free(text);
    fs_remove_tree(dir);
    free(dir);
}
