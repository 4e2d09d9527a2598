/* cli: option tables to getopt_long, help text, and error reporting for all subcommands. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/util/log.h"
#include "text/sanitize.h"

void cli_parser_init(struct cli_parser *p, const struct cli_spec *spec) {
    ASSERT(spec->n_options <= CLI_MAX_OPTIONS);
    memset(p, 0, sizeof *p);
    p->spec = spec;
    char *s = p->shortopts;
    /* GNU getopt permutes: options may follow the positional arguments (r1lab score CKPT TEXT --json);
     * a text that starts with '-' goes after "--". */
    *s++ = ':'; /* report a missing argument as ':' so we can word the message ourselves */
    size_t n = 0;
    for (size_t i = 0; i < spec->n_options; i++) {
        const struct cli_option *o = &spec->options[i];
        p->longopts[n++] = (struct option){o->name, o->arg_name ? required_argument : no_argument, NULL, o->key};
        if (o->key > 0 && o->key < 256) {
            *s++ = (char)o->key;
            if (o->arg_name) *s++ = ':';
        }
    }
    p->longopts[n++] = (struct option){"help", no_argument, NULL, CLI_KEY_HELP};
    p->longopts[n] = (struct option){0};
    *s++ = 'h';
    *s = '\0';
    optind = 1;
    opterr = 0;
}

int cli_next(struct cli_parser *p, int argc, char **argv) {
    int c = getopt_long(argc, argv, p->shortopts, p->longopts, NULL);
    if (c == '?') {
        if (optopt && optopt < 256)
            cli_usage_error(p->spec, "unknown option -%c", optopt);
        else
            cli_usage_error(p->spec, "unknown option %s", argv[optind - 1]);
        return '?';
    }
    if (c == ':') {
        cli_usage_error(p->spec, "option %s needs a value", argv[optind - 1]);
        return '?';
    }
    return c;
}

void cli_print_help(FILE *out, const struct cli_spec *spec) {
    fprintf(out, "usage: r1lab %s %s\n\n%s\n", spec->name, spec->synopsis, spec->summary);
    if (spec->details) fprintf(out, "\n%s\n", spec->details);
    fprintf(out, "\noptions:\n");
    for (size_t i = 0; i < spec->n_options; i++) {
        const struct cli_option *o = &spec->options[i];
        char left[64];
        if (o->key > 0 && o->key < 256)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->key, o->name, o->arg_name ? " " : "",
                     o->arg_name ? o->arg_name : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg_name ? " " : "", o->arg_name ? o->arg_name : "");
        fprintf(out, "  %-28s %s\n", left, o->help);
    }
    fprintf(out, "  %-28s %s\n", "-h, --help", "show this help");
    fprintf(out, "\nSee r1lab-%s(1) for the full manual.\n", spec->name);
}

int cli_usage_error(const struct cli_spec *spec, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "r1lab %s: ", spec->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: r1lab %s %s\n(try 'r1lab %s --help')\n", spec->name, spec->synopsis, spec->name);
    return EXIT_USAGE;
}

/* "r1lab", or "r1lab rank 1/2" in a data-parallel run, where every rank writes to the same terminal. */
static char prog[48] = "r1lab";

void cli_set_rank(int rank, int size) { snprintf(prog, sizeof prog, "r1lab rank %d/%d", rank, size); }

int cli_report(enum status st) {
    if (st == STATUS_OK) return EXIT_OK;
    const char *msg = err_msg();
    fprintf(stderr, "%s: error: %s\n", prog, msg[0] ? msg : status_name(st));
    const char *hint = err_hint_text();
    if (hint[0]) fprintf(stderr, "  hint: %s\n", hint);
    if (st == STATUS_ABORTED) return EXIT_ABORTED;
    return EXIT_FAILURE_;
}

static void stderr_sink(enum log_level level, const char *msg, void *user) {
    int quiet = *(int *)user;
    if (level == LOG_INFO && quiet) return;
    if (level == LOG_INFO || level == LOG_DEBUG)
        fprintf(stderr, "%s\n", msg);
    else
        fprintf(stderr, "%s: %s: %s\n", prog, log_level_name(level), msg);
}

void cli_install_log(int quiet) {
    static int quiet_flag;
    quiet_flag = quiet;
    log_set_sink(stderr_sink, &quiet_flag);
}

int cli_parse_int(const struct cli_spec *spec, const char *opt, const char *s, long long min, long long max,
                  long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return cli_usage_error(spec, "%s: '%s' is not an integer", opt, s);
    if (v < min || v > max) return cli_usage_error(spec, "%s: %lld is out of range [%lld, %lld]", opt, v, min, max);
    *out = v;
    return 0;
}

int cli_parse_double(const struct cli_spec *spec, const char *opt, const char *s, double min, double max,
                     double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) return cli_usage_error(spec, "%s: '%s' is not a number", opt, s);
    if (v < min || v > max) return cli_usage_error(spec, "%s: %g is out of range [%g, %g]", opt, v, min, max);
    *out = v;
    return 0;
}

void cli_write_text(FILE *out, const char *text, size_t len, bool raw) {
    if (raw || !isatty(fileno(out))) {
        fwrite(text, 1, len, out);
        return;
    }
    /* Through the dashboard's sanitiser in chunks; newlines stay line breaks. */
    char buf[8192];
    while (len > 0) {
        size_t used = 0, n = san_text(text, len, SAN_KEEP_NEWLINES, buf, sizeof buf, &used);
        fwrite(buf, 1, n, out);
        if (used == 0) break;
        text += used;
        len -= used;
    }
}
