/* chat_opts: shared option parsing for chat and compare. */
#include "cli/chat_opts.h"

#include <stdlib.h>
#include <string.h>

void chat_opts_init(struct chat_opts *o) {
    memset(o, 0, sizeof *o);
    endpoint_config_default(&o->ecfg);
    gen_params_default(&o->params);
}

int chat_opts_parse(struct chat_opts *o, const struct cli_spec *spec, int key, const char *arg) {
    long long i;
    double d;
    switch (key) {
    case CHAT_OPT_REMOTE:
        o->remote = arg;
        break;
    case CHAT_OPT_MODEL:
        o->ecfg.model = arg;
        break;
    case CHAT_OPT_TEMPLATE: {
        enum template_kind k;
        if (template_parse(arg, &k) != STATUS_OK) {
            cli_usage_error(spec, "--template: %s", err_msg());
            return CHAT_OPT_ERROR;
        }
        o->ecfg.tmpl = arg;
        break;
    }
    case CHAT_OPT_TEMP:
        if (cli_parse_double(spec, "--temperature", arg, 0, 100, &d)) return CHAT_OPT_ERROR;
        o->params.temperature = d;
        break;
    case CHAT_OPT_TOP_P:
        if (cli_parse_double(spec, "--top-p", arg, 1e-9, 1, &d)) return CHAT_OPT_ERROR;
        o->params.top_p = d;
        break;
    case CHAT_OPT_TOP_K:
        if (cli_parse_int(spec, "--top-k", arg, 0, 1 << 24, &i)) return CHAT_OPT_ERROR;
        o->params.top_k = (int)i;
        break;
    case CHAT_OPT_MAX:
        if (cli_parse_int(spec, "--max-tokens", arg, 1, 1 << 20, &i)) return CHAT_OPT_ERROR;
        o->params.max_tokens = (int)i;
        break;
    case CHAT_OPT_SEED:
        if (cli_parse_int(spec, "--seed", arg, 0, INT64_MAX, &i)) return CHAT_OPT_ERROR;
        o->params.seed = (uint64_t)i;
        break;
    case CHAT_OPT_DEVICE:
        o->ecfg.device = arg;
        break;
    case CHAT_OPT_THREADS:
        if (cli_parse_int(spec, "--threads", arg, 0, 1024, &i)) return CHAT_OPT_ERROR;
        o->ecfg.threads = (int)i;
        break;
    case CHAT_OPT_TIMEOUT:
        if (cli_parse_double(spec, "--timeout", arg, 0.001, 1e6, &d)) return CHAT_OPT_ERROR;
        o->ecfg.stall_timeout_s = d;
        break;
    case CHAT_OPT_CONNECT_TIMEOUT:
        if (cli_parse_double(spec, "--connect-timeout", arg, 0.001, 1e6, &d)) return CHAT_OPT_ERROR;
        o->ecfg.connect_timeout_s = d;
        break;
    case CHAT_OPT_MAX_RESPONSE:
        if (cli_parse_int(spec, "--max-response", arg, 1024, (long long)1 << 40, &i)) return CHAT_OPT_ERROR;
        o->ecfg.max_response = (size_t)i;
        break;
    default:
        return CHAT_OPT_NOT_MINE;
    }
    return CHAT_OPT_HANDLED;
}

int chat_opts_model_spec(struct chat_opts *o, const struct cli_spec *spec, const char *positional, const char **out) {
    if (positional && o->remote) {
        cli_usage_error(spec, "give either a model or --remote URL, not both");
        return 1;
    }
    if (positional)
        *out = positional;
    else if (o->remote)
        *out = o->remote;
    else if (getenv("OPENAI_BASE_URL") && *getenv("OPENAI_BASE_URL"))
        *out = "remote:";
    else {
        cli_usage_error(spec, "no model: give a checkpoint, a URL, --remote URL, or set OPENAI_BASE_URL");
        return 1;
    }
    return 0;
}
