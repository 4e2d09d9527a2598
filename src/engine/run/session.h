/* session: a checkpoint opened for use — its resolved directory, a backend, the model and the tokenizer.
 * What `r1lab score`, `generate`, `eval`, `chat` and `compare` start from. Owns all three. */
#ifndef R1LAB_SESSION_H
#define R1LAB_SESSION_H

#include <limits.h>

#include "engine/backend/backend.h"
#include "engine/model/model.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/status.h"

struct session {
    char dir[PATH_MAX]; /* resolved checkpoint directory */
    struct backend *be;
    struct model model;
    struct tokenizer *tok;
};

/* name: a directory, RUN_DIR@STEP or RUN_DIR@latest; device: "auto", "cpu", "cuda[:N]"; threads <= 0: all. */
enum status session_open(struct session *s, const char *name, const char *device, int threads);
void session_close(struct session *s); /* accepts a zeroed struct */

/* Tokenizes text (add_special_tokens like HF's default) into out; checks every id fits the model. */
enum status session_encode(const struct session *s, const char *text, bool add_special, struct token_buf *out);

#endif
