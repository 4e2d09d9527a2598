/* dataset: a user's verifiable problems from a JSONL file, one problem per line.
 *
 * Each non-blank line is a JSON object with
 *   "prompt"   the question (string; "question" is accepted when "prompt" is absent, as in GSM8K);
 *   "answer"   the gold answer, a string or a number. A GSM8K-style answer that contains "####" keeps only
 *              what follows the last "####", trimmed, with thousands commas removed ("#### 1,234" -> "1234");
 * or, for Countdown problems, "numbers" (or "nums", TinyZero's name: an array of non-negative integers) and
 * "target" (an integer) instead of "answer". Other fields are ignored.
 *
 * Verification (task.h): numbers compare exactly as rationals ("0.5" = "1/2"), anything else as normalised
 * text (answer.h). Blank lines (only whitespace) are skipped; a "\r\n" ending is fine; lines of any length are
 * read (up to DATASET_MAX_LINE bytes). Any malformed line stops the load with an error naming the file and the
 * 1-based line — "data.jsonl:17: missing field \"answer\"", "data.jsonl:3: invalid UTF-8 at byte 12" — and
 * nothing is kept. A file without a single problem is an error too. */
#ifndef R1LAB_DATASET_H
#define R1LAB_DATASET_H

#include <stddef.h>

#include "engine/util/status.h"
#include "engine/world/task.h"

#define DATASET_MAX_LINE (64u << 20) /* bytes per line */

struct dataset {
    struct problem *items; /* (n) kind TASK_DATASET, or TASK_COUNTDOWN for numbers/target lines */
    size_t n;
    size_t *line; /* (n) the 1-based source line of each item, for messages */
    char *path;
};

enum status dataset_load(struct dataset *ds, const char *path);
/* Same, from a buffer; `name` stands for the file name in messages. */
enum status dataset_load_text(struct dataset *ds, const char *text, size_t len, const char *name);
void dataset_free(struct dataset *ds); /* accepts a zeroed struct */

/* The gold answer a GSM8K-style solution text ends with (see above), malloc'd; a string without "####" is
 * returned trimmed. */
char *dataset_gsm8k_answer(const char *s);

#endif
