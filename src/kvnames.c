/* kvnames — see kvnames.h. */
#include <stdlib.h>
#include <string.h>
#include "kvnames.h"

struct collect {
	struct kvnames *l;
	size_t plen;
};

static int add(void *arg, const char *k, size_t kl, const unsigned char *v, size_t vl)
{
	struct collect *c = arg;
	struct kvnames *l = c->l;
	size_t cap;
	char **nv;

	(void)v;
	(void)vl;
	if (l->n == l->cap) {
		cap = l->cap ? 2 * l->cap : 64;
		if (!(nv = realloc(l->v, cap * sizeof *nv)))
			return -1;
		l->v = nv;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strndup(k + c->plen, kl - c->plen)))
		return -1;
	l->n++;
	return 0;
}

static void clear(struct kvnames *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

int kvnames_scan(struct kvdb *kv, const char *prefix, struct kvnames *l)
{
	struct collect c = { l, strlen(prefix) };

	clear(l);
	return kvdb_scan(kv, prefix, c.plen, 0, add, &c) != 0 ? -1 : 0;
}

void kvnames_free(struct kvnames *l)
{
	clear(l);
	free(l->v);
	l->v = NULL;
	l->cap = 0;
}
