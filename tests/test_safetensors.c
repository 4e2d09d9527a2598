/* Tests for safetensors (and the half conversions it uses).
 *
 * - fixtures: files written by the Python safetensors library (tests/ref/make_safetensors_fixtures.py) are
 *   read and compared bit for bit with what torch wrote to expected.json; st_write's F32 -> BF16 / F16
 *   conversions must give torch's bits.
 * - writer: round trips of every dtype, chunked conversion, durability (no temporary left, failures leave
 *   nothing), refusals.
 * - malformed files, built in memory here: each must fail with the expected status and a message that starts
 *   with the file's path and says what is wrong. Truncation at every byte and random header corruption must
 *   never crash and may succeed only with a result that satisfies the reader's invariants. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "engine/model/safetensors.h"
#include "engine/util/fsutil.h"
#include "engine/util/half.h"
#include "engine/util/json.h"
#include "harness.h"

/* ---- helpers ---------------------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng_next(void) { /* xorshift64*: fixed seed, same sequence on every run */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

struct bytes {
    unsigned char *p;
    size_t n, cap;
};

static void b_add(struct bytes *b, const void *s, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        cr_assert(b->p != NULL);
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void b_u64(struct bytes *b, uint64_t v) {
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(v >> (8 * i));
    b_add(b, le, 8);
}

/* A safetensors file: length prefix, header as given (no padding), data_len bytes of a pattern. */
static struct bytes make_file(const char *header, size_t data_len) {
    struct bytes b = {0};
    b_u64(&b, strlen(header));
    b_add(&b, header, strlen(header));
    for (size_t i = 0; i < data_len; i++) {
        unsigned char c = (unsigned char)(i * 7 + 1);
        b_add(&b, &c, 1);
    }
    return b;
}

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static char *fixture(const char *rel) {
    char buf[256];
    snprintf(buf, sizeof buf, "tests/fixtures/safetensors/%s", rel);
    return th_path(buf);
}

static cJSON *load_expected(void) {
    char *path = fixture("expected.json");
    cJSON *j = NULL;
    enum status st = json_parse_file(path, 1u << 22, &j);
    cr_assert_eq(st, STATUS_OK, "%s", err_msg());
    free(path);
    return j;
}

static size_t hex_decode(const char *hex, unsigned char **out) {
    size_t n = strlen(hex) / 2;
    *out = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        (*out)[i] = (unsigned char)v;
    }
    return n;
}

static const char *st_name_of_torch(const char *torch_dtype) {
    static const char *const map[][2] = {
        {"float32", "F32"}, {"float16", "F16"}, {"bfloat16", "BF16"}, {"float64", "F64"}, {"bool", "BOOL"},
        {"uint8", "U8"},    {"int8", "I8"},     {"int16", "I16"},     {"uint16", "U16"},  {"int32", "I32"},
        {"uint32", "U32"},  {"int64", "I64"},   {"uint64", "U64"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i][0], torch_dtype) == 0) return map[i][1];
    return "?";
}

/* Number of entries of a directory other than . and .. */
static int count_dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    cr_assert(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

static bool is_zeroed(const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i]) return false;
    return true;
}

/* Compares one tensor from a file with torch's description in expected.json: dtype, shape, raw bytes, and
 * for float tensors st_tensor_to_f32 against torch's .float() bit for bit (NaN: NaN-ness only). */
static void check_tensor_against_torch(const struct st_tensor *t, const char *name, const cJSON *want) {
    cr_assert(t != NULL, "tensor %s missing", name);
    const char *dt = cJSON_GetObjectItem(want, "dtype")->valuestring;
    cr_expect_str_eq(st_dtype_name(t->dtype), st_name_of_torch(dt), "%s dtype", name);
    const cJSON *shape = cJSON_GetObjectItem(want, "shape");
    cr_expect_eq(t->ndim, cJSON_GetArraySize(shape), "%s ndim", name);
    for (int i = 0; i < t->ndim && i < cJSON_GetArraySize(shape); i++)
        cr_expect_eq(t->shape[i], (int64_t)cJSON_GetArrayItem(shape, i)->valuedouble, "%s shape[%d]", name, i);
    unsigned char *raw;
    size_t n = hex_decode(cJSON_GetObjectItem(want, "hex")->valuestring, &raw);
    cr_expect_eq(t->nbytes, n, "%s nbytes", name);
    if (t->nbytes == n) cr_expect(n == 0 || memcmp(t->data, raw, n) == 0, "%s bytes differ", name);
    free(raw);
    const cJSON *fb = cJSON_GetObjectItem(want, "f32_bits");
    if (!fb) return;
    size_t numel = (size_t)cJSON_GetArraySize(fb);
    cr_assert_eq(t->numel, numel, "%s numel", name);
    float *got = malloc((numel ? numel : 1) * sizeof *got);
    cr_assert_eq(st_tensor_to_f32(t, got, numel), STATUS_OK, "%s", err_msg());
    size_t mismatches = 0, first = 0;
    for (size_t i = 0; i < numel; i++) {
        uint32_t w = (uint32_t)cJSON_GetArrayItem(fb, (int)i)->valuedouble, g = bits_of(got[i]);
        bool ok = is_nan32(w) ? is_nan32(g) && (g >> 31) == (w >> 31) : g == w;
        if (!ok && mismatches++ == 0) first = i;
    }
    fprintf(stderr, "  %-34s %-4s n=%-4zu bit mismatches vs torch: %zu\n", name, st_dtype_name(t->dtype), numel,
            mismatches);
    cr_expect_eq(mismatches, 0, "%s: %zu values differ from torch, first at [%zu]", name, mismatches, first);
    free(got);
}

/* What st_file_open promises when it succeeds, checked from the outside. */
static void check_invariants(const struct st_file *f, const unsigned char *file, size_t size) {
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | file[i];
    cr_assert(hlen <= size - 8);
    const unsigned char *base = f->map.data, *data = base + 8 + hlen, *end = base + size;
    cr_assert_eq(f->map.size, size);
    /* Ranges sorted by start must tile [data, end). */
    size_t n = f->n_tensors;
    const struct st_tensor **order = malloc((n ? n : 1) * sizeof *order);
    for (size_t i = 0; i < n; i++) order[i] = &f->tensors[i];
    for (size_t i = 1; i < n; i++) /* insertion sort by (data, nbytes): n is small */
        for (size_t j = i; j > 0; j--) {
            const struct st_tensor *a = order[j - 1], *b = order[j];
            if ((const unsigned char *)a->data < (const unsigned char *)b->data ||
                (a->data == b->data && a->nbytes <= b->nbytes))
                break;
            order[j - 1] = b;
            order[j] = a;
        }
    const unsigned char *at = data;
    for (size_t i = 0; i < n; i++) {
        const struct st_tensor *t = order[i];
        size_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= (size_t)t->shape[d];
        cr_assert(t->ndim >= 0 && t->ndim <= ST_MAX_DIMS);
        cr_assert_eq(t->numel, numel, "%s", t->name);
        cr_assert_eq(t->nbytes, numel * st_dtype_size(t->dtype), "%s", t->name);
        cr_assert_eq((const unsigned char *)t->data, at, "tensor %s does not start where the previous ended", t->name);
        at += t->nbytes;
        cr_assert(at <= end);
        cr_assert_eq(st_file_find(f, t->name), t);
    }
    cr_assert_eq(at, end, "tensors do not reach the end of the file");
    for (size_t i = 1; i < n; i++) cr_assert(strcmp(f->by_name[i - 1]->name, f->by_name[i]->name) < 0);
    free(order);
}

/* ---- dtypes -------------------------------------------------------------------- */

Test(safetensors_dtype, names_sizes_and_parse_roundtrip) {
    static const size_t sizes[ST_DTYPE_COUNT] = {1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 8, 8, 8};
    for (int i = 0; i < ST_DTYPE_COUNT; i++) {
        enum st_dtype dt;
        cr_expect(st_dtype_parse(st_dtype_name((enum st_dtype)i), &dt));
        cr_expect_eq(dt, (enum st_dtype)i);
        cr_expect_eq(st_dtype_size((enum st_dtype)i), sizes[i], "%s", st_dtype_name((enum st_dtype)i));
    }
    enum st_dtype dt;
    cr_expect_str_eq(st_dtype_name(ST_BF16), "BF16");
    cr_expect_not(st_dtype_parse("f32", &dt), "names are case-sensitive, as in the format");
    cr_expect_not(st_dtype_parse("F8_E4M3", &dt));
    cr_expect_not(st_dtype_parse("", &dt));
}

/* ---- files written by Python ------------------------------------------------------------------------ */

Test(safetensors_fixtures, python_written_values_match_torch) {
    char *path = fixture("values.safetensors");
    cJSON *exp = load_expected();
    struct st_file f;
    cr_assert_eq(st_file_open(&f, path), STATUS_OK, "%s", err_msg());
    const cJSON *tensors = cJSON_GetObjectItem(exp, "tensors");
    cr_expect_eq(f.n_tensors, (size_t)cJSON_GetArraySize(tensors));
    for (const cJSON *w = tensors->child; w; w = w->next)
        check_tensor_against_torch(st_file_find(&f, w->string), w->string, w);

    /* The data is the map, not a copy. */
    const unsigned char *lo = f.map.data, *hi = lo + f.map.size;
    for (size_t i = 0; i < f.n_tensors; i++) {
        const unsigned char *d = f.tensors[i].data;
        cr_expect(d >= lo + 8 && d + f.tensors[i].nbytes <= hi, "%s points outside the map", f.tensors[i].name);
    }
    const struct st_tensor *sc = st_file_find(&f, "f32.scalar");
    cr_assert(sc);
    cr_expect_eq(sc->ndim, 0);
    cr_expect_eq(sc->numel, 1);
    float v = 0;
    cr_expect_eq(st_tensor_to_f32(sc, &v, 1), STATUS_OK);
    cr_expect_eq(v, 3.5f);
    const struct st_tensor *em = st_file_find(&f, "f32.empty");
    cr_assert(em);
    cr_expect_eq(em->numel, 0);
    cr_expect_eq(em->nbytes, 0);
    cr_expect_eq(st_tensor_to_f32(em, NULL, 0), STATUS_OK);
    cr_expect_null(st_file_find(&f, "no.such.tensor"));
    cr_expect_null(st_file_find(&f, ""));

    const cJSON *want_meta = cJSON_GetObjectItem(exp, "metadata");
    cr_assert(f.metadata != NULL);
    cr_expect_eq(cJSON_GetArraySize(f.metadata), cJSON_GetArraySize(want_meta));
    for (const cJSON *m = want_meta->child; m; m = m->next) {
        const cJSON *got = cJSON_GetObjectItemCaseSensitive(f.metadata, m->string);
        cr_expect(cJSON_IsString(got) && strcmp(got->valuestring, m->valuestring) == 0, "metadata %s", m->string);
    }
    st_file_free(&f);
    st_file_free(&f); /* a freed struct is zeroed and may be freed again */
    cJSON_Delete(exp);
    free(path);
}

Test(safetensors_fixtures, to_f32_refuses_other_dtypes_and_wrong_counts) {
    char *path = fixture("values.safetensors");
    struct st_file f;
    cr_assert_eq(st_file_open(&f, path), STATUS_OK, "%s", err_msg());
    float buf[8];
    const struct st_tensor *t = st_file_find(&f, "i32.ids");
    cr_assert(t);
    cr_expect_eq(st_tensor_to_f32(t, buf, 4), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "\"i32.ids\"") && strstr(err_msg(), "I32") && strstr(err_msg(), path), "%s", err_msg());
    t = st_file_find(&f, "f32.edge");
    cr_expect_eq(st_tensor_to_f32(t, buf, 8), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "\"f32.edge\"") && strstr(err_msg(), "expected 8"), "%s", err_msg());
    st_file_free(&f);
    free(path);
}

Test(safetensors_fixtures, sharded_checkpoint_via_index) {
    char *dir = fixture("sharded");
    cJSON *exp = load_expected();
    struct st_set s;
    cr_assert_eq(st_set_open(&s, dir, "model"), STATUS_OK, "%s", err_msg());
    cr_expect_eq(s.n_files, 2);
    const cJSON *sharded = cJSON_GetObjectItem(exp, "sharded");
    cr_expect_eq(s.n_tensors, (size_t)cJSON_GetArraySize(sharded));
    for (const cJSON *w = sharded->child; w; w = w->next)
        check_tensor_against_torch(st_set_find(&s, w->string), w->string, w);
    const struct st_tensor *t = st_set_find(&s, "model.norm.weight");
    cr_assert(t);
    cr_expect(strstr(t->path, "model-00002-of-00002.safetensors") != NULL, "%s", t->path);
    cr_expect_null(st_set_find(&s, "model.layers.1.mlp.up_proj.weight"));
    for (size_t i = 1; i < s.n_tensors; i++) cr_expect(strcmp(s.by_name[i - 1]->name, s.by_name[i]->name) < 0);
    st_set_free(&s);
    st_set_free(&s);

    /* The single-file form through the same call. */
    char *root = fixture("");
    cr_assert_eq(st_set_open(&s, root, "values"), STATUS_OK, "%s", err_msg());
    cr_expect_eq(s.n_files, 1);
    cr_expect_eq(s.n_tensors, (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(exp, "tensors")));
    cr_expect_not_null(st_set_find(&s, "bf16.edge"));
    st_set_free(&s);
    free(root);
    cJSON_Delete(exp);
    free(dir);
}

/* st_write's fp32 -> bf16 / f16 conversions against torch's .to(torch.bfloat16) / .to(torch.float16). */
Test(safetensors_fixtures, write_conversions_match_torch) {
    cJSON *exp = load_expected();
    const cJSON *conv = cJSON_GetObjectItem(exp, "conversions");
    const cJSON *in = cJSON_GetObjectItem(conv, "input_f32_bits"), *wb = cJSON_GetObjectItem(conv, "bf16_bits"),
                *wh = cJSON_GetObjectItem(conv, "f16_bits");
    size_t n = (size_t)cJSON_GetArraySize(in);
    cr_assert_eq(n, (size_t)cJSON_GetArraySize(wb));
    cr_assert_eq(n, (size_t)cJSON_GetArraySize(wh));
    /* One byte of offset: the writer must not assume aligned input. */
    unsigned char *buf = malloc(n * 4 + 1);
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)cJSON_GetArrayItem(in, (int)i)->valuedouble;
        memcpy(buf + 1 + 4 * i, &u, 4);
    }
    char *dir = th_tmpdir("st-conv");
    char *path = join(dir, "conv.safetensors");
    struct st_write_entry e[3] = {
        {.name = "bf16", .dtype = ST_BF16, .src = ST_F32, .ndim = 1, .shape = {(int64_t)n}, .data = buf + 1},
        {.name = "f16", .dtype = ST_F16, .src = ST_F32, .ndim = 1, .shape = {(int64_t)n}, .data = buf + 1},
        {.name = "f32", .dtype = ST_F32, .src = ST_F32, .ndim = 1, .shape = {(int64_t)n}, .data = buf + 1},
    };
    cr_assert_eq(st_write(path, e, 3, NULL), STATUS_OK, "%s", err_msg());
    struct st_file f;
    cr_assert_eq(st_file_open(&f, path), STATUS_OK, "%s", err_msg());
    const unsigned char *b = st_file_find(&f, "bf16")->data, *h = st_file_find(&f, "f16")->data;
    size_t bad_b = 0, bad_h = 0, nans = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t gb, gh, tb = (uint16_t)cJSON_GetArrayItem(wb, (int)i)->valuedouble,
                         th = (uint16_t)cJSON_GetArrayItem(wh, (int)i)->valuedouble;
        memcpy(&gb, b + 2 * i, 2);
        memcpy(&gh, h + 2 * i, 2);
        uint32_t u;
        memcpy(&u, buf + 1 + 4 * i, 4);
        if (is_nan32(u)) { /* torch's NaN bits are not canonical (see half.h): NaN-ness and sign */
            nans++;
            if (!is_nan_bf16(gb) || !is_nan_bf16(tb) || (gb >> 15) != (u >> 31)) bad_b++;
            if (!is_nan16(gh) || !is_nan16(th) || (gh >> 15) != (u >> 31)) bad_h++;
            continue;
        }
        if (gb != tb && bad_b++ < 5) fprintf(stderr, "bf16(%08x): ours %04x, torch %04x\n", u, gb, tb);
        if (gh != th && bad_h++ < 5) fprintf(stderr, "f16(%08x): ours %04x, torch %04x\n", u, gh, th);
    }
    fprintf(stderr, "  conversions: %zu fp32 inputs (%zu NaN): bf16 mismatches %zu, f16 mismatches %zu\n", n, nans,
            bad_b, bad_h);
    cr_expect_eq(bad_b, 0);
    cr_expect_eq(bad_h, 0);
    cr_expect_eq(memcmp(st_file_find(&f, "f32")->data, buf + 1, 4 * n), 0, "F32 must be copied bit for bit");
    st_file_free(&f);
    fs_remove_tree(dir);
    free(path);
    free(dir);
    free(buf);
    cJSON_Delete(exp);
}

/* ---- writer ----------------------------------------------------------------------------------------- */

Test(safetensors_write, roundtrip_every_dtype_in_given_order) {
    char *dir = th_tmpdir("st-rt");
    char *path = join(dir, "all.safetensors");
    enum { N = ST_DTYPE_COUNT + 2 };
    struct st_write_entry e[N];
    unsigned char *bufs[N];
    char names[N][32];
    for (int i = 0; i < N; i++) {
        memset(&e[i], 0, sizeof e[i]);
        /* One-byte dtypes first, so that later tensors land on offsets that are not multiples of their element
         * size; then a scalar and an empty tensor. */
        enum st_dtype dt = i < ST_DTYPE_COUNT ? (enum st_dtype)i : ST_F32;
        snprintf(names[i], sizeof names[i], "t%02d.%s", i, st_dtype_name(dt));
        e[i].name = names[i];
        e[i].dtype = e[i].src = dt;
        if (i == ST_DTYPE_COUNT) {
            e[i].ndim = 0;
        } else if (i == ST_DTYPE_COUNT + 1) {
            e[i].ndim = 3;
            e[i].shape[0] = 2, e[i].shape[1] = 0, e[i].shape[2] = 5;
        } else {
            e[i].ndim = 2;
            e[i].shape[0] = 3, e[i].shape[1] = 1 + i % 4;
        }
        size_t numel = 1;
        for (int d = 0; d < e[i].ndim; d++) numel *= (size_t)e[i].shape[d];
        size_t nb = numel * st_dtype_size(dt);
        bufs[i] = malloc(nb + 1);
        for (size_t k = 0; k < nb + 1; k++) bufs[i][k] = (unsigned char)rng_next();
        e[i].data = nb ? bufs[i] + 1 : NULL; /* unaligned source; NULL is fine for an empty tensor */
    }
    cJSON *meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "format", "pt");
    cJSON_AddStringToObject(meta, "quote\"and\\slash\nnewline", "caf\xc3\xa9 \x01");
    cr_assert_eq(st_write(path, e, N, meta), STATUS_OK, "%s", err_msg());
    cr_expect_eq(count_dir_entries(dir), 1, "no temporary file may remain");

    struct st_file f;
    cr_assert_eq(st_file_open(&f, path), STATUS_OK, "%s", err_msg());
    cr_assert_eq(f.n_tensors, N);
    const unsigned char *prev_end = NULL;
    for (int i = 0; i < N; i++) {
        const struct st_tensor *t = &f.tensors[i];
        cr_expect_str_eq(t->name, e[i].name, "file order must be the given order");
        cr_expect_eq(t->dtype, e[i].dtype);
        cr_expect_eq(t->ndim, e[i].ndim);
        for (int d = 0; d < t->ndim; d++) cr_expect_eq(t->shape[d], e[i].shape[d]);
        cr_expect(t->nbytes == 0 || memcmp(t->data, e[i].data, t->nbytes) == 0, "%s: bytes differ", t->name);
        if (prev_end) cr_expect_eq((const unsigned char *)t->data, prev_end, "%s: offsets not contiguous", t->name);
        prev_end = (const unsigned char *)t->data + t->nbytes;
    }
    cr_assert(f.metadata);
    cr_expect_str_eq(cJSON_GetObjectItemCaseSensitive(f.metadata, "format")->valuestring, "pt");
    cr_expect_str_eq(cJSON_GetObjectItemCaseSensitive(f.metadata, "quote\"and\\slash\nnewline")->valuestring,
                     "caf\xc3\xa9 \x01");
    /* Header: length a multiple of 8, padded with spaces, starting with the metadata. */
    const unsigned char *m = f.map.data;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | m[i];
    cr_expect_eq(hlen % 8, 0);
    size_t last = 8 + hlen - 1;
    while (m[last] == ' ') last--;
    cr_expect_eq(m[last], '}');
    cr_expect(memcmp(m + 8, "{\"__metadata__\":{", 17) == 0);
    st_file_free(&f);

    /* Overwriting replaces the whole file. */
    struct st_write_entry one = {.name = "only", .dtype = ST_U8, .src = ST_U8, .ndim = 1, .shape = {1}, .data = "x"};
    cr_assert_eq(st_write(path, &one, 1, NULL), STATUS_OK, "%s", err_msg());
    cr_assert_eq(st_file_open(&f, path), STATUS_OK, "%s", err_msg());
    cr_expect_eq(f.n_tensors, 1);
    cr_expect_null(f.metadata);
    st_file_free(&f);

    for (int i = 0; i < N; i++) free(bufs[i]);
    cJSON_Delete(meta);
    fs_remove_tree(dir);
    free(path);
    free(dir);
}

Test(safetensors_write, empty_file_and_escaped_names) {
    char *dir = th_tmpdir("st-empty");
    char *path = join(dir, "empty.safetensors");
    cr_assert_eq(st_write(path, NULL, 0, NULL), STATUS_OK, "%s", err_msg());
    struct st_file f;
    cr_assert_eq(st_file_open(&f, path), STATUS_OK, "%s", err_msg());
    cr_expect_eq(f.n_tensors, 0);
    cr_expect_eq(f.map.size, 16, "8-byte length + \"{}\" padded to 8");
    st_file_free(&f);

    const char *odd = "a\"b\\c\nd\te\x01\x7f \xc3\xa9\xe2\x9c\x93";
    float x = 1.5f;
    struct st_write_entry e = {.name = odd, .dtype = ST_F32, .src = ST_F32, .ndim = 0, .data = &x};
    cr_assert_eq(st_write(path, &e, 1, NULL), STATUS_OK, "%s", err_msg());
    cr_assert_eq(st_file_open(&f, path), STATUS_OK, "%s", err_msg());
    const struct st_tensor *t = st_file_find(&f, odd);
    cr_assert(t, "escaped name did not round-trip");
    float y = 0;
    cr_expect_eq(st_tensor_to_f32(t, &y, 1), STATUS_OK);
    cr_expect_eq(y, 1.5f);
    st_file_free(&f);
    fs_remove_tree(dir);
    free(path);
    free(dir);
}

/* Conversions larger than the writer's chunk, with a length that is not a multiple of it. */
Test(safetensors_write, chunked_conversion_of_a_large_tensor) {
    const size_t n = 123 * 401; /* three chunks of 16384 and a partial one */
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = float_of((uint32_t)rng_next());
    char *dir = th_tmpdir("st-big");
    char *path = join(dir, "big.safetensors");
    struct st_write_entry e[2] = {
        {.name = "b", .dtype = ST_BF16, .src = ST_F32, .ndim = 2, .shape = {123, (int64_t)n / 123}, .data = x},
        {.name = "h", .dtype = ST_F16, .src = ST_F32, .ndim = 2, .shape = {123, (int64_t)n / 123}, .data = x},
    };
    cr_assert_eq(st_write(path, e, 2, NULL), STATUS_OK, "%s", err_msg());
    struct st_file f;
    cr_assert_eq(st_file_open(&f, path), STATUS_OK, "%s", err_msg());
    const unsigned char *b = st_file_find(&f, "b")->data, *h = st_file_find(&f, "h")->data;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t gb, gh;
        memcpy(&gb, b + 2 * i, 2);
        memcpy(&gh, h + 2 * i, 2);
        if (gb != f32_to_bf16(x[i]) || gh != f32_to_f16(x[i])) bad++;
    }
    cr_expect_eq(bad, 0);
    float *back = malloc(n * sizeof *back);
    cr_expect_eq(st_tensor_to_f32(st_file_find(&f, "b"), back, n), STATUS_OK);
    for (size_t i = 0; i < n && bad < 5; i++)
        if (bits_of(back[i]) != (uint32_t)f32_to_bf16(x[i]) << 16 && !isnan(back[i])) bad++;
    cr_expect_eq(bad, 0);
    st_file_free(&f);
    fs_remove_tree(dir);
    free(back);
    free(x);
    free(path);
    free(dir);
}

Test(safetensors_write, refusals_leave_nothing_behind) {
    char *dir = th_tmpdir("st-refuse");
    char *path = join(dir, "out.safetensors");
    float data[4] = {1, 2, 3, 4};
    const struct st_write_entry good = {
        .name = "w", .dtype = ST_F32, .src = ST_F32, .ndim = 1, .shape = {4}, .data = data};
    struct {
        const char *label;
        struct st_write_entry e[2];
        size_t n;
        const char *expect;
    } cases[] = {
        {"duplicate names", {good, good}, 2, "given twice"},
        {"negative dimension",
         {{.name = "w", .dtype = ST_F32, .src = ST_F32, .ndim = 2, .shape = {2, -2}, .data = data}},
         1,
         "negative"},
        {"too many dimensions",
         {{.name = "w", .dtype = ST_F32, .src = ST_F32, .ndim = 9, .data = data}},
         1,
         "dimensions"},
        {"negative ndim", {{.name = "w", .dtype = ST_F32, .src = ST_F32, .ndim = -1, .data = data}}, 1, "dimensions"},
        {"shape overflow",
         {{.name = "w",
           .dtype = ST_F32,
           .src = ST_F32,
           .ndim = 3,
           .shape = {1ll << 40, 1ll << 40, 1ll << 40},
           .data = data}},
         1,
         "too large"},
        {"F16 -> F32",
         {{.name = "w", .dtype = ST_F32, .src = ST_F16, .ndim = 1, .shape = {2}, .data = data}},
         1,
         "cannot convert F16 to F32"},
        {"I32 -> BF16",
         {{.name = "w", .dtype = ST_BF16, .src = ST_I32, .ndim = 1, .shape = {2}, .data = data}},
         1,
         "cannot convert"},
        {"reserved name",
         {{.name = "__metadata__", .dtype = ST_F32, .src = ST_F32, .ndim = 1, .shape = {1}, .data = data}},
         1,
         "reserved"},
        {"no name",
         {{.name = NULL, .dtype = ST_F32, .src = ST_F32, .ndim = 1, .shape = {1}, .data = data}},
         1,
         "no name"},
        {"no data",
         {{.name = "w", .dtype = ST_F32, .src = ST_F32, .ndim = 1, .shape = {1}, .data = NULL}},
         1,
         "no data"},
        {"bad UTF-8 name",
         {{.name = "w\xff\x1b", .dtype = ST_F32, .src = ST_F32, .ndim = 1, .shape = {1}, .data = data}},
         1,
         "tensor \"w\\xFF\\u001b\": the name is not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum status st = st_write(path, cases[i].e, cases[i].n, NULL);
        cr_expect_eq(st, STATUS_INVALID, "%s: got %s", cases[i].label, status_name(st));
        cr_expect(strstr(err_msg(), path) && strstr(err_msg(), cases[i].expect), "%s: %s", cases[i].label, err_msg());
        cr_expect_eq(count_dir_entries(dir), 0, "%s: left a file", cases[i].label);
        fprintf(stderr, "  refused %-22s %s\n", cases[i].label, err_msg());
    }

    /* Metadata must be an object of strings. */
    cJSON *meta = cJSON_CreateObject();
    cJSON_AddNumberToObject(meta, "step", 3);
    cr_expect_eq(st_write(path, &good, 1, meta), STATUS_INVALID);
    cr_expect(strstr(err_msg(), "\"step\"") && strstr(err_msg(), "must be a string"), "%s", err_msg());
    cJSON_Delete(meta);
    meta = cJSON_CreateArray();
    cr_expect_eq(st_write(path, &good, 1, meta), STATUS_INVALID);
    cJSON_Delete(meta);
    meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "k", "a");
    cJSON_AddStringToObject(meta, "k", "b");
    cr_expect_eq(st_write(path, &good, 1, meta), STATUS_INVALID);
    cr_expect(strstr(err_msg(), "twice"), "%s", err_msg());
    cJSON_Delete(meta);
    cr_expect_eq(count_dir_entries(dir), 0);

    /* I/O failures: a missing directory, and a target that is a directory (rename fails after writing). */
    char *missing = join(dir, "nope/out.safetensors");
    cr_expect_eq(st_write(missing, &good, 1, NULL), STATUS_IO);
    cr_expect(strstr(err_msg(), "nope/out.safetensors"), "%s", err_msg());
    char *sub = join(dir, "sub");
    cr_assert_eq(fs_mkdir_p(sub), STATUS_OK);
    cr_assert(th_write_file(path, "keep", 4)); /* an existing file stays as it was when a write is refused */
    cr_expect_eq(st_write(sub, &good, 1, NULL), STATUS_IO);
    fprintf(stderr, "  refused target-is-a-dir   %s\n", err_msg());
    cr_expect_eq(count_dir_entries(dir), 2, "the temporary file must be removed after a failed rename");
    struct st_write_entry dup[2] = {good, good};
    cr_expect_eq(st_write(path, dup, 2, NULL), STATUS_INVALID);
    char *text = NULL;
    size_t len = 0;
    cr_assert_eq(fs_read_file(path, 100, &text, &len), STATUS_OK);
    cr_expect(len == 4 && memcmp(text, "keep", 4) == 0);
    free(text);
    free(sub);
    free(missing);
    fs_remove_tree(dir);
    free(path);
    free(dir);
}

/* ---- malformed files -------------------------------------------------------------------------------- */

struct bad_case {
    const char *label;
    const char *header; /* the JSON header, written with its exact length as prefix; NULL: raw is the file */
    size_t data_len;    /* bytes after the header */
    const char *raw;
    size_t raw_len;
    enum status want;
    const char *expect; /* must occur in the message */
};

#define RAW(s) NULL, 0, s, sizeof(s) - 1

static const struct bad_case bad_cases[] = {
    /* framing */
    {"empty file", RAW(""), STATUS_FORMAT, "0 bytes, too short"},
    {"7 bytes", RAW("\x02\0\0\0\0\0\0"), STATUS_FORMAT, "7 bytes, too short"},
    {"header longer than file", RAW("\xe8\x03\0\0\0\0\0\0{}"), STATUS_FORMAT, "header length 1000 runs past the end"},
    {"header length > 100 MB", RAW("\x01\xe1\xf5\x05\0\0\0\0{}"), STATUS_FORMAT,
     "header length 100000001 is more than the 100000000 bytes allowed"},
    {"header length 2^64-1", RAW("\xff\xff\xff\xff\xff\xff\xff\xff{}"), STATUS_FORMAT, "more than the 100000000"},
    {"zero-length header", RAW("\0\0\0\0\0\0\0\0"), STATUS_FORMAT, "header: unexpected end of JSON"},
    {"header not JSON", "{not json}  ", 0, NULL, 0, STATUS_FORMAT, "header:1:"},
    {"header truncated JSON", "{\"a\": {\"dtype\": ", 0, NULL, 0, STATUS_FORMAT, "unexpected end of JSON"},
    {"header JSON array", "[1, 2]", 0, NULL, 0, STATUS_FORMAT, "header must be a JSON object, got an array"},
    {"header JSON string", "\"x\"", 0, NULL, 0, STATUS_FORMAT, "header must be a JSON object, got a string"},
    {"garbage after JSON", "{} x", 0, NULL, 0, STATUS_FORMAT, "unexpected data after the JSON value"},
    {"invalid UTF-8", "{\"a\xff\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]}}", 4, NULL, 0,
     STATUS_FORMAT, "invalid UTF-8"},
    {"overlong UTF-8", "{\"\xc0\xaf\": 1}", 0, NULL, 0, STATUS_FORMAT, "invalid UTF-8"},
    {"byte order mark", "\xef\xbb\xbf{}", 0, NULL, 0, STATUS_FORMAT, "byte order mark"},
    /* entries */
    {"unknown dtype", "{\"w\": {\"dtype\": \"F7\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4, NULL, 0,
     STATUS_FORMAT, "tensor \"w\": unknown dtype \"F7\""},
    {"lower-case dtype", "{\"w\": {\"dtype\": \"f32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4, NULL, 0,
     STATUS_FORMAT, "unknown dtype \"f32\""},
    {"fp8 dtype", "{\"w\": {\"dtype\": \"F8_E4M3\", \"shape\": [4], \"data_offsets\": [0, 4]}}", 4, NULL, 0,
     STATUS_UNSUPPORTED, "dtype F8_E4M3 is not supported"},
    {"dtype not a string", "{\"w\": {\"dtype\": 32, \"shape\": [1], \"data_offsets\": [0, 4]}}", 4, NULL, 0,
     STATUS_FORMAT, "\"dtype\" must be a string, got 32"},
    {"negative shape", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2, -1], \"data_offsets\": [0, 4]}}", 4, NULL, 0,
     STATUS_FORMAT, "tensor \"w\": shape[1] is -1, expected a non-negative integer"},
    {"fractional shape", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", 4, NULL, 0,
     STATUS_FORMAT, "shape[0] is 1.5, expected a non-negative integer"},
    {"string in shape", "{\"w\": {\"dtype\": \"F32\", \"shape\": [\"4\"], \"data_offsets\": [0, 16]}}", 16, NULL, 0,
     STATUS_FORMAT, "shape[0] is a string"},
    {"shape not an array", "{\"w\": {\"dtype\": \"F32\", \"shape\": 4, \"data_offsets\": [0, 16]}}", 16, NULL, 0,
     STATUS_FORMAT, "\"shape\" must be an array of non-negative integers, got 4"},
    {"shape beyond 2^53", "{\"w\": {\"dtype\": \"F32\", \"shape\": [0, 1e20], \"data_offsets\": [0, 0]}}", 0, NULL, 0,
     STATUS_FORMAT, "shape[1] = 1e+20 is larger than 2^53"},
    {"shape product overflow",
     "{\"w\": {\"dtype\": \"F32\", \"shape\": [1099511627776, 1099511627776], \"data_offsets\": [0, 4]}}", 4, NULL, 0,
     STATUS_FORMAT, "F32 [1099511627776, 1099511627776] is too large: its byte size overflows 64 bits"},
    {"byte size overflow",
     "{\"w\": {\"dtype\": \"F64\", \"shape\": [4503599627370496, 1024], \"data_offsets\": [0, 8]}}", 8, NULL, 0,
     STATUS_FORMAT, "overflows 64 bits"},
    {"9 dimensions", "{\"w\": {\"dtype\": \"U8\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": [0, 1]}}", 1, NULL,
     0, STATUS_UNSUPPORTED, "9 dimensions, r1lab supports at most 8"},
    {"missing dtype", "{\"w\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4, NULL, 0, STATUS_FORMAT,
     "tensor \"w\": missing field \"dtype\""},
    {"missing shape", "{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4, NULL, 0, STATUS_FORMAT,
     "missing field \"shape\""},
    {"missing offsets", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4, NULL, 0, STATUS_FORMAT,
     "missing field \"data_offsets\""},
    {"three offsets", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4, 8]}}", 4, NULL, 0,
     STATUS_FORMAT, "\"data_offsets\" must have 2 entries, it has 3"},
    {"one offset", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4]}}", 4, NULL, 0, STATUS_FORMAT,
     "must be [begin, end], it has 1 entries"},
    {"negative offset", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", 4, NULL, 0,
     STATUS_FORMAT, "data_offsets[0] is -4"},
    {"entry not an object", "{\"w\": [1, 2]}", 0, NULL, 0, STATUS_FORMAT,
     "tensor \"w\": expected an object with dtype, shape and data_offsets, got an array"},
    {"field twice", "{\"w\": {\"dtype\": \"F32\", \"dtype\": \"F16\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
     NULL, 0, STATUS_FORMAT, "field \"dtype\" appears twice"},
    {"begin > end", "{\"w\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 4]}}", 8, NULL, 0,
     STATUS_FORMAT, "data_offsets [8, 4] begin after they end"},
    {"byte size mismatch", "{\"model.norm.weight\": {\"dtype\": \"F32\", \"shape\": [32], \"data_offsets\": [0, 100]}}",
     100, NULL, 0, STATUS_FORMAT,
     "tensor \"model.norm.weight\": data_offsets [0, 100] hold 100 bytes but F32 [32] needs 128"},
    {"scalar size mismatch", "{\"s\": {\"dtype\": \"BF16\", \"shape\": [], \"data_offsets\": [0, 4]}}", 4, NULL, 0,
     STATUS_FORMAT, "hold 4 bytes but BF16 [] needs 2"},
    {"past the end", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4, NULL, 0,
     STATUS_FORMAT, "data_offsets [0, 8] run past the end of the data section (4 bytes)"},
    /* the data section as a whole */
    {"gap",
     "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
     " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}",
     12, NULL, 0, STATUS_FORMAT,
     "gap of 4 bytes between tensor \"a\" (ends at 4) and tensor \"b\" (data_offsets [8, 12])"},
    {"overlap",
     "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
     " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}",
     12, NULL, 0, STATUS_FORMAT, "tensor \"b\" (data_offsets [4, 12]) overlaps tensor \"a\" (data_offsets [0, 8])"},
    {"same range twice",
     "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
     " \"b\": {\"dtype\": \"I32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
     4, NULL, 0, STATUS_FORMAT, "overlaps"},
    {"not starting at 0", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8, NULL, 0,
     STATUS_FORMAT, "the first tensor must start at byte 0"},
    {"trailing bytes", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 6, NULL, 0,
     STATUS_FORMAT, "2 trailing bytes after the last tensor"},
    {"data but no tensors", "{}", 3, NULL, 0, STATUS_FORMAT, "3 trailing bytes"},
    {"duplicate names",
     "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
     " \"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}",
     8, NULL, 0, STATUS_FORMAT, "tensor \"w\" appears twice in the header"},
    /* metadata */
    {"metadata non-string value", "{\"__metadata__\": {\"format\": \"pt\", \"step\": 3}}", 0, NULL, 0, STATUS_FORMAT,
     "\"__metadata__\" value for key \"step\" must be a string, got 3"},
    {"metadata not an object", "{\"__metadata__\": [\"pt\"]}", 0, NULL, 0, STATUS_FORMAT,
     "\"__metadata__\" must be an object of strings, got an array"},
    {"metadata null", "{\"__metadata__\": null}", 0, NULL, 0, STATUS_FORMAT, "got null"},
    {"metadata twice", "{\"__metadata__\": {}, \"__metadata__\": {}}", 0, NULL, 0, STATUS_FORMAT,
     "\"__metadata__\" appears twice"},
    {"metadata key twice", "{\"__metadata__\": {\"a\": \"1\", \"a\": \"2\"}}", 0, NULL, 0, STATUS_FORMAT,
     "has the key \"a\" twice"},
    /* a hostile name is quoted and escaped in the message */
    {"escape in name", "{\"\\u001b[31mred\": {\"dtype\": \"X\", \"shape\": [], \"data_offsets\": [0, 0]}}", 0, NULL, 0,
     STATUS_FORMAT, "tensor \"\\u001b[31mred\": unknown dtype"},
};

Test(safetensors_malformed, each_case_fails_with_a_clear_message) {
    char *dir = th_tmpdir("st-bad");
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        char name[64];
        snprintf(name, sizeof name, "bad-%02zu.safetensors", i);
        char *path = join(dir, name);
        struct bytes b = {0};
        if (c->header)
            b = make_file(c->header, c->data_len);
        else
            b_add(&b, c->raw, c->raw_len);
        cr_assert(th_write_file(path, b.p ? (const void *)b.p : "", b.n));
        struct st_file f;
        memset(&f, 0xAB, sizeof f);
        err_clear();
        enum status st = st_file_open(&f, path);
        cr_expect_eq(st, c->want, "%s: got %s: %s", c->label, status_name(st), err_msg());
        cr_expect(strncmp(err_msg(), path, strlen(path)) == 0, "%s: message must start with the path: %s", c->label,
                  err_msg());
        cr_expect(strstr(err_msg(), c->expect) != NULL, "%s: message lacks '%s': %s", c->label, c->expect, err_msg());
        cr_expect(is_zeroed(&f, sizeof f), "%s: struct not zeroed on failure", c->label);
        fprintf(stderr, "  %-26s %s\n", c->label, err_msg() + strlen(dir) + 1);
        free(b.p);
        free(path);
    }
    fs_remove_tree(dir);
    free(dir);
}

/* Valid files that a careless reader might refuse. */
Test(safetensors_malformed, unusual_but_valid_files_open) {
    static const struct {
        const char *label, *header;
        size_t data_len, n_tensors;
    } ok_cases[] = {
        {"empty header object", "{}", 0, 0},
        {"space padding", "{}      ", 0, 0},
        {"whitespace around", " \n{\"w\": {\"dtype\": \"U8\", \"shape\": [2], \"data_offsets\": [0, 2]}}\t\r\n ", 2, 1},
        {"offsets out of header order",
         "{\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]},"
         " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
         8, 2},
        {"empty tensors at one offset",
         "{\"z\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 4]},"
         " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
         " \"y\": {\"dtype\": \"I64\", \"shape\": [3, 0], \"data_offsets\": [4, 4]},"
         " \"x\": {\"dtype\": \"BOOL\", \"shape\": [0], \"data_offsets\": [0, 0]}}",
         4, 4},
        {"empty tensor, huge other dim",
         "{\"e\": {\"dtype\": \"F64\", \"shape\": [0, 9007199254740992], \"data_offsets\": [0, 0]}}", 0, 1},
        {"unknown extra field", "{\"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1], \"x\": [1.5]}}",
         1, 1},
        {"metadata only", "{\"__metadata__\": {}}", 0, 0},
        {"empty name", "{\"\": {\"dtype\": \"U8\", \"shape\": [], \"data_offsets\": [0, 1]}}", 1, 1},
        {"8 dimensions", "{\"w\": {\"dtype\": \"U8\", \"shape\": [1,1,1,1,1,1,1,2], \"data_offsets\": [0, 2]}}", 2, 1},
    };
    char *dir = th_tmpdir("st-okcases");
    for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
        char *path = join(dir, "ok.safetensors");
        struct bytes b = make_file(ok_cases[i].header, ok_cases[i].data_len);
        cr_assert(th_write_file(path, b.p ? (const void *)b.p : "", b.n));
        struct st_file f;
        enum status st = st_file_open(&f, path);
        cr_expect_eq(st, STATUS_OK, "%s: %s", ok_cases[i].label, err_msg());
        if (st == STATUS_OK) {
            cr_expect_eq(f.n_tensors, ok_cases[i].n_tensors, "%s", ok_cases[i].label);
            check_invariants(&f, b.p, b.n);
            st_file_free(&f);
        }
        free(b.p);
        free(path);
    }
    fs_remove_tree(dir);
    free(dir);
}

Test(safetensors_malformed, missing_file_and_directory_are_io_errors) {
    char *dir = th_tmpdir("st-io");
    char *path = join(dir, "absent.safetensors");
    struct st_file f;
    cr_expect_eq(st_file_open(&f, path), STATUS_IO);
    cr_expect(strstr(err_msg(), path) && strstr(err_msg(), "No such file"), "%s", err_msg());
    cr_expect_eq(st_file_open(&f, dir), STATUS_IO);
    cr_expect(strstr(err_msg(), "directory"), "%s", err_msg());
    fs_remove_tree(dir);
    free(path);
    free(dir);
}

/* ---- sets ------------------------------------------------------------------------------------------- */

/* Writes a one-tensor-per-name shard with st_write. */
static void write_shard(const char *dir, const char *file, const char *const *names, size_t n) {
    static const float v[2] = {1, 2};
    struct st_write_entry e[8];
    cr_assert(n <= 8);
    for (size_t i = 0; i < n; i++)
        e[i] = (struct st_write_entry){
            .name = names[i], .dtype = ST_F32, .src = ST_F32, .ndim = 1, .shape = {2}, .data = v};
    char *path = join(dir, file);
    cr_assert_eq(st_write(path, e, n, NULL), STATUS_OK, "%s", err_msg());
    free(path);
}

static void write_index(const char *dir, const char *json) {
    char *path = join(dir, "model.safetensors.index.json");
    cr_assert(th_write_file(path, json, strlen(json)));
    free(path);
}

Test(safetensors_set, index_errors_name_the_index_and_the_problem) {
    char *dir = th_tmpdir("st-set");
    struct st_set s;
    memset(&s, 0xAB, sizeof s);
    cr_expect_eq(st_set_open(&s, dir, "model"), STATUS_IO);
    cr_expect(strstr(err_msg(), dir) && strstr(err_msg(), "model.safetensors"), "%s", err_msg());
    cr_expect(strlen(err_hint_text()) > 0, "a missing checkpoint deserves a hint");
    cr_expect(is_zeroed(&s, sizeof s));

    char *sub = join(dir, "sub");
    cr_assert_eq(fs_mkdir_p(sub), STATUS_OK);
    write_shard(dir, "a.safetensors", (const char *const[]){"x", "y"}, 2);
    write_shard(dir, "b.safetensors", (const char *const[]){"x", "z"}, 2);
    write_shard(sub, "c.safetensors", (const char *const[]){"w"}, 1);

    static const struct {
        const char *label, *index;
        enum status want;
        const char *expect;
    } cases[] = {
        {"missing shard", "{\"weight_map\": {\"x\": \"a.safetensors\", \"q\": \"gone.safetensors\"}}", STATUS_IO,
         "gone.safetensors: cannot open"},
        {"tensor not in its shard", "{\"weight_map\": {\"x\": \"a.safetensors\", \"q\": \"a.safetensors\"}}",
         STATUS_FORMAT, "puts tensor \"q\" in"},
        {"parent directory", "{\"weight_map\": {\"x\": \"../a.safetensors\"}}", STATUS_FORMAT,
         "shard \"../a.safetensors\" is not a file inside"},
        {"parent inside path", "{\"weight_map\": {\"x\": \"sub/../../a.safetensors\"}}", STATUS_FORMAT,
         "not a file inside"},
        {"absolute path", "{\"weight_map\": {\"x\": \"/etc/passwd\"}}", STATUS_FORMAT, "not a file inside"},
        {"empty shard name", "{\"weight_map\": {\"x\": \"\"}}", STATUS_FORMAT, "not a file inside"},
        {"tensor in two shards",
         "{\"weight_map\": {\"x\": \"a.safetensors\", \"y\": \"a.safetensors\", \"z\": \"b.safetensors\"}}",
         STATUS_FORMAT, "tensor \"x\" is in two shards"},
        {"listed twice", "{\"weight_map\": {\"y\": \"a.safetensors\", \"y\": \"a.safetensors\"}}", STATUS_FORMAT,
         "lists tensor \"y\" twice"},
        {"shard not a string", "{\"weight_map\": {\"y\": 1}}", STATUS_FORMAT, "expected a shard file name, got 1"},
        {"no weight_map", "{\"metadata\": {}}", STATUS_FORMAT, "missing field \"weight_map\""},
        {"weight_map not an object", "{\"weight_map\": []}", STATUS_FORMAT, "\"weight_map\" must be an object"},
        {"index not an object", "[]", STATUS_FORMAT, "expected a JSON object"},
        {"index not JSON", "{weight_map}", STATUS_FORMAT, "malformed JSON"},
        {"shard is a directory", "{\"weight_map\": {\"x\": \"sub\"}}", STATUS_IO, "is a directory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_index(dir, cases[i].index);
        memset(&s, 0xAB, sizeof s);
        enum status st = st_set_open(&s, dir, "model");
        cr_expect_eq(st, cases[i].want, "%s: got %s: %s", cases[i].label, status_name(st), err_msg());
        cr_expect(strstr(err_msg(), "model.safetensors.index.json") && strstr(err_msg(), cases[i].expect),
                  "%s: message lacks '%s': %s", cases[i].label, cases[i].expect, err_msg());
        cr_expect(is_zeroed(&s, sizeof s), "%s: set not zeroed on failure", cases[i].label);
        const char *from_index = strstr(err_msg(), "model.safetensors.index.json");
        fprintf(stderr, "  %-26s %s\n", cases[i].label, from_index ? from_index : err_msg());
        if (st == STATUS_OK) st_set_free(&s);
    }

    /* A valid index with a shard in a subdirectory, and a shard tensor the index does not list (loaded too). */
    write_index(dir, "{\"metadata\": {\"total_size\": 24}, \"weight_map\": {\"x\": \"a.safetensors\", \"w\": "
                     "\"sub/c.safetensors\"}}");
    cr_assert_eq(st_set_open(&s, dir, "model"), STATUS_OK, "%s", err_msg());
    cr_expect_eq(s.n_files, 2);
    cr_expect_eq(s.n_tensors, 3);
    cr_expect_not_null(st_set_find(&s, "w"));
    cr_expect_not_null(st_set_find(&s, "y"));
    cr_expect_null(st_set_find(&s, "z"));
    st_set_free(&s);

    /* Empty weight_map: an empty checkpoint, not an error. */
    write_index(dir, "{\"weight_map\": {}}");
    cr_assert_eq(st_set_open(&s, dir, "model"), STATUS_OK, "%s", err_msg());
    cr_expect_eq(s.n_tensors, 0);
    cr_expect_null(st_set_find(&s, "x"));
    st_set_free(&s);

    /* The single file wins over an index, as in transformers. */
    write_shard(dir, "model.safetensors", (const char *const[]){"single"}, 1);
    write_index(dir, "{not json");
    cr_assert_eq(st_set_open(&s, dir, "model"), STATUS_OK, "%s", err_msg());
    cr_expect_not_null(st_set_find(&s, "single"));
    st_set_free(&s);

    /* A malformed single file is reported as itself. */
    char *bad = join(dir, "model.safetensors");
    cr_assert(th_write_file(bad, "short", 5));
    cr_expect_eq(st_set_open(&s, dir, "model"), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), bad) && strstr(err_msg(), "too short"), "%s", err_msg());
    free(bad);
    free(sub);
    fs_remove_tree(dir);
    free(dir);
}

/* ---- robustness ------------------------------------------------------------------------------------- */

/* A valid file with metadata and several dtypes, as bytes. */
static struct bytes valid_file_bytes(const char *dir) {
    static const float f[3] = {1.0f, -2.5f, 3.25f};
    static const int64_t l[2] = {7, -7};
    static const unsigned char u[3] = {1, 2, 3};
    struct st_write_entry e[4] = {
        {.name = "a.weight", .dtype = ST_BF16, .src = ST_F32, .ndim = 2, .shape = {1, 3}, .data = f},
        {.name = "b", .dtype = ST_I64, .src = ST_I64, .ndim = 1, .shape = {2}, .data = l},
        {.name = "c", .dtype = ST_U8, .src = ST_U8, .ndim = 1, .shape = {3}, .data = u},
        {.name = "s", .dtype = ST_F32, .src = ST_F32, .ndim = 0, .data = f},
    };
    cJSON *meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "format", "pt");
    char *path = join(dir, "valid.safetensors");
    cr_assert_eq(st_write(path, e, 4, meta), STATUS_OK, "%s", err_msg());
    cJSON_Delete(meta);
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(path, 1 << 20, &text, &len), STATUS_OK);
    struct bytes b = {0};
    b_add(&b, text, len);
    free(text);
    free(path);
    return b;
}

Test(safetensors_robust, truncation_at_every_byte_fails_cleanly) {
    char *dir = th_tmpdir("st-trunc");
    struct bytes v = valid_file_bytes(dir);
    char *path = join(dir, "t.safetensors");
    for (size_t k = 0; k < v.n; k++) {
        cr_assert(th_write_file(path, v.p, k));
        struct st_file f;
        enum status st = st_file_open(&f, path);
        cr_expect_eq(st, STATUS_FORMAT, "truncated at %zu of %zu: %s", k, v.n, status_name(st));
        cr_expect(strncmp(err_msg(), path, strlen(path)) == 0, "%s", err_msg());
        if (st == STATUS_OK) st_file_free(&f);
    }
    cr_assert(th_write_file(path, v.p, v.n));
    struct st_file f;
    cr_assert_eq(st_file_open(&f, path), STATUS_OK, "%s", err_msg());
    check_invariants(&f, v.p, v.n);
    st_file_free(&f);
    fprintf(stderr, "  truncation: %zu prefixes of a %zu-byte file all refused\n", v.n, v.n);
    free(v.p);
    free(path);
    fs_remove_tree(dir);
    free(dir);
}

Test(safetensors_robust, random_header_corruption_never_crashes) {
    char *dir = th_tmpdir("st-fuzz");
    struct bytes v = valid_file_bytes(dir);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | v.p[i];
    size_t span = 8 + (size_t)hlen; /* the length prefix and the header */
    char *path = join(dir, "f.safetensors");
    unsigned char *m = malloc(v.n);
    /* Bytes that make corruption hit the grammar rather than only the strings. */
    static const unsigned char interesting[] = {'{', '}', '[', ']',  '"', ':',  ',',  '-',  '.', 'e',
                                                '0', '1', '9', '\\', ' ', 0x00, 0x80, 0xC3, 0xFF};
    size_t n_ok = 0, n_fail = 0;
    rng_state = 12345;
    for (int iter = 0; iter < 4000; iter++) {
        memcpy(m, v.p, v.n);
        int flips = 1 + (int)(rng_next() % 3);
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)(rng_next() % span);
            uint64_t r = rng_next();
            m[at] = (r & 1) ? interesting[(r >> 1) % sizeof interesting] : (unsigned char)(r >> 8);
        }
        cr_assert(th_write_file(path, m, v.n));
        struct st_file f;
        enum status st = st_file_open(&f, path);
        if (st == STATUS_OK) {
            n_ok++;
            check_invariants(&f, m, v.n);
            st_file_free(&f);
        } else {
            n_fail++;
            cr_expect(st == STATUS_FORMAT || st == STATUS_UNSUPPORTED, "iteration %d: %s: %s", iter, status_name(st),
                      err_msg());
            cr_expect(strncmp(err_msg(), path, strlen(path)) == 0, "iteration %d: %s", iter, err_msg());
            cr_expect(is_zeroed(&f, sizeof f));
        }
    }
    fprintf(stderr, "  header corruption: %zu files refused, %zu still valid (invariants hold)\n", n_fail, n_ok);
    free(m);
    free(v.p);
    free(path);
    fs_remove_tree(dir);
    free(dir);
}

/* A header that is small in bytes but huge in JSON values is refused before cJSON allocates ~64 bytes for each:
 * 100 MB of "0," would otherwise cost 4 GB. */
Test(safetensors_robust, header_with_too_many_values_is_refused_cheaply) {
    const char *head = "{\"w\": {\"dtype\": \"U8\", \"shape\": [0], \"data_offsets\": [0, 0], \"x\": [";
    const size_t zeros = 8u * 1000u * 1000u + 10;
    struct bytes h = {0};
    b_add(&h, head, strlen(head));
    char *run = malloc(2 * zeros);
    for (size_t i = 0; i < zeros; i++) run[2 * i] = '0', run[2 * i + 1] = ',';
    b_add(&h, run, 2 * zeros - 1);
    b_add(&h, "]}}", 3);
    struct bytes b = {0};
    b_u64(&b, h.n);
    b_add(&b, h.p, h.n);
    char *dir = th_tmpdir("st-values");
    char *path = join(dir, "many.safetensors");
    cr_assert(th_write_file(path, b.p, b.n));
    struct st_file f;
    cr_expect_eq(st_file_open(&f, path), STATUS_UNSUPPORTED);
    cr_expect(strstr(err_msg(), path) && strstr(err_msg(), "JSON values, more than the 8000000"), "%s", err_msg());
    fs_remove_tree(dir);
    free(path);
    free(dir);
    free(run);
    free(h.p);
    free(b.p);
}
