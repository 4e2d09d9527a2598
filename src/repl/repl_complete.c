/* repl_complete: tab completion — command names after '/', then each command's argument kind from the
 * command table (parameter names, template names, think modes, votes, file names for paths and
 * checkpoints). repl_complete_words is pure; the readline glue below it only hands its answer over. */
#include "repl_impl.h"

#include <readline/readline.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CANDIDATES 64

static const char *const TEMPLATES[] = {"r1-zero", "r1", "chatml", "llama3", "raw"};
static const char *const THINKS[] = {"show", "hide", "collapse"};
static const char *const VOTES[] = {"a", "b", "tie", "bad"};
static const char *const ONOFF[] = {"on", "off"};
static const char *const SIDES[] = {"a", "b"};
static const char *const DIFFS[] = {"full"};

static size_t add_matching(const char *word, const char *const *names, size_t n, const char **out, size_t count,
                           size_t max) {
    size_t len = strlen(word);
    for (size_t i = 0; i < n && count < max; i++)
        if (strncmp(names[i], word, len) == 0) out[count++] = names[i];
    return count;
}

size_t repl_complete_words(const char *line, size_t start, const char *word, const char **out, size_t max,
                           bool *files) {
    *files = false;
    size_t n_cmds;
    const struct repl_command *cmds = repl_commands(&n_cmds);
    static char slashed[MAX_CANDIDATES][24];
    size_t i = 0;
    while (i < start && (line[i] == ' ' || line[i] == '\t')) i++;
    if (i == start) { /* the first word: a command */
        if (word[0] != '/') return 0;
        size_t count = 0;
        for (size_t k = 0; k < n_cmds && k < MAX_CANDIDATES && count < max; k++) {
            snprintf(slashed[k], sizeof slashed[k], "/%s", cmds[k].name);
            if (strncmp(slashed[k], word, strlen(word)) == 0) out[count++] = slashed[k];
        }
        return count;
    }
    if (line[i] != '/') return 0; /* a prompt: nothing to complete */
    char name[32];
    size_t n = strcspn(line + i + 1, " \t");
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name - 1 ? n : sizeof name - 1), line + i + 1);
    const struct repl_command *c = repl_find_command(name);
    if (!c) return 0;
    /* Which argument the word is: count the words between the command and start. */
    size_t arg = 0;
    for (size_t k = i + 1 + n; k < start;) {
        while (k < start && (line[k] == ' ' || line[k] == '\t')) k++;
        if (k >= start) break;
        while (k < start && line[k] != ' ' && line[k] != '\t') k++;
        arg++;
    }
    const char *cmd_names[MAX_CANDIDATES];
    switch (c->arg) {
    case REPL_ARG_PARAM:
        return arg == 0 ? add_matching(word, REPL_PARAMS, REPL_N_PARAMS, out, 0, max) : 0;
    case REPL_ARG_TEMPLATE:
        if (arg == 0) return add_matching(word, TEMPLATES, 5, out, 0, max);
        return arg == 1 ? add_matching(word, SIDES, 2, out, 0, max) : 0;
    case REPL_ARG_THINK:
        return arg == 0 ? add_matching(word, THINKS, 3, out, 0, max) : 0;
    case REPL_ARG_VOTE:
        return arg == 0 ? add_matching(word, VOTES, 4, out, 0, max) : 0;
    case REPL_ARG_ONOFF:
        return arg == 0 ? add_matching(word, ONOFF, 2, out, 0, max) : 0;
    case REPL_ARG_DIFF:
        return arg == 0 ? add_matching(word, DIFFS, 1, out, 0, max) : 0;
    case REPL_ARG_COMMAND:
        if (arg != 0) return 0;
        for (size_t k = 0; k < n_cmds && k < MAX_CANDIDATES; k++) cmd_names[k] = cmds[k].name;
        return add_matching(word, cmd_names, n_cmds < MAX_CANDIDATES ? n_cmds : MAX_CANDIDATES, out, 0, max);
    case REPL_ARG_PATH:
    case REPL_ARG_MODEL:
        *files = arg == 0;
        return 0;
    default:
        return 0;
    }
}

/* ---- readline glue ---- */

static const char *g_cands[MAX_CANDIDATES];
static size_t g_n;

static char *generator(const char *text, int state) {
    static size_t next;
    (void)text;
    if (state == 0) next = 0;
    return next < g_n ? strdup(g_cands[next++]) : NULL;
}

static char **attempt(const char *text, int start, int end) {
    (void)end;
    bool files;
    g_n = repl_complete_words(rl_line_buffer, (size_t)start, text, g_cands, MAX_CANDIDATES, &files);
    if (files) return NULL; /* readline's file name completion */
    rl_attempted_completion_over = 1;
    if (g_n == 0) return NULL;
    return rl_completion_matches(text, generator);
}

void repl_complete_install(void) {
    rl_attempted_completion_function = attempt;
    rl_completer_word_break_characters = " \t\n\"'";
}
