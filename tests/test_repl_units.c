/* Unit tests for the REPL's pure parts: the think/answer splitter (any split of the input gives the same
 * segments), wrapping by display width over many widths (no line too wide, nothing lost, streaming equals
 * one-shot), the columns view, the stylers' think modes, the word diff, votes and their win rates, the
 * sanitiser, completion candidates and the command table. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "harness.h"
#include "repl/layout.h"
#include "repl/repl.h"
#include "repl/repl_text.h"
#include "repl/think.h"
#include "repl/view.h"
#include "repl/votes.h"
#include "repl/worddiff.h"

/* ---- think splitter ---- */

static void seg_collect(void *user, enum seg_kind kind, bool tag, const char *s, size_t n) {
    struct strbuf *sb = user;
    static const char K[] = "TKA";
    /* Adjacent text of the same kind is merged so that results do not depend on the split. */
    char head[4] = {'[', K[kind], tag ? '!' : ':', 0};
    if (!tag && sb->len >= 1) {
        /* find the start of the last segment */
        char *last = NULL;
        for (size_t i = sb->len; i-- > 0;)
            if (sb->data[i] == '[' && i + 2 < sb->len && (sb->data[i + 2] == ':' || sb->data[i + 2] == '!')) {
                last = sb->data + i;
                break;
            }
        if (last && last[1] == K[kind] && last[2] == ':' && sb->data[sb->len - 1] == ']') {
            sb->len--; /* reopen it */
            strbuf_append(sb, s, n);
            strbuf_putc(sb, ']');
            return;
        }
    }
    strbuf_puts(sb, head);
    strbuf_append(sb, s, n);
    strbuf_putc(sb, ']');
}

static char *split_all(const char *text, const size_t *cuts, size_t n_cuts) {
    struct strbuf sb = {0};
    struct think_splitter t;
    think_init(&t, seg_collect, &sb);
    size_t from = 0, n = strlen(text);
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t to = i < n_cuts ? cuts[i] : n;
        think_feed(&t, text + from, to - from);
        from = to;
    }
    think_flush(&t);
    char *s = strbuf_detach(&sb);
    return s ? s : strdup("");
}

Test(think, segments) {
    char *s = split_all(" <think> a < b </think> <answer> 4 </answer> end", NULL, 0);
    cr_expect_str_eq(s, "[T: ][K!<think>][K: a < b ][K!</think>][T: ][A!<answer>][A: 4 ][A!</answer>][T: end]");
    free(s);
    s = split_all("<<think>x<answer>y</answer></think><</answer>", NULL, 0);
    cr_expect_str_eq(s, "[T:<][K!<think>][K:x<answer>y</answer>][K!</think>][T:<</answer>]");
    free(s);
    s = split_all("tail <thi", NULL, 0);
    cr_expect_str_eq(s, "[T:tail <thi]", "an unfinished tag is text at the end");
    free(s);
}

Test(think, every_split_gives_the_same_segments) {
    const char *texts[] = {
        " <think> Let me see. 2x = 4 </think> <answer> 2 </answer>",
        "<think>\nhmm <thin <think> nested </think>\n\nSo x = 2. <answer>x = 2</answer>",
        "<<<think>>></think></answer><answer><answer>",
        "no tags at all, just < and > and </",
    };
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        char *want = split_all(texts[k], NULL, 0);
        size_t n = strlen(texts[k]);
        for (size_t i = 0; i <= n; i++)
            for (size_t j = i; j <= n; j++) {
                size_t cuts[2] = {i, j};
                char *got = split_all(texts[k], cuts, 2);
                cr_assert_str_eq(got, want, "text %zu split at %zu, %zu", k, i, j);
                free(got);
            }
        free(want);
    }
}

/* ---- layout ---- */

/* A test text: words, spaces, newlines, long words, CJK, emoji, combining marks, style markers. */
static char *make_text(unsigned seed) {
    static const char *const pieces[] = {
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        " ",
        "  ",
        "\n",
        "\n\n",
        "supercalifragilisticexpialidocious",
        "\xe4\xbd\xa0\xe5\xa5\xbd",
        "\xe4\xb8\x96\xe7\x95\x8c\xe5\x92\x8c\xe5\xb9\xb3",
        "\xf0\x9f\x98\x80",
        "e\xcc\x81t\xc3\xa9",
        "x=2",
        "\x02",
        "\x03",
        "\x01",
        "\\x1b[31m",
        "----------------------------------------",
    };
    srand(seed);
    struct strbuf sb = {0};
    int n = 20 + rand() % 120;
    for (int i = 0; i < n; i++) {
        strbuf_puts(&sb, pieces[rand() % (sizeof pieces / sizeof pieces[0])]);
        if (rand() % 3) strbuf_putc(&sb, ' ');
    }
    return strbuf_detach(&sb);
}

/* The text without spaces, newlines and markers: what wrapping must keep in order. */
static char *essence(const char *s, size_t n) {
    char *out = malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\n' && !repl_is_style((unsigned char)s[i])) out[k++] = s[i];
    out[k] = '\0';
    return out;
}

Test(layout, wrap_keeps_every_line_within_the_width) {
    size_t checked = 0;
    for (unsigned seed = 1; seed <= 40; seed++) {
        char *text = make_text(seed);
        size_t n = strlen(text);
        char *want = essence(text, n);
        for (int width = 2; width <= 120; width += (width < 30 ? 1 : 7)) {
            size_t max = n + 2;
            size_t *off = malloc(max * sizeof *off), *lens = malloc(max * sizeof *lens);
            size_t lines = layout_wrap(text, n, width, off, lens, max);
            cr_assert_leq(lines, max);
            struct strbuf joined = {0};
            for (size_t l = 0; l < lines; l++) {
                int w = repl_text_width(text + off[l], lens[l]);
                cr_assert_leq(w, width, "seed %u width %d line %zu is %d wide: '%.*s'", seed, width, l, w, (int)lens[l],
                              text + off[l]);
                strbuf_append(&joined, text + off[l], lens[l]);
                /* A line may start with spaces only after an explicit newline (indentation is kept). */
                if (l > 0 && lens[l] && text[off[l]] == ' ')
                    cr_assert(text[off[l] - 1] == '\n', "seed %u width %d line %zu starts with a break space", seed,
                              width, l);
                size_t len, next;
                int cols;
                layout_wrap_line(text + off[l], n - off[l], width, &len, &next, &cols);
                cr_assert_eq(cols, w, "reported width");
            }
            char *got = essence(joined.data ? joined.data : "", joined.len);
            cr_assert_str_eq(got, want, "seed %u width %d: wrapping lost or duplicated text", seed, width);
            free(got);
            strbuf_free(&joined);
            free(off);
            free(lens);
            checked++;
        }
        free(want);
        free(text);
    }
    cr_expect_gt(checked, 1000);
}

Test(layout, words_break_at_spaces_and_long_words_are_cut) {
    const char *t = "aaa bbb ccc\ndddddddddd e";
    size_t off[16], lens[16];
    size_t n = layout_wrap(t, strlen(t), 7, off, lens, 16);
    const char *want[] = {"aaa bbb", "ccc", "ddddddd", "ddd e"};
    cr_assert_eq(n, 4);
    for (size_t i = 0; i < n; i++) {
        char line[32];
        snprintf(line, sizeof line, "%.*s", (int)lens[i], t + off[i]);
        cr_expect_str_eq(line, want[i], "line %zu", i);
    }
    /* Wide characters are never split and count two columns. */
    const char *cjk = "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c";
    n = layout_wrap(cjk, strlen(cjk), 3, off, lens, 16);
    cr_expect_eq(n, 4);
    for (size_t i = 0; i < n; i++) cr_expect_eq(lens[i], 3);
}

Test(layout, columns_for_many_terminal_widths) {
    for (int cols = 1; cols <= 400; cols++) {
        struct layout_cols c = layout_columns(cols);
        if (c.side_by_side) {
            cr_assert_eq(c.left + LAYOUT_GAP + c.right, c.total);
            cr_assert_leq(c.total, cols - 1);
            cr_assert_geq(c.left, LAYOUT_MIN_COL);
            cr_assert_leq(abs(c.left - c.right), 1);
        } else {
            cr_assert_lt(cols - 1, 2 * LAYOUT_MIN_COL + LAYOUT_GAP);
            cr_assert_geq(c.total, 2);
        }
    }
}

/* Renders a pair through the columns view with the texts fed in pieces of the given size; plain output. */
static char *render_pair(const char *a, const char *b, int cols, size_t piece, enum think_mode mode) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct cols_view v;
    cols_view_begin(&v, f, cols, false, false, true, mode, "left model", "right model");
    size_t na = strlen(a), nb = strlen(b), ia = 0, ib = 0;
    while (ia < na || ib < nb) { /* interleave the two streams */
        if (ia < na) {
            size_t k = na - ia < piece ? na - ia : piece;
            cols_view_piece(&v, 0, PIECE_TEXT, a + ia, k);
            ia += k;
            if (ia == na) cols_view_side_done(&v, 0, "[stats a]");
        }
        if (ib < nb) {
            size_t k = nb - ib < piece * 2 ? nb - ib : piece * 2;
            cols_view_piece(&v, 1, PIECE_TEXT, b + ib, k);
            ib += k;
            if (ib == nb) cols_view_side_done(&v, 1, "[stats b]");
        }
    }
    cols_view_end(&v);
    cols_view_free(&v);
    fclose(f);
    return buf;
}

Test(layout, streamed_columns_equal_one_shot_columns) {
    for (unsigned seed = 1; seed <= 12; seed++) {
        char *a = make_text(seed * 7), *b = make_text(seed * 13);
        for (int cols = 20; cols <= 140; cols += 17) {
            char *want = render_pair(a, b, cols, 1 << 20, THINK_SHOW);
            for (size_t piece = 1; piece <= 9; piece += 4) {
                char *got = render_pair(a, b, cols, piece, THINK_SHOW);
                cr_assert_str_eq(got, want, "seed %u cols %d piece %zu", seed, cols, piece);
                free(got);
            }
            /* Every output line fits the terminal. */
            for (char *line = want; *line;) {
                char *nl = strchr(line, '\n');
                size_t n = nl ? (size_t)(nl - line) : strlen(line);
                cr_assert_leq(repl_text_width(line, n), cols - 1, "cols %d: '%.*s'", cols, (int)n, line);
                line += n + (nl ? 1 : 0);
            }
            free(want);
        }
        free(a);
        free(b);
    }
}

Test(layout, columns_view_output) {
    char *out = render_pair("alpha beta gamma delta", "one two", 41, 3, THINK_SHOW);
    const char *want = "left model         | right model\n"
                       "-------------------+--------------------\n"
                       "alpha beta gamma   | one two\n"
                       "delta              | [stats b]\n"
                       "[stats a]          | \n";
    cr_expect_str_eq(out, want);
    free(out);
    /* Too narrow for two columns: one after the other. */
    out = render_pair("alpha", "beta", 20, 3, THINK_SHOW);
    cr_expect_str_eq(out, "-- left model\nalpha\n[stats a]\n-- right model\nbeta\n[stats b]\n");
    free(out);
}

/* ---- stylers ---- */

static char *style(enum think_mode mode, const char *const *pieces, const enum piece_kind *kinds, size_t n) {
    struct styler st;
    styler_init(&st, mode);
    struct strbuf sb = {0};
    for (size_t i = 0; i < n; i++) styler_piece(&st, kinds[i], pieces[i], strlen(pieces[i]), &sb);
    styler_finish(&st, &sb);
    /* Markers as visible letters: P plain, D dim, B bold. */
    for (size_t i = 0; i < sb.len; i++)
        if (repl_is_style((unsigned char)sb.data[i])) sb.data[i] = "?PDBdi"[(int)sb.data[i]];
    char *s = strbuf_detach(&sb);
    return s ? s : strdup("");
}

Test(view, think_modes) {
    const char *p[] = {" <think> 2x=4", " so x=2 </think> <answer>2</answer>"};
    enum piece_kind k[] = {PIECE_TEXT, PIECE_TEXT};
    char *s = style(THINK_SHOW, p, k, 2);
    cr_expect_str_eq(s, "P D<think> 2x=4 so x=2 </think>P D<answer>B2D</answer>");
    free(s);
    s = style(THINK_HIDE, p, k, 2);
    cr_expect_str_eq(s, "P  D<answer>B2D</answer>");
    free(s);
    s = style(THINK_COLLAPSE, p, k, 2);
    cr_expect_str_eq(s, "P D[think: 13 chars]P D<answer>B2D</answer>");
    free(s);
    /* Reasoning delivered separately is shown as a think block. */
    const char *q[] = {"hmm", " ok", "Answer: 4"};
    enum piece_kind qk[] = {PIECE_REASONING, PIECE_REASONING, PIECE_TEXT};
    s = style(THINK_SHOW, q, qk, 3);
    cr_expect_str_eq(s, "D<think>hmm ok</think>PAnswer: 4");
    free(s);
    s = style(THINK_COLLAPSE, q, qk, 3);
    cr_expect_str_eq(s, "D[think: 6 chars]P\nAnswer: 4", "the reply goes on on its own line");
    free(s);
    /* An unfinished think block (cut by max_tokens). */
    const char *u[] = {"<think> still going"};
    s = style(THINK_COLLAPSE, u, k, 1);
    cr_expect_str_eq(s, "D[think: 12 chars, unfinished]");
    free(s);
    /* Escapes in model text are neutralised before they reach any view. */
    const char *e[] = {"a\x1b[31mb\x07"};
    s = style(THINK_SHOW, e, k, 1);
    cr_expect_str_eq(s, "Pa\xe2\x90\x9b[31mb\xe2\x90\x87");
    free(s);
}

Test(view, stats_line) {
    struct gen_result r;
    gen_result_init(&r);
    r.new_tokens = 11;
    r.new_tokens_exact = true;
    r.ttft_s = 0.5;
    r.total_s = 1.5;
    r.finish = FINISH_EOS;
    struct strbuf sb = {0};
    view_format_stats(&r, &sb);
    cr_expect_str_eq(sb.data, "11 tokens \xC2\xB7 10.0 tok/s \xC2\xB7 first token 0.50 s \xC2\xB7 eos");
    strbuf_free(&sb);
    gen_result_free(&r);
}

/* ---- word diff ---- */

Test(worddiff, words) {
    struct strbuf sb = {0};
    struct worddiff_stats st;
    const char *a = "so x equals 2 because 2x = 4", *b = "so x equals 3 because\n2x = 6 indeed";
    cr_assert_eq(worddiff(a, strlen(a), b, strlen(b), false, &sb, &st), STATUS_OK);
    cr_expect_str_eq(sb.data, "so x equals [-2-] {+3+} because\n2x = [-4-] {+6 indeed+}");
    cr_expect_eq(st.common, 6);
    cr_expect_eq(st.only_a, 2);
    cr_expect_eq(st.only_b, 3);
    strbuf_clear(&sb);
    cr_assert_eq(worddiff("", 0, "new words", 9, false, &sb, &st), STATUS_OK);
    cr_expect_str_eq(sb.data, "{+new words+}");
    strbuf_clear(&sb);
    cr_assert_eq(worddiff("same", 4, "same", 4, true, &sb, &st), STATUS_OK);
    cr_expect_str_eq(sb.data, "same");
    strbuf_free(&sb);
}

/* ---- votes ---- */

Test(votes, append_and_tally) {
    char *dir = th_tmpdir("votes");
    char path[512];
    snprintf(path, sizeof path, "%s/sub/votes.jsonl", dir);
    struct vote_record r = {.a = "m1", .b = "m2", .vote = VOTE_A, .blind = true, .prompt = "p \"q\"", .seed = 3};
    cr_assert_eq(votes_append(path, &r), STATUS_OK, "%s", err_msg());
    r.vote = VOTE_B;
    r.a = "m2", r.b = "m1"; /* shown the other way round: B is m1 */
    cr_assert_eq(votes_append(path, &r), STATUS_OK);
    r.vote = VOTE_TIE;
    cr_assert_eq(votes_append(path, &r), STATUS_OK);
    r.vote = VOTE_BOTH_BAD;
    cr_assert_eq(votes_append(path, &r), STATUS_OK);
    r.a = "m1", r.b = "other";
    r.vote = VOTE_A;
    cr_assert_eq(votes_append(path, &r), STATUS_OK);
    FILE *f = fopen(path, "a");
    fputs("not json\n", f);
    fclose(f);
    struct vote_tally t;
    cr_assert_eq(votes_tally(path, "m1", "m2", &t), STATUS_OK);
    cr_expect_eq(t.total, 4);
    cr_expect_eq(t.wins[0], 2, "m1 won when shown as A and when shown as B");
    cr_expect_eq(t.wins[1], 0);
    cr_expect_eq(t.ties, 1);
    cr_expect_eq(t.both_bad, 1);
    cr_expect_eq(t.skipped_lines, 1);
    struct strbuf sb = {0};
    votes_format(&t, "m1", "m2", &sb);
    cr_expect(strstr(sb.data, "votes: 4 (2 m1 wins, 0 m2 wins, 1 tie, 1 both bad)") != NULL, "%s", sb.data);
    cr_expect(strstr(sb.data, "m1 83.3%, m2 16.7%") != NULL, "%s", sb.data);
    strbuf_free(&sb);
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(path, 1 << 20, &text, &len), STATUS_OK);
    cr_expect(strstr(text, "\"vote\":\"a\"") || strstr(text, "\"vote\": \"a\""), "%s", text);
    cr_expect(strstr(text, "\"winner\"") != NULL);
    free(text);
    enum vote v;
    cr_expect_eq(vote_parse("BAD", &v), STATUS_OK);
    cr_expect_eq(v, VOTE_BOTH_BAD);
    cr_expect_eq(vote_parse("c", &v), STATUS_INVALID);
    fs_remove_tree(dir);
    free(dir);
}

/* ---- commands and completion ---- */

Test(repl_table, commands_completion_and_hints) {
    size_t n;
    const struct repl_command *c = repl_commands(&n);
    cr_assert_geq(n, 16);
    const char *required[] = {"help",  "load", "compare", "set",  "show", "template", "system", "regen",
                              "clear", "save", "read",    "quit", "diff", "think",    "vote",   "blind"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        cr_expect(repl_find_command(required[i]) != NULL, "/%s exists", required[i]);
    for (size_t i = 0; i < n; i++) cr_expect(c[i].help && c[i].help[0] && c[i].run);
    cr_expect_eq(repl_find_command("q"), repl_find_command("quit"), "a unique prefix selects");
    cr_expect_null(repl_find_command("s"), "an ambiguous prefix does not");
    cr_expect_str_eq(repl_suggest_command("hepl"), "help");
    cr_expect_str_eq(repl_suggest_command("templat"), "template");
    cr_expect_null(repl_suggest_command("xyzzy"));

    const char *out[64];
    bool files;
    size_t k = repl_complete_words("/s", 0, "/s", out, 64, &files);
    cr_expect_eq(k, 4); /* set show system save */
    cr_expect(!files);
    k = repl_complete_words("/set t", 5, "t", out, 64, &files);
    cr_assert_eq(k, 3);
    cr_expect_str_eq(out[0], "temperature");
    k = repl_complete_words("/template ", 10, "", out, 64, &files);
    cr_expect_eq(k, 5);
    k = repl_complete_words("/template r1 ", 13, "", out, 64, &files);
    cr_expect_eq(k, 2, "then the side");
    k = repl_complete_words("/think c", 7, "c", out, 64, &files);
    cr_assert_eq(k, 1);
    cr_expect_str_eq(out[0], "collapse");
    k = repl_complete_words("/load ", 6, "", out, 64, &files);
    cr_expect(files);
    k = repl_complete_words("/help re", 6, "re", out, 64, &files);
    cr_expect_eq(k, 3); /* regen read report */
    k = repl_complete_words("hello wor", 6, "wor", out, 64, &files);
    cr_expect_eq(k, 0);
    cr_expect(!files);
}

/* The REPL COMMANDS section of r1lab-chat(1) is the command table, formatted. */
static void man_escape(struct strbuf *sb, const char *s) {
    for (; *s; s++) {
        if (*s == '-')
            strbuf_puts(sb, "\\-");
        else if (*s == '\\')
            strbuf_puts(sb, "\\e");
        else
            strbuf_putc(sb, *s);
    }
}

Test(repl_table, manual_lists_the_commands) {
    size_t n;
    const struct repl_command *c = repl_commands(&n);
    struct strbuf want = {0};
    strbuf_puts(&want, ".SH REPL COMMANDS\n");
    for (size_t i = 0; i < n; i++) {
        strbuf_puts(&want, ".TP\n.B \"/");
        strbuf_puts(&want, c[i].name);
        if (c[i].args[0]) {
            strbuf_putc(&want, ' ');
            man_escape(&want, c[i].args);
        }
        strbuf_puts(&want, "\"\n");
        man_escape(&want, c[i].help);
        strbuf_puts(&want, "\n");
    }
    char *path = th_path("man/r1lab-chat.1");
    char *page;
    size_t len;
    cr_assert_eq(fs_read_file(path, 1 << 20, &page, &len), STATUS_OK, "%s", err_msg());
    cr_expect(strstr(page, want.data) != NULL,
              "man/r1lab-chat.1 must contain the command table's REPL COMMANDS section verbatim:\n%s", want.data);
    free(page);
    free(path);
    strbuf_free(&want);
}

Test(repl_text, sanitise_and_width) {
    struct strbuf sb = {0};
    const char in[] = "ok\x1b]52;c;Zm9v\x07 \xe2\x80\xae rtl \xc2\x9b tab\tnl\n";
    repl_text_sanitize(in, sizeof in - 1, &sb);
    cr_expect_str_eq(sb.data, "ok\xe2\x90\x9b]52;c;Zm9v\xe2\x90\x87 <U+202E> rtl <U+009B> tab    nl\n");
    for (size_t i = 0; i < sb.len; i++) cr_expect(!repl_is_style((unsigned char)sb.data[i]));
    strbuf_free(&sb);
    cr_expect_eq(repl_text_width("a\xe4\xbd\xa0"
                                 "e\xcc\x81\x02",
                                 7),
                 4);
    /* Long input goes through in pieces without cutting a character. */
    struct strbuf big = {0}, out = {0};
    for (int i = 0; i < 3000; i++) strbuf_puts(&big, "\xe4\xbd\xa0\x1b");
    repl_text_sanitize(big.data, big.len, &out);
    cr_expect_eq(out.len, 3000 * 6); /* each "你" + ESC becomes "你" + "␛": 3 + 3 bytes */
    strbuf_free(&big);
    strbuf_free(&out);
}

/* ---- compare: prompts and scores ---- */

#include "repl/compare.h"
#include "repl/scorecard.h"

Test(compare_units, prompts_file_and_scores) {
    const char text[] = "{\"prompt\": \"Solve: 2x = 4\", \"answer\": 2}\n\n  plain prompt  \r\n"
                        "{\"prompt\": \"Using 6, 2, 2 make 6\", \"answer\": \"6 / 2 * 2\", \"numbers\": [6, 2, 2], "
                        "\"target\": 6}\n";
    struct compare_item *items;
    size_t n;
    cr_assert_eq(compare_items_parse(text, sizeof text - 1, "p.jsonl", &items, &n), STATUS_OK, "%s", err_msg());
    cr_assert_eq(n, 3);
    cr_expect(items[0].has_answer);
    cr_expect_str_eq(items[1].prompt, "plain prompt");
    cr_expect(!items[1].has_answer);
    cr_expect_eq(items[2].problem.kind, TASK_COUNTDOWN, "numbers + target win over answer");
    struct gen_result res;
    gen_result_init(&res);
    res.new_tokens = 9;
    struct scorecard_reply sc;
    const char *good = " <think> 2x = 4 so x = 2. Wait, check: 2*2 = 4. </think> <answer> 2 </answer>";
    scorecard_score(&items[0].problem, false, good, res.new_tokens, &sc);
    cr_expect_eq(sc.correct, 1);
    cr_expect(sc.format_ok);
    cr_expect(sc.reflection);
    cr_expect_gt(sc.think_share, 0.4);
    cr_expect_eq(sc.tokens, 9);
    scorecard_score(&items[0].problem, false, "the answer is 2", res.new_tokens, &sc);
    cr_expect_eq(sc.correct, 0, "no <answer> tags, no answer");
    cr_expect(!sc.format_ok);
    scorecard_score(NULL, false, "<think>hmm</think> so \\boxed{3}", res.new_tokens, &sc);
    cr_expect_eq(sc.correct, -1);
    cr_expect(sc.format_ok && sc.format == SCORECARD_FORMAT_R1, "R1's summary format");
    scorecard_score(&items[2].problem, false, "<think>x</think> <answer>2 * 6 / 2</answer>", res.new_tokens, &sc);
    cr_expect_eq(sc.correct, 1, "any valid Countdown expression counts");
    gen_result_free(&res);
    compare_items_free(items, n);
    const char bad[] = "{\"prompt\": \"a\"}\n{\"answer\": 3}\n";
    cr_expect_eq(compare_items_parse(bad, sizeof bad - 1, "p.jsonl", &items, &n), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "p.jsonl:2") != NULL, "%s", err_msg());
    cr_expect_eq(compare_items_parse("\n\n", 2, "e.jsonl", &items, &n), STATUS_INVALID);
}
