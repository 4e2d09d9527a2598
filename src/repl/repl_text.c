/* repl_text: sanitising model text for the terminal (through src/text/sanitize) and display widths. */
#include "repl_text.h"

#include <string.h>
#include <utf8proc.h>

#include "engine/util/utf8.h"
#include "text/sanitize.h"

/* Every piece of model or server text reaches the terminal through here: the shared sanitiser, with line
 * breaks kept. */
static size_t sanitize_chunk(const char *in, size_t n, char *out, size_t cap, size_t *consumed) {
    return san_text(in, n, SAN_KEEP_NEWLINES, out, cap, consumed);
}

void repl_text_sanitize(const char *s, size_t n, struct strbuf *out) {
    while (n > 0) {
        char buf[4096];
        size_t used;
        size_t w = sanitize_chunk(s, n, buf, sizeof buf, &used);
        if (used == 0) {
            out->oom = true;
            return;
        }
        strbuf_append(out, buf, w);
        s += used;
        n -= used;
    }
}

void repl_out_model_text(FILE *f, const char *s, size_t n) {
    struct strbuf sb = {0};
    repl_text_sanitize(s, n, &sb);
    if (sb.len) fwrite(sb.data, 1, sb.len, f);
    strbuf_free(&sb);
}

int repl_cp_width(uint32_t cp) {
    if (cp == '\t') return 1; /* the column renderer prints a tab as one space */
    return san_cp_width(cp);
}

int repl_text_width(const char *s, size_t n) {
    int w = 0;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = utf8_decode(s + i, n - i, &cp);
        if (k == 0) {
            w++, i++;
            continue;
        }
        if (!(k == 1 && repl_is_style((unsigned char)s[i]))) w += repl_cp_width(cp);
        i += k;
    }
    return w;
}

const char *repl_style_sgr(enum repl_style st) {
    switch (st) {
    case REPL_STYLE_DIM:
        return "\033[0;2m";
    case REPL_STYLE_BOLD:
        return "\033[0;1m";
    case REPL_STYLE_DEL:
        return "\033[0;31m";
    case REPL_STYLE_INS:
        return "\033[0;32m";
    default:
        return "\033[0m";
    }
}

void repl_write_styled(FILE *f, const char *s, size_t n, bool color) {
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (!repl_is_style((unsigned char)s[i])) continue;
        if (i > run) fwrite(s + run, 1, i - run, f);
        if (color) fputs(repl_style_sgr((enum repl_style)s[i]), f);
        run = i + 1;
    }
    if (n > run) fwrite(s + run, 1, n - run, f);
}
