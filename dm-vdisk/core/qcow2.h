/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QCOW (version 1) and QCOW2 (versions 2 and 3): headers, header
 * extensions, snapshots, and L1/L2 decoding.  All fields are big-endian.
 */
#ifndef VDISK_QCOW2_H
#define VDISK_QCOW2_H

#include "vdisk_fmt.h"

#define QCOW_MAGIC		0x514649fbU	/* "QFI\xfb" */

/* Incompatible feature bits. */
#define QCOW2_INCOMPAT_DIRTY		BIT_ULL(0)
#define QCOW2_INCOMPAT_CORRUPT		BIT_ULL(1)
#define QCOW2_INCOMPAT_DATA_FILE	BIT_ULL(2)
#define QCOW2_INCOMPAT_COMPRESSION	BIT_ULL(3)
#define QCOW2_INCOMPAT_EXTL2		BIT_ULL(4)
#define QCOW2_INCOMPAT_KNOWN		(BIT_ULL(5) - 1)
#define QCOW2_AUTOCLEAR_DATA_FILE_RAW	BIT_ULL(1)

/* Header extension types. */
#define QCOW2_EXT_END			0
#define QCOW2_EXT_BACKING_FORMAT	0xe2792acaU
#define QCOW2_EXT_FEATURE_TABLE		0x6803f857U
#define QCOW2_EXT_DATA_FILE		0x44415441U
#define QCOW2_EXT_CRYPTO		0x0537be77U

#define QCOW2_COMPRESS_ZLIB	0
#define QCOW2_COMPRESS_ZSTD	1

/* Entry bits. */
#define QCOW2_OFFSET_MASK	0x00fffffffffffe00ULL	/* bits 9-55 */
#define QCOW2_COPIED		BIT_ULL(63)
#define QCOW2_COMPRESSED	BIT_ULL(62)
#define QCOW2_ZERO		BIT_ULL(0)

/* Limits: like qemu's, they bound what a reader allocates. */
#define QCOW2_MIN_CLUSTER_BITS	9
#define QCOW2_MAX_CLUSTER_BITS	21	/* 2 MiB */
#define QCOW2_MAX_L1_BYTES	(32U << 20)
#define QCOW2_MAX_BACKING_NAME	1023
#define QCOW2_MAX_SNAPSHOTS	65536
#define QCOW2_SNAPSHOT_HEAD	40
#define QCOW2_MAX_SNAPSHOT_EXTRA 1024
#define QCOW1_MIN_CLUSTER_BITS	9
#define QCOW1_MAX_CLUSTER_BITS	16
#define QCOW1_MIN_L2_BITS	6
#define QCOW1_MAX_L2_BITS	16

struct qcow2_header {
	__be32 magic;
	__be32 version;
	__be64 backing_file_offset;
	__be32 backing_file_size;
	__be32 cluster_bits;
	__be64 size;
	__be32 crypt_method;
	__be32 l1_size;
	__be64 l1_table_offset;
	__be64 refcount_table_offset;
	__be32 refcount_table_clusters;
	__be32 nb_snapshots;
	__be64 snapshots_offset;
	/* version 3 */
	__be64 incompatible_features;
	__be64 compatible_features;
	__be64 autoclear_features;
	__be32 refcount_order;
	__be32 header_length;
	u8 compression_type;
	u8 pad[7];
} __packed;

struct qcow1_header {
	__be32 magic;
	__be32 version;
	__be64 backing_file_offset;
	__be32 backing_file_size;
	__be32 mtime;
	__be64 size;
	u8 cluster_bits;
	u8 l2_bits;
	__be16 padding;
	__be32 crypt_method;
	__be64 l1_table_offset;
} __packed;

/* A validated image; offsets in bytes, sizes as named. */
struct qcow2 {
	u32 version;		/* 1, 2 or 3 */
	u32 cluster_bits;
	u32 l2_bits;		/* log2 of the entries in an L2 table */
	u32 l2_entry_shift;	/* log2 of an L2 entry's bytes: 3, or 4 */
	u32 sc_shift;		/* log2 of a subcluster's sectors (extended L2) */
	u64 size;		/* virtual size in bytes */
	u64 capacity;		/* ... in sectors, rounded up */
	u64 dev_bytes;		/* the image file */
	u64 data_bytes;		/* where data clusters are: image or data file */
	u64 l1_offset;
	u32 l1_size;		/* entries */
	u64 backing_offset;
	u32 backing_size;
	u32 header_length;
	u64 incompat, compat, autoclear;
	u32 nb_snapshots;
	u64 snapshots_offset;
	u64 refcount_table_offset;
	u32 refcount_table_clusters;
	u8 compression;
	bool extended_l2;
	bool external_data;
	bool data_raw;		/* the data file is the disk, byte for byte */
};

/* What the header extensions say; strings are slices of the buffer. */
struct qcow2_exts {
	const char *backing_fmt;
	u32 backing_fmt_len;
	const char *data_file;
	u32 data_file_len;
	const u8 *features;	/* feature name table: 48-byte entries */
	u32 n_features;
	bool crypto;
};

struct qcow2_snapshot {
	u64 l1_offset;
	u32 l1_size;
	u64 disk_size;		/* bytes, 0 if the snapshot does not say */
	u32 id_len, name_len;	/* the strings follow the entry's extra data */
	u32 extra_len;
	u32 entry_len;		/* the whole entry, padded to 8 bytes */
};

int qcow_parse_header(const void *buf, u64 dev_bytes, struct qcow2 *q,
		      const char **why);
int qcow2_parse_extensions(const struct qcow2 *q, const void *buf, size_t len,
			   struct qcow2_exts *e, const char **why);
const char *qcow2_feature_name(const struct qcow2_exts *e, u8 type, u8 bit,
			       u32 *len);
int qcow2_parse_snapshot(const struct qcow2 *q, const void *buf, size_t len,
			 struct qcow2_snapshot *s, const char **why);
int qcow2_use_l1(struct qcow2 *q, u64 l1_offset, u32 l1_size, u64 size,
		 const char **why);

static inline u64 qcow2_cluster_bytes(const struct qcow2 *q)
{
	return 1ULL << q->cluster_bits;
}

static inline u32 qcow2_l1_bytes(const struct qcow2 *q)
{
	return q->l1_size * 8;
}

/* Sectors bios are split at: a subcluster with extended L2, a cluster. */
static inline u64 qcow2_io_sectors(const struct qcow2 *q)
{
	return q->extended_l2 ? 1ULL << q->sc_shift :
		1ULL << (q->cluster_bits - VDISK_SECTOR_SHIFT);
}

enum vdisk_state qcow2_l2_pos(const struct qcow2 *q, u64 l1e, u32 l2_idx,
			      u64 *pos);
enum vdisk_state qcow2_decode_l2(const struct qcow2 *q, u64 entry, u64 bitmap,
				 u32 in_cluster, struct vdisk_mapping *m);

/*
 * With a raw external data file (data_file_raw), what the tables leave
 * unallocated is read from the data file at the guest offset, as qemu does.
 */
static inline void qcow2_raw_fallback(const struct qcow2 *q, u64 vsec,
				      struct vdisk_mapping *m)
{
	if (m->state != VDISK_UNALLOCATED || !q->data_raw)
		return;
	m->state = vsec < q->data_bytes >> VDISK_SECTOR_SHIFT ? VDISK_DATA : VDISK_ZERO;
	m->sector = vsec;
}

/*
 * Map virtual sector @vsec through @l1 (as read from the image) and the L2
 * entry @read fetches; inline so the kernel's reader is a direct call.
 */
static __always_inline int qcow2_map(const struct qcow2 *q, const __be64 *l1,
				     u64 vsec, vdisk_read_fn read, void *ctx,
				     struct vdisk_mapping *m)
{
	u32 shift = q->cluster_bits - VDISK_SECTOR_SHIFT;
	u64 cluster = vsec >> shift, pos;
	__be64 e[2] = { 0, 0 };
	int r;

	m->state = qcow2_l2_pos(q, be64_to_cpu(l1[cluster >> q->l2_bits]),
				cluster & ((1U << q->l2_bits) - 1), &pos);
	if (m->state == VDISK_DATA) {
		r = read(ctx, pos, e, 1U << q->l2_entry_shift);
		if (r)
			return r;
		m->state = qcow2_decode_l2(q, be64_to_cpu(e[0]), be64_to_cpu(e[1]),
					   vsec & ((1ULL << shift) - 1), m);
	}
	qcow2_raw_fallback(q, vsec, m);
	return 0;
}

#endif /* VDISK_QCOW2_H */
