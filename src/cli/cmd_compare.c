/* r1lab compare: two models, the same prompts and sampling settings, side by side. With --prompts FILE (or
 * prompts on a non-terminal stdin) a report and a summary table; with a terminal and no prompts file, the
 * chat REPL in side-by-side mode. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/chat_opts.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "repl/compare.h"
#include "repl/repl.h"

enum { OPT_PROMPTS = 'p', OPT_JSON = 420, OPT_BLIND, OPT_VOTES, OPT_SYSTEM, OPT_THINK, OPT_WIDTH, OPT_SAMPLES, OPT_EXAMPLES,
       OPT_BRIEF };
static const struct cli_option options[] = {
    {"prompts", OPT_PROMPTS, "FILE", "JSON lines {\"prompt\", \"answer\"} or plain lines ('-' = stdin)"},
    {"samples", OPT_SAMPLES, "K", "answer each prompt K times per model, seeds S..S+K-1; pass@1 over all (default 1)"},
    {"examples", OPT_EXAMPLES, "N", "show up to N prompts where the models differ most, after the summary (default 3)"},
    {"brief", OPT_BRIEF, NULL, "no per-prompt replies: only the header, the summary and the examples"},
    {"blind", OPT_BLIND, NULL, "hide which model is which and ask for a vote after each prompt"},
    {"votes", OPT_VOTES, "FILE", "votes file (default $XDG_STATE_HOME/r1lab/votes.jsonl)"},
    {"json", OPT_JSON, NULL, "print one JSON document (replies, scores, summary) instead of the report"},
    {"system", OPT_SYSTEM, "TEXT", "system text for every prompt"},
    {"think", OPT_THINK, "MODE", "show, hide or collapse <think> text in the report (default show)"},
    {"width", OPT_WIDTH, "N", "report width in columns (default: the terminal's, else $COLUMNS or 100)"},
    CHAT_COMMON_OPTIONS,
};
static const struct cli_spec spec = {
    .name = "compare",
    .synopsis = "A B [--prompts FILE] [--samples K] [--examples N] [--brief] [--blind] [--seed S] [--json] [options]",
    .summary = "Compare two models side by side over prompts, with a summary table.",
    .details =
        "A and B are checkpoints (DIR, RUN_DIR@STEP, RUN_DIR@latest) or OpenAI-compatible servers (URL, URL#MODEL,\n"
        "remote:MODEL for $OPENAI_BASE_URL). Both get the same prompt, settings and seed. Without --prompts,\n"
        "prompts are read from stdin, or, on a terminal, the chat REPL starts in side-by-side mode.",
    .options = options,
    .n_options = sizeof options / sizeof options[0],
};

int cmd_compare(int argc, char **argv) {
    struct cli_parser p;
    cli_parser_init(&p, &spec);
    struct chat_opts co;
    chat_opts_init(&co);
    struct compare_options o = {0};
    const char *pos[3];
    int n_pos = 0;
    long long width = 0, samples = 1, examples = 3;
    for (;;) {
        int c = cli_next(&p, argc, argv);
        if (c == -1) break; /* GNU getopt has moved the arguments after the options */
        int r = chat_opts_parse(&co, &spec, c, optarg);
        if (r == CHAT_OPT_HANDLED) continue;
        if (r == CHAT_OPT_ERROR) return EXIT_USAGE;
        switch (c) {
        case CLI_KEY_HELP:
            cli_print_help(stdout, &spec);
            return EXIT_OK;
        case OPT_PROMPTS:
            o.prompts_path = optarg;
            break;
        case OPT_BLIND:
            o.blind = true;
            break;
        case OPT_VOTES:
            o.votes_path = optarg;
            break;
        case OPT_JSON:
            o.json = true;
            break;
        case OPT_SYSTEM:
            o.system = optarg;
            break;
        case OPT_THINK:
            if (!think_mode_parse(optarg, &o.think))
                return cli_usage_error(&spec, "--think: '%s' is not show, hide or collapse", optarg);
            break;
        case OPT_WIDTH:
            if (cli_parse_int(&spec, "--width", optarg, 20, 10000, &width)) return EXIT_USAGE;
            break;
        case OPT_SAMPLES:
            if (cli_parse_int(&spec, "--samples", optarg, 1, 10000, &samples)) return EXIT_USAGE;
            break;
        case OPT_EXAMPLES:
            if (cli_parse_int(&spec, "--examples", optarg, 0, 10000, &examples)) return EXIT_USAGE;
            break;
        case OPT_BRIEF:
            o.brief = true;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    for (; optind < argc; optind++) {
        if (n_pos == 3) return cli_usage_error(&spec, "too many arguments");
        pos[n_pos++] = argv[optind];
    }
    if (co.remote) return cli_usage_error(&spec, "name remote models as A or B (URL, URL#MODEL or remote:MODEL)");
    if (n_pos != 2) return cli_usage_error(&spec, "expected two models, A and B");
    cli_install_log(1);
    bool prompts_from_stdin = !o.prompts_path || strcmp(o.prompts_path, "-") == 0;
    if (!o.prompts_path && isatty(STDIN_FILENO) && !o.json) {
        /* Interactive: the chat REPL, side by side from the start. */
        if (o.brief || samples != 1)
            return cli_usage_error(&spec, "--samples and --brief need prompts: give them with --prompts FILE");
        struct repl_options ro = {.model = pos[0],
                                  .compare = pos[1],
                                  .ecfg = co.ecfg,
                                  .params = co.params,
                                  .system = o.system,
                                  .think = o.think,
                                  .blind = o.blind,
                                  .votes_path = o.votes_path};
        struct repl *r;
        enum status st = repl_init(&r, &ro);
        if (st != STATUS_OK) return cli_report(st);
        int rc = repl_run(r);
        repl_free(r);
        return rc;
    }
    if (o.brief && o.json) return cli_usage_error(&spec, "choose either --brief (a short text report) or --json");
    if (o.brief && o.blind) return cli_usage_error(&spec, "--brief shows no replies to vote on: drop --blind or --brief");
    if (o.blind && prompts_from_stdin)
        return cli_usage_error(&spec, "--blind reads votes from stdin: give the prompts with --prompts FILE");
    o.spec[0] = pos[0];
    o.spec[1] = pos[1];
    o.ecfg = co.ecfg;
    o.params = co.params;
    o.width = (int)width;
    o.samples = (int)samples;
    o.examples = (int)examples;
    return compare_run(&o);
}
