/* votes: the votes file, written through jsonl (one write per line) and tallied with cJSON. */
#include "votes.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/util/fsutil.h"
#include "engine/util/jsonl.h"

static const char *const NAMES[] = {"a", "b", "tie", "both_bad"};

const char *vote_name(enum vote v) {
    return NAMES[v];
}

enum status vote_parse(const char *s, enum vote *out) {
    static const struct {
        const char *word;
        enum vote v;
    } words[] = {{"a", VOTE_A},       {"b", VOTE_B},          {"tie", VOTE_TIE},           {"t", VOTE_TIE},
                 {"=", VOTE_TIE},     {"bad", VOTE_BOTH_BAD}, {"both_bad", VOTE_BOTH_BAD}, {"both-bad", VOTE_BOTH_BAD},
                 {"x", VOTE_BOTH_BAD}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasecmp(s, words[i].word) == 0) {
            *out = words[i].v;
            return STATUS_OK;
        }
    return err_set(STATUS_INVALID, "\"%s\" is not a vote (a, b, tie or bad)", s);
}

enum status votes_default_path(char *out, size_t cap) {
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (state && state[0] == '/')
        n = snprintf(out, cap, "%s/r1lab/votes.jsonl", state);
    else if (home && *home)
        n = snprintf(out, cap, "%s/.local/state/r1lab/votes.jsonl", home);
    else
        return err_set(STATUS_INVALID, "neither XDG_STATE_HOME nor HOME is set; name a votes file with --votes");
    if (n < 0 || (size_t)n >= cap) return err_set(STATUS_INVALID, "the votes file path is too long");
    return STATUS_OK;
}

enum status votes_append(const char *path, const struct vote_record *r) {
    char dir[4096];
    fs_dirname(dir, sizeof dir, path);
    TRY(fs_mkdir_p(dir));
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON *o = cJSON_CreateObject();
    if (!o) return err_set(STATUS_NOMEM, "out of memory");
    cJSON_AddStringToObject(o, "time", when);
    cJSON_AddStringToObject(o, "a", r->a);
    cJSON_AddStringToObject(o, "b", r->b);
    cJSON_AddStringToObject(o, "vote", vote_name(r->vote));
    if (r->vote == VOTE_A)
        cJSON_AddStringToObject(o, "winner", r->a);
    else if (r->vote == VOTE_B)
        cJSON_AddStringToObject(o, "winner", r->b);
    else
        cJSON_AddNullToObject(o, "winner");
    cJSON_AddBoolToObject(o, "blind", r->blind);
    cJSON_AddStringToObject(o, "prompt", r->prompt ? r->prompt : "");
    cJSON_AddNumberToObject(o, "seed", (double)r->seed);
    struct jsonl j = {0};
    enum status st = jsonl_open(&j, path);
    if (st == STATUS_OK) st = jsonl_append(&j, o);
    jsonl_close(&j);
    cJSON_Delete(o);
    return st;
}

static const char *str_field(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

enum status votes_tally(const char *path, const char *m1, const char *m2, struct vote_tally *out) {
    memset(out, 0, sizeof *out);
    if (!fs_exists(path)) return STATUS_OK;
    char *text = NULL;
    size_t len = 0;
    TRY(fs_read_file(path, 256u << 20, &text, &len));
    char *line = text;
    while (line < text + len) {
        char *end = memchr(line, '\n', (size_t)(text + len - line));
        size_t n = end ? (size_t)(end - line) : (size_t)(text + len - line);
        cJSON *o = n ? cJSON_ParseWithLength(line, n) : NULL;
        const char *a = o ? str_field(o, "a") : NULL, *b = o ? str_field(o, "b") : NULL;
        const char *v = o ? str_field(o, "vote") : NULL;
        enum vote vote = VOTE_TIE;
        if (!a || !b || !v || vote_parse(v, &vote) != STATUS_OK) {
            if (n) out->skipped_lines++;
        } else if ((strcmp(a, m1) == 0 && strcmp(b, m2) == 0) || (strcmp(a, m2) == 0 && strcmp(b, m1) == 0)) {
            bool a_is_1 = strcmp(a, m1) == 0;
            out->total++;
            if (vote == VOTE_TIE)
                out->ties++;
            else if (vote == VOTE_BOTH_BAD)
                out->both_bad++;
            else
                out->wins[(vote == VOTE_A) == a_is_1 ? 0 : 1]++;
        }
        cJSON_Delete(o);
        line += n + 1;
    }
    free(text);
    err_clear();
    return STATUS_OK;
}

void votes_format(const struct vote_tally *t, const char *name1, const char *name2, struct strbuf *out) {
    long decided = t->wins[0] + t->wins[1] + t->ties;
    strbuf_printf(out, "votes: %ld (%ld %s wins, %ld %s wins, %ld tie%s, %ld both bad)\n", t->total, t->wins[0], name1,
                  t->wins[1], name2, t->ties, t->ties == 1 ? "" : "s", t->both_bad);
    if (decided > 0)
        strbuf_printf(out, "win rate: %s %.1f%%, %s %.1f%% (ties count half; both-bad votes left out)\n", name1,
                      100.0 * ((double)t->wins[0] + 0.5 * (double)t->ties) / (double)decided, name2,
                      100.0 * ((double)t->wins[1] + 0.5 * (double)t->ties) / (double)decided);
}
