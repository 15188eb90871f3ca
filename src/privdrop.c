/* privdrop — see privdrop.h. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <string.h>
#include <unistd.h>
#include "privdrop.h"

int privdrop_lookup(const char *name, struct privdrop *p, char *why, size_t whylen)
{
	struct passwd *pw;

	errno = 0;
	if (strlen(name) >= sizeof p->name || !(pw = getpwnam(name))) {
		snprintf(why, whylen, "--user %s: no such user%s%s", name, errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	snprintf(p->name, sizeof p->name, "%s", name);
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	return 0;
}

int privdrop_apply(const struct privdrop *p, char *why, size_t whylen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (geteuid() != 0) {
		if (geteuid() == p->uid && getuid() == p->uid)
			return 0;
		snprintf(why, whylen, "--user %s: keyward must be started as root to change its user", p->name);
		return -1;
	}
	if (initgroups(p->name, p->gid) < 0 || setresgid(p->gid, p->gid, p->gid) < 0 ||
	    setresuid(p->uid, p->uid, p->uid) < 0) {
		snprintf(why, whylen, "--user %s: cannot change to that user: %s", p->name, strerror(errno));
		return -1;
	}
	/* Check, do not trust: every ID is the user's and root cannot be had back. */
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != p->uid || eu != p->uid ||
	    su != p->uid || rg != p->gid || eg != p->gid || sg != p->gid || (p->uid != 0 && setuid(0) == 0)) {
		snprintf(why, whylen, "--user %s: the change of user did not hold", p->name);
		return -1;
	}
#if defined(__SANITIZE_ADDRESS__)
	/* Sanitizer builds only (the tests): LeakSanitizer must be able to stop this process's threads,
	 * which a changed user forbids. A real server stays non-dumpable. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	return 0;
}
