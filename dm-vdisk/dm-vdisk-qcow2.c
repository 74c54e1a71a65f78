// SPDX-License-Identifier: GPL-2.0
/*
 * QCOW (v1) and QCOW2 (v2, v3) images for dm-vdisk.  The L1 table (the
 * header's or a snapshot's) is read whole at construction; L2 entries are
 * read through dm-bufio.  Compressed clusters are the worker's.
 */
#include <linux/slab.h>
#include <linux/mm.h>

#include "dm-vdisk.h"
#include "core/vdisk_inflate.h"

/* The snapshot table entry @idx: walk the entries before it. */
static int qcow_snapshot(struct vdisk_c *vc, u32 idx, const char **why)
{
	struct qcow2 *q = &vc->qcow.q;
	size_t head = QCOW2_SNAPSHOT_HEAD + QCOW2_MAX_SNAPSHOT_EXTRA;
	struct qcow2_snapshot s;
	u64 off = q->snapshots_offset;
	void *buf;
	u32 i;
	int r = 0;

	if (idx >= q->nb_snapshots)
		return vdisk_bad(why, "No such snapshot", -EINVAL);
	buf = kmalloc(head, GFP_KERNEL);
	if (!buf)
		return vdisk_bad(why, "Cannot allocate snapshot buffer", -ENOMEM);
	for (i = 0; i <= idx; i++) {
		/* Entries are read up to their extra data; names are skipped. */
		size_t n = min_t(u64, head, q->dev_bytes - min(off, q->dev_bytes));

		r = n < QCOW2_SNAPSHOT_HEAD ? -EINVAL : vdisk_read_bytes(vc, off, buf, n);
		if (!r)
			r = qcow2_parse_snapshot(q, buf, n, &s, why);
		if (r == -EINVAL && !*why)
			*why = "Snapshot table lies outside the file";
		if (r)
			break;
		/* the names need not fit in @buf, only in the file */
		if (!vdisk_range_ok(off, s.entry_len, q->dev_bytes)) {
			r = vdisk_bad(why, "Snapshot table lies outside the file", -EINVAL);
			break;
		}
		off += s.entry_len;
	}
	kfree(buf);
	if (r)
		return r;
	return qcow2_use_l1(q, s.l1_offset, s.l1_size, s.disk_size ?: q->size, why);
}

static int qcow_ctr_common(struct vdisk_c *vc, bool v1)
{
	struct qcow2 *q = &vc->qcow.q;
	const char *why = NULL;
	bool is_v1;
	void *hdr;
	int r;

	hdr = vdisk_read_head(vc, SECTOR_SIZE, "Cannot read QCOW header");
	if (IS_ERR(hdr))
		return PTR_ERR(hdr);
	r = qcow_parse_header(hdr, (u64)vc->dev_sectors << SECTOR_SHIFT, q, &why);
	kfree(hdr);
	is_v1 = q->version == 1;
	if (!r && v1 != is_v1)
		r = vdisk_bad(&why, "QCOW version does not match the format", -EINVAL);
	if (!r && q->external_data != !!vc->data)
		r = vdisk_bad(&why, q->external_data ?
			      "Image needs its external data file (data <dev>)" :
			      "Image has no external data file", -EINVAL);
	if (!r && vc->data)
		q->data_bytes = (u64)vc->data_sectors << SECTOR_SHIFT;
	if (!r && vc->snapshot >= 0)
		r = qcow_snapshot(vc, vc->snapshot, &why);
	if (r) {
		vc->ti->error = (char *)(why ?: "Cannot read QCOW header");
		return r;
	}

	vc->qcow.l1 = vdisk_read_table(vc, q->l1_offset, qcow2_l1_bytes(q));
	if (IS_ERR(vc->qcow.l1)) {
		r = PTR_ERR(vc->qcow.l1);
		vc->qcow.l1 = NULL;
		return r;
	}
	vc->capacity = q->capacity;
	vc->io_sectors = qcow2_io_sectors(q);
	/* Any cluster may be compressed: the inflaters get their buffers at the first. */
	vc->unit_bytes = qcow2_cluster_bytes(q);
	vc->cbuf_bytes = 2 * qcow2_cluster_bytes(q) + 2 * SECTOR_SIZE;
	if (q->compression == QCOW2_COMPRESS_ZSTD)
		vc->zstd_ws_size = vdisk_zstd_workspace_size();
	return 0;
}

static int qcow1_ctr(struct vdisk_c *vc)
{
	return qcow_ctr_common(vc, true);
}

static int qcow2_ctr(struct vdisk_c *vc)
{
	return qcow_ctr_common(vc, false);
}

static void qcow_dtr(struct vdisk_c *vc)
{
	kvfree(vc->qcow.l1);
}

static int qcow_lookup(struct vdisk_c *vc, sector_t vsec, enum vdisk_wait wait,
		       struct vdisk_mapping *m)
{
	struct vdisk_reader rd = { .vc = vc, .wait = wait };

	return qcow2_map(&vc->qcow.q, vc->qcow.l1, vsec, vdisk_reader_fn, &rd, m);
}

/* The core's mapping keeps the compressed data inside the device. */
static long qcow_decompress(struct vdisk_c *vc, struct vdisk_inflater *z,
			    const struct vdisk_mapping *m, sector_t unit_vsec,
			    void *dst, unsigned int want)
{
	const struct qcow2 *q = &vc->qcow.q;
	unsigned int sectors = DIV_ROUND_UP(m->skip + m->clen, SECTOR_SIZE);
	const u8 *p;
	const void *src;
	long n;

	if (sectors << SECTOR_SHIFT > vc->cbuf_bytes)
		return -EIO;
	p = vdisk_cdata(vc, z, m->sector, sectors);
	if (IS_ERR(p))
		return PTR_ERR(p);
	src = p + m->skip;
	if (q->compression == QCOW2_COMPRESS_ZSTD) {
		/* Whole frames only: no streaming decoder here. */
		want = vc->unit_bytes;
		n = vdisk_unzstd(z->zstd_ws, vc->zstd_ws_size, src, m->clen, dst,
				 want);
	} else {
		n = vdisk_inflate_part(z->zws, VDISK_RAW_DEFLATE, src, m->clen,
				       dst, want);
	}
	return n == want ? n : -EIO;
}

const struct vdisk_format vdisk_qcow_format = {
	.name = "qcow",
	.ctr = qcow1_ctr,
	.dtr = qcow_dtr,
	.lookup = qcow_lookup,
	.decompress = qcow_decompress,
	.data_and_snapshots = true,
};

const struct vdisk_format vdisk_qcow2_format = {
	.name = "qcow2",
	.ctr = qcow2_ctr,
	.dtr = qcow_dtr,
	.lookup = qcow_lookup,
	.decompress = qcow_decompress,
	.data_and_snapshots = true,
};
