/* alarms: what the dashboard warns about, decided from the run's data alone (pure; tested with synthetic runs).
 *
 *  - entropy collapse: mean entropy of the last 5 steps below 15% of the first 10 steps' mean (or below 0.02 nats);
 *  - zero-std groups: every group of the latest step had equal rewards (frac_reward_zero_std >= 0.999): no signal;
 *  - length cap: more than half of the latest step's completions hit max_completion_length;
 *  - reward hacking: since the best held-out eval, pass@1 fell by 0.05 or more while the training reward (mean of
 *    the 5 steps up to each eval) rose by 0.02 or more;
 *  - non-finite: steps skipped for non-finite gradients (skipped_steps > 0), or non-finite loss values;
 *  - failed / stale: the trainer reported failure, or stopped updating status.json without finishing. */
#ifndef R1LAB_TUI_ALARMS_H
#define R1LAB_TUI_ALARMS_H

#include <stddef.h>

#include "run_source.h"

enum alarm_id {
    ALARM_FAILED,
    ALARM_STALE,
    ALARM_NONFINITE,
    ALARM_REWARD_HACKING,
    ALARM_ENTROPY_COLLAPSE,
    ALARM_ZERO_STD,
    ALARM_LENGTH_CAP,
    ALARM_COUNT,
};

struct alarm {
    enum alarm_id id;
    char text[120]; /* one line, ASCII */
};

/* Fills out[0..max) with the alarms that hold now, most severe first; returns how many. */
size_t alarms_check(const struct run_source *rs, double now, struct alarm *out, size_t max);
const char *alarms_name(enum alarm_id id); /* "entropy-collapse" ... */

#endif
