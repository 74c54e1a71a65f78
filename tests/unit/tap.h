/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal TAP producer for the core's unit tests. */
#ifndef VDISK_TAP_H
#define VDISK_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

static inline void tap_ok(int cond, const char *fmt, ...)
	__printf(2, 3);
static inline void tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_failed++;
}

#define tap_is(got, want, desc) do {					\
	long long _g = (long long)(got), _w = (long long)(want);	\
	tap_ok(_g == _w, "%s", desc);					\
	if (_g != _w)							\
		printf("#   got %lld, want %lld\n", _g, _w);		\
} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
