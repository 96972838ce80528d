/* cli/commands.h: the subcommands of `freenas` beyond search and info, one file each. */
#ifndef FN_CLI_COMMANDS_H
#define FN_CLI_COMMANDS_H

/* freenas score: zero-cost proxies of NB201 benchmark networks (cli/cmd_score.c). argv holds
 * the options after "score". Returns the exit code. */
int cmd_score(int argc, char **argv);

#endif
