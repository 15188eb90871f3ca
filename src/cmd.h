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
int cmd_gateway(int argc, char **argv);
int cmd_tenant(int argc, char **argv);
int cmd_serverkey_helper(int argc, char **argv);   /* started by serve, not listed */
int cmd_keyproc_helper(int argc, char **argv);     /* started by serve, not listed */

/* The plumbing shared by the commands (cmd.c). */
struct config;
/* Parse options (allowed names) into c and finish the defaults; prints the one-line error itself
 * ("keyward CMD: …"). 0 or 2. */
int cmd_config(struct config *c, int argc, char **argv, const char *allowed, const char *cmd);
/* The data directory must exist (it is made) and be writable. 0, or 2 after a one-line error. */
int cmd_prepare_datadir(const char *dir, const char *cmd);

#endif
