/* duo: two generation threads, a piece queue per side, and an optional turnstile. */
#include "duo.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool aborted(const struct duo *d) {
    return d->abort_flag && *d->abort_flag;
}

/* Waits (mutex held) until it is this side's turn; returns the seconds waited. */
static double wait_turn(struct duo_side *s) {
    struct duo *d = s->duo;
    double t0 = now_s();
    while (d->lockstep && d->turn != s->index && !d->side[1 - s->index].done && !aborted(d)) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 50 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&d->turn_cv, &d->mu, &until);
    }
    return now_s() - t0;
}

static void pass_turn(struct duo_side *s) {
    struct duo *d = s->duo;
    d->turn = 1 - s->index;
    pthread_cond_broadcast(&d->turn_cv);
}

static bool on_piece(void *user, enum piece_kind kind, const char *text, size_t n) {
    struct duo_side *s = user;
    struct duo *d = s->duo;
    pthread_mutex_lock(&d->mu);
    char kb = (char)kind;
    uint32_t len = (uint32_t)n;
    strbuf_append(&s->pending, &kb, 1);
    strbuf_append(&s->pending, (const char *)&len, sizeof len);
    strbuf_append(&s->pending, text, n);
    pthread_cond_signal(&d->wake);
    if (d->lockstep) {
        pass_turn(s);
        s->waited += wait_turn(s);
    }
    bool go_on = !aborted(d);
    pthread_mutex_unlock(&d->mu);
    return go_on;
}

static bool should_abort(void *user) {
    struct duo_side *s = user;
    return aborted(s->duo);
}

static void *worker(void *arg) {
    struct duo_side *s = arg;
    struct duo *d = s->duo;
    pthread_mutex_lock(&d->mu);
    wait_turn(s); /* before its request starts: not part of its timings */
    pthread_mutex_unlock(&d->mu);
    err_clear();
    enum status st = s->ep->ops->generate(s->ep, s->chat, &s->params, on_piece, should_abort, s, s->res);
    pthread_mutex_lock(&d->mu);
    s->st = st;
    if (st != STATUS_OK) {
        snprintf(s->err, sizeof s->err, "%s", err_msg());
        snprintf(s->hint, sizeof s->hint, "%s", err_hint_text());
    }
    /* The other side's turns are not this side's time. */
    s->res->total_s -= s->waited;
    if (s->res->total_s < s->res->ttft_s) s->res->total_s = s->res->ttft_s;
    s->done = true;
    pass_turn(s);
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* Hands queued pieces to the caller (mutex not held while calling out). */
static void drain(struct duo *d, int i, duo_piece_fn fn, void *user) {
    struct duo_side *s = &d->side[i];
    strbuf_clear(&s->spare);
    pthread_mutex_lock(&d->mu);
    struct strbuf batch = s->pending;
    s->pending = s->spare;
    pthread_mutex_unlock(&d->mu);
    size_t off = 0;
    while (off + 5 <= batch.len) {
        enum piece_kind kind = (enum piece_kind)batch.data[off];
        uint32_t len;
        memcpy(&len, batch.data + off + 1, sizeof len);
        off += 5;
        if (fn) fn(user, i, kind, batch.data + off, len);
        off += len;
    }
    s->spare = batch;
}

void duo_run(struct endpoint *const ep[2], const struct chat *const chat[2], const struct gen_params *const params[2],
             struct gen_result *const res[2], volatile sig_atomic_t *abort_flag, duo_piece_fn piece_fn,
             duo_done_fn done_fn, void *user, enum status st_out[2], char err_out[2][1024], char hint_out[2][512]) {
    struct duo d;
    memset(&d, 0, sizeof d);
    pthread_mutex_init(&d.mu, NULL);
    pthread_cond_init(&d.wake, NULL);
    pthread_cond_init(&d.turn_cv, NULL);
    d.lockstep = !ep[0]->remote && !ep[1]->remote;
    d.abort_flag = abort_flag;
    /* Workers leave signals to this thread, which owns the terminal. */
    sigset_t block, old;
    sigemptyset(&block);
    int async[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGQUIT};
    for (size_t k = 0; k < sizeof async / sizeof async[0]; k++) sigaddset(&block, async[k]);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    bool started[2] = {false, false};
    for (int i = 0; i < 2; i++) {
        struct duo_side *s = &d.side[i];
        s->ep = ep[i];
        s->chat = chat[i];
        s->params = *params[i];
        s->res = res[i];
        s->duo = &d;
        s->index = i;
        started[i] = pthread_create(&s->thread, NULL, worker, s) == 0;
        if (!started[i]) {
            s->st = err_set(STATUS_NOMEM, "cannot start a generation thread");
            snprintf(s->err, sizeof s->err, "%s", err_msg());
            pthread_mutex_lock(&d.mu);
            s->done = true;
            pass_turn(s);
            pthread_mutex_unlock(&d.mu);
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    for (;;) {
        pthread_mutex_lock(&d.mu);
        while (!d.side[0].pending.len && !d.side[1].pending.len && !(d.side[0].done && !d.side[0].reported) &&
               !(d.side[1].done && !d.side[1].reported)) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 100 * 1000 * 1000;
            if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
            int rc = pthread_cond_timedwait(&d.wake, &d.mu, &until);
            if (rc == ETIMEDOUT && aborted(&d)) pthread_cond_broadcast(&d.turn_cv);
        }
        bool finished[2] = {d.side[0].done, d.side[1].done};
        pthread_mutex_unlock(&d.mu);
        for (int i = 0; i < 2; i++) {
            drain(&d, i, piece_fn, user);
            if (finished[i] && !d.side[i].reported) {
                drain(&d, i, piece_fn, user); /* pieces queued just before it finished */
                d.side[i].reported = true;
                if (done_fn) done_fn(user, i, d.side[i].st, d.side[i].err, d.side[i].hint);
            }
        }
        if (d.side[0].reported && d.side[1].reported) break;
    }
    for (int i = 0; i < 2; i++) {
        if (started[i]) pthread_join(d.side[i].thread, NULL);
        st_out[i] = d.side[i].st;
        snprintf(err_out[i], 1024, "%s", d.side[i].err);
        snprintf(hint_out[i], 512, "%s", d.side[i].hint);
        strbuf_free(&d.side[i].pending);
        strbuf_free(&d.side[i].spare);
    }
    pthread_cond_destroy(&d.turn_cv);
    pthread_cond_destroy(&d.wake);
    pthread_mutex_destroy(&d.mu);
}
