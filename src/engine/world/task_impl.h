/* task_impl: what the per-kind generator files (task_linear.c, task_arith.c, task_countdown.c) share with
 * task.c. Not part of the public API.
 *
 * Each kind has a draw function and a render function. draw fills the structured fields of *p from the
 * stream and writes the canonical key text; it returns false when the draw must be retried (an overflow,
 * a target out of range). render builds p->prompt and p->answer once task.c accepted the draw for the
 * requested split. */
#ifndef R1LAB_TASK_IMPL_H
#define R1LAB_TASK_IMPL_H

#include "engine/util/rng.h"
#include "engine/world/task.h"

#define TASK_KEY_MAX 160

bool task_linear_draw(const struct task_config *c, struct rng *r, struct problem *p, char key[TASK_KEY_MAX]);
enum status task_linear_render(struct problem *p);
bool task_arith_draw(const struct task_config *c, struct rng *r, struct problem *p, char key[TASK_KEY_MAX]);
enum status task_arith_render(struct problem *p);
bool task_plain_draw(const struct task_config *c, struct rng *r, struct problem *p, char key[TASK_KEY_MAX]);
enum status task_plain_render(struct problem *p);
bool task_countdown_draw(const struct task_config *c, struct rng *r, struct problem *p, char key[TASK_KEY_MAX]);
enum status task_countdown_render(struct problem *p);

/* Countdown's canonical key from numbers and target (sorted numbers, then the target). */
void task_countdown_key(const int64_t *numbers, int n, int64_t target, char key[TASK_KEY_MAX]);
/* The standard Countdown question text (malloc'd, NULL when out of memory). */
char *task_countdown_prompt(const int64_t *numbers, int n, int64_t target);

#endif
