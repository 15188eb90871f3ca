/* err — see err.h. */
#include <stdarg.h>
#include <stdio.h>
#include "err.h"

static const struct {
	const char *name;
	int http;
} table[KW_ERR_COUNT] = {
	[KW_OK] = { "OK", 200 },
	[KW_EINVAL] = { "EINVAL", 400 },
	[KW_EAUTH] = { "EAUTH", 401 },
	[KW_EFORBIDDEN] = { "EFORBIDDEN", 403 },
	[KW_ENOTFOUND] = { "ENOTFOUND", 404 },
	[KW_ECONFLICT] = { "ECONFLICT", 409 },
	[KW_EGONE] = { "EGONE", 410 },
	[KW_ETOOBIG] = { "ETOOBIG", 413 },
	[KW_ERATE] = { "ERATE", 429 },
	[KW_EBUSY] = { "EBUSY", 503 },
	[KW_ESTORE] = { "ESTORE", 503 },
	[KW_ENOSPC] = { "ENOSPC", 503 },
	[KW_EINUSE] = { "EINUSE", 503 },
	[KW_EINTERNAL] = { "EINTERNAL", 500 },
	[KW_EUSAGE] = { "EUSAGE", 400 },
	[KW_ESECRETKEY] = { "ESECRETKEY", 400 },
	[KW_ETOOMANYKEYS] = { "ETOOMANYKEYS", 400 },
	[KW_ENOKEY] = { "ENOKEY", 400 },
	[KW_ENOENC] = { "ENOENC", 400 },
	[KW_ETOOMANYADDRS] = { "ETOOMANYADDRS", 400 },
	[KW_ENOTPROVEN] = { "ENOTPROVEN", 400 },
};

static int valid(enum kw_err code)
{
	return (int)code >= 0 && code < KW_ERR_COUNT;
}

int kw_errf(struct kw_error *e, enum kw_err code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

void kw_err_clear(struct kw_error *e)
{
	if (e) {
		e->code = KW_OK;
		e->msg[0] = 0;
	}
}

int kw_err_http(enum kw_err code)
{
	return valid(code) ? table[code].http : 500;
}

int kw_err_exit(enum kw_err code)
{
	return code == KW_OK ? 0 : code == KW_EUSAGE ? 2 : 1;
}

int kw_err_transient(enum kw_err code)
{
	switch (code) {
	case KW_EBUSY:
	case KW_ESTORE:
	case KW_ENOSPC:
	case KW_EINUSE:
	case KW_EINTERNAL:
		return 1;
	default:
		return 0;
	}
}

const char *kw_err_name(enum kw_err code)
{
	return valid(code) ? table[code].name : "E?";
}
