/* dataset: JSONL reading. The whole file is mapped, split into lines and parsed line by line, so a huge line
 * costs only its own parse; nothing is committed to *ds until every line parsed. */
#include "engine/world/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "engine/util/utf8.h"

static bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

char *dataset_gsm8k_answer(const char *s) {
    const char *start = s, *p = s;
    bool marked = false;
    while ((p = strstr(p, "####")) != NULL) {
        p += 4;
        start = p;
        marked = true;
    }
    size_t n = strlen(start);
    while (n && is_ws(*start)) {
        start++;
        n--;
    }
    while (n && is_ws(start[n - 1])) n--;
    char *out = malloc(n + 1);
    if (!out) return NULL;
    /* Commas go only when the text is a GSM8K marker answer: "1,234". Elsewhere they may be meaningful. */
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (!(marked && start[i] == ',')) out[w++] = start[i];
    out[w] = '\0';
    return out;
}

/* Shortest decimal text that reads back as the same double ("0.1", not "0.10000000000000001"). */
static void number_text(double d, char *out, size_t cap) {
    if (d == floor(d) && fabs(d) < 9.0e15) {
        snprintf(out, cap, "%.0f", d);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, d);
        if (strtod(out, NULL) == d) return;
    }
}

static enum status parse_countdown(const cJSON *obj, const cJSON *nums, const char *prompt, const char *where,
                                   struct problem *out) {
    int64_t numbers[TASK_MAX_NUMBERS];
    int n = 0;
    if (!cJSON_IsArray(nums))
        return err_set(STATUS_FORMAT, "%s: field \"numbers\" must be an array of integers", where);
    for (const cJSON *v = nums->child; v; v = v->next) {
        if (n >= TASK_MAX_NUMBERS)
            return err_set(STATUS_FORMAT, "%s: field \"numbers\" has more than %d entries", where, TASK_MAX_NUMBERS);
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
            v->valuedouble > 1e15)
            return err_set(STATUS_FORMAT, "%s: field \"numbers\" must hold non-negative integers", where);
        numbers[n++] = (int64_t)v->valuedouble;
    }
    if (n == 0) return err_set(STATUS_FORMAT, "%s: field \"numbers\" is empty", where);
    int64_t target;
    TRY(json_get_int(obj, "target", true, 0, -1000000000000000LL, 1000000000000000LL, &target, where));
    enum status st = task_problem_countdown(out, numbers, n, target, prompt);
    if (st != STATUS_OK) err_prefix("%s: ", where);
    return st;
}

static enum status parse_line(const char *line, size_t len, const char *where, struct problem *out) {
    size_t bad;
    if (!utf8_valid(line, len, &bad))
        return err_set(STATUS_FORMAT, "%s: invalid UTF-8 at byte %zu of the line", where, bad + 1);
    /* Parsed here rather than with json_parse_text: a line has no line numbers of its own, so a position is
     * best given as a column. */
    const char *end = NULL;
    cJSON *obj = cJSON_ParseWithLengthOpts(line, len, &end, false);
    if (!obj) {
        size_t col = end && end >= line ? (size_t)(end - line) + 1 : 1;
        if (col > len) return err_set(STATUS_FORMAT, "%s: malformed JSON (the line ends too early)", where);
        return err_set(STATUS_FORMAT, "%s: malformed JSON at column %zu", where, col);
    }
    for (size_t k = (size_t)(end - line); k < len; k++)
        if (!is_ws(line[k])) {
            cJSON_Delete(obj);
            return err_set(STATUS_FORMAT, "%s: unexpected text after the JSON object at column %zu", where, k + 1);
        }
    enum status st = STATUS_OK;
    const char *prompt = NULL;
    if (!cJSON_IsObject(obj)) {
        st = err_set(STATUS_FORMAT, "%s: expected a JSON object", where);
        goto done;
    }
    const char *key = cJSON_GetObjectItemCaseSensitive(obj, "prompt") ? "prompt" : "question";
    if ((st = json_get_string(obj, key, false, NULL, &prompt, where)) != STATUS_OK) goto done;
    if (!prompt) {
        st = err_set(STATUS_FORMAT, "%s: missing field \"prompt\"", where);
        goto done;
    }
    if (!prompt[0]) {
        st = err_set(STATUS_FORMAT, "%s: field \"%s\" is empty", where, key);
        goto done;
    }
    const cJSON *nums = cJSON_GetObjectItemCaseSensitive(obj, "numbers");
    if (!nums) nums = cJSON_GetObjectItemCaseSensitive(obj, "nums");
    if (nums) {
        st = parse_countdown(obj, nums, prompt, where, out);
        goto done;
    }
    const cJSON *ans = cJSON_GetObjectItemCaseSensitive(obj, "answer");
    char num[64];
    const char *raw;
    if (!ans || cJSON_IsNull(ans)) {
        st = err_set(STATUS_FORMAT, "%s: missing field \"answer\"", where);
        goto done;
    } else if (cJSON_IsString(ans)) {
        raw = ans->valuestring;
    } else if (cJSON_IsNumber(ans) && isfinite(ans->valuedouble)) {
        number_text(ans->valuedouble, num, sizeof num);
        raw = num;
    } else {
        st = err_set(STATUS_FORMAT, "%s: field \"answer\" must be a string or a number", where);
        goto done;
    }
    char *gold = dataset_gsm8k_answer(raw);
    if (!gold) {
        st = err_set(STATUS_NOMEM, "%s: out of memory", where);
        goto done;
    }
    if (!gold[0])
        st = err_set(STATUS_FORMAT, "%s: field \"answer\" is empty", where);
    else
        st = task_problem_from_answer(out, TASK_DATASET, prompt, gold);
    free(gold);
done:
    cJSON_Delete(obj);
    return st;
}

enum status dataset_load_text(struct dataset *ds, const char *text, size_t len, const char *name) {
    memset(ds, 0, sizeof *ds);
    struct dataset tmp = {0};
    size_t cap = 0;
    enum status st = STATUS_OK;
    size_t line_no = 0;
    char where[512];
    for (size_t pos = 0; pos < len && st == STATUS_OK;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len, n = end - pos;
        const char *line = text + pos;
        pos = end + 1;
        line_no++;
        snprintf(where, sizeof where, "%s:%zu", name, line_no);
        if (n > DATASET_MAX_LINE) {
            st = err_set(STATUS_FORMAT, "%s: line of %zu bytes is longer than the limit of %u", where, n,
                         DATASET_MAX_LINE);
            break;
        }
        size_t k = 0;
        while (k < n && is_ws(line[k])) k++;
        if (k == n) continue;
        if (tmp.n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct problem *items = realloc(tmp.items, nc * sizeof *items);
            size_t *lines = items ? realloc(tmp.line, nc * sizeof *lines) : NULL;
            if (items) tmp.items = items;
            if (lines) tmp.line = lines;
            if (!items || !lines) {
                st = err_set(STATUS_NOMEM, "%s: out of memory", where);
                break;
            }
            cap = nc;
        }
        st = parse_line(line, n, where, &tmp.items[tmp.n]);
        if (st == STATUS_OK) tmp.line[tmp.n++] = line_no;
    }
    if (st == STATUS_OK && tmp.n == 0) {
        st = err_set(STATUS_FORMAT, "%s: no problems (the file is empty or has only blank lines)", name);
        err_hint("each line must be a JSON object like {\"prompt\": \"What is 2 + 3?\", \"answer\": \"5\"}");
    }
    if (st == STATUS_OK) tmp.path = strdup(name);
    if (st == STATUS_OK && !tmp.path) st = err_set(STATUS_NOMEM, "out of memory");
    if (st != STATUS_OK) {
        dataset_free(&tmp);
        return st;
    }
    *ds = tmp;
    return STATUS_OK;
}

enum status dataset_load(struct dataset *ds, const char *path) {
    memset(ds, 0, sizeof *ds);
    struct fs_map map;
    TRY(fs_map_file(path, &map));
    enum status st = dataset_load_text(ds, map.data ? map.data : "", map.size, path);
    fs_unmap(&map);
    return st;
}

void dataset_free(struct dataset *ds) {
    for (size_t i = 0; i < ds->n; i++) task_problem_free(&ds->items[i]);
    free(ds->items);
    free(ds->line);
    free(ds->path);
    memset(ds, 0, sizeof *ds);
}
