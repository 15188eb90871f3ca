/* signedreq — see signedreq.h. */
#include <ctype.h>
#include <string.h>
#include <time.h>
#include "signedreq.h"

/* The next line of [*p, end) without its line end; *p moves past it. NULL at the end. */
static const char *next_line(const char **p, const char *end, size_t *n)
{
	const char *s = *p, *nl;

	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	*n = (size_t)((nl ? nl : end) - s);
	*p = nl ? nl + 1 : end;
	if (*n && s[*n - 1] == '\r')
		(*n)--;
	return s;
}

/* "name: value" with exactly that name: value and its length, or NULL. */
static const char *field(const char *line, size_t n, const char *name, size_t *vl)
{
	size_t l = strlen(name);

	if (n < l + 2 || memcmp(line, name, l) || line[l] != ':' || line[l + 1] != ' ')
		return NULL;
	*vl = n - l - 2;
	return line + l + 2;
}

/* RFC 3339 UTC, seconds precision, "Z": 2026-11-29T17:00:00Z. */
static int parse_date(const char *s, size_t n, int64_t *out)
{
	struct tm tm;
	char buf[21];
	const char *e;

	if (n != 20)
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	memset(&tm, 0, sizeof tm);
	e = strptime(buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!e || *e)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static int parse_fpr(const char *s, size_t n, char out[KW_FPR_MAX + 1])
{
	size_t i;

	if (n != 40 && n != 64)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		out[i] = (char)toupper((unsigned char)s[i]);
	}
	out[n] = 0;
	return 0;
}

int sreq_parse(const char *text, size_t len, struct sreq *rq, const char **why)
{
	const char *p = text, *end = text + len, *line, *v;
	size_t n, vl;

	memset(rq, 0, sizeof *rq);
	*why = "the request must start with a keyward-request: line";
	if (!(line = next_line(&p, end, &n)) || !(v = field(line, n, "keyward-request", &vl)))
		return -1;
	if (vl == 6 && !memcmp(v, "delete", 6))
		rq->op = SREQ_DELETE;
	else if (vl == 14 && !memcmp(v, "remove-address", 14))
		rq->op = SREQ_REMOVE_ADDRESS;
	else if (vl == 14 && !memcmp(v, "store-recovery", 14))
		rq->op = SREQ_STORE_RECOVERY;
	else {
		*why = "unknown keyward-request (delete, remove-address or store-recovery)";
		return -1;
	}
	*why = "the second line must be fingerprint: and the 40 hex digits of the key";
	if (!(line = next_line(&p, end, &n)) || !(v = field(line, n, "fingerprint", &vl)) || parse_fpr(v, vl, rq->fpr))
		return -1;
	*why = "the third line must be date: and a UTC time like 2026-11-29T17:00:00Z";
	if (!(line = next_line(&p, end, &n)) || !(v = field(line, n, "date", &vl)) || parse_date(v, vl, &rq->date))
		return -1;
	if (rq->op == SREQ_REMOVE_ADDRESS) {
		*why = "the fourth line must be address: and the address to remove";
		if (!(line = next_line(&p, end, &n)) || !(v = field(line, n, "address", &vl)) || vl > ADDR_MAX)
			return -1;
		if (addr_normalize(v, vl, rq->addr) < 0) {
			*why = "the address is not a valid e-mail address";
			return -1;
		}
	}
	if (rq->op != SREQ_STORE_RECOVERY) {
		while ((line = next_line(&p, end, &n)))
			if (n) {
				*why = "unexpected text after the request lines";
				return -1;
			}
		return 0;
	}
	/* store-recovery: blank lines, then one armored message, then nothing but blank lines. */
	while (p < end && (*p == '\n' || *p == '\r'))
		p++;
	rq->blob = p;
	*why = "the recovery data must be one armored OpenPGP message (-----BEGIN PGP MESSAGE-----)";
	if ((size_t)(end - p) < 27 || memcmp(p, "-----BEGIN PGP MESSAGE-----", 27))
		return -1;
	{
		static const char tail[] = "-----END PGP MESSAGE-----";
		const char *q = end;
		while (q > p && (q[-1] == '\n' || q[-1] == '\r'))
			q--;
		if ((size_t)(q - p) < sizeof tail - 1 || memcmp(q - (sizeof tail - 1), tail, sizeof tail - 1))
			return -1;
		if (memchr(p, 0, (size_t)(q - p)))
			return -1;
		rq->bloblen = (size_t)(q - p);      /* without the final line end */
	}
	return 0;
}

int sreq_cleartext(const char *msg, size_t len, struct buf *out)
{
	const char *p = msg, *end = msg + len, *line;
	size_t n;
	int in_text = 0, first = 1;

	while ((line = next_line(&p, end, &n)) && !(n == 34 && !memcmp(line, "-----BEGIN PGP SIGNED MESSAGE-----", 34)))
		;
	if (!line)
		return -1;
	while ((line = next_line(&p, end, &n))) {       /* armor headers (Hash: …) up to a blank line */
		if (!n) {
			in_text = 1;
			break;
		}
	}
	if (!in_text)
		return -1;
	while ((line = next_line(&p, end, &n))) {
		if (n == 29 && !memcmp(line, "-----BEGIN PGP SIGNATURE-----", 29))
			return 0;
		if (n >= 2 && line[0] == '-' && line[1] == ' ') {
			line += 2;
			n -= 2;
		}
		if ((!first && buf_addch(out, '\n') < 0) || buf_add(out, line, n) < 0)
			return -1;
		first = 0;
	}
	return -1;
}
