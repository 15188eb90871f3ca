/* spawn — see spawn.h. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include "spawn.h"

extern char **environ;

pid_t spawn(const char *const argv[], int in, int channel, int quiet, int own_group)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	pid_t pid = -1;
	int err;

	if ((err = posix_spawn_file_actions_init(&fa)))
		goto out_errno;
	if ((err = posix_spawnattr_init(&at))) {
		posix_spawn_file_actions_destroy(&fa);
		goto out_errno;
	}
	err = in >= 0 ? posix_spawn_file_actions_adddup2(&fa, in, 0)
		      : posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!err && quiet)
		err = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (!err && quiet)
		err = posix_spawn_file_actions_adddup2(&fa, 1, 2);
	/* a channel that is SPAWN_CHANNEL_FD already: glibc (2.29 on, as POSIX.1-2024 asks) clears its
	 * close-on-exec for a dup2 onto itself (t/0157 covers it) */
	if (!err && channel >= 0)
		err = posix_spawn_file_actions_adddup2(&fa, channel, SPAWN_CHANNEL_FD);
	if (!err)
		err = posix_spawn_file_actions_addclosefrom_np(&fa, channel >= 0 ? SPAWN_CHANNEL_FD + 1 : 3);
	if (!err && own_group)
		err = posix_spawnattr_setpgroup(&at, 0);
	if (!err && own_group)
		err = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	if (!err)
		err = posix_spawnp(&pid, argv[0], &fa, &at, (char *const *)argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
out_errno:
	if (err) {
		errno = err;
		return -1;
	}
	return pid;
}

int spawn_wait(const char *const argv[])
{
	pid_t pid = spawn(argv, -1, -1, 1, 0);
	int st;

	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
