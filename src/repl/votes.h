/* votes: human preference votes from blind side-by-side comparisons, appended to a JSON-lines file, and the
 * win-rate summary read back from it.
 *
 * One line per vote (documented in r1lab-compare(1)):
 *   {"time": "2025-06-01T12:00:00Z", "a": SPEC, "b": SPEC, "vote": "a"|"b"|"tie"|"both_bad",
 *    "winner": SPEC|null, "blind": true, "prompt": TEXT, "seed": N}
 * "a" and "b" are the models as they were shown (left and right), named by the spec they were opened from.
 * The summary counts every vote between the same two models in either order. A model's win rate is
 * (wins + ties / 2) / (wins of both + ties): "both bad" votes are counted but say nothing about preference. */
#ifndef R1LAB_VOTES_H
#define R1LAB_VOTES_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/util/status.h"
#include "engine/util/strbuf.h"

enum vote { VOTE_A, VOTE_B, VOTE_TIE, VOTE_BOTH_BAD };

/* "a", "b", "tie" (also "t", "="), "bad" (also "both_bad", "both-bad", "x"); case-insensitive. */
enum status vote_parse(const char *s, enum vote *out);
const char *vote_name(enum vote v); /* "a", "b", "tie", "both_bad" */

struct vote_record {
    const char *a, *b; /* specs of the models shown as A and B */
    enum vote vote;
    bool blind;
    const char *prompt;
    uint64_t seed;
};
/* Appends one line; creates the file (and its directory) when needed. */
enum status votes_append(const char *path, const struct vote_record *r);

struct vote_tally {
    long wins[2]; /* of m1, m2 */
    long ties, both_bad, total;
    long skipped_lines; /* malformed lines ignored */
};
/* Counts the votes between m1 and m2 in the file (a missing file is an empty tally). */
enum status votes_tally(const char *path, const char *m1, const char *m2, struct vote_tally *out);
/* "votes: 7 — A 4 wins (64%), B 2 wins (36%), 1 tie, 0 both bad" style lines. */
void votes_format(const struct vote_tally *t, const char *name1, const char *name2, struct strbuf *out);
/* The default file: $XDG_STATE_HOME/r1lab/votes.jsonl (~/.local/state/...). */
enum status votes_default_path(char *out, size_t cap);

#endif
