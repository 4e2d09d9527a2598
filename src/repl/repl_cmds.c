/* repl_cmds: the REPL's command table and its handlers. The table is the single source of /help, tab
 * completion, "did you mean" hints and the REPL COMMANDS section of r1lab-chat(1) (a test checks the page
 * against it). Handlers return 0 (ok), 1 (error, already reported) or 2 (quit). */
#include "repl_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/editdist.h"
#include "engine/util/fsutil.h"
#include "engine/util/utf8.h"
#include "scorecard.h"
#include "votes.h"
#include "worddiff.h"

const char *const REPL_PARAMS[] = {"temperature", "top_p", "top_k", "max_tokens", "seed"};
const size_t REPL_N_PARAMS = sizeof REPL_PARAMS / sizeof REPL_PARAMS[0];

static int usage(struct repl *r, const char *cmd);

/* ---- helpers ---- */

static int fail(struct repl *r, enum status st) {
    (void)st;
    return repl_report(r);
}

static const struct exchange *last_pair(struct repl *r) {
    if (!r->ep[1]) {
        err_set(STATUS_INVALID, "not comparing");
        err_hint("/compare CKPT|URL turns side by side on");
        return NULL;
    }
    for (size_t i = r->n_ex; i-- > 0;)
        if (r->ex[i].has[0] && r->ex[i].has[1]) return &r->ex[i];
    err_set(STATUS_INVALID, "no prompt has answers from both models yet");
    return NULL;
}

static enum status open_model(struct repl *r, const char *spec, struct endpoint **out) {
    struct endpoint_config cfg = r->opt.ecfg;
    return endpoint_open(spec, &cfg, out);
}

static void describe_model(struct repl *r, const char *label, const struct endpoint *ep) {
    struct strbuf sb = {0};
    ep->ops->describe(ep, &sb);
    fprintf(r->out, "%s: ", label);
    repl_out_model_text(r->out, ep->name, strlen(ep->name));
    fputc('\n', r->out);
    /* Indent the description under the label. */
    for (char *line = sb.data; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        fputs("  ", r->out);
        repl_out_model_text(r->out, line, n);
        fputc('\n', r->out);
        line += n + (nl ? 1 : 0);
    }
    strbuf_free(&sb);
}

static void print_settings(struct repl *r) {
    fprintf(r->out, "temperature: %g\ntop_p: %g\ntop_k: %d\nmax_tokens: %d\nseed: %llu\n", r->params.temperature,
            r->params.top_p, r->params.top_k, r->params.max_tokens, (unsigned long long)r->params.seed);
}

/* ---- handlers ---- */

static int cmd_help(struct repl *r, const char *args);

static int cmd_load(struct repl *r, const char *args) {
    if (!*args) return usage(r, "load");
    struct endpoint *ep;
    enum status st = open_model(r, args, &ep);
    if (st != STATUS_OK) return fail(r, st);
    endpoint_close(r->ep[0]);
    r->ep[0] = ep;
    if (ep->remote)
        repl_note(r, "loaded %s", ep->name);
    else
        repl_note(r, "loaded %s (template %s%s%s)", ep->name, template_name(ep->tmpl), *ep->tmpl_why ? ", " : "",
                  ep->tmpl_why);
    return 0;
}

static int cmd_compare(struct repl *r, const char *args) {
    if (!*args) {
        if (r->ep[1])
            repl_note(r, "side by side: %s | %s%s", r->ep[0]->name, r->ep[1]->name, r->blind ? " (blind)" : "");
        else
            repl_note(r, "side by side is off; /compare CKPT|URL turns it on");
        return 0;
    }
    if (strcmp(args, "off") == 0) {
        endpoint_close(r->ep[1]);
        r->ep[1] = NULL;
        repl_note(r, "side by side off");
        return 0;
    }
    struct endpoint *ep;
    enum status st = open_model(r, args, &ep);
    if (st != STATUS_OK) return fail(r, st);
    endpoint_close(r->ep[1]);
    r->ep[1] = ep;
    repl_note(r, "side by side: %s | %s%s", r->ep[0]->name, ep->name, r->blind ? " (blind: names hidden)" : "");
    return 0;
}

static int cmd_diff(struct repl *r, const char *args) {
    bool full = strcmp(args, "full") == 0;
    if (*args && !full) return usage(r, "diff");
    const struct exchange *e = last_pair(r);
    if (!e) return repl_report(r);
    char *raw[2], *shown[2];
    struct strbuf safe[2] = {{0}, {0}};
    for (int c = 0; c < 2; c++) {
        int m = c == 0 ? e->left : 1 - e->left;
        raw[c] = repl_reply_text(e, m);
        shown[c] = full ? raw[c] : repl_answer_only(raw[c] ? raw[c] : "");
        repl_text_sanitize(shown[c] ? shown[c] : "", shown[c] ? strlen(shown[c]) : 0, &safe[c]);
    }
    struct strbuf out = {0};
    struct worddiff_stats ds;
    enum status st = worddiff(safe[0].data ? safe[0].data : "", safe[0].len, safe[1].data ? safe[1].data : "",
                              safe[1].len, true, &out, &ds);
    if (st == STATUS_OK) {
        fprintf(r->out, "[-A: %s-] {+B: %s+}%s\n", repl_shown_name(r, e, 0), repl_shown_name(r, e, 1),
                full ? "" : " (answers without <think>)");
        if (out.data) repl_write_styled(r->out, out.data, out.len, r->color);
        if (r->color) fputs("\033[0m", r->out);
        fputc('\n', r->out);
        repl_note(r, "%zu words in common, %zu only in A, %zu only in B", ds.common, ds.only_a, ds.only_b);
    }
    for (int c = 0; c < 2; c++) {
        if (shown[c] != raw[c]) free(shown[c]);
        free(raw[c]);
        strbuf_free(&safe[c]);
    }
    strbuf_free(&out);
    return st == STATUS_OK ? 0 : fail(r, st);
}

/* The scorecard of the session: every exchange both of the current models answered. Chat prompts carry no
 * known answer, so pass@1 shows "-"; format, readability, language, length and reflection are the same
 * measures as in `r1lab compare`. */
static int cmd_report(struct repl *r, const char *args) {
    (void)args;
    if (!r->ep[1]) {
        err_set(STATUS_INVALID, "not comparing");
        err_hint("/compare CKPT|URL turns side by side on; /report summarises the prompts both models answered");
        return repl_report(r);
    }
    if (r->blind) {
        err_set(STATUS_INVALID, "/report names the models, which would undo the blind comparison");
        err_hint("/blind off first (or use r1lab compare --prompts FILE afterwards)");
        return repl_report(r);
    }
    struct scorecard_sum sum[2];
    memset(sum, 0, sizeof sum);
    size_t used = 0;
    for (size_t i = 0; i < r->n_ex; i++) {
        const struct exchange *e = &r->ex[i];
        if (!e->has[0] || !e->has[1]) continue;
        /* only what the models on screen now said: /load and /compare can change them mid-session */
        if (strcmp(e->names[0], r->ep[0]->name) != 0 || strcmp(e->names[1], r->ep[1]->name) != 0) continue;
        for (int m = 0; m < 2; m++) {
            char *full = repl_reply_text(e, m);
            struct scorecard_reply sc;
            scorecard_score(NULL, false, full ? full : "", e->res[m].new_tokens, &sc);
            free(full);
            scorecard_sum_add(&sum[m], &sc, NULL, 1);
        }
        used++;
    }
    if (used == 0) {
        err_set(STATUS_INVALID, "no prompt has answers from both %s and %s yet", r->ep[0]->name, r->ep[1]->name);
        return repl_report(r);
    }
    struct scorecard_row rows[2];
    for (int m = 0; m < 2; m++) scorecard_row_of(&sum[m], &rows[m]);
    const char *names[2] = {r->ep[0]->name, r->ep[1]->name};
    scorecard_print_table(r->out, names, rows, 1, r->color);
    repl_note(r, "over %zu prompt%s of this session; r1lab compare --prompts FILE adds pass@1 and examples", used,
              used == 1 ? "" : "s");
    return 0;
}

static const char *closest(const char *word, const char *const *names, size_t n) {
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = editdist(word, names[i]);
        if (strncmp(names[i], word, strlen(word)) == 0 && word[0]) d = 1;
        if (d < best_d) best_d = d, best = names[i];
    }
    return best;
}

static int cmd_set(struct repl *r, const char *args) {
    if (!*args) {
        print_settings(r);
        return 0;
    }
    char name[32];
    size_t n = strcspn(args, " \t");
    if (n >= sizeof name) n = sizeof name - 1;
    memcpy(name, args, n);
    name[n] = '\0';
    for (char *p = name; *p; p++)
        if (*p == '-') *p = '_';
    const char *value = args + strcspn(args, " \t");
    while (*value == ' ' || *value == '\t') value++;
    size_t which = REPL_N_PARAMS;
    for (size_t i = 0; i < REPL_N_PARAMS; i++)
        if (strcmp(name, REPL_PARAMS[i]) == 0) which = i;
    if (which == REPL_N_PARAMS) {
        if (strcmp(name, "max_new_tokens") == 0 || strcmp(name, "max") == 0)
            which = 3;
        else {
            const char *s = closest(name, REPL_PARAMS, REPL_N_PARAMS);
            err_set(STATUS_INVALID, "unknown parameter \"%s\"", name);
            if (s)
                err_hint("did you mean %s? (parameters: temperature, top_p, top_k, max_tokens, seed)", s);
            else
                err_hint("parameters: temperature, top_p, top_k, max_tokens, seed");
            return repl_report(r);
        }
    }
    if (!*value) {
        err_set(STATUS_INVALID, "/set %s needs a value", REPL_PARAMS[which]);
        return repl_report(r);
    }
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    bool integer = which >= 2;
    if (errno || end == value || *end || !isfinite(v) || (integer && v != floor(v))) {
        err_set(STATUS_INVALID, "%s: \"%s\" is not %s", REPL_PARAMS[which], value, integer ? "an integer" : "a number");
        return repl_report(r);
    }
    static const double lo[] = {0, 1e-9, 0, 1, 0}, hi[] = {100, 1, 1 << 24, 1 << 20, 9.2e18};
    if (v < lo[which] || v > hi[which]) {
        err_set(STATUS_INVALID, "%s must be in [%g, %g]", REPL_PARAMS[which], which == 1 ? 0.0 : lo[which], hi[which]);
        if (which == 1) err_hint("top_p is a probability mass in (0, 1]");
        return repl_report(r);
    }
    switch (which) {
    case 0:
        r->params.temperature = v;
        break;
    case 1:
        r->params.top_p = v;
        break;
    case 2:
        r->params.top_k = (int)v;
        break;
    case 3:
        r->params.max_tokens = (int)v;
        break;
    default:
        r->params.seed = (uint64_t)v, r->n_gen = 0;
        break;
    }
    repl_note(r, "%s = %g", REPL_PARAMS[which], v);
    return 0;
}

static int cmd_show(struct repl *r, const char *args) {
    (void)args;
    for (int m = 0; m < 2; m++)
        if (r->ep[m]) describe_model(r, m == 0 ? "model" : "compared with", r->ep[m]);
    fprintf(r->out, "settings:\n");
    fprintf(r->out, "  temperature %g, top_p %g, top_k %d, max_tokens %d, seed %llu (next reply uses %llu)\n",
            r->params.temperature, r->params.top_p, r->params.top_k, r->params.max_tokens,
            (unsigned long long)r->params.seed, (unsigned long long)(r->params.seed + r->n_gen));
    fprintf(r->out, "  system: ");
    if (r->system)
        repl_out_model_text(r->out, r->system, strlen(r->system));
    else
        fputs("(none)", r->out);
    fprintf(r->out, "\n  think: %s\n  side by side: %s%s\n", think_mode_name(r->think), r->ep[1] ? "on" : "off",
            r->blind ? " (blind)" : "");
    fprintf(r->out, "  conversation: %zu prompt%s\n", r->n_ex, r->n_ex == 1 ? "" : "s");
    if (r->ep[1] || r->blind) fprintf(r->out, "  votes file: %s\n", r->votes_path);
    fprintf(r->out, "  history: %s\n", r->hist.enabled ? r->hist.path : "off");
    return 0;
}

static int cmd_template(struct repl *r, const char *args) {
    if (!*args) {
        for (int m = 0; m < 2; m++) {
            const struct endpoint *ep = r->ep[m];
            if (!ep) continue;
            if (ep->remote)
                fprintf(r->out, "%s: the server's template\n", ep->name);
            else
                fprintf(r->out, "%s: %s%s%s%s\n", ep->name, template_name(ep->tmpl), *ep->tmpl_why ? " (" : "",
                        ep->tmpl_why, *ep->tmpl_why ? ")" : "");
        }
        fprintf(r->out, "templates: r1-zero, r1, chatml, llama3, raw\n");
        return 0;
    }
    char name[32];
    size_t n = strcspn(args, " \t");
    snprintf(name, sizeof name, "%.*s", (int)n, args);
    const char *side = args + n;
    while (*side == ' ' || *side == '\t') side++;
    enum template_kind kind;
    enum status st = template_parse(name, &kind);
    if (st != STATUS_OK) return fail(r, st);
    int from = 0, to = 1;
    if (strcmp(side, "a") == 0 || strcmp(side, "A") == 0)
        to = 0;
    else if (strcmp(side, "b") == 0 || strcmp(side, "B") == 0)
        from = 1;
    else if (*side)
        return usage(r, "template");
    int changed = 0;
    for (int m = from; m <= to; m++) {
        struct endpoint *ep = r->ep[m];
        if (!ep) continue;
        if (ep->remote) {
            if (from == to) return fail(r, ep->ops->set_template(ep, kind));
            continue;
        }
        ep->ops->set_template(ep, kind);
        repl_note(r, "%s: template %s", ep->name, template_name(kind));
        changed++;
    }
    if (!changed) {
        err_set(STATUS_INVALID, "no local model to apply the template to");
        err_hint("remote servers apply their own chat template");
        return repl_report(r);
    }
    return 0;
}

static int cmd_system(struct repl *r, const char *args) {
    free(r->system);
    r->system = *args ? strdup(args) : NULL;
    repl_note(r, *args ? "system text set" : "system text cleared");
    return 0;
}

static int cmd_think(struct repl *r, const char *args) {
    if (!*args) {
        repl_note(r, "think: %s", think_mode_name(r->think));
        return 0;
    }
    if (!think_mode_parse(args, &r->think)) return usage(r, "think");
    repl_note(r, "think: %s", think_mode_name(r->think));
    return 0;
}

static int cmd_regen(struct repl *r, const char *args) {
    (void)args;
    if (r->n_ex == 0) {
        err_set(STATUS_INVALID, "nothing to regenerate yet");
        return repl_report(r);
    }
    return repl_generate(r, r->n_ex - 1);
}

static int cmd_clear(struct repl *r, const char *args) {
    (void)args;
    repl_clear_transcript(r);
    repl_note(r, "conversation cleared");
    return 0;
}

static int cmd_save(struct repl *r, const char *args) {
    if (!*args) return usage(r, "save");
    enum status st = transcript_save(r, args);
    if (st != STATUS_OK) return fail(r, st);
    repl_note(r, "saved %zu prompt%s to %s", r->n_ex, r->n_ex == 1 ? "" : "s", args);
    return 0;
}

static int cmd_read(struct repl *r, const char *args) {
    if (!*args) return usage(r, "read");
    char *text = NULL;
    size_t len = 0;
    enum status st = fs_read_file(args, 1u << 20, &text, &len);
    if (st != STATUS_OK) return fail(r, st);
    size_t bad = 0;
    const char *nul = memchr(text, '\0', len);
    bool valid = utf8_valid(text, len, &bad);
    if (valid) bad = len;
    if (nul && (size_t)(nul - text) < bad) bad = (size_t)(nul - text);
    if (!valid || nul) {
        free(text);
        err_set(STATUS_INVALID, "%s: not UTF-8 text (byte %zu)", args, bad);
        return repl_report(r);
    }
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r')) text[--len] = '\0';
    if (len == 0) {
        free(text);
        err_set(STATUS_INVALID, "%s is empty", args);
        return repl_report(r);
    }
    repl_note(r, "sending %s (%zu bytes)", args, len);
    int rc = repl_submit(r, text);
    free(text);
    return rc;
}

static int cmd_blind(struct repl *r, const char *args) {
    if (!*args) {
        repl_note(r, "blind: %s", r->blind ? "on" : "off");
        return 0;
    }
    if (strcmp(args, "on") == 0)
        r->blind = true;
    else if (strcmp(args, "off") == 0)
        r->blind = false;
    else
        return usage(r, "blind");
    repl_note(r, r->blind ? "blind: on (model names hidden and sides shuffled until you /vote)" : "blind: off");
    return 0;
}

static void print_tally(struct repl *r) {
    struct vote_tally t;
    if (votes_tally(r->votes_path, r->ep[0]->spec, r->ep[1]->spec, &t) != STATUS_OK) {
        repl_report(r);
        return;
    }
    struct strbuf sb = {0};
    votes_format(&t, r->ep[0]->name, r->ep[1]->name, &sb);
    if (sb.data) repl_out_model_text(r->out, sb.data, sb.len);
    strbuf_free(&sb);
}

static int cmd_vote(struct repl *r, const char *args) {
    if (!r->ep[1]) {
        err_set(STATUS_INVALID, "not comparing");
        err_hint("/compare CKPT|URL turns side by side on");
        return repl_report(r);
    }
    if (!*args) {
        print_tally(r);
        return 0;
    }
    enum vote v;
    enum status st = vote_parse(args, &v);
    if (st != STATUS_OK) return fail(r, st);
    const struct exchange *last = last_pair(r);
    if (!last) return repl_report(r);
    struct exchange *e = (struct exchange *)last;
    if (e->voted) {
        err_set(STATUS_INVALID, "this prompt already has a vote");
        err_hint("send another prompt, or /regen to get new replies");
        return repl_report(r);
    }
    struct vote_record rec = {.a = r->ep[e->left]->spec,
                              .b = r->ep[1 - e->left]->spec,
                              .vote = v,
                              .blind = r->blind,
                              .prompt = e->prompt,
                              .seed = e->seed};
    st = votes_append(r->votes_path, &rec);
    if (st != STATUS_OK) return fail(r, st);
    e->voted = true;
    if (r->blind) repl_note(r, "A was %s, B was %s", r->ep[e->left]->name, r->ep[1 - e->left]->name);
    print_tally(r);
    return 0;
}

static int cmd_quit(struct repl *r, const char *args) {
    (void)r, (void)args;
    return 2;
}

static const struct repl_command COMMANDS[] = {
    {"help", "[COMMAND]", "list the commands, or describe one", REPL_ARG_COMMAND, cmd_help},
    {"load", "CKPT|URL", "switch to another model (the conversation stays)", REPL_ARG_MODEL, cmd_load},
    {"compare", "[CKPT|URL|off]", "answer every prompt with a second model too, side by side", REPL_ARG_MODEL,
     cmd_compare},
    {"diff", "[full]", "word diff of the last two answers (full: with the <think> text)", REPL_ARG_DIFF, cmd_diff},
    {"report", "", "per-model summary of the side-by-side prompts so far: format, readability, language, length",
     REPL_ARG_NONE, cmd_report},
    {"set", "[PARAM VALUE]", "set temperature, top_p, top_k, max_tokens or seed; no argument lists them",
     REPL_ARG_PARAM, cmd_set},
    {"show", "", "the model(s) and the settings", REPL_ARG_NONE, cmd_show},
    {"template", "[NAME [a|b]]", "prompt template: r1-zero, r1, chatml, llama3 or raw", REPL_ARG_TEMPLATE,
     cmd_template},
    {"system", "[TEXT]", "set the system text; no text clears it", REPL_ARG_TEXT, cmd_system},
    {"think", "[show|hide|collapse]", "how <think> text is shown", REPL_ARG_THINK, cmd_think},
    {"regen", "", "generate the last reply again (next seed)", REPL_ARG_NONE, cmd_regen},
    {"clear", "", "start a new conversation", REPL_ARG_NONE, cmd_clear},
    {"save", "FILE", "write the conversation to FILE as Markdown", REPL_ARG_PATH, cmd_save},
    {"read", "FILE", "send the contents of FILE as the prompt", REPL_ARG_PATH, cmd_read},
    {"blind", "[on|off]", "hide which model is which until you vote", REPL_ARG_ONOFF, cmd_blind},
    {"vote", "[a|b|tie|bad]", "vote on the last side-by-side answers; no argument shows the win rates", REPL_ARG_VOTE,
     cmd_vote},
    {"quit", "", "leave (Ctrl-D does too)", REPL_ARG_NONE, cmd_quit},
};
static const size_t N_COMMANDS = sizeof COMMANDS / sizeof COMMANDS[0];

const struct repl_command *repl_commands(size_t *n) {
    *n = N_COMMANDS;
    return COMMANDS;
}

const struct repl_command *repl_find_command(const char *name) {
    const struct repl_command *found = NULL;
    size_t len = strlen(name), matches = 0;
    if (len == 0) return NULL;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(COMMANDS[i].name, name) == 0) return &COMMANDS[i];
        if (strncmp(COMMANDS[i].name, name, len) == 0) found = &COMMANDS[i], matches++;
    }
    return matches == 1 ? found : NULL;
}

const char *repl_suggest_command(const char *name) {
    const char *names[sizeof COMMANDS / sizeof COMMANDS[0]];
    for (size_t i = 0; i < N_COMMANDS; i++) names[i] = COMMANDS[i].name;
    return closest(name, names, N_COMMANDS);
}

static int usage(struct repl *r, const char *cmd) {
    const struct repl_command *c = repl_find_command(cmd);
    err_set(STATUS_INVALID, "usage: /%s %s", c->name, c->args);
    err_hint("%s", c->help);
    return repl_report(r);
}

static int cmd_help(struct repl *r, const char *args) {
    if (*args) {
        const char *name = args[0] == '/' ? args + 1 : args;
        const struct repl_command *c = repl_find_command(name);
        if (!c) {
            const char *s = repl_suggest_command(name);
            err_set(STATUS_INVALID, "no command /%s", name);
            if (s) err_hint("did you mean /%s?", s);
            return repl_report(r);
        }
        fprintf(r->out, "/%s%s%s\n  %s\n", c->name, c->args[0] ? " " : "", c->args, c->help);
        return 0;
    }
    fprintf(r->out, "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        char left[64];
        snprintf(left, sizeof left, "/%s%s%s", COMMANDS[i].name, COMMANDS[i].args[0] ? " " : "", COMMANDS[i].args);
        fprintf(r->out, "  %-28s %s\n", left, COMMANDS[i].help);
    }
    fprintf(r->out, "Anything else is a prompt. \"\"\" on its own starts and ends a multi-line prompt; //text sends\n"
                    "\"/text\". Ctrl-C stops a reply, Ctrl-D leaves. See r1lab-chat(1).\n");
    return 0;
}

int repl_dispatch(struct repl *r, const char *line) {
    while (*line == ' ' || *line == '\t') line++;
    if (line[0] != '/' || line[1] == '/') return repl_submit(r, line[0] == '/' ? line + 1 : line);
    char name[64];
    size_t n = strcspn(line + 1, " \t\n");
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name - 1 ? n : sizeof name - 1), line + 1);
    const char *args = line + 1 + n;
    while (*args == ' ' || *args == '\t' || *args == '\n') args++;
    /* Trailing whitespace is not part of the argument. */
    char *a = strdup(args);
    if (!a) {
        err_set(STATUS_NOMEM, "out of memory");
        return repl_report(r);
    }
    size_t al = strlen(a);
    while (al && (a[al - 1] == ' ' || a[al - 1] == '\t' || a[al - 1] == '\n' || a[al - 1] == '\r')) a[--al] = '\0';
    const struct repl_command *c = repl_find_command(name);
    int rc;
    if (!c) {
        const char *s = repl_suggest_command(name);
        err_set(STATUS_INVALID, "unknown command /%s", name);
        if (s)
            err_hint("did you mean /%s? (/help lists the commands)", s);
        else
            err_hint("/help lists the commands; //text sends a prompt that starts with '/'");
        rc = repl_report(r);
    } else {
        rc = c->run(r, a);
    }
    free(a);
    return rc;
}
