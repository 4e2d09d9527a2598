/* cli: what every subcommand shares — an option table that drives both getopt_long and --help, the exit
 * codes, and printing an engine error (message plus hint) the same way everywhere. */
#ifndef R1LAB_CLI_H
#define R1LAB_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "engine/util/status.h"

/* Exit codes, documented in r1lab(1). */
enum {
    EXIT_OK = 0,
    EXIT_FAILURE_ = 1, /* an error, already reported */
    EXIT_USAGE = 2,    /* bad command line */
    EXIT_ABORTED = 3,  /* interrupted by the user */
};

struct cli_option {
    const char *name;     /* long name, without "--" */
    int key;              /* short option character, or a value above 255 for long-only options */
    const char *arg_name; /* NULL for a flag, else the argument's name in --help ("N", "PATH") */
    const char *help;     /* one line */
};

struct cli_spec {
    const char *name;     /* "score" */
    const char *synopsis; /* "CKPT TEXT [--json]" */
    const char *summary;  /* one line for `r1lab --help` */
    const char *details;  /* a paragraph for `r1lab help NAME`, may be NULL */
    const struct cli_option *options;
    size_t n_options;
};

#define CLI_MAX_OPTIONS 48
struct cli_parser {
    const struct cli_spec *spec;
    struct option longopts[CLI_MAX_OPTIONS + 2];
    char shortopts[CLI_MAX_OPTIONS * 2 + 4];
};

/* Every command accepts --help (-h); the parser adds it. */
#define CLI_KEY_HELP 'h'

void cli_parser_init(struct cli_parser *p, const struct cli_spec *spec);
/* Like getopt_long: returns the option's key, -1 after the last option, or '?' (already reported on
 * stderr by getopt with the command name). */
int cli_next(struct cli_parser *p, int argc, char **argv);
void cli_print_help(FILE *out, const struct cli_spec *spec);
/* Prints "r1lab NAME: <problem>" and a pointer to --help; returns EXIT_USAGE. */
int cli_usage_error(const struct cli_spec *spec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Names this process's rank in every error and warning it prints (a data-parallel run). */
void cli_set_rank(int rank, int size);
/* Prints the engine's current error (and hint) and maps the status to an exit code. */
int cli_report(enum status st);
/* Installs the stderr log sink; `quiet` hides info messages. */
void cli_install_log(int quiet);

/* Parsing helpers for option values; they report a usage error themselves and return nonzero on failure. */
int cli_parse_int(const struct cli_spec *spec, const char *opt, const char *s, long long min, long long max,
                  long long *out);
int cli_parse_double(const struct cli_spec *spec, const char *opt, const char *s, double min, double max,
                     double *out);

/* Writes model text to out. When out is a terminal (and raw is false) control characters, escape sequences,
 * bidi controls and invalid UTF-8 are neutralised so model output cannot act on the terminal; otherwise the
 * bytes are written unchanged (pipes and files get exactly what the model produced). */
void cli_write_text(FILE *out, const char *text, size_t len, bool raw);

#endif
