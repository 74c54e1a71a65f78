// SPDX-License-Identifier: GPL-2.0
/*
 * VHDX images for dm-vdisk.  The constructor reads the headers, replays a
 * dirty log in memory (the image is never written) and validates regions
 * and metadata; the BAT and sector bitmaps are read through dm-bufio, with
 * the replayed pages laid over them.
 */
#include <linux/slab.h>
#include <linux/mm.h>

#include "dm-vdisk.h"

static int vhdx_ctr_read(void *ctx, u64 pos, void *buf, unsigned int len)
{
	return vdisk_read_bytes(ctx, pos, buf, len);
}

/* Replay the log into an index of the pages it rewrites. */
static int vhdx_replay(struct vdisk_c *vc)
{
	struct vhdx *v = &vc->vhdx.v;
	struct vhdx_log_seq seq;
	void *scratch = NULL;
	const char *why;
	u8 *log;
	int r;

	log = kvmalloc(v->log_length, GFP_KERNEL);
	if (!log) {
		vc->ti->error = "Cannot allocate memory for the VHDX log";
		return -ENOMEM;
	}
	r = vdisk_read_bytes(vc, v->log_offset, log, v->log_length);
	if (r) {
		vc->ti->error = "Cannot read the VHDX log";
		goto out;
	}
	r = vhdx_log_find(v, log, &seq, &why);
	if (r || !seq.entries)
		goto bad;
	vc->vhdx.ov = vdisk_held(vc, kvcalloc(vhdx_overlay_room(&seq),
					      sizeof(*vc->vhdx.ov), GFP_KERNEL),
				 vhdx_overlay_room(&seq) * sizeof(*vc->vhdx.ov));
	vc->vhdx.pages = vdisk_held(vc, kvmalloc_array(seq.data_sectors ?: 1,
						       VHDX_LOG_SECTOR, GFP_KERNEL),
				    (seq.data_sectors ?: 1) * VHDX_LOG_SECTOR);
	scratch = kvmalloc(vhdx_replay_scratch_bytes(&seq), GFP_KERNEL);
	if (!vc->vhdx.ov || !vc->vhdx.pages || !scratch) {
		vc->ti->error = "Cannot allocate memory to replay the VHDX log";
		r = -ENOMEM;
		goto out;
	}
	r = vhdx_log_replay(v, log, &seq, vc->vhdx.ov, vc->vhdx.pages, scratch, &why);
	if (!r)
		DMINFO("replayed %u VHDX log entries (sequence %llu-%llu, %u ranges) in memory",
		       seq.entries, seq.first_seq, seq.head_seq, v->ov_n);
bad:
	if (r)
		vc->ti->error = (char *)why;	/* a string literal */
out:
	kvfree(scratch);
	kvfree(log);
	return r;
}

static int vhdx_ctr(struct vdisk_c *vc)
{
	struct vhdx *v = &vc->vhdx.v;
	const char *why;
	u8 *buf;
	int r;

	buf = kvmalloc(VHDX_REGION_BYTES, GFP_KERNEL);
	if (!buf) {
		vc->ti->error = "Cannot allocate header buffer";
		return -ENOMEM;
	}
	r = vdisk_read_bytes(vc, 0, buf, 8);
	if (!r)
		r = vdisk_read_bytes(vc, VHDX_HEADER1_OFFSET, buf + VHDX_HEADER_BYTES,
				     VHDX_HEADER_BYTES);
	if (!r)
		r = vdisk_read_bytes(vc, VHDX_HEADER2_OFFSET, buf + 2 * VHDX_HEADER_BYTES,
				     VHDX_HEADER_BYTES);
	if (r) {
		vc->ti->error = "Cannot read VHDX headers";
		goto out;
	}
	r = vhdx_parse_headers(buf, buf + VHDX_HEADER_BYTES, buf + 2 * VHDX_HEADER_BYTES,
			       (u64)vc->dev_sectors << SECTOR_SHIFT, v, &why);
	if (r)
		goto bad;
	if (!vhdx_guid_is_zero(v->log_guid)) {
		r = vhdx_replay(vc);
		if (r)
			goto out;
	}
	r = vhdx_parse_regions(v, vhdx_ctr_read, vc, buf, &why);
	if (r)
		goto bad;
	vc->capacity = v->disk_size >> SECTOR_SHIFT;
	vc->io_sectors = v->block_size >> SECTOR_SHIFT;
	vc->logical_block_size = v->logical_sector;
	vc->physical_block_size = v->physical_sector;
bad:
	if (r)
		vc->ti->error = (char *)why;	/* a string literal */
out:
	kvfree(buf);
	return r;
}

static void vhdx_dtr(struct vdisk_c *vc)
{
	kvfree(vc->vhdx.ov);
	kvfree(vc->vhdx.pages);
}

static int vhdx_lookup(struct vdisk_c *vc, sector_t vsec, enum vdisk_wait wait,
		       struct vdisk_mapping *m)
{
	struct vdisk_reader rd = { .vc = vc, .wait = wait };

	return vhdx_map(&vc->vhdx.v, vsec, vdisk_reader_fn, &rd, m);
}

const struct vdisk_format vdisk_vhdx_format = {
	.name = "vhdx",
	.ctr = vhdx_ctr,
	.dtr = vhdx_dtr,
	.lookup = vhdx_lookup,
};
