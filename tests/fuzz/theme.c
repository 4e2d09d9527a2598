/* Fuzz target: a theme file (r1lab-theme(5): theme[key]="#rrggbb" or key = "#rrggbb", # comments, gradients),
 * through theme_parse as theme_load reads a file. Warnings must stay NUL-terminated within their buffer for
 * size (the last byte picks 1, 13 or 512 bytes); an accepted theme's colours must be in range, and mapping them to 256
 * and 16 colours must stay in the palette. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fuzz_util.h"
#include "tui/theme.h"

static void check_colour(int32_t c) {
    if (c == COLOR_DEFAULT) return;
    if (c < 0 || c > 0xffffff) abort();
    int a = color_to_256(c), b = color_to_16(c);
    if (a < 16 || a > 255 || b < 0 || b > 15) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const size_t caps[] = {1, 13, 512};
    size_t k = size ? data[size - 1] % 3 : 2; /* one warning buffer size per input, chosen by the input */
    {
        char *warn = malloc(caps[k]);
        if (!warn) abort();
        memset(warn, 'x', caps[k]);
        struct theme t;
        enum status st = theme_parse((const char *)data, size, "fuzz.theme", &t, warn, caps[k]);
        if (strnlen(warn, caps[k]) >= caps[k]) abort();
        if (st == STATUS_OK) {
            check_colour(t.bg);
            for (int r = 0; r < COLOR_ROLE_COUNT; r++) check_colour(t.fg[r]);
            for (int g = 0; g < COLOR_GRAD_COUNT; g++) {
                for (int p = 0; p < 3; p++) check_colour(t.grad[g][p]);
                for (int i = 0; i < COLOR_GRAD_STEPS; i++) check_colour(theme_gradient(&t, g, i));
            }
            (void)theme_is_mono(&t);
        }
        free(warn);
    }
    return 0;
}
