// SPDX-License-Identifier: GPL-2.0
/*
 * Opening a virtual disk: its extents, and its chain of parents.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"
#include "ref.h"

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

	d->ext = xrealloc(d->ext, d->n_ext + 1, sizeof(*d->ext));
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

/* The parent's format, when the child declares one. */
static const char *declared(const struct vd_disk *child)
{
	return child ? child->ident.parent_fmt : NULL;
}

/*
 * One layer from its open file @im (taken over): a descriptor's extents, or
 * an image of format @fmt (the user's --format, or what the child declares
 * its parent to be), else of the format its header shows.  1 when a parent
 * is in no format vdisk knows and @raw_ok is false (nothing said).
 */
static int open_layer(struct vd_disk *d, const struct chain *c, struct vd_image *im,
		      const char *fmt, bool raw_ok)
{
	uint8_t head[512];
	struct stat st;
	struct vd_extent *e;
	size_t n = im->size < 512 ? (size_t)im->size : 512;
	int r;

	im->pol = c->opts->pol;
	if (!c->depth)
		im->snapshot = c->opts->snapshot;
	fstat(im->fd, &st);
	d->st_dev = st.st_dev;
	d->st_ino = st.st_ino;

	if (fmt && !strcmp(fmt, "raw")) {
		r = 1;
		raw_ok = true;
		goto raw;
	}
	memset(head, 0, sizeof(head));
	if ((!fmt || !strcmp(fmt, "vmdk")) && n && pread_full(im->fd, head, n, 0) == 0 &&
	    vmdk_descriptor_probe(head, n)) {
		r = vmdk_descriptor_open(d, im);
		image_close(im);
		free(im);
		return r;
	}
	r = fmt ? image_open_as(im, fmt) : image_probe(im);
raw:
	if (r > 0 && raw_ok) {
		/* Plain data, when the child or the user says it is raw. */
		d->format = "raw";
		e = disk_add_extent(d, VD_EXT_FLAT, im->sectors);
		e->im = im;
		return 0;
	}
	if (r > 0 && !c->depth)
		err_at(d->path, "unrecognised image format");
	if (r < 0 || (r > 0 && !c->depth))
		r = -1;
	if (!r && im->snapshot && im->snapshot_index < 0)
		r = err_at(d->path, "%s images have no internal snapshots", im->fmt_name);
	if (r) {
		image_close(im);
		free(im);
		return r;
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

static struct vd_disk *open_chain(const char *path, struct vd_image *im,
				  struct chain *c, const struct vd_disk *child,
				  bool raw_ok, bool *unknown);

/* Two GUIDs alike but for braces and case. */
static bool guid_eq(const char *a, const char *b)
{
	size_t la, lb;

	a += *a == '{';
	b += *b == '{';
	la = strlen(a);
	lb = strlen(b);
	la -= la && a[la - 1] == '}';
	lb -= lb && b[lb - 1] == '}';
	return la == lb && !strncasecmp(a, b, la);
}

/*
 * Whether the parent @p is not the one the child @c names by id.  Ids of
 * one kind compare as written.  A GUID compares with a GUID of another
 * kind: each is what the children of its own format record (a VHDX's data
 * write GUID, a VHD's unique id, a VDI's creation UUID), so a VHDX child
 * over a VHD parent records the VHD's unique id as its parent_linkage.
 * Other kinds do not meet (a CID and a GUID): nothing is compared.
 */
static bool parent_id_differs(const struct vd_ident *c, const struct vd_ident *p)
{
	if (!c->parent_id[0] || !c->id_kind || !p->id_kind)
		return false;
	if (!strcmp(c->id_kind, p->id_kind))
		return strcmp(c->parent_id, p->id);
	return c->guid && p->guid && !guid_eq(c->parent_id, p->id);
}

static int open_parent(struct vd_disk *d, struct chain *c)
{
	const struct vd_ident *id = &d->ident;
	enum vd_ref_kind kind = strncmp(d->format, "qcow", 4) &&
				strcmp(d->format, "qed") ? VD_REF_PARENT :
							   VD_REF_BACKING;
	struct vd_policy *pol = c->opts->pol;
	struct vd_image *im;
	struct vd_disk *p;
	struct stat st;
	bool by_name = false, unknown = false;
	unsigned int i;

	if (c->opts->no_parents || c->opts->no_parent) {
		const struct vd_ref *r = ref_note(pol, kind, d->path, id->parent_name);

		d->parent_path = strdup(r->path);
		return 0;
	}
	if (id->parent_fmt && !vd_format_known(id->parent_fmt))
		return err_at(d->path, "%s \"%s\" is declared %s, which vdisk does not read",
			      ref_kind_name(kind), id->parent_name, id->parent_fmt);
	im = xcalloc(1, sizeof(*im));
	if (ref_open(pol, kind, d->path, id->parent_name, im, &by_name)) {
		free(im);
		return -1;
	}
	d->parent_path = strdup(im->path);
	if (id->parent_fmt && !image_looks_like(im, id->parent_fmt)) {
		image_close(im);
		free(im);
		return err_at(d->path, "%s \"%s\" is not a %s image, as declared",
			      ref_kind_name(kind), id->parent_name, id->parent_fmt);
	}
	fstat(im->fd, &st);
	for (i = 0; i < c->depth; i++) {
		if (c->dev[i] == st.st_dev && c->ino[i] == st.st_ino) {
			image_close(im);
			free(im);
			return err_at(d->path, "backing chain loops back to %s",
				      d->parent_path);
		}
	}
	if (c->depth >= VD_MAX_CHAIN) {
		image_close(im);
		free(im);
		return err_at(d->path, "backing chain is deeper than %d images",
			      VD_MAX_CHAIN);
	}

	/*
	 * A parent in no format vdisk knows is raw only when the child
	 * declares it so or an --allow names that very file; never under a
	 * VMDK, which qemu refuses too.
	 */
	p = open_chain(d->parent_path, im, c, d, by_name && strcmp(d->format, "vmdk"),
		       &unknown);
	if (unknown)
		return err_at(d->path, "%s \"%s\" is in no format vdisk knows (%s)",
			      ref_kind_name(kind), id->parent_name,
			      strcmp(d->format, "vmdk") ?
			      "declare it raw, or name the file with --allow" :
			      "a VMDK's parent must be a disk image");
	if (!p)
		return -1;
	d->parent = p;

	if (!c->opts->ignore_parent_id && parent_id_differs(id, &p->ident))
		return err_at(d->path, "parent %s has %s %s, expected %s (see --ignore-parent-id)",
			      d->parent_path, p->ident.id_kind, p->ident.id,
			      id->parent_id);
	return 0;
}

/* NULL having said why, or with *@unknown set if in no format known. */
static struct vd_disk *open_chain(const char *path, struct vd_image *im,
				  struct chain *c, const struct vd_disk *child,
				  bool raw_ok, bool *unknown)
{
	struct vd_disk *d = xcalloc(1, sizeof(*d));
	unsigned int depth = c->depth;
	const char *fmt = child ? declared(child) : c->opts->format;
	int r;

	d->path = strdup(path);
	if (!d->path) {
		image_close(im);
		free(im);
		goto fail;
	}
	r = open_layer(d, c, im, fmt, raw_ok);
	if (r > 0) {
		*unknown = true;
		disk_close(d);
		return NULL;
	}
	if (r)
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
	static struct vd_policy none;
	struct vd_open_opts opts = *o;
	struct chain c = { .opts = &opts };
	struct vd_image *im = xcalloc(1, sizeof(*im));
	bool unknown = false;

	if (!opts.pol)
		opts.pol = &none;
	policy_top(opts.pol, path);
	if (image_open_file(im, path)) {
		free(im);
		return NULL;
	}
	return open_chain(path, im, &c, NULL, false, &unknown);
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
