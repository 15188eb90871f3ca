/* damm — the Damm check digit (H. M. Damm, 2004) over decimal digits.
 *
 * Built on a totally anti-symmetric quasigroup of order 10, it catches every single wrong digit and
 * every swap of two neighbouring digits. Handoff codes (handoff.h) are 15 random digits plus this
 * check digit as the 16th. */
#ifndef KW_DAMM_H
#define KW_DAMM_H
#include <stddef.h>

/* The check digit ('0'..'9') of the n decimal digits at s; -1 if one of them is not a digit. */
int damm_digit(const char *s, size_t n);
/* 1 when the n digits at s (the last being the check digit) are consistent, else 0. */
int damm_valid(const char *s, size_t n);

#endif
