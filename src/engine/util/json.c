/* json: cJSON plus file handling and typed, range-checked getters. */
#include "engine/util/json.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "engine/util/utf8.h"

static void line_col(const char *text, size_t off, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* True when the text ends inside a string or with brackets still open: the usual sign of a truncated file. */
static bool ends_unbalanced(const char *text, size_t len) {
    long depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return in_string || depth > 0;
}

enum status json_parse_text(const char *text, size_t len, const char *where, cJSON **out) {
    *out = NULL;
    size_t bad;
    if (!utf8_valid(text, len, &bad)) {
        int line, col;
        line_col(text, bad, &line, &col);
        return err_set(STATUS_FORMAT, "%s:%d:%d: invalid UTF-8 (byte offset %zu)", where, line, col, bad);
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        size_t off = end ? (size_t)(end - text) : 0;
        int line, col;
        line_col(text, off, &line, &col);
        if (off >= len || ends_unbalanced(text, len))
            return err_set(STATUS_FORMAT, "%s: unexpected end of JSON (truncated?)", where);
        return err_set(STATUS_FORMAT, "%s:%d:%d: malformed JSON", where, line, col);
    }
    /* Only whitespace may follow the value. */
    size_t off = (size_t)(end - text);
    while (off < len && (text[off] == ' ' || text[off] == '\n' || text[off] == '\r' || text[off] == '\t')) off++;
    if (off < len) {
        int line, col;
        line_col(text, off, &line, &col);
        cJSON_Delete(root);
        return err_set(STATUS_FORMAT, "%s:%d:%d: unexpected data after the JSON value", where, line, col);
    }
    *out = root;
    return STATUS_OK;
}

enum status json_parse_file(const char *path, size_t max_bytes, cJSON **out) {
    char *text;
    size_t len;
    TRY(fs_read_file(path, max_bytes, &text, &len));
    enum status st = json_parse_text(text, len, path, out);
    free(text);
    return st;
}

static enum status missing(const char *key, const char *where) {
    return err_set(STATUS_FORMAT, "%s: missing field \"%s\"", where, key);
}

enum status json_get_int(const cJSON *obj, const char *key, bool required, int64_t def, int64_t min, int64_t max,
                         int64_t *out, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required) return missing(key, where);
        *out = def;
        return STATUS_OK;
    }
    if (!cJSON_IsNumber(v))
        return err_set(STATUS_FORMAT, "%s: field \"%s\" must be an integer", where, key);
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < -9007199254740992.0 || d > 9007199254740992.0)
        return err_set(STATUS_FORMAT, "%s: field \"%s\" must be an integer, got %g", where, key, d);
    int64_t i = (int64_t)d;
    if (i < min || i > max)
        return err_set(STATUS_FORMAT, "%s: field \"%s\" = %lld is out of range [%lld, %lld]", where, key,
                       (long long)i, (long long)min, (long long)max);
    *out = i;
    return STATUS_OK;
}

enum status json_get_double(const cJSON *obj, const char *key, bool required, double def, double *out,
                            const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required) return missing(key, where);
        *out = def;
        return STATUS_OK;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return err_set(STATUS_FORMAT, "%s: field \"%s\" must be a finite number", where, key);
    *out = v->valuedouble;
    return STATUS_OK;
}

enum status json_get_bool(const cJSON *obj, const char *key, bool required, bool def, bool *out, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required) return missing(key, where);
        *out = def;
        return STATUS_OK;
    }
    if (!cJSON_IsBool(v)) return err_set(STATUS_FORMAT, "%s: field \"%s\" must be true or false", where, key);
    *out = cJSON_IsTrue(v);
    return STATUS_OK;
}

enum status json_get_string(const cJSON *obj, const char *key, bool required, const char *def, const char **out,
                            const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required) return missing(key, where);
        *out = def;
        return STATUS_OK;
    }
    if (!cJSON_IsString(v)) return err_set(STATUS_FORMAT, "%s: field \"%s\" must be a string", where, key);
    *out = v->valuestring;
    return STATUS_OK;
}

size_t json_escape(char *out, size_t cap, const char *s) {
    size_t n = 0;
#define PUT(c)                                                                                                 \
    do {                                                                                                       \
        if (n + 1 < cap) out[n] = (c);                                                                         \
        n++;                                                                                                   \
    } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            PUT('\\');
            PUT((char)c);
        } else if (c == '\n') {
            PUT('\\');
            PUT('n');
        } else if (c == '\t') {
            PUT('\\');
            PUT('t');
        } else if (c == '\r') {
            PUT('\\');
            PUT('r');
        } else if (c < 0x20 || c == 0x7F) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            for (char *e = esc; *e; e++) PUT(*e);
        } else {
            PUT((char)c);
        }
    }
    PUT('"');
#undef PUT
    if (cap > 0) out[n < cap ? n : cap - 1] = '\0';
    return n;
}
