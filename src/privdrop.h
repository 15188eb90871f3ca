/* privdrop — --user NAME: keyward binds its listeners as root, then becomes NAME for good.
 *
 * The user is looked up before anything happens (a typo stops the start, exit 2). Dropping sets
 * the supplementary groups of NAME (initgroups), then the real, effective and saved group and user
 * IDs, and then checks that none of it can be undone (setuid(0) must fail). */
#ifndef KW_PRIVDROP_H
#define KW_PRIVDROP_H
#include <stddef.h>
#include <sys/types.h>

struct privdrop {
	char name[64];
	uid_t uid;
	gid_t gid;
};

/* 0, or -1 with a one-line reason ("no user 'x'"). */
int privdrop_lookup(const char *name, struct privdrop *p, char *why, size_t whylen);
/* Become p's user. Needs root, or to be that user already (then nothing changes). 0, or -1 with
 * a one-line reason. */
int privdrop_apply(const struct privdrop *p, char *why, size_t whylen);

#endif
