// SPDX-License-Identifier: GPL-2.0
/*
 * Parallels images for dm-vdisk.  The BAT is read through dm-bufio like a
 * second-level table: it may be large (a 32-bit entry per cluster of as
 * little as one sector), and nothing is allocated from its claimed size.
 * Clusters need not be a power of two in size (63 sectors in old images):
 * bios are split at the largest power of two dividing the cluster size.
 */
#include <linux/slab.h>

#include "dm-vdisk.h"

static int parallels_ctr(struct vdisk_c *vc)
{
	struct parallels *p = &vc->parallels.p;
	const char *why = NULL;
	void *hdr;
	int r;

	hdr = vdisk_read_head(vc, SECTOR_SIZE, "Cannot read Parallels header");
	if (IS_ERR(hdr))
		return PTR_ERR(hdr);
	r = parallels_parse_header(hdr, vc->dev_sectors, p, &why);
	kfree(hdr);
	if (r) {
		vc->ti->error = (char *)(why ?: "Cannot read Parallels header");
		return r;
	}
	vc->capacity = p->capacity;
	vc->io_sectors = p->unit;
	return 0;
}

static int parallels_lookup(struct vdisk_c *vc, sector_t vsec,
			    enum vdisk_wait wait, struct vdisk_mapping *m)
{
	struct vdisk_reader rd = { .vc = vc, .wait = wait };

	return parallels_map(&vc->parallels.p, vsec, vdisk_reader_fn, &rd, m);
}

const struct vdisk_format vdisk_parallels_format = {
	.name = "parallels",
	.ctr = parallels_ctr,
	.lookup = parallels_lookup,
};
