/* tok_fixtures: reads cases.jsonl through the project's own JSON helpers. */
#include "tok_fixtures.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "harness.h"

char *tok_fixture_dir(const char *name) {
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/tokenizers/%s", name);
    return th_path(rel);
}

static int32_t *cases_ids(const cJSON *obj, const char *key, size_t *n, int line) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    cr_assert(cJSON_IsArray(arr), "cases.jsonl:%d: \"%s\" is not an array", line, key);
    *n = (size_t)cJSON_GetArraySize(arr);
    int32_t *ids = malloc((*n + 1) * sizeof *ids);
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next) ids[i++] = (int32_t)e->valuedouble;
    return ids;
}

static char *cases_str(const cJSON *obj, const char *key, int line) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, key);
    cr_assert(cJSON_IsString(s), "cases.jsonl:%d: \"%s\" is not a string", line, key);
    return strdup(s->valuestring);
}

struct tok_case *tok_cases_load(const char *name, size_t *n) {
    char *path = th_path("tests/fixtures/tokenizers/cases.jsonl");
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(path, 16 << 20, &text, &len), STATUS_OK, "%s", err_msg());
    size_t cap = 64, count = 0;
    struct tok_case *cases = malloc(cap * sizeof *cases);
    int line = 0;
    for (char *p = text, *end; *p; p = end + (*end != '\0')) {
        end = strchr(p, '\n');
        if (!end) end = p + strlen(p);
        line++;
        if (end == p) continue;
        cJSON *obj;
        char where[64];
        snprintf(where, sizeof where, "cases.jsonl:%d", line);
        cr_assert_eq(json_parse_text(p, (size_t)(end - p), where, &obj), STATUS_OK, "%s", err_msg());
        const cJSON *tk = cJSON_GetObjectItemCaseSensitive(obj, "tokenizer");
        cr_assert(cJSON_IsString(tk), "%s: no tokenizer", where);
        if (!name || strcmp(tk->valuestring, name) == 0) {
            if (count == cap) cases = realloc(cases, (cap *= 2) * sizeof *cases);
            struct tok_case *c = &cases[count++];
            memset(c, 0, sizeof *c);
            snprintf(c->tokenizer, sizeof c->tokenizer, "%s", tk->valuestring);
            c->line = line;
            c->text = cases_str(obj, "text", line);
            c->ids = cases_ids(obj, "ids", &c->n_ids, line);
            c->ids_special = cases_ids(obj, "ids_special", &c->n_ids_special, line);
            c->decoded = cases_str(obj, "decoded", line);
            c->decoded_skip = cases_str(obj, "decoded_skip", line);
        }
        cJSON_Delete(obj);
    }
    free(text);
    free(path);
    *n = count;
    return cases;
}

void tok_cases_free(struct tok_case *cases, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(cases[i].text);
        free(cases[i].ids);
        free(cases[i].ids_special);
        free(cases[i].decoded);
        free(cases[i].decoded_skip);
    }
    free(cases);
}
