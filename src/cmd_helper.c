/* keyward serverkey-helper DATADIR MAIL_FROM SUBMISSION NICE and keyward keyproc-helper TMPDIR
 * KEEP-THIRD-PARTY MAX-UIDS MAX-UID-LEN MAX-KEY-BYTES NICE — not for people: keyward serve starts
 * these (helperpool.h) to do the server key's operations and the checks of uploaded keys, one request
 * at a time, on descriptor 3. */
#include <stdio.h>
#include <stdlib.h>
#include "cmd.h"
#include "keyproc.h"
#include "kpremote.h"
#include "serverkey.h"

int cmd_serverkey_helper(int argc, char **argv)
{
	const char *why = NULL;

	if (argc != 4) {
		fputs("keyward serverkey-helper: started by keyward serve only\n", stderr);
		return 2;
	}
	if (keyproc_global_init(&why) < 0) {
		fprintf(stderr, "keyward serverkey-helper: %s\n", why);
		return 1;
	}
	return serverkey_helper_main(3, argv[0], argv[1], argv[2], atoi(argv[3]));
}

int cmd_keyproc_helper(int argc, char **argv)
{
	const char *why = NULL;

	if (argc != 6) {
		fputs("keyward keyproc-helper: started by keyward serve only\n", stderr);
		return 2;
	}
	if (keyproc_global_init(&why) < 0) {
		fprintf(stderr, "keyward keyproc-helper: %s\n", why);
		return 1;
	}
	return kpremote_helper_main(3, argv);
}
