/* procmem: how much memory this process holds, for the memory/host_bytes metric. Linux: the resident set
 * (second field of /proc/self/statm, in pages). Elsewhere, or when /proc is not mounted, it says it does not
 * know, and the metric is left out rather than written as 0. */
#ifndef R1LAB_PROCMEM_H
#define R1LAB_PROCMEM_H

#include <stdbool.h>
#include <stdint.h>

/* The resident set size of the calling process in bytes; false when it cannot be read. */
bool procmem_rss_bytes(uint64_t *out);

#endif
