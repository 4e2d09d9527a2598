/* r1lab: argument parsing and subcommand dispatch, nothing else. One table maps each subcommand to its
 * handler and one-line summary; `r1lab --help` and `r1lab help NAME` are generated from it. A second table names
 * the file formats, whose manual pages (section 5) `r1lab help NAME` shows. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/man_page.h"
#include "engine/dist/dist.h"
#include "engine/util/editdist.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"demo", cmd_demo, "watch a tiny model learn to reason with GRPO, live (no download needed)"},
    {"train", cmd_train, "run a training stage (pretrain, sft, grpo) from a JSON config"},
    {"pipeline", cmd_pipeline, "run a multi-stage recipe (R1-Zero, R1, distillation) stage after stage, resumably"},
    {"distill", cmd_distill, "distil a teacher into a student: rejection-sampled SFT set, then SFT"},
    {"eval", cmd_eval, "pass@1, cons@k and pass@k of a checkpoint on held-out problems"},
    {"generate", cmd_generate, "continue a prompt with a checkpoint"},
    {"score", cmd_score, "per-token log-probabilities of a text under a checkpoint"},
    {"info", cmd_info, "architecture, size and tokenizer of a checkpoint"},
    {"tokenize", cmd_tokenize, "encode text into token ids, or decode ids into text"},
    {"world", cmd_world, "the built-in world: sample problems, write the corpus, check rewards"},
    {"chat", cmd_chat, "chat with a checkpoint or an OpenAI-compatible server; compare two side by side"},
    {"compare", cmd_compare, "side-by-side comparison of two models over prompts, with a summary table"},
    {"dash", cmd_dash, "show the live dashboard of a training run (live, finished or remote)"},
    {NULL, NULL, NULL},
};
static const size_t n_commands = sizeof commands / sizeof commands[0] - 1;

/* Formats with a manual page of their own, r1lab-NAME(5). */
static const struct topic {
    const char *name, *summary;
} topics[] = {
    {"config", "training configuration files: every key, its type, default and allowed values"},
    {"theme", "dashboard colour themes"},
};
static const size_t n_topics = sizeof topics / sizeof topics[0];

static void print_usage(FILE *out) {
    fprintf(out, "usage: r1lab COMMAND [ARGS...]\n\n"
                 "r1lab trains language models with GRPO the way DeepSeek-R1 was trained, shows the run live,\n"
                 "and lets you chat with and compare checkpoints.\n\ncommands:\n");
    for (size_t i = 0; i < n_commands; i++) fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nfile formats ('r1lab help NAME' shows the manual page r1lab-NAME(5)):\n");
    for (size_t i = 0; i < n_topics; i++) fprintf(out, "  %-10s %s\n", topics[i].name, topics[i].summary);
    fprintf(out, "\n'r1lab help COMMAND' or 'r1lab COMMAND --help' describes one command; see r1lab(1).\n"
                 "options: --help, --version\n");
}

static const struct command *find_command(const char *name) {
    for (size_t i = 0; i < n_commands; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

static int unknown_command(const char *name, bool with_topics) {
    fprintf(stderr, "r1lab: '%s' is not a command%s.", name, with_topics ? " or a file format" : "");
    /* The nearest name by edit distance, else one sharing the first two letters: catches the common typos. */
    const char *names[sizeof commands / sizeof commands[0] + sizeof topics / sizeof topics[0]];
    size_t n = 0;
    for (size_t i = 0; i < n_commands; i++) names[n++] = commands[i].name;
    if (with_topics)
        for (size_t i = 0; i < n_topics; i++) names[n++] = topics[i].name;
    const char *best = editdist_closest(name, names, n, 3);
    for (size_t i = 0; i < n && !best; i++)
        if (strncmp(names[i], name, 2) == 0) best = names[i];
    if (best) fprintf(stderr, " Did you mean '%s'?", best);
    fprintf(stderr, "\nSee 'r1lab --help'.\n");
    return EXIT_USAGE;
}

/* OpenMP worker threads that spin while they wait take the cores from each other as soon as anything else runs
 * on the machine (the dashboard, a second run, a compiler): decoding measured 10x slower on two busy cores, for
 * 6% gained on an idle machine. libgomp reads its wait policy when it is loaded, before main(), so unless the
 * user chose a policy r1lab re-executes itself once with OMP_WAIT_POLICY=passive. */
static void prefer_passive_waiting(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    if (setenv("OMP_WAIT_POLICY", "passive", 0) != 0) return;
    execv("/proc/self/exe", argv);
    /* exec failed (no /proc): carry on with the default policy */
}

int main(int argc, char **argv) {
    prefer_passive_waiting(argv);
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        print_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("r1lab %s (%s)\n", R1LAB_VERSION, R1LAB_GIT_REV);
        printf("data-parallel training: %s\n", dist_built_with_mpi() ? "MPI (mpirun -np N r1lab train CONFIG)"
                                                                     : "off (built without MPI)");
        return EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            print_usage(stdout);
            return EXIT_OK;
        }
        for (size_t i = 0; i < n_topics; i++)
            if (strcmp(topics[i].name, argv[2]) == 0) {
                char page[64];
                snprintf(page, sizeof page, "r1lab-%s", topics[i].name);
                return man_page_show(page, 5);
            }
        const struct command *c = find_command(argv[2]);
        if (!c) return unknown_command(argv[2], true);
        char *help_argv[] = {(char *)c->name, "--help", NULL};
        return c->run(2, help_argv);
    }
    const struct command *c = find_command(name);
    if (!c) return unknown_command(name, false);
    /* Under mpirun every rank runs this same command line: only a training run knows how to share the work. */
    if (dist_launched() && strcmp(c->name, "train") != 0) {
        fprintf(stderr, "r1lab: error: `r1lab %s` runs in one process; of the commands only `r1lab train` runs under an "
                        "MPI launcher\n", c->name);
        return EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
