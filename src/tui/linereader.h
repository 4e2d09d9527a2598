/* linereader: follows one append-only file (metrics.jsonl, samples.jsonl, events.jsonl) and hands over each
 * complete line exactly once, in bounded amounts of work per call.
 *
 * It remembers its position, so a poll costs one stat() when nothing was appended; it reads at most `budget`
 * bytes per call, so a 100 MB file is taken in chunks and the caller stays responsive; a last line without its
 * newline waits until it is complete (a writer appends whole lines, but a reader can still catch one half
 * written); a line longer than max_line is dropped and counted instead of growing memory without bound. A file
 * that is replaced (new inode) or truncated is reported as a reset and then read again from its start. */
#ifndef R1LAB_TUI_LINEREADER_H
#define R1LAB_TUI_LINEREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Called for each complete line (without '\n' or a trailing '\r'); off is the line's offset in the file. */
typedef void (*lr_line_fn)(void *user, const char *line, size_t len, off_t off);

struct linereader {
    char *path;
    int fd; /* -1 until the file exists */
    dev_t dev;
    ino_t ino;
    off_t pos;      /* bytes read so far */
    off_t size;     /* file size at the last stat */
    off_t line_off; /* offset of partial[0] in the file */
    char *partial;  /* the incomplete line so far */
    size_t plen, pcap;
    size_t max_line;
    bool skipping;     /* inside an over-long line: drop bytes up to its newline */
    uint64_t lines;    /* complete lines delivered */
    uint64_t too_long; /* lines dropped for length */
};

void lr_init(struct linereader *lr, const char *path, size_t max_line);
void lr_free(struct linereader *lr); /* accepts a zeroed struct */

/* Reads up to `budget` new bytes through chunk[0..chunk_cap) and calls fn for every line completed. Returns
 * the bytes read. When the file was replaced or truncated, returns 0 with *reset = true and starts over at
 * the next call: the caller drops what it derived from the old contents first. */
size_t lr_poll(struct linereader *lr, char *chunk, size_t chunk_cap, size_t budget, lr_line_fn fn, void *user,
               bool *reset);
/* True when the file had unread bytes at the last poll. */
bool lr_backlog(const struct linereader *lr);
/* Reads len bytes at off (a line previously delivered) into buf; false if the file cannot give them. */
bool lr_pread(const struct linereader *lr, off_t off, char *buf, size_t len);

#endif
