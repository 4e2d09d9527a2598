/* compare: prompts in, side-by-side report and per-model summary out. */
#include "compare.h"

#include <cJSON.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duo.h"
#include "engine/util/fsutil.h"
#include "engine/util/rng.h"
#include "engine/util/sighandle.h"
#include "engine/util/strbuf.h"
#include "repl_impl.h"
#include "scorecard.h"
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
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(o, "task");
    it->plain = cJSON_IsString(task) && strcmp(task->valuestring, "plain") == 0;
    if (task && !cJSON_IsString(task)) {
        st = err_set(STATUS_FORMAT, "%s:%zu: \"task\" must be a string (\"plain\" marks a plain question)", name,
                     lineno);
    } else if (!cJSON_IsString(p) || !p->valuestring[0]) {
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
            st = task_problem_from_answer(&it->problem, it->plain ? TASK_PLAIN : TASK_DATASET, it->prompt, ans);
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

/* ---- running ---- */

/* What is kept of one prompt: every sample's scores (for the summary and the choice of examples) and the first
 * sample's replies (for the examples). */
struct prompt_log {
    struct scorecard_reply *sc[2]; /* (K) by model */
    bool *failed[2];               /* (K) by model */
    size_t k;                      /* samples both models finished */
    bool complete;                 /* all K */
    char *first[2];                /* the first sample's reply, reasoning inline (by model) */
    char *foot[2];                 /* the line under it */
};

struct run_ctx {
    const struct compare_options *o;
    struct endpoint *ep[2];
    FILE *out;
    bool color, live, ascii, interactive;
    bool stream; /* the sample being generated is shown as it streams */
    int cols;
    struct cols_view view;
    int models[2]; /* column -> model */
    const struct compare_item *item;
    struct gen_result res[2];
    enum status st[2];
    char err[2][1024];
    struct scorecard_reply score[2];
    char *foot[2]; /* the footer of the sample just finished (malloc'd) */
};

static void on_piece(void *user, int column, enum piece_kind kind, const char *s, size_t n) {
    struct run_ctx *c = user;
    if (c->stream) cols_view_piece(&c->view, column, kind, s, n);
}

static char *footer(const struct scorecard_reply *sc, const struct gen_result *res, enum status st, const char *err) {
    struct strbuf foot = {0};
    if (st != STATUS_OK && st != STATUS_ABORTED) {
        strbuf_printf(&foot, "error: %s", err);
        return strbuf_detach(&foot);
    }
    if (sc->correct >= 0) strbuf_puts(&foot, sc->correct ? "correct · " : "wrong · ");
    if (sc->format_ok)
        strbuf_printf(&foot, "format %s · ", scorecard_format_name(sc->format));
    else
        strbuf_puts(&foot, "format bad · ");
    if (st == STATUS_ABORTED) strbuf_puts(&foot, "interrupted · ");
    view_format_stats(res, &foot);
    return strbuf_detach(&foot);
}

static void on_done(void *user, int column, enum status st, const char *err, const char *hint) {
    (void)hint;
    struct run_ctx *c = user;
    int m = c->models[column];
    c->st[m] = st;
    snprintf(c->err[m], sizeof c->err[m], "%s", err);
    char *full = gen_result_full_text(&c->res[m]);
    const struct compare_item *it = c->item;
    scorecard_score(it->has_answer ? &it->problem : NULL, it->plain, full ? full : "", c->res[m].new_tokens,
                    &c->score[m]);
    free(full);
    free(c->foot[m]);
    c->foot[m] = footer(&c->score[m], &c->res[m], st, err);
    if (c->stream) cols_view_side_done(&c->view, column, c->foot[m]);
}

/* The reason a reply ended, for --json: an error is not a stop. */
static const char *finish_name(const struct gen_result *res, enum status st) {
    if (st == STATUS_ABORTED) return "aborted";
    if (st != STATUS_OK) return "error";
    return finish_reason_name(res->finish);
}

static cJSON *reply_json(const struct gen_result *res, const struct scorecard_reply *sc, enum status st,
                         const char *err) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "text", res->text.data ? res->text.data : "");
    if (res->reasoning.len) cJSON_AddStringToObject(o, "reasoning", res->reasoning.data);
    cJSON_AddStringToObject(o, "finish", finish_name(res, st));
    if (st != STATUS_OK && st != STATUS_ABORTED) cJSON_AddStringToObject(o, "error", err);
    cJSON_AddNumberToObject(o, "tokens", (double)res->new_tokens);
    cJSON_AddBoolToObject(o, "tokens_exact", res->new_tokens_exact);
    if (sc->correct >= 0)
        cJSON_AddBoolToObject(o, "correct", sc->correct);
    else
        cJSON_AddNullToObject(o, "correct");
    cJSON_AddBoolToObject(o, "format", sc->format_ok);
    if (sc->format_ok)
        cJSON_AddStringToObject(o, "format_style", scorecard_format_name(sc->format));
    else
        cJSON_AddNullToObject(o, "format_style");
    cJSON_AddNumberToObject(o, "readability", sc->readability);
    cJSON_AddNumberToObject(o, "think_share", sc->think_share);
    cJSON_AddNumberToObject(o, "language", sc->language);
    cJSON_AddBoolToObject(o, "mixed_language", sc->mixed);
    cJSON_AddBoolToObject(o, "reflection", sc->reflection);
    cJSON_AddNumberToObject(o, "ttft_s", res->ttft_s);
    cJSON_AddNumberToObject(o, "total_s", res->total_s);
    return o;
}

static cJSON *summary_json(const struct endpoint *ep, const struct scorecard_row *row, int samples) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", ep->spec);
    cJSON_AddStringToObject(o, "name", ep->name);
    if (!ep->remote) {
        cJSON_AddStringToObject(o, "template", template_name(ep->tmpl));
        cJSON_AddStringToObject(o, "template_source", *ep->tmpl_why ? ep->tmpl_why : "chosen with --template");
    }
    cJSON_AddNumberToObject(o, "samples", samples);
    scorecard_row_json(row, o);
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

/* The prompts: from the file, or all of standard input. */
static enum status read_items(const struct compare_options *o, struct compare_item **items, size_t *n) {
    bool from_stdin = !o->prompts_path || strcmp(o->prompts_path, "-") == 0;
    char *text = NULL;
    size_t len = 0;
    enum status st;
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
    if (st == STATUS_OK) st = compare_items_parse(text ? text : "", len, from_stdin ? "<stdin>" : o->prompts_path, items, n);
    free(text);
    return st;
}

static void print_prompt_line(struct run_ctx *c, size_t i, size_t n) {
    const struct compare_item *it = c->item;
    fprintf(c->out, "%s[%zu/%zu]%s ", c->color ? "\033[1m" : "", i + 1, n, c->color ? "\033[0m" : "");
    repl_out_model_text(c->out, it->prompt, strlen(it->prompt));
    if (it->has_answer) {
        fputs("  (answer: ", c->out);
        repl_out_model_text(c->out, it->problem.answer, strlen(it->problem.answer));
        fputc(')', c->out);
    }
    fputc('\n', c->out);
}

/* "  4 samples: base 1/4 correct, 4/4 formatted · r1 3/4 correct, 4/4 formatted" */
static void print_samples_line(struct run_ctx *c, const struct prompt_log *lg, bool hidden) {
    fprintf(c->out, "  %zu samples:", lg->k);
    for (int col = 0; col < 2; col++) {
        int m = c->models[col];
        size_t correct = 0, answered = 0, formatted = 0;
        for (size_t s = 0; s < lg->k; s++) {
            if (lg->sc[m][s].correct >= 0) answered++, correct += (size_t)lg->sc[m][s].correct;
            formatted += lg->sc[m][s].format_ok;
        }
        const char *name = hidden ? (col == 0 ? "Model A" : "Model B") : c->ep[m]->name;
        fputs(col ? " · " : " ", c->out);
        repl_out_model_text(c->out, name, strlen(name));
        if (answered) fprintf(c->out, " %zu/%zu correct,", correct, answered);
        fprintf(c->out, " %zu/%zu formatted", formatted, lg->k);
    }
    fputc('\n', c->out);
}

/* Both models answer c->item k times; the first sample streams when c->stream is wanted. Fills lg; JSON replies
 * go to jfirst (the first sample) and jsamples (all of them, when K > 1). Returns false when interrupted. */
static bool run_prompt(struct run_ctx *c, size_t k, struct prompt_log *lg, cJSON *jfirst[2],
                       cJSON *jsamples[2], int *failures) {
    const struct compare_options *o = c->o;
    bool show = !o->json && !o->brief;
    bool hidden = o->blind;
    struct chat_turn turn = {CHAT_USER, c->item->prompt};
    struct chat chat = {.system = o->system, .turns = &turn, .n_turns = 1};
    struct endpoint *eps[2] = {c->ep[c->models[0]], c->ep[c->models[1]]};
    const struct chat *cp[2] = {&chat, &chat};
    for (size_t s = 0; s < k; s++) {
        c->stream = show && s == 0;
        for (int m = 0; m < 2; m++) gen_result_init(&c->res[m]);
        if (c->stream) {
            const char *na = hidden ? "Model A" : eps[0]->name;
            const char *nb = hidden ? "Model B" : eps[1]->name;
            cols_view_begin(&c->view, c->out, c->cols, c->color, c->live, c->ascii, o->think, na, nb);
        }
        struct gen_params p = o->params;
        p.seed = o->params.seed + s;
        const struct gen_params *pp[2] = {&p, &p};
        struct gen_result *res[2] = {&c->res[c->models[0]], &c->res[c->models[1]]};
        enum status st2[2];
        char err[2][1024], hint[2][512];
        duo_run(eps, cp, pp, res, &repl_stop_flag, on_piece, on_done, c, st2, err, hint);
        if (c->stream) {
            cols_view_end(&c->view);
            cols_view_free(&c->view);
        }
        bool aborted = false;
        for (int m = 0; m < 2; m++) {
            if (c->st[m] == STATUS_ABORTED)
                aborted = true;
            else if (c->st[m] != STATUS_OK)
                (*failures)++;
            lg->sc[m][s] = c->score[m];
            lg->failed[m][s] = c->st[m] != STATUS_OK;
            cJSON *j = o->json ? reply_json(&c->res[m], &c->score[m], c->st[m], c->err[m]) : NULL;
            if (s == 0) {
                lg->first[m] = gen_result_full_text(&c->res[m]);
                lg->foot[m] = c->foot[m];
                c->foot[m] = NULL;
                jfirst[m] = j;
                if (j && jsamples[m]) cJSON_AddItemToArray(jsamples[m], cJSON_Duplicate(j, true));
            } else if (jsamples[m]) {
                cJSON_AddItemToArray(jsamples[m], j);
            } else {
                cJSON_Delete(j);
            }
            gen_result_free(&c->res[m]);
        }
        if (aborted) return false;
        lg->k = s + 1;
    }
    lg->complete = true;
    if (show && k > 1) print_samples_line(c, lg, hidden);
    return true;
}

/* "where they differ": up to o->examples prompts, first samples side by side, each with its reason. */
static void print_examples(struct run_ctx *c, const struct compare_item *items, const struct prompt_log *logs,
                           const struct scorecard_prompt *sp, size_t n, size_t n_diff,
                           const struct scorecard_example *ex, size_t n_ex) {
    const char *names[2] = {c->ep[0]->name, c->ep[1]->name};
    fprintf(c->out, "\n%swhere they differ%s", c->color ? "\033[1m" : "", c->color ? "\033[0m" : "");
    if (n_ex == 0) {
        fputs(": nowhere (both models scored alike on every prompt)\n", c->out);
        return;
    }
    fprintf(c->out, ": %zu of %zu prompt%s", n_diff, n, n == 1 ? "" : "s");
    if (n_ex < n_diff)
        fprintf(c->out, "; the %zu most telling, first samples:\n", n_ex);
    else
        fprintf(c->out, "; first samples:\n");
    for (size_t e = 0; e < n_ex; e++) {
        size_t i = ex[e].index;
        const struct prompt_log *lg = &logs[i];
        c->item = &items[i];
        fputc('\n', c->out);
        print_prompt_line(c, i, n);
        struct strbuf why = {0};
        scorecard_example_reason(&ex[e], sp, names, &why);
        fputs("  ", c->out);
        repl_out_model_text(c->out, why.data ? why.data : "", why.len);
        fputc('\n', c->out);
        strbuf_free(&why);
        view_print_pair(c->out, c->cols, c->color, c->ascii, c->o->think, names[0], lg->first[0] ? lg->first[0] : "",
                        lg->foot[0], names[1], lg->first[1] ? lg->first[1] : "", lg->foot[1]);
    }
}

static void print_header(struct run_ctx *c, size_t n_items, size_t k) {
    const struct compare_options *o = c->o;
    bool hidden = o->blind;
    const char *name[2];
    for (int m = 0; m < 2; m++) name[m] = hidden ? "(hidden)" : c->ep[m]->name;
    fprintf(c->out, "r1lab compare: A = ");
    repl_out_model_text(c->out, name[0], strlen(name[0]));
    fprintf(c->out, ", B = ");
    repl_out_model_text(c->out, name[1], strlen(name[1]));
    fprintf(c->out, "; %zu prompt%s", n_items, n_items == 1 ? "" : "s");
    if (k > 1)
        fprintf(c->out, " x %zu samples; temperature %g, top_p %g, top_k %d, max_tokens %d, seeds %llu-%llu\n", k,
                o->params.temperature, o->params.top_p, o->params.top_k, o->params.max_tokens,
                (unsigned long long)o->params.seed, (unsigned long long)(o->params.seed + k - 1));
    else
        fprintf(c->out, "; temperature %g, top_p %g, top_k %d, max_tokens %d, seed %llu\n", o->params.temperature,
                o->params.top_p, o->params.top_k, o->params.max_tokens, (unsigned long long)o->params.seed);
    for (int m = 0; m < 2 && !hidden; m++) {
        const struct endpoint *ep = c->ep[m];
        if (ep->remote) continue;
        fprintf(c->out, "  %c: template %s%s%s%s\n", "AB"[m], template_name(ep->tmpl), *ep->tmpl_why ? " (" : "",
                ep->tmpl_why, *ep->tmpl_why ? ")" : "");
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
    size_t k = o->samples > 0 ? (size_t)o->samples : 1;
    struct compare_item *items = NULL;
    size_t n_items = 0;
    enum status st = read_items(o, &items, &n_items);
    char votes_path[4096] = "";
    if (st == STATUS_OK && o->blind) {
        if (o->votes_path)
            snprintf(votes_path, sizeof votes_path, "%s", o->votes_path);
        else
            st = votes_default_path(votes_path, sizeof votes_path);
    }
    struct prompt_log *logs = NULL;
    struct scorecard_reply *scores = NULL;
    bool *failed = NULL;
    if (st == STATUS_OK) {
        logs = calloc(n_items, sizeof *logs);
        scores = calloc(n_items * 2 * k, sizeof *scores);
        failed = calloc(n_items * 2 * k, sizeof *failed);
        if (!logs || !scores || !failed) st = err_set(STATUS_NOMEM, "out of memory for %zu prompts", n_items);
    }
    for (int m = 0; m < 2 && st == STATUS_OK; m++) st = endpoint_open(o->spec[m], &o->ecfg, &c.ep[m]);
    if (st != STATUS_OK) {
        const char *msg = err_msg(), *hint = err_hint_text();
        fprintf(stderr, "r1lab: error: %s\n", msg[0] ? msg : status_name(st));
        if (hint[0]) fprintf(stderr, "  hint: %s\n", hint);
        endpoint_close(c.ep[0]);
        endpoint_close(c.ep[1]);
        compare_items_free(items, n_items);
        free(logs), free(scores), free(failed);
        return 1;
    }
    for (size_t i = 0; i < n_items; i++)
        for (int m = 0; m < 2; m++) {
            logs[i].sc[m] = scores + (i * 2 + (size_t)m) * k;
            logs[i].failed[m] = failed + (i * 2 + (size_t)m) * k;
        }
    static const int sigint[] = {SIGINT};
    struct sigaction old_int;
    sighandle_install(sigint, 1, on_sigint, 0, &old_int);
    repl_stop_flag = 0;

    FILE *vote_in = o->blind ? stdin : NULL;
    FILE *vote_prompt = o->blind && isatty(STDIN_FILENO) ? stderr : NULL;
    bool progress = o->brief && !o->json && isatty(STDERR_FILENO);
    if (!o->json) print_header(&c, n_items, k);
    struct scorecard_sum sum[2];
    memset(sum, 0, sizeof sum);
    cJSON *jprompts = o->json ? cJSON_CreateArray() : NULL;
    int failures = 0;
    bool interrupted = false;
    size_t done_items = 0;
    for (size_t i = 0; i < n_items && !interrupted; i++) {
        const struct compare_item *it = &items[i];
        c.item = it;
        int left = 0;
        if (o->blind) {
            struct rng g;
            rng_seed_stream(&g, o->params.seed, 0xB11D0000u + i);
            left = (int)(rng_next(&g) & 1);
        }
        c.models[0] = left;
        c.models[1] = 1 - left;
        if (progress) fprintf(stderr, "\r[%zu/%zu]", i + 1, n_items);
        if (!o->json && !o->brief) {
            fputc('\n', c.out);
            print_prompt_line(&c, i, n_items);
        }
        cJSON *jfirst[2] = {NULL, NULL}, *jsamples[2] = {NULL, NULL};
        if (o->json && k > 1)
            for (int m = 0; m < 2; m++) jsamples[m] = cJSON_CreateArray();
        struct prompt_log *lg = &logs[i];
        interrupted = !run_prompt(&c, k, lg, jfirst, jsamples, &failures);
        if (lg->complete) {
            for (int m = 0; m < 2; m++) scorecard_sum_add(&sum[m], lg->sc[m], lg->failed[m], k);
            done_items++;
        }
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
            if (it->plain) cJSON_AddStringToObject(jp, "task", "plain");
            cJSON *jr = cJSON_AddArrayToObject(jp, "replies");
            for (int m = 0; m < 2; m++) cJSON_AddItemToArray(jr, jfirst[m] ? jfirst[m] : cJSON_CreateNull());
            if (k > 1) {
                cJSON *js = cJSON_AddArrayToObject(jp, "samples");
                for (int m = 0; m < 2; m++) cJSON_AddItemToArray(js, jsamples[m]);
            }
            if (!lg->complete) cJSON_AddBoolToObject(jp, "interrupted", true);
            if (jv) cJSON_AddItemToObject(jp, "vote", jv);
            if (o->blind) cJSON_AddStringToObject(jp, "shown_as_a", c.ep[c.models[0]]->spec);
            cJSON_AddItemToArray(jprompts, jp);
        } else {
            cJSON_Delete(jv);
        }
    }
    if (progress) fputs("\r\033[K", stderr);
    sighandle_restore(sigint, 1, &old_int);
    struct scorecard_row rows[2];
    for (int m = 0; m < 2; m++) scorecard_row_of(&sum[m], &rows[m]);
    /* The examples, among the prompts both models finished. */
    size_t max_ex = o->examples > 0 ? (size_t)o->examples : 0, n_ex = 0, n_diff = 0;
    struct scorecard_prompt *sp = calloc(n_items ? n_items : 1, sizeof *sp);
    struct scorecard_example *ex = calloc(n_items ? n_items : 1, sizeof *ex);
    if (sp && ex) {
        for (size_t i = 0; i < n_items; i++) {
            if (!logs[i].complete) continue;
            const struct scorecard_reply *r[2] = {logs[i].sc[0], logs[i].sc[1]};
            size_t kk[2] = {k, k};
            scorecard_prompt_of(r, kk, &sp[i]);
        }
        n_diff = scorecard_choose(sp, n_items, n_items, ex);
        n_ex = n_diff < max_ex ? n_diff : max_ex;
    }
    if (o->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON *jm = cJSON_AddArrayToObject(root, "models");
        for (int m = 0; m < 2; m++) cJSON_AddItemToArray(jm, summary_json(c.ep[m], &rows[m], (int)k));
        cJSON *js = cJSON_AddObjectToObject(root, "settings");
        cJSON_AddNumberToObject(js, "temperature", o->params.temperature);
        cJSON_AddNumberToObject(js, "top_p", o->params.top_p);
        cJSON_AddNumberToObject(js, "top_k", o->params.top_k);
        cJSON_AddNumberToObject(js, "max_tokens", o->params.max_tokens);
        cJSON_AddNumberToObject(js, "seed", (double)o->params.seed);
        cJSON_AddNumberToObject(js, "samples", (double)k);
        cJSON_AddItemToObject(root, "prompts", jprompts);
        cJSON *je = cJSON_AddArrayToObject(root, "examples");
        const char *names[2] = {c.ep[0]->name, c.ep[1]->name};
        for (size_t e = 0; e < n_ex; e++) {
            cJSON *x = cJSON_CreateObject();
            struct strbuf why = {0};
            scorecard_example_reason(&ex[e], sp, names, &why);
            cJSON_AddNumberToObject(x, "prompt", (double)ex[e].index);
            cJSON_AddStringToObject(x, "reason", scorecard_reason_name(ex[e].reason));
            cJSON_AddStringToObject(x, "detail", why.data ? why.data : "");
            strbuf_free(&why);
            cJSON_AddItemToArray(je, x);
        }
        cJSON_AddBoolToObject(root, "complete", done_items == n_items && !interrupted);
        char *s = cJSON_Print(root);
        if (s) printf("%s\n", s);
        free(s);
        cJSON_Delete(root);
    } else {
        const char *names[2] = {c.ep[0]->name, c.ep[1]->name};
        scorecard_print_table(c.out, names, rows, k, c.color);
        if (done_items < n_items) fprintf(c.out, "(stopped after %zu of %zu prompts)\n", done_items, n_items);
        if (max_ex) print_examples(&c, items, logs, sp, n_items, n_diff, ex, n_ex);
    }
    free(sp);
    free(ex);
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
    for (size_t i = 0; i < n_items; i++)
        for (int m = 0; m < 2; m++) free(logs[i].first[m]), free(logs[i].foot[m]);
    free(c.foot[0]), free(c.foot[1]);
    free(logs), free(scores), free(failed);
    compare_items_free(items, n_items);
    if (interrupted && repl_stop_flag) {
        fprintf(stderr, "r1lab: interrupted\n");
        return 3;
    }
    return failures ? 1 : 0;
}
