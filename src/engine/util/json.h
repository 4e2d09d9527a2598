/* json: reading JSON files with errors a user can act on. Wraps cJSON: parse errors name the file, line
 * and column; typed field getters name the file and the key and say what was expected. */
#ifndef R1LAB_JSON_H
#define R1LAB_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "engine/util/status.h"

/* Parses a whole file (at most max_bytes, valid UTF-8). *out is owned by the caller (cJSON_Delete). */
enum status json_parse_file(const char *path, size_t max_bytes, cJSON **out);
/* Parses a buffer; `where` names it in messages (a file name, "file:line"). */
enum status json_parse_text(const char *text, size_t len, const char *where, cJSON **out);

/* Field getters. A missing key gives `def` when required is false, an error when true. A present key of
 * the wrong type, or a number that is not an integer or out of range, is always an error. */
enum status json_get_int(const cJSON *obj, const char *key, bool required, int64_t def, int64_t min, int64_t max,
                         int64_t *out, const char *where);
enum status json_get_double(const cJSON *obj, const char *key, bool required, double def, double *out,
                            const char *where);
enum status json_get_bool(const cJSON *obj, const char *key, bool required, bool def, bool *out, const char *where);
/* *out points into obj (no copy); def may be NULL. */
enum status json_get_string(const cJSON *obj, const char *key, bool required, const char *def, const char **out,
                            const char *where);
/* Writes a JSON string literal (quotes and escapes) for s into out; returns the bytes needed (like snprintf). */
size_t json_escape(char *out, size_t cap, const char *s);

#endif
