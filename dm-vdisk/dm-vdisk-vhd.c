// SPDX-License-Identifier: GPL-2.0
/*
 * VHD images for dm-vdisk.  A footer at offset 0 makes a dynamic or
 * differencing disk (as qemu decides), else the footer in the last sector
 * must be a fixed disk's.  The BAT and sector bitmaps are read through
 * dm-bufio; a fixed disk maps straight through.
 */
#include <linux/slab.h>

#include "dm-vdisk.h"

static int vhd_ctr(struct vdisk_c *vc)
{
	u64 dev_bytes = (u64)vc->dev_sectors << SECTOR_SHIFT;
	struct vhd *v = &vc->vhd.v;
	bool at_end = false;
	const char *why;
	u8 *buf;
	int r;

	buf = kmalloc(VHD_DYN_HEADER_BYTES, GFP_KERNEL);
	if (!buf) {
		vc->ti->error = "Cannot allocate header buffer";
		return -ENOMEM;
	}
	r = vdisk_read_bytes(vc, 0, buf, VHD_FOOTER_BYTES);
	if (!r && !vhd_footer_cookie(buf)) {
		at_end = true;
		r = vdisk_read_bytes(vc, dev_bytes - VHD_FOOTER_BYTES, buf,
				     VHD_FOOTER_BYTES);
	}
	if (r) {
		vc->ti->error = "Cannot read the VHD footer";
		goto out;
	}
	r = vhd_parse_footer(buf, at_end, dev_bytes, v, &why);
	if (r)
		goto bad;
	vc->capacity = v->capacity;
	if (v->type == VHD_TYPE_FIXED) {
		vc->io_sectors = 1U << 11;	/* any: it maps straight through */
		goto out;
	}
	r = vdisk_read_bytes(vc, v->header_offset, buf, VHD_DYN_HEADER_BYTES);
	if (r) {
		vc->ti->error = "Cannot read the VHD dynamic header";
		goto out;
	}
	r = vhd_parse_dyn_header(buf, v, &why);
	if (r)
		goto bad;
	vc->io_sectors = 1U << v->block_shift;
	/* Sector bitmaps map a differencing disk's blocks apart. */
	vc->partial_units = v->type == VHD_TYPE_DIFFERENCING;
bad:
	if (r)
		vc->ti->error = (char *)why;	/* a string literal */
out:
	kfree(buf);
	return r;
}

static int vhd_lookup(struct vdisk_c *vc, sector_t vsec, enum vdisk_wait wait,
		      struct vdisk_mapping *m)
{
	struct vdisk_reader rd = { .vc = vc, .wait = wait };

	return vhd_map(&vc->vhd.v, vsec, vdisk_reader_fn, &rd, m);
}

const struct vdisk_format vdisk_vhd_format = {
	.name = "vhd",
	.ctr = vhd_ctr,
	.lookup = vhd_lookup,
};
