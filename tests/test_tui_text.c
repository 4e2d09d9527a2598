/* Tests for what the dashboard prints and how: the sanitiser (every dangerous class of model text), widths,
 * theme files (good, bad, unknown keys, the shipped themes), colour mapping, terminal capability decisions and
 * number formatting. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "harness.h"
#include "text/sanitize.h"
#include "tui/fmt.h"
#include "tui/termcaps.h"
#include "tui/theme.h"

static const char *san(const char *in, size_t n, unsigned flags) {
    static char out[1024];
    san_text(in, n, flags, out, sizeof out, NULL);
    return out;
}
#define SAN(lit, flags) san(lit, sizeof lit - 1, flags)

/* No byte of the output may be a C0 control (except a kept newline), DEL, or start an escape. */
static void expect_inert(const char *s, bool newlines_ok) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n' && newlines_ok) continue;
        cr_expect(*p >= 0x20 && *p != 0x7F, "control byte 0x%02x in output '%s'", *p, s);
    }
    cr_expect(strstr(s, "\xc2\x9b") == NULL && strstr(s, "\xc2\x9d") == NULL, "C1 control in '%s'", s);
}

Test(sanitize, escape_sequences_become_visible_text) {
    cr_expect_str_eq(SAN("a\x1b[2Jb", 0), "a␛[2Jb");
    cr_expect_str_eq(SAN("\x1b]52;c;cHduZWQ=\x07", 0), "␛]52;c;cHduZWQ=␇");
    cr_expect_str_eq(SAN("\x1b]0;title\x1b\\", 0), "␛]0;title␛\\");
    cr_expect_str_eq(SAN("a\x1b[2Jb", SAN_ASCII), "a^[[2Jb");
    expect_inert(SAN("x\x1b[31mred\x1b[0m\x07\x08\x0b\x0c\x0e\x1f", 0), false);
}

Test(sanitize, nul_del_and_c0_controls) {
    cr_expect_str_eq(san("a\0b", 3, 0), "a␀b");
    cr_expect_str_eq(SAN("del\x7f", 0), "del␡");
    cr_expect_str_eq(SAN("del\x7f", SAN_ASCII), "del^?");
    cr_expect_str_eq(SAN("cr\roverwrite", 0), "cr␍overwrite");
    cr_expect_str_eq(SAN("bs\b\b", 0), "bs␈␈");
}

Test(sanitize, c1_controls_and_bidi_overrides_are_spelt_out) {
    cr_expect_str_eq(SAN("\xc2\x9b"
                         "31m",
                         0),
                     "<U+009B>31m");
    cr_expect_str_eq(SAN("\xc2\x9d"
                         "0;x",
                         0),
                     "<U+009D>0;x");
    cr_expect_str_eq(SAN("a\xe2\x80\xae"
                         "evil\xe2\x80\xac",
                         0),
                     "a<U+202E>evil<U+202C>");
    cr_expect_str_eq(SAN("\xe2\x81\xa6i\xe2\x81\xa9", 0), "<U+2066>i<U+2069>");
    cr_expect_str_eq(SAN("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", 0), "<U+200E><U+200F><U+061C>");
    cr_expect_str_eq(SAN("\xe2\x80\xa8\xef\xbb\xbf", 0), "<U+2028><U+FEFF>");
    cr_expect_str_eq(SAN("\xee\x80\x80", 0), "<U+E000>", "private use");
}

Test(sanitize, invalid_utf8_becomes_replacement_characters) {
    cr_expect_str_eq(SAN("a\xff\xfe"
                         "b",
                         0),
                     "a\xef\xbf\xbd\xef\xbf\xbd"
                     "b");
    cr_expect_str_eq(SAN("\xc0\x80", 0), "\xef\xbf\xbd\xef\xbf\xbd", "overlong NUL");
    cr_expect_str_eq(SAN("\xed\xa0\x80", 0), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "surrogate");
    cr_expect_str_eq(SAN("\xe4\xbd", 0), "\xef\xbf\xbd\xef\xbf\xbd", "truncated");
    cr_expect_str_eq(SAN("a\xff"
                         "b",
                         SAN_ASCII),
                     "a?b");
}

Test(sanitize, text_newlines_tabs_and_wide_characters) {
    cr_expect_str_eq(SAN("a\nb", 0), "a␤b");
    cr_expect_str_eq(SAN("a\r\nb\tc", SAN_KEEP_NEWLINES), "a\nb    c");
    cr_expect_str_eq(SAN("你好 😀 é", 0), "你好 😀 é");
    cr_expect_str_eq(SAN("你好", SAN_ASCII), "??");
    cr_expect_eq(san_width("你好", strlen("你好")), 4);
    cr_expect_eq(san_width("a\xcc\x81", 3), 1, "a combining mark adds no width");
    int used;
    cr_expect_eq(san_fit("你好", 6, 3, &used), 3, "a wide character is never split");
    cr_expect_eq(used, 2);
    cr_expect_eq(san_fit("abc", 3, 10, &used), 3);
}

Test(sanitize, output_stops_at_a_character_boundary) {
    char out[8];
    size_t consumed;
    size_t n = san_text("ab\x1b"
                        "cdef",
                        7, 0, out, sizeof out, &consumed);
    /* "ab" + "␛" (3 bytes) + "cd" = 7 bytes + NUL */
    cr_expect_eq(n, 7);
    cr_expect_str_eq(out, "ab␛cd");
    cr_expect_eq(consumed, 5);
    n = san_text("\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0", 9, 0, out, 5, &consumed);
    cr_expect_eq(n, 3, "one whole character fits in 5 bytes with the NUL");
    cr_expect_eq(consumed, 3);
}

Test(sanitize, every_byte_value_gives_inert_output) {
    char in[256];
    for (int i = 0; i < 256; i++) in[i] = (char)i;
    static char out[4096];
    san_text(in, 256, 0, out, sizeof out, NULL);
    expect_inert(out, false);
    san_text(in, 256, SAN_KEEP_NEWLINES, out, sizeof out, NULL);
    expect_inert(out, true);
    san_text(in, 256, SAN_ASCII, out, sizeof out, NULL);
    expect_inert(out, false);
    for (const unsigned char *p = (const unsigned char *)out; *p; p++) cr_expect(*p < 0x80);
}

static const char *root_path(const char *rel) {
    static char buf[4096];
    char *p = th_path(rel);
    snprintf(buf, sizeof buf, "%s", p);
    free(p);
    return buf;
}

Test(theme, shipped_themes_parse_cleanly_and_comment_every_key) {
    const char *names[] = {"default", "light", "tty", "mono"};
    for (size_t i = 0; i < 4; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "themes/%s.theme", names[i]);
        char *text;
        size_t len;
        cr_assert_eq(fs_read_file(root_path(rel), 1 << 20, &text, &len), STATUS_OK, "%s", err_msg());
        struct theme t;
        char warn[512];
        cr_expect_eq(theme_parse(text, len, rel, &t, warn, sizeof warn), STATUS_OK, "%s", err_msg());
        cr_expect_str_eq(warn, "", "%s warns", rel);
        for (size_t k = 0; k < theme_keys_len; k++) {
            char key[96];
            snprintf(key, sizeof key, "theme[%s]=", theme_keys[k].key);
            char *at = strstr(text, key);
            cr_expect(at != NULL, "%s lacks %s", rel, theme_keys[k].key);
            if (!at) continue;
            /* the line before the key is a comment */
            cr_expect(at - text >= 2 && at[-1] == '\n', "%s: %s not at a line start", rel, theme_keys[k].key);
            const char *prev = at - 2;
            while (prev > text && prev[-1] != '\n') prev--;
            cr_expect(prev[0] == '#', "%s: no comment above %s", rel, theme_keys[k].key);
        }
        free(text);
    }
}

Test(theme, default_file_equals_the_built_in_and_mono_is_mono) {
    struct theme file, builtin, mono;
    char warn[256];
    cr_assert_eq(theme_load(root_path("themes/default.theme"), &file, warn, sizeof warn), STATUS_OK, "%s", err_msg());
    theme_builtin("default", &builtin);
    cr_expect_eq(file.bg, builtin.bg);
    cr_expect(memcmp(file.fg, builtin.fg, sizeof file.fg) == 0, "themes/default.theme differs from the built-in");
    cr_expect(memcmp(file.grad, builtin.grad, sizeof file.grad) == 0);
    cr_assert_eq(theme_load(root_path("themes/mono.theme"), &mono, warn, sizeof warn), STATUS_OK);
    cr_expect(theme_is_mono(&mono));
    theme_builtin("mono", &mono);
    cr_expect(theme_is_mono(&mono));
    cr_expect(!theme_is_mono(&builtin));
}

Test(theme, tty_theme_uses_only_the_16_colours) {
    struct theme t;
    char warn[256];
    cr_assert_eq(theme_load(root_path("themes/tty.theme"), &t, warn, sizeof warn), STATUS_OK);
    static const int32_t pal[16] = {0x000000, 0xcd0000, 0x00cd00, 0xcdcd00, 0x0000ee, 0xcd00cd, 0x00cdcd, 0xe5e5e5,
                                    0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00, 0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff};
    for (int r = 0; r < COLOR_ROLE_COUNT; r++) {
        if (t.fg[r] == COLOR_DEFAULT) continue;
        cr_expect_eq(pal[color_to_16(t.fg[r])], t.fg[r], "role %d is not one of the 16", r);
    }
}

Test(theme, bad_files_name_the_line) {
    struct theme t;
    char warn[256];
    const char *no_eq = "# ok\ntheme[title]\n";
    cr_expect_eq(theme_parse(no_eq, strlen(no_eq), "x.theme", &t, warn, sizeof warn), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "x.theme:2:") != NULL, "%s", err_msg());
    const char *bad_color = "theme[title]=\"#12345\"\n";
    cr_expect_eq(theme_parse(bad_color, strlen(bad_color), "y.theme", &t, warn, sizeof warn), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "y.theme:1:") && strstr(err_msg(), "not a colour"), "%s", err_msg());
    const char *bad_bracket = "theme[title=\"#123456\"\n";
    cr_expect_eq(theme_parse(bad_bracket, strlen(bad_bracket), "z.theme", &t, warn, sizeof warn), STATUS_FORMAT);
    cr_expect_eq(theme_load("/nonexistent/dir/x.theme", &t, warn, sizeof warn), STATUS_IO);
    cr_expect_eq(theme_load("no-such-theme-name", &t, warn, sizeof warn), STATUS_INVALID);
    cr_expect(strstr(err_hint_text(), "built in") != NULL, "%s", err_hint_text());
}

Test(theme, unknown_keys_warn_and_partial_files_keep_defaults) {
    struct theme t, d;
    char warn[256];
    const char *text = "theme[title]=\"#010203\"\n  reward_total = '#0a0b0c'  \nthemex[foo]=\"#000000\"\n"
                       "theme[bogus]=\"\"\n";
    cr_assert_eq(theme_parse(text, strlen(text), "p.theme", &t, warn, sizeof warn), STATUS_OK, "%s", err_msg());
    cr_expect_eq(t.fg[COLOR_ROLE_TITLE], 0x010203);
    cr_expect_eq(t.fg[COLOR_ROLE_REWARD_TOTAL], 0x0a0b0c);
    theme_builtin("default", &d);
    cr_expect_eq(t.fg[COLOR_ROLE_THINK], d.fg[COLOR_ROLE_THINK]);
    cr_expect(strstr(warn, "p.theme:3: unknown key 'themex[foo]'") != NULL, "%s", warn);
    cr_expect(strstr(warn, "p.theme:4: unknown key 'bogus'") != NULL, "%s", warn);
}

Test(theme, gradients_and_colour_depth_mapping) {
    struct theme t;
    theme_builtin("default", &t);
    t.grad[COLOR_GRAD_ADV][0] = 0x000000;
    t.grad[COLOR_GRAD_ADV][1] = COLOR_DEFAULT;
    t.grad[COLOR_GRAD_ADV][2] = 0xfefefe;
    cr_expect_eq(theme_gradient(&t, COLOR_GRAD_ADV, 0), 0x000000);
    cr_expect_eq(theme_gradient(&t, COLOR_GRAD_ADV, COLOR_GRAD_STEPS - 1), 0xfefefe);
    int32_t mid = theme_gradient(&t, COLOR_GRAD_ADV, 3);
    cr_expect(mid > 0x404040 && mid < 0x808080);
    cr_expect_eq(color_to_256(0x000000), 16);
    cr_expect_eq(color_to_256(0xffffff), 231);
    cr_expect_eq(color_to_256(0xff0000), 196);
    cr_expect_eq(color_to_256(0x808080), 244);
    cr_expect_eq(color_to_256(0x5f87af), 67);
    cr_expect_eq(color_to_16(0xff0000), 9);
    cr_expect_eq(color_to_16(0xcd0000), 1);
    cr_expect_eq(color_to_16(0x101010), 0);
    int32_t c;
    cr_expect(color_parse("#A0b0C0", &c) && c == 0xa0b0c0);
    cr_expect(color_parse("", &c) && c == COLOR_DEFAULT);
    cr_expect(!color_parse("#a0b0c", &c));
    cr_expect(!color_parse("red", &c));
}

Test(termcaps, plain_mode_colour_depth_and_symbols) {
    struct term_env e = {"xterm-256color", NULL, NULL, true, true, true};
    cr_expect(!termcaps_plain(&e));
    cr_expect_eq(termcaps_depth(TUI_COLOR_AUTO, &e, 256), DEPTH_256);
    cr_expect_eq(termcaps_depth(TUI_COLOR_AUTO, &e, 16777216), DEPTH_TRUE);
    cr_expect_eq(termcaps_depth(TUI_COLOR_AUTO, &e, 8), DEPTH_16);
    cr_expect_eq(termcaps_depth(TUI_COLOR_AUTO, &e, 0), DEPTH_MONO);
    cr_expect_eq(termcaps_depth(TUI_COLOR_NEVER, &e, 256), DEPTH_MONO);
    e.no_color = "1";
    cr_expect_eq(termcaps_depth(TUI_COLOR_AUTO, &e, 256), DEPTH_MONO, "NO_COLOR");
    cr_expect_eq(termcaps_depth(TUI_COLOR_ALWAYS, &e, 256), DEPTH_256, "--color always beats NO_COLOR");
    e.no_color = "";
    cr_expect_eq(termcaps_depth(TUI_COLOR_AUTO, &e, 256), DEPTH_256, "an empty NO_COLOR does not count");
    e.colorterm = "truecolor";
    cr_expect(termcaps_wants_truecolor(&e));
    cr_expect_eq(termcaps_plot_mode(TUI_GRAPH_AUTO, &e), PLOT_BRAILLE);
    e.term = "linux";
    cr_expect_eq(termcaps_plot_mode(TUI_GRAPH_AUTO, &e), PLOT_BLOCK);
    e.utf8 = false;
    cr_expect_eq(termcaps_plot_mode(TUI_GRAPH_AUTO, &e), PLOT_ASCII);
    cr_expect_eq(termcaps_plot_mode(TUI_GRAPH_BRAILLE, &e), PLOT_ASCII, "no braille without UTF-8");
    e.term = "dumb";
    cr_expect(termcaps_plain(&e));
    e.term = "xterm";
    e.stdout_tty = false;
    cr_expect(termcaps_plain(&e), "stdout not a terminal");
    e.stdout_tty = true;
    e.term = NULL;
    cr_expect(termcaps_plain(&e));
}

Test(fmt, numbers_durations_bytes) {
    char b[32];
    cr_expect_str_eq(fmt_value(1.23456, b, sizeof b), "1.235");
    cr_expect_str_eq(fmt_value(0.0123, b, sizeof b), "0.0123");
    cr_expect_str_eq(fmt_value(312.5, b, sizeof b), "312.5");
    cr_expect_str_eq(fmt_value(12345, b, sizeof b), "12.3k");
    cr_expect_str_eq(fmt_value(2.5e6, b, sizeof b), "2.5M");
    cr_expect_str_eq(fmt_value(1e-6, b, sizeof b), "1.00e-06");
    cr_expect_str_eq(fmt_value(0, b, sizeof b), "0");
    cr_expect_str_eq(fmt_value(NAN, b, sizeof b), "nan");
    cr_expect_str_eq(fmt_value(-INFINITY, b, sizeof b), "-inf");
    cr_expect_str_eq(fmt_duration(45, b, sizeof b), "45s");
    cr_expect_str_eq(fmt_duration(192, b, sizeof b), "3m12s");
    cr_expect_str_eq(fmt_duration(3900, b, sizeof b), "1h05m");
    cr_expect_str_eq(fmt_duration(-1, b, sizeof b), "n/a");
    cr_expect_str_eq(fmt_bytes(512, b, sizeof b), "512B");
    cr_expect_str_eq(fmt_bytes(1.5 * 1024 * 1024 * 1024, b, sizeof b), "1.5G");
}

Test(theme, man_page_documents_every_key) {
    char *path = th_path("man/r1lab-theme.5"), *text;
    size_t len;
    cr_assert_eq(fs_read_file(path, 1 << 20, &text, &len), STATUS_OK);
    for (size_t k = 0; k < theme_keys_len; k++) {
        char want[96];
        snprintf(want, sizeof want, ".B %s\n", theme_keys[k].key);
        cr_expect(strstr(text, want) != NULL, "r1lab-theme(5) does not document %s", theme_keys[k].key);
    }
    free(text);
    free(path);
}
