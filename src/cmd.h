/* cmd — the subcommands of keyward. Each takes the arguments after its name and returns the exit
 * status: 0 success, 1 the work failed (message on stderr), 2 bad usage or configuration. */
#ifndef KW_CMD_H
#define KW_CMD_H

int cmd_serve(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_wks_receive(int argc, char **argv);
int cmd_fsck(int argc, char **argv);

/* Shared by the commands: parse options (allowed names) into c and finish the defaults; prints the
 * one-line error itself. 0 or 2. */
struct config;
int cmd_config(struct config *c, int argc, char **argv, const char *allowed, const char *cmd);

#endif
