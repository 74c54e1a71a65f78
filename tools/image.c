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

#include "image.h"

static const struct vd_format *const formats[] = {
	&vd_vmdk_format,
	&vd_sesparse_format,
	&vd_qcow2_format,	/* and version 1, as "qcow" */
	&vd_vhdx_format,
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

int image_open_file(struct vd_image *im, const char *path)
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
	im->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (im->fd < 0)
		goto fail_errno;
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

int image_probe(struct vd_image *im)
{
	uint8_t head[4096];
	size_t n, i;

	if (im->size < 512)
		return err_at(im->path, im->size ? "file is too small to be a disk image"
						 : "file is empty");
	n = im->size < sizeof(head) ? (size_t)im->size : sizeof(head);
	if (image_read(im, head, n, 0, "header"))
		return -1;
	for (i = 0; i < ARRAY_SIZE(formats); i++) {
		if (formats[i]->probe(head, n)) {
			im->fmt = formats[i];
			im->fmt_name = im->fmt->name;
			return im->fmt->open(im) ? -1 : 0;
		}
	}
	return 1;
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
	if (rs->n == rs->max) {
		rs->max = rs->max ? rs->max * 2 : 1024;
		rs->r = realloc(rs->r, rs->max * sizeof(*rs->r));
		if (!rs->r) {
			err_at(NULL, "out of memory");
			exit(1);
		}
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
