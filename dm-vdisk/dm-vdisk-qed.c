// SPDX-License-Identifier: GPL-2.0
/*
 * QED images for dm-vdisk.  The L1 entries the virtual size needs are read
 * at construction; L2 entries are read through dm-bufio.  A backing file is
 * the parent option; the need-check flag only says the image was not
 * closed cleanly, and reads do not depend on it (qemu reads such images
 * read-only as well).
 */
#include <linux/slab.h>
#include <linux/mm.h>

#include "dm-vdisk.h"

static int qed_ctr(struct vdisk_c *vc)
{
	struct qed *q = &vc->qed.q;
	const char *why = NULL;
	void *hdr;
	int r;

	hdr = vdisk_read_head(vc, SECTOR_SIZE, "Cannot read QED header");
	if (IS_ERR(hdr))
		return PTR_ERR(hdr);
	r = qed_parse_header(hdr, (u64)vc->dev_sectors << SECTOR_SHIFT, q, &why);
	kfree(hdr);
	if (r) {
		vc->ti->error = (char *)(why ?: "Cannot read QED header");
		return r;
	}
	vc->qed.l1 = vdisk_read_table(vc, q->l1_offset, qed_l1_bytes(q));
	if (IS_ERR(vc->qed.l1)) {
		r = PTR_ERR(vc->qed.l1);
		vc->qed.l1 = NULL;
		return r;
	}
	vc->capacity = q->capacity;
	vc->io_sectors = qed_cluster_bytes(q) >> SECTOR_SHIFT;
	return 0;
}

static void qed_dtr(struct vdisk_c *vc)
{
	kvfree(vc->qed.l1);
}

static int qed_lookup(struct vdisk_c *vc, sector_t vsec, enum vdisk_wait wait,
		      struct vdisk_mapping *m)
{
	struct vdisk_reader rd = { .vc = vc, .wait = wait };

	return qed_map(&vc->qed.q, vc->qed.l1, vsec, vdisk_reader_fn, &rd, m);
}

const struct vdisk_format vdisk_qed_format = {
	.name = "qed",
	.ctr = qed_ctr,
	.dtr = qed_dtr,
	.lookup = qed_lookup,
};
