/* sighandle: sigaction(2) in a loop. */
#include "engine/util/sighandle.h"

#include <string.h>

void sighandle_install(const int *sigs, size_t n, void (*handler)(int), int flags, struct sigaction *old) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    for (size_t i = 0; i < n; i++) sigaction(sigs[i], &sa, old ? &old[i] : NULL);
}

void sighandle_restore(const int *sigs, size_t n, const struct sigaction *old) {
    for (size_t i = 0; i < n; i++) sigaction(sigs[i], &old[i], NULL);
}
