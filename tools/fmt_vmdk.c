// SPDX-License-Identifier: GPL-2.0
/*
 * VMDK in the helper: hosted sparse extents with their embedded descriptor.
 * All decoding is the core's (dm-vdisk/core/vmdk*.c); this file only reads.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"
#include "image.h"
#include "vdisk_inflate.h"
#include "vmdk.h"
#include "vmdk_desc.h"

struct vmdk_priv {
	struct vmdk_sparse vs;
	__le32 *gd;
	char *desc_text;	/* NUL-terminated, or NULL */
	struct vmdk_desc desc;
	char create_type[64];
};

/* Parse descriptor @text of file @path, with room for all its extents. */
static int parse_desc(const char *path, const char *what, const char *text,
		      size_t len, struct vmdk_desc *d)
{
	const char *why;
	uint32_t line;

	d->extents = NULL;
	d->max_extents = 0;
	if (vmdk_parse_descriptor(text, len, d, &line, &why) == 0 && d->n_extents) {
		d->extents = xcalloc(d->n_extents, sizeof(*d->extents));
		d->max_extents = d->n_extents;
		vmdk_parse_descriptor(text, len, d, &line, &why);
		return 0;
	}
	if (!why)
		return 0;
	if (line)
		return err_at(path, "%s line %u: %s", what, line, why);
	return err_at(path, "%s: %s", what, why);
}

/* What a descriptor says about the image's identity and its parent. */
static int desc_ident(const char *path, const struct vmdk_desc *d,
		      struct vd_ident *id, char *create_type, size_t len)
{
	id->id_kind = "CID";
	if (d->has_cid)
		snprintf(id->id, sizeof(id->id), "%08x", d->cid);
	if (d->has_parent_cid && d->parent_cid != 0xffffffffU)
		snprintf(id->parent_id, sizeof(id->parent_id), "%08x",
			 d->parent_cid);
	if (d->parent_hint.p && d->parent_hint.len) {
		id->parent_name = strndup(d->parent_hint.p, d->parent_hint.len);
		if (!id->parent_name)
			return err_at(path, "out of memory");
	} else if (id->parent_id[0]) {
		return err_at(path, "descriptor has a parentCID but no parentFileNameHint");
	}
	if (d->create_type.p)
		snprintf(create_type, len, "%.*s", (int)d->create_type.len,
			 d->create_type.p);
	return 0;
}

/*
 * An embedded descriptor's extents are the file itself, and are not
 * opened; but a name of "" (FreeBSD's mkimg writes it) is taken for "this
 * file" only where that is what it can mean, as qemu does: the one sparse
 * extent of a monolithicSparse image.
 */
static int embedded_extents(struct vd_image *im, const struct vmdk_priv *p)
{
	uint32_t i;

	for (i = 0; i < p->desc.n_extents; i++) {
		const struct vmdk_extent_line *e = &p->desc.extents[i];

		if (e->file.p && !e->file.len &&
		    (strcmp(p->create_type, "monolithicSparse") ||
		     e->type != VMDK_EXTENT_SPARSE || p->desc.n_extents != 1))
			return err_at(im->path, "embedded descriptor: extent file name is empty");
	}
	return 0;
}

static bool vmdk_probe(const uint8_t *buf, size_t len)
{
	return len >= 4 && (get_unaligned_le32(buf) == VMDK4_MAGIC ||
			    get_unaligned_le32(buf) == VMDK3_MAGIC);
}

static __le32 *read_gd(struct vd_image *im, uint64_t sector, const char *what)
{
	const struct vmdk_sparse *vs = &((struct vmdk_priv *)im->priv)->vs;
	__le32 *gd = xmalloc(vmdk_gd_bytes(vs));

	if (image_read(im, gd, vmdk_gd_bytes(vs), sector * 512, what)) {
		free(gd);
		return NULL;
	}
	return gd;
}

static int vmdk_open(struct vd_image *im)
{
	struct vmdk_priv *p = xcalloc(1, sizeof(*p));
	uint8_t hdr[512];
	const char *why;

	im->priv = p;
	if (image_read(im, hdr, sizeof(hdr), 0, "VMDK header"))
		return -1;
	if (vmdk4_gd_in_footer(hdr)) {
		uint8_t tail[VMDK4_TAIL_SECTORS * 512];

		/* A stream keeps the header that counts in its footer. */
		if (im->sectors <= VMDK4_TAIL_SECTORS ||
		    pread_full(im->fd, tail, sizeof(tail),
			       (im->sectors - VMDK4_TAIL_SECTORS) * 512))
			return err_at(im->path,
				      "truncated or damaged stream: no footer at its end");
		if (vmdk4_parse_tail(tail, im->sectors, &p->vs, &why))
			return err_at(im->path, "%s", why);
	} else if (vmdk_parse_header(hdr, im->sectors, &p->vs, &why)) {
		return err_at(im->path, "%s", why);
	}
	im->capacity = p->vs.capacity;
	im->io_sectors = vmdk_grain_sectors(&p->vs);
	p->gd = read_gd(im, p->vs.gd_sector, "grain directory");
	if (!p->gd)
		return -1;

	/* Extents of a multi-extent disk may have an empty descriptor area. */
	if (p->vs.desc_sector) {
		size_t len = p->vs.desc_sectors * 512;

		p->desc_text = xcalloc(1, len + 1);
		if (image_read(im, p->desc_text, len, p->vs.desc_sector * 512,
			       "embedded descriptor"))
			return -1;
		if (p->desc_text[0] &&
		    (parse_desc(im->path, "embedded descriptor", p->desc_text, len,
				&p->desc) ||
		     desc_ident(im->path, &p->desc, &im->ident, p->create_type,
				sizeof(p->create_type)) ||
		     embedded_extents(im, p)))
			return -1;
	}
	if (p->create_type[0])
		im->subformat = p->create_type;
	else if (get_unaligned_le32(hdr) == VMDK3_MAGIC)
		im->subformat = "vmfsSparse extent";
	else
		im->subformat = "sparse extent";
	return 0;
}

static void vmdk_close(struct vd_image *im)
{
	struct vmdk_priv *p = im->priv;

	if (p) {
		free(p->desc.extents);
		free(p->desc_text);
		free(p->gd);
	}
	free(p);
	im->priv = NULL;
}

static void info_extents(struct kv_out *o, const struct vmdk_desc *d)
{
	uint32_t i;

	kv_list_begin(o, "extents");
	for (i = 0; i < d->n_extents; i++) {
		const struct vmdk_extent_line *e = &d->extents[i];

		kv_obj_begin(o);
		kv_str(o, "access", vmdk_access_name(e->access));
		kv_u64(o, "sectors", e->sectors);
		kv_str(o, "type", vmdk_extent_type_name(e->type));
		if (e->file.p)
			kv_strn(o, "file", e->file.p, e->file.len);
		if (e->offset)
			kv_u64(o, "offset", e->offset);
		kv_obj_end(o);
	}
	kv_list_end(o);
}

static void vmdk_info(struct vd_image *im, struct kv_out *o)
{
	struct vmdk_priv *p = im->priv;
	const struct vmdk_sparse *vs = &p->vs;
	char flags[16];

	kv_u64(o, "version", vs->version);
	snprintf(flags, sizeof(flags), "0x%x", vs->flags);
	kv_str(o, "flags", flags);
	kv_u64(o, "grain_size", vmdk_grain_sectors(vs) * 512);
	kv_u64(o, "grain_table_entries", vmdk_gt_entries(vs));
	kv_u64(o, "grain_directory_entries", vs->gd_entries);
	kv_u64(o, "grain_directory_sector", vs->gd_sector);
	kv_u64(o, "redundant_grain_directory_sector", vs->rgd_sector);
	kv_bool(o, "zeroed_grains", vs->flags & VMDK4_FLAG_ZERO_GRAIN);
	if (p->desc.n_extents)
		info_extents(o, &p->desc);
}

/*
 * Inflate the compressed grain whose marker is at @sector into @dst,
 * checking the marker as the kernel does; *@stored is how many sectors
 * marker and data take in the file.
 */
static int inflate_grain(struct vd_image *im, uint64_t sector,
			 uint64_t grain_lba, void *dst, u64 *stored,
			 const char **why)
{
	const struct vmdk_sparse *vs = &((struct vmdk_priv *)im->priv)->vs;
	size_t grain = vmdk_grain_sectors(vs) * 512, avail;
	uint8_t *buf = xmalloc(vmdk_max_marker_bytes(vs));
	uint32_t len;
	long n = -1;

	*why = "grain marker lies past the end of the file";
	avail = (im->sectors - sector) * 512;
	if (avail > vmdk_max_marker_bytes(vs))
		avail = vmdk_max_marker_bytes(vs);
	if (pread_full(im->fd, buf, avail, sector * 512) == 0 &&
	    vmdk_grain_marker(vs, buf, avail, grain_lba, &len, why) == 0) {
		if (VMDK4_GRAIN_MARKER_SIZE + len > avail)
			*why = "compressed grain runs past the end of the file";
		else
			n = vdisk_inflate(NULL, VDISK_ZLIB, buf + VMDK4_GRAIN_MARKER_SIZE,
					  len, dst, grain);
		if (n < 0 && VMDK4_GRAIN_MARKER_SIZE + len <= avail)
			*why = "compressed grain does not inflate";
		*stored = (VMDK4_GRAIN_MARKER_SIZE + len + 511) / 512;
	}
	free(buf);
	if (n < 0)
		return -EIO;
	memset((char *)dst + n, 0, grain - (size_t)n);
	return 0;
}

static int vmdk_read_unit(struct vd_image *im, const struct vdisk_mapping *m,
			  uint64_t unit_vsec, void *dst)
{
	const char *why;
	u64 stored;

	return inflate_grain(im, m->sector, unit_vsec, dst, &stored, &why);
}

/* Check one grain table against the file and record what it uses. */
static void check_gt(struct vd_image *im, struct vd_check *c,
		     struct vd_ranges *rs, uint32_t gd_idx, const __le32 *gt)
{
	const struct vmdk_sparse *vs = &((struct vmdk_priv *)im->priv)->vs;
	uint64_t grain = vmdk_grain_sectors(vs);
	void *unit = vs->compressed ? xmalloc(grain * 512) : NULL;
	const char *why;
	uint32_t i;

	for (i = 0; i < vmdk_gt_entries(vs); i++) {
		uint64_t vsec = ((uint64_t)gd_idx << vs->gt_shift | i) << vs->grain_shift;
		enum vdisk_state state;
		u64 sector = 0, len;

		if (vsec >= vs->capacity)
			break;
		len = vs->capacity - vsec < grain ? vs->capacity - vsec : grain;
		state = vmdk_decode_gte(vs, le32_to_cpu(gt[i]), &sector);
		if (state == VDISK_DATA && vs->compressed)
			state = VDISK_COMPRESSED;
		else if (state == VDISK_DATA && !vdisk_range_ok(sector, len, vs->dev_sectors))
			state = VDISK_CORRUPT;
		switch (state) {
		case VDISK_DATA:
			c->allocated++;
			ranges_add(rs, sector, len, "grain", vsec / grain);
			break;
		case VDISK_ZERO:
			c->zero++;
			break;
		case VDISK_COMPRESSED:
			c->allocated++;
			/* More grains than sectors overlap: inflate no more. */
			if (rs->full)
				break;
			if (inflate_grain(im, sector, vsec, unit, &len, &why))
				check_error(c, "grain %llu at sector %llu: %s",
					    (unsigned long long)(vsec / grain),
					    (unsigned long long)sector, why);
			else
				ranges_add(rs, sector, len, "grain", vsec / grain);
			break;
		case VDISK_CORRUPT:
			c->allocated++;
			check_error(c, "grain %llu: data at sector %u is past the end of the file",
				    (unsigned long long)(vsec / grain), le32_to_cpu(gt[i]));
			break;
		case VDISK_UNALLOCATED:
		case VDISK_MEMORY:	/* not from this decoder */
			break;
		}
	}
	free(unit);
}

static void vmdk_check(struct vd_image *im, struct vd_check *c)
{
	const struct vmdk_sparse *vs = &((struct vmdk_priv *)im->priv)->vs;
	uint32_t gt_bytes = vmdk_gt_entries(vs) * 4, i;
	uint64_t gt_sectors = (gt_bytes + 511) / 512;
	u64 pos;
	uint64_t gd_sectors = (vmdk_gd_bytes(vs) + 511) / 512;
	const __le32 *gd = ((struct vmdk_priv *)im->priv)->gd;
	__le32 *rgd = NULL, *gt = xmalloc(gt_bytes), *rgt = xmalloc(gt_bytes);
	struct vd_ranges rs = { .limit = im->sectors + 16 };
	struct vd_seen seen = { 0 };

	c->total = (vs->capacity + vmdk_grain_sectors(vs) - 1) >> vs->grain_shift;
	ranges_add(&rs, 0, 1, "header", 0);
	if (vs->desc_sector)
		ranges_add(&rs, vs->desc_sector, vs->desc_sectors, "descriptor", 0);
	ranges_add(&rs, vs->gd_sector, gd_sectors, "grain directory", 0);
	if (vs->rgd_sector) {
		ranges_add(&rs, vs->rgd_sector, gd_sectors,
			   "redundant grain directory", 0);
		rgd = read_gd(im, vs->rgd_sector, "redundant grain directory");
		if (!rgd)
			c->warnings++;
	}

	for (i = 0; i < vs->gd_entries; i++) {
		uint32_t gde = le32_to_cpu(gd[i]);

		switch (vmdk_gte_pos(vs, gde, vmdk_gt_entries(vs) - 1, &pos)) {
		case VDISK_UNALLOCATED:
			continue;
		case VDISK_DATA:
			break;
		default:
			check_error(c, "grain table %u at sector %u lies past the end of the file",
				    i, gde);
			continue;
		}
		ranges_add(&rs, gde, gt_sectors, "grain table", i);
		/* One table named twice overlaps itself: checked once. */
		if (seen_add(&seen, gde))
			continue;
		if (image_read(im, gt, gt_bytes, (uint64_t)gde * 512, "grain table")) {
			c->errors++;
			continue;
		}
		check_gt(im, c, &rs, i, gt);

		/* The redundant copy only matters to writers: warn, not fail. */
		if (!rgd)
			continue;
		gde = le32_to_cpu(rgd[i]);
		if (vmdk_gte_pos(vs, gde, vmdk_gt_entries(vs) - 1, &pos) != VDISK_DATA ||
		    pread_full(im->fd, rgt, gt_bytes, (uint64_t)gde * 512) ||
		    memcmp(gt, rgt, gt_bytes)) {
			check_warn(c, "redundant grain table %u differs from grain table %u",
				   i, i);
			continue;
		}
		ranges_add(&rs, gde, gt_sectors, "redundant grain table", i);
	}
	ranges_check(&rs, c);
	ranges_free(&rs);
	seen_free(&seen);
	free(rgd);
	free(gt);
	free(rgt);
}

static int vmdk_map_sector(struct vd_image *im, uint64_t vsec,
			   struct vdisk_mapping *m)
{
	struct vmdk_priv *p = im->priv;

	return vmdk_map(&p->vs, p->gd, vsec, image_read_fn, im, m);
}

/* VMware's descriptors start with this line; others at least name a type. */
bool vmdk_descriptor_probe(const uint8_t *buf, size_t len)
{
	static const char magic[] = "# Disk DescriptorFile";
	size_t i;

	if (len >= sizeof(magic) - 1 && !memcmp(buf, magic, sizeof(magic) - 1))
		return true;
	for (i = 0; i < len && buf[i]; i++)
		if (buf[i] < 0x20 && buf[i] != '\n' && buf[i] != '\r' && buf[i] != '\t')
			return false;
	return !!memmem(buf, i, "createType", 10);
}

static int open_extent(struct vd_disk *d, struct vd_policy *pol, const char *desc_path,
		       const struct vmdk_extent_line *l)
{
	char name[PATH_MAX];
	struct vd_extent *e;
	int r;

	if (l->access == VMDK_ACCESS_NOACCESS) {
		e = disk_add_extent(d, VD_EXT_ERROR, l->sectors);
		e->access = vmdk_access_name(l->access);
		return 0;
	}
	if (l->type == VMDK_EXTENT_ZERO) {
		e = disk_add_extent(d, VD_EXT_ZERO, l->sectors);
		e->access = vmdk_access_name(l->access);
		return 0;
	}
	if (l->type == VMDK_EXTENT_VMFSRDM || l->type == VMDK_EXTENT_VMFSRAW)
		return err_at(desc_path, "%s extents (raw device mappings) are not supported",
			      vmdk_extent_type_name(l->type));

	snprintf(name, sizeof(name), "%.*s", (int)l->file.len, l->file.p);
	e = disk_add_extent(d, l->type == VMDK_EXTENT_FLAT || l->type == VMDK_EXTENT_VMFS ?
			    VD_EXT_FLAT : VD_EXT_IMAGE, l->sectors);
	e->access = vmdk_access_name(l->access);
	e->offset = l->offset;
	e->im = xcalloc(1, sizeof(*e->im));
	r = ref_open(pol, VD_REF_EXTENT, desc_path, name, e->im, NULL);
	if (r) {
		free(e->im);
		e->im = NULL;
		return r < 0 ? -1 : 0;	/* refused, for info: listed there */
	}
	e->im->pol = pol;
	if (e->kind == VD_EXT_FLAT) {
		if (!vdisk_range_ok(l->offset, l->sectors, e->im->sectors))
			return err_at(e->im->path, "extent file too short: %llu sectors at %llu, has %llu",
				      (unsigned long long)l->sectors,
				      (unsigned long long)l->offset,
				      (unsigned long long)e->im->sectors);
		return 0;
	}
	r = image_probe(e->im);
	if (r > 0)
		return err_at(e->im->path, "extent is not a %s VMDK extent",
			      vmdk_extent_type_name(l->type));
	if (r)
		return -1;
	if (e->im->capacity < l->sectors)
		return err_at(e->im->path, "extent holds %llu sectors, the descriptor says %llu",
			      (unsigned long long)e->im->capacity,
			      (unsigned long long)l->sectors);
	return 0;
}

/* A descriptor file: one extent per extent line, in order. */
int vmdk_descriptor_open(struct vd_disk *d, struct vd_image *file)
{
	struct vmdk_desc desc;
	char *text;
	uint32_t i;
	int r = -1;

	if (file->size > VMDK_DESC_MAX_BYTES)
		return err_at(file->path, "descriptor file is larger than 1 MiB");
	text = xcalloc(1, file->size + 1);
	if (image_read(file, text, file->size, 0, "descriptor"))
		goto out;
	memset(&desc, 0, sizeof(desc));
	if (parse_desc(file->path, "descriptor", text, file->size, &desc) ||
	    desc_ident(file->path, &desc, &d->ident, d->subformat_buf,
		       sizeof(d->subformat_buf)))
		goto out;
	if (!desc.n_extents) {
		err_at(file->path, "descriptor has no extents");
		goto out;
	}
	d->format = "vmdk";
	d->subformat = d->subformat_buf;
	for (i = 0; i < desc.n_extents; i++)
		if (open_extent(d, file->pol, file->path, &desc.extents[i]))
			goto out;
	r = 0;
out:
	free(desc.extents);
	free(text);
	return r;
}

const struct vd_format vd_vmdk_format = {
	.name = "vmdk",
	.probe = vmdk_probe,
	.open = vmdk_open,
	.info = vmdk_info,
	.check = vmdk_check,
	.map = vmdk_map_sector,
	.read_unit = vmdk_read_unit,
	.close = vmdk_close,
};
