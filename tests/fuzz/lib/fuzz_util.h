/* fuzz_util: what the libFuzzer harnesses in tests/fuzz share — a private scratch directory for parsers that
 * read files (created once per process, removed at exit), writing an input there, a NUL-terminated copy of an
 * input, splitting an input into parts at a separator, and silencing the engine's log sink.
 *
 * Harnesses feed inputs through the same entry points the program uses (a path for file readers, a buffer for
 * text parsers), so a crash found here is a crash a user could hit. Nothing here is linked into r1lab. */
#ifndef R1LAB_FUZZ_UTIL_H
#define R1LAB_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The scratch directory: $FUZZ_TMPDIR, else /dev/shm (a tmpfs: no disk writes per input), else $TMPDIR or /tmp,
 * plus a unique name. Aborts when it cannot be made (a harness without its directory cannot run at all). */
const char *fuzz_dir(void);
/* fuzz_dir()/name into a static buffer that stays valid until the next call from the same harness. */
const char *fuzz_path(const char *name);
/* Replaces the file with exactly len bytes. Aborts on failure (a full tmpfs is an environment problem). */
void fuzz_write(const char *path, const void *data, size_t len);
/* A malloc'd copy of data with a NUL after it (the input itself is not NUL-terminated). */
char *fuzz_strdup(const uint8_t *data, size_t len);
/* A malloc'd copy of exactly len bytes, no NUL after it: for parsers that take (pointer, length), so that ASan
 * sees a read past the end (the dashboard hands lines that point into its read buffer, not NUL-terminated). */
char *fuzz_memdup(const uint8_t *data, size_t len);
/* Drops engine log messages (runctl's warnings about bad control lines would flood the fuzzer's output). */
void fuzz_quiet(void);

/* Splits data at each occurrence of sep (not included) into at most max parts; returns how many. */
struct fuzz_part {
    const uint8_t *p;
    size_t n;
};
size_t fuzz_split(const uint8_t *data, size_t len, const char *sep, struct fuzz_part *parts, size_t max);

#endif
