/* fmt: implementation. */
#include "fmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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

/* Decimals that show multiples of step exactly (step a round value: 1, 2 or 5 times a power of ten). */
static int step_decimals(double step) {
    int d = (int)-floor(log10(step) + 1e-9);
    return d < 0 ? 0 : d;
}

static void strip_zeros(char *s) {
    char *dot = strchr(s, '.');
    if (!dot) return;
    char *end = dot + strlen(dot);
    while (end > dot + 1 && end[-1] == '0') *--end = '\0';
    if (end == dot + 1) *dot = '\0';
}

char *fmt_tick(double v, double step, char *out, size_t cap) {
    double a = fabs(v);
    if (!isfinite(v)) return fmt_value(v, out, cap);
    if (a == 0) {
        snprintf(out, cap, "0");
        return out;
    }
    if (!(step > 0)) step = a;
    if (a >= 1e4) {
        static const char suffix[] = "kMGTP";
        int i = 0;
        double scale = 1e3;
        while (a / scale >= 999.95 && i < 4) scale *= 1e3, i++;
        snprintf(out, cap, "%.*f", step_decimals(step / scale), v / scale);
        strip_zeros(out);
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%c", suffix[i]);
    } else if (step < 1e-3) {
        int e = (int)floor(log10(a) + 1e-9);
        int d = e - (int)floor(log10(step) + 1e-9);
        snprintf(out, cap, "%.*f", d < 0 ? 0 : d, v / pow(10, e));
        strip_zeros(out);
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "e%d", e);
    } else {
        snprintf(out, cap, "%.*f", step_decimals(step), v);
        strip_zeros(out);
    }
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
