// SPDX-License-Identifier: GPL-2.0
/*
 * VirtualBox VDI images for dm-vdisk.  The block map is read an entry at a
 * time through dm-bufio, so no allocation follows its claimed size.  A
 * differencing image's parent is found by the helper and passed as the
 * "parent" option: free blocks read from it.
 */
#include <linux/slab.h>

#include "dm-vdisk.h"

static int vdi_ctr(struct vdisk_c *vc)
{
	const char *why;
	void *hdr;
	int r;

	hdr = vdisk_read_head(vc, SECTOR_SIZE, "Cannot read VDI header");
	if (IS_ERR(hdr))
		return PTR_ERR(hdr);
	r = vdi_parse_header(hdr, vc->dev_sectors, &vc->vdi.v, &why);
	if (r) {
		vc->ti->error = (char *)why;	/* a string literal */
		goto out;
	}
	vc->capacity = vc->vdi.v.capacity;
	vc->io_sectors = VDI_BLOCK_SECTORS;
out:
	kfree(hdr);
	return r;
}

static int vdi_lookup(struct vdisk_c *vc, sector_t vsec, enum vdisk_wait wait,
		      struct vdisk_mapping *m)
{
	struct vdisk_reader rd = { .vc = vc, .wait = wait };

	return vdi_map(&vc->vdi.v, vsec, vdisk_reader_fn, &rd, m);
}

const struct vdisk_format vdisk_vdi_format = {
	.name = "vdi",
	.ctr = vdi_ctr,
	.lookup = vdi_lookup,
};
