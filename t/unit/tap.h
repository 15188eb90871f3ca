/* tap.h — the smallest TAP producer for keyward's C unit tests.
 *   ok(cond, "name");  is(a, b, "name") for integers;  is_str(a, b, "name");  done_testing();  */
#ifndef KW_TAP_H
#define KW_TAP_H
#include <stdio.h>
#include <string.h>
#include <stdarg.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is(a, b, ...) do { long long tap_a = (long long)(a), tap_b = (long long)(b); \
	if (!ok(tap_a == tap_b, __VA_ARGS__)) printf("#   got %lld, expected %lld\n", tap_a, tap_b); } while (0)
#define is_str(a, b, ...) do { const char *tap_a = (a), *tap_b = (b); \
	if (!ok(tap_a && tap_b && !strcmp(tap_a, tap_b), __VA_ARGS__)) \
		printf("#   got '%s', expected '%s'\n", tap_a ? tap_a : "(null)", tap_b ? tap_b : "(null)"); } while (0)

__attribute__((format(printf, 4, 5)))
static int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", pass ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

static int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
#endif
