// SPDX-License-Identifier: GPL-2.0
/*
 * QED decoding, shared by the kernel target and the tools.  The checks
 * are qemu's: tables and data clusters are cluster aligned, lie after the
 * header clusters and start before the file's last whole cluster ends.
 */
#include "qed.h"

/*
 * Validate the header at the start of @buf (at least 64 bytes) against the
 * size of the image file.  The backing file name is only located here; the
 * caller reads it.
 */
int qed_parse_header(const void *buf, u64 dev_bytes, struct qed *q,
		     const char **why)
{
	const struct qed_header *h = buf;
	u32 cluster, ts, hs;
	u64 span, header_bytes;

	BUILD_BUG_ON(sizeof(struct qed_header) != 64);
	memset(q, 0, sizeof(*q));
	if (le32_to_cpu(h->magic) != QED_MAGIC)
		return vdisk_bad(why, "not a QED image (bad magic)", -EINVAL);
	q->features = le64_to_cpu(h->features);
	q->compat = le64_to_cpu(h->compat_features);
	q->autoclear = le64_to_cpu(h->autoclear_features);
	if (q->features & ~QED_F_KNOWN)
		return vdisk_bad(why, "unknown QED feature", -EOPNOTSUPP);

	cluster = le32_to_cpu(h->cluster_size);
	if (!is_power_of_2(cluster) || cluster < BIT(QED_MIN_CLUSTER_BITS) ||
	    cluster > BIT(QED_MAX_CLUSTER_BITS))
		return vdisk_bad(why, "cluster size out of range (4 KiB to 64 MiB, a power of two)",
				 -EINVAL);
	q->cluster_bits = ilog2(cluster);
	ts = le32_to_cpu(h->table_size);
	if (!is_power_of_2(ts) || ts > QED_MAX_TABLE_SIZE)
		return vdisk_bad(why, "table size out of range (1 to 16 clusters, a power of two)",
				 -EINVAL);
	q->table_size = ts;
	q->l2_bits = q->cluster_bits + ilog2(ts) - 3;
	hs = le32_to_cpu(h->header_size);
	header_bytes = (u64)hs << q->cluster_bits;
	if (!hs || header_bytes > dev_bytes)
		return vdisk_bad(why, "header size out of range", -EINVAL);
	q->header_size = hs;

	q->dev_bytes = dev_bytes;
	q->file_end = dev_bytes & ~(qed_cluster_bytes(q) - 1);
	q->size = le64_to_cpu(h->image_size);
	if (!q->size || (q->size & VDISK_SECTOR_MASK) ||
	    q->size > VDISK_MAX_SECTORS << VDISK_SECTOR_SHIFT)
		return vdisk_bad(why, "image size out of range or not a multiple of 512",
				 -EINVAL);
	q->capacity = q->size >> VDISK_SECTOR_SHIFT;
	/* What one L1 entry maps: 2^l2_bits clusters (at most 2^50 bytes). */
	span = vdisk_div_round_up_shift(q->size, q->cluster_bits + q->l2_bits);
	if (span > (u64)ts << (q->cluster_bits - 3))
		return vdisk_bad(why, "image size exceeds what the tables map", -EINVAL);
	if (span * 8 > QED_MAX_L1_BYTES)
		return vdisk_bad(why, "image needs an L1 table over 32 MiB", -EFBIG);
	q->l1_entries = (u32)span;
	q->l1_offset = le64_to_cpu(h->l1_table_offset);
	if (qed_l2_pos(q, q->l1_offset, 0, &span) != VDISK_DATA)
		return vdisk_bad(why, "L1 table lies outside the file or is unaligned",
				 -EINVAL);

	if (q->features & QED_F_BACKING_FILE) {
		q->backing_offset = le32_to_cpu(h->backing_filename_offset);
		q->backing_size = le32_to_cpu(h->backing_filename_size);
		if (!q->backing_offset || !q->backing_size ||
		    q->backing_size > QED_MAX_BACKING_NAME ||
		    !vdisk_range_ok(q->backing_offset, q->backing_size,
				    min_t(u64, header_bytes, dev_bytes)))
			return vdisk_bad(why, "backing file name out of range", -EINVAL);
	}
	*why = NULL;
	return 0;
}

/* A cluster-aligned offset after the header whose @len bytes fit the file. */
static bool qed_offset_ok(const struct qed *q, u64 off, u64 len)
{
	return !(off & (qed_cluster_bytes(q) - 1)) &&
	       off >= (u64)q->header_size << q->cluster_bits &&
	       vdisk_range_ok(off, len, q->file_end);
}

/*
 * Byte position of entry @l2_idx of the table L1 entry (or header field)
 * @l1e points to.
 */
enum vdisk_state qed_l2_pos(const struct qed *q, u64 l1e, u64 l2_idx, u64 *pos)
{
	if (!l1e)
		return VDISK_UNALLOCATED;
	if (!qed_offset_ok(q, l1e, qed_table_bytes(q)) || l2_idx >> q->l2_bits)
		return VDISK_CORRUPT;
	*pos = l1e + l2_idx * 8;
	return VDISK_DATA;
}

/* Decode an L2 entry for the sector @in_cluster sectors into its cluster. */
enum vdisk_state qed_decode_l2(const struct qed *q, u64 entry, u32 in_cluster,
			       struct vdisk_mapping *m)
{
	if (!entry)
		return VDISK_UNALLOCATED;
	if (entry == QED_ZERO_CLUSTER)
		return VDISK_ZERO;
	if (!qed_offset_ok(q, entry, qed_cluster_bytes(q)) ||
	    in_cluster >= qed_cluster_bytes(q) >> VDISK_SECTOR_SHIFT)
		return VDISK_CORRUPT;
	m->sector = (entry >> VDISK_SECTOR_SHIFT) + in_cluster;
	return VDISK_DATA;
}
