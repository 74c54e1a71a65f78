// SPDX-License-Identifier: GPL-2.0
/*
 * seSparse extents for dm-vdisk: the grain directory entries the capacity
 * needs are read at construction, grain tables through dm-bufio.
 */
#include <linux/slab.h>
#include <linux/mm.h>

#include "dm-vdisk.h"

static int sesparse_ctr(struct vdisk_c *vc)
{
	struct sesparse *ss = &vc->sesparse.ss;
	const char *why;
	void *hdr;
	int r;

	hdr = vdisk_read_head(vc, 2 * SECTOR_SIZE, "Cannot read seSparse headers");
	if (IS_ERR(hdr))
		return PTR_ERR(hdr);
	r = sesparse_parse_headers(hdr, vc->dev_sectors, ss, &why);
	if (r) {
		vc->ti->error = (char *)why;	/* a string literal */
		goto out;
	}
	vc->sesparse.gd = vdisk_read_table(vc, ss->gd_sector << SECTOR_SHIFT,
					   sesparse_gd_bytes(ss));
	if (IS_ERR(vc->sesparse.gd)) {
		r = PTR_ERR(vc->sesparse.gd);
		vc->sesparse.gd = NULL;
		goto out;
	}
	vc->capacity = ss->capacity;
	vc->io_sectors = SESPARSE_GRAIN_SECTORS;
out:
	kfree(hdr);
	return r;
}

static void sesparse_dtr(struct vdisk_c *vc)
{
	kvfree(vc->sesparse.gd);
}

static int sesparse_lookup(struct vdisk_c *vc, sector_t vsec,
			   enum vdisk_wait wait, struct vdisk_mapping *m)
{
	struct vdisk_reader rd = { .vc = vc, .wait = wait };

	return sesparse_map(&vc->sesparse.ss, vc->sesparse.gd, vsec,
			    vdisk_reader_fn, &rd, m);
}

const struct vdisk_format vdisk_sesparse_format = {
	.name = "sesparse",
	.ctr = sesparse_ctr,
	.dtr = sesparse_dtr,
	.lookup = sesparse_lookup,
};
