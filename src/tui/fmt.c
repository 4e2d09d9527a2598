/* fmt: implementation. */
#include "fmt.h"

#include <math.h>
#include <stdio.h>

char *fmt_value(double v, char *out, size_t cap) {
    double a = fabs(v);
    if (isnan(v))
        snprintf(out, cap, "nan");
    else if (isinf(v))
        snprintf(out, cap, v > 0 ? "inf" : "-inf");
    else if (a >= 1e4) {
        static const char suffix[] = "kMGTP";
        int i = 0;
        double s = v / 1e3;
        while (fabs(s) >= 999.95 && i < 4) {
            s /= 1e3;
            i++;
        }
        snprintf(out, cap, "%.1f%c", s, suffix[i]);
    } else if (a != 0 && a < 1e-3)
        snprintf(out, cap, "%.2e", v);
    else
        snprintf(out, cap, "%.4g", v);
    return out;
}

char *fmt_duration(double s, char *out, size_t cap) {
    if (!(s >= 0) || !isfinite(s)) {
        snprintf(out, cap, "n/a");
        return out;
    }
    long t = (long)(s + 0.5);
    if (t < 60)
        snprintf(out, cap, "%lds", t);
    else if (t < 3600)
        snprintf(out, cap, "%ldm%02lds", t / 60, t % 60);
    else if (t < 86400)
        snprintf(out, cap, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
    else
        snprintf(out, cap, "%ldd%02ldh", t / 86400, (t % 86400) / 3600);
    return out;
}

char *fmt_bytes(double b, char *out, size_t cap) {
    static const char units[] = "BKMGTP";
    int i = 0;
    while (b >= 1024 && i < 5) {
        b /= 1024;
        i++;
    }
    if (i == 0)
        snprintf(out, cap, "%.0fB", b);
    else
        snprintf(out, cap, "%.1f%c", b, units[i]);
    return out;
}
