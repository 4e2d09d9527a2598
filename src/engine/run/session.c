/* session: resolve, open backend, load model and tokenizer, and check they agree. */
#include "engine/run/session.h"

#include <string.h>

#include "engine/run/checkpoint.h"

enum status session_open(struct session *s, const char *name, const char *device, int threads) {
    memset(s, 0, sizeof *s);
    TRY(checkpoint_resolve(name, s->dir, sizeof s->dir));
    enum status st = backend_open(&s->be, device, threads);
    if (st == STATUS_OK) st = model_load(&s->model, s->dir, s->be);
    if (st == STATUS_OK) st = tokenizer_load(&s->tok, s->dir);
    if (st == STATUS_OK && tokenizer_vocab_size(s->tok) > (size_t)s->model.cfg.vocab_size) {
        st = err_set(STATUS_FORMAT, "%s: the tokenizer has %zu tokens but the model's vocab_size is %d", s->dir,
                     tokenizer_vocab_size(s->tok), s->model.cfg.vocab_size);
    }
    if (st != STATUS_OK) session_close(s);
    return st;
}

void session_close(struct session *s) {
    tokenizer_free(s->tok);
    model_free(&s->model);
    backend_close(s->be);
    memset(s, 0, sizeof *s);
}

enum status session_encode(const struct session *s, const char *text, bool add_special, struct token_buf *out) {
    TRY(tokenizer_encode(s->tok, text, strlen(text), add_special, out));
    for (size_t i = 0; i < out->n; i++)
        if (out->ids[i] >= s->model.cfg.vocab_size)
            return err_set(STATUS_INVALID, "token id %d is outside the model's vocabulary (%d)", out->ids[i],
                           s->model.cfg.vocab_size);
    return STATUS_OK;
}
