/* The manual against the program: every command of `r1lab --help` (the command table in src/main.c) has its own
 * page man/r1lab-NAME.1 and an entry in the COMMANDS section of r1lab(1); r1lab-pipeline(1) documents every key of
 * a rejection_sample stage with its type and default (the table in src/engine/rl/rejection.c); usage lines name
 * every option or say "[options]"; every page carries the same date; `r1lab help config` shows r1lab-config(5);
 * and the EXAMPLES of every page run as written (the convention is described above that test). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/rl/rejection.h"
#include "engine/util/fsutil.h"
#include "harness.h"

/* A page with roff's "\-" turned into "-", so that text can be compared with the program's strings. */
static char *read_page(const char *rel) {
    char *path = th_path(rel), *text;
    size_t len;
    cr_assert_eq(fs_read_file(path, 1 << 20, &text, &len), STATUS_OK, "%s", err_msg());
    free(path);
    char *w = text;
    for (const char *r = text; *r; r++) {
        if (r[0] == '\\' && r[1] == '-') continue;
        *w++ = *r;
    }
    *w = '\0';
    return text;
}

Test(man_pages, every_command_has_a_page_and_an_entry) {
    const char *args[] = {"--help", NULL};
    struct th_run r = th_r1lab(NULL, args);
    cr_assert_eq(r.exit_code, 0);
    char *top = read_page("man/r1lab.1");
    const char *cmds = strstr(top, ".SH COMMANDS\n"), *end = cmds ? strstr(cmds + 1, "\n.SH ") : NULL;
    cr_assert(cmds && end, "r1lab.1 has no COMMANDS section");
    const char *list = strstr(r.out, "commands:\n");
    cr_assert(list != NULL, "%s", r.out);
    int n = 0;
    for (const char *line = strchr(list, '\n') + 1; strncmp(line, "  ", 2) == 0; line = strchr(line, '\n') + 1) {
        char name[64];
        cr_assert_eq(sscanf(line, " %63s", name), 1);
        char rel[128], want[128];
        snprintf(rel, sizeof rel, "man/r1lab-%s.1", name);
        char *path = th_path(rel);
        cr_expect(fs_exists(path), "command %s has no page %s", name, rel);
        free(path);
        snprintf(want, sizeof want, "\n.B %s\n", name);
        const char *at = strstr(cmds, want);
        cr_expect(at && at < end, "r1lab.1 COMMANDS lacks %s", name);
        n++;
    }
    cr_expect_geq(n, 13, "read %d commands from --help", n);
    free(top);
    th_run_free(&r);
}

Test(man_pages, pipeline_page_documents_every_rejection_key) {
    static const char *const types[] = {"integer", "number", "true or false", "string", "object", "list", "any"};
    char *page = read_page("man/r1lab-pipeline.1");
    const char *sec = strstr(page, ".SH REJECTION SAMPLING KEYS\n"), *end = sec ? strstr(sec + 1, "\n.SH ") : NULL;
    cr_assert(sec && end, "r1lab-pipeline.1 has no REJECTION SAMPLING KEYS section");
    for (size_t i = 0; i < rejection_n_keys; i++) {
        const struct config_key *k = &rejection_keys[i];
        char want[256];
        snprintf(want, sizeof want, ".B %s\n(%s, default %s)", k->name, types[k->type], k->def);
        const char *at = strstr(sec, want);
        cr_expect(at && at < end, "r1lab-pipeline.1 lacks\n%s", want);
    }
    free(page);
}

/* ---- EXAMPLES, run ----
 *
 * The commands of every page's EXAMPLES are run as written, from a scratch directory that links the repository's
 * configs/, models/, tests/, themes/, docs/ and README.md (so "tests/fixtures/..." and "models/base" resolve), with
 * R1LAB_HOME at the repository, HOME and the XDG directories inside the scratch directory, and `r1lab` on PATH
 * being the binary under test. Each must exit 0; when lines follow it in the page, its standard output must match
 * them (whitespace aside). The convention, for page authors:
 *   - an example command is a line "$ COMMAND" inside .EX/.EE, continued by lines while one ends in "\e";
 *   - the lines after a command, up to the next "$ " line, are its output;
 *   - `.\" not run: REASON` (a long run, a trained run directory, a terminal, the network, a file that is not in
 *     the repository) leaves the commands after it in that block unrun; `.\" needs: TOOL` runs them only where
 *     TOOL is installed;
 *   - a line starting "r1lab " inside .EX without "$ " is refused, so that no example escapes the test.
 * Commands of one page share their scratch directory, in order (an example may read what an earlier one wrote). */

#define EX_MAX 64
#define EX_TEXT 4096

struct example {
    char cmd[EX_TEXT];    /* the shell command, roff escapes resolved */
    char expect[EX_TEXT]; /* the output the page shows, or "" */
    const char *skip;     /* points into the page: the reason it is not run, or NULL */
    char needs[32];       /* a program it needs, or "" */
    int line;
};

/* Appends the text of roff source s[0..n) to out, resolving the escapes examples use; false on any other. */
static bool roff_text(const char *s, size_t n, char *out, size_t cap, char *bad, size_t bad_cap) {
    static const struct {
        const char *esc, *text;
    } table[] = {{"\\-", "-"},     {"\\e", "\\"},    {"\\(aq", "'"},   {"\\(dq", "\""},   {"\\(rs", "\\"},
                 {"\\[aq]", "'"},  {"\\[dq]", "\""}, {"\\['e]", "é"}, {"\\&", ""},       {"\\ ", " "},
                 {"\\(ti", "~"},   {"\\(ha", "^"},   {"\\(ga", "`"}};
    size_t o = strlen(out);
    for (size_t i = 0; i < n;) {
        const char *add = NULL;
        size_t used = 1;
        char one[2] = {s[i], 0};
        if (s[i] == '\\') {
            for (size_t k = 0; k < sizeof table / sizeof table[0] && !add; k++) {
                size_t l = strlen(table[k].esc);
                if (i + l <= n && strncmp(s + i, table[k].esc, l) == 0) add = table[k].text, used = l;
            }
            if (!add) {
                snprintf(bad, bad_cap, "%.*s", (int)(n - i < 6 ? n - i : 6), s + i);
                return false;
            }
        } else {
            add = one;
        }
        size_t l = strlen(add);
        if (o + l + 1 > cap) return false;
        memcpy(out + o, add, l);
        o += l;
        out[o] = '\0';
        i += used;
    }
    return true;
}

/* The examples of one page; fails the test on a line that breaks the convention. */
static size_t parse_examples(const char *page, const char *text, struct example *ex) {
    size_t n = 0;
    bool in_ex = false, cont = false, in_output = false;
    const char *skip = NULL;
    char needs[32] = "";
    int line_no = 0;
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        line_no++;
        char bad[16];
        if (!in_ex) {
            if (len >= 3 && (strncmp(line, ".EX", 3) == 0 || strncmp(line, ".nf", 3) == 0)) in_ex = true;
            if (len >= 3 && strncmp(line, ".EX", 3) == 0) skip = NULL, needs[0] = '\0';
            if (strncmp(line, ".\\\" not run:", 12) == 0) skip = line + 12;
            if (strncmp(line, ".\\\" needs:", 10) == 0) snprintf(needs, sizeof needs, "%.*s", (int)len - 11, line + 11);
        } else if (len >= 3 && (strncmp(line, ".EE", 3) == 0 || strncmp(line, ".fi", 3) == 0)) {
            in_ex = cont = in_output = false;
            skip = NULL;
            needs[0] = '\0';
        } else if (strncmp(line, ".\\\" not run:", 12) == 0) {
            skip = line + 12;
            cont = in_output = false;
        } else if (strncmp(line, ".\\\" needs:", 10) == 0) {
            snprintf(needs, sizeof needs, "%.*s", (int)len - 11, line + 11);
            cont = in_output = false;
        } else if (cont) {
            struct example *e = &ex[n - 1];
            cr_assert(roff_text(line, len, e->cmd, sizeof e->cmd, bad, sizeof bad), "%s:%d: roff escape %s",
                      page, line_no, bad);
            size_t l = strlen(e->cmd);
            cont = l >= 1 && e->cmd[l - 1] == '\\';
            if (cont) e->cmd[l - 1] = ' ';
            in_output = !cont;
        } else if (len >= 2 && strncmp(line, "$ ", 2) == 0) {
            cr_assert_lt(n, EX_MAX, "%s: more than %d example commands", page, EX_MAX);
            struct example *e = &ex[n++];
            memset(e, 0, sizeof *e);
            e->line = line_no;
            e->skip = skip;
            snprintf(e->needs, sizeof e->needs, "%s", needs);
            cr_assert(roff_text(line + 2, len - 2, e->cmd, sizeof e->cmd, bad, sizeof bad), "%s:%d: roff escape %s",
                      page, line_no, bad);
            size_t l = strlen(e->cmd);
            cont = l >= 1 && e->cmd[l - 1] == '\\';
            if (cont) e->cmd[l - 1] = ' ';
            in_output = !cont;
        } else {
            cr_assert(strncmp(line, "r1lab ", 6) != 0 && !(len > 0 && line[0] == '.' && strstr(line, "r1lab ")),
                      "%s:%d: an example command that is not written \"$ r1lab ...\": %.*s", page, line_no, (int)len,
                      line);
            if (in_output && n > 0 && len > 0 && line[0] != '.') {
                struct example *e = &ex[n - 1];
                cr_assert(roff_text(line, len, e->expect, sizeof e->expect, bad, sizeof bad), "%s:%d: roff escape %s",
                          page, line_no, bad);
            }
        }
        line = nl ? nl + 1 : line + len;
    }
    return n;
}

static void strip_space(char *s) {
    char *w = s;
    for (const char *r = s; *r; r++)
        if (*r != ' ' && *r != '\t' && *r != '\n') *w++ = *r;
    *w = '\0';
}

static bool have_program(const char *name) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v '%s' >/dev/null 2>&1", name);
    struct th_run r = th_sh(cmd);
    bool ok = r.exit_code == 0;
    th_run_free(&r);
    return ok;
}

Test(man_pages, examples_run_as_written) {
    static const char *const linked[] = {"configs", "models", "tests", "themes", "docs", "README.md"};
    static struct example ex[EX_MAX];
    char *root = th_path(""), *scratch = th_tmpdir("man-examples");
    char bin[4200], cmd[32768];
    snprintf(bin, sizeof bin, "%s/bin", scratch);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && ln -s \"$(readlink -f '%s')\" '%s/r1lab'", bin, th_bin(), bin);
    struct th_run r = th_sh(cmd);
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    th_run_free(&r);
    snprintf(cmd, sizeof cmd, "cd '%s' && ls man/*.1 man/*.5", root);
    struct th_run pages = th_sh(cmd);
    cr_assert_eq(pages.exit_code, 0, "%s", pages.err);
    int ran = 0, skipped = 0, missing_tool = 0;
    double t0 = th_now();
    for (char *page = strtok(pages.out, "\n"); page; page = strtok(NULL, "\n")) {
        char *text, *path = th_path(page);
        size_t len;
        cr_assert_eq(fs_read_file(path, 1 << 20, &text, &len), STATUS_OK, "%s", err_msg());
        free(path);
        size_t n = parse_examples(page, text, ex);
        const char *base = strrchr(page, '/') + 1;
        char dir[4400];
        snprintf(dir, sizeof dir, "%s/%s", scratch, base);
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/home'", dir);
        r = th_sh(cmd);
        th_run_free(&r);
        for (size_t k = 0; k < sizeof linked / sizeof linked[0]; k++) {
            snprintf(cmd, sizeof cmd, "ln -s '%s/%s' '%s/%s'", root, linked[k], dir, linked[k]);
            r = th_sh(cmd);
            cr_assert_eq(r.exit_code, 0, "%s", r.err);
            th_run_free(&r);
        }
        for (size_t i = 0; i < n; i++) {
            struct example *e = &ex[i];
            if (e->skip) {
                skipped++;
                continue;
            }
            if (e->needs[0] && !have_program(e->needs)) {
                fprintf(stderr, "%s:%d: not run here (needs %s): %s\n", page, e->line, e->needs, e->cmd);
                missing_tool++;
                continue;
            }
            char script[4600];
            snprintf(script, sizeof script, "%s/example.sh", dir);
            cr_assert(th_write_file(script, e->cmd, strlen(e->cmd)));
            snprintf(cmd, sizeof cmd,
                     "cd '%s' && env PATH='%s':\"$PATH\" R1LAB_HOME='%s' HOME='%s/home' XDG_CONFIG_HOME='%s/home/.config' "
                     "XDG_STATE_HOME='%s/home/.state' timeout 60 bash -o pipefail example.sh < /dev/null",
                     dir, bin, root, dir, dir, dir);
            double t = th_now();
            r = th_sh(cmd);
            cr_expect_eq(r.exit_code, 0, "%s:%d: exit status %d:\n$ %s\n%s%s", page, e->line, r.exit_code, e->cmd,
                         r.out, r.err);
            if (e->expect[0]) {
                char *got = strdup(r.out);
                strip_space(got);
                strip_space(e->expect);
                cr_expect_str_eq(got, e->expect, "%s:%d: the output differs from the page:\n$ %s\n%s", page, e->line,
                                 e->cmd, r.out);
                free(got);
            }
            if (th_now() - t > 5) fprintf(stderr, "%s:%d: took %.1f s: %s\n", page, e->line, th_now() - t, e->cmd);
            th_run_free(&r);
            ran++;
        }
        free(text);
    }
    fprintf(stderr, "man examples: %d run, %d marked not run, %d without a tool they need, in %.1f s\n", ran, skipped,
            missing_tool, th_now() - t0);
    cr_expect_geq(ran, 20, "only %d examples ran", ran);
    th_run_free(&pages);
    fs_remove_tree(scratch);
    free(scratch);
    free(root);
}

/* One date on every page (the release's), so that no page looks older than the program it describes. */
Test(man_pages, every_page_has_the_same_date) {
    struct th_run r = th_sh("cd \"${R1LAB_ROOT:-.}\" && for f in man/*.1 man/*.5; do "
                            "printf '%s ' \"$f\"; sed -n '1s/^\\.TH [^ ]* [15] \\([^ ]*\\) .*/\\1/p' \"$f\"; done");
    cr_assert_eq(r.exit_code, 0, "%s", r.err);
    char first[32] = "";
    int n = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n"), n++) {
        char page[256], date[32];
        cr_assert_eq(sscanf(line, "%255s %31s", page, date), 2, "%s: no date in its .TH line", line);
        if (!first[0]) snprintf(first, sizeof first, "%s", date);
        cr_expect_str_eq(date, first, "%s is dated %s, other pages %s", page, date, first);
    }
    cr_expect_geq(n, 16);
    th_run_free(&r);
}

/* Whether `word` occurs in s as a whole option word (not as the prefix of a longer option). */
static bool has_option_word(const char *s, const char *word) {
    size_t l = strlen(word);
    for (const char *p = s; (p = strstr(p, word)) != NULL; p++) {
        char after = p[l];
        bool starts = p == s || !(p[-1] == '-' || (p[-1] >= 'a' && p[-1] <= 'z'));
        if (starts && !(after == '-' || (after >= 'a' && after <= 'z'))) return true;
    }
    return false;
}

/* A usage line, in --help and in the page's SYNOPSIS, names every option of the command or ends in "[options]":
 * a reader of the first line is never left thinking it lists everything when it does not. */
Test(man_pages, usage_lines_name_every_option_or_say_options) {
    const char *args[] = {"--help", NULL};
    struct th_run top = th_r1lab(NULL, args);
    cr_assert_eq(top.exit_code, 0);
    const char *list = strstr(top.out, "commands:\n");
    cr_assert(list);
    for (const char *line = strchr(list, '\n') + 1; strncmp(line, "  ", 2) == 0; line = strchr(line, '\n') + 1) {
        char name[64], rel[128];
        cr_assert_eq(sscanf(line, " %63s", name), 1);
        const char *help_args[] = {name, "--help", NULL};
        struct th_run h = th_r1lab(NULL, help_args);
        cr_assert_eq(h.exit_code, 0);
        char usage[1024];
        snprintf(usage, sizeof usage, "%.*s", (int)strcspn(h.out, "\n"), h.out);
        snprintf(rel, sizeof rel, "man/r1lab-%s.1", name);
        char *page = read_page(rel);
        const char *syn = strstr(page, ".SH SYNOPSIS\n"), *syn_end = syn ? strstr(syn, "\n.SH ") : NULL;
        cr_assert(syn && syn_end, "%s has no SYNOPSIS", rel);
        char *synopsis = strndup(syn, (size_t)(syn_end - syn));
        bool usage_all = strstr(usage, "[options]") || strstr(usage, "[OPTIONS]");
        bool syn_all = strstr(synopsis, "options ]") || strstr(synopsis, "OPTIONS ]");
        /* the option list: "  -x, --name ARG   help" or "      --name ARG   help" */
        const char *opts = strstr(h.out, "\noptions:\n");
        cr_assert(opts, "r1lab %s --help has no option list", name);
        for (const char *o = strchr(opts + 1, '\n') + 1; strncmp(o, "  ", 2) == 0; o = strchr(o, '\n') + 1) {
            char shortopt[8] = "", longopt[64] = "";
            if (sscanf(o, " -%1[a-zA-Z], --%61[a-z0-9-]", shortopt + 1, longopt + 2) == 2) {
                shortopt[0] = '-';
                longopt[0] = longopt[1] = '-';
            } else if (sscanf(o, " --%61[a-z0-9-]", longopt + 2) == 1) {
                longopt[0] = longopt[1] = '-';
            } else {
                continue;
            }
            if (strcmp(longopt, "--help") == 0) continue;
            bool in_usage = has_option_word(usage, longopt) || (shortopt[0] && has_option_word(usage, shortopt));
            bool in_syn = has_option_word(synopsis, longopt) || (shortopt[0] && has_option_word(synopsis, shortopt));
            cr_expect(usage_all || in_usage, "r1lab %s: the usage line neither names %s nor ends in [options]:\n%s",
                      name, longopt, usage);
            cr_expect(syn_all || in_syn, "%s: SYNOPSIS neither names %s nor says [options]", rel, longopt);
        }
        free(synopsis);
        free(page);
        th_run_free(&h);
    }
    th_run_free(&top);
}

/* `r1lab help config` shows r1lab-config(5) (the formats have pages, not commands), and a near miss is told so. */
Test(man_pages, help_shows_the_section_5_pages) {
    struct th_run v = th_sh("command -v man >/dev/null 2>&1 || command -v mandoc >/dev/null 2>&1");
    bool viewer = v.exit_code == 0;
    th_run_free(&v);
    if (!viewer) cr_skip_test("neither man nor mandoc is installed: r1lab help config cannot show a page here");
    const char *pages[][2] = {{"config", "training configuration files of r1lab"}, {"theme", "r1lab-theme"}};
    for (size_t i = 0; i < 2; i++) {
        struct th_run r = th_r1lab(NULL, (const char *[]){"help", pages[i][0], NULL});
        cr_expect_eq(r.exit_code, 0, "r1lab help %s: %s", pages[i][0], r.err);
        cr_expect(strstr(r.out, pages[i][1]) != NULL, "r1lab help %s did not show its page:\n%.400s", pages[i][0],
                  r.out);
        th_run_free(&r);
    }
    struct th_run r = th_r1lab(NULL, (const char *[]){"help", "confg", NULL});
    cr_expect_eq(r.exit_code, 2);
    cr_expect(strstr(r.err, "Did you mean 'config'?") != NULL, "%s", r.err);
    th_run_free(&r);
    r = th_r1lab(NULL, (const char *[]){"--help", NULL});
    cr_expect(strstr(r.out, "\n  config ") && strstr(r.out, "\n  theme "), "--help lists the formats:\n%s", r.out);
    th_run_free(&r);
}
