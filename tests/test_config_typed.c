/* The typed configuration (struct config_values, filled from the key table):
 * - every typed field holds the resolved value of its key, for every stage, defaults and set values alike;
 * - every default is allowed by its own key (so a config without the key always resolves);
 * - the choices of string keys are exactly the names the modules that read them accept;
 * - a value outside its range or choices is refused with the key, the value and what is allowed, blaming the
 *   file or the override that set it; nested overrides set nested fields;
 * - `r1lab train` refuses bad values (of the table and of the stage's own checks) before it writes anything. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model/optim.h"
#include "engine/rl/grpo_loss.h"
#include "engine/run/config.h"
#include "engine/tokenizer/template.h"
#include "engine/util/fsutil.h"
#include "harness.h"

static enum status resolve(struct config *c, const char *json, char *const *ov, int n) {
    cJSON *root = cJSON_Parse(json);
    cr_assert(root != NULL, "bad test JSON: %s", json);
    return config_resolve(c, root, "test.json", ov, n);
}

static const cJSON *key_of(const struct config *c, const struct config_key *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->root, k->name);
    return v ? v : cJSON_GetObjectItemCaseSensitive(c->others, k->name);
}

/* Every field against the JSON value of its key. */
static void expect_fields_match(const struct config *c) {
    for (size_t i = 0; i < config_n_keys; i++) {
        const struct config_key *k = &config_keys[i];
        const cJSON *v = key_of(c, k);
        cr_assert(v != NULL, "%s is in neither the resolved object nor the others", k->name);
        const char *field = (const char *)&c->v + k->offset;
        bool null = cJSON_IsNull(v);
        switch (k->type) {
        case CONFIG_INT:
            cr_expect_eq(*(const int64_t *)(const void *)field, null ? 0 : (int64_t)v->valuedouble, "%s", k->name);
            break;
        case CONFIG_NUMBER: {
            double d = *(const double *)(const void *)field;
            cr_expect(null ? isnan(d) : d == v->valuedouble, "%s: field %g, value %g", k->name, d, v->valuedouble);
            break;
        }
        case CONFIG_BOOL: cr_expect_eq(*(const bool *)(const void *)field, cJSON_IsTrue(v), "%s", k->name); break;
        case CONFIG_STRING: {
            const char *s = *(const char *const *)(const void *)field;
            cr_expect(null ? s == NULL : s && strcmp(s, v->valuestring) == 0, "%s", k->name);
            break;
        }
        default: cr_expect_eq(*(const cJSON *const *)(const void *)field, null ? NULL : v, "%s", k->name);
        }
    }
}

Test(config_typed, every_field_holds_its_keys_value_in_every_stage) {
    const char *stages[] = {"pretrain", "sft", "grpo"};
    for (int s = 0; s < 3; s++) {
        char json[256];
        snprintf(json, sizeof json, "{\"stage\": \"%s\", \"max_steps\": 7}", stages[s]);
        struct config c;
        cr_assert_eq(resolve(&c, json, NULL, 0), STATUS_OK, "defaults of %s: %s", stages[s], err_msg());
        expect_fields_match(&c);
        config_free(&c);
    }
    char *ov[] = {"learning_rate=0.25", "epsilon_high=0.3", "num_generations=3", "template=raw",
                  "mask_truncated_completions=true", "world.tasks.linear=2", "save_total_limit=2"};
    struct config c;
    cr_assert_eq(resolve(&c, "{\"stage\": \"grpo\", \"max_steps\": 7}", ov, 7), STATUS_OK, "%s", err_msg());
    expect_fields_match(&c);
    cr_expect_eq(c.v.optim.learning_rate, 0.25);
    cr_expect_eq(c.v.grpo.epsilon_high, 0.3);
    cr_expect_eq(c.v.grpo.num_generations, 3);
    cr_expect_str_eq(c.v.grpo.template, "raw");
    cr_expect(c.v.grpo.mask_truncated_completions);
    cr_expect_eq(c.v.run.save_total_limit, 2);
    config_free(&c);
}

Test(config_typed, every_default_is_allowed_and_offsets_are_distinct) {
    for (size_t i = 0; i < config_n_keys; i++) {
        const struct config_key *k = &config_keys[i];
        cr_expect(k->offset + 1 <= sizeof(struct config_values), "%s", k->name);
        for (size_t j = 0; j < i; j++)
            cr_expect_neq(config_keys[j].offset, k->offset, "%s and %s share a field", config_keys[j].name, k->name);
        cr_expect((k->range.has_lo || k->range.has_hi) == false || k->type == CONFIG_INT || k->type == CONFIG_NUMBER,
                  "%s has a range but is not a number", k->name);
        cr_expect(!k->choices || k->type == CONFIG_STRING, "%s has choices but is not a string", k->name);
    }
    /* A config with only the required keys resolves in each stage: check_allowed passed every default. */
}

/* The names a key's choices list, split. */
static int split_choices(const char *choices, char names[][32], int cap) {
    int n = 0;
    for (const char *p = choices; *p && n < cap; n++) {
        size_t len = strcspn(p, "|");
        snprintf(names[n], 32, "%.*s", (int)len, p);
        p += len + (p[len] == '|');
    }
    return n;
}

static const struct config_key *find(const char *name) {
    for (size_t i = 0; i < config_n_keys; i++)
        if (strcmp(config_keys[i].name, name) == 0) return &config_keys[i];
    cr_assert_fail("no key %s", name);
    return NULL;
}

Test(config_typed, string_choices_are_what_the_modules_accept) {
    char names[16][32];
    int n = split_choices(find("template")->choices, names, 16);
    cr_expect_eq(n, TEMPLATE_COUNT);
    for (int i = 0; i < n && i < TEMPLATE_COUNT; i++) cr_expect_str_eq(names[i], template_name((enum template_kind)i));
    n = split_choices(find("lr_scheduler_type")->choices, names, 16);
    cr_expect_eq(n, 4);
    for (int i = 0; i < n; i++) {
        enum lr_schedule s;
        cr_expect_eq(lr_schedule_parse(names[i], &s), STATUS_OK, "%s", names[i]);
        cr_expect_str_eq(lr_schedule_name(s), names[i]);
    }
    cr_expect_neq(lr_schedule_parse("cosine_with_restarts", &(enum lr_schedule){0}), STATUS_OK);
    n = split_choices(find("loss_type")->choices, names, 16);
    cr_expect_eq(n, 3);
    for (int i = 0; i < n; i++) {
        enum grpo_loss_type t;
        cr_expect_eq(grpo_loss_type_parse(names[i], &t), STATUS_OK, "%s", names[i]);
        cr_expect_str_eq(grpo_loss_type_name(t), names[i]);
    }
    cr_expect_neq(grpo_loss_type_parse("bnpo", &(enum grpo_loss_type){0}), STATUS_OK);
}

/* Resolves and expects a refusal whose message contains every one of the NULL-terminated strings. */
static void expect_refused(const char *json, char *const *ov, int n, ...) {
    struct config c;
    enum status st = resolve(&c, json, ov, n);
    cr_expect_neq(st, STATUS_OK, "%s with %d overrides was accepted", json, n);
    if (st == STATUS_OK) {
        config_free(&c);
        return;
    }
    char msg[2048];
    snprintf(msg, sizeof msg, "%s | hint: %s", err_msg(), err_hint_text());
    va_list ap;
    va_start(ap, n);
    for (const char *want; (want = va_arg(ap, const char *)) != NULL;)
        cr_expect(strstr(msg, want) != NULL, "the message lacks \"%s\": %s", want, msg);
    va_end(ap);
}

Test(config_typed, bad_values_name_the_key_the_value_the_range_and_their_source) {
    const char *grpo = "{\"stage\": \"grpo\", \"max_steps\": 3}";
    char *lr[] = {"learning_rate=-1"};
    expect_refused(grpo, lr, 1, "the override learning_rate=-1", "\"learning_rate\" is -1", "allowed >= 0", NULL);
    expect_refused("{\"stage\": \"grpo\", \"max_steps\": 3, \"learning_rate\": -1}", NULL, 0, "test.json:",
                   "\"learning_rate\" is -1", NULL);
    char *temp[] = {"temperature=0"};
    expect_refused(grpo, temp, 1, "\"temperature\" is 0", "allowed > 0", "nothing is learnt", NULL);
    char *top_p[] = {"top_p=1.5"};
    expect_refused(grpo, top_p, 1, "\"top_p\" is 1.5", "allowed in (0, 1]", NULL);
    char *beta1[] = {"adam_beta1=1"};
    expect_refused(grpo, beta1, 1, "allowed in [0, 1)", NULL);
    char *gens[] = {"num_generations=0"};
    expect_refused(grpo, gens, 1, "\"num_generations\" is 0", "allowed >= 1", NULL);
    char *sched[] = {"lr_scheduler_type=cosin"};
    expect_refused(grpo, sched, 1, "\"cosin\"", "one of constant, constant_with_warmup, linear, cosine",
                   "did you mean \"cosine\"", NULL);
    char *typo[] = {"lerning_rate=1"};
    expect_refused(grpo, typo, 1, "the override lerning_rate=1", "unknown key", "learning_rate", NULL);
    char *type[] = {"max_steps=\"many\""};
    expect_refused(grpo, type, 1, "the override max_steps=\"many\"", "must be an integer", NULL);
    /* A later override wins, and is the one blamed. */
    char *two[] = {"epsilon=0.1", "epsilon=-2"};
    expect_refused(grpo, two, 2, "the override epsilon=-2", NULL);
    /* eval_temperature 0 is greedy evaluation: allowed. */
    struct config c;
    char *greedy[] = {"eval_temperature=0"};
    cr_expect_eq(resolve(&c, grpo, greedy, 1), STATUS_OK, "%s", err_msg());
    config_free(&c);
}

Test(config_typed, nested_overrides_set_nested_fields) {
    char *ov[] = {"world.task_params.linear.max_coef=9", "world.tasks.arith=0.5"};
    struct config c;
    cr_assert_eq(resolve(&c, "{\"stage\": \"grpo\", \"max_steps\": 3, \"world\": {\"tasks\": {\"linear\": 1}}}", ov, 2),
                 STATUS_OK, "%s", err_msg());
    const cJSON *w = c.v.run.world;
    const cJSON *coef = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(w, "task_params"), "linear"),
                                            "max_coef");
    cr_expect(cJSON_IsNumber(coef) && coef->valuedouble == 9);
    const cJSON *tasks = cJSON_GetObjectItem(w, "tasks");
    cr_expect_eq(cJSON_GetObjectItem(tasks, "linear")->valuedouble, 1, "the file's sibling field stays");
    cr_expect_eq(cJSON_GetObjectItem(tasks, "arith")->valuedouble, 0.5);
    cr_expect_str_eq(config_where(&c, "world"), "the override world.tasks.arith=0.5");
    cr_expect_str_eq(config_where(&c, "epsilon"), "test.json");
    config_free(&c);
    char *empty[] = {"world..x=1"};
    expect_refused("{\"stage\": \"grpo\", \"max_steps\": 3}", empty, 1, "empty part", NULL);
}

/* `r1lab train` with the tiny GRPO fixture and the overrides (shell words): refused, exit 1, nothing written. */
static void expect_train_refused(const char *override, const char *want1, const char *want2) {
    char *dir = th_tmpdir("config-refused");
    char *root = th_path("");
    char *config = th_path("tests/fixtures/grpo/tiny.json");
    char run[4200], cmd[16384];
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' train --headless '%s' output_dir='%s' %s", root, th_bin(), config, run,
             override);
    struct th_run r = th_sh(cmd);
    cr_expect_eq(r.exit_code, 1, "%s: exit %d\n%s", override, r.exit_code, r.err);
    cr_expect(strstr(r.err, want1) && strstr(r.err, want2), "%s:\n%s", override, r.err);
    cr_expect(!fs_exists(run), "%s: the run directory was created before the refusal", override);
    th_run_free(&r);
    fs_remove_tree(dir);
    free(dir);
    free(root);
    free(config);
}

Test(config_typed, train_refuses_bad_settings_before_writing_anything) {
    expect_train_refused("learning_rate=-1", "the override learning_rate=-1", "allowed >= 0");
    expect_train_refused("temperature=0", "\"temperature\" is 0", "allowed > 0");
    expect_train_refused("dataset=world:nope", "the override dataset=world:nope", "world:mix");
    expect_train_refused("world.tasks.linear=abc", "the override world.tasks.linear=abc", "tasks.linear must be");
    expect_train_refused("world.colour=1", "unknown world setting \"colour\"", "task_params");
    expect_train_refused("eval_steps=1 eval_k=99", "the override eval_k=99", "exceeds prompts_per_step x num_generations");
    expect_train_refused("'reward_funcs=[\"acc\"]'", "the override reward_funcs=", "unknown reward \"acc\"");
    /* --device is the override device=, checked before anything is written like the other settings. */
    expect_train_refused("--device tpu", "the override device=tpu", "unknown device \"tpu\"");
}
