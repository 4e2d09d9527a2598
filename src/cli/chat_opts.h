/* chat_opts: the options `r1lab chat` and `r1lab compare` share — sampling settings, template, device, the
 * remote server's model and timeouts — parsed in one place so both commands spell and check them alike. */
#ifndef R1LAB_CHAT_OPTS_H
#define R1LAB_CHAT_OPTS_H

#include "cli/cli.h"
#include "repl/endpoint.h"

enum {
    CHAT_OPT_TEMP = 't',
    CHAT_OPT_MAX = 'n',
    CHAT_OPT_MODEL = 'm',
    CHAT_OPT_REMOTE = 'r',
    CHAT_OPT_TOP_P = 300,
    CHAT_OPT_TOP_K,
    CHAT_OPT_SEED,
    CHAT_OPT_TEMPLATE,
    CHAT_OPT_DEVICE,
    CHAT_OPT_THREADS,
    CHAT_OPT_TIMEOUT,
    CHAT_OPT_CONNECT_TIMEOUT,
    CHAT_OPT_MAX_RESPONSE,
};

/* clang-format off */
#define CHAT_COMMON_OPTIONS                                                                                        \
    {"remote", CHAT_OPT_REMOTE, "URL", "an OpenAI-compatible server (API base, e.g. http://host:8080/v1)"},       \
    {"model", CHAT_OPT_MODEL, "NAME", "the remote model's name (also for $OPENAI_BASE_URL)"},                      \
    {"template", CHAT_OPT_TEMPLATE, "NAME", "r1-zero, r1, chatml, llama3 or raw (default: as trained, else detected)"},\
    {"temperature", CHAT_OPT_TEMP, "T", "sampling temperature; 0 = greedy (default 0.6)"},                         \
    {"top-p", CHAT_OPT_TOP_P, "P", "nucleus sampling mass in (0, 1] (default 0.95)"},                              \
    {"top-k", CHAT_OPT_TOP_K, "K", "sample among the K most likely tokens; 0 = off (default 0)"},                  \
    {"max-tokens", CHAT_OPT_MAX, "N", "new tokens per reply at most (default 1024)"},                              \
    {"seed", CHAT_OPT_SEED, "S", "random seed of the first reply (default 0)"},                                    \
    {"device", CHAT_OPT_DEVICE, "DEV", "auto, cpu, cuda or cuda:N (default auto)"},                                \
    {"threads", CHAT_OPT_THREADS, "N", "CPU threads (default: all cores)"},                                        \
    {"timeout", CHAT_OPT_TIMEOUT, "S", "remote: give up after S seconds without data (default 60)"},               \
    {"connect-timeout", CHAT_OPT_CONNECT_TIMEOUT, "S", "remote: connecting at most S seconds (default 10)"},       \
    {"max-response", CHAT_OPT_MAX_RESPONSE, "BYTES", "remote: bytes per response at most (default 16 MiB)"}
/* clang-format on */

struct chat_opts {
    struct endpoint_config ecfg;
    struct gen_params params;
    const char *remote; /* --remote URL */
};

enum { CHAT_OPT_NOT_MINE, CHAT_OPT_HANDLED, CHAT_OPT_ERROR };

void chat_opts_init(struct chat_opts *o);
/* Handles one option of CHAT_COMMON_OPTIONS (usage errors reported). */
int chat_opts_parse(struct chat_opts *o, const struct cli_spec *spec, int key, const char *arg);
/* The model spec from a positional argument, --remote or $OPENAI_BASE_URL (in that order); a usage error
 * (reported, nonzero) when there is none or both were given. */
int chat_opts_model_spec(struct chat_opts *o, const struct cli_spec *spec, const char *positional, const char **out);

#endif
