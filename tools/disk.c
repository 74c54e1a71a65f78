// SPDX-License-Identifier: GPL-2.0
/*
 * Opening a virtual disk: its extents, and its chain of parents.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"

struct chain {
	const struct vd_open_opts *opts;
	unsigned int depth;
	dev_t dev[VD_MAX_CHAIN];
	ino_t ino[VD_MAX_CHAIN];
};

struct vd_extent *disk_add_extent(struct vd_disk *d, enum vd_ext_kind kind,
				  uint64_t len)
{
	struct vd_extent *e;

	d->ext = realloc(d->ext, (d->n_ext + 1) * sizeof(*d->ext));
	if (!d->ext) {
		err_at(NULL, "out of memory");
		exit(1);
	}
	e = &d->ext[d->n_ext++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->start = d->capacity;
	e->len = len;
	d->capacity += len;
	return e;
}

/* A file named relative to another (a parent, an extent) is next to it. */
char *vd_resolve(const char *child, const char *name)
{
	const char *slash = strrchr(child, '/');
	char *p;

	if (name[0] == '/' || !slash)
		p = strdup(name);
	else if (asprintf(&p, "%.*s/%s", (int)(slash - child), child, name) < 0)
		p = NULL;
	if (!p) {
		err_at(NULL, "out of memory");
		exit(1);
	}
	return p;
}

static int open_layer(struct vd_disk *d, const struct chain *c)
{
	unsigned int depth = c->depth;
	struct vd_image *im = xcalloc(1, sizeof(*im));
	uint8_t head[512];
	struct stat st;
	struct vd_extent *e;
	int r;

	if (image_open_file(im, d->path)) {
		free(im);
		return -1;
	}
	if (!depth)
		im->snapshot = c->opts->snapshot;
	fstat(im->fd, &st);
	d->st_dev = st.st_dev;
	d->st_ino = st.st_ino;

	memset(head, 0, sizeof(head));
	if (im->size && pread_full(im->fd, head, im->size < 512 ? im->size : 512, 0) == 0 &&
	    vmdk_descriptor_probe(head, im->size < 512 ? im->size : 512)) {
		r = vmdk_descriptor_open(d, im);
		image_close(im);
		free(im);
		return r;
	}

	r = image_probe(im);
	if (r > 0 && depth > 0) {
		/* A parent in no format we know is plain data, as for qemu. */
		d->format = "raw";
		e = disk_add_extent(d, VD_EXT_FLAT, im->sectors);
		e->im = im;
		return 0;
	}
	if (r) {
		if (r > 0)
			err_at(d->path, "unrecognised image format");
		image_close(im);
		free(im);
		return -1;
	}
	if (im->snapshot && im->snapshot_index < 0) {
		err_at(d->path, "%s images have no internal snapshots", im->fmt_name);
		image_close(im);
		free(im);
		return -1;
	}
	d->format = im->fmt_name;
	d->subformat = im->subformat;
	d->ident = im->ident;
	if (im->ident.parent_name)
		d->ident.parent_name = strdup(im->ident.parent_name);
	e = disk_add_extent(d, VD_EXT_IMAGE, im->capacity);
	e->im = im;
	return 0;
}

static struct vd_disk *open_chain(const char *path, struct chain *c);

static int open_parent(struct vd_disk *d, struct chain *c)
{
	const struct vd_ident *id = &d->ident;
	struct vd_disk *p;
	struct stat st;
	unsigned int i;

	d->parent_path = vd_resolve(d->path, id->parent_name);
	if (c->opts->no_parents)
		return 0;
	if (stat(d->parent_path, &st))
		return err_at(d->path, "parent not found: %s", d->parent_path);
	for (i = 0; i < c->depth; i++)
		if (c->dev[i] == st.st_dev && c->ino[i] == st.st_ino)
			return err_at(d->path, "backing chain loops back to %s",
				      d->parent_path);
	if (c->depth >= VD_MAX_CHAIN)
		return err_at(d->path, "backing chain is deeper than %d images",
			      VD_MAX_CHAIN);

	p = open_chain(d->parent_path, c);
	if (!p)
		return -1;
	d->parent = p;

	if (id->parent_fmt && strcmp(id->parent_fmt, p->format))
		return err_at(d->path, "parent %s is %s, not %s as declared",
			      d->parent_path, p->format, id->parent_fmt);
	if (!c->opts->ignore_parent_id && id->parent_id[0] && id->id_kind &&
	    p->ident.id_kind && !strcmp(id->id_kind, p->ident.id_kind) &&
	    strcmp(id->parent_id, p->ident.id))
		return err_at(d->path, "parent %s has %s %s, expected %s (see --ignore-parent-id)",
			      d->parent_path, p->ident.id_kind, p->ident.id,
			      id->parent_id);
	return 0;
}

static struct vd_disk *open_chain(const char *path, struct chain *c)
{
	struct vd_disk *d = xcalloc(1, sizeof(*d));
	unsigned int depth = c->depth;

	d->path = strdup(path);
	if (!d->path || open_layer(d, c))
		goto fail;
	c->dev[depth] = d->st_dev;
	c->ino[depth] = d->st_ino;
	c->depth++;
	if (d->ident.parent_name && open_parent(d, c))
		goto fail;
	return d;
fail:
	disk_close(d);
	return NULL;
}

struct vd_disk *disk_open(const char *path, const struct vd_open_opts *o)
{
	struct chain c = { .opts = o };

	return open_chain(path, &c);
}

void disk_close(struct vd_disk *d)
{
	unsigned int i;

	if (!d)
		return;
	disk_close(d->parent);
	for (i = 0; i < d->n_ext; i++) {
		if (d->ext[i].im) {
			image_close(d->ext[i].im);
			free(d->ext[i].im);
		}
	}
	free(d->ext);
	free(d->ident.parent_name);
	free(d->parent_path);
	free(d->path);
	free(d);
}

static struct vd_extent *find_extent(struct vd_disk *d, uint64_t vsec)
{
	unsigned int i;

	for (i = 0; i < d->n_ext; i++)
		if (vsec >= d->ext[i].start && vsec - d->ext[i].start < d->ext[i].len)
			return &d->ext[i];
	return NULL;
}

static int read_compressed(struct vd_image *im, const struct vdisk_mapping *m,
			   uint64_t rel, uint64_t n, char *buf)
{
	char *unit = xmalloc(im->io_sectors * 512);
	int r = im->fmt->read_unit(im, m, rel - m->offset, unit);

	if (!r)
		memcpy(buf, unit + (size_t)m->offset * 512, n * 512);
	free(unit);
	return r;
}

/* Read up to *@np sectors within a unit; *@np is set to those read. */
static int read_image(struct vd_disk *d, struct vd_extent *e, uint64_t vsec,
		      uint64_t *np, char *buf)
{
	struct vdisk_mapping m = { 0 };
	uint64_t rel = vsec - e->start, n;
	struct vd_image *data;

	if (e->im->fmt->map(e->im, rel, &m))
		return -EIO;
	if (m.run && m.run < *np)
		*np = m.run;
	n = *np;
	switch (m.state) {
	case VDISK_DATA:
		data = e->im->data_im ?: e->im;
		if (!vdisk_range_ok(m.sector, n, data->sectors) ||
		    pread_full(data->fd, buf, n * 512, m.sector * 512))
			return -EIO;
		return 0;
	case VDISK_UNALLOCATED:
		if (d->parent)
			return disk_read(d->parent, vsec, n, buf);
		fallthrough;
	case VDISK_ZERO:
		memset(buf, 0, n * 512);
		return 0;
	case VDISK_COMPRESSED:
		return read_compressed(e->im, &m, rel, n, buf);
	case VDISK_MEMORY:
		if (m.mem)
			memcpy(buf, m.mem, n * 512);
		else
			memset(buf, 0, n * 512);
		return 0;
	case VDISK_CORRUPT:
		break;
	}
	return -EIO;
}

int disk_read(struct vd_disk *d, uint64_t vsec, uint64_t n, void *buf)
{
	char *p = buf;

	while (n) {
		struct vd_extent *e = find_extent(d, vsec);
		uint64_t run = n, io;
		int r = 0;

		if (!e) {
			/* Past the end of a parent shorter than its child. */
			memset(p, 0, n * 512);
			return 0;
		}
		if (run > e->start + e->len - vsec)
			run = e->start + e->len - vsec;
		switch (e->kind) {
		case VD_EXT_IMAGE:
			io = e->im->io_sectors;
			if (run > io - (vsec - e->start) % io)
				run = io - (vsec - e->start) % io;
			r = read_image(d, e, vsec, &run, p);
			break;
		case VD_EXT_FLAT:
			if (pread_full(e->im->fd, p, run * 512,
				       (e->offset + vsec - e->start) * 512))
				r = -EIO;
			break;
		case VD_EXT_ZERO:
			memset(p, 0, run * 512);
			break;
		case VD_EXT_ERROR:
			r = -EIO;
			break;
		}
		if (r)
			return r;
		vsec += run;
		n -= run;
		p += run * 512;
	}
	return 0;
}
