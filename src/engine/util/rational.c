/* rational: implementation. gcd on magnitudes as uint64_t; every intermediate that can overflow goes
 * through __builtin_*_overflow. */
#include "engine/util/rational.h"

#include <stdio.h>

#include "engine/util/status.h"

static uint64_t gcd_u64(uint64_t a, uint64_t b) {
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static uint64_t mag(int64_t v) {
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

/* Builds num/den from a sign and two magnitudes (den > 0), reducing first; fails when a part exceeds
 * INT64_MAX (INT64_MIN is excluded on purpose, see the header). */
static enum rat_result from_mag(bool negative, uint64_t n, uint64_t d, struct rat *out) {
    if (d == 0) return RAT_DIV_ZERO;
    if (n == 0) {
        *out = (struct rat){0, 1};
        return RAT_OK;
    }
    uint64_t g = gcd_u64(n, d);
    n /= g;
    d /= g;
    if (n > (uint64_t)INT64_MAX || d > (uint64_t)INT64_MAX) return RAT_OVERFLOW;
    *out = (struct rat){negative ? -(int64_t)n : (int64_t)n, (int64_t)d};
    return RAT_OK;
}

enum rat_result rat_make(int64_t num, int64_t den, struct rat *out) {
    /* Magnitudes as uint64_t, so INT64_MIN parts are fine when they reduce to something representable. */
    return from_mag((num < 0) != (den < 0), mag(num), mag(den), out);
}

enum rat_result rat_mul(struct rat a, struct rat b, struct rat *out) {
    /* Cross-reduce: (a.num/g1 * b.num/g2) / (a.den/g2 * b.den/g1) with g1 = gcd(a.num, b.den) and
     * g2 = gcd(b.num, a.den); the result is then already in lowest terms. */
    uint64_t an = mag(a.num), bn = mag(b.num), ad = (uint64_t)a.den, bd = (uint64_t)b.den;
    if (an == 0 || bn == 0) {
        *out = (struct rat){0, 1};
        return RAT_OK;
    }
    uint64_t g1 = gcd_u64(an, bd), g2 = gcd_u64(bn, ad);
    uint64_t n, d;
    if (__builtin_mul_overflow(an / g1, bn / g2, &n) || __builtin_mul_overflow(ad / g2, bd / g1, &d))
        return RAT_OVERFLOW;
    return from_mag((a.num < 0) != (b.num < 0), n, d, out);
}

enum rat_result rat_div(struct rat a, struct rat b, struct rat *out) {
    if (b.num == 0) return RAT_DIV_ZERO;
    struct rat inv = {b.num < 0 ? -b.den : b.den, b.num < 0 ? -b.num : b.num};
    return rat_mul(a, inv, out);
}

enum rat_result rat_add(struct rat a, struct rat b, struct rat *out) {
    /* a.num/a.den + b.num/b.den over the lcm of the denominators. */
    int64_t g = (int64_t)gcd_u64((uint64_t)a.den, (uint64_t)b.den);
    int64_t da = a.den / g, db = b.den / g;
    int64_t x, y, n, d;
    if (__builtin_mul_overflow(a.num, db, &x) || __builtin_mul_overflow(b.num, da, &y) ||
        __builtin_add_overflow(x, y, &n) || __builtin_mul_overflow(a.den, db, &d))
        return RAT_OVERFLOW;
    return rat_make(n, d, out);
}

enum rat_result rat_sub(struct rat a, struct rat b, struct rat *out) {
    struct rat nb = {-b.num, b.den}; /* safe: num is never INT64_MIN */
    return rat_add(a, nb, out);
}

enum rat_result rat_apply(char op, struct rat a, struct rat b, struct rat *out) {
    switch (op) {
    case '+':
        return rat_add(a, b, out);
    case '-':
        return rat_sub(a, b, out);
    case '*':
        return rat_mul(a, b, out);
    case '/':
        return rat_div(a, b, out);
    }
    ASSERTF(0, "rat_apply: unknown operator '%c'", op);
}

bool rat_eq(struct rat a, struct rat b) {
    return a.num == b.num && a.den == b.den;
}

int rat_cmp(struct rat a, struct rat b) {
    __int128 x = (__int128)a.num * b.den, y = (__int128)b.num * a.den;
    return x < y ? -1 : x > y;
}

size_t rat_format(char *out, size_t cap, struct rat a) {
    int n = a.den == 1 ? snprintf(out, cap, "%lld", (long long)a.num)
                       : snprintf(out, cap, "%lld/%lld", (long long)a.num, (long long)a.den);
    return n < 0 ? 0 : (size_t)n;
}

/* Reads decimal digits into a uint64 magnitude; *overflow is set (and reading continues) when they do not
 * fit. Returns the number of digits read. */
static size_t read_digits(const char *s, size_t len, size_t i, uint64_t *v, bool *overflow, size_t *n_digits) {
    size_t start = i;
    *v = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (__builtin_mul_overflow(*v, 10, v) || __builtin_add_overflow(*v, d, v)) *overflow = true;
        i++;
    }
    *n_digits = i - start;
    return i;
}

enum rat_result rat_parse(const char *s, size_t len, struct rat *out, bool *syntax_ok) {
    *syntax_ok = false;
    size_t i = 0;
    bool negative = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
    uint64_t ip = 0;
    bool overflow = false;
    size_t n_int;
    i = read_digits(s, len, i, &ip, &overflow, &n_int);
    if (i < len && s[i] == '/') {
        if (n_int == 0) return RAT_OK;
        uint64_t den;
        size_t n_den;
        i = read_digits(s, len, i + 1, &den, &overflow, &n_den);
        if (n_den == 0 || i != len) return RAT_OK;
        *syntax_ok = true;
        if (overflow) return RAT_OVERFLOW;
        return from_mag(negative, ip, den, out);
    }
    uint64_t frac = 0, scale = 1;
    size_t n_frac = 0;
    if (i < len && s[i] == '.') {
        size_t fs = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9') i++;
        n_frac = i - fs;
        /* Trailing zeros change nothing; dropping them accepts "2.000000000000000000000" without overflow. */
        size_t fe = i;
        while (fe > fs && s[fe - 1] == '0') fe--;
        for (size_t k = fs; k < fe; k++) {
            uint64_t d = (uint64_t)(s[k] - '0');
            if (__builtin_mul_overflow(frac, 10, &frac) || __builtin_add_overflow(frac, d, &frac) ||
                __builtin_mul_overflow(scale, 10, &scale))
                overflow = true;
        }
    }
    if (i != len || n_int + n_frac == 0) return RAT_OK;
    *syntax_ok = true;
    if (overflow) return RAT_OVERFLOW;
    /* ip + frac/scale = (ip*scale + frac) / scale */
    uint64_t num;
    if (__builtin_mul_overflow(ip, scale, &num) || __builtin_add_overflow(num, frac, &num)) return RAT_OVERFLOW;
    return from_mag(negative, num, scale, out);
}
