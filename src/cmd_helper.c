/* keyward serverkey-helper DATADIR MAIL_FROM SUBMISSION NICE and keyward keyproc-helper TMPDIR
 * KEEP-THIRD-PARTY MAX-UIDS MAX-UID-LEN MAX-KEY-BYTES NICE — not for people: keyward serve starts
 * these (helperpool.h) to do the server key's operations and the checks of uploaded keys, one request
 * at a time, on descriptor 3. */
#include <stdio.h>
#include <stdlib.h>
#include "cmd.h"
#include "helperpool.h"
#include "keyproc.h"
#include "kpremote.h"
#include "serverkey.h"

/* Check the count of arguments, make GPGME usable, run. */
static int helper(const char *name, int want, int argc, char **argv, int (*run)(char **argv))
{
	const char *why = NULL;

	if (argc != want) {
		fprintf(stderr, "keyward %s: started by keyward serve only\n", name);
		return 2;
	}
	if (keyproc_global_init(&why) < 0) {
		fprintf(stderr, "keyward %s: %s\n", name, why);
		return 1;
	}
	return run(argv);
}

static int run_serverkey(char **argv)
{
	return serverkey_helper_main(HELPERPOOL_FD, argv[0], argv[1], argv[2], atoi(argv[3]));
}

static int run_keyproc(char **argv)
{
	return kpremote_helper_main(HELPERPOOL_FD, argv);
}

int cmd_serverkey_helper(int argc, char **argv)
{
	return helper("serverkey-helper", 4, argc, argv, run_serverkey);
}

int cmd_keyproc_helper(int argc, char **argv)
{
	return helper("keyproc-helper", 6, argc, argv, run_keyproc);
}
