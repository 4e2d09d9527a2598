/* repl_impl: the REPL's state, shared by its files (repl.c: input and signals; repl_gen.c: generating and
 * showing replies; repl_cmds.c: the command table; repl_complete.c: completion; transcript.c: /save).
 * Nothing outside src/repl includes this. */
#ifndef R1LAB_REPL_IMPL_H
#define R1LAB_REPL_IMPL_H

#include <limits.h>
#include <signal.h>
#include <stdio.h>

#include "endpoint.h"
#include "engine/util/strbuf.h"
#include "history.h"
#include "repl.h"
#include "view.h"

/* One prompt and the reply (or two replies) it got. */
struct exchange {
    char *prompt;
    struct gen_result res[2]; /* by model: res[0] from ep[0], res[1] from ep[1] */
    bool has[2];              /* a reply (maybe partial) exists */
    int left;                 /* the model shown in the left column (blind mode shuffles) */
    uint64_t seed;
    bool voted;
    char names[2][128]; /* the models that answered (endpoint names at the time) */
};

struct repl {
    struct repl_options opt;
    struct endpoint *ep[2]; /* ep[1]: the comparison model, NULL when not comparing */
    struct gen_params params;
    char *system;
    enum think_mode think;
    bool blind;
    char votes_path[PATH_MAX];

    struct exchange *ex;
    size_t n_ex, cap_ex;
    uint64_t n_gen; /* generations so far: the seed of the next is params.seed + n_gen */

    bool interactive; /* stdin and stdout are terminals (and not --plain) */
    bool color;       /* SGR styles on stdout */
    bool ascii;       /* no box-drawing characters */
    FILE *out;        /* replies and command output */
    FILE *info;       /* stats and notes: stdout when interactive, stderr in plain mode */
    int failures;     /* errors in plain mode */
    bool quit;

    struct history hist;
    struct strbuf ml; /* a """ block being read */
    bool in_ml;
};

/* The flag Ctrl-C (SIGINT) and SIGTERM set; generation polls it. */
extern volatile sig_atomic_t repl_stop_flag;

/* Prints the current engine error (and hint) to stderr; returns 1 (the handler convention). */
int repl_report(struct repl *r);
/* A note to the user (r->info), printf-style. */
void repl_note(struct repl *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sends a prompt: appends an exchange and generates the reply (or both). Returns 0/1. */
int repl_submit(struct repl *r, const char *prompt);
/* Generates the replies of exchange i again (the last one: /regen). */
int repl_generate(struct repl *r, size_t i);
/* Handles one complete input (a command line or a prompt). Returns 0/1/2. */
int repl_dispatch(struct repl *r, const char *line);
void repl_clear_transcript(struct repl *r);
/* The reply text of exchange e from model m with reasoning inline (malloc'd). */
char *repl_reply_text(const struct exchange *e, int m);
/* The reply without its <think> part and without answer tags: what /diff compares (malloc'd). */
char *repl_answer_only(const char *text);
/* Names of the models as shown for exchange e (blind: "A"/"B" until voted). */
const char *repl_shown_name(const struct repl *r, const struct exchange *e, int column);

/* Installs tab completion into readline. */
void repl_complete_install(void);

/* /save: the transcript as Markdown. */
enum status transcript_save(const struct repl *r, const char *path);
void transcript_markdown(const struct repl *r, struct strbuf *out);

#endif
