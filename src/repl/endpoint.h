/* endpoint: a model that can answer a conversation — a local checkpoint (session + rollout) or a remote
 * OpenAI-compatible server (libcurl) — behind one small vtable. The REPL and compare talk only to this.
 *
 *     struct endpoint *ep;
 *     struct endpoint_config cfg;  endpoint_config_default(&cfg);
 *     TRY(endpoint_open("runs/zero@latest", &cfg, &ep));       // or "http://127.0.0.1:8080/v1#qwen"
 *     struct chat chat = {.system = NULL, .turns = turns, .n_turns = n};
 *     struct gen_result res;  gen_result_init(&res);
 *     st = ep->ops->generate(ep, &chat, &params, on_piece, should_abort, user, &res);
 *     ... res.text, res.reasoning, res.finish, res.new_tokens, res.ttft_s ...
 *     gen_result_free(&res);  endpoint_close(ep);
 *
 * generate streams the reply through on_piece as it is produced: PIECE_TEXT pieces are the reply (inline
 * <think> tags included, as the model wrote them), PIECE_REASONING pieces are reasoning a server delivered
 * separately (reasoning_content). should_abort is polled between tokens (local) or while waiting for bytes
 * (remote, at least every second); when it returns true, generate stops and returns STATUS_ABORTED with the
 * partial reply in *out (finish = FINISH_ABORTED). On other errors *out also holds what arrived so far.
 *
 * An endpoint is used by one thread at a time; two endpoints may generate in two threads at once. */
#ifndef R1LAB_ENDPOINT_H
#define R1LAB_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/model/rollout.h"
#include "engine/tokenizer/template.h"
#include "engine/util/status.h"
#include "engine/util/strbuf.h"

/* A conversation: an optional system text and alternating turns, the last one the user's. */
struct chat {
    const char *system; /* NULL or "" for none */
    const struct chat_turn *turns;
    size_t n_turns;
};

/* Sampling settings: what /set changes. */
struct gen_params {
    double temperature; /* 0 = greedy */
    double top_p;       /* (0, 1] */
    int top_k;          /* 0 = off */
    int max_tokens;     /* new tokens at most */
    uint64_t seed;
};
/* temperature 0.6, top_p 0.95 (DeepSeek-R1's recommended settings), top_k 0, max_tokens 1024, seed 0. */
void gen_params_default(struct gen_params *p);

enum piece_kind { PIECE_TEXT, PIECE_REASONING };
/* Returns false to stop generating (like an abort, but from the consumer). */
typedef bool (*endpoint_piece_fn)(void *user, enum piece_kind kind, const char *s, size_t n);
typedef bool (*endpoint_abort_fn)(void *user);

struct gen_result {
    struct strbuf text;      /* the reply as generated (content) */
    struct strbuf reasoning; /* separately delivered reasoning, "" for local models */
    enum finish_reason finish;
    int64_t prompt_tokens; /* -1 when unknown */
    int64_t new_tokens;    /* tokens generated; for remote servers that report no usage, the number of
                              streamed pieces (new_tokens_exact = false) */
    bool new_tokens_exact;
    double ttft_s;  /* request to first piece */
    double total_s; /* request to the end */
};
void gen_result_init(struct gen_result *r);
void gen_result_clear(struct gen_result *r); /* empties it for reuse */
void gen_result_free(struct gen_result *r);
/* The reply as one text: "<think>reasoning</think>" in front when reasoning came separately. Malloc'd. */
char *gen_result_full_text(const struct gen_result *r);

struct endpoint;
struct endpoint_ops {
    /* Generates the assistant's next turn of chat (see above). */
    enum status (*generate)(struct endpoint *ep, const struct chat *chat, const struct gen_params *p,
                            endpoint_piece_fn on_piece, endpoint_abort_fn should_abort, void *user,
                            struct gen_result *out);
    /* Appends "key: value" lines describing the model (for /show). */
    void (*describe)(const struct endpoint *ep, struct strbuf *out);
    /* Changes the prompt template (local only; remote servers format prompts themselves). */
    enum status (*set_template)(struct endpoint *ep, enum template_kind kind);
    void (*close)(struct endpoint *ep);
};

struct endpoint {
    const struct endpoint_ops *ops;
    char name[128];  /* short display name: "zero@400", "qwen2_tiny", "gpt-4o@api.openai.com" */
    char spec[1024]; /* what it was opened from, as given */
    bool remote;
    enum template_kind tmpl; /* local: the template in use */
    char tmpl_why[160];      /* local: why this template ("" when the user chose it): its training config, or
                              * detected from the tokenizer for a checkpoint r1lab did not train */
};

struct endpoint_config {
    const char *device;       /* local: "auto", "cpu", ... */
    int threads;              /* local: CPU threads, <= 0 all */
    const char *tmpl;         /* local: template name, NULL = the checkpoint's training template, else detect */
    const char *model;        /* remote: model name when the spec has no "#MODEL" */
    double connect_timeout_s; /* remote: default 10 */
    double stall_timeout_s;   /* remote: no byte for this long ends the request; default 60 */
    size_t max_response;      /* remote: bytes per response at most; default 16 MiB */
};
void endpoint_config_default(struct endpoint_config *c);

/* Opens a model from a spec:
 *   CKPT_DIR | RUN_DIR@STEP | RUN_DIR@latest      a local checkpoint
 *   http[s]://HOST[:PORT][/PATH][#MODEL]          an OpenAI-compatible server; PATH is the API base ("/v1",
 *                                                 appended when missing); the model is MODEL or cfg->model
 *   remote:MODEL  (or remote: with cfg->model)    the server in $OPENAI_BASE_URL
 * The API key is read from $OPENAI_API_KEY when a request is made. */
enum status endpoint_open(const char *spec, const struct endpoint_config *cfg, struct endpoint **out);
void endpoint_close(struct endpoint *ep); /* accepts NULL */
bool endpoint_spec_is_remote(const char *spec);

/* The two implementations (endpoint_open picks one). */
enum status endpoint_local_open(const char *spec, const struct endpoint_config *cfg, struct endpoint **out);
enum status endpoint_remote_open(const char *base_url, const char *model, const char *spec,
                                 const struct endpoint_config *cfg, struct endpoint **out);

#endif
