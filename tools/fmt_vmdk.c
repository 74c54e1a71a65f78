// SPDX-License-Identifier: GPL-2.0
/*
 * VMDK in the helper: hosted sparse extents with their embedded descriptor.
 * All decoding is the core's (dm-vdisk/core/vmdk*.c); this file only reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "vmdk.h"
#include "vmdk_desc.h"

#define MAX_EXTENT_LINES 64

struct vmdk_priv {
	struct vmdk_sparse vs;
	__le32 *gd;
	char *desc_text;	/* NUL-terminated, or NULL */
	struct vmdk_desc desc;
	struct vmdk_extent_line ext[MAX_EXTENT_LINES];
};

static bool vmdk_probe(const uint8_t *buf, size_t len)
{
	return len >= 4 && get_unaligned_le32(buf) == VMDK4_MAGIC;
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
	uint32_t line;

	im->priv = p;
	if (image_read(im, hdr, sizeof(hdr), 0, "VMDK header"))
		return -1;
	if (vmdk4_parse_header(hdr, im->sectors, &p->vs, &why))
		return err_at(im->path, "%s", why);
	im->capacity = p->vs.capacity;
	im->io_sectors = vmdk_grain_sectors(&p->vs);
	p->gd = read_gd(im, p->vs.gd_sector, "grain directory");
	if (!p->gd)
		return -1;

	if (p->vs.desc_sector) {
		size_t len = p->vs.desc_sectors * 512;

		p->desc_text = xcalloc(1, len + 1);
		if (image_read(im, p->desc_text, len, p->vs.desc_sector * 512,
			       "embedded descriptor"))
			return -1;
		p->desc.extents = p->ext;
		p->desc.max_extents = MAX_EXTENT_LINES;
		if (vmdk_parse_descriptor(p->desc_text, len, &p->desc, &line, &why))
			return err_at(im->path, "embedded descriptor line %u: %s",
				      line, why);
	}

	/* A delta without its parent would read wrong data: refuse it. */
	if ((p->desc.has_parent_cid && p->desc.parent_cid != 0xffffffffU) ||
	    p->desc.parent_hint.p)
		return err_at(im->path, "VMDK with a parent (\"%.*s\") is not supported yet",
			      (int)p->desc.parent_hint.len,
			      p->desc.parent_hint.p ? p->desc.parent_hint.p : "");
	return 0;
}

static void vmdk_close(struct vd_image *im)
{
	struct vmdk_priv *p = im->priv;

	if (p) {
		free(p->desc_text);
		free(p->gd);
	}
	free(p);
	im->priv = NULL;
}

static void vmdk_info(struct vd_image *im, struct kv_out *o)
{
	struct vmdk_priv *p = im->priv;
	const struct vmdk_sparse *vs = &p->vs;
	char flags[16];
	uint32_t i;

	if (p->desc.create_type.p)
		kv_strn(o, "subformat", p->desc.create_type.p,
			p->desc.create_type.len);
	else
		kv_str(o, "subformat", "sparse extent");
	kv_u64(o, "version", vs->version);
	snprintf(flags, sizeof(flags), "0x%x", vs->flags);
	kv_str(o, "flags", flags);
	kv_u64(o, "grain_size", vmdk_grain_sectors(vs) * 512);
	kv_u64(o, "grain_table_entries", vmdk_gt_entries(vs));
	kv_u64(o, "grain_directory_entries", vs->gd_entries);
	kv_u64(o, "grain_directory_sector", vs->gd_sector);
	kv_u64(o, "redundant_grain_directory_sector", vs->rgd_sector);
	kv_bool(o, "zeroed_grains", vs->flags & VMDK4_FLAG_ZERO_GRAIN);
	if (p->desc.has_cid)
		kv_hex(o, "cid", p->desc.cid);
	if (p->desc.has_parent_cid)
		kv_hex(o, "parent_cid", p->desc.parent_cid);
	if (!p->desc_text)
		return;
	kv_list_begin(o, "extents");
	for (i = 0; i < p->desc.n_extents && i < MAX_EXTENT_LINES; i++) {
		const struct vmdk_extent_line *e = &p->ext[i];

		kv_obj_begin(o);
		kv_str(o, "access", vmdk_access_name(e->access));
		kv_u64(o, "sectors", e->sectors);
		kv_str(o, "type", vmdk_extent_type_name(e->type));
		if (e->file.p)
			kv_strn(o, "file", e->file.p, e->file.len);
		kv_obj_end(o);
	}
	kv_list_end(o);
}

/* Check one grain table against the file and record what it uses. */
static void check_gt(struct vd_image *im, struct vd_check *c,
		     struct vd_ranges *rs, uint32_t gd_idx, const __le32 *gt)
{
	const struct vmdk_sparse *vs = &((struct vmdk_priv *)im->priv)->vs;
	uint64_t grain = vmdk_grain_sectors(vs);
	uint32_t i;

	for (i = 0; i < vmdk_gt_entries(vs); i++) {
		uint64_t vsec = ((uint64_t)gd_idx << vs->gt_shift | i) << vs->grain_shift;
		enum vdisk_state state;
		u64 sector = 0, len;

		if (vsec >= vs->capacity)
			break;
		len = vs->capacity - vsec < grain ? vs->capacity - vsec : grain;
		state = vmdk_decode_gte(vs, le32_to_cpu(gt[i]), &sector);
		if (state == VDISK_DATA && !vdisk_range_ok(sector, len, vs->dev_sectors))
			state = VDISK_CORRUPT;
		switch (state) {
		case VDISK_DATA:
			c->allocated++;
			ranges_add(rs, sector, len, "grain", vsec / grain);
			break;
		case VDISK_ZERO:
			c->zero++;
			break;
		case VDISK_CORRUPT:
			c->allocated++;
			check_error(c, "grain %llu: data at sector %u is past the end of the file",
				    (unsigned long long)(vsec / grain), le32_to_cpu(gt[i]));
			break;
		case VDISK_UNALLOCATED:
			break;
		}
	}
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
	struct vd_ranges rs = { 0 };

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
	free(rgd);
	free(gt);
	free(rgt);
}

static int pread_fn(void *ctx, u64 pos, void *buf, unsigned int len)
{
	struct vd_image *im = ctx;

	return pread_full(im->fd, buf, len, pos) ? -EIO : 0;
}

static int vmdk_map_sector(struct vd_image *im, uint64_t vsec,
			   struct vdisk_mapping *m)
{
	struct vmdk_priv *p = im->priv;

	return vmdk_map(&p->vs, p->gd, vsec, pread_fn, im, m);
}

const struct vd_format vd_vmdk_format = {
	.name = "vmdk",
	.probe = vmdk_probe,
	.open = vmdk_open,
	.info = vmdk_info,
	.check = vmdk_check,
	.map = vmdk_map_sector,
	.close = vmdk_close,
};
