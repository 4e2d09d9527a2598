/* rollout: prefill, prefix copy, then decode steps over the compacted active set. */
#include "engine/model/rollout.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *finish_reason_name(enum finish_reason f) {
    switch (f) {
    case FINISH_NONE: return "none";
    case FINISH_EOS: return "eos";
    case FINISH_STOP: return "stop";
    case FINISH_LENGTH: return "length";
    case FINISH_ABORTED: return "aborted";
    }
    return "?";
}

enum status rollout_init(struct rollout *r, struct model *m, const struct tokenizer *tok, int max_seqs, int max_len) {
    memset(r, 0, sizeof *r);
    r->model = m;
    r->tok = tok;
    r->max_seqs = max_seqs;
    r->max_len = max_len;
    r->max_new = max_len;
    size_t S = (size_t)max_seqs, V = (size_t)m->cfg.vocab_size;
    enum status st = kv_cache_init(&r->kv, m, max_seqs, max_len);
    if (st == STATUS_OK) st = sampler_init(&r->sampler, (int)V);
    if (st != STATUS_OK) {
        rollout_free(r);
        return st;
    }
    r->rngs = calloc(S, sizeof *r->rngs);
    /* Host logits only when the host samples; (S, V) floats are 155 MB at 256 x 152k. */
    r->logits = malloc((m->be->sample_on_device ? 1 : S) * V * sizeof(float));
    r->u = malloc(S * sizeof(double));
    r->next = malloc(S * sizeof(int32_t));
    r->tokens = malloc(S * sizeof(int32_t));
    r->slots = malloc(S * sizeof(int32_t));
    r->pos = malloc(S * sizeof(int32_t));
    r->active = malloc(S * sizeof(int32_t));
    r->seqs = calloc(S, sizeof *r->seqs);
    r->id_store = malloc(S * (size_t)max_len * sizeof(int32_t));
    r->text_store = calloc(S, sizeof *r->text_store);
    r->text_cap = calloc(S, sizeof *r->text_cap);
    r->streams = calloc(S, sizeof *r->streams);
    r->piece_cap = (tok ? tokenizer_max_token_bytes(tok) : 0) + 64;
    r->piece = malloc(r->piece_cap);
    if (!r->piece || !r->rngs || !r->logits || !r->u || !r->next || !r->tokens || !r->slots || !r->pos || !r->active ||
        !r->seqs || !r->id_store || !r->text_store || !r->text_cap || !r->streams) {
        rollout_free(r);
        return err_set(STATUS_NOMEM, "cannot allocate rollout buffers for %d sequences", max_seqs);
    }
    return STATUS_OK;
}

void rollout_free(struct rollout *r) {
    if (r->model) kv_cache_free(&r->kv, r->model);
    sampler_free(&r->sampler);
    if (r->text_store)
        for (int i = 0; i < r->max_seqs; i++) free(r->text_store[i]);
    free(r->text_store);
    free(r->text_cap);
    free(r->streams);
    free(r->piece);
    free(r->rngs);
    free(r->logits);
    free(r->u);
    free(r->next);
    free(r->tokens);
    free(r->slots);
    free(r->pos);
    free(r->active);
    free(r->seqs);
    free(r->id_store);
    memset(r, 0, sizeof *r);
}

static enum status append_text(struct rollout *r, int s, const char *piece, size_t len) {
    struct rollout_seq *q = &r->seqs[s];
    if (q->text_len + len + 1 > r->text_cap[s]) {
        size_t cap = (q->text_len + len + 1) * 2;
        if (cap < 256) cap = 256;
        char *t = realloc(r->text_store[s], cap);
        if (!t) return err_set(STATUS_NOMEM, "cannot grow the text of sequence %d", s);
        r->text_store[s] = t;
        r->text_cap[s] = cap;
    }
    q->text = r->text_store[s];
    memcpy(q->text + q->text_len, piece, len);
    q->text_len += len;
    q->text[q->text_len] = '\0';
    return STATUS_OK;
}

/* True when the text now contains a stop string that ends within the last `added` bytes (+ its length). */
static bool hit_stop(const struct rollout_seq *q, size_t added, const struct rollout_options *opt) {
    for (int k = 0; k < ROLLOUT_MAX_STOP && opt->stop[k]; k++) {
        size_t n = strlen(opt->stop[k]);
        if (n == 0 || q->text_len < n) continue;
        size_t from = q->text_len >= added + n ? q->text_len - added - n + 1 : 0;
        if (memmem(q->text + from, q->text_len - from, opt->stop[k], n)) return true;
    }
    return false;
}

static bool is_eos(const struct rollout *r, int32_t id) {
    return model_config_is_eos(&r->model->cfg, id);
}

/* Records token id for sequence s; returns whether the sequence finished. */
static enum status accept_token(struct rollout *r, int s, int32_t id, const struct rollout_options *opt,
                                rollout_token_fn on_token, void *user, bool *finished) {
    struct rollout_seq *q = &r->seqs[s];
    *finished = false;
    bool eos = is_eos(r, id);
    if (!eos || opt->include_stop_token_eos) q->ids[q->n++] = id;
    if (eos) {
        q->finish = FINISH_EOS;
        *finished = true;
        if (on_token) on_token(user, s, id, "", 0);
        return STATUS_OK;
    }
    char *piece = r->piece;
    size_t len = r->tok ? tokenizer_stream_push(r->tok, &r->streams[s], id, piece, r->piece_cap) : 0;
    TRY(append_text(r, s, piece, len));
    if (on_token && !on_token(user, s, id, piece, len)) {
        q->finish = FINISH_ABORTED;
        *finished = true;
    } else if (hit_stop(q, len, opt)) {
        q->finish = FINISH_STOP;
        *finished = true;
    } else if (q->n >= opt->max_new_tokens) {
        q->finish = FINISH_LENGTH;
        *finished = true;
    }
    return STATUS_OK;
}

static void flush_text(struct rollout *r, int s) {
    size_t len = r->tok ? tokenizer_stream_flush(&r->streams[s], r->piece, r->piece_cap) : 0;
    if (len) append_text(r, s, r->piece, len);
}

enum status rollout_run(struct rollout *r, const int32_t *const *prompts, const int *prompt_lens, int P, int G,
                        const struct rollout_options *opt, rollout_token_fn on_token, rollout_abort_fn should_abort,
                        void *user, struct rollout_stats *stats) {
    struct model *m = r->model;
    int V = m->cfg.vocab_size, S = P * G;
    if (P <= 0 || G <= 0 || S > r->max_seqs)
        return err_set(STATUS_INVALID, "%d prompts x %d samples exceed the rollout capacity of %d sequences", P, G,
                       r->max_seqs);
    if (opt->max_new_tokens <= 0) return err_set(STATUS_INVALID, "max_new_tokens must be positive");
    TRY(sampler_params_check(&opt->sampling));
    int total_prompt = 0, context = m->cfg.max_position_embeddings;
    for (int p = 0; p < P; p++) {
        if (prompt_lens[p] <= 0) return err_set(STATUS_INVALID, "prompt %d is empty", p);
        if (prompt_lens[p] + opt->max_new_tokens > context) {
            enum status st = err_set(STATUS_INVALID,
                                     "a prompt of %d tokens plus %d new tokens exceeds the model's context of %d positions",
                                     prompt_lens[p], opt->max_new_tokens, context);
            if (prompt_lens[p] < context)
                err_hint("ask for at most %d new tokens (max_position_embeddings in config.json)",
                         context - prompt_lens[p]);
            else /* no number of new tokens helps: the prompt itself must shrink */
                err_hint("the prompt alone fills the context: shorten it (a prompt template adds text around it)");
            return st;
        }
        if (prompt_lens[p] + opt->max_new_tokens > r->max_len)
            return err_set(STATUS_INVALID, "prompt of %d tokens + %d new tokens exceeds the context of %d",
                           prompt_lens[p], opt->max_new_tokens, r->max_len);
        total_prompt += prompt_lens[p];
    }
    struct rollout_stats st_local = {0};
    for (int s = 0; s < S; s++) {
        r->seqs[s] = (struct rollout_seq){.ids = r->id_store + (size_t)s * r->max_new, .text = r->text_store[s]};
        if (r->text_store[s]) r->text_store[s][0] = '\0';
        else TRY(append_text(r, s, "", 0));
        tokenizer_stream_init(&r->streams[s], true);
        rng_seed_stream(&r->rngs[s], opt->seed, opt->first_stream + (uint64_t)s);
    }

    /* Prefill each prompt once into the slot of its first sample, then share the prefix. */
    double t0 = now_s();
    struct batch_builder bb;
    TRY(batch_builder_init(&bb, total_prompt, P));
    enum status st = STATUS_OK;
    for (int p = 0; p < P && st == STATUS_OK; p++) {
        st = batch_builder_add(&bb, prompts[p], prompt_lens[p], prompt_lens[p]);
        r->slots[p] = p * G;
    }
    struct batch b = batch_builder_view(&bb);
    bool on_device = m->be->sample_on_device;
    float *prompt_logits = on_device ? NULL : malloc(sizeof(float) * (size_t)P * V);
    if (!on_device && !prompt_logits && st == STATUS_OK) st = err_set(STATUS_NOMEM, "cannot allocate prompt logits");
    if (st == STATUS_OK && on_device) {
        /* The first token of every sample, drawn on the device from its prompt's logits: the same one uniform per
         * token from the same stream as the host path below. */
        for (int s = 0; s < S; s++) r->u[s] = opt->sampling.temperature > 0 ? rng_double(&r->rngs[s]) : 0.0;
        st = model_prefill_sample(m, &r->kv, &b, r->slots, G, &opt->sampling, r->u, r->next);
    } else if (st == STATUS_OK) {
        st = model_prefill(m, &r->kv, &b, r->slots, prompt_logits);
    }
    batch_builder_free(&bb);
    if (st != STATUS_OK) {
        free(prompt_logits);
        return st;
    }
    for (int p = 0; p < P; p++)
        for (int g = 1; g < G; g++) kv_cache_copy_slot(&r->kv, m, p * G, p * G + g, prompt_lens[p]);
    st_local.prompt_tokens = total_prompt;
    st_local.prefill_s = now_s() - t0;

    /* First token of every sample from its prompt's last logits. */
    int n_active = 0;
    for (int s = 0; s < S && st == STATUS_OK; s++) {
        int p = s / G;
        int32_t id = on_device ? r->next[s]
                               : sampler_sample(&r->sampler, &opt->sampling, prompt_logits + (size_t)p * V,
                                                &r->rngs[s]);
        bool done;
        st = accept_token(r, s, id, opt, on_token, user, &done);
        st_local.new_tokens++;
        if (!done) {
            r->active[n_active] = s;
            r->tokens[n_active] = id;
            r->pos[n_active] = prompt_lens[p];
            n_active++;
        }
    }
    free(prompt_logits);
    st_local.first_token_s = now_s() - t0;

    double t1 = now_s();
    while (st == STATUS_OK && n_active > 0) {
        if (should_abort && should_abort(user)) {
            for (int i = 0; i < n_active; i++) r->seqs[r->active[i]].finish = FINISH_ABORTED;
            st = err_set(STATUS_ABORTED, "generation interrupted");
            break;
        }
        for (int i = 0; i < n_active; i++) r->slots[i] = r->active[i];
        if (on_device) {
            /* The same draws the host sampler would make: one uniform per token unless greedy. */
            for (int i = 0; i < n_active; i++)
                r->u[i] = opt->sampling.temperature > 0 ? rng_double(&r->rngs[r->active[i]]) : 0.0;
            st = model_decode_sample(m, &r->kv, n_active, r->tokens, r->slots, r->pos, &opt->sampling, r->u, r->next);
        } else {
            st = model_decode_step(m, &r->kv, n_active, r->tokens, r->slots, r->pos, r->logits);
        }
        if (st != STATUS_OK) break;
        int kept = 0;
        for (int i = 0; i < n_active && st == STATUS_OK; i++) {
            int s = r->active[i];
            int32_t id = on_device ? r->next[i]
                                   : sampler_sample(&r->sampler, &opt->sampling, r->logits + (size_t)i * V,
                                                    &r->rngs[s]);
            bool done;
            st = accept_token(r, s, id, opt, on_token, user, &done);
            st_local.new_tokens++;
            if (!done) { /* compact: the survivors move to the front, in order */
                r->active[kept] = s;
                r->tokens[kept] = id;
                r->pos[kept] = r->pos[i] + 1;
                kept++;
            }
        }
        n_active = kept;
    }
    st_local.decode_s = now_s() - t1;
    for (int s = 0; s < S; s++) flush_text(r, s);
    if (stats) *stats = st_local;
    return st;
}
