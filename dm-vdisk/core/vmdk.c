// SPDX-License-Identifier: GPL-2.0
/*
 * VMDK hosted sparse extent decoding, shared by the kernel target and the
 * userspace tools.  See Documentation/dm-vdisk.rst for the format notes.
 */
#include "vmdk.h"

/* The grain directory: one entry per grain table's span, within the cap. */
static int vmdk_gd_geometry(struct vmdk_sparse *vs, const char **why)
{
	u64 span = 1ULL << (vs->grain_shift + vs->gt_shift);

	if (vs->capacity > VDISK_MAX_SECTORS)
		return vdisk_bad(why, "capacity is larger than 512 PiB", -EFBIG);
	if (vs->capacity > (VMDK_MAX_GD_BYTES / 4) * span)
		return vdisk_bad(why, "capacity needs a grain directory over 32 MiB",
				 -EFBIG);
	vs->gd_entries = (u32)vdisk_div_round_up_shift(vs->capacity,
							 vs->grain_shift + vs->gt_shift);
	return 0;
}

/*
 * Validate a VMDK4 header against the size of the device holding it.
 * Everything the decoder later relies on is checked here, so the lookup
 * helpers only have to check the table entries themselves.
 */
int vmdk4_parse_header(const void *buf, u64 dev_sectors,
		       struct vmdk_sparse *vs, const char **why)
{
	const struct vmdk4_header *h = buf;
	u64 grain, gtes, gd_sectors;
	int r;

	BUILD_BUG_ON(sizeof(struct vmdk4_header) != 512);

	memset(vs, 0, sizeof(*vs));
	if (le32_to_cpu(h->magic) != VMDK4_MAGIC)
		return vdisk_bad(why, "not a hosted sparse VMDK (bad magic)", -EINVAL);

	vs->version = le32_to_cpu(h->version);
	if (vs->version < 1 || vs->version > 3)
		return vdisk_bad(why, "unsupported VMDK4 version", -EOPNOTSUPP);

	vs->flags = le32_to_cpu(h->flags);
	if ((vs->flags & VMDK4_FLAG_NL_DETECT) &&
	    memcmp(h->nl_check, "\n \r\n", 4) != 0)
		return vdisk_bad(why, "newline check bytes damaged (ASCII-mode transfer?)",
			   -EINVAL);

	vs->capacity = le64_to_cpu(h->capacity);
	vs->dev_sectors = dev_sectors;
	vs->overhead = le64_to_cpu(h->overhead);
	vs->compress = le16_to_cpu(h->compress_algorithm);

	vs->desc_sector = le64_to_cpu(h->desc_offset);
	vs->desc_sectors = le64_to_cpu(h->desc_size);
	if (vs->desc_sector) {
		if (!vs->desc_sectors || vs->desc_sectors > VMDK_MAX_DESC_SECTORS)
			return vdisk_bad(why, "embedded descriptor size out of range",
				   -EINVAL);
		if (!vdisk_range_ok(vs->desc_sector, vs->desc_sectors,
				    dev_sectors))
			return vdisk_bad(why, "embedded descriptor lies past the end of the file",
				   -EINVAL);
	} else {
		vs->desc_sectors = 0;
	}

	grain = le64_to_cpu(h->grain_size);
	if (!is_power_of_2(grain) || grain > (1ULL << VMDK_MAX_GRAIN_SHIFT))
		return vdisk_bad(why, "grain size is not a power of two up to 1 GiB",
			   -EINVAL);
	vs->grain_shift = ilog2(grain);

	gtes = le32_to_cpu(h->num_gtes_per_gt);
	if (!is_power_of_2(gtes) || gtes > VMDK_MAX_GT_ENTRIES)
		return vdisk_bad(why, "grain table size is not a power of two up to 4096",
			   -EINVAL);
	vs->gt_shift = ilog2(gtes);

	if (le64_to_cpu(h->gd_offset) == VMDK4_GD_AT_END)
		return vdisk_bad(why, "grain directory is in the footer", -EINVAL);

	/* Like VMware and qemu, the algorithm field says what grains hold. */
	if (vs->compress == VMDK4_COMPRESS_DEFLATE) {
		if (!(vs->flags & VMDK4_FLAG_MARKER))
			return vdisk_bad(why, "compressed grains without markers are not supported",
					 -EOPNOTSUPP);
		if (vs->grain_shift > VMDK_MAX_COMPRESSED_GRAIN_SHIFT)
			return vdisk_bad(why, "compressed grains over 2 MiB are not supported",
					 -EOPNOTSUPP);
		vs->compressed = true;
	} else if (vs->compress != VMDK4_COMPRESS_NONE ||
		   (vs->flags & VMDK4_FLAG_COMPRESS)) {
		return vdisk_bad(why, "unknown grain compression algorithm",
				 -EOPNOTSUPP);
	}

	if (!vs->capacity)
		return vdisk_bad(why, "zero capacity (descriptor-only extents unsupported)",
				 -EOPNOTSUPP);
	r = vmdk_gd_geometry(vs, why);
	if (r)
		return r;
	gd_sectors = DIV_ROUND_UP((u64)vs->gd_entries * 4, VDISK_SECTOR_SIZE);

	vs->gd_sector = le64_to_cpu(h->gd_offset);
	if (!vs->gd_sector || !vdisk_range_ok(vs->gd_sector, gd_sectors,
					      dev_sectors))
		return vdisk_bad(why, "grain directory lies outside the file", -EINVAL);

	if (vs->flags & VMDK4_FLAG_RGD) {
		vs->rgd_sector = le64_to_cpu(h->rgd_offset);
		if (!vs->rgd_sector ||
		    !vdisk_range_ok(vs->rgd_sector, gd_sectors, dev_sectors))
			return vdisk_bad(why, "redundant grain directory lies outside the file",
				   -EINVAL);
	}

	*why = NULL;
	return 0;
}

/*
 * A vmfsSparse extent (VMDK3, "COWD"): 4096-entry grain tables, grains of
 * any power-of-two size (ESXi uses one sector), no zeroed grains.
 */
int vmdk3_parse_header(const void *buf, u64 dev_sectors,
		       struct vmdk_sparse *vs, const char **why)
{
	const struct vmdk3_header *h = buf;
	u64 grain, gd_sectors;
	int r;

	BUILD_BUG_ON(sizeof(struct vmdk3_header) != 44);
	memset(vs, 0, sizeof(*vs));
	if (le32_to_cpu(h->magic) != VMDK3_MAGIC)
		return vdisk_bad(why, "not a vmfsSparse extent (bad magic)", -EINVAL);
	vs->version = le32_to_cpu(h->version);
	vs->flags = le32_to_cpu(h->flags);
	vs->dev_sectors = dev_sectors;
	vs->capacity = le32_to_cpu(h->disk_sectors);
	if (!vs->capacity)
		return vdisk_bad(why, "zero capacity", -EINVAL);
	grain = le32_to_cpu(h->granularity);
	if (!is_power_of_2(grain) || grain > (1ULL << VMDK_MAX_GRAIN_SHIFT))
		return vdisk_bad(why, "grain size is not a power of two up to 1 GiB",
				 -EINVAL);
	vs->grain_shift = ilog2(grain);
	vs->gt_shift = ilog2(VMDK3_GT_ENTRIES);
	r = vmdk_gd_geometry(vs, why);
	if (r)
		return r;
	if (le32_to_cpu(h->gd_entries) < vs->gd_entries)
		return vdisk_bad(why, "grain directory too small for the capacity",
				 -EINVAL);
	gd_sectors = DIV_ROUND_UP((u64)vs->gd_entries * 4, VDISK_SECTOR_SIZE);
	vs->gd_sector = le32_to_cpu(h->gd_offset);
	if (!vs->gd_sector || !vdisk_range_ok(vs->gd_sector, gd_sectors, dev_sectors))
		return vdisk_bad(why, "grain directory lies outside the file", -EINVAL);
	vs->overhead = vs->gd_sector;
	*why = NULL;
	return 0;
}

int vmdk_parse_header(const void *buf, u64 dev_sectors,
		      struct vmdk_sparse *vs, const char **why)
{
	if (le32_to_cpu(*(const __le32 *)buf) == VMDK3_MAGIC)
		return vmdk3_parse_header(buf, dev_sectors, vs, why);
	return vmdk4_parse_header(buf, dev_sectors, vs, why);
}

/* A stream's header leaves the grain directory to the footer. */
bool vmdk4_gd_in_footer(const void *buf)
{
	const struct vmdk4_header *h = buf;

	return le32_to_cpu(h->magic) == VMDK4_MAGIC &&
	       le64_to_cpu(h->gd_offset) == VMDK4_GD_AT_END;
}

/*
 * Parse the last VMDK4_TAIL_SECTORS sectors of a stream: footer marker,
 * footer (the header with the real grain directory offset), end-of-stream
 * marker.  Anything else means the stream was cut off or damaged.
 */
int vmdk4_parse_tail(const void *tail, u64 dev_sectors,
		     struct vmdk_sparse *vs, const char **why)
{
	const struct vmdk4_marker *fm = tail;
	const struct vmdk4_marker *eos = tail + 2 * VDISK_SECTOR_SIZE;
	const void *footer = tail + VDISK_SECTOR_SIZE;
	int r;

	BUILD_BUG_ON(sizeof(struct vmdk4_marker) != 16);
	if (le32_to_cpu(fm->type) != VMDK4_MARKER_FOOTER || fm->size ||
	    le32_to_cpu(eos->type) != VMDK4_MARKER_EOS || eos->size || eos->val ||
	    le32_to_cpu(((const struct vmdk4_header *)footer)->magic) != VMDK4_MAGIC)
		return vdisk_bad(why, "truncated or damaged stream: no footer at its end",
				 -EINVAL);
	if (vmdk4_gd_in_footer(footer))
		return vdisk_bad(why, "stream footer has no grain directory", -EINVAL);
	r = vmdk4_parse_header(footer, dev_sectors, vs, why);
	if (!r && !vs->compressed)
		return vdisk_bad(why, "stream footer does not describe compressed grains",
				 -EINVAL);
	return r;
}

/*
 * Check the marker in front of a compressed grain: it must name the grain
 * it holds and a size a grain can deflate to.  Returns the compressed
 * data's length, which follows the VMDK4_GRAIN_MARKER_SIZE-byte marker.
 */
int vmdk_grain_marker(const struct vmdk_sparse *vs, const void *buf,
		      size_t len, u64 grain_lba, u32 *data_len, const char **why)
{
	u32 size;

	if (len < VMDK4_GRAIN_MARKER_SIZE)
		return vdisk_bad(why, "grain marker cut off", -EIO);
	if (get_unaligned_le64(buf) != grain_lba)
		return vdisk_bad(why, "grain marker names another grain", -EIO);
	size = get_unaligned_le32(buf + 8);
	if (!size || size > vmdk_max_marker_bytes(vs) - VMDK4_GRAIN_MARKER_SIZE)
		return vdisk_bad(why, "grain marker has a bad size", -EIO);
	*data_len = size;
	return 0;
}

/*
 * Byte position of entry @gt_idx of the grain table that grain directory
 * entry @gde points to.  An entry of 0 means the whole table is absent.
 */
enum vdisk_state vmdk_gte_pos(const struct vmdk_sparse *vs, u32 gde,
			      u32 gt_idx, u64 *pos)
{
	u64 p;

	if (!gde)
		return VDISK_UNALLOCATED;
	p = ((u64)gde << VDISK_SECTOR_SHIFT) + (u64)gt_idx * 4;
	if (gt_idx >= vmdk_gt_entries(vs) ||
	    !vdisk_range_ok(p, 4, vs->dev_sectors << VDISK_SECTOR_SHIFT))
		return VDISK_CORRUPT;
	*pos = p;
	return VDISK_DATA;
}

/*
 * Decode a grain table entry: 0 is unallocated, 1 reads as zeros when the
 * zeroed-grain flag is set, anything else is the grain's first sector.  Only
 * the grain's start is checked here; the caller checks the part it reads.
 */
enum vdisk_state vmdk_decode_gte(const struct vmdk_sparse *vs, u32 gte,
				 u64 *sector)
{
	if (!gte)
		return VDISK_UNALLOCATED;
	if (gte == VMDK4_GTE_ZEROED && (vs->flags & VMDK4_FLAG_ZERO_GRAIN))
		return VDISK_ZERO;
	if (gte >= vs->dev_sectors)
		return VDISK_CORRUPT;
	*sector = gte;
	return VDISK_DATA;
}
