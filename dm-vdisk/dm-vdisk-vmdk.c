// SPDX-License-Identifier: GPL-2.0
/*
 * VMDK hosted sparse extents for dm-vdisk.  The grain directory is small
 * (capped by the core) and read whole at construction; grain tables are
 * read through dm-bufio one entry at a time.
 */
#include <linux/slab.h>
#include <linux/mm.h>

#include "dm-vdisk.h"
#include "core/vdisk_inflate.h"

static int vmdk_ctr(struct vdisk_c *vc)
{
	struct vmdk_sparse *vs = &vc->vmdk.vs;
	struct vmdk4_header *hdr;
	void *tail = NULL;
	const char *why;
	int r;

	hdr = vdisk_read_head(vc, sizeof(*hdr), "Cannot read VMDK header");
	if (IS_ERR(hdr))
		return PTR_ERR(hdr);
	if (vmdk4_gd_in_footer(hdr)) {
		/* A stream: the header that counts is in the footer. */
		r = -EINVAL;
		why = "truncated or damaged stream: no footer at its end";
		if (vc->dev_sectors > VMDK4_TAIL_SECTORS) {
			tail = kmalloc(VMDK4_TAIL_SECTORS << SECTOR_SHIFT, GFP_KERNEL);
			r = -ENOMEM;
			why = "Cannot allocate stream footer buffer";
			if (tail)
				r = vdisk_read_bytes(vc, (vc->dev_sectors - VMDK4_TAIL_SECTORS)
						     << SECTOR_SHIFT, tail,
						     VMDK4_TAIL_SECTORS << SECTOR_SHIFT);
			if (!r)
				r = vmdk4_parse_tail(tail, vc->dev_sectors, vs, &why);
		}
	} else {
		r = vmdk_parse_header(hdr, vc->dev_sectors, vs, &why);
	}
	if (r) {
		vc->ti->error = (char *)why;	/* a string literal */
		goto out;
	}

	vc->vmdk.gd = vdisk_read_table(vc, vs->gd_sector << SECTOR_SHIFT,
				       vmdk_gd_bytes(vs));
	if (IS_ERR(vc->vmdk.gd)) {
		r = PTR_ERR(vc->vmdk.gd);
		vc->vmdk.gd = NULL;
		goto out;
	}
	vc->capacity = vs->capacity;
	vc->io_sectors = vmdk_grain_sectors(vs);
	if (vs->compressed) {
		vc->unit_bytes = vmdk_grain_sectors(vs) << SECTOR_SHIFT;
		vc->cbuf_bytes = vmdk_max_marker_bytes(vs);
	}
out:
	kfree(tail);
	kfree(hdr);
	return r;
}

static void vmdk_dtr(struct vdisk_c *vc)
{
	kvfree(vc->vmdk.gd);
}

static int vmdk_lookup(struct vdisk_c *vc, sector_t vsec, enum vdisk_wait wait,
		       struct vdisk_mapping *m)
{
	struct vdisk_reader rd = { .vc = vc, .wait = wait };

	return vmdk_map(&vc->vmdk.vs, vc->vmdk.gd, vsec, vdisk_reader_fn, &rd, m);
}

/*
 * A compressed grain: its marker, then as much data as the marker says
 * (usually in the window its batch read), then inflate it.
 */
static long vmdk_decompress(struct vdisk_c *vc, struct vdisk_inflater *z,
			    const struct vdisk_mapping *m, sector_t unit_vsec,
			    void *dst, unsigned int want)
{
	const struct vmdk_sparse *vs = &vc->vmdk.vs;
	unsigned int first, need;
	const u8 *p;
	const char *why;
	u32 len;
	long n;
	int r;

	if (m->sector >= vc->dev_sectors)
		return -EIO;
	/* A small grain's cbuf may hold fewer than 8 sectors. */
	first = min_t(u64, min_t(u32, VDISK_CDATA_FIRST, vc->cbuf_bytes >> SECTOR_SHIFT),
		      vc->dev_sectors - m->sector);
	p = vdisk_cdata(vc, z, m->sector, first);
	if (IS_ERR(p))
		return PTR_ERR(p);
	r = vmdk_grain_marker(vs, p, first << SECTOR_SHIFT, unit_vsec, &len, &why);
	if (r) {
		DMERR_LIMIT("%s: grain at sector %llu: %s",
			    dm_device_name(dm_table_get_md(vc->ti->table)),
			    (unsigned long long)m->sector, why);
		return r;
	}
	need = DIV_ROUND_UP(VMDK4_GRAIN_MARKER_SIZE + len, SECTOR_SIZE);
	vdisk_cdata_seen(z, need);
	if (need > first) {
		p = vdisk_cdata(vc, z, m->sector, need);
		if (IS_ERR(p))
			return PTR_ERR(p);
	}
	if (want < vc->unit_bytes)
		n = vdisk_inflate_part(z->zws, VDISK_ZLIB,
				       p + VMDK4_GRAIN_MARKER_SIZE, len,
				       dst, want);
	else
		n = vdisk_inflate(z->zws, VDISK_ZLIB,
				  p + VMDK4_GRAIN_MARKER_SIZE, len, dst,
				  vc->unit_bytes);
	if (n < 0)
		return -EIO;
	if (n >= want && want < vc->unit_bytes)
		return n;
	/* The stream ended: the last grain of a disk may be stored short. */
	memset(dst + n, 0, vc->unit_bytes - n);
	return vc->unit_bytes;
}

const struct vdisk_format vdisk_vmdk_format = {
	.name = "vmdk",
	.ctr = vmdk_ctr,
	.dtr = vmdk_dtr,
	.lookup = vmdk_lookup,
	.decompress = vmdk_decompress,
};
