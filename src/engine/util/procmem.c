/* procmem: /proc/self/statm, read with one read(2) into a stack buffer (called once per training step). */
#include "engine/util/procmem.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

bool procmem_rss_bytes(uint64_t *out) {
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = '\0';
    unsigned long long size, resident;
    long page = sysconf(_SC_PAGESIZE);
    if (sscanf(buf, "%llu %llu", &size, &resident) != 2 || page <= 0) return false;
    *out = (uint64_t)resident * (uint64_t)page;
    return true;
}
