/* compare: prompts in, side-by-side report and per-model summary out. */
#include "compare.h"

#include <cJSON.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duo.h"
#include "engine/rl/reward.h"
#include "engine/util/fsutil.h"
#include "engine/util/rng.h"
#include "engine/util/sighandle.h"
#include "engine/util/strbuf.h"
#include "repl_impl.h"
#include "votes.h"

/* ---- prompts ---- */

static enum status parse_item(const char *line, size_t n, const char *name, size_t lineno, struct compare_item *it) {
    memset(it, 0, sizeof *it);
    it->line = lineno;
    if (line[0] != '{') {
        it->prompt = strndup(line, n);
        return it->prompt ? STATUS_OK : err_set(STATUS_NOMEM, "out of memory");
    }
    cJSON *o = cJSON_ParseWithLength(line, n);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return err_set(STATUS_FORMAT, "%s:%zu: not a JSON object", name, lineno);
    }
    enum status st = STATUS_OK;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "prompt");
    if (!p) p = cJSON_GetObjectItemCaseSensitive(o, "question");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "answer");
    const cJSON *nums = cJSON_GetObjectItemCaseSensitive(o, "numbers");
    if (!nums) nums = cJSON_GetObjectItemCaseSensitive(o, "nums");
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(o, "target");
    if (!cJSON_IsString(p) || !p->valuestring[0]) {
        st = err_set(STATUS_FORMAT, "%s:%zu: missing \"prompt\" (a non-empty string)", name, lineno);
    } else if (!(it->prompt = strdup(p->valuestring))) {
        st = err_set(STATUS_NOMEM, "out of memory");
    } else if (nums && target) {
        int64_t v[TASK_MAX_NUMBERS];
        int k = 0;
        bool ok = cJSON_IsArray(nums) && cJSON_IsNumber(target);
        const cJSON *x;
        cJSON_ArrayForEach(x, nums) {
            if (!ok || k == TASK_MAX_NUMBERS || !cJSON_IsNumber(x) || x->valuedouble < 0) {
                ok = false;
                break;
            }
            v[k++] = (int64_t)x->valuedouble;
        }
        if (!ok || k == 0)
            st = err_set(STATUS_FORMAT,
                         "%s:%zu: \"numbers\" must be 1..%d non-negative integers and \"target\" a number", name,
                         lineno, TASK_MAX_NUMBERS);
        else
            st = task_problem_countdown(&it->problem, v, k, (int64_t)target->valuedouble, it->prompt);
        it->has_answer = st == STATUS_OK;
    } else if (a && !cJSON_IsNull(a)) {
        char num[64];
        const char *ans = NULL;
        if (cJSON_IsString(a))
            ans = a->valuestring;
        else if (cJSON_IsNumber(a))
            snprintf(num, sizeof num, "%.17g", a->valuedouble), ans = num;
        if (!ans)
            st = err_set(STATUS_FORMAT, "%s:%zu: \"answer\" must be a string or a number", name, lineno);
        else
            st = task_problem_from_answer(&it->problem, TASK_DATASET, it->prompt, ans);
        it->has_answer = st == STATUS_OK;
    }
    cJSON_Delete(o);
    if (st != STATUS_OK) {
        free(it->prompt);
        it->prompt = NULL;
    }
    return st;
}

enum status compare_items_parse(const char *text, size_t len, const char *name, struct compare_item **items,
                                size_t *n) {
    *items = NULL;
    *n = 0;
    size_t cap = 0, lineno = 0;
    enum status st = STATUS_OK;
    for (const char *line = text; line < text + len && st == STATUS_OK;) {
        const char *end = memchr(line, '\n', (size_t)(text + len - line));
        size_t k = end ? (size_t)(end - line) : (size_t)(text + len - line);
        const char *next = line + k + 1;
        lineno++;
        while (k && (line[k - 1] == '\r' || line[k - 1] == ' ' || line[k - 1] == '\t')) k--;
        while (k && (line[0] == ' ' || line[0] == '\t')) line++, k--;
        if (k) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                struct compare_item *p = realloc(*items, cap * sizeof *p);
                if (!p) {
                    st = err_set(STATUS_NOMEM, "out of memory");
                    break;
                }
                *items = p;
            }
            st = parse_item(line, k, name, lineno, &(*items)[*n]);
            if (st == STATUS_OK) (*n)++;
        }
        line = next;
    }
    if (st == STATUS_OK && *n == 0) st = err_set(STATUS_INVALID, "%s: no prompts", name);
    if (st != STATUS_OK) {
        compare_items_free(*items, *n);
        *items = NULL;
        *n = 0;
    }
    return st;
}

void compare_items_free(struct compare_item *items, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(items[i].prompt);
        if (items[i].has_answer) task_problem_free(&items[i].problem);
    }
    free(items);
}

/* ---- scoring ---- */

void compare_score(const struct compare_item *item, const char *full, const struct gen_result *res,
                   enum template_kind tmpl, bool remote, struct reply_score *out) {
    size_t n = strlen(full);
    memset(out, 0, sizeof *out);
    out->correct = item->has_answer ? reward_accuracy(&item->problem, full, n) > 0.5 : -1;
    enum reward_format_style style = !remote && tmpl == TEMPLATE_R1_ZERO ? REWARD_FORMAT_R1_ZERO : REWARD_FORMAT_R1;
    out->format_ok = reward_format(full, n, style, false) > 0.5;
    struct reward_span th;
    if (reward_find_think(full, n, &th)) {
        out->think_share = n ? (double)th.len / (double)n : 0;
        out->language = reward_language(full, n, REWARD_LANG_EN);
    } else {
        out->think_share = 0;
        out->language = reward_language_share(full, n, REWARD_LANG_EN);
    }
    out->reflection = reward_has_reflection(full, n);
    out->tokens = res->new_tokens;
}

/* ---- running ---- */

struct model_sum {
    size_t n, answered, correct, format_ok, reflection, errors;
    double tokens, think_share, language;
};

struct run_ctx {
    const struct compare_options *o;
    struct endpoint *ep[2];
    FILE *out;
    bool color, live, ascii, interactive;
    int cols;
    struct cols_view view;
    int models[2]; /* column -> model */
    const struct compare_item *item;
    struct gen_result res[2];
    enum status st[2];
    char err[2][1024];
    struct reply_score score[2];
};

static void on_piece(void *user, int column, enum piece_kind kind, const char *s, size_t n) {
    struct run_ctx *c = user;
    if (!c->o->json) cols_view_piece(&c->view, column, kind, s, n);
}

static void footer(struct run_ctx *c, int m, enum status st, const char *err, struct strbuf *foot) {
    if (st != STATUS_OK && st != STATUS_ABORTED) {
        strbuf_printf(foot, "error: %s", err);
        return;
    }
    const struct reply_score *sc = &c->score[m];
    if (sc->correct >= 0) strbuf_puts(foot, sc->correct ? "correct · " : "wrong · ");
    strbuf_puts(foot, sc->format_ok ? "format ok · " : "format bad · ");
    if (st == STATUS_ABORTED) strbuf_puts(foot, "interrupted · ");
    view_format_stats(&c->res[m], foot);
}

static void on_done(void *user, int column, enum status st, const char *err, const char *hint) {
    (void)hint;
    struct run_ctx *c = user;
    int m = c->models[column];
    c->st[m] = st;
    snprintf(c->err[m], sizeof c->err[m], "%s", err);
    char *full = gen_result_full_text(&c->res[m]);
    compare_score(c->item, full ? full : "", &c->res[m], c->ep[m]->tmpl, c->ep[m]->remote, &c->score[m]);
    free(full);
    if (c->o->json) return;
    struct strbuf foot = {0};
    footer(c, m, st, err, &foot);
    cols_view_side_done(&c->view, column, foot.data);
    strbuf_free(&foot);
}

static void add_sum(struct model_sum *s, const struct reply_score *sc, enum status st) {
    s->n++;
    if (st != STATUS_OK) s->errors++;
    if (sc->correct >= 0) {
        s->answered++;
        s->correct += (size_t)sc->correct;
    }
    s->format_ok += sc->format_ok;
    s->reflection += sc->reflection;
    s->tokens += (double)sc->tokens;
    s->think_share += sc->think_share;
    s->language += sc->language;
}

static double pct(size_t k, size_t n) {
    return n ? 100.0 * (double)k / (double)n : 0;
}

static void print_summary(FILE *out, struct endpoint *const ep[2], const struct model_sum sum[2], bool color) {
    int w = 5;
    for (int m = 0; m < 2; m++) {
        int l = (int)strlen(ep[m]->name);
        if (l > w) w = l;
    }
    if (w > 40) w = 40;
    fputc('\n', out);
    if (color) fputs("\033[1m", out);
    fprintf(out, "%-*s  %7s  %-15s  %7s  %8s  %6s  %8s  %10s  %6s\n", w, "model", "prompts", "accuracy", "format",
            "tokens", "think", "language", "reflection", "errors");
    if (color) fputs("\033[0m", out);
    for (int m = 0; m < 2; m++) {
        const struct model_sum *s = &sum[m];
        char acc[32];
        if (s->answered)
            snprintf(acc, sizeof acc, "%zu/%zu %5.1f%%", s->correct, s->answered, pct(s->correct, s->answered));
        else
            snprintf(acc, sizeof acc, "-");
        double n = s->n ? (double)s->n : 1;
        struct strbuf name = {0};
        repl_text_sanitize(ep[m]->name, strlen(ep[m]->name), &name);
        fprintf(out, "%-*.*s  %7zu  %-15s  %6.1f%%  %8.1f  %5.1f%%  %8.2f  %9.1f%%  %6zu\n", w, w,
                name.data ? name.data : "", s->n, acc, pct(s->format_ok, s->n), s->tokens / n,
                100.0 * s->think_share / n, s->language / n, pct(s->reflection, s->n), s->errors);
        strbuf_free(&name);
    }
}

static cJSON *reply_json(const struct gen_result *res, const struct reply_score *sc, enum status st, const char *err) {
    cJSON *o = cJSON_CreateObject();
    char *full = gen_result_full_text(res);
    cJSON_AddStringToObject(o, "text", res->text.data ? res->text.data : "");
    if (res->reasoning.len) cJSON_AddStringToObject(o, "reasoning", res->reasoning.data);
    cJSON_AddStringToObject(o, "finish", finish_reason_name(res->finish));
    if (st != STATUS_OK) cJSON_AddStringToObject(o, "error", err);
    cJSON_AddNumberToObject(o, "tokens", (double)res->new_tokens);
    cJSON_AddBoolToObject(o, "tokens_exact", res->new_tokens_exact);
    if (sc->correct >= 0)
        cJSON_AddBoolToObject(o, "correct", sc->correct);
    else
        cJSON_AddNullToObject(o, "correct");
    cJSON_AddBoolToObject(o, "format", sc->format_ok);
    cJSON_AddNumberToObject(o, "think_share", sc->think_share);
    cJSON_AddNumberToObject(o, "language", sc->language);
    cJSON_AddBoolToObject(o, "reflection", sc->reflection);
    cJSON_AddNumberToObject(o, "ttft_s", res->ttft_s);
    cJSON_AddNumberToObject(o, "total_s", res->total_s);
    free(full);
    return o;
}

static cJSON *summary_json(const struct endpoint *ep, const struct model_sum *s) {
    cJSON *o = cJSON_CreateObject();
    double n = s->n ? (double)s->n : 1;
    cJSON_AddStringToObject(o, "model", ep->spec);
    cJSON_AddStringToObject(o, "name", ep->name);
    if (!ep->remote) {
        cJSON_AddStringToObject(o, "template", template_name(ep->tmpl));
        cJSON_AddStringToObject(o, "template_source", *ep->tmpl_why ? ep->tmpl_why : "chosen with --template");
    }
    cJSON_AddNumberToObject(o, "prompts", (double)s->n);
    cJSON_AddNumberToObject(o, "answered", (double)s->answered);
    cJSON_AddNumberToObject(o, "correct", (double)s->correct);
    if (s->answered)
        cJSON_AddNumberToObject(o, "accuracy", (double)s->correct / (double)s->answered);
    else
        cJSON_AddNullToObject(o, "accuracy");
    cJSON_AddNumberToObject(o, "format", (double)s->format_ok / n);
    cJSON_AddNumberToObject(o, "mean_tokens", s->tokens / n);
    cJSON_AddNumberToObject(o, "think_share", s->think_share / n);
    cJSON_AddNumberToObject(o, "language", s->language / n);
    cJSON_AddNumberToObject(o, "reflection_rate", (double)s->reflection / n);
    cJSON_AddNumberToObject(o, "errors", (double)s->errors);
    return o;
}

static void on_sigint(int sig) {
    (void)sig;
    repl_stop_flag = 1;
}

/* Reads one vote line from f; false at end of input. */
static bool read_vote(FILE *f, FILE *prompt_to, enum vote *v, bool *skip) {
    char line[64];
    for (;;) {
        if (prompt_to) {
            fputs("vote [a / b / tie / bad / skip]: ", prompt_to);
            fflush(prompt_to);
        }
        if (!fgets(line, sizeof line, f)) return false;
        line[strcspn(line, "\r\n")] = '\0';
        char *s = line;
        while (*s == ' ') s++;
        if (strcmp(s, "skip") == 0 || strcmp(s, "s") == 0 || *s == '\0') {
            *skip = true;
            return true;
        }
        *skip = false;
        if (vote_parse(s, v) == STATUS_OK) return true;
        err_clear();
        if (!prompt_to) return false;
        fprintf(prompt_to, "'%s' is not a vote\n", s);
    }
}

int compare_run(const struct compare_options *o) {
    struct run_ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.out = stdout;
    c.interactive = isatty(STDOUT_FILENO);
    const char *term = getenv("TERM");
    c.color = c.interactive && !getenv("NO_COLOR") && !(term && strcmp(term, "dumb") == 0);
    c.live = c.interactive;
    c.ascii = !c.interactive;
    c.cols = o->width > 0 ? o->width : view_terminal_cols(stdout);
    /* Prompts. */
    bool from_stdin = !o->prompts_path || strcmp(o->prompts_path, "-") == 0;
    const char *pname = from_stdin ? "<stdin>" : o->prompts_path;
    char *text = NULL;
    size_t len = 0;
    enum status st = STATUS_OK;
    if (from_stdin) {
        struct strbuf sb = {0};
        char buf[65536];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, stdin)) > 0) strbuf_append(&sb, buf, k);
        st = strbuf_status(&sb);
        len = sb.len;
        text = strbuf_detach(&sb);
    } else {
        st = fs_read_file(o->prompts_path, 256u << 20, &text, &len);
    }
    struct compare_item *items = NULL;
    size_t n_items = 0;
    if (st == STATUS_OK) st = compare_items_parse(text ? text : "", len, pname, &items, &n_items);
    free(text);
    char votes_path[4096] = "";
    if (st == STATUS_OK && o->blind) {
        if (o->votes_path)
            snprintf(votes_path, sizeof votes_path, "%s", o->votes_path);
        else
            st = votes_default_path(votes_path, sizeof votes_path);
    }
    for (int m = 0; m < 2 && st == STATUS_OK; m++) st = endpoint_open(o->spec[m], &o->ecfg, &c.ep[m]);
    if (st != STATUS_OK) {
        const char *msg = err_msg(), *hint = err_hint_text();
        fprintf(stderr, "r1lab: error: %s\n", msg[0] ? msg : status_name(st));
        if (hint[0]) fprintf(stderr, "  hint: %s\n", hint);
        endpoint_close(c.ep[0]);
        endpoint_close(c.ep[1]);
        compare_items_free(items, n_items);
        return 1;
    }
    static const int sigint[] = {SIGINT};
    struct sigaction old_int;
    sighandle_install(sigint, 1, on_sigint, 0, &old_int);
    repl_stop_flag = 0;

    FILE *vote_in = o->blind ? stdin : NULL;
    FILE *vote_prompt = o->blind && isatty(STDIN_FILENO) ? stderr : NULL;
    bool names_hidden = o->blind;
    if (!o->json) {
        fprintf(c.out, "r1lab compare: A = ");
        repl_out_model_text(c.out, names_hidden ? "(hidden)" : c.ep[0]->name,
                            strlen(names_hidden ? "(hidden)" : c.ep[0]->name));
        fprintf(c.out, ", B = ");
        repl_out_model_text(c.out, names_hidden ? "(hidden)" : c.ep[1]->name,
                            strlen(names_hidden ? "(hidden)" : c.ep[1]->name));
        fprintf(c.out, "; %zu prompt%s; temperature %g, top_p %g, top_k %d, max_tokens %d, seed %llu\n", n_items,
                n_items == 1 ? "" : "s", o->params.temperature, o->params.top_p, o->params.top_k, o->params.max_tokens,
                (unsigned long long)o->params.seed);
        for (int m = 0; m < 2 && !names_hidden; m++) {
            const struct endpoint *ep = c.ep[m];
            if (ep->remote) continue;
            fprintf(c.out, "  %c: template %s%s%s%s\n", "AB"[m], template_name(ep->tmpl), *ep->tmpl_why ? " (" : "",
                    ep->tmpl_why, *ep->tmpl_why ? ")" : "");
        }
    }
    struct model_sum sum[2];
    memset(sum, 0, sizeof sum);
    cJSON *jprompts = o->json ? cJSON_CreateArray() : NULL;
    int failures = 0;
    bool interrupted = false;
    size_t done_items = 0;
    for (size_t i = 0; i < n_items && !interrupted; i++) {
        const struct compare_item *it = &items[i];
        c.item = it;
        for (int m = 0; m < 2; m++) gen_result_init(&c.res[m]);
        int left = 0;
        if (o->blind) {
            struct rng g;
            rng_seed_stream(&g, o->params.seed, 0xB11D0000u + i);
            left = (int)(rng_next(&g) & 1);
        }
        c.models[0] = left;
        c.models[1] = 1 - left;
        if (!o->json) {
            fprintf(c.out, "\n%s[%zu/%zu]%s ", c.color ? "\033[1m" : "", i + 1, n_items, c.color ? "\033[0m" : "");
            repl_out_model_text(c.out, it->prompt, strlen(it->prompt));
            if (it->has_answer) {
                fputs("  (answer: ", c.out);
                repl_out_model_text(c.out, it->problem.answer, strlen(it->problem.answer));
                fputc(')', c.out);
            }
            fputc('\n', c.out);
            const char *na = names_hidden ? "Model A" : c.ep[c.models[0]]->name;
            const char *nb = names_hidden ? "Model B" : c.ep[c.models[1]]->name;
            cols_view_begin(&c.view, c.out, c.cols, c.color, c.live, c.ascii, o->think, na, nb);
        }
        struct chat_turn turn = {CHAT_USER, it->prompt};
        struct chat chat = {.system = o->system, .turns = &turn, .n_turns = 1};
        struct endpoint *eps[2] = {c.ep[c.models[0]], c.ep[c.models[1]]};
        const struct chat *cp[2] = {&chat, &chat};
        struct gen_params p = o->params;
        const struct gen_params *pp[2] = {&p, &p};
        struct gen_result *res[2] = {&c.res[c.models[0]], &c.res[c.models[1]]};
        enum status st2[2];
        char err[2][1024], hint[2][512];
        duo_run(eps, cp, pp, res, &repl_stop_flag, on_piece, on_done, &c, st2, err, hint);
        if (!o->json) {
            cols_view_end(&c.view);
            cols_view_free(&c.view);
        }
        for (int m = 0; m < 2; m++) {
            if (c.st[m] == STATUS_ABORTED)
                interrupted = true;
            else if (c.st[m] != STATUS_OK)
                failures++;
            add_sum(&sum[m], &c.score[m], c.st[m]);
        }
        done_items++;
        cJSON *jv = NULL;
        if (o->blind && !interrupted) {
            enum vote v;
            bool skip;
            fflush(c.out);
            if (!read_vote(vote_in, vote_prompt, &v, &skip)) {
                fprintf(stderr, "r1lab: error: expected a vote (a, b, tie, bad or skip) for prompt %zu\n", i + 1);
                failures++;
                interrupted = true; /* stop: votes and prompts are out of step */
            } else if (!skip) {
                struct vote_record rec = {.a = c.ep[c.models[0]]->spec,
                                          .b = c.ep[c.models[1]]->spec,
                                          .vote = v,
                                          .blind = true,
                                          .prompt = it->prompt,
                                          .seed = o->params.seed};
                if (votes_append(votes_path, &rec) != STATUS_OK) {
                    fprintf(stderr, "r1lab: error: %s\n", err_msg());
                    failures++;
                }
                jv = cJSON_CreateString(vote_name(v));
                if (!o->json) {
                    fprintf(c.out, "A was ");
                    repl_out_model_text(c.out, c.ep[c.models[0]]->name, strlen(c.ep[c.models[0]]->name));
                    fprintf(c.out, ", B was ");
                    repl_out_model_text(c.out, c.ep[c.models[1]]->name, strlen(c.ep[c.models[1]]->name));
                    fputc('\n', c.out);
                }
            }
        }
        if (jprompts) {
            cJSON *jp = cJSON_CreateObject();
            cJSON_AddStringToObject(jp, "prompt", it->prompt);
            if (it->has_answer) cJSON_AddStringToObject(jp, "answer", it->problem.answer);
            cJSON *jr = cJSON_AddArrayToObject(jp, "replies");
            for (int m = 0; m < 2; m++) cJSON_AddItemToArray(jr, reply_json(&c.res[m], &c.score[m], c.st[m], c.err[m]));
            if (jv) cJSON_AddItemToObject(jp, "vote", jv);
            if (o->blind) cJSON_AddStringToObject(jp, "shown_as_a", c.ep[c.models[0]]->spec);
            cJSON_AddItemToArray(jprompts, jp);
        } else {
            cJSON_Delete(jv);
        }
        for (int m = 0; m < 2; m++) gen_result_free(&c.res[m]);
    }
    sighandle_restore(sigint, 1, &old_int);
    if (o->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON *jm = cJSON_AddArrayToObject(root, "models");
        for (int m = 0; m < 2; m++) cJSON_AddItemToArray(jm, summary_json(c.ep[m], &sum[m]));
        cJSON *js = cJSON_AddObjectToObject(root, "settings");
        cJSON_AddNumberToObject(js, "temperature", o->params.temperature);
        cJSON_AddNumberToObject(js, "top_p", o->params.top_p);
        cJSON_AddNumberToObject(js, "top_k", o->params.top_k);
        cJSON_AddNumberToObject(js, "max_tokens", o->params.max_tokens);
        cJSON_AddNumberToObject(js, "seed", (double)o->params.seed);
        cJSON_AddItemToObject(root, "prompts", jprompts);
        cJSON_AddBoolToObject(root, "complete", done_items == n_items && !interrupted);
        char *s = cJSON_Print(root);
        if (s) printf("%s\n", s);
        free(s);
        cJSON_Delete(root);
    } else {
        print_summary(c.out, c.ep, sum, c.color);
        if (done_items < n_items) fprintf(c.out, "(stopped after %zu of %zu prompts)\n", done_items, n_items);
    }
    if (o->blind && votes_path[0]) {
        struct vote_tally t;
        if (votes_tally(votes_path, c.ep[0]->spec, c.ep[1]->spec, &t) == STATUS_OK && t.total > 0) {
            struct strbuf sb = {0};
            votes_format(&t, c.ep[0]->name, c.ep[1]->name, &sb);
            fputs("\n", o->json ? stderr : c.out);
            if (sb.data) repl_out_model_text(o->json ? stderr : c.out, sb.data, sb.len);
            strbuf_free(&sb);
        }
    }
    fflush(stdout);
    endpoint_close(c.ep[0]);
    endpoint_close(c.ep[1]);
    compare_items_free(items, n_items);
    if (interrupted && repl_stop_flag) {
        fprintf(stderr, "r1lab: interrupted\n");
        return 3;
    }
    return failures ? 1 : 0;
}
