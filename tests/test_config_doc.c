/* Tests that r1lab-config(5) cannot drift from the configuration table (config_keys[] in config_keys.c):
 * its KEYS section documents every key as
 *     .TP
 *     .B key
 *     TYPE; default DEFAULT; STAGES[; allowed VALUES].
 * with the table's type, default (its JSON text, roff-escaped), stages and allowed values (config_key_allowed:
 * a range or the choices, when the type alone does not say it), and documents no key the table lacks. The check is a function of the page text, so a second test feeds it a damaged page and makes sure
 * it fails. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/run/config.h"
#include "engine/util/fsutil.h"
#include "harness.h"

static const char *type_word(enum config_type t) {
    switch (t) {
    case CONFIG_INT:
        return "integer";
    case CONFIG_NUMBER:
        return "number";
    case CONFIG_BOOL:
        return "boolean";
    case CONFIG_STRING:
        return "string";
    case CONFIG_OBJECT:
        return "object";
    case CONFIG_ARRAY:
        return "array";
    case CONFIG_ANY:
        return "any";
    }
    return "?";
}

/* "all stages" for STAGE_ALL, else the stages' names joined: "grpo", "pretrain and sft". */
static void stages_text(unsigned stages, char *out, size_t cap) {
    if ((stages & STAGE_ALL) == STAGE_ALL) {
        snprintf(out, cap, "all stages");
        return;
    }
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{STAGE_PRETRAIN, "pretrain"}, {STAGE_SFT, "sft"}, {STAGE_GRPO, "grpo"}};
    const char *picked[3];
    int n = 0;
    for (int i = 0; i < 3; i++)
        if (stages & names[i].bit) picked[n++] = names[i].name;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", i == 0 ? "" : i == n - 1 ? " and " : ", ", picked[i]);
    }
}

/* Undoes the roff escapes the entries use: \- is '-', \(dq is '"', \e is '\'. Returns a malloc'd string. */
static char *unescape(const char *s, size_t n) {
    char *out = malloc(n + 1), *w = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && s[i + 1] == '-') {
            *w++ = '-';
            i++;
        } else if (s[i] == '\\' && i + 1 < n && s[i + 1] == 'e') {
            *w++ = '\\';
            i++;
        } else if (strncmp(s + i, "\\(dq", 4) == 0 && i + 4 <= n) {
            *w++ = '"';
            i += 3;
        } else {
            *w++ = s[i];
        }
    }
    *w = '\0';
    return out;
}

static bool is_config_key(const char *name, size_t len) {
    for (size_t i = 0; i < config_n_keys; i++)
        if (strlen(config_keys[i].name) == len && strncmp(config_keys[i].name, name, len) == 0) return true;
    return false;
}

struct report {
    char text[16384];
    int problems;
};

static void problem(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct report *r, const char *fmt, ...) {
    size_t len = strlen(r->text);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->text + len, sizeof r->text - len, fmt, ap);
    va_end(ap);
    len = strlen(r->text);
    snprintf(r->text + len, sizeof r->text - len, "\n");
    r->problems++;
}

/* Checks a page's text against config_keys[]; every problem is one line of r->text. */
static void check_page(const char *page, struct report *r) {
    memset(r, 0, sizeof *r);
    const char *start = strstr(page, "\n.SH KEYS\n");
    if (!start) {
        problem(r, "the page has no KEYS section (\".SH KEYS\")");
        return;
    }
    start += 1;
    const char *end = strstr(start + 1, "\n.SH ");
    size_t sec_len = end ? (size_t)(end - start) + 1 : strlen(start);
    char *sec = malloc(sec_len + 1);
    memcpy(sec, start, sec_len);
    sec[sec_len] = '\0';

    for (size_t i = 0; i < config_n_keys; i++) {
        const struct config_key *k = &config_keys[i];
        char want_head[160];
        snprintf(want_head, sizeof want_head, "\n.TP\n.B %s\n", k->name);
        const char *at = strstr(sec, want_head);
        if (!at) {
            problem(r, "key \"%s\" is not documented: KEYS needs an entry \".TP\" / \".B %s\"", k->name, k->name);
            continue;
        }
        const char *line = at + strlen(want_head);
        size_t line_len = strcspn(line, "\n");
        char *got = unescape(line, line_len);
        char stages[64], allowed[256], want[512];
        stages_text(k->stages, stages, sizeof stages);
        config_key_allowed(k, allowed, sizeof allowed);
        if (allowed[0])
            snprintf(want, sizeof want, "%s; default %s; %s; allowed %s.", type_word(k->type), k->def, stages, allowed);
        else
            snprintf(want, sizeof want, "%s; default %s; %s.", type_word(k->type), k->def, stages);
        if (strcmp(got, want) != 0)
            problem(r, "key \"%s\": the line after \".B %s\" reads \"%s\", the table says \"%s\" (write '-' as '\\-')",
                    k->name, k->name, got, want);
        free(got);
    }

    /* The other way round: every entry of KEYS is a key of the table. */
    for (const char *p = strstr(sec, "\n.TP\n.B "); p; p = strstr(p + 1, "\n.TP\n.B ")) {
        const char *name = p + strlen("\n.TP\n.B ");
        size_t len = strcspn(name, "\n");
        if (!is_config_key(name, len))
            problem(r, "KEYS documents \"%.*s\", which is not a configuration key", (int)len, name);
    }
    free(sec);
}

static char *read_page(void) {
    char *path = th_path("man/r1lab-config.5"), *text = NULL;
    size_t len;
    cr_assert_eq(fs_read_file(path, 1u << 20, &text, &len), STATUS_OK, "cannot read %s: %s", path, err_msg());
    free(path);
    return text;
}

Test(config_doc, man_page_documents_every_key_with_type_default_and_stages) {
    char *page = read_page();
    struct report r;
    check_page(page, &r);
    cr_expect_eq(r.problems, 0, "man/r1lab-config.5 and config_keys[] disagree:\n%s", r.text);
    free(page);
}

/* Replaces the first occurrence of `from` in page with `to` (malloc'd result). */
static char *replace(const char *page, const char *from, const char *to) {
    const char *at = strstr(page, from);
    cr_assert(at != NULL, "the page lacks \"%s\"", from);
    size_t a = (size_t)(at - page), n = strlen(page) - a - strlen(from);
    char *out = malloc(a + strlen(to) + n + 1);
    memcpy(out, page, a);
    strcpy(out + a, to);
    strcat(out, at + strlen(from));
    return out;
}

Test(config_doc, check_fails_for_a_missing_key_a_wrong_default_and_an_unknown_key) {
    char *page = read_page();
    const struct config_key *k = &config_keys[config_n_keys / 2];
    char head[160];
    snprintf(head, sizeof head, "\n.TP\n.B %s\n", k->name);
    struct report r;
    check_page(page, &r);
    int baseline = r.problems; /* 0 unless the page is already wrong (the test above says how) */

    /* The entry's name changed to one the table does not have: the key is missing and the name unknown. */
    char *missing = replace(page, head, "\n.TP\n.B no_such_key\n");
    check_page(missing, &r);
    cr_expect_eq(r.problems, baseline + 2, "%s", r.text);
    cr_expect(strstr(r.text, k->name) != NULL, "the report does not name %s:\n%s", k->name, r.text);
    cr_expect(strstr(r.text, "no_such_key") != NULL, "%s", r.text);

    /* The default on the line after the name changed. */
    char line[256];
    snprintf(line, sizeof line, "%s; default ", type_word(k->type));
    char with_line[512];
    snprintf(with_line, sizeof with_line, "%s%s", head, line);
    char changed_to[512];
    snprintf(changed_to, sizeof changed_to, "%s%s12345 ", head, line);
    char *wrong = replace(page, with_line, changed_to);
    check_page(wrong, &r);
    cr_expect_eq(r.problems, baseline + 1, "%s", r.text);

    free(missing);
    free(wrong);
    free(page);
}
