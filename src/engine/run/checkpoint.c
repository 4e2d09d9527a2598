/* checkpoint: atomic save of the HF directory + optimizer + trainer state, and loading them back. */
#include "engine/run/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/run/origin.h"
#include "engine/util/fsutil.h"
#include "engine/util/json.h"

static enum status write_json(const char *dir, const char *name, const cJSON *obj) {
    char path[PATH_MAX];
    TRY(fs_join(path, sizeof path, dir, name));
    char *text = cJSON_Print(obj);
    if (!text) return err_set(STATUS_NOMEM, "%s: cannot format JSON", path);
    size_t n = strlen(text);
    text[n] = '\n'; /* replace the terminator with a final newline; length tracked explicitly */
    enum status st = fs_write_atomic(path, text, n + 1);
    free(text);
    return st;
}

static enum status copy_tokenizer(const char *src, const char *dir) {
    char from_dir[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
    if (fs_is_dir(src)) {
        snprintf(from_dir, sizeof from_dir, "%s", src);
        TRY(fs_join(from, sizeof from, src, "tokenizer.json"));
    } else {
        fs_dirname(from_dir, sizeof from_dir, src);
        snprintf(from, sizeof from, "%s", src);
    }
    TRY(fs_join(to, sizeof to, dir, "tokenizer.json"));
    TRY(fs_copy_file(from, to));
    /* tokenizer_config.json tells transformers which tokenizer class to build; keep the original's. */
    TRY(fs_join(from, sizeof from, from_dir, "tokenizer_config.json"));
    TRY(fs_join(to, sizeof to, dir, "tokenizer_config.json"));
    if (fs_exists(from)) return fs_copy_file(from, to);
    cJSON *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(cfg, "tokenizer_class", "PreTrainedTokenizerFast");
    enum status st = write_json(dir, "tokenizer_config.json", cfg);
    cJSON_Delete(cfg);
    return st;
}

static enum status save_optimizer(const char *dir, const struct optimizer *o) {
    const struct model *m = o->model;
    struct backend *be = m->be;
    size_t n = m->n_params;
    float *host = malloc(2 * n * sizeof(float));
    struct st_write_entry *e = calloc(2 * m->n_tensors, sizeof *e);
    char(*names)[112] = calloc(2 * m->n_tensors, sizeof *names);
    enum status st = (host && e && names) ? STATUS_OK : err_set(STATUS_NOMEM, "cannot stage optimizer state");
    if (st == STATUS_OK) {
        be->ops->download(be, host, o->m, n * sizeof(float));
        be->ops->download(be, host + n, o->v, n * sizeof(float));
        st = be->ops->check(be);
    }
    for (size_t i = 0; st == STATUS_OK && i < m->n_tensors; i++) {
        const struct param_tensor *p = &m->tensors[i];
        for (int k = 0; k < 2; k++) {
            size_t j = 2 * i + (size_t)k;
            snprintf(names[j], sizeof names[j], "%s.%s", p->name, k ? "exp_avg_sq" : "exp_avg");
            e[j] = (struct st_write_entry){.name = names[j], .dtype = ST_F32, .src = ST_F32, .ndim = p->ndim,
                                           .data = host + (size_t)k * n + p->offset};
            e[j].shape[0] = p->shape[0];
            e[j].shape[1] = p->shape[1];
        }
    }
    if (st == STATUS_OK) {
        cJSON *meta = cJSON_CreateObject();
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)o->step);
        cJSON_AddStringToObject(meta, "step", buf);
        snprintf(buf, sizeof buf, "%lld", (long long)o->adam_step);
        cJSON_AddStringToObject(meta, "adam_step", buf);
        snprintf(buf, sizeof buf, "%lld", (long long)o->skipped);
        cJSON_AddStringToObject(meta, "skipped", buf);
        char path[PATH_MAX];
        st = fs_join(path, sizeof path, dir, "optimizer.safetensors");
        if (st == STATUS_OK) st = st_write(path, e, 2 * m->n_tensors, meta);
        cJSON_Delete(meta);
    }
    free(host);
    free(e);
    free(names);
    return st;
}

static enum status generation_config(const char *dir, const struct model_config *c) {
    cJSON *g = cJSON_CreateObject();
    if (c->bos_token_id >= 0) cJSON_AddNumberToObject(g, "bos_token_id", c->bos_token_id);
    if (c->n_eos == 1) {
        cJSON_AddNumberToObject(g, "eos_token_id", c->eos_token_ids[0]);
    } else if (c->n_eos > 1) {
        cJSON *a = cJSON_AddArrayToObject(g, "eos_token_id");
        for (int i = 0; i < c->n_eos; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(c->eos_token_ids[i]));
    }
    enum status st = write_json(dir, "generation_config.json", g);
    cJSON_Delete(g);
    return st;
}

enum status checkpoint_save(const char *dir, const struct checkpoint_contents *c) {
    char tmp[PATH_MAX], old[PATH_MAX], parent[PATH_MAX], path[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", dir, (long)getpid()) >= (int)sizeof tmp ||
        snprintf(old, sizeof old, "%s.old-%ld", dir, (long)getpid()) >= (int)sizeof old)
        return err_set(STATUS_INVALID, "%s: path too long", dir);
    fs_dirname(parent, sizeof parent, dir);
    TRY(fs_mkdir_p(parent));
    TRY(fs_remove_tree(tmp));
    TRY(fs_mkdir_p(tmp));
    cJSON *cfg = model_config_to_json(&c->model->cfg);
    enum status st = write_json(tmp, "config.json", cfg);
    cJSON_Delete(cfg);
    if (st == STATUS_OK) st = generation_config(tmp, &c->model->cfg);
    if (st == STATUS_OK) st = fs_join(path, sizeof path, tmp, "model.safetensors");
    if (st == STATUS_OK) st = model_save_weights(c->model, path, c->weights_dtype);
    if (st == STATUS_OK && c->tokenizer_dir) st = copy_tokenizer(c->tokenizer_dir, tmp);
    if (st == STATUS_OK && c->optim) st = save_optimizer(tmp, c->optim);
    if (st == STATUS_OK && c->trainer_state) st = write_json(tmp, "trainer_state.json", c->trainer_state);
    if (st == STATUS_OK && c->training_config) st = write_json(tmp, ORIGIN_FILE, c->training_config);
    if (st == STATUS_OK) st = fs_fsync_path(tmp);
    /* Replace an existing checkpoint of the same name. Exchanging the two names is one atomic step, so `dir` is a
     * whole checkpoint at every instant (a kill can strike anywhere); tmp then holds the old one, dropped below.
     * Where the filesystem cannot exchange, move the old one aside first (checkpoint_clean_stale puts it back
     * if a kill lands between the two renames). */
    bool had_old = st == STATUS_OK && fs_exists(dir);
    if (had_old && renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) == 0) {
        st = fs_fsync_path(parent);
        fs_remove_tree(tmp);
        if (st != STATUS_OK) err_prefix("saving checkpoint %s: ", dir);
        return st;
    }
    if (had_old && errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        st = err_set_errno(STATUS_IO, "%s: cannot exchange with %s", tmp, dir);
    if (st == STATUS_OK && had_old && rename(dir, old) != 0) st = err_set_errno(STATUS_IO, "%s: cannot move aside", dir);
    if (st == STATUS_OK && rename(tmp, dir) != 0) {
        st = err_set_errno(STATUS_IO, "%s: cannot rename to %s", tmp, dir);
        if (had_old) rename(old, dir);
    }
    if (st == STATUS_OK) st = fs_fsync_path(parent);
    if (st != STATUS_OK) {
        err_prefix("saving checkpoint %s: ", dir);
        fs_remove_tree(tmp);
        return st;
    }
    if (had_old) fs_remove_tree(old);
    return STATUS_OK;
}

static enum status meta_int(const struct st_file *f, const char *key, int64_t *out) {
    const cJSON *v = f->metadata ? cJSON_GetObjectItemCaseSensitive(f->metadata, key) : NULL;
    if (!cJSON_IsString(v)) return err_set(STATUS_FORMAT, "%s: metadata \"%s\" missing", f->path, key);
    char *end;
    errno = 0;
    long long x = strtoll(v->valuestring, &end, 10);
    if (errno || *end || x < 0) return err_set(STATUS_FORMAT, "%s: metadata \"%s\" is not a count", f->path, key);
    *out = x;
    return STATUS_OK;
}

enum status checkpoint_load_optimizer(const char *dir, struct optimizer *o) {
    char path[PATH_MAX];
    TRY(fs_join(path, sizeof path, dir, "optimizer.safetensors"));
    struct st_file f;
    TRY(st_file_open(&f, path));
    const struct model *m = o->model;
    struct backend *be = m->be;
    size_t max_numel = 0;
    for (size_t i = 0; i < m->n_tensors; i++) max_numel = m->tensors[i].numel > max_numel ? m->tensors[i].numel : max_numel;
    float *staging = malloc(max_numel * sizeof(float));
    enum status st = staging ? STATUS_OK : err_set(STATUS_NOMEM, "cannot stage optimizer state");
    for (size_t i = 0; st == STATUS_OK && i < m->n_tensors; i++) {
        const struct param_tensor *p = &m->tensors[i];
        for (int k = 0; k < 2 && st == STATUS_OK; k++) {
            char name[112];
            snprintf(name, sizeof name, "%s.%s", p->name, k ? "exp_avg_sq" : "exp_avg");
            const struct st_tensor *t = st_file_find(&f, name);
            if (!t || t->numel != p->numel || t->dtype != ST_F32) {
                st = err_set(STATUS_FORMAT, "%s: tensor \"%s\" missing or of the wrong shape/dtype", path, name);
                break;
            }
            st = st_tensor_to_f32(t, staging, p->numel);
            if (st == STATUS_OK) be->ops->upload(be, (k ? o->v : o->m) + p->offset, staging, p->numel * sizeof(float));
        }
    }
    if (st == STATUS_OK) st = meta_int(&f, "step", &o->step);
    if (st == STATUS_OK) st = meta_int(&f, "adam_step", &o->adam_step);
    if (st == STATUS_OK) st = meta_int(&f, "skipped", &o->skipped);
    if (st == STATUS_OK) st = be->ops->check(be);
    free(staging);
    st_file_free(&f);
    return st;
}

enum status checkpoint_load_state(const char *dir, cJSON **state) {
    char path[PATH_MAX];
    TRY(fs_join(path, sizeof path, dir, "trainer_state.json"));
    return json_parse_file(path, 64u << 20, state);
}

enum status checkpoint_step_dir(char *out, size_t cap, const char *run_dir, int64_t step) {
    int n = snprintf(out, cap, "%s/checkpoints/step-%06lld", run_dir, (long long)step);
    if (n < 0 || (size_t)n >= cap) return err_set(STATUS_INVALID, "%s: path too long", run_dir);
    return STATUS_OK;
}

enum status checkpoint_set_latest(const char *run_dir, int64_t step) {
    char target[64], link[PATH_MAX], tmp[PATH_MAX];
    snprintf(target, sizeof target, "checkpoints/step-%06lld", (long long)step);
    TRY(fs_join(link, sizeof link, run_dir, "latest"));
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", link, (long)getpid()) >= (int)sizeof tmp)
        return err_set(STATUS_INVALID, "%s: path too long", link);
    unlink(tmp);
    if (symlink(target, tmp) != 0) return err_set_errno(STATUS_IO, "%s: cannot create link", tmp);
    if (rename(tmp, link) != 0) {
        enum status st = err_set_errno(STATUS_IO, "%s: cannot replace", link);
        unlink(tmp);
        return st;
    }
    return fs_fsync_path(run_dir);
}

enum status checkpoint_find_latest(const char *run_dir, char *out, size_t cap, int64_t *step) {
    char link[PATH_MAX], target[PATH_MAX];
    *step = -1;
    out[0] = '\0';
    TRY(fs_join(link, sizeof link, run_dir, "latest"));
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) {
        if (errno == ENOENT) return STATUS_OK;
        return err_set_errno(STATUS_IO, "%s: cannot read link", link);
    }
    target[n] = '\0';
    const char *base = strrchr(target, '/');
    base = base ? base + 1 : target;
    long long s;
    if (sscanf(base, "step-%lld", &s) != 1 || s < 0)
        return err_set(STATUS_FORMAT, "%s: points at \"%s\", not a checkpoints/step-N directory", link, target);
    TRY(fs_join(out, cap, run_dir, target));
    if (!fs_is_dir(out)) return err_set(STATUS_IO, "%s: points at %s, which does not exist", link, out);
    *step = s;
    return STATUS_OK;
}

enum status checkpoint_resolve(const char *name, char *out, size_t cap) {
    const char *at = strrchr(name, '@');
    if (!at || fs_is_dir(name)) {
        if (!fs_is_dir(name)) {
            enum status st = err_set(STATUS_IO, "%s: no such checkpoint directory", name);
            err_hint("name a checkpoint directory, RUN_DIR@STEP or RUN_DIR@latest");
            return st;
        }
        if ((size_t)snprintf(out, cap, "%s", name) >= cap) return err_set(STATUS_INVALID, "%s: path too long", name);
        /* A checkpoint has weights; a run directory has a config.json too (the training config), so weights,
         * not config.json, tell the two apart. */
        char w[PATH_MAX], idx[PATH_MAX];
        TRY(fs_join(w, sizeof w, out, "model.safetensors"));
        TRY(fs_join(idx, sizeof idx, out, "model.safetensors.index.json"));
        if (fs_exists(w) || fs_exists(idx)) return STATUS_OK;
        /* A run directory on its own means its latest checkpoint. */
        int64_t step;
        TRY(checkpoint_find_latest(name, out, cap, &step));
        if (step >= 0) return STATUS_OK;
        enum status st = err_set(STATUS_IO, "%s: has no model.safetensors and no checkpoints", name);
        err_hint("a checkpoint directory holds config.json and model.safetensors; a run directory, checkpoints/");
        return st;
    }
    char run[PATH_MAX];
    size_t len = (size_t)(at - name);
    if (len == 0 || len >= sizeof run) return err_set(STATUS_INVALID, "%s: bad checkpoint name", name);
    memcpy(run, name, len);
    run[len] = '\0';
    if (!fs_is_dir(run)) return err_set(STATUS_IO, "%s: no such run directory", run);
    const char *which = at + 1;
    if (strcmp(which, "latest") == 0) {
        int64_t step;
        TRY(checkpoint_find_latest(run, out, cap, &step));
        if (step < 0) return err_set(STATUS_IO, "%s: the run has no checkpoint yet", run);
        return STATUS_OK;
    }
    char *end;
    errno = 0;
    long long step = strtoll(which, &end, 10);
    if (errno || *end || end == which || step < 0) {
        enum status st = err_set(STATUS_INVALID, "%s: \"%s\" is not a step number", name, which);
        err_hint("use RUN_DIR@STEP (e.g. runs/zero@400) or RUN_DIR@latest");
        return st;
    }
    TRY(checkpoint_step_dir(out, cap, run, step));
    if (!fs_is_dir(out)) return err_set(STATUS_IO, "%s: no checkpoint for step %lld (%s)", name, step, out);
    return STATUS_OK;
}
