/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VDISK_UTIL_H
#define VDISK_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

extern int verbose;

/* One line on stderr: "vdisk: <what>: <message>".  Returns -1. */
int err_at(const char *what, const char *fmt, ...)
	__printf(2, 3);
void dbg(const char *fmt, ...) __printf(1, 2);

/*
 * Read exactly @len bytes at @off; what lies past the end of the file reads
 * as zeros (callers check ranges against the file's size first).
 */
int pread_full(int fd, void *buf, size_t len, uint64_t off);
void *xmalloc(size_t len);
void *xcalloc(size_t n, size_t len);
/* @n elements of @len bytes (no overflow check: @n is small). */
void *xrealloc(void *p, size_t n, size_t len);
char *xstrdup(const char *s);
/*
 * UTF-16 (@be: big-endian, else little) as UTF-8, or NULL if it is not
 * valid UTF-16.  A NUL ends the string if @nul_ends, else it is invalid.
 */
char *utf16_to_utf8(const uint8_t *s, size_t bytes, bool be, bool nul_ends);
const char *base_name(const char *path);

/* "/dev/<name>" of block device @dev, from sysfs. */
int blkdev_node(dev_t dev, char *path, size_t len);

/* Run a program (searched in PATH) with stdout/stderr to /dev/null. */
int run_quiet(const char *prog, const char *arg1, const char *arg2);

/* Output of "info": plain "key: value" lines or one JSON object. */
struct kv_out {
	FILE *f;
	bool json;
	int depth;
	bool first[8];
};

void kv_begin(struct kv_out *o, FILE *f, bool json);
void kv_end(struct kv_out *o);
void kv_str(struct kv_out *o, const char *key, const char *val);
void kv_strn(struct kv_out *o, const char *key, const char *val, size_t len);
void kv_u64(struct kv_out *o, const char *key, uint64_t val);
void kv_bool(struct kv_out *o, const char *key, bool val);
void kv_list_begin(struct kv_out *o, const char *key);
void kv_list_end(struct kv_out *o);
void kv_obj_begin(struct kv_out *o);
void kv_obj_end(struct kv_out *o);

#endif
