/* repl: `r1lab chat` — a line-oriented chat with one model, or with two side by side.
 *
 * On a terminal: readline editing, a history file, tab completion, coloured streaming output; Ctrl-C stops
 * a generation (or clears the line; on an empty line it says how to leave), Ctrl-D leaves. With stdin not a
 * terminal: no prompt, no colour, one prompt or /command per line (or a """ block), plain replies on
 * stdout, stats and errors on stderr — scriptable. The commands (/help, /set, /compare ...) come from one
 * table that also drives /help, completion and "did you mean" hints (repl_commands). */
#ifndef R1LAB_REPL_H
#define R1LAB_REPL_H

#include <stdbool.h>
#include <stddef.h>

#include "endpoint.h"
#include "engine/util/status.h"
#include "view.h"

struct repl;

struct repl_options {
    const char *model;   /* spec of the first model (see endpoint_open) */
    const char *compare; /* spec of a second model: start side by side; NULL = none */
    struct endpoint_config ecfg;
    struct gen_params params;
    const char *system; /* NULL = none */
    enum think_mode think;
    bool blind;
    const char *votes_path; /* NULL = votes_default_path */
    bool plain;             /* force plain mode even on a terminal */
};

/* Opens the model(s). Errors are reported by the caller (cli_report). */
enum status repl_init(struct repl **out, const struct repl_options *o);
/* Runs until /quit, Ctrl-D or end of input. Returns an exit code: 0, 1 (plain mode: some prompt or command
 * failed), 3 (plain mode: interrupted). */
int repl_run(struct repl *r);
void repl_free(struct repl *r); /* accepts NULL */

/* What the argument of a command is, for completion. */
enum repl_arg {
    REPL_ARG_NONE,
    REPL_ARG_TEXT,     /* free text */
    REPL_ARG_PATH,     /* a file */
    REPL_ARG_MODEL,    /* a checkpoint directory, RUN@STEP or a URL */
    REPL_ARG_PARAM,    /* a /set parameter name, then a value */
    REPL_ARG_TEMPLATE, /* a template name */
    REPL_ARG_THINK,    /* show | hide | collapse */
    REPL_ARG_VOTE,     /* a | b | tie | bad */
    REPL_ARG_COMMAND,  /* a command name (for /help) */
    REPL_ARG_ONOFF,    /* on | off */
    REPL_ARG_DIFF,     /* full */
};

struct repl_command {
    const char *name; /* without the slash */
    const char *args; /* synopsis of the arguments, "" for none */
    const char *help; /* one line */
    enum repl_arg arg;
    /* Returns 0 (ok), 1 (error, already reported) or 2 (quit). args is the rest of the line, trimmed. */
    int (*run)(struct repl *r, const char *args);
};
const struct repl_command *repl_commands(size_t *n);
/* The command a name (without slash) selects: an exact name or an unambiguous prefix; NULL otherwise. */
const struct repl_command *repl_find_command(const char *name);
/* The closest command name to an unknown one (edit distance <= 2 or a prefix), or NULL. */
const char *repl_suggest_command(const char *name);

/* Parameters of /set, in /show order. */
extern const char *const REPL_PARAMS[];
extern const size_t REPL_N_PARAMS;

/* Completion candidates for the word text[start..end) of line (pure; for tests and the readline glue):
 * writes up to max candidates, returns their number; *files is set when file names should be completed
 * instead. */
size_t repl_complete_words(const char *line, size_t start, const char *word, const char **out, size_t max, bool *files);

#endif
