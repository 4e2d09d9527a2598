/* The metrics table (src/engine/run/metric.h) against everything that depends on it:
 * - docs/run-format.md: the key table between its "metrics table" markers is exactly the table rendered as
 *   markdown (R1LAB_UPDATE_DOCS=1 rewrites it in place, for a deliberate change);
 * - the dashboard: every key it parses is a table entry;
 * - real short runs of pretrain, sft and grpo (with held-out evaluations, beta > 0 and num_iterations = 2) on
 *   the tiny fixture model: every key a stage is listed as writing appears at least once unless the table says
 *   it appears only sometimes (and then the settings the run uses must produce kl and loss/last_iteration), and
 *   every key that appears is in the table with that stage among its writers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/run/metric.h"
#include "engine/util/fsutil.h"
#include "engine/util/strbuf.h"
#include "harness.h"
#include "tui/metrics.h"

#define BEGIN_MARK "<!-- metrics table: generated from src/engine/run/metric.c; tests/test_metric_table.c checks it -->"
#define END_MARK "<!-- end of metrics table -->"

static void render_table(struct strbuf *md) {
    strbuf_puts(md, BEGIN_MARK "\n");
    strbuf_puts(md, "| key | unit | written by | meaning |\n|---|---|---|---|\n");
    for (int i = 0; i < METRIC_COUNT; i++) {
        const struct metric_info *m = metric_info((enum metric_id)i);
        char writers[64];
        metric_writers_text(m->writers, writers, sizeof writers);
        strbuf_printf(md, "| `%s` | %s | %s | %s", m->name, m->unit, writers, m->meaning);
        if (m->flags & METRIC_SOMETIMES) strbuf_printf(md, " (only when %s)", m->when);
        strbuf_puts(md, " |\n");
    }
    strbuf_puts(md, END_MARK);
}

Test(metric_table, run_format_doc_lists_every_key) {
    char *path = th_path("docs/run-format.md");
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(path, 1 << 20, &text, &len), STATUS_OK, "%s", err_msg());
    char *b = strstr(text, BEGIN_MARK), *e = b ? strstr(b, END_MARK) : NULL;
    cr_assert(b && e, "docs/run-format.md has no generated metrics table between its markers");
    e += strlen(END_MARK);
    struct strbuf want = {0};
    
    render_table(&want);
    bool same = (size_t)(e - b) == want.len && memcmp(b, want.data, want.len) == 0;
    if (!same && getenv("R1LAB_UPDATE_DOCS")) {
        struct strbuf out = {0};
        
        strbuf_append(&out, text, (size_t)(b - text));
        strbuf_append(&out, want.data, want.len);
        strbuf_puts(&out, e);
        cr_assert_eq(fs_write_atomic(path, out.data, out.len), STATUS_OK);
        strbuf_free(&out);
        same = true;
    }
    cr_expect(same, "docs/run-format.md's metrics table differs from src/engine/run/metric.c; it should read:\n%s\n"
                    "(R1LAB_UPDATE_DOCS=1 make test rewrites it)",
              want.data);
    strbuf_free(&want);
    free(text);
    free(path);
}

Test(metric_table, every_dashboard_key_is_in_the_table) {
    for (int m = 0; m < M_COUNT; m++) {
        const char *k = metrics_key((enum metric)m);
        cr_expect(metric_lookup(k) >= 0, "the dashboard reads \"%s\", which the table does not define", k);
    }
    cr_expect_eq(metric_lookup("rewards/accuracy/mean"), METRIC_REWARD_FUNC_MEAN);
    cr_expect_eq(metric_lookup("rewards/format/std"), METRIC_REWARD_FUNC_STD);
    cr_expect_eq(metric_lookup("rewards/a/b/mean"), -1, "<name> is one path part");
    cr_expect_eq(metric_lookup("rewards//mean"), -1);
    cr_expect_eq(metric_lookup("eval/pass@1"), METRIC_EVAL_PASS1);
    cr_expect_eq(metric_lookup("no/such/key"), -1);
}

/* Keys seen in a run's metrics.jsonl, each checked against the table on the way. */
struct seen {
    bool id[METRIC_COUNT];
};

static void scan_run(const char *run, unsigned writers, struct seen *seen) {
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run);
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(path, 1 << 24, &text, &len), STATUS_OK, "%s", err_msg());
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        cJSON *o = cJSON_Parse(line);
        cr_assert(o != NULL, "%s: line %d is not JSON", path, lines + 1);
        const cJSON *it;
        cJSON_ArrayForEach(it, o) {
            int id = metric_lookup(it->string);
            cr_expect(id >= 0, "%s writes \"%s\", which the metrics table does not define", run, it->string);
            if (id < 0) continue;
            cr_expect(metric_info((enum metric_id)id)->writers & writers,
                      "%s writes \"%s\", but the table does not list this stage among its writers", run, it->string);
            seen->id[id] = true;
        }
        cJSON_Delete(o);
    }
    cr_assert(lines > 0, "%s wrote no metrics", run);
    free(text);
}

static void expect_every_key(const struct seen *seen, unsigned writers, const char *stage) {
    for (int i = 0; i < METRIC_COUNT; i++) {
        const struct metric_info *m = metric_info((enum metric_id)i);
        if (!(m->writers & writers) || (m->flags & METRIC_SOMETIMES)) continue;
        cr_expect(seen->id[i], "a %s run never wrote \"%s\", which the table (and docs/run-format.md) promise", stage,
                  m->name);
    }
}

static void train(const char *config, const char *run, const char *extra) {
    char *root = th_path("");
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' train --headless '%s' output_dir='%s' %s", root, th_bin(), config, run,
             extra);
    struct th_run r = th_sh(cmd);
    cr_assert_eq(r.exit_code, 0, "%s\n%s", cmd, r.err);
    th_run_free(&r);
    free(root);
}

Test(metric_table, a_grpo_run_writes_every_key_it_promises, .timeout = 300) {
    char *dir = th_tmpdir("metrics-grpo");
    char *config = th_path("tests/fixtures/grpo/tiny.json");
    /* tiny.json has beta 0.04 and num_iterations 2, so kl and loss/last_iteration must be there too. */
    train(config, dir, "max_steps=2 eval_steps=1 eval_problems=4 eval_k=2 save_steps=0");
    struct seen seen = {0};
    unsigned w = METRIC_BY_TRAINER | METRIC_BY_GRPO | METRIC_BY_EVAL;
    scan_run(dir, w, &seen);
    expect_every_key(&seen, w, "grpo");
    cr_expect(seen.id[METRIC_KL], "beta > 0 but no kl was written");
    cr_expect(seen.id[METRIC_LOSS_LAST_ITERATION], "num_iterations = 2 but no loss/last_iteration was written");
    cr_expect(seen.id[METRIC_REWARD_FUNC_MEAN] && seen.id[METRIC_REWARD_FUNC_STD]);
    free(config);
    free(dir);
}

static void lm_run(const char *stage, const char *dataset) {
    char *dir = th_tmpdir("metrics-lm");
    char *model = th_path("tests/fixtures/models/qwen2_tiny");
    char config[4200], text[8192];
    snprintf(config, sizeof config, "%s/lm.json", dir);
    snprintf(text, sizeof text,
             "{\"stage\": \"%s\", \"model_name_or_path\": \"%s\", \"dataset\": \"%s\", \"dataset_size\": 40,\n"
             " \"max_seq_length\": 48, \"per_device_train_batch_size\": 2, \"max_steps\": 2, \"save_steps\": 0,\n"
             " \"threads\": 1}\n",
             stage, model, dataset);
    cr_assert(th_write_file(config, text, strlen(text)));
    char run[4200];
    snprintf(run, sizeof run, "%s/run", dir);
    train(config, run, "");
    struct seen seen = {0};
    unsigned w = METRIC_BY_TRAINER | METRIC_BY_LM;
    scan_run(run, w, &seen);
    expect_every_key(&seen, w, stage);
    free(model);
    free(dir);
}

Test(metric_table, pretrain_and_sft_runs_write_every_key_they_promise, .timeout = 300) {
    lm_run("pretrain", "world:corpus");
    char *dir = th_tmpdir("metrics-sft-data");
    char data[4200], lines[2048] = "";
    snprintf(data, sizeof data, "%s/sft.jsonl", dir);
    for (int i = 0; i < 8; i++) {
        size_t n = strlen(lines);
        snprintf(lines + n, sizeof lines - n, "{\"prompt\": \"Compute: %d + %d\", \"completion\": \" %d\"}\n", i, i + 1,
                 2 * i + 1);
    }
    cr_assert(th_write_file(data, lines, strlen(lines)));
    lm_run("sft", data);
    free(dir);
}
