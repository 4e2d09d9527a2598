/* copy_plan: see copy_plan.h. */
#include "copy_plan.h"

bool copy_plan_overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) {
    return an > 0 && bn > 0 && a < b + bn && b < a + an;
}

bool copy_plan_fits(const struct copy_plan *p, uint64_t dst, uint64_t src, uint64_t bytes) {
    if (p->n >= COPY_PLAN_MAX || copy_plan_overlap(dst, bytes, src, bytes)) return false;
    for (int i = 0; i < p->n; i++) {
        const struct copy_desc *c = &p->d[i];
        if (copy_plan_overlap(src, bytes, c->dst, c->bytes) || copy_plan_overlap(dst, bytes, c->dst, c->bytes) ||
            copy_plan_overlap(dst, bytes, c->src, c->bytes))
            return false;
    }
    return true;
}

void copy_plan_add(struct copy_plan *p, uint64_t dst, uint64_t src, uint64_t bytes) {
    p->d[p->n++] = (struct copy_desc){.dst = dst, .src = src, .bytes = bytes};
    if (bytes > p->max_bytes) p->max_bytes = bytes;
}

void copy_plan_clear(struct copy_plan *p) {
    p->n = 0;
    p->max_bytes = 0;
}
