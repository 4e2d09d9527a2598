/* ui: the dashboard's private state and the functions the loop (tui.c), the terminal layer (term.c) and the
 * drawing code (draw*.c) share. Nothing outside src/tui includes this; the public face is tui.h.
 *
 * Invariants: only the UI thread touches this struct and curses; draw functions read the state and the
 * run_source and write only curses and the scratch buffers allocated at start (no allocation while drawing);
 * colours are looked up by role through ui_attr(). */
#ifndef R1LAB_TUI_UI_H
#define R1LAB_TUI_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alarms.h"
#include "layout.h"
#include "plot.h"
#include "run_source.h"
#include "termcaps.h"
#include "theme.h"
#include "tui.h"
#include "tui_curses.h"
#include "viewstate.h"

#define UI_MAX_THEMES 32
#define UI_MAX_ALARMS 8
#define UI_PLOT_MAX_CELLS (400 * 150)              /* canvas cells: larger panels are clipped to this */
#define UI_TRACE_MAX_LINES 4096                    /* wrapped trace lines kept per frame */
#define UI_STYLE_BYTES (4 * SAMPLES_TEXT_MAX + 64) /* per-byte styles of one sanitised completion */
#define UI_FBUF 65536                              /* composed trace text (headers) per frame */

enum ui_overlay { UI_OVERLAY_NONE, UI_OVERLAY_HELP, UI_OVERLAY_QUIT, UI_OVERLAY_INTERRUPT };

/* One wrapped line of the trace panel: a byte range of some text, with per-byte styles when `styles` is set. */
struct trace_line {
    const char *text;
    uint32_t len;
    const uint8_t *styles; /* COLOR_ROLE_* per byte, or NULL: whole line in `role` */
    uint8_t role;
    uint8_t indent;
    uint8_t attr_bold;
};

struct pipeview;

struct tui {
    char *run_dir;
    char run_name[64];
    struct tui_options opt;
    struct run_source *src;
    struct pipeview *pipe; /* the pipeline run_dir is a stage of, or NULL (pipeview.h) */

    /* terminal */
    struct term_env env;
    enum color_depth depth;
    enum plot_mode mode;
    bool ascii;     /* no UTF-8: ASCII borders and symbols */
    bool colors_ok; /* start_color succeeded */
    int rows, cols;
    struct theme theme;
    char theme_names[UI_MAX_THEMES][64];
    size_t n_themes;
    size_t theme_idx;
    attr_t role_attr[COLOR_ROLE_COUNT];
    attr_t grad_attr[COLOR_GRAD_COUNT][COLOR_GRAD_STEPS];

    /* view: what is looked at (viewstate.h), and the frame around it */
    struct viewstate view;
    struct layout lay;
    enum ui_overlay overlay;
    bool prompt_active; /* the search prompt in the footer */
    char prompt[128];
    size_t prompt_len;
    char message[200]; /* transient footer message */
    double message_until;
    bool message_alarm;

    /* control */
    enum runctl_cmd pending; /* a request sent and not yet taken by the trainer */
    double pending_since;
    uint64_t pending_after; /* the run_source's event count when it was sent: its acknowledgement comes later */
    bool stopping;  /* "stop" sent: leave when the run ends */
    bool by_ctrl_c; /* ... and it was Ctrl-C that asked for it (an interruption, not a chosen stop) */
    int interrupts; /* Ctrl-C count while the interrupt dialog is up */

    /* derived */
    struct alarm alarms[UI_MAX_ALARMS];
    size_t n_alarms;
    double now;

    /* scratch, allocated once */
    struct plot_cell *cells;  /* (UI_PLOT_MAX_CELLS) */
    float *ema;               /* (SERIES_CAP + 1) */
    float *vals;              /* (RS_CACHE * SAMPLES_MAX_COMPLETIONS) advantages for the histogram */
    struct trace_line *lines; /* (UI_TRACE_MAX_LINES) */
    uint8_t *styles;          /* (SAMPLES_MAX_COMPLETIONS + 1, UI_STYLE_BYTES) per-byte styles per text */
    char *linebuf;            /* (4096) a formatted line */
    char *fbuf;               /* (UI_FBUF) composed trace lines of this frame ... */
    uint8_t *fsty;            /* (UI_FBUF) ... and their per-byte styles */
    size_t fbuf_used;

    /* exit */
    bool quit;
    enum tui_exit how;
};

/* term.c: terminal ownership, signals, colours */
enum status term_start(struct tui *t);
void term_stop(void); /* idempotent; safe from atexit */
void term_apply_theme(struct tui *t);
void term_handle_resize(struct tui *t, bool from_signal);
/* Signal flags, set by handlers and consumed by the loop. */
bool term_take_sigint(void);
bool term_take_sigterm(void); /* SIGTERM or SIGHUP */
bool term_take_winch(void);

/* draw.c: the frame, header, health strip, footer, overlays, and the text helpers */
void draw_frame(struct tui *t);
attr_t ui_attr(const struct tui *t, enum color_role role);
/* Writes text clipped to `w` columns at (y, x) in `role` plus extra attributes; returns columns written. Text
 * must be sanitised (our own strings, or sanitize.h output). */
int ui_put(struct tui *t, int y, int x, int w, enum color_role role, attr_t extra, const char *s);
int ui_putn(struct tui *t, int y, int x, int w, enum color_role role, attr_t extra, const char *s, size_t n);
/* Like ui_put, but all of s or nothing: returns its width when it fits in w columns, 0 (drawing nothing) when not.
 * For fields holding numbers, which must never be cut (a cut number reads as another number). */
int ui_put_whole(struct tui *t, int y, int x, int w, enum color_role role, attr_t extra, const char *s);
void ui_box(struct tui *t, const struct rect *r, bool focused);
void ui_fill(struct tui *t, int y, int x, int w, attr_t a);

/* draw_stages.c: the stage row of a pipeline */
void draw_stages(struct tui *t, const struct rect *r);

/* draw_charts.c */
void draw_reward(struct tui *t, const struct rect *r);
void draw_length(struct tui *t, const struct rect *r);
void draw_hist(struct tui *t, const struct rect *r);
void draw_spark(struct tui *t, int y, int x, int w, const struct series *s);

/* draw_traces.c */
void draw_traces(struct tui *t, const struct rect *r);
/* Lines of the trace panel for the selected group at width w; returns how many (the panel then shows a window). */
size_t traces_layout(struct tui *t, const struct sample_group *g, int w);

#endif
