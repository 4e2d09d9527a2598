/* The manual against the program: every command of `r1lab --help` (the command table in src/main.c) has its own
 * page man/r1lab-NAME.1 and an entry in the COMMANDS section of r1lab(1), and r1lab-pipeline(1) documents every
 * key of a rejection_sample stage with its type and default (the table in src/engine/rl/rejection.c). */
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
