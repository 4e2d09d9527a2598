/* vexp_f32 (src/engine/backend/vexp.h) against glibc's expf: relative error over the range the CPU backend feeds it
 * (softmax arguments <= 0, SwiGLU's -g over a wide range), and the edges that other code relies on: -inf and
 * very negative arguments give 0 (masks), NaN stays NaN (the non-finite guard), large arguments give +inf. */
#include <criterion/criterion.h>
#include <math.h>

#include "engine/backend/vexp.h"

Test(vexp, matches_expf_within_2e_7_relative) {
    double worst = 0.0;
    float worst_x = 0.0f;
    /* every 1/4096 from -87 to 88: 720k points, including all the integers and halves where n rounds */
    for (int i = -87 * 4096; i <= 88 * 4096; i++) {
        float x = (float)i / 4096.0f;
        double want = exp((double)x), got = vexp_f32(x);
        double rel = fabs(got - want) / want;
        if (rel > worst) worst = rel, worst_x = x;
    }
    cr_expect(worst < 2e-7, "max relative error %.3g at x = %.9g", worst, worst_x);
    cr_expect_eq(vexp_f32(0.0f), 1.0f, "e^0 is exactly 1");
}

Test(vexp, edges) {
    cr_expect_eq(vexp_f32(-INFINITY), 0.0f);
    cr_expect_eq(vexp_f32(-100.0f), 0.0f);
    cr_expect(isinf(vexp_f32(89.0f)) && vexp_f32(89.0f) > 0);
    cr_expect(isinf(vexp_f32(INFINITY)));
    cr_expect(isnan(vexp_f32(NAN)));
    cr_expect(isnan(vexp_f32(-NAN)));
    float small = vexp_f32(-87.0f);
    cr_expect(small > 0.0f && isnormal(small), "e^-87 = %g is a normal number", (double)small);
}

Test(vexp, vectorised_loop_agrees_with_scalar_calls) {
    /* The same function inside an `omp simd` loop (as the backend uses it) gives the same values. */
    enum { n = 1000 };
    float x[n], y[n];
    for (int i = 0; i < n; i++) x[i] = -80.0f + 0.16f * (float)i;
#pragma omp simd
    for (int i = 0; i < n; i++) y[i] = vexp_f32(x[i]);
    for (int i = 0; i < n; i++) {
        volatile float xi = x[i]; /* keep this call scalar */
        cr_expect_eq(y[i], vexp_f32(xi), "x = %g", (double)x[i]);
    }
}
