/* corpus: configuration, the assembly of one document from a problem and a quality, and writing JSONL.
 * The worked solutions themselves are in corpus_cot.c. Each document draws from its own stream seeded by
 * (seed, index), and its problem is problem `index` of the train split under a seed derived from the corpus
 * seed, so any document can be produced alone, in any order. */
#include "engine/world/corpus.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/util/fsutil.h"
#include "engine/world/corpus_impl.h"

static const char *const QUALITY_NAMES[CORPUS_QUALITY_COUNT] = {
    "clean", "slip", "reflect", "mixed_lang", "no_think", "bad_format", "plain", "verify", "search"};
static const char *const TASK_KEYS[CORPUS_TASKS] = {"linear", "arith", "countdown", "plain"};

/* Salts that separate the streams of one seed. */
#define SALT_PRETRAIN 0x7072657472616e31ULL
#define SALT_COLDSTART 0x636f6c6473746172ULL
#define SALT_PROBLEM 0x70726f626c656d31ULL
#define SALT_EXTRA 0x6578747261707262ULL
#define SALT_NONREASONING 0x6e6f6e7265617331ULL

const char *corpus_quality_name(enum corpus_quality q) {
    ASSERT(q >= 0 && q < CORPUS_QUALITY_COUNT);
    return QUALITY_NAMES[q];
}

const char *corpus_kind_name(enum corpus_kind k) {
    return k == CORPUS_COLDSTART ? "coldstart" : k == CORPUS_NONREASONING ? "nonreasoning" : "pretrain";
}

enum status corpus_kind_parse(const char *name, enum corpus_kind *out) {
    if (strcmp(name, "pretrain") == 0)
        *out = CORPUS_PRETRAIN;
    else if (strcmp(name, "coldstart") == 0)
        *out = CORPUS_COLDSTART;
    else if (strcmp(name, "nonreasoning") == 0)
        *out = CORPUS_NONREASONING;
    else
        return err_set(STATUS_INVALID, "unknown corpus kind \"%s\" (valid: pretrain, coldstart, nonreasoning)", name);
    return STATUS_OK;
}

void corpus_config_default(struct corpus_config *c) {
    memset(c, 0, sizeof *c);
    c->seed = 0;
    c->template = TEMPLATE_R1_ZERO;
    /* plain comes last with weight 0, so a world that does not ask for it draws what it always drew. */
    static const double TASKS[CORPUS_TASKS] = {0.60, 0.25, 0.15, 0.0};
    /* verify and search come last with weight 0, so a world that does not ask for them draws what it always drew. */
    static const double QUALITY[CORPUS_QUALITY_COUNT] = {0.28, 0.22, 0.05, 0.08, 0.07, 0.22, 0.08, 0.0, 0.0};
    memcpy(c->task_weight, TASKS, sizeof TASKS);
    memcpy(c->quality_weight, QUALITY, sizeof QUALITY);
    for (int k = 0; k < CORPUS_TASKS; k++) task_config_default(&c->task[k], (enum task_kind)k);
    c->search =
        (struct corpus_search){.first_right = 0.4, .give_up_first = 0.75, .give_up_later = 0.15, .max_failures = 5};
}

/* The "search" object: probabilities in [0, 1], max_failures in [0, 20]. */
static enum status set_search(struct corpus_search *s, const cJSON *obj, const char *where) {
    if (!cJSON_IsObject(obj)) return err_set(STATUS_INVALID, "%s: \"search\" must be an object", where);
    for (const cJSON *v = obj->child; v; v = v->next) {
        double *prob = strcmp(v->string, "first_right") == 0     ? &s->first_right
                       : strcmp(v->string, "give_up_first") == 0 ? &s->give_up_first
                       : strcmp(v->string, "give_up_later") == 0 ? &s->give_up_later
                                                                 : NULL;
        if (prob) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1))
                return err_set(STATUS_INVALID, "%s: search.%s must be a number in [0, 1]", where, v->string);
            *prob = v->valuedouble;
        } else if (strcmp(v->string, "max_failures") == 0) {
            if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
                v->valuedouble > 20)
                return err_set(STATUS_INVALID, "%s: search.max_failures must be an integer in [0, 20]", where);
            s->max_failures = (int)v->valuedouble;
        } else {
            return err_set(STATUS_INVALID,
                           "%s: search: unknown key \"%s\" (valid: first_right, give_up_first, give_up_later, "
                           "max_failures)",
                           where, v->string);
        }
    }
    return STATUS_OK;
}

/* Reads {"name": weight, ...} into weights[], names[i] naming weights[i]. */
static enum status set_weights(const cJSON *obj, const char *const *names, size_t n, double *weights, const char *field,
                               const char *where) {
    if (!cJSON_IsObject(obj)) return err_set(STATUS_INVALID, "%s: \"%s\" must be an object of weights", where, field);
    for (const cJSON *v = obj->child; v; v = v->next) {
        size_t k = 0;
        while (k < n && strcmp(names[k], v->string) != 0) k++;
        if (k == n) {
            char valid[160] = "";
            for (size_t i = 0; i < n; i++) {
                size_t len = strlen(valid);
                snprintf(valid + len, sizeof valid - len, "%s%s", i ? ", " : "", names[i]);
            }
            return err_set(STATUS_INVALID, "%s: %s: unknown key \"%s\" (valid: %s)", where, field, v->string, valid);
        }
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || !isfinite(v->valuedouble))
            return err_set(STATUS_INVALID, "%s: %s.%s must be a non-negative number", where, field, v->string);
        weights[k] = v->valuedouble;
    }
    double total = 0;
    for (size_t i = 0; i < n; i++) total += weights[i];
    if (!(total > 0)) return err_set(STATUS_INVALID, "%s: the %s weights are all zero", where, field);
    return STATUS_OK;
}

enum status corpus_config_set(struct corpus_config *c, const cJSON *obj, const char *where) {
    if (!cJSON_IsObject(obj)) return err_set(STATUS_INVALID, "%s: the corpus settings must be a JSON object", where);
    struct corpus_config tmp = *c;
    for (const cJSON *v = obj->child; v; v = v->next) {
        const char *key = v->string;
        if (strcmp(key, "seed") == 0) {
            if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble) ||
                v->valuedouble > 9007199254740992.0)
                return err_set(STATUS_INVALID, "%s: \"seed\" must be a non-negative integer", where);
            tmp.seed = (uint64_t)v->valuedouble;
        } else if (strcmp(key, "template") == 0) {
            if (!cJSON_IsString(v)) return err_set(STATUS_INVALID, "%s: \"template\" must be a string", where);
            enum status st = template_parse(v->valuestring, &tmp.template);
            if (st != STATUS_OK) {
                err_prefix("%s: ", where);
                return st;
            }
        } else if (strcmp(key, "coldstart") == 0) {
            if (!cJSON_IsString(v) || (strcmp(v->valuestring, "terse") != 0 && strcmp(v->valuestring, "readable") != 0))
                return err_set(STATUS_INVALID, "%s: \"coldstart\" must be \"readable\" or \"terse\"", where);
            tmp.coldstart_terse = strcmp(v->valuestring, "terse") == 0;
        } else if (strcmp(key, "reflect_zh") == 0) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1))
                return err_set(STATUS_INVALID, "%s: \"reflect_zh\" must be a number in [0, 1]", where);
            tmp.reflect_zh = v->valuedouble;
        } else if (strcmp(key, "worked_failed_tries") == 0) {
            if (!cJSON_IsBool(v))
                return err_set(STATUS_INVALID, "%s: \"worked_failed_tries\" must be true or false", where);
            tmp.no_worked_failed_tries = cJSON_IsFalse(v);
        } else if (strcmp(key, "search") == 0) {
            TRY(set_search(&tmp.search, v, where));
        } else if (strcmp(key, "tasks") == 0) {
            TRY(set_weights(v, TASK_KEYS, CORPUS_TASKS, tmp.task_weight, "tasks", where));
        } else if (strcmp(key, "quality") == 0) {
            TRY(set_weights(v, QUALITY_NAMES, CORPUS_QUALITY_COUNT, tmp.quality_weight, "quality", where));
        } else if (strcmp(key, "task_params") == 0) {
            if (!cJSON_IsObject(v)) return err_set(STATUS_INVALID, "%s: \"task_params\" must be an object", where);
            for (const cJSON *t = v->child; t; t = t->next) {
                int k = 0;
                while (k < CORPUS_TASKS && strcmp(TASK_KEYS[k], t->string) != 0) k++;
                if (k == CORPUS_TASKS)
                    return err_set(STATUS_INVALID,
                                   "%s: task_params: unknown task \"%s\" (valid: linear, arith, "
                                   "countdown, plain)",
                                   where, t->string);
                TRY(task_config_set(&tmp.task[k], t, where));
            }
        } else {
            return err_set(STATUS_INVALID,
                           "%s: unknown world setting \"%s\" (valid: seed, template, tasks, quality, "
                           "task_params, reflect_zh, coldstart, worked_failed_tries, search)",
                           where, key);
        }
    }
    *c = tmp;
    return STATUS_OK;
}

void corpus_doc_free(struct corpus_doc *d) {
    free(d->text);
    free(d->prompt);
    free(d->completion);
    free(d->question);
    free(d->answer);
    memset(d, 0, sizeof *d);
}

/* The problem of document `index`: problem `index` of the train split under a derived seed. */
static enum status doc_problem(const struct corpus_config *c, enum task_kind task, uint64_t salt, uint64_t index,
                               struct problem *p) {
    return task_generate(&c->task[task], TASK_SPLIT_TRAIN, rng_mix64(c->seed ^ salt), index, p);
}

static void put_answer_tags(struct strbuf *sb, const char *answer) {
    strbuf_printf(sb, "<answer> %s </answer>", answer);
}

/* A self-check (cot_check), its words all in Chinese when zh. */
static bool self_check(struct cot_writer *w, const struct problem *p, const struct cot_claim *claim, bool zh) {
    double saved = w->zh;
    if (zh) w->zh = 1.0;
    bool ok = cot_check(w, p, claim);
    w->zh = saved;
    return ok;
}

/* The completion of a templated pretraining document. Sets d->correct, d->format_ok, d->reflection and
 * d->mixed_lang. */
static enum status write_completion(const struct corpus_config *c, struct rng *r, const struct problem *p,
                                    uint64_t index, struct corpus_doc *d, struct strbuf *sb) {
    struct cot_writer w = {.sb = sb, .r = r, .no_failed_tries = c->no_worked_failed_tries};
    struct cot_claim claim = {0};
    bool extractable = true;
    d->format_ok = true;
    strbuf_puts(sb, " <think> ");
    switch (d->quality) {
    case CORPUS_CLEAN:
        cot_restate(&w, p, false);
        cot_steps(&w, p, false, &claim);
        break;
    case CORPUS_SLIP:
        cot_restate(&w, p, false);
        cot_steps(&w, p, true, &claim);
        break;
    case CORPUS_MIXED_LANG:
        w.zh = 0.5;
        w.force_zh = true;
        cot_restate(&w, p, false);
        cot_steps(&w, p, false, &claim);
        break;
    case CORPUS_REFLECT: {
        /* The self-check in Chinese for a share of them: R1-Zero's language mixing, which grows with
         * reflection when RL selects reflection (the world only draws when reflect_zh is set). */
        bool zh_check = c->reflect_zh > 0 && rng_bernoulli(r, c->reflect_zh);
        cot_restate(&w, p, false);
        if (rng_bernoulli(r, 0.5)) {
            /* Catch a slip and redo the steps. */
            cot_steps(&w, p, true, &claim);
            if (!self_check(&w, p, &claim, zh_check)) {
                if (task_linear_two_sided(p) && rat_is_int(p->linear.x)) {
                    /* Multi-step problems search from the failed claim with checked tries. */
                    double saved = w.zh;
                    if (zh_check) w.zh = 1.0;
                    cot_search(&w, p, &claim);
                    w.zh = saved;
                } else {
                    cot_steps(&w, p, false, &claim);
                }
            }
        } else {
            cot_steps(&w, p, false, &claim);
            self_check(&w, p, &claim, zh_check);
        }
        d->reflection = true;
        break;
    }
    case CORPUS_SEARCH: {
        /* The retry in Chinese for a share of them, as reflect documents' checks (reflect_zh). */
        bool zh_retry = c->reflect_zh > 0 && rng_bernoulli(r, c->reflect_zh);
        cot_restate(&w, p, true);
        d->reflection = cot_search_tries(&w, p, &c->search, zh_retry, &claim);
        break;
    }
    case CORPUS_NO_THINK:
        if (rng_bernoulli(r, 0.5)) {
            d->format_ok = false; /* an empty think */
        } else {
            cot_restate(&w, p, true);
        }
        if (rng_bernoulli(r, 0.35)) {
            snprintf(claim.text, sizeof claim.text, "%s", p->answer);
            claim.correct = true;
        } else {
            cot_guess(r, p, &claim);
        }
        break;
    case CORPUS_BAD_FORMAT: {
        cot_restate(&w, p, false);
        cot_steps(&w, p, false, &claim);
        d->format_ok = false;
        int variant = (int)rng_below(r, 6);
        if (variant == 0) { /* </think> missing */
            put_answer_tags(sb, claim.text);
        } else if (variant == 1) { /* the answer outside the tags */
            strbuf_printf(sb, "</think> the answer is %s .", claim.text);
            extractable = false;
        } else if (variant == 2) { /* text after </answer> */
            strbuf_puts(sb, "</think> ");
            put_answer_tags(sb, claim.text);
            strbuf_printf(sb, " so the answer is %s .", claim.text);
        } else if (variant == 3) { /* </answer> missing */
            strbuf_printf(sb, "</think> <answer> %s", claim.text);
            extractable = false;
        } else if (variant == 4) { /* \boxed{} instead of the tags */
            strbuf_printf(sb, "</think> \\boxed{%s}", claim.text);
        } else { /* the conversation goes on */
            struct problem next;
            TRY(doc_problem(c, p->kind, SALT_EXTRA, index, &next));
            strbuf_puts(sb, "</think> ");
            put_answer_tags(sb, claim.text);
            strbuf_printf(sb, " User: %s. Assistant:", next.prompt);
            task_problem_free(&next);
        }
        d->correct = claim.correct && extractable;
        d->mixed_lang = w.wrote_zh;
        return strbuf_status(sb);
    }
    default:
        ASSERT(0);
    }
    strbuf_puts(sb, "</think> ");
    put_answer_tags(sb, claim.text);
    d->correct = claim.correct && extractable;
    d->mixed_lang = w.wrote_zh;
    return strbuf_status(sb);
}

static enum status finish_doc(struct corpus_doc *d, const struct problem *p, struct strbuf *prompt,
                              struct strbuf *completion, struct strbuf *text) {
    TRY(strbuf_status(prompt));
    TRY(strbuf_status(completion));
    TRY(strbuf_status(text));
    d->task = p->kind;
    d->question = strdup(p->prompt);
    d->answer = strdup(p->answer);
    d->text = strbuf_detach(text);
    if (prompt->data) d->prompt = strbuf_detach(prompt);
    if (completion->data) d->completion = strbuf_detach(completion);
    if (!d->question || !d->answer || !d->text) return err_set(STATUS_NOMEM, "out of memory building a document");
    return STATUS_OK;
}

enum status corpus_pretrain_doc(const struct corpus_config *c, uint64_t index, struct corpus_doc *out) {
    memset(out, 0, sizeof *out);
    out->kind = CORPUS_PRETRAIN;
    struct rng r;
    rng_seed_stream(&r, c->seed ^ SALT_PRETRAIN, index);
    enum task_kind task = (enum task_kind)rng_choose_weighted(&r, c->task_weight, CORPUS_TASKS);
    out->quality = (enum corpus_quality)rng_choose_weighted(&r, c->quality_weight, CORPUS_QUALITY_COUNT);
    struct problem p;
    TRY(doc_problem(c, task, SALT_PROBLEM, index, &p));
    struct strbuf prompt = {0}, completion = {0}, text = {0};
    enum status st = STATUS_OK;
    if (out->quality == CORPUS_PLAIN || out->quality == CORPUS_VERIFY) {
        /* Two to four problems, the first of this document's task, the others of any task. */
        bool verify = out->quality == CORPUS_VERIFY;
        uint64_t n = 2 + rng_below(&r, 3);
        (verify ? cot_verify_exercise : cot_plain)(&text, &r, &p);
        for (uint64_t k = 1; k < n && st == STATUS_OK; k++) {
            enum task_kind t2 = (enum task_kind)rng_choose_weighted(&r, c->task_weight, CORPUS_TASKS);
            struct problem q;
            st = doc_problem(c, t2, SALT_EXTRA + k, index, &q);
            if (st != STATUS_OK) break;
            strbuf_putc(&text, '\n');
            (verify ? cot_verify_exercise : cot_plain)(&text, &r, &q);
            task_problem_free(&q);
        }
        out->correct = true;
    } else {
        char *rendered = NULL;
        st = template_render_prompt(c->template, p.prompt, &rendered);
        if (st == STATUS_OK) {
            strbuf_puts(&prompt, rendered);
            st = write_completion(c, &r, &p, index, out, &completion);
        }
        free(rendered);
        strbuf_append(&text, prompt.data ? prompt.data : "", prompt.len);
        strbuf_append(&text, completion.data ? completion.data : "", completion.len);
    }
    if (st == STATUS_OK) st = finish_doc(out, &p, &prompt, &completion, &text);
    task_problem_free(&p);
    strbuf_free(&prompt);
    strbuf_free(&completion);
    strbuf_free(&text);
    if (st != STATUS_OK) corpus_doc_free(out);
    return st;
}

/* A cold-start or non-reasoning document: readable reasoning (none for plain questions), then a summary. */
static enum status reply_doc(const struct corpus_config *c, enum corpus_kind kind, uint64_t index,
                             struct corpus_doc *out) {
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->quality = CORPUS_CLEAN;
    struct rng r;
    uint64_t salt = kind == CORPUS_NONREASONING ? SALT_NONREASONING : SALT_COLDSTART;
    rng_seed_stream(&r, c->seed ^ salt, index);
    enum task_kind task = kind == CORPUS_NONREASONING
                              ? TASK_PLAIN
                              : (enum task_kind)rng_choose_weighted(&r, c->task_weight, CORPUS_TASKS);
    struct problem p;
    TRY(doc_problem(c, task, salt, index, &p));
    struct strbuf prompt = {0}, completion = {0}, text = {0};
    char *rendered = NULL;
    enum status st = template_render_prompt(c->template, p.prompt, &rendered);
    if (st == STATUS_OK) {
        strbuf_puts(&prompt, rendered);
        strbuf_puts(&completion, " <think> ");
        if (c->coldstart_terse && task != TASK_PLAIN) {
            /* The notation the base model already writes, so that SFT teaches the format and the summary
             * rather than a new language: the steps, always a check, in English only. */
            struct cot_writer w = {.sb = &completion, .r = &r};
            struct cot_claim claim = {0};
            cot_restate(&w, &p, false);
            /* A third of them catch a slip and search from it, as a reflecting pretraining document does. */
            bool slip = task_linear_two_sided(&p) && rat_is_int(p.linear.x) && rng_bernoulli(&r, 1.0 / 3);
            cot_steps(&w, &p, slip, &claim);
            if (!cot_check(&w, &p, &claim) && slip) cot_search(&w, &p, &claim);
            strbuf_puts(&completion, "</think> ");
        } else {
            cot_readable(&completion, &r, &p);
            strbuf_puts(&completion, task == TASK_PLAIN ? "</think> " : " </think> ");
        }
        if (c->coldstart_terse)
            cot_summary_terse(&completion, &p);
        else
            cot_summary(&completion, &p);
        strbuf_putc(&completion, ' ');
        put_answer_tags(&completion, p.answer);
        strbuf_append(&text, prompt.data, prompt.len);
        strbuf_append(&text, completion.data, completion.len);
        out->correct = out->format_ok = true;
        out->reflection = task != TASK_PLAIN; /* plain questions get no CoT, hence no verification */
        st = finish_doc(out, &p, &prompt, &completion, &text);
    }
    free(rendered);
    task_problem_free(&p);
    strbuf_free(&prompt);
    strbuf_free(&completion);
    strbuf_free(&text);
    if (st != STATUS_OK) corpus_doc_free(out);
    return st;
}

enum status corpus_coldstart_doc(const struct corpus_config *c, uint64_t index, struct corpus_doc *out) {
    return reply_doc(c, CORPUS_COLDSTART, index, out);
}

enum status corpus_nonreasoning_doc(const struct corpus_config *c, uint64_t index, struct corpus_doc *out) {
    return reply_doc(c, CORPUS_NONREASONING, index, out);
}

enum status corpus_doc(const struct corpus_config *c, enum corpus_kind kind, uint64_t index, struct corpus_doc *out) {
    return kind == CORPUS_PRETRAIN ? corpus_pretrain_doc(c, index, out) : reply_doc(c, kind, index, out);
}

enum status corpus_doc_json(const struct corpus_doc *d, char **out) {
    struct strbuf sb = {0};
    if (d->kind == CORPUS_PRETRAIN) {
        strbuf_puts(&sb, "{\"text\": ");
        strbuf_put_json_string(&sb, d->text);
        strbuf_printf(&sb, ", \"task\": \"%s\", \"quality\": \"%s\"}", task_kind_name(d->task),
                      corpus_quality_name(d->quality));
    } else {
        strbuf_puts(&sb, "{\"prompt\": ");
        strbuf_put_json_string(&sb, d->prompt);
        strbuf_puts(&sb, ", \"completion\": ");
        strbuf_put_json_string(&sb, d->completion);
        strbuf_puts(&sb, ", \"question\": ");
        strbuf_put_json_string(&sb, d->question);
        strbuf_puts(&sb, ", \"answer\": ");
        strbuf_put_json_string(&sb, d->answer);
        strbuf_printf(&sb, ", \"task\": \"%s\"}", task_kind_name(d->task));
    }
    enum status st = strbuf_status(&sb);
    if (st != STATUS_OK) {
        strbuf_free(&sb);
        return st;
    }
    *out = strbuf_detach(&sb);
    return STATUS_OK;
}

enum status corpus_write(const struct corpus_config *c, enum corpus_kind kind, uint64_t start, uint64_t n,
                         const char *path) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return err_set(STATUS_INVALID, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return err_set_errno(STATUS_IO, "%s: cannot create", tmp);
    enum status st = STATUS_OK;
    for (uint64_t i = 0; i < n && st == STATUS_OK; i++) {
        struct corpus_doc d;
        st = corpus_doc(c, kind, start + i, &d);
        if (st != STATUS_OK) break;
        char *line = NULL;
        st = corpus_doc_json(&d, &line);
        corpus_doc_free(&d);
        if (st != STATUS_OK) break;
        if (fputs(line, f) == EOF || fputc('\n', f) == EOF) st = err_set_errno(STATUS_IO, "%s: write failed", tmp);
        free(line);
    }
    if (fflush(f) != 0 && st == STATUS_OK) st = err_set_errno(STATUS_IO, "%s: write failed", tmp);
    if (st == STATUS_OK && fsync(fileno(f)) != 0) st = err_set_errno(STATUS_IO, "%s: fsync failed", tmp);
    if (fclose(f) != 0 && st == STATUS_OK) st = err_set_errno(STATUS_IO, "%s: close failed", tmp);
    if (st == STATUS_OK && rename(tmp, path) != 0) st = err_set_errno(STATUS_IO, "%s: cannot rename to %s", tmp, path);
    if (st != STATUS_OK) {
        unlink(tmp);
        return st;
    }
    char dir[4096];
    fs_dirname(dir, sizeof dir, path);
    return fs_fsync_path(dir);
}
