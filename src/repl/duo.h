/* duo: one prompt, two models — runs both endpoints' generate in two threads and hands their pieces to the
 * calling thread, which alone touches the terminal.
 *
 * When both models are local (CPU-bound: two cores cannot run two models faster than one after the other)
 * the threads take turns token by token (lockstep), so the two replies fill their columns at the same pace
 * and the event order is the same on every run. A remote model runs freely. Time spent waiting for the
 * other side's turn is taken out of each side's stats (time to first token, total).
 *
 * Ctrl-C: both sides poll the same abort flag. Errors stay per side (message and hint copied out of the
 * worker thread's error state). */
#ifndef R1LAB_DUO_H
#define R1LAB_DUO_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "endpoint.h"
#include "engine/util/strbuf.h"

/* Called on the calling thread, in each side's order. */
typedef void (*duo_piece_fn)(void *user, int side, enum piece_kind kind, const char *s, size_t n);
/* Called on the calling thread when a side has finished; its result is final, st is its status (err and
 * hint the message when st is not OK). */
typedef void (*duo_done_fn)(void *user, int side, enum status st, const char *err, const char *hint);

struct duo_side {
    struct endpoint *ep;
    const struct chat *chat;
    struct gen_params params;
    struct gen_result *res;
    enum status st;
    char err[1024], hint[512];
    /* worker state, guarded by the duo's mutex */
    struct strbuf pending; /* records: kind byte, 4-byte length, bytes */
    struct strbuf spare;   /* the calling thread's buffer, swapped with pending (capacity reused) */
    bool done, reported;
    double waited;
    pthread_t thread;
    struct duo *duo;
    int index;
};

struct duo {
    struct duo_side side[2];
    pthread_mutex_t mu;
    pthread_cond_t wake; /* the calling thread: new pieces or a side done */
    pthread_cond_t turn_cv;
    int turn;
    bool lockstep;
    volatile sig_atomic_t *abort_flag;
};

/* Runs both sides to completion. res[i], chat[i] and params[i] belong to side i. */
void duo_run(struct endpoint *const ep[2], const struct chat *const chat[2], const struct gen_params *const params[2],
             struct gen_result *const res[2], volatile sig_atomic_t *abort_flag, duo_piece_fn on_piece,
             duo_done_fn on_done, void *user, enum status st_out[2], char err_out[2][1024], char hint_out[2][512]);

#endif
