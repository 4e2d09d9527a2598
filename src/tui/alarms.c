/* alarms: implementation. Works on the raw series (not the smoothed display), over the newest points. */
#include "alarms.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"

static const char *const names[ALARM_COUNT] = {
    [ALARM_FAILED] = "failed",
    [ALARM_STALE] = "stale",
    [ALARM_NONFINITE] = "non-finite",
    [ALARM_REWARD_HACKING] = "reward-hacking",
    [ALARM_ENTROPY_COLLAPSE] = "entropy-collapse",
    [ALARM_ZERO_STD] = "zero-std",
    [ALARM_LENGTH_CAP] = "length-cap",
};

const char *alarms_name(enum alarm_id id) {
    return (unsigned)id < ALARM_COUNT ? names[id] : "?";
}

/* Mean of the points [from, to) of a series. */
static double mean_of(const struct series *s, long from, long to) {
    if (from < 0) from = 0;
    if (to > (long)series_len(s)) to = (long)series_len(s);
    double sum = 0;
    long n = 0;
    for (long i = from; i < to; i++, n++) sum += s->y[i];
    return n ? sum / n : NAN;
}

/* Mean of the training reward over the 5 points up to `step`. */
static double reward_near(const struct series *reward, double step) {
    long i = series_find(reward, step);
    if (i < 0) return NAN;
    return mean_of(reward, i - 4, i + 1);
}

static size_t add(struct alarm *out, size_t n, size_t max, enum alarm_id id, const char *text) {
    if (n >= max) return n;
    out[n].id = id;
    size_t len = strlen(text);
    if (len >= sizeof out[n].text) len = sizeof out[n].text - 1;
    memcpy(out[n].text, text, len);
    out[n].text[len] = '\0';
    return n + 1;
}

size_t alarms_check(const struct run_source *rs, double now, struct alarm *out, size_t max) {
    size_t n = 0;
    char text[160], a[32], b[32];
    if (rs->have_status && rs->status.state == RUNCTL_STATE_FAILED) {
        snprintf(text, sizeof text, "run failed%s%.100s", rs->status.message[0] ? ": " : "", rs->status.message);
        n = add(out, n, max, ALARM_FAILED, text);
    }
    if (run_source_liveness(rs, now) == RS_STALE) {
        snprintf(text, sizeof text, "no update for %s and no trainer process: stale run?",
                 fmt_duration(now - rs->status.updated, a, sizeof a));
        n = add(out, n, max, ALARM_STALE, text);
    }
    if (!rs->have_last) return n;
    const struct metrics_rec *last = &rs->last;

    double skipped = metrics_has(last, M_SKIPPED) ? last->value[M_SKIPPED] : 0;
    uint64_t bad_loss = rs->m[M_LOSS].nonfinite;
    if ((isfinite(skipped) && skipped > 0) || bad_loss > 0) {
        if (isfinite(skipped) && skipped > 0)
            snprintf(text, sizeof text, "%.0f step%s skipped for non-finite gradients", skipped,
                     skipped == 1 ? "" : "s");
        else
            snprintf(text, sizeof text, "non-finite loss at %llu step%s", (unsigned long long)bad_loss,
                     bad_loss == 1 ? "" : "s");
        n = add(out, n, max, ALARM_NONFINITE, text);
    }

    /* Reward hacking: compare the newest eval with the best one before it. */
    const struct series *ev = &rs->m[M_EVAL_PASS1];
    size_t ne = series_len(ev);
    if (ne >= 2) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < ne; i++)
            if (ev->y[i] > ev->y[best]) best = i;
        double drop = ev->y[best] - ev->y[ne - 1];
        double r_then = reward_near(&rs->m[M_REWARD], ev->x[best]);
        double r_now = reward_near(&rs->m[M_REWARD], ev->x[ne - 1]);
        if (drop >= 0.05 && isfinite(r_then) && isfinite(r_now) && r_now - r_then >= 0.02) {
            snprintf(
                text, sizeof text, "reward hacking? reward %s -> %s while eval pass@1 %.3f -> %.3f since step %.0f",
                fmt_value(r_then, a, sizeof a), fmt_value(r_now, b, sizeof b), ev->y[best], ev->y[ne - 1], ev->x[best]);
            n = add(out, n, max, ALARM_REWARD_HACKING, text);
        }
    }

    const struct series *en = &rs->m[M_ENTROPY];
    size_t nn = series_len(en);
    if (nn >= 15) {
        double early = mean_of(en, 0, 10), recent = mean_of(en, (long)nn - 5, (long)nn);
        if (isfinite(early) && isfinite(recent) && (recent < 0.15 * early || recent < 0.02)) {
            snprintf(text, sizeof text, "entropy collapse: %s nats (was %s)", fmt_value(recent, a, sizeof a),
                     fmt_value(early, b, sizeof b));
            n = add(out, n, max, ALARM_ENTROPY_COLLAPSE, text);
        }
    }

    if (metrics_has(last, M_FRAC_ZERO_STD) && last->value[M_FRAC_ZERO_STD] >= 0.999) {
        snprintf(text, sizeof text, "all groups zero-std at step %lld: no learning signal", (long long)last->step);
        n = add(out, n, max, ALARM_ZERO_STD, text);
    }

    if (metrics_has(last, M_CLIPPED) && last->value[M_CLIPPED] > 0.5) {
        snprintf(text, sizeof text, "%.0f%% of completions hit the length cap", 100 * last->value[M_CLIPPED]);
        n = add(out, n, max, ALARM_LENGTH_CAP, text);
    }
    return n;
}
