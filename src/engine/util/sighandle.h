/* sighandle: installing and restoring signal handlers, the same way for every front end (the training run,
 * the dashboard's terminal, the REPL, compare). Handlers themselves only set flags (style.md); this module only
 * says how they are installed: an empty mask, the flags given (no SA_RESTART unless asked, so a blocking read
 * or wait returns EINTR), and the previous actions kept so a caller can put them back. */
#ifndef R1LAB_SIGHANDLE_H
#define R1LAB_SIGHANDLE_H

#include <signal.h>
#include <stddef.h>

/* Installs handler for each of sigs[0..n) with sa_flags = flags; old (optional) receives the previous actions. */
void sighandle_install(const int *sigs, size_t n, void (*handler)(int), int flags, struct sigaction *old);
/* Puts back the actions sighandle_install kept in old. */
void sighandle_restore(const int *sigs, size_t n, const struct sigaction *old);

#endif
