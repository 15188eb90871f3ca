/* logfile — see logfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "logfile.h"

int logfile_open(const char *path, char *why, size_t whylen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

	if (fd < 0) {
		snprintf(why, whylen, "cannot open the log %s: %s", path, strerror(errno));
		return -1;
	}
	if (fd != 2 && dup2(fd, 2) < 0) {
		snprintf(why, whylen, "cannot use the log %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (fd != 2)
		close(fd);
	return 0;
}

int logfile_reopen(const char *path)
{
	char why[512];

	if (logfile_open(path, why, sizeof why) < 0) {
		fprintf(stderr, "keyward: %s; logging on to the old file\n", why);
		return -1;
	}
	fprintf(stderr, "keyward: log reopened\n");
	return 0;
}
