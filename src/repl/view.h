/* view: how replies appear while they stream — one column for a chat, two columns side by side for a
 * comparison — and the one-line stats after each reply.
 *
 * A styler turns endpoint pieces into sanitised text with style markers (repl_text.h): <think> text dim,
 * the content of <answer> tags bold, the rest plain. Reasoning a server sends separately is shown as a
 * <think> block too. The think mode hides the reasoning or collapses it to "[think: N chars]" (the reply then
 * goes on on a new line).
 *
 * The stream view writes each piece as it arrives. On a terminal (color) markers become SGR sequences and,
 * in collapse mode, a live "[thinking… N chars]" counter stands in for the reasoning; otherwise markers are
 * dropped and output is plain text.
 *
 * The columns view wraps each side independently (layout.h) and prints a row once both sides have completed
 * it (or finished), so the printed rows do not depend on how the two streams interleave. On a terminal the
 * row still being filled is redrawn in place. When the terminal is too narrow for two columns, the replies
 * are printed one after the other at the end. */
#ifndef R1LAB_VIEW_H
#define R1LAB_VIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "endpoint.h"
#include "engine/util/strbuf.h"
#include "layout.h"
#include "repl_text.h"
#include "think.h"

enum think_mode { THINK_SHOW, THINK_HIDE, THINK_COLLAPSE };
const char *think_mode_name(enum think_mode m); /* "show", "hide", "collapse" */
bool think_mode_parse(const char *s, enum think_mode *out);

struct styler {
    enum think_mode mode;
    struct think_splitter split;
    struct strbuf *out;  /* where styled text goes (set for each call) */
    unsigned char style; /* the last marker written, 0 = none yet */
    bool reasoning_open; /* inside separately delivered reasoning */
    bool think_open;     /* inside any reasoning (tags or separate) */
    size_t think_chars;  /* characters of the current/last reasoning block */
    bool last_newline;   /* the last visible character written was '\n' (or nothing yet) */
    bool sep_pending;    /* a collapsed think was just written: the next text needs a line break first */
    char hold[4];        /* the start of a UTF-8 character split across pieces */
    size_t n_hold;
    enum piece_kind hold_kind;
};
void styler_init(struct styler *s, enum think_mode mode);
void styler_piece(struct styler *s, enum piece_kind kind, const char *text, size_t n, struct strbuf *out);
void styler_finish(struct styler *s, struct strbuf *out);

/* "12 tokens · 345.6 tok/s · first token 0.05 s · eos" (plain text, no markers). */
void view_format_stats(const struct gen_result *r, struct strbuf *out);

struct stream_view {
    FILE *out;
    bool color; /* a terminal: SGR styles and the live think counter */
    struct styler st;
    struct strbuf buf;
    bool counter_shown;
    double counter_t;
    bool wrote; /* anything visible was written */
};
void stream_view_begin(struct stream_view *v, FILE *out, bool color, enum think_mode mode);
void stream_view_piece(struct stream_view *v, enum piece_kind kind, const char *s, size_t n);
/* Ends the reply (newline, style reset). The stats line is the caller's. */
void stream_view_end(struct stream_view *v);
void stream_view_free(struct stream_view *v);

struct col_line {
    size_t off, len;
    int cols;
    unsigned char style; /* in effect at the line's start */
};
struct view_col {
    struct styler st;
    struct strbuf text;     /* sanitised, marked, tabs as spaces */
    struct col_line *lines; /* final lines */
    size_t n_lines, cap_lines;
    size_t line_start;   /* where the unfinished last line starts */
    unsigned char style; /* style at line_start */
    bool done;
    int width;
};
struct cols_view {
    FILE *out;
    bool color, live, ascii;
    struct layout_cols lc;
    struct view_col c[2];
    char names[2][128];
    size_t rows;     /* rows printed for good */
    bool live_shown; /* a partial row is on the screen */
    struct strbuf scratch; /* styled text of the current piece (reused) */
};
/* cols: the terminal width; live: redraw the row being filled (terminals only); ascii: '|' and '-' instead of
 * box-drawing characters. Prints the header row. */
void cols_view_begin(struct cols_view *v, FILE *out, int cols, bool color, bool live, bool ascii, enum think_mode mode,
                     const char *name_a, const char *name_b);
void cols_view_piece(struct cols_view *v, int side, enum piece_kind kind, const char *s, size_t n);
/* Ends one side; footer (plain text, may be NULL) goes below its reply in the same column. */
void cols_view_side_done(struct cols_view *v, int side, const char *footer);
/* Prints whatever is left (both sides must be done). */
void cols_view_end(struct cols_view *v);
void cols_view_free(struct cols_view *v);

/* Prints two finished texts (plain, unsanitised model text) side by side: the non-streaming form used by
 * reports. */
void view_print_pair(FILE *out, int cols, bool color, bool ascii, enum think_mode mode, const char *name_a,
                     const char *text_a, const char *foot_a, const char *name_b, const char *text_b,
                     const char *foot_b);

/* The terminal width of stdout (COLUMNS, then the tty, else 100). */
int view_terminal_cols(FILE *f);

#endif
