/* repl: the chat loop — input (readline on a terminal, plain lines otherwise), """ blocks, signals and the
 * terminal's state. What a line does is repl_cmds.c's and repl_gen.c's business.
 *
 * Signals only set flags (and write a byte to a self-pipe so a waiting select wakes up): SIGINT stops a
 * generation, or at the prompt clears the line; SIGTERM / SIGHUP stop and leave; SIGWINCH resizes. readline
 * runs through its callback interface with its own signal handling off, so this loop decides what Ctrl-C
 * means and the terminal is restored on every way out: normal exit, Ctrl-D, a signal, and (from the fatal
 * signal handler, with async-signal-safe calls only) a crash. */
#include "repl_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <readline/readline.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <termios.h>
#include <unistd.h>

#include "engine/util/sighandle.h"
#include "votes.h"

volatile sig_atomic_t repl_stop_flag;
static volatile sig_atomic_t g_sigint, g_quit_signal, g_winch;
static int g_sig_pipe[2] = {-1, -1};
static struct termios g_saved_tty;
static volatile sig_atomic_t g_have_tty, g_color_used;
static bool g_rl_installed;
static char *g_line;
static bool g_line_ready;

/* ---- signals and the terminal ---- */

static void wake(void) {
    if (g_sig_pipe[1] >= 0) {
        ssize_t w = write(g_sig_pipe[1], "x", 1);
        (void)w;
    }
}

static void on_sigint(int sig) {
    (void)sig;
    repl_stop_flag = 1;
    g_sigint = 1;
    wake();
}

static void on_quit(int sig) {
    repl_stop_flag = 1;
    g_quit_signal = sig;
    wake();
}

static void on_winch(int sig) {
    (void)sig;
    g_winch = 1;
    wake();
}

static void on_fatal(int sig) {
    if (g_have_tty) tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_tty);
    if (g_color_used) {
        ssize_t w = write(STDOUT_FILENO, "\033[0m\n", 5);
        (void)w;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void term_restore(void) {
    if (g_rl_installed) {
        rl_callback_handler_remove();
        g_rl_installed = false;
    }
    if (g_color_used) {
        fputs("\033[0m", stdout);
        fflush(stdout);
    }
    if (g_have_tty) tcsetattr(STDIN_FILENO, TCSADRAIN, &g_saved_tty);
}

static void install_signals(void) {
    if (g_sig_pipe[0] < 0 && pipe(g_sig_pipe) == 0) {
        for (int i = 0; i < 2; i++) {
            fcntl(g_sig_pipe[i], F_SETFL, fcntl(g_sig_pipe[i], F_GETFL) | O_NONBLOCK);
            fcntl(g_sig_pipe[i], F_SETFD, FD_CLOEXEC);
        }
    }
    static const int sigint[] = {SIGINT}, quit[] = {SIGTERM, SIGHUP}, winch[] = {SIGWINCH},
                     fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    sighandle_install(sigint, 1, on_sigint, 0, NULL); /* no SA_RESTART: a blocking read returns EINTR */
    sighandle_install(quit, 2, on_quit, 0, NULL);
    sighandle_install(winch, 1, on_winch, SA_RESTART, NULL);
    sighandle_install(fatal, sizeof fatal / sizeof fatal[0], on_fatal, SA_RESETHAND, NULL);
    static bool registered;
    if (!registered) atexit(term_restore);
    registered = true;
}

static void drain_sig_pipe(void) {
    char buf[64];
    while (g_sig_pipe[0] >= 0 && read(g_sig_pipe[0], buf, sizeof buf) > 0) {
    }
}

/* ---- lines ---- */

static void add_history_entry(struct repl *r, const char *entry) {
    if (r->interactive) history_add(&r->hist, entry);
}

/* "text\"\"\"" -> true, with *len shortened to drop the closing quotes and trailing blanks. */
static bool ends_block(const char *s, size_t *len) {
    size_t n = *len;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
    if (n < 3 || memcmp(s + n - 3, "\"\"\"", 3) != 0) return false;
    *len = n - 3;
    return true;
}

static int submit_block(struct repl *r) {
    r->in_ml = false;
    size_t n = r->ml.len;
    while (n && r->ml.data[n - 1] == '\n') n--;
    char *text = strndup(r->ml.data ? r->ml.data : "", n);
    strbuf_clear(&r->ml);
    if (!text) return 1;
    struct strbuf entry = {0};
    strbuf_puts(&entry, "\"\"\"\n");
    strbuf_puts(&entry, text);
    strbuf_puts(&entry, "\n\"\"\"");
    if (entry.data) add_history_entry(r, entry.data);
    strbuf_free(&entry);
    int rc = 0;
    const char *p = text;
    while (*p == '\n') p++;
    if (*p) rc = repl_submit(r, p);
    free(text);
    return rc;
}

/* One line of input (possibly holding newlines: a bracketed paste or a recalled block). 0/1/2. */
static int handle_line(struct repl *r, const char *line) {
    size_t n = strlen(line);
    if (r->in_ml) {
        if (ends_block(line, &n)) {
            strbuf_append(&r->ml, line, n);
            return submit_block(r);
        }
        strbuf_append(&r->ml, line, n);
        strbuf_putc(&r->ml, '\n');
        return 0;
    }
    const char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    if (strncmp(s, "\"\"\"", 3) == 0) {
        const char *rest = s + 3;
        size_t rn = strlen(rest);
        strbuf_clear(&r->ml);
        r->in_ml = true;
        if (ends_block(rest, &rn)) {
            strbuf_append(&r->ml, rest, rn);
            return submit_block(r);
        }
        if (rn) {
            strbuf_append(&r->ml, rest, rn);
            strbuf_putc(&r->ml, '\n');
        }
        return 0;
    }
    size_t k = n;
    while (k && (line[k - 1] == ' ' || line[k - 1] == '\t' || line[k - 1] == '\r' || line[k - 1] == '\n')) k--;
    if (k == (size_t)(s - line) || s[0] == '\0') return 0; /* blank */
    char *trimmed = strndup(line, k);
    if (!trimmed) return 1;
    add_history_entry(r, trimmed);
    int rc = repl_dispatch(r, trimmed);
    free(trimmed);
    return rc;
}

/* ---- the interactive loop ---- */

static void on_rl_line(char *line) {
    g_line = line;
    g_line_ready = true;
    rl_callback_handler_remove();
    g_rl_installed = false;
}

static void prompt_install(struct repl *r) {
    const char *p;
    if (r->color)
        p = r->in_ml ? "\001\033[2m\002...\001\033[0m\002 " : "\001\033[1m\002>>>\001\033[0m\002 ";
    else
        p = r->in_ml ? "... " : ">>> ";
    fflush(stdout);
    rl_callback_handler_install(p, on_rl_line);
    g_rl_installed = true;
}

/* Ctrl-C at the prompt: drop what was typed; on an empty line, say how to leave. */
static void prompt_interrupt(struct repl *r) {
    g_sigint = 0;
    repl_stop_flag = 0;
    bool had_text = rl_end > 0 || r->in_ml;
    rl_point = rl_end;
    rl_redisplay();
    /* The ^C goes after the dropped text, before readline lets go of the terminal: removing the handler ends
     * bracketed paste with a carriage return, and anything written after that would overwrite the prompt. */
    if (had_text) fputs("^C", stdout);
    fflush(stdout);
    rl_replace_line("", 0);
    rl_callback_handler_remove();
    g_rl_installed = false;
    r->in_ml = false;
    strbuf_clear(&r->ml);
    if (had_text)
        fputs("\n", stdout);
    else
        fputs("\n(to leave, press Ctrl-D or type /quit)\n", stdout);
    prompt_install(r);
}

static void interactive_loop(struct repl *r) {
    while (!r->quit && !g_quit_signal) {
        prompt_install(r);
        g_line_ready = false;
        g_line = NULL;
        while (!g_line_ready && !g_quit_signal) {
            if (g_winch) {
                g_winch = 0;
                rl_resize_terminal();
            }
            if (g_sigint) {
                prompt_interrupt(r);
                continue;
            }
            fd_set fds;
            FD_ZERO(&fds);
            FD_SET(STDIN_FILENO, &fds);
            int maxfd = STDIN_FILENO;
            if (g_sig_pipe[0] >= 0) {
                FD_SET(g_sig_pipe[0], &fds);
                if (g_sig_pipe[0] > maxfd) maxfd = g_sig_pipe[0];
            }
            int rc = select(maxfd + 1, &fds, NULL, NULL, NULL);
            if (rc < 0) {
                if (errno == EINTR) continue;
                break;
            }
            if (g_sig_pipe[0] >= 0 && FD_ISSET(g_sig_pipe[0], &fds)) drain_sig_pipe();
            if (FD_ISSET(STDIN_FILENO, &fds)) rl_callback_read_char();
        }
        if (!g_line_ready) break;
        if (!g_line) { /* Ctrl-D */
            fputc('\n', stdout);
            break;
        }
        /* While a reply streams, keys typed ahead are not echoed into it; they wait for the next prompt. */
        struct termios cooked;
        bool quiet = tcgetattr(STDIN_FILENO, &cooked) == 0;
        if (quiet) {
            struct termios t = cooked;
            t.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
            tcsetattr(STDIN_FILENO, TCSANOW, &t);
        }
        int rc = handle_line(r, g_line);
        if (quiet) tcsetattr(STDIN_FILENO, TCSANOW, &cooked);
        free(g_line);
        g_line = NULL;
        /* A Ctrl-C that stopped a generation is used up. */
        g_sigint = 0;
        repl_stop_flag = 0;
        drain_sig_pipe();
        if (rc == 2) break;
    }
}

/* ---- the plain loop ---- */

static bool plain_loop(struct repl *r) {
    char *line = NULL;
    size_t cap = 0;
    bool interrupted = false;
    while (!r->quit) {
        errno = 0;
        ssize_t n = getline(&line, &cap, stdin);
        if (g_sigint || g_quit_signal) {
            interrupted = true;
            break;
        }
        if (n < 0) break;
        if (n && line[n - 1] == '\n') line[--n] = '\0';
        int rc = handle_line(r, line);
        if (g_sigint || g_quit_signal) {
            interrupted = true;
            break;
        }
        if (rc == 2) break;
    }
    free(line);
    if (r->in_ml && !interrupted) {
        err_set(STATUS_INVALID, "the input ended inside a \"\"\" block");
        err_hint("close the block with a line that ends in \"\"\"");
        repl_report(r);
    }
    return interrupted;
}

/* ---- setup ---- */

static bool utf8_locale(void) {
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

enum status repl_init(struct repl **out, const struct repl_options *o) {
    *out = NULL;
    struct repl *r = calloc(1, sizeof *r);
    if (!r) return err_set(STATUS_NOMEM, "out of memory");
    r->opt = *o;
    r->params = o->params;
    r->think = o->think;
    r->blind = o->blind;
    r->system = o->system && *o->system ? strdup(o->system) : NULL;
    setlocale(LC_CTYPE, "");
    r->interactive = !o->plain && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    const char *term = getenv("TERM");
    r->color = r->interactive && !getenv("NO_COLOR") && !(term && strcmp(term, "dumb") == 0);
    r->ascii = !r->interactive || !utf8_locale();
    r->out = stdout;
    r->info = r->interactive ? stdout : stderr;
    enum status st = STATUS_OK;
    if (o->votes_path) {
        if (strlen(o->votes_path) >= sizeof r->votes_path)
            st = err_set(STATUS_INVALID, "the votes path is too long");
        else
            strcpy(r->votes_path, o->votes_path);
    } else {
        st = votes_default_path(r->votes_path, sizeof r->votes_path);
        if (st != STATUS_OK) { /* only needed when voting: keep going */
            err_clear();
            st = STATUS_OK;
            snprintf(r->votes_path, sizeof r->votes_path, "votes.jsonl");
        }
    }
    if (st == STATUS_OK) st = endpoint_open(o->model, &o->ecfg, &r->ep[0]);
    if (st == STATUS_OK && o->compare) st = endpoint_open(o->compare, &o->ecfg, &r->ep[1]);
    if (st != STATUS_OK) {
        repl_free(r);
        return st;
    }
    *out = r;
    return STATUS_OK;
}

void repl_free(struct repl *r) {
    if (!r) return;
    repl_clear_transcript(r);
    free(r->ex);
    endpoint_close(r->ep[0]);
    endpoint_close(r->ep[1]);
    free(r->system);
    strbuf_free(&r->ml);
    free(r);
}

static void banner(struct repl *r) {
    const struct endpoint *ep = r->ep[0];
    if (r->color) fputs("\033[1m", stdout);
    fputs("r1lab chat", stdout);
    if (r->color) fputs("\033[0m", stdout);
    fputs(" \xC2\xB7 ", stdout);
    repl_out_model_text(stdout, ep->name, strlen(ep->name));
    if (!ep->remote) printf(" (template %s%s%s)", template_name(ep->tmpl), *ep->tmpl_why ? ", " : "", ep->tmpl_why);
    if (r->ep[1]) {
        fputs(" | ", stdout);
        repl_out_model_text(stdout, r->ep[1]->name, strlen(r->ep[1]->name));
        if (r->blind) fputs(" (blind)", stdout);
    }
    fputc('\n', stdout);
    repl_note(
        r, "/help lists the commands \xC2\xB7 \"\"\" starts a multi-line prompt \xC2\xB7 Ctrl-C stops a reply \xC2\xB7 "
           "Ctrl-D leaves");
}

int repl_run(struct repl *r) {
    install_signals();
    g_sigint = g_quit_signal = 0;
    repl_stop_flag = 0;
    bool interrupted = false;
    if (r->interactive) {
        if (tcgetattr(STDIN_FILENO, &g_saved_tty) == 0) g_have_tty = 1;
        g_color_used = r->color;
        rl_readline_name = "r1lab";
        rl_catch_signals = 0;
        rl_catch_sigwinch = 0;
        rl_change_environment = 0;
        rl_variable_bind("enable-bracketed-paste", "on");
        repl_complete_install();
        if (history_open(&r->hist) != STATUS_OK) {
            repl_report(r);
            r->failures = 0;
        }
        banner(r);
        interactive_loop(r);
        history_close(&r->hist);
        term_restore();
        interrupted = g_quit_signal != 0;
    } else {
        interrupted = plain_loop(r);
    }
    fflush(stdout);
    if (interrupted) return 3;
    return !r->interactive && r->failures ? 1 : 0;
}
