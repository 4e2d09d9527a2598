/* term: owning the terminal. Starts curses on stdin/stdout, installs the signal handlers (which only set flags),
 * builds colour pairs from the theme, and gives the terminal back on every way out: a normal return, exit()
 * (atexit), and a crash (SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL), where the handler writes the reset sequences
 * it prepared at start with write(2), restores the saved termios, puts the previous handler back and re-raises.
 * The process has one terminal, so this state is a file-level singleton. */
#include "engine/util/sighandle.h"
#include "ui.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <term.h>

static volatile sig_atomic_t sig_int, sig_term, sig_winch;

static struct {
    bool active;
    bool have_termios;
    struct termios saved;
    SCREEN *screen;
    char crash_seq[256];
    size_t crash_len;
    bool atexit_done;
} g;

static const int caught[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};
static const int fatal[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
static struct sigaction old_caught[4], old_fatal[5];

static void on_signal(int sig) {
    if (sig == SIGINT)
        sig_int = 1;
    else if (sig == SIGWINCH)
        sig_winch = 1;
    else
        sig_term = 1;
}

/* Async-signal-safe: write(2), tcsetattr(3), sigaction(2), raise(3). */
static void on_fatal(int sig) {
    if (g.active) {
        if (g.crash_len) {
            ssize_t w = write(STDOUT_FILENO, g.crash_seq, g.crash_len);
            (void)w;
        }
        if (g.have_termios) tcsetattr(STDIN_FILENO, TCSANOW, &g.saved);
        g.active = false;
    }
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        if (fatal[i] == sig) sigaction(sig, &old_fatal[i], NULL);
    raise(sig);
}

bool term_take_sigint(void) {
    if (!sig_int) return false;
    sig_int = 0;
    return true;
}

bool term_take_sigterm(void) {
    if (!sig_term) return false;
    sig_term = 0;
    return true;
}

bool term_take_winch(void) {
    if (!sig_winch) return false;
    sig_winch = 0;
    return true;
}

static void install_handlers(void) {
    /* no SA_RESTART: a signal wakes the input wait */
    sighandle_install(caught, sizeof caught / sizeof caught[0], on_signal, 0, old_caught);
    sighandle_install(fatal, sizeof fatal / sizeof fatal[0], on_fatal, SA_RESETHAND, old_fatal);
    sig_int = sig_term = sig_winch = 0;
}

static void restore_handlers(void) {
    sighandle_restore(caught, sizeof caught / sizeof caught[0], old_caught);
    sighandle_restore(fatal, sizeof fatal / sizeof fatal[0], old_fatal);
}

static void add_cap(const char *name) {
    const char *s = tigetstr((char *)name);
    if (!s || s == (char *)-1) return;
    size_t n = strlen(s);
    if (g.crash_len + n < sizeof g.crash_seq) {
        memcpy(g.crash_seq + g.crash_len, s, n);
        g.crash_len += n;
    }
}

/* The sequences endwin() would send, prepared now because a crash handler cannot ask terminfo. */
static void prepare_crash_sequence(void) {
    g.crash_len = 0;
    add_cap("sgr0");
    add_cap("cnorm");
    add_cap("rmkx");
    static const char mouse_off[] = "\033[?1000l\033[?1002l\033[?1003l\033[?1006l";
    if (g.crash_len + sizeof mouse_off - 1 < sizeof g.crash_seq) {
        memcpy(g.crash_seq + g.crash_len, mouse_off, sizeof mouse_off - 1);
        g.crash_len += sizeof mouse_off - 1;
    }
    add_cap("rmcup");
}

static void term_atexit(void) {
    term_stop();
}

/* TERM with "-direct" appended when COLORTERM asks for 24-bit colour and such a terminfo entry exists. */
static const char *pick_term(const struct term_env *e, char *buf, size_t cap) {
    if (!termcaps_wants_truecolor(e) || !e->term || strstr(e->term, "-direct")) return NULL;
    const char *cands[2] = {e->term, strncmp(e->term, "xterm", 5) == 0 ? "xterm" : NULL};
    for (int i = 0; i < 2; i++) {
        if (!cands[i]) continue;
        const char *base = cands[i];
        size_t bl = strcspn(base, "-");
        if (i == 0 && strstr(base, "-256color")) bl = (size_t)(strstr(base, "-256color") - base);
        snprintf(buf, cap, "%.*s-direct", (int)bl, base);
        int err = 0;
        if (setupterm(buf, STDOUT_FILENO, &err) == OK) {
            del_curterm(cur_term);
            return buf;
        }
    }
    return NULL;
}

enum status term_start(struct tui *t) {
    if (g.active) return err_set(STATUS_INVALID, "the dashboard is already running in this process");
    g.have_termios = tcgetattr(STDIN_FILENO, &g.saved) == 0;
    install_handlers();
    char direct[128];
    const char *name = pick_term(&t->env, direct, sizeof direct);
    g.screen = newterm(name, stdout, stdin);
    if (!g.screen && name) g.screen = newterm(NULL, stdout, stdin);
    if (!g.screen) {
        restore_handlers();
        return err_set(STATUS_IO, "cannot start the dashboard on this terminal (TERM=%s)",
                       t->env.term ? t->env.term : "unset");
    }
    set_term(g.screen);
    g.active = true;
    if (!g.atexit_done) {
        atexit(term_atexit);
        g.atexit_done = true;
    }
    prepare_crash_sequence();
    cbreak();
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    leaveok(stdscr, TRUE);
    if (!t->opt.no_mouse) {
        mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
        mouseinterval(0);
    }
    t->colors_ok = false;
    if (has_colors() && start_color() == OK) {
        use_default_colors();
        t->colors_ok = true;
    }
    t->depth = termcaps_depth(t->opt.color, &t->env, t->colors_ok ? COLORS : 0);
    getmaxyx(stdscr, t->rows, t->cols);
    return STATUS_OK;
}

void term_stop(void) {
    if (!g.active) return;
    g.active = false;
    curs_set(1);
    endwin();
    if (g.screen) delscreen(g.screen);
    g.screen = NULL;
    if (g.have_termios) tcsetattr(STDIN_FILENO, TCSANOW, &g.saved);
    fflush(stdout);
    restore_handlers();
}

void term_handle_resize(struct tui *t, bool from_signal) {
    /* After our SIGWINCH flag: ask the kernel for the size and resize curses if it changed (curses then queues
     * a KEY_RESIZE, which lands here again with from_signal false). After KEY_RESIZE: curses has resized. */
    struct winsize ws;
    if (from_signal && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0 &&
        (ws.ws_row != LINES || ws.ws_col != COLS))
        resizeterm(ws.ws_row, ws.ws_col);
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    if (rows != t->rows || cols != t->cols) clearok(curscr, TRUE);
    t->rows = rows;
    t->cols = cols;
}

/* Terminal colour number for 0xRRGGBB at the current depth (-1: the terminal's default). */
static int term_color(const struct tui *t, int32_t rgb) {
    if (rgb == COLOR_DEFAULT) return -1;
    switch (t->depth) {
    case DEPTH_TRUE:
        return (int)rgb;
    case DEPTH_256:
        return color_to_256(rgb);
    case DEPTH_16:
        return COLORS >= 16 ? color_to_16(rgb) : color_to_16(rgb) & 7;
    default:
        return -1;
    }
}

/* Attributes each role carries in every theme, and the extra ones a monochrome screen needs to stay readable. */
static attr_t base_attr(enum color_role r, bool mono) {
    switch (r) {
    case COLOR_ROLE_TITLE:
        return A_BOLD;
    case COLOR_ROLE_HI:
        return A_BOLD;
    case COLOR_ROLE_ANSWER:
        return A_BOLD;
    case COLOR_ROLE_ALARM:
        return A_BOLD | (mono ? A_REVERSE : 0);
    case COLOR_ROLE_MATCH:
        return A_REVERSE;
    case COLOR_ROLE_REFLECT:
        return mono ? A_UNDERLINE | A_BOLD : A_BOLD;
    case COLOR_ROLE_THINK:
        return mono ? A_DIM : 0;
    case COLOR_ROLE_TAG:
        return A_DIM;
    case COLOR_ROLE_INACTIVE:
        return mono ? A_DIM : 0;
    case COLOR_ROLE_BORDER_FOCUS:
        return A_BOLD;
    case COLOR_ROLE_SELECTED:
        return A_BOLD;
    case COLOR_ROLE_CURSOR:
        return mono ? A_BOLD : 0;
    case COLOR_ROLE_WARN:
        return A_BOLD;
    case COLOR_ROLE_WRONG:
        return mono ? A_BOLD : 0;
    default:
        return 0;
    }
}

void term_apply_theme(struct tui *t) {
    bool mono = t->depth == DEPTH_MONO || theme_is_mono(&t->theme);
    int bg = t->depth == DEPTH_MONO ? -1 : term_color(t, t->theme.bg);
    int pair = 1;
    for (int r = 0; r < COLOR_ROLE_COUNT; r++) {
        attr_t a = base_attr((enum color_role)r, mono);
        if (!mono && t->colors_ok && pair < COLOR_PAIRS) {
            int fg = term_color(t, t->theme.fg[r]);
            if (init_extended_pair(pair, fg, bg) == OK) a |= COLOR_PAIR(pair);
            pair++;
        }
        t->role_attr[r] = a;
    }
    for (int gi = 0; gi < COLOR_GRAD_COUNT; gi++)
        for (int s = 0; s < COLOR_GRAD_STEPS; s++) {
            attr_t a = 0;
            if (!mono && t->colors_ok && pair < COLOR_PAIRS) {
                int fg = term_color(t, theme_gradient(&t->theme, (enum color_gradient)gi, s));
                if (init_extended_pair(pair, fg, bg) == OK) a = COLOR_PAIR(pair);
                pair++;
            }
            t->grad_attr[gi][s] = a;
        }
    bkgdset(' ' | t->role_attr[COLOR_ROLE_MAIN]);
    clearok(curscr, TRUE);
}
