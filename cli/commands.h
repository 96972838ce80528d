/* cli/commands.h: the subcommands of `freenas` beyond search and info, one file each. */
#ifndef FN_CLI_COMMANDS_H
#define FN_CLI_COMMANDS_H

/* Parses an integer option value in [lo, hi]; 0, or -1 after a message on stderr naming the
 * option (cli/freenas.c). */
int cli_parse_long(const char *opt, const char *s, long lo, long hi, long *out);
/* Parses --device's value, cpu or cuda, into *out (an fn_device); 0, or -1 after a message. */
int cli_parse_device(const char *s, int *out);

/* freenas score: zero-cost proxies of NB201 benchmark networks (cli/cmd_score.c). argv holds
 * the options after "score". Returns the exit code. */
int cmd_score(int argc, char **argv);
/* freenas hnas / hnas-table: HNAS on NB201 and its metric tables (cli/cmd_hnas.c). */
int cmd_hnas(int argc, char **argv);
int cmd_hnas_table(int argc, char **argv);
/* freenas hnas-corr: rank correlations of metric-table columns (cli/cmd_hnas_corr.c). */
int cmd_hnas_corr(int argc, char **argv);
/* freenas hnas --space darts: HNAS on DARTS, one process (cli/cmd_hnas_darts.c). */
int cmd_hnas_darts(int argc, char **argv);
/* freenas train: train a DARTS genotype or an NB201 architecture (cli/cmd_train.c). */
int cmd_train(int argc, char **argv);

#endif
