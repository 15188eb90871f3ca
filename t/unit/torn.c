/* Unit test: a transaction interrupted by kill -9 is invisible to `keyward fsck`. Kyoto Cabinet rolls
 * it back only when a writer opens the file; a reader sees its half-written records. A child writes
 * 2,000 token records for a key that does not exist (orphans) inside one transaction and dies before the
 * commit; fsck (the real command, $KEYWARD) must then find the store clean. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"
#include "record.h"
#include "store.h"
#include "util.h"

int main(void)
{
	char dir[256], name[80], cmd[1024];
	struct kw_error e;
	const char *kw = getenv("KEYWARD");
	struct store *st = NULL;
	struct store_txn *tx;
	struct rec_token t = { "AAAA000000000000000000000000000000000001", "torn@example.org", 0, 0, 0 };
	int status, i;
	pid_t pid;

	snprintf(dir, sizeof dir, "%s/tornXXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!kw || !mkdtemp(dir)) {
		printf("1..0 # SKIP no $KEYWARD to run\n");
		return 0;
	}
	ok(store_open(&st, dir, 0, &e) == 0, "a new store");
	store_close(st);
	st = NULL;
	if ((pid = fork()) == 0) {
		if (store_open(&st, dir, STORE_NOSYNC, &e) < 0 || !(tx = store_begin(st)))
			_exit(1);
		for (i = 0; i < 2000; i++) {
			snprintf(name, sizeof name, "%064d", i);
			t.created = time(NULL), t.expires = t.created + 3600;
			if (txn_rec_put(tx, REC_TOKEN, name, &t) < 0)
				_exit(1);
		}
		raise(SIGKILL);         /* dies inside the transaction */
		_exit(1);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	   "the writer died with SIGKILL inside its transaction");
	snprintf(cmd, sizeof cmd, "'%s' fsck --datadir '%s' > '%s/fsck.out' 2>&1", kw, dir, dir);
	ok(system(cmd) == 0, "keyward fsck: clean (the interrupted transaction is rolled back first)");
	snprintf(cmd, sizeof cmd, "sed 's/^/#   /' '%s/fsck.out' | tail -3", dir);
	if (system(cmd) != 0)
		printf("# (no fsck output)\n");
	ok(store_open(&st, dir, STORE_RDONLY, &e) == 0 &&
	   store_rec_get(st, REC_TOKEN, "0000000000000000000000000000000000000000000000000000000000000007", NULL) == 0,
	   "none of its records is there");
	store_close(st);
	rm_contents(dir);
	rmdir(dir);
	done_testing();
}
