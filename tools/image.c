// SPDX-License-Identifier: GPL-2.0
/*
 * Opening an image file or block device and recognising its format.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"

static const struct vd_format *const formats[] = {
	&vd_vmdk_format,
	&vd_sesparse_format,
	&vd_qcow2_format,	/* and version 1, as "qcow" */
	&vd_vhdx_format,
	&vd_vhd_format,
	&vd_vdi_format,
	&vd_qed_format,
	&vd_parallels_format,
};

int image_read(struct vd_image *im, void *buf, size_t len, uint64_t off,
	       const char *what)
{
	if (off > im->size || len > im->size - off)
		return err_at(im->path, "%s lies past the end of the file", what);
	if (pread_full(im->fd, buf, len, off))
		return err_at(im->path, "cannot read %s: %s", what,
			      strerror(errno));
	return 0;
}

int image_read_fn(void *ctx, u64 pos, void *buf, unsigned int len)
{
	struct vd_image *im = ctx;

	return pread_full(im->fd, buf, len, pos) ? -EIO : 0;
}

int image_open_fd(struct vd_image *im, const char *path, int fd)
{
	struct stat st;

	memset(im, 0, sizeof(*im));
	im->loop_fd = -1;
	im->snapshot_index = -1;
	im->path = strdup(path);
	if (!im->path) {
		err_at(path, "out of memory");
		exit(1);
	}
	im->fd = fd;
	if (fstat(im->fd, &st))
		goto fail_errno;
	if (S_ISBLK(st.st_mode)) {
		im->is_blk = true;
		im->dev = st.st_rdev;
		if (ioctl(im->fd, BLKGETSIZE64, &im->size))
			goto fail_errno;
	} else if (S_ISREG(st.st_mode)) {
		im->size = (uint64_t)st.st_size;
	} else {
		err_at(path, "not a regular file or block device");
		goto fail;
	}
	/*
	 * A file that ends part-way into a sector is read as if zero-padded
	 * to a whole one, which is what vdisk create maps (see attach()).
	 */
	im->sectors = (im->size + 511) >> 9;
	return 0;

fail_errno:
	err_at(path, "%s", strerror(errno));
fail:
	image_close(im);
	return -1;
}

int image_open_file(struct vd_image *im, const char *path)
{
	/* O_NONBLOCK: a FIFO named by mistake must not hang the open. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0) {
		memset(im, 0, sizeof(*im));
		im->fd = -1;
		im->loop_fd = -1;
		return err_at(path, "%s", strerror(errno));
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return image_open_fd(im, path, fd);
}

static int read_head(struct vd_image *im, uint8_t *head, size_t *n)
{
	*n = 0;
	if (im->size < 512)
		return err_at(im->path, im->size ? "file is too small to be a disk image"
						 : "file is empty");
	*n = im->size < 4096 ? (size_t)im->size : 4096;
	return image_read(im, head, *n, 0, "header");
}

static int open_format(struct vd_image *im, const struct vd_format *f)
{
	im->fmt = f;
	im->fmt_name = f->name;
	return f->open(im) ? -1 : 0;
}

/*
 * Formats qemu reads and vdisk does not: recognised so that they are
 * refused by name, never mapped as raw data.  NULL if none.
 */
static const char *unsupported_format(struct vd_image *im, const uint8_t *head,
				      size_t n)
{
	static const char bochs[] = "Bochs Virtual HD Image";
	static const char cloop[] = "#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0";
	uint8_t tail[12];

	if (n >= sizeof(bochs) && !memcmp(head, bochs, sizeof(bochs)))
		return "bochs";
	if (n >= sizeof(cloop) - 1 && !memcmp(head, cloop, sizeof(cloop) - 1))
		return "cloop";
	/* An Apple disk image (UDIF) ends in its "koly" trailer, version 4. */
	if (im->size >= 1024 && !pread_full(im->fd, tail, sizeof(tail), im->size - 512) &&
	    !memcmp(tail, "koly", 4) && get_unaligned_be32(tail + 4) == 4 &&
	    get_unaligned_be32(tail + 8) == 512)
		return "dmg";
	return NULL;
}

int image_probe(struct vd_image *im)
{
	uint8_t head[4096];
	const char *other;
	size_t n, i;

	if (read_head(im, head, &n))
		return -1;
	for (i = 0; i < ARRAY_SIZE(formats); i++)
		if (formats[i]->probe(head, n))
			return open_format(im, formats[i]);
	for (i = 0; i < ARRAY_SIZE(formats); i++)
		if (formats[i]->probe_file && formats[i]->probe_file(im))
			return open_format(im, formats[i]);
	other = unsupported_format(im, head, n);
	if (other)
		return err_at(im->path, "%s image: format not supported", other);
	return 1;
}

static const struct vd_format *format_named(const char *name)
{
	size_t i;

	if (!strcmp(name, "qcow"))	/* version 1 is read by the QCOW2 code */
		return &vd_qcow2_format;
	if (!strcmp(name, "vpc"))	/* qemu's name for VHD */
		return &vd_vhd_format;
	for (i = 0; i < ARRAY_SIZE(formats); i++)
		if (!strcmp(formats[i]->name, name))
			return formats[i];
	return NULL;
}

bool vd_format_known(const char *name)
{
	return !strcmp(name, "raw") || format_named(name);
}

bool image_looks_like(struct vd_image *im, const char *name)
{
	const struct vd_format *f = format_named(name);
	uint8_t head[4096];
	size_t n;

	if (!strcmp(name, "raw"))
		return true;
	if (!f || im->size < 512 || pread_full(im->fd, head, 4096, 0))
		return false;
	n = im->size < 4096 ? (size_t)im->size : 4096;
	return f->probe(head, n) || (f->probe_file && f->probe_file(im)) ||
	       (!strcmp(name, "vmdk") && vmdk_descriptor_probe(head, n));
}

int image_open_as(struct vd_image *im, const char *name)
{
	const struct vd_format *f = format_named(name);
	uint8_t head[4096];
	size_t n;

	if (!f)
		return err_at(im->path, "vdisk does not read %s images", name);
	if (read_head(im, head, &n))
		return -1;
	if (!f->probe(head, n) && !(f->probe_file && f->probe_file(im)))
		return err_at(im->path, "not a %s image", name);
	if (open_format(im, f))
		return -1;
	if (!strcmp(name, "vpc"))
		name = f->name;
	if (strcmp(im->fmt_name, name))
		return err_at(im->path, "a %s image, not %s", im->fmt_name, name);
	return 0;
}

void image_close(struct vd_image *im)
{
	if (im->data_im) {
		image_close(im->data_im);
		free(im->data_im);
		im->data_im = NULL;
	}
	if (im->fmt && im->fmt->close)
		im->fmt->close(im);
	im->fmt = NULL;
	if (im->fd >= 0)
		close(im->fd);
	if (im->loop_fd >= 0)
		close(im->loop_fd);
	im->fd = -1;
	im->loop_fd = -1;
	free(im->ident.parent_name);
	free(im->path);
	im->ident.parent_name = NULL;
	im->path = NULL;
}

static void check_report(struct vd_check *c, const char *kind,
			 const char *fmt, va_list ap)
{
	fprintf(stderr, "vdisk: %s: %s", c->path, kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void check_error(struct vd_check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->errors++ >= 20)
		return;
	va_start(ap, fmt);
	check_report(c, "", fmt, ap);
	va_end(ap);
}

void check_warn(struct vd_check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->warnings++ >= 20)
		return;
	va_start(ap, fmt);
	check_report(c, "warning: ", fmt, ap);
	va_end(ap);
}

void ranges_add(struct vd_ranges *rs, uint64_t start, uint64_t len,
		const char *what, uint64_t index)
{
	if (rs->limit && rs->n >= rs->limit) {
		rs->full = true;
		return;
	}
	if (rs->n == rs->max) {
		rs->max = rs->max ? rs->max * 2 : 1024;
		rs->r = xrealloc(rs->r, rs->max, sizeof(*rs->r));
	}
	rs->r[rs->n++] = (struct vd_range){ start, len, what, index };
}

static int range_cmp(const void *a, const void *b)
{
	const struct vd_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void ranges_check(struct vd_ranges *rs, struct vd_check *c)
{
	size_t i, last = 0;

	if (rs->full)
		check_error(c, "more tables and data than the file has sectors: some overlap");
	qsort(rs->r, rs->n, sizeof(*rs->r), range_cmp);
	/* Compare each range with the one reaching furthest before it. */
	for (i = 1; i < rs->n; i++) {
		struct vd_range *p = &rs->r[last], *q = &rs->r[i];

		if (q->start < p->start + p->len)
			check_error(c, "%s %llu (sector %llu) overlaps %s %llu (sector %llu)",
				    q->what, (unsigned long long)q->index,
				    (unsigned long long)q->start, p->what,
				    (unsigned long long)p->index,
				    (unsigned long long)p->start);
		if (q->start + q->len > p->start + p->len)
			last = i;
	}
}

void ranges_free(struct vd_ranges *rs)
{
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

static size_t seen_hash(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 7) & (cap - 1);
}

bool seen_add(struct vd_seen *s, uint64_t pos)
{
	uint64_t key = pos + 1, *old = s->slot;
	size_t i, h, cap = s->cap;

	if (2 * (s->n + 1) > s->cap) {
		s->cap = cap ? 2 * cap : 1024;
		s->slot = xcalloc(s->cap, sizeof(*s->slot));
		s->n = 0;
		for (i = 0; i < cap; i++)
			if (old[i])
				seen_add(s, old[i] - 1);
		free(old);
	}
	for (h = seen_hash(key, s->cap); s->slot[h]; h = (h + 1) & (s->cap - 1))
		if (s->slot[h] == key)
			return true;
	s->slot[h] = key;
	s->n++;
	return false;
}

void seen_free(struct vd_seen *s)
{
	free(s->slot);
	memset(s, 0, sizeof(*s));
}
