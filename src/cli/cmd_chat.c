/* r1lab chat: the REPL front end — options to repl_options, then repl_run. A model is a checkpoint (a
 * directory, RUN_DIR@STEP, RUN_DIR@latest) or an OpenAI-compatible server (a URL, --remote URL, or
 * $OPENAI_BASE_URL with --model). Options may come before or after the model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/chat_opts.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "repl/repl.h"

enum { OPT_COMPARE = 400, OPT_SYSTEM, OPT_THINK, OPT_BLIND, OPT_VOTES, OPT_PLAIN };
static const struct cli_option options[] = {
    CHAT_COMMON_OPTIONS,
    {"compare", OPT_COMPARE, "CKPT|URL", "start side by side with this second model"},
    {"system", OPT_SYSTEM, "TEXT", "system text for the conversation"},
    {"think", OPT_THINK, "MODE", "show, hide or collapse <think> text (default show)"},
    {"blind", OPT_BLIND, NULL, "with --compare: hide which model is which until you /vote"},
    {"votes", OPT_VOTES, "FILE", "votes file (default $XDG_STATE_HOME/r1lab/votes.jsonl)"},
    {"plain", OPT_PLAIN, NULL, "plain mode even on a terminal: no prompt, no colour, no line editing"},
};
static const struct cli_spec spec = {
    .name = "chat",
    .synopsis = "[CKPT|URL] [--remote URL --model NAME] [--compare CKPT|URL] [--template NAME] [options]",
    .summary = "Chat with a checkpoint or an OpenAI-compatible server; compare two side by side.",
    .details = "CKPT is a checkpoint directory, RUN_DIR@STEP or RUN_DIR@latest; URL is an OpenAI-compatible API\n"
               "base (http://127.0.0.1:8080/v1, optionally #MODEL). On a terminal: line editing, history, tab\n"
               "completion; /help lists the commands. With stdin not a terminal, every line is a prompt or a\n"
               "/command and replies are printed plainly. The API key comes from OPENAI_API_KEY only.",
    .options = options,
    .n_options = sizeof options / sizeof options[0],
};

int cmd_chat(int argc, char **argv) {
    struct cli_parser p;
    cli_parser_init(&p, &spec);
    struct chat_opts co;
    chat_opts_init(&co);
    struct repl_options ro = {0};
    const char *positional[4];
    int n_pos = 0;
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
        case OPT_COMPARE:
            ro.compare = optarg;
            break;
        case OPT_SYSTEM:
            ro.system = optarg;
            break;
        case OPT_THINK:
            if (!think_mode_parse(optarg, &ro.think))
                return cli_usage_error(&spec, "--think: '%s' is not show, hide or collapse", optarg);
            break;
        case OPT_BLIND:
            ro.blind = true;
            break;
        case OPT_VOTES:
            ro.votes_path = optarg;
            break;
        case OPT_PLAIN:
            ro.plain = true;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    for (; optind < argc; optind++) {
        if (n_pos == 4) return cli_usage_error(&spec, "too many arguments");
        positional[n_pos++] = argv[optind];
    }
    if (n_pos > 1) return cli_usage_error(&spec, "expected one model, got %d (use --compare for a second)", n_pos);
    const char *model = NULL;
    if (chat_opts_model_spec(&co, &spec, n_pos ? positional[0] : NULL, &model)) return EXIT_USAGE;
    if (ro.blind && !ro.compare) return cli_usage_error(&spec, "--blind needs --compare");
    cli_install_log(1);
    ro.model = model;
    ro.ecfg = co.ecfg;
    ro.params = co.params;
    struct repl *r;
    enum status st = repl_init(&r, &ro);
    if (st != STATUS_OK) return cli_report(st);
    int rc = repl_run(r);
    repl_free(r);
    return rc;
}
