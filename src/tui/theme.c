/* theme: the key table, the built-in themes, the theme file parser, the search path and colour mapping. */
#include "theme.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/util/fsutil.h"

#define R(role) THEME_KEY_ROLE, COLOR_ROLE_##role, 0
#define G(grad, part) THEME_KEY_GRAD, COLOR_GRAD_##grad, part

const struct theme_key theme_keys[] = {
    {"main_bg", THEME_KEY_BG, 0, 0, "Background of the whole dashboard; \"\" keeps the terminal's own"},
    {"main_fg", R(MAIN), "Ordinary text: values and their labels"},
    {"title", R(TITLE), "Panel titles and the run name in the header"},
    {"hi_fg", R(HI), "Key names in the footer hints and the help overlay"},
    {"inactive_fg", R(INACTIVE), "Secondary text: axis labels, units, \"n/a\" for values a step did not report"},
    {"div_line", R(BORDER), "Panel borders"},
    {"focus_line", R(BORDER_FOCUS), "Border of the focused panel"},
    {"selected_fg", R(SELECTED), "The selected sample group and the step shown when scrubbing back"},
    {"reward_total", R(REWARD_TOTAL), "Total reward (smoothed line; raw points are drawn faint in the same colour)"},
    {"reward_accuracy", R(REWARD_ACCURACY), "Accuracy reward function"},
    {"reward_format", R(REWARD_FORMAT), "Format reward function"},
    {"reward_language", R(REWARD_LANGUAGE), "Language-consistency reward function"},
    {"reward_other", R(REWARD_OTHER), "Any other reward function (length, custom ones)"},
    {"eval_pass", R(EVAL), "Held-out eval/pass@1, drawn on the reward chart"},
    {"length_mean", R(LENGTH), "Mean completion length"},
    {"length_band", R(LENGTH_BAND), "Band between the shortest and longest completion of each step"},
    {"length_cap", R(LENGTH_CAP), "max_completion_length line and the clipped-ratio strip"},
    {"cursor", R(CURSOR), "Vertical line at the step shown in the histogram and the traces"},
    {"prompt", R(PROMPT), "Prompt text in the trace panel"},
    {"think", R(THINK), "Text inside <think> ... </think>"},
    {"answer", R(ANSWER), "Text inside <answer> ... </answer>"},
    {"tag", R(TAG), "The <think> and <answer> tags themselves"},
    {"reflect", R(REFLECT), "Reflection words in traces: wait, check, verify ..."},
    {"match", R(MATCH), "Search matches in traces (also shown reversed)"},
    {"correct", R(CORRECT), "The check mark of a correct completion; positive advantages"},
    {"wrong", R(WRONG), "The cross of a wrong completion; negative advantages"},
    {"ok", R(OK), "Run state running or finished"},
    {"warn", R(WARN), "Run state paused or stale; warnings"},
    {"alarm", R(ALARM), "Run state failed; alarms"},
    {"spark_start", G(SPARK, 0), "Health sparklines: lowest value"},
    {"spark_mid", G(SPARK, 1), "Health sparklines: middle (\"\" for a straight blend)"},
    {"spark_end", G(SPARK, 2), "Health sparklines: highest value"},
    {"adv_start", G(ADV, 0), "Advantage histogram: most negative bar"},
    {"adv_mid", G(ADV, 1), "Advantage histogram: bars near zero"},
    {"adv_end", G(ADV, 2), "Advantage histogram: most positive bar"},
    {"progress_start", G(PROGRESS, 0), "Progress bar: start of the run"},
    {"progress_mid", G(PROGRESS, 1), "Progress bar: halfway"},
    {"progress_end", G(PROGRESS, 2), "Progress bar: end of the run"},
};
const size_t theme_keys_len = sizeof theme_keys / sizeof theme_keys[0];

/* The default theme, in theme_keys order; themes/default.theme holds the same values (a test checks). */
static const char *const default_values[] = {
    "",        "#c6cbd3", "#ffffff", "#ff9f43", "#6b7280", "#3b4252", "#5fafff", "#ffd75f", "#4fc3f7", "#9ccc65",
    "#ffb74d", "#b39ddb", "#f48fb1", "#ff5c8a", "#64b5f6", "#2f4f6f", "#e57373", "#ffd75f", "#e0e0e0", "#7f8794",
    "#a5d6a7", "#5c8ab8", "#ffb300", "#ffff5f", "#66bb6a", "#ef5350", "#66bb6a", "#ffca28", "#ff3d3d", "#3f6f9f",
    "#4fa3d8", "#9be7ff", "#ef5350", "#6b7280", "#66bb6a", "#5c6bc0", "#42a5f5", "#26c6da",
};
_Static_assert(sizeof default_values / sizeof default_values[0] == sizeof theme_keys / sizeof theme_keys[0],
               "one default value per theme key");

bool color_parse(const char *s, int32_t *out) {
    if (s[0] == '\0' || strcasecmp(s, "default") == 0) {
        *out = COLOR_DEFAULT;
        return true;
    }
    if (s[0] != '#' || strlen(s) != 7) return false;
    int32_t v = 0;
    for (int i = 1; i < 7; i++) {
        if (!isxdigit((unsigned char)s[i])) return false;
        char c = (char)tolower((unsigned char)s[i]);
        v = v * 16 + (c <= '9' ? c - '0' : c - 'a' + 10);
    }
    *out = v;
    return true;
}

static void set_key(struct theme *t, const struct theme_key *k, int32_t v) {
    switch (k->kind) {
    case THEME_KEY_BG:
        t->bg = v;
        break;
    case THEME_KEY_ROLE:
        t->fg[k->index] = v;
        break;
    case THEME_KEY_GRAD:
        t->grad[k->index][k->part] = v;
        break;
    }
}

bool theme_builtin(const char *name, struct theme *out) {
    memset(out, 0, sizeof *out);
    bool mono = strcmp(name, "mono") == 0;
    if (!mono && strcmp(name, "default") != 0) return false;
    snprintf(out->name, sizeof out->name, "%s", name);
    for (size_t i = 0; i < theme_keys_len; i++) {
        int32_t v = COLOR_DEFAULT;
        if (!mono && !color_parse(default_values[i], &v)) v = COLOR_DEFAULT;
        set_key(out, &theme_keys[i], v);
    }
    return true;
}

bool theme_is_mono(const struct theme *t) {
    for (int r = 0; r < COLOR_ROLE_COUNT; r++)
        if (t->fg[r] != COLOR_DEFAULT) return false;
    for (int g = 0; g < COLOR_GRAD_COUNT; g++)
        for (int p = 0; p < 3; p++)
            if (t->grad[g][p] != COLOR_DEFAULT) return false;
    return true;
}

static void append_warn(char *warn, size_t cap, const char *fmt, const char *where, int line, const char *what) {
    if (!warn || cap == 0) return;
    size_t n = strlen(warn);
    if (n + 1 >= cap) return;
    snprintf(warn + n, cap - n, fmt, where, line, what);
}

/* Trims spaces at both ends in place. */
static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
    *e = '\0';
    return s;
}

enum status theme_parse(const char *text, size_t len, const char *where, struct theme *out, char *warn, size_t cap) {
    struct theme t;
    theme_builtin("default", &t);
    if (warn && cap) warn[0] = '\0';
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        lineno++;
        char line[512];
        size_t n = end - pos;
        if (n >= sizeof line) return err_set(STATUS_FORMAT, "%s:%d: line too long", where, lineno);
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos = end + 1;
        char *s = trim(line);
        if (*s == '\0' || *s == '#') continue;
        char *eq = strchr(s, '=');
        if (!eq) return err_set(STATUS_FORMAT, "%s:%d: expected theme[key]=\"#rrggbb\"", where, lineno);
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        if (strncmp(key, "theme[", 6) == 0) {
            size_t kl = strlen(key);
            if (kl < 8 || key[kl - 1] != ']')
                return err_set(STATUS_FORMAT, "%s:%d: expected theme[key]=\"#rrggbb\"", where, lineno);
            key[kl - 1] = '\0';
            key = trim(key + 6);
        }
        size_t vl = strlen(val);
        if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
            val[vl - 1] = '\0';
            val++;
        }
        int32_t color;
        if (!color_parse(val, &color))
            return err_set(STATUS_FORMAT, "%s:%d: %s: '%s' is not a colour (\"#rrggbb\", or \"\" for the terminal's)",
                           where, lineno, key, val);
        const struct theme_key *k = NULL;
        for (size_t i = 0; i < theme_keys_len && !k; i++)
            if (strcmp(theme_keys[i].key, key) == 0) k = &theme_keys[i];
        if (!k) {
            append_warn(warn, cap, "%s:%d: unknown key '%s' (ignored)\n", where, lineno, key);
            continue;
        }
        set_key(&t, k, color);
    }
    *out = t;
    return STATUS_OK;
}

/* The theme directories in search order (built-ins come after them); returns how many were written. */
static int theme_dirs(char dirs[3][1024]) {
    int n = 0;
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(dirs[n++], 1024, "%s/r1lab/themes", xdg);
    else if (home && *home)
        snprintf(dirs[n++], 1024, "%s/.config/r1lab/themes", home);
    snprintf(dirs[n++], 1024, "%s/themes", R1LAB_SHARE_DIR);
    snprintf(dirs[n++], 1024, "themes");
    return n;
}

static enum status load_file(const char *path, struct theme *out, char *warn, size_t cap) {
    char *text;
    size_t len;
    TRY(fs_read_file(path, 1u << 20, &text, &len));
    enum status st = theme_parse(text, len, path, out, warn, cap);
    free(text);
    if (st == STATUS_OK) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        snprintf(out->name, sizeof out->name, "%.*s", (int)(strcspn(base, ".")), base);
    }
    return st;
}

enum status theme_load(const char *spec, struct theme *out, char *warn, size_t cap) {
    if (warn && cap) warn[0] = '\0';
    size_t sl = strlen(spec);
    if (strchr(spec, '/') || (sl > 6 && strcmp(spec + sl - 6, ".theme") == 0)) return load_file(spec, out, warn, cap);
    if (sl == 0 || sl > 60) return err_set(STATUS_INVALID, "theme name '%s' is not valid", spec);
    char dirs[3][1024];
    int nd = theme_dirs(dirs);
    for (int i = 0; i < nd; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.theme", dirs[i], spec);
        if (fs_exists(path)) return load_file(path, out, warn, cap);
    }
    if (theme_builtin(spec, out)) return STATUS_OK;
    err_set(STATUS_INVALID, "no theme named '%s'", spec);
    err_hint("themes are looked for in %s, %s, %s and built in (default, mono); see r1lab-theme(5)", dirs[0],
             nd > 1 ? dirs[1] : "", nd > 2 ? dirs[2] : "");
    return STATUS_INVALID;
}

static bool add_name(char (*names)[64], size_t *n, size_t max, const char *name) {
    for (size_t i = 0; i < *n; i++)
        if (strcmp(names[i], name) == 0) return true;
    if (*n == max) return false;
    snprintf(names[(*n)++], 64, "%s", name);
    return true;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(a, b);
}

size_t theme_list(char (*names)[64], size_t max) {
    size_t n = 0;
    if (max == 0) return 0;
    add_name(names, &n, max, "default");
    char dirs[3][1024];
    int nd = theme_dirs(dirs);
    for (int i = 0; i < nd; i++) {
        DIR *d = opendir(dirs[i]);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t l = strlen(e->d_name);
            if (l <= 6 || l > 60 || strcmp(e->d_name + l - 6, ".theme") != 0) continue;
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(l - 6), e->d_name);
            add_name(names, &n, max, name);
        }
        closedir(d);
    }
    add_name(names, &n, max, "mono");
    if (n > 2) qsort(names + 1, n - 1, sizeof names[0], cmp_names);
    return n;
}

static int32_t blend(int32_t a, int32_t b, double f) {
    if (a == COLOR_DEFAULT) return b;
    if (b == COLOR_DEFAULT) return a;
    int r = (int)((1 - f) * ((a >> 16) & 255) + f * ((b >> 16) & 255) + 0.5);
    int g = (int)((1 - f) * ((a >> 8) & 255) + f * ((b >> 8) & 255) + 0.5);
    int bl = (int)((1 - f) * (a & 255) + f * (b & 255) + 0.5);
    return (r << 16) | (g << 8) | bl;
}

int32_t theme_gradient(const struct theme *t, enum color_gradient g, int i) {
    const int32_t *p = t->grad[g];
    if (i < 0) i = 0;
    if (i >= COLOR_GRAD_STEPS) i = COLOR_GRAD_STEPS - 1;
    double f = (double)i / (COLOR_GRAD_STEPS - 1);
    if (p[1] == COLOR_DEFAULT) return blend(p[0], p[2], f);
    return f < 0.5 ? blend(p[0], p[1], f * 2) : blend(p[1], p[2], (f - 0.5) * 2);
}

static long dist2(int32_t a, int r, int g, int b) {
    long dr = ((a >> 16) & 255) - r, dg = ((a >> 8) & 255) - g, db = (a & 255) - b;
    return dr * dr + dg * dg + db * db;
}

int color_to_256(int32_t rgb) {
    static const int level[6] = {0, 95, 135, 175, 215, 255};
    int c[3] = {(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255}, idx[3];
    for (int k = 0; k < 3; k++) {
        int best = 0;
        for (int l = 1; l < 6; l++)
            if (abs(level[l] - c[k]) < abs(level[best] - c[k])) best = l;
        idx[k] = best;
    }
    int cube = 16 + 36 * idx[0] + 6 * idx[1] + idx[2];
    long dc = dist2(rgb, level[idx[0]], level[idx[1]], level[idx[2]]);
    int avg = (c[0] + c[1] + c[2]) / 3;
    int gi = avg < 8 ? 0 : avg > 238 ? 23 : (avg - 8 + 5) / 10;
    if (gi > 23) gi = 23;
    int gv = 8 + 10 * gi;
    long dg = dist2(rgb, gv, gv, gv);
    return dg < dc ? 232 + gi : cube;
}

int color_to_16(int32_t rgb) {
    /* xterm's default palette. */
    static const int32_t pal[16] = {0x000000, 0xcd0000, 0x00cd00, 0xcdcd00, 0x0000ee, 0xcd00cd, 0x00cdcd, 0xe5e5e5,
                                    0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00, 0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff};
    int best = 0;
    long bd = -1;
    for (int i = 0; i < 16; i++) {
        long d = dist2(rgb, (pal[i] >> 16) & 255, (pal[i] >> 8) & 255, pal[i] & 255);
        if (bd < 0 || d < bd) {
            bd = d;
            best = i;
        }
    }
    return best;
}
