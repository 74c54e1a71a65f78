// SPDX-License-Identifier: GPL-2.0
/*
 * QCOW and QCOW2 decoding, shared by the kernel target and the tools.
 */
#include "qcow2.h"

#define be_u32(x) be32_to_cpu(x)
#define be_u64(x) be64_to_cpu(x)

/* Point the image at an L1 table (the header's, or a snapshot's). */
int qcow2_use_l1(struct qcow2 *q, u64 l1_offset, u32 l1_size, u64 size,
		 const char **why)
{
	if (!size || size > VDISK_MAX_SECTORS << VDISK_SECTOR_SHIFT)
		return vdisk_bad(why, "virtual size out of range", -EINVAL);
	if ((u64)l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return vdisk_bad(why, "L1 table is larger than 32 MiB", -EFBIG);
	if (l1_size < vdisk_div_round_up_shift(size, q->cluster_bits + q->l2_bits))
		return vdisk_bad(why, "L1 table too small for the virtual size", -EINVAL);
	if ((q->version > 1 && (l1_offset & (qcow2_cluster_bytes(q) - 1))) ||
	    (l1_offset & 7) || !l1_offset ||
	    !vdisk_range_ok(l1_offset, (u64)l1_size * 8, q->dev_bytes))
		return vdisk_bad(why, "L1 table lies outside the file or is unaligned",
				 -EINVAL);
	q->l1_offset = l1_offset;
	q->l1_size = l1_size;
	q->size = size;
	q->capacity = vdisk_div_round_up_shift(size, VDISK_SECTOR_SHIFT);
	return 0;
}

static int qcow1_parse(const struct qcow1_header *h, struct qcow2 *q,
		       const char **why)
{
	q->cluster_bits = h->cluster_bits;
	q->l2_bits = h->l2_bits;
	if (q->cluster_bits < QCOW1_MIN_CLUSTER_BITS ||
	    q->cluster_bits > QCOW1_MAX_CLUSTER_BITS)
		return vdisk_bad(why, "cluster size out of range", -EINVAL);
	if (q->l2_bits < QCOW1_MIN_L2_BITS || q->l2_bits > QCOW1_MAX_L2_BITS)
		return vdisk_bad(why, "L2 table size out of range", -EINVAL);
	if (h->crypt_method)
		return vdisk_bad(why, "encrypted images are not supported", -EOPNOTSUPP);
	q->l2_entry_shift = 3;
	q->backing_offset = be_u64(h->backing_file_offset);
	q->backing_size = be_u32(h->backing_file_size);
	q->header_length = sizeof(*h);
	return qcow2_use_l1(q, be_u64(h->l1_table_offset),
			    (u32)min_t(u64, U32_MAX,
				       vdisk_div_round_up_shift(be_u64(h->size),
								q->cluster_bits + q->l2_bits)),
			    be_u64(h->size), why);
}

static int qcow2_parse_v23(const struct qcow2_header *h, struct qcow2 *q,
			   const char **why)
{
	q->cluster_bits = be_u32(h->cluster_bits);
	if (q->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    q->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return vdisk_bad(why, "cluster size out of range (512 B to 2 MiB)", -EINVAL);
	if (h->crypt_method)
		return vdisk_bad(why, "encrypted images are not supported", -EOPNOTSUPP);

	q->header_length = 72;
	if (q->version == 3) {
		q->header_length = be_u32(h->header_length);
		q->incompat = be_u64(h->incompatible_features);
		q->compat = be_u64(h->compatible_features);
		q->autoclear = be_u64(h->autoclear_features);
		if (q->header_length < 104 || (q->header_length & 7) ||
		    q->header_length > qcow2_cluster_bytes(q))
			return vdisk_bad(why, "bad header length", -EINVAL);
		if (q->header_length > 104)
			q->compression = h->compression_type;
	}
	if (q->incompat & QCOW2_INCOMPAT_CORRUPT)
		return vdisk_bad(why, "image is marked corrupt (repair it with qemu-img check -r)",
				 -EINVAL);
	if (q->incompat & ~QCOW2_INCOMPAT_KNOWN)
		return vdisk_bad(why, "unknown incompatible feature", -EOPNOTSUPP);
	if (!(q->incompat & QCOW2_INCOMPAT_COMPRESSION) !=
	    !q->compression)
		return vdisk_bad(why, "compression type and feature bit disagree", -EINVAL);
	if (q->compression > QCOW2_COMPRESS_ZSTD)
		return vdisk_bad(why, "unknown compression type", -EOPNOTSUPP);

	q->extended_l2 = q->incompat & QCOW2_INCOMPAT_EXTL2;
	q->external_data = q->incompat & QCOW2_INCOMPAT_DATA_FILE;
	q->data_raw = q->external_data &&
		      (q->autoclear & QCOW2_AUTOCLEAR_DATA_FILE_RAW);
	q->l2_entry_shift = q->extended_l2 ? 4 : 3;
	q->l2_bits = q->cluster_bits - q->l2_entry_shift;
	if (q->extended_l2) {
		/* 32 subclusters of at least a sector each */
		if (q->cluster_bits < 14)
			return vdisk_bad(why, "extended L2 entries need 16 KiB clusters",
					 -EINVAL);
		q->sc_shift = q->cluster_bits - 5 - VDISK_SECTOR_SHIFT;
	}

	q->backing_offset = be_u64(h->backing_file_offset);
	q->backing_size = be_u32(h->backing_file_size);
	q->nb_snapshots = be_u32(h->nb_snapshots);
	q->snapshots_offset = be_u64(h->snapshots_offset);
	q->refcount_table_offset = be_u64(h->refcount_table_offset);
	q->refcount_table_clusters = be_u32(h->refcount_table_clusters);
	if (q->nb_snapshots > QCOW2_MAX_SNAPSHOTS ||
	    (q->nb_snapshots && ((q->snapshots_offset & 7) ||
				 q->snapshots_offset >= q->dev_bytes)))
		return vdisk_bad(why, "snapshot table out of range", -EINVAL);
	return qcow2_use_l1(q, be_u64(h->l1_table_offset), be_u32(h->l1_size),
			    be_u64(h->size), why);
}

/*
 * Validate the header at the start of @buf (at least 512 bytes) against the
 * size of the image file.  External data files are checked by the caller,
 * who knows their size (q->data_bytes).
 */
int qcow_parse_header(const void *buf, u64 dev_bytes, struct qcow2 *q,
		      const char **why)
{
	const struct qcow2_header *h = buf;
	int r;

	BUILD_BUG_ON(sizeof(struct qcow2_header) != 112);
	BUILD_BUG_ON(sizeof(struct qcow1_header) != 48);
	memset(q, 0, sizeof(*q));
	if (be_u32(h->magic) != QCOW_MAGIC)
		return vdisk_bad(why, "not a QCOW image (bad magic)", -EINVAL);
	q->version = be_u32(h->version);
	q->dev_bytes = dev_bytes;
	q->data_bytes = dev_bytes;
	if (q->version == 1)
		r = qcow1_parse(buf, q, why);
	else if (q->version == 2 || q->version == 3)
		r = qcow2_parse_v23(h, q, why);
	else
		return vdisk_bad(why, "unsupported QCOW version", -EOPNOTSUPP);
	if (r)
		return r;
	if (q->backing_offset &&
	    (q->backing_size > QCOW2_MAX_BACKING_NAME || !q->backing_size ||
	     !vdisk_range_ok(q->backing_offset, q->backing_size,
			     min_t(u64, dev_bytes, qcow2_cluster_bytes(q)))))
		return vdisk_bad(why, "backing file name out of range", -EINVAL);
	*why = NULL;
	return 0;
}

/*
 * Walk the header extensions in @buf, which holds the image's first @len
 * bytes (at least its first cluster, or the whole file if smaller).
 */
int qcow2_parse_extensions(const struct qcow2 *q, const void *buf, size_t len,
			   struct qcow2_exts *e, const char **why)
{
	u64 off = q->header_length;
	u64 end = min_t(u64, len, qcow2_cluster_bytes(q));

	memset(e, 0, sizeof(*e));
	if (q->version == 1)
		return 0;
	/* The backing file name, when there is one, ends the extension area. */
	if (q->backing_offset && q->backing_offset < end)
		end = q->backing_offset;
	while (off + 8 <= end) {
		u32 type = get_unaligned_be32(buf + off);
		u32 elen = get_unaligned_be32(buf + off + 4);
		const void *data = buf + off + 8;

		if (type == QCOW2_EXT_END)
			return 0;
		if (elen > end - off - 8)
			return vdisk_bad(why, "header extension runs past its area", -EINVAL);
		switch (type) {
		case QCOW2_EXT_BACKING_FORMAT:
			e->backing_fmt = data;
			e->backing_fmt_len = elen;
			break;
		case QCOW2_EXT_DATA_FILE:
			e->data_file = data;
			e->data_file_len = elen;
			break;
		case QCOW2_EXT_FEATURE_TABLE:
			e->features = data;
			e->n_features = elen / 48;
			break;
		case QCOW2_EXT_CRYPTO:
			e->crypto = true;
			break;
		}
		off += 8 + ((u64)elen + 7) / 8 * 8;
	}
	return 0;
}

/* The name the feature table gives bit @bit of @type (0: incompatible). */
const char *qcow2_feature_name(const struct qcow2_exts *e, u8 type, u8 bit,
			       u32 *len)
{
	u32 i;

	for (i = 0; i < e->n_features; i++) {
		const u8 *f = e->features + 48 * i;

		if (f[0] == type && f[1] == bit) {
			*len = (u32)strnlen((const char *)f + 2, 46);
			return (const char *)f + 2;
		}
	}
	return NULL;
}

/* One snapshot table entry at the start of @buf (@len bytes of it). */
int qcow2_parse_snapshot(const struct qcow2 *q, const void *buf, size_t len,
			 struct qcow2_snapshot *s, const char **why)
{
	const u8 *p = buf;

	memset(s, 0, sizeof(*s));
	if (len < QCOW2_SNAPSHOT_HEAD)
		return vdisk_bad(why, "snapshot table cut off", -EINVAL);
	s->l1_offset = get_unaligned_be64(p);
	s->l1_size = get_unaligned_be32(p + 8);
	s->id_len = get_unaligned_be16(p + 12);
	s->name_len = get_unaligned_be16(p + 14);
	s->extra_len = get_unaligned_be32(p + 36);
	if (s->extra_len > QCOW2_MAX_SNAPSHOT_EXTRA)
		return vdisk_bad(why, "snapshot extra data too large", -EINVAL);
	s->entry_len = (QCOW2_SNAPSHOT_HEAD + s->extra_len + s->id_len +
			s->name_len + 7) & ~7U;
	if (s->entry_len > len)
		return vdisk_bad(why, "snapshot table cut off", -EINVAL);
	if (s->extra_len >= 16)
		s->disk_size = get_unaligned_be64(p + QCOW2_SNAPSHOT_HEAD + 8);
	return 0;
}

/* Byte position of entry @l2_idx of the L2 table L1 entry @l1e points to. */
enum vdisk_state qcow2_l2_pos(const struct qcow2 *q, u64 l1e, u32 l2_idx,
			      u64 *pos)
{
	u64 l2 = q->version == 1 ? l1e : l1e & QCOW2_OFFSET_MASK;
	u64 table = 8ULL << q->l2_bits << (q->l2_entry_shift - 3);

	if (!l2)
		return VDISK_UNALLOCATED;
	if ((q->version > 1 && (l2 & (qcow2_cluster_bytes(q) - 1))) || (l2 & 7) ||
	    !vdisk_range_ok(l2, table, q->dev_bytes))
		return VDISK_CORRUPT;
	*pos = l2 + ((u64)l2_idx << q->l2_entry_shift);
	return VDISK_DATA;
}

static enum vdisk_state compressed(const struct qcow2 *q, u64 off, u64 end,
				   u32 in_cluster, struct vdisk_mapping *m)
{
	/* Compressed data lives in the image file, never in a data file. */
	if (q->external_data || end <= off || !vdisk_range_ok(off, end - off, q->dev_bytes) ||
	    end - off > 2 * qcow2_cluster_bytes(q) + VDISK_SECTOR_SIZE)
		return VDISK_CORRUPT;
	m->sector = off >> VDISK_SECTOR_SHIFT;
	m->skip = off & VDISK_SECTOR_MASK;
	m->clen = (u32)(end - off);
	m->offset = in_cluster;
	return VDISK_COMPRESSED;
}

static enum vdisk_state data_at(const struct qcow2 *q, u64 off, u32 in_cluster,
				struct vdisk_mapping *m)
{
	if ((off & (qcow2_cluster_bytes(q) - 1)) ||
	    (off >> VDISK_SECTOR_SHIFT) + in_cluster >= q->data_bytes >> VDISK_SECTOR_SHIFT)
		return VDISK_CORRUPT;
	m->sector = (off >> VDISK_SECTOR_SHIFT) + in_cluster;
	return VDISK_DATA;
}

static enum vdisk_state qcow1_decode(const struct qcow2 *q, u64 e, u32 in_cluster,
				     struct vdisk_mapping *m)
{
	u32 shift = 63 - q->cluster_bits;
	u64 off;

	if (!e)
		return VDISK_UNALLOCATED;
	if (e & BIT_ULL(63)) {
		off = e & ((1ULL << shift) - 1);
		return compressed(q, off,
				  off + ((e >> shift) & (qcow2_cluster_bytes(q) - 1)),
				  in_cluster, m);
	}
	return data_at(q, e, in_cluster, m);
}

/*
 * Decode an L2 entry (@bitmap is the second half of an extended entry) for
 * the sector @in_cluster sectors into its cluster.
 */
enum vdisk_state qcow2_decode_l2(const struct qcow2 *q, u64 entry, u64 bitmap,
				 u32 in_cluster, struct vdisk_mapping *m)
{
	u64 off = entry & QCOW2_OFFSET_MASK;
	bool off_zero_ok = false;
	u32 sc, x;

	m->offset = 0;
	if (q->version == 1)
		return qcow1_decode(q, entry, in_cluster, m);

	if (entry & QCOW2_COMPRESSED) {
		/* Offset in bits 0..x-1, more sectors in bits x..61. */
		x = 62 - (q->cluster_bits - 8);
		off = entry & ((1ULL << x) - 1);
		if (q->extended_l2 && bitmap)
			return VDISK_CORRUPT;
		return compressed(q, off,
				  (off & ~(u64)VDISK_SECTOR_MASK) +
				  ((((entry & ~QCOW2_COPIED & ~QCOW2_COMPRESSED) >> x) + 1)
				   << VDISK_SECTOR_SHIFT),
				  in_cluster, m);
	}
	/*
	 * Offset 0 means unallocated, but is a real place in an external
	 * data file: there, the copied bit (refcount 1) says which it is.
	 */
	if (!off && q->external_data && (entry & QCOW2_COPIED))
		off_zero_ok = true;
	if (!q->extended_l2) {
		if (entry & QCOW2_ZERO)
			return VDISK_ZERO;
		if (!off && !off_zero_ok)
			return VDISK_UNALLOCATED;
		return data_at(q, off, in_cluster, m);
	}

	/* Extended L2: each subcluster is allocated, zero, or neither. */
	sc = in_cluster >> q->sc_shift;
	if ((bitmap >> sc & 1) && (bitmap >> (32 + sc) & 1))
		return VDISK_CORRUPT;
	if (bitmap >> (32 + sc) & 1)
		return VDISK_ZERO;
	if (!(bitmap >> sc & 1))
		return VDISK_UNALLOCATED;
	if (!off && !off_zero_ok)
		return VDISK_CORRUPT;
	return data_at(q, off, in_cluster, m);
}
