/* cmd_dash: `r1lab dash RUN_DIR` — attach the dashboard to a live or finished run (r1lab-dash(1)). Picks the
 * full-screen UI on a terminal and plain step lines otherwise; --once prints a summary for scripts. */
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "engine/run/pipeline.h"
#include "tui/tui.h"

enum { OPT_THEME = 256, OPT_COLOR, OPT_GRAPH, OPT_NO_MOUSE, OPT_ONCE, OPT_PLAIN, OPT_STAGE };

static const struct cli_option options[] = {
    {"theme", OPT_THEME, "NAME|PATH", "colour theme: default, light, tty, mono, or a .theme file (r1lab-theme(5))"},
    {"color", OPT_COLOR, "WHEN", "auto (default; off with NO_COLOR), always, never"},
    {"graph", OPT_GRAPH, "KIND", "plot symbols: auto (default), braille, block, ascii"},
    {"no-mouse", OPT_NO_MOUSE, NULL, "do not take the mouse (keeps the terminal's selection and scrollback)"},
    {"once", OPT_ONCE, NULL, "print a summary of the run as it is now and exit"},
    {"plain", OPT_PLAIN, NULL, "print one line per step instead of the full-screen dashboard"},
    {"stage", OPT_STAGE, "NAME", "a pipeline: show this stage first (default: the running one, else the last)"},
};

static const struct cli_spec spec = {
    "dash",
    "RUN_DIR|PIPELINE_DIR [--stage NAME] [--theme NAME|PATH] [--color WHEN] [--graph KIND] [--no-mouse] [--once] [--plain]",
    "show the live dashboard of a training run (live, finished, or written by another process)",
    "Reads RUN_DIR (metrics.jsonl, samples.jsonl, status.json, events.jsonl) and shows reward curves, response\n"
    "length, the advantage histogram, sampled <think> traces and the run's health. On a live run, p pauses, s saves\n"
    "a checkpoint and e runs an evaluation through RUN_DIR/control.jsonl; q detaches or stops. Press ? for keys.\n"
    "When stdout is not a terminal, or TERM is dumb, prints one line per step instead.\n"
    "A pipeline's directory (r1lab pipeline) shows its stages in a row under the header; c and C switch stages.",
    options,
    sizeof options / sizeof options[0],
};

int cmd_dash(int argc, char **argv) {
    setlocale(LC_CTYPE, ""); /* UTF-8 output (braille, control pictures) when the locale is UTF-8 */
    struct cli_parser p;
    cli_parser_init(&p, &spec);
    struct tui_options o = tui_options_default();
    bool once = false, plain = false;
    int c;
    /* Options may come before or after RUN_DIR (the parser permutes). */
    while ((c = cli_next(&p, argc, argv)) != -1) {
        switch (c) {
        case CLI_KEY_HELP:
            cli_print_help(stdout, &spec);
            return EXIT_OK;
        case OPT_THEME:
            o.theme = optarg;
            break;
        case OPT_COLOR:
            if (strcmp(optarg, "auto") == 0)
                o.color = TUI_COLOR_AUTO;
            else if (strcmp(optarg, "always") == 0)
                o.color = TUI_COLOR_ALWAYS;
            else if (strcmp(optarg, "never") == 0)
                o.color = TUI_COLOR_NEVER;
            else
                return cli_usage_error(&spec, "--color: '%s' is not auto, always or never", optarg);
            break;
        case OPT_GRAPH:
            if (strcmp(optarg, "auto") == 0)
                o.graph = TUI_GRAPH_AUTO;
            else if (strcmp(optarg, "braille") == 0)
                o.graph = TUI_GRAPH_BRAILLE;
            else if (strcmp(optarg, "block") == 0)
                o.graph = TUI_GRAPH_BLOCK;
            else if (strcmp(optarg, "ascii") == 0)
                o.graph = TUI_GRAPH_ASCII;
            else
                return cli_usage_error(&spec, "--graph: '%s' is not auto, braille, block or ascii", optarg);
            break;
        case OPT_NO_MOUSE:
            o.no_mouse = true;
            break;
        case OPT_ONCE:
            once = true;
            break;
        case OPT_PLAIN:
            plain = true;
            break;
        case OPT_STAGE:
            o.stage = optarg;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) return cli_usage_error(&spec, "missing RUN_DIR");
    if (optind + 1 < argc) return cli_usage_error(&spec, "expected one RUN_DIR, got %d", argc - optind);
    const char *dir = argv[optind];
    if (once || plain || !tui_available(&o)) {
        struct tui_plain_options po = tui_plain_options_default();
        po.once = once;
        po.stage = o.stage;
        if (o.stage && !pipeline_is_dir(dir))
            return cli_usage_error(&spec, "--stage: %s is not a pipeline directory", dir);
        return cli_report(tui_follow_plain(dir, stdout, &po));
    }
    enum tui_exit how;
    enum status st = tui_run(dir, &o, &how);
    if (st != STATUS_OK) return cli_report(st);
    /* Stopping a run from an attached dashboard, with q or with Ctrl-C, is what the user came to do: 0. */
    return how == TUI_EXIT_TERMINATED ? EXIT_ABORTED : EXIT_OK;
}
