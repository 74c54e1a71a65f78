// SPDX-License-Identifier: GPL-2.0
/*
 * VMDK hosted sparse extents for dm-vdisk.  The grain directory is small
 * (capped by the core) and read whole at construction; grain tables are
 * read through dm-bufio one entry at a time.
 */
#include <linux/slab.h>
#include <linux/mm.h>

#include "dm-vdisk.h"

static int vmdk_ctr(struct vdisk_c *vc)
{
	struct vmdk_sparse *vs = &vc->vmdk.vs;
	struct vmdk4_header *hdr;
	const char *why;
	int r;

	hdr = kmalloc(sizeof(*hdr), GFP_KERNEL);
	if (!hdr) {
		vc->ti->error = "Cannot allocate header buffer";
		return -ENOMEM;
	}
	r = vdisk_read_bytes(vc, 0, hdr, sizeof(*hdr));
	if (r) {
		vc->ti->error = "Cannot read VMDK header";
		goto out;
	}
	r = vmdk4_parse_header(hdr, vc->dev_sectors, vs, &why);
	if (r) {
		vc->ti->error = (char *)why;	/* a string literal */
		goto out;
	}

	vc->vmdk.gd = kvmalloc(vmdk_gd_bytes(vs), GFP_KERNEL);
	if (!vc->vmdk.gd) {
		vc->ti->error = "Cannot allocate grain directory";
		r = -ENOMEM;
		goto out;
	}
	r = vdisk_read_bytes(vc, vs->gd_sector << SECTOR_SHIFT, vc->vmdk.gd,
			     vmdk_gd_bytes(vs));
	if (r) {
		vc->ti->error = "Cannot read grain directory";
		goto out;
	}
	vc->capacity = vs->capacity;
	vc->io_sectors = vmdk_grain_sectors(vs);
out:
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

const struct vdisk_format vdisk_vmdk_format = {
	.name = "vmdk",
	.ctr = vmdk_ctr,
	.dtr = vmdk_dtr,
	.lookup = vmdk_lookup,
};
