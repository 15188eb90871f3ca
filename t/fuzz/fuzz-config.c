/* Fuzz target: configuration files (written to a temporary file and read with --config). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/kwfuzzcfgXXXXXX", err[512];
	struct config c;
	char *argv[] = { "--config", path, NULL };
	int fd = mkstemp(path);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	config_defaults(&c);
	if (config_parse_args(&c, 2, argv, "listen datadir threads sync sendmail max-body mail-from", err, sizeof err) == 0)
		config_finish(&c, err, sizeof err);
	config_free(&c);
	unlink(path);
	return 0;
}
