/* samples: one line of samples.jsonl (a logged group: prompt, G completions, rewards, advantages) as a record
 * whose strings are already sanitised for the terminal (sanitize.h), so nothing downstream can forget to.
 *
 * A group owns one allocation (its arena) holding all its strings and completion records. Completions longer
 * than SAMPLES_TEXT_MAX input bytes are cut, and the cut is recorded so the trace view can say so. Missing
 * fields are NaN / -1 / "" rather than errors: the dashboard shows what there is. */
#ifndef R1LAB_TUI_SAMPLES_H
#define R1LAB_TUI_SAMPLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SAMPLES_TEXT_MAX (16 * 1024) /* input bytes of one completion or prompt kept for display */
#define SAMPLES_MAX_COMPLETIONS 64   /* completions kept per group */

struct sample_completion {
    const char *text; /* sanitised UTF-8, line breaks kept */
    size_t text_len;
    size_t text_cut;  /* input bytes left out because the text was too long */
    double reward;    /* NaN when absent */
    double advantage; /* NaN when absent */
    int64_t length;   /* tokens, -1 when absent */
    bool clipped;     /* hit max_completion_length */
    int correct;      /* 1 right, 0 wrong, -1 unknown (from rewards.accuracy, else "correct") */
};

struct sample_group {
    int64_t step;
    int64_t group;
    const char *task;   /* sanitised, single line */
    const char *prompt; /* sanitised, line breaks kept */
    const char *answer; /* sanitised, single line */
    struct sample_completion *c;
    size_t n;       /* completions kept */
    size_t n_total; /* completions in the line */
    bool zero_std;  /* every reward in the group is equal (no gradient) */
    char *arena;    /* the one allocation behind everything above */
};

/* Parses a line. flags: sanitize.h's SAN_ASCII when the terminal is not UTF-8. Returns false (nothing to free)
 * when the line is not a JSON object with an integer "step" and a "completions" array. */
bool samples_parse(const char *line, size_t len, unsigned flags, struct sample_group *out);
void samples_free(struct sample_group *g); /* accepts a zeroed struct */

/* Step and group number of a line without keeping anything; false when it is not a valid group line. */
bool samples_peek(const char *line, size_t len, int64_t *step, int64_t *group);

#endif
