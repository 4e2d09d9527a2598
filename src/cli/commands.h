/* commands: the subcommand entry points. Each takes (argc, argv) with argv[0] = the subcommand's name and
 * returns an exit code from cli.h. main.c holds the table that maps names to these. */
#ifndef R1LAB_COMMANDS_H
#define R1LAB_COMMANDS_H

int cmd_info(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_world(int argc, char **argv);
int cmd_dash(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_pipeline(int argc, char **argv);
int cmd_distill(int argc, char **argv);

#endif
