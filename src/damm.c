/* damm — see damm.h. The table is the quasigroup of Damm's thesis (the one Wikipedia shows). */
#include "damm.h"

static const unsigned char qg[10][10] = {
	{ 0, 3, 1, 7, 5, 9, 8, 6, 4, 2 },
	{ 7, 0, 9, 2, 1, 5, 4, 8, 6, 3 },
	{ 4, 2, 0, 6, 8, 7, 1, 3, 5, 9 },
	{ 1, 7, 5, 0, 9, 8, 3, 4, 2, 6 },
	{ 6, 1, 2, 3, 0, 4, 5, 9, 7, 8 },
	{ 3, 6, 7, 4, 2, 0, 9, 5, 8, 1 },
	{ 5, 8, 6, 9, 7, 2, 0, 1, 3, 4 },
	{ 8, 9, 4, 5, 3, 6, 2, 0, 1, 7 },
	{ 9, 4, 3, 8, 6, 1, 7, 2, 0, 5 },
	{ 2, 5, 8, 1, 4, 3, 6, 7, 9, 0 },
};

/* The interim digit after s[0..n); -1 on a non-digit. */
static int interim(const char *s, size_t n)
{
	int d = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = qg[d][s[i] - '0'];
	}
	return d;
}

int damm_digit(const char *s, size_t n)
{
	int d = interim(s, n);

	return d < 0 ? -1 : '0' + d;
}

int damm_valid(const char *s, size_t n)
{
	return n > 0 && interim(s, n) == 0;
}
