// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

int verbose;

int err_at(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vdisk: ");
	if (what)
		fprintf(stderr, "%s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

void dbg(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fprintf(stderr, "vdisk: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			/* Past the end of a file: zeros, as in its last sector. */
			memset(p, 0, len);
			return 0;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

void *xmalloc(size_t len)
{
	void *p = malloc(len ? len : 1);

	if (!p) {
		err_at(NULL, "out of memory");
		exit(1);
	}
	return p;
}

void *xcalloc(size_t n, size_t len)
{
	void *p = calloc(n ? n : 1, len ? len : 1);

	if (!p) {
		err_at(NULL, "out of memory");
		exit(1);
	}
	return p;
}

void *xrealloc(void *p, size_t n, size_t len)
{
	p = realloc(p, n && len ? n * len : 1);
	if (!p) {
		err_at(NULL, "out of memory");
		exit(1);
	}
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p) {
		err_at(NULL, "out of memory");
		exit(1);
	}
	return p;
}

static uint32_t utf16_unit(const uint8_t *s, bool be)
{
	return be ? (uint32_t)s[0] << 8 | s[1] : (uint32_t)s[1] << 8 | s[0];
}

char *utf16_to_utf8(const uint8_t *s, size_t bytes, bool be, bool nul_ends)
{
	char *out = xmalloc(bytes / 2 * 3 + 1), *o = out;
	size_t i;

	for (i = 0; i + 1 < bytes; i += 2) {
		uint32_t c = utf16_unit(s + i, be), lo = 0;

		if (i + 3 < bytes)
			lo = utf16_unit(s + i + 2, be);
		if (!c && nul_ends)
			break;
		if (c >= 0xd800 && c < 0xdc00 && lo >= 0xdc00 && lo < 0xe000) {
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		} else if (!c || (c >= 0xd800 && c < 0xe000)) {
			free(out);
			return NULL;
		}
		if (c < 0x80) {
			*o++ = (char)c;
		} else if (c < 0x800) {
			*o++ = (char)(0xc0 | c >> 6);
			*o++ = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			*o++ = (char)(0xe0 | c >> 12);
			*o++ = (char)(0x80 | (c >> 6 & 0x3f));
			*o++ = (char)(0x80 | (c & 0x3f));
		} else {
			*o++ = (char)(0xf0 | c >> 18);
			*o++ = (char)(0x80 | (c >> 12 & 0x3f));
			*o++ = (char)(0x80 | (c >> 6 & 0x3f));
			*o++ = (char)(0x80 | (c & 0x3f));
		}
	}
	*o = 0;
	return out;
}

const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

int blkdev_node(dev_t dev, char *path, size_t len)
{
	char buf[PATH_MAX], line[256];
	int found = -1;
	FILE *f;

	snprintf(buf, sizeof(buf), "/sys/dev/block/%u:%u/uevent", major(dev),
		 minor(dev));
	f = fopen(buf, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "DEVNAME=", 8))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, len, "/dev/%s", line + 8);
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

int run_quiet(const char *prog, const char *arg1, const char *arg2)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp(prog, prog, arg1, arg2, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void kv_sep(struct kv_out *o, const char *key)
{
	if (!o->json) {
		fprintf(o->f, "%*s%s%s", o->depth > 1 ? 2 * (o->depth - 1) : 0,
			"", key ? key : "-", key ? ": " : " ");
		return;
	}
	if (!o->first[o->depth])
		fputc(',', o->f);
	o->first[o->depth] = false;
	if (key)
		fprintf(o->f, "\"%s\":", key);
}

static void json_string(FILE *f, const char *s, size_t len)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void kv_begin(struct kv_out *o, FILE *f, bool json)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->json = json;
	o->depth = 1;
	o->first[1] = true;
	if (json)
		fputc('{', f);
}

void kv_end(struct kv_out *o)
{
	if (o->json)
		fputs("}\n", o->f);
}

void kv_strn(struct kv_out *o, const char *key, const char *val, size_t len)
{
	kv_sep(o, key);
	if (o->json)
		json_string(o->f, val, len);
	else
		fprintf(o->f, "%.*s\n", (int)len, val);
}

void kv_str(struct kv_out *o, const char *key, const char *val)
{
	kv_strn(o, key, val, strlen(val));
}

void kv_u64(struct kv_out *o, const char *key, uint64_t val)
{
	kv_sep(o, key);
	fprintf(o->f, o->json ? "%llu" : "%llu\n", (unsigned long long)val);
}

void kv_bool(struct kv_out *o, const char *key, bool val)
{
	kv_sep(o, key);
	fprintf(o->f, o->json ? "%s" : "%s\n", val ? "true" : "false");
}

void kv_list_begin(struct kv_out *o, const char *key)
{
	kv_sep(o, key);
	if (o->json)
		fputc('[', o->f);
	else
		fputc('\n', o->f);
	o->depth++;
	o->first[o->depth] = true;
}

void kv_list_end(struct kv_out *o)
{
	o->depth--;
	if (o->json)
		fputc(']', o->f);
}

void kv_obj_begin(struct kv_out *o)
{
	if (o->json) {
		kv_sep(o, NULL);
		fputc('{', o->f);
	} else {
		fprintf(o->f, "%*s-\n", 2 * (o->depth - 1), "");
	}
	o->depth++;
	o->first[o->depth] = true;
}

void kv_obj_end(struct kv_out *o)
{
	o->depth--;
	if (o->json)
		fputc('}', o->f);
}
