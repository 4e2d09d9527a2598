/* config: training configurations. A JSON file plus `key=value` overrides, checked against one table of
 * known keys (type, default, the stages that read it, a line of help). The table is the documentation:
 * --print-config and r1lab-config(5) come from it, unknown keys are refused with a "did you mean", and
 * the resolved configuration (every key of the stage with its effective value) is what a run records.
 * Field names follow TRL's GRPOConfig / HF TrainingArguments where one exists. */
#ifndef R1LAB_CONFIG_H
#define R1LAB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cJSON.h>

#include "engine/util/status.h"

enum config_type { CONFIG_INT, CONFIG_NUMBER, CONFIG_BOOL, CONFIG_STRING, CONFIG_OBJECT, CONFIG_ARRAY, CONFIG_ANY };

enum config_stage { STAGE_PRETRAIN = 1, STAGE_SFT = 2, STAGE_GRPO = 4, STAGE_ALL = 7 };

struct config_key {
    const char *name;
    enum config_type type;
    const char *def;  /* default as JSON text; "null" = unset */
    unsigned stages;  /* STAGE_* bits */
    const char *help; /* one line */
};

extern const struct config_key config_keys[];
extern const size_t config_n_keys;

struct config {
    cJSON *root;           /* resolved: every key of the stage */
    enum config_stage stage;
    char source[4096];     /* the file it came from (for messages) */
};

/* Loads path, applies overrides ("key=value"; value parsed as JSON, else taken as a string; "a.b=v" sets a
 * field of object a), validates and fills defaults. */
enum status config_load(struct config *c, const char *path, char *const *overrides, int n_overrides);
/* Same from an in-memory object (takes ownership of root). `where` names it in messages. */
enum status config_resolve(struct config *c, cJSON *root, const char *where, char *const *overrides, int n);
void config_free(struct config *c);

/* Typed access to resolved keys. Asking for a key the table does not define is a programming error. */
int64_t config_int(const struct config *c, const char *key);
double config_number(const struct config *c, const char *key);
bool config_bool(const struct config *c, const char *key);
const char *config_string(const struct config *c, const char *key); /* NULL when null */
const cJSON *config_get(const struct config *c, const char *key);   /* any type, NULL when null */

/* Prints the resolved configuration as JSON with a help comment line per key ("// ..."), or plain JSON. */
void config_print(const struct config *c, FILE *out, bool with_help);
const char *config_stage_name(enum config_stage s);

#endif
