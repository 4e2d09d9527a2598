/* safetensors: reading and writing the Hugging Face safetensors format.
 *
 * Reading maps the file read-only and validates it the way the reference implementation does before any
 * tensor is touched: 8-byte little-endian header length, header at most ST_MAX_HEADER bytes of UTF-8 JSON
 * object, known dtypes, shapes of non-negative integers whose element count times the dtype size does not
 * overflow and equals the tensor's byte range, byte ranges that tile the data section exactly from 0 with no
 * gap, overlap or trailing byte, no duplicate names. Every failure names the file (and the tensor).
 * Sharded checkpoints (model.safetensors.index.json + shards) are read through st_set.
 *
 * Writing streams tensors to a temporary file, fsyncs it and renames it into place, optionally converting
 * fp32 data to bf16 / f16 on the way. Does not: hold tensor data in memory beyond the map, or support
 * big-endian hosts. */
#ifndef R1LAB_SAFETENSORS_H
#define R1LAB_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "engine/util/fsutil.h"
#include "engine/util/status.h"

#define ST_MAX_DIMS 8
#define ST_MAX_HEADER (100u * 1000u * 1000u) /* bytes, as in the reference implementation */

enum st_dtype {
    ST_BOOL,
    ST_U8,
    ST_I8,
    ST_I16,
    ST_U16,
    ST_F16,
    ST_BF16,
    ST_I32,
    ST_U32,
    ST_F32,
    ST_F64,
    ST_I64,
    ST_U64,
    ST_DTYPE_COUNT,
};

size_t st_dtype_size(enum st_dtype dt);
const char *st_dtype_name(enum st_dtype dt); /* "F32", "BF16", ... as spelled in the format */
/* Parses a dtype name; returns false for an unknown one. */
bool st_dtype_parse(const char *name, enum st_dtype *out);

struct st_tensor {
    char *name;
    enum st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    size_t numel;
    const void *data; /* points into the file's map; not aligned in general */
    size_t nbytes;
    const char *path; /* the file it lives in (for messages) */
};

struct st_file {
    char *path;
    struct fs_map map;
    struct st_tensor *tensors; /* in file order */
    size_t n_tensors;
    cJSON *metadata;                  /* the "__metadata__" object (string values), or NULL */
    const struct st_tensor **by_name; /* the n_tensors tensors sorted by name, for st_file_find */
    char *names;                      /* one block holding every tensor name */
};

/* Opens and validates path. On failure *f is left zeroed (nothing to free). */
enum status st_file_open(struct st_file *f, const char *path);
void st_file_free(struct st_file *f); /* accepts a zeroed struct */
const struct st_tensor *st_file_find(const struct st_file *f, const char *name);

/* The weights of a checkpoint directory: DIR/BASE.safetensors, or the shards named by
 * DIR/BASE.safetensors.index.json ("weight_map": tensor name -> shard file). A name listed in the index
 * but missing from its shard, a shard path leaving DIR, or a tensor present in two shards is an error. */
struct st_set {
    struct st_file *files;
    size_t n_files;
    const struct st_tensor **by_name; /* all tensors, sorted by name for lookup */
    size_t n_tensors;
};
enum status st_set_open(struct st_set *s, const char *dir, const char *base);
void st_set_free(struct st_set *s);
const struct st_tensor *st_set_find(const struct st_set *s, const char *name);

/* Converts a F32, F16 or BF16 tensor into n fp32 values (n must equal t->numel). Other dtypes give
 * STATUS_FORMAT naming the tensor and its dtype. */
enum status st_tensor_to_f32(const struct st_tensor *t, float *dst, size_t n);

/* One tensor to write. `data` holds numel values of `src` dtype; `dtype` is what goes to disk. The only
 * conversions are F32 -> BF16 and F32 -> F16 (round to nearest even); otherwise src must equal dtype. */
struct st_write_entry {
    const char *name;
    enum st_dtype dtype;
    enum st_dtype src;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    const void *data;
};
/* Writes the entries in the given order (names must be unique) with optional string->string metadata,
 * durably (temporary file, fsync, rename, fsync of the directory). On failure nothing is left at path. */
enum status st_write(const char *path, const struct st_write_entry *entries, size_t n, const cJSON *metadata);

#endif
