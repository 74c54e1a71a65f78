/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QED (QEMU Enhanced Disk): a little-endian header, then a two-level
 * table of 64-bit cluster offsets (L1, L2 tables of table_size clusters).
 */
#ifndef VDISK_QED_H
#define VDISK_QED_H

#include "vdisk_fmt.h"

#define QED_MAGIC		0x00444551U	/* "QED\0" read little-endian */

/* Feature bits: an image with one this reader does not know is refused. */
#define QED_F_BACKING_FILE	BIT_ULL(0)
#define QED_F_NEED_CHECK	BIT_ULL(1)	/* not closed cleanly */
#define QED_F_BACKING_NO_PROBE	BIT_ULL(2)	/* the backing file is raw */
#define QED_F_KNOWN		(BIT_ULL(3) - 1)

#define QED_MIN_CLUSTER_BITS	12	/* 4 KiB */
#define QED_MAX_CLUSTER_BITS	26	/* 64 MiB */
#define QED_MAX_TABLE_SIZE	16	/* clusters */

/* An L2 entry of 1 reads as zeros (qemu 1.1 on). */
#define QED_ZERO_CLUSTER	1ULL

/* What a reader allocates for the L1 entries the disk needs. */
#define QED_MAX_L1_BYTES	(32U << 20)
#define QED_MAX_BACKING_NAME	4095

struct qed_header {
	__le32 magic;
	__le32 cluster_size;
	__le32 table_size;		/* in clusters */
	__le32 header_size;		/* in clusters */
	__le64 features;
	__le64 compat_features;
	__le64 autoclear_features;
	__le64 l1_table_offset;
	__le64 image_size;
	__le32 backing_filename_offset;
	__le32 backing_filename_size;
} __packed;

/* A validated image; offsets in bytes. */
struct qed {
	u32 cluster_bits;
	u32 table_size;		/* clusters per table */
	u32 header_size;	/* clusters before the first table or data */
	u32 l2_bits;		/* log2 of the entries in a table */
	u64 features, compat, autoclear;
	u64 size;		/* virtual size in bytes */
	u64 capacity;		/* ... in sectors */
	u64 dev_bytes;
	u64 file_end;		/* dev_bytes rounded down to a cluster */
	u64 l1_offset;
	u32 l1_entries;		/* the ones the virtual size needs */
	u32 backing_offset;	/* 0: no backing file */
	u32 backing_size;
};

int qed_parse_header(const void *buf, u64 dev_bytes, struct qed *q,
		     const char **why);

static inline u64 qed_cluster_bytes(const struct qed *q)
{
	return 1ULL << q->cluster_bits;
}

static inline u64 qed_table_bytes(const struct qed *q)
{
	return (u64)q->table_size << q->cluster_bits;
}

static inline u32 qed_l1_bytes(const struct qed *q)
{
	return q->l1_entries * 8;
}

enum vdisk_state qed_l2_pos(const struct qed *q, u64 l1e, u64 l2_idx, u64 *pos);
enum vdisk_state qed_decode_l2(const struct qed *q, u64 entry, u32 in_cluster,
			       struct vdisk_mapping *m);

/*
 * Map virtual sector @vsec through @l1 (the entries the size needs, as
 * read from the image) and the L2 entry @read fetches.
 */
static __always_inline int qed_map(const struct qed *q, const __le64 *l1,
				   u64 vsec, vdisk_read_fn read, void *ctx,
				   struct vdisk_mapping *m)
{
	u32 shift = q->cluster_bits - VDISK_SECTOR_SHIFT;
	u64 cluster = vsec >> shift, pos;
	__le64 e;
	int r;

	m->offset = 0;
	if (cluster >> q->l2_bits >= q->l1_entries) {
		m->state = VDISK_CORRUPT;	/* past the size: the caller's bug */
		return 0;
	}
	m->state = qed_l2_pos(q, le64_to_cpu(l1[cluster >> q->l2_bits]),
			      cluster & ((1ULL << q->l2_bits) - 1), &pos);
	if (m->state != VDISK_DATA)
		return 0;
	r = read(ctx, pos, &e, sizeof(e));
	if (r)
		return r;
	m->state = qed_decode_l2(q, le64_to_cpu(e), vsec & ((1ULL << shift) - 1), m);
	return 0;
}

#endif /* VDISK_QED_H */
