// SPDX-License-Identifier: GPL-2.0
/*
 * VHD decoding.  The virtual size and what a dynamic disk reads follow
 * qemu's vpc driver (the oracle of the tests); every offset the image
 * gives is checked against the file before it is used.
 */
#include "vhd.h"

u32 vhd_checksum(const void *buf, size_t len, size_t csum_at)
{
	const u8 *p = buf;
	u32 sum = 0;
	size_t i;

	for (i = 0; i < len; i++)
		if (i < csum_at || i >= csum_at + 4)
			sum += p[i];
	return ~sum;
}

/*
 * qemu's rule for the virtual size: Virtual PC and qemu ("vpc ", "qemu")
 * size a disk by its CHS geometry; Hyper-V ("win "), disk2vhd ("d2v "),
 * XenServer ("tap\0"), XenConverter ("CTXS") and qemu with force_size
 * ("qem2") by current_size; and the largest geometry means current_size
 * whoever wrote it.
 */
static bool vhd_size_from_chs(const struct vhd_footer *f)
{
	static const char *const by_size[] = { "win ", "qem2", "d2v ", "CTXS" };
	u64 chs = (u64)be16_to_cpu(f->cylinders) * f->heads * f->sectors_per_track;
	unsigned int i;

	if (chs == VHD_MAX_GEOMETRY)
		return false;
	for (i = 0; i < ARRAY_SIZE(by_size); i++)
		if (!memcmp(f->creator_app, by_size[i], 4))
			return false;
	return memcmp(f->creator_app, "tap\0", 4);
}

int vhd_parse_footer(const void *buf, bool at_end, u64 dev_bytes,
		     struct vhd *v, const char **why)
{
	const struct vhd_footer *f = buf;
	u64 data_bytes;

	BUILD_BUG_ON(sizeof(struct vhd_footer) != VHD_FOOTER_BYTES);
	BUILD_BUG_ON(sizeof(struct vhd_locator) != 24);
	BUILD_BUG_ON(sizeof(struct vhd_dyn_header) != VHD_DYN_HEADER_BYTES);

	memset(v, 0, sizeof(*v));
	v->dev_bytes = dev_bytes;
	if (!vhd_footer_cookie(f))
		return vdisk_bad(why, "not a VHD image (no \"conectix\" footer)", -EINVAL);
	if (be32_to_cpu(f->checksum) !=
	    vhd_checksum(f, sizeof(*f), offsetof(struct vhd_footer, checksum)))
		return vdisk_bad(why, "VHD footer checksum mismatch", -EINVAL);
	v->type = be32_to_cpu(f->disk_type);
	if (at_end && v->type != VHD_TYPE_FIXED)
		return vdisk_bad(why, "VHD footer at the end of the file is not a fixed disk's",
				 -EINVAL);
	if (!at_end && v->type != VHD_TYPE_DYNAMIC && v->type != VHD_TYPE_DIFFERENCING)
		return vdisk_bad(why, "unsupported VHD disk type", -EINVAL);

	v->current_size = be64_to_cpu(f->current_size);
	v->size_from_chs = vhd_size_from_chs(f);
	v->capacity = v->size_from_chs ?
		(u64)be16_to_cpu(f->cylinders) * f->heads * f->sectors_per_track :
		v->current_size >> VDISK_SECTOR_SHIFT;
	if (v->capacity > VHD_MAX_SECTORS)
		return vdisk_bad(why, "VHD disk is larger than 2040 GiB", -EFBIG);
	if (!v->capacity)
		return vdisk_bad(why, "VHD disk size is zero", -EINVAL);
	memcpy(v->creator_app, f->creator_app, 4);
	memcpy(v->unique_id, f->unique_id, 16);

	if (at_end) {
		/* The data is the file before the footer, and no more. */
		data_bytes = dev_bytes - VHD_FOOTER_BYTES;
		if (v->capacity > data_bytes >> VDISK_SECTOR_SHIFT)
			return vdisk_bad(why, "fixed VHD disk is larger than the file", -EINVAL);
		return 0;
	}
	v->header_offset = be64_to_cpu(f->data_offset);
	if (!vdisk_range_ok(v->header_offset, VHD_DYN_HEADER_BYTES, dev_bytes))
		return vdisk_bad(why, "VHD dynamic header lies past the end of the file",
				 -EINVAL);
	return 0;
}

int vhd_parse_dyn_header(const void *buf, struct vhd *v, const char **why)
{
	const struct vhd_dyn_header *h = buf;
	u64 entries, block_sectors;

	if (memcmp(h->cookie, "cxsparse", 8))
		return vdisk_bad(why, "bad VHD dynamic header cookie", -EINVAL);
	if (be32_to_cpu(h->checksum) !=
	    vhd_checksum(h, sizeof(*h), offsetof(struct vhd_dyn_header, checksum)))
		return vdisk_bad(why, "VHD dynamic header checksum mismatch", -EINVAL);
	v->block_size = be32_to_cpu(h->block_size);
	if (!is_power_of_2(v->block_size) || v->block_size < VHD_MIN_BLOCK)
		return vdisk_bad(why, "VHD block size is not a power of two of 512 bytes or more",
				 -EINVAL);
	block_sectors = v->block_size >> VDISK_SECTOR_SHIFT;
	v->block_shift = ilog2(block_sectors);
	/*
	 * A bit per sector, in whole sectors.  qemu rounds block_size / 4096
	 * up, which is no bitmap at all below 4 KiB blocks; a differencing
	 * disk needs its bitmap, so it gets the spec's size.
	 */
	v->bitmap_bytes = ((v->block_size >> 12) + 511) & ~511U;
	if (v->type == VHD_TYPE_DIFFERENCING)
		v->bitmap_bytes = (DIV_ROUND_UP(block_sectors, 8) + 511) & ~511U;

	v->bat_entries = be32_to_cpu(h->max_table_entries);
	v->bat_offset = be64_to_cpu(h->table_offset);
	entries = vdisk_div_round_up_shift(v->capacity, v->block_shift);
	if (v->bat_entries < entries)
		return vdisk_bad(why, "VHD block allocation table is too small for the disk",
				 -EINVAL);
	if (v->bat_offset & 3)
		return vdisk_bad(why, "VHD block allocation table is not 4-byte aligned",
				 -EINVAL);
	if (!vdisk_range_ok(v->bat_offset, (u64)v->bat_entries * 4, v->dev_bytes))
		return vdisk_bad(why, "VHD block allocation table lies past the end of the file",
				 -EINVAL);
	memcpy(v->parent_uuid, h->parent_uuid, 16);
	return 0;
}

enum vdisk_state vhd_decode_bat(const struct vhd *v, u32 e, u64 *sector)
{
	u64 start = (u64)e << VDISK_SECTOR_SHIFT;

	if (e == VHD_BAT_UNALLOCATED)
		return VDISK_UNALLOCATED;
	/* Bitmap and block, whole, inside the file (qemu checks the same). */
	if (!vdisk_range_ok(start, (u64)v->bitmap_bytes + v->block_size, v->dev_bytes))
		return VDISK_CORRUPT;
	*sector = (start + v->bitmap_bytes) >> VDISK_SECTOR_SHIFT;
	return VDISK_DATA;
}

void vhd_bitmap_run(u64 word, unsigned int bit, struct vdisk_mapping *m)
{
	u64 w = word << bit;	/* the sector's bit on top */
	unsigned int n;

	if (w >> 63) {
		m->state = VDISK_DATA;
		w = ~w;
	} else {
		m->state = VDISK_UNALLOCATED;
	}
	/* Sectors alike: up to the first bit that differs, or the word's end. */
	n = 64 - fls64(w);
	if (n > 64 - bit)
		n = 64 - bit;
	m->run = n;
}
