/* replay — runs a fuzz target's LLVMFuzzerTestOneInput over every file of the given directories (or
 * files): how `make check` replays the corpora without libFuzzer, under the normal and the sanitizer
 * build. Prints one TAP line per directory. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int i, t = 0, failed = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		long files = 0, bad = 0;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;
			char path[4096];
			while (d && (de = readdir(d))) {
				if (de->d_name[0] == '.')
					continue;
				snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
				files++;
				bad += run_file(path) < 0;
			}
			if (d)
				closedir(d);
		} else {
			files = 1;
			bad = run_file(argv[i]) < 0;
		}
		printf("%sok %d - %s: %ld inputs replayed\n", bad || !files ? "not " : "", ++t, argv[i], files);
		failed += bad || !files;
	}
	printf("1..%d\n", t);
	return failed ? 1 : 0;
}
