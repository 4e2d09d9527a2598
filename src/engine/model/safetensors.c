/* safetensors: the reader validates a mapped file completely before handing out a single tensor, the set
 * layer joins the shards of a checkpoint, and the writer streams a new file to a temporary name.
 *
 * Reading: the file is mapped, never copied (only the header, at most ST_MAX_HEADER bytes, is copied to be
 * parsed). The checks are those of the reference implementation (huggingface/safetensors, tensor.rs:
 * read_metadata and Metadata::validate), in the same order of concern: the length prefix, the header bytes,
 * each entry, then the byte ranges sorted by (begin, end) must tile the data section exactly. Stricter than
 * the reference where it only takes the last of two equal keys: duplicate tensor names, duplicate fields and
 * duplicate metadata keys are errors here. Integers in the header are JSON numbers that cJSON holds as
 * doubles, so they are accepted up to 2^53 (exact in a double) and refused above, no real file comes near;
 * cJSON keeps no lexical form, so "4.0" passes as the integer 4 where the reference would refuse it. cJSON
 * spends about 64 bytes per JSON value, so the number of values is bounded (ST_MAX_HEADER_VALUES) before
 * parsing: a hostile 100 MB header of "0,0,0,..." would otherwise cost 4 GB.
 *
 * Writing: the header is built in memory (it is small), tensor data is written straight from the caller's
 * buffers, or converted to bf16 / f16 through a fixed-size chunk, so memory use does not grow with the model.
 *
 * Invariants after st_file_open succeeds: every tensor's [data, data + nbytes) lies inside the map,
 * nbytes == numel * st_dtype_size(dtype), the ranges tile the data section, names are unique and by_name is
 * sorted by strcmp. Does not: handle big-endian hosts, or survive the file being truncated while mapped. */
#include "engine/model/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/util/half.h"
#include "engine/util/json.h"
#include "engine/util/utf8.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c reads and writes little-endian data in place: big-endian hosts are not supported"
#endif

#define ST_MAX_JSON_INT 9007199254740992.0  /* 2^53: the largest integer a double (cJSON's number) holds exactly */
#define ST_MAX_INDEX (100u * 1000u * 1000u) /* bytes of model.safetensors.index.json we are willing to parse */
#define ST_MAX_HEADER_VALUES (8u * 1000u * 1000u) /* ~500 MB of cJSON; about 500,000 tensors of ~16 values */
#define ST_CHUNK 16384                            /* elements converted per write() when the dtype changes */
#define ST_WRITE_MAX (1u << 30)                   /* bytes per write() call: Linux caps one call near 2 GiB anyway */

static const struct {
    const char *name;
    size_t size;
} dtype_info[ST_DTYPE_COUNT] = {
    [ST_BOOL] = {"BOOL", 1}, [ST_U8] = {"U8", 1},   [ST_I8] = {"I8", 1},     [ST_I16] = {"I16", 2},
    [ST_U16] = {"U16", 2},   [ST_F16] = {"F16", 2}, [ST_BF16] = {"BF16", 2}, [ST_I32] = {"I32", 4},
    [ST_U32] = {"U32", 4},   [ST_F32] = {"F32", 4}, [ST_F64] = {"F64", 8},   [ST_I64] = {"I64", 8},
    [ST_U64] = {"U64", 8},
};

/* Dtypes the format defines but r1lab does not read (sub-byte and 8-bit floats, complex): a file using them
 * is well-formed, so it gets STATUS_UNSUPPORTED and "not supported" instead of "unknown dtype". */
static const char *const foreign_dtypes[] = {"F4",          "F6_E2M3",     "F6_E3M2", "F8_E5M2", "F8_E4M3",
                                             "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F8_E8M0", "C64"};

size_t st_dtype_size(enum st_dtype dt) {
    ASSERT((unsigned)dt < ST_DTYPE_COUNT);
    return dtype_info[dt].size;
}

const char *st_dtype_name(enum st_dtype dt) {
    ASSERT((unsigned)dt < ST_DTYPE_COUNT);
    return dtype_info[dt].name;
}

bool st_dtype_parse(const char *name, enum st_dtype *out) {
    for (int i = 0; i < ST_DTYPE_COUNT; i++) {
        if (strcmp(name, dtype_info[i].name) == 0) {
            *out = (enum st_dtype)i;
            return true;
        }
    }
    return false;
}

/* ---- small helpers ---------------------------------------------------------------------------------- */

static bool st_mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return false;
    *out = a * b;
    return true;
}

/* A name from a file, quoted, for messages: a hostile tensor name must not put escape sequences on the user's
 * terminal, so control characters (C0, DEL, C1) become \uXXXX, bytes that are not UTF-8 become \xXX, and long
 * names are cut with "...". */
struct st_quoted {
    char s[160];
};
static struct st_quoted st_quote(const char *name) {
    struct st_quoted q;
    const size_t cap = sizeof q.s - 5; /* leaves room for `..."` and the NUL */
    size_t n = 0, len = strlen(name);
    q.s[n++] = '"';
    for (size_t i = 0; i < len;) {
        char piece[8];
        size_t pn;
        uint32_t cp;
        size_t k = utf8_decode(name + i, len - i, &cp);
        unsigned char c = (unsigned char)name[i];
        if (k == 0) {
            pn = (size_t)snprintf(piece, sizeof piece, "\\x%02X", c);
            k = 1;
        } else if (c == '"' || c == '\\') {
            piece[0] = '\\', piece[1] = (char)c, pn = 2;
        } else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
            pn = (size_t)snprintf(piece, sizeof piece, "\\u%04x", (unsigned)cp);
        } else {
            memcpy(piece, name + i, k);
            pn = k;
        }
        if (n + pn > cap) {
            memcpy(q.s + n, "...", 3);
            n += 3;
            break;
        }
        memcpy(q.s + n, piece, pn);
        n += pn;
        i += k;
    }
    q.s[n++] = '"';
    q.s[n] = '\0';
    return q;
}
#define Q(name) (st_quote(name).s)

/* "[2, 3]" for messages; "[]" for a scalar. */
struct st_shape_text {
    char s[ST_MAX_DIMS * 22 + 4];
};
static struct st_shape_text st_format_shape(const int64_t *shape, int ndim) {
    struct st_shape_text t;
    size_t n = 0;
    t.s[n++] = '[';
    for (int i = 0; i < ndim; i++)
        n += (size_t)snprintf(t.s + n, sizeof t.s - n, "%s%" PRId64, i ? ", " : "", shape[i]);
    snprintf(t.s + n, sizeof t.s - n, "]");
    return t;
}

/* What a JSON value is, for "expected X, got Y" messages. */
struct st_json_text {
    char s[64];
};
static struct st_json_text st_describe_json(const cJSON *v) {
    struct st_json_text t;
    if (cJSON_IsNumber(v))
        snprintf(t.s, sizeof t.s, "%.17g", v->valuedouble);
    else if (cJSON_IsString(v))
        snprintf(t.s, sizeof t.s, "a string");
    else if (cJSON_IsBool(v))
        snprintf(t.s, sizeof t.s, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNull(v))
        snprintf(t.s, sizeof t.s, "null");
    else if (cJSON_IsArray(v))
        snprintf(t.s, sizeof t.s, "an array");
    else if (cJSON_IsObject(v))
        snprintf(t.s, sizeof t.s, "an object");
    else
        snprintf(t.s, sizeof t.s, "an invalid value");
    return t;
}

/* A JSON number that is a non-negative integer a double holds exactly. */
static bool st_json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0.0 && d <= ST_MAX_JSON_INT)) return false; /* also false for NaN */
    uint64_t u = (uint64_t)d;
    if ((double)u != d) return false; /* has a fraction */
    *out = u;
    return true;
}

static int st_cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts the n strings in keys and returns the first one that occurs twice, or NULL. O(n log n), so a header
 * with a million keys cannot make the check quadratic. */
static const char *st_find_duplicate(const char **keys, size_t n) {
    if (n < 2) return NULL;
    qsort(keys, n, sizeof *keys, st_cmp_str_ptr);
    for (size_t i = 1; i < n; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0) return keys[i];
    return NULL;
}

static size_t st_json_count(const cJSON *v) {
    size_t n = 0;
    for (const cJSON *c = v ? v->child : NULL; c; c = c->next) n++;
    return n;
}

static int st_cmp_tensor_ptr(const void *a, const void *b) {
    const struct st_tensor *x = *(const struct st_tensor *const *)a, *y = *(const struct st_tensor *const *)b;
    return strcmp(x->name, y->name);
}

static int st_cmp_tensor_key(const void *key, const void *elem) {
    return strcmp((const char *)key, (*(const struct st_tensor *const *)elem)->name);
}

/* ---- reading one file ------------------------------------------------------------------------------- */

/* A tensor entry's byte range within the data section, kept while validating. */
struct st_range {
    uint64_t begin, end;
    size_t index; /* into st_file.tensors */
};

static int st_cmp_range(const void *a, const void *b) {
    const struct st_range *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* "__metadata__": an object whose values are all strings (the reference reads it as HashMap<String, String>). */
static enum status st_check_metadata(const cJSON *meta, const char *path) {
    if (!cJSON_IsObject(meta))
        return err_set(STATUS_FORMAT, "%s: \"__metadata__\" must be an object of strings, got %s", path,
                       st_describe_json(meta).s);
    size_t n = st_json_count(meta);
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    if (!keys) return err_set(STATUS_NOMEM, "%s: out of memory reading \"__metadata__\"", path);
    size_t k = 0;
    for (const cJSON *c = meta->child; c; c = c->next) {
        if (!cJSON_IsString(c)) {
            enum status st = err_set(STATUS_FORMAT, "%s: \"__metadata__\" value for key %s must be a string, got %s",
                                     path, Q(c->string), st_describe_json(c).s);
            free(keys);
            return st;
        }
        keys[k++] = c->string;
    }
    const char *dup = st_find_duplicate(keys, k);
    enum status st = STATUS_OK;
    if (dup) st = err_set(STATUS_FORMAT, "%s: \"__metadata__\" has the key %s twice", path, Q(dup));
    free(keys);
    return st;
}

/* Reads an array of non-negative integers (at most cap) for field `field` of tensor `name`. */
static enum status st_parse_uints(const cJSON *arr, uint64_t *out, int cap, int *count, const char *field,
                                  const char *name, const char *path) {
    if (!cJSON_IsArray(arr))
        return err_set(STATUS_FORMAT, "%s: tensor %s: \"%s\" must be an array of non-negative integers, got %s", path,
                       Q(name), field, st_describe_json(arr).s);
    int k = 0;
    for (const cJSON *c = arr->child; c; c = c->next, k++) {
        if (k >= cap) {
            if (strcmp(field, "shape") == 0)
                return err_set(STATUS_UNSUPPORTED, "%s: tensor %s has %zu dimensions, r1lab supports at most %d", path,
                               Q(name), st_json_count(arr), ST_MAX_DIMS);
            return err_set(STATUS_FORMAT, "%s: tensor %s: \"%s\" must have %d entries, it has %zu", path, Q(name),
                           field, cap, st_json_count(arr));
        }
        if (!st_json_uint(c, &out[k])) {
            if (cJSON_IsNumber(c) && c->valuedouble > ST_MAX_JSON_INT && c->valuedouble == c->valuedouble)
                return err_set(STATUS_FORMAT, "%s: tensor %s: %s[%d] = %.17g is larger than 2^53", path, Q(name), field,
                               k, c->valuedouble);
            return err_set(STATUS_FORMAT, "%s: tensor %s: %s[%d] is %s, expected a non-negative integer", path, Q(name),
                           field, k, st_describe_json(c).s);
        }
    }
    *count = k;
    return STATUS_OK;
}

/* One tensor entry: fills t (all but data) and r, checks everything that concerns this entry alone. */
static enum status st_parse_entry(const cJSON *item, struct st_tensor *t, struct st_range *r, uint64_t data_size,
                                  const char *path) {
    const char *name = t->name;
    if (!cJSON_IsObject(item))
        return err_set(STATUS_FORMAT, "%s: tensor %s: expected an object with dtype, shape and data_offsets, got %s",
                       path, Q(name), st_describe_json(item).s);
    const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL;
    for (const cJSON *c = item->child; c; c = c->next) {
        const cJSON **slot = strcmp(c->string, "dtype") == 0          ? &dtype
                             : strcmp(c->string, "shape") == 0        ? &shape
                             : strcmp(c->string, "data_offsets") == 0 ? &offsets
                                                                      : NULL;
        if (!slot) continue; /* unknown fields are ignored, as the reference does */
        if (*slot) return err_set(STATUS_FORMAT, "%s: tensor %s: field \"%s\" appears twice", path, Q(name), c->string);
        *slot = c;
    }
    if (!dtype) return err_set(STATUS_FORMAT, "%s: tensor %s: missing field \"dtype\"", path, Q(name));
    if (!shape) return err_set(STATUS_FORMAT, "%s: tensor %s: missing field \"shape\"", path, Q(name));
    if (!offsets) return err_set(STATUS_FORMAT, "%s: tensor %s: missing field \"data_offsets\"", path, Q(name));

    if (!cJSON_IsString(dtype))
        return err_set(STATUS_FORMAT, "%s: tensor %s: \"dtype\" must be a string, got %s", path, Q(name),
                       st_describe_json(dtype).s);
    if (!st_dtype_parse(dtype->valuestring, &t->dtype)) {
        for (size_t i = 0; i < sizeof foreign_dtypes / sizeof foreign_dtypes[0]; i++)
            if (strcmp(dtype->valuestring, foreign_dtypes[i]) == 0)
                return err_set(STATUS_UNSUPPORTED, "%s: tensor %s: dtype %s is not supported by r1lab", path, Q(name),
                               foreign_dtypes[i]);
        enum status st =
            err_set(STATUS_FORMAT, "%s: tensor %s: unknown dtype %s", path, Q(name), Q(dtype->valuestring));
        err_hint("known dtypes: BOOL U8 I8 I16 U16 F16 BF16 I32 U32 F32 F64 I64 U64");
        return st;
    }

    uint64_t dims[ST_MAX_DIMS];
    TRY(st_parse_uints(shape, dims, ST_MAX_DIMS, &t->ndim, "shape", name, path));
    uint64_t off[2];
    int n_off = 0;
    TRY(st_parse_uints(offsets, off, 2, &n_off, "data_offsets", name, path));
    if (n_off != 2)
        return err_set(STATUS_FORMAT, "%s: tensor %s: \"data_offsets\" must be [begin, end], it has %d entries", path,
                       Q(name), n_off);

    size_t numel = 1;
    for (int i = 0; i < t->ndim; i++) t->shape[i] = (int64_t)dims[i]; /* <= 2^53, fits */
    bool fits = true;
    for (int i = 0; i < t->ndim && fits; i++) fits = st_mul_size(numel, (size_t)dims[i], &numel);
    size_t nbytes = 0;
    if (fits) fits = st_mul_size(numel, st_dtype_size(t->dtype), &nbytes);
    struct st_shape_text shape_text = st_format_shape(t->shape, t->ndim);
    if (!fits)
        return err_set(STATUS_FORMAT, "%s: tensor %s: %s %s is too large: its byte size overflows 64 bits", path,
                       Q(name), st_dtype_name(t->dtype), shape_text.s);
    if (off[0] > off[1])
        return err_set(STATUS_FORMAT, "%s: tensor %s: data_offsets [%" PRIu64 ", %" PRIu64 "] begin after they end",
                       path, Q(name), off[0], off[1]);
    if (off[1] - off[0] != nbytes)
        return err_set(STATUS_FORMAT,
                       "%s: tensor %s: data_offsets [%" PRIu64 ", %" PRIu64 "] hold %" PRIu64
                       " bytes but %s %s needs %zu",
                       path, Q(name), off[0], off[1], off[1] - off[0], st_dtype_name(t->dtype), shape_text.s, nbytes);
    if (off[1] > data_size) {
        enum status st = err_set(STATUS_FORMAT,
                                 "%s: tensor %s: data_offsets [%" PRIu64 ", %" PRIu64
                                 "] run past the end of the data section (%" PRIu64 " bytes)",
                                 path, Q(name), off[0], off[1], data_size);
        err_hint("the file looks truncated: copy or download it again");
        return st;
    }
    t->numel = numel;
    t->nbytes = nbytes;
    r->begin = off[0];
    r->end = off[1];
    return STATUS_OK;
}

/* The ranges, sorted by (begin, end), must tile [0, data_size): each begins where the previous ended. */
static enum status st_check_tiling(struct st_range *ranges, size_t n, const struct st_tensor *tensors,
                                   uint64_t data_size, const char *path) {
    qsort(ranges, n, sizeof *ranges, st_cmp_range);
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const struct st_range *r = &ranges[i];
        const char *name = tensors[r->index].name;
        if (r->begin > at && i == 0)
            return err_set(STATUS_FORMAT,
                           "%s: tensor %s: data_offsets [%" PRIu64 ", %" PRIu64
                           "] leave a gap: the first tensor must start at byte 0 of the data section",
                           path, Q(name), r->begin, r->end);
        if (r->begin > at)
            return err_set(STATUS_FORMAT,
                           "%s: gap of %" PRIu64 " bytes between tensor %s (ends at %" PRIu64 ") and tensor %s "
                           "(data_offsets [%" PRIu64 ", %" PRIu64 "])",
                           path, r->begin - at, Q(tensors[ranges[i - 1].index].name), at, Q(name), r->begin, r->end);
        if (r->begin < at)
            return err_set(STATUS_FORMAT,
                           "%s: tensor %s (data_offsets [%" PRIu64 ", %" PRIu64
                           "]) overlaps tensor %s (data_offsets [%" PRIu64 ", %" PRIu64 "])",
                           path, Q(name), r->begin, r->end, Q(tensors[ranges[i - 1].index].name), ranges[i - 1].begin,
                           ranges[i - 1].end);
        at = r->end;
    }
    if (at != data_size) /* at < data_size: st_parse_entry refused every end beyond it */
        return err_set(STATUS_FORMAT,
                       "%s: %" PRIu64 " trailing bytes after the last tensor (the tensors end at byte %" PRIu64
                       " of a %" PRIu64 "-byte data section)",
                       path, data_size - at, at, data_size);
    return STATUS_OK;
}

/* An upper bound on the number of JSON values in text: outside strings, every value but the first follows a
 * ':', a ',' or a '['. Malformed text is counted all the same; the parser refuses it afterwards. */
static size_t st_count_json_values(const char *text, size_t n) {
    size_t count = 1;
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == ':' || c == ',' || c == '[') {
            count++;
        }
    }
    return count;
}

/* Everything after the map: parse and validate the header, fill f. f->path and f->map are set. */
static enum status st_read_header(struct st_file *f) {
    const char *path = f->path;
    const unsigned char *base = f->map.data;
    size_t size = f->map.size;
    if (size < 8)
        return err_set(STATUS_FORMAT, "%s: file is %zu bytes, too short for a safetensors file (8-byte header length)",
                       path, size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | base[i]; /* little-endian u64 */
    if (hlen > ST_MAX_HEADER)
        return err_set(STATUS_FORMAT,
                       "%s: header length %" PRIu64 " is more than the %u bytes allowed (not a safetensors file?)",
                       path, hlen, ST_MAX_HEADER);
    if (hlen > size - 8)
        return err_set(STATUS_FORMAT, "%s: header length %" PRIu64 " runs past the end of the file (%zu bytes)", path,
                       hlen, size);
    uint64_t data_size = size - 8 - hlen;

    /* cJSON skips a UTF-8 byte order mark; serde_json, and so the reference, does not. */
    if (hlen >= 3 && memcmp(base + 8, "\xEF\xBB\xBF", 3) == 0)
        return err_set(STATUS_FORMAT, "%s: header starts with a UTF-8 byte order mark", path);
    /* A NUL-terminated private copy: the parser never sees the map, so it cannot read past the header even if
     * it had a bug, and a 100 MB header is the most this costs. */
    char *text = malloc((size_t)hlen + 1);
    if (!text) return err_set(STATUS_NOMEM, "%s: cannot allocate %" PRIu64 " bytes for the header", path, hlen + 1);
    memcpy(text, base + 8, (size_t)hlen);
    text[hlen] = '\0';
    size_t n_values = st_count_json_values(text, (size_t)hlen);
    if (n_values > ST_MAX_HEADER_VALUES) {
        free(text);
        return err_set(STATUS_UNSUPPORTED, "%s: header holds about %zu JSON values, more than the %u r1lab parses",
                       path, n_values, ST_MAX_HEADER_VALUES);
    }
    cJSON *root = NULL;
    enum status st = json_parse_text(text, (size_t)hlen, "header", &root);
    free(text);
    if (st != STATUS_OK) {
        err_prefix("%s: ", path);
        return st;
    }
    if (!cJSON_IsObject(root)) {
        st = err_set(STATUS_FORMAT, "%s: header must be a JSON object, got %s", path, st_describe_json(root).s);
        cJSON_Delete(root);
        return st;
    }

    size_t n_items = st_json_count(root);
    struct st_range *ranges = calloc(n_items ? n_items : 1, sizeof *ranges);
    f->tensors = calloc(n_items ? n_items : 1, sizeof *f->tensors);
    f->by_name = calloc(n_items ? n_items : 1, sizeof *f->by_name);
    size_t name_bytes = 0;
    for (const cJSON *c = root->child; c; c = c->next) name_bytes += strlen(c->string) + 1;
    f->names = malloc(name_bytes ? name_bytes : 1);
    if (!ranges || !f->tensors || !f->by_name || !f->names) {
        st = err_set(STATUS_NOMEM, "%s: out of memory for %zu header entries", path, n_items);
        goto done;
    }

    cJSON *meta = NULL;
    char *name_at = f->names;
    for (cJSON *c = root->child; c; c = c->next) {
        if (strcmp(c->string, "__metadata__") == 0) {
            if (meta) {
                st = err_set(STATUS_FORMAT, "%s: \"__metadata__\" appears twice", path);
                goto done;
            }
            if ((st = st_check_metadata(c, path)) != STATUS_OK) goto done;
            meta = c;
            continue;
        }
        struct st_tensor *t = &f->tensors[f->n_tensors];
        size_t len = strlen(c->string);
        memcpy(name_at, c->string, len + 1);
        t->name = name_at;
        name_at += len + 1;
        t->path = f->path;
        ranges[f->n_tensors].index = f->n_tensors;
        if ((st = st_parse_entry(c, t, &ranges[f->n_tensors], data_size, path)) != STATUS_OK) goto done;
        f->by_name[f->n_tensors] = t;
        f->n_tensors++;
    }

    qsort(f->by_name, f->n_tensors, sizeof *f->by_name, st_cmp_tensor_ptr);
    for (size_t i = 1; i < f->n_tensors; i++) {
        if (strcmp(f->by_name[i - 1]->name, f->by_name[i]->name) == 0) {
            st = err_set(STATUS_FORMAT, "%s: tensor %s appears twice in the header", path, Q(f->by_name[i]->name));
            goto done;
        }
    }
    if ((st = st_check_tiling(ranges, f->n_tensors, f->tensors, data_size, path)) != STATUS_OK) goto done;

    const unsigned char *data = base + 8 + hlen;
    for (size_t i = 0; i < f->n_tensors; i++) f->tensors[ranges[i].index].data = data + ranges[i].begin;
    if (meta) f->metadata = cJSON_DetachItemViaPointer(root, meta);
done:
    free(ranges);
    cJSON_Delete(root);
    return st;
}

enum status st_file_open(struct st_file *f, const char *path) {
    memset(f, 0, sizeof *f);
    struct st_file tmp = {0};
    tmp.path = strdup(path);
    if (!tmp.path) return err_set(STATUS_NOMEM, "%s: out of memory", path);
    enum status st = fs_map_file(path, &tmp.map);
    if (st == STATUS_OK) st = st_read_header(&tmp);
    if (st != STATUS_OK) {
        st_file_free(&tmp);
        return st;
    }
    *f = tmp;
    return STATUS_OK;
}

void st_file_free(struct st_file *f) {
    fs_unmap(&f->map);
    cJSON_Delete(f->metadata);
    free(f->tensors);
    free(f->by_name);
    free(f->names);
    free(f->path);
    memset(f, 0, sizeof *f);
}

const struct st_tensor *st_file_find(const struct st_file *f, const char *name) {
    if (f->n_tensors == 0) return NULL;
    const struct st_tensor **hit = bsearch(name, f->by_name, f->n_tensors, sizeof *f->by_name, st_cmp_tensor_key);
    return hit ? *hit : NULL;
}

/* ---- conversion ------------------------------------------------------------------------------------- */

/* Plain loops over unaligned 2-byte loads: the compiler turns the memcpy into a load and vectorises. */
static void st_bf16_to_f32(const unsigned char *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, src + 2 * i, 2);
        dst[i] = bf16_to_f32(h);
    }
}

static void st_f16_to_f32(const unsigned char *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, src + 2 * i, 2);
        dst[i] = f16_to_f32(h);
    }
}

enum status st_tensor_to_f32(const struct st_tensor *t, float *dst, size_t n) {
    if (n != t->numel)
        return err_set(STATUS_FORMAT, "%s: tensor %s has %zu elements (shape %s), expected %zu", t->path, Q(t->name),
                       t->numel, st_format_shape(t->shape, t->ndim).s, n);
    if (n == 0) return STATUS_OK; /* dst may be NULL */
    switch (t->dtype) {
    case ST_F32:
        memcpy(dst, t->data, n * sizeof(float));
        return STATUS_OK;
    case ST_F16:
        st_f16_to_f32(t->data, dst, n);
        return STATUS_OK;
    case ST_BF16:
        st_bf16_to_f32(t->data, dst, n);
        return STATUS_OK;
    default:
        return err_set(STATUS_FORMAT, "%s: tensor %s is %s, expected a float tensor (F32, F16 or BF16)", t->path,
                       Q(t->name), st_dtype_name(t->dtype));
    }
}

/* ---- sets of files (checkpoints) -------------------------------------------------------------------- */

/* A shard named in an index must be a relative path that stays inside the checkpoint directory. */
static bool st_shard_name_ok(const char *s) {
    if (s[0] == '\0' || s[0] == '/') return false;
    for (const char *p = s; *p;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.') return false;
        p += len;
        if (*p == '/') p++;
    }
    return true;
}

/* by_name over all tensors of all files; a name in two files is an error naming both. */
static enum status st_set_index(struct st_set *s, const char *where) {
    size_t n = 0;
    for (size_t i = 0; i < s->n_files; i++) n += s->files[i].n_tensors;
    s->by_name = malloc((n ? n : 1) * sizeof *s->by_name);
    if (!s->by_name) return err_set(STATUS_NOMEM, "%s: out of memory indexing %zu tensors", where, n);
    for (size_t i = 0; i < s->n_files; i++)
        for (size_t j = 0; j < s->files[i].n_tensors; j++) s->by_name[s->n_tensors++] = &s->files[i].tensors[j];
    qsort(s->by_name, s->n_tensors, sizeof *s->by_name, st_cmp_tensor_ptr);
    for (size_t i = 1; i < s->n_tensors; i++) {
        const struct st_tensor *a = s->by_name[i - 1], *b = s->by_name[i];
        if (strcmp(a->name, b->name) == 0)
            return err_set(STATUS_FORMAT, "%s: tensor %s is in two shards, %s and %s", where, Q(a->name), a->path,
                           b->path);
    }
    return STATUS_OK;
}

struct st_map_entry {
    const char *name;  /* tensor */
    const char *shard; /* file name relative to the directory */
};

static int st_cmp_map_entry(const void *a, const void *b) {
    return strcmp(((const struct st_map_entry *)a)->name, ((const struct st_map_entry *)b)->name);
}

static enum status st_set_open_index(struct st_set *s, const char *dir, const char *index_path) {
    cJSON *root = NULL;
    TRY(json_parse_file(index_path, ST_MAX_INDEX, &root));
    enum status st = STATUS_OK;
    struct st_map_entry *map = NULL;
    const char **shards = NULL;
    const cJSON *wm = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (!cJSON_IsObject(root)) {
        st = err_set(STATUS_FORMAT, "%s: expected a JSON object with a \"weight_map\", got %s", index_path,
                     st_describe_json(root).s);
        goto done;
    }
    if (!wm) {
        st = err_set(STATUS_FORMAT, "%s: missing field \"weight_map\"", index_path);
        goto done;
    }
    if (!cJSON_IsObject(wm)) {
        st = err_set(STATUS_FORMAT, "%s: \"weight_map\" must be an object (tensor name -> shard file), got %s",
                     index_path, st_describe_json(wm).s);
        goto done;
    }
    size_t n = st_json_count(wm);
    map = malloc((n ? n : 1) * sizeof *map);
    shards = malloc((n ? n : 1) * sizeof *shards);
    if (!map || !shards) {
        st = err_set(STATUS_NOMEM, "%s: out of memory for %zu entries", index_path, n);
        goto done;
    }
    size_t k = 0;
    for (const cJSON *c = wm->child; c; c = c->next, k++) {
        if (!cJSON_IsString(c)) {
            st = err_set(STATUS_FORMAT, "%s: weight_map: tensor %s: expected a shard file name, got %s", index_path,
                         Q(c->string), st_describe_json(c).s);
            goto done;
        }
        if (!st_shard_name_ok(c->valuestring)) {
            st = err_set(STATUS_FORMAT, "%s: weight_map: tensor %s: shard %s is not a file inside %s", index_path,
                         Q(c->string), Q(c->valuestring), dir);
            err_hint("shard names are relative to the checkpoint directory and may not contain \"..\"");
            goto done;
        }
        map[k] = (struct st_map_entry){c->string, c->valuestring};
        shards[k] = c->valuestring;
    }
    qsort(map, n, sizeof *map, st_cmp_map_entry);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(map[i - 1].name, map[i].name) == 0) {
            st = err_set(STATUS_FORMAT, "%s: weight_map lists tensor %s twice", index_path, Q(map[i].name));
            goto done;
        }
    }

    /* The distinct shard names, sorted: files[i] is shards[i]. */
    qsort(shards, n, sizeof *shards, st_cmp_str_ptr);
    size_t n_shards = 0;
    for (size_t i = 0; i < n; i++)
        if (n_shards == 0 || strcmp(shards[n_shards - 1], shards[i]) != 0) shards[n_shards++] = shards[i];
    s->files = calloc(n_shards ? n_shards : 1, sizeof *s->files);
    if (!s->files) {
        st = err_set(STATUS_NOMEM, "%s: out of memory for %zu shards", index_path, n_shards);
        goto done;
    }
    for (size_t i = 0; i < n_shards; i++) {
        char path[PATH_MAX];
        if ((st = fs_join(path, sizeof path, dir, shards[i])) != STATUS_OK ||
            (st = st_file_open(&s->files[i], path)) != STATUS_OK) {
            err_prefix("%s: ", index_path);
            goto done;
        }
        s->n_files++;
    }
    for (size_t i = 0; i < n; i++) {
        const char **hit = bsearch(&map[i].shard, shards, n_shards, sizeof *shards, st_cmp_str_ptr);
        ASSERT(hit != NULL);
        const struct st_file *file = &s->files[hit - shards];
        if (!st_file_find(file, map[i].name)) {
            st = err_set(STATUS_FORMAT, "%s: weight_map puts tensor %s in %s, which does not contain it", index_path,
                         Q(map[i].name), file->path);
            goto done;
        }
    }
    st = st_set_index(s, index_path);
done:
    free(map);
    free(shards);
    cJSON_Delete(root);
    return st;
}

enum status st_set_open(struct st_set *s, const char *dir, const char *base) {
    memset(s, 0, sizeof *s);
    char single[PATH_MAX], index[PATH_MAX], name[PATH_MAX];
    if (snprintf(name, sizeof name, "%s.safetensors.index.json", base) >= (int)sizeof name)
        return err_set(STATUS_INVALID, "%s: checkpoint name too long", base);
    TRY(fs_join(index, sizeof index, dir, name));
    snprintf(name, sizeof name, "%s.safetensors", base); /* shorter than the above: fits */
    TRY(fs_join(single, sizeof single, dir, name));

    enum status st;
    /* One file wins over an index when both exist, as in transformers' from_pretrained. */
    if (fs_exists(single)) {
        s->files = calloc(1, sizeof *s->files);
        if (!s->files) return err_set(STATUS_NOMEM, "%s: out of memory", single);
        st = st_file_open(&s->files[0], single);
        if (st == STATUS_OK) {
            s->n_files = 1;
            st = st_set_index(s, single);
        }
    } else if (fs_exists(index)) {
        st = st_set_open_index(s, dir, index);
    } else {
        st = err_set(STATUS_IO, "%s: no %s.safetensors or %s.safetensors.index.json", dir, base, base);
        err_hint("a checkpoint directory holds %s.safetensors, or %s.safetensors.index.json and the shards it names",
                 base, base);
        return st;
    }
    if (st != STATUS_OK) st_set_free(s);
    return st;
}

void st_set_free(struct st_set *s) {
    for (size_t i = 0; i < s->n_files; i++) st_file_free(&s->files[i]);
    free(s->files);
    free(s->by_name);
    memset(s, 0, sizeof *s);
}

const struct st_tensor *st_set_find(const struct st_set *s, const char *name) {
    if (s->n_tensors == 0) return NULL;
    const struct st_tensor **hit = bsearch(name, s->by_name, s->n_tensors, sizeof *s->by_name, st_cmp_tensor_key);
    return hit ? *hit : NULL;
}

/* ---- writing ---------------------------------------------------------------------------------------- */

struct st_buf {
    char *p;
    size_t n, cap;
    bool failed; /* an allocation failed: the content is incomplete */
};

static void st_buf_add(struct st_buf *b, const char *s, size_t n) {
    if (b->failed) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void st_buf_printf(struct st_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void st_buf_printf(struct st_buf *b, const char *fmt, ...) {
    char tmp[128]; /* numbers and punctuation only */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    ASSERT(n >= 0 && (size_t)n < sizeof tmp);
    st_buf_add(b, tmp, (size_t)n);
}

static void st_buf_string(struct st_buf *b, const char *s) {
    size_t need = json_escape(NULL, 0, s);
    char small[256];
    char *q = need < sizeof small ? small : malloc(need + 1);
    if (!q) {
        b->failed = true;
        return;
    }
    json_escape(q, need + 1, s);
    st_buf_add(b, q, need);
    if (q != small) free(q);
}

/* Checks one entry; *nbytes is its size on disk. */
static enum status st_check_entry(const struct st_write_entry *e, size_t *nbytes, const char *path) {
    if (!e->name) return err_set(STATUS_INVALID, "%s: a tensor has no name", path);
    if (!utf8_valid(e->name, strlen(e->name), NULL))
        return err_set(STATUS_INVALID, "%s: tensor %s: the name is not valid UTF-8", path, Q(e->name));
    if (strcmp(e->name, "__metadata__") == 0)
        return err_set(STATUS_INVALID, "%s: \"__metadata__\" is reserved and cannot name a tensor", path);
    if ((unsigned)e->dtype >= ST_DTYPE_COUNT || (unsigned)e->src >= ST_DTYPE_COUNT)
        return err_set(STATUS_INVALID, "%s: tensor %s: dtype out of range", path, Q(e->name));
    if (e->src != e->dtype && !(e->src == ST_F32 && (e->dtype == ST_BF16 || e->dtype == ST_F16)))
        return err_set(STATUS_INVALID, "%s: tensor %s: cannot convert %s to %s (only F32 to BF16 or F16)", path,
                       Q(e->name), st_dtype_name(e->src), st_dtype_name(e->dtype));
    if (e->ndim < 0 || e->ndim > ST_MAX_DIMS)
        return err_set(STATUS_INVALID, "%s: tensor %s: %d dimensions, expected 0 to %d", path, Q(e->name), e->ndim,
                       ST_MAX_DIMS);
    size_t numel = 1;
    for (int i = 0; i < e->ndim; i++) {
        if (e->shape[i] < 0)
            return err_set(STATUS_INVALID, "%s: tensor %s: shape %s has a negative dimension", path, Q(e->name),
                           st_format_shape(e->shape, e->ndim).s);
        if ((uint64_t)e->shape[i] > (uint64_t)ST_MAX_JSON_INT || !st_mul_size(numel, (size_t)e->shape[i], &numel))
            return err_set(STATUS_INVALID, "%s: tensor %s: shape %s is too large", path, Q(e->name),
                           st_format_shape(e->shape, e->ndim).s);
    }
    size_t src_bytes;
    if (!st_mul_size(numel, st_dtype_size(e->dtype), nbytes) || !st_mul_size(numel, st_dtype_size(e->src), &src_bytes))
        return err_set(STATUS_INVALID, "%s: tensor %s: shape %s is too large", path, Q(e->name),
                       st_format_shape(e->shape, e->ndim).s);
    if (numel > 0 && !e->data) return err_set(STATUS_INVALID, "%s: tensor %s: no data", path, Q(e->name));
    return STATUS_OK;
}

static enum status st_check_write_metadata(const cJSON *metadata, const char *path) {
    if (!cJSON_IsObject(metadata))
        return err_set(STATUS_INVALID, "%s: metadata must be an object of strings, got %s", path,
                       st_describe_json(metadata).s);
    size_t n = st_json_count(metadata);
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    if (!keys) return err_set(STATUS_NOMEM, "%s: out of memory", path);
    size_t k = 0;
    enum status st = STATUS_OK;
    for (const cJSON *c = metadata->child; c && st == STATUS_OK; c = c->next) {
        if (!c->string || !utf8_valid(c->string, strlen(c->string), NULL))
            st = err_set(STATUS_INVALID, "%s: a metadata key is missing or not valid UTF-8", path);
        else if (!cJSON_IsString(c) || !c->valuestring)
            st = err_set(STATUS_INVALID, "%s: metadata %s must be a string, got %s", path, Q(c->string),
                         st_describe_json(c).s);
        else if (!utf8_valid(c->valuestring, strlen(c->valuestring), NULL))
            st = err_set(STATUS_INVALID, "%s: metadata %s is not valid UTF-8", path, Q(c->string));
        else
            keys[k++] = c->string;
    }
    const char *dup = st == STATUS_OK ? st_find_duplicate(keys, k) : NULL;
    if (dup) st = err_set(STATUS_INVALID, "%s: metadata has the key %s twice", path, Q(dup));
    free(keys);
    return st;
}

/* The header JSON, padded with spaces to a multiple of 8 bytes so that the data section starts 8-aligned. */
static enum status st_build_header(struct st_buf *b, const struct st_write_entry *entries, size_t n,
                                   const size_t *nbytes, const cJSON *metadata, const char *path) {
    st_buf_add(b, "{", 1);
    bool first = true;
    if (metadata && metadata->child) {
        st_buf_add(b, "\"__metadata__\":{", 16);
        for (const cJSON *c = metadata->child; c; c = c->next) {
            if (c != metadata->child) st_buf_add(b, ",", 1);
            st_buf_string(b, c->string);
            st_buf_add(b, ":", 1);
            st_buf_string(b, c->valuestring);
        }
        st_buf_add(b, "}", 1);
        first = false;
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        const struct st_write_entry *e = &entries[i];
        if (!first) st_buf_add(b, ",", 1);
        first = false;
        st_buf_string(b, e->name);
        st_buf_printf(b, ":{\"dtype\":\"%s\",\"shape\":[", st_dtype_name(e->dtype));
        for (int d = 0; d < e->ndim; d++) st_buf_printf(b, "%s%" PRId64, d ? "," : "", e->shape[d]);
        if (offset + nbytes[i] < offset) return err_set(STATUS_INVALID, "%s: the tensors' total size overflows", path);
        st_buf_printf(b, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", offset, offset + nbytes[i]);
        offset += nbytes[i];
    }
    st_buf_add(b, "}", 1);
    while (!b->failed && b->n % 8 != 0) st_buf_add(b, " ", 1);
    if (b->failed) return err_set(STATUS_NOMEM, "%s: out of memory building the header", path);
    if (b->n > ST_MAX_HEADER)
        return err_set(STATUS_INVALID, "%s: header would be %zu bytes, more than the %u allowed", path, b->n,
                       ST_MAX_HEADER);
    return STATUS_OK;
}

static enum status st_write_all(int fd, const void *data, size_t len, const char *path) {
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len < ST_WRITE_MAX ? len : ST_WRITE_MAX);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return err_set_errno(STATUS_IO, "%s: write failed", path);
        if (w == 0) return err_set(STATUS_IO, "%s: write made no progress", path);
        p += w;
        len -= (size_t)w;
    }
    return STATUS_OK;
}

/* fp32 -> 16-bit through a chunk buffer; separate loops per target so each one vectorises. */
static enum status st_write_converted(int fd, const struct st_write_entry *e, size_t numel, const char *path) {
    uint16_t chunk[ST_CHUNK];
    const unsigned char *src = e->data;
    for (size_t at = 0; at < numel; at += ST_CHUNK) {
        size_t m = numel - at < ST_CHUNK ? numel - at : ST_CHUNK;
        const unsigned char *s = src + at * sizeof(float);
        if (e->dtype == ST_BF16) {
            for (size_t i = 0; i < m; i++) {
                float x;
                memcpy(&x, s + 4 * i, 4);
                chunk[i] = f32_to_bf16(x);
            }
        } else {
            for (size_t i = 0; i < m; i++) {
                float x;
                memcpy(&x, s + 4 * i, 4);
                chunk[i] = f32_to_f16(x);
            }
        }
        TRY(st_write_all(fd, chunk, m * sizeof *chunk, path));
    }
    return STATUS_OK;
}

static enum status st_write_body(int fd, const struct st_buf *header, const struct st_write_entry *entries, size_t n,
                                 const size_t *nbytes, const char *tmp) {
    unsigned char len[8];
    uint64_t hlen = header->n;
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)(hlen >> (8 * i));
    TRY(st_write_all(fd, len, sizeof len, tmp));
    TRY(st_write_all(fd, header->p, header->n, tmp));
    for (size_t i = 0; i < n; i++) {
        const struct st_write_entry *e = &entries[i];
        if (nbytes[i] == 0) continue;
        if (e->src == e->dtype)
            TRY(st_write_all(fd, e->data, nbytes[i], tmp));
        else
            TRY(st_write_converted(fd, e, nbytes[i] / st_dtype_size(e->dtype), tmp));
    }
    return STATUS_OK;
}

enum status st_write(const char *path, const struct st_write_entry *entries, size_t n, const cJSON *metadata) {
    /* Everything that can be refused is refused before a file is created. */
    size_t *nbytes = malloc((n ? n : 1) * sizeof *nbytes);
    const char **names = malloc((n ? n : 1) * sizeof *names);
    struct st_buf header = {0};
    enum status st = STATUS_OK;
    if (!nbytes || !names) {
        st = err_set(STATUS_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < n && st == STATUS_OK; i++) {
        st = st_check_entry(&entries[i], &nbytes[i], path);
        names[i] = entries[i].name;
    }
    if (st != STATUS_OK) goto done;
    const char *dup = st_find_duplicate(names, n);
    if (dup) {
        st = err_set(STATUS_INVALID, "%s: tensor %s is given twice", path, Q(dup));
        goto done;
    }
    if (metadata && (st = st_check_write_metadata(metadata, path)) != STATUS_OK) goto done;
    if ((st = st_build_header(&header, entries, n, nbytes, metadata, path)) != STATUS_OK) goto done;

    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        st = err_set(STATUS_INVALID, "%s: path too long", path);
        goto done;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        st = err_set_errno(STATUS_IO, "%s: cannot create", tmp);
        goto done;
    }
    st = st_write_body(fd, &header, entries, n, nbytes, tmp);
    if (st == STATUS_OK && fsync(fd) != 0) st = err_set_errno(STATUS_IO, "%s: fsync failed", tmp);
    if (close(fd) != 0 && st == STATUS_OK) st = err_set_errno(STATUS_IO, "%s: close failed", tmp);
    if (st == STATUS_OK && rename(tmp, path) != 0) st = err_set_errno(STATUS_IO, "%s: cannot rename to %s", tmp, path);
    if (st != STATUS_OK) {
        unlink(tmp);
        goto done;
    }
    char dir[PATH_MAX];
    fs_dirname(dir, sizeof dir, path);
    st = fs_fsync_path(dir);
done:
    free(nbytes);
    free(names);
    free(header.p);
    return st;
}
