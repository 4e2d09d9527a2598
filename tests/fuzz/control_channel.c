/* Fuzz target: the control channel, control.jsonl, as the trainer reads it: runctl_open on a run directory,
 * then the input appended to control.jsonl in two writes (cut where the first byte says, so a request can
 * arrive half written) with runctl_poll draining the queue after each. Every request returned must be a known
 * command. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/run/runctl.h"
#include "lib/fuzz_util.h"

static char control[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_quiet();
    snprintf(control, sizeof control, "%s", fuzz_path("control.jsonl"));
    return 0;
}

static void append(const uint8_t *p, size_t n) {
    int fd = open(control, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n)) abort();
    close(fd);
}

static void drain(struct runctl *rc) {
    for (int i = 0; i < 2 * RUNCTL_QUEUE + 2; i++) {
        enum runctl_cmd c = runctl_poll(rc);
        if (c == RUNCTL_CMD_NONE) return;
        if (c <= RUNCTL_CMD_NONE || c >= RUNCTL_CMD_COUNT) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unlink(control);
    struct runctl rc;
    if (runctl_open(&rc, fuzz_dir()) != STATUS_OK) abort();
    rc.heartbeat = 1e9; /* no status.json rewrites: this target is about reading */
    size_t cut = (size - 1) * data[0] / 255;
    append(data + 1, cut);
    drain(&rc);
    append(data + 1 + cut, size - 1 - cut);
    drain(&rc);
    runctl_close(&rc);
    return 0;
}
